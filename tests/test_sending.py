"""Sending: the outcome logic on its own, then real HTTP against the sandbox on 127.0.0.1."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
import xlsxwriter
from clocks import FakeClock, most_in_any_window

from seen_core.check.checks import CheckOptions, check_sheet
from seen_core.check.mapping import Mapping, suggest
from seen_core.check.receivers import payloads
from seen_core.errors import InputError
from seen_core.read.sheets import read_sheet
from seen_core.sandbox import DEFAULT_TOKEN, Sandbox
from seen_core.send.client import Answer, AnswerKind, Request, Response, SeenClient
from seen_core.send.sending import (
    CREATED_EARLIER,
    THROTTLE_GRACE,
    AlreadySent,
    Batch,
    NothingToResume,
    Progress,
    SendResult,
    error_text,
    judge,
    judge_one,
    plan_send,
    run_job,
)
from seen_core.send.targets import Project, Workspace
from seen_core.store.journal import LOST_ANSWER_MESSAGE, JobBusy, Journal, SendPlan

CAMPAIGN = "spring-campaign"
EXISTS = "A receiver with this ID already exists."
REPO = Path(__file__).resolve().parent.parent


# --- the pure outcome logic --------------------------------------------------------------------


def _judge(batch: Batch, answer: Answer, *, with_customer_id=(), max_attempts: int = 3):
    return judge(
        batch,
        answer,
        campaign=CAMPAIGN,
        with_customer_id=frozenset(with_customer_id),
        max_attempts=max_attempts,
        backoff=lambda attempt: float(attempt),  # deterministic stand-in for the jitter
    )


def _answer(kind: AnswerKind, status: int | None = None, **fields: object) -> Answer:
    return Answer(kind, status, fields.pop("errors", None), fields.pop("message", "m"), **fields)


def test_created_marks_every_row_created() -> None:
    verdict = _judge(Batch((2, 3)), _answer(AnswerKind.CREATED, 201))
    assert verdict.outcomes == {2: ("created", ""), 3: ("created", "")}
    assert verdict.again == ()


def test_rejected_batch_resends_clean_rows_and_rejects_the_bad_one() -> None:
    errors = [{}, {"email": ["Enter a valid email address."]}, {}]
    verdict = _judge(Batch((2, 3, 4)), _answer(AnswerKind.REJECTED, 400, errors=errors))
    assert verdict.outcomes == {3: ("rejected", "email: Enter a valid email address.")}
    assert [b.rows for b in verdict.again] == [(2, 4)]


def test_already_exists_counts_created_only_when_an_earlier_request_may_have_stored_it() -> None:
    errors = [{"customer_id": [EXISTS]}, {"customer_id": [EXISTS]}]
    batch = Batch((2, 3), maybe_stored=frozenset({2}))
    verdict = _judge(batch, _answer(AnswerKind.REJECTED, 400, errors=errors))
    assert verdict.outcomes == {
        2: ("created", CREATED_EARLIER),
        3: ("rejected", f"customer_id: {EXISTS}"),  # a duplicate from some other send
    }


def test_error_text_joins_fields_and_leaves_non_field_errors_bare() -> None:
    errors = {"email": ["Enter a valid email address."], "non_field_errors": ["Bad.", "Worse."]}
    assert error_text(errors) == "email: Enter a valid email address.; Bad. Worse."


def test_bad_request_splits_down_to_a_single_row_before_rejecting() -> None:
    answer = _answer(AnswerKind.BAD_REQUEST, 400, message="SEEN refused the whole request: x")
    verdict = _judge(Batch((2, 3, 4)), answer)
    assert verdict.outcomes == {}
    assert [b.rows for b in verdict.again] == [(2, 3), (4,)]
    single = _judge(Batch((4,)), answer)
    assert single.outcomes == {4: ("rejected", "SEEN refused the whole request: x")}


def test_too_large_halves_the_batch_and_lowers_the_batch_size() -> None:
    verdict = _judge(Batch((2, 3, 4, 5)), _answer(AnswerKind.TOO_LARGE, 413))
    assert [b.rows for b in verdict.again] == [(2, 3), (4, 5)]
    assert verdict.max_batch == 2


@pytest.mark.parametrize(
    ("kind", "stop"),
    [
        (AnswerKind.TOKEN_REFUSED, "SEEN refused the token."),
        (AnswerKind.CAMPAIGN_NOT_FOUND, f"Campaign '{CAMPAIGN}' was not found."),
    ],
)
def test_token_refused_and_unknown_campaign_stop_the_send(kind: AnswerKind, stop: str) -> None:
    verdict = _judge(Batch((2, 3)), _answer(kind, 401))
    assert verdict.stop == stop
    assert verdict.outcomes == {}
    assert verdict.again == ()


def test_throttled_waits_retry_after_and_does_not_use_up_an_attempt() -> None:
    verdict = _judge(Batch((2, 3)), _answer(AnswerKind.THROTTLED, 429, retry_after=7.0))
    (again,) = verdict.again
    assert (again.rows, again.attempt, again.throttled, again.delay) == ((2, 3), 1, 1, 7.0)

    endless = Batch((2,), attempt=3, throttled=THROTTLE_GRACE)
    verdict = _judge(endless, _answer(AnswerKind.THROTTLED, 429, retry_after=7.0))
    assert verdict.outcomes[2][0] == "failed"


def test_server_error_retries_with_backoff_then_fails() -> None:
    answer = _answer(AnswerKind.SERVER_ERROR, 503, message="SEEN had a server error (HTTP 503).")
    verdict = _judge(Batch((2, 3)), answer)
    (again,) = verdict.again
    assert (again.rows, again.attempt, again.delay) == ((2, 3), 2, 1.0)

    verdict = _judge(Batch((2, 3), attempt=3), answer)
    assert verdict.outcomes == {
        2: ("failed", "Gave up after 3 attempts: SEEN had a server error (HTTP 503)."),
        3: ("failed", "Gave up after 3 attempts: SEEN had a server error (HTTP 503)."),
    }


def test_giving_up_on_rows_seen_may_have_stored_leaves_them_unknown_not_failed() -> None:
    answer = _answer(AnswerKind.SERVER_ERROR, 500, maybe_stored=True, message="HTTP 500.")
    verdict = _judge(
        Batch((2, 3), attempt=3, maybe_stored=frozenset({2})), answer, with_customer_id={2, 3}
    )
    assert verdict.outcomes[2][0] == "unknown"
    assert verdict.outcomes[3][0] == "unknown"  # this attempt may have stored it too

    plain = _answer(AnswerKind.SERVER_ERROR, 503, message="HTTP 503.")
    verdict = _judge(Batch((2, 3), attempt=3, maybe_stored=frozenset({2})), plain)
    assert verdict.outcomes == {
        2: ("unknown", "No usable answer from SEEN in 3 attempts; check whether this "
            "receiver was created."),
        3: ("failed", "Gave up after 3 attempts: HTTP 503."),
    }  # fmt: skip


def test_lost_answer_makes_rows_without_customer_id_unknown_and_retries_the_others_apart() -> None:
    answer = _answer(AnswerKind.NO_ANSWER, maybe_stored=True)
    verdict = _judge(Batch((2, 3, 4)), answer, with_customer_id={2, 4})
    assert verdict.outcomes == {3: ("unknown", LOST_ANSWER_MESSAGE)}
    (again,) = verdict.again
    assert again.rows == (2, 4)
    assert again.maybe_stored == {2, 4}
    assert verdict.maybe_stored == {2, 4}


def test_lost_answer_that_was_surely_not_stored_retries_every_row() -> None:
    verdict = _judge(Batch((2, 3)), _answer(AnswerKind.NO_ANSWER), with_customer_id={2})
    assert verdict.outcomes == {}
    assert verdict.again[0].rows == (2, 3)


def test_unexpected_answer_fails_at_once_unless_it_may_have_stored() -> None:
    verdict = _judge(Batch((2,)), _answer(AnswerKind.UNEXPECTED, 415, message="HTTP 415"))
    assert verdict.outcomes == {2: ("failed", "HTTP 415")}
    verdict = _judge(
        Batch((2, 3)), _answer(AnswerKind.UNEXPECTED, 200, maybe_stored=True), with_customer_id={2}
    )
    assert verdict.outcomes == {3: ("unknown", LOST_ANSWER_MESSAGE)}
    assert verdict.again[0].rows == (2,)


# --- against the sandbox -----------------------------------------------------------------------


def _people(rows: range, *, without_customer_id: set[int] = frozenset()) -> list[tuple[int, dict]]:
    people = []
    for row in rows:
        payload = {"first_name": f"Person{row}", "email": f"p{row}@example.com"}
        if row not in without_customer_id:
            payload["customer_id"] = f"c{row}"
        people.append((row, payload))
    return people


def _no_wait(_seconds: float) -> None:
    pass


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    with Journal(tmp_path / "journal.sqlite3") as opened:
        yield opened


def _send(
    journal: Journal,
    sandbox: Sandbox,
    people: list[tuple[int, dict]],
    *,
    batch_size: int = 10,
    token: str = DEFAULT_TOKEN,
    campaign: str = CAMPAIGN,
    invalid: dict[int, str] | None = None,
    read_timeout: float = 2.0,
    **options: object,
) -> SendResult:
    job_id = plan_send(
        journal,
        file_name="people.xlsx",
        file_sha256="f" * 64,
        campaign=campaign,
        target="sandbox",
        batch_size=batch_size,
        receivers=people,
        invalid=invalid or {},
        force=True,
    )
    options = {"rate": 0, "sleep": _no_wait, "backoff": 0.01, **options}
    with SeenClient(sandbox.url, token, read_timeout=read_timeout) as client:
        return run_job(journal, job_id, client, campaign, **options)


def _stored_names(sandbox: Sandbox, campaign: str = CAMPAIGN) -> Counter[str]:
    return Counter(receiver["first_name"] for receiver in sandbox.received(campaign))


def test_one_bad_receiver_is_rejected_with_seens_message_and_the_others_stored(
    journal: Journal, sandbox: Sandbox
) -> None:
    people = _people(range(2, 7))
    people[2][1]["email"] = "not-an-address"

    result = _send(journal, sandbox, people)

    assert result.state == "finished"
    assert result.outcomes[4] == ("rejected", "email: Enter a valid email address.")
    assert {row: s for row, (s, _) in result.outcomes.items() if row != 4} == dict.fromkeys(
        [2, 3, 5, 6], "created"
    )
    assert _stored_names(sandbox) == Counter(["Person2", "Person3", "Person5", "Person6"])


def test_invalid_rows_are_kept_and_never_sent(journal: Journal, sandbox: Sandbox) -> None:
    result = _send(journal, sandbox, _people(range(2, 4)), invalid={4: "No first name."})
    assert result.outcomes[4] == ("invalid", "No first name.")
    assert result.counts["created"] == 2
    assert len(sandbox.received(CAMPAIGN)) == 2


@pytest.mark.parametrize("fault", ["503", "500", "drop_before", "drop_after", "timeout_after"])
def test_failed_request_is_retried_and_every_receiver_stored_once(
    journal: Journal, fault: str
) -> None:
    with Sandbox(campaigns={CAMPAIGN}, hang_seconds=1.0) as sandbox:
        sandbox.inject(fault, fault)

        result = _send(
            journal,
            sandbox,
            _people(range(2, 12)),
            batch_size=5,
            max_in_flight=1,
            read_timeout=0.3,  # below hang_seconds, so timeout_after is a read timeout
        )

        assert result.state == "finished"
        assert set(s for s, _ in result.outcomes.values()) == {"created"}
        assert _stored_names(sandbox) == Counter(f"Person{row}" for row in range(2, 12))
        assert len(sandbox.requests_log) > 2  # the faults were really met


def test_throttled_send_waits_and_stores_each_receiver_once(journal: Journal) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    with Sandbox(campaigns={CAMPAIGN}, rate_limit=(2, 1.0)) as sandbox:
        result = _send(journal, sandbox, _people(range(2, 8)), batch_size=2, sleep=sleep)

        assert result.counts["created"] == 6
        assert 429 in [status for _, _, status in sandbox.requests_log]
        assert max(waits) >= 1.0  # SEEN's Retry-After was honoured
        assert _stored_names(sandbox) == Counter(f"Person{row}" for row in range(2, 8))


def test_lost_answer_without_customer_id_is_unknown_and_not_sent_again(
    journal: Journal, sandbox: Sandbox
) -> None:
    sandbox.inject("drop_after")
    people = _people(range(2, 6), without_customer_id={3, 5})

    result = _send(journal, sandbox, people, max_in_flight=1)

    assert result.outcomes == {
        2: ("created", CREATED_EARLIER),
        3: ("unknown", LOST_ANSWER_MESSAGE),
        4: ("created", CREATED_EARLIER),
        5: ("unknown", LOST_ANSWER_MESSAGE),
    }
    assert _stored_names(sandbox) == Counter(f"Person{row}" for row in range(2, 6))
    # The retry carried only the receivers SEEN can recognise.
    assert [n for _, n, _ in sandbox.requests_log] == [4, 2]


def test_bad_token_stops_at_once_and_nothing_is_stored(journal: Journal, sandbox: Sandbox) -> None:
    result = _send(journal, sandbox, _people(range(2, 32)), batch_size=3, token="wrong-token")

    assert (result.state, result.stop_reason) == ("stopped", "SEEN refused the token.")
    assert set(s for s, _ in result.outcomes.values()) == {"not_sent"}
    assert sandbox.received(CAMPAIGN) == []
    assert len(sandbox.requests_log) <= 4  # only what was already in flight


def test_unknown_campaign_stops_at_once_and_nothing_is_stored(
    journal: Journal, sandbox: Sandbox
) -> None:
    result = _send(journal, sandbox, _people(range(2, 32)), batch_size=3, campaign="autumn")

    assert (result.state, result.stop_reason) == ("stopped", "Campaign 'autumn' was not found.")
    assert result.counts["not_sent"] == 30
    assert sandbox.campaigns() == {CAMPAIGN: 0}
    assert len(sandbox.requests_log) <= 4


def test_too_large_batches_are_halved_until_seen_takes_them(journal: Journal) -> None:
    with Sandbox(campaigns={CAMPAIGN}, max_batch=3) as sandbox:
        result = _send(journal, sandbox, _people(range(2, 22)), batch_size=8, max_in_flight=1)

        assert result.counts["created"] == 20
        assert _stored_names(sandbox) == Counter(f"Person{row}" for row in range(2, 22))
        sizes = [n for _, n, status in sandbox.requests_log if status == 201]
        assert max(sizes) <= 3
        # Once SEEN refused 8, later batches start smaller instead of meeting 413 again.
        assert sum(1 for *_, status in sandbox.requests_log if status == 413) <= 2


def test_progress_is_reported_after_every_answer(journal: Journal, sandbox: Sandbox) -> None:
    seen: list[Progress] = []
    _send(journal, sandbox, _people(range(2, 12)), batch_size=2, on_progress=seen.append)

    assert len(seen) >= 5 + 1
    assert seen[-1].done == seen[-1].total == 10
    assert seen[-1].counts["created"] == 10
    assert [p.done for p in seen] == sorted(p.done for p in seen)


def test_cancel_stops_after_the_request_in_flight_and_resume_sends_the_rest_once(
    journal: Journal, sandbox: Sandbox
) -> None:
    cancel = threading.Event()

    def on_progress(progress: Progress) -> None:
        if progress.done >= 2:
            cancel.set()

    people = _people(range(2, 22))
    result = _send(
        journal,
        sandbox,
        people,
        batch_size=2,
        max_in_flight=1,
        cancel=cancel,
        on_progress=on_progress,
    )

    assert result.state == "cancelled"
    assert 0 < result.counts["created"] < 20
    assert result.counts["not_sent"] == 20 - result.counts["created"]
    assert journal.job(result.job_id).state == "cancelled"

    job_id = plan_send(
        journal,
        file_name="people.xlsx",
        file_sha256="f" * 64,
        campaign=CAMPAIGN,
        target="sandbox",
        batch_size=2,
        receivers=people,
        invalid={},
        resume=True,
    )
    assert job_id == result.job_id
    with SeenClient(sandbox.url, DEFAULT_TOKEN) as client:
        resumed = run_job(journal, job_id, client, CAMPAIGN, rate=0, sleep=_no_wait)

    assert resumed.state == "finished"
    assert resumed.counts["created"] == 20
    assert _stored_names(sandbox) == Counter(f"Person{row}" for row in range(2, 22))


def test_plan_send_refuses_a_second_send_unless_forced_and_resume_continues(
    journal: Journal,
) -> None:
    spec = {
        "file_name": "people.xlsx",
        "file_sha256": "e" * 64,
        "campaign": CAMPAIGN,
        "target": "sandbox",
        "batch_size": 10,
        "receivers": _people(range(2, 4)),
        "invalid": {},
    }
    with pytest.raises(NothingToResume):
        plan_send(journal, **spec, resume=True)
    first = plan_send(journal, **spec)
    # Nothing of it has reached SEEN yet: planning again carries on with the same send.
    assert plan_send(journal, **spec) == first
    claim = journal.claim(first)
    journal.mark_in_flight(claim, [2], attempt=1)
    journal.release(claim, "stopped", "Killed.")

    with pytest.raises(AlreadySent) as refused:
        plan_send(journal, **spec)
    assert refused.value.job.id == first
    assert "people.xlsx was already sent" in str(refused.value)
    assert plan_send(journal, **spec, resume=True) == first
    # Another campaign or target is another send.
    assert plan_send(journal, **{**spec, "target": "seen"}) != first

    forced = plan_send(journal, **spec, force=True)
    assert forced != first
    journal.release(journal.claim(forced), "finished")
    journal.release(journal.claim(first), "finished")
    with pytest.raises(NothingToResume):
        plan_send(journal, **spec, resume=True)


class _BlockingClient:
    """Holds its first request until released, so a run is surely in progress."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def create(self, target: object, body: bytes, count: int) -> Answer:
        self.entered.set()
        self.release.wait(10)
        return Answer(AnswerKind.CREATED, 201, None, "created")


