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


@pytest.fixture(autouse=True)
def navigation_as_served(monkeypatch):
    """Run app.py on every AppTest run, as `streamlit run` does once `st.navigation` has run.

    AppTest forgets between runs that the app uses `st.navigation`; with a folder named
    `pages/` it then runs the page's file alone (Streamlit's older multipage mode), skipping
    the frame in app.py (sign-in, the draft, the step bar) that a real server always runs.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)
