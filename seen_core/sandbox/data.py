"""SEEN API 2.0 as the sandbox answers it: Create on `/v1/workspaces/{id}/data` (and
`/v1/projects/{id}/data`), List there, Retrieve on `…/data/{id}`; each person gets made-up video
links (a player page and thumbnails) that work while the sandbox runs."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from seen_core.sandbox.fields import KEY, PHONE, is_email
from seen_core.sandbox.gate import Answer, Gate, Request

_DATA_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_PLAYER_PATH = re.compile(r"/_sandbox/players/([0-9a-f]{20})")
_THUMBNAIL_PATH = re.compile(r"/_sandbox/thumbnails/([0-9a-f]{20})(-email)?\.png")
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


class People:
    """The people of each workspace and project (keys like `workspace/ws-1`), by id.

    `workspaces`, `projects`: the ones that exist (None: any well-formed id). `video_wait`: the
    first N looks at a person show no video yet; `videos_not_ready`: that share of people
    (chosen by their id) have none until `finish_videos()`.
    """

    def __init__(
        self,
        *,
        workspaces: Iterable[str] | None,
        projects: Iterable[str] | None,
        video_wait: int,
        videos_not_ready: float,
    ) -> None:
        self._known: dict[str, set[str] | None] = {
            "workspace": None if workspaces is None else set(workspaces),
            "project": None if projects is None else set(projects),
        }
        self.video_wait = video_wait
        self.videos_not_ready = videos_not_ready
        self._lock = threading.Lock()
        # target key → person id → {"values", "looks", "token"}
        self._people: dict[str, dict[str, dict[str, Any]]] = {}
        self._tokens: set[str] = set()  # of the made-up films
        self._videos_finished = False
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._people = {
                f"{kind}/{name}": {}
                for kind, known in self._known.items()
                for name in sorted(known or ())
            }
            self._tokens = set()
            self._videos_finished = False

    def finish_videos(self) -> None:
        with self._lock:
            self._videos_finished = True

    # -- the API ----------------------------------------------------------------------------

    def create(self, gate: Gate, request: Request, kind: str, name: str, base: str) -> Answer:
        """Create the person, or update the one with that id; `base` is the sandbox's URL."""
        auth_error = gate.bearer_error(request.authorization)
        if auth_error:
            return 401, {"message": auth_error}, {"WWW-Authenticate": "Bearer"}
        wait = gate.throttle()
        if wait is not None:
            return 429, {"message": "Too many requests."}, {"Retry-After": str(wait)}
        if not self._exists(kind, name):
            return 404, {"message": f"{kind.capitalize()} not found."}, {}
        if not request.is_json:
            return 415, {"message": f"Unsupported content type '{request.content_type}'."}, {}
        if request.size > gate.max_body_bytes:
            return 413, {"message": "Request entity too large."}, {}
        if request.parse_error is not None:
            return 400, {"message": request.parse_error}, {}
        problem = _validate(request.data)
        if problem:
            return 400, {"message": problem}, {}
        return 201, self._store(f"{kind}/{name}", request.data, base), {}

    def get(
        self,
        gate: Gate,
        authorization: str | None,
        kind: str,
        name: str,
        person_id: str | None,
        query: dict[str, list[str]],
        base: str,
    ) -> Answer:
        """Retrieve (`person_id`, percent-encoded) or List (`query`), logged as a lookup."""
        key = f"{kind}/{name}"
        auth_error = gate.bearer_error(authorization)
        if auth_error:
            gate.lookup(key, 401)
            return 401, {"message": auth_error}, {"WWW-Authenticate": "Bearer"}
        wait = gate.throttle()
        if wait is not None:
            gate.lookup(key, 429)
            return 429, {"message": "Too many requests."}, {"Retry-After": str(wait)}
        if not self._exists(kind, name):
            gate.lookup(key, 404)
            return 404, {"message": f"{kind.capitalize()} not found."}, {}
        if person_id is not None:
            found = self._retrieve(key, unquote(person_id), base)
            status, payload = (200, found) if found else (404, {"message": "Not found."})
        else:
            try:
                limit = int(query.get("limit", [_LIST_LIMIT])[0])
                offset = int(query.get("offset", [0])[0])
                if limit < 0 or offset < 0:
                    raise ValueError
            except ValueError:
                status, payload = 400, {"message": "limit and offset must be whole numbers."}
            else:
                wanted = query.get("q", [None])[0]
                status, payload = 200, self._list(key, wanted, limit, offset, base)
        gate.lookup(key, status)
        return status, payload, {}

    @staticmethod
    def is_film(path: str) -> bool:
        return bool(_PLAYER_PATH.fullmatch(path) or _THUMBNAIL_PATH.fullmatch(path))

    def film(self, path: str) -> tuple[bytes, str] | None:
        """A made-up player page or thumbnail (body, content type); None when nobody has it."""
        player = _PLAYER_PATH.fullmatch(path)
        match = player or _THUMBNAIL_PATH.fullmatch(path)
        with self._lock:
            if match is None or match.group(1) not in self._tokens:
                return None
        if player:
            return _PLAYER_PAGE, "text/html; charset=utf-8"
        return _THUMBNAIL, "image/png"

    # -- what tests and the app look at -----------------------------------------------------

    def people(self, key: str) -> list[dict[str, Any]]:
        with self._lock:
            held = self._people.get(key, {})
            return [
                {"id": person_id, "values": json.loads(json.dumps(person["values"]))}
                for person_id, person in held.items()
            ]

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {key: len(held) for key, held in sorted(self._people.items())}

    def overview(self) -> dict[str, dict[str, int]]:
        """`workspaces` and `projects` by id → people, each only when there is one to show."""
        counts = self.counts()
        shown = {}
        for kind in ("workspace", "project"):
            held = {k.partition("/")[2]: n for k, n in counts.items() if k.startswith(kind)}
            if held or self._known[kind]:
                shown[f"{kind}s"] = held
        return shown

    # -- the people held ---------------------------------------------------------------------

    def _exists(self, kind: str, name: str) -> bool:
        if not _DATA_ID.fullmatch(name):
            return False
        known = self._known[kind]
        with self._lock:
            if known is None:
                self._people.setdefault(f"{kind}/{name}", {})
                return True
            return name in known

    def _store(self, key: str, person: dict[str, Any], base: str) -> dict[str, Any]:
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
            return self._item(key, person_id, base, look=False)

    def _item(self, key: str, person_id: str, base: str, *, look: bool = True) -> dict[str, Any]:
        """A person as List and Retrieve show them; a look counts towards `video_wait`.
        Call with the lock held."""
        person = self._people[key][person_id]
        if look:
            person["looks"] += 1
        token = person["token"]
        held_back = int(token[:8], 16) / 0xFFFFFFFF < self.videos_not_ready
        ready = person["looks"] > self.video_wait and (self._videos_finished or not held_back)
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

    def _retrieve(self, key: str, person_id: str, base: str) -> dict[str, Any] | None:
        with self._lock:
            if person_id not in self._people.get(key, {}):
                return None
            return self._item(key, person_id, base)

    def _list(
        self, key: str, query: str | None, limit: int, offset: int, base: str
    ) -> dict[str, Any]:
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
            return {"count": len(matching), "data": [self._item(key, p, base) for p in page]}


def _validate(item: Any) -> str | None:
    """Why a Create body is refused, or None. 2.0 documents no error bodies; these are the
    sandbox's own."""
    if isinstance(item, list):
        return "Arrays are not supported: send one object per request."
    if not isinstance(item, dict):
        return "The body must be one JSON object."
    person_id = item.get("id")
    if not isinstance(person_id, str) or not person_id.strip():
        return "The field 'id' is required and must be a non-empty string."
    for name, value in item.items():
        if not KEY.fullmatch(name):
            return f"The property '{name}' may only hold the letters A-Z, a-z, digits and _."
        if value is not None and (
            isinstance(value, dict | list) or not isinstance(value, str | int | float | bool)
        ):
            return f"The property '{name}' must be a string, number or boolean."
        if isinstance(value, str) and "\x00" in value:
            return f"The property '{name}' holds a null character."
    email, phone = item.get("email"), item.get("phone")
    if email not in (None, "") and not (isinstance(email, str) and is_email(email.strip())):
        return "The property 'email' is not a valid email address."
    if phone not in (None, "") and not (isinstance(phone, str) and PHONE.fullmatch(phone)):
        return "The property 'phone' is not a valid phone number in E.164 format."
    return None
