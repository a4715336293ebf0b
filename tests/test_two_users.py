"""Two users on one server: a send belongs to the user who planned it. Another user's send of
the same file to the same target is never reused, resumed, described or changed."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from test_app import edit_cell, new_app, plain, to_check, work

from seen_core.errors import AlreadySent, JobBusy
from seen_core.sandbox import Sandbox
from seen_core.statuses import JobState, Status
from seen_core.store.journal import Journal, SendPlan

AUTH = {"auth": {"client_id": "seen-sender"}}
ALICE, BOB = "alice@example.no", "bob@example.no"
TOKEN = "tok-Bobs-own-3c9e1f"
CAMPAIGN = "vinter"


def _plan(journal: Journal, user: str, name: str = "Ola", **options: object) -> int:
    people = [(2, {"first_name": name, "customer_id": "1"})]
    plan = SendPlan(
        "kunder.xlsx", "f" * 64, CAMPAIGN, "https://seen.example", 100, people, {}, user
    )
    return journal.plan_job(plan, **options)


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    with Journal(tmp_path / "journal.sqlite3") as opened:
        yield opened


def test_a_stopped_send_of_one_user_is_never_carried_on_by_another(journal):
    alices = _plan(journal, ALICE)  # SEEN refused her token: nothing reached SEEN

    bobs = _plan(journal, BOB, name="Ola Bob fixed")

    assert bobs != alices
    assert journal.job(bobs).user_id == BOB and journal.job(alices).user_id == ALICE
    (payload,) = journal.payload_json(bobs, [2])
    assert "Ola Bob fixed" in payload  # Bob's rows, not Alice's
    assert "Ola Bob fixed" not in journal.payload_json(alices, [2])[0]


def test_another_users_finished_send_is_not_described_nor_in_the_way(journal):
    alices = _plan(journal, ALICE)
    journal.release(journal.claim(alices), JobState.FINISHED)

    with pytest.raises(AlreadySent):  # Alice herself is told
        _plan(journal, ALICE)
    bobs = _plan(journal, BOB)  # Bob is not: his send, his token

    assert bobs != alices
    assert [job.id for job in journal.jobs_for("f" * 64, CAMPAIGN, "https://seen.example", BOB)]
    assert journal.jobs_for("f" * 64, CAMPAIGN, "https://seen.example", BOB)[0].id == bobs


def test_a_send_running_for_another_user_blocks_without_saying_whose_or_which(journal):
    alices = _plan(journal, ALICE)
    claim = journal.claim(alices)  # being sent right now

    with pytest.raises(JobBusy) as busy:
        _plan(journal, BOB)

    said = str(busy.value)
    assert "being sent" in said and "another user" in said
    assert f"#{alices}" not in said and ALICE not in said and "created" not in said
    journal.release(claim, JobState.FINISHED)


def test_one_user_cannot_delete_another_users_send(journal):
    alices = _plan(journal, ALICE)

    journal.delete_job(alices, BOB)
    assert journal.job(alices).user_id == ALICE
    journal.delete_job(alices, None)  # an admin, from History
    assert journal.jobs() == []


def _to_send(at, sandbox: Sandbox, token: str):
    at.switch_page("pages/map.py").run()
    at.radio(key="destination").set_value("seen").run()
    at.switch_page("pages/send.py").run()
    at.text_input(key="seen_address").set_value(sandbox.url).run()
    at.text_input(key="seen_token").set_value(token).run()
    at.checkbox(key="confirm_send").check().run()
    at.button(key="send").click().run()
    at.session_state["registry"].preparing(work(at).draft.id).thread.join(timeout=30)
    send = at.session_state["registry"].get(work(at).sends()[-1].id)
    send.thread.join(timeout=30)
    assert send.finished and send.error is None
    return at


def test_bob_sending_the_file_alice_could_not_sends_his_rows_in_his_send(seen_data_dir):
    """Alice's token is refused; Bob sends the same file to the same place with his own."""
    with Sandbox(token=TOKEN, campaigns={CAMPAIGN}) as sandbox:
        alice = to_check(new_app(AUTH, user=ALICE), campaign=CAMPAIGN)
        alice = _to_send(alice, sandbox, "tok-wrong")
        alices_draft = work(alice).draft.id
        (alices,) = work(alice).sends()
        assert alices.state == JobState.STOPPED and sandbox.received(CAMPAIGN) == []

        bob = to_check(new_app(AUTH, user=BOB), campaign=CAMPAIGN)
        bob = edit_cell(bob, 6, "Fornavn", "Kari")
        bob = _to_send(bob, sandbox, TOKEN)

        (bobs,) = work(bob).sends()  # Bob's History and Results show his send
        assert bobs.id != alices.id and bobs.user_id == BOB
        assert bobs.counts[Status.CREATED] == 2
        assert "Kari" in [r["first_name"] for r in sandbox.received(CAMPAIGN)]

    alice = new_app(AUTH, user=ALICE, draft=alices_draft)
    (still,) = work(alice).sends()
    assert still.id == alices.id and still.counts[Status.CREATED] == 0
    book = openpyxl.load_workbook(io.BytesIO(work(alice).report("xlsx")))
    assert "Kari" not in {cell.value for row in book.active.iter_rows() for cell in row}
    alice.switch_page("pages/history.py").run()
    # Her one send, named within her draft; Bob's (his draft's first too) is not listed.
    assert plain(alice).count("Send 1 (") == 1 and "Stopped: SEEN refused the token." in plain(
        alice
    )
