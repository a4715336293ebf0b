"""The app's draft state without Streamlit: fix, send to the sandbox over HTTP, fix again and
send again in the same draft — no row twice, every row with its latest outcome."""

from __future__ import annotations

import io
import time
from collections import Counter

import openpyxl
import pytest
from builders import messy_workbook

from seen_core import flow
from seen_core.check.mapping import Mapping as FieldMapping
from seen_core.errors import InputError, NotFound
from seen_core.sandbox import DEFAULT_TOKEN, Sandbox
from seen_core.statuses import Status
from seen_core.store.drafts import SavedMappings, Step, User
from seen_core.store.journal import Journal
from seen_core.workbench import Work

CAMPAIGN = "spring-campaign"
ALICE = User("alice@example.no", "Alice")


@pytest.fixture
def journal(tmp_path):
    with Journal(tmp_path / "journal.sqlite3") as opened:
        yield opened


@pytest.fixture
def seen():
    with Sandbox(token=DEFAULT_TOKEN, campaigns={CAMPAIGN}) as running:
        yield running


def start(journal: Journal) -> Work:
    work = Work.start(
        journal, ALICE, "kunder.xlsx", messy_workbook(), target=CAMPAIGN, isolated=False
    )
    return work


def send(work: Work, seen: Sandbox) -> int:
    to = flow.connect(CAMPAIGN, seen.url, DEFAULT_TOKEN, sandbox=True)
    job_id = flow.plan(work.journal, work.checked(), to, user_id=ALICE.id, draft_id=work.draft.id)
    flow.send(work.journal, job_id, to)
    return job_id


def test_the_messy_sheet_is_read_mapped_and_checked(journal):
    work = start(journal)
    checked = work.checked()
    assert work.sheet().sheet_name == "Mottakere" and work.sheet().header_row == 4
    assert checked.counts == {"rows": 7, "ready": 1, "attention": 6, "held": 0, "warnings": 0}


def test_a_cell_fix_is_kept_rechecked_and_undone(journal):
    work = start(journal)
    change = work.edit_cells({(6, "Fornavn"): "Kari"})
    assert change.label == "Row 6, Fornavn: '' → 'Kari'"
    assert work.checked().counts["ready"] == 2

    reopened = Work.open(journal, ALICE, work.draft.id)  # a reload or a restart
    assert reopened.table.at[6, "Fornavn"] == "Kari"
    assert reopened.checked().counts["ready"] == 2
    assert reopened.original() == {(6, "Fornavn"): ""}

    assert reopened.undo().label == change.label
    assert reopened.table.at[6, "Fornavn"] == ""
    assert reopened.checked().counts["ready"] == 1
    assert Work.open(journal, ALICE, work.draft.id).checked().counts["ready"] == 1


def test_the_step_and_choices_come_back(journal):
    work = start(journal)
    work.update(region="SE", delivery=False)
    work.go(Step.CHECK)
    again = Work.open(journal, ALICE, work.draft.id)
    assert again.settings.step is Step.CHECK
    assert again.options.region == "SE" and again.options.delivery is False


def test_a_mapping_caught_half_way_is_never_remembered(journal):
    """Under load a page once stored a mapping with every box empty, and from then on each
    sheet for the campaign started from it: "0 ready, no column is mapped to first_name"."""
    work = start(journal)
    work.choose_mapping(FieldMapping({}, {"kjonn": "Kjønn"}))  # every box empty
    assert work.checked().counts["ready"] == 0  # this draft has it, as chosen
    following = start(journal)  # the next sheet for the campaign
    assert following.mapping.fields["first_name"] == "Fornavn"
    assert following.checked().counts["ready"] == 1
    assert work.keep_mapping() is False  # moved on with, it is still not remembered
    assert start(journal).mapping == following.mapping


def test_only_the_mapping_moved_on_with_is_remembered(journal):
    work = start(journal)
    suggested = work.mapping
    renamed = FieldMapping(dict(suggested.fields), {"gender": "Kjønn"})  # two columns left out
    work.choose_mapping(renamed)
    assert start(journal).mapping == suggested  # chosen, not yet moved on with
    assert work.keep_mapping() is True
    assert start(journal).mapping == renamed


