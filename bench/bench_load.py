"""Many people on one server at once: small flows (the demo, one cell fixed, sent to the
sandbox, its results) and uploads of the 100,000-row messy workbook, each person in a headless
Chromium of their own, against one `streamlit run app.py` on 127.0.0.1 with its own data folder.
Nobody signs in, so all of them are the same local user, as on a server without sign-in; the
uploads all name one campaign, so they share its remembered mapping.

Run: .venv/bin/python bench/bench_load.py [--small 8] [--big 4] [--no-idle-wait]
(needs Debian's /usr/bin/chromium; about four minutes on two cores)

What it checks, and prints:
- nothing lost: every send created its 6 people; every big upload's check shows the ready count
  of the sheet's own suggested mapping (never "No column is mapped to first_name"); every mapping
  remembered for a target maps first_name, only to columns of the sheet, and is the one used;
- no click dropped: after each click the next page shows within CLICK_BOUND seconds (a click
  that does not is counted, and clicked again so that the flow can go on), and every small flow
  reaches Results within FLOW_BOUND seconds; a Results page that the send moved on to but the
  browser shows blank is counted apart (and reloaded, as a person would);
- the server's memory (RSS of the `streamlit run` process; its reader processes apart): idle
  before, the peak, idle once the browsers are closed, and idle once their sessions have ended
  (`server.disconnectedSessionTTL` after the last browser left).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from common import OUT, ROOT, messy_workbook

from tests.browser import CHROMIUM_ARGS, free_port, healthy  # the tests' own

CLICK_BOUND = 60.0  # seconds for a click's next page to show; slower counts as a lost click
FLOW_BOUND = 300.0  # seconds for a small flow from the first page to Results
BIG_CAMPAIGN = "load-100k"
LOG = OUT / "load-server.log"
SEP = r"[,\u00a0\u202f ]?"  # how 100,000 is written


def rss_mb(pid: int) -> float:
    """Resident memory of one process, in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children_rss_mb(pid: int) -> float:
    """Resident memory of the server's child processes (the upload readers), in MB."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids = task.read_text().split()
        except OSError:
            continue
        for kid in kids:
            total += rss_mb(int(kid)) + children_rss_mb(int(kid))
    return total


def session_ttl() -> float:
    """`server.disconnectedSessionTTL` as the app is configured (Streamlit's default 120 s)."""
    config = ROOT / ".streamlit" / "config.toml"
    try:
        return float(tomllib.loads(config.read_text())["server"]["disconnectedSessionTTL"])
    except (OSError, KeyError, ValueError):
        return 120.0


@dataclass
class Outcome:
    name: str
    seconds: float = 0.0
    lost_clicks: list[str] = field(default_factory=list)
    blank_results: int = 0  # Results drawn by the server, blank in the browser until a reload
    created: int | None = None  # small flows: the people the send created
    summary: str = ""  # big flows: the check page's summary line
    failure: str = ""


async def settled(page, settle_ms: int = 300) -> None:
    """Connected, and no script running (Streamlit's own e2e selectors)."""
    from playwright.async_api import expect

    await page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(
        state="attached", timeout=120_000
    )
    await page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=120_000
    )
    await expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=120_000)
    await page.wait_for_timeout(settle_ms)


async def click_on(page, outcome: Outcome, button, shows, step: str) -> None:
    """Click `button` and wait for `shows`; a click after which it does not show within
    CLICK_BOUND is counted as lost and made again (twice at most)."""
    from playwright.async_api import expect

    for attempt in range(3):
        await button.click(timeout=120_000)
        try:
            await expect(shows).to_be_visible(timeout=CLICK_BOUND * 1000)
            return
        except AssertionError:
            outcome.lost_clicks.append(step)
            late = f"nothing {CLICK_BOUND:.0f} s after click {attempt + 1}"
            print(f"  {outcome.name}: {step}: {late}")
    raise AssertionError(f"{step}: the next page never showed")


async def send_and_see_results(page, outcome: Outcome) -> None:
    """Press Send; the Results page follows when the send ends. When it does not show (the
    send made, the page left blank), reload it as a person would, and count it."""
    from playwright.async_api import expect

    results = page.get_by_text(re.compile(r"^\d+ created")).first
    await page.get_by_role("button", name="Send 6 people to the sandbox").click(timeout=120_000)
    try:
        await expect(results).to_be_visible(timeout=CLICK_BOUND * 1000)
    except AssertionError:
        outcome.blank_results += 1
        print(f"  {outcome.name}: no Results {CLICK_BOUND:.0f} s after Send; reloaded")
        await page.reload(timeout=120_000)
        await expect(results).to_be_visible(timeout=CLICK_BOUND * 1000)


