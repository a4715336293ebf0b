"""Check and fix's grid, problem first: which rows to show, and for each the reason in words and
the cell to fix in its first columns, then the columns that say who the person is.

Streamlit's grid cannot colour a cell the user can edit, so the wrong cell is not marked by
colour among the others: it is brought forward, after the row number and the reason, under a
header that says so ("Mobil — fix here"). The rows can be narrowed to one kind of problem or
one column ("Phone number not valid — 40,179 rows"). Streamlit-free: the page only draws what
this gives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from seen_core.flow.checking import Checked
from seen_core.i18n import N_, _, ngettext
from seen_core.problems import Problem, describe
from seen_core.wording import number

__all__ = [
    "ALL",
    "APPLY",
    "IN_COLUMN",
    "WHY",
    "FixGrid",
    "Narrowing",
    "fix_grid",
    "narrowings",
    "rows_for",
]

ALL = ""  # the narrowing that shows every row that needs attention
# The grid's own headers, in English here; the grid says them in the user's language (`_`),
# and `FixGrid` keeps the words it used (`why`, `apply`, `in_column`).
WHY = N_("Why")
ANY_CELL = N_("Cell to fix")
IN_COLUMN = N_("In column")
APPLY = N_("Apply")
# Who the person is, in the order a campaign manager looks for them.
IDENTIFYING = ("first_name", "last_name", "customer_id", "email", "phone")


@dataclass(frozen=True)
class Narrowing:
    """One way to narrow the rows: `key` is ALL, "code:<problem code>" or "column:<header>"."""

    key: str
    label: str
    rows: int


def _problems(checked: Checked) -> dict[int, list[Problem]]:
    """Row → its problems (rows SEEN holds have none of their own)."""
    return checked.result.by_row


def _column_of(problem: Problem, checked: Checked) -> str | None:
    """The user's column a problem's fix goes in: its own, or for a row with no contact at
    all the phone column (else the e-mail column)."""
    if problem.column is not None and problem.column in checked.cells.columns:
        return problem.column
    if problem.code == "no_contact":
        fields = checked.mapping.fields
        return fields.get("phone") or fields.get("email")
    return None


def narrowings(checked: Checked) -> list[Narrowing]:
    """Every row that needs attention; then each kind of problem, most rows first; then each
    column with a problem, most rows first: "Phone number not valid — 40,179 rows"."""
    by_code: dict[str, set[int]] = {}
    by_column: dict[str, set[int]] = {}
    for row, found in _problems(checked).items():
        for p in found:
            by_code.setdefault(p.code, set()).add(row)
            column = _column_of(p, checked)
            if column is not None:
                by_column.setdefault(column, set()).add(row)
    attention = len(checked.attention_rows)
    out = [
        Narrowing(
            ALL,
            ngettext(
                "Every row that needs attention — {count} row",
                "Every row that needs attention — {count} rows",
                attention,
            ).format(count=number(attention)),
            attention,
        )
    ]
    for code, rows in sorted(by_code.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        label = ngettext("{problem} — {count} row", "{problem} — {count} rows", len(rows))
        out.append(
            Narrowing(
                f"code:{code}",
                label.format(problem=describe(code).title, count=number(len(rows))),
                len(rows),
            )
        )
    for column, rows in sorted(by_column.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        label = ngettext(
            "Column {column} — {count} row", "Column {column} — {count} rows", len(rows)
        )
        out.append(
            Narrowing(
                f"column:{column}",
                label.format(column=column, count=number(len(rows))),
                len(rows),
            )
        )
    return out


def _matches(problem: Problem, key: str, checked: Checked) -> bool:
    if key == ALL:
        return True
    kind, _, name = key.partition(":")
    if kind == "code":
        return problem.code == name
    return _column_of(problem, checked) == name


def rows_for(checked: Checked, key: str) -> list[int]:
    """The rows a narrowing shows, in the sheet's order."""
    if key == ALL:
        return checked.attention_rows
    found = _problems(checked)
    return sorted(
        row for row, problems in found.items() if any(_matches(p, key, checked) for p in problems)
    )


