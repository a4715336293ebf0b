"""Each created person's video links from SEEN API 2.0 (Retrieve), kept with the send.

After a 2.0 send, SEEN makes each person's film; Retrieve then shows its player link and
thumbnails. `fetch_links` asks for every created row of a send (paced like a send, with progress
and cancel), keeps what it found in the journal, and says how many films are not ready yet so
they can be fetched again later; `stored_links` reads what was kept.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from seen_core.errors import InputError
from seen_core.i18n import _
from seen_core.send.client import Answer, AnswerKind, SeenClient
from seen_core.send.pool import Progress, WorkerPool
from seen_core.send.sending import (
    CANCELLED_BY_USER,
    MAX_WAIT,
    THROTTLE_GRACE,
    TOKEN_REFUSED,
    full_jitter,
)
from seen_core.send.targets import Target, target_from_key
from seen_core.store.journal import CREATED, Journal

__all__ = [
    "LinkStep",
    "LinksResult",
    "Video",
    "fetch_links",
    "film_rows",
    "judge_link",
    "stored_links",
    "video_from_item",
]

GONE = "SEEN no longer holds this person (Retrieve answered 404)."


@dataclass(frozen=True)
class Video:
    """One person's film as SEEN shows it; None where SEEN has nothing (yet)."""

    player: str | None = None
    thumbnail: str | None = None
    email_thumbnail: str | None = None

    @property
    def ready(self) -> bool:
        """Whether the film can be watched: SEEN gave a player link."""
        return bool(self.player)


def video_from_item(item: Mapping[str, object]) -> Video:
    """The first player link and motion thumbnails of a Retrieve or List item.

    The shape SEEN documents: `journeyOutputs[].players[].link`, `journeyOutputs[].motions[]
    .thumbnail` and `.emailThumbnail`; anything missing or of another shape counts as not there.
    """
    player = thumbnail = email_thumbnail = None
    outputs = item.get("journeyOutputs")
    for output in outputs if isinstance(outputs, list) else ():
        if not isinstance(output, dict):
            continue
        player = player or _first(output.get("players"), "link")
        thumbnail = thumbnail or _first(output.get("motions"), "thumbnail")
        email_thumbnail = email_thumbnail or _first(output.get("motions"), "emailThumbnail")
    return Video(player, thumbnail, email_thumbnail)


def _first(entries: object, name: str) -> str | None:
    for entry in entries if isinstance(entries, list) else ():
        value = entry.get(name) if isinstance(entry, dict) else None
        if isinstance(value, str) and value.startswith(("https://", "http://")):
            return value
    return None


@dataclass(frozen=True)
class LinksResult:
    """What is known of the films of one send's created rows after a fetch."""

    job_id: int
    ids: dict[int, str]  # created row → the person's id, in row order
    videos: dict[int, Video]  # row → links, for every created row looked up so far
    problems: dict[int, str] = field(default_factory=dict)  # rows Retrieve could not answer for
    stop_reason: str = ""  # why the fetch stopped before every row was asked (token, cancel)

    @property
    def with_video(self) -> list[int]:
        """Rows whose film has a player link."""
        return [row for row in self.ids if self.videos.get(row, Video()).ready]

    @property
    def not_ready(self) -> int:
        """Created rows with no player link yet: fetch again later."""
        return len(self.ids) - len(self.with_video)

    @property
    def complete(self) -> bool:
        """Every created row has a player link."""
        return not self.not_ready

    def as_json(self) -> dict[str, list[dict[str, object]]]:
        """`{"rows": [{"row", "id", "player", "thumbnail", "email_thumbnail"}]}`."""
        rows = []
        for row, person_id in self.ids.items():
            video = self.videos.get(row, Video())
            rows.append(
                {
                    "row": row,
                    "id": person_id,
                    "player": video.player,
                    "thumbnail": video.thumbnail,
                    "email_thumbnail": video.email_thumbnail,
                }
            )
        return {"rows": rows}


