"""Cold-start probe: with ``TRACKTION_TEST_STARTUP_PROBE=1`` the app prints the time from process start to
the main window's first paint and exits (benchmarks/installer_startup.py reads that line).

It creates the QApplication before the app does (the app reuses an existing instance) and watches every
event for the first paint of a QMainWindow: painted is what the user perceives as "the window is there".
"""

from __future__ import annotations

import os
import sys
import time

PREFIX = "TRACKTION_STARTUP_MS="


def process_age_s() -> float | None:
    """Seconds since this process started, from the kernel (Linux), so interpreter start counts too."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
    except OSError:
        return None
    # Field 22 of stat is the start time in clock ticks after boot; fields[0] here is field 3.
    started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
    return max(0.0, uptime - started)


def install() -> None:
    """Create the QApplication with an event filter that reports and quits at the first window paint."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    t0 = time.perf_counter() - (process_age_s() or 0.0)
    app = QApplication.instance() or QApplication(sys.argv[:1])

    class _Probe(QObject):
        done = False

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if not self.done and event.type() == QEvent.Type.Paint and isinstance(obj, QMainWindow):
                self.done = True
                ms = (time.perf_counter() - t0) * 1000.0
                print(f"{PREFIX}{ms:.0f}", flush=True)
                # Exit right after this paint: the probe measures start-up only, and a hard exit
                # keeps the app's shutdown path (and its duration) out of the measurement.
                QTimer.singleShot(0, lambda: os._exit(0))
            return False

    probe = _Probe(app)
    app.installEventFilter(probe)
    app._tracktion_probe = probe  # type: ignore[attr-defined]  # keep it alive
