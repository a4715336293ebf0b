"""A session whose browser has left is closed once Streamlit's time for it to come back is up,
and lets go of what it held (a served app in a real browser)."""

from __future__ import annotations

import fcntl
import os
import time
import urllib.error
import urllib.request

import pytest
from browser import CHROMIUM, chromium, serve, settled

pytestmark = pytest.mark.browser

if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)


@pytest.fixture(autouse=True)
def one_browser_test_at_a_time(tmp_path_factory: pytest.TempPathFactory):
    """The lock the browser tests take (tests/test_browser.py): one at a time."""
    lock = tmp_path_factory.getbasetemp().parent / "seen-browser-tests.lock"
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        yield


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_session_whose_browser_left_is_closed_and_lets_go_of_its_draft(tmp_path):
    """Streamlit forgets a disconnected session only when a later one disconnects, so an idle
    server kept its last sessions, each with its draft (100 MB for 100,000 rows), for good.
    The mapping file the map page offers is held by its session: once the session is closed,
    the server lets it go (at the next run of any page: a second person here, who stays)."""
    ttl = {"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": "8"}  # seconds to come back in
    with serve(tmp_path / "data", env=ttl) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        settled(page)
        page.get_by_role("button", name="Try the demo file").click()
        settled(page)
        page.get_by_role("button", name="Next: map the columns").click()
        settled(page)
        page.get_by_text("Save or load this mapping").click()
        settled(page)
        with page.expect_download() as event:
            page.get_by_role("button", name="Save this mapping (JSON)").click()
        held = event.value.url
        assert status(held) == 200  # the session, and so the server, holds it
        other = browser.new_page()
        other.goto(url)
        settled(other)
        page.close()  # the first person leaves
        deadline = time.monotonic() + 60  # far beyond the 8 s: never, without the close
        while status(held) == 200 and time.monotonic() < deadline:
            other.get_by_role("button", name="Try the demo file").click()  # a run of a page
            settled(other, 1000)
        assert status(held) == 404
