"""SEEN API 2.0: 2,000 single-object requests to a sandbox workspace with 20 ms latency, paced at
100 requests/s (no more than 100 in any second), against the 20 s that pace allows.
Run: .venv/bin/python bench/bench_send_v2.py

The sandbox runs in a process of its own, as SEEN would: its work is not ours to measure.
"""

from __future__ import annotations

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
from seen_core.send.targets import Workspace
from seen_core.store.journal import Journal

PEOPLE = 2_000
LATENCY = 0.02
RATE = 100.0  # requests per second
IN_FLIGHT = 4
WORKSPACE = Workspace("ws-bench")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sandbox() -> tuple[subprocess.Popen, str]:
    port = free_port()
    serve = (
        "from seen_core.sandbox import Sandbox; "
        f"Sandbox(port={port}, latency={LATENCY}, workspaces={{'{WORKSPACE.id}'}}).serve_forever()"
    )
    process = subprocess.Popen([sys.executable, "-c", serve], cwd=ROOT, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/_sandbox/", timeout=1).read()
            return process, url
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the sandbox did not start")


def people() -> list[tuple[int, dict]]:
    return [
        (row, {"first_name": f"Name{row}", "last_name": "Nordmann", "phone": f"+47{40000000 + row}",
               "email": f"p{row}@example.com", "customer_id": f"c{row}",
               "extra_args": {"city": "Oslo", "score": str(row % 100)}})
        for row in range(2, PEOPLE + 2)
    ]  # fmt: skip


def send(url: str, journal: Journal) -> float:
    job = plan_send(
        journal, file_name="v2", file_sha256="v2" * 32, campaign=WORKSPACE, target=url,
        batch_size=100, receivers=people(), invalid={},
    )  # fmt: skip
    with SeenClient(url, DEFAULT_TOKEN) as client:
        start = time.perf_counter()
        result = run_job(
            journal, job, client, WORKSPACE, rate=RATE, windows=((int(RATE), 1.0),),
            max_in_flight=IN_FLIGHT,
        )  # fmt: skip
        elapsed = time.perf_counter() - start
    assert result.counts["created"] == PEOPLE, result.counts
    return elapsed


def main() -> None:
    process, url = start_sandbox()
    try:
        with tempfile.TemporaryDirectory() as folder:
            journal = Journal(Path(folder) / "journal.sqlite3")
            elapsed = send(url, journal)
    finally:
        process.terminate()
        process.wait()
    bound = PEOPLE / RATE
    ratio = elapsed / bound
    print(
        f"{PEOPLE} people, one per request, {LATENCY * 1000:.0f} ms latency, {IN_FLIGHT} in flight"
    )
    print(
        table(
            [
                (
                    f"2.0 at {RATE:.0f} requests/s",
                    f"{elapsed:.2f} s vs {bound:.0f} s ({ratio:.2f}x)",
                    "<= 1.15x",
                    verdict(ratio, 1.15),
                )
            ]
        )
    )


if __name__ == "__main__":
    main()
