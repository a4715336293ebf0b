"""`send FILE (--campaign SLUG | --workspace ID | --project ID)`: check, journal, send, report."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import seen_core.cli.options as o
from seen_core.cli.reports import write_report
from seen_core.errors import InputError
from seen_core.statuses import SUMMARY_ORDER, JobState, Status

if TYPE_CHECKING:  # only `send` sends: the other commands do not import requests
    from seen_core import flow
    from seen_core.send.sending import Progress, SendResult


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = commands.add_parser("send", help="send the valid rows to SEEN")
    o.add_sheet_options(p)
    o.add_check_options(p)
    o.add_target_options(p, required=True)
    p.add_argument("--base-url", default=None, metavar="URL", help="SEEN API base URL")
    p.add_argument("--batch-size", type=int, default=100, metavar="N")
    p.add_argument("--rate", type=float, default=None, metavar="R", help="requests per second")
    p.add_argument("--report", metavar="OUT.xlsx", help="write the annotated sheet")
    p.add_argument("--journal", metavar="DB", help="journal file (default: in SEEN_DATA_DIR)")
    p.add_argument("--resume", action="store_true", help="continue the unfinished send")
    p.add_argument("--force", action="store_true", help="send again a file already sent")
    p.add_argument("--dry-run", action="store_true", help="check and show, send nothing")
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def run(args: argparse.Namespace) -> int:
    target = o.target_key(args)
    if not 1 <= args.batch_size <= 1000:
        raise InputError("--batch-size must be between 1 and 1000.")
    if args.rate is not None and args.rate < 0:
        raise InputError("--rate must be 0 (unpaced) or more requests per second.")
    token = None if args.dry_run else o.token_from_environment(args.base_url)  # before the read
    checked = o.checked(args, target)
    from seen_core import flow  # once the file is read: see load_the_rest_meanwhile

    if checked.result.blocked:
        reasons = " ".join(
            p.message for p in checked.result.sheet_problems if p.severity == "error"
        )
        raise InputError(f"Nothing can be sent with this mapping: {reasons}")
    if token is None:  # a dry run
        return _finish(args, checked, checked.outcomes(), None, dry_run=True)

    connection = flow.connect(target, token.base_url, token.value)  # checks address and token
    journal = flow.open_journal(args.journal)
    try:
        with _cancel_on_interrupt() as cancel:
            job_id = flow.plan(
                journal,
                checked,
                connection,
                batch_size=args.batch_size,
                resume=args.resume,
                force=args.force,
            )
            sent = flow.send(
                journal, job_id, connection, rate=args.rate, on_progress=_progress(), cancel=cancel
            )
    finally:
        journal.close()
        if sys.stderr.isatty():
            sys.stderr.write("\n")
    return _finish(args, checked, flow.outcomes_after(sent), sent, address=connection.base_url)


def _finish(
    args: argparse.Namespace,
    checked: flow.Checked,
    outcomes: dict[int, tuple[str, str]],
    sent: SendResult | None,
    *,
    dry_run: bool = False,
    address: str = "",
) -> int:
    from seen_core import flow

    if sent is not None and sent.state != JobState.FINISHED and sent.stop_reason:
        o.say_error(f"The send stopped: {sent.stop_reason}")
    counts = flow.count_statuses(outcomes)
    written = ""
    if args.report:
        send = "dry run, nothing sent" if sent is None else f"#{sent.job_id}, {sent.state}"
        report = flow.report_file(
            checked,
            args.report,
            source=o.source(args),
            outcomes=outcomes,
            sent_to="not sent (dry run)" if sent is None else f"SEEN ({address})",
            details=[("Send", send)],
        )
        written = write_report(args.report, report, args.file)
    if args.json:
        data: dict[str, object] = {status.value: counts[status] for status in SUMMARY_ORDER}
        data["rows"] = [
            {"row": row, "status": status, "message": message}
            for row, (status, message) in sorted(outcomes.items())
        ]
        o.print_json(data)
    else:
        if dry_run:
            print(
                f"Dry run: {counts[Status.READY]} receivers would be sent to "
                f"{o.printable(flow.target_label(checked.target))}; "
                f"{counts[Status.INVALID]} invalid rows would not."
            )
        else:
            print(", ".join(f"{counts[s]} {s.replace('_', ' ')}" for s in SUMMARY_ORDER))
            for row, (status, message) in sorted(outcomes.items()):
                if status not in (Status.CREATED, Status.READY):
                    print(o.printable(f"  row {row:<7} {status:<9} {message}"))
        if written:
            print(o.printable(f"Report written to {written}"))
    if sent is not None and sent.state != JobState.FINISHED:
        return o.EXIT_STOPPED
    bad = sum(counts[s] for s in SUMMARY_ORDER if s != Status.CREATED)
    return o.EXIT_ROWS if bad else o.EXIT_OK


def _progress() -> Callable[[Progress], None] | None:
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


@contextmanager
def _cancel_on_interrupt() -> Iterator[threading.Event]:
    """The first Ctrl-C stops after the requests in flight; the journal keeps the rest resumable.
    The handler before is put back afterwards (the command may run inside another program)."""
    cancel = threading.Event()

    def handler(signum: int, frame: object) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        sys.stderr.write("\nStopping after the requests in flight (Ctrl-C again to quit now)…\n")

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, handler) if main else None
    try:
        yield cancel
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)
