"""The journal: jobs and outcomes, history, claims, crash recovery and where it lives."""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from seen_core.store import claims, database
from seen_core.store import journal as journal_module
from seen_core.store.database import default_path
from seen_core.store.journal import (
    LOST_ANSWER_MESSAGE,
    JobBusy,
    Journal,
    SendPlan,
)


def _receivers(rows: range, *, customer_id: bool = True) -> list[tuple[int, dict]]:
    out = []
    for row in rows:
        payload = {"first_name": f"Person {row}", "email": f"p{row}@example.com"}
        if customer_id:
            payload["customer_id"] = f"c{row}"
        out.append((row, payload))
    return out


def _job(journal: Journal, sha: str = "a" * 64, **overrides: object) -> int:
    spec: dict = {
        "file_name": "people.xlsx",
        "file_sha256": sha,
        "target_key": "spring-campaign",
        "address": "sandbox",
        "batch_size": 10,
        "receivers": _receivers(range(2, 6)),
        "invalid": {6: "first_name: First name is missing."},
    }
    spec.update(overrides)
    return journal.plan_job(SendPlan(**spec), force=True)  # a new send each time


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    with Journal(tmp_path / "journal.sqlite3") as opened:
        yield opened


def test_new_job_has_ready_rows_and_invalid_rows_with_their_message(journal: Journal) -> None:
    job_id = _job(journal)

    assert journal.outcomes(job_id) == {
        2: ("ready", ""),
        3: ("ready", ""),
        4: ("ready", ""),
        5: ("ready", ""),
        6: ("invalid", "first_name: First name is missing."),
    }
    info = journal.job(job_id)
    assert info.state == "pending"
    assert info.counts == {
        "created": 0,
        "rejected": 0,
        "invalid": 1,
        "failed": 0,
        "unknown": 0,
        "not_sent": 0,
        "ready": 4,
    }
    assert info.created_at.endswith("+00:00")
    assert [s.row for s in journal.sendable(job_id)] == [2, 3, 4, 5]
    assert [json.loads(p) for p in journal.payload_json(job_id, [3, 2])] == [
        {"first_name": "Person 3", "email": "p3@example.com", "customer_id": "c3"},
        {"first_name": "Person 2", "email": "p2@example.com", "customer_id": "c2"},
    ]


