"""The user's language for every run: the browser's at first, the user's own choice once made
(kept in the journal for a signed-in user), switchable in the sidebar of every page."""

from __future__ import annotations

import contextlib
import os

import streamlit as st

from seen_core import i18n
from seen_core.errors import JournalError
from seen_core.i18n import LANGUAGES, _
from seen_core.store.drafts import User
from seen_core.store.journal import Journal
from seen_core.store.languages import save_language, saved_language

_LANGUAGE = "language"  # the session's language
_ASKED = "language_asked"  # whose saved choice was looked up in this session
_PICK = "language_pick"  # the sidebar's control


def current() -> str:
    """The session's language: the one chosen, else the browser's (`nb-NO`, `no`, `nn` →
    Norwegian, anything else English). `SEEN_LANGUAGE` overrides both (tests use the
    pseudo-language `xx` that way)."""
    forced = os.environ.get("SEEN_LANGUAGE")
    if forced:
        return forced
    ss = st.session_state
    if _LANGUAGE not in ss:
        ss[_LANGUAGE] = i18n.from_locale(st.context.locale)
    return ss[_LANGUAGE]


def start() -> None:
    """The first line of every run (app.py): messages from here on in the session's language;
    and in a widget's callback, which runs before it, the session's language too."""
    i18n.set_fallback(_in_a_run)
    i18n.use(current())


def _in_a_run() -> str | None:
    """The session's language in a thread that runs a session's script, else None."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is None:
        return None
    return current()


def remember(journal: Journal | None, user: User) -> None:
    """Once per session and user: the language a signed-in user chose before, if any (the
    page is drawn again in it when it differs from the browser's)."""
    ss = st.session_state
    if journal is None or ss.get(_ASKED) == user.id:
        return
    ss[_ASKED] = user.id
    try:
        saved = saved_language(journal, user)
    except JournalError:  # the page says what is wrong with the journal; keep the browser's
        return
    if saved and saved != ss.get(_LANGUAGE):
        ss[_LANGUAGE] = saved
        st.rerun()


def picker(journal: Journal | None, user: User) -> None:
    """The sidebar's choice of language, on every page."""
    ss = st.session_state

    def chosen() -> None:
        ss[_LANGUAGE] = ss[_PICK]
        i18n.use(ss[_LANGUAGE])
        if journal is not None:
            with contextlib.suppress(JournalError):  # else kept for this session only
                save_language(journal, user, ss[_LANGUAGE])

    here = ss.get(_LANGUAGE, i18n.language())
    if here in LANGUAGES:
        ss[_PICK] = here
    with st.sidebar:  # two buttons side by side: one click, and nothing to open first
        st.segmented_control(
            _("Language"),
            list(LANGUAGES),
            format_func=LANGUAGES.__getitem__,
            key=_PICK,
            on_change=chosen,
            required=True,
        )
