"""Replace PyAV's bundled *video encoder* libraries with tiny stubs (Linux builds).

PyAV's wheel links FFmpeg against x265 (~20 MB) and SVT-AV1 (~7 MB): HEVC/AV1 video encoders Tracktion
never uses (it encodes audio in tests and the self-test, and decodes audio). libavcodec needs the
libraries to *load*, not to run, so each is replaced by a stub with the same SONAME that defines the
functions libavcodec imports from it. The stubs fail gracefully: ``x265_api_get_*`` returns NULL
(FFmpeg then reports the encoder unavailable, also during its static codec initialisation) and the SVT
functions return EB_ErrorInsufficientResources, so opening those encoders fails with an error instead of
crashing. A library is only stubbed when every symbol imported from it is a function and a C compiler
is available; otherwise the real library ships (bigger, still correct). ``tracktion --self-test`` then
checks that FFmpeg loads and encodes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

# Library name prefix (as grafted by auditwheel into av.libs) → C body for each stubbed function.
STUBBED = {
    "libx265-": "return 0;",  # x265_api_get_<build>: NULL = "this bit depth is not available"
    "libSvtAv1Enc-": "return (long)(int)0x80001000;",  # EB_ErrorInsufficientResources
}


def _symbols(lib: Path, flag: str) -> dict[str, str]:
    """Dynamic symbols of ``lib`` (``--defined-only`` or ``--undefined-only``) → nm type letter."""
    out = subprocess.run(
        ["nm", "-D", flag, str(lib)], check=True, capture_output=True, text=True
    ).stdout
    symbols = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            symbols[parts[-1].split("@")[0]] = parts[-2]
    return symbols


def make_stubs(binaries: list[tuple[str, str, str]], work: Path) -> dict[str, str]:
    """Build stubs for the bundle's video-encoder libraries; returns {bundle dest name: stub path}."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or shutil.which("nm") is None:
        return {}
    users = [src for dest, src, _ in binaries if re.search(r"av\.libs/libavcodec", dest)]
    if not users:
        return {}
    wanted = _symbols(Path(users[0]), "--undefined-only")
    work.mkdir(parents=True, exist_ok=True)
    stubs = {}
    for dest, src, _ in binaries:
        name = Path(dest).name
        body = next((b for prefix, b in STUBBED.items() if name.startswith(prefix)), None)
        if body is None or "av.libs/" not in dest.replace("\\", "/"):
            continue
        defined = _symbols(Path(src), "--defined-only")
        imported = {s: t for s, t in defined.items() if s in wanted}
        if not imported or any(t not in "Tt" for t in imported.values()):
            continue  # data symbols (or nothing) imported: keep the real library
        source = work / f"{name}.c"
        source.write_text(
            "/* Stub: this video encoder is not part of Tracktion (see installer/stub_codecs.py). */\n"
            + "".join(f"long {s}(void) {{ {body} }}\n" for s in sorted(imported)),
            encoding="ascii",
        )
        target = work / name
        subprocess.run(
            [
                cc,
                "-shared",
                "-fPIC",
                "-O2",
                "-s",
                f"-Wl,-soname,{name}",
                "-o",
                str(target),
                str(source),
            ],
            check=True,
        )
        stubs[dest] = str(target)
    return stubs
