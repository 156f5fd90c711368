"""Incremental exact k-NN over a combined distance (sound, tempo, key, energy), held in numpy arrays.

Two neighbour lists are kept per track: ``similar`` (the k nearest of all) and ``harmonic`` (the k nearest
among the tracks it mixes with: compatible key and tempo). Adding a track costs its own search plus the
*reverse updates* — every track for which it is closer than its current k-th neighbour takes it in — and no
rebuild. Removing a track re-searches only the tracks that listed it. A search is one pass over a float32
matrix (100k × dim), a few milliseconds.

Combined distance (each part in 0..1, missing values count as 0.5, i.e. "unknown, neither near nor far"):

- sound:  (1 − cosine similarity of the centred feature vectors) / 2          weight 0.55
- tempo:  |log2 tempo ratio| to the nearest of same/half/double time, 0 → 1 at ±16 %  weight 0.20
- key:    0 same, 0.25 adjacent or relative, 0.5 energy-boost move (+2, +7), 1 otherwise  weight 0.15
- energy: |energy difference| (energies are 0..1)                               weight 0.10

The analysis features are each roughly in 0..1, so every pair of raw vectors points the same way (cosine
≈ 1). Vectors are therefore centred on ``feature_center`` (0.5) before normalising: a fixed centre, not a
running mean, so an index grown one track at a time stays exact and never drifts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from backend.graph.harmony import camelot_from_index, key_relation, parse_camelot

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

UNKNOWN_KEY = 24
KINDS = ("similar", "harmonic")
TEMPO_FULL_SCALE = math.log2(1.16)  # a 16 % tempo difference counts as "as far as it gets"
BLOCK = 128  # query rows per block in bulk searches: 128 × 100k float32 = 51 MB per temporary


@dataclass(frozen=True)
class Weights:
    """Weights of the combined distance (they should sum to 1)."""

    features: float = 0.55
    tempo: float = 0.20
    key: float = 0.15
    energy: float = 0.10


@dataclass(frozen=True)
class TrackPoint:
    """What the index knows about a track."""

    track_id: int
    features: Sequence[float] | None
    bpm: float | None = None
    camelot: str | None = None
    energy: float | None = None


def _key_tables(energy_boost: bool) -> tuple[F32, npt.NDArray[np.bool_]]:
    """25×25 key distance and key compatibility tables (index 24 = unknown key)."""
    dist = np.full((25, 25), 0.5, dtype=np.float32)
    ok = np.zeros((25, 25), dtype=bool)
    for i in range(24):
        for j in range(24):
            a, b = str(camelot_from_index(i)), str(camelot_from_index(j))
            rel = key_relation(a, b, energy_boost=True) or key_relation(b, a, energy_boost=True)
            if rel is None:
                dist[i, j] = 1.0
            elif rel.relation == "same":
                dist[i, j] = 0.0
            elif rel.relation in ("adjacent", "relative"):
                dist[i, j] = 0.25
            else:
                dist[i, j] = 0.5
            if rel is not None and (energy_boost or not rel.relation.startswith("boost")):
                ok[i, j] = True
    return dist, ok


@dataclass
class _Lists:
    """Neighbour lists of one kind: ids (−1 = empty slot), distances (inf = empty), k-th distance."""

    ids: I64
    dist: F32
    kth: F32

    @classmethod
    def empty(cls, capacity: int, k: int) -> _Lists:
        return cls(
            np.full((capacity, k), -1, dtype=np.int64),
            np.full((capacity, k), np.inf, dtype=np.float32),
            np.full(capacity, np.inf, dtype=np.float32),
        )


@dataclass
class KnnIndex:
    """Exact incremental k-NN index; see the module docstring for the distance."""

    k: int = 10
    tempo_tolerance_pct: float = 6.0
    energy_boost: bool = True
    weights: Weights = field(default_factory=Weights)
    dim: int | None = None
    feature_center: float = 0.5

    def __post_init__(self) -> None:
        self._n = 0
        self._cap = 0
        self._ids: I64 = np.zeros(0, dtype=np.int64)
        self._feats: F32 = np.zeros((0, self.dim or 0), dtype=np.float32)
        self._logbpm: F32 = np.zeros(0, dtype=np.float32)
        self._key: npt.NDArray[np.int8] = np.zeros(0, dtype=np.int8)
        self._energy: F32 = np.zeros(0, dtype=np.float32)
        self._row: dict[int, int] = {}
        self._meta: dict[int, TrackPoint] = {}  # tempo/key/energy as given, for edge reasons
        self._lists: dict[str, _Lists] = {kind: _Lists.empty(0, self.k) for kind in KINDS}
        self._key_dist, self._key_ok = _key_tables(self.energy_boost)
        self._key_dist_w: F32 = (self._key_dist * np.float32(self.weights.key)).astype(np.float32)
        self._bpm_known: npt.NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self._energy_known: npt.NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self._tempo_ok = math.log2(1.0 + self.tempo_tolerance_pct / 100.0)

    # ---- public API ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._n

    def __contains__(self, track_id: object) -> bool:
        return track_id in self._row

    @property
    def track_ids(self) -> list[int]:
        return [int(i) for i in self._ids[: self._n]]

    def insert(self, point: TrackPoint) -> set[int]:
        """Add a track (or update it if present); returns the ids whose neighbour lists changed."""
        if point.track_id in self._row:
            return self.move(point)
        r = self._append(point)
        block, mixable = self._block(np.array([r]))
        d = block[0]
        d[r] = np.inf
        dh = np.where(mixable[0], d, np.float32(np.inf))
        changed = {point.track_id}
        for kind, lists in self._lists.items():
            dk = d if kind == "similar" else dh
            self._set_top_k(lists, np.array([r]), dk[None, :])
            # Reverse updates: tracks whose k-th neighbour is farther than the new track take it in.
            rows = np.nonzero(dk[: self._n] < lists.kth[: self._n])[0]
            rows = rows[rows != r]
            if rows.size:
                worst = np.argmax(lists.dist[rows], axis=1)
                lists.ids[rows, worst] = point.track_id
                lists.dist[rows, worst] = dk[rows]
                lists.kth[rows] = self._kth(lists.dist[rows])
                changed.update(int(i) for i in self._ids[rows])
        return changed

    def remove(self, track_id: int) -> set[int]:
        """Drop a track; the tracks that listed it are searched again. Returns their ids."""
        r = self._row.pop(track_id, None)
        if r is None:
            return set()
        self._meta.pop(track_id, None)
        n = self._n
        affected: set[int] = set()
        for lists in self._lists.values():
            hit = np.nonzero((lists.ids[:n] == track_id).any(axis=1))[0]
            affected.update(int(i) for i in self._ids[hit])
        affected.discard(track_id)
        last = n - 1
        if r != last:  # keep rows dense: the last row fills the hole
            self._copy_row(last, r)
            self._row[int(self._ids[r])] = r
        self._n = last
        if affected:
            self._search(np.array(sorted(self._row[i] for i in affected), dtype=np.int64))
        return affected

    def move(self, point: TrackPoint) -> set[int]:
        """A track's data changed (re-analysed), its id did not: remove and insert again."""
        changed = self.remove(point.track_id)
        changed |= self.insert(point)
        return changed

    def build(self, points: Iterable[TrackPoint]) -> None:
        """Replace the whole index with ``points`` (bulk: blockwise exact search, O(n²))."""
        self._reset(points)
        for start in range(0, self._n, BLOCK):
            self._search(np.arange(start, min(start + BLOCK, self._n), dtype=np.int64))

    def restore(
        self,
        points: Iterable[TrackPoint],
        stored: Mapping[str, Mapping[int, Sequence[tuple[int, float]]]],
    ) -> set[int]:
        """Rebuild the index from ``points`` and neighbour lists saved earlier (the stored edges), O(n).

        A saved list that lost entries (its neighbour is gone) is searched again; tracks without a saved
        list are inserted (own search + reverse updates). Returns the ids whose lists differ from what
        was saved. Saved distances must come from this same distance function.
        """
        pts = list(points)
        have = {p.track_id for p in pts}
        listed = {t for t in stored.get("similar", {}) if t in have}
        self._reset(p for p in pts if p.track_id in listed)
        short: set[int] = set()
        full = min(self.k, self._n - 1)
        for kind, lists in self._lists.items():
            saved = stored.get(kind, {})
            for tid in listed:
                r = self._row[tid]
                nbrs = saved.get(tid, ())
                kept = sorted((d, o) for o, d in nbrs if o in self._row and o != tid)[: self.k]
                if len(kept) < len(nbrs) or (kind == "similar" and len(kept) < full):
                    short.add(tid)  # a neighbour left: the list must be searched again
                for j, (d, o) in enumerate(kept):
                    lists.ids[r, j] = o
                    lists.dist[r, j] = d
                lists.kth[r] = self._kth(lists.dist[r : r + 1])[0]
        if short:
            self._search(np.array(sorted(self._row[t] for t in short), dtype=np.int64))
        changed = set(short)
        for p in pts:
            if p.track_id not in self._row:
                changed |= self.insert(p)
        return changed

    def _reset(self, points: Iterable[TrackPoint]) -> None:
        pts = list(points)
        self._n = 0
        self._row = {}
        self._meta = {}
        self._cap = 0
        self._grow(max(len(pts), 1))
        for p in pts:
            if p.track_id in self._row:
                raise ValueError(f"track {p.track_id} given twice")
            self._append(p)

    def neighbours(self, track_id: int, kind: str = "similar") -> list[tuple[int, float]]:
        """(neighbour id, distance) nearest first."""
        r = self._row.get(track_id)
        if r is None:
            return []
        lists = self._lists[kind]
        order = np.argsort(lists.dist[r], kind="stable")
        return [
            (int(lists.ids[r, j]), float(lists.dist[r, j])) for j in order if lists.ids[r, j] >= 0
        ]

    def meta(self, track_id: int) -> TrackPoint:
        """Tempo, key and energy of an indexed track (without its feature vector)."""
        return self._meta[track_id]

    def components(self, a: int, b: int) -> dict[str, float]:
        """The four parts of the distance between two indexed tracks (each 0..1), for edge reasons."""
        ra, rb = self._row[a], self._row[b]
        sim = float(self._feats[ra] @ self._feats[rb])
        tempo = 0.5
        if self._bpm_known[ra] and self._bpm_known[rb]:
            delta = float(self._logbpm[rb] - self._logbpm[ra])
            gap = abs(delta - max(-1.0, min(1.0, float(np.rint(delta)))))
            tempo = min(1.0, gap / TEMPO_FULL_SCALE)
        energy = 0.5
        if self._energy_known[ra] and self._energy_known[rb]:
            energy = min(1.0, abs(float(self._energy[ra] - self._energy[rb])))
        return {
            "features": min(1.0, max(0.0, (1.0 - sim) * 0.5)),
            "tempo": tempo,
            "key": float(self._key_dist[int(self._key[ra]), int(self._key[rb])]),
            "energy": energy,
        }

    def distance(self, a: int, b: int) -> float:
        """Combined distance between two indexed tracks."""
        ra, rb = self._row[a], self._row[b]
        return float(self._block(np.array([ra]))[0][0, rb])  # same code path as a search

    def brute_force_neighbours(self, point: TrackPoint, kind: str = "similar") -> list[int]:
        """The k nearest ids of ``point`` by a full scan (what the index must agree with; for tests)."""
        r = self._row[point.track_id]
        block, mixable = self._block(np.array([r]))
        d = block[0] if kind == "similar" else np.where(mixable[0], block[0], np.float32(np.inf))
        d[r] = np.inf
        order = np.argsort(d, kind="stable")[: self.k]
        return [int(self._ids[j]) for j in order if np.isfinite(d[j])]

    # ---- storage -------------------------------------------------------------------------------------

    def _grow(self, need: int) -> None:
        if need <= self._cap:
            return
        cap = max(need, self._cap * 2, 64)
        dim = self.dim or 0

        def resize(a: npt.NDArray[np.generic], shape: tuple[int, ...], fill: object) -> npt.NDArray:  # type: ignore[type-arg]
            out = np.full(shape, fill, dtype=a.dtype)
            out[: self._n] = a[: self._n]
            return out

        self._ids = resize(self._ids, (cap,), -1)
        self._feats = resize(self._feats, (cap, dim), 0.0)
        self._logbpm = resize(self._logbpm, (cap,), 0.0)
        self._key = resize(self._key, (cap,), UNKNOWN_KEY)
        self._energy = resize(self._energy, (cap,), 0.0)
        self._bpm_known = resize(self._bpm_known, (cap,), False)
        self._energy_known = resize(self._energy_known, (cap,), False)
        for kind, lists in self._lists.items():
            self._lists[kind] = _Lists(
                resize(lists.ids, (cap, self.k), -1),
                resize(lists.dist, (cap, self.k), np.inf),
                resize(lists.kth, (cap,), np.inf),
            )
        self._cap = cap

    def _append(self, p: TrackPoint) -> int:
        vec = None if p.features is None else np.asarray(p.features, dtype=np.float32)
        if vec is not None:
            if self.dim is None:
                self.dim = int(vec.shape[0])
                self._feats = np.zeros((self._cap, self.dim), dtype=np.float32)
            if vec.shape != (self.dim,):
                raise ValueError(
                    f"track {p.track_id}: feature vector has {vec.shape[0]} values, index has {self.dim}"
                )
        self._grow(self._n + 1)
        r = self._n
        self._n += 1
        self._row[p.track_id] = r
        self._meta[p.track_id] = TrackPoint(p.track_id, None, p.bpm, p.camelot, p.energy)
        self._ids[r] = p.track_id
        self._feats[r] = 0.0
        if vec is not None:
            vec = vec - np.float32(self.feature_center)
            norm = float(np.linalg.norm(vec))
            if norm > 0 and np.isfinite(norm):
                self._feats[r] = vec / norm
        # Unknown values are stored as 0 with a "known" flag: no NaN passes in the hot loop.
        has_bpm = bool(p.bpm and p.bpm > 0 and math.isfinite(p.bpm))
        self._logbpm[r] = math.log2(p.bpm) if has_bpm and p.bpm else 0.0
        self._bpm_known[r] = has_bpm
        self._energy_known[r] = p.energy is not None and math.isfinite(p.energy)
        key = parse_camelot(p.camelot)
        self._key[r] = key.index if key is not None else UNKNOWN_KEY
        energy = p.energy if p.energy is not None and self._energy_known[r] else 0.0
        self._energy[r] = min(1.0, max(0.0, energy))
        for lists in self._lists.values():
            lists.ids[r] = -1
            lists.dist[r] = np.inf
            lists.kth[r] = np.inf
        return r

    def _copy_row(self, src: int, dst: int) -> None:
        for arr in (
            self._ids,
            self._feats,
            self._logbpm,
            self._key,
            self._energy,
            self._bpm_known,
            self._energy_known,
        ):
            arr[dst] = arr[src]
        for lists in self._lists.values():
            lists.ids[dst] = lists.ids[src]
            lists.dist[dst] = lists.dist[src]
            lists.kth[dst] = lists.kth[src]

    # ---- distance and search -------------------------------------------------------------------------

    def _block(self, rows: I64) -> tuple[F32, npt.NDArray[np.bool_]]:
        """Combined distance from each of ``rows`` to every indexed track, (len(rows), n), and whether
        each pair mixes (compatible key and tempo).

        This is the whole cost of a search, so it is one fused pass of in-place operations; the feature
        part is a BLAS matrix product.
        """
        n, w = self._n, self.weights
        # sound: w·(1 − cos)/2; a missing vector is all zeros, so cos = 0 → 0.5 ("unknown").
        d: F32 = self._feats[rows] @ self._feats[:n].T
        d *= np.float32(-0.5 * w.features)
        d += np.float32(0.5 * w.features)
        # tempo: octaves to the nearest of same/half/double time = min(|Δ|, ||Δ| − 1|) for Δ in log2.
        gap = self._logbpm[:n][None, :] - self._logbpm[rows][:, None]
        np.abs(gap, out=gap)
        other = gap - np.float32(1.0)
        np.abs(other, out=other)
        np.minimum(gap, other, out=gap)
        mixable = gap <= np.float32(self._tempo_ok + 1e-7)
        gap *= np.float32(1.0 / TEMPO_FULL_SCALE)
        np.clip(gap, None, np.float32(1.0), out=gap)
        self._fill_unknown(gap, self._bpm_known, rows, mixable)
        gap *= np.float32(w.tempo)
        d += gap
        # key: rows of the 25×25 tables gathered by each track's key index.
        qk = self._key[rows].astype(np.intp)
        keys = self._key[:n].astype(np.intp)
        d += np.take(self._key_dist_w[qk], keys, axis=1)
        mixable &= np.take(self._key_ok[qk], keys, axis=1)
        # energy (stored clipped to 0..1, so the difference needs no clipping)
        de = self._energy[:n][None, :] - self._energy[rows][:, None]
        np.abs(de, out=de)
        self._fill_unknown(de, self._energy_known, rows, None)
        de *= np.float32(w.energy)
        d += de
        return d, mixable

    def _fill_unknown(
        self,
        part: F32,
        known: npt.NDArray[np.bool_],
        rows: I64,
        mixable: npt.NDArray[np.bool_] | None,
    ) -> None:
        """Set a distance part to 0.5 (and "not mixable") wherever either side's value is unknown."""
        cols = np.flatnonzero(~known[: self._n])
        bad_rows = np.flatnonzero(~known[rows])
        if cols.size:
            part[:, cols] = 0.5
            if mixable is not None:
                mixable[:, cols] = False
        if bad_rows.size:
            part[bad_rows, :] = 0.5
            if mixable is not None:
                mixable[bad_rows, :] = False

    @staticmethod
    def _kth(dist: F32) -> F32:
        out: F32 = dist.max(axis=1)
        return out

    def _set_top_k(self, lists: _Lists, rows: I64, d: F32) -> None:
        """Write the k smallest finite entries of each row of ``d`` as the lists of ``rows``."""
        n = d.shape[1]
        k = min(self.k, n)
        if k <= 0:
            lists.ids[rows] = -1
            lists.dist[rows] = np.inf
            lists.kth[rows] = np.inf
            return
        part = (
            np.argpartition(d, k - 1, axis=1)[:, :k]
            if k < n
            else np.tile(np.arange(n), (len(rows), 1))
        )
        vals = np.take_along_axis(d, part, axis=1)
        order = np.argsort(vals, axis=1, kind="stable")
        part = np.take_along_axis(part, order, axis=1)
        vals = np.take_along_axis(vals, order, axis=1)
        ids = np.where(np.isfinite(vals), self._ids[part], -1)
        lists.ids[rows] = -1
        lists.dist[rows] = np.inf
        lists.ids[rows, :k] = ids
        lists.dist[rows, :k] = vals
        lists.kth[rows] = self._kth(lists.dist[rows])

    def _set_row(self, lists: _Lists, r: int, vals: F32, cols: I64) -> None:
        """One row's list from candidate distances ``vals`` at index rows ``cols`` (1-D, cheap)."""
        k = min(self.k, vals.size)
        pick = np.argpartition(vals, k - 1)[:k] if vals.size > k else np.arange(vals.size)
        best = vals[pick]
        order = np.argsort(best, kind="stable")
        best = best[order]
        ids = self._ids[cols[pick[order]]]
        ids[~np.isfinite(best)] = -1
        lists.ids[r] = -1
        lists.dist[r] = np.inf
        lists.ids[r, :k] = ids
        lists.dist[r, :k] = best
        lists.kth[r] = lists.dist[r].max()

    def _search(self, rows: I64) -> None:
        """Recompute both neighbour lists of ``rows`` from scratch (blockwise)."""
        for start in range(0, len(rows), BLOCK):
            block = rows[start : start + BLOCK]
            d, mixable = self._block(block)
            d[np.arange(len(block)), block] = np.inf
            self._set_top_k(self._lists["similar"], block, d)
            # Mixable partners are a small share of the library: select them per row, then rank.
            harmonic = self._lists["harmonic"]
            for i, r in enumerate(block):
                cols = np.flatnonzero(mixable[i])
                cols = cols[cols != r]
                self._set_row(harmonic, int(r), d[i, cols], cols)


__all__ = ["KINDS", "KnnIndex", "TrackPoint", "Weights"]
