"""SEEN's calls back, against `streamlit run app.py`: films and viewer events at a steady rate
while a person works through the demo in headless Chromium; then a 100,000-person send's
films and viewers drawn in the browser.

Run: .venv/bin/python bench/bench_callbacks.py [FILMS EVENTS RATE]
     (default 100000 300000 500: the goal's scale, about 14 minutes of calls)

- The calls: FILMS films (`/seen/v2/workspaces/bench-ws/film`) then EVENTS events (three per
  person: opened, played, watched), sent open-loop at RATE a second by a client in a process
  of its own (64 threads, keep-alive connections). Each call's answer time is from its send to
  its answer; the rate is calls answered ÷ the time from the first call to the last answer.
  Every answer must be 201.
- The person: the demo flow (upload the demo, map, check, send to the sandbox, Results) timed
  from the first click to Results, alone before the calls and again during them.
- Drawing: with all 100,000 films and 300,000 events stored (those the calls did not bring are
  put in the store directly), History is clicked in the app and timed until "100,000 of
  100,000 films ready" is on the page (its send's folded "Films and viewers"); best of three.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import ROOT, table

from tests.browser import CHROMIUM_ARGS, serve  # the tests' own

PEOPLE = 100_000
WORKSPACE = "bench-ws"
SECRET = "bench-callback-secret"
EVENTS = ("player-opened", "video-played", "video-watched")


def calls(films: int, events: int) -> list[tuple[str, bytes]]:
    out = []
    for n in range(films):
        body = {"id": f"p{n}", "player": f"https://play.example/p{n}", "thumbnail": "t"}
        out.append(("film", json.dumps(body).encode()))
    for n in range(events):
        person, event = divmod(n, len(EVENTS))
        body = {"event": EVENTS[event], "id": f"p{person}", "timestamp": f"2026-12-07T{n}"}
        out.append(("event", json.dumps(body).encode()))
    return out


def client(port: int, films: int, events: int, rate: float) -> None:
    """The load, in this process: prints {"answers": {status: n}, "latencies": [...], ...}."""
    import http.client

    work = calls(films, events)
    counter = iter(range(len(work)))
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    late: list[float] = []
    start = time.perf_counter() + 0.5

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"}
        mine, codes = [], {}
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            due = start + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            else:
                late.append(-wait)
            what, body = work[i]
            sent = time.perf_counter()
            try:
                connection.request("POST", f"/seen/v2/workspaces/{WORKSPACE}/{what}", body, headers)
                answer = connection.getresponse()
                answer.read()
                status = answer.status
            except OSError:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = 0
            mine.append(time.perf_counter() - sent)
            codes[status] = codes.get(status, 0) + 1
        with lock:
            latencies.extend(mine)
            for code, n in codes.items():
                statuses[code] = statuses.get(code, 0) + n

    threads = [threading.Thread(target=worker) for _ in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    print(json.dumps({
        "calls": len(work), "elapsed": elapsed, "answers": statuses,
        "p50": latencies[len(latencies) // 2], "p99": latencies[int(len(latencies) * 0.99)],
        "max": latencies[-1], "late_p99": sorted(late)[int(len(late) * 0.99)] if late else 0.0,
    }))  # fmt: skip


def prepare_send(data_dir: Path) -> int:
    """A 100,000-person send to the workspace, every person created (the local user's)."""
    from seen_core.statuses import Status
    from seen_core.store.journal import Journal, SendPlan

    people = [(n + 2, {"id": f"p{n}", "first_name": "Kari"}) for n in range(PEOPLE)]
    with Journal(data_dir / "journal.sqlite3") as journal:
        plan = SendPlan(
            "bench.xlsx", "b" * 64, f"workspace/{WORKSPACE}", "sandbox", 1000, people, {}, ""
        )
        job = journal.plan_job(plan)
        with journal.writing() as db:
            db.execute("UPDATE receivers SET status = ? WHERE job_id = ?", (Status.CREATED, job))
    return job


def fill_the_rest(data_dir: Path) -> None:
    """Every film and event the calls did not bring, straight into the store."""
    from seen_core.engagement import EngagementStore, default_store_path
    from seen_core.engagement.calls import Event, Film

    with EngagementStore(default_store_path(data_dir / "journal.sqlite3")) as store:
        futures = []
        target = f"workspace/{WORKSPACE}"
        for n in range(PEOPLE):
            film = Film(target, f"p{n}", f"https://play.example/p{n}", "t", None, "{}")
            futures.append(store.submit(film))
            for k, event in enumerate(EVENTS):
                stamp = f"2026-12-07T{n * 3 + k}"
                futures.append(store.submit(Event(target, f"p{n}", event, stamp, "{}")))
        for future in futures:
            future.result()


def demo_flow(url: str) -> float:
    """Seconds from the first click of the demo to Results, as a person clicks through."""
    from playwright.sync_api import expect, sync_playwright

    from tests.browser import settled

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        settled(page)
        start = time.perf_counter()
        page.get_by_role("button", name="Try the demo file").click()
        settled(page)
        page.get_by_role("button", name="Next: map the columns").click()
        settled(page)
        campaign = page.get_by_role("textbox", name="Campaign")
        campaign.fill(f"bench-{int(time.time())}")
        campaign.press("Enter")
        settled(page)
        page.get_by_role("button", name="Next: check the rows").click()
        settled(page)
        page.get_by_role("button", name=re.compile(r"^Next: send")).click()
        settled(page)
        page.get_by_role("button", name=re.compile(r"^Send \d+ (person|people) to")).click()
        expect(page.get_by_text(re.compile(r"^\d+ created")).first).to_be_visible(timeout=120_000)
        took = time.perf_counter() - start
        browser.close()
    return took


def history_drawn(url: str) -> float:
    """Seconds from clicking History (the app open) until the 100,000-person send's figures
    are there; the best of three."""
    from playwright.sync_api import expect, sync_playwright

    from tests.browser import settled

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        for _ in range(3):
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            settled(page)
            start = time.perf_counter()
            page.get_by_role("link", name="History").first.click()
            figures = page.get_by_text(re.compile(r"100,000 of 100,000 films ready"))
            expect(figures.first).to_be_attached(timeout=120_000)
            times.append(time.perf_counter() - start)
            page.close()
        browser.close()
    return min(times)


def main() -> None:
    if sys.argv[1:2] == ["--client"]:
        port, films, events, rate = sys.argv[2:6]
        client(int(port), int(films), int(events), float(rate))
        return
    films, events, rate = (int(a) for a in (sys.argv[1:4] or [PEOPLE, 3 * PEOPLE, 500]))
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        data.mkdir()
        job = prepare_send(data)
        secrets = Path(folder) / "secrets.toml"
        secrets.write_text(f'[seen.callbacks]\nsecret = "{SECRET}"\n', encoding="utf-8")
        with serve(data, secrets=secrets) as url:
            alone = demo_flow(url)
            port = url.rsplit(":", 1)[1]
            load = subprocess.Popen(
                [sys.executable, __file__, "--client", port, str(films), str(events), str(rate)],
                stdout=subprocess.PIPE, cwd=ROOT,
            )  # fmt: skip
            time.sleep(3)
            try:
                during: float | None = demo_flow(url)
            except Exception as error:  # the page did not answer in time: a figure too
                print(f"The demo flow during the calls did not finish: {error}"[:300])
                during = None
            out, _ = load.communicate()
            result = json.loads(out)
            fill_the_rest(data)
            drawn = history_drawn(url)
    answered = sum(result["answers"].values())
    per_second = answered / result["elapsed"]
    p50, p99, worst = (result[k] * 1000 for k in ("p50", "p99", "max"))
    rows = [
        (
            f"calls ({films:,} films + {events:,} events) answered a second",
            f"{per_second:.0f} (asked {rate})",
            "≥ 500",
            "met" if per_second >= 500 else "MISSED",
        ),
        (
            "answer time p50 / p99 / max",
            f"{p50:.1f} / {p99:.1f} / {worst:.0f} ms",
            "p99 ≤ 100 ms",
            "met" if p99 <= 100 else "MISSED",
        ),
        (
            "answers",
            json.dumps(result["answers"]),
            "all 201",
            "met" if set(result["answers"]) == {"201"} else "MISSED",
        ),
        (
            "demo flow to Results, alone / during the calls",
            f"{alone:.1f} / " + (f"{during:.1f} s" if during is not None else "did not finish"),
            "",
            "",
        ),
        (
            f"History of send #{job} (100,000 people, films, 300,000 events) drawn",
            f"{drawn:.2f} s",
            "< 2 s",
            "met" if drawn < 2 else "MISSED",
        ),
    ]
    print(table(rows))


if __name__ == "__main__":
    main()
