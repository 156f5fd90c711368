"""Every catalogued format decodes; odd sample formats, rates and lengths still give a result."""

from __future__ import annotations

import pytest

from backend.analysis import analyze_file
from backend.analysis.decode import AudioStream
from backend.audio.synth import render_track

from .conftest import WriteClip

FORMATS = [
    ("a.mp3", {}), ("a.flac", {}), ("a.ogg", {}), ("a.opus", {}), ("a.m4a", {}),
    ("alac.m4a", {"codec": "alac"}), ("a.aiff", {}), ("a.wav", {}), ("a.wma", {}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "kw"), FORMATS)
def test_each_format_decodes_and_analyses(
    write_clip: WriteClip, name: str, kw: dict[str, str]
) -> None:
    path = write_clip(name, **kw)
    result, waveform = analyze_file(path)
    assert result.duration_s == pytest.approx(8.0, abs=0.1)
    assert result.bpm == pytest.approx(128.0, rel=0.02)
    assert result.loudness_lufs is not None and -30 < result.loudness_lufs < -5
    assert len(waveform.levels[0].peak) == pytest.approx(
        8.0 * waveform.levels[0].points_per_s, abs=3
    )


def test_streaming_blocks_are_bounded(write_clip: WriteClip) -> None:
    path = write_clip("long.flac", render_track(128.0, "A minor", 30.0, seed=1))
    with AudioStream(path, block_samples=16384) as stream:
        sizes = [block.shape[1] for block in stream.blocks()]
    assert len(sizes) > 50
    assert max(sizes) < 16384 + 8192  # one block at a time, whatever the file length


def test_mono_8bit_wav(write_clip: WriteClip) -> None:
    result, _ = analyze_file(write_clip("u8.wav", codec="pcm_u8"))
    assert result.channels == 1
    assert result.bpm == pytest.approx(128.0, rel=0.02)


def test_96khz_24bit_stereo_flac(write_clip: WriteClip) -> None:
    audio = render_track(128.0, "A minor", 8.0, 96000, seed=7)
    result, _ = analyze_file(
        write_clip("hires.flac", audio, 96000, channels=2, sample_format="s32")
    )
    assert (result.sample_rate, result.channels) == (96000, 2)
    assert result.bpm == pytest.approx(128.0, rel=0.02)
    assert result.key == "A minor"


def test_five_second_file(write_clip: WriteClip) -> None:
    audio = render_track(128.0, "A minor", 5.0, seed=7)
    result, _ = analyze_file(write_clip("short.mp3", audio))
    assert result.duration_s == pytest.approx(5.0, abs=0.1)
    assert result.bpm == pytest.approx(128.0, rel=0.02)
