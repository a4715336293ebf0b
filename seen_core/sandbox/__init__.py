"""A local SEEN stand-in: a real HTTP server on 127.0.0.1 that answers like SEEN's v1 API and
SEEN API 2.0 (Create, List and Retrieve, with made-up video links that work while it runs)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import math
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["DEFAULT_TOKEN", "FAULTS", "Sandbox"]

DEFAULT_TOKEN = "sandbox-token"
FAULTS = ("503", "500", "429", "drop_before", "drop_after", "timeout_after")

_RECEIVERS_PATH = re.compile(r"/v1/campaigns/([^/]+)/receivers/")
_INSPECT_PATH = re.compile(r"/_sandbox/campaigns/([^/]+)/receivers/")
# SEEN API 2.0: Create and List on …/data, Retrieve on …/data/{id} (the id percent-encoded).
_DATA_PATH = re.compile(r"/v1/(workspace|project)s/([^/]+)/data")
_ITEM_PATH = re.compile(r"/v1/(workspace|project)s/([^/]+)/data/([^/]+)")
_PLAYER_PATH = re.compile(r"/_sandbox/players/([0-9a-f]{20})")
_THUMBNAIL_PATH = re.compile(r"/_sandbox/thumbnails/([0-9a-f]{20})(-email)?\.png")
_DATA_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SLUG = re.compile(r"[A-Za-z0-9_-]+")
_PHONE = re.compile(r"\+[1-9]\d{6,14}")
_SPACE = re.compile(r"\s")
_EXTRA_KEY = re.compile(r"[A-Za-z0-9_]+")
# Close to Django's EmailValidator: dot-atom local part, dotted domain with a letter TLD.
_EMAIL_USER = re.compile(r"[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+)*")
_EMAIL_DOMAIN = re.compile(
    r"((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+)(?:[A-Za-z0-9-]{2,63}(?<!-))"
)
_STRING_FIELDS = ("first_name", "last_name", "email", "phone", "customer_id")
# A body this much over the limit is not read at all: the connection is closed after the 413.
_DRAIN_LIMIT = 64 * 1024 * 1024

_REQUIRED = "This field is required."
_NULL = "This field may not be null."
_BLANK = "This field may not be blank."
_DUPLICATE = "A receiver with this ID already exists."
_LIST_LIMIT = 100  # List's page size when none is asked for
# An 8×8 grey PNG: the made-up thumbnail of every made-up film.
_THUMBNAIL = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000080000000808020000004b6d29"
    "dc0000000f4944415478da63d88203300c2d0900bfd4870190e83e8b00000000"
    "49454e44ae426082"
)
_PLAYER_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>SEEN sandbox film</title>"
    b"<p>This is where SEEN would play this person's film. The sandbox made this link up; "
    b"nothing was sent to SEEN.</p>"
)


class Sandbox:
    """SEEN's `POST /v1/campaigns/{slug}/receivers/` and 2.0's `/v1/workspaces/{id}/data`
    (and `/v1/projects/{id}/data`) on loopback, with knobs for bad days.

    `campaigns`, `workspaces`, `projects`: the ones that exist (None: any well-formed one).
    `video_wait`: the first N looks at a 2.0 person show no video yet; `videos_not_ready`: that
    share of people (chosen by their id) have none until `finish_videos()`.
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
    ) -> None:
        if not token:
            raise ValueError("The sandbox needs a token.")
        if not 0.0 <= videos_not_ready <= 1.0:
            raise ValueError("videos_not_ready is a share of people, from 0 to 1.")
        self.host = host
        self.port = port
        self.latency = latency
        self.rate_limit = rate_limit
        self.max_batch = max_batch
        self.max_body_bytes = max_body_bytes
        self.hang_seconds = hang_seconds
        self._token = token
        # None: every well-formed slug exists, as the app needs; a set: only these exist.
        self._known = None if campaigns is None else set(campaigns)
        self._known_data: dict[str, set[str] | None] = {
            "workspace": None if workspaces is None else set(workspaces),
            "project": None if projects is None else set(projects),
        }
        self.video_wait = video_wait
        self.videos_not_ready = videos_not_ready
        # 2.0: target key (`workspace/ws-1`) → person id → {"values", "looks", "token"}.
        self._people: dict[str, dict[str, dict[str, Any]]] = {}
        self._tokens: set[str] = set()
        self._videos_finished = False
        self._lookups: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._stores: dict[str, list[dict[str, Any]]] = {}
        self._customer_ids: dict[str, set[str]] = {}
        self._next_id = 1
        self._log: list[tuple[str, int, int]] = []
        self._faults: deque[str] = deque()
        self._recent: deque[float] = deque()  # times of requests let through the rate limit
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("The sandbox is not started.")
        host, port = self._server.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in str(host) else f"http://{host}:{port}"

    def start(self) -> Sandbox:
        """Serve in a background thread and return at once; port 0 picks a free port."""
        self._bind()
        assert self._server is not None
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="seen-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until Ctrl-C (for `python -m seen_core sandbox`)."""
        self._bind()
        assert self._server is not None
        try:
            self._server.serve_forever(poll_interval=0.05)
        except KeyboardInterrupt:
            pass
        finally:
            self._close()

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes requests sleeping in latency or a hang
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

    def _bind(self) -> None:
        if self._server is not None:
            raise RuntimeError("The sandbox is already running.")
        self._stopping.clear()
        handler = type("_BoundHandler", (_Handler,), {"sandbox": self})
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        server_class = type("_BoundServer", (_Server,), {"address_family": family})
        self._server = server_class((self.host, self.port), handler)

    def _close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            self._stopping.set()
            server.server_close()
            server.close_connections()

    # -- knobs and inspection --------------------------------------------------------------

    def inject(self, *faults: str) -> None:
        """Queue faults; each POST (v1 or 2.0) takes the next one: 503, 500, 429, drop_before,
        drop_after (stored, then the connection drops), timeout_after (stored, then it hangs)."""
        unknown = [f for f in faults if f not in FAULTS]
        if unknown:
            raise ValueError(f"Unknown fault {unknown[0]!r}; choose from {', '.join(FAULTS)}.")
        with self._lock:
            self._faults.extend(faults)

    def received(self, campaign: str) -> list[dict]:
        """The receivers stored for a campaign, in the order they were created (copies)."""
        with self._lock:
            return json.loads(json.dumps(self._stores.get(campaign, [])))

    def campaigns(self) -> dict[str, int]:
        with self._lock:
            return {slug: len(stored) for slug, stored in sorted(self._stores.items())}

    @property
    def requests_log(self) -> list[tuple[str, int, int]]:
        """(campaign or 2.0 target key, people in the request, status answered or 0 when none)
        per POST."""
        with self._lock:
            return list(self._log)

    @property
    def lookups_log(self) -> list[tuple[str, int]]:
        """(2.0 target key, status answered) per List or Retrieve."""
        with self._lock:
            return list(self._lookups)

    def people(self, target_key: str) -> list[dict[str, Any]]:
        """The people a 2.0 workspace or project holds (`workspace/ws-1`), in the order they were
        first created, each `{"id", "values"}` (copies)."""
        with self._lock:
            held = self._people.get(target_key, {})
            return [
                {"id": person_id, "values": json.loads(json.dumps(person["values"]))}
                for person_id, person in held.items()
            ]

    def data_targets(self) -> dict[str, int]:
        """2.0 target key → how many people it holds."""
        with self._lock:
            return {key: len(held) for key, held in sorted(self._people.items())}

    def finish_videos(self) -> None:
        """Every person's video is ready from now on (after `videos_not_ready`)."""
        with self._lock:
            self._videos_finished = True

    def reset(self) -> None:
        """Forget every stored receiver, logged request, queued fault and rate-limit count."""
        with self._lock:
            self._stores = {slug: [] for slug in self._known or ()}
            self._customer_ids = {slug: set() for slug in self._known or ()}
            self._next_id = 1
            self._log = []
            self._people = {
                f"{kind}/{name}": {}
                for kind, known in self._known_data.items()
                for name in sorted(known or ())
            }
            self._tokens = set()
            self._videos_finished = False
            self._lookups = []
            self._faults.clear()
            self._recent.clear()

    # -- what the handler asks of the sandbox ----------------------------------------------

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _auth_error(self, header: str | None) -> str | None:
        """DRF TokenAuthentication's messages, or None when the token is right."""
        parts = (header or "").split()
        if not parts or parts[0].lower() != "token":
            return "Authentication credentials were not provided."
        if len(parts) == 1:
            return "Invalid token header. No credentials provided."
        if len(parts) > 2:
            return "Invalid token header. Token string should not contain spaces."
        if not hmac.compare_digest(parts[1].encode(), self._token.encode()):
            return "Invalid token."
        return None

    def _campaign_exists(self, slug: str, *, create: bool) -> bool:
        if not _SLUG.fullmatch(slug):
            return False
        with self._lock:
            if slug in self._stores:
                return True
            if self._known is None and create:
                self._stores[slug] = []
                self._customer_ids[slug] = set()
            return self._known is None

    def _throttle(self) -> int | None:
        """Seconds to wait when over the sliding-window rate limit, else None (and count it)."""
        if self.rate_limit is None:
            return None
        limit, window = self.rate_limit
        now = time.monotonic()
        with self._lock:
            while self._recent and self._recent[0] <= now - window:
                self._recent.popleft()
            if len(self._recent) >= limit:
                return max(1, math.ceil(self._recent[0] + window - now))
            self._recent.append(now)
        return None

    def _next_fault(self) -> str | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _record(self, campaign: str, count: int, status: int) -> None:
        with self._lock:
            self._log.append((campaign, count, status))

    def _store(self, campaign: str, items: list[Any]) -> tuple[int, Any]:
        """Validate a batch and store all of it or nothing, under one lock."""
        with self._lock:
            taken = self._customer_ids.setdefault(campaign, set())
            in_batch: set[str] = set()
            errors: list[dict[str, Any]] = []
            cleaned: list[dict[str, Any]] = []
            for item in items:
                receiver, problems = _validate(item)
                customer_id = receiver.get("customer_id")
                if customer_id is not None and "customer_id" not in problems:
                    if customer_id in taken or customer_id in in_batch:
                        problems["customer_id"] = [_DUPLICATE]
                    in_batch.add(customer_id)
                errors.append(problems)
                cleaned.append(receiver)
            if any(errors):
                return 400, errors
            created = []
            for receiver in cleaned:
                created.append({"id": self._next_id, **receiver})
                self._next_id += 1
            self._stores.setdefault(campaign, []).extend(created)
            taken.update(in_batch)
            return 201, created

    # -- SEEN API 2.0 ------------------------------------------------------------------------

    def _bearer_error(self, header: str | None) -> str | None:
        """Why a 2.0 request's Authorization is refused, or None when it is `Bearer <token>`."""
        parts = (header or "").split()
        if len(parts) != 2 or parts[0].lower() != "bearer":
            return "Missing or malformed bearer token."
        if not hmac.compare_digest(parts[1].encode(), self._token.encode()):
            return "Invalid bearer token."
        return None

    def _data_target_exists(self, kind: str, name: str) -> bool:
        if not _DATA_ID.fullmatch(name):
            return False
        known = self._known_data[kind]
        with self._lock:
            if known is None:
                self._people.setdefault(f"{kind}/{name}", {})
                return True
            return name in known

    def _lookup(self, key: str, status: int) -> None:
        with self._lock:
            self._lookups.append((key, status))

    def _store_person(self, key: str, person: dict[str, Any]) -> dict[str, Any]:
        """Create the person, or update the one with that id: same id, same person."""
        person_id = person["id"]
        values = {name: value for name, value in person.items() if name != "id"}
        with self._lock:
            held = self._people.setdefault(key, {})
            if person_id in held:
                held[person_id]["values"].update(values)
            else:
                token = hashlib.sha256(f"{key}\0{person_id}".encode()).hexdigest()[:20]
                held[person_id] = {"values": values, "looks": 0, "token": token}
                self._tokens.add(token)
            return self._item(key, person_id, look=False)

    def _item(self, key: str, person_id: str, *, look: bool = True) -> dict[str, Any]:
        """A person as List and Retrieve show them; a look counts towards `video_wait`.
        Call with the lock held."""
        person = self._people[key][person_id]
        if look:
            person["looks"] += 1
        token = person["token"]
        held_back = int(token[:8], 16) / 0xFFFFFFFF < self.videos_not_ready
        ready = person["looks"] > self.video_wait and (self._videos_finished or not held_back)
        base = self.url
        output: dict[str, Any] = {"id": f"jo-{token}", "players": [], "motions": []}
        output["webhook"] = None
        if ready:
            output["players"] = [{"id": f"pl-{token}", "link": f"{base}/_sandbox/players/{token}"}]
            output["motions"] = [
                {
                    "id": f"mo-{token}",
                    "thumbnail": f"{base}/_sandbox/thumbnails/{token}.png",
                    "emailThumbnail": f"{base}/_sandbox/thumbnails/{token}-email.png",
                }
            ]
        return {
            "id": person_id,
            "values": json.loads(json.dumps(person["values"])),
            "journeyOutputs": [output],
        }

    def _retrieve(self, key: str, person_id: str) -> dict[str, Any] | None:
        with self._lock:
            if person_id not in self._people.get(key, {}):
                return None
            return self._item(key, person_id)

    def _list(self, key: str, query: str | None, limit: int, offset: int) -> dict[str, Any]:
        field, _, wanted = (query or "").partition(":")
        with self._lock:
            held = self._people.get(key, {})
            matching = [
                person_id
                for person_id, person in held.items()
                if not query
                or (field == "id" and person_id == wanted)
                or (field in person["values"] and str(person["values"][field]) == wanted)
            ]
            page = matching[offset : offset + limit]
            return {"count": len(matching), "data": [self._item(key, p) for p in page]}

    def _has_token(self, token: str) -> bool:
        with self._lock:
            return token in self._tokens


