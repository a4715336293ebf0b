"""Shared bits of the benchmarks: inputs they build themselves, timing, a figures table."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

from tests.builders import big_workbook  # noqa: E402  (the same generator the tests use)


def workbook(rows: int = 100_000) -> Path:
    """A 100,000-row, 8-column XLSX, built once and kept in bench/out/."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"people-{rows}.xlsx"
    if not path.exists():
        path.write_bytes(big_workbook(rows))
    return path


def best_of(runs: int, action: Callable[[], object]) -> tuple[float, float]:
    """(best, median) seconds over `runs` runs."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def table(rows: list[tuple[str, str, str, str]]) -> str:
    """A Markdown table of (figure, measured, goal, verdict) rows."""
    head = ("figure", "measured", "goal", "verdict")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), rule, *map(line, rows)])


def verdict(ratio: float, goal: float) -> str:
    return "ok" if ratio <= goal else "MISSED"
