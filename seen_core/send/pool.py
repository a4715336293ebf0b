"""A few request threads that share one pace: the engine under a send and a fetch of links.

`WorkerPool` runs N threads. Each takes the next unit of work from its owner, waits its turn
(the unit's own delay, then the `Pacer`, which keeps every thread within SEEN's rate limit),
and does it, until nothing is left or the pool halts. The owner keeps what is its own — what a
unit is, what an answer means, what to do next — and guards its queues and counts with the
pool's lock. See docs/ARCHITECTURE.md ("Sending").
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

__all__ = ["Pacer", "Progress", "WorkerPool"]

# Requests reach SEEN a little after they leave the pacer, and not all equally late (a journal
# write, a thread switch): a rate window is kept this much wider than SEEN's, to stay under it.
WINDOW_MARGIN = 0.02
# How often a waiting thread looks at a cancel event, which nothing else wakes it for (seconds).
CANCEL_POLL = 0.1


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    counts: dict[str, int]
    rate: float  # done per second in this run (rows sent, links fetched)
    eta_seconds: float | None
    message: str


class Pacer:
    """Lets requests start at most `rate` per second and never more than `limit` in any
    `seconds` (each of `windows`, sliding), across the request threads; `hold` pauses all.

    A thread waits for its turn holding the pacer, and the start is stamped when it leaves, so
    the windows count real starts, not planned ones.
    """

    def __init__(
        self,
        rate: float,
        pause: Callable[[float], None],
        windows: Sequence[tuple[int, float]] = (),
        *,
        clock: Callable[[], float] = time.monotonic,
        halted: Callable[[], bool] = lambda: False,
    ) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._windows = [(limit, seconds * (1 + WINDOW_MARGIN)) for limit, seconds in windows]
        self._starts: deque[float] = deque(maxlen=max((n for n, _ in windows), default=1))
        self._not_before = -math.inf
        self._lock = threading.Lock()
        self._pause = pause
        self._clock = clock
        self._halted = halted

    def hold(self, seconds: float) -> None:
        """No request starts for `seconds` from now (SEEN asked us to slow down)."""
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + seconds)

    def _slot(self) -> float:
        slot = self._not_before
        if self._starts:
            slot = max(slot, self._starts[-1] + self._interval)
        for limit, seconds in self._windows:
            if len(self._starts) >= limit:
                slot = max(slot, self._starts[-limit] + seconds)
        return slot

    def wait_turn(self) -> None:
        with self._lock:
            while True:
                now = self._clock()
                slot = self._slot()
                if slot <= now or self._halted():
                    break
                self._pause(slot - now)
            self._starts.append(now)


class Paced(Protocol):
    """A unit of work: it may have to wait `delay` seconds (a back-off) before its turn."""

    @property
    def delay(self) -> float: ...


Unit = TypeVar("Unit", bound=Paced)


class WorkerPool(Generic[Unit]):
    """`workers` threads that each take the next unit, wait their turn and do it.

    `run(take, do)`: `take()` is called holding `lock` and gives the next unit, or None when
    there is none now; the pool ends when there is none and no unit is being done (one being
    done may queue more: after queueing, `lock.notify_all()` lets idle threads take it).
    `do(unit)` is called once the unit's delay and the pacer's turn are over, unless the pool
    halted meanwhile (then the unit is dropped: it never went out).

    - `stop()` halts the pool at once: nothing more is taken or started, and waiting threads
      wake up. A `cancel` event from outside does the same the moment any thread looks at it,
      while taking or waiting (then `cancelled` is true).
    - The first error of a thread halts the pool and is raised again by `run`.
    - `report(message)` calls `on_progress` with counts from `measure()` (read holding `lock`:
      the total, how many are done, the counts by name), one call at a time.
    """

    def __init__(
        self,
        measure: Callable[[], tuple[int, int, dict[str, int]]],
        *,
        workers: int,
        rate: float,
        windows: Sequence[tuple[int, float]] = (),
        cancel: threading.Event | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        name: str = "seen-pool",
    ) -> None:
        self.workers = max(1, workers)
        self.name = name
        # Guards the owner's queues and counts and the pool's own count of units being done.
        self.lock = threading.Condition()
        self.cancelled = False
        self._cancel = cancel
        self._halt = threading.Event()
        self._sleep = sleep
        self._pacer = Pacer(rate, self._pause, windows, clock=clock, halted=self._halted)
        self._busy = 0
        self._error: BaseException | None = None
        self._on_progress = on_progress
        self._measure = measure
        self._report_lock = threading.Lock()
        self._started = time.monotonic()
        self._done_at_start = measure()[1]

    @property
    def halted(self) -> bool:
        """Whether the pool stopped or was cancelled: nothing more goes out."""
        return self._halted()

    def stop(self) -> None:
        """Halt at once: nothing more is taken or started; waiting threads wake up."""
        self._halt.set()
        with self.lock:
            self.lock.notify_all()

    def hold(self, seconds: float) -> None:
        """No unit starts for `seconds` from now, in any thread (SEEN asked us to wait)."""
        self._pacer.hold(seconds)

    def run(self, take: Callable[[], Unit | None], do: Callable[[Unit], None]) -> None:
        threads = [
            threading.Thread(target=self._work, args=(take, do), name=f"{self.name}_{n}")
            for n in range(self.workers)
        ]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                thread.join()
        except BaseException:  # an interrupt of the caller: the threads end too
            self.stop()
            for thread in threads:
                thread.join()
            raise
        if self._error is not None:
            raise self._error

    def report(self, message: str) -> None:
        if self._on_progress is None:
            return
        with self.lock:
            total, done, counts = self._measure()
        elapsed = time.monotonic() - self._started
        rate = (done - self._done_at_start) / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else None
        with self._report_lock:  # one call at a time, whichever thread reports
            self._on_progress(Progress(total, done, counts, rate, eta, message))

    def _halted(self) -> bool:
        if self._cancel is not None and self._cancel.is_set() and not self._halt.is_set():
            self.cancelled = True
            self._halt.set()
        return self._halt.is_set()

    def _pause(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self._sleep is not time.sleep:
            self._sleep(seconds)
            return
        # The real clock: a stop wakes the wait at once, a cancel within CANCEL_POLL.
        end = time.monotonic() + seconds
        while not self._halted() and (left := end - time.monotonic()) > 0:
            self._halt.wait(left if self._cancel is None else min(left, CANCEL_POLL))

    def _take(self, take: Callable[[], Unit | None]) -> Unit | None:
        """The next unit, waiting while units being done may still queue more; None: done."""
        with self.lock:
            while True:
                if self._halted():
                    return None
                unit = take()
                if unit is not None:
                    self._busy += 1
                    return unit
                if not self._busy:
                    self.lock.notify_all()  # the others are waiting for nothing now
                    return None
                self.lock.wait(CANCEL_POLL if self._cancel is not None else None)

    def _work(self, take: Callable[[], Unit | None], do: Callable[[Unit], None]) -> None:
        try:
            while (unit := self._take(take)) is not None:
                try:
                    self._pause(unit.delay)
                    self._pacer.wait_turn()
                    if not self._halted():
                        do(unit)
                finally:
                    with self.lock:
                        self._busy -= 1
                        self.lock.notify_all()
        except BaseException as error:
            with self.lock:
                self._error = self._error or error
            self.stop()  # the other threads give up at once
