"""Step 3, Check and fix: every rule on every row, the wrong cell in sight, fixes one or many."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from pages.frame import enter, go, move_on, seed
from seen_core.check import fixes
from seen_core.check.countries import country_choices, label_for
from seen_core.check.fixes import Change
from seen_core.errors import InputError
from seen_core.i18n import N_, _, ngettext
from seen_core.problems import describe
from seen_core.safe_text import markdown_literal as lit
from seen_core.store.drafts import Step
from seen_core.wording import number
from seen_core.workbench import Work

frame = enter("check")
ss = st.session_state
work: Work = frame.draft  # app.py shows this page only with a draft in hand
# Next was clicked: on at once, this page not drawn again; but not before a cell fixed in the
# grid in the same moment is kept (below, where the page is drawn).
move_on(Step.CHECK, Step.SEND, grid="fix_editor_key")

PAGE_ROWS = 200  # rows in the grid at once (styling costs per cell); bulk fixes do the rest
FIX_MARK = "⚠ "


@frame.noting
def refresh_view() -> None:
    """Forget which rows the grid shows: it shows the rows that need attention now."""
    ss.pop("fix_rows", None)
    ss["fix_version"] = ss.get("fix_version", 0) + 1


try:
    checked = work.checked()
except InputError as error:
    st.error(lit(str(error)))
    st.stop()
result = checked.result
table = checked.table

st.title(_("Check and fix"))

# --- settings that change every row ---------------------------------------------------------

choices = country_choices()
labels = {c.region: c.label for c in choices}


@frame.noting
def store_settings() -> None:
    work.update(region=ss["region"], delivery=bool(ss["delivery"]))
    refresh_view()


seed("region", work.settings.region)
seed("delivery", work.settings.delivery)
left, right = st.columns([2, 3])
left.selectbox(
    _("Country of phone numbers written without +country code"),
    list(labels),
    format_func=lambda r: labels.get(r, r),
    key="region",
    on_change=store_settings,
    help=_("Type to search: a country's name, code (UK, SE) or calling code (+47)."),
)
right.toggle(
    _("SEEN delivers the films (every person needs a phone number or an e-mail)"),
    key="delivery",
    on_change=store_settings,
)

# --- the summary ------------------------------------------------------------------------------

counts = checked.counts
summary = [
    ngettext("{count} row", "{count} rows", counts["rows"]).format(count=number(counts["rows"])),
    _("{count} ready").format(count=number(counts["ready"])),
]
if counts["attention"]:
    summary.append(_("{count} need attention").format(count=number(counts["attention"])))
if counts["held"]:
    summary.append(_("{count} already in SEEN").format(count=number(counts["held"])))
st.markdown(f"**{' · '.join(summary)}**")
for problem in result.sheet_problems:
    tell = st.error if problem.severity == "error" else st.warning
    tell(lit(problem.message))

kinds = result.rows_by_code
if kinds:
    st.caption(
        _("Found: ")
        + " · ".join(
            ngettext("{problem} in {count} row", "{problem} in {count} rows", n).format(
                problem=describe(code).title, count=number(n)
            )
            for code, n in sorted(kinds.items(), key=lambda kv: -kv[1])
        )
    )

# --- undo -------------------------------------------------------------------------------------


@frame.noting
def undo() -> None:
    change = work.undo()
    ss["fix_note"] = None if change is None else _("Undone: {change}.").format(change=change.label)
    refresh_view()


if work.draft.changes:
    st.button(
        lit(_("Undo: {change}").format(change=work.draft.changes[-1].label)),
        key="undo",
        icon=":material/undo:",
        on_click=undo,
    )
if ss.get("fix_note"):
    st.success(lit(ss["fix_note"]))

# --- fixes for many rows at once --------------------------------------------------------------


@frame.noting
def apply(change: Change) -> None:
    work.apply(change)
    ss["fix_note"] = ngettext(
        "{change}: {count} row changed.", "{change}: {count} rows changed.", change.rows
    ).format(change=change.label, count=number(change.rows))
    refresh_view()


columns = list(table.columns)
mapping = checked.mapping
BULK = {
    "leave_out": N_("Leave out invalid phone numbers or e-mails"),
    "find": N_("Find and replace in a column"),
    "trim": N_("Trim spaces"),
    "country": N_("Phone numbers: country from a column"),
    "split": N_("Split a full name into first and last name"),
}
with st.expander(_("Fix many rows at once")):
    chosen = st.selectbox(
        _("Fix"),
        list(BULK),
        format_func={kind: _(label) for kind, label in BULK.items()}.get,
        key="bulk_kind",
        index=None,  # nothing is previewed (a pass over every row) until a fix is chosen
        placeholder=_("Choose a fix…"),
    )
    change: Change | None = None
    note = ""
    if chosen == "leave_out":
        field = st.radio(
            _("Leave out"),
            ["phone", "email"],
            format_func={"phone": _("invalid phone numbers"), "email": _("invalid e-mails")}.get,
            key="leave_out_field",
            horizontal=True,
        )
        change, left_alone = fixes.leave_out_preview(table, result, field, mapping)
        other = _("an e-mail") if field == "phone" else _("a phone number")
        note = ngettext(
            "Only where the person can still be reached with {other}; {count} row without one "
            "stays to be fixed by hand.",
            "Only where the person can still be reached with {other}; {count} rows without one "
            "stay to be fixed by hand.",
            left_alone,
        ).format(other=other, count=number(left_alone))
    elif chosen == "find":
        a, b, c = st.columns(3)
        column = a.selectbox(_("In column"), columns, key="find_column")
        find = b.text_input(_("Find"), key="find_text")
        replace_with = c.text_input(_("Replace with"), key="find_replacement")
        whole = st.checkbox(_("Whole cell only"), key="find_whole")
        if find:
            change = fixes.find_replace(table, column, find, replace_with, whole_cell=whole)
    elif chosen == "trim":
        picked = st.multiselect(_("Columns"), columns, default=columns, key="trim_columns")
        change = fixes.trim(table, picked)
    elif chosen == "country":
        a, b = st.columns(2)
        seed("country_phone", mapping.fields.get("phone") or columns[0])
        phone = a.selectbox(_("Phone column"), columns, key="country_phone")
        country = b.selectbox(_("Country column"), columns, key="country_column")
        change = fixes.phones_from_country_column(table, phone, country, work.settings.region)
        unknown = fixes.unknown_countries(table, country)
        if unknown:
            note = lit(
                _(
                    "Not understood as a country: {values}; those rows are read as {country}."
                ).format(
                    values=", ".join(unknown[:5]) + ("…" if len(unknown) > 5 else ""),
                    country=label_for(work.settings.region),
                )
            )
    elif chosen == "split":
        a, b, c = st.columns(3)
        full = a.selectbox(_("Full name column"), columns, key="split_full")
        first = b.text_input(_("First name into"), value=_("First name"), key="split_first")
        last = c.text_input(_("Last name into"), value=_("Last name"), key="split_last")
        if first.strip() and last.strip() and full:
            change = fixes.split_full_name(table, full, first.strip(), last.strip())
    if change is not None:
        rows = change.rows
        st.caption(
            lit(
                ngettext("{change}: changes {count} row.", "{change}: changes {count} rows.", rows)
                .format(change=change.label, count=number(rows))
                .strip()
                + (f" {note}" if note else "")
            )
        )
        st.button(
            ngettext("Apply to {count} row", "Apply to {count} rows", rows).format(
                count=number(rows)
            ),
            key="bulk_apply",
            type="primary",
            disabled=not rows,
            on_click=apply,
            args=(change,),
        )
    elif note:
        st.caption(note)

# --- the rows, the wrong cell in sight --------------------------------------------------------

needs_fixing = checked.invalid_rows
attention = checked.attention_rows
show_all = st.toggle(_("Show all rows, not only those that need attention"), key="show_all_rows")
if ss.get("fix_rows_for") != (work.draft.id, show_all):
    ss["fix_rows_for"] = (work.draft.id, show_all)
    ss.pop("fix_rows", None)
if "fix_rows" not in ss:
    ss["fix_rows"] = list(result.rows) if show_all else attention
present = checked.row_set
in_view: list[int] = [r for r in ss["fix_rows"] if r in present]

if not in_view:
    st.success(_("No row needs attention."))
else:
    pages = (len(in_view) + PAGE_ROWS - 1) // PAGE_ROWS
    page = 1
    if pages > 1:
        page = int(
            st.number_input(
                _("Page (of {pages}, {rows} rows each)").format(
                    pages=number(pages), rows=number(PAGE_ROWS)
                ),
                min_value=1,
                max_value=pages,
                step=1,
                key="fix_page",
            )
        )
    rows = in_view[(page - 1) * PAGE_ROWS : page * PAGE_ROWS]
    wrong: dict[str, dict[int, str]] = {}
    general: dict[int, list[str]] = {}
    for row in rows:
        for p in result.by_row.get(row, ()):
            if p.column in table.columns:
                place = wrong.setdefault(p.column, {})
                place[row] = "; ".join(filter(None, [place.get(row), p.message]))
            else:
                general.setdefault(row, []).append(p.message)
    mapped = [c for c in mapping.mapped_columns() if c in table.columns]
    shown = list(dict.fromkeys([*mapped[:5], *wrong, *mapped[5:]]))
    view = pd.DataFrame(index=pd.Index(rows, name=_("Row")))
    STATUS = _("Status")
    status = []
    for row in rows:
        if row in checked.held:
            status.append(_("✓ already in SEEN"))
        elif row in needs_fixing:
            status.append("; ".join(general.get(row, [])) or _("Needs fixing"))
        else:
            status.append(_("✓ ready"))
    view[STATUS] = status
    for column in shown:
        view[column] = table.loc[rows, column].to_numpy()
        if column in wrong:
            view[FIX_MARK + column] = [wrong[column].get(r, "") for r in rows]
    marks = [c for c in view.columns if c.startswith(FIX_MARK)] + [STATUS]

    def colour(values: pd.Series) -> list[str]:
        if values.name == STATUS:
            return np.where(
                values.str.startswith("✓"), "color:#006100", "background-color:#ffd6d6"
            ).tolist()
        return np.where(values != "", "background-color:#ffd6d6;color:#9c0006", "").tolist()

    key = f"fix_{work.draft.id}_{ss.get('fix_version', 0)}"
    ss["fix_editor_key"] = key
    st.caption(
        _(
            "Double-click a cell to fix it; the row is checked again at once. "
            "The ⚠ columns say what is wrong with the cell on their left."
        )
    )
    st.data_editor(
        view.style.apply(colour, subset=marks),
        key=key,
        disabled=[*marks, "_index"],
        num_rows="fixed",
        column_config={m: st.column_config.TextColumn(width="medium") for m in marks},
    )
    pending = (ss.get(key) or {}).get("edited_rows", {})
    edits = {
        (rows[int(position)], column): value
        for position, cells in pending.items()
        if 0 <= int(position) < len(rows)
        for column, value in cells.items()
        if column in table.columns
    }
    if edits:
        change = work.edit_cells(edits)
        ss["fix_note"] = change.label if change.edits else None
        ss["fix_version"] = ss.get("fix_version", 0) + 1
        st.rerun()
    fixed = sum(1 for r in in_view if r not in needs_fixing and r not in checked.held)
    if fixed and not show_all:
        st.button(
            ngettext("Hide the {count} fixed row", "Hide the {count} fixed rows", fixed).format(
                count=number(fixed)
            ),
            key="hide_fixed",
            on_click=refresh_view,
        )

# --- on to sending ----------------------------------------------------------------------------


@frame.noting
def go_on() -> None:
    work.go(Step.SEND)
    go(Step.SEND)


ready = counts["ready"]
st.button(
    ngettext("Next: send {count} person", "Next: send {count} people", ready).format(
        count=number(ready)
    ),
    key="to_send",
    type="primary",
    disabled=not ready,
    on_click=go_on,
)
move_on(Step.CHECK, Step.SEND)
