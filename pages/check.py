"""Step 3, Check and fix: every rule on every row, the wrong cell in sight, fixes one or many."""

from __future__ import annotations

import zlib

import pandas as pd
import streamlit as st

from pages.frame import enter, go, move_on, seed
from seen_core.check import fixes, view
from seen_core.check.countries import country_choices, label_for
from seen_core.check.fixes import Change
from seen_core.errors import InputError
from seen_core.i18n import N_, _, ngettext
from seen_core.problems import describe, suggestion_groups
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

# --- undo and redo: the one confirmation of each fix ----------------------------------------


@frame.noting
def undo() -> None:
    work.undo()
    ss["fix_version"] = ss.get("fix_version", 0) + 1


@frame.noting
def redo() -> None:
    work.redo()
    ss["fix_version"] = ss.get("fix_version", 0) + 1


def done_words(change: Change) -> str:
    """What a change did, as its Undo and Redo buttons say it."""
    if change.rows <= 1:
        return change.label
    return ngettext("{change} ({count} row)", "{change} ({count} rows)", change.rows).format(
        change=change.label, count=number(change.rows)
    )


last = work.draft.changes[-1] if work.draft.changes else None
again = work.can_redo()
if last is not None or again is not None:
    do_left, do_right = st.columns(2)
    if last is not None:
        do_left.button(
            lit(_("Undo: {change}").format(change=done_words(last))),
            key="undo",
            icon=":material/undo:",
            on_click=undo,
        )
    if again is not None:
        do_right.button(
            lit(_("Redo: {change}").format(change=done_words(again))),
            key="redo",
            icon=":material/redo:",
            on_click=redo,
        )

# --- fixes for many rows at once --------------------------------------------------------------


@frame.noting
def apply(change: Change) -> None:
    """A fix for many rows: the rows shown stay shown (fixed ones say so), as after a cell."""
    work.apply(change)
    ss["fix_version"] = ss.get("fix_version", 0) + 1


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
        # The full name is most often the column mapped to First name.
        seed("split_full", mapping.fields.get("first_name") or columns[0])
        full = a.selectbox(_("Full name column"), columns, key="split_full")
        first = b.text_input(_("First name into"), value=_("First name"), key="split_first")
        last = c.text_input(_("Last name into"), value=_("Last name"), key="split_last")
        if first.strip() and last.strip() and full:
            change = fixes.split_full_name(table, full, first.strip(), last.strip(), mapping)
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

# --- suggested fixes: all like it at once --------------------------------------------------

likely = suggestion_groups(result.problems)
if likely:
    st.markdown(f"**{_('Suggested fixes')}**")
    for code, problems in likely.items():
        first = problems[0]
        example = _("row {row}: '{value}' → '{suggestion}'").format(
            row=first.row, value=table.at[first.row, first.column], suggestion=first.suggestion
        )
        if len(problems) == 1:
            what = _("{problem}: apply the suggested fix to {example}")
        else:
            what = ngettext(
                "{problem}: apply the suggested fix to all {count} row like it (e.g. {example})",
                "{problem}: apply the suggested fix to all {count} rows like it (e.g. {example})",
                len(problems),
            )
        st.button(
            lit(
                what.format(
                    problem=describe(code).title, count=number(len(problems)), example=example
                )
            ),
            key=f"suggest_all_{code}",
            icon=":material/auto_fix_high:",
            on_click=apply,
            args=(fixes.suggested_fixes(table, problems),),
        )

# --- the rows, the reason and the cell to fix first ------------------------------------------

choices_now = view.narrowings(checked)
known = {n.key: n for n in choices_now}
if ss.get("fix_narrow") not in known:
    ss["fix_narrow"] = view.ALL
narrow_left, narrow_right = st.columns([3, 2])
# The box's labels carry counts. A keyed box keeps what the browser shows when only its labels
# change ("— 2 rows" after a fix left 1), so its key changes with them: a new box, showing the
# choice kept in "fix_narrow".
labels_key = zlib.crc32("\n".join(n.label for n in choices_now).encode())
narrowed = narrow_left.selectbox(
    _("Show"),
    list(known),
    index=list(known).index(ss["fix_narrow"]),
    format_func=lambda k: known[k].label if k in known else k,
    key=f"fix_narrow_{labels_key:08x}",
    help=_(
        "One kind of problem or one column: the cell to fix comes first, then who the person is."
    ),
)
ss["fix_narrow"] = narrowed
show_all = narrow_right.toggle(
    _("Also rows without problems"), key="show_all_rows", on_change=refresh_view
)
if ss.get("fix_rows_for") != (work.draft.id, show_all, narrowed):
    ss["fix_rows_for"] = (work.draft.id, show_all, narrowed)
    ss.pop("fix_rows", None)
if "fix_rows" not in ss:
    ss["fix_rows"] = list(result.rows) if show_all else view.rows_for(checked, narrowed)
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
    grid = view.fix_grid(checked, rows, narrowed)
    marked = [grid.why]
    shade = {
        "error": "background-color:#ffd6d6;color:#9c0006",
        "warning": "background-color:#fff2cc",
    }
    looks = [shade.get(grid.severity.get(r, ""), "color:#006100") for r in rows]

    def colour(values: pd.Series) -> list[str]:
        return looks

    key = f"fix_{work.draft.id}_{ss.get('fix_version', 0)}"
    ss["fix_editor_key"] = key
    st.caption(
        _(
            "Each row says why first; double-click the cell beside it to fix it, or tick Apply "
            "where the reason suggests a fix. The row is checked again at once."
        )
    )
    config: dict[str, object] = {
        grid.why: st.column_config.TextColumn(width=235, pinned=True),
    }
    if grid.fix_header is not None:
        # not pinned: Streamlit greys a pinned column, and this is the one to type in
        # narrower beside "In column", so that Apply stays in a 1024-px window
        wide = 125 if grid.in_column in grid.frame.columns else 160
        config[grid.fix_header] = st.column_config.TextColumn(width=wide)
    config[grid.in_column] = st.column_config.TextColumn(width=75)
    if grid.apply in grid.frame.columns:
        config[grid.apply] = st.column_config.CheckboxColumn(width=60)
    st.data_editor(
        grid.frame.style.apply(colour, subset=marked),
        key=key,
        disabled=[*marked, grid.in_column, "_index"],
        num_rows="fixed",
        column_config=config,
        row_height=84,  # over 4rem: Streamlit wraps the reasons (4 lines) instead of cutting them
    )
    pending = (ss.get(key) or {}).get("edited_rows", {})
    ticked = grid.applied(pending)
    edits = grid.edits(pending)
    if ticked or edits:
        if ticked:
            work.apply(fixes.suggested_fixes(work.table, ticked))
        if edits:
            work.edit_cells(edits)
        ss["fix_version"] = ss.get("fix_version", 0) + 1
        st.rerun()
    still = set(view.rows_for(checked, narrowed))
    fixed = sum(1 for r in in_view if r not in still and r not in checked.held)
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
