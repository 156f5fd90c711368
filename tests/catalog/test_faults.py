"""Bad input and faults on real files: the scan records a readable reason per file and goes on."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from backend.api.folders import scan
from backend.audio.encode import write_tags
from backend.catalog.paths import absolute, display
from backend.services import Services
from tests.catalog.conftest import MakeAudio, track_at, tracks

pytestmark = pytest.mark.services


async def test_broken_files_get_reasons_and_the_scan_goes_on(
    services: Services, tmp_path: Path, make_audio: MakeAudio
) -> None:
    root = tmp_path / "lib"
    good = make_audio(root / "good.mp3", seed=1, seconds=2.0)
    (root / "zero.mp3").write_bytes(b"")
    for fmt, ext in (("mp3", ".mp3"), ("flac", ".flac"), ("m4a", ".m4a")):
        src = make_audio(tmp_path / f"src{ext}", fmt, seconds=2.0)
        (root / f"truncated{ext}").write_bytes(src.read_bytes()[:60])
    rng = random.Random(7)
    (root / "random.mp3").write_bytes(bytes(rng.getrandbits(8) for _ in range(20000)))
    (root / "text.flac").write_text("this is not audio\n" * 100)
    (root / "cover.jpg").write_bytes(good.read_bytes())  # audio named as an image: not looked at
    (root / "no_extension").write_bytes(good.read_bytes())  # found by content
    (root / "notes").write_text("plain text, no extension")  # not audio, not an error
    os.mkfifo(root / "pipe.mp3")  # a FIFO must never block the scan
    big = make_audio(root / "gigantic.flac", seed=2)
    write_tags(big, {"comment": "z" * 2_000_000, "cover": b"\xff\xd8\xff" + bytes(3_000_000)})

    stats, _ = await scan(services, [str(root)], settle_s=0)
    rows = {t.rel_path: t for t in await tracks(services)}
    ok = {p for p, t in rows.items() if t.status == "ok"}
    assert ok >= {"good.mp3", "no_extension", "gigantic.flac"}
    assert "cover.jpg" not in rows and "notes" not in rows and "pipe.mp3" not in rows
    errors = {p: t.last_error for p, t in rows.items() if t.status == "error"}
    assert errors["zero.mp3"] == "empty file (0 bytes)"
    assert "not an audio file" in (errors["random.mp3"] or "")
    assert "not an audio file" in (errors["text.flac"] or "")
    for name in ("truncated.mp3", "truncated.flac", "truncated.m4a"):
        assert name in errors, name
        assert any(w in (errors[name] or "") for w in ("damaged", "truncated", "not an audio"))
    assert stats.errors == len(errors) >= 6
    assert rows["no_extension"].format == "mp3"
    assert rows["gigantic.flac"].comment is not None and len(rows["gigantic.flac"].comment) == 8192
    # An error row is re-read only when the file changes; once fixed it becomes a normal track.
    again, _ = await scan(services, [str(root)], settle_s=0)
    assert again.errors == 0 and again.unchanged == again.files_seen
    shutil.copy(good, root / "zero.mp3")
    write_tags(root / "zero.mp3", {"title": "Fixed"})
    os.utime(root / "zero.mp3", (1e9, 1e9))
    await scan(services, [str(root)], settle_s=0)
    fixed = await track_at(services, "zero.mp3")
    assert fixed is not None and fixed.status == "ok" and fixed.title == "Fixed"
    assert fixed.id == rows["zero.mp3"].id


async def test_odd_and_long_file_names(
    services: Services, tmp_path: Path, make_audio: MakeAudio
) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    src = make_audio(tmp_path / "src.mp3", seed=3)
    latin1 = os.fsdecode(b"caf\xe9 d\xe9j\xe0 vu.mp3")  # not UTF-8 on disk
    long_name = "ü" * 120 + ".mp3"  # 240 bytes: near the 255-byte limit
    deep = root.joinpath(*(["deeper"] * 30))
    deep.mkdir(parents=True)
    for i, target in enumerate(
        [root / latin1, root / long_name, deep / "x.mp3", root / "%41 50%.mp3"]
    ):
        shutil.copy(src, target)
        write_tags(target, {"title": f"name {i}"})
    stats, _ = await scan(services, [str(root)], settle_s=0)
    assert (stats.added, stats.errors) == (4, 0)
    rows = await tracks(services)
    by_title = {t.title: t for t in rows}
    stored = by_title["name 0"].rel_path
    assert absolute(str(root), stored) == os.path.join(str(root), latin1)  # round-trips exactly
    assert display(stored) == "caf\ufffd d\ufffdj\ufffd vu.mp3"
    assert by_title["name 1"].rel_path == long_name
    assert by_title["name 3"].rel_path == "%41 50%.mp3"
    # All four are the same audio (duplicates); every path is found again on re-scan.
    again, _ = await scan(services, [str(root)], settle_s=0)
    assert (again.unchanged, again.removed) == (4, 0)


async def test_symlink_loops_and_linked_folders(
    services: Services, tmp_path: Path, make_audio: MakeAudio
) -> None:
    root = tmp_path / "lib"
    make_audio(root / "a" / "one.mp3", seed=1)
    elsewhere = tmp_path / "other_drive"
    make_audio(elsewhere / "two.flac", seed=2)
    os.symlink(root, root / "a" / "loop")  # a loop back to the root
    os.symlink(root / "a", root / "a" / "self")  # a folder linking to itself
    os.symlink(elsewhere, root / "linked")  # a crate on another drive
    os.symlink(tmp_path / "nowhere", root / "dangling.mp3")
    stats, _ = await scan(services, [str(root)], settle_s=0)
    assert stats.errors == 0
    assert sorted(t.rel_path for t in await tracks(services)) == ["a/one.mp3", "linked/two.flac"]


def _run_scan_without_root_powers(home: Path, root: Path) -> dict[str, int]:
    """Run `tracktion scan` in a process that file permissions apply to, even when tests run as root."""
    cmd = [
        sys.executable,
        "-m",
        "backend.cli.main",
        "--home",
        str(home),
        "scan",
        str(root),
        "--json",
    ]
    cmd += ["--settle", "0"]
    if os.geteuid() == 0:
        drop = "-dac_override,-dac_read_search"
        cmd = ["setpriv", "--bounding-set", drop, "--inh-caps", drop, *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, int] = json.loads(done.stdout)
    return result


async def test_unreadable_files_and_folders(
    make_settings: object, tmp_path: Path, make_audio: MakeAudio
) -> None:
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.fail("running as root needs setpriv (util-linux) to test permissions")
    from backend.config import settings_from_values
    from backend.services import open_services

    root = tmp_path / "lib"
    make_audio(root / "ok.mp3", seed=1)
    locked_file = make_audio(root / "locked.mp3", seed=2)
    make_audio(root / "locked_dir" / "inside.mp3", seed=3)
    home = tmp_path / "home"
    first = _run_scan_without_root_powers(home, root)
    assert first["added"] == 3
    locked_file.chmod(0)
    (root / "locked_dir").chmod(0)
    os.utime(locked_file, (1e9, 1e9))  # changed: it must be read again
    try:
        result = _run_scan_without_root_powers(home, root)
    finally:
        locked_file.chmod(0o644)
        (root / "locked_dir").chmod(0o755)
    assert result["errors"] == 2 and result["removed"] == 0
    services = await open_services(settings_from_values(home, {}))
    try:
        locked = await track_at(services, "locked.mp3")
        assert locked is not None and locked.status == "error"
        assert "permission denied" in (locked.last_error or "")
        inside = await track_at(services, "locked_dir/inside.mp3")
        assert inside is not None and inside.status == "ok"  # not marked missing
        from tests.catalog.conftest import root_row

        assert "locked_dir" in ((await root_row(services, root)).last_error or "")
    finally:
        await services.close()
