"""The app in a real browser: `streamlit run app.py` driven by Playwright in headless Chromium."""

from __future__ import annotations

import fcntl
import io
import os
import re
from pathlib import Path

import openpyxl
import pytest
from browser import CHROMIUM, choose, chromium, download, serve, settled, type_in_grid
from builders import messy_workbook

pytestmark = pytest.mark.browser

if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)

SIZES = {"wide": (1400, 1000), "small": (1024, 768)}


@pytest.fixture(autouse=True)
def one_browser_test_at_a_time(tmp_path_factory: pytest.TempPathFactory):
    """Each browser test runs a server and a Chromium; two at once on a two-core machine make
    each other's clicks late. Whichever pytest worker runs one, runs it alone."""
    lock = tmp_path_factory.getbasetemp().parent / "seen-browser-tests.lock"
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        yield


def expect_text(page, text: str | re.Pattern, timeout: int = 20_000) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_text(text).first).to_be_visible(timeout=timeout)


def click(page, name: str | re.Pattern) -> None:
    page.get_by_role("button", name=name).first.click()
    settled(page)


def upload(page, path: Path) -> None:
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    settled(page)


def name_the_campaign(page, name: str) -> None:
    """Type the campaign on Map, as a user does (Enter, then the page's run)."""
    campaign = page.get_by_role("textbox", name="Campaign")
    campaign.fill(name)
    campaign.press("Enter")
    settled(page)


