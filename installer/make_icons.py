"""Generate the app icons from resources/icons/tracktion.svg with Qt (no other imaging library).

Writes, under the output folder: ``hicolor/<n>x<n>/apps/<name>.png`` for the freedesktop standard sizes,
``tracktion.ico`` (Windows, PNG-compressed entries) and ``tracktion.icns`` (macOS, PNG entries).
Both container formats are simple enough to pack directly, which keeps every size in one file.

    python installer/make_icons.py OUT_DIR [--name org.tracktion.Tracktion]
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "resources" / "icons" / "tracktion.svg"
HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS entry types holding PNG data, by pixel size.
ICNS_TYPES = {
    16: b"icp4",
    32: b"icp5",
    64: b"icp6",
    128: b"ic07",
    256: b"ic08",
    512: b"ic09",
    1024: b"ic10",
}


def render_png(size: int, source: Path = SOURCE) -> bytes:
    """The SVG rendered to a ``size``×``size`` PNG."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(source))
    if not renderer.isValid():
        raise ValueError(f"{source}: not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def pack_ico(pngs: dict[int, bytes]) -> bytes:
    """An ICO file of PNG entries (Vista+ reads PNG-compressed entries of any size)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for s in sizes:
        data = pngs[s]
        dim = 0 if s >= 256 else s  # 0 means 256 in the directory
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset + len(blobs))
        blobs += data
    return header + entries + blobs


def pack_icns(pngs: dict[int, bytes]) -> bytes:
    """An ICNS file of PNG entries."""
    body = b"".join(
        ICNS_TYPES[s] + struct.pack(">I", 8 + len(d)) + d
        for s, d in sorted(pngs.items())
        if s in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def generate(out: Path, name: str = "org.tracktion.Tracktion") -> Path:
    """Write every icon under ``out``; returns ``out``."""
    sizes = sorted({*HICOLOR_SIZES, *ICO_SIZES, *ICNS_TYPES})
    pngs = {s: render_png(s) for s in sizes}
    for s in HICOLOR_SIZES:
        target = out / "hicolor" / f"{s}x{s}" / "apps" / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(pngs[s])
    scalable = out / "hicolor" / "scalable" / "apps" / f"{name}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    scalable.write_bytes(SOURCE.read_bytes())
    (out / "tracktion.ico").write_bytes(pack_ico({s: pngs[s] for s in ICO_SIZES}))
    (out / "tracktion.icns").write_bytes(pack_icns({s: pngs[s] for s in ICNS_TYPES}))
    (out / "tracktion.png").write_bytes(pngs[256])  # the window icon the app can load without QtSvg
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--name", default="org.tracktion.Tracktion")
    args = parser.parse_args()
    print(generate(args.out, args.name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
