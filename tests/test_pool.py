"""The worker pool under a send and a fetch of links: pacing, queueing, stop, cancel, errors."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import dataclass

import pytest
from clocks import FakeClock, most_in_any_window

from seen_core.send.pool import Pacer, WorkerPool

# --- pacing ------------------------------------------------------------------------------------


def test_pacer_spaces_request_starts_by_the_rate() -> None:
    clock = FakeClock()
    pacer = Pacer(10.0, clock.sleep, clock=clock)
    starts = []
    for _ in range(4):
        pacer.wait_turn()
        starts.append(clock())
    assert [round(b - a, 6) for a, b in itertools.pairwise(starts)] == [0.1] * 3

    unpaced = FakeClock()
    pacer = Pacer(0, unpaced.sleep, clock=unpaced)
    for _ in range(4):
        pacer.wait_turn()
    assert unpaced() == 1000.0


def test_pacer_keeps_every_sliding_window_even_when_told_a_faster_rate() -> None:
    clock = FakeClock()
    pacer = Pacer(50.0, clock.sleep, ((100, 10.0), (1000, 3600.0)), clock=clock)
    starts = []
    for _ in range(1250):
        pacer.wait_turn()
        starts.append(clock())

    assert most_in_any_window(starts, 10.0) == 100
    assert most_in_any_window(starts, 3600.0) == 1000
    # 50 a second inside each window: the window, not an average rate, holds them back.
    assert starts[99] - starts[0] == pytest.approx(99 / 50)


def test_pacer_hold_makes_every_request_wait() -> None:
    clock = FakeClock()
    pacer = Pacer(0, clock.sleep, clock=clock)
    pacer.wait_turn()
    pacer.hold(5.0)
    pacer.wait_turn()
    assert clock() == pytest.approx(1005.0)


# --- the pool ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    name: str
    delay: float = 0.0


def _nothing_measured() -> tuple[int, int, dict[str, int]]:
    return 0, 0, {}


def _queue(*names: str) -> deque[Job]:
    return deque(Job(name) for name in names)


def _take(queue: deque[Job]):
    return lambda: queue.popleft() if queue else None


def test_work_queued_while_other_work_is_done_is_taken_before_the_pool_ends() -> None:
    queue = _queue("a", "b", "c", "d")
    done: list[str] = []
    pool: WorkerPool[Job] = WorkerPool(_nothing_measured, workers=4, rate=0)

    def do(job: Job) -> None:
        with pool.lock:
            done.append(job.name)
            if len(job.name) == 1:  # as a retry: once more, after the others
                queue.append(Job(job.name * 2))
                pool.lock.notify_all()

    pool.run(_take(queue), do)

    assert sorted(done) == ["a", "aa", "b", "bb", "c", "cc", "d", "dd"]
    assert not pool.halted


def test_units_start_no_faster_than_the_pace_across_every_thread() -> None:
    clock = FakeClock()
    starts: list[float] = []
    pool: WorkerPool[Job] = WorkerPool(
        _nothing_measured,
        workers=4,
        rate=50.0,
        windows=((10, 1.0),),
        sleep=clock.sleep,
        clock=clock,
    )

    def do(_job: Job) -> None:
        with pool.lock:
            starts.append(clock())

    pool.run(_take(_queue(*map(str, range(40)))), do)

    assert len(starts) == 40
    assert most_in_any_window(starts, 1.0) <= 10


@pytest.mark.parametrize("how", ["stop", "cancel"])
def test_a_stop_or_cancel_while_threads_wait_their_turn_starts_nothing_more(how: str) -> None:
    clock = FakeClock()
    cancel = threading.Event()
    done: list[str] = []

    def sleep(seconds: float) -> None:  # one thread waits its turn, and the pool is halted
        if how == "stop":
            pool.stop()
        else:
            cancel.set()
        clock.sleep(seconds)

    pool: WorkerPool[Job] = WorkerPool(
        _nothing_measured, workers=2, rate=1.0, cancel=cancel, sleep=sleep, clock=clock
    )
    pool.run(_take(_queue("a", "b", "c", "d")), lambda job: done.append(job.name))

    assert len(done) == 1  # the first to its turn went out, nobody after
    assert pool.halted
    assert pool.cancelled is (how == "cancel")


def test_a_units_own_delay_is_waited_before_its_turn() -> None:
    clock = FakeClock()
    done: list[tuple[str, float]] = []
    pool: WorkerPool[Job] = WorkerPool(
        _nothing_measured, workers=1, rate=0, sleep=clock.sleep, clock=clock
    )

    pool.run(
        _take(deque([Job("now"), Job("later", delay=30.0)])),
        lambda job: done.append((job.name, clock())),
    )

    assert done == [("now", 1000.0), ("later", 1030.0)]


def test_the_first_error_of_a_thread_halts_the_pool_and_reaches_the_caller() -> None:
    queue = _queue(*map(str, range(10)))
    done: list[str] = []

    def do(job: Job) -> None:
        if job.name == "3":
            raise RuntimeError("The journal could not be written.")
        done.append(job.name)

    pool: WorkerPool[Job] = WorkerPool(_nothing_measured, workers=1, rate=0)
    with pytest.raises(RuntimeError, match="journal could not be written"):
        pool.run(_take(queue), do)

    assert done == ["0", "1", "2"]
    assert pool.halted and not pool.cancelled


def test_progress_reports_the_owners_counts() -> None:
    counts = {"done": 0}
    seen: list[tuple[int, int, dict[str, int], str]] = []

    def measure() -> tuple[int, int, dict[str, int]]:
        return 3, counts["done"], dict(counts)

    pool: WorkerPool[Job] = WorkerPool(
        measure,
        workers=2,
        rate=0,
        on_progress=lambda p: seen.append((p.total, p.done, p.counts, p.message)),
    )

    def do(job: Job) -> None:
        with pool.lock:
            counts["done"] += 1
        pool.report(f"{job.name} done.")

    pool.run(_take(_queue("a", "b", "c")), do)
    pool.report("All done.")

    assert sorted(done for _, done, _, _ in seen) == [1, 2, 3, 3]
    assert seen[-1] == (3, 3, {"done": 3}, "All done.")
