"""Each bulk fix over the 100,000-row messy sheet: the preview (the Change and its count), applying
it and undoing it, against the 1 s a bulk fix may take. Run: .venv/bin/python bench/bench_fixes.py
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable

from common import messy_workbook, table, verdict

from seen_core.check.checks import check_sheet
from seen_core.check.contact import phone_e164
from seen_core.check.fixes import (
    Change,
    apply_change,
    find_replace,
    leave_out_preview,
    phones_from_country_column,
    split_full_name,
    trim,
    undo_change,
)
from seen_core.check.mapping import suggest
from seen_core.read.sheets import read_sheet

GOAL = 1.0  # seconds for a bulk fix over every row, preview and apply together
RUNS = 5


def best_of(runs: int, action: Callable[[], object]) -> tuple[float, float]:
    """(best wall seconds, median CPU seconds of this process): on a shared machine the wall
    clock counts other people's work too; the CPU time does not."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return min(walls), statistics.median(cpus)


_COUNTRIES = ["Norge", "Norway", "NO", "+47", "", "Sverige", "SE", "Danmark", "+45", "UK", "n/a"]


def main() -> None:
    path = messy_workbook()
    sheet = read_sheet(path.name, path.read_bytes())
    people = sheet.table.copy()
    rng = random.Random(7)
    # A country column as CRMs fill it (mostly Norway, written five ways), and a full name.
    people["Land"] = rng.choices(
        _COUNTRIES, weights=[30, 10, 10, 5, 20, 5, 5, 3, 2, 2, 1], k=len(people)
    )
    people["Navn"] = people["Fornavn"] + " " + people["Etternavn"]
    mapping = suggest(sheet.columns)
    # The app has checked the sheet before any fix is offered, so numbers read as Norwegian
    # are parsed already; "cold" parses every number afresh, as after a restart.
    result = check_sheet(people, mapping)

    def phones() -> Change:
        return phones_from_country_column(people, "Mobil", "Land", "NO")

    def cold_phones() -> Change:
        phone_e164.cache_clear()
        return phones()

    def any_case() -> Change:
        return find_replace(people, "E-post", "GMAIL", "gmail", match_case=False)

    def whole_cell() -> Change:
        return find_replace(people, "Land", "norge", "NO", whole_cell=True, match_case=False)

    fixes: list[tuple[str, Callable[[], Change]]] = [
        ("find & replace in E-post", lambda: find_replace(people, "E-post", "gmail", "GMAIL")),
        ("find & replace, any case", any_case),
        ("find & replace, whole cell", whole_cell),
        ("trim all 10 columns", lambda: trim(people, list(people.columns))),
        ("phones by country column", phones),
        ("phones by country, cold", cold_phones),
        ("split full name (new columns)", lambda: split_full_name(people, "Navn", "First", "Last")),
        (
            "leave out invalid phones",
            lambda: leave_out_preview(people, result, "phone", mapping)[0],
        ),
    ]
    rows = []
    load = os.getloadavg()[0]
    print(f"\n{len(people):,} rows, {len(people.columns)} columns; best wall and median CPU "
          f"seconds of {RUNS} runs; load {load:.1f} on {os.cpu_count()} cores\n")  # fmt: skip
    for name, preview in fixes:
        change = preview()
        wall, cpu = best_of(RUNS, preview)
        applied = apply_change(people, change)
        apply_wall, apply_cpu = best_of(RUNS, lambda c=change: apply_change(people, c))
        undo_wall, undo_cpu = best_of(RUNS, lambda c=change, a=applied: undo_change(a, c))
        print(
            f"{name:30} {change.rows:>7,} rows  preview {wall:.3f} s (cpu {cpu:.3f})"
            f"  apply {apply_wall:.3f} s (cpu {apply_cpu:.3f})"
            f"  undo {undo_wall:.3f} s (cpu {undo_cpu:.3f})"
        )
        total = wall + apply_wall
        rows.append((f"{name}: preview + apply", f"{total:.2f} s (cpu {cpu + apply_cpu:.2f} s)",
                     f"≤ {GOAL:.0f} s", verdict(total / GOAL, 1.0)))  # fmt: skip
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
