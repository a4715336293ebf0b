"""Tokens go only where they were meant to: bound to their configured address, typed with typed."""

from __future__ import annotations

import pytest

from seen_core.errors import ConfigurationError
from seen_core.send import tokens
from seen_core.send.tokens import any_configured, configured, typed

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
    env = {"SEEN_TARGET_WS2": "workspace/ws-2", "SEEN_API_TOKEN_WS2": "tok-env-ws",
           "SEEN_API_TOKEN": "tok-any", "SEEN_BASE_URL": "http://127.0.0.1:8765"}  # fmt: skip
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


# --- tokens in the environment: each serves exactly one target ----------------------------------

ENV_TOKEN = "tok-env-Hemmelig-4b7e1a"  # distinctive, so a leak anywhere is found by a plain search
FOUR_SPELLINGS = ["workspace/ws-1", "workspace/ws.1", "workspace/WS_1", "workspace/ws_1"]


def refusal(env: dict[str, str]) -> str:
    with pytest.raises(ConfigurationError) as refused:
        tokens.check_environment(env)
    sentence = str(refused.value)
    assert ENV_TOKEN not in sentence and sentence.count(". ") == 0 and sentence.endswith(".")
    return sentence


def test_a_folded_workspace_name_that_four_ids_share_is_refused():
    env = {"SEEN_API_TOKEN_WORKSPACE_WS_1": ENV_TOKEN}
    sentence = refusal(env)
    assert "SEEN_API_TOKEN_WORKSPACE_WS_1" in sentence
    assert "workspace 'ws-1'" in sentence and "workspace 'ws_1'" in sentence
    assert "SEEN_TARGET_WORKSPACE_WS_1=workspace/ws-1" in sentence  # how to say which one
    for target in FOUR_SPELLINGS:  # and no way round the refusal serves any of them
        with pytest.raises(ConfigurationError):
            configured(target, {}, env)


def test_a_name_a_campaign_and_a_workspace_share_is_refused():
    env = {"SEEN_API_TOKEN_WORKSPACE_X": ENV_TOKEN}
    sentence = refusal(env)
    assert "workspace 'x'" in sentence and "campaign 'workspace-x'" in sentence
    for target in ("workspace/x", "workspace/X", "workspace-x", "workspace_x"):
        with pytest.raises(ConfigurationError):
            configured(target, {}, env)


def test_a_folded_campaign_name_with_an_underscore_is_refused():
    sentence = refusal({"SEEN_API_TOKEN_SPRING_CAMPAIGN": ENV_TOKEN})
    assert "campaign 'spring-campaign'" in sentence and "campaign 'spring_campaign'" in sentence


@pytest.mark.parametrize("key", FOUR_SPELLINGS)
def test_a_token_named_for_one_target_serves_that_target_only(key):
    env = {
        "SEEN_TARGET_WORKSPACE_WS_1": key,
        "SEEN_API_TOKEN_WORKSPACE_WS_1": ENV_TOKEN,
        "SEEN_BASE_URL_WORKSPACE_WS_1": "http://127.0.0.1:8765",
    }
    tokens.check_environment(env)
    found = configured(key, {}, env)
    assert (found.token.reveal(), found.base_url) == (ENV_TOKEN, "http://127.0.0.1:8765")
    assert found.where == "environment SEEN_API_TOKEN_WORKSPACE_WS_1"
    for other in [*FOUR_SPELLINGS, "workspace-ws-1", "workspace_ws_1", "project/ws-1"]:
        if other != key:
            assert configured(other, {}, env) is None, other
    assert any_configured({}, env)


def test_an_explicit_label_needs_no_resemblance_to_its_target():
    env = {"SEEN_TARGET_WS1": "workspace/ws-1", "SEEN_API_TOKEN_WS1": ENV_TOKEN,
           "SEEN_TARGET_AUTUMN": "campaign/autumn-2025",
           "SEEN_API_TOKEN_AUTUMN": "tok-autumn"}  # fmt: skip
    tokens.check_environment(env)
    assert configured("workspace/ws-1", {}, env).token.reveal() == ENV_TOKEN
    assert configured("autumn-2025", {}, env).base_url == "https://api.seen.io"
    assert configured("workspace/ws_1", {}, env) is None
    assert configured("workspace-x", {}, env) is None
    assert configured("ws1", {}, env) is None  # the label is only a label


