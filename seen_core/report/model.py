"""What a report is made of: its input, its Summary's words, and the names it gives its columns
and sheets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from seen_core.i18n import N_, _
from seen_core.interpreter import gc_paused
from seen_core.problems import Problem
from seen_core.read.cells import cell_text
from seen_core.read.text_table import Rows, text_of

if TYPE_CHECKING:
    import pandas as pd

    from seen_core.check.mapping import Mapping as FieldMapping

# The report's own headers and sheet names, in the language of the user who makes the report
# (translated where they are written: `_(STATUS_COLUMN)`).
STATUS_COLUMN = N_("SEEN status")
MESSAGE_COLUMN = N_("SEEN message")
SENT_AS = N_("{column} (sent as)")  # the value as sent beside the user's: "Mobil (sent as)"
VIDEO_COLUMNS = (N_("Video"), N_("Video thumbnail"), N_("E-mail thumbnail"))
ENGAGEMENT_COLUMNS = (N_("Film"), N_("Opened"), N_("Watched"), N_("Clicked"))
DEFAULT_SHEET_NAME = N_("Receivers")
SUMMARY_SHEET_NAME = N_("Summary")
PROBLEMS_SHEET_NAME = N_("Problems")

_ILLEGAL_SHEET_CHARS = str.maketrans({"[": "(", "]": ")", ":": "-", "/": "-", "\\": "-"})
_SHEET_NAME_MAX = 31


@dataclass(frozen=True)
class ReportSummary:
    """The Summary sheet, in a campaign manager's words.

    `target` names where the people were meant to go ("campaign 'spring'", "workspace 'ws-1'");
    `sent_to` says where they went ("SEEN", "the sandbox (nothing reached SEEN)", "not sent
    (checked only)"). `when` is shown in `time_zone` (an IANA name such as "Europe/Oslo";
    None: this computer's zone), with the zone named. `details` are further lines, such as
    ("Send", "#3, stopped: SEEN refused the token"). `sha256` is computed from the upload
    when left empty.
    """

    target: str
    sent_to: str
    when: dt.datetime | None = None
    who: str | None = None
    sha256: str = ""
    details: Sequence[tuple[str, str]] = ()
    time_zone: str | None = None


@dataclass(frozen=True, eq=False)
class ReportInput:
    """Everything a report is built from.

    `source` is the upload as it came, untouched; `sheet_name` and `header_row` (1-based) say
    where `seen_core.read.sheets` read the receivers. `table` holds the sheet's cells as text after
    the user's fixes, by spreadsheet row number (a DataFrame indexed so, or a text table as the
    rules read it: a command's report never needs pandas), with `sheets`' column names in
    sheet order (columns the app added, such as a split name, go after the user's).
    `original` is the table as `sheets` read it, before any fix: cells changed in the app are
    found by comparing the two (without it, by reading `source` again, which takes longer).

    `sent_as` is column → {row: value as sent} for values that differ from the cell (E.164
    phone, trimmed text); `values_as_sent` builds it from payloads, `receivers.values_sent`
    from the cells. `extra_keys` is column → the key its
    values were sent under, for columns sent as extra fields (`extra_args` in v1, properties
    in 2.0); `extra_keys_of` builds it. `videos` is row → (player link, thumbnail, e-mail
    thumbnail) for 2.0 sends whose links were fetched. `engagement` is row → (film link,
    opened, watched, clicked) from SEEN's callbacks and viewer events.
    """

    file_name: str
    source: bytes
    sheet_name: str | None
    header_row: int
    table: pd.DataFrame | Rows
    outcomes: Mapping[int, tuple[str, str]]
    summary: ReportSummary
    problems: Sequence[Problem] = ()
    sent_as: Mapping[str, Mapping[int, str]] = field(default_factory=dict)
    extra_keys: Mapping[str, str] = field(default_factory=dict)
    videos: Mapping[int, tuple[str | None, str | None, str | None]] = field(default_factory=dict)
    engagement: Mapping[int, tuple[str | None, bool, bool, bool]] = field(default_factory=dict)
    original: pd.DataFrame | Rows | None = None


def values_as_sent(
    table: pd.DataFrame | Rows,
    payloads: Iterable[tuple[int, Mapping[str, Any]]],
    mapping: FieldMapping,
    *,
    id_field: str = "customer_id",
) -> dict[str, dict[int, str]]:
    """Column → {row: value as sent}, for the values that differ from their cell.

    `payloads` are (row, payload) as `receivers.payloads` gives them (v1, with `extra_args`)
    or flat 2.0 objects (with `id_field` for the customer ID column); `mapping` is the
    mapping they were built with.
    """
    text = text_of(table)
    present = set(text.columns)
    columns = {k: c for k, c in _columns_by_name(mapping, id_field).items() if c in present}
    payloads = list(payloads)
    if not payloads or not columns:
        return {}
    rows = [row for row, _ in payloads]
    places = {row: at for at, row in enumerate(text.rows)}
    where = [places.get(row, -1) for row in rows]  # each row's place in the table (-1: none)
    found: dict[str, dict[int, str]] = {}
    with gc_paused():
        # The extra fields beside the payload's own keys (which win over an extra's), then a
        # key at a time over every row: most values are text equal to their cell, and those
        # are passed over in one comparison each.
        sent_rows = [
            {**extra, **payload} if isinstance(extra := payload.get("extra_args"), Mapping)
            else payload
            for _, payload in payloads
        ]  # fmt: skip
        for key, column in columns.items():
            sent = [payload.get(key) for payload in sent_rows]
            cells = text.column(column)
            aligned = [cells[at] if at >= 0 else "" for at in where]
            for i, value, cell in zip(range(len(rows)), sent, aligned, strict=True):
                if value is None or value == cell:
                    continue
                as_sent = value if type(value) is str else cell_text(value)
                if as_sent != (cell if type(cell) is str else cell_text(cell)):
                    found.setdefault(column, {})[rows[i]] = as_sent
    return found


def extra_keys_of(mapping: FieldMapping) -> dict[str, str]:
    """Column → the extra key it is sent under (`mapping.Mapping.extra_args` turned round)."""
    return {column: key for key, column in mapping.extra_args.items()}


def _columns_by_name(mapping: FieldMapping, id_field: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for name, column in mapping.fields.items():
        names[id_field if name == "customer_id" else name] = column
    for key, column in mapping.extra_args.items():
        names.setdefault(key, column)
    return names


def legal_sheet_name(name: str | None, taken: Iterable[str] = ()) -> str:
    """A worksheet name Excel accepts, close to `name`, not among `taken` (case ignored)."""
    cleaned = (name or "").translate(_ILLEGAL_SHEET_CHARS).replace("*", "_").replace("?", "_")
    # Excel refuses a name that starts or ends with an apostrophe, and reserves "History".
    cleaned = cleaned.strip().strip("'").strip() or _(DEFAULT_SHEET_NAME)
    if cleaned.casefold() == "history":
        cleaned = f"{cleaned} (sheet)"
    cleaned = cleaned[:_SHEET_NAME_MAX].rstrip("'")
    taken_folded = {t.casefold() for t in taken}
    candidate, number = cleaned, 2
    while candidate.casefold() in taken_folded:
        suffix = f" ({number})"
        candidate = cleaned[: _SHEET_NAME_MAX - len(suffix)].rstrip("'") + suffix
        number += 1
    return candidate
