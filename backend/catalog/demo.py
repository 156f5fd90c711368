"""A demo library: generated tracks with known tempo and key in every format, plus a 20-minute mix.

Everything comes from ``backend.audio.synth`` with fixed seeds, so the library is the same on every run and
is ground truth for analysis and tracklist tests. To stay fast (a few seconds), each track renders a few
bars once and tiles them; the mix is streamed block by block (never the whole 20 minutes in memory) and
encoded as FLAC, the quickest encoder. ``demo.json`` in the folder lists what was written and the mix's
tracklist with cue times; the mix also gets a CUE sheet beside it, as a DJ's own recordings often have,
so the demo shows a mix with its tracklist (and the graph its transitions) without any network.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from backend.audio.encode import encode, extension

SR = 22050
TRACK_SECONDS = 30.0
CROSSFADE_S = 8.0
MIX_MIN_S = 1230.0  # a little over the default 20-minute threshold for long recordings


@dataclass(frozen=True)
class DemoTrack:
    title: str
    artist: str
    bpm: float
    key: str  # Camelot
    style: str
    fmt: str
    genre: str
    id3_version: int = 4
    id3v1: bool = False


TRACKS: tuple[DemoTrack, ...] = (
    DemoTrack("Night Drive", "Lumen Tide", 124, "8A", "four_on_floor", "mp3", "Deep House"),
    DemoTrack("Glass Steps", "Orra", 126, "9A", "four_on_floor", "flac", "Tech House"),
    DemoTrack("Parallel Lines", "Kestrel Unit", 128, "10A", "four_on_floor", "m4a", "Techno"),
    DemoTrack("Velvet Swing", "Mona Reyes", 122, "5A", "swung", "ogg", "Nu Disco"),
    DemoTrack("Circuit Rain", "Hexa", 174, "2A", "breakbeat", "opus", "Drum & Bass"),
    DemoTrack("Low Orbit", "Subduct", 140, "4A", "half_time", "wav", "Dubstep"),
    DemoTrack("Morning Pier", "Tallis Grey", 118, "11B", "four_on_floor", "aiff", "House"),
    DemoTrack("Copper Sun", "Ayo Lenz", 130, "6A", "four_on_floor", "alac", "Techno"),
    DemoTrack("Slow Cinema", "Dust Radio", 90, "7B", "swung", "wma", "Hip Hop"),
    DemoTrack("Halcyon Loop", "Lumen Tide", 125, "8B", "four_on_floor", "mp3", "House", 3),
    DemoTrack("Fracture", "Kestrel Unit", 132, "12A", "breakbeat", "flac", "Breaks"),
    DemoTrack("Sea Glass", "Orra", 120, "3B", "four_on_floor", "mp3", "Deep House", 4, True),
)


def _loop(track: DemoTrack, seed: int) -> npt.NDArray[np.float32]:
    """A whole number of bars (about 8 s), so tiling keeps the beat grid."""
    from backend.audio.synth import render_track

    bar_s = 4 * 60.0 / track.bpm
    bars = max(1, round(8.0 / bar_s))
    return render_track(track.bpm, track.key, bars * bar_s, SR, style=track.style, seed=seed)


def _tile(loop: npt.NDArray[np.float32], seconds: float) -> npt.NDArray[np.float32]:
    n = int(seconds * SR)
    reps = n // max(1, len(loop)) + 1
    return np.tile(loop, reps)[:n]


def _filename(i: int, track: DemoTrack) -> str:
    return f"{i + 1:02d} {track.artist} - {track.title}{extension(track.fmt)}"


def _mix_blocks(
    loops: list[npt.NDArray[np.float32]], section_s: float
) -> Iterator[npt.NDArray[np.float32]]:
    """Stream the mix: each loop tiled for ``section_s``, equal-power cross-fades between neighbours."""
    fade = int(CROSSFADE_S * SR)
    ramp = np.linspace(0.0, np.pi / 2, fade, dtype=np.float32)
    fade_in, fade_out = np.sin(ramp), np.cos(ramp)
    carry: npt.NDArray[np.float32] | None = None
    for i, loop in enumerate(loops):
        seg = _tile(loop, section_s).astype(np.float32)
        if carry is not None:
            seg[:fade] = seg[:fade] * fade_in + carry
        if i < len(loops) - 1:
            carry = seg[-fade:] * fade_out
            seg = seg[:-fade]
        yield np.clip(seg * 0.9, -1.0, 1.0)


def _write_cue_sheet(mix_path: Path, cues: list[float]) -> Path:
    """The mix's tracklist as a CUE sheet next to it (the tracklists worker imports it)."""
    from backend.tracklists.cue import cue_sheet
    from backend.tracklists.model import Entry, Timeline, TracklistPage

    entries = tuple(
        Entry(position=i + 1, cue_s=cue, artist=t.artist, title=t.title)
        for i, (cue, t) in enumerate(zip(cues, TRACKS, strict=True))
    )
    page = TracklistPage(
        title="Tracktion Demo Mix", djs=("Tracktion DJs",), date=None, genres=("DJ Mix",),
        url=None, short_id=None, timelines=(Timeline(None, None, entries),),
    )  # fmt: skip
    sheet = mix_path.with_suffix(".cue")
    sheet.write_text(cue_sheet(page, page.timelines[0], mix_path).text, encoding="utf-8")
    return sheet


