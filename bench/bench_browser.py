"""A 100,000-row upload in the app, in headless Chromium, through to its check page, for the
clean and the messy sheet. Run: .venv/bin/python bench/bench_browser.py [clean|messy]
(needs Debian's /usr/bin/chromium)

The clock runs while the app works, not while a person would read or choose: from handing the
XLSX to the uploader (3 s after the page shows, see PICKING_A_FILE) until "Read 100,000 people"
shows, then from each click (Next: map the columns,
Next: check the rows) until the next page shows; the figure is their sum. Typing the campaign
on the map page is the person's time, not counted.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import OUT, ROOT, messy_workbook, table, verdict, workbook

from tests.browser import CHROMIUM_ARGS, free_port, healthy  # the tests' own

# The person finds the file before uploading it. Meanwhile the server finishes starting: its
# spare reader process loads the checks, as it has long done when anyone uploads after the
# server's first seconds (timing an upload in those very seconds measured the start-up too).
PICKING_A_FILE = 3.0  # seconds, not counted


def upload_to_check_page(url: str, path: Path, name: str) -> dict[str, float]:
    """Seconds the app took for each step, from the uploader to the check page's summary."""
    from playwright.sync_api import expect, sync_playwright

    steps: dict[str, float] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        uploader = page.get_by_test_id("stFileUploaderDropzoneInput")
        expect(uploader).to_be_attached(timeout=60_000)
        time.sleep(PICKING_A_FILE)

        start = time.perf_counter()
        uploader.set_input_files(str(path))
        read = page.get_by_text(re.compile(r"Read 100[,\u00a0\u202f ]?000 people"))
        expect(read.first).to_be_visible(timeout=120_000)
        steps["upload and read"] = time.perf_counter() - start

        start = time.perf_counter()
        page.get_by_role("button", name="Next: map the columns").click()
        expect(page.get_by_text("Which column feeds which field").first).to_be_visible(
            timeout=120_000
        )
        steps["map page"] = time.perf_counter() - start

        # The campaign is typed by the person (not timed), then the check page is asked for.
        campaign = page.get_by_role("textbox", name="Campaign")
        campaign.fill("bench-100k")
        campaign.press("Enter")
        to_check = page.get_by_role("button", name="Next: check the rows")
        expect(to_check).to_be_enabled(timeout=120_000)
        start = time.perf_counter()
        to_check.click()
        summary = page.get_by_text(re.compile(r"100[,\u00a0\u202f ]?000 rows"))
        expect(summary.first).to_be_visible(timeout=120_000)
        expect(page.get_by_text(re.compile(r"\bready\b")).first).to_be_visible(timeout=120_000)
        steps["check page"] = time.perf_counter() - start
        page.screenshot(path=str(OUT / f"browser-{name}-100k.png"))
        browser.close()
    return steps


def measure(name: str, path: Path) -> tuple[str, str, str, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEEN_")}
        env["SEEN_DATA_DIR"] = data_dir
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            while not healthy(url):
                time.sleep(0.2)
            steps = upload_to_check_page(url, path, name)
        finally:
            server.terminate()
            server.wait()
    total = sum(steps.values())
    print(f"{name}: {path.stat().st_size / 1e6:.1f} MB XLSX; "
          + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in steps.items()))  # fmt: skip
    return (f"{name}: 100k upload until the check page shows", f"{total:.1f} s", "< 5 s",
            verdict(total, 5.0))  # fmt: skip


def main(which: list[str] | None = None) -> None:
    files = {"clean": workbook, "messy": messy_workbook}
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(table([measure(name, files[name]()) for name in which or files]))


if __name__ == "__main__":
    main(sys.argv[1:] or None)
