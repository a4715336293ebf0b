"""Help: what SEEN expects of each receiver, and how to configure tokens."""

from __future__ import annotations

import streamlit as st

from seen_core.checks import IMAGE_EXTENSIONS
from seen_core.mapping import FIELDS

st.title("Help")
st.markdown(
    "SEEN Sender turns a sheet of people into **receivers** on a SEEN campaign: upload the "
    "sheet, map its columns to SEEN's fields, fix what the checks find, send, and download the "
    "sheet again with a status on every row."
)

st.header("The fields SEEN knows", divider="gray")
st.table(
    {
        "Field": [f.name for f in FIELDS],
        "Meaning": [f.label for f in FIELDS],
        "Required": ["yes" if f.required else "no" for f in FIELDS],
        "What it is for": [f.help for f in FIELDS],
        "Headers recognised (examples)": [", ".join(f.synonyms[:6]) for f in FIELDS],
    }
)
st.markdown(
    """
- **Phone numbers** are sent in E.164: `+` country code and number, no spaces
  (`+4745860321`). A number without a country code is read in the country chosen under
  *Check settings* (Norway unless you change it), so `458 60 321` becomes `+4745860321`.
- **E-mail addresses** are checked for their form only (nobody is e-mailed).
- When SEEN delivers the films, every receiver needs a **phone number, an e-mail address or
  both**.
- **Customer ID** is your own ID for the person. With it, a send that lost its answer can be
  retried safely, and SEEN's callbacks can be matched to your rows. Two rows with the same ID
  are refused.
"""
)

st.header("extra_args: the campaign's personal fields", divider="gray")
st.markdown(
    """
Every column that is not one of the fields above can go to SEEN in `extra_args`, under a
**key**. Keys may only hold the letters `A-Z a-z`, the digits `0-9` and `_`:
write `o` for ø, `ae` for æ, `a` for å (`Kjønn` → `kjonn`, `Antall mil` → `antall_mil`).
Each key may be used once. Use the keys your campaign's film template expects.
"""
)

st.header("Image links", divider="gray")
st.markdown(
    f"""
An image link (usually in `extra_args`) must be:
- a direct link to the image, with no login and no redirect;
- a file ending in {", ".join(f"`{e}`" for e in IMAGE_EXTENSIONS)}, in lowercase;
- served as `image/jpg`, `image/jpeg` or `image/png`;
- at most 2 MB.
"""
)

st.header("Sandbox or SEEN", divider="gray")
st.markdown(
    """
The **sandbox** is a stand-in for SEEN that runs inside this app. It answers as SEEN does, but
nothing reaches SEEN: use it to try a sheet. The *Sandbox* page shows what it received.
It is the default target until a SEEN token is configured.
"""
)

st.header("Configuring SEEN tokens", divider="gray")
st.markdown(
    """
A token is never shown, logged or written to a report. Give it to the app in one of these
ways (the first one found wins):

1. `.streamlit/secrets.toml` next to `app.py`, a token per campaign:
   ```toml
   [seen]
   base_url = "https://api.seen.io"
   token = "token used for any campaign without its own"

   [seen.campaigns]
   spring-campaign = "token for the campaign spring-campaign"
   ```
2. The environment: `SEEN_API_TOKEN_SPRING_CAMPAIGN` for campaign `spring-campaign`
   (upper case, `-` as `_`), or `SEEN_API_TOKEN` for any campaign; `SEEN_BASE_URL` for the
   address.
3. Or type it on the send page: it is kept only for your browser session.

`secrets.toml` is not committed to git; copy `.streamlit/secrets.toml.example` to start.
"""
)
