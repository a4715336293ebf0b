"""What the app needs beyond the core rules, kept free of Streamlit so it can be tested alone.

Editor fixes and re-checks, the mapping choices of the Map step, mappings remembered per
campaign, where a campaign's token comes from, the sheet kept beside each send (for reports),
and the registry of sends running in worker threads.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from seen_core.checks import CheckOptions, CheckResult, recheck
from seen_core.client import DEFAULT_BASE_URL, Secret, SeenClient, campaign_problem
from seen_core.journal import Journal, default_path
from seen_core.mapping import FIELD_NAMES, extra_key, key_problem
from seen_core.mapping import Mapping as FieldMapping
from seen_core.problems import Problem
from seen_core.receivers import payloads
from seen_core.sending import Progress, SendResult, run_job
from seen_core.sheets import Sheet

log = logging.getLogger(__name__)

SANDBOX_TARGET = "sandbox"  # the journal's target for sends to the local stand-in
PROBLEMS_COLUMN = "Problems"  # the read-only column the fix editor adds
# Statuses of rows that "Fix and send again" takes back. Not `unknown`: SEEN may have created
# those (no answer came, and without a customer ID a retry cannot be made safe), so sending them
# again could create someone twice; the user checks them in SEEN first.
RESEND_STATUSES = ("invalid", "rejected", "failed", "not_sent")


def send_rate(target: str) -> float:
    """Requests per second for a send: SEEN's documented limit is 100 per 10 s, and the client
    keeps well under it; the local sandbox has no limit worth keeping to."""
    return 50.0 if target == SANDBOX_TARGET else 10.0


def data_dir() -> Path:
    """The app's data folder: where the journal lives ($SEEN_DATA_DIR or the user's data dir)."""
    return default_path().parent


# --- campaign slugs ------------------------------------------------------------------------------


# --- the Map step --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtraChoice:
    """One column that is not a SEEN field: whether it goes into extra_args, and under what key."""

    column: str
    include: bool
    key: str


def extra_choices(
    columns: Iterable[str], fields: Mapping[str, str | None], start: FieldMapping
) -> list[ExtraChoice]:
    """The extra_args rows for every column not chosen for a SEEN field, in sheet order.

    A column the starting mapping puts in extra_args is included under its key; any other one
    (say, a column just taken off a SEEN field) starts left out, under a suggested key.
    """
    used = {c for c in fields.values() if c}
    by_column = {column: key for key, column in start.extra_args.items()}
    return [
        ExtraChoice(column, column in by_column, by_column.get(column) or extra_key(column))
        for column in columns
        if column not in used
    ]


def key_errors(choices: Iterable[ExtraChoice]) -> dict[str, str]:
    """Column → why its extra_args key is refused (only for included columns)."""
    errors: dict[str, str] = {}
    taken: dict[str, str] = {}
    for choice in choices:
        if not choice.include:
            continue
        key = choice.key.strip()
        why = key_problem(key, taken)
        if why:
            errors[choice.column] = why
        else:
            taken[key.casefold()] = choice.column
    return errors


def build_mapping(fields: Mapping[str, str | None], choices: Iterable[ExtraChoice]) -> FieldMapping:
    """The mapping the user chose: SEEN field → column, and included extra_args key → column."""
    return FieldMapping(
        {name: fields[name] for name in FIELD_NAMES if fields.get(name)},
        {c.key.strip(): c.column for c in choices if c.include},
    )


# --- mappings remembered per campaign ------------------------------------------------------------


class MappingMemory:
    """One JSON mapping file per campaign in the data folder."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = (folder or data_dir()) / "mappings"

    def _path(self, campaign: str) -> Path:
        if campaign_problem(campaign):
            raise ValueError(f"'{campaign}' is not a campaign slug.")
        return self.folder / f"{campaign}.json"

    def save(self, campaign: str, mapping: FieldMapping) -> None:
        path = self._path(campaign)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(mapping.to_dict(), ensure_ascii=False, indent=2), "utf-8")
        temporary.replace(path)

    def load(self, campaign: str, columns: Iterable[str] | None = None) -> FieldMapping | None:
        """The campaign's mapping, or None (none saved, unreadable, or naming absent columns)."""
        if campaign_problem(campaign):
            return None
        try:
            data = json.loads(self._path(campaign).read_text("utf-8"))
            mapping = FieldMapping.from_dict(data)
        except (OSError, ValueError):
            return None
        if columns is not None:
            present = set(columns)
            if not all(column in present for column in mapping.mapped_columns()):
                return None
        return mapping


