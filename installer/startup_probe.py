"""Cold-start probe: with ``TRACKTION_TEST_STARTUP_PROBE=1`` the app prints the time from process start to
the main window's first paint and exits (benchmarks/installer_startup.py reads that line).

With ``TRACKTION_TEST_STARTUP_PROBE=ready`` it also waits for the app's "ready" milestone — the database
migrated, the services connected and the first data (library table, sidebar, status) on screen — prints
``TRACKTION_READY_MS=<n>`` and exits then.

It creates the QApplication before the app does (the app reuses an existing instance) and watches every
event for the first paint of a QMainWindow: painted is what the user perceives as "the window is there".
The app marks "ready" by setting the window's ``tracktionReady`` property (tracktion_gui/app.py).
"""

from __future__ import annotations

import os
import sys
import time

PREFIX = "TRACKTION_STARTUP_MS="
READY_PREFIX = "TRACKTION_READY_MS="
READY_PROPERTY = b"tracktionReady"


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


def install(wait_ready: bool = False) -> None:
    """Create the QApplication with an event filter that reports the first window paint (and, with
    ``wait_ready``, the ready milestone) and then quits."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    t0 = time.perf_counter() - (process_age_s() or 0.0)
    app = QApplication.instance() or QApplication(sys.argv[:1])

    def report(prefix: str) -> None:
        print(f"{prefix}{(time.perf_counter() - t0) * 1000.0:.0f}", flush=True)

    def leave() -> None:
        # A hard exit right after the milestone: the probe measures start-up only, and this keeps the
        # app's shutdown path (and its duration) out of the measurement.
        QTimer.singleShot(0, lambda: os._exit(0))

    class _Probe(QObject):
        painted = False

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if not isinstance(obj, QMainWindow):
                return False
            if not self.painted and event.type() == QEvent.Type.Paint:
                self.painted = True
                report(PREFIX)
                if not wait_ready:
                    leave()
            elif (
                wait_ready
                and event.type() == QEvent.Type.DynamicPropertyChange
                and bytes(event.propertyName().data()) == READY_PROPERTY  # type: ignore[attr-defined]
            ):
                report(READY_PREFIX)
                leave()
            return False

    probe = _Probe(app)
    app.installEventFilter(probe)
    app._tracktion_probe = probe  # type: ignore[attr-defined]  # keep it alive
