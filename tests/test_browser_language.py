"""The app in a real browser in each language: a Norwegian browser reads Norwegian, an English
one English, and with the pseudo-language (every message wrapped in ⟦…⟧) no text on any step
is left unwrapped, so no message escaped translation. The file picker's own words come from
Streamlit and stay in English."""

from __future__ import annotations

import os
import re
from pathlib import Path

import openpyxl
import pytest
from browser import CHROMIUM, REPO, chromium, serve, settled
from test_browser import click, expect_text, one_browser_test_at_a_time  # noqa: F401

pytestmark = pytest.mark.browser

if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)

DEMO = REPO / "demo" / "demo-receivers.xlsx"
# The text the app shows in the page and the sidebar (Streamlit's own toolbar left out), as a
# person sees it: the elements' rendered text, hidden ones excluded.
VISIBLE_TEXT = """() => {
  const parts = [];
  const roots = "[data-testid='stMain'], [data-testid='stSidebar']";
  for (const root of document.querySelectorAll(roots)) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const element = node.parentElement;
      if (!node.textContent.trim() || !element || !element.checkVisibility()) continue;
      // Streamlit's own words in the file picker ("Drag and drop", "Upload"): not ours to set
      if (element.closest("[data-testid='stFileUploaderDropzone']")) continue;
      if (element.closest("[data-testid='stIconMaterial']")) continue;  // an icon's name
      parts.push(node.textContent);
    }
  }
  return parts.join("\\n");
}"""
# The text of every grid on the page (Streamlit draws a grid on a canvas; its accessible table,
# hidden, holds the headers and the cells in its window): the problem-first grid's reasons and
# headers, the films table, the people table beside the funnel.
GRID_TEXT = """() => [...document.querySelectorAll(
  "[data-testid='stDataFrame'] th, [data-testid='stDataFrame'] td")]
  .map((cell) => cell.textContent).join("\\n")"""
# Words that are not messages: names, codes and units that read the same in every language.
NOT_MESSAGES = {
    "SEEN", "Sender", "API", "v1", "2.0", "UTC", "CSV", "XLSX", "JSON", "MB", "Norsk",
    "English", "demo", "campaign", "receivers", "xlsx", "+47",
}  # fmt: skip


def words_of_the_demo_file() -> set[str]:
    """Everything the demo sheet holds (headers, cells, its name), word by word: user data."""
    book = openpyxl.load_workbook(DEMO, read_only=True)
    words = set(re.split(r"[^\w@.+]+", DEMO.name))
    for sheet in book.worksheets:
        words.add(sheet.title)
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if value is not None:
                    parts = [w for w in re.split(r"[\s,;:()]+", str(value)) if w]
                    words.update(parts)  # and their pieces ("E-post": "E", "post"), as split
                    words.update(p for w in parts for p in re.split(r"[-–—/]+", w) if p)
    return words


def unwrapped(page, allowed: set[str], script: str = VISIBLE_TEXT) -> list[str]:
    """The words on the page (or in its grids, with GRID_TEXT) outside every ⟦…⟧ that are
    neither numbers, links nor user data."""
    text = re.sub(r"https?://\S+", " ", page.evaluate(script))
    while True:  # innermost first: a message can hold another (a status in a count)
        inner = re.sub(r"⟦[^⟦⟧]*⟧", " ", text)
        if inner == text:
            break
        text = inner
    words = re.split(r"[\s,;:·→()'\"«»*#/\[\]|=…–—-]+", text)
    return sorted(
        {
            w
            for w in words
            if w
            and not re.fullmatch(r"[\d.,%+×✓⚠]+|#?\d+", w)
            and w not in allowed
            and w.strip(".") not in allowed
        }
    )