@dataclass
class FixGrid:
    """One page of the grid: `frame` indexed by spreadsheet row ("Row"), its first columns the
    reason (WHY, which names a suggested fix) and the cell to fix (`fix_header`), then a box
    to take the suggested fix when a row on the page has one, then the identifying columns,
    then the rest.

    `cell_of` says which of the user's columns the fix cell of each row is; `suggestions` the
    problem whose suggested fix each row's Apply box makes; `severity` each row's worst
    problem ("error", "warning" or "" when it has none now)."""

    frame: pd.DataFrame
    fix_header: str | None
    cell_of: dict[int, str] = field(default_factory=dict)
    suggestions: dict[int, Problem] = field(default_factory=dict)
    severity: dict[int, str] = field(default_factory=dict)
    identifying: list[str] = field(default_factory=list)
    # The grid's own headers as it says them (in the language it was made in).
    why: str = WHY
    apply: str = APPLY
    in_column: str = IN_COLUMN

    def edits(
        self, edited_rows: Mapping[int | str, Mapping[str, object]]
    ) -> dict[tuple[int, str], str]:
        """The grid's edited cells ({position: {header: value}}, as Streamlit gives them) as
        {(row, user's column): text}; the fix cell goes to its row's column; Apply boxes are
        not cells (see `applied`)."""
        rows = self.frame.index.tolist()
        out: dict[tuple[int, str], str] = {}
        for position, cells in edited_rows.items():
            at = int(position)
            if not 0 <= at < len(rows):
                continue
            row = rows[at]
            for header, value in cells.items():
                if header in (self.why, self.apply, self.in_column):
                    continue
                column = self.cell_of.get(row) if header == self.fix_header else header
                if column is not None:
                    out[(row, column)] = "" if value is None else str(value)
        return out

    def applied(self, edited_rows: Mapping[int | str, Mapping[str, object]]) -> list[Problem]:
        """The problems whose Apply box was ticked in the grid."""
        rows = self.frame.index.tolist()
        return [
            self.suggestions[rows[int(position)]]
            for position, cells in edited_rows.items()
            if cells.get(self.apply) and 0 <= int(position) < len(rows)
            and rows[int(position)] in self.suggestions
        ]  # fmt: skip


def fix_grid(checked: Checked, rows: Sequence[int], key: str = ALL) -> FixGrid:
    """The grid of these rows (one page), narrowed by `key` (see `narrowings`)."""
    table = checked.table
    found = _problems(checked)
    held = checked.held
    why: list[str] = []
    cell_of: dict[int, str] = {}
    suggestions: dict[int, Problem] = {}
    severity: dict[int, str] = {}
    held_words, fixed_words = _("✓ already in SEEN"), _("✓ fixed")
    for row in rows:
        mine = [p for p in found.get(row, ()) if _matches(p, key, checked)]
        mine.sort(key=lambda p: p.severity != "error")  # what stops the row first
        if row in held:
            why.append(held_words)
            severity[row] = ""
            continue
        if not mine:
            why.append(
                fixed_words if row not in found else "; ".join(p.message for p in found[row])
            )
            severity[row] = "" if row not in found else _worst(found[row])
            continue
        # The problems of the one cell shown to fix (the first problem's); the others of the
        # row are counted, and found by narrowing to their kind or column.
        cell = next((c for p in mine if (c := _column_of(p, checked)) is not None), None)
        shown = [p for p in mine if _column_of(p, checked) == cell]
        more = len(mine) - len(shown)
        reasons = "; ".join(p.message for p in shown)
        if more:
            reasons = ngettext(
                "{reasons} (+{count} more in other columns)",
                "{reasons} (+{count} more in other columns)",
                more,
            ).format(reasons=reasons, count=number(more))
        why.append(reasons)
        severity[row] = _worst(mine)
        if cell is not None:
            cell_of[row] = cell
        found_fix = next((p for p in shown if p.suggestion is not None), None)
        if found_fix is not None:
            suggestions[row] = found_fix
    columns_used = set(cell_of.values())
    one = next(iter(columns_used)) if len(columns_used) == 1 else None
    if key.startswith("column:"):
        one = key.partition(":")[2]
    fix_header = None
    if one is not None:
        fix_header = _("{column} — fix here").format(column=one)
    elif columns_used:
        fix_header = _(ANY_CELL)
    headers = {"why": _(WHY), "apply": _(APPLY), "in_column": _(IN_COLUMN)}
    frame = pd.DataFrame(index=pd.Index(list(rows), name=_("Row")))
    frame[headers["why"]] = why
    if fix_header is not None:
        cells = []
        for row in rows:
            column = cell_of.get(row, one)
            if column is None or column not in table.columns:
                cells.append("")
            else:
                cells.append(table.at[row, column])
                cell_of.setdefault(row, column)
        frame[fix_header] = cells
        if one is None:
            frame[headers["in_column"]] = [cell_of.get(row, "") for row in rows]
    if suggestions:  # the reason says what it would change to ("Suggested: +4745860321.")
        frame[headers["apply"]] = pd.array(
            [False if r in suggestions else None for r in rows], "boolean"
        )
    mapping = checked.mapping
    identifying = [
        column
        for name in IDENTIFYING
        if (column := mapping.fields.get(name)) in table.columns and column != one
    ]
    identifying = list(dict.fromkeys(identifying))
    rest = [c for c in table.columns if c not in identifying and c != one]
    for column in [*identifying, *rest]:
        frame[column] = table.loc[list(rows), column].to_numpy() if len(rows) else []
    return FixGrid(frame, fix_header, cell_of, suggestions, severity, identifying, **headers)


def _worst(problems: Sequence[Problem]) -> str:
    return "error" if any(p.severity == "error" for p in problems) else "warning"
