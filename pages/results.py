"""Step 5, Results: what became of every row, what to do next, and your sheet with the answers."""

from __future__ import annotations

import threading

import pandas as pd
import streamlit as st

from pages.frame import enter, go, move_on
from pages.frame.engagement_view import send_engagement, show_engagement
from seen_core import flow
from seen_core.i18n import _, in_this_language, ngettext
from seen_core.safe_text import markdown_literal as lit
from seen_core.statuses import NOT_CREATED, Status
from seen_core.store.drafts import Step
from seen_core.wording import number, summary_line
from seen_core.workbench import Work

frame = enter("results")
ss = st.session_state
work: Work = frame.draft  # app.py shows this page only with a draft in hand
journal = frame.journal
move_on(Step.RESULTS, Step.CHECK)  # Fix was clicked: on at once, this page not drawn again

st.title(_("Results"))
sends = work.sends()
if not sends:
    st.info(_("Nothing has been sent from this draft yet."))
    st.stop()
latest = sends[-1]
outcomes = work.outcomes()
counts = flow.count_statuses(outcomes)
st.subheader(summary_line(counts))
where = flow.target_label(latest.campaign)
st.caption(
    lit(
        f"{work.draft.file_name} → {where}"
        + (_(" on the sandbox") if latest.target == flow.SANDBOX else "")
        + " · "
        + ngettext(
            "{count} send from this draft", "{count} sends from this draft", len(sends)
        ).format(count=number(len(sends)))
    )
)
running = frame.registry.get(latest.id)
if running is not None and running.error:  # the journal could not record it (a full disk…)
    st.error(lit(_("The last send stopped: {why}").format(why=running.error)))
elif latest.stop_reason:
    st.error(lit(_("The last send stopped: {why}").format(why=latest.stop_reason)))
failed = [m for s, m in outcomes.values() if s == Status.FAILED and m]
if failed:
    most = max(set(failed), key=failed.count)
    st.error(
        lit(
            ngettext(
                "Why SEEN could not take {count} row: {why}",
                "Why SEEN could not take {count} rows: {why}",
                len(failed),
            ).format(count=number(len(failed)), why=most)
        )
    )

for status in (s for s in Status if s not in (Status.CREATED, Status.READY)):
    if counts[status]:
        st.markdown(
            "**"
            + ngettext("{status}: {count} row", "{status}: {count} rows", counts[status]).format(
                status=status.label, count=number(counts[status])
            )
            + f"** — {status.explanation} *{status.next_step}*"
        )
if counts[Status.READY]:
    ready = counts[Status.READY]
    st.markdown(
        "**"
        + ngettext("{status}: {count} row", "{status}: {count} rows", ready).format(
            status=Status.READY.label, count=number(ready)
        )
        + f"** — {Status.READY.explanation}"
    )

not_created = [
    (row, Status(status).label, message)
    for row, (status, message) in outcomes.items()
    if status in NOT_CREATED
]
if not_created:
    st.dataframe(
        pd.DataFrame(not_created, columns=[_("Row"), _("Status"), _("Why")]),
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
    _("Download your sheet with the results"),
    # Made when pressed: with Film … Clicked as SEEN's calls stand by then.
    data=in_this_language(lambda: work.report_file("xlsx", films()).data),
    file_name=work.report_name(made.suffix),
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    key="report_xlsx",
    on_click="ignore",
    type="primary",
)
middle.download_button(
    _("As CSV"),
    data=in_this_language(lambda: work.report("csv", films())),
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
        ngettext(
            "Fix and send the {count} row not created",
            "Fix and send the {count} rows not created",
            len(again),
        ).format(count=number(len(again))),
        key="fix_again",
        on_click=fix_again,
    )
if counts[Status.UNKNOWN]:
    st.warning(
        ngettext(
            "{count} row got no answer from SEEN and may have been created: look it up in SEEN "
            "first. It is not sent again from here.",
            "{count} rows got no answer from SEEN and may have been created: look them up in SEEN "
            "first. They are not sent again from here.",
            counts[Status.UNKNOWN],
        ).format(count=number(counts[Status.UNKNOWN]))
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
            "Row": st.column_config.NumberColumn(_("Row"), width=60),
            "Person": st.column_config.TextColumn(_("Person")),
            "Film": st.column_config.LinkColumn(_("Film"), display_text=_("Watch the film")),
            "Thumbnail": st.column_config.ImageColumn(_("Thumbnail"), width="small"),
            "Ready": st.column_config.TextColumn(_("Ready")),
        },
    )


if flow.is_data(latest.campaign) and counts[Status.CREATED]:
    st.subheader(_("Video links"))
    links = flow.stored_links(journal, latest.id)
    have = sum(1 for v in links.values() if v.player)
    if links:
        st.caption(
            ngettext(
                "{count} person with a video link; ", "{count} people with a video link; ", have
            ).format(count=number(have))
            + ngettext(
                "{count} person whose video is not ready yet.",
                "{count} people whose video is not ready yet.",
                len(links) - have,
            ).format(count=number(len(links) - have))
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
        _("Fetch video links") if not links else _("Fetch the video links again"),
        key="fetch_links",
        on_click=fetch,
        disabled=busy,
    )

    @st.fragment(run_every=0.5 if busy else None)
    def fetching() -> None:
        thread = ss.get("links_thread")
        if thread is not None and thread.is_alive():
            st.progress(0.5, text=_("Asking SEEN for each person's video link…"))
        elif busy:
            st.rerun(scope="app")

    fetching()
    show_films(links)

# --- films and viewers: SEEN's callbacks and viewer events (pages/frame/engagement_view.py) ---

if counts[Status.CREATED]:
    st.subheader(_("Films and viewers"))
    show_engagement(journal, latest.id, key="results_engagement")

names = flow.send_names(sends)
with st.expander(_("Each send's own report")):
    for job in reversed(sends):
        st.download_button(
            lit(names[job.id]),
            data=in_this_language(
                lambda job_id=job.id: (
                    flow.send_report_file(
                        journal,
                        job_id,
                        "send.xlsx",
                        source=work.source,
                        who=work.user.name or None,
                        engagement=send_engagement(journal, job_id).columns(),
                    ).data
                )
            ),
            # The user's own workbook, as the draft's: .xlsm when it keeps macros.
            file_name=work.report_name(f"-send-{job.id}{made.suffix}"),
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key=f"send_report_{job.id}",
            on_click="ignore",
        )
