"""Fixes to the sheet as undoable Changes: cell edits, and bulk fixes previewed before applying.

A bulk fix never touches the table: it returns the `Change` it would make, so the page can say
"changes 1,234 rows" first; `apply_change` makes it and `undo_change` takes it back. The table
is text cells ("" when empty), its index the spreadsheet's row numbers, its columns the user's
headers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from seen_core.check.checks import CheckResult
from seen_core.check.contact import phone_e164
from seen_core.check.countries import region_from_text
from seen_core.check.mapping import Mapping
from seen_core.errors import InputError
from seen_core.i18n import N_, _
from seen_core.interpreter import gc_paused
from seen_core.problems import Problem, describe

__all__ = [
    "CellEdit",
    "Change",
    "LeftOut",
    "Remap",
    "apply_change",
    "find_replace",
    "leave_out_invalid",
    "leave_out_preview",
    "phones_from_country_column",
    "split_full_name",
    "suggested_fixes",
    "trim",
    "undo_change",
    "unknown_countries",
]


@dataclass(frozen=True, slots=True)
class CellEdit:
    """One cell changed: its spreadsheet row number, column header, and text before and after."""

    row: int
    column: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A value sent without: the row is sent without its `field` ("phone" or "email") while
    the user's cell still holds `value`; the cell itself is never changed."""

    row: int
    field: str
    value: str


