"""SEEN Sender: the Streamlit entry point — who is signed in, the draft in hand, the step bar.

Every page reads what it needs from `st.session_state` as this frame leaves it: the journal
(None when it cannot be used), the registry of running sends, the sandbox, the user, and the
`Work` on the draft named in the address (`?draft=`). All logic lives in `seen_core`.
"""

from __future__ import annotations

import ipaddress
import os
import threading

import pandas.io.formats.style  # noqa: F401  (the check page's Styler: its jinja2 loads here, once)
import streamlit as st

from pages import frame
from pages.frame import language
from seen_core import flow
from seen_core.check.countries import country_choices
from seen_core.engagement.serving import (
    callback_base,
    sandbox_secret_for,
    server_lifespan,
    server_routes,
)
from seen_core.errors import JOURNAL_TROUBLE, ConfigurationError, JournalError, NotFound
from seen_core.i18n import N_, _
from seen_core.read.isolated import keep_reader_ready
from seen_core.safe_text import markdown_literal as lit
from seen_core.sandbox import Sandbox
from seen_core.sandbox.callbacks import CallsBack
from seen_core.send.running import SendRegistry
from seen_core.send.tokens import check_environment
from seen_core.store.database import default_path, retention_days
from seen_core.store.drafts import LOCAL_USER, Step, User
from seen_core.store.journal import Journal
from seen_core.wording import number
from seen_core.workbench import Work

ss = st.session_state
_STEP_LOOK = {  # each step's page (pages.frame.STEP_PAGES) as the navigation shows it
    Step.UPLOAD: (N_("Upload"), ":material/upload_file:", "upload"),
    Step.MAP: (N_("Map columns"), ":material/link:", "map"),
    Step.CHECK: (N_("Check and fix"), ":material/rule:", "check"),
    Step.SEND: (N_("Send"), ":material/send:", "send"),
    Step.RESULTS: (N_("Results"), ":material/fact_check:", "results"),
}


@st.cache_resource(show_spinner=False)
def local_sandbox() -> Sandbox:
    """The local SEEN stand-in, one per server process; it accepts any campaign or workspace,
    and plays SEEN after a send: it calls this server's own `/seen/` routes back with films
    and some viewers' events (with the callback secret configured, else this process's own)."""
    from streamlit import config as streamlit_config

    base = callback_base(
        streamlit_config.get_option("server.address"), streamlit_config.get_option("server.port")
    )
    calls = CallsBack(base, sandbox_secret_for(secrets))
    return Sandbox(campaigns=None, calls_back=calls).start()


@st.cache_resource(show_spinner=False)
def open_journal(path: str) -> Journal:
    """The journal, once per server process; drafts and sends past retention go first."""
    journal = Journal(path)
    flow.purge(journal, retention_days())
    return journal


@st.cache_resource(show_spinner=False)
def upload_reader() -> bool:
    """One reader process started ahead, so an upload does not wait for one to start; and the
    country picker's names, read once per process, made now rather than by the first user."""
    keep_reader_ready()
    threading.Thread(target=country_choices, name="seen-warm", daemon=True).start()
    return True


@st.cache_resource(show_spinner=False)
def send_registry(path: str) -> SendRegistry:
    """Sends running in worker threads of this process, per journal file."""
    return SendRegistry()


def secrets() -> dict:
    try:
        return st.secrets.to_dict()
    except Exception:  # no secrets file at all
        return {}


def signed_in_user(config: dict) -> User:
    """With an [auth] section users sign in (OpenID Connect); without, one local user."""
    if not config.get("auth"):
        return LOCAL_USER
    if not st.user.is_logged_in:
        st.title("SEEN Sender")
        st.write(_("Sign in with your company account to see your drafts and sends."))
        st.button(_("Sign in"), key="sign_in", type="primary", on_click=st.login)
        st.stop()
    email = str(st.user.get("email") or st.user.get("sub") or "")
    seen = config.get("seen") if isinstance(config.get("seen"), dict) else {}
    admins = {str(a).strip().casefold() for a in seen.get("admins", [])}
    return User(email, str(st.user.get("name") or email), email.casefold() in admins)


def reachable_from_elsewhere() -> bool:
    """Whether this browser reached the app from another machine, or by a name other than
    this machine's (nobody signs in here, so that would show these sheets to others)."""
    from urllib.parse import urlsplit

    host = urlsplit(st.context.url or "").hostname or ""
    for address in (st.context.ip_address, host):
        if not isinstance(address, str) or not address or address == "localhost":
            continue
        try:
            if not ipaddress.ip_address(address).is_loopback:
                return True
        except ValueError:  # a host name other than localhost
            return True
    return False


def work_in_hand(journal: Journal, user: User) -> Work | None:
    """The draft named in the address (`?draft=`), else the one this session worked on."""
    wanted = st.query_params.get("draft")
    work: Work | None = ss.get("work")
    if work is not None and (work.user != user or work.journal is not journal):
        work = None
    if wanted and (work is None or work.draft.id != wanted):
        try:
            work = Work.open(journal, user, wanted)
        except NotFound:
            st.query_params.pop("draft", None)
            ss["draft_missing"] = True
            work = None
    ss["work"] = work
    if work is not None:
        st.query_params["draft"] = work.draft.id  # a reload or a shared tab finds it again
    return work


