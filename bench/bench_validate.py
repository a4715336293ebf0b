"""validate of a 100k-row, 8-column XLSX, clean and messy, against a bare python_calamine read of
the same file: in process and as whole commands, with and without --json; peak memory.
Run: .venv/bin/python bench/bench_validate.py [clean|messy]

Each figure is the best of several runs, as wall time and as CPU time: on a shared machine
the CPU time is the steadier of the two.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import python_calamine
from common import ROOT, messy_workbook, table, timed, verdict, workbook

from seen_core.checks import CheckOptions, check_sheet
from seen_core.contact import email_valid, phone_e164
from seen_core.mapping import suggest
from seen_core.receivers import payloads
from seen_core.sheets import read_sheet

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


def validate(data: bytes) -> None:
    sheet = read_sheet("people.xlsx", data)
    check_sheet(sheet.table, suggest(sheet.columns))


def validate_json(data: bytes, out: Path) -> None:
    """What `validate --json` does, in process: read, check, every payload, JSON to a file."""
    sheet = read_sheet("people.xlsx", data)
    mapping = suggest(sheet.columns)
    options = CheckOptions()
    result = check_sheet(sheet.table, mapping, options)
    counts = result.counts
    document = {
        **counts,
        "problems": [p.as_dict() for p in result.problems],
        "receivers": [
            {"row": row, "payload": payload}
            for row, payload in payloads(sheet.table, mapping, options.region, result.valid_rows)
        ],
    }
    with out.open("wb") as stream:
        write_json(document, stream)


def child(*args: str) -> tuple[float, float]:
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


def measure(name: str, path: Path, runs: int = 5) -> list[tuple[str, str, str, str]]:
    data = path.read_bytes()
    bare = timed(runs, lambda: bare_read(data))
    ours = timed(runs, lambda: validate(data), cold)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "validate.json"
        ours_json = timed(runs, lambda: validate_json(data, out), cold)
        json_mb = out.stat().st_size / 1e6

    # Whole commands in fresh interpreters: startup and imports count, as a user sees it. The
    # three kinds take turns, so a busy moment of the machine falls on all of them alike.
    bare_code = (
        "import python_calamine as c; "
        f"c.CalamineWorkbook.from_path({str(path)!r}).get_sheet_by_index(0).to_python()"
    )
    command = ("-m", "seen_core", "validate", str(path))
    kinds = {"bare": ("-c", bare_code), "validate": command, "json": (*command, "--json")}
    runs_of: dict[str, list[tuple[float, float]]] = {kind: [] for kind in kinds}
    for _ in range(runs):
        for kind, args in kinds.items():
            runs_of[kind].append(child(*args))
    best = {k: (min(w for w, _ in v), min(c for _, c in v)) for k, v in runs_of.items()}
    peaks = {"validate": peak_mb(*command), "json": peak_mb(*command, "--json")}

    print(f"\n### {name}: {path.name}, {path.stat().st_size / 1e6:.1f} MB\n")
    print("best of", runs, "(wall s / CPU s)")
    print(f"in process: bare read {bare[0]:.2f}/{bare[1]:.2f}, read + map + check "
          f"{ours[0]:.2f}/{ours[1]:.2f}, ... + payloads + JSON {ours_json[0]:.2f}/"
          f"{ours_json[1]:.2f} ({json_mb:.0f} MB of JSON)")  # fmt: skip
    print("commands:   " + ", ".join(f"{k} {w:.2f}/{c:.2f}" for k, (w, c) in best.items()))
    return [
        (f"{name}: validate / bare read, in process", ratio(ours, bare), "<= 2.0x",
         verdict(ours[0] / bare[0], 2.0)),
        (f"{name}: validate --json / bare read, in process", ratio(ours_json, bare), "<= 3.0x",
         verdict(ours_json[0] / bare[0], 3.0)),
        (f"{name}: validate / bare read, commands", ratio(best["validate"], best["bare"]),
         "<= 2.0x", verdict(best["validate"][0] / best["bare"][0], 2.0)),
        (f"{name}: validate --json / bare read, commands", ratio(best["json"], best["bare"]),
         "<= 3.0x", verdict(best["json"][0] / best["bare"][0], 3.0)),
        (f"{name}: peak memory, validate / --json",
         f"{peaks['validate']:.0f} / {peaks['json']:.0f} MB", "< 400 MB",
         verdict(max(peaks.values()), 399.99)),
    ]  # fmt: skip


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
