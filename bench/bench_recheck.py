"""Re-checks in the app on the 100k-row sheets: a change that touches every row (the phone
country) and one edited cell, each until the new result's counts and problems are known, as the
check page shows them. Run: .venv/bin/python bench/bench_recheck.py [clean|messy]"""

from __future__ import annotations

import os
import sys

from common import messy_workbook, table, timed, verdict, workbook

from seen_core.check.checks import CheckOptions, check_sheet, recheck
from seen_core.check.contact import email_valid, phone_e164
from seen_core.check.mapping import suggest
from seen_core.read.sheets import read_sheet


def measure(name: str, data: bytes, runs: int = 5) -> list[tuple[str, str, str, str]]:
    sheet = read_sheet("people.xlsx", data)
    table_, mapping = sheet.table, suggest(sheet.columns)
    norway, sweden = CheckOptions(region="NO"), CheckOptions(region="SE")

    def shown(result) -> None:
        result.counts  # noqa: B018  (what the page shows: computing it is part of the wait)
        result.problems  # noqa: B018

    # The phone country changes: every number is read afresh in the new region, while the
    # e-mail addresses were already checked when the sheet was uploaded. Emptying the caches
    # is not timed: the app never does it.
    email_valid.cache_clear()
    check_sheet(table_, mapping, norway)
    full = timed(runs, lambda: shown(check_sheet(table_, mapping, sweden)), phone_e164.cache_clear)

    # The strictest case: nothing in the caches (a mapping change to other columns).
    def empty_caches() -> None:
        phone_e164.cache_clear()
        email_valid.cache_clear()

    cold_best = timed(runs, lambda: shown(check_sheet(table_, mapping, norway)), empty_caches)

    result = check_sheet(table_, mapping, norway)
    row = table_.index[50_000]
    column = mapping.fields["email"]
    edits = iter(range(10**9))

    def edit_one_cell() -> None:
        nonlocal result
        table_.at[row, column] = f"not an address {next(edits)}"
        result = recheck(result, table_, mapping, [row], norway)
        shown(result)

    edit = timed(20, edit_one_cell)

    def ms(t: tuple[float, float]) -> str:
        return f"{t[0] * 1000:.0f} ms wall, {t[1] * 1000:.0f} ms CPU"

    return [
        (f"{name}: phone country changed, full re-check", ms(full), "< 1 s",
         verdict(full[0], 1.0)),
        (f"{name}: full re-check, caches cold", ms(cold_best), "< 1 s", verdict(cold_best[0], 1.0)),
        (f"{name}: one edited cell re-checked", ms(edit), "< 100 ms", verdict(edit[0], 0.1)),
    ]  # fmt: skip


def main(which: list[str] | None = None) -> None:
    files = {"clean": workbook, "messy": messy_workbook}
    print(f"load average {os.getloadavg()[0]:.1f}; best of 5 (20 for one cell)")
    rows = []
    for name in which or files:
        rows += measure(name, files[name]().read_bytes())
    print(table(rows))


if __name__ == "__main__":
    main(sys.argv[1:] or None)
