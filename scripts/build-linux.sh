#!/usr/bin/env bash
# Build Tracktion's Linux packages: the PyInstaller bundle, a .deb and a portable tarball.
#
#   bash scripts/build-linux.sh            # build everything into dist/
#   bash scripts/build-linux.sh --reuse    # package an existing dist/tracktion bundle (no PyInstaller run)
#
# Outputs: dist/tracktion/ (bundle), dist/tracktion_<version>_<arch>.deb,
#          dist/tracktion-<version>-linux-<machine>.tar.gz.
# Environment: PYTHON (default: .venv/bin/python, else python3), DEB_COMPRESSION (zstd|xz|gzip|none;
# default zstd: seconds instead of minutes for xz, and every dpkg that can run this bundle — glibc of
# the build host or newer — reads it), TAR_COMPRESSION (gz|xz; default gz).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REUSE=0
[[ "${1:-}" == "--reuse" ]] && REUSE=1
PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
APP_ID=org.tracktion.Tracktion
DIST="$ROOT/dist"
BUNDLE="$DIST/tracktion"
STAGE="$ROOT/build/deb"

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# --- build tools from Debian's packages, when missing ----------------------------------------------
need_pkgs=()
command -v dpkg-deb >/dev/null || need_pkgs+=(dpkg)
command -v objdump >/dev/null && command -v strip >/dev/null || need_pkgs+=(binutils)
command -v cc >/dev/null || need_pkgs+=(gcc)  # builds the video-encoder stubs (installer/stub_codecs.py)
command -v desktop-file-validate >/dev/null || need_pkgs+=(desktop-file-utils)
command -v appstreamcli >/dev/null || need_pkgs+=(appstream)
if ((${#need_pkgs[@]})); then
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    if command -v apt-get >/dev/null; then
        log "installing build tools: ${need_pkgs[*]}"
        $SUDO apt-get update -qq || true
        # Validators and the stub compiler are optional: a missing one warns instead of failing the build.
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" \
            || echo "warning: could not install ${need_pkgs[*]}; continuing without them" >&2
    fi
fi
command -v dpkg-deb >/dev/null || { echo "dpkg-deb is required" >&2; exit 1; }

VERSION="$("$PYTHON" -c 'from backend import __version__; print(__version__)')"
ARCH="$(dpkg --print-architecture)"
MACHINE="$(uname -m)"

# --- 1. the bundle ------------------------------------------------------------------------------------
if ((REUSE)) && [[ -x "$BUNDLE/tracktion" ]]; then
    log "reusing $BUNDLE"
else
    log "PyInstaller bundle (one folder) → $BUNDLE"
    start=$(date +%s)
    "$PYTHON" -m PyInstaller --noconfirm --log-level WARN \
        --workpath "$ROOT/build/pyinstaller" --distpath "$DIST" installer/tracktion.spec
    echo "bundle built in $(($(date +%s) - start)) s"
fi
[[ -x "$BUNDLE/tracktion" ]] || { echo "no bundle at $BUNDLE" >&2; exit 1; }
ICONS="$ROOT/build/icons"
[[ -d "$ICONS/hicolor" ]] || "$PYTHON" installer/make_icons.py "$ICONS" >/dev/null

# --- 2. the .deb staging tree -------------------------------------------------------------------------
log "staging the .deb in $STAGE"
rm -rf "$STAGE"
ROOTFS="$STAGE/root"
mkdir -p "$ROOTFS/usr/lib" "$ROOTFS/usr/bin" "$ROOTFS/usr/share/applications" \
    "$ROOTFS/usr/share/metainfo" "$ROOTFS/usr/share/icons" "$ROOTFS/usr/share/doc/tracktion" "$ROOTFS/DEBIAN"
cp -a "$BUNDLE" "$ROOTFS/usr/lib/tracktion"
ln -s ../lib/tracktion/tracktion "$ROOTFS/usr/bin/tracktion"
install -m 644 installer/linux/$APP_ID.desktop "$ROOTFS/usr/share/applications/"
cp -r "$ICONS/hicolor" "$ROOTFS/usr/share/icons/"
TODAY="$(date -u +%F)"
sed -e "s/@VERSION@/$VERSION/" -e "s/@DATE@/$TODAY/" installer/linux/$APP_ID.metainfo.xml \
    > "$ROOTFS/usr/share/metainfo/$APP_ID.metainfo.xml"
install -m 644 installer/linux/copyright "$ROOTFS/usr/share/doc/tracktion/copyright"
find "$ROOTFS/usr/share" -type f -exec chmod 644 {} +
find "$ROOTFS" -type d -exec chmod 755 {} +

if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$ROOTFS/usr/share/applications/$APP_ID.desktop"
fi
if command -v appstreamcli >/dev/null; then
    appstreamcli validate --no-net --pedantic "$ROOTFS/usr/share/metainfo/$APP_ID.metainfo.xml" \
        || appstreamcli validate --no-net "$ROOTFS/usr/share/metainfo/$APP_ID.metainfo.xml"
fi

# Runtime dependencies: the system libraries some bundled ELF file needs and the bundle does not carry
# (GL/EGL, fontconfig, xkbcommon, xcb bits Qt's plugins need …), mapped to their Debian packages on the
# build host. (dpkg-shlibdeps does not fit a bundle that carries copies of system libraries: it pins
# them to the host's versions, down to libc6 (<< next).) glibc itself → libc6 (>= host version).
# Libraries missing on the build host (Qt's Wayland plugins → libwayland-*) are optional at run time:
# Recommends lists them.
bundle_dir="$ROOTFS/usr/lib/tracktion"
DEPENDS="$(
    find "$bundle_dir" -type f \( -name '*.so*' -o -name tracktion \) -print0 \
        | xargs -0 objdump -p 2>/dev/null | awk '$1 == "NEEDED" {print $2}' | sort -u \
        | while read -r lib; do
            [[ -n "$(find "$bundle_dir" -name "$lib" -print -quit)" ]] && continue  # bundled
            case "$lib" in libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libmvec.so.*|libutil.so.*|libresolv.so.*) continue ;; esac
            path="$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|aarch64|64bit/ {print $NF; exit}')"
            [[ -z "$path" ]] && { echo "note: $lib not on this host (optional)" >&2; continue; }
            dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1
        done | sort -u | paste -sd, | sed 's/,/, /g'
)"
GLIBC="$(dpkg-query -W -f='${Version}' libc6 | sed 's/-.*//')"
DEPENDS="libc6 (>= $GLIBC)${DEPENDS:+, $DEPENDS}, libxcb-cursor0"  # xcb-cursor: dlopened by Qt's xcb
INSTALLED_KB=$(du -sk --apparent-size "$ROOTFS/usr" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@INSTALLED_SIZE@/$INSTALLED_KB/" \
    -e "s/@DEPENDS@/$DEPENDS/" installer/linux/control.in > "$ROOTFS/DEBIAN/control"

DEB="$DIST/tracktion_${VERSION}_${ARCH}.deb"
log "dpkg-deb → $DEB (installed size $((INSTALLED_KB / 1024)) MiB)"
start=$(date +%s)
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-zstd}" --build "$ROOTFS" "$DEB" >/dev/null
echo "packed in $(($(date +%s) - start)) s"
dpkg-deb --info "$DEB" | sed -n '/Package:/,/Depends:/p'

# --- 3. portable tarball ------------------------------------------------------------------------------
NAME="tracktion-$VERSION-linux-$MACHINE"
TARDIR="$ROOT/build/tarball/$NAME"
log "portable tarball → $DIST/$NAME.tar.${TAR_COMPRESSION:-gz}"
rm -rf "$ROOT/build/tarball"
mkdir -p "$TARDIR/share"
cp -a "$BUNDLE"/. "$TARDIR/"
cp -r "$ICONS/hicolor" "$TARDIR/share/icons"
install -m 644 installer/linux/$APP_ID.desktop "$TARDIR/share/"
install -m 644 installer/linux/README-portable.txt "$TARDIR/README.txt"
tar -C "$ROOT/build/tarball" --owner=0 --group=0 -caf "$DIST/$NAME.tar.${TAR_COMPRESSION:-gz}" "$NAME"

log "done"
ls -l "$DEB" "$DIST/$NAME.tar.${TAR_COMPRESSION:-gz}"
