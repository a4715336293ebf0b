"""Send a journalled job to SEEN: requests, retries, stop, cancel and resume.

The same run serves every target: v1 campaigns get batches, 2.0 workspaces and projects one
person per request; the target says how a request is shaped and what its answer means, and the
pure `judge` (v1) and `judge_one` (2.0) turn each answer into outcomes and what to send next.
The request threads, their pacing and cancel are `pool.WorkerPool`'s; the batches, verdicts
and the journal are this module's. See docs/ARCHITECTURE.md for the send semantics.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace

from seen_core.errors import AlreadySent, InputError, NothingToResume, SendError
from seen_core.send.client import Answer, AnswerKind, SeenClient
from seen_core.send.pool import Progress, WorkerPool
from seen_core.send.targets import Target, label_of, target_from_key
from seen_core.store.journal import (
    CANCELLED,
    CREATED,
    FAILED,
    FINISHED,
    LOST_ANSWER_MESSAGE,
    NOT_SENT,
    READY,
    REJECTED,
    STOPPED,
    UNKNOWN,
    Claim,
    Journal,
    SendPlan,
)

__all__ = [
    "CREATED_EARLIER",
    "AlreadySent",
    "Batch",
    "NothingToResume",
    "Progress",
    "SendResult",
    "Verdict",
    "error_text",
    "judge",
    "judge_one",
    "plan_send",
    "run_job",
]

ALREADY_EXISTS = "A receiver with this ID already exists."
CREATED_EARLIER = "Created by an earlier attempt whose answer was lost."
TOKEN_REFUSED = "SEEN refused the token."
CANCELLED_BY_USER = "Cancelled by the user."
# 429s a batch may get before each further one counts as a failed attempt: waiting is what
# SEEN asks for, but a server that throttles forever must not hold the send forever.
THROTTLE_GRACE = 10
MAX_WAIT = 120.0  # longest single wait (Retry-After or back-off), in seconds
DONE_STATUSES = (CREATED, REJECTED, FAILED, UNKNOWN)


@dataclass(frozen=True)
class SendResult:
    job_id: int
    state: str  # "finished" | "stopped" | "cancelled"
    stop_reason: str
    counts: dict[str, int]
    outcomes: dict[int, tuple[str, str]]


# --- pure logic: one request and its answer → outcomes and what to send next -------------------


@dataclass(frozen=True)
class Batch:
    """Rows to send in one request, and what earlier requests taught us about them."""

    rows: tuple[int, ...]
    attempt: int = 1  # the number this request will have; failed attempts move it on
    throttled: int = 0  # 429s so far
    maybe_stored: frozenset[int] = frozenset()  # rows an earlier request may have stored
    delay: float = 0.0  # seconds to wait before sending
    confirm: bool = False  # 2.0: ask Retrieve whether SEEN holds the row before sending it again
    lookups: int = 0  # 2.0: Retrieves about the row that got no usable answer

    def part(self, rows: Iterable[int], **changes: object) -> Batch:
        rows = tuple(rows)
        kept = self.maybe_stored.intersection(rows)
        return replace(self, rows=rows, maybe_stored=frozenset(kept), **changes)


@dataclass(frozen=True)
class Verdict:
    """What one answer means: final outcomes, batches to send again, or a stop."""

    outcomes: dict[int, tuple[str, str]] = field(default_factory=dict)
    again: tuple[Batch, ...] = ()
    maybe_stored: frozenset[int] = frozenset()  # rows now known to be maybe stored
    stop: str = ""  # why the whole send must stop at once
    max_batch: int | None = None  # after a 413: later batches no larger than this


def error_text(errors: dict[str, list[str]]) -> str:
    """SEEN's errors for one receiver as one line: `email: Enter a valid email address.`"""
    parts = []
    for name, messages in errors.items():
        text = " ".join(messages)
        parts.append(text if name == "non_field_errors" else f"{name}: {text}")
    return "; ".join(parts)


def _only_already_exists(errors: dict[str, list[str]]) -> bool:
    messages = [m for ms in errors.values() for m in ms]
    return bool(messages) and all(m.strip() == ALREADY_EXISTS for m in messages)


def _halves(batch: Batch) -> tuple[Batch, Batch]:
    middle = (len(batch.rows) + 1) // 2
    return batch.part(batch.rows[:middle]), batch.part(batch.rows[middle:])


