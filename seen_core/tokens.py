"""Where a send's SEEN token comes from, bound to the address it was configured with.

A token from the server's secrets or environment is sent only to the address configured with
it (or SEEN's own address for the target's API): an address typed on the page never receives
it. An address typed on the page is used only with a token typed on the page. See
docs/ARCHITECTURE.md ("Tokens").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from seen_core.client import Secret
from seen_core.errors import ConfigurationError

V1_ADDRESS = "https://api.seen.io"
V2_ADDRESS = "https://next.seen.io"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Credentials:
    """A token and the one address it may be sent to; `where` says where it was found."""

    token: Secret = field(repr=False)
    base_url: str
    where: str
    configured: bool  # from the server's secrets or environment, not typed on the page


def default_address(target: str) -> str:
    """SEEN's own address for the target's API."""
    return V2_ADDRESS if target.startswith(("workspace/", "project/")) else V1_ADDRESS


def env_name(target: str, prefix: str = "SEEN_API_TOKEN") -> str:
    """`SEEN_API_TOKEN_SPRING_CAMPAIGN` for `spring-campaign`; `…_WORKSPACE_WS_1` for
    `workspace/ws-1`."""
    return f"{prefix}_" + re.sub(r"[^A-Za-z0-9]", "_", target).upper()


def _section(secrets: Mapping[str, Any], *path: str) -> Mapping[str, Any]:
    found: Any = secrets
    for name in path:
        found = found.get(name) if isinstance(found, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def configured(
    target: str, secrets: Mapping[str, Any], env: Mapping[str, str]
) -> Credentials | None:
    """The server's token for a target and its address, first found of:

    secrets `[seen.campaigns]`/`[seen.workspaces]`/`[seen.projects]` by id (a token, or a
    table with `token` and `base_url`); env `SEEN_API_TOKEN_<TARGET>` (with
    `SEEN_BASE_URL_<TARGET>`); secrets `[seen] token` (with `base_url`); env `SEEN_API_TOKEN`
    (with `SEEN_BASE_URL`). None when none is set.
    """
    kind, _, ident = target.partition("/")
    section = {"workspace": "workspaces", "project": "projects"}.get(kind, "campaigns")
    name = ident if ident else target
    seen = _section(secrets, "seen")
    entry = _section(secrets, "seen", section).get(name) if target else None
    candidates: list[tuple[str, str, str]] = []
    if isinstance(entry, Mapping):
        candidates.append((_text(entry.get("token")), _text(entry.get("base_url")), section))
    elif target:
        candidates.append((_text(entry), "", section))
    if target:
        candidates.append(
            (
                _text(env.get(env_name(target))),
                _text(env.get(env_name(target, "SEEN_BASE_URL"))),
                f"environment {env_name(target)}",
            )
        )
    candidates.append((_text(seen.get("token")), _text(seen.get("base_url")), "secrets [seen]"))
    candidates.append(
        (_text(env.get("SEEN_API_TOKEN")), _text(env.get("SEEN_BASE_URL")), "SEEN_API_TOKEN")
    )
    for token, address, where in candidates:
        if token:
            place = f"secrets [seen.{where}]" if where == section else where
            return Credentials(
                Secret(token), checked_address(address or default_address(target)), place, True
            )
    return None


def any_configured(secrets: Mapping[str, Any], env: Mapping[str, str]) -> bool:
    """Whether the server has any SEEN token (then SEEN, not the sandbox, is the usual choice)."""
    if configured("", secrets, env) is not None:
        return True
    for section in ("campaigns", "workspaces", "projects"):
        if _section(secrets, "seen", section):
            return True
    return any(k.startswith("SEEN_API_TOKEN_") and v.strip() for k, v in env.items())


def typed(target: str, address: str, token: str) -> Credentials:
    """A token typed on the page, for the address typed beside it (SEEN's own when empty)."""
    if not token.strip():
        if address.strip():
            raise ConfigurationError(
                "An address typed here is used only with a token typed here: enter the token."
            )
        raise ConfigurationError("Enter your SEEN token.")
    return Credentials(
        Secret(token.strip()),
        checked_address(address or default_address(target)),
        "typed on the page",
        False,
    )


def checked_address(address: str) -> str:
    """SEEN's address as given, when it may carry a token: https, or http on this machine."""
    address = address.strip().rstrip("/")
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"'{address}' is not a web address such as {V1_ADDRESS}.")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigurationError("SEEN's address must not hold a login, a query or a fragment.")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ConfigurationError(
            "SEEN's address must start with https:// (http:// only for this machine), "
            "so the token is never sent in the clear."
        )
    return address
