"""The one flow under the app and the command line: read → map → check → plan a send → send.

Each front end only gathers input and shows output; every step's wiring is here, once. See
docs/ARCHITECTURE.md ("The flow").
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from typing import TYPE_CHECKING

from seen_core.check import checks
from seen_core.check.checks import CheckOptions, CheckResult
from seen_core.check.mapping import Mapping as FieldMapping
from seen_core.check.mapping import suggest
from seen_core.check.receivers import payloads
from seen_core.errors import ConfigurationError, InputError
from seen_core.problems import Problem
from seen_core.read.isolated import Pending, read_sheet_checking_ahead
from seen_core.read.sheets import Sheet, read_sheet
from seen_core.read.text_table import Rows, TextTable, text_of
from seen_core.statuses import JobState, Status
from seen_core.statuses import count_statuses as count_statuses  # pages and commands count here
from seen_core.store.journal import JobInfo, Journal

if TYPE_CHECKING:  # sending needs requests; reading and checking should not pay for it
    import pandas as pd

    from seen_core.check.phone_process import PhoneProcess
    from seen_core.send.client import Secret, SeenClient
    from seen_core.send.links import LinksResult, Video
    from seen_core.send.sending import Progress, SendResult

ALREADY_EXISTS = "A receiver with this ID already exists."


def read(
    file_name: str,
    data: bytes,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    isolated: bool = False,
) -> Sheet:
    """The sheet of people in a file. `isolated` parses in a child process with limits, so a
    hostile file ends that parse and not the server (the app uses it for uploads)."""
    if header_row is not None and header_row < 1:
        raise InputError("The header row counts from 1, as rows do in a spreadsheet.")
    if isolated:
        from seen_core.read.isolated import read_sheet_isolated

        return read_sheet_isolated(file_name, data, sheet=sheet, header_row=header_row)
    return read_sheet(file_name, data, sheet=sheet, header_row=header_row)


def read_checking_ahead(
    file_name: str, data: bytes, options: CheckOptions
) -> tuple[Sheet, CheckAhead]:
    """`read(isolated=True)`, and the sheet's first check (its suggested mapping, these
    options) made meanwhile in the process that read it, on another core: the app's pages go
    on while it is made. `CheckAhead.result` gives it once it fits the check asked for."""
    sheet, pending = read_sheet_checking_ahead(file_name, data, asdict(options))
    return sheet, CheckAhead(sheet, options, pending)


@dataclass(frozen=True)
class CheckAhead:
    """A check of a sheet made in its reader process (see `read_checking_ahead`)."""

    sheet: Sheet
    options: CheckOptions
    pending: Pending

    def result(
        self, table: pd.DataFrame, mapping: FieldMapping, options: CheckOptions
    ) -> CheckResult | None:
        """The check made ahead, if it is the check of this table (the sheet as read, without
        changes) with this mapping and these options; else None, at once (the reader is
        stopped). Waits for the reader when it is the one."""
        if (
            table is not self.sheet.table
            or options != self.options
            or mapping.to_dict() != suggest(self.sheet.columns).to_dict()
        ):
            self.pending.cancel()
            return None
        made = self.pending.wait()
        if made is None:
            return None
        made_mapping, made_options, result = made
        if made_mapping != mapping.to_dict() or made_options != options:
            return None
        return result


def mapping_for(sheet: Sheet, chosen: Mapping | None = None) -> FieldMapping:
    """The mapping in use: the one chosen (a mapping file's form), else the suggestion."""
    if chosen is None:
        return suggest(sheet.columns)
    return FieldMapping.from_dict(chosen)


# --- rows SEEN already holds -----------------------------------------------------------------


def is_held(status: str, message: str) -> bool:
    """Whether SEEN holds this row: created, or refused only because its ID exists already."""
    if status == Status.CREATED:
        return True
    return status == Status.REJECTED and message.strip() in (
        ALREADY_EXISTS,
        f"customer_id: {ALREADY_EXISTS}",
    )


def latest_outcomes(journal: Journal, draft_id: str) -> dict[int, tuple[str, str]]:
    """Each row's latest outcome across the draft's sends; a row SEEN holds stays held."""
    latest: dict[int, tuple[str, str]] = {}
    for job in journal.draft_jobs(draft_id):  # oldest first
        for row, (status, message) in journal.outcomes(job.id).items():
            before = latest.get(row)
            if before is not None and is_held(*before):
                continue
            latest[row] = (status, message)
    return latest


def held_rows(outcomes: Mapping[int, tuple[str, str]]) -> dict[int, tuple[str, str]]:
    """Rows never to send again: SEEN holds them, or may (`unknown`: the user looks them up
    in SEEN first, since sending again could create the person twice)."""
    return {
        row: outcome
        for row, outcome in outcomes.items()
        if is_held(*outcome) or outcome[0] == Status.UNKNOWN
    }


# --- checking --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """A sheet with its changes, checked as a whole for one target.

    `edited`: the sheet with the user's changes, as the app edits it; None for the sheet as
    read (a command's: it never needs pandas). `held` are rows SEEN holds from earlier sends
    of the same draft: they are checked with every other row (so a duplicate of a created
    person is found) but never sent again.
    """

    sheet: Sheet
    edited: pd.DataFrame | None
    mapping: FieldMapping
    options: CheckOptions
    result: CheckResult
    target: str = ""
    held: Mapping[int, tuple[str, str]] = field(default_factory=dict)
    shape: Callable[[dict], dict] | None = None

    @property
    def table(self) -> pd.DataFrame:
        """The rows checked, as a DataFrame indexed by spreadsheet row."""
        return self.sheet.table if self.edited is None else self.edited

    @cached_property
    def text(self) -> Rows:
        """The rows checked, as the rules and the payloads read them."""
        return _text(self.sheet, self.edited)

    @cached_property
    def ready_rows(self) -> list[int]:
        return [row for row in self.result.valid_rows if row not in self.held]

    @cached_property
    def invalid_rows(self) -> set[int]:
        """Rows that need fixing before they can be sent (rows SEEN holds aside)."""
        if not self.held:
            return self.result.invalid_rows
        return self.result.invalid_rows.difference(self.held)

    @cached_property
    def attention_rows(self) -> list[int]:
        """The rows Check and fix lists: those to fix and those with a warning, in file order."""
        invalid, by_row = self.invalid_rows, self.result.by_row
        return [row for row in self.result.rows if row in invalid or row in by_row]

    @cached_property
    def row_set(self) -> frozenset[int]:
        """The table's rows, to test whether a row is in it."""
        return frozenset(self.result.rows)

    def prepare_views(self) -> None:
        """Work out what the pages read of a check (counts, rows to look at, problems by kind),
        so that a check made in the background leaves nothing for the page to do."""
        for owner, view in [(self, "counts"), (self, "attention_rows"), (self, "row_set"),
                            (self.result, "rows_by_code")]:  # fmt: skip
            getattr(owner, view)

    @cached_property
    def invalid(self) -> dict[int, str]:
        """Row → why it cannot be sent, for every row that needs fixing."""
        sheet_errors = "; ".join(
            p.message for p in self.result.sheet_problems if p.severity == "error"
        )
        invalid = self.invalid_rows
        return {
            row: self.result.messages(row) or sheet_errors
            for row in self.result.rows
            if row in invalid
        }

    def receivers(self) -> list[tuple[int, dict]]:
        """(row, payload) exactly as they will be sent, in file order."""
        if self.result.blocked:
            return []
        found = payloads(self.text, self.mapping, self.options.region, self.ready_rows)
        if self.shape is None:
            return found
        return [(row, self.shape(payload)) for row, payload in found]

    @cached_property
    def counts(self) -> dict[str, int]:
        rows = len(self.result.rows)
        attention = len(self.invalid_rows)
        return {
            "rows": rows,
            # Without walking every row: all rows but those to fix and those SEEN holds.
            "ready": 0
            if self.result.blocked
            else rows - len(self.result.invalid_rows.union(self.held)),
            "attention": attention,
            "held": len(self.held),
            "warnings": sum(1 for p in self.result.problems if p.severity == "warning"),
        }

    def outcomes(self) -> dict[int, tuple[str, str]]:
        """Before the next send: each row's standing (held rows keep their outcome)."""
        invalid = self.invalid
        out: dict[int, tuple[str, str]] = {}
        for row in self.result.rows:
            if row in self.held:
                out[row] = self.held[row]
            elif row in invalid:
                out[row] = (Status.INVALID, invalid[row])
            else:
                warnings = "; ".join(
                    p.message for p in self.result.by_row.get(row, ()) if p.severity == "warning"
                )
                out[row] = (Status.READY, warnings)
        return out

    @property
    def problems(self) -> list[Problem]:
        return self.result.problems


def check(
    sheet: Sheet,
    mapping: FieldMapping,
    options: CheckOptions | None = None,
    *,
    table: pd.DataFrame | None = None,
    target: str = "",
    held: Mapping[int, tuple[str, str]] | None = None,
    made: CheckResult | None = None,
    phone_process: PhoneProcess | None = None,
) -> Checked:
    """Every rule on every row of the sheet (with its changes, when `table` is given).

    `made`: the rules' result for this table, mapping and options, made already (ahead, in
    the reader process); it is used instead of checking again. `phone_process`: a second
    process for the phone numbers (a command's, see `phone_process`)."""
    options = options or CheckOptions()
    text = _text(sheet, table)
    held = dict(held or {})
    if made is None:
        made = checks.check_sheet(text, mapping, options, phone_process=phone_process)
    result = _without_held(made, text, mapping, held)
    checked = Checked(sheet, table, mapping, options, result, target, held, _shaper(target))
    checked.__dict__["text"] = text  # its columns, already taken out of the table for the rules
    return checked


def _text(sheet: Sheet, table: pd.DataFrame | None) -> Rows:
    """What the rules read of the sheet with these changes: the sheet's own lists while it is
    unchanged (the app's tables are never changed in place: each change makes a new one)."""
    if table is None or table is sheet.table_made:
        return sheet.text
    return text_of(table)


_CHECKED_FIELDS = frozenset(f.name for f in fields(Checked))


def for_target(checked: Checked, target: str) -> Checked:
    """The same check named for another target; only for a target with the same options (the
    rules do not depend on the target otherwise) and the same rows held."""
    named = replace(checked, target=target, shape=_shaper(target))
    # The views worked out already (counts, the rows to look at) do not depend on the target.
    named.__dict__.update({k: v for k, v in vars(checked).items() if k not in _CHECKED_FIELDS})
    return named


def recheck(checked: Checked, table: pd.DataFrame, changed_rows: Iterable[int]) -> Checked:
    """The same check after a change to some rows: only those rows are checked again, with the
    duplicate rule over all rows."""
    changed = list(changed_rows)
    if list(table.columns) != checked.text.columns:
        return check(
            checked.sheet,
            checked.mapping,
            checked.options,
            table=table,
            target=checked.target,
            held=checked.held,
        )
    text = text_of(table)
    result = checks.recheck(checked.result, text, checked.mapping, changed, checked.options)
    result = _without_held(result, text, checked.mapping, checked.held)
    rechecked = replace(checked, edited=table, result=result)
    rechecked.__dict__["text"] = text
    return rechecked


def _without_held(
    result: CheckResult,
    table: Rows,
    mapping: FieldMapping,
    held: Mapping[int, tuple[str, str]],
) -> CheckResult:
    """Held rows carry no problems of their own; a row repeating a held row's customer ID is
    the one flagged, whichever comes first in the sheet."""
    if not held:
        return result
    column = mapping.fields.get("customer_id")
    duplicates = {r: p for r, p in result.duplicates.items() if r not in held}
    if column is not None and column in table.columns:
        ids = dict(zip(table.rows, [str(v).strip() for v in table.column(column)], strict=True))
        held_ids: dict[str, int] = {}
        for row in held:
            if ids.get(row):
                held_ids.setdefault(ids[row], row)
        for row, value in ids.items():
            if row in held or row in duplicates or not value or value not in held_ids:
                continue
            duplicates[row] = Problem(
                int(row),
                column,
                "customer_id",
                "customer_id_duplicate",
                "error",
                f"Customer ID '{value}' was already sent to SEEN from row {held_ids[value]}.",
            )
    row_rules = {r: found for r, found in result.row_rules.items() if r not in held}
    return CheckResult(result.rows, result.sheet_problems, row_rules, duplicates)


def _shaper(target: str) -> Callable[[dict], dict] | None:
    """How the target wants each receiver (2.0 flattens it); None: as `receivers` builds it."""
    if not target:
        return None
    try:
        from seen_core.send.targets import target_from_key
    except ImportError:  # pragma: no cover - targets arrive with SEEN API 2.0
        return None
    return target_from_key(target).shape


def check_options(
    *, region: str = "NO", delivery: bool = True, check_images: bool = False, target: str = ""
) -> CheckOptions:
    """The check's options for a target (SEEN API 2.0 requires an id on every row)."""
    return CheckOptions(
        region=region, delivery=delivery, check_images=check_images, id_required=is_data(target)
    )


def target_problem(target: str) -> str | None:
    """Why a target key cannot be used, in one sentence, or None (`targets.target_problem`)."""
    from seen_core.send.targets import target_problem

    return target_problem(target)


def is_data(target: str) -> bool:
    """Whether the key names a SEEN API 2.0 workspace or project (`targets.is_data_key`)."""
    from seen_core.send.targets import is_data_key

    return is_data_key(target)


def target_label(target: str) -> str:
    """`campaign 'spring'`, `workspace 'ws-1'` (`targets.label_of`)."""
    from seen_core.send.targets import label_of

    return label_of(target)


# --- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Connection:
    """Where a send goes: the target, SEEN's address and the token (never shown)."""

    target: str
    base_url: str
    token: Secret = field(repr=False)
    sandbox: bool = False

    def client(self) -> SeenClient:
        from seen_core.send.client import SeenClient

        return SeenClient(self.base_url, self.token)

    @property
    def journal_target(self) -> str:
        """The address the journal keeps: the sandbox by name, since its port changes."""
        return SANDBOX if self.sandbox else self.base_url

    @property
    def pacing(self) -> dict[str, object]:
        """The sandbox has no limit worth keeping to; to SEEN, the target's own pacing (v1:
        10 requests/s and 1,000 an hour; 2.0: 100 per 10 s) applies."""
        return {"rate": 50.0, "windows": ()} if self.sandbox else {}


def connect(
    target: str, base_url: str | None, token: str | Secret, *, sandbox: bool = False
) -> Connection:
    """Check the address and the token before anything is journalled."""
    if not target:
        raise InputError("Choose a campaign, workspace or project to send to.")
    from seen_core.send.targets import address_for

    address = (base_url or address_for(target)).strip().rstrip("/")
    from seen_core.send.client import Secret, SeenClient

    secret = token if isinstance(token, Secret) else Secret(token)
    try:
        SeenClient(address, secret).close()
    except ValueError as error:
        raise ConfigurationError(str(error)) from None
    return Connection(target, address, secret, sandbox)


def open_journal(path: str | None = None) -> Journal:
    """The journal (`--journal`, else the data folder's), purged of what is past retention."""
    from pathlib import Path

    from seen_core.store.database import default_path, retention_days

    journal = Journal(Path(path) if path else default_path())
    purge(journal, retention_days())
    return journal


def purge(journal: Journal, days: int) -> None:
    """Sends and drafts past the retention go, with the people in them."""
    from seen_core.store.drafts import DraftStore

    journal.purge(days)
    DraftStore(journal).purge(days)


def plan(
    journal: Journal,
    checked: Checked,
    connection: Connection,
    *,
    batch_size: int = 100,
    resume: bool = False,
    force: bool = False,
    user_id: str = "",
    draft_id: str | None = None,
) -> int:
    """The send to run (one journal transaction decides and creates it): `sending.plan_send`,
    the one planning path, with the payloads exactly as `Checked.receivers` shows them."""
    from seen_core.send.sending import plan_send

    return plan_send(
        journal,
        file_name=checked.sheet.file_name,
        file_sha256=checked.sheet.sha256,
        campaign=checked.target,
        target=connection.journal_target,
        batch_size=batch_size,
        receivers=checked.receivers(),
        invalid=checked.invalid,
        resume=resume,
        force=force,
        user_id=user_id,
        draft_id=draft_id,
    )


def send(
    journal: Journal,
    job_id: int,
    connection: Connection,
    *,
    rate: float | None = None,
    max_in_flight: int = 4,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
) -> SendResult:
    """Send every row of the send still to send; safe to call again after any interruption."""
    from seen_core.send.sending import run_job

    pacing = dict(connection.pacing)
    if rate is not None:
        pacing["rate"] = rate
    with connection.client() as client:
        return run_job(
            journal,
            job_id,
            client,
            connection.target,
            max_in_flight=max_in_flight,
            on_progress=on_progress,
            cancel=cancel,
            **pacing,
        )


def outcomes_after(sent: SendResult) -> dict[int, tuple[str, str]]:
    """A send's outcomes, with the reason it stopped on the rows it did not send."""
    if sent.state == JobState.FINISHED or not sent.stop_reason:
        return dict(sent.outcomes)
    return {
        row: (status, message or (sent.stop_reason if status == Status.NOT_SENT else ""))
        for row, (status, message) in sent.outcomes.items()
    }


# --- reports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFile:
    """A report to hand the user: its bytes, the suffix its name must have, and what it lacks.

    `suffix` is ".csv", ".xlsx", or ".xlsm" for a workbook that keeps the upload's macros
    (Excel opens a workbook only under the name its kind allows); `name_for` gives a wanted
    name that suffix. `lacks` are plain sentences for the user when their workbook could not
    be annotated in place and the report is a new workbook made from its cells: why, and what
    of the original it has not ("The new workbook has no pictures, charts or merged cells of
    the original."). Empty when the report is the user's own workbook, or a CSV.
    """

    data: bytes
    suffix: str
    lacks: tuple[str, ...] = ()

    def name_for(self, wanted: str) -> str:
        """`wanted` with this report's suffix when it asks for the other kind of workbook
        (.xlsx for a macro workbook, .xlsm for a plain one); other names as they are."""
        from pathlib import PurePath

        path = PurePath(wanted)
        suffix = path.suffix.lower()
        if self.suffix != suffix and {suffix, self.suffix} == {".xlsx", ".xlsm"}:
            return str(path.with_suffix(self.suffix))
        return wanted


def report_bytes(
    checked: Checked,
    out_name: str,
    *,
    source: bytes = b"",
    outcomes: Mapping[int, tuple[str, str]] | None = None,
    sent_to: str = "not sent (checked only)",
    who: str | None = None,
    details: Sequence[tuple[str, str]] = (),
    videos: Mapping[int, Video] | None = None,
) -> bytes:
    """The user's own sheet with SEEN's answer beside each row, as XLSX (the user's workbook
    itself when `source` is one) or as CSV when `out_name` ends in .csv. `report_file` also
    gives the name it must have and what a rebuilt workbook lacks."""
    return report_file(
        checked, out_name, source=source, outcomes=outcomes, sent_to=sent_to, who=who,
        details=details, videos=videos,
    ).data  # fmt: skip


def report_file(
    checked: Checked,
    out_name: str,
    *,
    source: bytes = b"",
    outcomes: Mapping[int, tuple[str, str]] | None = None,
    sent_to: str = "not sent (checked only)",
    who: str | None = None,
    details: Sequence[tuple[str, str]] = (),
    videos: Mapping[int, Video] | None = None,
) -> ReportFile:
    """The report of `report_bytes`, with its suffix and what a rebuilt workbook lacks."""
    from datetime import UTC, datetime

    from seen_core.report import (
        ReportInput,
        ReportSummary,
        annotated_csv,
        extra_keys_of,
        made_workbook,
        values_as_sent,
    )

    sent = payloads(
        checked.text, checked.mapping, checked.options.region, checked.result.valid_rows
    )
    id_field = "id" if is_data(checked.target) else "customer_id"
    if checked.shape is not None:
        sent = [(row, checked.shape(payload)) for row, payload in sent]
    report = ReportInput(
        file_name=checked.sheet.file_name,
        source=source,
        sheet_name=checked.sheet.sheet_name,
        header_row=checked.sheet.header_row,
        table=checked.text,  # as the rules read it: a command's report never loads pandas
        outcomes=checked.outcomes() if outcomes is None else outcomes,
        summary=ReportSummary(
            target=target_label(checked.target) if checked.target else "not chosen yet",
            sent_to=sent_to,
            when=datetime.now(UTC),
            who=who,
            sha256=checked.sheet.sha256,
            details=tuple(details),
        ),
        problems=checked.problems,
        sent_as=values_as_sent(checked.text, sent, checked.mapping, id_field=id_field),
        extra_keys=extra_keys_of(checked.mapping),
        videos={
            row: (v.player, v.thumbnail, v.email_thumbnail) for row, v in (videos or {}).items()
        },
        original=checked.sheet.text,
    )
    if str(out_name).lower().endswith(".csv"):
        return ReportFile(annotated_csv(report), ".csv")
    made = made_workbook(report)
    return ReportFile(made.data, made.suffix, made.lacks)


def sent_to_words(address: str) -> str:
    """Where a send went, as the Summary sheet says it."""
    return "the sandbox (nothing reached SEEN)" if address == SANDBOX else f"SEEN ({address})"


# --- each send's own sheet, and reports of a send ------------------------------------------------

SANDBOX = "sandbox"  # the journal's address for sends to the app's local stand-in


def keep_send_sheet(journal: Journal, job_id: int, checked: Checked) -> None:
    """Keep the sheet as sent, and the problems its check found, with the send: its own
    report can then be made after a restart, and it goes when the send is deleted or purged."""
    text = checked.text
    columns = text.columns
    cells = zip(text.rows, *(text.column(c) for c in columns), strict=True)
    data = {
        "file_name": checked.sheet.file_name,
        "sha256": checked.sheet.sha256,
        "sheet_name": checked.sheet.sheet_name,
        "header_row": checked.sheet.header_row,
        "columns": [str(c) for c in columns],
        "rows": [[int(row), *values] for row, *values in cells],
        "problems": [p.as_dict() for p in checked.problems],
    }
    packed = gzip.compress(json.dumps(data, ensure_ascii=False).encode("utf-8"), 6)
    journal.keep_sheet(job_id, packed)


def kept_send_sheet(journal: Journal, job_id: int) -> tuple[Sheet, list[Problem]]:
    """The sheet kept with a send, else a sheet of its row numbers only."""
    packed = journal.kept_sheet(job_id)
    data = None
    if packed is not None:
        try:
            data = json.loads(gzip.decompress(packed))
        except (OSError, ValueError):
            data = None
    if data is None:
        rows = list(journal.outcomes(job_id))
        text = TextTable(rows, {"Row": [str(r) for r in rows]})
        return Sheet(journal.job(job_id).file_name, "", [], None, 1, ["Row"], text), []
    kept = data["rows"]
    columns = [list(column) for column in zip(*(r[1:] for r in kept), strict=True)]
    if not columns:  # no rows: no cells to take the columns from
        columns = [[] for _ in data["columns"]]
    text = TextTable([r[0] for r in kept], dict(zip(data["columns"], columns, strict=True)))
    sheet = Sheet(
        data["file_name"], data["sha256"], [], data["sheet_name"], data["header_row"],
        data["columns"], text,
    )  # fmt: skip
    return sheet, [Problem(**p) for p in data.get("problems", ())]


def send_report_bytes(
    journal: Journal,
    job_id: int,
    out_name: str,
    *,
    source: bytes = b"",
    who: str | None = None,
) -> bytes:
    """One send's own report: its sheet as sent, with that send's outcomes and any video
    links (rebuilt from its cells, or the user's workbook itself when `source` is given)."""
    return send_report_file(journal, job_id, out_name, source=source, who=who).data


def send_report_file(
    journal: Journal,
    job_id: int,
    out_name: str,
    *,
    source: bytes = b"",
    who: str | None = None,
) -> ReportFile:
    """The report of `send_report_bytes`, with its suffix and what a rebuilt workbook lacks."""
    sheet, problems = kept_send_sheet(journal, job_id)
    job = journal.job(job_id)
    result = CheckResult(list(sheet.text.rows), problems, {})
    checked = Checked(sheet, None, FieldMapping({}, {}), CheckOptions(), result, job.campaign)
    return report_file(
        checked,
        out_name,
        source=source,
        outcomes=journal.outcomes(job_id),
        sent_to=sent_to_words(job.target),
        who=who,
        details=[("Send", f"#{job.id}, {job.state}"), ("Started", job.created_at)],
        videos=stored_links(journal, job_id),
    )


def reconnect(
    journal: Journal,
    job: JobInfo,
    secrets: Mapping[str, object],
    sandbox_url: str,
    typed_token: str = "",
) -> Connection:
    """The connection to carry on an earlier send: the same address, with the token
    configured for that address, or one typed for it."""
    import os

    from seen_core.send.tokens import configured

    if job.target == SANDBOX:
        from seen_core.sandbox import DEFAULT_TOKEN

        return connect(job.campaign, sandbox_url, DEFAULT_TOKEN, sandbox=True)
    found = configured(job.campaign, secrets, dict(os.environ))
    if found is not None and found.base_url == job.target:
        return connect(job.campaign, job.target, found.token)
    if typed_token.strip():
        return connect(job.campaign, job.target, typed_token)
    raise ConfigurationError(
        f"Enter the SEEN token for {target_label(job.campaign)} at {job.target} to carry on."
    )


# --- video links (SEEN API 2.0) ----------------------------------------------------------------


def fetch_links(
    journal: Journal,
    job_id: int,
    connection: Connection,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
) -> LinksResult:
    """Ask SEEN for the films of a 2.0 send's created rows, paced like a send, and keep them."""
    from seen_core.send.links import fetch_links as fetch

    with connection.client() as client:
        return fetch(
            journal, job_id, client, on_progress=on_progress, cancel=cancel, **connection.pacing
        )


def stored_links(journal: Journal, job_id: int) -> dict[int, Video]:
    """Row → the links last fetched for a send (empty: looked up, not ready then)."""
    from seen_core.send.links import stored_links as stored

    return stored(journal, job_id)


def latest_send_of(
    journal: Journal, file: str, target: str, base_url: str, user_id: str = ""
) -> JobInfo | None:
    """The user's newest send of a file (by its content) to a target at an address; the
    command line's user is the local one (`drafts.LOCAL_USER`)."""
    import hashlib
    from pathlib import Path

    try:
        digest = hashlib.sha256(Path(file).read_bytes()).hexdigest()
    except OSError as error:
        raise InputError(f"{file} could not be read: {error.strerror}.") from None
    found = journal.jobs_for(digest, target, base_url.rstrip("/"), user_id)
    return found[0] if found else None
