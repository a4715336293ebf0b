"""Rows + mapping → the receiver payloads exactly as they are sent to SEEN."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from seen_core.check.contact import phone_e164, phones_e164
from seen_core.check.mapping import FIELD_NAMES, Mapping
from seen_core.interpreter import gc_paused
from seen_core.read.cells import cell_text
from seen_core.read.text_table import Rows, text_of

if TYPE_CHECKING:
    import pandas as pd


def payload(cells: dict[str, str], mapping: Mapping, region: str = "NO") -> dict[str, object]:
    """One receiver: trimmed text, E.164 phone; empty optional fields left out, never null or ""."""
    receiver: dict[str, object] = {}
    for name in FIELD_NAMES:
        column = mapping.fields.get(name)
        value = (cells.get(column) or "").strip() if column else ""
        if not value:
            continue
        if name == "phone":
            value = phone_e164(value, region) or value
        receiver[name] = value
    extra = {}
    for key, column in mapping.extra_args.items():
        value = (cells.get(column) or "").strip()
        if value:
            extra[key] = value
    if extra:
        receiver["extra_args"] = extra
    return receiver


def payloads(
    table: pd.DataFrame | Rows,
    mapping: Mapping,
    region: str = "NO",
    rows: Iterable[int] | None = None,
) -> list[tuple[int, dict[str, object]]]:
    """(spreadsheet row, payload) for the given rows (all rows when None), in file order.

    The same payloads as `payload` row by row, built a column at a time: for 100,000 rows this
    is a few list passes instead of 100,000 small tables (`validate --json` prints them all).
    `table`: a `TextTable`, or a DataFrame indexed by spreadsheet row. KeyError for a row that
    is not in it.
    """
    with gc_paused():  # 100,000 new dicts and no cycles: the collector would only slow it down
        return _payloads(text_of(table), mapping, region, rows)


def _payloads(
    table: Rows, mapping: Mapping, region: str, rows: Iterable[int] | None
) -> list[tuple[int, dict[str, object]]]:
    numbers = table.rows if rows is None else list(rows)
    positions = None if rows is None else table.positions(numbers)  # KeyError for a stranger
    columns = set(table.columns)

    def texts(column: str | None) -> list[str] | None:
        if column is None or column not in columns:
            return None
        cells = table.column(column)
        if positions is not None:
            cells = list(map(cells.__getitem__, positions))
        try:
            return list(map(str.strip, cells))  # cells are text: stripped in C
        except TypeError:  # an edit left a None
            return [(value or "").strip() for value in cells]

    receivers: list[dict[str, object]] = [{} for _ in numbers]
    for name in FIELD_NAMES:
        values = texts(mapping.fields.get(name))
        if values is None:
            continue
        if name == "phone":
            values = [
                e164 or v for v, e164 in zip(values, phones_e164(values, region), strict=True)
            ]
        for receiver, value in zip(receivers, values, strict=True):
            if value:
                receiver[name] = value
    extras: list[dict[str, object]] = [{} for _ in numbers] if mapping.extra_args else []
    for key, column in mapping.extra_args.items():
        values = texts(column)
        for extra, value in zip(extras, values or [""] * len(numbers), strict=True):
            if value:
                extra[key] = value
    for receiver, extra in zip(receivers, extras, strict=False):
        if extra:
            receiver["extra_args"] = extra
    return list(zip(map(int, numbers), receivers, strict=True))


def values_sent(
    table: pd.DataFrame | Rows,
    mapping: Mapping,
    region: str = "NO",
    rows: Iterable[int] | None = None,
    e164: Sequence[str] | None = None,
) -> dict[str, dict[int, str]] | None:
    """Column → {spreadsheet row: value as sent}, for the values of `payloads` (of these rows)
    that differ from their cell: text trimmed, phone numbers in E.164 form (`e164`: those the
    check found, in the table's row order, "" where a value has none; else worked out here).

    What `report.values_as_sent` finds in the payloads, made a column at a time from the cells
    without making a payload: for a report of 100,000 rows that is a few passes in C over each
    column instead of 100,000 dicts made and compared key by key. None for a mapping where a
    payload's keys would not be its columns one to one (an extra field named as a SEEN field,
    or one named extra_args): the caller then compares the payloads themselves.
    """
    keys = {name: column for name, column in mapping.fields.items()}
    if set(keys) - set(FIELD_NAMES) or "extra_args" in mapping.extra_args:
        return None
    if any(key in keys for key in mapping.extra_args):
        return None
    keys.update(mapping.extra_args)
    with gc_paused():
        return _values_sent(text_of(table), keys, mapping.fields.get("phone"), region, rows, e164)


def _values_sent(
    table: Rows,
    keys: dict[str, str],
    phone_column: str | None,
    region: str,
    rows: Iterable[int] | None,
    e164: Sequence[str] | None,
) -> dict[str, dict[int, str]]:
    from itertools import compress
    from operator import ne

    numbers = table.rows if rows is None else list(rows)
    positions = None if rows is None else table.positions(numbers)  # KeyError for a stranger
    present = set(table.columns)
    found: dict[str, dict[int, str]] = {}
    for key, column in keys.items():  # in the order the payloads' keys are compared
        if column not in present:
            continue
        cells = table.column(column)
        if positions is not None:
            cells = list(map(cells.__getitem__, positions))
        try:
            sent = list(map(str.strip, cells))  # cells are text: stripped in C
            texts = cells
        except TypeError:  # an edit left a None
            sent = [(value or "").strip() for value in cells]
            texts = [cell_text(value) for value in cells]
        if key == "phone" and column == phone_column:
            if e164 is not None and len(e164) == len(table.rows):
                forms = e164 if positions is None else list(map(e164.__getitem__, positions))
            else:
                forms = phones_e164(sent, region)
            sent = [form or v for v, form in zip(sent, forms, strict=True)]
        # Where the value as sent is not the cell: a few in a column, found in C.
        differ = compress(range(len(sent)), map(ne, sent, texts))
        changed = {int(numbers[i]): sent[i] for i in differ if sent[i]}
        if changed:
            found.setdefault(column, {}).update(changed)
    return found
