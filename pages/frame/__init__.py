"""What every page shares: the frame's state as app.py leaves it, the one guard, one way to move
between steps, and widgets that show the draft's choice. Streamlit glue only: the logic stays in
`seen_core`.

It lives in a folder of `pages/` so that Streamlit never takes it for a page (a page is a file
directly in `pages/`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from pages.frame.session_end import close_when_gone
from seen_core.errors import noting_journal_trouble
from seen_core.sandbox import Sandbox
from seen_core.send.running import SendRegistry
from seen_core.store.drafts import Step, User
from seen_core.store.journal import Journal
from seen_core.workbench import Work

# Each step's page, the one list app.py's navigation, History and the moves below use.
STEP_PAGES: dict[Step, str] = {
    Step.UPLOAD: "pages/upload.py",
    Step.MAP: "pages/map.py",
    Step.CHECK: "pages/check.py",
    Step.SEND: "pages/send.py",
    Step.RESULTS: "pages/results.py",
}
_GOTO = "goto"  # the step a Next (or Fix, or a finished send) moves on to


@dataclass(frozen=True)
class Frame:
    """What app.py has worked out for this run: the journal (None when it cannot be used), the
    user, the sends running in this server, the sandbox, the server's secrets, the draft in
    hand (None before an upload), and `noting`, which guards a button's callback."""

    journal: Journal | None
    user: User
    registry: SendRegistry
    sandbox: Sandbox
    secrets: dict[str, Any]
    work: Work | None
    noting: Callable[[Callable[..., None]], Callable[..., None]]

    @property
    def draft(self) -> Work:
        """The draft in hand, on the steps that app.py shows only with one."""
        if self.work is None:  # app.py stops such a page before it runs
            st.stop()
        return self.work


def enter(page: str) -> Frame:
    """Every page's first line. A new server's first run of a page skips app.py (Streamlit's
    older multipage mode runs the page alone once): then app.py is run first."""
    ss = st.session_state
    if "journal" not in ss:
        st.switch_page("app.py", query_params={**st.query_params.to_dict(), "page": page})
    close_when_gone()  # once the browser has left for good, the draft's memory is given back
    return Frame(
        journal=ss["journal"],
        user=ss["user"],
        registry=ss["registry"],
        sandbox=ss["sandbox"],
        secrets=ss["secrets"],
        work=ss.get("work"),
        noting=noting_journal_trouble(ss),
    )


def go(step: Step) -> None:
    """In a callback (a Next button, Fix, a send that ended): move on to `step` at the top of the
    run it causes, without drawing this page again (see `move_on`)."""
    st.session_state[_GOTO] = step


def move_on(here: Step, onward: Step, *, grid: str | None = None) -> None:
    """Arrive at `here`, or go on to `onward` once asked to (`go`).

    The request stays until the next page has run: a click or an edit that reaches the server
    before the browser has seen the switch runs this page again, and it then switches again
    instead of staying put. Not past an edit made in this page's grid in the same moment
    (`grid`: the session key that holds the grid's key): the page is drawn to keep it first,
    and moves on at its end (call again there without `grid`)."""
    ss = st.session_state
    wanted = ss.get(_GOTO)
    if wanted == here:
        del ss[_GOTO]
        return
    work = ss.get("work")
    if wanted != onward or work is None:
        return
    if grid is not None and grid in ss and (ss.get(ss[grid]) or {}).get("edited_rows"):
        return
    st.switch_page(STEP_PAGES[onward], query_params={"draft": work.draft.id})


def seed(key: str, value: object) -> None:
    """Show the draft's choice in a widget, unless the user is changing it right now."""
    ss = st.session_state
    work = ss.get("work")
    draft = work.draft.id if work is not None else None
    if key not in ss or ss.get(f"_seed_{key}") != draft:
        ss[key] = value
        ss[f"_seed_{key}"] = draft
