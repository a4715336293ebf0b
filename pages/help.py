"""Help: using SEEN Sender (the steps, SEEN's fields, every status), and setting it up."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pages.frame import enter
from seen_core import i18n
from seen_core.check.checks import IMAGE_EXTENSIONS
from seen_core.check.mapping import FIELDS
from seen_core.engagement.secrets import CallbackSecrets
from seen_core.engagement.setup import instructions, target_title, targets_to_set_up
from seen_core.errors import ConfigurationError
from seen_core.i18n import _
from seen_core.safe_text import markdown_literal as lit
from seen_core.statuses import Status

frame = enter("help")

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


# --- SEEN's calls back to this app: what to paste into SEEN, per target (admins) ----------------


def callback_setup() -> None:
    """For an admin (or the one user of an app without sign-in): each configured target's
    address, method, headers and payload template for SEEN (docs/SETUP.md, "SEEN's calls")."""
    if frame.secrets.get("auth") and not frame.user.is_admin:
        return
    st.subheader(_("SEEN's calls back to this app"))
    try:
        secrets = CallbackSecrets.from_config(frame.secrets)
    except ConfigurationError as error:
        st.error(lit(str(error)))
        return
    targets = targets_to_set_up(frame.secrets, secrets)
    if not targets:
        st.info(
            _(
                "No callback secret is configured, so this app takes calls from its own sandbox "
                "only. Add [seen.callbacks] to secrets.toml (see above) to let SEEN call back."
            )
        )
        return
    origin = (st.context.url or "").split("/", 3)
    guess = "/".join(origin[:3]) if len(origin) >= 3 else ""
    public = st.text_input(
        _("The address SEEN reaches this app at (through your reverse proxy)"),
        value=guess,
        key="callback_public_base",
    )
    reveal = st.toggle(_("Show the secrets"), key="callback_show_secrets")
    for kind, name in targets:
        with st.expander(lit(target_title(kind, name))):
            secret = secrets.secret_for(kind, name) if reveal else None
            for item in instructions(public, kind, name, secret):
                st.markdown(lit(item.where))
                headers = "\n".join(f"{k}: {v}" for k, v in item.headers.items())
                st.code(f"{item.method} {item.url}\n{headers}", language=None)
                st.code(item.body, language="json")


with setting_up:
    callback_setup()
