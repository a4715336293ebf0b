"""Send receivers: upload → map → check and fix → send → results, on one page."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import pandas as pd
import streamlit as st

from seen_core.checks import CheckOptions, CheckResult, check_sheet
from seen_core.client import SeenClient, campaign_problem
from seen_core.journal import JobBusy, Journal
from seen_core.mapping import (
    FIELD_NAMES,
    FIELDS,
    Mapping,
    MappingError,
    mapping_json,
    mapping_problems,
    suggest,
)
from seen_core.receivers import payloads
from seen_core.sandbox import DEFAULT_TOKEN, Sandbox
from seen_core.sending import AlreadySent, plan_send
from seen_core.session import (
    RESEND_STATUSES,
    SANDBOX_TARGET,
    ExtraChoice,
    MappingMemory,
    SendRegistry,
    SheetStore,
    any_token,
    base_url,
    build_mapping,
    commit_edits,
    environment,
    extra_choices,
    find_token,
    fix_view,
    key_errors,
    regions,
    report_csv,
    report_name,
    report_workbook,
    rows_to_send_again,
    send_plan,
    send_rate,
    with_table,
)
from seen_core.sheets import Sheet, SheetError, read_sheet

ss = st.session_state
journal: Journal = ss["_journal"]
registry: SendRegistry = ss["_registry"]
sandbox: Sandbox = ss["_sandbox"]
DEMO_FILE = Path(__file__).resolve().parent.parent / "demo" / "demo-receivers.xlsx"
FILE_TYPES = ["csv", "xlsx", "xlsm", "xls", "ods"]
NOT_MAPPED = "— not mapped —"
SANDBOX_LABEL = "Sandbox (local stand-in — nothing reaches SEEN)"


@st.cache_data(scope="session", max_size="512MB", show_spinner="Reading the file…")
def parse(name: str, data: bytes, sheet: str | None, header_row: int | None) -> Sheet:
    return read_sheet(name, data, sheet=sheet, header_row=header_row)


def secrets() -> dict:
    try:
        return st.secrets.to_dict()
    except Exception:  # no secrets file at all
        return {}


def receivers(n: int) -> str:
    return f"{n} receiver" if n == 1 else f"{n} receivers"


def bump(name: str) -> None:
    ss[name] = ss.get(name, 0) + 1


# --- step 1: the file ----------------------------------------------------------------------------


def use_demo() -> None:
    ss["source"] = (DEMO_FILE.name, DEMO_FILE.read_bytes())
    bump("source_id")
    if not (ss.get("campaign") or "").strip():
        ss["campaign"] = "demo-campaign"  # so a newcomer can send to the sandbox at once


def choose_source() -> tuple[str, bytes] | None:
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    uploaded = left.file_uploader(
        "Your sheet of people (CSV, XLSX, XLSM, XLS or ODS)",
        type=FILE_TYPES,
        key="upload",
        max_upload_size=200,
    )
    right.button(
        "Try the demo file",
        key="demo",
        on_click=use_demo,
        help="A small Norwegian sheet with a few deliberate mistakes, to try on the sandbox.",
    )
    if uploaded is not None and uploaded.file_id != ss.get("_upload_id"):
        ss["_upload_id"] = uploaded.file_id
        ss["source"] = (uploaded.name, uploaded.getvalue())
        bump("source_id")
    elif uploaded is None and ss.get("_upload_id") is not None:
        ss["_upload_id"] = None  # the user removed the file
        ss["source"] = None
    return ss.get("source")


def read_file(source: tuple[str, bytes]) -> Sheet | None:
    name, data = source
    source_id = ss.get("source_id", 0)
    try:
        picked = parse(name, data, None, None)
        names = picked.sheet_names
        if ss.get("_sheet_for") != source_id:
            ss["_sheet_for"] = source_id
            ss["sheet_pick"] = picked.sheet_name
        chosen = ss.get("sheet_pick") if names else None
        if chosen not in names:
            chosen = picked.sheet_name
        left, right, _ = st.columns([2, 2, 3])
        if len(names) > 1:
            left.selectbox("Sheet", names, key="sheet_pick", persist_state="session")
        detected = picked if chosen == picked.sheet_name else parse(name, data, chosen, None)
        if ss.get("_header_for") != (source_id, chosen):
            ss["_header_for"] = (source_id, chosen)
            ss["header_row"] = detected.header_row
        (right if len(names) > 1 else left).number_input(
            "Header row",
            help="The spreadsheet row that holds the column names; rows above it are skipped.",
            min_value=1,
            step=1,
            key="header_row",
            persist_state="session",
        )
        header_row = int(ss["header_row"])
        sheet = (
            detected if header_row == detected.header_row else parse(name, data, chosen, header_row)
        )
    except SheetError as error:
        st.error(str(error))
        return None
    except Exception:  # a reader's bug must still read as one sentence, not a traceback
        logging.getLogger(__name__).exception("Reading %s failed", name)
        st.error(f"'{name}' could not be read; save it again from Excel and upload it again.")
        return None
    where = f"sheet '{sheet.sheet_name}', " if sheet.sheet_name else ""
    blank = f"; {sheet.blank_rows} blank rows skipped" if sheet.blank_rows else ""
    st.success(
        f"Read {sheet.rows} people from {sheet.file_name} "
        f"({where}header on row {sheet.header_row}{blank})."
    )
    with st.expander("The first rows of the sheet, as read"):
        width = max((len(r) for r in sheet.preview), default=0)
        preview = pd.DataFrame(
            [r + [""] * (width - len(r)) for r in sheet.preview],
            index=pd.RangeIndex(1, len(sheet.preview) + 1, name="row"),
        )
        st.dataframe(preview, key="preview_table")
    return sheet


# --- step 2: the mapping -------------------------------------------------------------------------


def apply_start(columns: list[str], start: Mapping) -> None:
    """Set the mapping widgets to a mapping (the suggestion, a loaded file or a remembered one)."""
    for name in FIELD_NAMES:
        column = start.fields.get(name)
        ss[f"map_{name}"] = column if column in columns else None
    ss["extras"] = extra_choices(columns, {}, start)
    bump("extras_version")


def new_sheet(sheet: Sheet, campaign: str) -> None:
    ss["master"] = sheet.table.copy()
    ss["check"] = None
    ss["check_sig"] = None
    ss["resend_force"] = False
    ss["already_sent"] = None
    bump("fix_version")
    if not is_running(current_job()):  # a new sheet: the last send's results no longer apply
        ss["job_id"] = None
        st.query_params.pop("job", None)
    remembered = MappingMemory().load(campaign, sheet.columns) if campaign else None
    if remembered is not None:
        ss["mapping_note"] = f"Using the mapping you last used for campaign '{campaign}'."
    else:
        ss["mapping_note"] = None
    apply_start(sheet.columns, remembered or suggest(sheet.columns))


def load_mapping_file(columns: list[str]) -> None:
    uploaded = ss.get("mapping_upload")
    if uploaded is None or uploaded.file_id == ss.get("_mapping_upload_id"):
        return
    ss["_mapping_upload_id"] = uploaded.file_id
    try:
        loaded = Mapping.from_dict(json.loads(uploaded.getvalue().decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError):
        ss["mapping_note"] = None
        ss["mapping_load_error"] = f"'{uploaded.name}' is not a mapping file (JSON)."
        return
    except MappingError as error:
        ss["mapping_load_error"] = str(error)
        return
    missing = [c for c in loaded.mapped_columns() if c not in columns]
    ss["mapping_load_error"] = (
        f"The mapping names columns this sheet does not have: {', '.join(missing)}; "
        "those fields are left unmapped."
        if missing
        else None
    )
    ss["mapping_note"] = f"Using the mapping from {uploaded.name}."
    apply_start(columns, loaded)


def extras_editor(columns: list[str], fields: dict[str, str | None]) -> list[ExtraChoice]:
    used = {c for c in fields.values() if c}
    choices: list[ExtraChoice] = [c for c in ss["extras"] if c.column not in used]
    if not choices:
        st.caption("Every column goes to a SEEN field; there is nothing left for extra_args.")
        return []
    frame = pd.DataFrame(
        {
            "Column": [c.column for c in choices],
            "Send": [c.include for c in choices],
            "extra_args key": [c.key for c in choices],
        }
    )
    key = f"extras_editor_{ss.get('extras_version', 0)}"
    ss["extras_editor_key"] = key
    st.data_editor(
        frame,
        key=key,
        hide_index=True,
        disabled=["Column"],
        num_rows="fixed",
        column_config={
            "Send": st.column_config.CheckboxColumn(help="Send this column in extra_args"),
            "extra_args key": st.column_config.TextColumn(
                help="Only A-Z, a-z, 0-9 and _ (write o for ø, ae for æ, a for å)"
            ),
        },
    )
    edited = (ss.get(key) or {}).get("edited_rows", {})
    changed = dict(enumerate(choices))
    for position, cells in edited.items():
        position = int(position)
        if position not in changed:
            continue
        choice = changed[position]
        changed[position] = ExtraChoice(
            choice.column,
            bool(cells.get("Send", choice.include)),
            str(cells.get("extra_args key", choice.key) or ""),
        )
    if any(changed[i] != c for i, c in enumerate(choices)):
        # Commit into the plain key and start a fresh editor, so edits survive page changes.
        updated = {c.column: c for c in changed.values()}
        ss["extras"] = [updated.get(c.column, c) for c in ss["extras"]]
        bump("extras_version")
        st.rerun()
    return choices


def choose_mapping(sheet: Sheet, campaign: str) -> Mapping | None:
    columns = sheet.columns
    load_mapping_file(columns)
    suggestion = suggest(columns)
    if ss.get("mapping_note"):
        st.info(ss["mapping_note"])
    if ss.get("mapping_load_error"):
        st.error(ss["mapping_load_error"])

    def label(name: str):
        def shown(column: str | None) -> str:
            if column is None:
                return NOT_MAPPED
            return f"{column} (suggested)" if suggestion.fields.get(name) == column else column

        return shown

    fields: dict[str, str | None] = {}
    boxes = [*st.columns(3), *st.columns(3)]
    for box, field in zip(boxes, FIELDS, strict=False):
        fields[field.name] = box.selectbox(
            f"{field.label}{' *' if field.required else ''}",
            [None, *columns],
            key=f"map_{field.name}",
            format_func=label(field.name),
            help=field.help,
            persist_state="session",
        )
    st.markdown("**Other columns** → `extra_args` (the campaign's personal fields)")
    choices = extras_editor(columns, fields)
    errors = key_errors(choices)
    for column, message in errors.items():
        st.error(f"Column '{column}': {message}")
    mapping = build_mapping(fields, choices)
    problems = [p for p in mapping_problems(mapping, columns) if p.code != "extra_key_invalid"]
    for problem in problems:
        st.error(problem.message)

    left, right = st.columns(2)
    left.download_button(
        "Save this mapping (JSON)",
        data=mapping_json(mapping),
        file_name=f"{campaign or 'seen'}-mapping.json",
        mime="application/json",
        key="mapping_download",
        on_click="ignore",
    )
    right.file_uploader("Load a mapping (JSON)", type=["json"], key="mapping_upload")
    remembered = MappingMemory().load(campaign, columns) if campaign else None
    if remembered is not None and remembered != mapping:
        st.info(f"There is a saved mapping for campaign '{campaign}' that fits this sheet.")
        st.button(
            "Use the saved mapping",
            key="use_remembered",
            on_click=apply_start,
            args=(columns, remembered),
        )
    if errors or problems:
        st.warning("Fix the mapping above to check the rows.")
        return None
    return mapping


# --- step 3: check and fix -----------------------------------------------------------------------


def check_options() -> CheckOptions:
    with st.expander("Check settings"):
        region = st.selectbox(
            "Country for phone numbers without +country code",
            regions(),
            key="region",
            persist_state="session",
        )
        delivery = st.toggle(
            "SEEN delivers the films (every receiver needs a phone or e-mail)",
            value=True,
            key="delivery",
            persist_state="session",
        )
    return CheckOptions(region=region or "NO", delivery=delivery)


def check_and_fix(sheet: Sheet, mapping: Mapping) -> CheckResult:
    options = check_options()
    sig = (sheet.sha256, sheet.sheet_name, sheet.header_row, mapping_json(mapping), options)
    if ss.get("check_sig") != sig or ss.get("check") is None:
        ss["check"] = check_sheet(ss["master"], mapping, options)
        ss["check_sig"] = sig
        bump("fix_version")
    result: CheckResult = ss["check"]
    counts = result.counts
    cells = st.columns(4)
    cells[0].metric("Rows", f"{counts['rows']:,}")
    cells[1].metric("Ready to send", f"{counts['valid']:,}")
    cells[2].metric("Invalid", f"{counts['invalid']:,}")
    cells[3].metric("Warnings", f"{counts['warnings']:,}")
    for problem in result.sheet_problems:
        (st.error if problem.severity == "error" else st.warning)(problem.message)
    row_problems = [p for p in result.problems if p.row is not None]
    if row_problems:
        st.dataframe(
            pd.DataFrame(
                {
                    "Row": [p.row for p in row_problems],
                    "Column": [p.column or "" for p in row_problems],
                    "Problem": [p.message for p in row_problems],
                }
            ),
            hide_index=True,
            key="problems_table",
        )

    show_all = st.toggle("Show all rows, not only those with problems", key="show_all_rows")
    view = fix_view(ss["master"], result, show_all)
    if view.empty:
        st.success("No row has a problem.")
    else:
        st.caption("Fix a cell by double-clicking it; the row is checked again at once.")
        key = f"fix_editor_{ss.get('fix_version', 0)}"
        ss["fix_editor_key"] = key
        problems_column = view.columns[0]
        st.data_editor(
            view,
            key=key,
            disabled=[problems_column],
            num_rows="fixed",
            column_config={problems_column: st.column_config.TextColumn(width="large")},
        )
        pending = (ss.get(key) or {}).get("edited_rows", {})
        if pending:
            table, new_result, changed = commit_edits(
                ss["master"], result, mapping, options, view.index, pending
            )
            if changed:
                ss["master"], ss["check"] = table, new_result
                bump("fix_version")
                st.rerun()

    with st.expander("What will be sent for one row"):
        rows = list(ss["master"].index)
        first = result.valid_rows[0] if result.valid_rows else (rows[0] if rows else 2)
        row = st.number_input("Row number", value=first, step=1, key="payload_row")
        if row not in ss["master"].index:
            st.caption(f"Row {row} is not a row of people in this sheet.")
        elif row in result.invalid_rows:
            st.caption(f"Row {row} will not be sent: {result.messages(row) or 'see above'}")
        else:
            st.json(payloads(ss["master"], mapping, options.region, [row])[0][1])
    return result


# --- step 4: send --------------------------------------------------------------------------------


def current_job() -> int | None:
    return ss.get("job_id")


def is_running(job_id: int | None) -> bool:
    if job_id is None:
        return False
    send = registry.get(job_id)
    return send is not None and not send.finished


def client_factory(target: str, campaign: str):
    """(A function making the send's client, its base URL), or a sentence saying why not."""
    if target == SANDBOX_TARGET:
        url = sandbox.url
        return (lambda: SeenClient(url, DEFAULT_TOKEN)), url
    found = find_token(campaign, secrets(), environment())
    token = found.token if found else (ss.get("seen_token") or "").strip()
    if not token:
        return "Enter the SEEN token for this campaign, or configure it (see Help)."
    try:
        with SeenClient((ss.get("base_url") or "").strip(), token) as client:
            url = client.base_url  # a bad address or token is refused before anything is planned
    except ValueError as error:
        return str(error)
    return (lambda: SeenClient(url, token)), url


def start_send(sheet: Sheet, mapping: Mapping, campaign: str, region: str) -> None:
    """The Send button's callback: plan the send in the journal, then run it in a thread."""
    lock = ss.setdefault("_send_lock", threading.Lock())
    with lock:  # fast reruns can overlap: check and start atomically
        if is_running(current_job()):
            return
        ss["send_error"] = None
        target_choice = ss.get("target", SANDBOX_TARGET)
        made = client_factory(target_choice, campaign)
        if isinstance(made, str):
            ss["send_error"] = made
            return
        factory, url = made
        target = SANDBOX_TARGET if target_choice == SANDBOX_TARGET else url
        receivers, invalid = send_plan(ss["master"], mapping, ss["check"], region)
        try:
            job_id = plan_send(
                journal,
                file_name=sheet.file_name,
                file_sha256=sheet.sha256,
                campaign=campaign,
                target=target,
                batch_size=int(ss.get("batch_size") or 100),
                receivers=receivers,
                invalid=invalid,
                force=bool(ss.get("resend_force") or ss.get("force_send")),
            )
        except AlreadySent as error:
            ss["already_sent"] = str(error)
            return
        except JobBusy as error:
            ss["send_error"] = str(error)
            return
        # Each send is asked for afresh: no forcing or confirmation carries over to the next.
        ss["already_sent"] = None
        ss["resend_force"] = False
        ss["force_send"] = False
        ss["confirm_send"] = False
        MappingMemory().save(campaign, mapping)
        kept, store = with_table(sheet, ss["master"]), SheetStore(journal)
        problems = ss["check"].problems
        registry.start(
            journal,
            job_id,
            factory,
            campaign,
            rate=send_rate(target),
            before=lambda: store.save(job_id, kept, problems),
        )
        ss["job_id"] = job_id
        st.query_params["job"] = str(job_id)


def send_step(sheet: Sheet, mapping: Mapping, result: CheckResult, campaign: str) -> None:
    tokens = any_token(secrets(), environment())
    options = [SANDBOX_TARGET, "seen"]
    if "target" not in ss:
        ss["target"] = "seen" if tokens else SANDBOX_TARGET
    target = st.radio(
        "Send to",
        options,
        key="target",
        format_func=lambda t: SANDBOX_LABEL if t == SANDBOX_TARGET else "SEEN",
        horizontal=True,
        persist_state="session",
    )
    ready = len(result.valid_rows) if not result.blocked else 0
    confirmed = True
    if target == "seen":
        if "base_url" not in ss:
            ss["base_url"] = base_url(secrets(), environment())
        st.text_input("SEEN address", key="base_url", persist_state="session")
        found = find_token(campaign, secrets(), environment()) if campaign else None
        if found:
            st.caption(f"Token for this campaign: from {found.where}.")
        else:
            st.text_input(
                "SEEN token for this campaign",
                type="password",
                key="seen_token",
                help="Kept only in this browser session. To configure it for good, see Help.",
            )
        confirmed = st.checkbox(
            f"Yes, create {receivers(ready)} on the SEEN campaign '{campaign or '…'}'.",
            key="confirm_send",
        )
    else:
        st.caption("The sandbox is a stand-in for SEEN inside this app: nothing reaches SEEN.")
    st.columns([2, 5])[0].number_input(
        "Receivers per request (batch size)",
        min_value=1,
        max_value=1000,
        value=100,
        step=10,
        key="batch_size",
        persist_state="session",
    )
    if ss.get("already_sent"):
        st.warning(ss["already_sent"])
        st.checkbox("Send it again anyway", key="force_send")
    if ss.get("send_error"):
        st.error(ss["send_error"])
    running = is_running(current_job())
    where = "the sandbox" if target == SANDBOX_TARGET else "SEEN"
    st.button(
        f"Send {receivers(ready)} to {where}",
        key="send",
        type="primary",
        on_click=start_send,
        args=(sheet, mapping, campaign, ss["check_sig"][4].region),
        disabled=running or not ready or bool(campaign_problem(campaign)) or not confirmed,
    )
    if campaign_problem(campaign):
        st.caption(campaign_problem(campaign))


# --- step 5: progress and results ----------------------------------------------------------------


def resend_failed(outcomes: dict[int, tuple[str, str]]) -> None:
    rows = rows_to_send_again(ss["master"], outcomes)
    ss["master"] = ss["master"].loc[rows].copy()
    ss["check"] = None
    ss["check_sig"] = None
    ss["resend_force"] = True
    ss["job_id"] = None
    ss["already_sent"] = None
    st.query_params.pop("job", None)


def results(job_id: int) -> None:
    try:
        job = journal.job(job_id)
    except KeyError:
        st.warning(f"Send #{job_id} is no longer in the history.")
        ss["job_id"] = None
        return
    st.subheader(f"Results of send #{job.id} to campaign '{job.campaign}'")
    if job.stop_reason:
        resume = " What was not sent can be sent later with Resume on the History page."
        tell = st.warning if job.state == "cancelled" else st.error
        tell(f"The send stopped: {job.stop_reason}{resume}")
    counts = job.counts
    shown = ["created", "rejected", "invalid", "failed", "unknown", "not_sent"]
    cells = st.columns(len(shown))
    for cell, status in zip(cells, shown, strict=True):
        cell.metric(status.replace("_", " ").capitalize(), f"{counts.get(status, 0):,}")
    sheets = SheetStore(journal)
    left, right, third = st.columns(3)
    left.download_button(
        "Download the annotated workbook",
        data=lambda: report_workbook(journal, job_id, sheets),
        file_name=report_name(job.file_name, job_id, ".xlsx"),
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="report_xlsx",
        on_click="ignore",
        type="primary",
    )
    right.download_button(
        "Download as CSV",
        data=lambda: report_csv(journal, job_id, sheets),
        file_name=report_name(job.file_name, job_id, ".csv"),
        mime="text/csv",
        key="report_csv",
        on_click="ignore",
    )
    if counts.get("unknown"):
        st.warning(
            f"{counts['unknown']:,} {'row' if counts['unknown'] == 1 else 'rows'} got no answer "
            "from SEEN and have no customer ID, so SEEN may have created them: check them in "
            "SEEN before sending them again. They are not sent again from here."
        )
    outcomes = journal.outcomes(job_id)
    again = sum(counts.get(s, 0) for s in RESEND_STATUSES)
    if again and ss.get("master") is not None:
        third.button(
            f"Fix and send the {again} {'row' if again == 1 else 'rows'} not created",
            key="resend_failed",
            on_click=resend_failed,
            args=(outcomes,),
        )
    left_out = [
        (row, status, message) for row, (status, message) in outcomes.items() if status != "created"
    ]
    if left_out:
        with st.expander(
            f"The {len(left_out)} {'row' if len(left_out) == 1 else 'rows'} not created, and why"
        ):
            st.dataframe(
                pd.DataFrame(left_out, columns=["Row", "Status", "Message"]),
                hide_index=True,
                key="not_created_table",
            )


def job_panel() -> None:
    job_id = current_job()
    if job_id is None:
        return
    running = is_running(job_id)

    @st.fragment(run_every=0.5 if running else None)
    def progress() -> None:
        send = registry.get(job_id)
        if send is not None and not send.finished:
            p = send.progress
            done, total = (p.done, p.total) if p else (0, 0)
            left = f" · about {p.eta_seconds:.0f} s left" if p and p.eta_seconds else ""
            created = p.counts.get("created", 0) if p else 0
            rejected = p.counts.get("rejected", 0) if p else 0
            st.progress(
                done / total if total else 0.0,
                text=f"Sending… {done:,} of {total:,} done · {created:,} created · "
                f"{rejected:,} rejected{left}",
            )
            st.button("Cancel the send", key="cancel_send", on_click=send.cancel.set)
            return
        if send is not None and send.error:
            st.error(f"The send could not run: {send.error}")
        if ss.get("_shown_finished") != job_id:
            ss["_shown_finished"] = job_id
            if running:
                st.rerun(scope="app")  # enable the Send button again and show the results
        results(job_id)

    progress()


def follow(job_id: int) -> None:
    ss["job_id"] = job_id
    st.query_params["job"] = str(job_id)


def running_elsewhere() -> None:
    """Sends running on this server that this page does not follow (a reload during the Send
    click, another tab): offered, so a send is never lost from sight nor started twice."""
    for send in registry.running():
        if send.job_id == current_job():
            continue
        try:
            job = journal.job(send.job_id)
        except KeyError:
            continue
        st.info(f"Send #{job.id} of {job.file_name} to campaign '{job.campaign}' is running now.")
        st.button(f"Follow send #{job.id}", key=f"follow_{job.id}", on_click=follow, args=(job.id,))


def attach_from_link() -> None:
    """After a reload, the job id in the address finds the send again."""
    if "job_id" in ss:
        return
    job = st.query_params.get("job")
    ss["job_id"] = int(job) if job and job.isdigit() else None


# --- the page ------------------------------------------------------------------------------------


st.title("Send receivers to a SEEN campaign")
attach_from_link()
running_elsewhere()
st.header("1. Campaign and sheet", divider="gray")
campaign = (
    st.text_input(
        "Campaign slug",
        key="campaign",
        placeholder="spring-campaign",
        help="The last part of the campaign's address in SEEN: letters, digits, - and _.",
        persist_state="session",
    )
    or ""
).strip()
if campaign and campaign_problem(campaign):
    st.error(campaign_problem(campaign))
source = choose_source()
sheet = read_file(source) if source else None

if sheet is not None:
    sig = (ss.get("source_id"), sheet.sha256, sheet.sheet_name, sheet.header_row)
    if ss.get("sheet_sig") != sig:
        ss["sheet_sig"] = sig
        new_sheet(sheet, campaign if not campaign_problem(campaign) else "")
    if not sheet.rows:
        st.warning("There are no rows of people below the header.")
    else:
        st.header("2. Map the columns to SEEN's fields", divider="gray")
        mapping = choose_mapping(sheet, campaign if not campaign_problem(campaign) else "")
        if mapping is not None:
            st.header("3. Check and fix", divider="gray")
            result = check_and_fix(sheet, mapping)
            st.header("4. Send", divider="gray")
            send_step(sheet, mapping, result, campaign)
elif current_job() is None:
    st.caption("Upload a sheet, or try the demo file to see the whole flow on the sandbox.")

if current_job() is not None:
    st.header("5. Results" if sheet is not None else "Your send", divider="gray")
    job_panel()
