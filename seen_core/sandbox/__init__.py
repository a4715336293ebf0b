"""A local SEEN stand-in: a real HTTP server on 127.0.0.1 that answers like SEEN's v1 API and
SEEN API 2.0 (Create, List and Retrieve, with made-up video links that work while it runs).

`Sandbox` is the whole of it to callers. Inside: `server` (HTTP: routing, faults, bodies,
answers), `gate` (token, rate limit, limits, queued faults, logs), `campaigns` (v1 receivers),
`data` (2.0 people and their made-up films), `fields` (e-mail, phone and key rules).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from seen_core.sandbox.callbacks import CallsBack
from seen_core.sandbox.campaigns import Campaigns
from seen_core.sandbox.data import People
from seen_core.sandbox.gate import FAULTS, Gate
from seen_core.sandbox.server import Handler, Server

__all__ = ["DEFAULT_TOKEN", "FAULTS", "Sandbox"]

DEFAULT_TOKEN = "sandbox-token"


class Sandbox:
    """SEEN's `POST /v1/campaigns/{slug}/receivers/` and 2.0's `/v1/workspaces/{id}/data`
    (and `/v1/projects/{id}/data`) on loopback, with knobs for bad days.

    `campaigns`, `workspaces`, `projects`: the ones that exist (None: any well-formed one).
    `video_wait`: the first N looks at a 2.0 person show no video yet; `videos_not_ready`: that
    share of people (chosen by their id) have none until `finish_videos()`. `calls_back`:
    SEEN's calls to the app after people are created (films, some viewer events), made while
    the sandbox runs.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = DEFAULT_TOKEN,
        campaigns: Iterable[str] | None = None,
        workspaces: Iterable[str] | None = None,
        projects: Iterable[str] | None = None,
        latency: float = 0.0,
        rate_limit: tuple[int, float] | None = None,
        max_batch: int = 1000,
        max_body_bytes: int = 1_000_000,
        hang_seconds: float = 3.0,
        video_wait: int = 0,
        videos_not_ready: float = 0.0,
        calls_back: CallsBack | None = None,
    ) -> None:
        if not token:
            raise ValueError("The sandbox needs a token.")
        if not 0.0 <= videos_not_ready <= 1.0:
            raise ValueError("videos_not_ready is a share of people, from 0 to 1.")
        self.host = host
        self.port = port
        self._gate = Gate(
            token=token,
            latency=latency,
            rate_limit=rate_limit,
            max_batch=max_batch,
            max_body_bytes=max_body_bytes,
            hang_seconds=hang_seconds,
        )
        self._campaigns = Campaigns(campaigns)
        self._people = People(
            workspaces=workspaces,
            projects=projects,
            video_wait=video_wait,
            videos_not_ready=videos_not_ready,
        )
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self.calls_back = calls_back

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("The sandbox is not started.")
        return self._server.url

    def start(self) -> Sandbox:
        """Serve in a background thread and return at once; port 0 picks a free port."""
        server = self._bind()
        if self.calls_back is not None:
            self.calls_back.start()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="seen-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until Ctrl-C (for a sandbox in a process of its own)."""
        server = self._bind()
        if self.calls_back is not None:
            self.calls_back.start()
        try:
            server.serve_forever(poll_interval=0.05)
        except KeyboardInterrupt:
            pass
        finally:
            self._close()

    def stop(self) -> None:
        if self.calls_back is not None:
            self.calls_back.stop()
        if self._server is None:
            return
        self._gate.stopping.set()  # wakes requests sleeping in latency or a hang
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._close()

    def __enter__(self) -> Sandbox:
        return self if self._server is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "not started"
        return f"Sandbox({where})"

    def _bind(self) -> Server:
        if self._server is not None:
            raise RuntimeError("The sandbox is already running.")
        self._gate.stopping.clear()
        parts = {
            "gate": self._gate,
            "campaigns": self._campaigns,
            "people": self._people,
            "calls_back": self.calls_back,
        }
        handler = type("_BoundHandler", (Handler,), parts)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        server_class = type("_BoundServer", (Server,), {"address_family": family})
        self._server = server_class((self.host, self.port), handler)
        return self._server

    def _close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            self._gate.stopping.set()
            server.server_close()
            server.close_connections()

    # -- knobs and inspection --------------------------------------------------------------

    def inject(self, *faults: str) -> None:
        """Queue faults; each POST (v1 or 2.0) takes the next one: 503, 500, 429, drop_before,
        drop_after (stored, then the connection drops), timeout_after (stored, then it hangs)."""
        self._gate.inject(faults)

    def received(self, campaign: str) -> list[dict]:
        """The receivers stored for a campaign, in the order they were created (copies)."""
        return self._campaigns.received(campaign)

    def campaigns(self) -> dict[str, int]:
        return self._campaigns.counts()

    @property
    def requests_log(self) -> list[tuple[str, int, int]]:
        """(campaign or 2.0 target key, people in the request, status answered or 0 when none)
        per POST."""
        return self._gate.requests_log()

    @property
    def lookups_log(self) -> list[tuple[str, int]]:
        """(2.0 target key, status answered) per List or Retrieve."""
        return self._gate.lookups_log()

    def people(self, target_key: str) -> list[dict[str, Any]]:
        """The people a 2.0 workspace or project holds (`workspace/ws-1`), in the order they were
        first created, each `{"id", "values"}` (copies)."""
        return self._people.people(target_key)

    def data_targets(self) -> dict[str, int]:
        """2.0 target key → how many people it holds."""
        return self._people.counts()

    def finish_videos(self) -> None:
        """Every person's video is ready from now on (after `videos_not_ready`)."""
        self._people.finish_videos()

    def reset(self) -> None:
        """Forget every stored receiver, logged request, queued fault and rate-limit count."""
        self._gate.reset()
        self._campaigns.reset()
        self._people.reset()
