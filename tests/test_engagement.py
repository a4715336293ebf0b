"""SEEN's callbacks and viewer events over real HTTP: stored once, for the right user's people,
refused without the secret, never lost in a burst."""

from __future__ import annotations

import base64
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from callback_server import served
from starlette.applications import Starlette

from seen_core.engagement import (
    CallbackSecrets,
    EngagementStore,
    engagement_for_job,
    engagement_for_target,
)
from seen_core.engagement.figures import unmatched_by_target
from seen_core.engagement.routes import CallbackRoutes, lifespan_closing
from seen_core.errors import ConfigurationError
from seen_core.statuses import Status
from seen_core.store.journal import Journal, SendPlan

SHARED = "shared-secret-7f3a"
SPRING = "spring-own-secret-19c2"
SECRETS = {
    "seen": {
        "callbacks": {
            "secret": SHARED,
            "targets": {"campaign/spring": SPRING},
        }
    }
}
ALICE, BOB = "alice@example.no", "bob@example.no"


def created_send(journal: Journal, user: str, target: str, ids: list[str], sha: str = "a") -> int:
    """A send of `user` to `target` in which SEEN created a person for each id (rows 2…)."""
    key = "customer_id" if "/" not in target else "id"
    people = [
        (row, {key: person, "first_name": f"P{person}"}) for row, person in enumerate(ids, start=2)
    ]
    job = journal.plan_job(
        SendPlan("people.xlsx", sha * 64, target, "sandbox", 100, people, {}, user), force=True
    )
    with journal.writing() as db:
        db.execute("UPDATE receivers SET status = ? WHERE job_id = ?", (Status.CREATED, job))
    return job


@pytest.fixture
def journal(tmp_path: Path):
    with Journal(tmp_path / "journal.sqlite3") as opened:
        yield opened