# --- the Check and fix step ----------------------------------------------------------------------


def fix_view(table: pd.DataFrame, result: CheckResult, show_all: bool = False) -> pd.DataFrame:
    """The rows for the fix editor (those with problems, or all), with a Problems column.

    The index stays the spreadsheet row numbers, so an edit at a position maps back to its row.
    The Problems column comes first; its name is made unique if the sheet has a Problems column.
    """
    rows = table.index if show_all else [r for r in table.index if r in result.by_row]
    view = table.loc[rows].copy()
    sheet_errors = "; ".join(p.message for p in result.sheet_problems if p.severity == "error")
    label = PROBLEMS_COLUMN
    while label in view.columns:
        label = f"{label} (SEEN Sender)" if label == PROBLEMS_COLUMN else f"{label}*"
    view.insert(
        0,
        label,
        [result.messages(row) or (sheet_errors if result.blocked else "") for row in view.index],
    )
    return view


def apply_edits(
    table: pd.DataFrame, view_index: Iterable[int], edited_rows: Mapping[Any, Mapping[str, Any]]
) -> tuple[pd.DataFrame, list[int]]:
    """The table with the editor's edits ({position: {column: value}}) and the rows that changed.

    Positions are those of the view the editor showed; cells that did not really change, and
    edits of columns the table does not have (the Problems column), are ignored. The table is
    not copied when nothing changed.
    """
    labels = list(view_index)
    changes: list[tuple[int, str, str]] = []
    for position, cells in edited_rows.items():
        position = int(position)
        if not 0 <= position < len(labels):
            continue
        row = labels[position]
        for column, value in cells.items():
            if column not in table.columns:  # the Problems column, or a stale edit
                continue
            text = "" if value is None else str(value)
            if table.at[row, column] != text:
                changes.append((row, column, text))
    if not changes:
        return table, []
    table = table.copy()
    for row, column, text in changes:
        table.at[row, column] = text
    return table, list(dict.fromkeys(row for row, _, _ in changes))


def commit_edits(
    table: pd.DataFrame,
    result: CheckResult,
    mapping: FieldMapping,
    options: CheckOptions,
    view_index: Iterable[int],
    edited_rows: Mapping[Any, Mapping[str, Any]],
) -> tuple[pd.DataFrame, CheckResult, list[int]]:
    """Apply the editor's edits and re-check only the changed rows (plus duplicate IDs)."""
    table, changed = apply_edits(table, view_index, edited_rows)
    if not changed:
        return table, result, []
    return table, recheck(result, table, mapping, changed, options), changed


def invalid_messages(result: CheckResult) -> dict[int, str]:
    """Row → why it cannot be sent, for every invalid row (what the journal stores)."""
    sheet_errors = "; ".join(p.message for p in result.sheet_problems if p.severity == "error")
    return {
        row: result.messages(row) or sheet_errors
        for row in result.rows
        if row in result.invalid_rows
    }


def send_plan(
    table: pd.DataFrame, mapping: FieldMapping, result: CheckResult, region: str
) -> tuple[list[tuple[int, dict]], dict[int, str]]:
    """The receivers to send (row, payload) and the invalid rows with their messages."""
    if result.blocked:
        return [], invalid_messages(result)
    return payloads(table, mapping, region, result.valid_rows), invalid_messages(result)


def rows_to_send_again(table: pd.DataFrame, outcomes: Mapping[int, tuple[str, str]]) -> list[int]:
    """The rows of a finished send that were not created, for the user to fix and send again."""
    return [row for row in table.index if outcomes.get(row, ("", ""))[0] in RESEND_STATUSES]


# --- tokens --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenSource:
    """A SEEN token and a description of where it was found (never the token itself)."""

    token: Secret = field(repr=False)
    where: str


def env_name(campaign: str) -> str:
    """`SEEN_API_TOKEN_SPRING_CAMPAIGN` for `spring-campaign`."""
    return "SEEN_API_TOKEN_" + re.sub(r"[^A-Za-z0-9]", "_", campaign).upper()


