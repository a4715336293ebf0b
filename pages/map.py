"""Step 2, Map columns: where the people go in SEEN, and which column feeds which field."""

from __future__ import annotations

import functools
import json

import pandas as pd
import streamlit as st

from pages.frame import enter, go, move_on, seed
from seen_core.check.mapping import (
    FIELDS,
    ExtraChoice,
    Mapping,
    build_mapping,
    extra_choices,
    key_errors,
    mapping_json,
    mapping_problems,
    suggest,
    why_not_ready,
)
from seen_core.errors import InputError
from seen_core.flow import is_data
from seen_core.i18n import N_, _
from seen_core.safe_text import markdown_literal as lit
from seen_core.send.targets import campaign_problem, id_problem, key_for, kind_and_name
from seen_core.store.drafts import Step
from seen_core.wording import suggest_slug
from seen_core.workbench import Work

frame = enter("map")
ss = st.session_state
work: Work = frame.draft  # app.py shows this page only with a draft in hand
# Next was clicked: on at once, this page not drawn again; but not before an edit made in the
# extras grid in the same moment is kept (below, where the page is drawn).
move_on(Step.MAP, Step.CHECK, grid="extras_key")

KINDS = {
    "campaign": N_("SEEN campaign (v1)"),
    "workspace": N_("SEEN workspace (2.0)"),
    "project": N_("SEEN project (2.0)"),
}
DESTINATIONS = {"sandbox": N_("The sandbox (a stand-in: nothing reaches SEEN)"), "seen": "SEEN"}


# --- where to -------------------------------------------------------------------------------


@frame.noting
def store_target() -> None:
    name = (ss.get("target_name") or "").strip()
    work.update(target=key_for(ss["target_kind"], name), destination=ss["destination"])


@frame.noting
def use_slug(slug: str) -> None:
    ss["target_name"] = slug
    store_target()


st.title(_("Map the columns"))
st.subheader(_("Where the people go"))
kind, name = kind_and_name(work.settings.target)
seed("destination", work.settings.destination)
seed("target_kind", kind)
seed("target_name", name)
left, middle, right = st.columns([2, 2, 3])
left.radio(
    _("Send to"),
    list(DESTINATIONS),
    format_func={d: _(label) for d, label in DESTINATIONS.items()}.get,
    key="destination",
    on_change=store_target,
)
middle.radio(
    _("In SEEN, a"),
    list(KINDS),
    format_func={k: _(label) for k, label in KINDS.items()}.get,
    key="target_kind",
    on_change=store_target,
)
label = {"campaign": _("Campaign"), "workspace": _("Workspace id"), "project": _("Project id")}[
    ss["target_kind"]
]
right.text_input(
    label,
    key="target_name",
    on_change=store_target,
    help=_(
        "The campaign's name as in its address in SEEN (letters, digits, - and _), for example "
        "velkomst-november-2026"
    )
    if ss["target_kind"] == "campaign"
    else _("The id SEEN shows for it in its settings."),
)
typed = (ss.get("target_name") or "").strip()
if not typed:
    problem = None
elif ss["target_kind"] == "campaign":
    problem = campaign_problem(typed)
else:
    problem = id_problem(ss["target_kind"], typed)
if problem:
    slug = suggest_slug(typed) if ss["target_kind"] == "campaign" else ""
    if slug and slug != typed:
        right.button(
            lit(_("Use '{slug}'").format(slug=slug)),
            key="use_slug",
            on_click=use_slug,
            args=(slug,),
            type="primary",
        )
        right.caption(
            lit(
                _("A campaign's name in its address has no spaces or capitals: {slug}").format(
                    slug=slug
                )
            )
        )
    else:
        right.error(lit(problem))

# --- which column feeds which field ---------------------------------------------------------

try:
    sheet = work.sheet()
except InputError as error:
    st.error(lit(str(error)))
    st.stop()
table = work.table
columns = list(table.columns)
mapping = work.mapping
suggestion = suggest(columns)
data_target = is_data(work.settings.target)


@functools.cache  # each selectbox shows every column's examples: read them once a run
def samples(column: str) -> str:
    values = [v for v in table[column].head(200).tolist() if v.strip()][:3]
    return ", ".join(v if len(v) <= 24 else v[:23] + "…" for v in values)


@frame.noting
def store_field(name: str) -> None:
    """One box changed: only its field changes, the others stay as the draft has them. A
    value that is not a column of this sheet (a label left in the browser by a page drawn
    for other columns) changes nothing."""
    chosen = ss.get(f"map_{name}")
    present = list(work.table.columns)
    if chosen is not None and chosen not in present:
        return
    current = work.mapping
    fields = {f.name: current.fields.get(f.name) for f in FIELDS}
    fields[name] = chosen
    work.choose_mapping(build_mapping(fields, extra_choices(present, fields, current)))


st.subheader(_("Which column feeds which field"))
if work.settings.mapping is None and work.saved_mapping() is not None:
    st.info(_("Starting from the mapping you last used for this target."))
