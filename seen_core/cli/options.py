"""Options shared by the commands, turned into typed values at the edge, and how we print."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from seen_core.check.phone_process import WORTH_STARTING_BYTES, PhoneProcess, RowsFound
from seen_core.errors import ConfigurationError, InputError

if TYPE_CHECKING:  # imported after the read, while it runs (see load_the_rest_meanwhile)
    from seen_core import flow
    from seen_core.check.checks import CheckOptions
    from seen_core.check.mapping import Mapping
    from seen_core.read.sheets import Sheet

EXIT_OK, EXIT_ROWS, EXIT_USAGE, EXIT_STOPPED = 0, 1, 2, 3
T = TypeVar("T")
TOKEN_VARIABLE = "SEEN_API_TOKEN"


def say_error(message: str) -> None:
    print(f"seen_core: {printable(message)}", file=sys.stderr)


def printable(text: object) -> str:
    """Text from a file, safe for a terminal: control characters shown, never obeyed."""
    from seen_core.safe_text import for_terminal

    return for_terminal(str(text))


# --- the sheet ---------------------------------------------------------------------------------


def add_sheet_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="CSV, XLSX, XLSM, XLS or ODS file")
    p.add_argument("--sheet", metavar="NAME", help="sheet to read (default: the one with people)")
    p.add_argument(
        "--header-row", type=int, metavar="N", help="spreadsheet row of the header (default: found)"
    )


def read_sheet(args: argparse.Namespace) -> Sheet:
    if args.header_row is not None and args.header_row < 1:
        raise InputError("--header-row counts from 1, as rows do in a spreadsheet.")
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"There is no file {path}.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder, not a file.") from None
    except OSError as error:
        raise InputError(f"{path} could not be read: {error.strerror}.") from None
    _read[args.file] = data
    # Not flow.read: the flow is still being imported while this reads (its isolation is for
    # the app's uploads; a command reads its own user's file). The reading modules load only
    # now: the phone numbers' process starts before, while this one loads them.
    from seen_core.read import sheets

    return sheets.read_sheet(path.name, data, sheet=args.sheet, header_row=args.header_row)


_read: dict[str, bytes] = {}  # file named on the command line → its bytes, as read


def source(args: argparse.Namespace) -> bytes:
    """The file named on the command line, as it is: the very bytes read and checked (the
    report edits the workbook checked, even where the file changed since), else read now."""
    if args.file in _read:
        return _read[args.file]
    try:
        return Path(args.file).read_bytes()
    except OSError as error:
        raise InputError(f"{args.file} could not be read: {error.strerror}.") from None


def where(sheet: Sheet) -> str:
    place = f"sheet '{sheet.sheet_name}', " if sheet.sheet_name else ""
    return printable(
        f"{sheet.file_name}: {place}header on row {sheet.header_row}, {sheet.rows} rows"
    )


# --- the target --------------------------------------------------------------------------------


def add_target_options(p: argparse.ArgumentParser, *, required: bool) -> None:
    group = p.add_mutually_exclusive_group(required=required)
    group.add_argument("--campaign", metavar="SLUG", help="a SEEN campaign (v1) by its slug")
    group.add_argument("--workspace", metavar="ID", help="a SEEN API 2.0 workspace by its id")
    group.add_argument("--project", metavar="ID", help="a SEEN API 2.0 project by its id")


def target_key(args: argparse.Namespace) -> str:
    """The target's key (`spring`, `workspace/ws-1`, `project/p-9`), or "" when none is named."""
    from seen_core.send.targets import target_from_key

    if getattr(args, "workspace", None):
        key = f"workspace/{args.workspace.strip()}"
    elif getattr(args, "project", None):
        key = f"project/{args.project.strip()}"
    elif getattr(args, "campaign", None) is not None:
        key = args.campaign.strip()
    else:
        return ""
    try:
        target_from_key(key)  # checks the slug or id
    except ValueError as error:
        raise InputError(str(error)) from None
    return key


# --- the check ---------------------------------------------------------------------------------


