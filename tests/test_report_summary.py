"""The report's own sheets, Summary and Problems, and the statuses it gives each row, read back
the way the user's Excel would see them."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import replace

import pandas as pd
import pytest
from builders import csv_bytes as make_csv
from report_books import (
    CHECKED,
    SHA,
    WHEN,
    crm_export,
    make_sheet,
    read_xlsx,
    report_of,
    summary_items,
)

from seen_core import flow
from seen_core.check.mapping import Mapping
from seen_core.report import ReportInput, ReportSummary, annotated_workbook
from seen_core.statuses import Status, count_statuses


@pytest.fixture(scope="module")
def own() -> bytes:
    """The report of the CRM export, checked (see report_books.crm_export)."""
    return annotated_workbook(report_of("kunder.xlsx", crm_export()))


# --- Summary -------------------------------------------------------------------------------------


def test_summary_speaks_a_managers_words() -> None:
    sent = ReportSummary(
        target="campaign 'spring'",
        sent_to="SEEN",
        when=WHEN,
        who="kari@firma.no",
        time_zone="Europe/Oslo",
        details=[("Send", "#3, finished")],
    )
    outcomes = {
        4: ("created", ""),
        5: ("rejected", "email: Enter a valid email address."),
        6: ("invalid", "First name is missing."),
        7: ("not_sent", ""),
    }
    report = replace(report_of("kunder.xlsx", crm_export(), summary=sent), outcomes=outcomes)
    items = summary_items(read_xlsx(annotated_workbook(report)))
    labels = list(items)

    assert items["File"][0] == "kunder.xlsx"
    assert items["Campaign or workspace"][0] == "campaign 'spring'"
    assert items["Sent to"][0] == "SEEN"
    assert items["When"][0] == "30 November 2026, 14:05 Europe/Oslo time (UTC+01:00)"
    assert items["Who"][0] == "kari@firma.no"
    assert items["Send"][0] == "#3, finished"
    assert (items["Created"][0], items["Need attention"][0], items["Not sent"][0]) == (1, 2, 1)
    assert items["Rejected by SEEN"][:2] == (1, Status.REJECTED.explanation)
    assert items["Not sent"][:3] == (1, Status.NOT_SENT.explanation, Status.NOT_SENT.next_step)
    # The fingerprint comes last, named for what it is; no jargon before it.
    assert labels[-1] == "File fingerprint (SHA-256)"
    assert items[labels[-1]][0] == hashlib.sha256(report.source).hexdigest()
    assert not any("SHA" in str(label) for label in labels[:-1])


def test_a_sends_report_names_its_target_destination_details_and_fingerprint() -> None:
    # A sheet kept with a send, without its upload: the fingerprint is the upload's, kept.
    sheet = make_sheet({3: ["Åse", "Ødegård", "+4791234567", ""]})
    checked = flow.check(sheet, Mapping({"first_name": "Fornavn"}, {}), target="vinter")
    data = flow.report_file(
        checked,
        "rapport.xlsx",
        outcomes={3: ("created", "")},
        sent_to="the sandbox",
        details=[("Started", "2025-01-02")],
    ).data
    items = summary_items(read_xlsx(data))

    assert items["Campaign or workspace"][0] == "campaign 'vinter'"
    assert items["Sent to"][0] == "the sandbox"
    assert items["Started"][0] == "2025-01-02"
    assert items["Created"][0] == 1
    assert items["File fingerprint (SHA-256)"][0] == SHA


def test_a_status_the_report_does_not_know_is_counted_as_it_is() -> None:
    report = replace(report_of("kunder.xlsx", crm_export()), outcomes={4: ("held", "")})
    items = summary_items(read_xlsx(annotated_workbook(report)))

    assert items["held"][0] == 1
    assert items["People in the sheet"][0] == 4


def test_rows_are_counted_per_status_every_status_first() -> None:
    counts = count_statuses(
        {2: ("created", ""), 3: ("created", ""), 4: (Status.FAILED, "x"), 5: ("held", "")}
    )

    assert list(counts) == [*Status, "held"]
    assert counts[Status.CREATED] == 2 and counts["failed"] == 1 and counts["ready"] == 0
    assert counts["held"] == 1


# --- each row's status before a send -------------------------------------------------------------


def test_before_a_send_each_row_is_ready_or_invalid_with_its_reasons() -> None:
    rows = [
        ["Fornavn", "E-post"],
        ['=HYPERLINK("x")', "ola@example.no"],
        ["Kari", "kari@@example"],
        ["", "per@example.no"],
    ]
    sheet = flow.read("kunder.csv", make_csv(rows))
    checked = flow.check(sheet, flow.mapping_for(sheet))
    report = flow.report_file(checked, "rapport.csv").data
    out = list(csv.reader(io.StringIO(report.decode("utf-8-sig"))))
    status = out[0].index("SEEN status")

    assert [r[status] for r in out[1:]] == ["Ready", "Needs fixing", "Needs fixing"]
    # A warning goes with a row that is ready; a warning of the whole sheet (no customer ID)
    # is not repeated on every row.
    assert "looks like a spreadsheet formula" in out[1][status + 1]
    assert "not a valid e-mail address" in out[2][status + 1]
    assert "first name" in out[3][status + 1].lower()
    assert not any("customer ID" in r[status + 1] for r in out[1:])


def test_before_a_send_an_error_of_the_whole_sheet_makes_every_row_invalid() -> None:
    rows = [
        ["Fornavn", "E-post", "Kjønn"],
        ["Ola", "ola@example.no", "M"],
        ["Kari", "kari@example.no", "K"],
    ]
    sheet = flow.read("kunder.csv", make_csv(rows))
    mapping = Mapping({"first_name": "Fornavn", "email": "E-post"}, {"bad key": "Kjønn"})
    checked = flow.check(sheet, mapping)
    out = list(csv.reader(io.StringIO(flow.report_file(checked, "r.csv").data.decode("utf-8-sig"))))
    status = out[0].index("SEEN status")
    sheet_error = next(p for p in checked.problems if p.row is None and p.severity == "error")

    assert [r[status] for r in out[1:]] == ["Needs fixing", "Needs fixing"]
    assert all(sheet_error.message in r[status + 1] for r in out[1:])


# --- Problems ------------------------------------------------------------------------------------


def test_problems_sheet_says_where_what_and_what_to_do(own: bytes) -> None:
    rows = list(read_xlsx(own)["Problems"].iter_rows(values_only=True))

    assert rows[0] == ("Row", "Column", "Problem", "What to do", "Code")
    wrong = next(r for r in rows if r[4] == "email_invalid")
    assert wrong[:4] == (
        5,
        "E-post",
        "'kari@@example' is not a valid e-mail address.",
        "Fix the cell that is marked and send again.",
    )


def test_a_sheet_without_problems_says_so() -> None:
    table = pd.DataFrame({"Fornavn": ["Ola"]}, index=pd.Index([2], name="row"), dtype=object)
    report = ReportInput("a.csv", b"", None, 1, table, {2: ("ready", "")}, CHECKED)

    rows = list(read_xlsx(annotated_workbook(report))["Problems"].iter_rows(values_only=True))
    assert rows[1][2] == "No problems found."


def test_the_problems_rows_of_a_usual_sheet_are_those_made_cell_by_cell():
    """Row problems with plain texts are written a row at a time; the same rows come out when
    a problem of the whole sheet (no row number) has the rows made a column at a time."""
    from seen_core.problems import Problem
    from seen_core.report.summary import problem_rows

    usual = [
        Problem(
            5, "Mobil", "phone", "phone_invalid", "error", "'12345' is not a valid phone number."
        ),
        Problem(5, None, None, "no_contact", "warning", "Neither phone nor e-mail."),
        Problem(7, "Fornavn", "first_name", "name_case", "warning", "'OLA' is in capitals."),
    ]
    whole = Problem(None, None, None, "column_not_found", "error", "No column 'E-post'.")
    one_at_a_time = problem_rows([*usual, whole])
    assert one_at_a_time is not None
    last_row = one_at_a_time.rindex('<row r="5">')
    assert problem_rows(usual) == one_at_a_time[:last_row]
    assert '<c r="B3"' not in problem_rows(usual)  # a row's problem has no column
    with_markup = [*usual[:2], usual[2]._replace(message="'Ola & Kari' <skilt>")]
    assert "Ola &amp; Kari' &lt;skilt&gt;" in problem_rows(with_markup)
