"""The flow's first steps: read a sheet, map it, check it (again after a change), and the rows
SEEN already holds."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from typing import TYPE_CHECKING

from seen_core.check import checks
from seen_core.check.checks import CheckOptions, CheckResult
from seen_core.check.mapping import Mapping as FieldMapping
from seen_core.check.mapping import suggest
from seen_core.check.receivers import payloads
from seen_core.errors import InputError
from seen_core.i18n import _
from seen_core.problems import Problem
from seen_core.read.isolated import Pending, read_sheet_checking_ahead
from seen_core.read.sheets import Sheet, read_sheet
from seen_core.read.text_table import Blanked, Rows, text_of
from seen_core.statuses import JobState, Status
from seen_core.store.journal import JobInfo, Journal

if TYPE_CHECKING:  # sending needs requests; reading and checking should not pay for it
    import pandas as pd

    from seen_core.check.phone_process import PhoneProcess


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
        raise InputError(_("The header row counts from 1, as rows do in a spreadsheet."))
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


def latest_outcomes(
    journal: Journal, draft_id: str, *, settled_only: bool = False
) -> dict[int, tuple[str, str]]:
    """Each row's latest outcome across the draft's sends; a row SEEN holds stays held.
    `settled_only`: leave out sends still running or about to (see `settled`)."""
    latest: dict[int, tuple[str, str]] = {}
    jobs = journal.draft_jobs(draft_id)  # oldest first
    for job in settled(jobs) if settled_only else jobs:
        for row, (status, message) in journal.outcomes(job.id).items():
            before = latest.get(row)
            if before is not None and is_held(*before):
                continue
            latest[row] = (status, message)
    return latest


def settled(jobs: Iterable[JobInfo]) -> list[JobInfo]:
    """The sends that are not running or about to run. While a send runs, the draft's counts
    stay those it started with (the rows it sends are counted ready until it ends), so that
    the progress, the Send page and the sidebar say the same numbers."""
    return [j for j in jobs if j.state not in (JobState.RUNNING, JobState.PENDING)]


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
    person is found) but never sent again. `left_out`: (row, field) → the value the row is
    sent without ("Leave out invalid phones"): the rules and the payloads read that cell as
    empty while it holds that value (`text`); the user's cell stays as it is (`cells`).
    """

    sheet: Sheet
    edited: pd.DataFrame | None
    mapping: FieldMapping
    options: CheckOptions
    result: CheckResult
    target: str = ""
    held: Mapping[int, tuple[str, str]] = field(default_factory=dict)
    shape: Callable[[dict], dict] | None = None
    left_out: Mapping[tuple[int, str], str] = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        """The rows checked, as a DataFrame indexed by spreadsheet row."""
        return self.sheet.table if self.edited is None else self.edited

    @cached_property
    def text(self) -> Rows:
        """The rows checked, as the rules and the payloads read them (values left out read
        as empty)."""
        return _sent_text(self.cells, self.mapping, self.left_out)

    @cached_property
    def cells(self) -> Rows:
        """The user's cells with their changes: what the workbook shows."""
        return _text(self.sheet, self.edited)

    def sent_without(self) -> dict[int, dict[str, str]]:
        """Row → {column: "sent without phone"} for the values rows are sent without: what the
        workbook's sent-as columns say beside the user's own cell."""
        text = self.text
        if not isinstance(text, Blanked):
            return {}
        out: dict[int, dict[str, str]] = {}
        for name, said in (("phone", _("sent without phone")), ("email", _("sent without e-mail"))):
            column = self.mapping.fields.get(name)
            if column is None:
                continue
            for row in text.blanked(column):
                out.setdefault(row, {})[column] = said
        return out

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

    def counts_shown(self) -> list[tuple[str, int]]:
        """The counts the sidebar shows, each meaning what it says. Before a target is named,
        or while the mapping has a problem (a refused extra field name): the rows, and those
        with a problem of their own to fix (the mapping's problem is the Map page's to say,
        not every row's); after: rows, ready to send, need attention, already in SEEN."""
        counts = self.counts
        if not self.target or self.result.blocked:
            by_row = self.result.by_row
            to_fix = sum(
                1
                for row, found in by_row.items()
                if row not in self.held and any(p.severity == "error" for p in found)
            )
            shown = [(_("Rows"), counts["rows"]), (_("Rows to fix"), to_fix)]
        else:
            shown = [
                (_("Rows"), counts["rows"]),
                (_("Ready to send"), counts["ready"]),
                (_("Need attention"), counts["attention"]),
            ]
        if counts["held"]:
            shown.append((_("Already in SEEN"), counts["held"]))
        return shown

    def outcomes(self) -> dict[int, tuple[str, str]]:
        """Before the next send: each row's standing (held rows keep their outcome), in file
        order: ready without a word, but for the rows with problems (worked out alone)."""
        result = self.result
        sheet_errors = "; ".join(p.message for p in result.sheet_problems if p.severity == "error")
        invalid = self.invalid_rows
        out: dict[int, tuple[str, str]] = dict.fromkeys(
            result.rows,
            (Status.INVALID, sheet_errors) if result.blocked else (Status.READY, ""),
        )
        for row, found in result.by_row.items():
            if row not in out:
                continue
            if row in invalid:
                out[row] = (Status.INVALID, "; ".join([p.message for p in found]) or sheet_errors)
            else:
                warnings = "; ".join([p.message for p in found if p.severity == "warning"])
                out[row] = (Status.READY, warnings)
        for row, held in self.held.items():
            if row in out:
                out[row] = held
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
    left_out: Mapping[tuple[int, str], str] | None = None,
) -> Checked:
    """Every rule on every row of the sheet (with its changes, when `table` is given).

    `made`: the rules' result for this table, mapping and options, made already (ahead, in
    the reader process); it is used instead of checking again. `phone_process`: a second
    process for the phone numbers (a command's, see `phone_process`). `left_out`: values rows
    are sent without (see `Checked`)."""
    options = options or CheckOptions()
    cells = _text(sheet, table)
    left_out = dict(left_out or {})
    text = _sent_text(cells, mapping, left_out)
    held = dict(held or {})
    if left_out:
        made = None  # made ahead of the values left out
    if made is None:
        made = checks.check_sheet(text, mapping, options, phone_process=phone_process)
    result = _without_held(made, text, mapping, held)
    checked = Checked(
        sheet, table, mapping, options, result, target, held, _shaper(target), left_out
    )
    checked.__dict__["text"] = text  # its columns, already taken out of the table for the rules
    checked.__dict__["cells"] = cells
    return checked


