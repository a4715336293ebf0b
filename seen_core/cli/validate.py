"""`validate FILE`: every rule on every row; problems, the payloads, and the annotated sheet."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import seen_core.cli.options as o
from seen_core.cli.reports import write_report
from seen_core.problems import Problem
from seen_core.safe_text import lines_for_terminal

if TYPE_CHECKING:  # imported once the file is read: see load_the_rest_meanwhile
    from seen_core import flow


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = commands.add_parser("validate", help="check every row against SEEN's rules")
    o.add_sheet_options(p)
    o.add_check_options(p)
    o.add_target_options(p, required=False)
    p.add_argument("--check-images", action="store_true", help="fetch image URLs")
    p.add_argument("--report", metavar="OUT.xlsx", help="write the annotated sheet")
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def run(args: argparse.Namespace) -> int:
    from seen_core.read.xlsx_pieces import keeping_sheet

    target = o.target_key(args)
    # The report follows the read at once: the sheet's XML inflated by the read is kept for it.
    with keeping_sheet() if args.report else contextlib.nullcontext():
        return _run(args, target)


def _run(args: argparse.Namespace, target: str) -> int:
    workbook = bool(args.report) and not args.report.lower().endswith(".csv")
    checked = o.checked(args, target, report_rows=workbook)
    sheet = checked.sheet
    from seen_core import flow  # once the file is read: see load_the_rest_meanwhile

    if args.report:
        from seen_core.report import begin_report, begun_elsewhere
        from seen_core.report.parallel import meanwhile, on_two_cores

        source = o.source(args)
        found = o.rows_found(args)
        if not args.json:  # made while the report waits for its child, if it does
            lines = meanwhile(lambda: lines_for_terminal(problem_lines(checked.problems)))
        with on_two_cores():  # a command alone: the report may fork (never in the app)
            if found is not None:  # the rows found by the phone numbers' process
                begun_elsewhere(source, sheet.sheet_name, sheet.header_row, sheet.text.rows, found)
            elif workbook:
                begin_report(
                    source, sheet.sheet_name, sheet.header_row, checked.text.rows, checked.problems
                )
            report = flow.report_file(checked, args.report, source=source)
        # Written beside the printing (most of it is the disk's, syncing it), and in full
        # before the command ends, whatever happens to the printing.
        writing = o.Background(lambda: write_report(args.report, report, args.file))
        try:
            return _printed(args, checked, writing, None if args.json else lines.result)
        finally:
            writing.result()
    return _printed(args, checked, None)


def _printed(
    args: argparse.Namespace,
    checked: flow.Checked,
    writing: o.Background[str] | None,
    made_lines: Callable[[], str] | None = None,
) -> int:
    """Print what the check found (and where the report went); the exit code. JSON is
    printed once the report is written: a script reads it only when the command did all."""
    sheet = checked.sheet
    counts = checked.result.counts
    if args.json:
        if writing is not None:
            writing.result()
        o.print_json(
            {
                "rows": counts["rows"],
                "valid": counts["valid"],
                "invalid": counts["invalid"],
                "warnings": counts["warnings"],
                "problems": [p.as_dict() for p in checked.problems],
                "receivers": [
                    {"row": row, "payload": payload} for row, payload in checked.receivers()
                ],
            }
        )
    else:
        print(o.where(sheet))
        print(
            f"{counts['valid']} ready, {counts['invalid']} invalid, {counts['warnings']} warnings"
        )
        text = made_lines() if made_lines else lines_for_terminal(problem_lines(checked.problems))
        if text:
            print(text)
    if writing is not None and not args.json:
        print(o.printable(f"Report written to {writing.result()}"))
    return o.EXIT_ROWS if counts["invalid"] else o.EXIT_OK


def problem_lines(problems: list[Problem]) -> list[str]:
    """A line a problem: `  row 12    Mobil          phone_invalid          '45 86' is …`.
    The padded column and code are made once for each pair (a sheet has few), not once a line."""
    middles: dict[tuple[str | None, str], str] = {}
    lines = []
    for row, column, _, code, _, message, _ in problems:  # a Problem's fields
        middle = middles.get((column, code))
        if middle is None:
            middle = middles[column, code] = f" {column or '':<14} {code:<22} "
        lines.append(
            ("  sheet    " if row is None else f"  row {row}".ljust(11)) + middle + message
        )
    return lines
