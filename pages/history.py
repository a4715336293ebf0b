"""History: your drafts and your sends — open, rename, resume, download, delete (after asking)."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from pages.frame import STEP_PAGES, enter
from pages.frame.engagement_view import send_engagement, show_engagement, show_unmatched
from seen_core import flow
from seen_core.errors import ConfigurationError, JobBusy, NotFound
from seen_core.i18n import _, in_this_language, moment
from seen_core.safe_text import markdown_literal as lit
from seen_core.send.running import SendRegistry
from seen_core.statuses import RESUMABLE_STATES, JobState
from seen_core.store.drafts import Draft, DraftStore
from seen_core.store.journal import JobInfo
from seen_core.wording import summary_line

frame = enter("history")
ss = st.session_state
journal = frame.journal
if journal is None:
    st.stop()
registry: SendRegistry = frame.registry
user, noting = frame.user, frame.noting
drafts = DraftStore(journal)


def when(iso: str) -> str:
    try:  # as the user writes a time: '12/7/26, 5:05 PM', '07.12.2026, 17:05'
        return f"{moment(datetime.fromisoformat(iso[:19]))} UTC"
    except ValueError:
        return f"{iso[:10]} {iso[11:16]} UTC"


def open_draft(draft: Draft) -> None:
    ss["goto_draft"] = draft


@noting
def rename(draft_id: str) -> None:
    try:
        drafts.rename(user, draft_id, ss.get(f"name_{draft_id}") or "")
        ss["history_error"] = None
    except (NotFound, ValueError) as error:
        ss["history_error"] = str(error)


@noting
def delete_draft(draft_id: str) -> None:
    drafts.delete(user, draft_id)
    work = ss.get("work")
    if work is not None and work.draft.id == draft_id:
        ss["work"] = None
        st.query_params.pop("draft", None)


@noting
def resume(job: JobInfo) -> None:
    try:
        to = flow.reconnect(
            journal, job, frame.secrets, frame.sandbox.url, ss.get("history_token") or ""
        )
    except ConfigurationError as error:
        ss["history_error"] = str(error)
        return
    ss["history_error"] = None
    registry.start(journal, job.id, to, user.id)


@noting
def delete_job(job_id: int) -> None:
    try:
        journal.delete_job(job_id, None if user.is_admin else user.id)
    except JobBusy as error:
        ss["history_error"] = str(error)


def confirm_delete(kind: str, ident: object, action) -> None:
    """A delete asks first: one click arms it, a second one in the same box deletes."""
    armed = ss.get("armed_delete") == (kind, ident)
    if not armed:
        if st.button(_("Delete…"), key=f"delete_{kind}_{ident}"):
            ss["armed_delete"] = (kind, ident)
            st.rerun()
        return
    st.warning(_("Delete for good, with the people in it?"))
    a, b = st.columns(2)
    if a.button(_("Yes, delete"), key=f"really_delete_{kind}_{ident}", type="primary"):
        ss["armed_delete"] = None
        action(ident)
        st.rerun()
    if b.button(_("Keep it"), key=f"keep_{kind}_{ident}"):
        ss["armed_delete"] = None
        st.rerun()


st.title(_("History"))
if ss.get("history_error"):
    st.error(lit(ss["history_error"]))
search = (
    st.text_input(_("Search by file, campaign or workspace"), key="history_search")
    .strip()
    .casefold()
)

st.subheader(_("Drafts"))
mine = [
    d
    for d in drafts.drafts(user)
    if not search or search in f"{d.name} {d.file_name} {d.settings.target}".casefold()
]
if not mine:
    st.caption(_("No drafts.") if not search else _("No draft matches."))
for draft in mine:
    with st.container(border=True):
        target = (
            flow.target_label(draft.settings.target) if draft.settings.target else _("no target")
        )
        st.markdown(
            lit(f"{draft.name} → {target}")
            + "  \n"
            + _("Last changed {when} · at {step}").format(
                when=when(draft.updated_at), step=draft.settings.step.title
            )
        )
        a, b, c = st.columns([1, 2, 1])
        a.button(
            _("Open"), key=f"open_{draft.id}", on_click=open_draft, args=(draft,), type="primary"
        )
        b.text_input(
            _("Rename this draft (press Enter to keep the new name)"),
            value=draft.name,
            key=f"name_{draft.id}",
            on_change=rename,
            args=(draft.id,),
        )
        with c:
            confirm_delete("draft", draft.id, delete_draft)

st.subheader(_("Sends"))
jobs = journal.jobs(None if user.is_admin else user.id)
jobs = [j for j in jobs if not search or search in f"{j.file_name} {j.campaign}".casefold()]
if any(j.target != flow.SANDBOX and j.state in RESUMABLE_STATES for j in jobs):
    st.text_input(
        _("SEEN token (only to resume a send to SEEN without a configured token)"),
        type="password",
        key="history_token",
    )


send_name = flow.send_names(jobs)


@st.fragment(run_every=1.0 if registry.running(user.id) else None)
def sends() -> None:
    if not jobs:
        st.caption(_("Nothing has been sent yet.") if not search else _("No send matches."))
    for listed in jobs:
        job = journal.job(listed.id)  # fresh counts on every refresh
        send = registry.get(job.id)
        active = send is not None and not send.finished
        where = _("the sandbox") if job.target == flow.SANDBOX else f"SEEN ({job.target})"
        with st.container(border=True):
            st.markdown(
                lit(
                    _("{send} · {file} → {target} on {where}").format(
                        send=send_name[job.id],
                        file=job.file_name,
                        target=flow.target_label(job.campaign),
                        where=where,
                    )
                )
                + f"  \n{when(job.created_at)} · {JobState(job.state).label} · "
                + summary_line(job.counts)
            )
            if active and send.progress is not None:
                p = send.progress
                st.progress(p.done / p.total if p.total else 0.0, text=_("Sending…"))
            if job.stop_reason:
                st.caption(lit(_("Stopped: {why}").format(why=job.stop_reason)))
            cells = st.columns(3)
            cells[0].download_button(
                _("Report (XLSX)"),
                data=in_this_language(
                    lambda job_id=job.id: (
                        flow.send_report_file(
                            journal,
                            job_id,
                            "r.xlsx",
                            engagement=send_engagement(journal, job_id).columns(),
                        ).data
                    )
                ),
                file_name=f"seen-send-{job.id}.xlsx",
                mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                key=f"history_xlsx_{job.id}",
                on_click="ignore",
            )
            # An admin sees every send, but resumes only their own: another user's send goes
            # out with that user's token and draft, never with someone else's.
            if job.state in RESUMABLE_STATES and not active and job.user_id == user.id:
                cells[1].button(
                    _("Resume"), key=f"history_resume_{job.id}", on_click=resume, args=(job,)
                )
            if not active:
                with cells[2]:
                    confirm_delete("send", job.id, delete_job)
            films_and_viewers(job)


def films_and_viewers(job: JobInfo) -> None:
    """A send's films and what viewers did (SEEN's callbacks), folded away; redrawn with the
    list, or by its own Refresh."""
    if not job.counts.get("created"):
        return
    with st.expander(_("Films and viewers")):
        st.button(_("Refresh"), key=f"history_engagement_refresh_{job.id}")
        show_engagement(journal, job.id, key=f"history_engagement_{job.id}", live=False)


sends()
if user.is_admin:
    show_unmatched(journal)
goto = ss.pop("goto_draft", None)
if goto is not None:
    st.switch_page(STEP_PAGES[goto.settings.step], query_params={"draft": goto.id})