def test_every_step_in_the_pseudo_language_shows_only_translated_text(tmp_path):
    allowed = NOT_MESSAGES | words_of_the_demo_file() | {"demo-ws", "ws"}  # the workspace typed
    cells = allowed | {"true", "false"}  # a grid's ticks
    seen: dict[str, list[str]] = {}
    with (
        serve(tmp_path / "data", env={"SEEN_LANGUAGE": "xx"}) as url,
        chromium() as browser,
    ):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        settled(page)
        seen["upload, empty"] = unwrapped(page, allowed)
        click(page, "Try the demo file")
        expect_text(page, re.compile(r"Read \d+ people from demo-receivers\.xlsx"))
        settled(page, 800)
        seen["upload"] = unwrapped(page, allowed)
        click(page, "Next: map the columns")
        expect_text(page, "Which column feeds which field")
        settled(page, 800)
        seen["map"] = unwrapped(page, allowed)
        page.get_by_text("SEEN workspace (2.0)").click()  # a 2.0 send: Results shows the films
        settled(page)
        workspace = page.get_by_role("textbox", name="Workspace id")
        workspace.fill("demo-ws")
        workspace.press("Enter")
        settled(page, 800)
        seen["map, a workspace"] = unwrapped(page, allowed)
        click(page, "Next: check the rows")
        expect_text(page, "Fix many rows at once")
        page.locator("[data-testid='stDataFrame'] th").first.wait_for(state="attached")
        settled(page, 800)
        seen["check"] = unwrapped(page, allowed)
        seen["check, the grid"] = unwrapped(page, cells, GRID_TEXT)
        click(page, re.compile(r"Next: send"))
        expect_text(page, "nothing reaches SEEN")
        settled(page, 800)
        seen["send"] = unwrapped(page, allowed)
        click(page, re.compile(r"Send \d+ (person|people) to"))
        expect_text(page, re.compile(r"\d+ created"), timeout=30_000)
        settled(page, 800)
        seen["results"] = unwrapped(page, allowed)
        click(page, "Fetch video links")
        expect_text(page, re.compile(r"\d+ people with a video link"), timeout=30_000)
        expect_text(page, re.compile(r"[1-9]\d* of \d+ films ready"), timeout=60_000)
        settled(page, 800)
        seen["results, films and viewers"] = unwrapped(page, allowed)
        seen["results, the films and the people"] = unwrapped(page, cells, GRID_TEXT)
    assert {step: words for step, words in seen.items() if words} == {}


@pytest.mark.parametrize(
    ("locale", "says", "never"),
    [
        ("nb-NO", ["Last opp arket ditt med personer", "Prøv eksempelfilen"], "Upload your"),
        ("en-US", ["Upload your sheet of people", "Try the demo file"], "Last opp"),
    ],
)
def test_the_browsers_language_chooses_the_apps(tmp_path, locale, says, never):
    with serve(tmp_path / "data") as url, chromium() as browser:
        page = browser.new_page(locale=locale)
        page.goto(url)
        settled(page)
        for text in says:
            expect_text(page, text)
        assert never not in page.evaluate(VISIBLE_TEXT)


def test_a_norwegian_browser_walks_every_step_in_norwegian(tmp_path):
    """From upload to results; with SEEN_SCREENSHOTS set, each step is kept as nb-*.png there
    (docs/screenshots in the repository)."""
    out = Path(os.environ.get("SEEN_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    with serve(tmp_path / "data") as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="nb-NO")
        page.goto(url)
        settled(page)
        click(page, "Prøv eksempelfilen")
        expect_text(page, re.compile(r"Leste \d+ personer fra demo-receivers\.xlsx"))
        settled(page, 800)
        page.screenshot(path=out / "nb-1-upload.png")
        click(page, "Neste: koble kolonnene")
        expect_text(page, "Hvilken kolonne som går til hvilket felt")
        settled(page, 800)
        page.screenshot(path=out / "nb-2-map.png")
        click(page, "Neste: kontroller radene")
        expect_text(page, "Rett mange rader på en gang")
        settled(page, 800)
        page.mouse.move(0, 0)
        page.screenshot(path=out / "nb-3-check.png")
        click(page, re.compile(r"^Neste: send"))
        expect_text(page, "ingenting når SEEN")
        settled(page, 800)
        page.screenshot(path=out / "nb-4-send.png")
        click(page, re.compile(r"^Send \d+ personer? til testmiljøet"))
        expect_text(page, re.compile(r"^\d+ opprettet · \d+ trenger oppfølging"), timeout=30_000)
        # the sandbox plays SEEN and calls back: films and viewers, in Norwegian
        expect_text(page, re.compile(r"[1-9]\d* av \d+ filmer klare"), timeout=60_000)
        settled(page, 800)
        page.mouse.move(0, 0)  # no grid toolbar or tooltip in the picture
        page.screenshot(path=out / "nb-5-results.png")
        assert "Upload" not in page.evaluate(VISIBLE_TEXT)
