"""The check-and-fix step as the app runs it, on the messy 100,000-row sheet: a draft's `Work`
after one cell fix, a bulk fix over all rows, a phone-country change, and Undo — each until
the new counts and problems are known, with the change kept in the journal. Server time only
(the browser's share is in bench_browser). Run: .venv/bin/python bench/bench_workbench.py"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from common import messy_workbook, table, verdict

from seen_core.check import fixes
from seen_core.store.drafts import User
from seen_core.store.journal import Journal
from seen_core.workbench import Work


def _seconds(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    data = messy_workbook().read_bytes()
    with tempfile.TemporaryDirectory() as folder, Journal(Path(folder) / "j.sqlite3") as journal:
        started = time.perf_counter()
        work = Work.start(journal, User(), "people.xlsx", data, target="spring")
        first = work.checked().counts
        opened = time.perf_counter() - started
        rows = list(work.table.index)
        email = work.mapping.fields["email"]

        def shown() -> None:
            checked = work.checked()
            checked.counts  # noqa: B018  (what the page shows)
            checked.result.problems  # noqa: B018

        cells = []
        for n in range(10):
            row = rows[1_000 * n + 17]
            cells.append(
                _seconds(
                    lambda row=row, n=n: (
                        work.edit_cells({(row, email): f"x{n}@example.no"}),
                        shown(),
                    )
                )
            )
        cell = sorted(cells)[len(cells) // 2]

        change, _ = fixes.leave_out_preview(
            work.table, work.checked().result, "phone", work.mapping
        )
        bulk = _seconds(lambda: (work.apply(change), shown()))
        undo = _seconds(lambda: (work.undo(), shown()))
        country = _seconds(lambda: (work.update(region="SE"), shown()))
        reopen = _seconds(lambda: Work.open(journal, User(), work.draft.id).checked())
        report = _seconds(lambda: work.report("xlsx"))

    ready, attention = first["ready"], first["attention"]
    print(f"{len(rows):,} rows; first check: {ready:,} ready, {attention:,} need attention")
    print(
        table(
            [
                ("upload → checked (isolated parse, draft made)", f"{opened:.2f} s", "—", ""),
                (
                    "one cell fixed (median of 10)",
                    f"{cell * 1000:.0f} ms",
                    "< 100 ms",
                    verdict(cell, 0.1),
                ),
                (
                    f"bulk fix: leave out {change.rows:,} invalid phones",
                    f"{bulk:.2f} s",
                    "< 1 s",
                    verdict(bulk, 1.0),
                ),
                ("undo of that bulk fix", f"{undo:.2f} s", "< 1 s", verdict(undo, 1.0)),
                (
                    "phone country changed (every row)",
                    f"{country:.2f} s",
                    "< 1 s",
                    verdict(country, 1.0),
                ),
                ("the draft opened again (reload, restart)", f"{reopen:.2f} s", "—", ""),
                ("the draft's workbook (user's own XLSX)", f"{report:.2f} s", "—", ""),
            ]
        )
    )


if __name__ == "__main__":
    main()