def add_check_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mapping", metavar="M.json", help="mapping file (default: the suggestion)")
    p.add_argument("--region", default="NO", help="country for numbers without +country code")
    p.add_argument(
        "--no-delivery",
        action="store_true",
        help="SEEN does not deliver the films: a row without phone or e-mail is only a warning",
    )


def mapping(args: argparse.Namespace, sheet: Sheet) -> Mapping:
    from seen_core import flow
    from seen_core.check.mapping import load_mapping

    return load_mapping(args.mapping) if args.mapping else flow.mapping_for(sheet)


def checked(args: argparse.Namespace, target: str, *, report_rows: bool = False) -> flow.Checked:
    """The file named on the command line, read, mapped and checked for the target; a big
    file's phone numbers in a second process, started before the read (see `phone_process`),
    which then finds where the rows of the file's report are (`report_rows`; see
    `rows_found`)."""
    with _phone_process_for(args.file, report_rows) as phone_process:
        sheet = read_sheet(args)
        from seen_core import flow  # once the file is read: see load_the_rest_meanwhile

        report_rows = report_rows and _read[args.file].startswith(b"PK\x03\x04")  # an XLSX
        if phone_process is not None and report_rows:
            phone_process.find_rows_after(
                args.file, sheet.sha256, sheet.sheet_name, sheet.header_row, sheet.text.rows
            )
        result = flow.check(
            sheet,
            mapping(args, sheet),
            check_options(args, target),
            target=target,
            phone_process=phone_process,
        )
        if phone_process is not None and report_rows:
            _rows_found[args.file] = phone_process.rows_found()
        return result


class Background(Generic[T]):
    """A call run in a thread of its own, for work that mostly waits (writing and syncing a
    file): `result()` waits for it, and raises what it raised."""

    def __init__(self, call: Callable[[], T]) -> None:
        self._result: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(call,), name="background")
        self._thread.start()

    def _run(self, call: Callable[[], T]) -> None:
        try:
            self._result = call()
        except BaseException as error:  # handed to whoever waits for the result
            self._error = error

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]  # set, as no error was raised


_rows_found: dict[str, RowsFound | None] = {}  # file → where its report's rows are being found


def rows_found(args: argparse.Namespace) -> RowsFound | None:
    """Where the rows of the report of the file named on the command line are being found by
    the process that checked its phone numbers (`checked(..., report_rows=True)`), if they
    are; handed out once."""
    return _rows_found.pop(args.file, None)


def _phone_process_for(
    file: str, report_rows: bool
) -> contextlib.AbstractContextManager[PhoneProcess | None]:
    try:
        big = os.stat(file).st_size >= WORTH_STARTING_BYTES
    except OSError:  # read_sheet says what is wrong with it
        big = False
    return PhoneProcess(report=report_rows) if big else contextlib.nullcontext()


def check_options(args: argparse.Namespace, target: str = "") -> CheckOptions:
    import phonenumbers

    from seen_core import flow

    region = args.region.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InputError(f"--region {args.region} is not a country code such as NO, SE or DK.")
    return flow.check_options(
        region=region,
        delivery=not args.no_delivery,
        check_images=getattr(args, "check_images", False),
        target=target,
    )


# --- output ------------------------------------------------------------------------------------


def print_json(data: object) -> None:
    from seen_core.jsonout import write_json

    sys.stdout.flush()
    write_json(data, sys.stdout)


def write_private(path: str | Path, data: bytes) -> None:
    """A report holds people's data: written readable by its owner only."""
    from seen_core.safe_text import write_private as write

    write(Path(path), data)


@dataclass(frozen=True)
class Token:
    """Where the send's token and address come from (never an argument: it would show in ps)."""

    value: str
    base_url: str | None


def token_from_environment(base_url_option: str | None) -> Token:
    """SEEN_API_TOKEN, once the environment names no token that could serve two targets (the
    app refuses to start with one; so does a command that sends)."""
    from seen_core.send.tokens import check_environment

    check_environment(os.environ)
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise ConfigurationError(
            f"Set {TOKEN_VARIABLE} to your SEEN token; it is never taken as an argument."
        )
    return Token(token, base_url_option or os.environ.get("SEEN_BASE_URL") or None)
