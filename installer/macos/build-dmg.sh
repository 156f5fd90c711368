#!/usr/bin/env bash
# macOS: build Tracktion.app with PyInstaller and wrap it in a compressed .dmg (drag to Applications).
#
#   bash installer/macos/build-dmg.sh          # from the repository root, in the project's venv
#
# Output: dist/Tracktion.app and dist/tracktion-<version>-macos-<arch>.dmg. The app is ad-hoc signed
# (runs locally / in CI); set CODESIGN_IDENTITY to sign with a Developer ID for distribution
# (notarisation is a separate `xcrun notarytool submit` step with the team's credentials).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-python}"
VERSION="$("$PYTHON" -c 'from backend import __version__; print(__version__)')"
ARCH="$(uname -m)"

"$PYTHON" -m PyInstaller --noconfirm --log-level WARN --workpath build/pyinstaller --distpath dist \
    installer/tracktion.spec
APP=dist/Tracktion.app
[[ -x "$APP/Contents/MacOS/tracktion-gui" ]] || { echo "no $APP" >&2; exit 1; }

if [[ -n "${CODESIGN_IDENTITY:-}" ]]; then
    # Hardened runtime (needed for notarisation) with the exceptions an embedded Python needs.
    codesign --force --deep --timestamp --options runtime \
        --entitlements installer/macos/entitlements.plist --sign "$CODESIGN_IDENTITY" "$APP"
else
    codesign --force --deep --sign - "$APP"
fi
codesign --verify --deep --strict "$APP"

STAGE=build/dmg
rm -rf "$STAGE" && mkdir -p "$STAGE"
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
DMG="dist/tracktion-$VERSION-macos-$ARCH.dmg"
rm -f "$DMG"
hdiutil create -volname "Tracktion $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov "$DMG"
hdiutil verify "$DMG"
echo "$DMG"