def test_a_draft_keeps_the_mapping_it_moved_on_with(journal):
    """A draft moved on with the suggestion keeps it, whatever is remembered for the campaign
    after (another tab, another sheet): reopened, it is checked as it was shown."""
    first = start(journal)
    suggested = first.mapping
    first.keep_mapping()
    first.go(Step.CHECK)
    second = start(journal)
    second.choose_mapping(FieldMapping(dict(suggested.fields), {"gender": "Kjønn"}))
    second.keep_mapping()
    assert Work.open(journal, ALICE, first.draft.id).mapping == suggested


def test_a_mapping_naming_a_column_the_sheet_lacks_is_refused(journal):
    work = start(journal)
    with pytest.raises(InputError, match="Mobile"):
        work.choose_mapping(FieldMapping({"first_name": "Fornavn", "phone": "Mobile"}, {}))
    assert Work.open(journal, ALICE, work.draft.id).settings.mapping is None
    assert SavedMappings(journal).load(ALICE, CAMPAIGN) is None


def test_the_suggestion_fills_what_the_remembered_mapping_leaves_empty(journal):
    """A mapping remembered from another export for the campaign: what fits this sheet stays as
    chosen; a field it left empty, or gave a column this sheet does not have, takes the
    sheet's suggested column (which then is not also sent as a personal field)."""
    SavedMappings(journal).save(
        ALICE,
        CAMPAIGN,
        {
            "first_name": "Fornavn", "last_name": None, "email": "E-post", "phone": "Mobile",
            "customer_id": None, "extra_args": {"gender": "Kjønn", "old": "Gone", "mob": "Mobil"},
        },
    )  # fmt: skip
    work = start(journal)
    assert work.mapping.fields == {
        "first_name": "Fornavn", "last_name": "Etternavn", "email": "E-post", "phone": "Mobil",
        "customer_id": "Kundenr",
    }  # fmt: skip
    assert work.mapping.extra_args == {"gender": "Kjønn"}
    assert work.saved_mapping() == work.mapping


def test_another_user_cannot_open_the_draft(journal):
    work = start(journal)
    with pytest.raises(NotFound):
        Work.open(journal, User("bob@example.no"), work.draft.id)


def test_fix_and_send_again_in_the_same_draft_sends_nobody_twice(journal, seen):
    work = start(journal)
    first = send(work, seen)
    assert journal.counts(first)[Status.CREATED] == 1  # Ola, row 5, customer ID 100

    # Fix the rows that were invalid, in the same draft. Row 9 repeats customer ID 100 of the
    # row already created: it stays flagged, against the row SEEN holds.
    work.edit_cells({(6, "Fornavn"): "Kari", (7, "E-post"): "per@example.no"})
    work.edit_cells({(10, "Mobil"): "45860325"})
    checked = work.checked()
    assert 5 in checked.held
    problem = [p for p in checked.result.by_row[9] if p.code == "customer_id_duplicate"]
    assert problem and "row 5" in problem[0].message
    assert 9 in checked.invalid
    assert checked.ready_rows == [6, 7, 10]

    second = send(work, seen)
    assert journal.counts(second)[Status.CREATED] == 3
    stored = Counter(r["customer_id"] for r in seen.received(CAMPAIGN))
    assert stored == {"100": 1, "101": 1, "102": 1, "104": 1}

    outcomes = work.outcomes()
    assert {row: status for row, (status, _m) in outcomes.items()} == {
        5: "created", 6: "created", 7: "created", 9: "invalid", 10: "created",
        11: "invalid", 12: "invalid",
    }  # fmt: skip
    # Nothing left to send: the created rows are never offered again.
    assert work.checked().ready_rows == []


