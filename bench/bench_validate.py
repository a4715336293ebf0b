"""validate of a 100k-row, 8-column XLSX against a bare python_calamine read; peak memory;
one edited cell re-checked. Run: .venv/bin/python bench/bench_validate.py"""

from __future__ import annotations

import io
import resource
import subprocess
import sys

import python_calamine
from common import ROOT, best_of, table, workbook

from seen_core.checks import check_sheet, recheck
from seen_core.contact import email_valid, phone_e164
from seen_core.mapping import suggest
from seen_core.sheets import read_sheet


def bare_read(data: bytes) -> None:
    python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(
        0
    ).to_python()


def validate(data: bytes) -> None:
    # Each run starts cold, as a command does: phones and e-mails are parsed afresh.
    phone_e164.cache_clear()
    email_valid.cache_clear()
    sheet = read_sheet("people.xlsx", data)
    check_sheet(sheet.table, suggest(sheet.columns))


def child(*args: str) -> tuple[float, float]:
    """Wall seconds and peak MB of a fresh interpreter run with these arguments."""
    import time

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=False, cwd=ROOT, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


def main() -> None:
    path = workbook()
    data = path.read_bytes()
    runs = 5
    bare, bare_med = best_of(runs, lambda: bare_read(data))
    ours, ours_med = best_of(runs, lambda: validate(data))

    # Whole commands in fresh interpreters: startup and imports count, as a user sees it.
    cli_walls, bare_walls = [], []
    bare_code = (
        "import python_calamine as c; "
        f"c.CalamineWorkbook.from_path({str(path)!r}).get_sheet_by_index(0).to_python()"
    )
    command = ("-m", "seen_core", "validate", str(path))
    for _ in range(5):
        bare_walls.append(child("-c", bare_code)[0])
        cli_walls.append(child(*command)[0])
    _, peak = child(*command)

    sheet = read_sheet("people.xlsx", data)
    mapping = suggest(sheet.columns)
    result = check_sheet(sheet.table, mapping)
    row = sheet.table.index[50_000]
    column = mapping.fields["email"]

    def edit_and_recheck() -> None:
        sheet.table.at[row, column] = "not an address"
        recheck(result, sheet.table, mapping, [row])

    edit, edit_med = best_of(20, edit_and_recheck)

    print(f"machine: {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} "
          f"cores; python {sys.version.split()[0]}; rows {len(sheet.table)}")  # fmt: skip
    print(f"bare calamine read     best {bare:.2f} s  median {bare_med:.2f} s")
    print(f"read + map + check     best {ours:.2f} s  median {ours_med:.2f} s")
    print(f"CLI wall (fresh proc)  best {min(cli_walls):.2f} s vs bare {min(bare_walls):.2f} s")
    print(table([
        ("validate / bare read, in process", f"{ours / bare:.2f}x", "<= 2.5x",
         "ok" if ours / bare <= 2.5 else "MISSED"),
        ("validate / bare read, whole commands", f"{min(cli_walls) / min(bare_walls):.2f}x",
         "<= 2.5x", "ok" if min(cli_walls) / min(bare_walls) <= 2.5 else "MISSED"),
        ("peak memory of validate", f"{peak:.0f} MB", "< 400 MB", "ok" if peak < 400 else "MISSED"),
        ("one edited cell re-checked", f"{edit * 1000:.0f} ms (median {edit_med * 1000:.0f})",
         "< 200 ms", "ok" if edit < 0.2 else "MISSED"),
    ]))  # fmt: skip


if __name__ == "__main__":
    main()
