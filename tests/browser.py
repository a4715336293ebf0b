"""Driving `streamlit run app.py` in headless Chromium: the server, the browser, the grid."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
            return answer.read() == b"ok"
    except OSError:
        return False


@contextlib.contextmanager
def serve(
    data_dir: Path,
    *,
    secrets: Path | None = None,
    env: dict[str, str] | None = None,
    port: int | None = None,
) -> Iterator[str]:
    """`streamlit run app.py` on 127.0.0.1 with its own data folder (and secrets file)."""
    port = port or free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SEEN_")}
    environment.update({"SEEN_DATA_DIR": str(data_dir), **(env or {})})
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true", "--server.port", str(port),
        "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    if secrets is not None:
        command += ["--secrets.files", str(secrets)]
    server = subprocess.Popen(
        command, cwd=REPO, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 40
        while not healthy(url):
            if server.poll() is not None:
                pytest.fail(f"streamlit run exited: {server.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("streamlit run did not become healthy within 40 s")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium (Debian's), for as many contexts as a test needs."""
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing at /usr/bin/chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def settled(page, settle_ms: int = 300) -> None:
    """Wait until the app is connected and no script runs (Streamlit's own e2e selectors)."""
    from playwright.sync_api import expect

    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(
        state="attached", timeout=30_000
    )
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=30_000
    )
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0)
    page.wait_for_timeout(settle_ms)


def type_in_grid(
    page, editor_index: int, row: int, column: int, text: str, current: str | None = None
) -> None:
    """Type into a cell of a data editor (a canvas): click the first body row 150 px in (the
    first column after the row numbers), move with the arrow keys (`row` down, `column`
    right), type, and Enter. `current`: the text the cell holds now; an editor that opens with
    other text is on another cell (the page moved under the click), so it is closed and the
    cell found again."""
    editor = page.locator("textarea.gdg-input")  # the grid's cell editor
    for _ in range(3):
        settled(page)
        grid = page.get_by_test_id("stDataFrame").nth(editor_index)
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 150, box["y"] + 35 + 17)
        for _ in range(row):
            page.keyboard.press("ArrowDown")
        for _ in range(column):
            page.keyboard.press("ArrowRight")
        page.keyboard.press("Enter")  # open the cell's editor before typing into it
        try:  # on a busy machine it opens late, or a rerun closes it: then once more
            editor.wait_for(state="visible", timeout=10_000)
            if current is not None and editor.input_value() != current:
                raise LookupError("the editor opened on another cell")
        except Exception:
            page.keyboard.press("Escape")
            continue
        page.keyboard.type(text, delay=30)
        page.keyboard.press("Enter")
        editor.wait_for(state="hidden", timeout=10_000)
        return
    raise AssertionError("The grid's cell editor never opened")


def choose(page, label: str, option: str) -> None:
    """Pick an option of a selectbox (its list opens on a click; a click during a rerun can be
    lost, so it is tried again)."""
    for _ in range(3):
        page.get_by_label(label, exact=True).click()
        wanted = page.get_by_role("option", name=option)
        try:
            wanted.wait_for(state="visible", timeout=5_000)
        except Exception:  # the list did not open: the page was busy
            settled(page)
            continue
        wanted.click()
        settled(page)
        return
    raise AssertionError(f"The option {option!r} of {label!r} never showed")


def download(page, button: str) -> bytes:
    """Press a download button and return the file (pressed again if a rerun swallowed it)."""
    for _ in range(3):
        settled(page)
        try:
            with page.expect_download(timeout=15_000) as event:
                page.get_by_role("button", name=button).first.click()
            return Path(event.value.path()).read_bytes()
        except Exception:  # no download came: the page was busy when it was pressed
            continue
    raise AssertionError(f"Pressing {button!r} downloaded nothing")
