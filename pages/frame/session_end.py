"""What happens when a browser leaves: its session is closed once Streamlit's time for it to
come back is up, and the memory it held is given back.

Streamlit keeps a disconnected session for `server.disconnectedSessionTTL` (120 s) in case its
browser comes back, with everything in it: the draft, its sheet, tables and check, about 100 MB
for 100,000 rows. But it forgets an expired session only when some later session disconnects
(its store of sessions is cleaned only when written to), so on a server that goes quiet the
last sessions stayed for good: 650-970 MB after four 100,000-row uploads. The pages call
`close_when_gone()` in every run; it registers the session once (a session-scoped resource,
released as the browser disconnects, on Streamlit's event loop), and that release schedules
the close. The memory is then collected (a page's functions and namespace are a reference
cycle) and trimmed; see `workbench.give_back_memory`. (Streamlit's loop that sends to the
browsers still holds the last session it served until it serves another: one session at most.)
"""

from __future__ import annotations

import asyncio
import logging
import threading

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from seen_core.workbench import give_back_memory

log = logging.getLogger(__name__)

# Closed this long before Streamlit's own time is up: once it is, Streamlit no longer finds
# the session to close (it reads an expired session as absent, without removing it).
MARGIN_SECONDS = 5.0
GIVE_BACK_AFTER = 2.0  # seconds: sessions closed together are given back in one collection
_left_at: dict[str, float] = {}  # session id → when its browser last left (event loop time)
_giving_back = threading.Event()  # a collection is due or under way


def close_when_gone() -> None:
    """Have this session closed, and its memory given back, once its browser has been gone
    for the time Streamlit waits for it to come back."""
    ctx = get_script_run_ctx()
    if ctx is not None:
        _watched(ctx.session_id)


def _left(session_id: str) -> None:
    """The browser disconnected (called by Streamlit on its event loop)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not in a served app (AppTest), or the server is stopping
        return
    wait = max(float(st.get_option("server.disconnectedSessionTTL")) - MARGIN_SECONDS, 1.0)
    _left_at[session_id] = loop.time()
    loop.call_later(wait, _close_if_gone, session_id, wait)


def _close_if_gone(session_id: str, wait: float) -> None:
    """On the event loop, as Streamlit requires: close the session unless its browser came
    back (or left again since, in which case a later call closes it)."""
    loop = asyncio.get_running_loop()
    left = _left_at.get(session_id)
    if left is None or loop.time() - left < wait - 0.5 or not runtime.exists():
        return
    del _left_at[session_id]
    try:
        server = runtime.get_instance()
        if server.is_active_session(session_id):
            return  # it came back
        server.close_session(session_id)
    except Exception:  # the session went some other way; nothing to give back then
        log.debug("Closing a session that had gone failed", exc_info=True)
        return
    if not _giving_back.is_set():  # one collection (0.1-1 s) for the sessions closing now
        _giving_back.set()
        loop.call_later(GIVE_BACK_AFTER, _give_back)


def _give_back() -> None:
    """Collect in a thread of its own, off the event loop that serves every browser."""

    def collect() -> None:
        try:
            give_back_memory()
        finally:
            _giving_back.clear()

    threading.Thread(target=collect, name="seen-give-back", daemon=True).start()


@st.cache_resource(scope="session", on_release=_left, show_spinner=False)
def _watched(session_id: str) -> str:
    return session_id
