"""The secret each target's callbacks must carry, from `[seen.callbacks]` in secrets.toml.

`secret = "…"` serves every target; `[seen.callbacks.targets]` names one target's own secret by
its kind and name (`"campaign/spring"`, `"workspace/ws-1"`, `"project/p-9"`), which wins over
the shared one. A target with neither has no callback address (404).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from seen_core.errors import ConfigurationError
from seen_core.i18n import _
from seen_core.send.targets import kind_and_name


@dataclass(frozen=True)
class CallbackSecrets:
    """The shared secret (or None) and each target's own, keyed `kind/name`."""

    shared: str | None = field(default=None, repr=False)
    targets: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CallbackSecrets:
        """From the whole of secrets.toml (as a dict); one sentence when the section is wrong."""
        seen = config.get("seen") if isinstance(config.get("seen"), Mapping) else {}
        section = seen.get("callbacks") or {}
        if not isinstance(section, Mapping):
            raise ConfigurationError(_("[seen.callbacks] in secrets.toml must be a section."))
        shared = section.get("secret")
        if shared is not None and (not isinstance(shared, str) or not shared.strip()):
            raise ConfigurationError(_("[seen.callbacks] secret must be a text that is not empty."))
        targets: dict[str, str] = {}
        for key, secret in (section.get("targets") or {}).items():
            kind, name = kind_and_name(str(key))
            if kind not in ("campaign", "workspace", "project") or not name:
                raise ConfigurationError(
                    _(
                        "[seen.callbacks.targets] names '{key}', which is no campaign/…, "
                        "workspace/… or project/…."
                    ).format(key=key)
                )
            if not isinstance(secret, str) or not secret.strip():
                raise ConfigurationError(
                    _("The callback secret of '{key}' must be a text that is not empty.").format(
                        key=key
                    )
                )
            targets[f"{kind}/{name}"] = secret
        return cls(shared, targets)

    def secret_for(self, kind: str, name: str) -> str | None:
        """The secret calls for that target must carry; None when it has no callback address."""
        return self.targets.get(f"{kind}/{name}", self.shared)

    def any_configured(self) -> bool:
        return bool(self.shared or self.targets)

    def configured_targets(self) -> list[tuple[str, str]]:
        """(kind, name) of every target with a secret of its own, in the file's order."""
        return [tuple(key.split("/", 1)) for key in self.targets]  # type: ignore[misc]

    def matches_any(self, authorization: str | None) -> bool:
        """Whether the header carries one of the configured secrets (before a v1 body, whose
        campaign names the secret, is read)."""
        candidates = ([self.shared] if self.shared else []) + list(self.targets.values())
        # Every candidate is compared, so the time taken says nothing about which matched.
        found = False
        for secret in candidates:
            found |= carries(authorization, secret)
        return found


def presented(authorization: str | None) -> str | None:
    """The secret an Authorization header presents: `Token …`, `Bearer …`, or Basic with the
    secret as the password (any user name); None for anything else."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    scheme, value = scheme.casefold(), value.strip()
    if scheme in ("token", "bearer"):
        return value or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _, colon, password = decoded.partition(":")
        return password if colon else None
    return None


def carries(authorization: str | None, secret: str) -> bool:
    """Whether the header presents exactly this secret (compared in constant time)."""
    given = presented(authorization)
    if given is None:
        # Still compare, so a missing header takes the time a wrong one does.
        hmac.compare_digest(secret.encode(), secret.encode())
        return False
    return hmac.compare_digest(given.encode("utf-8"), secret.encode("utf-8"))
