"""The sandbox plays SEEN after the send: it calls the app's own routes back.

After it creates people, a film is "made" for each a little later (`delay`), and for some of
them (chosen by a hash of their id, the same every run) viewer events follow: opened, then
played, watched, clicked — fewer at each step. v1 campaigns get SEEN's v1 callback; 2.0
workspaces and projects the Journey webhook node's body and External Events. A call answered
other than 2xx (or not at all) is tried again `retry_after` seconds later, 3 calls in all, as
SEEN does. Time comes from `clock` and `sleep`, so tests run the schedule on a fake clock.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

# Of every 10 people (by their id's hash): how many get each event (a funnel).
_SHARE = {"player-opened": 6, "video-played": 4, "video-watched": 3, "cta-clicked": 1}

Post = Callable[[str, bytes, dict[str, str]], int]


def events_for(person: str, target: str) -> list[str]:
    """The viewer events a person gets in the sandbox (the same for the same id and target)."""
    bucket = int(hashlib.sha256(f"{target}\0{person}".encode()).hexdigest()[:8], 16) % 10
    return [event for event, share in _SHARE.items() if bucket < share]


def post_json(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST over HTTP; the status, or 0 when there was no answer."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


@dataclass(order=True)
class _Call:
    due: float
    seq: int
    url: str = field(compare=False)
    body: bytes = field(compare=False)
    headers: dict[str, str] = field(compare=False)
    attempt: int = field(default=1, compare=False)


class CallsBack:
    """SEEN's calls to the app, scheduled as people are created and made by one thread.

    `base_url`: where the app's routes answer (`http://127.0.0.1:8501`); `secret_for(kind,
    name)`: the secret for a target (kind `campaign`, `workspace`, `project`), None when it
    has none (then nothing is called for it). `log` holds (time, path, attempt, status) per
    call made.
    """

    def __init__(
        self,
        base_url: str,
        secret_for: Callable[[str, str], str | None],
        *,
        delay: float = 3.0,
        event_gap: float = 1.0,
        retry_after: float = 60.0,
        attempts: int = 3,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
        post: Post = post_json,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._secret_for = secret_for
        self.delay, self.event_gap = delay, event_gap
        self.retry_after, self.attempts = retry_after, attempts
        self._clock, self._sleep, self._post = clock, sleep, post
        self._queue: list[_Call] = []
        self._seq = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.log: list[tuple[float, str, int, int]] = []

    # --- scheduling ------------------------------------------------------------------------

    def created(self, kind: str, name: str, people: Iterable[dict], sandbox_url: str) -> None:
        """People were created on a target: their films (and some events) are on the way."""
        secret = self._secret_for(kind, name)
        if secret is None:
            return
        now = self._clock()
        for person in people:
            person_id = person.get("customer_id" if kind == "campaign" else "id")
            if person_id in (None, ""):
                continue
            person_id = str(person_id)
            token = hashlib.sha256(f"{kind}/{name}\0{person_id}".encode()).hexdigest()[:20]
            player = f"{sandbox_url}/_sandbox/players/{token}"
            thumbnail = f"{sandbox_url}/_sandbox/thumbnails/{token}.png"
            mail = f"{sandbox_url}/_sandbox/thumbnails/{token}-email.png"
            if kind == "campaign":
                path = "/seen/v1/callback"
                body: dict = {
                    "customer_id": person_id,
                    "campaign_slug": name,
                    "landing_page_url": player,
                    "video_url": f"{sandbox_url}/_sandbox/videos/{token}.m3u8",
                    "thumbnail_url": thumbnail,
                    "email_thumbnail_url": mail,
                }
                headers = {"Authorization": f"Token {secret}"}
            else:
                path = f"/seen/v2/{kind}s/{name}/film"
                body = {"id": person_id, "player": player, "thumbnail": thumbnail,
                        "email_thumbnail": mail}  # fmt: skip
                basic = base64.b64encode(f"seen:{secret}".encode()).decode()
                headers = {"Authorization": f"Basic {basic}"}
            self._schedule(now + self.delay, path, body, headers)
            if kind == "campaign":
                continue  # v1 has no viewer events
            for step, event in enumerate(events_for(person_id, f"{kind}/{name}"), start=1):
                due = now + self.delay + step * self.event_gap
                stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + due - now))
                self._schedule(
                    due,
                    f"/seen/v2/{kind}s/{name}/event",
                    {"event": event, "id": person_id, "timestamp": stamp},
                    {"Authorization": f"Bearer {secret}"},
                )

    def _schedule(self, due: float, path: str, body: dict, headers: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        call = _Call(due, next(self._seq), path, data,
                     {**headers, "Content-Type": "application/json"})  # fmt: skip
        with self._wake:
            heapq.heappush(self._queue, call)
            self._wake.notify()

    def pending(self) -> int:
        with self._wake:
            return len(self._queue)

    # --- calling ---------------------------------------------------------------------------

    def _next_due(self, *, until_empty: bool) -> _Call | None:
        with self._wake:
            while True:
                if self._stopping or (until_empty and not self._queue):
                    return None
                if not self._queue:
                    self._wake.wait()
                    continue
                wait = self._queue[0].due - self._clock()
                if wait <= 0:
                    return heapq.heappop(self._queue)
                if self._sleep is None:
                    self._wake.wait(wait)
                else:
                    self._wake.release()
                    try:
                        self._sleep(wait)
                    finally:
                        self._wake.acquire()

    def _make(self, call: _Call) -> None:
        status = self._post(self.base_url + call.url, call.body, call.headers)
        self.log.append((self._clock(), call.url, call.attempt, status))
        if not 200 <= status < 300 and call.attempt < self.attempts:
            retry = _Call(
                self._clock() + self.retry_after, next(self._seq), call.url, call.body,
                call.headers, call.attempt + 1,
            )  # fmt: skip
            with self._wake:
                heapq.heappush(self._queue, retry)

    def run_until_done(self) -> None:
        """Make every call, retries included, in this thread (time from `clock`/`sleep`)."""
        while (call := self._next_due(until_empty=True)) is not None:
            self._make(call)

    def start(self) -> CallsBack:
        """Make the calls in a background thread as they come due."""
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name="seen-calls-back", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        while (call := self._next_due(until_empty=False)) is not None:
            self._make(call)

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None