def full_jitter(base: float, cap: float = MAX_WAIT) -> Callable[[int], float]:
    """Exponential back-off with full jitter: a random wait in [0, base·2^(n-1)], capped."""

    def wait_for(attempt: int) -> float:
        return random.uniform(0.0, min(cap, base * 2 ** max(0, attempt - 1)))

    return wait_for


def judge(
    batch: Batch,
    answer: Answer,
    *,
    campaign: str | Target,
    with_customer_id: Collection[int],
    max_attempts: int,
    backoff: Callable[[int], float],
) -> Verdict:
    """v1: turn one batch's answer into row outcomes and the batches to send again."""
    kind = answer.kind
    rows = batch.rows
    if kind is AnswerKind.CREATED:
        return Verdict(outcomes={row: (CREATED, "") for row in rows})

    if kind is AnswerKind.TOKEN_REFUSED:
        return Verdict(stop=TOKEN_REFUSED)
    if kind is AnswerKind.TARGET_NOT_FOUND:
        target = campaign if isinstance(campaign, Target) else target_from_key(campaign)
        return Verdict(stop=target.not_found)

    if kind is AnswerKind.REJECTED and answer.errors and len(answer.errors) == len(rows):
        outcomes: dict[int, tuple[str, str]] = {}
        clean: list[int] = []
        for row, errors in zip(rows, answer.errors, strict=True):
            if not errors:
                clean.append(row)  # nothing of a 400 is stored: this one must go again
            elif row in batch.maybe_stored and _only_already_exists(errors):
                outcomes[row] = (CREATED, CREATED_EARLIER)
            else:
                outcomes[row] = (REJECTED, error_text(errors))
        if outcomes:
            again = (batch.part(clean, delay=0.0),) if clean else ()
            return Verdict(outcomes=outcomes, again=again)
        # A 400 naming no receiver: nothing to learn from it, so treat it as a failure.
        return _failed_attempt(batch, answer, max_attempts, backoff)

    if kind in (AnswerKind.BAD_REQUEST, AnswerKind.REJECTED, AnswerKind.TOO_LARGE):
        # The whole request was refused: find the receivers at fault by halving, and only a
        # receiver refused on its own is rejected.
        if len(rows) > 1:
            first, second = _halves(batch)
            too_large = kind is AnswerKind.TOO_LARGE
            return Verdict(again=(first, second), max_batch=len(first.rows) if too_large else None)
        if kind is AnswerKind.TOO_LARGE:
            return Verdict(outcomes={rows[0]: (REJECTED, "SEEN found this receiver too large.")})
        return Verdict(outcomes={rows[0]: (REJECTED, answer.message)})

    if kind is AnswerKind.THROTTLED and batch.throttled < THROTTLE_GRACE:
        return Verdict(again=(_after_throttle(batch, answer, backoff),))

    if kind is AnswerKind.UNEXPECTED and not answer.maybe_stored:
        # 415, 3xx and the like do not change on a retry.
        return Verdict(outcomes={row: (FAILED, answer.message) for row in rows})

    # 5xx, no answer, endless 429: try again later. When the request may have been stored,
    # a receiver without customer_id cannot be sent again safely (SEEN would not recognise a
    # duplicate), while one with it can: "already exists" then proves it was created.
    outcomes = {}
    maybe: frozenset[int] = frozenset()
    remaining = list(rows)
    if answer.maybe_stored:
        outcomes = {
            row: (UNKNOWN, LOST_ANSWER_MESSAGE) for row in rows if row not in with_customer_id
        }
        remaining = [row for row in rows if row in with_customer_id]
        maybe = frozenset(remaining)
    if not remaining:
        return Verdict(outcomes=outcomes)
    rest = batch.part(remaining)
    rest = replace(rest, maybe_stored=rest.maybe_stored | maybe)
    verdict = _failed_attempt(rest, answer, max_attempts, backoff)
    return replace(verdict, outcomes={**outcomes, **verdict.outcomes}, maybe_stored=maybe)