def test_a_send_stopped_by_a_refused_token_is_carried_on_by_the_next_send(
    journal: Journal, sandbox
) -> None:
    spec = {
        "file_name": "people.xlsx",
        "file_sha256": "f" * 64,
        "campaign": CAMPAIGN,
        "target": sandbox.url,
        "batch_size": 10,
        "receivers": _people(range(2, 6)),
        "invalid": {},
    }
    first = plan_send(journal, **spec)
    with SeenClient(sandbox.url, "wrong-token") as client:
        assert run_job(journal, first, client, CAMPAIGN, rate=0).state == "stopped"

    again = plan_send(journal, **spec)
    assert again == first
    with SeenClient(sandbox.url, DEFAULT_TOKEN) as client:
        assert run_job(journal, again, client, CAMPAIGN, rate=0).counts["created"] == 4
    with pytest.raises(AlreadySent):
        plan_send(journal, **spec)


def test_a_second_run_of_a_job_being_sent_is_refused(journal: Journal) -> None:
    job_id = journal.plan_job(
        SendPlan("people.xlsx", "d" * 64, CAMPAIGN, "sandbox", 10, _people(range(2, 5)), {})
    )
    client = _BlockingClient()
    results = []
    worker = threading.Thread(
        target=lambda: results.append(run_job(journal, job_id, client, CAMPAIGN, rate=0))
    )
    worker.start()
    try:
        assert client.entered.wait(10)
        with pytest.raises(JobBusy):
            run_job(journal, job_id, client, CAMPAIGN, rate=0)
        assert journal.job(job_id).state == "running"
    finally:
        client.release.set()
        worker.join()
    assert results[0].counts["created"] == 3


