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
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from seen_core.errors import ConfigurationError, InputError
from seen_core.i18n import _
from seen_core.send.targets import V1_BASE_URL, address_for, kind_and_name, target_from_key

if TYPE_CHECKING:  # a command checks the environment before the read, without requests
    from seen_core.send.client import Secret

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Credentials:
    """A token and the one address it may be sent to; `where` says where it was found."""

    token: Secret = field(repr=False)
    base_url: str
    where: str
    configured: bool  # from the server's secrets or environment, not typed on the page


TOKEN_PREFIX = "SEEN_API_TOKEN_"
TARGET_PREFIX = "SEEN_TARGET_"
ADDRESS_PREFIX = "SEEN_BASE_URL_"
_LABEL = re.compile(r"[A-Z0-9_]+")
_SHORT = re.compile(r"[A-Z0-9]+")  # a short name: the one campaign written in small letters


@dataclass(frozen=True)
class EnvironmentTokens:
    """The targets the environment's tokens serve (target key -> label) and what is wrong."""

    labels: dict[str, str]
    problems: list[str]


def environment_tokens(env: Mapping[str, str]) -> EnvironmentTokens:
    """Which target each `SEEN_API_TOKEN_<LABEL>` serves: exactly one, or it is refused.

    `SEEN_TARGET_<LABEL>` names the target (`spring`, `workspace/ws-1`, `project/p-9`) by its
    exact key. Without it, a label of capital letters and digits alone names the campaign
    written in small letters (`SEEN_API_TOKEN_SPRING`: campaign `spring`); any other label
    could be read as two targets (`WORKSPACE_WS_1`: `ws-1` or `ws_1`; `WORKSPACE_X`: workspace
    `x` or campaign `workspace-x`) and is a problem. So is a label naming a target another
    label names. Problems are sentences that never hold a token.
    """
    tokens = {
        k[len(TOKEN_PREFIX) :] for k, v in env.items() if k.startswith(TOKEN_PREFIX) and _text(v)
    }
    named = {k[len(TARGET_PREFIX) :]: v for k, v in env.items() if k.startswith(TARGET_PREFIX)}
    labels: dict[str, str] = {}
    problems: list[str] = []
    for label in sorted(tokens | named.keys()):
        if not _LABEL.fullmatch(label):
            prefix = TARGET_PREFIX if label in named else TOKEN_PREFIX
            problems.append(
                f"{prefix}{label} is not a name SEEN Sender reads: after {prefix} write only "
                "capital letters, digits and _."
            )
            continue
        if label in named:
            key = _target_key(named[label])
            if key is None:
                problems.append(
                    f"{TARGET_PREFIX}{label} names no SEEN campaign, workspace or project: "
                    "write a campaign's slug (spring), workspace/ID or project/ID."
                )
                continue
            if label not in tokens:
                problems.append(
                    f"{TARGET_PREFIX}{label} names {_words(key)}, "
                    f"but {TOKEN_PREFIX}{label} is not set."
                )
                continue
        elif _SHORT.fullmatch(label):
            key = label.lower()
        else:
            first, second = _two_readings(label)
            problems.append(
                f"{TOKEN_PREFIX}{label} could serve {_words(first)} or {_words(second)}: name "
                f"its one target with {TARGET_PREFIX}{label} (for example "
                f"{TARGET_PREFIX}{label}={first})."
            )
            continue
        if key in labels:
            problems.append(
                f"{TOKEN_PREFIX}{labels[key]} and {TOKEN_PREFIX}{label} both serve "
                f"{_words(key)}: keep one."
            )
            continue
        labels[key] = label
    return EnvironmentTokens(labels, problems)


def check_environment(env: Mapping[str, str]) -> None:
    """Raise `ConfigurationError` with the first problem of the environment's tokens, if any
    (see `environment_tokens`): the app and the commands refuse to start with it."""
    problems = environment_tokens(env).problems
    if problems:
        raise ConfigurationError(problems[0])


