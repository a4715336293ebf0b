"""Tokens go only where they were meant to: bound to their configured address, typed with typed."""

from __future__ import annotations

import pytest

from seen_core.errors import ConfigurationError
from seen_core.tokens import any_configured, configured, typed

SECRETS = {
    "seen": {
        "campaigns": {
            "spring": "tok-spring",
            "own-host": {"token": "tok-own", "base_url": "https://seen.test.example"},
        },
        "workspaces": {"ws-1": "tok-ws"},
    }
}


def test_a_campaign_token_is_bound_to_seens_own_address():
    found = configured("spring", SECRETS, {})
    assert found.token.reveal() == "tok-spring"
    assert found.base_url == "https://api.seen.io"
    assert found.configured and "tok" not in repr(found)


def test_a_token_configured_with_an_address_goes_only_there():
    found = configured("own-host", SECRETS, {})
    assert (found.token.reveal(), found.base_url) == ("tok-own", "https://seen.test.example")


def test_a_workspace_token_goes_to_seen_api_2():
    found = configured("workspace/ws-1", SECRETS, {})
    assert (found.token.reveal(), found.base_url) == ("tok-ws", "https://next.seen.io")


def test_environment_tokens_per_target_and_general():
    env = {"SEEN_API_TOKEN_WORKSPACE_WS_2": "tok-env-ws", "SEEN_API_TOKEN": "tok-any",
           "SEEN_BASE_URL": "http://127.0.0.1:8765"}  # fmt: skip
    assert configured("workspace/ws-2", {}, env).token.reveal() == "tok-env-ws"
    general = configured("autumn", {}, env)
    assert (general.token.reveal(), general.base_url) == ("tok-any", "http://127.0.0.1:8765")
    assert configured("autumn", {}, {}) is None
    assert any_configured({}, env) and not any_configured({}, {})


def test_a_typed_address_needs_a_typed_token():
    with pytest.raises(ConfigurationError, match="token typed here"):
        typed("spring", "http://127.0.0.1:9/x", "")
    found = typed("spring", "", "tok-typed")
    assert found.base_url == "https://api.seen.io" and not found.configured


@pytest.mark.parametrize(
    "address",
    ["http://seen.example.com", "http://10.0.0.5:8000", "ftp://x", "https://u:p@host", "nonsense"],
)
def test_a_token_is_never_sent_in_the_clear_or_with_a_login(address):
    with pytest.raises(ConfigurationError):
        typed("spring", address, "tok")


def test_a_configured_plain_http_address_elsewhere_is_refused():
    env = {"SEEN_API_TOKEN": "tok", "SEEN_BASE_URL": "http://seen.example.com"}
    with pytest.raises(ConfigurationError, match="https"):
        configured("spring", {}, env)
