"""Step 1, Upload: a sheet of people (or the demo file), which sheet, and the header row."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pandas as pd
import streamlit as st

from pages.frame import STEP_PAGES, enter, go, move_on, seed
from seen_core import flow
from seen_core.errors import InputError, JournalError
from seen_core.i18n import _, ngettext
from seen_core.read.limits import Limits
from seen_core.safe_text import markdown_literal as lit
from seen_core.send.tokens import any_configured
from seen_core.store.drafts import DraftStore, Step
from seen_core.wording import number
from seen_core.workbench import Work

frame = enter("upload")
ss = st.session_state
journal, user, noting = frame.journal, frame.user, frame.noting
if journal is None:
    st.stop()
move_on(Step.UPLOAD, Step.MAP)  # Next was clicked: on at once, this page not drawn again
DEMO_FILE = Path(__file__).resolve().parent.parent / "demo" / "demo-receivers.xlsx"
FILE_TYPES = ["csv", "xlsx", "xlsm", "xls", "ods"]


def start(name: str, data: bytes, target: str = "") -> None:
    """A new draft for the file; a file that cannot be read gets one sentence and no draft.
    With a SEEN token on the server the draft is meant for SEEN, else (and for the demo) for
    the sandbox."""
    configured = any_configured(frame.secrets, dict(os.environ))
    destination = "seen" if configured and not target else "sandbox"
    try:
        work = Work.start(journal, user, name, data, target=target, destination=destination)
    except (InputError, JournalError) as error:  # the file, or the journal it goes into
        ss["upload_error"] = str(error)
        return
    except Exception:  # a reader's bug must still read as one sentence, not a traceback
        logging.getLogger(__name__).exception("Reading an upload failed")
        ss["upload_error"] = _(
            "'{name}' could not be read; save it again from Excel and retry."
        ).format(name=name)
        return
    ss["upload_error"] = None
    ss["work"] = work
    st.query_params["draft"] = work.draft.id
    work.checked_by_now()  # the check starts now, while the person looks at the sheet read


@noting
def use_demo() -> None:
    # The demo fills in a sandbox campaign, so a newcomer can walk the whole flow at once.
    start(DEMO_FILE.name, DEMO_FILE.read_bytes(), target="demo-campaign")


@noting
def go_on(work: Work) -> None:
    work.go(Step.MAP)
    go(Step.MAP)


st.title(_("Upload your sheet of people"))
left, right = st.columns([3, 1], vertical_alignment="bottom")
uploaded = left.file_uploader(
    _("A sheet of people from your CRM: CSV, Excel (XLSX, XLSM, XLS) or OpenDocument (ODS)"),
    type=FILE_TYPES,
    key="upload",
    max_upload_size=Limits.from_env().upload_mb,
)
right.button(
    _("Try the demo file"),
    key="demo",
    on_click=use_demo,
    help=_("A small Norwegian sheet with a few deliberate mistakes, to try on the sandbox."),
)
if uploaded is not None and uploaded.file_id != ss.get("_upload_id"):
    ss["_upload_id"] = uploaded.file_id
    with st.spinner(_("Reading the file…")):
        start(uploaded.name, uploaded.getvalue())
if ss.get("upload_error"):
    st.error(lit(ss["upload_error"]))

work: Work | None = ss.get("work")
if work is None:
    last = DraftStore(journal).last_open(user)
    if last is not None:

        @noting
        def carry_on() -> None:
            ss["continue_draft"] = last

        left_at = {
            "name": last.name,
            "step": last.settings.step.title,
            "moment": f"{last.updated_at[:16].replace('T', ' ')} UTC",
        }
        if last.settings.target:
            said = _("Your last draft, '{name}' for {target}, was left at {step}, {moment}.")
            left_at["target"] = flow.target_label(last.settings.target)
        else:
            said = _("Your last draft, '{name}', was left at {step}, {moment}.")
        st.info(lit(said.format(**left_at)))
        st.button(
            lit(_("Continue '{name}'").format(name=last.name)),
            key="continue_last",
            type="primary",
            on_click=carry_on,
        )
    st.caption(_("Your work is kept as a draft: you can close the tab and carry on later."))
    goto = ss.pop("continue_draft", None)
    if goto is not None:
        st.switch_page(STEP_PAGES[goto.settings.step], query_params={"draft": goto.id})
    st.stop()

try:
    sheet = work.sheet()
except InputError as error:
    st.error(lit(str(error)))
    st.stop()
where = _("sheet '{sheet}', ").format(sheet=sheet.sheet_name) if sheet.sheet_name else ""
blank = (
    ngettext(
        "; {count} blank row skipped", "; {count} blank rows skipped", sheet.blank_rows
    ).format(count=number(sheet.blank_rows))
    if sheet.blank_rows
    else ""
)
st.success(
    lit(
        ngettext(
            "Read {count} person from {file} ({where}header on row {row}{blank}).",
            "Read {count} people from {file} ({where}header on row {row}{blank}).",
            sheet.rows,
        ).format(
            count=number(sheet.rows),
            file=work.draft.file_name,
            where=where,
            row=sheet.header_row,
            blank=blank,
        )
    )
)


@noting
def pick_sheet() -> None:
    try:
        work.choose_sheet(ss["sheet_pick"])
    except InputError as error:
        ss["upload_error"] = str(error)


@noting
def pick_header_row() -> None:
    work.choose_header_row(int(ss["header_row"]))


left, right, _spare = st.columns([2, 2, 3])
if len(sheet.sheet_names) > 1:
    seed("sheet_pick", work.settings.sheet_name or sheet.sheet_name)
    left.selectbox(_("Sheet"), sheet.sheet_names, key="sheet_pick", on_change=pick_sheet)
seed("header_row", int(work.settings.header_row or sheet.header_row))
(right if len(sheet.sheet_names) > 1 else left).number_input(
    _("Header row"),
    help=_("The spreadsheet row with the column names; rows above it are skipped."),
    min_value=1,
    step=1,
    key="header_row",
    on_change=pick_header_row,
)

with st.expander(_("The first rows of the sheet, as read")):
    width = max((len(r) for r in sheet.preview), default=0)
    preview = pd.DataFrame(
        [r + [""] * (width - len(r)) for r in sheet.preview],
        index=pd.RangeIndex(1, len(sheet.preview) + 1, name=_("row")),
    )
    st.dataframe(preview, key="preview_table")
if not sheet.rows:
    st.warning(_("There are no rows of people below the header."))
else:
    st.button(
        _("Next: map the columns"), key="to_map", type="primary", on_click=go_on, args=(work,)
    )
