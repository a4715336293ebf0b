"""The command line, `python -m seen_core inspect|validate|send|sandbox` (contract: DESIGN §5)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from seen_core.checks import CheckOptions, CheckResult, check_sheet
from seen_core.errors import InputError
from seen_core.mapping import Mapping, MappingError, load_mapping, suggest
from seen_core.receivers import payloads
from seen_core.sheets import Sheet, SheetError, read_path

EXIT_OK, EXIT_ROWS, EXIT_USAGE, EXIT_STOPPED = 0, 1, 2, 3


class UsageError(InputError):
    """Bad input from the user: one sentence, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m seen_core",
        description="Check a spreadsheet of people and send them to a SEEN campaign as receivers.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def sheet_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("file", metavar="FILE", help="CSV, XLSX, XLSM, XLS or ODS file")
        p.add_argument(
            "--sheet", metavar="NAME", help="sheet to read (default: the one with people)"
        )
        p.add_argument(
            "--header-row",
            type=int,
            metavar="N",
            help="spreadsheet row of the header (default: found)",
        )

    def check_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--mapping", metavar="M.json", help="mapping file (default: the suggestion)")
        p.add_argument("--region", default="NO", help="region for numbers without +country code")
        p.add_argument(
            "--no-delivery",
            action="store_true",
            help="SEEN does not deliver the films: a row without phone or e-mail is only a warning",
        )

    inspect = commands.add_parser("inspect", help="show sheets, header, columns and the mapping")
    sheet_options(inspect)
    inspect.add_argument("--json", action="store_true", help="print JSON")

    validate = commands.add_parser("validate", help="check every row against SEEN's rules")
    sheet_options(validate)
    check_options(validate)
    validate.add_argument("--check-images", action="store_true", help="fetch image URLs")
    validate.add_argument("--report", metavar="OUT.xlsx", help="write the annotated sheet")
    validate.add_argument("--json", action="store_true", help="print JSON")

    send = commands.add_parser("send", help="send the valid rows to a SEEN campaign")
    sheet_options(send)
    check_options(send)
    send.add_argument("--campaign", required=True, metavar="SLUG", help="campaign slug")
    send.add_argument("--base-url", default=None, metavar="URL", help="SEEN API base URL")
    send.add_argument("--batch-size", type=int, default=100, metavar="N")
    send.add_argument("--rate", type=float, default=10.0, metavar="R", help="requests per second")
    send.add_argument("--report", metavar="OUT.xlsx", help="write the annotated sheet")
    send.add_argument("--journal", metavar="DB", help="journal file (default: in SEEN_DATA_DIR)")
    send.add_argument("--resume", action="store_true", help="continue the unfinished send")
    send.add_argument("--force", action="store_true", help="send again a file already sent")
    send.add_argument("--dry-run", action="store_true", help="check and show, send nothing")
    send.add_argument("--json", action="store_true", help="print JSON")

    sandbox = commands.add_parser("sandbox", help="run a local SEEN stand-in to try sends on")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--token", default=None, help="token it accepts (default: sandbox-token)")
    sandbox.add_argument(
        "--campaign",
        action="extend",
        nargs="+",
        metavar="SLUG",
        help="campaigns that exist (default: any slug)",
    )
    sandbox.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    return parser


# --- shared steps --------------------------------------------------------------------------------


def read_input(args: argparse.Namespace) -> Sheet:
    if args.header_row is not None and args.header_row < 1:
        raise UsageError("--header-row counts from 1, as rows do in a spreadsheet.")
    return read_path(args.file, sheet=args.sheet, header_row=args.header_row)


def chosen_mapping(args: argparse.Namespace, sheet: Sheet) -> Mapping:
    return load_mapping(args.mapping) if getattr(args, "mapping", None) else suggest(sheet.columns)


def check_options_from(args: argparse.Namespace) -> CheckOptions:
    import phonenumbers

    region = args.region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise UsageError(f"--region {args.region} is not a region code such as NO, SE or DK.")
    return CheckOptions(
        region=region,
        delivery=not args.no_delivery,
        check_images=getattr(args, "check_images", False),
    )


def _print_json(data: object) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _where(sheet: Sheet) -> str:
    place = f"sheet '{sheet.sheet_name}', " if sheet.sheet_name else ""
    return f"{sheet.file_name}: {place}header on row {sheet.header_row}, {sheet.rows} rows"


