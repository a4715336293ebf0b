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
    name_the_campaign,
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


def showing(page, choice: str) -> None:
    """Check and fix's Show box shows this choice (its label carries the count)."""
    from playwright.sync_api import expect

    expect(page.get_by_role("combobox", name="Show")).to_match_aria_snapshot(
        f'- combobox "Show": {choice}', timeout=20_000
    )


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
        # The full name column is the one mapped to First name, without choosing it.
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
        from playwright.sync_api import expect

        page.goto(f"{url}/sandbox")
        settled(page)
        expect_text(page, "2 people, as the sandbox received them.")
        expect(page.get_by_role("combobox", name="Send")).to_match_aria_snapshot(
            '- combobox "Send": /^Send 1 \\(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\) · navn\\.csv/'
        )  # named as History names it: the draft's first send, with its date
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
            "1 row without one stays to be fixed by hand.",
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


# --- 4. a suggested fix for one row; a name in capitals -----------------------------------------


def test_a_suggested_fix_for_one_row_and_a_name_in_capitals(tmp_path):
    sheet = sheet_of_people(
        tmp_path / "forslag.csv",
        [
            ["Kundenr", "Fornavn", "Etternavn", "E-post", "Mobil"],
            ["1", "Kari", "Nordmann", "kari@gmial.com", "45860321"],  # row 2: gmial.com
            ["2", "OLA", "Hansen", "ola@example.no", "45860322"],  # row 3: OLA
            ["3", "Per", "Olsen", "per@example.no", "45860323"],
        ],
    )
    email_fix = (
        "E-mail domain looks mistyped: apply the suggested fix to row 2: "
        "'kari@gmial.com' → 'kari@gmail.com'"
    )
    name_fix = "Name in capitals or small letters: apply the suggested fix to row 3: 'OLA' → 'Ola'"
    with serve(tmp_path / "data") as url, chromium() as browser:
        page = start(browser, url)
        to_check(page, sheet, "forslag")
        expect_text(page, "3 rows · 3 ready")  # warnings: sent as they are unless fixed
        showing(page, "Every row that needs attention — 2 rows")
        # What the fix will write, shown before it is applied.
        expect_text(page, email_fix)
        expect_text(page, name_fix)

        click(page, email_fix)
        expect_text(page, "Undo: Row 2, E-post: 'kari@gmial.com' → 'kari@gmail.com'")
        showing(page, "Every row that needs attention — 1 row")  # counted
        from playwright.sync_api import expect

        expect(page.get_by_role("button", name=email_fix)).to_have_count(0)
        click(page, name_fix)
        expect_text(page, "Undo: Row 3, Fornavn: 'OLA' → 'Ola'")
        showing(page, "Every row that needs attention — 0 rows")
        expect(page.get_by_role("button", name=name_fix)).to_have_count(0)
        expect(page.get_by_text("Suggested fixes", exact=True)).to_have_count(0)

        send_to_the_sandbox(page, "3 people")
        expect_text(page, re.compile(r"^3 created"), timeout=30_000)
        _, people = people_in_workbook(download(page, "Download your sheet with"))
        assert [p["E-post"] for p in people][:2] == ["kari@gmail.com", "ola@example.no"]
        assert [p["Fornavn"] for p in people] == ["Kari", "Ola", "Per"]


# --- 5. Map: the campaign box, why Next waits, the sidebar's counts -----------------------------


def test_map_says_why_next_waits_and_the_sidebar_claims_nothing_ready_before_a_campaign(tmp_path):
    sheet = sheet_of_people(
        tmp_path / "kart.csv",
        [
            ["Kundenr", "Fornavn", "E-post", "Mobil"],
            ["1", "Kari", "kari@example.no", "45860321"],
            ["2", "Ola", "ola@example.no", "12345"],
        ],
    )
    from playwright.sync_api import expect

    with serve(tmp_path / "data") as url, chromium() as browser:
        page = start(browser, url)
        upload(page, sheet)
        click(page, "Next: map the columns")
        expect_text(page, "Which column feeds which field")
        sidebar = page.get_by_test_id("stSidebar")
        for _ in range(3):  # the sidebar's counts come with a run after the background check
            page.reload()
            settled(page)
            if sidebar.get_by_test_id("stMetric").count():
                break
        campaign = page.get_by_role("textbox", name="Campaign")
        expect(campaign).to_have_value("")
        assert not campaign.get_attribute("placeholder")  # nothing that reads as a name
        next_button = page.get_by_role("button", name="Next: check the rows")
        expect(next_button).to_be_disabled()
        reason = page.get_by_text("Next needs the campaign the people go to: type its name above.")
        expect(reason).to_be_visible()  # on the page, not in a tooltip
        expect(sidebar.get_by_test_id("stMetric").first).to_be_visible()
        assert sidebar_metrics(page) == {"Rows": "2", "Rows to fix": "1"}
        assert "Ready to send" not in sidebar.inner_text()

        name_the_campaign(page, "kart")
        expect(next_button).to_be_enabled()
        expect(reason).to_have_count(0)
        expect(sidebar.get_by_text("Ready to send")).to_be_visible()
        assert sidebar_metrics(page) == {"Rows": "2", "Ready to send": "1", "Need attention": "1"}


