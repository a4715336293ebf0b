"""The app in a real browser: `streamlit run app.py` driven by Playwright in headless Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from builders import messy_workbook

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

pytestmark = pytest.mark.browser

if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
            return answer.read() == b"ok"
    except OSError:
        return False


@pytest.fixture
def app_url(seen_data_dir) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "SEEN_DATA_DIR": str(seen_data_dir)}
    env.pop("SEEN_API_TOKEN", None)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _healthy(url):
            if server.poll() is not None:
                pytest.fail(f"streamlit run exited: {server.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("streamlit run did not become healthy within 30 s")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def page(app_url):
    if not CHROMIUM.exists():
        pytest.fail("CI is set but Chromium is missing at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(app_url)
            yield page
        finally:
            browser.close()


def test_upload_send_to_the_sandbox_and_see_the_result(page, tmp_path):
    from playwright.sync_api import expect

    workbook = tmp_path / "kunder.xlsx"
    workbook.write_bytes(messy_workbook())
    expect(page.get_by_text("Send receivers to a SEEN campaign")).to_be_visible(timeout=20_000)
    campaign = page.get_by_role("textbox", name="Campaign slug")
    campaign.fill("browser-test")
    campaign.press("Enter")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(workbook))
    expect(page.get_by_text("Read 7 people from kunder.xlsx")).to_be_visible(timeout=20_000)
    send = page.get_by_role("button", name="Send 1 receiver to the sandbox")
    expect(send).to_be_enabled(timeout=20_000)
    send.click()
    expect(page.get_by_text("Results of send #1")).to_be_visible(timeout=30_000)
    created = page.get_by_test_id("stMetric").filter(has_text="Created")
    expect(created).to_contain_text("1")
    invalid = page.get_by_test_id("stMetric").filter(has_text="Invalid").last
    expect(invalid).to_contain_text("6")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the annotated workbook").click()
    assert download.value.suggested_filename == "kunder-seen-send-1.xlsx"
