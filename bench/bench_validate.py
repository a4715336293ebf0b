"""validate of a 100k-row, 8-column XLSX, clean and messy, against a bare python_calamine read of
the same file: in process and as whole commands, with and without --json; peak memory.
Run: .venv/bin/python bench/bench_validate.py [clean|messy]

Each kind runs once a round, several rounds: a busy moment of the shared machine falls on all
kinds alike. The figures are the best of the rounds, as wall time and as CPU time (the steadier
of the two on a shared machine), with the median of the rounds' own ratios beside them.
"""

from __future__ import annotations

import compileall
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import python_calamine
from common import ROOT, messy_workbook, table, verdict, workbook

from seen_core.check.checks import CheckOptions, check_sheet
from seen_core.check.contact import email_valid, phone_e164
from seen_core.check.mapping import suggest
from seen_core.check.receivers import payloads
from seen_core.read.sheets import Sheet, read_sheet

try:
    from seen_core.check.phone_process import PhoneProcess
except ImportError:  # before seen_core.check.phone_process
    PhoneProcess = None

try:
    from seen_core.interpreter import gc_paused
except ImportError:  # before seen_core.interpreter: the command let the collector run
    gc_paused = contextlib.nullcontext

try:
    from seen_core.jsonout import write_json
except ImportError:  # before seen_core.jsonout: what the command did then
    import json

    def write_json(data: object, stream, *, indent: bool | None = None) -> None:
        text = io.TextIOWrapper(stream, encoding="utf-8")
        json.dump(data, text, ensure_ascii=False, indent=2)
        text.flush()
        text.detach()


def bare_read(data: bytes) -> None:
    python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(
        0
    ).to_python()


def cold() -> None:
    """Each run starts cold, as a command does: phones and e-mails are parsed afresh (emptying
    the caches is not timed: a command starts with them empty)."""
    phone_e164.cache_clear()
    email_valid.cache_clear()


def people(sheet: Sheet) -> object:
    """What the command checks: the sheet's text (before `Sheet.text`, its DataFrame)."""
    return sheet.text if hasattr(sheet, "text") else sheet.table


def phones_elsewhere() -> contextlib.AbstractContextManager:
    """The second process a command starts for a big sheet's phone numbers, if there is one
    (before `seen_core.check.phone_process`: none)."""
    return contextlib.nullcontext() if PhoneProcess is None else PhoneProcess()


def checked(sheet: Sheet, mapping: object, options: CheckOptions, elsewhere: object) -> object:
    if elsewhere is None:
        return check_sheet(people(sheet), mapping, options)
    return check_sheet(people(sheet), mapping, options, phone_process=elsewhere)


def validate(data: bytes) -> None:
    """What `validate` does, in process: a second process for the phones, read, check, with
    the cyclic garbage collector paused as the command pauses it (`seen_core.cli.main`)."""
    with gc_paused(), phones_elsewhere() as elsewhere:
        sheet = read_sheet("people.xlsx", data)
        checked(sheet, suggest(sheet.columns), CheckOptions(), elsewhere)


def validate_json(data: bytes, out: Path) -> None:
    """What `validate --json` does, in process: read, check, every payload, JSON to a file,
    the collector paused as in `validate`."""
    with gc_paused():
        _validate_json(data, out)


def _validate_json(data: bytes, out: Path) -> None:
    with phones_elsewhere() as elsewhere:
        sheet = read_sheet("people.xlsx", data)
        mapping = suggest(sheet.columns)
        options = CheckOptions()
        result = checked(sheet, mapping, options, elsewhere)
    counts = result.counts
    document = {
        **counts,
        "problems": [p.as_dict() for p in result.problems],
        "receivers": [
            {"row": row, "payload": payload}
            for row, payload in payloads(people(sheet), mapping, options.region, result.valid_rows)
        ],
    }
    with out.open("wb") as stream:
        write_json(document, stream)


Run = tuple[float, float]  # wall seconds, CPU seconds