def _target_key(value: str) -> str | None:
    """The key of the target `SEEN_TARGET_<LABEL>` names, or None when it names none."""
    try:
        return target_from_key(value.strip()).key  # `campaign/spring` reads as `spring`
    except (ConfigurationError, InputError):
        return None


def _words(key: str) -> str:
    return target_from_key(key).label


def _two_readings(label: str) -> tuple[str, str]:
    """Two targets whose folded keys are `label` (one holding `_`): the first as `-`."""
    kind, _, rest = label.partition("_")
    if kind in ("WORKSPACE", "PROJECT") and rest[:1].isalnum():
        ident = rest.lower()
        if "_" in ident:
            return f"{kind.lower()}/{ident.replace('_', '-')}", f"{kind.lower()}/{ident}"
        return f"{kind.lower()}/{ident}", label.lower().replace("_", "-")
    return label.lower().replace("_", "-"), label.lower()


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
    table with `token` and `base_url`); env `SEEN_API_TOKEN_<LABEL>` serving this very target
    (with `SEEN_BASE_URL_<LABEL>`; see `environment_tokens`); secrets `[seen] token` (with
    `base_url`); env `SEEN_API_TOKEN` (with `SEEN_BASE_URL`). None when none is set. Raises
    `ConfigurationError` while the environment names a token that could serve two targets.
    """
    from seen_core.send.client import Secret

    from_env = environment_tokens(env)
    if from_env.problems:
        raise ConfigurationError(from_env.problems[0])
    kind, name = kind_and_name(target)
    section = {"workspace": "workspaces", "project": "projects"}.get(kind, "campaigns")
    seen = _section(secrets, "seen")
    entry = _section(secrets, "seen", section).get(name) if target else None
    candidates: list[tuple[str, str, str]] = []
    if isinstance(entry, Mapping):
        candidates.append((_text(entry.get("token")), _text(entry.get("base_url")), section))
    elif target:
        candidates.append((_text(entry), "", section))
    label = from_env.labels.get(target) if target else None
    if label is not None:
        candidates.append(
            (
                _text(env.get(TOKEN_PREFIX + label)),
                _text(env.get(ADDRESS_PREFIX + label)),
                f"environment {TOKEN_PREFIX}{label}",
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
                Secret(token), checked_address(address or address_for(target)), place, True
            )
    return None


def any_configured(secrets: Mapping[str, Any], env: Mapping[str, str]) -> bool:
    """Whether the server has any SEEN token that serves a target (then SEEN, not the sandbox,
    is the usual choice); an environment token refused by `environment_tokens` serves none."""
    if _text(_section(secrets, "seen").get("token")) or _text(env.get("SEEN_API_TOKEN")):
        return True
    for section in ("campaigns", "workspaces", "projects"):
        if _section(secrets, "seen", section):
            return True
    return bool(environment_tokens(env).labels)


def typed(target: str, address: str, token: str) -> Credentials:
    """A token typed on the page, for the address typed beside it (SEEN's own when empty)."""
    from seen_core.send.client import Secret

    if not token.strip():
        if address.strip():
            raise ConfigurationError(
                _("An address typed here is used only with a token typed here: enter the token.")
            )
        raise ConfigurationError(_("Enter your SEEN token."))
    return Credentials(
        Secret(token.strip()),
        checked_address(address or address_for(target)),
        "typed on the page",
        False,
    )


def checked_address(address: str) -> str:
    """SEEN's address as given, when it may carry a token: https, or http on this machine."""
    address = address.strip().rstrip("/")
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"'{address}' is not a web address such as {V1_BASE_URL}.")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigurationError("SEEN's address must not hold a login, a query or a fragment.")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ConfigurationError(
            "SEEN's address must start with https:// (http:// only for this machine), "
            "so the token is never sent in the clear."
        )
    return address
