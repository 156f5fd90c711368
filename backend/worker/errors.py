"""How a handler tells the runtime what kind of failure it met."""

from __future__ import annotations


class TransientError(Exception):
    """Worth trying again later (a service down, a file still locked); retried with backoff."""

    def __init__(self, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


class PermanentError(Exception):
    """Will fail the same way every time (corrupt file, bad input); dead-lettered at once with the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JobCancelled(Exception):
    """The user cancelled the job while it ran."""
