"""`links FILE (--workspace ID | --project ID)`: each created person's video link, from SEEN."""

from __future__ import annotations

import argparse
from pathlib import Path

import seen_core.cli.options as o
from seen_core.cli.reports import write_report
from seen_core.errors import InputError


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = commands.add_parser("links", help="fetch the video links of a 2.0 send")
    p.add_argument("file", metavar="FILE", help="the file that was sent")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--workspace", metavar="ID", help="the SEEN API 2.0 workspace")
    group.add_argument("--project", metavar="ID", help="the SEEN API 2.0 project")
    p.add_argument("--base-url", default=None, metavar="URL", help="SEEN API base URL")
    p.add_argument("--journal", metavar="DB", help="journal file (default: in SEEN_DATA_DIR)")
    p.add_argument("--report", metavar="OUT.xlsx", help="write the annotated sheet with links")
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def run(args: argparse.Namespace) -> int:
    from seen_core import flow

    target = o.target_key(args)
    token = o.token_from_environment(args.base_url)
    connection = flow.connect(target, token.base_url, token.value)
    journal = flow.open_journal(args.journal)
    job = flow.latest_send_of(journal, args.file, target, connection.base_url)
    if job is None:
        raise InputError(f"{args.file} has not been sent to {flow.target_label(target)} yet.")
    try:
        found = flow.fetch_links(journal, job.id, connection)
    finally:
        journal.close()
    rows = found.as_json()["rows"]
    if found.stop_reason:
        o.say_error(f"Fetching stopped: {found.stop_reason}")
    written = ""
    if args.report:
        with flow.open_journal(args.journal) as reopened:
            outcomes = reopened.outcomes(job.id)
        data = o.source(args)
        sheet = flow.read(Path(args.file).name, data)
        options = flow.check_options(target=target)
        checked = flow.check(sheet, flow.mapping_for(sheet), options, target=target)
        report = flow.report_file(
            checked,
            args.report,
            source=data,
            outcomes=outcomes,
            sent_to=f"SEEN ({connection.base_url})",
            details=[("Send", f"#{job.id}")],
            videos=found.videos,
        )
        written = write_report(args.report, report, args.file)
    if args.json:
        o.print_json({"rows": rows})
    else:
        print(f"{len(found.with_video)} of {len(rows)} created people have a video link.")
        for r in rows:
            print(o.printable(f"  row {r['row']:<7} {r['player'] or 'not ready yet'}"))
        if written:
            print(o.printable(f"Report written to {written}"))
    if found.stop_reason:
        return o.EXIT_STOPPED
    return o.EXIT_OK if found.complete else o.EXIT_ROWS
