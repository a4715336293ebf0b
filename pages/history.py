"""History: earlier sends, their reports, and resuming or deleting them."""

from __future__ import annotations

import os

import streamlit as st

from seen_core.client import SeenClient
from seen_core.journal import CANCELLED, INTERRUPTED, PENDING, STOPPED, JobBusy, JobInfo, Journal
from seen_core.sandbox import DEFAULT_TOKEN, Sandbox
from seen_core.session import (
    SANDBOX_TARGET,
    SendRegistry,
    SheetStore,
    find_token,
    report_csv,
    report_name,
    report_workbook,
    send_rate,
)

ss = st.session_state
journal: Journal = ss["_journal"]
registry: SendRegistry = ss["_registry"]
sandbox: Sandbox = ss["_sandbox"]
sheets = SheetStore(journal)
RESUMABLE = (PENDING, INTERRUPTED, CANCELLED, STOPPED)


def secrets() -> dict:
    try:
        return st.secrets.to_dict()
    except Exception:
        return {}


def resume(job: JobInfo) -> None:
    if job.target == SANDBOX_TARGET:
        url, token = sandbox.url, DEFAULT_TOKEN
    else:
        found = find_token(job.campaign, secrets(), dict(os.environ))
        url, token = job.target, (found.token if found else (ss.get("history_token") or ""))
        if not found and not str(token).strip():
            ss["history_error"] = f"Enter the SEEN token for campaign '{job.campaign}' to resume."
            return
    try:
        SeenClient(url, token).close()
    except ValueError as error:
        ss["history_error"] = str(error)
        return
    ss["history_error"] = None
    registry.start(
        journal, job.id, lambda: SeenClient(url, token), job.campaign, rate=send_rate(job.target)
    )


def delete(job_id: int) -> None:
    try:
        journal.delete_job(job_id)
    except JobBusy as error:
        ss["history_error"] = str(error)
        return
    if ss.get("job_id") == job_id:
        ss["job_id"] = None


st.title("History")


@st.fragment(run_every=1.0 if registry.running() else None)
def history() -> None:
    if ss.get("history_error"):
        st.error(ss["history_error"])
    jobs = journal.jobs()
    if not jobs:
        st.info("Nothing has been sent yet.")
        return
    if any(j.target != SANDBOX_TARGET and j.state in RESUMABLE for j in jobs):
        st.text_input(
            "SEEN token (only needed to resume a send to SEEN without a configured token)",
            type="password",
            key="history_token",
        )
    for job in jobs:
        send = registry.get(job.id)
        active = send is not None and not send.finished
        where = "Sandbox" if job.target == SANDBOX_TARGET else f"SEEN ({job.target})"
        with st.container(border=True):
            st.markdown(
                f"**Send #{job.id}** · {job.file_name} → campaign **{job.campaign}** on {where}"
                f" · {job.created_at[:16].replace('T', ' ')} UTC · *{job.state}*"
            )
            counts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in job.counts.items() if n)
            st.caption(counts or "no rows")
            if job.stop_reason:
                st.caption(f"Stopped: {job.stop_reason}")
            cells = st.columns(4)
            cells[0].download_button(
                "Report (XLSX)",
                data=lambda job_id=job.id: report_workbook(journal, job_id, sheets),
                file_name=report_name(job.file_name, job.id, ".xlsx"),
                mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                key=f"history_xlsx_{job.id}",
                on_click="ignore",
            )
            cells[1].download_button(
                "Report (CSV)",
                data=lambda job_id=job.id: report_csv(journal, job_id, sheets),
                file_name=report_name(job.file_name, job.id, ".csv"),
                mime="text/csv",
                key=f"history_csv_{job.id}",
                on_click="ignore",
            )
            if job.state in RESUMABLE and not active:
                cells[2].button(
                    "Resume", key=f"history_resume_{job.id}", on_click=resume, args=(job,)
                )
            if active:
                cells[2].caption("Sending now…")
            cells[3].button(
                "Delete",
                key=f"history_delete_{job.id}",
                on_click=delete,
                args=(job.id,),
                disabled=active,
            )


history()
