"""validate of a 100k-row, 8-column XLSX, clean and messy, against a bare python_calamine read of
the same file: in process and as whole commands, with and without --json; peak memory.
Run: .venv/bin/python bench/bench_validate.py [clean|messy]"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import python_calamine
from common import ROOT, best_of, messy_workbook, table, verdict, workbook

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
    """Each run starts cold, as a command does: phones and e-mails are parsed afresh."""
    phone_e164.cache_clear()
    email_valid.cache_clear()


def validate(data: bytes) -> None:
    cold()
    sheet = read_sheet("people.xlsx", data)
    check_sheet(sheet.table, suggest(sheet.columns))


def validate_json(data: bytes, out: Path) -> None:
    """What `validate --json` does, in process: read, check, every payload, JSON to a file."""
    cold()
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


def child(*args: str) -> float:
    """Wall seconds of a fresh interpreter run with these arguments, its output thrown away as
    `> /dev/null` does."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - start


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


def measure(name: str, path: Path, runs: int = 5) -> list[tuple[str, str, str, str]]:
    data = path.read_bytes()
    bare, bare_med = best_of(runs, lambda: bare_read(data))
    ours, ours_med = best_of(runs, lambda: validate(data))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "validate.json"
        ours_json, ours_json_med = best_of(runs, lambda: validate_json(data, out))
        json_mb = out.stat().st_size / 1e6

    # Whole commands in fresh interpreters: startup and imports count, as a user sees it.
    bare_code = (
        "import python_calamine as c; "
        f"c.CalamineWorkbook.from_path({str(path)!r}).get_sheet_by_index(0).to_python()"
    )
    command = ("-m", "seen_core", "validate", str(path))
    walls: dict[str, list[float]] = {"bare": [], "validate": [], "json": []}
    for _ in range(runs):
        walls["bare"].append(child("-c", bare_code))
        walls["validate"].append(child(*command))
        walls["json"].append(child(*command, "--json"))
    peaks = {"validate": peak_mb(*command), "json": peak_mb(*command, "--json")}
    bare_cmd = min(walls["bare"])
    cmd, cmd_json = min(walls["validate"]), min(walls["json"])

    print(f"\n### {name}: {path.name}, {path.stat().st_size / 1e6:.1f} MB\n")
    print(f"bare calamine read        best {bare:.2f} s  median {bare_med:.2f} s")
    print(f"read + map + check        best {ours:.2f} s  median {ours_med:.2f} s")
    print(f"... + payloads + JSON     best {ours_json:.2f} s  median {ours_json_med:.2f} s"
          f"  ({json_mb:.0f} MB of JSON)")  # fmt: skip
    print(f"commands, best of {runs}    bare {bare_cmd:.2f} s, validate {cmd:.2f} s, "
          f"validate --json {cmd_json:.2f} s")  # fmt: skip
    return [
        (f"{name}: validate / bare read, in process", f"{ours / bare:.2f}x", "<= 2.0x",
         verdict(ours / bare, 2.0)),
        (f"{name}: validate --json / bare read, in process", f"{ours_json / bare:.2f}x",
         "<= 3.0x", verdict(ours_json / bare, 3.0)),
        (f"{name}: validate / bare read, commands", f"{cmd / bare_cmd:.2f}x", "<= 2.0x",
         verdict(cmd / bare_cmd, 2.0)),
        (f"{name}: validate --json / bare read, commands", f"{cmd_json / bare_cmd:.2f}x",
         "<= 3.0x", verdict(cmd_json / bare_cmd, 3.0)),
        (f"{name}: peak memory, validate / --json",
         f"{peaks['validate']:.0f} / {peaks['json']:.0f} MB", "< 400 MB",
         verdict(max(peaks.values()), 399.99)),
    ]  # fmt: skip


def main(which: list[str] | None = None) -> None:
    files = {"clean": workbook, "messy": messy_workbook}
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    rows = []
    for name in which or files:
        rows += measure(name, files[name]())
    print()
    print(table(rows))


if __name__ == "__main__":
    main(sys.argv[1:] or None)
