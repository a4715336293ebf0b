"""`engagement (--campaign SLUG | --workspace ID | --project ID)`: what SEEN's callbacks and
viewer events brought for the user's people on that target (films, opened … clicked)."""

from __future__ import annotations

import argparse
from pathlib import Path

import seen_core.cli.options as o
from seen_core.cli.reports import write_report
from seen_core.errors import InputError


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = commands.add_parser(
        "engagement", help="films made and what viewers did, from SEEN's callbacks"
    )
    o.add_target_options(p, required=True)
    p.add_argument("--journal", metavar="DB", help="journal file (default: in SEEN_DATA_DIR)")
    p.add_argument(
        "--report", metavar="OUT.xlsx", help="write the latest send's workbook with Film … Clicked"
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def run(args: argparse.Namespace) -> int:
    from seen_core import flow
    from seen_core.engagement import (
        EngagementStore,
        default_store_path,
        engagement_for_job,
        engagement_for_target,
    )
    from seen_core.store.drafts import LOCAL_USER

    target = o.target_key(args)
    journal = flow.open_journal(args.journal)
    try:
        with EngagementStore(default_store_path(journal.path)) as store:
            mine = [job for job in journal.jobs(LOCAL_USER.id) if job.campaign == target]
            if not mine:
                raise InputError(f"Nothing has been sent to {flow.target_label(target)} yet.")
            found = engagement_for_target(journal, store, target, LOCAL_USER.id)
            written = ""
            if args.report:
                latest = mine[0]  # newest first
                of_send = engagement_for_job(journal, store, latest.id)
                report = flow.send_report_file(
                    journal,
                    latest.id,
                    args.report,
                    engagement={
                        p.row: (p.film, p.opened, p.watched, p.clicked) for p in of_send.rows
                    },
                )
                written = write_report(args.report, report, Path(args.report).name)
    finally:
        journal.close()
    if args.json:
        o.print_json(found.as_json())
    else:
        print(
            f"{found.films} of {found.people} people have a film; {found.opened} opened it, "
            f"{found.played} played it, {found.watched} watched it, {found.clicked} clicked."
        )
        if found.unmatched:
            print(f"{found.unmatched} calls from SEEN match no one sent.")
        for person in found.rows:
            did = [
                name
                for name, done in (
                    ("opened", person.opened),
                    ("played", person.played),
                    ("watched", person.watched),
                    ("clicked", person.clicked),
                )
                if done
            ]
            film = person.film or "no film yet"
            print(o.printable(f"  {person.id:<12} {film}  {' '.join(did)}"))
        if written:
            print(o.printable(f"Report written to {written}"))
    return o.EXIT_OK if found.films == found.people else o.EXIT_ROWS