# --- 6. History's boxes; the start page offers the draft left open ------------------------------


def test_history_boxes_and_the_start_page_continues_the_draft_left_open(tmp_path):
    sheet = sheet_of_people(
        tmp_path / "kunder.csv",
        [["Kundenr", "Fornavn", "E-post"], ["1", "Kari", "kari@example.no"]],
    )
    from playwright.sync_api import expect

    with serve(tmp_path / "data") as url, chromium() as browser:
        page = start(browser, url)
        to_check(page, sheet, "historikk")
        page.goto(f"{url}/history")
        settled(page)
        search = page.get_by_role("textbox", name="Search by file, campaign or workspace")
        expect(search).to_be_visible()
        assert not search.get_attribute("placeholder")
        label = "Rename this draft (press Enter to keep the new name)"
        expect(page.get_by_text(label)).to_be_visible()  # a label in sight, not a placeholder
        rename = page.get_by_role("textbox", name=label)
        expect(rename).to_have_value("kunder.csv")
        rename.fill("Kunder desember")
        rename.press("Enter")
        settled(page)
        expect_text(page, "Kunder desember → campaign 'historikk'")
        page.close()

        # Another browser, at the bare address: the start page offers the draft left open.
        fresh = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        fresh.goto(url)
        settled(fresh)
        expect_text(
            fresh,
            re.compile(
                r"^Your last draft, 'Kunder desember' for campaign 'historikk', "
                r"was left at Check and fix, \d{4}-\d\d-\d\d \d\d:\d\d UTC\.$"
            ),
        )
        click(fresh, "Continue 'Kunder desember'")
        expect(fresh.get_by_role("heading", name="Check and fix")).to_be_visible(timeout=20_000)
        expect_text(fresh, "1 row · 1 ready")
        assert "draft=" in fresh.url


# --- 7. plain words ------------------------------------------------------------------------------


def test_a_refused_extra_field_name_and_the_workbook_speak_the_apps_words(tmp_path):
    import json

    sheet = sheet_of_people(
        tmp_path / "ord.csv",
        [
            ["Kundenr", "Fornavn", "E-post", "Mobil", "Antall mil"],
            ["1", "Kari", "kari@example.no", "45860321", "12"],
            ["2", "Ola", "ola@@example", "45860322", "7"],  # an e-mail not valid: to fix
        ],
    )
    fields = {"first_name": "Fornavn", "last_name": None, "email": "E-post", "phone": "Mobil",
              "customer_id": "Kundenr"}  # fmt: skip
    refused = tmp_path / "refused-mapping.json"
    refused.write_text(json.dumps({**fields, "extra_args": {"Antall mil!": "Antall mil"}}))
    good = tmp_path / "good-mapping.json"
    good.write_text(json.dumps({**fields, "extra_args": {"antall_mil": "Antall mil"}}))
    with serve(tmp_path / "data") as url, chromium() as browser:
        page = start(browser, url)
        upload(page, sheet)
        click(page, "Next: map the columns")
        name_the_campaign(page, "ord")
        page.get_by_text("Save or load this mapping").click()
        upload(page, refused)  # a mapping with an extra field name SEEN refuses
        expect_text(page, re.compile(r"^Next needs another extra field name for column 'Antall"))
        assert "extra_args" not in page.inner_text("body")

        page.get_by_role("link", name="3. Check", exact=True).click()  # the step bar
        settled(page)
        expect_text(page, re.compile(r"^The extra field name 'Antall mil!' may only hold"))
        assert "extra_args" not in page.inner_text("body")

        page.get_by_role("link", name="2. Map", exact=True).click()
        settled(page)
        page.get_by_text("Save or load this mapping").click()
        upload(page, good)
        click(page, "Next: check the rows")
        expect_text(page, "2 rows · 1 ready · 1 need attention")
        assert "extra_args" not in page.inner_text("body")
        send_to_the_sandbox(page, "1 person")
        expect_text(page, re.compile(r"^1 created · 1 need"), timeout=30_000)
        _, people = people_in_workbook(download(page, "Download your sheet with"))
        assert [p["SEEN status"] for p in people] == ["Created", "Needs fixing"]
