"""Every benchmark in one run: .venv/bin/python bench/run.py [NAME ...] (names below)"""

from __future__ import annotations

import sys

import bench_browser
import bench_fixes
import bench_recheck
import bench_report
import bench_send
import bench_send_v2
import bench_validate
import bench_workbench

BENCHMARKS = {
    "validate": bench_validate.main,
    "recheck": bench_recheck.main,
    "send": bench_send.main,
    "send_v2": bench_send_v2.main,
    "fixes": bench_fixes.main,
    "workbench": bench_workbench.main,
    "report": bench_report.main,
    "report_command": bench_report.main_command,
    "browser": bench_browser.main,
}

if __name__ == "__main__":
    for name in sys.argv[1:] or BENCHMARKS:
        print(f"\n## {name}\n")
        BENCHMARKS[name]()