def test_the_journal_never_holds_the_token(tmp_path: Path) -> None:
    token = "tok-3f9a-very-secret-value"
    with (
        Sandbox(token=token, campaigns={CAMPAIGN}) as sandbox,
        Journal(tmp_path / "j.sqlite3") as journal,
    ):
        sandbox.inject("503", "drop_after")
        people = _people(range(2, 12), without_customer_id={5})
        people[0][1]["email"] = "bad"
        result = _send(journal, sandbox, people, token=token, batch_size=3, max_in_flight=1)
        _send(journal, sandbox, _people(range(20, 22)), token="wrong-token")
        assert result.counts["created"] > 0
        messages = " ".join(m for _, m in result.outcomes.values())
        assert token not in messages
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("j."))
    assert b"Person3" in stored  # the journal was read, payloads and all
    assert token.encode() not in stored


def test_a_killed_send_resumes_and_stores_every_receiver_once(journal: Journal) -> None:
    people = _people(range(2, 122), without_customer_id={row for row in range(2, 122, 10)})
    job_id = journal.plan_job(SendPlan("people.xlsx", "c" * 64, CAMPAIGN, "sandbox", 4, people, {}))
    with Sandbox(campaigns={CAMPAIGN}, latency=0.05) as sandbox:
        env = {**os.environ, "SEEN_API_TOKEN": DEFAULT_TOKEN, "PYTHONPATH": str(REPO)}
        worker_args = [str(journal.path), str(job_id), sandbox.url, CAMPAIGN]
        worker = subprocess.Popen(
            [sys.executable, str(REPO / "tests" / "send_worker.py"), *worker_args],
            env=env,
        )
        try:
            deadline = time.monotonic() + 30
            while journal.job(job_id).counts["created"] < 20:
                assert worker.poll() is None, "the send ended before it could be killed"
                assert time.monotonic() < deadline
                time.sleep(0.01)
            with pytest.raises(JobBusy):  # another process holds it
                journal.claim(job_id)
            worker.send_signal(signal.SIGKILL)
        finally:
            worker.kill()
            worker.wait()

        assert journal.job(job_id).state == "interrupted"
        assert journal.job(job_id).counts["created"] < 120
        resumed_id = plan_send(
            journal,
            file_name="people.xlsx",
            file_sha256="c" * 64,
            campaign=CAMPAIGN,
            target="sandbox",
            batch_size=4,
            receivers=people,
            invalid={},
            resume=True,
        )
        assert resumed_id == job_id
        with SeenClient(sandbox.url, DEFAULT_TOKEN) as client:
            result = run_job(journal, job_id, client, CAMPAIGN, rate=0, sleep=_no_wait)

        assert result.state == "finished"
        stored = _stored_names(sandbox)
        assert max(stored.values()) == 1  # nobody stored twice
        for row, (status, _message) in result.outcomes.items():
            assert status in ("created", "unknown")
            if status == "created":
                assert stored[f"Person{row}"] == 1
        with_id = [row for row, payload in people if "customer_id" in payload]
        assert all(result.outcomes[row][0] == "created" for row in with_id)


