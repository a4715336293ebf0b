"""Sandbox: what the local SEEN stand-in has received, per campaign."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from seen_core.sandbox import Sandbox

sandbox: Sandbox = st.session_state["_sandbox"]

st.title("Sandbox")
st.markdown(
    "A stand-in for SEEN that runs inside this app: it answers as SEEN does and keeps what it "
    "received until the app restarts. **Nothing sent here reaches SEEN.**"
)
campaigns = sandbox.campaigns()
if not campaigns:
    st.info("The sandbox has not received anything yet.")
else:
    st.dataframe(
        pd.DataFrame({"Campaign": list(campaigns), "Receivers": list(campaigns.values())}),
        hide_index=True,
        key="sandbox_campaigns",
    )
    campaign = st.selectbox("Campaign", list(campaigns), key="sandbox_campaign")
    received = sandbox.received(campaign) if campaign else []
    if received:
        frame = pd.json_normalize(received).fillna("")
        st.dataframe(frame, hide_index=True, key="sandbox_received")
    else:
        st.caption("No receivers for this campaign.")
    if st.button("Forget everything the sandbox received", key="sandbox_reset"):
        sandbox.reset()
        st.rerun()
