"""The app's pure helpers: editor fixes and re-checks, mapping memory, tokens, send registry."""

from __future__ import annotations

import io
import logging

import openpyxl
import pytest
from builders import messy_workbook

from seen_core.checks import CheckOptions, check_sheet
from seen_core.client import SeenClient
from seen_core.journal import Journal
from seen_core.mapping import Mapping, suggest
from seen_core.sandbox import DEFAULT_TOKEN, Sandbox
from seen_core.sending import plan_send
from seen_core.session import (
    PROBLEMS_COLUMN,
    ExtraChoice,
    MappingMemory,
    SendRegistry,
    SheetStore,
    any_token,
    apply_edits,
    build_mapping,
    campaign_problem,
    commit_edits,
    extra_choices,
    find_token,
    fix_view,
    key_errors,
    report_workbook,
    rows_to_send_again,
    send_plan,
)
from seen_core.sheets import read_sheet

OPTIONS = CheckOptions()


@pytest.fixture
def messy():
    sheet = read_sheet("kunder.xlsx", messy_workbook())
    mapping = suggest(sheet.columns)
    return sheet, mapping, check_sheet(sheet.table, mapping, OPTIONS)


def codes(result) -> set[tuple[int | None, str]]:
    return {(p.row, p.code) for p in result.problems}


# --- the fix editor ------------------------------------------------------------------------------


def test_fix_view_shows_only_rows_with_problems_and_their_messages(messy):
    sheet, _, result = messy
    view = fix_view(sheet.table, result)
    assert view.index.tolist() == [6, 7, 9, 10, 11, 12]
    assert view.columns[0] == PROBLEMS_COLUMN
    assert view.at[6, PROBLEMS_COLUMN] == "First name is empty."
    assert fix_view(sheet.table, result, show_all=True).index.tolist() == sheet.table.index.tolist()


def test_an_edit_at_a_view_position_changes_that_spreadsheet_row(messy):
    sheet, _, result = messy
    view = fix_view(sheet.table, result)
    table, changed = apply_edits(sheet.table, view.index, {1: {"E-post": "per@example.no"}})
    assert changed == [7]
    assert table.at[7, "E-post"] == "per@example.no"
    assert sheet.table.at[7, "E-post"] == "per@@example"  # the original is not touched


def test_unchanged_cells_and_the_problems_column_are_not_edits(messy):
    sheet, _, result = messy
    view = fix_view(sheet.table, result)
    edits = {0: {"Fornavn": "", PROBLEMS_COLUMN: "gone"}, 99: {"Fornavn": "X"}}
    table, changed = apply_edits(sheet.table, view.index, edits)
    assert changed == []
    assert table is sheet.table


def test_commit_rechecks_the_fixed_row_and_leaves_the_others(messy):
    sheet, mapping, result = messy
    view = fix_view(sheet.table, result)
    table, new, changed = commit_edits(
        sheet.table, result, mapping, OPTIONS, view.index, {"0": {"Fornavn": "Kari"}}
    )
    assert changed == [6]
    assert table.at[6, "Fornavn"] == "Kari"
    assert (6, "first_name_missing") not in codes(new)
    assert codes(new) == codes(result) - {(6, "first_name_missing")}
    assert new.counts["valid"] == result.counts["valid"] + 1


def test_fixing_a_duplicate_id_clears_it_and_a_new_duplicate_appears(messy):
    sheet, mapping, result = messy
    view = fix_view(sheet.table, result)
    position = view.index.tolist().index(9)
    _, new, _ = commit_edits(
        sheet.table, result, mapping, OPTIONS, view.index, {position: {"Kundenr": "101"}}
    )
    assert (9, "customer_id_duplicate") in codes(result)
    assert (9, "customer_id_duplicate") in codes(new)  # 101 is row 6's ID
    assert "row 6" in new.messages(9)


def test_send_plan_sends_valid_rows_and_explains_invalid_ones(messy):
    sheet, mapping, result = messy
    receivers, invalid = send_plan(sheet.table, mapping, result, "NO")
    assert [row for row, _ in receivers] == [5]
    assert receivers[0][1]["phone"] == "+4745860321"
    assert set(invalid) == {6, 7, 9, 10, 11, 12}
    assert invalid[6] == "First name is empty."


def test_rows_to_send_again_are_those_not_created(messy):
    sheet, _, _ = messy
    outcomes = {5: ("created", ""), 6: ("invalid", "x"), 7: ("rejected", "y"), 9: ("not_sent", "")}
    assert rows_to_send_again(sheet.table, outcomes) == [6, 7, 9]


def test_rows_seen_may_have_created_are_not_sent_again(messy):
    sheet, _, _ = messy
    outcomes = {5: ("unknown", "No answer from SEEN"), 6: ("failed", "503"), 7: ("created", "")}
    assert rows_to_send_again(sheet.table, outcomes) == [6]


# --- mapping choices -----------------------------------------------------------------------------


def test_extra_args_keys_must_be_legal_and_unique():
    choices = [
        ExtraChoice("Kjønn", True, "kjønn"),
        ExtraChoice("A", True, "score"),
        ExtraChoice("B", True, "Score"),
        ExtraChoice("C", False, "bad key!"),
        ExtraChoice("D", True, "email"),
        ExtraChoice("E", True, " "),
    ]
    errors = key_errors(choices)
    assert set(errors) == {"Kjønn", "B", "D", "E"}
    assert "kjonn" in errors["Kjønn"]
    assert "'A'" in errors["B"]


