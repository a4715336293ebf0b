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
from seen_core.i18n import _, ngettext
from seen_core.safe_text import markdown_literal as lit
from seen_core.store.journal import Journal
from seen_core.wording import number

REFRESH_SECONDS = 5.0
TABLE_ROWS = 10_000  # the table shows this many people at most; the download has everyone


def send_engagement(journal: Journal, job_id: int, told_limit: int | None = None) -> Engagement:
    """The figures of a send, from the callbacks' store beside the journal; `told_limit`: only
    so many people in its rows (the figures count everyone)."""
    return engagement_for_job(journal, shared_store(journal.path), job_id, told_limit=told_limit)


def funnel_chart(figures: Engagement) -> alt.Chart:
    stages = pd.DataFrame(figures.funnel(), columns=["stage", "people"])
    order = list(stages["stage"])
    people = _("People")
    return (
        alt.Chart(stages)
        .mark_bar()
        .encode(
            x=alt.X("people:Q", title=people, axis=alt.Axis(format="d", tickMinStep=1)),
            # Every stage named: Vega-Lite drops labels it finds too close otherwise.
            y=alt.Y("stage:N", sort=order, title=None, axis=alt.Axis(labelOverlap=False)),
            tooltip=[
                alt.Tooltip("stage:N", title=_("Stage")),
                alt.Tooltip("people:Q", title=people),
            ],
        )
        .properties(height=200)
    )


def people_table(figures: Engagement) -> pd.DataFrame:
    told = [
        p for p in figures.rows if p.has_film or p.opened or p.played or p.watched or p.clicked
    ][:TABLE_ROWS]
    return pd.DataFrame(
        {  # the columns named in the user's language by `show_engagement`
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
            st.caption(_("Nobody was created in this send, so SEEN makes no films for it."))
            return
        if not (figures.films or figures.opened):
            st.caption(
                ngettext(
                    "No film is ready yet for the {count} person created. SEEN calls back as "
                    "each film is made (see Help for setting that up).",
                    "No film is ready yet for the {count} people created. SEEN calls back as "
                    "each film is made (see Help for setting that up).",
                    figures.people,
                ).format(count=number(figures.people))
            )
            return
        st.caption(
            _(
                "{films} of {people} films ready · {opened} opened · {played} played · "
                "{watched} watched · {clicked} clicked"
            ).format(
                films=number(figures.films),
                people=number(figures.people),
                opened=number(figures.opened),
                played=number(figures.played),
                watched=number(figures.watched),
                clicked=number(figures.clicked),
            )
        )
        st.altair_chart(funnel_chart(figures), width="stretch", key=f"{key}_funnel")
        st.dataframe(
            people_table(figures),
            hide_index=True,
            key=f"{key}_people",
            column_config={
                "Row": st.column_config.NumberColumn(_("Row"), format="%d"),
                "ID": st.column_config.TextColumn(_("ID")),
                "Film": st.column_config.LinkColumn(_("Film"), display_text=_("Open the film")),
                "Opened": st.column_config.CheckboxColumn(_("Opened")),
                "Played": st.column_config.CheckboxColumn(_("Played")),
                "Watched": st.column_config.CheckboxColumn(_("Watched")),
                "Clicked": st.column_config.CheckboxColumn(_("Clicked")),
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
                _(
                    "Calls from SEEN for people no send created (kept apart, deleted with the "
                    "retention): {targets}"
                ).format(
                    targets=", ".join(
                        f"{target}: {number(n)}" for target, n in sorted(found.items())
                    )
                )
            )
        )
