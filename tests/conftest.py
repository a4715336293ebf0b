"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from seen_core.sandbox import DEFAULT_TOKEN, Sandbox

# -- sandbox: the local SEEN stand-in on 127.0.0.1 ------------------------------------------

SANDBOX_CAMPAIGN = "spring-campaign"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A running sandbox that knows one campaign, `spring-campaign`, and DEFAULT_TOKEN."""
    with Sandbox(token=DEFAULT_TOKEN, campaigns={SANDBOX_CAMPAIGN}) as running:
        yield running


# -- the app (tests/test_app.py, tests/test_browser.py) -----------------------------------------


@pytest.fixture
def seen_data_dir(tmp_path, monkeypatch):
    """An empty data folder for the app's journal, mappings and kept sheets."""
    folder = tmp_path / "seen-data"
    monkeypatch.setenv("SEEN_DATA_DIR", str(folder))
    for name in ("SEEN_API_TOKEN", "SEEN_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return folder
