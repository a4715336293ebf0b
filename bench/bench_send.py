"""10,000 receivers sent to the sandbox with 50 ms latency, paced and unpaced, against the bound
set by the rate limit or by requests in flight × latency. Run: .venv/bin/python bench/bench_send.py

The sandbox runs in a process of its own, as SEEN would: its work is not ours to measure.
"""

from __future__ import annotations

import math
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import ROOT, table, verdict

from seen_core.sandbox import DEFAULT_TOKEN
from seen_core.send.client import SeenClient
from seen_core.send.sending import plan_send, run_job
from seen_core.store.journal import Journal

RECEIVERS = 10_000
BATCH = 100
LATENCY = 0.05
IN_FLIGHT = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sandbox() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "seen_core", "sandbox", "--port", str(port),
         "--latency", str(LATENCY)],
        cwd=ROOT, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/_sandbox/", timeout=1).read()
            return process, url
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the sandbox did not start")


def people(offset: int) -> list[tuple[int, dict]]:
    return [
        (row, {"first_name": f"Name{row}", "last_name": "Nordmann", "phone": f"+47{40000000 + row}",
               "email": f"p{row}@example.com", "customer_id": f"{offset}-{row}",
               "extra_args": {"city": "Oslo", "score": str(row % 100)}})
        for row in range(2, RECEIVERS + 2)
    ]  # fmt: skip


def send(url: str, journal: Journal, name: str, rate: float) -> float:
    job = plan_send(
        journal, file_name=name, file_sha256=name * 8, campaign=name, target=url,
        batch_size=BATCH, receivers=people(hash(name) % 1000), invalid={},
    )  # fmt: skip
    with SeenClient(url, DEFAULT_TOKEN) as client:
        start = time.perf_counter()
        result = run_job(journal, job, client, name, rate=rate, max_in_flight=IN_FLIGHT)
        elapsed = time.perf_counter() - start
    assert result.counts["created"] == RECEIVERS, result.counts
    return elapsed


def main() -> None:
    requests = math.ceil(RECEIVERS / BATCH)
    process, url = start_sandbox()
    try:
        with tempfile.TemporaryDirectory() as folder:
            journal = Journal(Path(folder) / "journal.sqlite3")
            paced = send(url, journal, "paced", rate=10.0)
            unpaced = send(url, journal, "unpaced", rate=0)
    finally:
        process.terminate()
        process.wait()
    paced_bound = (requests - 1) / 10.0 + LATENCY
    unpaced_bound = math.ceil(requests / IN_FLIGHT) * LATENCY
    print(
        f"{RECEIVERS} receivers in {requests} requests of {BATCH}, {LATENCY * 1000:.0f} ms latency"
    )
    paced_ratio, unpaced_ratio = paced / paced_bound, unpaced / unpaced_bound
    print(
        table(
            [
                (
                    "paced at 10 requests/s",
                    f"{paced:.2f} s vs bound {paced_bound:.2f} s ({paced_ratio:.2f}x)",
                    "<= 1.15x",
                    verdict(paced_ratio, 1.15),
                ),
                (
                    f"unpaced, {IN_FLIGHT} in flight",
                    f"{unpaced:.2f} s vs bound {unpaced_bound:.2f} s ({unpaced_ratio:.2f}x)",
                    "<= 1.15x",
                    verdict(unpaced_ratio, 1.15),
                ),
            ]
        )
    )


if __name__ == "__main__":
    main()