boxes = [*st.columns(3), *st.columns(3)]
for box, field in zip(boxes, FIELDS, strict=False):
    # Every run, each box is given the draft's choice and the browser is told it: a box never
    # shows anything but what would be sent (the mapping last used for a campaign comes in when
    # the campaign is named, after the boxes were first drawn), and a box drawn in a run cut
    # short by the next click, which the browser would show empty and send back empty as if
    # chosen, is shown again with its value.
    chosen = mapping.fields.get(field.name)
    ss[f"map_{field.name}"] = chosen if chosen in columns else None

    def shown(
        column: str | None,
        name: str = field.name,
        words: tuple[str, str, str] = (
            _("— not used —"),
            _(" (suggested)"),
            _(" — e.g. {example}"),
        ),
    ) -> str:
        # the words made in this run: the box may be drawn again in another thread
        not_used, suggested, example_of = words
        if column is None:
            return not_used
        mark = suggested if suggestion.fields.get(name) == column else ""
        example = samples(column)
        return f"{column}{mark}" + (example_of.format(example=example) if example else "")

    label = _(field.label)
    if field.name == "customer_id" and data_target:
        label = _("Customer ID (sent as id, required)")
    box.selectbox(
        f"{label}{' *' if field.required else ''}",
        [None, *columns],
        key=f"map_{field.name}",
        format_func=shown,
        help=_(field.help),
        on_change=store_field,
        args=(field.name,),
    )

# --- the other columns ----------------------------------------------------------------------

fields = {f.name: mapping.fields.get(f.name) for f in FIELDS}
choices = extra_choices(columns, fields, mapping)
st.subheader(
    _("The other columns, as properties")
    if data_target
    else _("The other columns, as personal fields for the film")
)
st.caption(
    _(
        "Each column ticked here is sent as a property of the person in SEEN, under the name "
        "in the second column (letters, digits and _ only)."
    )
    if data_target
    else _(
        "Each column ticked here is sent for the film to use, under the name in the second "
        "column (letters, digits and _ only)."
    )
)


def store_extras(choices: list[ExtraChoice]) -> None:
    edited = (ss.get(ss["extras_key"]) or {}).get("edited_rows", {})
    changed = list(choices)
    for position, cells in edited.items():
        position = int(position)
        if 0 <= position < len(changed):
            c = changed[position]
            changed[position] = ExtraChoice(
                c.column,
                bool(cells.get(_("Send"), c.include)),
                str(cells.get(_("Name in SEEN"), c.key) or ""),
            )
    work.choose_mapping(build_mapping(fields, changed))
    ss["extras_version"] = ss.get("extras_version", 0) + 1


if choices:
    key = f"extras_{work.draft.id}_{ss.get('extras_version', 0)}"
    ss["extras_key"] = key
    st.data_editor(
        pd.DataFrame(
            {
                _("Column"): [c.column for c in choices],
                _("Send"): [c.include for c in choices],
                _("Name in SEEN"): [c.key for c in choices],
                _("For example"): [samples(c.column) for c in choices],
            }
        ),
        key=key,
        hide_index=True,
        disabled=[_("Column"), _("For example")],
        num_rows="fixed",
    )
    if (ss.get(key) or {}).get("edited_rows"):  # inline, so AppTest sees it too
        store_extras(choices)
        st.rerun()
else:
    st.caption(_("Every column goes to a field above; there is nothing else to send."))

errors = key_errors(choices)
for column, message in errors.items():
    st.error(lit(_("Column '{column}': {message}").format(column=column, message=message)))
problems = [p for p in mapping_problems(mapping, columns) if p.code != "extra_key_invalid"]
for p in problems:
    st.error(lit(p.message))
if data_target and not mapping.fields.get("customer_id"):
    st.warning(_("SEEN API 2.0 needs an id for every person: choose the customer ID column."))


@frame.noting
def load_file() -> None:
    uploaded = ss.get("mapping_upload")
    if uploaded is None:
        return
    try:
        loaded = Mapping.from_dict(json.loads(uploaded.getvalue().decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError):
        ss["mapping_error"] = _("'{name}' is not a mapping file (JSON).").format(name=uploaded.name)
        return
    except InputError as error:
        ss["mapping_error"] = str(error)
        return
    missing = [c for c in loaded.mapped_columns() if c not in columns]
    ss["mapping_error"] = (
        _("The mapping names columns this sheet does not have: {columns}.").format(
            columns=", ".join(missing)
        )
        if missing
        else None
    )
    if not missing:
        work.choose_mapping(loaded)
        for f in FIELDS:
            ss.pop(f"map_{f.name}", None)


with st.expander(_("Save or load this mapping")):
    left, right = st.columns(2)
    left.download_button(
        _("Save this mapping (JSON)"),
        data=mapping_json(mapping),
        file_name="seen-mapping.json",
        mime="application/json",
        key="mapping_download",
        on_click="ignore",
    )
    right.file_uploader(
        _("Load a mapping (JSON)"), type=["json"], key="mapping_upload", on_change=load_file
    )
if ss.get("mapping_error"):
    st.error(lit(ss["mapping_error"]))

ready = bool(work.settings.target) and not problem and not errors and not problems


@frame.noting
def go_on() -> None:
    work.keep_mapping()  # the draft's own from now on, and remembered for the target
    work.go(Step.CHECK)
    go(Step.CHECK)


next_cell, why_cell = st.columns([2, 3], vertical_alignment="center")
next_cell.button(
    _("Next: check the rows"),
    key="to_check",
    type="primary",
    disabled=not ready,
    on_click=go_on,
)
if not ready:
    why = why_not_ready(ss["target_kind"], typed, problem, errors, problems)
    why_cell.caption(lit(why))
move_on(Step.MAP, Step.CHECK)