def test_a_short_name_serves_the_one_campaign_written_in_small_letters():
    env = {"SEEN_API_TOKEN_SPRING": ENV_TOKEN, "SEEN_API_TOKEN_2025": "tok-2025"}
    tokens.check_environment(env)
    assert configured("spring", {}, env).token.reveal() == ENV_TOKEN
    assert configured("2025", {}, env).token.reveal() == "tok-2025"
    for other in ("Spring", "SPRING", "workspace/spring", "project/spring"):
        assert configured(other, {}, env) is None, other


def test_two_names_for_one_target_are_refused():
    sentence = refusal(
        {"SEEN_API_TOKEN_SPRING": ENV_TOKEN, "SEEN_TARGET_S": "spring", "SEEN_API_TOKEN_S": "t2"}
    )
    assert "SEEN_API_TOKEN_S " in sentence and "SEEN_API_TOKEN_SPRING" in sentence
    assert "campaign 'spring'" in sentence


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"SEEN_TARGET_WS": "workspace/ws-1"}, "SEEN_API_TOKEN_WS is not set"),
        ({"SEEN_TARGET_WS": "workspace/", "SEEN_API_TOKEN_WS": ENV_TOKEN}, "names no"),
        ({"SEEN_TARGET_WS": "team/ws-1", "SEEN_API_TOKEN_WS": ENV_TOKEN}, "names no"),
        ({"SEEN_TARGET_WS": "ws 1", "SEEN_API_TOKEN_WS": ENV_TOKEN}, "names no"),
        ({"SEEN_TARGET_WS": "campaign/workspace/x", "SEEN_API_TOKEN_WS": ENV_TOKEN}, "names no"),
        ({"SEEN_API_TOKEN_spring": ENV_TOKEN}, "capital letters"),
        ({"SEEN_API_TOKEN_": ENV_TOKEN}, "capital letters"),
    ],
)
def test_a_target_named_wrongly_is_refused_in_a_sentence(env, words):
    assert words in refusal(env)


def test_a_name_without_a_token_is_no_token():
    env = {"SEEN_API_TOKEN_WORKSPACE_WS_1": "  ", "SEEN_BASE_URL_WORKSPACE_WS_1": "https://x.test"}
    tokens.check_environment(env)
    assert configured("workspace/ws-1", {}, env) is None
    assert not any_configured({}, env)


def test_any_configured_counts_only_tokens_that_serve_a_target():
    assert not any_configured({}, {"SEEN_API_TOKEN_WORKSPACE_WS_1": ENV_TOKEN})
    assert any_configured({}, {"SEEN_API_TOKEN_SPRING": ENV_TOKEN})
    assert any_configured({}, {"SEEN_API_TOKEN": ENV_TOKEN})


def test_a_refused_environment_stops_a_send_and_links_in_one_sentence(tmp_path):
    from builders import messy_workbook
    from cli_runner import run_cli

    from seen_core.sandbox import Sandbox

    people = tmp_path / "kunder.xlsx"
    people.write_bytes(messy_workbook())
    env = {
        "SEEN_DATA_DIR": str(tmp_path / "data"),
        "SEEN_API_TOKEN": "tok-general-0c2f",
        "SEEN_API_TOKEN_WORKSPACE_WS_1": ENV_TOKEN,
    }
    with Sandbox(token=ENV_TOKEN, workspaces={"ws-1", "ws_1"}) as seen:
        for command in ("send", "links"):
            done = run_cli(command, people, "--workspace", "ws-1", "--base-url", seen.url, env=env)
            assert done.returncode == 2, done.stderr
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and "Traceback" not in done.stderr
            assert "workspace 'ws-1'" in lines[0] and "workspace 'ws_1'" in lines[0]
            assert ENV_TOKEN not in done.stdout + done.stderr
            assert "tok-general-0c2f" not in done.stdout + done.stderr
        assert seen.requests_log == []
        dry = run_cli("send", people, "--workspace", "ws-1", "--dry-run", env=env)
        assert dry.returncode == 1  # a dry run uses no token: nothing to refuse