def stored_links(journal: Journal, job_id: int) -> dict[int, Video]:
    """Row → the links last fetched for it (an empty Video: looked up, not ready then)."""
    return {row: Video(*links) for row, links in journal.videos(job_id).items()}


# --- pure logic: one Retrieve answer → what it means ----------------------------------------------


@dataclass(frozen=True)
class LinkStep:
    """What one Retrieve answer means for a row: its video, a problem, a wait and retry, a stop."""

    video: Video | None = None
    problem: str = ""
    retry_after: float | None = None  # ask again after this many seconds
    stop: str = ""


def judge_link(
    answer: Answer,
    *,
    attempt: int,
    throttled: int,
    max_attempts: int,
    backoff: Callable[[int], float],
) -> LinkStep:
    """One Retrieve answer about a row, on its `attempt`-th try after `throttled` 429s."""
    kind = answer.kind
    if kind is AnswerKind.FOUND:
        return LinkStep(video=video_from_item(answer.data))
    if kind is AnswerKind.ABSENT:
        return LinkStep(problem=GONE)
    if kind is AnswerKind.TOKEN_REFUSED:
        return LinkStep(stop=TOKEN_REFUSED)
    if kind is AnswerKind.THROTTLED and throttled < THROTTLE_GRACE:
        wait = answer.retry_after if answer.retry_after is not None else backoff(attempt)
        return LinkStep(retry_after=min(MAX_WAIT, wait))
    if kind is AnswerKind.UNEXPECTED or attempt >= max_attempts:
        return LinkStep(problem=f"No links from SEEN: {answer.message}")
    return LinkStep(retry_after=min(MAX_WAIT, backoff(attempt)))


# --- fetching ------------------------------------------------------------------------------------


@dataclass
class _Ask:
    row: int
    attempt: int = 1
    throttled: int = 0
    delay: float = 0.0