async def type_in_grid(page, row: int, column: int, text: str, current: str) -> None:
    """Type into a cell of the fix grid (a canvas), as tests/browser.py does."""
    editor = page.locator("textarea.gdg-input")
    for _ in range(4):
        await settled(page)
        grid = page.get_by_test_id("stDataFrame").first
        await grid.scroll_into_view_if_needed()
        box = await grid.bounding_box()
        await page.mouse.click(box["x"] + 150, box["y"] + 35 + 17)
        for _ in range(row):
            await page.keyboard.press("ArrowDown")
        for _ in range(column):
            await page.keyboard.press("ArrowRight")
        await page.keyboard.press("Enter")
        try:
            await editor.wait_for(state="visible", timeout=15_000)
            if await editor.input_value() != current:
                raise LookupError("the editor opened on another cell")
        except Exception:
            await page.keyboard.press("Escape")
            continue
        await page.keyboard.type(text, delay=30)
        await page.keyboard.press("Enter")
        await editor.wait_for(state="hidden", timeout=15_000)
        return
    raise AssertionError("The grid's cell editor never opened")


async def name_campaign(page, outcome: Outcome, campaign: str) -> None:
    """Type the campaign and press Enter, as a person does, and see that it stays typed (text
    typed while the page is busy can be wiped by the page's answer; it counts as lost)."""
    from playwright.async_api import expect

    box = page.get_by_role("textbox", name="Campaign")
    for _ in range(3):
        await box.fill(campaign)
        await box.press("Enter")
        await settled(page)
        try:
            await expect(box).to_have_value(campaign, timeout=5_000)
            return
        except AssertionError:
            outcome.lost_clicks.append("campaign typed")
    raise AssertionError("the campaign typed never stayed")


async def small_flow(playwright, url: str, index: int, run: str) -> Outcome:
    """The demo, to the sandbox: 10 people, 5 ready; row 6's first name typed in, so 6 go."""
    from playwright.async_api import expect

    outcome = Outcome(f"small-{index}")
    browser = await playwright.chromium.launch(
        executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
    )
    start = time.monotonic()
    try:
        page = await browser.new_page(viewport={"width": 1400, "height": 1000})
        await page.goto(url, timeout=120_000)
        text = page.get_by_text

        def button(name: str):
            return page.get_by_role("button", name=name)

        read = text(re.compile(r"Read 10 people from demo-receivers")).first
        await click_on(page, outcome, button("Try the demo file"), read, "demo")
        mapping = text("Which column feeds which field").first
        await click_on(page, outcome, button("Next: map the columns"), mapping, "to map")
        await name_campaign(page, outcome, f"{run}-small-{index}")  # no send is a repeat
        fixes = text("Fix many rows at once").first
        await click_on(page, outcome, button("Next: check the rows"), fixes, "to check")
        await type_in_grid(page, row=0, column=1, text="Kari", current="")  # row 6's first name
        await expect(text(re.compile(r"10 rows · 6 ready")).first).to_be_visible(timeout=120_000)
        sandbox = text("nothing reaches SEEN").first
        await click_on(page, outcome, button("Next: send 6 people"), sandbox, "to send")
        await send_and_see_results(page, outcome)
        for _ in range(3):  # the page may be drawn again under the reading
            try:
                line = await text(re.compile(r"^\d+ created")).first.inner_text(timeout=10_000)
                outcome.created = int(line.split()[0])
                break
            except Exception:
                await settled(page)
    except Exception as error:  # the flow is reported, the others go on
        outcome.failure = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
        await where_it_stopped(page, outcome)
    finally:
        outcome.seconds = time.monotonic() - start
        await browser.close()
    return outcome


async def where_it_stopped(page, outcome: Outcome) -> None:
    """The page a failed flow stopped on, in its failure, and a screenshot in bench/out/."""
    where = page.url.split("?")[0].rsplit("/", 1)[-1] or "upload"
    try:
        heading = await page.locator("h1").first.inner_text(timeout=5_000)
    except Exception:
        heading = "?"
    outcome.failure += f" (on {where}: {heading!r})"
    with contextlib.suppress(Exception):
        await page.screenshot(path=str(OUT / f"load-{outcome.name}.png"), timeout=10_000)


