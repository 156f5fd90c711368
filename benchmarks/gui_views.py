"""Benchmarks of the part-2 views: waveform first paint and zoom latency on a 3-hour mix, graph layout.

Run: ``python benchmarks/gui_views.py [--quick] [--hours H] [--nodes N]`` (offscreen Qt). Every figure is
printed next to a baseline measured in the same process:

- waveform: our view (levels built and serialised by the analysis code, decoded as the app does, level
  picked per zoom, only the visible bins rendered) against
  plain pyqtgraph on the finest level (``PlotDataItem`` with ``clipToView`` + peak ``autoDownsample``,
  the library's own recommended way to plot long signals);
- graph: the force layout's time for N nodes, and the longest event-loop stall while it runs in the
  view's executor against running the same layout inline on the loop (what the GUI would feel).

Goals (issue 8): first paint, zoom and layout ≤ 100 ms each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np


def waveform_blob(duration_s: float) -> bytes:
    """The stored waveform bytes of a ``duration_s`` recording, built by the analysis package's own code.

    The hop-rate series are synthetic (a pulsing envelope with slow swells) because only their sizes matter
    for drawing; building, serialising and decoding are the real code paths.
    """
    from backend.analysis.waveform import build_waveform

    pps = 22050 / 512  # the analysis hop rate (~43 points per second)
    n = int(duration_s * pps)
    rng = np.random.default_rng(0)
    t = np.arange(n, dtype=np.float32) / np.float32(pps)
    pulse = np.abs(np.sin(t * np.pi * 2.1)) ** 6
    env = (0.55 + 0.35 * np.sin(t / 97.0) ** 2) * (0.6 + 0.4 * pulse) * rng.uniform(0.9, 1.0, n)
    low = 0.3 + 0.7 * pulse
    mid = 0.4 + 0.3 * np.sin(t / 31.0) ** 2
    high = 0.2 + 0.2 * rng.random(n)
    f32 = [np.asarray(a, dtype=np.float32) for a in (env, low, mid, high)]
    return build_waveform(*f32, points_per_s=pps, duration_s=duration_s).to_bytes()


def _ms(seconds: float) -> float:
    return seconds * 1000.0


def bench_waveform(hours: float, zooms: int) -> dict[str, float]:
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from backend.api.media import TrackMedia, decode_waveform
    from tracktion_gui.views.waveform import WaveformView

    app = QApplication.instance() or QApplication([])
    duration = hours * 3600.0
    blob = waveform_blob(duration)
    t, c = time.perf_counter(), time.process_time()
    waveform = decode_waveform(blob, duration)
    decode_s, decode_cpu = time.perf_counter() - t, time.process_time() - c
    assert waveform is not None
    beats = np.arange(0.3, duration, 60.0 / 126.0)
    media = TrackMedia(1, None, "Mix", "DJ", duration, True, "ok", analysed=True, beats=beats,
                       waveform=waveform)  # fmt: skip
    rng = np.random.default_rng(1)
    spans = rng.choice([8.0, 30.0, 120.0, 600.0, 1800.0, duration], zooms)
    starts = rng.uniform(0, 1, zooms)

    # ours
    view = WaveformView()
    view.resize(1600, 360)
    view.show()
    app.processEvents()
    t, c = time.perf_counter(), time.process_time()
    view.set_media(media)
    view.set_visible_range(0, duration)
    view.redraw_zoom()
    view.grab()
    first_paint = time.perf_counter() - t + decode_s
    first_paint_cpu = time.process_time() - c + decode_cpu
    lat, lat_cpu = [], []
    for span, start in zip(spans, starts, strict=True):
        t0 = float(start) * (duration - span)
        t, c = time.perf_counter(), time.process_time()
        view.set_visible_range(t0, t0 + float(span))
        view.redraw_zoom()
        view.zoom.grab()
        lat.append(time.perf_counter() - t)
        lat_cpu.append(time.process_time() - c)
    view.close()

    # baseline: plain pyqtgraph on the finest level
    finest = waveform.levels[0]
    x = np.arange(finest.bins, dtype=np.float64) * finest.seconds_per_bin
    plot = pg.PlotWidget()
    plot.resize(1600, 360)
    plot.show()
    app.processEvents()
    t = time.perf_counter()
    item = pg.PlotDataItem(x, finest.maximum, fillLevel=0, brush=(200, 80, 80))
    plot.addItem(item)
    # Set after adding: pyqtgraph 0.14 fails when clipToView is given before the item has a view.
    item.setDownsampling(auto=True, method="peak")
    item.setClipToView(True)
    plot.setXRange(0, duration, padding=0)
    plot.grab()
    base_first = time.perf_counter() - t
    base_lat = []
    for span, start in zip(spans, starts, strict=True):
        t0 = float(start) * (duration - span)
        t = time.perf_counter()
        plot.setXRange(t0, t0 + float(span), padding=0)
        plot.grab()
        base_lat.append(time.perf_counter() - t)
    plot.close()
    return {
        "decode_ms": _ms(decode_s),
        "blob_mb": len(blob) / 1e6,
        "first_paint_ms": _ms(first_paint),
        "first_paint_cpu_ms": _ms(first_paint_cpu),
        "baseline_first_paint_ms": _ms(base_first),
        "zoom_p50_ms": _ms(statistics.median(lat)),
        "zoom_p95_ms": _ms(float(np.percentile(lat, 95))),
        "zoom_cpu_p50_ms": _ms(statistics.median(lat_cpu)),
        "zoom_cpu_p95_ms": _ms(float(np.percentile(lat_cpu, 95))),
        "baseline_zoom_p50_ms": _ms(statistics.median(base_lat)),
        "baseline_zoom_p95_ms": _ms(float(np.percentile(base_lat, 95))),
        "finest_bins": float(finest.bins),
        "levels": float(len(waveform.levels)),
    }


def random_graph(n: int, degree: int, seed: int = 0) -> list[tuple[int, int, float]]:
    rng = np.random.default_rng(seed)
    edges = []
    for a in range(n):
        for b in rng.choice(n, degree, replace=False):
            if int(b) != a:
                edges.append((a, int(b), float(rng.uniform(0.3, 1.0))))
    return edges


async def _stall_while(
    run_inline: bool, n: int, edges: list[tuple[int, int, float]]
) -> tuple[float, float]:
    """(layout seconds, longest gap between 5 ms ticks of the loop while it ran)."""
    from tracktion_gui.views.graph import _LAYOUT_EXECUTOR
    from tracktion_gui.views.graph_layout import force_layout

    loop = asyncio.get_running_loop()
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = loop.time()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = loop.time()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.02)
    t = time.perf_counter()
    if run_inline:
        force_layout(n, edges)
    else:
        await loop.run_in_executor(_LAYOUT_EXECUTOR, lambda: force_layout(n, edges))
    elapsed = time.perf_counter() - t
    await asyncio.sleep(0.02)
    done.set()
    await tick
    return elapsed, max(gaps) if gaps else 0.0


def bench_graph(n: int, repeats: int) -> dict[str, float]:
    from tracktion_gui.views.graph_layout import force_layout

    edges = random_graph(n, 5)
    force_layout(n, edges)  # warm-up (numpy first-call costs)
    times, cpu = [], []
    for i in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        force_layout(n, edges, seed=i)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    _off_time, off_stall = asyncio.run(_stall_while(False, n, edges))
    _in_time, in_stall = asyncio.run(_stall_while(True, n, edges))
    return {
        "layout_p50_ms": _ms(statistics.median(times)),
        "layout_max_ms": _ms(max(times)),
        "layout_cpu_p50_ms": _ms(statistics.median(cpu)),
        "loop_stall_offthread_ms": _ms(off_stall),
        "loop_stall_inline_ms": _ms(in_stall),
        "edges": float(len(edges)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--hours", type=float, default=3.0, help="length of the mix (default 3)")
    parser.add_argument("--nodes", type=int, default=200, help="graph nodes (default 200)")
    # parse_known_args: benchmarks/gui.py may call main() with its own command line.
    args, _unknown = parser.parse_known_args(argv)
    zooms, repeats = (15, 3) if args.quick else (60, 10)
    wf = bench_waveform(args.hours, zooms)
    print(f"waveform, {args.hours:g} h mix ({wf['finest_bins']:.0f} finest bins, {wf['levels']:.0f} levels,"
          f" {wf['blob_mb']:.1f} MB stored; decode {wf['decode_ms']:.1f} ms, included in first paint)")  # fmt: skip
    print(f"  first paint   {wf['first_paint_ms']:8.1f} ms   baseline {wf['baseline_first_paint_ms']:8.1f} ms"
          f"   ratio {wf['first_paint_ms'] / wf['baseline_first_paint_ms']:.2f}")  # fmt: skip
    print(f"  first paint CPU time {wf['first_paint_cpu_ms']:.1f} ms (wall time above includes waiting"
          f" for a core: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")  # fmt: skip
    print(f"  zoom p50      {wf['zoom_p50_ms']:8.1f} ms   baseline {wf['baseline_zoom_p50_ms']:8.1f} ms"
          f"   ratio {wf['zoom_p50_ms'] / wf['baseline_zoom_p50_ms']:.2f}")  # fmt: skip
    print(f"  zoom p95      {wf['zoom_p95_ms']:8.1f} ms   baseline {wf['baseline_zoom_p95_ms']:8.1f} ms"
          f"   ratio {wf['zoom_p95_ms'] / wf['baseline_zoom_p95_ms']:.2f}")  # fmt: skip
    print(f"  zoom CPU time p50 {wf['zoom_cpu_p50_ms']:.1f} ms, p95 {wf['zoom_cpu_p95_ms']:.1f} ms")
    gr = bench_graph(args.nodes, repeats)
    print(f"graph layout, {args.nodes} nodes, {gr['edges']:.0f} edges")
    print(f"  layout p50    {gr['layout_p50_ms']:8.1f} ms   (max {gr['layout_max_ms']:.1f} ms;"
          f" CPU time p50 {gr['layout_cpu_p50_ms']:.1f} ms)")  # fmt: skip
    print(f"  loop stall    {gr['loop_stall_offthread_ms']:8.1f} ms   inline {gr['loop_stall_inline_ms']:8.1f} ms"
          f"   ratio {gr['loop_stall_offthread_ms'] / max(gr['loop_stall_inline_ms'], 1e-9):.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # Skip interpreter teardown: PySide6 + pyqtgraph can crash while garbage-collecting widgets after the
    # QApplication is gone, which would turn a finished benchmark into a non-zero exit.
    os._exit(code)