def test_every_step_of_the_demo_in_two_window_sizes(tmp_path):
    """Walks the demo from upload to results and keeps a screenshot of each step; with
    SEEN_SCREENSHOTS set, they are written there (docs/screenshots in the repository)."""
    out = Path(os.environ.get("SEEN_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    with serve(tmp_path / "data") as url, chromium() as browser:
        for size, (width, height) in SIZES.items():
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(url)
            settled(page)
            click(page, "Try the demo file")
            expect_text(page, re.compile(r"Read \d+ people from demo-receivers\.xlsx"))
            settled(page, 800)
            page.mouse.move(0, 0)  # no tooltip of the button just pressed in the picture
            page.screenshot(path=out / f"1-upload-{size}.png")
            click(page, "Next: map the columns")
            expect_text(page, "Which column feeds which field")
            campaign = page.get_by_role("textbox", name="Campaign")
            campaign.fill("")
            campaign.press("Enter")
            settled(page, 800)
            expect_text(page, "Next needs the campaign the people go to")  # said, not hovered
            page.get_by_role("button", name="Next: check the rows").scroll_into_view_if_needed()
            page.screenshot(path=out / f"2-map-no-campaign-{size}.png")
            campaign.fill(f"demo-{size}")  # each size its own campaign: no send is a repeat
            campaign.press("Enter")
            settled(page, 800)
            page.screenshot(path=out / f"2-map-{size}.png")
            click(page, "Next: check the rows")
            expect_text(page, "Fix many rows at once")
            settled(page, 800)
            page.mouse.move(0, 0)
            page.screenshot(path=out / f"3-check-{size}.png")
            choose(page, "Show", "Phone number not valid — 1 row")
            page.get_by_test_id("stDataFrame").first.scroll_into_view_if_needed()
            page.screenshot(path=out / f"3-check-one-kind-{size}.png")
            choose(page, "Show", "Every row that needs attention — 5 rows")
            click(page, re.compile(r"^Next: send"))
            expect_text(page, "nothing reaches SEEN")
            settled(page, 800)
            page.screenshot(path=out / f"4-send-{size}.png")
            click(page, re.compile(r"^Send \d+ (person|people) to the sandbox"))
            expect_text(page, re.compile(r"^\d+ created · \d+ need attention"), timeout=30_000)
            settled(page, 800)
            page.screenshot(path=out / f"5-results-{size}.png")
            page.close()
    assert len(list(out.glob("*.png"))) >= 14


def test_a_draft_survives_a_reload_and_a_server_restart(tmp_path):
    workbook = tmp_path / "kunder.xlsx"
    workbook.write_bytes(messy_workbook())
    data = tmp_path / "data"
    with serve(data) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        settled(page)
        upload(page, workbook)
        expect_text(page, "Read 7 people from kunder.xlsx")
        click(page, "Next: map the columns")
        name_the_campaign(page, "browser-test")
        click(page, "Next: check the rows")
        expect_text(page, "7 rows · 1 ready · 6 need attention")
        # Fix 1: in the grid, the first row to fix (row 6) has no first name.
        type_in_grid(page, 0, row=0, column=1, text="Kari", current="")
        settled(page, 800)
        expect_text(page, "7 rows · 2 ready · 5 need attention")
        # Fix 2: find and replace, with its count shown first.
        page.get_by_text("Fix many rows at once").click()
        settled(page)
        choose(page, "Fix", "Find and replace in a column")
        choose(page, "In column", "E-post")
        page.get_by_role("textbox", name="Find").fill("@@example")
        page.get_by_role("textbox", name="Replace with").fill("@example.no")
        page.get_by_role("textbox", name="Replace with").press("Enter")
        settled(page)
        click(page, "Apply to 1 row")
        expect_text(page, "7 rows · 3 ready · 4 need attention")
        address = page.url
        assert "draft=" in address

        page.reload()
        settled(page)
        expect_text(page, "7 rows · 3 ready · 4 need attention")
        assert page.get_by_role("heading", name="Check and fix").is_visible()
        page.close()

    with serve(data) as url, chromium() as browser:  # the server restarted, the browser is new
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/history")
        settled(page)
        expect_text(page, "kunder.xlsx → campaign 'browser-test'")
        click(page, "Open")
        expect_text(page, "7 rows · 3 ready · 4 need attention")
        assert page.get_by_role("heading", name="Check and fix").is_visible()


def test_fix_and_send_again_in_the_same_draft(tmp_path):
    workbook = tmp_path / "kunder.xlsx"
    workbook.write_bytes(messy_workbook())
    with serve(tmp_path / "data") as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        settled(page)
        upload(page, workbook)
        click(page, "Next: map the columns")
        name_the_campaign(page, "again")
        click(page, "Next: check the rows")
        click(page, "Next: send 1 person")
        click(page, "Send 1 person to the sandbox")
        expect_text(page, "1 created · 6 need attention", timeout=30_000)

        click(page, re.compile(r"Fix and send the 6 rows not created"))
        expect_text(page, "7 rows · 0 ready · 6 need attention · 1 already in SEEN")
        type_in_grid(page, 0, row=0, column=1, text="Kari", current="")  # row 6's first name
        settled(page, 800)
        expect_text(page, "7 rows · 1 ready · 5 need attention · 1 already in SEEN")
        click(page, "Next: send 1 person")
        click(page, "Send 1 person to the sandbox")
        expect_text(page, "2 created · 5 need attention", timeout=30_000)
        book = openpyxl.load_workbook(io.BytesIO(download(page, "Download your sheet with")))
        sheet = book["Mottakere"]
        header = [c.value for c in sheet[4]]
        status = header.index("SEEN status") + 1
        message = header.index("SEEN message") + 1
        assert sheet.cell(5, status).value == "Created"  # by the first send
        assert sheet.cell(6, status).value == "Created"  # fixed, then by the second
        assert sheet.cell(9, status).value == "Needs fixing"  # the app's words
        assert "row 5" in sheet.cell(9, message).value


def test_two_signed_in_users_each_see_only_their_own(tmp_path):
    """A real OpenID Connect provider on 127.0.0.1 (oidc-provider-mock) and two browsers."""
    import subprocess
    import sys
    import time
    import urllib.request

    from browser import free_port

    oidc_port, app_port = free_port(), free_port()
    provider = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--port", str(oidc_port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        f"""
[auth]
redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"
cookie_secret = "a-long-random-secret-for-this-test-only"
client_id = "seen-sender"
client_secret = "test-secret"
server_metadata_url = "http://127.0.0.1:{oidc_port}/.well-known/openid-configuration"

[seen]
admins = ["it@example.no"]
""",
        encoding="utf-8",
    )
    workbook = tmp_path / "kunder.xlsx"
    workbook.write_bytes(messy_workbook())
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(
                    f"http://127.0.0.1:{oidc_port}/.well-known/openid-configuration", timeout=1
                ).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the OpenID provider did not start"
                time.sleep(0.2)
        with serve(tmp_path / "data", secrets=secrets, port=app_port) as url, chromium() as b:

            def sign_in(email: str):
                context = b.new_context(viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                page.goto(url)
                settled(page)
                page.get_by_role("button", name="Sign in").click()
                page.locator("input[name=sub]").fill(email)
                page.get_by_role("button", name="Authorize").click()
                settled(page, 800)
                expect_text(page, f"Signed in as {email}")
                return page

            alice = sign_in("alice@example.no")
            upload(alice, workbook)
            expect_text(alice, "Read 7 people from kunder.xlsx")
            link = alice.url
            assert "draft=" in link

            bob = sign_in("bob@example.no")  # at the same time, in another browser
            bob.goto(f"{url}/history")
            settled(bob)
            expect_text(bob, "No drafts.")
            bob.goto(link)  # Alice's draft, by its link: nothing of it shows
            settled(bob, 800)
            assert "kunder.xlsx" not in bob.inner_text("body")
            assert "Read 7 people" not in bob.inner_text("body")

            alice.goto(f"{url}/history")
            settled(alice)
            expect_text(alice, "kunder.xlsx")
    finally:
        provider.terminate()
        provider.wait(timeout=10)


def test_a_file_name_with_an_image_link_fetches_nothing(tmp_path):
    """A file named like Markdown for an image must not make any browser fetch it."""
    import http.server
    import threading

    from browser import free_port

    hits: list[str] = []

    class Beacon(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    port = free_port()
    beacon = http.server.ThreadingHTTPServer(("127.0.0.1", port), Beacon)
    threading.Thread(target=beacon.serve_forever, args=(0.05,), daemon=True).start()
    named = f"Kunder ![b](http://127.0.0.1:{port}/beacon.png).xlsx"  # "/" is no file name
    try:
        with serve(tmp_path / "data") as url, chromium() as browser:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            settled(page)
            page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
                {"name": named, "mimeType": "application/octet-stream", "buffer": messy_workbook()}
            )
            settled(page)
            expect_text(page, "Read 7 people")
            assert f"![b](http://127.0.0.1:{port}/beacon.png)" in page.inner_text("body")
            page.goto(f"{url}/history")
            settled(page, 1000)
            expect_text(page, "beacon.png")
    finally:
        beacon.shutdown()
    assert hits == []


def send_the_demo_to_a_sandbox_workspace(page, url: str, workspace: str) -> int:
    """The demo file mapped to a 2.0 workspace and sent to the sandbox; how many were created."""
    page.goto(url)
    settled(page)
    click(page, "Try the demo file")
    click(page, "Next: map the columns")
    page.get_by_text("SEEN workspace (2.0)").click()
    settled(page)
    box = page.get_by_role("textbox", name="Workspace id")
    box.fill(workspace)
    box.press("Enter")
    settled(page)
    expect_text(page, "The other columns, as properties")
    click(page, "Next: check the rows")
    click(page, re.compile(r"^Next: send"))
    click(page, re.compile(r"^Send \d+ (person|people) to the sandbox"))
    expect_text(page, re.compile(r"^\d+ created"), timeout=30_000)
    return int(page.get_by_text(re.compile(r"^\d+ created")).first.inner_text().split()[0])


def test_the_demo_to_a_sandbox_workspace_then_its_video_links_in_the_workbook(tmp_path):
    with serve(tmp_path / "data") as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        send_the_demo_to_a_sandbox_workspace(page, url, "demo-ws")
        click(page, "Fetch video links")
        expect_text(page, re.compile(r"\d+ people with a video link"), timeout=30_000)
        settled(page, 800)
        heads = page.locator("[data-testid='stDataFrame'] th").all_text_contents()
        assert {"Person", "Film", "Thumbnail"} <= set(heads)  # each person's film in the app
        assert in_grid(page, "http://127.0.0.1")  # a link per person (shown as "Watch the film")
        page.mouse.move(0, 0)
        page.screenshot(path=tmp_path / "films.png")
        book = openpyxl.load_workbook(io.BytesIO(download(page, "Download your sheet with")))
        sheet = next(book[name] for name in book.sheetnames if "Video" in _header(book[name]))
        header = _header(sheet)
        links = [
            c.hyperlink.target
            for c in next(
                sheet.iter_cols(
                    min_col=header.index("Video") + 1, max_col=header.index("Video") + 1
                )
            )
            if c.hyperlink is not None
        ]
        assert links and all(link.startswith("http://127.0.0.1") for link in links)
        import urllib.request

        with urllib.request.urlopen(links[0], timeout=10) as answer:  # the link works
            assert answer.status == 200


def _header(sheet) -> list:
    for row in sheet.iter_rows(min_row=1, max_row=10, values_only=True):
        if "SEEN status" in row:
            return list(row)
    return []


def test_the_demo_sent_to_the_sandbox_shows_films_and_viewers_in_results(tmp_path):
    """No SEEN account: the sandbox plays SEEN and calls the app's own routes back."""
    with serve(tmp_path / "data") as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        created = send_the_demo_to_a_sandbox_workspace(page, url, "demo-films")

        # Within a minute: every film, and some viewers' events (the funnel is redrawn by itself).
        expect_text(page, f"{created} of {created} films ready", timeout=60_000)
        expect_text(page, re.compile(r"· [1-9]\d* opened"), timeout=30_000)
        from playwright.sync_api import expect

        expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(1)
        book = openpyxl.load_workbook(io.BytesIO(download(page, "Download your sheet with")))
        sheet = next(book[name] for name in book.sheetnames if "Film" in _header(book[name]))
        header = _header(sheet)
        films = [
            row[header.index("Film")]
            for row in sheet.iter_rows(values_only=True)
            if row[header.index("Film")] and str(row[header.index("Film")]).startswith("http")
        ]
        assert len(films) == created


# --- Check and fix, problem first ----------------------------------------------------------------


def grid_in_view(page, width: int) -> list[str]:
    """The columns the first grid draws (its accessible table lists those in its window), after
    checking that the grid lies inside a window `width` wide: nothing to scroll sideways to."""
    from playwright.sync_api import expect

    grid = page.get_by_test_id("stDataFrame").first
    grid.scroll_into_view_if_needed()
    heads = page.locator("[data-testid='stDataFrame'] th")
    expect(heads.filter(has_text="Why").first).to_be_attached(timeout=20_000)  # drawn
    page.wait_for_timeout(500)  # the rest of the header with it
    box = grid.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    return heads.all_text_contents()


def in_grid(page, text: str) -> bool:
    """Whether the first grid draws a cell with this text (its accessible table has it)."""
    from playwright.sync_api import expect

    cell = page.locator("[data-testid='stDataFrame'] td", has_text=text).first
    expect(cell).to_be_attached(timeout=20_000)
    return True


def test_a_new_user_fixes_the_demos_five_problems_at_1024_without_scrolling_sideways(tmp_path):
    with serve(tmp_path / "data") as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1024, "height": 768})
        page.goto(url)
        settled(page)
        click(page, "Try the demo file")
        click(page, "Next: map the columns")
        click(page, "Next: check the rows")
        expect_text(page, "10 rows · 5 ready · 5 need attention")
        drawn = grid_in_view(page, 1024)
        assert drawn[:4] == ["Row", "Why", "Cell to fix", "In column"]
        assert in_grid(page, "First name is empty.")  # the reason in words, in its first column
        fixes = [("Kari", ""), ("per@example.no", "per@@example"), ("1011", "1001"),
                 ("45860326", "12345"), ("45860327", "")]  # rows 6, 7, 9, 10, 11  # fmt: skip
        for at, (text, now) in enumerate(fixes):
            type_in_grid(page, 0, row=at, column=1, text=text, current=now)
            settled(page, 500)
            expect_text(page, re.compile(rf"10 rows · {6 + at} ready"))
        expect_text(page, "10 rows · 10 ready")
        assert in_grid(page, "✓ fixed")  # fixed rows stay shown, saying so
        page.screenshot(path=tmp_path / "fixed.png")