def fetch_links(
    journal: Journal,
    job_id: int,
    client: SeenClient,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    refresh: bool = False,
    rate: float | None = None,
    windows: Sequence[tuple[int, float]] | None = None,
    max_in_flight: int = 4,
    max_attempts: int = 4,
    backoff: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> LinksResult:
    """Ask SEEN (Retrieve) for the films of the send's created rows and keep their links.

    Rows that already have a player link are not asked again unless `refresh`. Paced like a
    send to the same target (`rate`, `windows` as in `sending.run_job`). The progress counts
    are `video`, `not_ready` and `failed`. Raises InputError for a v1 send (v1 has no Retrieve).
    """
    job = journal.job(job_id)
    target = target_from_key(job.campaign)
    if not target.confirms_by_retrieve:
        raise InputError(
            f"Video links come from SEEN API 2.0; send #{job_id} went to {target.label}, "
            "whose films SEEN does not list."
        )
    created = [row for row, (status, _) in journal.outcomes(job_id).items() if status == CREATED]
    payloads = journal.payload_json(job_id, created)
    ids = {
        row: target.person_id(json.loads(text)) or ""
        for row, text in zip(created, payloads, strict=True)
    }
    known = stored_links(journal, job_id)
    rows = [row for row in created if ids[row] and (refresh or not known.get(row, Video()).ready)]
    fetch = _Fetch(
        journal,
        job_id,
        client,
        target,
        ids,
        rows,
        max_attempts=max(1, max_attempts),
        backoff=full_jitter(backoff),
    )
    pool: WorkerPool[_Ask] = WorkerPool(
        fetch.measure,
        workers=max_in_flight,
        rate=target.pacing.rate if rate is None else rate,
        windows=target.pacing.windows if windows is None else tuple(windows),
        cancel=cancel,
        on_progress=on_progress,
        sleep=sleep,
        clock=clock,
        name="seen-links",
    )
    fetch.run(pool)
    videos = {row: video for row, video in stored_links(journal, job_id).items() if row in ids}
    return LinksResult(job_id, ids, videos, dict(fetch.problems), fetch.stop_reason)


class _Fetch:
    """One fetch of links: the pool's request threads share a queue of rows to ask about."""

    def __init__(
        self,
        journal: Journal,
        job_id: int,
        client: SeenClient,
        target: Target,
        ids: dict[int, str],
        rows: list[int],
        *,
        max_attempts: int,
        backoff: Callable[[int], float],
    ) -> None:
        self.journal = journal
        self.job_id = job_id
        self.client = client
        self.target = target
        self.ids = ids
        self.max_attempts = max_attempts
        self.backoff = backoff
        # The queue, counts, problems and stop reason below are guarded by the pool's lock.
        self.pool: WorkerPool[_Ask]
        self.queue: deque[_Ask] = deque(_Ask(row) for row in rows)
        self.total = len(rows)
        self.counts = {"video": 0, "not_ready": 0, "failed": 0}
        self.problems: dict[int, str] = {}
        self.stop_reason = ""

    def measure(self) -> tuple[int, int, dict[str, int]]:
        """Rows to ask about in all, rows answered for good, counts: the progress."""
        counts = dict(self.counts)
        return self.total, sum(counts.values()), counts

    def run(self, pool: WorkerPool[_Ask]) -> None:
        self.pool = pool
        pool.report("Fetching video links.")
        pool.run(self._next_ask, self._ask)
        if not self.stop_reason and sum(self.counts.values()) < self.total:
            self.stop_reason = CANCELLED_BY_USER  # the rest is left for a later fetch
        pool.report(self.stop_reason or "Video links fetched.")

    def _next_ask(self) -> _Ask | None:
        return self.queue.popleft() if self.queue else None

    def _ask(self, ask: _Ask) -> None:
        """Ask about one row and settle the answer (the pool gave it its turn)."""
        answer = self.client.retrieve(self.target, self.ids[ask.row])
        step = judge_link(
            answer,
            attempt=ask.attempt,
            throttled=ask.throttled,
            max_attempts=self.max_attempts,
            backoff=self.backoff,
        )
        if step.video is not None:
            video = step.video
            self.journal.save_videos(
                self.job_id, {ask.row: (video.player, video.thumbnail, video.email_thumbnail)}
            )
        # Waiting as SEEN asks costs no attempt, up to the grace (as in a send).
        throttled = answer.kind is AnswerKind.THROTTLED and ask.throttled < THROTTLE_GRACE
        if step.retry_after is not None and throttled:
            self.pool.hold(step.retry_after)  # every request thread waits: SEEN counts them all
        with self.pool.lock:
            if step.stop:
                self.stop_reason = self.stop_reason or step.stop
                self.pool.stop()
            elif step.retry_after is not None:
                self.queue.appendleft(
                    _Ask(
                        ask.row,
                        ask.attempt + (0 if throttled else 1),
                        ask.throttled + int(throttled),
                        step.retry_after,
                    )
                )
            elif step.problem:
                self.problems[ask.row] = step.problem
                self.counts["failed"] += 1
            elif step.video is not None:
                self.counts["video" if step.video.ready else "not_ready"] += 1
            self.pool.lock.notify_all()
        self.pool.report(step.stop or answer.message)


def film_rows(videos: Mapping[int, Video], who: Mapping[int, str]) -> list[dict[str, object]]:
    """One row per person of a send, for the Results page's table: the spreadsheet row, the
    person (`who`: row → name), the film's player link and its thumbnail (None while SEEN has
    none yet), in the sheet's order. The keys are the table's columns; the page names them in
    the user's language, as `Ready`'s words are."""
    ready, not_yet = _("ready"), _("not ready yet")
    return [
        {
            "Row": row,
            "Person": who.get(row, ""),
            "Film": video.player or None,
            "Thumbnail": video.thumbnail or video.email_thumbnail or None,
            "Ready": ready if video.ready else not_yet,
        }
        for row, video in sorted(videos.items())
    ]