def test_rows_seen_says_exist_already_are_held_and_never_offered_again(journal, seen):
    work = start(journal)
    send(work, seen)
    # Another draft of the same people, forced: SEEN refuses ID 100 as existing already.
    other = start(journal)
    to = flow.connect(CAMPAIGN, seen.url, DEFAULT_TOKEN, sandbox=True)
    job = flow.plan(journal, other.checked(), to, draft_id=other.draft.id, force=True)
    flow.send(journal, job, to)
    status, message = journal.outcomes(job)[5]
    assert status == Status.REJECTED and "already exists" in message
    assert 5 in other.checked().held and 5 not in other.checked().ready_rows


def test_the_report_is_made_once_per_state_of_the_draft(journal, seen):
    work = start(journal)
    send(work, seen)
    first = work.report("xlsx")
    assert work.report("xlsx") is first  # made once: the download does not make it again
    work.edit_cells({(6, "Fornavn"): "Kari"})
    again = work.report("xlsx")
    assert again is not first
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(again))["Mottakere"]
    header = [c.value for c in sheet[4]]
    assert sheet.cell(6, header.index("Fornavn") + 1).value == "Kari"
    assert sheet.cell(6, header.index("Fornavn") + 1).comment is not None  # the old value


def test_the_first_check_runs_in_the_background_and_is_then_at_hand(journal, monkeypatch):
    original = flow.checks.check_sheet
    monkeypatch.setattr(  # as long as 100,000 rows take
        flow.checks, "check_sheet", lambda *a, **k: time.sleep(0.5) or original(*a, **k)
    )
    work = Work.start(journal, ALICE, "kunder.xlsx", messy_workbook(), isolated=False)
    assert work.checked_by_now() is None  # started, not waited for
    work._checking.join(timeout=30)
    ready = work.checked_by_now()
    assert ready is not None and ready is work.checked()
    assert ready.counts["attention"] == 6
    # What Check and fix reads of it was worked out in the background too.
    assert {"counts", "attention_rows", "row_set"} <= set(vars(ready))
    assert "rows_by_code" in vars(ready.result)
    assert ready.attention_rows == [6, 7, 9, 10, 11, 12]


@pytest.mark.parametrize(("rows", "waits"), [(12, [0.2]), (12_000, [])])
def test_only_a_small_sheets_first_check_is_waited_for(journal, monkeypatch, rows, waits):
    """The demo's counts show in the run that reads it; a big sheet's pages never stand still
    for its check (each wait of 0.2 s was a pause of every page run before Check and fix)."""
    import threading

    from builders import big_workbook

    release = threading.Event()
    original = flow.checks.check_sheet
    monkeypatch.setattr(
        flow.checks, "check_sheet", lambda *a, **k: release.wait(30) and original(*a, **k)
    )
    joins: list[float | None] = []
    real_join = threading.Thread.join

    def join(thread: threading.Thread, timeout: float | None = None) -> None:
        if thread.name == "seen-check":
            joins.append(timeout)
        real_join(thread, timeout)

    monkeypatch.setattr(threading.Thread, "join", join)
    work = Work.start(journal, ALICE, "people.xlsx", big_workbook(rows), isolated=False)
    for _ in range(3):  # the upload's run, the sidebar's, the map page's
        assert work.checked_by_now() is None
    assert joins == waits
    release.set()
    real_join(work._checking, 30)
    assert work.checked_by_now().counts["rows"] == rows


@pytest.fixture
def checked_here(monkeypatch) -> list[int]:
    """Each full check made in this process; the sheet a test uploads counts as a big one,
    whose first check the reader process makes."""
    from seen_core import workbench

    monkeypatch.setattr(workbench, "QUICK_CHECK_ROWS", 0)
    made: list[int] = []
    original = flow.checks.check_sheet
    monkeypatch.setattr(
        flow.checks, "check_sheet", lambda t, *a, **k: made.append(len(t)) or original(t, *a, **k)
    )
    return made


