"""backend.api.media on a real library: TRACK arguments, media records, defaults."""

from __future__ import annotations

import asyncio

import pytest

from backend.api import media
from tests.gui_views.conftest import MIX_FILE, TRACKS, Library, run


def test_resolve_track_accepts_an_id_or_a_path(
    qloop: asyncio.AbstractEventLoop, library: Library
) -> None:
    services = library.services
    track_id = library.ids["a.flac"]
    assert run(qloop, media.resolve_track(services, str(track_id))) == track_id
    assert run(qloop, media.resolve_track(services, str(library.music / "a.flac"))) == track_id
    # Relative paths and "..": resolved against the working directory like any CLI path.
    odd = library.music / "sub" / ".." / "c.wav"
    assert run(qloop, media.resolve_track(services, str(odd))) == library.ids["c.wav"]
    with pytest.raises(LookupError, match="no track with id 999999"):
        run(qloop, media.resolve_track(services, "999999"))
    with pytest.raises(LookupError, match="not a track of the library"):
        run(qloop, media.resolve_track(services, str(library.music.parent / "elsewhere.mp3")))


def test_track_media_carries_analysis_and_levels(
    qloop: asyncio.AbstractEventLoop, library: Library
) -> None:
    loaded = run(qloop, media.load_track_media(library.services, library.ids["a.flac"]))
    name, artist, title, bpm, _key, _style, seconds = TRACKS[0]
    assert (loaded.artist, loaded.title) == (artist, title)
    assert loaded.analysed and loaded.bpm == pytest.approx(bpm, rel=0.02)
    assert loaded.duration_s == pytest.approx(seconds, abs=0.5)
    assert loaded.path == library.music / name
    assert loaded.waveform is not None
    levels = loaded.waveform.levels
    assert [lv.seconds_per_bin for lv in levels] == sorted(lv.seconds_per_bin for lv in levels)
    for level in levels:  # every level covers the track, with sane values
        assert level.bins * level.seconds_per_bin == pytest.approx(seconds, rel=0.1)
        assert (level.minimum <= level.maximum).all()
        assert float(level.low.min()) >= 0.0 and float(level.high.max()) <= 1.0 + 1e-6
    assert loaded.beats.size > 0

    recording = run(qloop, media.load_track_media(library.services, library.ids[MIX_FILE]))
    assert recording.is_mix
    assert recording.timeline, "a long recording has a tempo/key/energy timeline"
    assert all(s.end_s > s.start_s for s in recording.timeline)


def test_default_tracks_are_an_analysed_track_and_a_recording(
    qloop: asyncio.AbstractEventLoop, library: Library
) -> None:
    track, mix = run(qloop, media.default_tracks(library.services))
    assert track in {library.ids[t[0]] for t in TRACKS}
    assert mix == library.ids[MIX_FILE]
