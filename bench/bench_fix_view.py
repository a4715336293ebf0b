"""Check and fix narrowed to one kind of problem at 100,000 rows: the work the page does for
it (seen_core alone), and in headless Chromium the time from choosing "Phone number not valid"
until the grid shows it, with the reason and the cell to fix inside a 1024×768 window.
Run: .venv/bin/python bench/bench_fix_view.py (needs Debian's /usr/bin/chromium)
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

from common import OUT, best_of, messy_workbook, table, verdict

from seen_core import flow
from seen_core.check import view
from seen_core.check.mapping import suggest
from tests.browser import chromium, serve, settled  # the tests' own

GOAL = 0.5  # seconds, narrowing 100,000 rows


def in_core(path: Path) -> tuple[float, int, str]:
    """Seconds to list the narrowings, pick the invalid phones and make the grid's first page."""
    sheet = flow.read(path.name, path.read_bytes())
    checked = flow.check(sheet, suggest(sheet.columns), table=sheet.table)

    def narrow() -> tuple[list, list[int]]:
        checked.__dict__.pop("attention_rows", None)  # as after a fix: nothing kept
        found = view.narrowings(checked)
        rows = view.rows_for(checked, "code:phone_invalid")
        view.fix_grid(checked, rows[:200], "code:phone_invalid")
        return found, rows

    seconds, _ = best_of(3, narrow)
    found, rows = narrow()
    label = next(n.label for n in found if n.key == "code:phone_invalid")
    return seconds, len(rows), label


def in_browser(path: Path, label: str) -> tuple[float, dict[str, float]]:
    """Seconds from choosing the narrowing until the page has run; where the grid's first
    columns are in a 1024×768 window."""
    from playwright.sync_api import expect

    with tempfile.TemporaryDirectory() as data, serve(Path(data)) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1024, "height": 768})
        page.goto(url)
        settled(page)
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
        expect(
            page.get_by_text(re.compile(r"Read 100[,\u00a0\u202f ]?000 people")).first
        ).to_be_visible(timeout=120_000)
        page.get_by_role("button", name="Next: map the columns").click()
        settled(page)
        campaign = page.get_by_role("textbox", name="Campaign")
        campaign.fill("bench-narrow")
        campaign.press("Enter")
        settled(page)
        page.get_by_role("button", name="Next: check the rows").click()
        expect(page.get_by_text("Show").first).to_be_visible(timeout=120_000)
        settled(page, 1000)
        box = page.get_by_role("combobox", name="Show")
        box.click()
        start = time.perf_counter()
        page.get_by_role("option", name=label).click()
        page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
            state="attached", timeout=60_000
        )
        headers = page.locator("[data-testid='stDataFrame'] th")  # the grid's accessible table
        expect(headers.filter(has_text="fix here").first).to_be_attached(timeout=60_000)
        seconds = time.perf_counter() - start
        settled(page, 500)
        # For comparison: the next page of the same rows, the same grid made again.
        first_row = headers.locator("xpath=ancestor::table//td").first.text_content()
        start = time.perf_counter()
        page.get_by_role("button", name="Increment").click()
        expect(headers.locator("xpath=ancestor::table//td").first).not_to_have_text(
            first_row or "", timeout=60_000
        )
        where_next = time.perf_counter() - start
        settled(page, 500)
        page.get_by_role("button", name="Decrement").click()
        settled(page, 500)
        grid = page.get_by_test_id("stDataFrame").first
        grid.scroll_into_view_if_needed()
        page.screenshot(path=str(OUT / "fix-view-100k-1024.png"))
        box = grid.bounding_box()
        # The accessible table lists the columns the grid draws in its window.
        where = {"grid left": box["x"], "grid right": box["x"] + box["width"]}
        where["columns drawn"] = headers.all_text_contents()
        where["next page of 200 rows, s"] = round(where_next, 2)
    return seconds, where


def main() -> None:
    path = messy_workbook()
    seconds, _rows, label = in_core(path)
    print(f"seen_core: {label}; narrowings, rows and the first page in {seconds:.3f} s")
    shown, where = in_browser(path, label)
    print(f"browser: narrowed in {shown:.2f} s; right edges of the first columns: {where}")
    print(table([
        ("narrow 100k rows (seen_core)", f"{seconds:.2f} s", f"< {GOAL} s", verdict(seconds, GOAL)),
        ("narrow 100k rows (browser, page run)", f"{shown:.2f} s", "—", ""),
    ]))  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
