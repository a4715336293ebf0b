"""The fix screen's points (issue 26) in a real browser: `streamlit run app.py` driven by
Playwright in headless Chromium, each test asserting what a user sees on the page or in the
workbook the app hands back."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest
from browser import choose, chromium, download, serve, settled
from builders import csv_bytes

# The helpers of the first browser tests, and their lock: one browser test at a time, whichever
# file it is in (the fixture is autouse, so importing it here puts this file's tests under it).
from test_browser import (  # noqa: F401  (one_browser_test_at_a_time: used by pytest)
    click,
    expect_text,
    one_browser_test_at_a_time,
    upload,
)

pytestmark = pytest.mark.browser


def sheet_of_people(path: Path, rows: list[list[str]]) -> Path:
    path.write_bytes(csv_bytes(rows))
    return path


def start(browser, url: str, width: int = 1400, height: int = 1000):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url)
    settled(page)
    return page


def name_the_campaign(page, name: str) -> None:
    campaign = page.get_by_role("textbox", name="Campaign")
    campaign.fill(name)
    campaign.press("Enter")
    settled(page)


def to_check(page, sheet: Path, campaign: str, first_name: str | None = None) -> None:
    """Upload → Map (the campaign named; `first_name`: the column chosen for it) → Check and
    fix."""
    upload(page, sheet)
    click(page, "Next: map the columns")
    if first_name is not None:
        choose(page, "First name *", first_name)
    name_the_campaign(page, campaign)
    click(page, "Next: check the rows")
    expect_text(page, "Fix many rows at once")


def bulk_fix(page, fix: str) -> None:
    """Open "Fix many rows at once" and choose a fix."""
    page.get_by_text("Fix many rows at once").click()
    settled(page)
    choose(page, "Fix", fix)


def send_to_the_sandbox(page, people: str) -> None:
    click(page, f"Next: send {people}")
    click(page, f"Send {people} to the sandbox")


def people_in_workbook(data: bytes) -> tuple[list[str], list[dict[str, object]]]:
    """The header and the rows (header → value) of the workbook's sheet of people: the one
    with a SEEN status column."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        for at, row in enumerate(rows[:10]):
            if "SEEN status" in row:
                header = [str(h) if h is not None else "" for h in row]
                people = [dict(zip(header, r, strict=False)) for r in rows[at + 1 :] if any(r)]
                return header, people
    raise AssertionError(f"No sheet with a SEEN status column in {book.sheetnames}")


def sidebar_metrics(page) -> dict[str, str]:
    """The sidebar's counts as shown: label → value."""
    metrics = page.get_by_test_id("stSidebar").get_by_test_id("stMetric")
    return {
        m.get_by_test_id("stMetricLabel").inner_text().strip(): m.get_by_test_id("stMetricValue")
        .inner_text()
        .strip()
        for m in metrics.all()
    }


# --- 1. split a full name ------------------------------------------------------------------------


def test_a_full_name_split_is_sent_as_first_and_last_name(tmp_path):
    sheet = sheet_of_people(
        tmp_path / "navn.csv",
        [
            ["Kundenr", "Navn", "E-post", "Mobil"],
            ["1", "Ola Nordmann", "ola@example.no", "45860321"],
            ["2", "Kari Anne Hansen", "kari@example.no", "45860322"],
        ],
    )
    with serve(tmp_path / "data") as url, chromium() as browser:
        page = start(browser, url)
        # SEEN needs a first name: the full name is chosen for it, then split on Check and fix.
        to_check(page, sheet, "navn", first_name="Navn")
        bulk_fix(page, "Split a full name into first and last name")
        choose(page, "Full name column", "Navn")
        expect_text(page, "Split Navn into First name and Last name: changes 2 rows.")
        click(page, "Apply to 2 rows")
        # The page says what changed: the fix, by name and count, on its Undo button.
        expect_text(page, "Undo: Split Navn into First name and Last name (2 rows)")
        expect_text(page, "2 rows · 2 ready")
        send_to_the_sandbox(page, "2 people")
        expect_text(page, re.compile(r"^2 created"), timeout=30_000)

        header, people = people_in_workbook(download(page, "Download your sheet with"))
        assert {"First name", "Last name"} <= set(header)  # the new columns, beside Navn
        ola = next(p for p in people if p["Navn"] == "Ola Nordmann")  # the user's cell kept
        assert (ola["First name"], ola["Last name"]) == ("Ola", "Nordmann")
        assert ola["SEEN status"] == "Created"

        # What the sandbox took: the first and last name fields, from the new columns.
        page.goto(f"{url}/sandbox")
        settled(page)
        expect_text(page, "2 people, as the sandbox received them.")
        heads = page.locator("[data-testid='stDataFrame'] th").all_text_contents()
        assert {"first_name", "last_name"} <= set(heads)
        grid = page.locator("[data-testid='stDataFrame'] tr", has_text="Nordmann").first
        cells = grid.locator("td").all_text_contents()
        assert cells[heads.index("first_name")] == "Ola"
        assert cells[heads.index("last_name")] == "Nordmann"


# --- 2 and 3. leave out invalid phones; undo and redo -------------------------------------------


def test_invalid_phones_left_out_undone_redone_then_sent_without_them(tmp_path):
    sheet = sheet_of_people(
        tmp_path / "telefon.csv",
        [
            ["Kundenr", "Fornavn", "E-post", "Mobil"],
            ["1", "Ola", "ola@example.no", "45860321"],
            ["2", "Kari", "kari@example.no", "12345"],  # the phone not valid, the e-mail is
            ["3", "Per", "", "999"],  # no e-mail to reach him by: stays to be fixed
        ],
    )
    with serve(tmp_path / "data") as url, chromium() as browser:
        page = start(browser, url)
        to_check(page, sheet, "telefon")
        expect_text(page, "3 rows · 1 ready · 2 need attention")
        bulk_fix(page, "Leave out invalid phone numbers or e-mails")
        expect_text(
            page,
            "Leave out invalid phone numbers where the e-mail is valid: changes 1 row. "
            "Only where the person can still be reached with an e-mail; "
            "1 row without one stay to be fixed by hand.",
        )
        click(page, "Apply to 1 row")
        expect_text(page, "3 rows · 2 ready · 1 need attention")

        undo = "Undo: Leave out invalid phone numbers where the e-mail is valid"
        redo = "Redo: Leave out invalid phone numbers where the e-mail is valid"
        click(page, undo)
        expect_text(page, "3 rows · 1 ready · 2 need attention")
        from playwright.sync_api import expect

        expect(page.get_by_role("button", name=undo)).to_have_count(0)
        click(page, redo)
        expect_text(page, "3 rows · 2 ready · 1 need attention")
        expect(page.get_by_role("button", name=redo)).to_have_count(0)
        expect(page.get_by_role("button", name=undo)).to_have_count(1)

        send_to_the_sandbox(page, "2 people")
        expect_text(page, re.compile(r"^2 created · 1 need"), timeout=30_000)
        _, people = people_in_workbook(download(page, "Download your sheet with"))
        kari = next(p for p in people if p["Fornavn"] == "Kari")
        assert str(kari["Mobil"]) == "12345"  # the user's own cell, as it was
        assert kari["Mobil (sent as)"] == "sent without phone"
        assert kari["SEEN status"] == "Created"
        per = next(p for p in people if p["Fornavn"] == "Per")
        assert str(per["Mobil"]) == "999" and per["SEEN status"] == "Needs fixing"
