"""Bad input: a clear DecodeError with a reason, or a result without invented tempo/key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backend.analysis import DecodeError, analyze_file
from backend.audio.synth import render_track

from .conftest import WriteClip


def test_silence_has_no_tempo_key_or_loudness(write_clip: WriteClip) -> None:
    result, waveform = analyze_file(
        write_clip("silence.wav", np.zeros(44100 * 8, dtype=np.float32))
    )
    assert (result.bpm, result.key, result.camelot, result.energy) == (None, None, None, None)
    assert result.loudness_lufs is None and result.replaygain_db is None
    assert "silent" in result.warnings
    assert waveform.levels[0].peak.max() == 0


@pytest.mark.parametrize("colour", ["white", "red"])
def test_noise_gets_no_tempo_or_key(write_clip: WriteClip, colour: str) -> None:
    rng = np.random.default_rng(4)
    noise = rng.standard_normal(44100 * 10)
    if colour == "red":
        noise = np.cumsum(noise)
        noise -= np.convolve(noise, np.ones(100) / 100, "same")
    noise = (0.3 * noise / np.abs(noise).max()).astype(np.float32)
    result, _ = analyze_file(write_clip(f"{colour}.flac", noise))
    assert result.bpm is None and result.key is None
    assert result.loudness_lufs is not None  # it is audible, just not music


def test_leading_and_trailing_silence(write_clip: WriteClip) -> None:
    music = render_track(126.0, "G minor", 10.0, seed=2)
    audio = np.concatenate(
        [np.zeros(int(44100 * 2.5), np.float32), music, np.zeros(44100 * 3, np.float32)]
    )
    result, _ = analyze_file(write_clip("padded.flac", audio))
    assert result.silence_start_s == pytest.approx(2.5, abs=0.05)
    assert result.silence_end_s == pytest.approx(12.5, abs=0.4)  # the last notes ring out a little
    assert result.duration_s == pytest.approx(15.5, abs=0.01)


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    with pytest.raises(DecodeError, match="empty"):
        analyze_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DecodeError, match="not found"):
        analyze_file(tmp_path / "gone.flac")


@pytest.mark.parametrize("name", ["random.mp3", "random.flac", "random.m4a", "random.wav"])
def test_random_bytes(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    with pytest.raises(DecodeError) as info:
        analyze_file(path)
    assert info.value.reason  # a readable reason for the track's error column
    assert str(path) in str(info.value)


def test_text_file_with_audio_extension(tmp_path: Path) -> None:
    path = tmp_path / "notes.flac"
    path.write_text("not audio at all\n" * 200)
    with pytest.raises(DecodeError):
        analyze_file(path)


@pytest.mark.parametrize("name", ["cut.wav", "cut.aiff", "cut.flac", "cut.m4a"])
def test_truncated_files(write_clip: WriteClip, name: str) -> None:
    path = write_clip(name)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DecodeError) as info:
        analyze_file(path)
    assert info.value.reason


def test_damaged_middle_of_an_mp3_is_skipped_like_a_player_does(write_clip: WriteClip) -> None:
    path = write_clip("damaged.mp3")
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 3000] = (
        np.random.default_rng(9).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    )
    path.write_bytes(bytes(data))
    result, _ = analyze_file(path)
    assert result.duration_s > 6.0
    assert result.bpm == pytest.approx(128.0, rel=0.02)