def judge_one(
    batch: Batch,
    answer: Answer,
    *,
    target: Target,
    max_attempts: int,
    backoff: Callable[[int], float],
) -> Verdict:
    """2.0: turn the answer about one person — to a create, or to a Retrieve when `batch.confirm`
    — into their outcome or the next request about them.

    A lost answer is never guessed at: Retrieve asks SEEN whether it holds the person (found:
    created; absent: send again), so the row ends `unknown` only when Retrieve cannot answer.
    """
    (row,) = batch.rows
    kind = answer.kind
    if kind is AnswerKind.TOKEN_REFUSED:
        return Verdict(stop=TOKEN_REFUSED)
    if kind is AnswerKind.THROTTLED and batch.throttled < THROTTLE_GRACE:
        return Verdict(again=(_after_throttle(batch, answer, backoff),))

    if batch.confirm:
        if kind is AnswerKind.FOUND:
            return Verdict(outcomes={row: (CREATED, CREATED_EARLIER)})
        if kind is AnswerKind.ABSENT:
            if batch.attempt > max_attempts:
                message = f"Gave up after {max_attempts} attempts; SEEN did not store this person."
                return Verdict(outcomes={row: (FAILED, message)})
            # Known not stored: an ordinary send again, with nothing left to confirm.
            return Verdict(again=(replace(batch, confirm=False, maybe_stored=frozenset()),))
        lookups = batch.lookups + 1
        if lookups >= max_attempts:
            message = (
                f"SEEN could not say in {lookups} attempts whether it holds this person "
                f"({answer.message.rstrip('.')}); look them up in SEEN."
            )
            return Verdict(outcomes={row: (UNKNOWN, message)})
        delay = min(MAX_WAIT, backoff(lookups))
        return Verdict(again=(replace(batch, lookups=lookups, delay=delay),))

    if kind is AnswerKind.CREATED:
        return Verdict(outcomes={row: (CREATED, "")})
    if kind is AnswerKind.TARGET_NOT_FOUND:
        return Verdict(stop=target.not_found)
    if kind in (AnswerKind.REJECTED, AnswerKind.BAD_REQUEST, AnswerKind.TOO_LARGE):
        return Verdict(outcomes={row: (REJECTED, answer.message)})
    if answer.maybe_stored:
        # Ask before sending again; the failed create counts as an attempt.
        delay = min(MAX_WAIT, backoff(batch.attempt))
        confirm = replace(
            batch,
            attempt=batch.attempt + 1,
            delay=delay,
            confirm=True,
            maybe_stored=frozenset({row}),
        )
        return Verdict(again=(confirm,), maybe_stored=frozenset({row}))
    if kind is AnswerKind.UNEXPECTED:
        return Verdict(outcomes={row: (FAILED, answer.message)})
    # 503, a connection that never opened, endless 429: nothing was stored; try again later.
    return _failed_attempt(batch, answer, max_attempts, backoff)


def _after_throttle(batch: Batch, answer: Answer, backoff: Callable[[int], float]) -> Batch:
    wait_s = answer.retry_after if answer.retry_after is not None else backoff(batch.attempt)
    return replace(batch, throttled=batch.throttled + 1, delay=min(MAX_WAIT, wait_s))


def _failed_attempt(
    batch: Batch, answer: Answer, max_attempts: int, backoff: Callable[[int], float]
) -> Verdict:
    if batch.attempt >= max_attempts:
        message = f"Gave up after {batch.attempt} attempts: {answer.message}"
        # A row an earlier attempt may have stored is not known to have failed.
        maybe = (
            f"No usable answer from SEEN in {batch.attempt} attempts; "
            "check whether this receiver was created."
        )
        return Verdict(
            outcomes={
                row: (UNKNOWN, maybe) if row in batch.maybe_stored else (FAILED, message)
                for row in batch.rows
            }
        )
    delay = min(MAX_WAIT, backoff(batch.attempt))
    return Verdict(again=(replace(batch, attempt=batch.attempt + 1, delay=delay),))


# --- planning ------------------------------------------------------------------------------------


