"""Sends running in worker threads of the app's server process, found again after a reload.

A page never sends itself: a rerun, a second click or a closed tab must not send a row twice
or stop a send half-way. Each send runs in one daemon thread; starting a send that runs
already returns the running one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from seen_core import flow
from seen_core.send.sending import Progress, SendResult
from seen_core.store.journal import Journal

log = logging.getLogger(__name__)


@dataclass
class RunningSend:
    """A send running (or run) in a worker thread of this server process."""

    job_id: int
    user_id: str
    cancel: threading.Event = field(default_factory=threading.Event)
    progress: Progress | None = None
    result: SendResult | None = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    thread: threading.Thread | None = None

    @property
    def finished(self) -> bool:
        return self.result is not None or self.error is not None


@dataclass
class Preparing:
    """A send being planned in a worker thread (writing 50,000 rows to the journal takes a
    second or two), before it runs: the page shows its progress bar from the first moment.
    `total` is how many people it will send; `job_id` is set once it is planned, `error` when
    planning refused it (already sent, a configuration error)."""

    total: int
    thread: threading.Thread | None = None
    job_id: int | None = None
    error: Exception | None = None

    @property
    def busy(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


class SendRegistry:
    """Process-wide: send id → its running send; and sends being prepared, by draft."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sends: dict[int, RunningSend] = {}
        self._preparing: dict[str, Preparing] = {}

    def prepare(
        self, key: str, total: int, plan: Callable[[], int], start: Callable[[int], object]
    ) -> Preparing:
        """Plan a send in a worker thread (`plan` returns its id), then start it (`start`);
        one at a time per `key` (a draft): while one is prepared, it is the one returned."""
        with self._lock:
            now = self._preparing.get(key)
            if now is not None and now.busy:
                return now
            preparing = Preparing(total)
            self._preparing[key] = preparing

        def work() -> None:
            try:
                preparing.job_id = plan()
                start(preparing.job_id)
            except Exception as error:  # the page says it; the thread must not die silently
                preparing.error = error

        preparing.thread = threading.Thread(target=work, name="seen-plan", daemon=True)
        preparing.thread.start()
        return preparing

    def preparing(self, key: str) -> Preparing | None:
        """The send being prepared for `key` (or the last one prepared), else None."""
        with self._lock:
            return self._preparing.get(key)

    def forget_preparing(self, key: str, preparing: Preparing) -> None:
        """Forget a preparation once the page has seen how it ended."""
        with self._lock:
            if self._preparing.get(key) is preparing:
                del self._preparing[key]

    def get(self, job_id: int) -> RunningSend | None:
        with self._lock:
            return self._sends.get(job_id)

    def running(self, user_id: str | None = None) -> list[RunningSend]:
        """Sends still running (of one user, when given)."""
        with self._lock:
            return [
                s
                for s in self._sends.values()
                if not s.finished and (user_id is None or s.user_id == user_id)
            ]

    def start(
        self,
        journal: Journal,
        job_id: int,
        connection: flow.Connection,
        user_id: str,
        *,
        before: Callable[[], None] | None = None,
        on_done: Callable[[RunningSend], None] | None = None,
    ) -> RunningSend:
        """Send the journalled send in a daemon thread, unless it runs here already.

        `before` runs first in that thread (slow preparation the page need not wait for).
        """
        with self._lock:
            current = self._sends.get(job_id)
            if current is not None and not current.finished:
                return current
            send = RunningSend(job_id, user_id)
            self._sends[job_id] = send

        def work() -> None:
            try:
                if before is not None:
                    before()
                send.result = flow.send(
                    journal,
                    job_id,
                    connection,
                    on_progress=lambda p: setattr(send, "progress", p),
                    cancel=send.cancel,
                )
            except Exception as error:  # the page shows it; the thread must not die silently
                log.warning("Send #%s ended with %s", job_id, type(error).__name__)
                send.error = str(error) or type(error).__name__
            if on_done is not None:
                on_done(send)

        send.thread = threading.Thread(target=work, name=f"seen-send-{job_id}", daemon=True)
        send.thread.start()
        return send