async def big_flow(playwright, url: str, index: int, workbook: Path) -> Outcome:
    """The 100,000-row messy workbook, uploaded, mapped as suggested, to its check page."""
    from playwright.async_api import expect

    outcome = Outcome(f"big-{index}")
    browser = await playwright.chromium.launch(
        executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
    )
    start = time.monotonic()
    try:
        page = await browser.new_page(viewport={"width": 1400, "height": 1000})
        await page.goto(url, timeout=120_000)
        uploader = page.get_by_test_id("stFileUploaderDropzoneInput")
        await expect(uploader).to_be_attached(timeout=120_000)
        await uploader.set_input_files(str(workbook))
        read = page.get_by_text(re.compile(rf"Read 100{SEP}000 people")).first
        await expect(read).to_be_visible(timeout=240_000)
        to_map = page.get_by_role("button", name="Next: map the columns")
        mapping = page.get_by_text("Which column feeds which field").first
        await click_on(page, outcome, to_map, mapping, "to map")
        await name_campaign(page, outcome, BIG_CAMPAIGN)
        to_check = page.get_by_role("button", name="Next: check the rows")
        await expect(to_check).to_be_enabled(timeout=120_000)
        summary = page.get_by_text(re.compile(rf"^100{SEP}000 rows · ")).first
        await click_on(page, outcome, to_check, summary, "to check")
        await expect(page.get_by_text(re.compile(r"\bready\b")).first).to_be_visible(
            timeout=120_000
        )
        outcome.summary = " ".join((await summary.inner_text()).split())
        if await page.get_by_text("No column is mapped").count():
            outcome.failure = "the check page says no column is mapped to first_name"
    except Exception as error:
        outcome.failure = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
        await where_it_stopped(page, outcome)
    finally:
        outcome.seconds = time.monotonic() - start
        await browser.close()
    return outcome


