"""Rows + mapping → the receiver payloads exactly as they are sent to SEEN."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from seen_core.checks import phone_e164
from seen_core.mapping import FIELD_NAMES, Mapping


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
    table: pd.DataFrame, mapping: Mapping, region: str = "NO", rows: Iterable[int] | None = None
) -> list[tuple[int, dict[str, object]]]:
    """(spreadsheet row, payload) for the given rows (all rows when None), in file order."""
    columns = [c for c in mapping.mapped_columns() if c in table.columns]
    frame = table[columns] if rows is None else table.loc[list(rows), columns]
    return [
        (int(row), payload(dict(zip(columns, values, strict=True)), mapping, region))
        for row, *values in frame.itertuples(index=True, name=None)
    ]
