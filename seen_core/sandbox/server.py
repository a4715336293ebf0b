"""The sandbox's HTTP: a threading server whose keep-alive connections end when it stops, and
the request handler, which routes by path, plays the faults tests queue, reads bodies within
limits and answers (JSON, or a made-up film's bytes) no sooner than the latency asked for."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from seen_core.sandbox.callbacks import CallsBack
from seen_core.sandbox.campaigns import Campaigns
from seen_core.sandbox.data import People
from seen_core.sandbox.gate import NOT_FOUND, Answer, Gate, Request

_RECEIVERS_PATH = re.compile(r"/v1/campaigns/([^/]+)/receivers/")
_INSPECT_PATH = re.compile(r"/_sandbox/campaigns/([^/]+)/receivers/")
# SEEN API 2.0: Create and List on …/data, Retrieve on …/data/{id} (the id percent-encoded).
_DATA_PATH = re.compile(r"/v1/(workspace|project)s/([^/]+)/data")
_ITEM_PATH = re.compile(r"/v1/(workspace|project)s/([^/]+)/data/([^/]+)")
# A body this much over the limit is not read at all: the connection is closed after the 413.
_DRAIN_LIMIT = 64 * 1024 * 1024


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 64

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in str(host) else f"http://{host}:{port}"

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Unblock handler threads waiting on idle keep-alive connections so they end."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (read timeout, closed pool) is normal here, not news.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    # Set on the per-sandbox subclass:
    gate: Gate
    campaigns: Campaigns
    people: People
    server: Server
    calls_back: CallsBack | None = None

    protocol_version = "HTTP/1.1"  # keep-alive, so a pooled client reuses its connections
    server_version = "SEEN-sandbox"
    sys_version = ""
    _arrived = 0.0  # monotonic time the request being handled arrived
    disable_nagle_algorithm = True  # headers and body go out as two writes; no 40 ms stall
    timeout = 300  # an idle keep-alive connection is closed after five minutes

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: no line per request, and never a header

    # -- routing ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._arrived = time.monotonic()
        parts = urlsplit(self.path)
        path = parts.path
        if path == "/_sandbox/":
            # Counts only, no personal data: readable without the token.
            self._answer(200, {"campaigns": self.campaigns.counts(), **self.people.overview()})
            return
        item = _ITEM_PATH.fullmatch(path)
        listing = _DATA_PATH.fullmatch(path)
        if item or listing:
            kind, name, person_id = item.groups() if item else (*listing.groups(), None)
            authorization = self.headers.get("Authorization")
            query = parse_qs(parts.query) if listing else {}
            base = self.server.url
            self._answer(
                *self.people.get(self.gate, authorization, kind, name, person_id, query, base)
            )
            return
        if People.is_film(path):
            film = self.people.film(path)
            if film is None:
                self._answer(404, NOT_FOUND)
            else:
                self._answer_bytes(200, *film)
            return
        match = _INSPECT_PATH.fullmatch(path)
        if match:
            error = self.gate.token_error(self.headers.get("Authorization"))
            if error:
                self._answer(401, {"detail": error}, {"WWW-Authenticate": "Token"})
            elif not self.campaigns.exists(match.group(1), create=False):
                self._answer(404, NOT_FOUND)
            else:
                self._answer(200, self.campaigns.received(match.group(1)))
            return
        if _RECEIVERS_PATH.fullmatch(path):
            self._answer(405, {"detail": 'Method "GET" not allowed.'}, {"Allow": "POST, OPTIONS"})
            return
        self._answer(404, NOT_FOUND)

    def do_POST(self) -> None:
        gate = self.gate
        self._arrived = time.monotonic()
        path = urlsplit(self.path).path
        match = _RECEIVERS_PATH.fullmatch(path)
        data_match = _DATA_PATH.fullmatch(path)
        campaign = match.group(1) if match else ""
        if data_match:
            campaign = "/".join(data_match.groups())  # the 2.0 target's key, for the log
        body = self._read_body()
        if body is None:
            return
        request = Request.read(self.headers, body)
        count = request.count
        fault = gate.next_fault()
        if fault == "drop_before":
            self._drop(campaign, count)
            return
        if fault in ("503", "500"):
            status = int(fault)
            detail = (
                "Service temporarily unavailable, try again later."
                if status == 503
                else "A server error occurred."
            )
            gate.record(campaign, count, status)  # before answering: a client may look next
            self._answer(status, {"detail": detail})
            return
        if fault == "429":
            gate.record(campaign, count, 429)
            detail = "Request was throttled. Expected available in 1 seconds."
            self._answer(429, {"detail": detail}, {"Retry-After": "1"})
            return
        answer: Answer
        if data_match:
            kind, name = data_match.groups()
            answer = self.people.create(gate, request, kind, name, self.server.url)
        elif match:
            answer = self.campaigns.post(gate, request, campaign)
        else:
            answer = 404, NOT_FOUND, {}
        if fault == "drop_after":
            self._drop(campaign, count)
            return
        if fault == "timeout_after":
            self._drop(campaign, count)  # logged now, so the log is complete while it hangs
            gate.pause(gate.hang_seconds)
            return
        gate.record(campaign, count, answer[0])
        self._answer(*answer)
        if answer[0] == 201 and self.calls_back is not None:  # SEEN makes the films, later
            kind, name = data_match.groups() if data_match else ("campaign", campaign)
            made = request.data if isinstance(request.data, list) else [request.data]
            self.calls_back.created(kind, name, made, self.server.url)

    def _drop(self, campaign: str, count: int) -> None:
        """Hang up without a word, as a proxy or a crashing server would."""
        self.gate.record(campaign, count, 0)
        self._wait_latency()
        self.close_connection = True

    # -- plumbing --------------------------------------------------------------------------

    def _read_body(self) -> bytes | None:
        """The body by Content-Length; None when the answer is already sent."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self._answer(411, {"detail": "A Content-Length header is required."})
            return None
        try:
            length = int(self.headers.get("Content-Length", "0"))
            if length < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            self._answer(400, {"detail": "Invalid Content-Length header."})
            return None
        if length > max(self.gate.max_body_bytes, _DRAIN_LIMIT):
            # Not worth reading: answer, then close so the unread rest is dropped with it.
            self.close_connection = True
            self._answer(413, {"detail": "Request entity too large."})
            return None
        return self.rfile.read(length)

    def _wait_latency(self) -> None:
        # `latency` is the time from a request's arrival to its answer, the sandbox's own work
        # included, as a server with that response time behaves; not work plus latency.
        self.gate.pause(self._arrived + self.gate.latency - time.monotonic())

    def _answer(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._answer_bytes(status, body, "application/json", headers)

    def _answer_bytes(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self._wait_latency()
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