def test_the_reader_process_makes_the_first_check(journal, checked_here):
    work = Work.start(journal, ALICE, "kunder.xlsx", messy_workbook())  # isolated, as the app
    checked = work.checked()
    assert checked_here == []  # made in the reader, on another core
    here = flow.check(work.sheet(), work.mapping, work.options)
    assert checked.result.problems == here.result.problems
    assert checked.counts == here.counts == {
        "rows": 7, "ready": 1, "attention": 6, "held": 0, "warnings": 0,
    }  # fmt: skip


def test_the_readers_check_is_not_used_once_the_choices_differ(journal, checked_here):
    work = Work.start(journal, ALICE, "kunder.xlsx", messy_workbook())
    work.update(region="SE")  # before the first check was asked for
    assert work.checked().options.region == "SE"
    assert checked_here == [7]  # checked here, with the country chosen


def test_a_changed_choice_does_not_wait_for_the_readers_check(journal, checked_here, monkeypatch):
    from seen_core.read.isolated import Pending

    waited = []
    original = Pending.wait
    monkeypatch.setattr(Pending, "wait", lambda self: waited.append(1) or original(self))
    work = Work.start(journal, ALICE, "kunder.xlsx", messy_workbook())
    work.update(delivery=False)
    assert work.checked().counts["warnings"] == 1  # the row without contact, now a warning
    assert waited == [] and checked_here == [7]


def test_a_reader_that_gives_no_check_leaves_it_to_the_app(journal, checked_here):
    work = Work.start(journal, ALICE, "kunder.xlsx", messy_workbook())
    work._ahead.pending.cancel()  # the reader is stopped, as the kernel's OOM killer would
    assert work.checked().counts["attention"] == 6
    assert len(checked_here) == 1


def test_a_new_campaign_reuses_the_check_and_a_workspace_checks_again(journal, monkeypatch):
    work = start(journal)
    first = work.checked()
    seen_first = first.attention_rows  # as Check and fix read them
    full_checks = []
    original = flow.checks.check_sheet
    monkeypatch.setattr(
        flow.checks, "check_sheet", lambda *a, **k: full_checks.append(1) or original(*a, **k)
    )
    work.update(target="autumn-campaign")  # the same rules: no full check of 100k rows again
    again = work.checked()
    assert full_checks == [] and again.target == "autumn-campaign"
    assert again.result is first.result and again.counts == first.counts
    assert again.attention_rows is seen_first  # the rows to look at: not walked again
    work.update(target="workspace/ws-1")  # SEEN API 2.0: a customer ID is required
    data = work.checked()
    assert full_checks == [1] and data.target == "workspace/ws-1"
    assert data.options.id_required and not first.options.id_required


def test_a_sends_own_sheet_is_kept_and_rebuilt_for_its_report_after_a_restart(journal, seen):
    work = start(journal)
    work.edit_cells({(6, "Fornavn"): "Kari"})  # the sheet as sent holds the fix
    checked = work.checked()
    job_id = send(work, seen)
    flow.keep_send_sheet(journal, job_id, checked)

    sheet, problems = flow.kept_send_sheet(journal, job_id)
    assert sheet.columns == checked.sheet.columns
    assert sheet.text.rows == list(checked.table.index)
    assert sheet.table.at[6, "Fornavn"] == "Kari"
    assert sheet.table.equals(checked.table)
    assert problems == checked.problems

    report = flow.send_report_file(journal, job_id, "rapport.xlsx").data
    rows = list(openpyxl.load_workbook(io.BytesIO(report)).worksheets[0].values)
    assert any("Kari" in row for row in rows)


def test_a_send_without_its_sheet_gets_a_report_of_its_row_numbers(journal, seen):
    work = start(journal)
    job_id = send(work, seen)  # sent, but its sheet never kept
    sheet, problems = flow.kept_send_sheet(journal, job_id)
    assert (sheet.columns, problems) == (["Row"], [])
    assert sheet.text.rows == sorted(journal.outcomes(job_id))
    assert sheet.text.column("Row") == [str(r) for r in sorted(journal.outcomes(job_id))]


# --- bulk fixes change what is sent ---------------------------------------------------------


