"""Run one journalled send in its own process, so a test can kill it midway with SIGKILL.

Usage: send_worker.py JOURNAL JOB_ID BASE_URL CAMPAIGN (token in SEEN_API_TOKEN).
"""

from __future__ import annotations

import os
import sys

from seen_core.send.client import SeenClient
from seen_core.send.sending import run_job
from seen_core.store.journal import Journal


def main(journal_path: str, job_id: str, base_url: str, campaign: str) -> None:
    with (
        Journal(journal_path) as journal,
        SeenClient(base_url, os.environ["SEEN_API_TOKEN"]) as client,
    ):
        run_job(journal, int(job_id), client, campaign, rate=0, max_in_flight=2)


if __name__ == "__main__":
    main(*sys.argv[1:])
