"""The report the user downloads: their own workbook, with SEEN's answer beside each person.

An XLSX or XLSM upload comes back as the same file: only the parts that must change are
rewritten (the receivers' sheet, the styles, the workbook's list of sheets), and in the
receivers' sheet only the header row and the people's rows, where cells are appended. Every
other part of the package (other sheets, charts, pictures, macros, names) is copied as it was.
CSV, XLS and ODS uploads (and the rare XLSX this cannot edit) are first turned into a plain
workbook of the same cells, numbers as numbers, which then gets the same annotations.

Both are written as SpreadsheetML directly rather than through openpyxl or XlsxWriter: those
handle every cell as a Python object (8-10 s for 100,000 rows), and openpyxl loses what it does
not model (shapes, form controls, slicers). See docs/ARCHITECTURE.md for the report's place in
the flow, and for what each module of this package does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from seen_core.i18n import _
from seen_core.interpreter import gc_paused
from seen_core.problems import Problem
from seen_core.report import parallel
from seen_core.report.model import (
    ReportInput,
    ReportSummary,
    extra_keys_of,
    legal_sheet_name,
    values_as_sent,
)
from seen_core.report.package import (
    CT_MACRO_WORKBOOK,
    CT_WORKBOOK,
    Package,
)
from seen_core.report.parallel import Found
from seen_core.report.plan import make_plan, source_grid, source_kind, with_keepable_rows
from seen_core.report.rebuilt import csv_report, lacks_sentences, plain_package, what_is_lost
from seen_core.report.summary import packed_problem_rows
from seen_core.report.workbook import annotate, rows_ahead, workbook_part
from seen_core.report.xml import NotInPlace

__all__ = [
    "MadeWorkbook",
    "ReportInput",
    "ReportSummary",
    "annotated_csv",
    "annotated_workbook",
    "begin_report",
    "begun_elsewhere",
    "extra_keys_of",
    "legal_sheet_name",
    "made_workbook",
    "values_as_sent",
]

# The workbook part's content type of a template (.xltx, .xltm) and of the workbook it makes:
# the report is a workbook, whatever the upload was.
_TEMPLATES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": CT_WORKBOOK,
    "application/vnd.ms-excel.template.macroEnabled.main+xml": CT_MACRO_WORKBOOK,
}


@dataclass(frozen=True)
class MadeWorkbook:
    """The report as XLSX, and what the user must know of it.

    `macros`: the workbook keeps the upload's macros, so it must be named .xlsm (Excel refuses
    a macro workbook named .xlsx, and a plain one named .xlsm). `lacks`: plain sentences, when
    the user's workbook could not be annotated in place and the report is a new workbook made
    from its cells, saying why and what of the original it has not (pictures, charts, ...);
    empty when the report is the user's own workbook, or when there was nothing to lose (a CSV).
    """

    data: bytes
    macros: bool = False
    lacks: tuple[str, ...] = ()

    @property
    def suffix(self) -> str:
        return ".xlsm" if self.macros else ".xlsx"


def annotated_workbook(report: ReportInput) -> bytes:
    """The report as XLSX: the user's workbook with SEEN's columns, marks, a Summary and Problems.

    An XLSX/XLSM upload comes back as itself with the receivers' sheet annotated; CSV, XLS and
    ODS come back as a new workbook of the same cells. Raises InputError when the sheet does
    not fit Excel's grid. `made_workbook` also says what a rebuilt workbook lacks.
    """
    return made_workbook(report).data


def made_workbook(report: ReportInput) -> MadeWorkbook:
    """The report as XLSX (see `annotated_workbook`), with its suffix and what it lacks."""
    with gc_paused():
        return _made_workbook(report)


def _made_workbook(report: ReportInput) -> MadeWorkbook:
    kind = source_kind(report)
    kept = with_keepable_rows(report)
    if kept is not report and kind != "none":
        lacks: tuple[str, ...] = (
            _(
                "The people of {file} could not keep their row numbers, so the report is a new "
                "workbook of their cells alone, without the file's other sheets."
            ).format(file=report.file_name),
        )
        kind = "none"
    elif kind == "workbook":
        lacks = (
            _(
                "{file} is not an Excel workbook of today's kind, so the report is a new workbook "
                "made from its cells: their values, without the original's formatting, formulas, "
                "pictures, charts or comments."
            ).format(file=report.file_name),
        )
    else:
        lacks = ()
    report = kept
    # The user's own XLSX is edited, not rebuilt: its cells need not be read when the table as
    # read is at hand.
    grid = None if kind == "xlsx" and report.original is not None else source_grid(report, kind)
    plan = make_plan(report, grid)
    if kind == "xlsx":
        early = parallel.early_for(report.source, report.sheet_name, report.header_row)
        try:
            package = Package.from_zip(report.source)
            annotate(package, plan, report, rebuilt=False, early=early)
            macros = _as_workbook(package)
            return MadeWorkbook(package.to_bytes(), macros=macros)
        except NotInPlace as why:
            # A workbook this editor cannot change: rebuild it from its cells, and say so.
            reason = str(why) or "it is written in a way the report cannot edit"
            lacks = lacks_sentences(report.file_name, reason, what_is_lost(report.source))
            grid = source_grid(report, "workbook")
        finally:
            if early is not None:  # its answers not taken are not waited for
                early.close()
    package = plain_package(report, plan, grid)
    annotate(package, plan, report, rebuilt=True)
    return MadeWorkbook(package.to_bytes(), lacks=lacks)


def begin_report(
    source: bytes,
    sheet_name: str | None,
    header_row: int,
    rows: list[int],
    problems: Sequence[Problem] | None = None,
) -> None:
    """Where a command may fork (`parallel.on_two_cores`): start what the report of this
    sheet of `source` (an XLSX, its header on `header_row`, its people on `rows`) can make
    before its payloads and plan, in a child: where its rows are in the sheet's XML, then the
    Problems sheet's rows of `problems` (the very list the report is given; else they are
    made by the report, see `workbook.annotate`). Nothing when the report will not be edited
    in place, or cannot fork."""
    if not parallel.forking(len(rows)) or not source.startswith(b"PK\x03\x04"):
        return
    rows = sorted(rows)
    parallel.begin(
        lambda: rows_ahead(source, sheet_name, header_row, rows),
        source,
        sheet_name,
        header_row,
        rows,
        then=None if problems is None else lambda: packed_problem_rows(problems),
        then_for=problems,
    )


def begun_elsewhere(
    source: bytes, sheet_name: str | None, header_row: int, rows: list[int], found: Found
) -> None:
    """Where a command may fork (`parallel.on_two_cores`): take where the rows of the report
    of this sheet of `source` are from the process that checked its phone numbers (`found`,
    see `phone_process.find_rows_after`) instead of forking a child to find them; the
    Problems sheet's rows are then made by the child that makes the notes."""
    parallel.begun_elsewhere(source, sheet_name, header_row, rows, found)


def _as_workbook(package: Package) -> bool:
    """Give a template's workbook part a workbook's content type; whether it holds macros."""
    part = workbook_part(package)
    content_type = package.content_type(part) or ""
    if content_type in _TEMPLATES:
        content_type = _TEMPLATES[content_type]
        package.set_content_type(part, content_type)
    return "macroenabled" in content_type.lower()


def annotated_csv(report: ReportInput) -> bytes:
    """The report as CSV (UTF-8 with BOM, comma-separated): the user's columns as fixed in the
    app, then SEEN status, SEEN message, the values as sent and any video links.

    Rows are in the table's order; text that Excel would run as a formula gets a leading '.
    """
    with gc_paused():
        return csv_report(report)