def child(*args: str) -> Run:
    """Wall and CPU seconds of a fresh interpreter run with these arguments, its output thrown
    away as `> /dev/null` does."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0  # reaped above
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


# A child's peak memory counts what it shared with its parent before exec: this benchmark holds
# a sheet, so the command is started by a small interpreter of its own.
_PEAK = (
    "import resource, subprocess, sys; "
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def peak_mb(*args: str) -> float:
    """Peak memory (MB) of a fresh interpreter run with these arguments."""
    answer = subprocess.run(
        [sys.executable, "-c", _PEAK, sys.executable, *args],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(answer.stdout) / 1024


def ratio(ours: tuple[float, float], bare: tuple[float, float]) -> str:
    return f"{ours[0] / bare[0]:.2f}x wall, {ours[1] / bare[1]:.2f}x CPU"


def one_run(action: Callable[[], object], setup: Callable[[], object] | None = None) -> Run:
    if setup is not None:
        setup()
    start, start_cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - start, time.process_time() - start_cpu


def rounds(kinds: dict[str, Callable[[], Run]], runs: int) -> dict[str, list[Run]]:
    """Each kind once a round, `runs` rounds: a busy or a quiet moment of the shared machine
    falls on all kinds alike, and each round gives a ratio of its own."""
    found: dict[str, list[Run]] = {kind: [] for kind in kinds}
    for _ in range(runs):
        for kind, run in kinds.items():
            found[kind].append(run())
    return found


def best(found: list[Run]) -> Run:
    return min(w for w, _ in found), min(c for _, c in found)


def median_ratio(ours: list[Run], bare: list[Run]) -> float:
    """The median over the rounds of ours ÷ bare, wall time."""
    return statistics.median(o[0] / b[0] for o, b in zip(ours, bare, strict=True))


def measure(name: str, path: Path, runs: int = 7) -> list[tuple[str, str, str, str]]:
    data = path.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "validate.json"
        here = rounds(
            {
                "bare": lambda: one_run(lambda: bare_read(data)),
                "validate": lambda: one_run(lambda: validate(data), cold),
                "json": lambda: one_run(lambda: validate_json(data, out), cold),
            },
            runs,
        )
        json_mb = out.stat().st_size / 1e6

    # Whole commands in fresh interpreters: startup and imports count, as a user sees it, with
    # our modules' bytecode cached as after a first run (PYTHONDONTWRITEBYTECODE, set on some
    # machines, would otherwise have every run compile the modules changed since the last).
    compileall.compile_dir(ROOT / "seen_core", quiet=1)
    bare_code = (
        "import python_calamine as c; "
        f"c.CalamineWorkbook.from_path({str(path)!r}).get_sheet_by_index(0).to_python()"
    )
    command = ("-m", "seen_core", "validate", str(path))
    commands = rounds(
        {
            "bare": lambda: child("-c", bare_code),
            "validate": lambda: child(*command),
            "json": lambda: child(*command, "--json"),
        },
        runs,
    )
    peaks = {"validate": peak_mb(*command), "json": peak_mb(*command, "--json")}

    print(f"\n### {name}: {path.name}, {path.stat().st_size / 1e6:.1f} MB\n")
    print(f"best of {runs} rounds, each kind once a round (wall s / CPU s)")
    b, v, j = (best(here[k]) for k in ("bare", "validate", "json"))
    print(f"in process: bare read {b[0]:.2f}/{b[1]:.2f}, read + map + check {v[0]:.2f}/{v[1]:.2f}, "
          f"... + payloads + JSON {j[0]:.2f}/{j[1]:.2f} ({json_mb:.0f} MB of JSON)")  # fmt: skip
    print("commands:   " + ", ".join(
        f"{k} {best(found)[0]:.2f}/{best(found)[1]:.2f}" for k, found in commands.items()
    ))  # fmt: skip
    rows = []
    for where, found in (("in process", here), ("commands", commands)):
        for kind, label, goal in (("validate", "validate", 2.0), ("json", "validate --json", 3.0)):
            middle = median_ratio(found[kind], found["bare"])
            rows.append((
                f"{name}: {label} / bare read, {where}",
                f"{ratio(best(found[kind]), best(found['bare']))} (median {middle:.2f}x)",
                f"<= {goal}x",
                verdict(best(found[kind])[0] / best(found["bare"])[0], goal),
            ))  # fmt: skip
    rows.append((f"{name}: peak memory, validate / --json",
                 f"{peaks['validate']:.0f} / {peaks['json']:.0f} MB", "< 400 MB",
                 verdict(max(peaks.values()), 399.99)))  # fmt: skip
    return rows


def main(which: list[str] | None = None) -> None:
    files = {"clean": workbook, "messy": messy_workbook}
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    rows = []
    for name in which or files:
        rows += measure(name, files[name]())
    print()
    print(table(rows))


if __name__ == "__main__":
    main(sys.argv[1:] or None)