def test_columns_taken_off_a_field_start_outside_extra_args():
    columns = ["Fornavn", "E-post", "Kjønn"]
    start = suggest(columns)
    choices = extra_choices(columns, {}, start)
    assert [(c.column, c.include, c.key) for c in choices] == [
        ("Fornavn", False, "fornavn"),
        ("E-post", False, "e_post"),
        ("Kjønn", True, "kjonn"),
    ]
    fields = {"first_name": "Fornavn", "email": None}
    mapping = build_mapping(fields, [c for c in choices if c.column != "Fornavn"])
    assert mapping == Mapping({"first_name": "Fornavn"}, {"kjonn": "Kjønn"})


def test_campaign_slugs_are_letters_digits_dash_and_underscore():
    assert campaign_problem("spring-2026_b") is None
    assert "slug" in campaign_problem("høst kampanje")
    assert campaign_problem("  ") is not None


def test_a_mapping_is_remembered_per_campaign_while_the_headers_fit(tmp_path):
    memory = MappingMemory(tmp_path)
    mapping = Mapping({"first_name": "Fornavn"}, {"kjonn": "Kjønn"})
    memory.save("spring", mapping)
    assert memory.load("spring", ["Fornavn", "Kjønn", "Other"]) == mapping
    assert memory.load("spring", ["Fornavn"]) is None  # Kjønn is missing
    assert memory.load("autumn", ["Fornavn", "Kjønn"]) is None
    assert memory.load("../etc", ["Fornavn"]) is None


def test_a_damaged_mapping_file_is_ignored(tmp_path):
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "spring.json").write_text("{not json", "utf-8")
    assert MappingMemory(tmp_path).load("spring") is None


# --- tokens --------------------------------------------------------------------------------------


def test_a_campaign_token_wins_over_the_general_ones():
    secrets = {"seen": {"token": "general", "campaigns": {"spring": "s3cret-spring"}}}
    env = {"SEEN_API_TOKEN": "from-env", "SEEN_API_TOKEN_AUTUMN_2": "autumn-env"}
    assert find_token("spring", secrets, env).token.reveal() == "s3cret-spring"
    assert find_token("autumn-2", secrets, env).token.reveal() == "autumn-env"
    assert find_token("other", secrets, env).token.reveal() == "general"
    assert find_token("other", {}, env).where == "environment SEEN_API_TOKEN"
    assert find_token("other", {}, {}) is None
    assert any_token({"seen": {"campaigns": {"x": "t"}}}, {})
    assert not any_token({}, {"SEEN_BASE_URL": "https://x"})


def test_a_found_token_is_never_echoed(caplog):
    found = find_token("spring", {"seen": {"campaigns": {"spring": "s3cret-value"}}}, {})
    logging.getLogger("test").warning("found %s %r", found, found)
    shown = " ".join([repr(found), str(found), found.where, caplog.text])
    assert "s3cret-value" not in shown


# --- sends in worker threads, and their reports --------------------------------------------------


def test_a_send_runs_once_in_a_thread_and_its_report_marks_each_row(tmp_path, messy):
    sheet, mapping, result = messy
    journal = Journal(tmp_path / "journal.sqlite3")
    receivers, invalid = send_plan(sheet.table, mapping, result, "NO")
    job_id = plan_send(
        journal,
        file_name=sheet.file_name,
        file_sha256=sheet.sha256,
        campaign="spring",
        target="sandbox",
        batch_size=100,
        receivers=receivers,
        invalid=invalid,
    )
    SheetStore(journal).save(job_id, sheet)
    registry = SendRegistry()
    with Sandbox(latency=0.2) as sandbox:
        first = registry.start(
            journal, job_id, lambda: SeenClient(sandbox.url, DEFAULT_TOKEN), "spring"
        )
        second = registry.start(
            journal, job_id, lambda: SeenClient(sandbox.url, DEFAULT_TOKEN), "spring"
        )
        assert second is first
        first.thread.join(timeout=20)
        assert first.finished and first.error is None
        assert len(sandbox.received("spring")) == 1
    data = report_workbook(journal, job_id, SheetStore(journal))
    rows = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    header = [c.value for c in rows[4]]
    status = header.index("SEEN status") + 1
    assert rows.cell(5, status).value == "created"
    assert {rows.cell(r, status).value for r in (6, 7, 9, 10, 11, 12)} == {"invalid"}
    assert rows.cell(5, 2).value == "Ola"


def test_a_sheet_with_its_own_problems_column_keeps_it_editable():
    import pandas as pd

    table = pd.DataFrame(
        {"Fornavn": ["", "Ola"], "Problems": ["old note", ""], "Mobil": ["45860321", "45860322"]},
        index=pd.Index([2, 3], name="row"),
        dtype=object,
    )
    mapping = suggest(list(table.columns))
    result = check_sheet(table, mapping, OPTIONS)
    view = fix_view(table, result)
    assert list(view.columns) == ["Problems (SEEN Sender)", "Fornavn", "Problems", "Mobil"]
    edits = {0: {"Problems (SEEN Sender)": "x", "Problems": "new note", "Fornavn": "Kari"}}
    edited, changed = apply_edits(table, view.index, edits)
    assert changed == [2]
    assert edited.loc[2].tolist() == ["Kari", "new note", "45860321"]