def find_token(
    campaign: str, secrets: Mapping[str, Any], env: Mapping[str, str]
) -> TokenSource | None:
    """The token for a campaign, first found of: secrets [seen.campaigns] by slug, env
    SEEN_API_TOKEN_<SLUG>, secrets [seen] token, env SEEN_API_TOKEN. None when none is set."""
    seen = secrets.get("seen") if isinstance(secrets.get("seen"), Mapping) else {}
    per_campaign = seen.get("campaigns") if isinstance(seen.get("campaigns"), Mapping) else {}
    candidates: list[tuple[object, str]] = []
    if campaign:
        candidates.append((per_campaign.get(campaign), f"secrets.toml [seen.campaigns] {campaign}"))
        candidates.append((env.get(env_name(campaign)), f"environment {env_name(campaign)}"))
    candidates.append((seen.get("token"), "secrets.toml [seen] token"))
    candidates.append((env.get("SEEN_API_TOKEN"), "environment SEEN_API_TOKEN"))
    for value, where in candidates:
        if isinstance(value, str) and value.strip():
            return TokenSource(Secret(value.strip()), where)
    return None


def any_token(secrets: Mapping[str, Any], env: Mapping[str, str]) -> bool:
    """Whether any SEEN token is configured (then SEEN, not the sandbox, is the usual target)."""
    seen = secrets.get("seen") if isinstance(secrets.get("seen"), Mapping) else {}
    campaigns = seen.get("campaigns") if isinstance(seen.get("campaigns"), Mapping) else {}
    return (
        find_token("", secrets, env) is not None
        or any(isinstance(v, str) and v.strip() for v in campaigns.values())
        or any(k.startswith("SEEN_API_TOKEN_") and v.strip() for k, v in env.items())
    )


def base_url(secrets: Mapping[str, Any], env: Mapping[str, str]) -> str:
    """SEEN's address: secrets [seen] base_url, else env SEEN_BASE_URL, else api.seen.io."""
    seen = secrets.get("seen") if isinstance(secrets.get("seen"), Mapping) else {}
    value = seen.get("base_url") or env.get("SEEN_BASE_URL") or DEFAULT_BASE_URL
    return str(value).strip()


# --- the sheet kept beside each send -------------------------------------------------------------


class SheetStore:
    """The (edited) sheet of each send, kept in the journal so History can build its report
    after a restart, and deleted or purged with the send."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def save(self, job_id: int, sheet: Sheet, problems: Iterable[Problem] = ()) -> None:
        """Keep the sheet as sent, and the problems its check found, for the send's report."""
        data = {
            "file_name": sheet.file_name,
            "sha256": sheet.sha256,
            "sheet_name": sheet.sheet_name,
            "header_row": sheet.header_row,
            "columns": list(sheet.columns),
            "rows": [
                [int(row), *values]
                for row, *values in sheet.table[list(sheet.columns)].itertuples(name=None)
            ],
            "problems": [p.as_dict() for p in problems],
        }
        packed = gzip.compress(json.dumps(data, ensure_ascii=False).encode("utf-8"), 6)
        self.journal.keep_sheet(job_id, packed)

    def load(self, job_id: int) -> Sheet | None:
        kept = self.load_with_problems(job_id)
        return None if kept is None else kept[0]

    def load_with_problems(self, job_id: int) -> tuple[Sheet, list[Problem]] | None:
        packed = self.journal.kept_sheet(job_id)
        if packed is None:
            return None
        try:
            data = json.loads(gzip.decompress(packed))
        except (OSError, ValueError):
            return None
        problems = [Problem(**p) for p in data.get("problems", ())]
        columns = data["columns"]
        rows = data["rows"]
        table = pd.DataFrame(
            [r[1:] for r in rows],
            columns=columns,
            index=pd.Index([r[0] for r in rows], name="row"),
            dtype=object,
        )
        sheet = Sheet(
            file_name=data["file_name"],
            sha256=data["sha256"],
            sheet_names=[],
            sheet_name=data["sheet_name"],
            header_row=data["header_row"],
            columns=columns,
            table=table,
        )
        return sheet, problems


def outcome_sheet(file_name: str, outcomes: Mapping[int, tuple[str, str]]) -> Sheet:
    """A sheet of row numbers only, for a send whose own sheet was not kept."""
    rows = list(outcomes)
    table = pd.DataFrame(
        {"Row": [str(r) for r in rows]}, index=pd.Index(rows, name="row"), dtype=object
    )
    return Sheet(file_name, "", [], None, 1, ["Row"], table)


def with_table(sheet: Sheet, table: pd.DataFrame) -> Sheet:
    """The sheet holding the user's edited cells (the report shows what was sent)."""
    return replace(sheet, table=table)


# --- sends running in worker threads -------------------------------------------------------------