def start_csv(journal: Journal, rows: list[list[str]]) -> Work:
    from builders import csv_bytes

    return Work.start(journal, ALICE, "folk.csv", csv_bytes(rows), target=CAMPAIGN, isolated=False)


def test_a_split_full_name_is_sent_split_and_undo_sends_the_full_name_again(journal, seen):
    from seen_core.check.fixes import split_full_name

    work = start_csv(
        journal,
        [["Name", "E-post", "Kundenr"], ["Ola Nordmann", "ola@example.no", "1"],
         ["Kari Mari Nordmann", "kari@example.no", "2"]],
    )  # fmt: skip
    assert work.mapping.fields["first_name"] == "Name"
    change = split_full_name(work.table, "Name", "First name", "Last name", work.mapping)
    work.apply(change)
    assert work.mapping.fields["first_name"] == "First name"
    assert work.mapping.fields["last_name"] == "Last name"
    assert Work.open(journal, ALICE, work.draft.id).mapping.fields["last_name"] == "Last name"
    work.undo()
    assert work.mapping.fields["first_name"] == "Name" and "last_name" not in work.mapping.fields
    work = Work.open(journal, ALICE, work.draft.id)  # redo outlives a reload
    assert work.can_redo() == change
    assert work.redo() == change
    assert work.can_redo() is None
    send(work, seen)
    received = [(r["first_name"], r.get("last_name")) for r in seen.received(CAMPAIGN)]
    assert received == [("Ola", "Nordmann"), ("Kari Mari", "Nordmann")]


def test_leaving_out_invalid_phones_sends_without_them_and_keeps_the_users_cells(journal, seen):
    from seen_core.check.fixes import leave_out_preview

    work = start_csv(
        journal,
        [["Fornavn", "E-post", "Mobil", "Kundenr"],
         ["Kari", "kari@example.no", "12", "1"],
         ["Ola", "ola@example.no", "45860321", "2"],
         ["Per", "", "99", "3"]],
    )  # fmt: skip
    assert work.checked().counts["ready"] == 1
    change, left_alone = leave_out_preview(work.table, work.checked().result, "phone", work.mapping)
    assert left_alone == 1  # Per has no e-mail: his phone is his only way
    work.apply(change)
    assert work.table.at[2, "Mobil"] == "12"  # the user's cell as it was
    reopened = Work.open(journal, ALICE, work.draft.id)
    assert reopened.checked().counts["ready"] == 2
    send(reopened, seen)
    received = seen.received(CAMPAIGN)
    assert [r.get("phone") for r in received] == [None, "+4745860321"]
    assert received[0]["email"] == "kari@example.no"
    book = openpyxl.load_workbook(io.BytesIO(reopened.report("xlsx")))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    kari = [c.value for c in sheet[2]]
    assert str(kari[header.index("Mobil")]) == "12"
    assert kari[header.index("Mobil (sent as)")] == "sent without phone"


def test_the_counts_stay_those_a_send_started_with_until_it_ends(journal, seen):
    work = start(journal)
    work.edit_cells({(6, "Fornavn"): "Kari"})
    before = work.checked().counts
    to = flow.connect(CAMPAIGN, seen.url, DEFAULT_TOKEN, sandbox=True)
    job_id = flow.plan(journal, work.checked(), to, batch_size=1, user_id=ALICE.id,
                       draft_id=work.draft.id)  # fmt: skip
    during = [work.checked().counts]  # planned, not yet running
    flow.send(journal, job_id, to, on_progress=lambda p: during.append(work.checked().counts))
    assert len(during) > 2 and all(counts == before for counts in during)
    after = work.checked().counts
    assert after["held"] == before["ready"] and after["ready"] == 0


def test_a_new_change_forgets_what_redo_would_make_again(journal):
    work = start(journal)
    work.edit_cells({(6, "Fornavn"): "Kari"})
    work.undo()
    assert work.can_redo() is not None
    work.edit_cells({(6, "Fornavn"): "Karin"})
    assert work.can_redo() is None