def test_the_big_files_invalid_phones_narrowed_and_fixed_at_1024(tmp_path):
    from builders import csv_bytes

    rows = [["Kundenr", "Fornavn", "Etternavn", "E-post", "Mobil"]]
    for n in range(100_000):
        phone = (
            "+474745860321" if n % 50 == 0 else ("12345" if n % 5 == 0 else f"4{n % 10_000:07d}")
        )
        rows.append([str(n), "Kari", "Nordmann", f"p{n}@example.no", phone])
    big = tmp_path / "stor.csv"
    big.write_bytes(csv_bytes(rows))
    with serve(tmp_path / "data") as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1024, "height": 768})
        page.goto(url)
        settled(page)
        upload(page, big)
        click(page, "Next: map the columns")
        name_the_campaign(page, "stor")
        click(page, "Next: check the rows")
        expect_text(page, re.compile(r"100,000 rows · 80,000 ready"), timeout=60_000)
        choose(page, "Show", "Phone number not valid — 20,000 rows")
        drawn = grid_in_view(page, 1024)
        assert drawn[:4] == ["Row", "Why", "Mobil — fix here", "Apply"]
        assert "Fornavn" in drawn  # who the person is, beside the cell to fix
        type_in_grid(page, 0, row=1, column=1, text="45860399", current="12345")  # row 7
        settled(page, 500)
        expect_text(page, re.compile(r"100,000 rows · 80,001 ready"))
        click(page, re.compile(r"^Phone number not valid: apply the suggested fix to all 2,000"))
        expect_text(page, re.compile(r"100,000 rows · 82,001 ready"), timeout=60_000)
        expect_text(
            page, re.compile(r"^Undo: Suggested fix: Phone number not valid \(2,000 rows\)")
        )
        page.screenshot(path=tmp_path / "phones.png")


