"""Sandbox: what the local SEEN stand-in took from your sends (nothing there reaches SEEN)."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from pages.frame import enter
from seen_core import flow
from seen_core.i18n import _, ngettext
from seen_core.safe_text import markdown_literal as lit
from seen_core.statuses import Status
from seen_core.wording import number

frame = enter("sandbox")
journal, user = frame.journal, frame.user

st.title(_("Sandbox"))
st.markdown(
    _(
        "A stand-in for SEEN that runs inside this app: it answers as SEEN does, and nothing "
        "sent to it reaches SEEN. Below are the people it created from **your** sends."
    )
)
if journal is None:
    st.stop()
every_send = journal.jobs(None if user.is_admin else user.id)
names = flow.send_names(every_send)  # as History names them: numbered within each draft
sends = [j for j in every_send if j.target == flow.SANDBOX]
if not sends:
    st.info(_("You have not sent anything to the sandbox yet."))
    st.stop()
labels = {
    j.id: _("{send} · {file} → {target} · {count} created").format(
        send=names[j.id],
        file=j.file_name,
        target=flow.target_label(j.campaign),
        count=number(j.counts.get(Status.CREATED, 0)),
    )
    for j in sends
}
job_id = st.selectbox(_("Send"), list(labels), format_func=labels.get, key="sandbox_send")
rows = [r for r, (s, _m) in journal.outcomes(job_id).items() if s == Status.CREATED]
if not rows:
    st.caption(_("The sandbox created nobody from this send."))
else:
    people = [json.loads(text) for text in journal.payload_json(job_id, rows)]
    frame = pd.json_normalize(people).fillna("")
    frame.insert(0, _("Row"), rows)
    st.dataframe(frame, hide_index=True, key="sandbox_people")
    st.caption(
        lit(
            ngettext(
                "{count} person, as the sandbox received them.",
                "{count} people, as the sandbox received them.",
                len(rows),
            ).format(count=number(len(rows)))
        )
    )