@pytest.fixture
def store(tmp_path: Path):
    opened = EngagementStore(tmp_path / "journal.callbacks.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def url(store):
    routes = CallbackRoutes(store, CallbackSecrets.from_config(SECRETS))
    app = Starlette(routes=routes.routes(), lifespan=lifespan_closing(store))
    with served(app) as address:
        yield address


def token(secret: str) -> dict[str, str]:
    return {"Authorization": f"Token {secret}"}


def v1_film(person: str, slug: str = "spring", **more) -> dict:
    return {
        "customer_id": person,
        "campaign_slug": slug,
        "landing_page_url": f"https://seen.example/{slug}/{person}",
        "video_url": f"https://cdn.seen.example/{person}.m3u8",
        "thumbnail_url": f"https://cdn.seen.example/{person}.jpg",
        "email_thumbnail_url": f"https://cdn.seen.example/{person}-mail.gif",
        **more,
    }


def test_a_v1_film_and_2_0_film_and_events_show_in_the_senders_figures(url, journal, store):
    spring = created_send(journal, ALICE, "spring", ["1", "2", "3"])
    ws = created_send(journal, ALICE, "workspace/ws-1", ["a", "b"], sha="b")

    answer = requests.post(f"{url}/seen/v1/callback", json=v1_film("2"), headers=token(SPRING))
    assert answer.status_code == 201 and answer.json() == {"stored": True, "new": True}
    basic = base64.b64encode(f"seen:{SHARED}".encode()).decode()
    film = {
        "id": "b",
        "player": "https://play.seen.example/b",
        "thumbnail": "t",
        "email_thumbnail": "e",
    }
    answer = requests.post(
        f"{url}/seen/v2/workspaces/ws-1/film",
        json=film,
        headers={"Authorization": f"Basic {basic}"},
    )
    assert answer.status_code == 201
    for event in ("player-opened", "video-played", "video-watched", "cta-clicked"):
        body = {"event": event, "id": "b", "timestamp": "2026-12-07T10:00:00Z"}
        answer = requests.post(
            f"{url}/seen/v2/workspaces/ws-1/event",
            json=body,
            headers={"Authorization": f"Bearer {SHARED}"},
        )
        assert answer.status_code == 201, answer.text

    mine = engagement_for_job(journal, store, spring)
    assert (mine.people, mine.films, mine.opened) == (3, 1, 0)
    assert mine.by_row()[3].film == "https://seen.example/spring/2"
    assert mine.by_row()[2].film is None
    theirs = engagement_for_job(journal, store, ws)
    assert [theirs.films, theirs.opened, theirs.played, theirs.watched, theirs.clicked] == [1] * 5
    assert theirs.by_row()[3].film == "https://play.seen.example/b"


def test_seens_retries_store_one_film_and_repeated_events_once(url, journal, store):
    job = created_send(journal, ALICE, "spring", ["7"])
    body = v1_film("7", extra_field={"kept": True})
    answers = [
        requests.post(f"{url}/seen/v1/callback", json=body, headers=token(SPRING)).status_code
        for _ in range(3)  # SEEN: the first call and two retries
    ]
    event = {"event": "player-opened", "id": "x", "timestamp": "2026-12-07T10:00:00Z"}
    repeats = [
        requests.post(f"{url}/seen/v2/projects/p-9/event", json=event, headers=token(SHARED))
        for _ in range(2)
    ]

    assert answers == [201, 200, 200]
    assert [r.status_code for r in repeats] == [201, 200]
    assert store.counts() == {"films": 1, "events": 1}
    figures = engagement_for_job(journal, store, job)
    assert figures.films == 1
    (raw,) = store.raw_calls("spring", "7")
    assert json.loads(raw)["extra_field"] == {"kept": True}  # SEEN's own fields are kept


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Token wrong"},
        {"Authorization": f"Token {SHARED}"},  # spring has its own secret: the shared one is not it
        {"Authorization": "Basic " + base64.b64encode(f"{SPRING}:x".encode()).decode()},
        {"Authorization": f"Digest {SPRING}"},
    ],
)
def test_a_call_without_the_targets_secret_is_401_and_stores_nothing(url, store, headers):
    answer = requests.post(f"{url}/seen/v1/callback", json=v1_film("1"), headers=headers)

    assert answer.status_code == 401
    assert "1" not in answer.text and "spring" not in answer.text
    assert store.counts() == {"films": 0, "events": 0}


def test_a_target_with_no_secret_is_404(tmp_path, store):
    only_spring = CallbackSecrets.from_config(
        {"seen": {"callbacks": {"targets": {"campaign/spring": SPRING}}}}
    )
    app = Starlette(routes=CallbackRoutes(store, only_spring).routes())
    with served(app) as url:
        answer = requests.post(
            f"{url}/seen/v2/workspaces/ws-1/film", json={"id": "1"}, headers=token(SPRING)
        )
        other = requests.post(
            f"{url}/seen/v1/callback", json=v1_film("1", slug="autumn"), headers=token(SPRING)
        )
    assert answer.status_code == 404 and other.status_code == 404
    assert store.counts()["films"] == 0


def test_oversize_garbage_and_non_objects_are_refused(url, store):
    post = f"{url}/seen/v2/workspaces/ws-1/film"
    big = json.dumps({"id": "1", "pad": "x" * 70_000})
    chunked = (piece for piece in [big.encode()[:30_000], big.encode()[30_000:]])  # no length

    assert requests.post(post, data=big, headers=token(SHARED)).status_code == 413
    assert requests.post(post, data=chunked, headers=token(SHARED)).status_code == 413
    assert requests.post(post, data=b"{not json", headers=token(SHARED)).status_code == 400
    assert requests.post(post, json=[{"id": "1"}], headers=token(SHARED)).status_code == 400
    assert requests.post(post, json={"player": "p"}, headers=token(SHARED)).status_code == 400
    xml = {**token(SHARED), "Content-Type": "application/xml"}
    assert requests.post(post, data=b"<a/>", headers=xml).status_code == 415
    assert store.counts() == {"films": 0, "events": 0}


