"""A 100,000-row upload in the app, in headless Chromium, until its check page shows the counts.
Run: .venv/bin/python bench/bench_browser.py  (needs Debian's /usr/bin/chromium)"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from common import ROOT, table, verdict, workbook

CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]  # fmt: skip


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


def main() -> None:
    from playwright.sync_api import expect, sync_playwright

    rows = 100_000
    path = workbook(rows)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "SEEN_DATA_DIR": data_dir}
        env.pop("SEEN_API_TOKEN", None)
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            while not healthy(url):
                time.sleep(0.2)
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
                )
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url)
                expect(page.get_by_test_id("stFileUploaderDropzoneInput")).to_be_attached(
                    timeout=30_000
                )
                start = time.perf_counter()
                page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
                ready = page.get_by_test_id("stMetric").filter(has_text="Ready to send")
                expect(ready).to_contain_text(re.compile(r"100[,\u00a0 ]?000"), timeout=120_000)
                elapsed = time.perf_counter() - start
                page.screenshot(path=str(ROOT / "bench" / "out" / "browser-100k.png"))
                browser.close()
        finally:
            server.terminate()
            server.wait()
    print(f"{rows} rows, {path.stat().st_size / 1e6:.1f} MB XLSX")
    print(
        table(
            [(
                "upload until the check page shows",
                f"{elapsed:.1f} s",
                "< 10 s",
                verdict(elapsed, 10.0),
            )]
        )
    )  # fmt: skip


if __name__ == "__main__":
    main()
