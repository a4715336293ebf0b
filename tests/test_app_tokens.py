"""The app at start: a token in the environment that could serve two targets stops every page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TOKEN = "tok-env-Hemmelig-81d3c0"  # distinctive, so a leak anywhere is found by a plain search


def said(at: AppTest) -> str:
    """Everything the page says, as a person reads it (Markdown escapes taken out)."""
    kinds = ("markdown", "caption", "success", "info", "warning", "error", "title")
    return re.sub(r"\\(.)", r"\1", "\n".join(str(e.value) for k in kinds for e in getattr(at, k)))


@pytest.fixture
def environment(seen_data_dir, monkeypatch):
    for name in ("SEEN_API_TOKEN_WORKSPACE_WS_1", "SEEN_TARGET_WORKSPACE_WS_1"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("page", ["pages/upload.py", "pages/history.py", "pages/help.py"])
def test_a_token_two_workspaces_could_share_stops_every_page_with_one_sentence(environment, page):
    environment.setenv("SEEN_API_TOKEN_WORKSPACE_WS_1", TOKEN)
    at = AppTest.from_file(APP, default_timeout=30).run()
    if page != "pages/upload.py":
        at.switch_page(page).run()
    assert not at.exception
    assert len(at.error) == 1
    sentence = said(at)
    assert "SEEN_API_TOKEN_WORKSPACE_WS_1" in sentence
    assert "workspace 'ws-1'" in sentence and "workspace 'ws_1'" in sentence
    assert "SEEN_TARGET_WORKSPACE_WS_1=workspace/ws-1" in sentence
    assert len(at.file_uploader) == 0 and len(at.button) == 0  # nothing else runs
    assert TOKEN not in sentence and TOKEN not in str(at.error[0].proto)


def test_the_same_token_named_for_its_one_target_lets_the_app_start(environment):
    environment.setenv("SEEN_API_TOKEN_WORKSPACE_WS_1", TOKEN)
    environment.setenv("SEEN_TARGET_WORKSPACE_WS_1", "workspace/ws-1")
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception and len(at.error) == 0
    assert len(at.file_uploader) == 1
    assert TOKEN not in said(at)