# --- SEEN API 2.0: one person per request, a lost answer looked up with Retrieve ----------------

WORKSPACE = Workspace("ws-1")


def _judge_one(batch: Batch, answer: Answer, *, max_attempts: int = 3):
    return judge_one(
        batch, answer, target=WORKSPACE, max_attempts=max_attempts, backoff=lambda n: float(n)
    )


def test_2_0_created_and_rejected_settle_the_row_with_seens_answer() -> None:
    assert _judge_one(Batch((2,)), _answer(AnswerKind.CREATED, 201)).outcomes == {
        2: ("created", "")
    }
    refused = _answer(AnswerKind.REJECTED, 422, message="SEEN refused this person (HTTP 422): x")
    assert _judge_one(Batch((2,)), refused).outcomes == {
        2: ("rejected", "SEEN refused this person (HTTP 422): x")
    }


@pytest.mark.parametrize(
    ("kind", "stop"),
    [
        (AnswerKind.TOKEN_REFUSED, "SEEN refused the token."),
        (AnswerKind.TARGET_NOT_FOUND, "Workspace 'ws-1' was not found."),
    ],
)
def test_2_0_refused_token_and_unknown_workspace_stop_the_send(kind: AnswerKind, stop: str) -> None:
    verdict = _judge_one(Batch((2,)), _answer(kind, 401))
    assert (verdict.stop, verdict.outcomes, verdict.again) == (stop, {}, ())