def test_a_big_send_shows_its_bar_at_once_and_one_set_of_counts_throughout(tmp_path):
    from builders import csv_bytes
    from playwright.sync_api import expect

    rows = [["Kundenr", "Fornavn", "E-post"]]
    rows += [[str(n), "Kari", f"p{n}@example.no" if n % 4 else "bad@"] for n in range(30_000)]
    big = tmp_path / "mange.csv"
    big.write_bytes(csv_bytes(rows))
    with serve(tmp_path / "data") as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        settled(page)
        upload(page, big)
        click(page, "Next: map the columns")
        name_the_campaign(page, "mange")
        click(page, "Next: check the rows")
        click(page, "Next: send 22,500 people")
        page.get_by_role("button", name="Send 22,500 people to the sandbox").click()
        # The bar, before the send is even planned in the journal: no grey page meanwhile.
        expect(page.get_by_test_id("stProgress").first).to_be_visible(timeout=5_000)
        expect_text(page, re.compile(r"^22,500 people to campaign 'mange'"))
        sidebar = page.get_by_test_id("stSidebar")
        for _ in range(3):  # the same counts while the send runs
            ready = sidebar.get_by_test_id("stMetric").filter(has_text="Ready to send")
            expect(ready.get_by_test_id("stMetricValue")).to_have_text("22,500")
            expect_text(page, re.compile(r"of 22,500 done"))
            page.wait_for_timeout(300)
        expect_text(page, re.compile(r"^22,500 created"), timeout=120_000)
