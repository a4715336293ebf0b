"""What an administrator gives SEEN for each target: address, method, headers and body.

Help's setting-up part shows these (docs/SETUP.md says the same in prose). The person's id and
the film's links are placeholders the administrator picks in SEEN's own editor (the workspace's
`id` property, the Journey outputs *player link*, *thumbnail link*, *email thumbnail link*);
External Events offer `{{event_name}}` and `{{timestamp}}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from seen_core.engagement.routes import V1_CALLBACK, v2_path
from seen_core.engagement.secrets import CallbackSecrets
from seen_core.i18n import N_, _

SECRET_PLACEHOLDER = N_("<the callback secret>")
# Each kind of target as Help names it ("Workspace 'ws-1'"), in the user's language.
TARGET_TITLES = {
    "campaign": N_("Campaign '{name}'"),
    "workspace": N_("Workspace '{name}'"),
    "project": N_("Project '{name}'"),
}


def target_title(kind: str, name: str) -> str:
    """A target as Help's list of targets names it, in the user's language."""
    title = TARGET_TITLES.get(kind)
    return _(title).format(name=name) if title else f"{kind} '{name}'"


@dataclass(frozen=True)
class Instruction:
    """One thing to set up in SEEN."""

    where: str  # where in SEEN it is set up
    method: str
    url: str
    headers: dict[str, str]
    body: str  # the payload template, or a sample of what SEEN sends


def instructions(
    public_base: str, kind: str, name: str, secret: str | None = None
) -> list[Instruction]:
    """The settings SEEN needs to call this app back for one target; `secret` None shows a
    placeholder instead of it."""
    base = public_base.rstrip("/")
    shown = secret or _(SECRET_PLACEHOLDER)
    if kind == "campaign":
        sample = {
            "customer_id": "<customer ID>",
            "campaign_slug": name,
            "landing_page_url": "…",
            "video_url": "…",
            "thumbnail_url": "…",
            "email_thumbnail_url": "…",
        }
        return [
            Instruction(
                where=_("v1 callback of campaign '{name}' (set up by SEEN on request)").format(
                    name=name
                ),
                method="POST",
                url=base + V1_CALLBACK,
                headers={"Authorization": f"Token {shown}", "Content-Type": "application/json"},
                body=json.dumps(sample, indent=2),
            )
        ]
    film = {
        "id": "{{id}}",
        "player": "{{player link}}",
        "thumbnail": "{{thumbnail link}}",
        "email_thumbnail": "{{email thumbnail link}}",
    }
    event = {"event": "{{event_name}}", "id": "{{id}}", "timestamp": "{{timestamp}}"}
    return [
        Instruction(
            where=_(
                "Journey → Webhook node, after rendering ({target}); security: Basic, any user "
                "name, the secret as password — or the header below"
            ).format(target=target_title(kind, name)),
            method="POST",
            url=base + v2_path(kind, name, "film"),
            headers={"Authorization": f"Bearer {shown}", "Content-Type": "application/json"},
            body=json.dumps(film, indent=2),
        ),
        Instruction(
            where=_("Settings → External Events ({target})").format(
                target=target_title(kind, name)
            ),
            method="POST",
            url=base + v2_path(kind, name, "event"),
            headers={"Authorization": f"Bearer {shown}", "Content-Type": "application/json"},
            body=json.dumps(event, indent=2),
        ),
    ]


def targets_to_set_up(config: dict, secrets: CallbackSecrets) -> list[tuple[str, str]]:
    """(kind, name) of each target to show: those with a secret of their own, then (with a
    shared secret) those secrets.toml names for sending."""
    found = list(secrets.configured_targets())
    if secrets.shared:
        seen = config.get("seen") if isinstance(config.get("seen"), dict) else {}
        for section, kind in (("campaigns", "campaign"), ("workspaces", "workspace"),
                              ("projects", "project")):  # fmt: skip
            names = seen.get(section) if isinstance(seen.get(section), dict) else {}
            found += [(kind, str(n)) for n in names if (kind, str(n)) not in found]
    return found
