"""`sandbox`: a local SEEN stand-in to try sends on (v1 campaigns and 2.0 workspaces/projects)."""

from __future__ import annotations

import argparse
import time

from seen_core.cli.options import EXIT_OK
from seen_core.errors import InputError


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = commands.add_parser("sandbox", help="run a local SEEN stand-in to try sends on")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--token", default=None, help="token it accepts (default: sandbox-token)")
    p.add_argument(
        "--campaign",
        action="extend",
        nargs="+",
        metavar="SLUG",
        help="campaigns that exist (default: any slug)",
    )
    p.add_argument(
        "--workspace",
        action="extend",
        nargs="+",
        metavar="ID",
        help="2.0 workspaces that exist (default: any id)",
    )
    p.add_argument(
        "--project",
        action="extend",
        nargs="+",
        metavar="ID",
        help="2.0 projects that exist (default: any id)",
    )
    p.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    return p


def run(args: argparse.Namespace) -> int:
    from seen_core.sandbox import DEFAULT_TOKEN, Sandbox

    token = args.token or DEFAULT_TOKEN
    try:
        server = Sandbox(
            host=args.host,
            port=args.port,
            token=token,
            campaigns=args.campaign,
            workspaces=args.workspace,
            projects=args.project,
            latency=args.latency,
        ).start()
    except OSError as error:
        raise InputError(
            f"The sandbox could not listen on {args.host}:{args.port}: {error.strerror}."
        ) from None
    # Ctrl-C from the moment the server runs is a clean stop, also while it is being announced
    # (a script that reads the first line may press it at once).
    try:
        campaigns = ", ".join(args.campaign) if args.campaign else "any campaign slug"
        workspaces = ", ".join(args.workspace) if args.workspace else "any workspace id"
        print(f"SEEN sandbox listening on {server.url} (campaigns: {campaigns}; {workspaces}).")
        print("Send to it with:")
        print(
            f"  SEEN_API_TOKEN={token} python -m seen_core send FILE --campaign SLUG "
            f"--base-url {server.url}"
        )
        print(
            f"  SEEN_API_TOKEN={token} python -m seen_core send FILE --workspace ID "
            f"--base-url {server.url}"
        )
        print("Press Ctrl-C to stop.", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return EXIT_OK