def _sent_text(cells: Rows, mapping: FieldMapping, left_out: Mapping[tuple[int, str], str]) -> Rows:
    """The cells as the rules and payloads read them: each value left out read as empty."""
    if not left_out:
        return cells
    blank: dict[str, dict[int, str]] = {}
    for (row, name), value in left_out.items():
        column = mapping.fields.get(name)
        if column is not None and column in cells.columns:
            blank.setdefault(column, {})[row] = value
    if not blank:
        return cells
    base = cells.base if isinstance(cells, Blanked) else cells
    return Blanked(base, blank)


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


def recheck(
    checked: Checked,
    table: pd.DataFrame,
    changed_rows: Iterable[int],
    left_out: Mapping[tuple[int, str], str] | None = None,
) -> Checked:
    """The same check after a change to some rows: only those rows are checked again, with the
    duplicate rule over all rows. `left_out`: the values left out now (else as before)."""
    changed = list(changed_rows)
    left_out = dict(checked.left_out if left_out is None else left_out)
    if list(table.columns) != checked.text.columns:
        return check(
            checked.sheet,
            checked.mapping,
            checked.options,
            table=table,
            target=checked.target,
            held=checked.held,
            left_out=left_out,
        )
    cells = text_of(table)
    text = _sent_text(cells, checked.mapping, left_out)
    result = checks.recheck(checked.result, text, checked.mapping, changed, checked.options)
    result = _without_held(result, text, checked.mapping, checked.held)
    rechecked = replace(checked, edited=table, result=result, left_out=left_out)
    rechecked.__dict__["text"] = text
    rechecked.__dict__["cells"] = cells
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
                _("Customer ID '{value}' was already sent to SEEN from row {row}.").format(
                    value=value, row=held_ids[value]
                ),
            )
    row_rules = {r: found for r, found in result.row_rules.items() if r not in held}
    return CheckResult(
        result.rows, result.sheet_problems, row_rules, duplicates, phone_e164=result.phone_e164
    )


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
