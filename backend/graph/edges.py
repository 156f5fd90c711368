"""Turn the k-NN index's neighbour lists into SIMILAR and HARMONIC edges with scores and reasons."""

from __future__ import annotations

from collections.abc import Iterable

from backend.graph.harmony import energy_reason, harmonic_match, key_relation, tempo_match
from backend.graph.knn import KnnIndex
from backend.graph.port import EdgeKind, EdgeRow

# Tempo reasons on similar edges describe any gap up to this (the harmonic test uses the configured one).
WIDE_TEMPO_PCT = 16.0


def similar_reasons(index: KnnIndex, a: int, b: int) -> tuple[str, ...]:
    """Why b is near a: how alike they sound, then tempo, key and energy in a few words."""
    parts = index.components(a, b)
    pa, pb = index.meta(a), index.meta(b)
    reasons = [f"sound {round((1.0 - parts['features']) * 100)}% alike"]
    tempo = tempo_match(pa.bpm, pb.bpm, WIDE_TEMPO_PCT)
    if tempo is not None:
        reasons.append(tempo.reason)
    key = key_relation(pa.camelot, pb.camelot) or key_relation(pb.camelot, pa.camelot)
    if key is not None:
        reasons.append(key.reason)
    elif pa.camelot and pb.camelot:
        reasons.append(f"keys clash ({pa.camelot} / {pb.camelot})")
    energy = energy_reason(pa.energy, pb.energy)
    if energy:
        reasons.append(energy)
    return tuple(reasons)


def edges_for(
    index: KnnIndex,
    kind: EdgeKind,
    sources: Iterable[int],
    *,
    tolerance_pct: float,
    energy_boost: bool,
) -> dict[int, list[EdgeRow]]:
    """The complete outgoing ``kind`` ("similar" or "harmonic") edges of each source in the index."""
    out: dict[int, list[EdgeRow]] = {}
    for a in sources:
        if a not in index:
            continue
        rows: list[EdgeRow] = []
        pa = index.meta(a)
        for b, dist in index.neighbours(a, kind):
            if kind == "similar":
                rows.append(
                    EdgeRow(
                        a,
                        b,
                        "similar",
                        round(1.0 - dist, 6),
                        similar_reasons(index, a, b),
                        {"distance": round(dist, 6)},
                    )
                )
                continue
            pb = index.meta(b)
            # The index pairs tracks whose keys relate either way; a boost move may only work b → a.
            match = harmonic_match(
                pa.camelot,
                pa.bpm,
                pb.camelot,
                pb.bpm,
                tolerance_pct=tolerance_pct,
                energy_boost=energy_boost,
            ) or harmonic_match(
                pb.camelot,
                pb.bpm,
                pa.camelot,
                pa.bpm,
                tolerance_pct=tolerance_pct,
                energy_boost=energy_boost,
            )
            if match is None:
                continue
            rows.append(
                EdgeRow(
                    a,
                    b,
                    "harmonic",
                    match.score,
                    match.reasons,
                    {
                        "relation": match.key.relation,
                        "tempo_factor": match.tempo.factor,
                        "pitch_shift_st": round(match.tempo.pitch_shift_st, 3),
                        "distance": round(dist, 6),
                    },
                )
            )
        out[a] = rows
    return out


__all__ = ["edges_for", "similar_reasons"]
