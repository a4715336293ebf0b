"""The app's one typed state: a draft, its file read, its changes applied, checked, its sends.

Streamlit-free, so every rule the pages rely on is tested here. A `Work` is rebuilt from the
journal on a reload, in a new tab or after a restart (`Work.open`), and kept in the browser
session between reruns so that nothing is read or checked twice. See docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import contextvars
import ctypes
import ctypes.util
import functools
import gc
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import replace

import pandas as pd

from seen_core import flow, i18n
from seen_core.check.checks import CheckOptions
from seen_core.check.fixes import CellEdit, Change, apply_change, undo_change
from seen_core.check.mapping import FIELD_NAMES, mapping_problems, suggest
from seen_core.check.mapping import Mapping as FieldMapping
from seen_core.errors import InputError
from seen_core.i18n import _
from seen_core.read.sheets import Sheet
from seen_core.statuses import Status
from seen_core.store.drafts import Draft, DraftStore, SavedMappings, Settings, Step, User
from seen_core.store.journal import JobInfo, Journal

log = logging.getLogger(__name__)

QUICK_CHECK_ROWS = 10_000  # a check this small takes about a tenth of a second


class Work:
    """One draft being worked on by one user."""

    def __init__(self, journal: Journal, user: User, draft: Draft, source: bytes) -> None:
        self.journal = journal
        self.user = user
        self.store = DraftStore(journal)
        self.draft = draft
        self.source = source
        self._sheets: dict[tuple[str | None, int | None], Sheet] = {}
        self._table: tuple[tuple, pd.DataFrame] | None = None
        self._checked: tuple[tuple[tuple, str], flow.Checked] | None = None
        self._reports: dict[tuple, flow.ReportFile] = {}
        self._mapping: tuple[tuple, FieldMapping] | None = None
        self._report_lock = threading.Lock()
        self._check_lock = threading.RLock()  # one check at a time, the page's or the background's
        self._checking: threading.Thread | None = None
        self._ahead: flow.CheckAhead | None = None  # the first check, made by the reader

    # --- opening -----------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        journal: Journal,
        user: User,
        file_name: str,
        data: bytes,
        *,
        target: str = "",
        destination: str = "sandbox",
        isolated: bool = True,
    ) -> Work:
        """A new draft for an uploaded file; a file that cannot be read makes no draft.

        The reader process goes on to make the sheet's first check (see
        `flow.read_checking_ahead`), so the pages after Upload are not slowed by it."""
        settings = Settings(step=Step.UPLOAD, target=target, destination=destination)
        ahead = None
        if isolated:
            options = flow.check_options(
                region=settings.region, delivery=settings.delivery, target=target
            )
            sheet, ahead = flow.read_checking_ahead(file_name, data, options)
        else:
            sheet = flow.read(file_name, data)
        settings = replace(settings, sheet_name=sheet.sheet_name, header_row=sheet.header_row)
        draft = DraftStore(journal).create(user, file_name, data, settings)
        work = cls(journal, user, draft, data)
        work._sheets[(sheet.sheet_name, sheet.header_row)] = sheet
        work._sheets[(None, None)] = sheet
        if ahead is not None and sheet.rows <= QUICK_CHECK_ROWS:
            ahead.pending.cancel()  # checked here in a moment, while the page is made
        else:
            work._ahead = ahead
        return work

    @classmethod
    def open(cls, journal: Journal, user: User, draft_id: str) -> Work:
        """The draft as it was left (NotFound when it is not this user's)."""
        store = DraftStore(journal)
        draft = store.get(user, draft_id)
        return cls(journal, user, draft, store.source(user, draft_id))

    @property
    def settings(self) -> Settings:
        return self.draft.settings

    def update(self, **changes: object) -> None:
        """Store changed choices (target, sheet, header row, mapping, region, step…)."""
        self.draft = self.store.update_settings(self.user, self.draft, **changes)

    def go(self, step: Step) -> None:
        self.update(step=step)

    # --- the sheet -------------------------------------------------------------------------

    def sheet(self, isolated: bool = True) -> Sheet:
        """The chosen sheet from the chosen header row, as read from the file."""
        key = (self.settings.sheet_name, self.settings.header_row)
        if key not in self._sheets:
            self._sheets[key] = flow.read(
                self.draft.file_name,
                self.source,
                sheet=self.settings.sheet_name,
                header_row=self.settings.header_row,
                isolated=isolated,
            )
        return self._sheets[key]

    def choose_sheet(self, sheet_name: str | None) -> None:
        """Another sheet of the workbook; its header row is found again."""
        if sheet_name == self.settings.sheet_name:
            return
        found = flow.read(self.draft.file_name, self.source, sheet=sheet_name, isolated=True)
        self._sheets[(sheet_name, found.header_row)] = found
        self.update(sheet_name=sheet_name, header_row=found.header_row, mapping=None)

    def choose_header_row(self, header_row: int) -> None:
        if header_row != self.settings.header_row:
            self.update(header_row=int(header_row), mapping=None)

    @property
    def table(self) -> pd.DataFrame:
        """The sheet's cells with every change of the draft applied."""
        sheet = self.sheet()
        key = (id(sheet), len(self.draft.changes))
        if self._table is None or self._table[0] != key:
            table = sheet.table
            for change in self.draft.changes:
                table = apply_change(table, change)
            self._table = (key, table)
        return self._table[1]

    # --- the mapping and the check ----------------------------------------------------------

    @property
    def mapping(self) -> FieldMapping:
        """The chosen mapping; else the one this user last used for the target, with the
        sheet's suggestion for each field it leaves empty; else the suggestion."""
        key = (
            json.dumps(self.settings.mapping, sort_keys=True),
            self.settings.target,
            tuple(self.table.columns),
        )
        if self._mapping is None or self._mapping[0] != key:
            if self.settings.mapping is not None:
                found = FieldMapping.from_dict(self.settings.mapping)
            else:
                found = self.saved_mapping() or suggest(self.sheet().columns)
            self._mapping = (key, found)
        return self._mapping[1]

    def saved_mapping(self) -> FieldMapping | None:
        """The mapping this user last used for the target, fitted to this sheet: what it maps
        to columns this sheet has, and for each field it leaves empty (or maps to a column this
        sheet does not have) the sheet's suggested column; None when there is none."""
        if not self.settings.target:
            return None
        found = SavedMappings(self.journal).load(self.user, self.settings.target)
        if found is None:
            return None
        try:
            saved = FieldMapping.from_dict(found)
        except InputError:
            return None
        return fitted(saved, suggest(self.sheet().columns), self.table.columns)

    def choose_mapping(self, mapping: FieldMapping) -> None:
        """The user's mapping for this draft. A mapping that names a column this sheet does
        not have is refused (InputError), and nothing changes."""
        missing = [c for c in mapping.mapped_columns() if c not in set(self.table.columns)]
        if missing:
            raise InputError(
                _("The mapping names columns this sheet does not have: {columns}.").format(
                    columns=", ".join(missing)
                )
            )
        self.update(mapping=mapping.to_dict())

    def keep_mapping(self) -> bool:
        """As the user moves on from mapping: the mapping in use becomes the draft's own (so
        the draft keeps what was shown, whatever is remembered for the target later), and is
        remembered as the one this user last used for the target when it can be used (the
        first name mapped, every column in this sheet, no key refused). Only a mapping moved
        on with is remembered, never one caught half-way through its choices. Returns whether
        it was remembered."""
        mapping = self.mapping
        self.update(mapping=mapping.to_dict())
        if not self.settings.target or mapping_problems(mapping, self.table.columns):
            return False
        return SavedMappings(self.journal).save(self.user, self.settings.target, mapping.to_dict())

    @property
    def options(self) -> CheckOptions:
        return flow.check_options(
            region=self.settings.region,
            delivery=self.settings.delivery,
            target=self.settings.target,
        )

    def sends(self) -> list[JobInfo]:
        """The sends made from this draft, oldest first."""
        return self.journal.draft_jobs(self.draft.id)

    def sent_outcomes(self) -> dict[int, tuple[str, str]]:
        """Each row's latest outcome across the draft's sends (rows never sent are absent)."""
        return flow.latest_outcomes(self.journal, self.draft.id)

    def checked(self) -> flow.Checked:
        """The whole sheet checked for the target, rows SEEN holds left out of the next send."""
        with self._check_lock:
            return self._check()

    def checked_by_now(self) -> flow.Checked | None:
        """The check of the draft as it stands if it is made, else None, with the check going on
        in the background: the pages before Check and fix show the counts when they are ready
        instead of waiting for them (100,000 rows take about a second). A small sheet's check,
        which makes itself in a moment, is waited for when it starts (so the demo's counts show
        at once); a big sheet's never, so that its pages are not held up."""
        for waited in (False, True):
            if self._check_lock.acquire(blocking=False):  # not while the thread checks
                try:
                    done = self._at_hand(self._check_key(self.sends()), self.table)
                finally:
                    self._check_lock.release()
                if done is not None:
                    return done
            if waited or (self._checking is not None and self._checking.is_alive()):
                return None
            self._checking = threading.Thread(  # its messages in the user's language
                target=contextvars.copy_context().run,
                args=(self._check_quietly,),
                name="seen-check",
                daemon=True,
            )
            self._checking.start()
            if len(self.table) > QUICK_CHECK_ROWS:
                return None
            self._checking.join(timeout=0.2)
        return None

    def _check_quietly(self) -> None:
        try:
            with self._check_lock:  # the views too, before a page may name it for a campaign
                self._check().prepare_views()
        except Exception:  # the page that needs the check says what went wrong
            log.debug("background check failed", exc_info=True)

    def _check_key(self, sends: list[JobInfo]) -> tuple[tuple, str]:
        """What a check depends on: (the rules' inputs — sheet, mapping, options, sends, which
        decide the rows held — and the target). The target matters to the rules only through
        the options (SEEN API 2.0 requires the customer ID). A send still running does not
        count until it ends (`flow.settled`): the counts stay those it started with."""
        rules = (
            id(self.sheet()),
            json.dumps(self.mapping.to_dict(), sort_keys=True),
            self.options,
            tuple((j.id, j.state, tuple(sorted(j.counts.items()))) for j in flow.settled(sends)),
            i18n.language(),  # the problems' messages are made in it
        )
        return rules, self.settings.target

    def _at_hand(self, key: tuple[tuple, str], table: pd.DataFrame) -> flow.Checked | None:
        """The last check if it holds for `key` and this table; for a new target with the same
        rules (a campaign after another) the same check, named for it."""
        if self._checked is None or self._checked[1].table is not table:
            return None
        done_key, done = self._checked
        if done_key == key:
            return done
        if done_key[0] == key[0]:
            self._checked = (key, flow.for_target(done, key[1]))
            return self._checked[1]
        return None

    def _check(self) -> flow.Checked:
        sends = self.sends()
        key = self._check_key(sends)
        table = self.table
        done = self._at_hand(key, table)
        if done is not None:
            return done
        if self._checked is not None and self._checked[0] == key:
            # a change was applied without a re-check: the same sends, the same held rows
            held = self._checked[1].held
        else:
            held = (
                flow.held_rows(flow.latest_outcomes(self.journal, self.draft.id, settled_only=True))
                if sends
                else {}
            )
        ahead, self._ahead = self._ahead, None  # asked for once: the first check
        made = None if ahead is None else ahead.result(table, self.mapping, self.options)
        checked = flow.check(
            self.sheet(),
            self.mapping,
            self.options,
            table=table,
            target=self.settings.target,
            held=held,
            made=made,
            left_out=self.left_out(),
        )
        self._checked = (key, checked)
        return checked

    # --- changes ---------------------------------------------------------------------------

    def left_out(self) -> dict[tuple[int, str], str]:
        """(row, field) → the value the row is sent without, from the draft's changes."""
        found: dict[tuple[int, str], str] = {}
        for change in self.draft.changes:
            for o in change.left_out:
                found[(o.row, o.field)] = o.value
        return found

    def apply(self, change: Change) -> flow.Checked:
        """Keep a change with the draft and re-check only the rows it touches. A new change
        forgets what was undone (there is nothing to redo after it)."""
        if change.empty:
            return self.checked()
        return self._apply(change)

    def _apply(self, change: Change, *, redone: bool = False) -> flow.Checked:
        before = self.checked()
        self.store.add_change(self.user, self.draft.id, change, redone=redone)
        self._advance(apply_change(self.table, change), change, before)
        if change.remaps:
            self._remap({m.field: m.new for m in change.remaps})
        return self.checked()

    def undo(self) -> Change | None:
        """Take the last change back; None when there is nothing to undo."""
        before = self.checked()
        if not self.draft.changes or not self.store.forget_last(self.user, self.draft.id):
            return None
        change = self.draft.changes[-1]
        table = undo_change(self.table, change)
        self.draft = replace(self.draft, changes=self.draft.changes[:-1])
        self._settle(table, change, before)
        if change.remaps:
            self._remap({m.field: m.old for m in change.remaps})
        return change

    def can_redo(self) -> Change | None:
        """The change redo would make again (the last one undone, kept with the draft), or
        None."""
        return self.store.next_redo(self.user, self.draft.id)

    def redo(self) -> Change | None:
        """Make the last undone change again; None when there is nothing to redo."""
        change = self.store.take_redo(self.user, self.draft.id)
        if change is None:
            return None
        self._apply(change, redone=True)
        return change

    def _remap(self, fields: Mapping[str, str | None]) -> None:
        """Send these fields from these columns (None: not at all); a column given a field
        is no longer sent as an extra field too."""
        now = self.mapping
        chosen = dict(now.fields)
        for name, column in fields.items():
            if column is None:
                chosen.pop(name, None)
            else:
                chosen[name] = column
        taken = {c for c in fields.values() if c is not None}
        extras = {k: c for k, c in now.extra_args.items() if c not in taken}
        ordered = {name: chosen[name] for name in FIELD_NAMES if name in chosen}
        self.update(mapping=FieldMapping(ordered, extras).to_dict())

    def _advance(self, table: pd.DataFrame, change: Change, before: flow.Checked) -> None:
        self.draft = replace(self.draft, changes=(*self.draft.changes, change))
        self._settle(table, change, before)

    def _settle(self, table: pd.DataFrame, change: Change, before: flow.Checked) -> None:
        sheet = self.sheet()
        self._table = ((id(sheet), len(self.draft.changes)), table)
        if self._checked is not None:
            key, _ = self._checked
            rechecked = flow.recheck(before, table, change.changed_rows, self.left_out())
            self._checked = (key, rechecked)

    def edit_cells(self, edits: Mapping[tuple[int, str], str], label: str = "") -> Change:
        """Cells typed in the grid: {(row, column): new text}. Unchanged cells are ignored."""
        table = self.table
        cells = tuple(
            CellEdit(int(row), column, str(table.at[row, column]), "" if new is None else str(new))
            for (row, column), new in edits.items()
            if column in table.columns
            and row in table.index
            and str(table.at[row, column]) != ("" if new is None else str(new))
        )
        if not cells:
            return Change(label or _("Nothing"), ())
        if not label:
            first = cells[0]
            label = (
                _("Row {row}, {column}: '{old}' → '{new}'").format(
                    row=first.row, column=first.column, old=first.old, new=first.new
                )
                if len(cells) == 1
                else _("{cells} cells in {rows} rows").format(
                    cells=len(cells), rows=len({c.row for c in cells})
                )
            )
        change = Change(label, cells)
        self.apply(change)
        return change

    def original(self) -> dict[tuple[int, str], str]:
        """(row, column) → the text the file held, for every cell the draft changed."""
        first: dict[tuple[int, str], str] = {}
        for change in self.draft.changes:
            for edit in change.edits:
                first.setdefault((edit.row, edit.column), edit.old)
        table = self.table
        return {
            place: old
            for place, old in first.items()
            if place[1] in table.columns and table.at[place] != old
        }

    # --- outcomes --------------------------------------------------------------------------

    def outcomes(self) -> dict[int, tuple[str, str]]:
        """Each row's standing now: its latest send outcome where it was sent and not fixed
        since, else what the check says (ready or needs fixing)."""
        checked = self.checked()
        now = checked.outcomes()
        for row, (status, message) in self.sent_outcomes().items():
            if row not in now:
                continue
            if flow.is_held(status, message) or (
                status != Status.INVALID and now[row][0] == Status.READY
            ):
                now[row] = (status, message)
        return now

    def names(self) -> dict[int, str]:
        """Row → the person's first and last name as the sheet has them (for tables of people)."""
        table = self.table
        fields = self.mapping.fields
        parts = [table[c].tolist() for c in (fields.get("first_name"), fields.get("last_name"))
                 if c is not None and c in table.columns]  # fmt: skip
        rows = table.index.tolist()
        return {
            row: " ".join(p[i].strip() for p in parts if p[i].strip()) for i, row in enumerate(rows)
        }

    def can_send(self) -> int:
        """How many rows the next send would send."""
        return len(self.checked().ready_rows)

    # --- reports -----------------------------------------------------------------------------

    def report(self, kind: str = "xlsx", engagement: Mapping | None = None) -> bytes:
        """The draft's report: the user's own workbook with every row's latest outcome across
        all the draft's sends (and the video links of its latest 2.0 send). Made once for each
        state of the draft, so the Results page's download does not make it again."""
        return self.report_file(kind, engagement).data

    def report_file(self, kind: str = "xlsx", engagement: Mapping | None = None) -> flow.ReportFile:
        """The draft's report (see `report`) with the suffix its download must have (.xlsm for
        a workbook that keeps its macros) and what it lacks when the user's workbook could not
        be annotated in place (`flow.ReportFile`). `engagement`: row → (film, opened, watched,
        clicked) of the latest send, from SEEN's callbacks (the Film … Clicked columns)."""
        sends = self.sends()
        latest = sends[-1] if sends else None
        videos = flow.stored_links(self.journal, latest.id) if latest else {}
        key = (
            kind,
            len(self.draft.changes),
            json.dumps(self.settings.mapping, sort_keys=True),
            self.options,
            tuple((j.id, j.state, tuple(sorted(j.counts.items()))) for j in sends),
            tuple(sorted((row, v.player or "") for row, v in videos.items())),
            tuple(sorted((engagement or {}).items())),
            i18n.language(),  # the report is in the language of the user who makes it
        )
        with self._report_lock:
            if key in self._reports:
                return self._reports[key]
        data = flow.report_file(
            self.checked(),
            f"report.{kind}",
            source=self.source,
            outcomes=self.outcomes(),
            sent_to=flow.sent_to_words(latest.target) if latest else _("not sent yet"),
            who=self.user.name or None,
            details=[(_("Sends from this draft"), i18n.number(len(sends)))] if sends else [],
            videos=videos,
            engagement=engagement,
        )
        with self._report_lock:
            self._reports = {k: v for k, v in self._reports.items() if k[0] != kind}
            self._reports[key] = data
        return data

    def report_name(self, suffix: str) -> str:
        """`kunder-seen.xlsx` for `kunder.csv`."""
        stem = self.draft.file_name.rsplit(".", 1)[0] or "receivers"
        return f"{stem}-seen{suffix}"


def give_back_memory() -> None:
    """Free what ended sessions leave and hand the freed heap back to the system, so that an
    idle server shrinks again. A session's pages leave reference cycles (each page's functions
    and its namespace, holding its sheet and check), which only the cyclic collector frees, and
    the server does not collect after every run; the freed memory then stays with the process
    unless glibc's malloc is asked to trim it (elsewhere there is nothing to ask)."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def fitted(saved: FieldMapping, suggestion: FieldMapping, columns: Iterable[str]) -> FieldMapping:
    """A mapping remembered from another sheet, for this one: its fields and personal fields
    that name columns of this sheet; each field it leaves empty (or maps to a column this sheet
    lacks) takes the sheet's suggested column, if that column is not a field already (a field
    wins over a personal field sending the same column)."""
    present = set(columns)
    fields = {name: column for name, column in saved.fields.items() if column in present}
    taken = set(fields.values())
    for name, column in suggestion.fields.items():
        if name not in fields and column in present and column not in taken:
            fields[name] = column
            taken.add(column)
    extras = {
        key: column
        for key, column in saved.extra_args.items()
        if column in present and column not in taken
    }
    return FieldMapping({name: fields[name] for name in FIELD_NAMES if name in fields}, extras)
