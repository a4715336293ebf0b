"""Step 4, Send: to the sandbox or to SEEN, confirmed, in a worker thread, with progress."""

from __future__ import annotations

import os
import threading

import streamlit as st

from pages.frame import enter, go, move_on
from seen_core import flow
from seen_core.errors import (
    AlreadySent,
    ConfigurationError,
    InputError,
    JournalError,
    SendError,
)
from seen_core.i18n import _, in_this_language, ngettext
from seen_core.safe_text import markdown_literal as lit
from seen_core.sandbox import DEFAULT_TOKEN
from seen_core.send.running import SendRegistry
from seen_core.send.tokens import configured, typed
from seen_core.store.drafts import Step
from seen_core.wording import number
from seen_core.workbench import Work

SendErrors = (AlreadySent, ConfigurationError, InputError, SendError, JournalError)

frame = enter("send")
ss = st.session_state
work: Work = frame.draft  # app.py shows this page only with a draft in hand
journal, user = frame.journal, frame.user
registry: SendRegistry = frame.registry
# A send that ended moves on to Results from the top of the page's run (see `progress`).
move_on(Step.SEND, Step.RESULTS)


def running_send():
    for job in reversed(work.sends()):
        send = registry.get(job.id)
        if send is not None and not send.finished:
            return send
    return None


def connection() -> flow.Connection:
    """Where this send goes, with a token bound to its address (never a typed address with
    the server's token)."""
    target = work.settings.target
    if work.settings.destination == "sandbox":
        return flow.connect(target, frame.sandbox.url, DEFAULT_TOKEN, sandbox=True)
    found = configured(target, frame.secrets, dict(os.environ))
    if found is None:
        found = typed(target, ss.get("seen_address") or "", ss.get("seen_token") or "")
    return flow.connect(target, found.base_url, found.token)


def preparing():
    """The send of this draft being planned (in a worker thread), if any."""
    found = registry.preparing(work.draft.id)
    return found if found is not None and (found.busy or found.error is not None) else None


def start() -> None:
    """The Send button: plan the send in the journal (one transaction) and run it, both in a
    worker thread, so that the progress bar shows from the first moment of a big send."""
    lock = ss.setdefault("_send_lock", threading.Lock())
    with lock:  # fast reruns can overlap: check and start at once
        if running_send() is not None or preparing() is not None:
            return
        ss["send_error"] = None
        try:
            to = connection()
            checked = work.checked()
        except (ConfigurationError, InputError, SendError, JournalError) as error:
            ss["send_error"] = str(error)
            return
        batch_size = int(ss.get("batch_size") or 100)
        force = bool(ss.get("force_send"))
        # Each send is asked for afresh: no forcing or confirmation carries over.
        ss["force_send"] = False
        ss["confirm_send"] = False

        def plan() -> int:
            return flow.plan(
                journal,
                checked,
                to,
                batch_size=batch_size,
                force=force,
                user_id=user.id,
                draft_id=work.draft.id,
            )

        def run(job_id: int) -> None:
            registry.start(
                journal,
                job_id,
                to,
                user.id,
                before=lambda: flow.keep_send_sheet(journal, job_id, checked),
            )

        # planned in a worker thread: its refusals ("already sent") in the user's language
        registry.prepare(work.draft.id, len(checked.ready_rows), in_this_language(plan), run)
        ss["following"] = "preparing"


checked = work.checked()
ready = len(checked.ready_rows) if not checked.result.blocked else 0
target = work.settings.target
label = flow.target_label(target)
to_sandbox = work.settings.destination == "sandbox"
where = _("the sandbox") if to_sandbox else "SEEN"

st.title(_("Send"))
st.markdown(
    lit(
        ngettext(
            "{count} person to {target} on {where}.",
            "{count} people to {target} on {where}.",
            ready,
        ).format(count=number(ready), target=label, where=where)
    )
)
if checked.counts["attention"]:
    attention = checked.counts["attention"]
    st.caption(
        ngettext(
            "{count} row that needs attention will not be sent; you can fix it and send it "
            "later from this draft.",
            "{count} rows that need attention will not be sent; you can fix them and send them "
            "later from this draft.",
            attention,
        ).format(count=number(attention))
    )
