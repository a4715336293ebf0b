"""Step 5, Results: what became of every row, what to do next, and your sheet with the answers."""

from __future__ import annotations

import threading

import pandas as pd
import streamlit as st

from pages.frame import enter, go, move_on
from pages.frame.engagement_view import send_engagement, show_engagement
from seen_core import flow
from seen_core.safe_text import markdown_literal as lit
from seen_core.statuses import NOT_CREATED, Status
from seen_core.store.drafts import Step
from seen_core.wording import count, summary_line
from seen_core.workbench import Work

frame = enter("results")
ss = st.session_state
work: Work = frame.draft  # app.py shows this page only with a draft in hand
journal = frame.journal
move_on(Step.RESULTS, Step.CHECK)  # Fix was clicked: on at once, this page not drawn again

st.title("Results")
sends = work.sends()
if not sends:
    st.info("Nothing has been sent from this draft yet.")
    st.stop()
latest = sends[-1]
outcomes = work.outcomes()
counts = flow.count_statuses(outcomes)
st.subheader(summary_line(counts))
where = flow.target_label(latest.campaign)
st.caption(
    lit(
        f"{work.draft.file_name} → {where}"
        f"{' on the sandbox' if latest.target == flow.SANDBOX else ''} · "
        f"{count(len(sends), 'send')} from this draft"
    )
)
running = frame.registry.get(latest.id)
if running is not None and running.error:  # the journal could not record it (a full disk…)
    st.error(lit(f"The last send stopped: {running.error}"))
elif latest.stop_reason:
    st.error(lit(f"The last send stopped: {latest.stop_reason}"))
failed = [m for s, m in outcomes.values() if s == Status.FAILED and m]
if failed:
    most = max(set(failed), key=failed.count)
    st.error(lit(f"Why SEEN could not take {count(len(failed), 'row')}: {most}"))

for status in (s for s in Status if s not in (Status.CREATED, Status.READY)):
    if counts[status]:
        st.markdown(
            f"**{status.label}: {count(counts[status], 'row')}** — {status.explanation} "
            f"*{status.next_step}*"
        )
if counts[Status.READY]:
    st.markdown(f"**Ready: {count(counts[Status.READY], 'row')}** — {Status.READY.explanation}")

not_created = [
    (row, Status(status).label, message)
    for row, (status, message) in outcomes.items()
    if status in NOT_CREATED
]
if not_created:
    st.dataframe(
        pd.DataFrame(not_created, columns=["Row", "Status", "Why"]),
        hide_index=True,
        key="not_created_table",
    )

# --- your sheet with the answers ---------------------------------------------------------------


def films() -> dict:
    """Row → Film, Opened, Watched, Clicked of the latest send, from SEEN's calls so far."""
    return send_engagement(journal, latest.id).columns()


# Made now (once for each state of the draft), so that its name (.xlsm for a workbook with
# macros) and what a rebuilt workbook lacks are said before the download.
made = work.report_file("xlsx")
for sentence in made.lacks:
    st.warning(lit(sentence))
left, middle = st.columns([3, 2])
left.download_button(
    "Download your sheet with the results",
    # Made when pressed: with Film … Clicked as SEEN's calls stand by then.
    data=lambda: work.report_file("xlsx", films()).data,
    file_name=work.report_name(made.suffix),
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    key="report_xlsx",
    on_click="ignore",
    type="primary",
)
middle.download_button(
    "As CSV",
    data=lambda: work.report("csv", films()),
    file_name=work.report_name(".csv"),
    mime="text/csv",
    key="report_csv",
    on_click="ignore",
)

again = [
    row
    for row, (status, _m) in outcomes.items()
    if status in NOT_CREATED and status != Status.UNKNOWN
]


@frame.noting
def fix_again() -> None:
    work.go(Step.CHECK)
    go(Step.CHECK)


if again:
    st.button(
        f"Fix and send the {count(len(again), 'row')} not created",
        key="fix_again",
        on_click=fix_again,
    )
if counts[Status.UNKNOWN]:
    st.warning(
        f"{count(counts[Status.UNKNOWN], 'row')} got no answer from SEEN and may have been "
        "created: look them up in SEEN first. They are not sent again from here."
    )

# --- video links (SEEN API 2.0) ----------------------------------------------------------------


def show_films(links: dict) -> None:
    """Each person's film in the app: a table with the link and the thumbnail per person."""
    if not links:
        return
    from seen_core.send.links import film_rows

    st.dataframe(
        film_rows(links, work.names()),
        hide_index=True,
        column_config={
            "Row": st.column_config.NumberColumn(width=60),
            "Film": st.column_config.LinkColumn("Film", display_text="Watch the film"),
            "Thumbnail": st.column_config.ImageColumn("Thumbnail", width="small"),
        },
    )


if flow.is_data(latest.campaign) and counts[Status.CREATED]:
    st.subheader("Video links")
    links = flow.stored_links(journal, latest.id)
    have = sum(1 for v in links.values() if v.player)
    if links:
        st.caption(
            f"{count(have, 'person', 'people')} with a video link; "
            f"{count(len(links) - have, 'person', 'people')} whose video is not ready yet."
        )

    @frame.noting
    def fetch() -> None:
        if ss.get("links_thread") is not None and ss["links_thread"].is_alive():
            return
        to = flow.reconnect(journal, latest, frame.secrets, frame.sandbox.url)
        thread = threading.Thread(
            target=flow.fetch_links, args=(journal, latest.id, to), daemon=True
        )
        ss["links_thread"] = thread
        thread.start()

    busy = ss.get("links_thread") is not None and ss["links_thread"].is_alive()
    st.button(
        "Fetch video links" if not links else "Fetch the video links again",
        key="fetch_links",
        on_click=fetch,
        disabled=busy,
    )

    @st.fragment(run_every=0.5 if busy else None)
    def fetching() -> None:
        thread = ss.get("links_thread")
        if thread is not None and thread.is_alive():
            st.progress(0.5, text="Asking SEEN for each person's video link…")
        elif busy:
            st.rerun(scope="app")

    fetching()
    show_films(links)

# --- films and viewers: SEEN's callbacks and viewer events (pages/frame/engagement_view.py) ---

if counts[Status.CREATED]:
    st.subheader("Films and viewers")
    show_engagement(journal, latest.id, key="results_engagement")

names = flow.send_names(sends)
with st.expander("Each send's own report"):
    for job in reversed(sends):
        st.download_button(
            lit(names[job.id]),
            data=lambda job_id=job.id: (
                flow.send_report_file(
                    journal,
                    job_id,
                    "send.xlsx",
                    source=work.source,
                    who=work.user.name or None,
                    engagement=send_engagement(journal, job_id).columns(),
                ).data
            ),
            # The user's own workbook, as the draft's: .xlsm when it keeps macros.
            file_name=work.report_name(f"-send-{job.id}{made.suffix}"),
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key=f"send_report_{job.id}",
            on_click="ignore",
        )