def test_2_0_lost_answer_is_looked_up_before_the_person_is_sent_again() -> None:
    lost = _answer(AnswerKind.NO_ANSWER, maybe_stored=True)
    verdict = _judge_one(Batch((2,)), lost)
    (look,) = verdict.again
    assert (look.confirm, look.attempt, look.delay, look.maybe_stored) == (True, 2, 1.0, {2})
    assert verdict.maybe_stored == {2}
    assert verdict.outcomes == {}

    found = _judge_one(look, _answer(AnswerKind.FOUND, 200, data={"id": "c2"}))
    assert found.outcomes == {2: ("created", CREATED_EARLIER)}

    absent = _judge_one(look, _answer(AnswerKind.ABSENT, 404))
    (resend,) = absent.again
    assert (resend.confirm, resend.attempt, resend.maybe_stored) == (False, 2, frozenset())


def test_2_0_row_is_unknown_only_when_retrieve_cannot_answer() -> None:
    look = Batch((2,), attempt=2, confirm=True, maybe_stored=frozenset({2}))
    broken = _answer(AnswerKind.SERVER_ERROR, 502, message="SEEN had a server error (HTTP 502).")
    verdict = _judge_one(look, broken)
    (again,) = verdict.again
    assert (again.confirm, again.lookups, again.attempt) == (True, 1, 2)

    last = replace(look, lookups=2)
    status, message = _judge_one(last, broken).outcomes[2]
    assert status == "unknown"
    assert "could not say in 3 attempts whether it holds this person" in message


