"""Every benchmark in one run: .venv/bin/python bench/run.py [validate|recheck|send|browser]"""

from __future__ import annotations

import sys

import bench_browser
import bench_recheck
import bench_send
import bench_validate

BENCHMARKS = {
    "validate": bench_validate.main,
    "recheck": bench_recheck.main,
    "send": bench_send.main,
    "browser": bench_browser.main,
}

if __name__ == "__main__":
    for name in sys.argv[1:] or BENCHMARKS:
        print(f"\n## {name}\n")
        BENCHMARKS[name]()