def plan_send(
    journal: Journal,
    *,
    file_name: str,
    file_sha256: str,
    campaign: str | Target,
    target: str,
    batch_size: int,
    receivers: list[tuple[int, dict]],
    invalid: dict[int, str],
    resume: bool = False,
    force: bool = False,
    user_id: str = "",
    draft_id: str | None = None,
) -> int:
    """The job to run: the unfinished one (resume), else a new one unless this was sent.

    `campaign` is the target's key (a v1 slug, `workspace/<id>`, `project/<id>`) or the target;
    `target` the base URL (or `sandbox`); `receivers` the v1 payloads `receivers.payload` makes,
    shaped here for the target and journalled exactly as they will be sent. One journal
    transaction decides and creates (see `Journal.plan_job`).
    """
    where = campaign if isinstance(campaign, Target) else target_from_key(campaign)
    shaped = [(row, where.shape(payload)) for row, payload in receivers]
    if where.confirms_by_retrieve:
        missing = [row for row, payload in shaped if where.person_id(payload) is None]
        if missing:
            raise InputError(
                f"Row {missing[0]} has no customer ID, which SEEN API 2.0 needs as the "
                f"person's id ({len(missing)} rows without one)."
            )
    plan = SendPlan(
        file_name, file_sha256, where.key, target, batch_size, shaped, invalid, user_id, draft_id
    )
    job_id = journal.plan_job(plan, resume=resume, force=force)
    if where.confirms_by_retrieve:
        # The journal marks rows with a customer_id as safe to send again after a lost
        # answer; a 2.0 row carries it as `id`.
        journal.mark_identified(job_id)
    return job_id


# --- running -------------------------------------------------------------------------------------


def _count_done(counts: dict[str, int]) -> int:
    return sum(counts[status] for status in DONE_STATUSES)


def _total(counts: dict[str, int]) -> int:
    return _count_done(counts) + counts[READY] + counts[NOT_SENT]