if checked.counts["held"]:
    held = checked.counts["held"]
    st.caption(
        ngettext(
            "{count} row that SEEN already has will not be sent again.",
            "{count} rows that SEEN already has will not be sent again.",
            held,
        ).format(count=number(held))
    )

confirmed = True
if to_sandbox:
    st.info(_("The sandbox is a stand-in for SEEN inside this app: nothing reaches SEEN."))
else:
    found = configured(target, frame.secrets, dict(os.environ))
    if found is not None:
        st.caption(
            lit(
                _("SEEN at {address}, with the token from {where}.").format(
                    address=found.base_url, where=found.where
                )
            )
        )
    else:
        a, b = st.columns(2)
        a.text_input(
            _("SEEN's address (leave empty for SEEN itself)"),
            key="seen_address",
            help=_("Only for a SEEN test server; the token below goes there and nowhere else."),
        )
        b.text_input(
            _("Your SEEN token"),
            type="password",
            key="seen_token",
            help=_("Kept only in this browser session. To set it up for good, see Help."),
        )
    confirmed = st.checkbox(
        lit(
            ngettext(
                "Yes, create {count} person in SEEN's {target}.",
                "Yes, create {count} people in SEEN's {target}.",
                ready,
            ).format(count=number(ready), target=label)
        ),
        key="confirm_send",
    )
with st.expander(_("Advanced")):
    st.number_input(
        _("People per request (v1 campaigns; 2.0 sends one at a time)"),
        min_value=1,
        max_value=1000,
        value=100,
        step=10,
        key="batch_size",
    )
if ss.get("already_sent"):
    st.warning(lit(ss["already_sent"]))
    st.checkbox(_("Send the whole file again anyway"), key="force_send")
if ss.get("send_error"):
    st.error(lit(ss["send_error"]))

active = running_send() or preparing()
st.button(
    ngettext("Send {count} person to {where}", "Send {count} people to {where}", ready).format(
        count=number(ready), where=where
    ),
    key="send",
    type="primary",
    on_click=start,
    disabled=active is not None or not ready or not target or not confirmed,
)


@st.fragment(run_every=0.5 if active is not None or ss.get("following") else None)
def progress() -> None:
    planning = preparing()
    if planning is not None and planning.error is not None:
        registry.forget_preparing(work.draft.id, planning)
        ss["following"] = None
        error = planning.error
        if isinstance(error, AlreadySent):
            ss["already_sent"] = str(error)
        else:
            ss["send_error"] = (
                str(error) if isinstance(error, SendErrors) else _("The send could not start.")
            )
        st.rerun(scope="app")
    send = running_send()
    if send is None and planning is not None:  # planned in a moment: the bar shows already
        st.progress(
            0.0,
            text=_("Sending… 0 of {total} done · getting ready").format(
                total=number(planning.total)
            ),
        )
        return
    if send is None:
        followed = ss.get("following")
        if followed == "preparing":  # planned and perhaps sent before this looked
            prepared = registry.preparing(work.draft.id)
            followed = prepared.job_id if prepared is not None else None
        if followed is not None and registry.get(followed) is not None:
            ss["following"] = None
            work.go(Step.RESULTS)
            # Switched from the top of a whole run, not from this fragment's: a page switched to
            # from a fragment that refreshes itself was at times drawn blank in the browser.
            go(Step.RESULTS)
            st.rerun(scope="app")
        return
    ss["following"] = send.job_id  # after a reload too: the results follow when it ends
    ss["already_sent"] = None
    p = send.progress
    done, total = (p.done, p.total) if p else (0, max(ready, 1))
    left = (
        _(" · about {seconds} s left").format(seconds=number(round(p.eta_seconds)))
        if p and p.eta_seconds
        else ""
    )
    created = p.counts.get("created", 0) if p else 0
    st.progress(
        done / total if total else 0.0,
        text=_("Sending… {done} of {total} done · {created} created{left}").format(
            done=number(done), total=number(total), created=number(created), left=left
        ),
    )
    st.button(_("Cancel the send"), key="cancel_send", on_click=send.cancel.set)


progress()
