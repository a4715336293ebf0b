"""One call from SEEN, read: who sent it (its secret), what it is (a film, a viewer's event),
and whom it concerns — or the refusal to answer with.

Pure functions over the body's bytes and the Authorization header; `routes` does the HTTP.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from seen_core.engagement.secrets import CallbackSecrets, carries
from seen_core.send.targets import CAMPAIGN_SLUG, DATA_TARGET_ID, key_for

MAX_BODY_BYTES = 64 * 1024
# 2.0 External Events SEEN sends (DESIGN: player-opened … cta-clicked); others are kept too.
EVENTS = ("player-opened", "video-played", "video-watched", "share-clicked", "cta-clicked")
# What each figure counts: clicked is either click.
OPENED, PLAYED, WATCHED = "player-opened", "video-played", "video-watched"
CLICKED = ("share-clicked", "cta-clicked")
_TEXT_LIMIT = 2048  # a link or an id longer than this is not one


@dataclass(frozen=True)
class Refusal:
    """An answer other than "stored": its HTTP status and a message that names no person."""

    status: int
    message: str


UNAUTHORIZED = Refusal(401, "Unauthorized.")
NO_ADDRESS = Refusal(404, "Not found.")
TOO_LARGE = Refusal(413, f"The body is larger than {MAX_BODY_BYTES // 1024} KB.")
NOT_JSON_TYPE = Refusal(415, "The body must be JSON (Content-Type: application/json).")
NOT_JSON = Refusal(400, "The body must be a JSON object.")


@dataclass(frozen=True)
class Film:
    """A person's film is made: its links as SEEN gave them; `raw` the whole body."""

    target: str  # the journal's key of the target: `spring`, `workspace/ws-1`
    person: str  # v1 customer_id, 2.0 id
    film: str | None
    thumbnail: str | None
    email_thumbnail: str | None
    raw: str


@dataclass(frozen=True)
class Event:
    """A viewer did something with their film (2.0 External Events)."""

    target: str
    person: str
    event: str
    timestamp: str
    raw: str


def content_type_refused(content_type: str | None) -> Refusal | None:
    """415 for a body declared as something other than JSON; none declared is read as JSON."""
    if not content_type:
        return None
    media = content_type.split(";", 1)[0].strip().casefold()
    if media in ("application/json", "text/json", "text/plain") or media.endswith("+json"):
        return None
    return NOT_JSON_TYPE


def json_object(body: bytes) -> dict[str, Any] | Refusal:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return NOT_JSON
    return data if isinstance(data, dict) else NOT_JSON


def _text(value: Any) -> str | None:
    """A link or id as text: strings and numbers; anything else (or too long) is none."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        text = str(value).strip()
        return text if text and len(text) <= _TEXT_LIMIT else None
    return None


def _link(value: Any) -> str | None:
    """A link SEEN gave, only when it is an http(s) address (a `javascript:` or formula-like
    value is kept in `raw`, never shown as a link)."""
    text = _text(value)
    if text is None or not text.lower().startswith(("https://", "http://")):
        return None
    return None if any(c.isspace() for c in text) else text


def _raw(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def v1_campaign(data: dict[str, Any]) -> str | Refusal:
    slug = _text(data.get("campaign_slug"))
    if slug is None or not CAMPAIGN_SLUG.fullmatch(slug):
        return Refusal(400, "campaign_slug is missing or is no campaign slug.")
    return slug


def v1_film(data: dict[str, Any], slug: str) -> Film | Refusal:
    """SEEN's v1 callback: `customer_id`, `campaign_slug` and the film's links (any others kept
    in `raw`). The film's link is its landing page, else the video itself."""
    person = _text(data.get("customer_id"))
    if person is None:
        return Refusal(400, "customer_id is missing.")
    film = _link(data.get("landing_page_url")) or _link(data.get("video_url"))
    return Film(
        target=key_for("campaign", slug),
        person=person,
        film=film,
        thumbnail=_link(data.get("thumbnail_url")),
        email_thumbnail=_link(data.get("email_thumbnail_url")),
        raw=_raw(data),
    )


def data_target(kind_plural: str, name: str) -> tuple[str, str] | None:
    """(kind, id) of a 2.0 route's `{workspaces|projects}/{ID}`; None when it names none."""
    kind = {"workspaces": "workspace", "projects": "project"}.get(kind_plural)
    if kind is None or not DATA_TARGET_ID.fullmatch(name) or len(name) > 200:
        return None
    return kind, name


def v2_film(data: dict[str, Any], kind: str, name: str) -> Film | Refusal:
    """The Journey webhook node, body from Help's template: `id`, `player`, `thumbnail`,
    `email_thumbnail`."""
    person = _text(data.get("id"))
    if person is None:
        return Refusal(400, "id is missing.")
    return Film(
        target=key_for(kind, name),
        person=person,
        film=_link(data.get("player")),
        thumbnail=_link(data.get("thumbnail")),
        email_thumbnail=_link(data.get("email_thumbnail")),
        raw=_raw(data),
    )


def v2_event(data: dict[str, Any], kind: str, name: str) -> Event | Refusal:
    """External Events, body from Help's template: `event`, `id`, `timestamp`."""
    person = _text(data.get("id"))
    event = _text(data.get("event")) or _text(data.get("event_name"))
    if person is None:
        return Refusal(400, "id is missing.")
    if event is None:
        return Refusal(400, "event is missing.")
    return Event(
        target=key_for(kind, name),
        person=person,
        event=event,
        timestamp=_text(data.get("timestamp")) or "",
        raw=_raw(data),
    )


def authorized(
    secrets: CallbackSecrets, kind: str, name: str, authorization: str | None
) -> Refusal | None:
    """None when the call carries the target's secret; 404 when the target has none, 401
    otherwise."""
    secret = secrets.secret_for(kind, name)
    if secret is None:
        return NO_ADDRESS
    return None if carries(authorization, secret) else UNAUTHORIZED