def test_2_0_person_surely_not_stored_is_failed_after_the_last_attempt() -> None:
    turned_away = _answer(AnswerKind.SERVER_ERROR, 503, message="HTTP 503.")
    assert _judge_one(Batch((2,)), turned_away).again[0].attempt == 2
    assert _judge_one(Batch((2,), attempt=3), turned_away).outcomes == {
        2: ("failed", "Gave up after 3 attempts: HTTP 503.")
    }
    # A lost last attempt is looked up: absent then means failed, not unknown.
    look = Batch((2,), attempt=4, confirm=True, maybe_stored=frozenset({2}))
    assert _judge_one(look, _answer(AnswerKind.ABSENT, 404)).outcomes[2][0] == "failed"


def test_2_0_throttled_waits_retry_after_without_using_an_attempt() -> None:
    verdict = _judge_one(Batch((2,)), _answer(AnswerKind.THROTTLED, 429, retry_after=4.0))
    (again,) = verdict.again
    assert (again.attempt, again.throttled, again.delay, again.confirm) == (1, 1, 4.0, False)


def _send_2_0(
    journal: Journal,
    base_url: str,
    people: list[tuple[int, dict]],
    *,
    target: object = WORKSPACE,
    token: str = DEFAULT_TOKEN,
    transport: object = None,
    **options: object,
) -> SendResult:
    job_id = plan_send(
        journal,
        file_name="people.xlsx",
        file_sha256="a" * 64,
        campaign=target.key,  # type: ignore[attr-defined]
        target=base_url,
        batch_size=100,
        receivers=people,
        invalid={},
        force=True,
    )
    options = {"sleep": _no_wait, "backoff": 0.01, "windows": (), "rate": 0, **options}
    with SeenClient(base_url, token, transport=transport, read_timeout=0.5) as client:
        return run_job(journal, job_id, client, target.key, **options)  # type: ignore[attr-defined]


