"""`engagement` as a user runs it: a real send to the sandbox, SEEN's calls over real HTTP to
the routes, then the figures, the people and the workbook with Film … Clicked."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
import requests
from builders import messy_workbook
from callback_server import served
from cli_runner import run_cli
from starlette.applications import Starlette

from seen_core.engagement import CallbackSecrets, EngagementStore
from seen_core.engagement.routes import CallbackRoutes, lifespan_closing
from seen_core.sandbox import Sandbox

TOKEN = "tok-engagement-8e21"
SECRET = "callbacks-secret-3b7d"
AUTH = {"Authorization": f"Bearer {SECRET}"}


@pytest.fixture
def sent(tmp_path) -> Path:
    """The messy workbook sent to workspace ws-1 of the sandbox: one person (id 100) created."""
    path = tmp_path / "kunder.xlsx"
    path.write_bytes(messy_workbook())
    with Sandbox(token=TOKEN, workspaces={"ws-1"}) as seen:
        done = run_cli(
            "send", path, "--workspace", "ws-1", "--base-url", seen.url, "--rate", "0",
            env=env(tmp_path) | {"SEEN_API_TOKEN": TOKEN},
        )  # fmt: skip
    assert done.returncode == 1, done.stderr  # some rows of the messy sheet are invalid
    return path


def env(tmp_path: Path) -> dict[str, str]:
    return {"SEEN_DATA_DIR": str(tmp_path / "data")}


def call_back(tmp_path: Path, calls: list[tuple[str, dict]]) -> None:
    store = EngagementStore(tmp_path / "data" / "journal.callbacks.sqlite3")
    routes = CallbackRoutes(store, CallbackSecrets(SECRET))
    with served(Starlette(routes=routes.routes(), lifespan=lifespan_closing(store))) as url:
        for what, body in calls:
            answer = requests.post(f"{url}/seen/v2/workspaces/ws-1/{what}", json=body, headers=AUTH)
            assert answer.status_code == 201


def test_engagement_prints_each_persons_film_and_what_they_did(tmp_path, sent):
    before = run_cli("engagement", "--workspace", "ws-1", "--json", env=env(tmp_path))
    assert before.returncode == 1  # no film yet
    assert json.loads(before.stdout)["films"] == 0

    call_back(
        tmp_path,
        [
            (
                "film",
                {
                    "id": "100",
                    "player": "https://play.seen.example/100",
                    "thumbnail": "javascript:x",
                },
            ),
            ("event", {"event": "player-opened", "id": "100", "timestamp": "2026-12-07T10:00"}),
            ("event", {"event": "video-watched", "id": "100", "timestamp": "2026-12-07T10:01"}),
            ("film", {"id": "nobody-sent-me", "player": "https://play.seen.example/x"}),
        ],
    )
    done = run_cli("engagement", "--workspace", "ws-1", "--json", env=env(tmp_path))

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "people": 1, "films": 1, "opened": 1, "played": 0, "watched": 1, "clicked": 0,
        "unmatched": 1,
        "rows": [{
            "id": "100", "film": "https://play.seen.example/100", "thumbnail": None,
            "opened": True, "played": False, "watched": True, "clicked": False,
        }],
    }  # fmt: skip
    human = run_cli("engagement", "--workspace", "ws-1", env=env(tmp_path))
    assert "1 of 1 people have a film; 1 opened it" in human.stdout
    assert "nobody-sent-me" not in human.stdout


def test_engagement_report_has_film_opened_watched_clicked(tmp_path, sent):
    call_back(
        tmp_path,
        [
            ("film", {"id": "100", "player": "https://play.seen.example/100"}),
            ("event", {"event": "cta-clicked", "id": "100", "timestamp": "2026-12-07T10:02"}),
        ],
    )
    out = tmp_path / "engasjement.xlsx"
    done = run_cli("engagement", "--workspace", "ws-1", "--report", out, env=env(tmp_path))

    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(out)
    sheet = next(s for s in book.worksheets if s.title != "Summary" and s.title != "Problems")
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    header_at = next(i for i, r in enumerate(rows) if "Film" in r)
    header = rows[header_at]
    person = next(r for r in rows[header_at + 1 :] if r[header.index("Film")])
    assert person[header.index("Film")] == "https://play.seen.example/100"
    assert person[header.index("Clicked")] == "yes"
    assert person[header.index("Opened")] in (None, "")
    assert [r[header.index("Film")] for r in rows[header_at + 1 :] if r[header.index("Film")]] == [
        "https://play.seen.example/100"
    ]  # only the person created has a film


def test_engagement_of_a_target_never_sent_to_is_one_sentence(tmp_path):
    done = run_cli("engagement", "--campaign", "spring", env=env(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "Nothing has been sent" in done.stderr
