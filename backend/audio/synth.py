"""Deterministic music generator: drum patterns + chord/bass/lead parts in a given key and tempo.

Used by tests, benchmarks (ground truth by construction) and the catalog's demo library. Everything is
derived from ``seed``: the same call always returns the same samples. Output is mono float32 in [-1, 1].

Styles (beat = quarter note at ``bpm``):
  four_on_floor  kick on every beat, clap on 2 and 4, open hats on the off-beats
  breakbeat      syncopated kicks, snare on 2 and 4, 16th hats
  half_time      kick on 1, snare on 3, 8th hats (dubstep / half-time DnB feel)
  swung          boom-bap kick/snare with swung 8th hats and swung bass
Variation keywords (all optional): ``swing`` (0..0.5 of an 8th), ``jitter_ms``, ``drift`` (relative
tempo change over the clip, e.g. 0.01), ``progression`` ("tonal" | "modal"), ``timbre``
("saw" | "square" | "sine" | "pluck" | "organ"), ``detune_cents``, ``drum_level``, ``harmony_level``,
``lead`` (bool), ``bass`` (bool), ``drums`` (bool), ``chords`` (index of the progression in its bank;
random by default — naming it does not change the rest of the seeded choices).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from backend.analysis.keys import parse_key

FloatArray = npt.NDArray[np.float32]

STYLES = ("four_on_floor", "breakbeat", "half_time", "swung")

# Per style: (kick steps, snare steps, hat steps) on a 16-step bar of 16th notes.
_PATTERNS: dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]] = {
    "four_on_floor": ((0, 4, 8, 12), (4, 12), (2, 6, 10, 14)),
    "breakbeat": ((0, 6, 10), (4, 12), tuple(range(16))),
    "half_time": ((0, 14), (8,), (0, 2, 4, 6, 8, 10, 12, 14)),
    "swung": ((0, 7, 10), (4, 12), (0, 2, 4, 6, 8, 10, 12, 14)),
}
# Chord roots in semitones above the tonic, with chord quality; tonic first and last so the key is defined.
_TONAL = {
    "minor": [[(0, "m"), (8, "M"), (3, "M"), (10, "M")], [(0, "m"), (5, "m"), (7, "m"), (0, "m")],
              [(0, "m"), (10, "M"), (8, "M"), (7, "M")], [(0, "m"), (3, "M"), (5, "m"), (0, "m")]],
    "major": [[(0, "M"), (7, "M"), (9, "m"), (5, "M")], [(0, "M"), (5, "M"), (7, "M"), (0, "M")],
              [(0, "M"), (9, "m"), (5, "M"), (7, "M")], [(0, "M"), (2, "m"), (7, "M"), (0, "M")]],
}  # fmt: skip
# Modal loops: dorian/phrygian count as minor (minor third over the tonic), mixolydian/lydian as major.
_MODAL = {
    "minor": [
        [(0, "m"), (5, "M")],
        [(0, "m"), (1, "M")],
        [(0, "m"), (10, "M"), (5, "M"), (0, "m")],
    ],
    "major": [
        [(0, "M"), (10, "M")],
        [(0, "M"), (2, "M")],
        [(0, "M"), (10, "M"), (5, "M"), (0, "M")],
    ],
}
_SCALES = {"minor": (0, 2, 3, 5, 7, 8, 10), "major": (0, 2, 4, 5, 7, 9, 11)}


def _midi_hz(note: float) -> float:
    return float(440.0 * 2.0 ** ((note - 69.0) / 12.0))


def _drum_kit(sr: int, rng: np.random.Generator) -> dict[str, FloatArray]:
    """Kick, snare and hat one-shots with a little per-seed colour."""
    t = np.arange(int(0.35 * sr)) / sr
    f0 = rng.uniform(45, 60)
    phase = 2 * np.pi * (f0 * t + (rng.uniform(80, 140) / 25.0) * (1 - np.exp(-25.0 * t)))
    kick = np.sin(phase) * np.exp(-t * rng.uniform(7, 12))
    n = int(0.2 * sr)
    noise = rng.standard_normal(n)
    ts = np.arange(n) / sr
    snare = 0.6 * noise * np.exp(-ts * 18) + 0.5 * np.sin(2 * np.pi * 190 * ts) * np.exp(-ts * 25)
    m = int(0.06 * sr)
    hat = np.diff(rng.standard_normal(m + 1)) * np.exp(-np.arange(m) / sr * 60)
    return {
        "kick": kick.astype(np.float32),
        "snare": (snare / np.max(np.abs(snare))).astype(np.float32),
        "hat": (0.5 * hat / np.max(np.abs(hat))).astype(np.float32),
    }


def _tone(freq: float, dur: float, sr: int, timbre: str, detune_cents: float) -> FloatArray:
    """One note with an ADSR-ish envelope; ``detune_cents`` adds a second, detuned voice."""
    n = max(1, int(dur * sr))
    t = np.arange(n) / sr
    out = np.zeros(n)
    voices = (0.0, detune_cents) if detune_cents else (0.0,)
    harmonics = {"saw": 8, "square": 8, "sine": 1, "pluck": 6, "organ": 4}.get(timbre, 6)
    for cents in voices:
        f = freq * 2 ** (cents / 1200.0)
        for h in range(1, harmonics + 1):
            if f * h > 9000:
                break
            if timbre == "square" and h % 2 == 0:
                continue
            amp = 1.0 / h if timbre != "organ" else 1.0 / (h * h)
            out += amp * np.sin(2 * np.pi * f * h * t + h)
    attack = np.minimum(1.0, t / 0.01)
    release = np.minimum(1.0, (dur - t) / 0.03).clip(0, 1)
    decay = np.exp(-t * 6.0) if timbre == "pluck" else 0.7 + 0.3 * np.exp(-t * 3.0)
    return np.asarray(out * attack * release * decay / len(voices), dtype=np.float32)


class _Timeline:
    """Maps musical time (beats) to sample positions with swing, jitter and slow tempo drift."""

    def __init__(self, bpm: float, seconds: float, sr: int, drift: float, swing: float,
                 jitter_ms: float, rng: np.random.Generator) -> None:  # fmt: skip
        self.bpm, self.sr, self.drift, self.swing = bpm, sr, drift, swing
        self.jitter = jitter_ms / 1000.0
        self.rng = rng
        self.total_beats = int(seconds * bpm / 60.0 * (1 + abs(drift))) + 8
        self.seconds = seconds

    def time(self, beat: float, *, swung: bool = True) -> float:
        """Seconds at ``beat``: tempo ramps linearly by ``drift`` across the clip."""
        if swung and self.swing and abs((beat * 2) % 2 - 1) < 1e-6:  # an off-beat 8th
            beat += self.swing * 0.5
        b0 = self.bpm / 60.0
        k = b0 * self.drift / self.seconds  # d(beats/s)/dt
        # beats(t) = b0 t + k t²/2  →  solve for t
        t = beat / b0 if abs(k) < 1e-12 else (-b0 + np.sqrt(b0 * b0 + 2 * k * beat)) / k
        return float(t + (self.rng.normal(0, self.jitter) if self.jitter else 0.0))


def _place(out: FloatArray, sound: FloatArray, at_s: float, sr: int, gain: float) -> None:
    start = round(at_s * sr)
    if start >= len(out) or start + len(sound) <= 0:
        return
    lo = max(0, -start)
    end = min(len(out), start + len(sound))
    out[start + lo : end] += gain * sound[lo : end - start]


def render_track(bpm: float, key: str, seconds: float, sr: int = 44100, *,
                 style: str = "four_on_floor", seed: int = 0, **variation: Any) -> FloatArray:  # fmt: skip
    """Render a deterministic clip at ``bpm`` in ``key`` (any notation keys.py parses).

    Returns mono float32 in [-1, 1], peak-normalised to about -1 dBFS.
    """
    if style not in _PATTERNS:
        raise ValueError(f"unknown style {style!r}; one of {STYLES}")
    rng = np.random.default_rng(seed)
    k = parse_key(key)
    n = int(seconds * sr)
    out = np.zeros(n, dtype=np.float32)
    swing = float(variation.get("swing", 0.33 if style == "swung" else 0.0))
    tl = _Timeline(bpm, seconds, sr, float(variation.get("drift", 0.0)), swing,
                   float(variation.get("jitter_ms", 0.0)), rng)  # fmt: skip
    kit = _drum_kit(sr, rng)
    drum_level = float(variation.get("drum_level", 0.8))
    harmony_level = float(variation.get("harmony_level", 0.35))
    timbre = str(variation.get("timbre", rng.choice(["saw", "square", "sine", "pluck", "organ"])))
    detune = float(variation.get("detune_cents", rng.uniform(0, 12)))
    kind = str(variation.get("progression", "tonal"))
    bank = (_MODAL if kind == "modal" else _TONAL)[k.mode]
    progression = bank[int(rng.integers(len(bank)))]
    if "chords" in variation:
        progression = bank[int(variation["chords"])]
    kicks, snares, hats = _PATTERNS[style]
    bars = tl.total_beats // 4 + 1
    if variation.get("drums", True):
        for bar in range(bars):
            for step in range(16):
                beat = bar * 4 + step / 4.0
                at = tl.time(beat)
                if at > seconds:
                    break
                vel = rng.uniform(0.85, 1.0)
                if step in kicks:
                    _place(out, kit["kick"], at, sr, drum_level * vel)
                if step in snares:
                    _place(out, kit["snare"], at, sr, 0.6 * drum_level * vel)
                if step in hats:
                    accent = 0.9 if step % 4 == 2 else 0.55
                    _place(out, kit["hat"], at, sr, 0.5 * drum_level * vel * accent)
    octave = (
        48 + k.tonic if k.tonic < 7 else 36 + k.tonic
    )  # keep the bass between 36 and 54 (C2..F#3)
    chord_beats = 4 if kind == "tonal" else 8
    cache: dict[tuple[int, float], FloatArray] = {}
    for idx in range(tl.total_beats // chord_beats + 1):
        root, quality = progression[idx % len(progression)]
        t0, t1 = (
            tl.time(idx * chord_beats, swung=False),
            tl.time((idx + 1) * chord_beats, swung=False),
        )
        if t0 > seconds:
            break
        dur = t1 - t0
        third = 3 if quality == "m" else 4
        for iv in (0, third, 7):
            note = octave + 12 + root + iv
            key_ = (note, round(dur * 20) / 20)  # 50 ms steps: chords are rendered once, reused
            if key_ not in cache:
                cache[key_] = _tone(_midi_hz(note), dur, sr, timbre, detune)
            _place(out, cache[key_], t0, sr, harmony_level * 0.45)
        if variation.get("bass", True):
            for b in range(chord_beats * 2):  # 8th-note bass on the chord root
                bt = idx * chord_beats + b / 2.0
                ta, tb = tl.time(bt), tl.time(bt + 0.45, swung=False)
                # Durations rounded to 10 ms so notes are rendered once and reused.
                bkey = (octave + root - 1000, round(max(0.05, tb - ta), 2))
                if bkey not in cache:
                    cache[bkey] = _tone(_midi_hz(octave + root), bkey[1], sr, "sine", 0.0)
                _place(out, cache[bkey], ta, sr, harmony_level * (0.9 if b % 2 == 0 else 0.6))
    if variation.get("lead", True):
        scale = _SCALES[k.mode]
        for beat in range(0, tl.total_beats, 2):
            if rng.random() < 0.4:
                continue
            deg = int(rng.integers(len(scale)))
            note = octave + 24 + scale[deg]
            at = tl.time(beat)
            if at > seconds:
                break
            lkey = (note + 1000, 0.0)
            if lkey not in cache:
                cache[lkey] = _tone(_midi_hz(note), 60.0 / bpm * 0.9, sr, "pluck", 0.0)
            _place(out, cache[lkey], at, sr, harmony_level * 0.35)
    peak = float(np.max(np.abs(out))) if n else 0.0
    if peak > 0:
        out *= 0.89 / peak
    return out


def render_mix(tracks: list[FloatArray], crossfade_s: list[float],
               sr: int = 44100) -> tuple[FloatArray, list[float]]:  # fmt: skip
    """Cross-fade ``tracks`` in order (equal-power), ``crossfade_s[i]`` between track i and i+1.

    Returns the mix and the transition times (middle of each cross-fade, in seconds).
    """
    if len(crossfade_s) != max(0, len(tracks) - 1):
        raise ValueError("need one crossfade length per pair of tracks")
    total = sum(len(t) for t in tracks) - sum(int(c * sr) for c in crossfade_s)
    mix = np.zeros(max(total, 0), dtype=np.float32)
    pos = 0
    times: list[float] = []
    for i, track in enumerate(tracks):
        seg = track.astype(np.float32).copy()
        if i > 0:
            fade = int(crossfade_s[i - 1] * sr)
            seg[:fade] *= np.sin(np.linspace(0, np.pi / 2, fade)).astype(np.float32)
        if i < len(tracks) - 1:
            fade = int(crossfade_s[i] * sr)
            seg[len(seg) - fade :] *= np.cos(np.linspace(0, np.pi / 2, fade)).astype(np.float32)
        mix[pos : pos + len(seg)] += seg[: len(mix) - pos]
        if i < len(tracks) - 1:
            fade = int(crossfade_s[i] * sr)
            times.append((pos + len(seg) - fade / 2) / sr)
            pos += len(seg) - fade
    return np.clip(mix, -1.0, 1.0), times


# ---- writing files (tests, benchmarks, demo library) ------------------------------------------------------

_CODECS = {  # extension → (container format, codec, sample format)
    ".wav": ("wav", "pcm_s16le", "s16"), ".flac": ("flac", "flac", "s16"),
    ".mp3": ("mp3", "libmp3lame", "fltp"), ".ogg": ("ogg", "vorbis", "fltp"),
    ".opus": ("ogg", "libopus", "flt"), ".m4a": ("mp4", "aac", "fltp"),
    ".aiff": ("aiff", "pcm_s16be", "s16"), ".wma": ("asf", "wmav2", "fltp"),
}  # fmt: skip


def write_audio(path: str | Path, blocks: FloatArray | Iterable[FloatArray], sr: int, *,
                channels: int = 1, codec: str | None = None, sample_format: str | None = None,
                bitrate: int | None = None) -> Path:  # fmt: skip
    """Encode mono float samples (one array or an iterable of blocks, to stream long files) to ``path``.

    The format follows the extension (wav flac mp3 ogg opus m4a aiff wma); ``codec`` overrides it
    (e.g. "alac" in .m4a, "pcm_u8" in .wav for 8-bit). ``channels=2`` duplicates mono to stereo.
    """
    import av  # local import: only needed when writing

    path = Path(path)
    fmt, default_codec, default_sf = _CODECS[path.suffix.lower()]
    codec = codec or default_codec
    sf = sample_format or {"alac": "s16p", "pcm_u8": "u8", "pcm_s24le": "s32"}.get(
        codec, default_sf
    )
    rate = 48000 if codec == "libopus" else sr
    if codec == "vorbis":
        channels = 2  # ffmpeg's native Vorbis encoder only encodes stereo
    layout = "stereo" if channels == 2 else "mono"
    with av.open(str(path), "w", format=fmt) as container:
        stream: Any = container.add_stream(codec, rate=rate, layout=layout)
        if bitrate or codec == "wmav2":  # wmav2 refuses to open without an explicit bit rate
            stream.bit_rate = bitrate or 128000
        if codec == "vorbis":  # ffmpeg's native Vorbis encoder is flagged experimental
            stream.codec_context.options = {"strict": "-2"}
        resampler = av.AudioResampler(format=sf, layout=layout, rate=rate)
        parts = [blocks] if isinstance(blocks, np.ndarray) else blocks
        pts = 0
        for part in parts:
            for start in range(0, len(part), sr):
                chunk = np.ascontiguousarray(part[start : start + sr], dtype=np.float32)
                data = (
                    np.repeat(chunk[None, :], channels, axis=0) if channels == 2 else chunk[None, :]
                )
                frame = av.AudioFrame.from_ndarray(data, format="fltp", layout=layout)
                frame.sample_rate = sr
                frame.pts = pts
                pts += len(chunk)
                for out in resampler.resample(frame):
                    for packet in stream.encode(out):
                        container.mux(packet)
        for out in resampler.resample(None):
            for packet in stream.encode(out):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
