"""Key from the chords on the beat grid: right wherever the file starts in the phrase.

Real files rarely start on a phrase (intros, DJ edits, cut files). These clips are generated loops with
their first bars cut, so the music starts on another chord of the loop than the tonic; the truth is the
key the loop was written in.
"""

from __future__ import annotations

import numpy as np
import pytest

from backend.analysis import analyze_file
from backend.analysis.keys import parse_key
from backend.audio.synth import render_track

from .conftest import WriteClip

BPM = 126.0
SR = 44100


def loop_cut(
    key: str, chords: int, bars_cut: int, *, seed: int = 3, timbre: str = "saw"
) -> np.ndarray:
    """24 s of a tonal loop (``chords`` = index in the synth's bank) starting ``bars_cut`` bars in."""
    bar_s = 4 * 60.0 / BPM
    audio = render_track(BPM, key, 24.0 + bars_cut * bar_s, SR, style="four_on_floor", seed=seed,
                         progression="tonal", chords=chords, timbre=timbre)  # fmt: skip
    return audio[int(bars_cut * bar_s * SR) :]


# (key, loop, bars cut): the file starts on the loop's 2nd, 3rd or 4th chord. Minor loops: 1 = i–iv–v–i,
# 2 = i–VII–VI–V, 3 = i–III–iv–i; major loops: 1 = I–IV–V–I, 2 = I–vi–IV–V, 3 = I–ii–V–I. Starting on
# the relative's tonic (i–III–iv–i cut by one bar starts on III, I–vi–IV–V on vi) read the relative key
# before 1.2.
CUT_LOOPS = [
    ("C minor", 3, 1), ("A minor", 3, 1), ("F# minor", 3, 1), ("C minor", 1, 2), ("F# minor", 2, 2),
    ("A minor", 3, 3), ("G major", 2, 1), ("Eb major", 2, 1), ("D major", 2, 1), ("D major", 1, 2),
    ("G major", 3, 3), ("Eb major", 2, 3),
]  # fmt: skip


@pytest.mark.parametrize(("key", "chords", "bars_cut"), CUT_LOOPS)
def test_a_loop_cut_mid_phrase_still_reads_its_key(
    write_clip: WriteClip, key: str, chords: int, bars_cut: int
) -> None:
    result, _ = analyze_file(write_clip("cut.flac", loop_cut(key, chords, bars_cut)))
    assert result.key == key
    assert result.key_confidence > 0.1


# Square waves stress the fifth (odd harmonics): their pitch profile matches the dominant's key better
# than the key itself. The ii–V–I cadence and the time on the tonic chord say which it is.
@pytest.mark.parametrize("key", ["A major", "Bb major"])
def test_a_cadence_to_the_tonic_is_not_read_as_the_dominant_key(
    write_clip: WriteClip, key: str
) -> None:
    audio = render_track(120.0, key, 20.0, SR, style="four_on_floor", seed=1, progression="tonal",
                         chords=3, timbre="square")  # fmt: skip
    result, _ = analyze_file(write_clip("cadence.flac", audio))
    assert result.key == key


# i–VI–III–VII is the same cycle of chords as the relative major's I–V–vi–IV: cut anywhere, only its
# phrase start could tell them apart. Whatever is read, it must stay on the right Camelot number, so a
# harmonic mix (same number, ±1) still works.
@pytest.mark.parametrize("key", ["C minor", "A major"])
@pytest.mark.parametrize("bars_cut", [1, 2, 3])
def test_the_loop_shared_by_relative_keys_keeps_its_camelot_number_wherever_it_starts(
    write_clip: WriteClip, key: str, bars_cut: int
) -> None:
    result, _ = analyze_file(write_clip("shared.flac", loop_cut(key, 0, bars_cut)))
    assert result.camelot is not None
    assert result.camelot[:-1] == parse_key(key).camelot[:-1]


# A dorian vamp i–IV (Cm–F) goes back and forth: its F→C is no cadence to C, and its C→F none to F.
# Counted as a V→I of F, it read as F major. (Organ: with brighter timbres the mode of such vamps is
# still often misread; see docs/analysis.md, Known limits.)
@pytest.mark.parametrize("key", ["C minor", "A minor", "E minor", "F# minor", "D minor"])
def test_a_two_chord_vamp_is_not_read_as_a_cadence_to_its_second_chord(
    write_clip: WriteClip, key: str
) -> None:
    audio = render_track(124.0, key, 24.0, SR, style="four_on_floor", seed=3, progression="modal",
                         chords=0, timbre="organ")  # fmt: skip
    result, _ = analyze_file(write_clip("vamp.flac", audio))
    assert result.key == key