@dataclass(frozen=True, slots=True)
class Remap:
    """A field sent from another column after a change: `field` from `new` (was `old`, None
    when the field was not mapped)."""

    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class Change:
    """One undoable step: a cell fix in the grid, or one bulk fix.

    `new_columns` are columns the change adds to the table (a split into a 'Last name' column
    the sheet did not have); undoing it removes them again. `left_out` are values the rows are
    sent without (the cells stay as they are); `remaps` are fields the change sends from
    other columns (a split full name sends first and last name from the new columns): the
    draft's mapping follows them, and undo takes them back.
    """

    label: str  # "Find 'gmial.com' → 'gmail.com' in E-post"
    edits: tuple[CellEdit, ...]
    new_columns: tuple[str, ...] = ()
    left_out: tuple[LeftOut, ...] = ()
    remaps: tuple[Remap, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether it changes nothing at all."""
        return not (self.edits or self.new_columns or self.left_out or self.remaps)

    @cached_property
    def rows(self) -> int:
        """How many distinct rows it changes."""
        return len(self.changed_rows)

    @cached_property
    def changed_rows(self) -> list[int]:
        """The rows it changes, in the order of its edits: what `checks.recheck` needs."""
        return list(
            dict.fromkeys([*(edit.row for edit in self.edits), *(o.row for o in self.left_out)])
        )


def _column_missing(column: str) -> InputError:
    return InputError(_("The sheet has no column '{column}'.").format(column=column))


def _write(table: pd.DataFrame, edits: Iterable[CellEdit], new: bool, add: Sequence[str]) -> None:
    """Write each edit's new (or old) text into `table`, a column at a time."""
    by_column: dict[str, tuple[list[int], list[str]]] = {}
    for edit in edits:
        rows, values = by_column.setdefault(edit.column, ([], []))
        rows.append(edit.row)
        values.append(edit.new if new else edit.old)
    for column in add:
        if column not in table.columns:
            table[column] = pd.Series("", index=table.index, dtype=object)  # as sheets reads
    for column, (rows, values) in by_column.items():
        if column not in table.columns:
            raise _column_missing(column)
        positions = table.index.get_indexer(rows)
        if (positions < 0).any():
            missing = rows[int((positions < 0).argmax())]
            raise InputError(_("The sheet has no row {row}.").format(row=missing))
        before = table[column]
        cells = before.to_numpy(dtype=object, copy=True)
        cells[positions] = values
        table[column] = pd.Series(cells, index=table.index, dtype=before.dtype, copy=False)


@gc_paused()  # 100k edits are 100k objects and no cycles
def apply_change(table: pd.DataFrame, change: Change) -> pd.DataFrame:
    """A copy of the table with the change made (and the columns it adds added)."""
    out = table.copy(deep=False)  # every column written is a new array; the rest is shared
    _write(out, change.edits, new=True, add=change.new_columns)
    return out


@gc_paused()
def undo_change(table: pd.DataFrame, change: Change) -> pd.DataFrame:
    """A copy of the table with the change taken back (and the columns it added removed)."""
    out = table.copy(deep=False)
    _write(out, change.edits, new=False, add=())
    added = [c for c in change.new_columns if c in out.columns]
    return out.drop(columns=added) if added else out


def _diff(column: str, old: pd.Series, new: pd.Series) -> tuple[CellEdit, ...]:
    """The cells where `new` differs from `old`, as edits of one column."""
    changed = (old != new).to_numpy()
    if not changed.any():
        return ()
    rows = old.index[changed].tolist()
    olds = old.to_numpy(dtype=object)[changed].tolist()
    news = new.to_numpy(dtype=object)[changed].tolist()
    return tuple(map(CellEdit, rows, [column] * len(rows), olds, news))


def _text(table: pd.DataFrame, column: str) -> pd.Series:
    if column not in table.columns:
        raise _column_missing(column)
    return table[column].astype(object)


# --- find and replace ---------------------------------------------------------------------------


@gc_paused()
def find_replace(
    table: pd.DataFrame,
    column: str,
    find: str,
    replace: str,
    *,
    whole_cell: bool = False,
    match_case: bool = True,
) -> Change:
    """Replace plain text (not a pattern) in one column: every occurrence inside a cell, or with
    `whole_cell` only cells that are exactly `find` (spaces around it ignored). A whole-cell
    find of "" fills the empty cells."""
    old = _text(table, column)
    if whole_cell:
        label = (
            _("Fill empty cells in {column} with '{replace}'")
            if not find.strip()
            else _("Replace cells '{find}' with '{replace}' in {column}")
        ).format(column=column, find=find, replace=replace)
        stripped, target = old.str.strip(), find.strip()
        if not match_case:
            stripped, target = stripped.str.casefold(), target.casefold()
        hits = stripped == target
        new = old.where(~hits, replace)
    else:
        label = (
            _("Remove '{find}' from {column}")
            if not replace
            else _("Find '{find}' → '{replace}' in {column}")
        ).format(column=column, find=find, replace=replace)
        if not find:
            return Change(label, ())
        if match_case:
            new = old.str.replace(find, replace, regex=False)
        else:
            literal = replace.replace("\\", "\\\\")  # a backslash in `replace` is only text
            new = old.str.replace(re.escape(find), literal, regex=True, flags=re.IGNORECASE)
    return Change(label, _diff(column, old, new))


# --- trim ---------------------------------------------------------------------------------------

# Spaces at either end, including the invisible ones CRM exports carry (no-break, zero-width,
# a stray byte-order mark); inside a cell only no-break spaces become plain ones.
_EDGES = "".join(c for c in map(chr, range(0x3000 + 1)) if c.isspace()) + "\u200b\ufeff"
_NO_BREAK = str.maketrans(dict.fromkeys("\u00a0\u2007\u202f", " "))
_HAS_NO_BREAK = re.compile("[\u00a0\u2007\u202f]")


@gc_paused()
def trim(table: pd.DataFrame, columns: Sequence[str]) -> Change:
    """Remove spaces before and after the text of each cell in these columns, and turn no-break
    spaces into plain ones. Spaces between words are kept as they are."""
    rows = table.index.tolist()
    edits: list[CellEdit] = []
    for column in columns:
        values = _text(table, column).tolist()
        # Most columns hold no no-break space at all: one search over the column says so.
        if _HAS_NO_BREAK.search("\n".join(values)) is None:
            found = [i for i, v in enumerate(values) if v and (v[0] in _EDGES or v[-1] in _EDGES)]
            fixed = [values[i].strip(_EDGES) for i in found]
        else:
            found = [i for i, v in enumerate(values) if v]
            fixed = [values[i].strip(_EDGES).translate(_NO_BREAK) for i in found]
        edits.extend(
            CellEdit(rows[i], column, values[i], new)
            for i, new in zip(found, fixed, strict=True)
            if new != values[i]
        )
    if len(columns) == 1:
        label = _("Trim spaces in {column}").format(column=columns[0])
    else:
        label = _("Trim spaces in {count} columns").format(count=len(columns))
    return Change(label, tuple(edits))


# --- phone numbers with a country column ---------------------------------------------------------


@gc_paused()
def phones_from_country_column(
    table: pd.DataFrame,
    phone_column: str,
    country_column: str | None,
    default_region: str = "NO",
) -> Change:
    """Write each phone number with its country code (+4745860321), reading a number without
    one in the country its row's country cell names ('Norge', 'SE', '+45', …), or in
    `default_region` where that cell is empty or not understood (or `country_column` is None).
    Numbers that are still not valid are left as they are. Pass the region the sheet was
    checked with as `default_region`: the numbers the check parsed are not parsed again."""
    phones = _text(table, phone_column)
    if country_column is None:
        regions = [default_region] * len(phones)
        label = _("Write the phone numbers in {column} with their country code").format(
            column=phone_column
        )
    else:
        countries = _text(table, country_column)
        known = {value: region_from_text(value) or default_region for value in countries.unique()}
        regions = countries.map(known).tolist()
        label = _("Write the phone numbers in {column} with the country in {country}").format(
            column=phone_column, country=country_column
        )
    rows = phones.index.tolist()
    edits = []
    for row, phone, region in zip(rows, phones.tolist(), regions, strict=True):
        text = phone.strip()  # as the check reads it, so numbers it parsed are cache hits
        if not text:
            continue
        if text.startswith("+"):  # its own country code decides, whatever the row's country
            region = default_region
        written = phone_e164(text, region)
        if written is not None and written != phone:
            edits.append(CellEdit(row, phone_column, phone, written))
    return Change(label, tuple(edits))


def unknown_countries(table: pd.DataFrame, country_column: str) -> list[str]:
    """The distinct non-empty values of a country column that name no country we know."""
    values = _text(table, country_column).unique()
    return [v for v in values if v.strip() and region_from_text(v) is None]


# --- split a full name --------------------------------------------------------------------------

# Lowercase words that belong to the last name: "Hilma af Klint", "Ludwig van Beethoven".
_PARTICLES = frozenset({"af", "av", "van", "von", "der", "den", "de", "del", "della", "di",
                        "da", "du", "la", "le", "zu", "ten", "ter", "dos", "das"})  # fmt: skip


def _split(name: str) -> tuple[str, str] | None:
    """(first, last) for a full name; last is "" for one word; None for an empty cell."""
    words = name.split()
    if "," in name:
        last, _, first = " ".join(words).partition(",")
        if last.strip() and first.strip():  # "Nordmann, Kari"
            return first.strip(), last.strip()
        words = name.replace(",", " ").split()
    if len(words) < 2:
        return (words[0], "") if words else None
    cut = len(words) - 1
    while cut > 1 and words[cut - 1] in _PARTICLES:
        cut -= 1
    return " ".join(words[:cut]), " ".join(words[cut:])


@gc_paused()
def split_full_name(
    table: pd.DataFrame,
    full_name_column: str,
    first_column: str,
    last_column: str,
    mapping: Mapping | None = None,
) -> Change:
    """Split a full-name column into first and last name: 'Kari Nordmann' → 'Kari' +
    'Nordmann'; 'Ola Jakob Nordmann' → 'Ola Jakob' + 'Nordmann'; 'Nordmann, Kari' → 'Kari' +
    'Nordmann'; a single word goes to the first name and leaves the last name as it is.

    The full-name column must exist. The first- and last-name columns need not: a column the
    sheet does not have is added by `apply_change` (empty where nothing is written) and
    removed again by `undo_change`. Rows with an empty full name are left as they are.

    With the `mapping` in use, the change also sends first and last name from the two columns
    (its `remaps`), so that what is sent is split as the label says.
    """
    full = _text(table, full_name_column)
    added = tuple(dict.fromkeys(c for c in (first_column, last_column) if c not in table.columns))
    empty = pd.Series("", index=table.index, dtype=object)
    firsts = table[first_column].astype(object) if first_column in table.columns else empty
    lasts = table[last_column].astype(object) if last_column in table.columns else empty
    edits = []
    for row, name, first_now, last_now in zip(
        full.index.tolist(), full.tolist(), firsts.tolist(), lasts.tolist(), strict=True
    ):
        parts = _split(name)
        if parts is None:
            continue
        first, last = parts
        if first != first_now:
            edits.append(CellEdit(row, first_column, first_now, first))
        if last and last != last_now:
            edits.append(CellEdit(row, last_column, last_now, last))
    label = _("Split {column} into {first} and {last}").format(
        column=full_name_column, first=first_column, last=last_column
    )
    remaps: tuple[Remap, ...] = ()
    if mapping is not None and edits:
        remaps = tuple(
            Remap(name, mapping.fields.get(name), column)
            for name, column in (("first_name", first_column), ("last_name", last_column))
            if mapping.fields.get(name) != column
        )
    return Change(label, tuple(edits), added, remaps=remaps)


# --- leave out the invalid phone or e-mail -------------------------------------------------------

_OTHER = {"phone": "email", "email": "phone"}
_LEAVE_OUT = {
    "phone": N_("Leave out invalid phone numbers where the e-mail is valid"),
    "email": N_("Leave out invalid e-mail addresses where the phone number is valid"),
}


@gc_paused()
def leave_out_preview(
    table: pd.DataFrame, result: CheckResult, field: str, mapping: Mapping
) -> tuple[Change, int]:
    """Send without the invalid phone (field="phone") or e-mail ("email") each row that can
    still be reached the other way: its e-mail (or phone) is present and valid. The user's cell
    is never changed: the change's `left_out` says which rows are sent without the value, and
    the workbook's sent-as column says so. Returns the change and how many rows with an
    invalid value are left alone because they cannot be reached otherwise (no e-mail, or one
    that is not valid either).

    Other problems of a row (a missing first name, a repeated customer ID) do not matter here:
    the invalid value is unusable either way, and the row becomes ready once they are fixed.
    """
    if field not in _OTHER:
        raise InputError(f"Only an invalid phone or e-mail can be left out, not '{field}'.")
    other = _OTHER[field]
    column = mapping.fields.get(field)
    other_column = mapping.fields.get(other)
    label = _(_LEAVE_OUT[field])
    if column is None:
        return Change(label, ()), 0
    cells = dict(zip(table.index.tolist(), _text(table, column).tolist(), strict=True))
    others = (
        dict(zip(table.index.tolist(), _text(table, other_column).tolist(), strict=True))
        if other_column is not None
        else {}
    )
    invalid_code, other_invalid = f"{field}_invalid", f"{other}_invalid"
    by_row = result.by_row
    edits = []
    left_alone = 0
    for row in cells:  # in the sheet's order
        problems = by_row.get(row)
        if not problems:
            continue
        codes = {p.code for p in problems}
        if invalid_code not in codes:
            continue
        if other_invalid not in codes and others.get(row, "").strip():
            edits.append(LeftOut(row, field, cells[row]))
        else:
            left_alone += 1
    return Change(label, (), left_out=tuple(edits)), left_alone


def leave_out_invalid(
    table: pd.DataFrame, result: CheckResult, field: str, mapping: Mapping
) -> Change:
    """The change of `leave_out_preview`, without the count of rows left alone."""
    return leave_out_preview(table, result, field, mapping)[0]


# --- suggested fixes -----------------------------------------------------------------------------


@gc_paused()
def suggested_fixes(table: pd.DataFrame, problems: Iterable[Problem]) -> Change:
    """The change that makes each problem's suggested fix (`Problem.suggestion`): for one row
    (one problem given) or for all the rows with a kind of problem ("apply to all N like it").
    Problems without a suggestion, or whose cell no longer holds what was checked, are passed
    over."""
    by_column: dict[str, dict[int, str]] = {}
    kinds: dict[str, None] = {}
    for p in problems:
        if p.suggestion is None or p.row is None or p.column is None:
            continue
        by_column.setdefault(p.column, {})[p.row] = p.suggestion
        kinds[p.code] = None
    edits: list[CellEdit] = []
    for column, wanted in by_column.items():
        if column not in table.columns:
            continue
        rows = list(wanted)
        positions = table.index.get_indexer(rows)
        cells = table[column].to_numpy(dtype=object)
        for row, at in zip(rows, positions.tolist(), strict=True):
            if at < 0:
                continue
            old = cells[at]
            if old != wanted[row]:
                edits.append(CellEdit(row, column, old, wanted[row]))
    if len(edits) == 1:
        e = edits[0]
        label = _("Row {row}, {column}: '{old}' → '{new}'").format(
            row=e.row, column=e.column, old=e.old, new=e.new
        )
    else:
        titles = [describe(code).title for code in kinds]
        if titles:
            what = titles[0]
            for title in titles[1:]:  # "A and B and C", as English and Norwegian say it
                what = _("{first} and {second}").format(first=what, second=title)
            label = _("Suggested fix: {problem}").format(problem=what)
        else:
            label = _("Suggested fixes")
    return Change(label, tuple(edits))