def test_unknown_ids_are_stored_apart_and_shown_to_no_user(url, journal, store):
    job = created_send(journal, ALICE, "spring", ["1"])
    answer = requests.post(f"{url}/seen/v1/callback", json=v1_film("999"), headers=token(SPRING))

    assert answer.status_code == 201  # SEEN must not learn whether the id exists
    assert answer.json() == {"stored": True, "new": True}
    assert engagement_for_job(journal, store, job).films == 0
    target = engagement_for_target(journal, store, "spring", ALICE)
    assert [p.id for p in target.rows] == ["1"] and target.unmatched == 1
    assert unmatched_by_target(journal, store) == {"spring": 1}


def test_two_users_sending_the_same_ids_each_see_only_their_own_people(url, journal, store):
    alices = created_send(journal, ALICE, "workspace/ws-1", ["1", "2"])
    bobs = created_send(journal, BOB, "workspace/ws-1", ["2", "3"], sha="b")
    for person in ("1", "2", "3"):
        film = {"id": person, "player": f"https://play/{person}"}
        requests.post(f"{url}/seen/v2/workspaces/ws-1/film", json=film, headers=token(SHARED))

    alice = engagement_for_job(journal, store, alices)
    bob = engagement_for_job(journal, store, bobs)

    assert [p.id for p in alice.rows] == ["1", "2"] and alice.films == 2
    assert [p.id for p in bob.rows] == ["2", "3"] and bob.films == 2
    assert "https://play/3" not in json.dumps(alice.as_json())
    assert "https://play/1" not in json.dumps(bob.as_json())
    # Sent again by Alice later: the person counts for her later send, once.
    again = created_send(journal, ALICE, "workspace/ws-1", ["2"], sha="c")
    assert [p.id for p in engagement_for_job(journal, store, alices).rows] == ["1"]
    assert engagement_for_job(journal, store, again).films == 1
    assert engagement_for_target(journal, store, "workspace/ws-1", ALICE).films == 2


def test_a_burst_of_2000_concurrent_calls_is_stored_whole(url, journal, store):
    ids = [str(n) for n in range(1000)]
    job = created_send(journal, ALICE, "workspace/ws-1", ids)
    calls = [("film", {"id": p, "player": f"https://play/{p}"}) for p in ids] + [
        ("event", {"event": "player-opened", "id": p, "timestamp": "t1"}) for p in ids
    ]
    sessions = threading.local()

    def post(call: tuple[str, dict]) -> int:
        session = getattr(sessions, "session", None) or requests.Session()
        sessions.session = session
        what, body = call
        answer = session.post(
            f"{url}/seen/v2/workspaces/ws-1/{what}", json=body, headers=token(SHARED)
        )
        return answer.status_code

    with ThreadPoolExecutor(200) as pool:  # 200 connections at once, 2,000 calls
        statuses = list(pool.map(post, calls))

    assert statuses == [201] * 2000
    figures = engagement_for_job(journal, store, job)
    assert (figures.films, figures.opened) == (1000, 1000)


def test_callback_secrets_that_cannot_be_used_are_one_sentence():
    with pytest.raises(ConfigurationError, match="no campaign"):
        CallbackSecrets.from_config({"seen": {"callbacks": {"targets": {"team/x": "s"}}}})
    with pytest.raises(ConfigurationError, match="not empty"):
        CallbackSecrets.from_config({"seen": {"callbacks": {"secret": ""}}})


def test_what_is_older_than_the_retention_is_purged(url, store):
    requests.post(f"{url}/seen/v1/callback", json=v1_film("5"), headers=token(SPRING))
    assert store.purge(older_than_days=30) == 0
    assert store.facts("spring")["5"].has_film
    assert store.purge(older_than_days=-1) == 1
    assert store.counts()["films"] == 0
    assert store.facts("spring") == {}  # nothing of the person is left