async def sample_rss(pid: int, peaks: dict[str, float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peaks["server"] = max(peaks.get("server", 0.0), rss_mb(pid))
        peaks["total"] = max(peaks.get("total", 0.0), rss_mb(pid) + children_rss_mb(pid))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


async def drive(url: str, pid: int, small: int, big: int, workbook: Path, run: str):
    from playwright.async_api import async_playwright

    peaks: dict[str, float] = {}
    stop = asyncio.Event()
    async with async_playwright() as p:
        sampler = asyncio.create_task(sample_rss(pid, peaks, stop))
        flows = [small_flow(p, url, i, run) for i in range(small)]
        flows += [big_flow(p, url, i, workbook) for i in range(big)]
        started = time.monotonic()
        outcomes = await asyncio.gather(*flows)
        wall = time.monotonic() - started
        stop.set()
        await sampler
    return outcomes, peaks, wall


def expected_big_summary(workbook: Path) -> str:
    """The check page's summary for the workbook with its suggested mapping, worked out here."""
    sys.path.insert(0, str(ROOT))
    from seen_core import flow
    from seen_core.wording import count, number

    sheet = flow.read(workbook.name, workbook.read_bytes())
    options = flow.check_options(target=BIG_CAMPAIGN)
    checked = flow.check(sheet, flow.mapping_for(sheet), options, target=BIG_CAMPAIGN)
    counts = checked.counts
    parts = [count(counts["rows"], "row"), f"{number(counts['ready'])} ready"]
    if counts["attention"]:
        parts.append(f"{number(counts['attention'])} need attention")
    return " · ".join(parts), list(sheet.columns)


def remembered(data_dir: Path) -> tuple[dict[str, dict], list[tuple]]:
    """The mappings remembered per target, and every send: (campaign, state, created rows)."""
    with sqlite3.connect(f"file:{data_dir / 'journal.sqlite3'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT target, mapping FROM saved_mappings").fetchall()
        sends = db.execute(
            "SELECT campaign, state, (SELECT count(*) FROM receivers r WHERE r.job_id = j.id"
            " AND r.status = 'created') FROM jobs j ORDER BY id"
        ).fetchall()
    return {target: json.loads(mapping) for target, mapping in rows}, sends


def mapping_faults(target: str, mapping: dict, columns: list[str]) -> list[str]:
    fields = {k: v for k, v in mapping.items() if k != "extra_args" and v}
    used = [*fields.values(), *(mapping.get("extra_args") or {}).values()]
    faults = []
    if not fields.get("first_name"):
        faults.append(f"{target}: remembered without first_name: {mapping}")
    missing = [c for c in used if c not in columns]
    if missing:
        faults.append(f"{target}: remembers columns the sheet does not have: {missing}")
    return faults


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=8, help="small flows (the demo), 8")
    parser.add_argument("--big", type=int, default=4, help="100,000-row uploads, 4")
    parser.add_argument(
        "--no-idle-wait", action="store_true", help="do not wait for the sessions to end"
    )
    args = parser.parse_args()
    workbook = messy_workbook()
    expected, big_columns = expected_big_summary(workbook)
    demo_columns = None
    run = f"load{int(time.time()) % 100000}"

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    figures: list[tuple[str, str]] = []
    faults: list[str] = []
    OUT.mkdir(parents=True, exist_ok=True)
    # The server's log goes to a file: a pipe nobody reads fills up, and then the server stops
    # (its event loop writes the log too).
    with tempfile.TemporaryDirectory() as data_dir, LOG.open("w") as log:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEEN_")}
        env["SEEN_DATA_DIR"] = data_dir
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not healthy(url):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not start; its log: {LOG}")
                time.sleep(0.2)
            # One page drawn, then quiet: the server as it idles once it has served anyone.
            urllib.request.urlopen(url, timeout=10).read()
            asyncio.run(warm_up(url))
            time.sleep(5)
            before = rss_mb(server.pid)
            figures.append(("server RSS, idle before", f"{before:.0f} MB"))
            print(f"load average {os.getloadavg()[0]:.1f}; server idle at {before:.0f} MB; "
                  f"{args.small} small flows and {args.big} 100k uploads at once…")  # fmt: skip
            outcomes, peaks, wall = asyncio.run(
                drive(url, server.pid, args.small, args.big, workbook, run)
            )
            figures.append(("all flows, wall", f"{wall:.0f} s"))
            figures.append(("server RSS, peak", f"{peaks.get('server', 0):.0f} MB"))
            figures.append(("server + readers RSS, peak", f"{peaks.get('total', 0):.0f} MB"))
            time.sleep(15)
            figures.append(("server RSS, 15 s after the browsers closed",
                            f"{rss_mb(server.pid):.0f} MB"))  # fmt: skip
            if not args.no_idle_wait:
                ttl = session_ttl()
                time.sleep(ttl + 20)
                figures.append((f"server RSS, idle, sessions ended ({ttl:.0f} s TTL + 20 s)",
                                f"{rss_mb(server.pid):.0f} MB"))  # fmt: skip
                figures.append(("readers RSS then", f"{children_rss_mb(server.pid):.0f} MB"))

            saved, sends = remembered(Path(data_dir))
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    demo_columns = demo_sheet_columns()
    for outcome in outcomes:
        note = outcome.failure or (
            f"{outcome.created} created" if outcome.created is not None else outcome.summary
        )
        lost = f"; lost clicks: {', '.join(outcome.lost_clicks)}" if outcome.lost_clicks else ""
        if outcome.blank_results:
            lost += "; Results blank until reloaded"
            faults.append(f"{outcome.name}: Results blank after the send until reloaded")
        if outcome.lost_clicks:
            faults.append(f"{outcome.name}: lost clicks: {', '.join(outcome.lost_clicks)}")
        print(f"  {outcome.name}: {outcome.seconds:.0f} s, {note}{lost}")
        if outcome.failure:
            faults.append(f"{outcome.name}: {outcome.failure}")
        if outcome.name.startswith("small"):
            if outcome.created != 6:
                faults.append(f"{outcome.name}: created {outcome.created}, not 6")
            if outcome.seconds > FLOW_BOUND:
                faults.append(f"{outcome.name}: {outcome.seconds:.0f} s to Results")
        elif not outcome.failure and outcome.summary != expected:
            faults.append(f"{outcome.name}: the check says {outcome.summary!r}, not {expected!r}")
    for target, mapping in saved.items():
        faults += mapping_faults(
            target, mapping, big_columns if target == BIG_CAMPAIGN else demo_columns
        )
    wanted = {f"{run}-small-{i}" for i in range(args.small)}
    for campaign, state, created in sends:
        if campaign not in wanted or state != "finished" or created != 6:
            faults.append(f"a send to {campaign}: {state}, {created} created")
    if len(sends) != args.small:
        faults.append(f"{len(sends)} sends made, not {args.small}")
    lost = sum(len(o.lost_clicks) for o in outcomes)
    figures.append(("clicks lost", str(lost)))
    blank = sum(o.blank_results for o in outcomes)
    figures.append(("Results left blank after a send (shown on reload)", str(blank)))
    figures.append(("sends with all 6 created",
                    f"{sum(o.created == 6 for o in outcomes)} of {args.small}"))  # fmt: skip
    figures.append(("100k checks as expected",
                    f"{sum(o.summary == expected for o in outcomes)} of {args.big}"))  # fmt: skip
    figures.append(("mappings remembered, faulty",
                    f"{len(saved)}, {sum(1 for f in faults if 'remember' in f)}"))  # fmt: skip
    slowest = max((o.seconds for o in outcomes if o.name.startswith("small")), default=0)
    figures.append(("slowest small flow to Results", f"{slowest:.0f} s"))
    width = max(len(name) for name, _ in figures)
    print()
    for name, value in figures:
        print(f"{name.ljust(width)}  {value}")
    for fault in faults:
        print(f"FAULT {fault}")
    return 1 if faults else 0


async def warm_up(url: str) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        page = await browser.new_page()
        await page.goto(url, timeout=120_000)
        await settled(page)
        await browser.close()


def demo_sheet_columns() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from seen_core import flow

    demo = ROOT / "demo" / "demo-receivers.xlsx"
    return list(flow.read(demo.name, demo.read_bytes()).columns)


if __name__ == "__main__":
    sys.exit(main())