def _validate_person(item: Any) -> str | None:
    """Why a 2.0 Create body is refused, or None. 2.0 documents no error bodies; these are
    the sandbox's own."""
    if isinstance(item, list):
        return "Arrays are not supported: send one object per request."
    if not isinstance(item, dict):
        return "The body must be one JSON object."
    person_id = item.get("id")
    if not isinstance(person_id, str) or not person_id.strip():
        return "The field 'id' is required and must be a non-empty string."
    for name, value in item.items():
        if not _EXTRA_KEY.fullmatch(name):
            return f"The property '{name}' may only hold the letters A-Z, a-z, digits and _."
        if value is not None and (
            isinstance(value, dict | list) or not isinstance(value, str | int | float | bool)
        ):
            return f"The property '{name}' must be a string, number or boolean."
        if isinstance(value, str) and "\x00" in value:
            return f"The property '{name}' holds a null character."
    email, phone = item.get("email"), item.get("phone")
    if email not in (None, "") and not (isinstance(email, str) and _is_email(email.strip())):
        return "The property 'email' is not a valid email address."
    if phone not in (None, "") and not (isinstance(phone, str) and _PHONE.fullmatch(phone)):
        return "The property 'phone' is not a valid phone number in E.164 format."
    return None


def _validate(item: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """One receiver as DRF would see it: (cleaned fields, errors by field)."""
    if not isinstance(item, dict):
        kind = type(item).__name__
        return {}, {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}
    cleaned: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for field in _STRING_FIELDS:
        if field not in item:
            if field == "first_name":
                errors[field] = [_REQUIRED]
            continue
        value = item[field]
        if value is None:
            errors[field] = [_NULL]
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            errors[field] = ["Not a valid string."]
            continue
        text = str(value).strip()  # DRF's CharField trims and turns numbers into text
        if not text:
            errors[field] = [_BLANK]
        elif "\x00" in text:
            errors[field] = ["Null characters are not allowed."]
        elif field == "email" and not _is_email(text):
            errors[field] = ["Enter a valid email address."]
        elif field == "phone" and not _PHONE.fullmatch(text):
            errors[field] = ["Enter a valid phone number."]
        else:
            cleaned[field] = text
    if "extra_args" in item:
        extra = item["extra_args"]
        if extra is None:
            errors["extra_args"] = [_NULL]
        elif not isinstance(extra, dict):
            kind = type(extra).__name__
            errors["extra_args"] = [f'Expected a dictionary of items but got type "{kind}".']
        else:
            extra_errors: dict[str, list[str]] = {}
            for key, value in extra.items():
                if not _EXTRA_KEY.fullmatch(key):
                    extra_errors[key] = ["Use only the letters A-Z, a-z, digits and _ in keys."]
                elif value is None or not isinstance(value, str | int | float | bool):
                    extra_errors[key] = ["Expected a string, number or boolean."]
            if extra_errors:
                errors["extra_args"] = extra_errors
            else:
                cleaned["extra_args"] = dict(extra)
    return cleaned, errors


def _is_email(text: str) -> bool:
    user, at, domain = text.rpartition("@")
    if not at or not user or not domain or _SPACE.search(text):
        return False
    if not _EMAIL_USER.fullmatch(user) and not re.fullmatch(r'"[^"\\\r\n]*"', user):
        return False
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")  # Django accepts international domains
        except UnicodeError:
            return False
    return bool(_EMAIL_DOMAIN.fullmatch(domain))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 64

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

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


class _Handler(BaseHTTPRequestHandler):
    sandbox: Sandbox  # set on the per-sandbox subclass
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
            overview = {"campaigns": self.sandbox.campaigns()}
            data_targets = self.sandbox.data_targets()
            for kind in ("workspace", "project"):
                held = {
                    k.partition("/")[2]: n for k, n in data_targets.items() if k.startswith(kind)
                }
                if held or self.sandbox._known_data[kind]:
                    overview[f"{kind}s"] = held
            self._answer(200, overview)
            return
        item = _ITEM_PATH.fullmatch(path)
        if item:
            self._data_get(*item.groups())
            return
        listing = _DATA_PATH.fullmatch(path)
        if listing:
            self._data_get(*listing.groups(), None, parse_qs(parts.query))
            return
        if self._made_up_video(path):
            return
        match = _INSPECT_PATH.fullmatch(path)
        if match:
            if not self._authenticated():
                return
            slug = match.group(1)
            if not self.sandbox._campaign_exists(slug, create=False):
                self._answer(404, {"detail": "Not found."})
                return
            self._answer(200, self.sandbox.received(slug))
            return
        if _RECEIVERS_PATH.fullmatch(path):
            self._answer(405, {"detail": 'Method "GET" not allowed.'}, {"Allow": "POST, OPTIONS"})
            return
        self._answer(404, {"detail": "Not found."})

    def do_POST(self) -> None:
        sandbox = self.sandbox
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
        try:
            data: Any = json.loads(body.decode("utf-8"), parse_constant=_no_constants)
            parse_error = None
        except (UnicodeDecodeError, ValueError) as exc:
            data, parse_error = None, f"JSON parse error - {exc}"
        count = len(data) if isinstance(data, list) else 1 if isinstance(data, dict) else 0
        fault = sandbox._next_fault()
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
            sandbox._record(campaign, count, status)  # before answering: a client may look next
            self._answer(status, {"detail": detail})
            return
        if fault == "429":
            sandbox._record(campaign, count, 429)
            detail = "Request was throttled. Expected available in 1 seconds."
            self._answer(429, {"detail": detail}, {"Retry-After": "1"})
            return
        if data_match:
            status, payload, headers = self._data_create(
                *data_match.groups(), body, data, parse_error
            )
        else:
            status, payload, headers = self._receivers(match, campaign, body, data, parse_error)
        if fault == "drop_after":
            self._drop(campaign, count)
            return
        if fault == "timeout_after":
            self._drop(campaign, count)  # logged now, so the log is complete while it hangs
            sandbox._pause(sandbox.hang_seconds)
            return
        sandbox._record(campaign, count, status)
        self._answer(status, payload, headers)

    def _receivers(
        self,
        match: re.Match[str] | None,
        campaign: str,
        body: bytes,
        data: Any,
        parse_error: str | None,
    ) -> tuple[int, Any, dict[str, str]]:
        """(status, payload, extra headers) after DRF's checks in DRF's order."""
        sandbox = self.sandbox
        if match is None:
            return 404, {"detail": "Not found."}, {}
        auth_error = sandbox._auth_error(self.headers.get("Authorization"))
        if auth_error:
            return 401, {"detail": auth_error}, {"WWW-Authenticate": "Token"}
        wait = sandbox._throttle()
        if wait is not None:
            detail = f"Request was throttled. Expected available in {wait} seconds."
            return 429, {"detail": detail}, {"Retry-After": str(wait)}
        if not sandbox._campaign_exists(campaign, create=True):
            return 404, {"detail": "Not found."}, {}
        content_type = self.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            return 415, {"detail": f'Unsupported media type "{content_type}" in request.'}, {}
        if len(body) > sandbox.max_body_bytes:
            return 413, {"detail": "Request entity too large."}, {}
        if parse_error is not None:
            return 400, {"detail": parse_error}, {}
        if not isinstance(data, list):
            kind = type(data).__name__
            return (
                400,
                {"non_field_errors": [f'Expected a list of items but got type "{kind}".']},
                {},
            )
        if not data:
            return 400, {"non_field_errors": ["This list may not be empty."]}, {}
        if len(data) > sandbox.max_batch:
            return 413, {"detail": "Request entity too large."}, {}
        status, payload = sandbox._store(campaign, data)
        return status, payload, {}

    def _data_create(
        self, kind: str, name: str, body: bytes, data: Any, parse_error: str | None
    ) -> tuple[int, Any, dict[str, str]]:
        """2.0 Create: (status, payload, extra headers)."""
        sandbox = self.sandbox
        auth_error = sandbox._bearer_error(self.headers.get("Authorization"))
        if auth_error:
            return 401, {"message": auth_error}, {"WWW-Authenticate": "Bearer"}
        wait = sandbox._throttle()
        if wait is not None:
            return 429, {"message": "Too many requests."}, {"Retry-After": str(wait)}
        if not sandbox._data_target_exists(kind, name):
            return 404, {"message": f"{kind.capitalize()} not found."}, {}
        content_type = self.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            return 415, {"message": f"Unsupported content type '{content_type}'."}, {}
        if len(body) > sandbox.max_body_bytes:
            return 413, {"message": "Request entity too large."}, {}
        if parse_error is not None:
            return 400, {"message": parse_error}, {}
        problem = _validate_person(data)
        if problem:
            return 400, {"message": problem}, {}
        return 201, sandbox._store_person(f"{kind}/{name}", data), {}

    def _data_get(
        self, kind: str, name: str, person_id: str | None, query: dict[str, list[str]] | None = None
    ) -> None:
        """2.0 Retrieve (`person_id`) or List (`query`)."""
        sandbox = self.sandbox
        key = f"{kind}/{name}"
        auth_error = sandbox._bearer_error(self.headers.get("Authorization"))
        if auth_error:
            sandbox._lookup(key, 401)
            self._answer(401, {"message": auth_error}, {"WWW-Authenticate": "Bearer"})
            return
        wait = sandbox._throttle()
        if wait is not None:
            sandbox._lookup(key, 429)
            self._answer(429, {"message": "Too many requests."}, {"Retry-After": str(wait)})
            return
        if not sandbox._data_target_exists(kind, name):
            sandbox._lookup(key, 404)
            self._answer(404, {"message": f"{kind.capitalize()} not found."})
            return
        if person_id is not None:
            found = sandbox._retrieve(key, unquote(person_id))
            status, payload = (200, found) if found else (404, {"message": "Not found."})
        else:
            query = query or {}
            try:
                limit = int(query.get("limit", [_LIST_LIMIT])[0])
                offset = int(query.get("offset", [0])[0])
                if limit < 0 or offset < 0:
                    raise ValueError
            except ValueError:
                status, payload = 400, {"message": "limit and offset must be whole numbers."}
            else:
                status, payload = 200, sandbox._list(key, query.get("q", [None])[0], limit, offset)
        sandbox._lookup(key, status)
        self._answer(status, payload)

    def _made_up_video(self, path: str) -> bool:
        """Serve a made-up player page or thumbnail; False when the path is neither."""
        player = _PLAYER_PATH.fullmatch(path)
        thumbnail = _THUMBNAIL_PATH.fullmatch(path)
        token = (player or thumbnail).group(1) if player or thumbnail else None
        if token is None:
            return False
        if not self.sandbox._has_token(token):
            self._answer(404, {"detail": "Not found."})
        elif player:
            self._answer_bytes(200, _PLAYER_PAGE, "text/html; charset=utf-8")
        else:
            self._answer_bytes(200, _THUMBNAIL, "image/png")
        return True

    def _drop(self, campaign: str, count: int) -> None:
        """Hang up without a word, as a proxy or a crashing server would."""
        self.sandbox._record(campaign, count, 0)
        self._wait_latency()
        self.close_connection = True

    # -- plumbing --------------------------------------------------------------------------

    def _authenticated(self) -> bool:
        error = self.sandbox._auth_error(self.headers.get("Authorization"))
        if error:
            self._answer(401, {"detail": error}, {"WWW-Authenticate": "Token"})
        return error is None

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
        if length > max(self.sandbox.max_body_bytes, _DRAIN_LIMIT):
            # Not worth reading: answer, then close so the unread rest is dropped with it.
            self.close_connection = True
            self._answer(413, {"detail": "Request entity too large."})
            return None
        return self.rfile.read(length)

    def _wait_latency(self) -> None:
        # `latency` is the time from a request's arrival to its answer, the sandbox's own work
        # included, as a server with that response time behaves; not work plus latency.
        self.sandbox._pause(self._arrived + self.sandbox.latency - time.monotonic())

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


def _no_constants(name: str) -> Any:
    # DRF's strict JSON parser refuses NaN and Infinity.
    raise ValueError("Out of range float values are not permitted")
