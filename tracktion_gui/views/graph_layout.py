"""Force-directed layout (Fruchterman–Reingold, vectorised numpy) for the graph view.

Pure function, no Qt: the view runs it in an executor so the GUI thread never waits for it. O(n²) per
iteration, done as matrix-vector products — 200 nodes × 120 iterations take a few tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Positions = npt.NDArray[np.float64]


def force_layout(
    n: int,
    edges: Sequence[tuple[int, int, float]],
    *,
    pinned: int | None = 0,
    iterations: int = 120,
    seed: int = 0,
    initial: Positions | None = None,
) -> Positions:
    """Positions (n × 2, roughly in [-1, 1]) for ``n`` nodes joined by weighted ``edges``.

    ``pinned`` stays at the origin (the selected track in the middle); ``initial`` seeds the positions so a
    re-layout after a small change keeps the picture stable.
    """
    if n == 0:
        return np.zeros((0, 2))
    rng = np.random.default_rng(seed)
    pos = rng.uniform(-1.0, 1.0, (n, 2)) if initial is None else np.array(initial, dtype=np.float64)
    if n == 1:
        return np.zeros((1, 2))
    k = np.sqrt(4.0 / n)  # ideal edge length for a 2 × 2 area
    src = np.array([e[0] for e in edges], dtype=np.int64)
    dst = np.array([e[1] for e in edges], dtype=np.int64)
    weight = np.array([max(0.05, e[2]) for e in edges], dtype=np.float64)
    dx = np.empty((n, n))
    dy = np.empty((n, n))
    f = np.empty((n, n))
    temperature = 0.2
    cooling = temperature / (iterations + 1)
    for _ in range(iterations):
        x, y = pos[:, 0], pos[:, 1]
        np.subtract(x[:, None], x[None, :], out=dx)
        np.subtract(y[:, None], y[None, :], out=dy)
        # Repulsion k²/d along delta/d  →  sum_j delta_ij * f_ij with f = k²/d²; written as matrix-vector
        # products (x_i * sum_j f_ij - (f @ x)_i) so BLAS does the n² work. In place: no n² temporaries.
        np.multiply(dx, dx, out=f)
        f += dy * dy
        f += 1e-9
        np.divide(k * k, f, out=f)
        np.fill_diagonal(f, 0.0)
        rows = f.sum(axis=1)
        disp = np.column_stack((x * rows - f @ x, y * rows - f @ y))
        if src.size:
            d = pos[src] - pos[dst]
            dist = np.sqrt((d**2).sum(axis=1)) + 1e-9
            pull = d * (dist * weight / k)[:, None]  # attraction d²/k along d/d
            for axis in (0, 1):  # bincount is the fast scatter-add
                disp[:, axis] += np.bincount(dst, pull[:, axis], n) - np.bincount(
                    src, pull[:, axis], n
                )
        # Gentle gravity keeps disconnected parts on screen.
        disp -= pos * 0.05 * k
        length = np.sqrt((disp**2).sum(axis=1)) + 1e-9
        pos += disp / length[:, None] * np.minimum(length, temperature)[:, None]
        if pinned is not None and 0 <= pinned < n:
            pos[pinned] = 0.0
        temperature -= cooling
    if pinned is not None and 0 <= pinned < n:
        pos -= pos[pinned]
    scale = np.abs(pos).max()
    return pos / scale if scale > 0 else pos


def rings(n: int, edges: Sequence[tuple[int, int, float]], centre: int = 0) -> Positions:
    """Start positions: the centre's direct neighbours on an inner ring, everything else outside.

    A force layout started like this keeps the selected track in the middle of its neighbourhood.
    """
    pos = np.zeros((n, 2))
    direct = sorted(
        {b for a, b, _ in edges if a == centre} | {a for a, b, _ in edges if b == centre}
    )
    direct = [i for i in direct if i != centre]
    others = [i for i in range(n) if i != centre and i not in set(direct)]
    for radius, group in ((0.5, direct), (1.0, others)):
        for j, i in enumerate(group):
            angle = 2 * np.pi * j / max(len(group), 1) + radius  # offset so the rings do not align
            pos[i] = (radius * np.cos(angle), radius * np.sin(angle))
    return pos


Rect = tuple[float, float, float, float]  # left, top, width, height (pixels)


def non_overlapping(rects: Sequence[Rect], margin: float = 2.0) -> list[int]:
    """Indices of the labels to draw: greedily, in the given (priority) order, each that overlaps none kept.

    A crowded neighbourhood otherwise prints names over names; a skipped name is still on the node's hover.
    """
    kept: list[int] = []
    for i, (x, y, w, h) in enumerate(rects):
        if all(
            x + w + margin <= kx
            or kx + kw + margin <= x
            or y + h + margin <= ky
            or ky + kh + margin <= y
            for kx, ky, kw, kh in (rects[j] for j in kept)
        ):
            kept.append(i)
    return kept