def run_job(
    journal: Journal,
    job_id: int,
    client: SeenClient,
    campaign: str | Target,
    *,
    rate: float | None = None,
    windows: Sequence[tuple[int, float]] | None = None,
    max_in_flight: int = 4,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    max_attempts: int = 6,
    backoff: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> SendResult:
    """Send every row of the job still to send; safe to call again after any interruption.

    `campaign` is the job's target key (or the target). Pacing defaults to the target's own
    (`Target.pacing`): `rate` requests per second (0: as fast as SEEN answers) and `windows` of
    (requests, seconds) never to exceed; `()` lifts the windows.
    """
    target = campaign if isinstance(campaign, Target) else target_from_key(campaign)
    job = journal.job(job_id)
    if job.campaign != target.key:
        raise SendError(f"Send #{job_id} went to {label_of(job.campaign)}, not {target.label}.")
    if target.confirms_by_retrieve:
        journal.mark_identified(job_id)  # a job planned before it knew: every 2.0 row has an id
    claim = journal.claim(job_id)  # raises JobBusy when someone else is sending it
    state, stop_reason = STOPPED, "Sending was interrupted before it finished."
    try:
        journal.recover(claim)
        run = _Run(
            journal,
            claim,
            client,
            target,
            batch_size=job.batch_size,
            max_attempts=max(1, max_attempts),
            backoff=full_jitter(backoff),
        )
        pool: WorkerPool[Batch] = WorkerPool(
            run.measure,
            workers=max_in_flight,
            rate=target.pacing.rate if rate is None else rate,
            windows=target.pacing.windows if windows is None else tuple(windows),
            cancel=cancel,
            on_progress=on_progress,
            sleep=sleep,
            clock=clock,
            name="seen-send",
        )
        state, stop_reason = run.run(pool)
    finally:
        journal.release(claim, state, stop_reason)
    return SendResult(
        job_id=job_id,
        state=state,
        stop_reason=stop_reason,
        counts=journal.counts(job_id),
        outcomes=journal.outcomes(job_id),
    )


class _Run:
    """One run of a claimed job: the pool's request threads each take the next batch, send it
    and settle its answer, so no hand-off through another thread slows each request."""

    def __init__(
        self,
        journal: Journal,
        claim: Claim,
        client: SeenClient,
        target: Target,
        *,
        batch_size: int,
        max_attempts: int,
        backoff: Callable[[int], float],
    ) -> None:
        self.journal = journal
        self.claim = claim
        self.client = client
        self.target = target
        self.batch_size = max(1, min(batch_size, target.max_batch))
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.stop_reason = ""
        # The queues, counts and stop reason below are guarded by the pool's lock.
        self.pool: WorkerPool[Batch]

        sendable = journal.sendable(claim.job_id)
        self.with_customer_id = frozenset(s.row for s in sendable if s.has_customer_id)
        self.maybe_stored = frozenset(s.row for s in sendable if s.maybe_stored)
        self.fresh: deque[int] = deque(s.row for s in sendable)  # never sent in this run
        self.again: deque[Batch] = deque()  # sent before in this run; they go first
        self.counts = journal.counts(claim.job_id)

    def measure(self) -> tuple[int, int, dict[str, int]]:
        """Rows to send in all, rows done, counts by status: the progress."""
        counts = dict(self.counts)
        return _total(counts), _count_done(counts), counts

    def _next_batch(self) -> Batch | None:
        if self.again:
            return self.again.popleft()
        if not self.fresh:
            return None
        rows = [self.fresh.popleft() for _ in range(min(self.batch_size, len(self.fresh)))]
        maybe = self.maybe_stored.intersection(rows)
        # 2.0: a row an earlier run may have stored is looked up before it is sent again.
        confirm = bool(maybe and self.target.confirms_by_retrieve)
        return Batch(tuple(rows), maybe_stored=maybe, confirm=confirm)

    def run(self, pool: WorkerPool[Batch]) -> tuple[str, str]:
        self.pool = pool
        pool.report("Sending started.")
        pool.run(self._next_batch, self._send)
        # Whatever was not sent stays resumable as `not_sent`.
        left = self.journal.mark_not_sent(self.claim)
        self.counts = self.journal.counts(self.claim.job_id)
        stop_reason = self.stop_reason
        if stop_reason:
            state = STOPPED
        elif self.pool.cancelled and left:
            state, stop_reason = CANCELLED, CANCELLED_BY_USER
        else:
            state = FINISHED
        self.pool.report(stop_reason or "Sending finished.")
        return state, stop_reason

    def _send(self, batch: Batch) -> None:
        """Journal the batch, send it and settle its answer (the pool gave it its turn)."""
        # v1: the mark must be on disk before the request leaves, or a crash could send a row
        # twice. 2.0: a mark lost to a power cut only means the person is sent again: stored
        # once, since the same id is the same person.
        batch_id = self.journal.mark_in_flight(
            self.claim, batch.rows, batch.attempt, durable=not self.target.same_id_same_person
        )
        # Each person's JSON as the journal keeps it: never decoded and encoded again on the
        # way out.
        texts = self.journal.payload_json(self.claim.job_id, batch.rows)
        try:
            if batch.confirm:
                person_id = self.target.person_id(json.loads(texts[0])) or ""
                answer = self.client.retrieve(self.target, person_id)
            else:
                answer = self.client.create(self.target, self.target.body(texts), len(batch.rows))
        except ValueError as exc:
            # Refused before anything went out: as SEEN's own refusal of the whole request.
            answer = Answer(AnswerKind.BAD_REQUEST, None, None, str(exc))
        self._settle(batch, batch_id, answer)

    def _judge(self, batch: Batch, answer: Answer) -> Verdict:
        if self.target.max_batch == 1:
            return judge_one(
                batch,
                answer,
                target=self.target,
                max_attempts=self.max_attempts,
                backoff=self.backoff,
            )
        return judge(
            batch,
            answer,
            campaign=self.target,
            with_customer_id=self.with_customer_id,
            max_attempts=self.max_attempts,
            backoff=self.backoff,
        )

    def _settle(self, batch: Batch, batch_id: int, answer: Answer) -> None:
        """Record one answer, queue what must go again, and stop the send if SEEN said so."""
        verdict = self._judge(batch, answer)
        if answer.kind is AnswerKind.THROTTLED and verdict.again:
            # Every request thread waits, not only this one: SEEN counts them all.
            self.pool.hold(verdict.again[0].delay)
        self.journal.record_answer(
            self.claim,
            batch_id,
            answer=str(answer.kind),
            http_status=answer.status,
            outcomes=verdict.outcomes,
            maybe_stored=verdict.maybe_stored,
        )
        with self.pool.lock:
            for status, _message in verdict.outcomes.values():
                self.counts[status] += 1
                self.counts[READY] -= 1
            if verdict.stop and not self.stop_reason:
                self.stop_reason = verdict.stop
                self.pool.stop()
            if not self.pool.halted:
                # Retries go before fresh rows, in file order, to keep the send in file order.
                self.again.extendleft(reversed(verdict.again))
            if verdict.max_batch is not None and verdict.max_batch < self.batch_size:
                # SEEN refused a batch this size: queued batches as large would meet a 413 too.
                self.batch_size = max(1, verdict.max_batch)
                queued = list(self.again)
                self.again.clear()
                for queued_batch in queued:
                    rows = queued_batch.rows
                    for start in range(0, len(rows), self.batch_size):
                        self.again.append(queued_batch.part(rows[start : start + self.batch_size]))
            self.pool.lock.notify_all()
        self.pool.report(verdict.stop or answer.message)