@dataclass
class RunningSend:
    """A send running (or run) in a worker thread of this server process."""

    job_id: int
    campaign: str
    cancel: threading.Event = field(default_factory=threading.Event)
    progress: Progress | None = None
    result: SendResult | None = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    thread: threading.Thread | None = None

    @property
    def finished(self) -> bool:
        return self.result is not None or self.error is not None


class SendRegistry:
    """Process-wide: job id → its running send. Starting a send that runs already is a no-op."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sends: dict[int, RunningSend] = {}

    def get(self, job_id: int) -> RunningSend | None:
        with self._lock:
            return self._sends.get(job_id)

    def running(self) -> list[RunningSend]:
        with self._lock:
            return [s for s in self._sends.values() if not s.finished]

    def start(
        self,
        journal: Journal,
        job_id: int,
        client_factory: Callable[[], SeenClient],
        campaign: str,
        *,
        rate: float = 10.0,
        max_in_flight: int = 4,
        before: Callable[[], None] | None = None,
        on_done: Callable[[RunningSend], None] | None = None,
    ) -> RunningSend:
        """Run `run_job` for the job in a daemon thread, unless it runs here already.

        `before` runs first in that thread (slow preparation the page need not wait for).
        """
        with self._lock:
            current = self._sends.get(job_id)
            if current is not None and not current.finished:
                return current
            send = RunningSend(job_id, campaign)
            self._sends[job_id] = send

        def work() -> None:
            try:
                if before is not None:
                    before()
                with client_factory() as client:
                    send.result = run_job(
                        journal,
                        job_id,
                        client,
                        campaign,
                        rate=rate,
                        max_in_flight=max_in_flight,
                        on_progress=lambda p: setattr(send, "progress", p),
                        cancel=send.cancel,
                    )
            except Exception as error:  # the page shows it; the thread must not die silently
                log.warning("Send #%s ended with %s", job_id, type(error).__name__)
                send.error = str(error) or type(error).__name__
            if on_done is not None:
                on_done(send)

        send.thread = threading.Thread(target=work, name=f"seen-send-{job_id}", daemon=True)
        send.thread.start()
        return send


def environment() -> dict[str, str]:
    """A copy of the process environment (a plain mapping for `find_token`)."""
    return dict(os.environ)


# --- reports of a send ---------------------------------------------------------------------------


def send_summary(journal: Journal, job_id: int) -> dict[str, object]:
    """What the Summary sheet says about a send (never the token)."""
    job = journal.job(job_id)
    target = "Sandbox (local stand-in)" if job.target == SANDBOX_TARGET else f"SEEN ({job.target})"
    summary: dict[str, object] = {
        "campaign": job.campaign,
        "target": target,
        "send": f"#{job.id}",
        "started": job.created_at,
        "finished": job.finished_at or "",
        "state": job.state,
    }
    if job.stop_reason:
        summary["stop_reason"] = job.stop_reason
    return summary


def report_sheet(journal: Journal, job_id: int, sheets: SheetStore) -> Sheet:
    """The sheet a send's report is built on: the one kept at send time, else row numbers."""
    return _kept(journal, job_id, sheets)[0]


def _kept(journal: Journal, job_id: int, sheets: SheetStore) -> tuple[Sheet, list[Problem]]:
    kept = sheets.load_with_problems(job_id)
    if kept is None:
        return outcome_sheet(journal.job(job_id).file_name, journal.outcomes(job_id)), []
    return kept


def report_workbook(journal: Journal, job_id: int, sheets: SheetStore) -> bytes:
    """The annotated XLSX of a send: the user's rows with SEEN status and message, a Summary,
    and the problems the check found before the send."""
    from seen_core.report import workbook_bytes

    sheet, problems = _kept(journal, job_id, sheets)
    return workbook_bytes(sheet, journal.outcomes(job_id), problems, send_summary(journal, job_id))


def report_csv(journal: Journal, job_id: int, sheets: SheetStore) -> bytes:
    from seen_core.report import csv_bytes

    return csv_bytes(report_sheet(journal, job_id, sheets), journal.outcomes(job_id))


def report_name(file_name: str, job_id: int, suffix: str) -> str:
    """`people-seen-send-3.xlsx` for `people.csv`."""
    stem = Path(file_name).stem or "receivers"
    return f"{stem}-seen-send-{job_id}{suffix}"


def regions() -> list[str]:
    """Region codes a phone number without a country code can be read in (NO first)."""
    import phonenumbers

    return ["NO", *sorted(r for r in phonenumbers.SUPPORTED_REGIONS if r != "NO")]