def _messy_export() -> bytes:
    """A CRM export: title row, numbers stored as numbers, phones without a country code,
    spaces, an invalid e-mail, a repeated and a missing customer number."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Kunder")
    sheet.write_string(0, 0, "Eksport fra CRM")
    header = ["Kundenr", "Fornavn", "Etternavn", "E-post", "Mobil", "Kjønn", "Poeng"]
    rows = [
        [1001, " Ola ", "Nordmann", "ola@example.no", 45860321, "M", 12],
        [1002, "Kari", "Hansen", "", "+47 458 60 322", "K", 7.5],
        [1003, "Per", "Berg", "per@@example", 45860323, "M", 3],  # invalid e-mail
        [1001, "Nils", "Ås", "nils@example.no", 45860324, "M", 0],  # repeated customer number
        ["", "Eva", "Lie", "eva@example.no", "", "K", 2],  # no customer number
        [1006, "Åse", "Øren", " ase@example.no ", "0047 45860326", "K", 1],
    ]
    for column, name in enumerate(header):
        sheet.write_string(2, column, name)
    for index, cells in enumerate(rows):
        for column, value in enumerate(cells):
            if isinstance(value, int | float):
                sheet.write_number(3 + index, column, value)
            elif value:
                sheet.write_string(3 + index, column, value)
    book.close()
    return buffer.getvalue()


def test_a_messy_sheet_sent_to_a_workspace_stores_each_valid_person_once_and_flat(
    journal: Journal, sandbox: Sandbox
) -> None:
    sheet = read_sheet("kunder.xlsx", _messy_export())
    mapping = suggest(sheet.columns)
    checked = check_sheet(sheet.table, mapping, CheckOptions(id_required=True))
    people = payloads(sheet.table, mapping, "NO", checked.valid_rows)

    result = _send_2_0(journal, sandbox.url, people, rate=None, windows=None)

    assert result.state == "finished"
    assert [(p.row, p.code) for p in checked.problems if p.severity == "error"] == [
        (6, "email_invalid"),
        (7, "customer_id_duplicate"),
        (8, "customer_id_missing"),
    ]
    assert {row: status for row, (status, _) in result.outcomes.items()} == dict.fromkeys(
        [4, 5, 9], "created"
    )
    assert sorted(sandbox.people("workspace/ws-1"), key=lambda person: person["id"]) == [
        {"id": "1001", "values": {"first_name": "Ola", "last_name": "Nordmann",
         "email": "ola@example.no", "phone": "+4745860321", "kjonn": "M", "poeng": "12"}},
        {"id": "1002", "values": {"first_name": "Kari", "last_name": "Hansen",
         "phone": "+4745860322", "kjonn": "K", "poeng": "7.5"}},
        {"id": "1006", "values": {"first_name": "Åse", "last_name": "Øren",
         "email": "ase@example.no", "phone": "+4745860326", "kjonn": "K", "poeng": "1"}},
    ]  # fmt: skip
    # One create per person (Bearer auth: the sandbox takes nothing else on 2.0), as journalled.
    assert [entry for entry in sandbox.requests_log] == [("workspace/ws-1", 1, 201)] * 3
    (first,) = journal.payload_json(result.job_id, [4])
    assert json.loads(first)["id"] == "1001"


def test_2_0_rules_make_a_missing_customer_id_column_an_error_and_id_a_reserved_key() -> None:
    sheet = read_sheet("kunder.xlsx", _messy_export())
    mapping = suggest(sheet.columns)
    without_id = Mapping({k: v for k, v in mapping.fields.items() if k != "customer_id"},
                         {**mapping.extra_args, "id": "Kundenr"})  # fmt: skip

    v1 = check_sheet(sheet.table, without_id)
    v2 = check_sheet(sheet.table, without_id, CheckOptions(id_required=True))

    assert [(p.code, p.severity) for p in v1.sheet_problems] == [("customer_id_missing", "warning")]
    assert [(p.code, p.severity) for p in v2.sheet_problems] == [
        ("customer_id_missing", "error"),
        ("extra_key_invalid", "error"),
    ]
    assert v2.valid_rows == []


def test_5xx_429_and_dropped_connections_in_one_send_end_with_everyone_stored_once(
    journal: Journal,
) -> None:
    with Sandbox(workspaces={"ws-1"}, hang_seconds=1.0) as sandbox:
        sandbox.inject("500", "429", "drop_before", "drop_after", "timeout_after", "503", "500")

        result = _send_2_0(journal, sandbox.url, _people(range(2, 14)), max_in_flight=1)

        assert result.state == "finished"
        assert {status for status, _ in result.outcomes.values()} == {"created"}
        stored = [person["id"] for person in sandbox.people("workspace/ws-1")]
        assert sorted(stored) == sorted(f"c{row}" for row in range(2, 14))  # each once
        # Every lost answer was looked up, and both answers Retrieve gives were met.
        lookups = [status for _, status in sandbox.lookups_log]
        assert lookups.count(200) >= 2  # drop_after and timeout_after: SEEN had stored them
        assert lookups.count(404) >= 2  # 500 and drop_before: sent again after the look
        assert result.counts["unknown"] == 0


def test_2_0_wrong_token_stops_at_once_and_nothing_is_stored(journal: Journal) -> None:
    with Sandbox(workspaces={"ws-1"}) as sandbox:
        result = _send_2_0(journal, sandbox.url, _people(range(2, 32)), token="wrong-token")

        assert (result.state, result.stop_reason) == ("stopped", "SEEN refused the token.")
        assert result.counts["not_sent"] == 30
        assert sandbox.people("workspace/ws-1") == []
        assert len(sandbox.requests_log) <= 4  # only what was already in flight


def test_an_unknown_workspace_stops_at_once(journal: Journal) -> None:
    with Sandbox(workspaces={"ws-1"}) as sandbox:
        result = _send_2_0(journal, sandbox.url, _people(range(2, 32)), target=Workspace("ws-9"))

        assert (result.state, result.stop_reason) == ("stopped", "Workspace 'ws-9' was not found.")
        assert result.counts["not_sent"] >= 26
        assert sandbox.data_targets() == {"workspace/ws-1": 0}


def test_a_project_target_reaches_the_projects_path(journal: Journal, sandbox: Sandbox) -> None:
    result = _send_2_0(journal, sandbox.url, _people(range(2, 5)), target=Project("p-1"))

    assert result.counts["created"] == 3
    assert sorted(p["id"] for p in sandbox.people("project/p-1")) == ["c2", "c3", "c4"]
    assert sandbox.people("workspace/p-1") == []


def test_a_250_row_send_never_exceeds_100_requests_in_any_10_seconds(journal: Journal) -> None:
    clock = FakeClock()
    starts: list[float] = []

    def seen(request: Request) -> Response:
        starts.append(clock())
        return Response(201, b"{}")

    result = _send_2_0(
        journal,
        "https://next.seen.io",
        _people(range(2, 252)),
        transport=seen,
        rate=50.0,  # told to go faster than 2.0 allows: the window still holds
        windows=None,
        sleep=clock.sleep,
        clock=clock,
        max_in_flight=1,
    )

    assert result.counts["created"] == 250
    assert len(starts) == 250
    assert most_in_any_window(starts, 10.0) <= 100
    assert starts[-1] - starts[0] < 30  # paced, not crawling: three windows' worth


def test_2_0_sends_several_people_at_once(journal: Journal) -> None:
    in_flight, most = 0, 0
    lock = threading.Lock()
    both = threading.Barrier(2, timeout=5)

    def seen(request: Request) -> Response:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        with contextlib.suppress(threading.BrokenBarrierError):
            both.wait()
        with lock:
            in_flight -= 1
        return Response(201, b"{}")

    result = _send_2_0(journal, "https://next.seen.io", _people(range(2, 10)), transport=seen)

    assert result.counts["created"] == 8
    assert most >= 2


def test_a_cancel_while_the_send_waits_out_seens_retry_after_sends_nothing_more(
    journal: Journal,
) -> None:
    clock = FakeClock()
    cancel = threading.Event()
    sent: list[str] = []

    def seen(request: Request) -> Response:
        sent.append(request.url)
        if len(sent) == 1:
            return Response(429, b'{"message": "Too many requests."}', {"Retry-After": "30"})
        return Response(201, b"{}")

    def sleep(seconds: float) -> None:
        cancel.set()  # the user gives up while the send waits as SEEN asked
        clock.sleep(seconds)

    result = _send_2_0(
        journal,
        "https://next.seen.io",
        _people(range(2, 12)),
        transport=seen,
        sleep=sleep,
        clock=clock,
        cancel=cancel,
        max_in_flight=1,
    )

    assert len(sent) == 1  # the throttled request went out, and nothing after it
    assert (result.state, result.stop_reason) == ("cancelled", "Cancelled by the user.")
    assert result.counts["not_sent"] == 10


def test_2_0_send_resumed_after_a_crash_looks_up_the_rows_that_were_in_flight(
    journal: Journal, sandbox: Sandbox
) -> None:
    people = _people(range(2, 6))
    job_id = plan_send(
        journal,
        file_name="people.xlsx",
        file_sha256="b" * 64,
        campaign=WORKSPACE.key,
        target=sandbox.url,
        batch_size=100,
        receivers=people,
        invalid={},
    )
    # A crash while rows 2 and 3 were in flight, after SEEN had stored row 2.
    claim = journal.claim(job_id)
    journal.mark_in_flight(claim, [2], attempt=1)
    journal.mark_in_flight(claim, [3], attempt=1)
    journal.release(claim, "stopped", "Killed.")
    with SeenClient(sandbox.url, DEFAULT_TOKEN) as client:
        client.post_receivers(WORKSPACE, [{"id": "c2", "first_name": "Person2"}])
        resumed = plan_send(
            journal,
            file_name="people.xlsx",
            file_sha256="b" * 64,
            campaign=WORKSPACE.key,
            target=sandbox.url,
            batch_size=100,
            receivers=people,
            invalid={},
            resume=True,
        )
        result = run_job(journal, resumed, client, WORKSPACE.key, rate=0, sleep=_no_wait)

    assert resumed == job_id
    assert result.outcomes == {
        2: ("created", CREATED_EARLIER),
        3: ("created", ""),
        4: ("created", ""),
        5: ("created", ""),
    }
    assert sorted(status for _, status in sandbox.lookups_log) == [200, 404]
    assert sorted(p["id"] for p in sandbox.people("workspace/ws-1")) == ["c2", "c3", "c4", "c5"]


def test_2_0_refuses_an_accidental_repeat_and_a_person_without_an_id(journal: Journal) -> None:
    spec = {
        "file_name": "people.xlsx",
        "file_sha256": "9" * 64,
        "campaign": WORKSPACE.key,
        "target": "sandbox",
        "batch_size": 100,
        "invalid": {},
    }
    first = plan_send(journal, **spec, receivers=_people(range(2, 4)))
    journal.release(journal.claim(first), "finished")

    with pytest.raises(AlreadySent):
        plan_send(journal, **spec, receivers=_people(range(2, 4)))
    with pytest.raises(InputError, match="Row 3 has no customer ID"):
        plan_send(journal, **spec, receivers=_people(range(2, 4), without_customer_id={3}),
                  force=True)  # fmt: skip
    # Another target is another send.
    assert plan_send(
        journal, **{**spec, "campaign": "project/ws-1"}, receivers=_people(range(2, 4))
    )
