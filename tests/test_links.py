"""Video links: each created person's player link and thumbnails, fetched with 2.0's Retrieve."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from clocks import FakeClock, most_in_any_window

from seen_core.errors import InputError
from seen_core.sandbox import DEFAULT_TOKEN, Sandbox
from seen_core.send.client import Answer, AnswerKind, Request, Response, SeenClient
from seen_core.send.links import GONE, Video, fetch_links, judge_link, stored_links, video_from_item
from seen_core.send.sending import Progress, plan_send, run_job
from seen_core.store.journal import Journal

WORKSPACE = "workspace/ws-1"


def _no_wait(_seconds: float) -> None:
    pass


FAST = {"rate": 0, "windows": (), "sleep": _no_wait, "backoff": 0.01}


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal(tmp_path / "journal.sqlite3") as opened:
        yield opened


def _sent(journal: Journal, sandbox: Sandbox, rows: range, target: str = WORKSPACE) -> int:
    """A finished send of these rows (the id c<row>), created in the sandbox."""
    people = [(row, {"first_name": f"P{row}", "customer_id": f"c{row}"}) for row in rows]
    job_id = plan_send(
        journal,
        file_name="people.xlsx",
        file_sha256="5" * 64,
        campaign=target,
        target=sandbox.url,
        batch_size=100,
        receivers=people,
        invalid={9999: "First name is empty."},
    )
    with SeenClient(sandbox.url, DEFAULT_TOKEN) as client:
        assert run_job(journal, job_id, client, target, **FAST).state == "finished"
    return job_id


def _fetch(journal: Journal, job_id: int, url: str, token: str = DEFAULT_TOKEN, **options):
    with SeenClient(url, token) as client:
        return fetch_links(journal, job_id, client, **{**FAST, **options})


# --- reading SEEN's item -------------------------------------------------------------------------


def test_video_comes_from_the_documented_places_in_an_item() -> None:
    item = {
        "id": "c2",
        "journeyOutputs": [
            {"id": "jo1", "players": [], "motions": []},
            {
                "id": "jo2",
                "players": [{"id": "p", "link": "https://player.seen.io/v/abc"}],
                "motions": [
                    {"id": "m", "thumbnail": "https://t/1.jpg", "emailThumbnail": "https://t/e.jpg"}
                ],
                "webhook": None,
            },
        ],
    }

    assert video_from_item(item) == Video(
        "https://player.seen.io/v/abc", "https://t/1.jpg", "https://t/e.jpg"
    )


@pytest.mark.parametrize(
    "item",
    [
        {"id": "c2"},
        {"id": "c2", "journeyOutputs": None},
        {"id": "c2", "journeyOutputs": [{"players": [{"link": None}], "motions": "x"}]},
        {"id": "c2", "journeyOutputs": [{"players": [{"link": "javascript:alert(1)"}]}]},
    ],
)
def test_an_item_without_a_usable_player_link_has_no_video_yet(item: dict) -> None:
    assert not video_from_item(item).ready


def test_judge_link_reads_each_retrieve_answer() -> None:
    def step(kind: AnswerKind, attempt: int = 1, throttled: int = 0, **fields: object):
        answer = Answer(kind, None, None, "m", **fields)
        return judge_link(
            answer, attempt=attempt, throttled=throttled, max_attempts=3, backoff=float
        )

    found = step(AnswerKind.FOUND, data={"journeyOutputs": [{"players": [{"link": "https://p"}]}]})
    assert found.video == Video("https://p")
    assert step(AnswerKind.ABSENT).problem == GONE
    assert step(AnswerKind.TOKEN_REFUSED).stop == "SEEN refused the token."
    assert step(AnswerKind.THROTTLED, retry_after=4.0).retry_after == 4.0
    assert step(AnswerKind.SERVER_ERROR, attempt=2).retry_after == 2.0
    assert step(AnswerKind.NO_ANSWER, attempt=3).problem == "No links from SEEN: m"


# --- fetching against the sandbox ----------------------------------------------------------------


def test_links_are_fetched_for_every_created_row_and_kept_in_the_journal(
    journal: Journal, sandbox: Sandbox
) -> None:
    job_id = _sent(journal, sandbox, range(2, 7))

    result = _fetch(journal, job_id, sandbox.url)

    assert result.complete
    assert (result.with_video, result.not_ready, result.problems) == ([2, 3, 4, 5, 6], 0, {})
    rows = result.as_json()["rows"]
    assert [(r["row"], r["id"]) for r in rows] == [(row, f"c{row}") for row in range(2, 7)]
    assert all(r["player"].startswith(f"{sandbox.url}/_sandbox/players/") for r in rows)
    assert all(r["thumbnail"].endswith(".png") and r["email_thumbnail"] for r in rows)
    assert set(rows[0]) == {"row", "id", "player", "thumbnail", "email_thumbnail"}
    # Kept: another journal on the same file finds them without asking SEEN.
    with Journal(journal.path) as again:
        assert stored_links(again, job_id)[2].player == rows[0]["player"]


def test_videos_not_ready_are_counted_and_fetched_again_later(journal: Journal) -> None:
    with Sandbox(videos_not_ready=1.0) as sandbox:
        job_id = _sent(journal, sandbox, range(2, 6))

        first = _fetch(journal, job_id, sandbox.url)
        sandbox.finish_videos()
        second = _fetch(journal, job_id, sandbox.url)
        asked = len(sandbox.lookups_log)
        third = _fetch(journal, job_id, sandbox.url)

        assert (first.not_ready, first.complete, first.with_video) == (4, False, [])
        assert first.as_json()["rows"][0]["player"] is None
        assert (second.not_ready, second.complete) == (0, True)
        assert asked == 8
        # Rows that have their links are not asked again.
        assert len(sandbox.lookups_log) == asked
        assert third.with_video == [2, 3, 4, 5]


def test_only_created_rows_are_looked_up(journal: Journal) -> None:
    with Sandbox(workspaces={"ws-1"}) as sandbox:
        people = [(2, {"first_name": "A", "customer_id": "c2"}),
                  (3, {"first_name": "B", "customer_id": "c3", "email": "bad"})]  # fmt: skip
        job_id = plan_send(
            journal,
            file_name="people.xlsx",
            file_sha256="6" * 64,
            campaign=WORKSPACE,
            target=sandbox.url,
            batch_size=100,
            receivers=people,
            invalid={4: "First name is empty."},
        )
        with SeenClient(sandbox.url, DEFAULT_TOKEN) as client:
            sent = run_job(journal, job_id, client, WORKSPACE, **FAST)

        result = _fetch(journal, job_id, sandbox.url)

        assert sent.outcomes[3][0] == "rejected"
        assert list(result.ids) == [2]
        assert len(sandbox.lookups_log) == 1


def test_progress_is_reported_and_cancel_leaves_the_rest_for_later(journal: Journal) -> None:
    with Sandbox(latency=0.02) as sandbox:
        job_id = _sent(journal, sandbox, range(2, 22))
        cancel = threading.Event()
        seen: list[Progress] = []

        def on_progress(progress: Progress) -> None:
            seen.append(progress)
            if progress.done >= 3:
                cancel.set()

        stopped = _fetch(
            journal, job_id, sandbox.url, max_in_flight=1, cancel=cancel, on_progress=on_progress
        )
        rest = _fetch(journal, job_id, sandbox.url)

        assert stopped.stop_reason == "Cancelled by the user."
        assert 3 <= len(stopped.with_video) < 20
        assert seen[-1].total == 20
        assert seen[-1].counts["video"] == len(stopped.with_video)
        assert [p.done for p in seen] == sorted(p.done for p in seen)
        assert rest.complete and not rest.stop_reason


def test_a_refused_token_stops_the_fetch(journal: Journal, sandbox: Sandbox) -> None:
    job_id = _sent(journal, sandbox, range(2, 12))

    result = _fetch(journal, job_id, sandbox.url, token="wrong-token")

    assert result.stop_reason == "SEEN refused the token."
    assert result.with_video == []
    assert len(sandbox.lookups_log) <= 4  # only what was already in flight


def test_a_v1_send_has_no_video_links(journal: Journal, sandbox: Sandbox) -> None:
    job_id = _sent(journal, sandbox, range(2, 4), target="spring-campaign")

    with pytest.raises(InputError, match=r"SEEN API 2\.0"):
        _fetch(journal, job_id, sandbox.url)


def test_links_go_with_their_send_when_it_is_deleted(journal: Journal, sandbox: Sandbox) -> None:
    job_id = _sent(journal, sandbox, range(2, 4))
    _fetch(journal, job_id, sandbox.url)
    assert len(stored_links(journal, job_id)) == 2

    journal.delete_job(job_id, "")

    assert stored_links(journal, job_id) == {}


# --- without a network ---------------------------------------------------------------------------


def test_links_are_paced_like_a_send_and_retried_after_a_server_error(
    journal: Journal, sandbox: Sandbox
) -> None:
    job_id = _sent(journal, sandbox, range(2, 152))
    clock = FakeClock()
    asked: list[tuple[float, str]] = []

    def seen(request: Request) -> Response:
        asked.append((clock(), request.url))
        if len(asked) == 1:
            return Response(502, b"Bad gateway")
        item = b'{"journeyOutputs": [{"players": [{"link": "https://player.seen.io/v/x"}]}]}'
        return Response(200, item)

    with SeenClient("https://next.seen.io", DEFAULT_TOKEN, transport=seen) as client:
        result = fetch_links(
            journal, job_id, client, sleep=clock.sleep, clock=clock, max_in_flight=1
        )

    assert result.complete
    assert len(asked) == 151  # 150 rows, one of them twice
    assert asked[0][1] == "https://next.seen.io/v1/workspaces/ws-1/data/c2"
    assert most_in_any_window([moment for moment, _ in asked], 10.0) <= 100


def test_a_cancel_while_the_fetch_waits_out_seens_retry_after_asks_nothing_more(
    journal: Journal,
) -> None:
    # SEEN takes the send's 10 requests and 2 more in its minute, then asks us to wait.
    with Sandbox(rate_limit=(12, 60.0)) as sandbox:
        job_id = _sent(journal, sandbox, range(2, 12))
        clock = FakeClock()
        cancel = threading.Event()

        def sleep(seconds: float) -> None:
            cancel.set()  # the user gives up while the fetch waits as SEEN asked
            clock.sleep(seconds)

        result = _fetch(
            journal, job_id, sandbox.url, sleep=sleep, clock=clock, cancel=cancel, max_in_flight=1
        )

        assert [status for _, status in sandbox.lookups_log] == [200, 200, 429]
        assert result.stop_reason == "Cancelled by the user."
        assert (result.with_video, result.not_ready) == ([2, 3], 8)
