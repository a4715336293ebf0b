"""`python -m seen_core send`: check the file, plan the send on the journal, run it, report it."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from seen_core.checks import CheckResult, check_sheet
from seen_core.cli import (
    EXIT_OK,
    EXIT_ROWS,
    EXIT_STOPPED,
    UsageError,
    check_options_from,
    chosen_mapping,
    read_input,
    write_bytes,
)
from seen_core.client import DEFAULT_BASE_URL, Secret, SeenClient, campaign_problem
from seen_core.journal import JobBusy, Journal, default_path, retention_days
from seen_core.receivers import payloads
from seen_core.report import count_statuses, workbook_bytes
from seen_core.sending import AlreadySent, NothingToResume, Progress, SendResult, plan_send, run_job
from seen_core.sheets import Sheet

TOKEN_VARIABLE = "SEEN_API_TOKEN"
SUMMARY_STATUSES = ("created", "rejected", "invalid", "failed", "unknown", "not_sent")


def _check_arguments(args: argparse.Namespace) -> str:
    problem = campaign_problem(args.campaign)
    if problem:
        raise UsageError(problem)
    if not 1 <= args.batch_size <= 1000:
        raise UsageError("--batch-size must be between 1 and 1000.")
    if args.rate < 0:
        raise UsageError("--rate must be 0 (unpaced) or more requests per second.")
    base_url = (args.base_url or os.environ.get("SEEN_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    if not re.match(r"https?://[^/\s]+", base_url):
        raise UsageError(f"--base-url must be an http:// or https:// address, not '{base_url}'.")
    return base_url


def _progress_printer() -> Callable[[Progress], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(progress: Progress) -> None:
        share = progress.done / progress.total if progress.total else 1.0
        bar = "#" * int(share * 30)
        left = f", {progress.eta_seconds:.0f} s left" if progress.eta_seconds is not None else ""
        counts = progress.counts
        sys.stderr.write(
            f"\r[{bar:<30}] {progress.done}/{progress.total}  created {counts.get('created', 0)}"
            f"  rejected {counts.get('rejected', 0)}  failed {counts.get('failed', 0)}"
            f"  {progress.rate:.0f} rows/s{left}   "
        )
        sys.stderr.flush()

    return show


def _cancel_on_interrupt() -> threading.Event:
    """The first Ctrl-C stops after the requests in flight; the journal keeps the rest resumable."""
    cancel = threading.Event()

    def handler(signum: int, frame: object) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        sys.stderr.write("\nStopping after the requests in flight (Ctrl-C again to quit now)…\n")

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, handler)
    return cancel


def run(args: argparse.Namespace) -> int:
    base_url = _check_arguments(args)
    sheet = read_input(args)
    mapping = chosen_mapping(args, sheet)
    options = check_options_from(args)
    result = check_sheet(sheet.table, mapping, options)
    if result.blocked:
        reasons = " ".join(p.message for p in result.sheet_problems if p.severity == "error")
        raise UsageError(f"Nothing can be sent with this mapping: {reasons}")
    receivers = payloads(sheet.table, mapping, options.region, result.valid_rows)
    invalid = {row: result.messages(row) for row in sorted(result.invalid_rows)}

    if args.dry_run:
        outcomes = {row: ("ready", "") for row, _ in receivers} | {
            row: ("invalid", message) for row, message in invalid.items()
        }
        return _finish(args, sheet, result, outcomes, None, base_url, dry_run=True)

    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise UsageError(
            f"Set {TOKEN_VARIABLE} to the campaign's SEEN token; it is never taken as an argument."
        )
    try:
        # The client checks the address and the token before anything is journalled.
        client = SeenClient(base_url, Secret(token))
    except ValueError as error:
        raise UsageError(str(error)) from None
    journal = Journal(Path(args.journal) if args.journal else default_path())
    journal.purge(retention_days())
    try:
        with client:
            job_id = plan_send(
                journal,
                file_name=sheet.file_name,
                file_sha256=sheet.sha256,
                campaign=args.campaign,
                target=client.base_url,
                batch_size=args.batch_size,
                receivers=receivers,
                invalid=invalid,
                resume=args.resume,
                force=args.force,
            )
            sent = run_job(
                journal,
                job_id,
                client,
                args.campaign,
                rate=args.rate,
                on_progress=_progress_printer(),
                cancel=_cancel_on_interrupt(),
            )
    except (AlreadySent, NothingToResume, JobBusy) as error:
        raise UsageError(str(error)) from None
    finally:
        if sys.stderr.isatty():
            sys.stderr.write("\n")
    return _finish(args, sheet, result, sent.outcomes, sent, base_url)


def _finish(
    args: argparse.Namespace,
    sheet: Sheet,
    result: CheckResult,
    outcomes: dict[int, tuple[str, str]],
    sent: SendResult | None,
    base_url: str,
    *,
    dry_run: bool = False,
) -> int:
    if sent is not None and sent.state != "finished" and sent.stop_reason:
        print(f"The send stopped: {sent.stop_reason}", file=sys.stderr)
        outcomes = {
            row: (status, message or (sent.stop_reason if status == "not_sent" else ""))
            for row, (status, message) in outcomes.items()
        }
    counts = count_statuses(outcomes)
    if args.report:
        summary = {
            "File": sheet.file_name,
            "SHA-256": sheet.sha256,
            "Campaign": args.campaign,
            "Target": base_url,
            "Send": "dry run, nothing sent" if dry_run else f"#{sent.job_id}, {sent.state}",
        }
        write_bytes(Path(args.report), workbook_bytes(sheet, outcomes, result.problems, summary))
    if args.json:
        data: dict[str, object] = {status: counts.get(status, 0) for status in SUMMARY_STATUSES}
        data["rows"] = [
            {"row": row, "status": status, "message": message}
            for row, (status, message) in sorted(outcomes.items())
        ]
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        if dry_run:
            print(
                f"Dry run: {counts.get('ready', 0)} receivers would be sent to campaign "
                f"'{args.campaign}' at {base_url}; "
                f"{counts.get('invalid', 0)} invalid rows would not."
            )
        else:
            print(", ".join(f"{counts.get(s, 0)} {s.replace('_', ' ')}" for s in SUMMARY_STATUSES))
            for row, (status, message) in sorted(outcomes.items()):
                if status not in ("created", "ready"):
                    print(f"  row {row:<7} {status:<9} {message}")
        if args.report:
            print(f"Report written to {args.report}")
    if sent is not None and sent.state != "finished":
        return EXIT_STOPPED
    bad = sum(counts.get(s, 0) for s in ("invalid", "rejected", "failed", "unknown", "not_sent"))
    return EXIT_ROWS if bad else EXIT_OK
