"""Films and viewers on Results and History: a send's funnel (films ready → clicked) and each
person's film, from SEEN's callbacks and viewer events (`seen_core.engagement`), redrawn every
few seconds while they come in."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from seen_core.engagement import Engagement, engagement_for_job
from seen_core.engagement.figures import unmatched_by_target
from seen_core.engagement.serving import shared_store
from seen_core.safe_text import markdown_literal as lit
from seen_core.store.journal import Journal

REFRESH_SECONDS = 5.0
TABLE_ROWS = 10_000  # the table shows this many people at most; the download has everyone


def send_engagement(journal: Journal, job_id: int, told_limit: int | None = None) -> Engagement:
    """The figures of a send, from the callbacks' store beside the journal; `told_limit`: only
    so many people in its rows (the figures count everyone)."""
    return engagement_for_job(journal, shared_store(journal.path), job_id, told_limit=told_limit)


def funnel_chart(figures: Engagement) -> alt.Chart:
    stages = pd.DataFrame(figures.funnel(), columns=["Stage", "People"])
    order = list(stages["Stage"])
    return (
        alt.Chart(stages)
        .mark_bar()
        .encode(
            x=alt.X("People:Q", title="People"),
            y=alt.Y("Stage:N", sort=order, title=None),
            tooltip=["Stage", "People"],
        )
        .properties(height=170)
    )


def people_table(figures: Engagement) -> pd.DataFrame:
    told = [
        p for p in figures.rows if p.has_film or p.opened or p.played or p.watched or p.clicked
    ][:TABLE_ROWS]
    return pd.DataFrame(
        {
            "Row": [p.row for p in told],
            "ID": [p.id for p in told],
            "Film": [p.film for p in told],
            "Opened": [p.opened for p in told],
            "Played": [p.played for p in told],
            "Watched": [p.watched for p in told],
            "Clicked": [p.clicked for p in told],
        }
    )


def show_engagement(journal: Journal, job_id: int, *, key: str, live: bool = True) -> None:
    """The funnel and the people table of one send, redrawn every few seconds when `live`
    (else drawn with the page, for a page whose own fragment redraws it)."""

    def draw() -> None:
        figures = send_engagement(journal, job_id, told_limit=TABLE_ROWS)
        if not figures.people:
            st.caption("Nobody was created in this send, so SEEN makes no films for it.")
            return
        if not (figures.films or figures.opened):
            st.caption(
                f"No film is ready yet for the {figures.people:,} people created. SEEN calls "
                "back as each film is made (see Help for setting that up)."
            )
            return
        st.caption(
            f"{figures.films:,} of {figures.people:,} films ready · {figures.opened:,} opened · "
            f"{figures.played:,} played · {figures.watched:,} watched · "
            f"{figures.clicked:,} clicked"
        )
        st.altair_chart(funnel_chart(figures), width="stretch", key=f"{key}_funnel")
        st.dataframe(
            people_table(figures),
            hide_index=True,
            key=f"{key}_people",
            column_config={
                "Row": st.column_config.NumberColumn("Row", format="%d"),
                "Film": st.column_config.LinkColumn("Film", display_text="Open the film"),
            },
        )

    if live:
        st.fragment(run_every=REFRESH_SECONDS)(draw)()
    else:
        draw()


def show_unmatched(journal: Journal) -> None:
    """For admins: calls from SEEN that match no send (kept apart, purged with retention)."""
    found = unmatched_by_target(journal, shared_store(journal.path))
    if found:
        st.caption(
            lit(
                "Calls from SEEN for people no send created (kept apart, deleted with the "
                "retention): "
                + ", ".join(f"{target}: {n:,}" for target, n in sorted(found.items()))
            )
        )
