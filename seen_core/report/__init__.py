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

from seen_core.interpreter import gc_paused
from seen_core.report.model import (
    ReportInput,
    ReportSummary,
    extra_keys_of,
    legal_sheet_name,
    values_as_sent,
)
from seen_core.report.package import Package
from seen_core.report.plan import make_plan, source_grid, source_kind, with_keepable_rows
from seen_core.report.rebuilt import csv_report, plain_package
from seen_core.report.workbook import annotate
from seen_core.report.xml import NotInPlace

__all__ = [
    "ReportInput",
    "ReportSummary",
    "annotated_csv",
    "annotated_workbook",
    "extra_keys_of",
    "legal_sheet_name",
    "values_as_sent",
]


def annotated_workbook(report: ReportInput) -> bytes:
    """The report as XLSX: the user's workbook with SEEN's columns, marks, a Summary and Problems.

    An XLSX/XLSM upload comes back as itself with the receivers' sheet annotated; CSV, XLS and
    ODS come back as a new workbook of the same cells. Raises InputError when the sheet does
    not fit Excel's grid.
    """
    with gc_paused():
        return _annotated_workbook(with_keepable_rows(report))


def _annotated_workbook(report: ReportInput) -> bytes:
    kind = source_kind(report)
    # The user's own XLSX is edited, not rebuilt: its cells need not be read when the table as
    # read is at hand.
    grid = None if kind == "xlsx" and report.original is not None else source_grid(report, kind)
    plan = make_plan(report, grid)
    if kind == "xlsx":
        try:
            package = Package.from_zip(report.source)
            annotate(package, plan, report, rebuilt=False)
            return package.to_bytes()
        except NotInPlace:
            # A workbook this editor does not know how to change: rebuild it from its cells.
            grid = source_grid(report, "workbook")
    package = plain_package(report, plan, grid)
    annotate(package, plan, report, rebuilt=True)
    return package.to_bytes()


def annotated_csv(report: ReportInput) -> bytes:
    """The report as CSV (UTF-8 with BOM, comma-separated): the user's columns as fixed in the
    app, then SEEN status, SEEN message, the values as sent and any video links.

    Rows are in the table's order; text that Excel would run as a formula gets a leading '.
    """
    with gc_paused():
        return csv_report(report)