def step_bar(work: Work | None, here: Step) -> None:
    """The steps, always in view: where you are, and where you can go back to."""
    reachable = {Step.UPLOAD}
    if work is not None:
        reachable |= {Step.MAP, Step.CHECK}
        if work.settings.target:
            reachable.add(Step.SEND)
        if work.sends():
            reachable.add(Step.RESULTS)
    cells = st.columns(len(STEP_PAGES))
    for index, (cell, (step, page)) in enumerate(zip(cells, STEP_PAGES.items(), strict=True)):
        label = f"{index + 1}. {step.short}"
        if step == here:
            cell.markdown(f"**:blue[{label}]**")
        else:
            params = {"draft": work.draft.id} if work is not None else None
            cell.page_link(page, label=label, disabled=step not in reachable, query_params=params)


def sidebar_counts(work: Work, here: Step) -> None:
    """The sheet's counts, in view on every step. Before Check and fix they are shown once the
    check (started in the background) is done, so that uploading and mapping do not wait for
    it; the page is not redrawn for them (a timed redraw can lose what is being typed)."""
    with st.sidebar:
        st.caption(lit(_("Draft: {name}").format(name=work.draft.name)))
        try:
            if here in (Step.UPLOAD, Step.MAP):
                checked = work.checked_by_now()
                if checked is None:
                    st.caption(_("Checking the rows… the counts show with your next choice."))
                    return
            else:
                checked = work.checked()
        except Exception:  # the file could not be read again: the step says why
            return
        for label, value in checked.counts_shown():
            st.metric(label, number(value))


if __name__ != "__main__":
    # `streamlit run app.py` imports this module (as `app`) to serve it with uvicorn: the
    # pages (this file, run as Streamlit runs a script) and, beside them, the routes SEEN
    # calls back on (`/seen/…`, docs/SETUP.md). Streamlit finds `app` in this file by itself.
    app = st.App("app.py", routes=server_routes(secrets), lifespan=server_lifespan)
else:  # run as the script, by `streamlit run` and by AppTest: the app's pages
    st.set_page_config(page_title="SEEN Sender", page_icon=":material/movie:", layout="wide")
    language.start()  # every message of this run in the user's language

    STEP_PAGES = {
        step: st.Page(
            frame.STEP_PAGES[step],
            title=_(title),
            icon=icon,
            url_path=path,
            default=step is Step.UPLOAD,
        )
        for step, (title, icon, path) in _STEP_LOOK.items()
    }
    OTHER_PAGES = [
        st.Page(
            "pages/history.py", title=_("History"), icon=":material/history:", url_path="history"
        ),
        st.Page(
            "pages/sandbox.py", title=_("Sandbox"), icon=":material/science:", url_path="sandbox"
        ),
        st.Page("pages/help.py", title=_("Help"), icon=":material/help:", url_path="help"),
    ]

    config = secrets()
    user = signed_in_user(config)
    try:  # a token in the environment that could serve two targets: no page runs
        check_environment(os.environ)
    except ConfigurationError as error:
        st.error(lit(str(error)))
        st.stop()
    ss["user"] = user
    ss["secrets"] = config
    ss["sandbox"] = local_sandbox()
    upload_reader()
    journal_path = str(default_path())
    try:
        journal: Journal | None = open_journal(journal_path)
    except JournalError as error:
        journal = None
        ss["journal_error"] = str(error)
    ss["journal"] = journal
    ss["registry"] = send_registry(journal_path)

    language.remember(journal, user)
    page = st.navigation({_("Send receivers"): list(STEP_PAGES.values()), _("More"): OTHER_PAGES})
    BY_NAME = {
        **{step.value: p for step, p in STEP_PAGES.items()},
        **{p.url_path: p for p in OTHER_PAGES},
    }
    wanted = st.query_params.get("page")
    if wanted:  # a page asked to be shown once this frame has run (see `pages/`)
        del st.query_params["page"]
        if wanted in BY_NAME:
            st.switch_page(BY_NAME[wanted], query_params=dict(st.query_params))
    if not config.get("auth") and reachable_from_elsewhere():
        st.warning(
            _(
                "This SEEN Sender is reachable from other machines and nobody signs in: anyone "
                "who can reach it sees these sheets. Ask whoever runs it to set up sign-in (see "
                "Help)."
            )
        )
    language.picker(journal, user)
    if user.id:
        with st.sidebar:
            st.caption(lit(_("Signed in as {name}").format(name=user.name)))
            st.button(_("Sign out"), key="sign_out", on_click=st.logout)
    if journal is None:
        st.error(ss["journal_error"])
        ss["work"] = None
    else:
        try:
            work = work_in_hand(journal, user)
        except JournalError as error:  # busy for longer than it waits: a sentence, then nothing
            st.error(lit(str(error)))
            st.stop()
        steps = {p.title: s for s, p in STEP_PAGES.items()}
        if page.title in steps:
            step_bar(work, steps[page.title])
            if work is not None:
                sidebar_counts(work, steps[page.title])
            elif steps[page.title] is not Step.UPLOAD:  # the other steps need a draft in hand
                if ss.pop("draft_missing", False):
                    st.warning(_("That draft is not there any more, or it is not yours."))
                st.info(_("Upload a sheet first, or open a draft from History."))
                st.page_link(STEP_PAGES[Step.UPLOAD], label=_("Go to Upload"))
                st.stop()
    if journal is None and page.title in {p.title for p in STEP_PAGES.values()}:
        st.stop()  # the step pages need the journal; Help and the others still open
    trouble = ss.pop(JOURNAL_TROUBLE, None)  # said by a button's callback in this run
    if trouble:
        st.error(lit(trouble))
    try:
        page.run()
    except JournalError as error:  # a full disk, a busy journal: a sentence, not a traceback
        st.error(lit(str(error)))
