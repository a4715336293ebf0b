"""Rows + mapping → the receiver payloads exactly as they are sent to SEEN."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from seen_core.check.contact import phone_e164, phones_e164
from seen_core.check.mapping import FIELD_NAMES, Mapping
from seen_core.interpreter import gc_paused
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
