"""The sandbox plays SEEN after the send: films and some viewers' events reach the app's routes
over real HTTP, and a refused call is tried again as SEEN does (3 calls, 60 s apart)."""

from __future__ import annotations

import json
import time

import pytest
from builders import messy_workbook
from callback_server import served
from cli_runner import run_cli
from clocks import FakeClock
from starlette.applications import Starlette

from seen_core.engagement import CallbackSecrets, EngagementStore
from seen_core.engagement.routes import CallbackRoutes, lifespan_closing
from seen_core.sandbox import Sandbox
from seen_core.sandbox.callbacks import CallsBack, events_for

TOKEN = "tok-sandbox-calls-6a0f"
SECRET = "app-made-secret-91b2"


@pytest.fixture
def app_routes(tmp_path):
    """The app's routes over the store beside the journal; `secrets["now"]` may change."""
    store = EngagementStore(tmp_path / "data" / "journal.callbacks.sqlite3")
    secrets = {"now": CallbackSecrets(SECRET)}
    routes = CallbackRoutes(store, lambda: secrets["now"])
    app = Starlette(routes=routes.routes(), lifespan=lifespan_closing(store))
    with served(app) as url:
        yield url, store, secrets


def test_a_send_to_the_sandbox_brings_films_and_some_events_back(tmp_path, app_routes):
    url, store, _ = app_routes
    calls = CallsBack(url, lambda kind, name: SECRET, delay=0.2, event_gap=0.05)
    sheet = tmp_path / "kunder.xlsx"
    sheet.write_bytes(messy_workbook())
    people = [str(n) for n in range(40)]
    with Sandbox(token=TOKEN, calls_back=calls) as seen:
        sandbox_url = seen.url
        for target in (["--workspace", "ws-1"], ["--campaign", "vinter"]):
            done = run_cli(
                "send", sheet, *target, "--base-url", seen.url, "--rate", "0",
                env={"SEEN_DATA_DIR": str(tmp_path / "data"), "SEEN_API_TOKEN": TOKEN},
            )  # fmt: skip
            assert done.returncode == 1, done.stderr
        for person in people:  # more people, straight to 2.0's Create
            body = json.dumps({"id": person, "first_name": "Kari"}).encode()
            seen_post(seen.url, "/v1/projects/p-9/data", body)
        deadline = time.monotonic() + 30
        while calls.pending() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)  # the last call answered

    assert calls.pending() == 0
    assert {status for *_, status in calls.log} == {201}
    ws = store.facts("workspace/ws-1")
    assert ws["100"].has_film and ws["100"].film.startswith(sandbox_url)
    assert store.facts("vinter")["100"].has_film  # the v1 callback, by customer_id
    facts = store.facts("project/p-9")
    assert sorted(facts) == sorted(people)
    opened = {p for p in people if facts[p].opened}
    expected = {p for p in people if "player-opened" in events_for(p, "project/p-9")}
    assert opened == expected and 0 < len(opened) < len(people)  # some, not all
    assert {p for p in people if facts[p].watched} <= opened


def seen_post(base: str, path: str, body: bytes) -> None:
    import urllib.request

    request = urllib.request.Request(
        base + path, data=body, method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 201


def test_a_refused_call_is_made_three_times_60_seconds_apart_then_given_up(app_routes):
    url, store, secrets = app_routes
    clock = FakeClock()
    secrets["now"] = CallbackSecrets("not-the-one-the-sandbox-has")
    calls = CallsBack(url, lambda kind, name: SECRET, clock=clock, sleep=clock.sleep)

    calls.created("campaign", "vinter", [{"customer_id": "7"}], "http://sandbox.invalid")
    start = clock()
    calls.run_until_done()

    assert [(round(t - start), attempt, status) for t, _, attempt, status in calls.log] == [
        (3, 1, 401),
        (63, 2, 401),
        (123, 3, 401),
    ]
    assert store.counts()["films"] == 0


def test_a_call_refused_once_is_stored_by_the_retry_once(app_routes):
    url, store, secrets = app_routes
    clock = FakeClock()
    secrets["now"] = CallbackSecrets()  # no secret yet: 404

    def sleep(seconds: float) -> None:  # the admin puts the secret in place meanwhile
        if calls.log:
            secrets["now"] = CallbackSecrets(SECRET)
        clock.sleep(seconds)

    calls = CallsBack(url, lambda kind, name: SECRET, clock=clock, sleep=sleep)
    calls.created("workspace", "ws-1", [{"id": "5"}], "http://sandbox.invalid")
    calls.run_until_done()

    film_calls = [(attempt, status) for _, path, attempt, status in calls.log if "film" in path]
    assert film_calls == [(1, 404), (2, 201)]
    assert store.counts()["films"] == 1