# --- commands ------------------------------------------------------------------------------------


def inspect_command(args: argparse.Namespace) -> int:
    sheet = read_input(args)
    mapping = suggest(sheet.columns)
    if args.json:
        _print_json(
            {
                "sheets": sheet.sheet_names,
                "sheet": sheet.sheet_name,
                "header_row": sheet.header_row,
                "columns": sheet.columns,
                "rows": sheet.rows,
                "mapping": mapping.to_dict(),
            }
        )
        return EXIT_OK
    if sheet.sheet_names:
        print(f"Sheets: {', '.join(sheet.sheet_names)}")
    print(_where(sheet) + (f" ({sheet.blank_rows} blank rows skipped)" if sheet.blank_rows else ""))
    print("Mapping:")
    for name, column in mapping.fields.items():
        print(f"  {name:<12} ← {column}")
    for key, column in mapping.extra_args.items():
        print(f"  extra_args.{key} ← {column}")
    return EXIT_OK


def validate_command(args: argparse.Namespace) -> int:
    sheet = read_input(args)
    mapping = chosen_mapping(args, sheet)
    options = check_options_from(args)
    result = check_sheet(sheet.table, mapping, options)
    if args.report:
        write_check_report(Path(args.report), sheet, result)
    counts = result.counts
    if args.json:
        _print_json(
            {
                "rows": counts["rows"],
                "valid": counts["valid"],
                "invalid": counts["invalid"],
                "warnings": counts["warnings"],
                "problems": [p.as_dict() for p in result.problems],
                "receivers": [
                    {"row": row, "payload": payload}
                    for row, payload in payloads(
                        sheet.table, mapping, options.region, result.valid_rows
                    )
                ],
            }
        )
    else:
        print(_where(sheet))
        print(
            f"{counts['valid']} ready, {counts['invalid']} invalid, {counts['warnings']} warnings"
        )
        for p in result.problems:
            where = f"row {p.row}" if p.row is not None else "sheet"
            print(f"  {where:<9} {p.column or '':<14} {p.code:<22} {p.message}")
        if args.report:
            print(f"Report written to {args.report}")
    return EXIT_ROWS if counts["invalid"] else EXIT_OK


def write_check_report(path: Path, sheet: Sheet, result: CheckResult) -> None:
    from seen_core.report import check_outcomes, workbook_bytes

    outcomes = check_outcomes(result.rows, result.problems)
    if result.blocked:
        reason = "; ".join(p.message for p in result.sheet_problems if p.severity == "error")
        outcomes = {row: ("invalid", reason) for row in result.rows}
    write_bytes(path, workbook_bytes(sheet, outcomes, result.problems))


def write_bytes(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as error:
        raise UsageError(f"The report could not be written to {path}: {error.strerror}.") from None


def send_command(args: argparse.Namespace) -> int:
    from seen_core.send_command import run

    return run(args)


def sandbox_command(args: argparse.Namespace) -> int:
    from seen_core.sandbox import DEFAULT_TOKEN, Sandbox

    token = args.token or DEFAULT_TOKEN
    try:
        server = Sandbox(
            host=args.host,
            port=args.port,
            token=token,
            campaigns=args.campaign,
            latency=args.latency,
        )
        server.start()
    except OSError as error:
        raise UsageError(
            f"The sandbox could not listen on {args.host}:{args.port}: {error.strerror}."
        ) from None
    campaigns = ", ".join(args.campaign) if args.campaign else "any campaign slug"
    print(f"SEEN sandbox listening on {server.url} (campaigns: {campaigns}).")
    print("Send to it with:")
    print(
        f"  SEEN_API_TOKEN={token} python -m seen_core send FILE --campaign SLUG "
        f"--base-url {server.url}"
    )
    print("Press Ctrl-C to stop.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return EXIT_OK


COMMANDS = {
    "inspect": inspect_command,
    "validate": validate_command,
    "send": send_command,
    "sandbox": sandbox_command,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (SheetError, MappingError, UsageError) as error:
        print(f"seen_core: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("seen_core: stopped.", file=sys.stderr)
        return EXIT_STOPPED
    except BrokenPipeError:
        # The reader stopped reading (`| head`): not an error worth a traceback. Point stdout
        # at nothing so the interpreter's own last flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ROWS
