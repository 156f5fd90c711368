"""App icons generated from the one source SVG: every size the desktops ask for, and valid ICO/ICNS."""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "installer"))

import make_icons  # noqa: E402

NAME = "org.tracktion.Tracktion"


def test_png_sizes_match_their_folders(tmp_path: Path, qapp: object) -> None:
    from PySide6.QtGui import QImage

    out = make_icons.generate(tmp_path, NAME)
    for size in make_icons.HICOLOR_SIZES:
        image = QImage(str(out / "hicolor" / f"{size}x{size}" / "apps" / f"{NAME}.png"))
        assert (image.width(), image.height()) == (size, size)
        # Not blank: the art covers the centre pixel with an opaque colour.
        assert image.pixelColor(size // 2, size // 2).alpha() == 255


def test_ico_lists_every_size_with_valid_png_data(tmp_path: Path, qapp: object) -> None:
    data = (make_icons.generate(tmp_path, NAME) / "tracktion.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind, count) == (0, 1, len(make_icons.ICO_SIZES))
    sizes = []
    for i in range(count):
        w, _h, _c, _r, _planes, _bpp, length, offset = struct.unpack_from(
            "<BBBBHHII", data, 6 + 16 * i
        )
        assert data[offset : offset + 8] == b"\x89PNG\r\n\x1a\n"
        assert offset + length <= len(data)
        sizes.append(w or 256)
    assert sorted(sizes) == sorted(make_icons.ICO_SIZES)


def test_icns_entries_chain_to_the_file_end(tmp_path: Path, qapp: object) -> None:
    data = (make_icons.generate(tmp_path, NAME) / "tracktion.icns").read_bytes()
    assert data[:4] == b"icns" and struct.unpack_from(">I", data, 4)[0] == len(data)
    pos, types = 8, []
    while pos < len(data):
        kind, length = data[pos : pos + 4], struct.unpack_from(">I", data, pos + 4)[0]
        assert data[pos + 8 : pos + 16] == b"\x89PNG\r\n\x1a\n"
        types.append(kind)
        pos += length
    assert pos == len(data)
    assert b"ic10" in types and b"icp4" in types  # 1024 px (Retina 512@2x) down to 16 px
