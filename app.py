"""SEEN Sender: the Streamlit entry point — page frame, navigation and the shared resources."""

from __future__ import annotations

import streamlit as st

from seen_core.journal import Journal, default_path, retention_days
from seen_core.sandbox import Sandbox
from seen_core.session import SendRegistry

st.set_page_config(page_title="SEEN Sender", page_icon=":material/movie:", layout="wide")


@st.cache_resource(show_spinner=False)
def local_sandbox() -> Sandbox:
    """The local SEEN stand-in, one per server process; it accepts any campaign slug."""
    return Sandbox(campaigns=None).start()


@st.cache_resource(show_spinner=False)
def open_journal(path: str) -> Journal:
    """The send journal, once per server process; sends past their retention go first."""
    journal = Journal(path)
    journal.purge(retention_days())
    return journal


@st.cache_resource(show_spinner=False)
def send_registry(path: str) -> SendRegistry:
    """Sends running in worker threads of this process, per journal file."""
    return SendRegistry()


# Pages find the shared objects here; they are the same for every session of this process.
journal_path = str(default_path())
st.session_state["_sandbox"] = local_sandbox()
st.session_state["_journal"] = open_journal(journal_path)
st.session_state["_registry"] = send_registry(journal_path)

page = st.navigation(
    [
        st.Page(
            "pages/send.py",
            title="Send receivers",
            icon=":material/upload_file:",
            url_path="send",
            default=True,
        ),
        st.Page("pages/history.py", title="History", icon=":material/history:", url_path="history"),
        st.Page("pages/sandbox.py", title="Sandbox", icon=":material/science:", url_path="sandbox"),
        st.Page("pages/help.py", title="Help", icon=":material/help:", url_path="help"),
    ]
)
page.run()