def test_journal_uses_wal_mode(journal: Journal) -> None:
    with sqlite3.connect(journal.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_a_new_journal_file_is_private_to_its_owner(journal: Journal) -> None:
    assert journal.path.stat().st_mode & 0o077 == 0


def test_history_is_newest_first_and_jobs_for_matches_file_campaign_and_target(
    journal: Journal,
) -> None:
    first = _job(journal)
    other_target = _job(journal, address="seen")
    other_file = _job(journal, sha="b" * 64)
    latest = _job(journal)

    assert [j.id for j in journal.jobs()] == [latest, other_file, other_target, first]
    assert [j.id for j in journal.jobs_for("a" * 64, "spring-campaign", "sandbox", "")] == [
        latest,
        first,
    ]
    assert journal.jobs_for("a" * 64, "autumn", "sandbox", "") == []


def test_delete_job_forgets_it_and_its_rows(journal: Journal) -> None:
    kept = _job(journal)
    gone = _job(journal)

    journal.delete_job(gone, "")

    assert [j.id for j in journal.jobs()] == [kept]
    assert journal.outcomes(gone) == {}
    with pytest.raises(KeyError):
        journal.job(gone)


def test_a_kept_sheet_goes_with_its_send_when_deleted_or_purged(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    deleted, purged = _job(journal), _job(journal)
    for job_id in (deleted, purged):
        journal.keep_sheet(job_id, b"Kari Nordmann, +4745860321")
        journal.release(journal.claim(job_id), "finished")
    assert journal.kept_sheet(deleted) == b"Kari Nordmann, +4745860321"

    journal.delete_job(deleted, "")
    assert journal.kept_sheet(deleted) is None
    real_now = journal_module._now()
    monkeypatch.setattr(journal_module, "_now", lambda: real_now + timedelta(days=31))
    assert journal.purge(older_than_days=30) == 1
    assert journal.kept_sheet(purged) is None
    journal.close()
    assert b"Kari Nordmann" not in b"".join(
        p.read_bytes() for p in journal.path.parent.iterdir() if p.name.startswith("journal")
    )


def test_delete_job_is_refused_while_it_is_being_sent(journal: Journal) -> None:
    job_id = _job(journal)
    claim = journal.claim(job_id)
    with pytest.raises(JobBusy):
        journal.delete_job(job_id, "")
    journal.release(claim, "finished")
    journal.delete_job(job_id, "")
    assert journal.jobs() == []


def test_purge_deletes_only_jobs_older_than_the_limit(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _job(journal)
    journal.release(journal.claim(old), "finished")
    real_now = journal_module._now()
    monkeypatch.setattr(journal_module, "_now", lambda: real_now + timedelta(days=31))
    recent = _job(journal)  # created "31 days later"
    journal.release(journal.claim(recent), "finished")

    assert journal.purge(older_than_days=30) == 1
    assert [j.id for j in journal.jobs()] == [recent]
    assert journal.purge(older_than_days=30) == 0


def test_purge_keeps_a_job_being_sent(journal: Journal, monkeypatch: pytest.MonkeyPatch) -> None:
    job_id = _job(journal)
    claim = journal.claim(job_id)
    real_now = journal_module._now()
    # Far enough for the job to be old, not so far that its claim looks stale.
    monkeypatch.setattr(claims, "STALE_CLAIM_SECONDS", 90 * 86400)
    monkeypatch.setattr(journal_module, "_now", lambda: real_now + timedelta(days=31))

    assert journal.purge(older_than_days=30) == 0
    journal.release(claim, "stopped", "SEEN refused the token.")


def test_a_second_claim_in_the_same_process_is_refused(journal: Journal) -> None:
    job_id = _job(journal)
    claim = journal.claim(job_id)
    refused: list[BaseException] = []

    def other_thread() -> None:
        try:
            journal.claim(job_id)
        except JobBusy as exc:
            refused.append(exc)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()

    assert len(refused) == 1
    assert journal.job(job_id).state == "running"
    journal.release(claim, "finished")
    assert journal.job(job_id).state == "finished"
    journal.release(journal.claim(job_id), "finished")  # free again once released


def test_a_second_journal_on_the_same_file_sees_the_claim(journal: Journal) -> None:
    job_id = _job(journal)
    claim = journal.claim(job_id)
    with Journal(journal.path) as other, pytest.raises(JobBusy):
        other.claim(job_id)
    journal.release(claim, "finished")


def test_claim_of_a_dead_owner_is_taken_over_and_in_flight_rows_recovered(
    journal: Journal,
) -> None:
    receivers = [*_receivers(range(2, 4)), *_receivers(range(4, 6), customer_id=False)]
    job_id = _job(journal, receivers=receivers, invalid={})
    claim = journal.claim(job_id)
    journal.mark_in_flight(claim, [2, 4], attempt=1)
    # The process "dies": its claim is no longer among this process's live claims.
    claims.let_go(claim.owner)
    assert journal.job(job_id).state == "interrupted"

    second = journal.claim(job_id)
    journal.recover(second)

    outcomes = journal.outcomes(job_id)
    assert outcomes[2] == ("ready", "")  # has a customer_id: sent again, safely
    assert outcomes[4] == ("unknown", LOST_ANSWER_MESSAGE)  # none: never sent blindly again
    sendable = {s.row: s.maybe_stored for s in journal.sendable(job_id)}
    assert sendable == {2: True, 3: False, 5: False}
    # The old owner's writes are refused now that the claim moved on.
    with pytest.raises(JobBusy):
        journal.mark_in_flight(claim, [3], attempt=1)
    journal.release(second, "finished")


def test_record_answer_sets_outcomes_and_clears_in_flight(journal: Journal) -> None:
    job_id = _job(journal)
    claim = journal.claim(job_id)
    batch = journal.mark_in_flight(claim, [2, 3, 4], attempt=1)
    assert [s.row for s in journal.sendable(job_id)] == [5]  # rows in flight are not sendable

    journal.record_answer(
        claim,
        batch,
        answer="rejected",
        http_status=400,
        outcomes={3: ("rejected", "email: Enter a valid email address.")},
    )

    assert journal.outcomes(job_id)[3] == ("rejected", "email: Enter a valid email address.")
    assert [s.row for s in journal.sendable(job_id)] == [2, 4, 5]
    assert journal.mark_not_sent(claim) == 3
    journal.release(claim, "stopped", "SEEN refused the token.")
    info = journal.job(job_id)
    assert (info.state, info.stop_reason) == ("stopped", "SEEN refused the token.")
    assert info.counts["not_sent"] == 3
    assert info.finished_at is not None

    # A later run makes not_sent rows ready again.
    again = journal.claim(job_id)
    journal.recover(again)
    assert journal.job(job_id).counts["ready"] == 3
    journal.release(again, "finished")


def test_default_path_uses_seen_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEEN_DATA_DIR", str(tmp_path / "data"))
    assert default_path() == tmp_path / "data" / "journal.sqlite3"
    assert (tmp_path / "data").is_dir()


def test_default_path_falls_back_to_the_user_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SEEN_DATA_DIR", raising=False)
    monkeypatch.setattr(database.sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_path() == tmp_path / "xdg" / ".seen-sender" / "journal.sqlite3"
    assert (tmp_path / "xdg" / ".seen-sender").is_dir()


def test_a_receiver_json_cannot_carry_is_refused_when_the_send_is_planned(journal: Journal) -> None:
    nan = {"first_name": "Kari", "extra_args": {"score": float("nan")}}
    with pytest.raises(ValueError):
        journal.plan_job(SendPlan("people.xlsx", "n" * 64, "spring", "sandbox", 10, [(2, nan)], {}))
    assert journal.jobs() == []  # nothing half-written
