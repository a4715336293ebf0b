"""Help: using SEEN Sender (the steps, SEEN's fields, every status), and setting it up."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pages.frame import enter
from seen_core import i18n
from seen_core.check.checks import IMAGE_EXTENSIONS
from seen_core.check.mapping import FIELDS
from seen_core.i18n import _
from seen_core.statuses import Status

enter("help")

SETUP = Path(__file__).resolve().parent.parent / "docs" / "SETUP.md"

st.title(_("Help"))
using, setting_up = st.tabs([_("Using SEEN Sender"), _("Setting it up")])

with using:
    st.markdown(
        _(
            """
SEEN Sender turns a sheet of people into people in SEEN, each with their own film:

1. **Upload** a CSV or Excel sheet exported from your CRM (title rows above the header are fine).
2. **Map columns**: choose the campaign (or, for SEEN API 2.0, the workspace or project), and
   which column holds the first name, e-mail, phone and so on. Every other column can be sent
   as a personal field for the film.
3. **Check and fix**: every row is checked; the cell that is wrong is marked with the reason.
   Fix cells one by one, or many at once (find and replace, trim, phone country, split names,
   leave out an invalid phone where the e-mail works). Every fix can be undone.
4. **Send** to the sandbox (to try) or to SEEN, with a progress bar.
5. **Results**: what became of each row, and your own sheet back with SEEN's answer beside
   every person. Rows not created can be fixed in the same draft and sent again.

Your work is a **draft**: close the tab, come back tomorrow, and *History* opens it where you
left it. Nobody else sees your drafts or sends.
"""
        )
    )
    st.subheader(_("What each status means"))
    st.table(
        {
            _("Status"): [s.label for s in Status],
            _("What it means"): [s.explanation for s in Status],
            _("What to do"): [s.next_step for s in Status],
        }
    )
    st.subheader(_("The fields SEEN knows"))
    st.table(
        {
            _("Field"): [_(f.label) for f in FIELDS],
            _("Required"): [_("yes") if f.required else _("no") for f in FIELDS],
            _("What it is for"): [_(f.help) for f in FIELDS],
            _("Headers recognised (examples)"): [", ".join(f.synonyms[:6]) for f in FIELDS],
        }
    )
    st.markdown(
        _(
            """
- **Phone numbers** are sent with their country code and no spaces (`+4745860321`). A number
  without a country code is read in the country chosen on *Check and fix* (Norway unless you
  change it), so `458 60 321` becomes `+4745860321`.
- **E-mail addresses** are checked for their form only: nobody is e-mailed.
- When SEEN delivers the films, every person needs a **phone number, an e-mail or both**.
- **Customer ID** is your own id for the person. With it, a send that lost its answer is
  retried safely. Two rows with the same id are refused. SEEN API 2.0 needs it on every row.
- **Personal fields** (the other columns) go under a name of letters, digits and `_` only:
  `Kjønn` → `kjonn`. Use the names your film template expects.
- **Image links** must be direct links ending in
  {extensions} (lowercase), no login or redirect, at most
  2 MB.
- The **sandbox** is a stand-in for SEEN inside this app: nothing reaches SEEN. Use it to try
  a sheet; the *Sandbox* page shows the people it created from your sends.
"""
        ).format(extensions=", ".join(f"`{e}`" for e in IMAGE_EXTENSIONS))
    )

with setting_up:
    if i18n.language() != "en":  # the set-up guide is for whoever runs the server
        st.caption(_("The set-up guide is in English."))
    st.markdown(SETUP.read_text(encoding="utf-8") if SETUP.exists() else _("See docs/SETUP.md."))
