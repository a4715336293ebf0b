"""Time for the tests of pacing: a clock that moves only when something sleeps."""

from __future__ import annotations

import threading


class FakeClock:
    """Time that moves only when something sleeps: pacing is tested without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += max(0.0, seconds)


def most_in_any_window(starts: list[float], seconds: float) -> int:
    """The most requests that started within any `seconds` (half-open windows)."""
    starts = sorted(starts)
    most, first = 0, 0
    for last, started in enumerate(starts):
        while started - starts[first] >= seconds:
            first += 1
        most = max(most, last - first + 1)
    return most