def write_demo_library(directory: str | Path, *, with_mix: bool = True) -> list[Path]:
    """Write the demo tracks (and the mix) into ``directory``; returns the files written."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    loops: list[npt.NDArray[np.float32]] = []
    manifest: dict[str, object] = {"sample_rate": SR, "tracks": [], "mix": None}
    for i, track in enumerate(TRACKS):
        loop = _loop(track, seed=100 + i)
        loops.append(loop)
        folder = out / track.genre.replace("&", "and")
        folder.mkdir(exist_ok=True)
        path = folder / _filename(i, track)
        tags = {
            "title": track.title, "artist": track.artist, "album": "Tracktion Demo",
            "album_artist": "Various Artists", "genre": track.genre, "date": "2024",
            "track_no": i + 1, "bpm": track.bpm, "key": track.key, "label": "Demo Records",
            "comment": f"Generated: {track.bpm:g} BPM, {track.key}",
        }  # fmt: skip
        encode(path, _tile(loop, TRACK_SECONDS), SR, track.fmt, tags,
               id3_version=track.id3_version, id3v1=track.id3v1)  # fmt: skip
        written.append(path)
        entry = {**asdict(track), "path": str(path.relative_to(out))}
        manifest["tracks"].append(entry)  # type: ignore[attr-defined]
    if with_mix:
        section = (MIX_MIN_S - CROSSFADE_S) / len(loops) + CROSSFADE_S
        mix_dir = out / "Mixes"
        mix_dir.mkdir(exist_ok=True)
        mix_path = mix_dir / "Tracktion Demo Mix (20 min).flac"
        encode(mix_path, _mix_blocks(loops, section), SR, "flac", {
            "title": "Tracktion Demo Mix", "artist": "Tracktion DJs", "genre": "DJ Mix",
            "date": "2024", "comment": "A generated 20-minute mix of the demo tracks",
        })  # fmt: skip
        written.append(mix_path)
        step = section - CROSSFADE_S
        duration_s = round(len(loops) * step + CROSSFADE_S, 3)
        cues = [round(i * step, 3) for i in range(len(TRACKS))]
        manifest["mix"] = {
            "path": str(mix_path.relative_to(out)),
            "duration_s": duration_s,
            "cue_sheet": str(_write_cue_sheet(mix_path, cues).relative_to(out)),
            "tracklist": [
                {"cue_s": cue, "artist": t.artist, "title": t.title}
                for cue, t in zip(cues, TRACKS, strict=True)
            ],
        }
    (out / "demo.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return written
