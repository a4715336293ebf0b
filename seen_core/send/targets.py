"""Where a send goes — a v1 campaign, a 2.0 workspace or project — and what SEEN's answers mean.

A target knows how a request to it is shaped, how each answer reads, how a lost answer is
confirmed, its default address and pacing, and how to name it to a person. Sending, the journal
and the report only ever hold a target's `key` (the journal's `jobs.campaign` column) and ask
the target the rest, so they do not branch on the API. See docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from seen_core.errors import ConfigurationError, InputError
from seen_core.i18n import N_, _

# Each kind of target in the user's words (the kind itself is a code the journal keeps).
_KIND_WORDS = {"campaign": N_("campaign"), "workspace": N_("workspace"), "project": N_("project")}

if TYPE_CHECKING:
    from seen_core.send.client import Response

__all__ = [
    "V1_BASE_URL",
    "V2_BASE_URL",
    "Answer",
    "AnswerKind",
    "Campaign",
    "Pacing",
    "Project",
    "Target",
    "Workspace",
    "address_for",
    "campaign_problem",
    "flat_payload",
    "id_problem",
    "is_data_key",
    "key_for",
    "kind_and_name",
    "label_of",
    "target_for",
    "target_from_key",
    "target_problem",
]

V1_BASE_URL = "https://api.seen.io"  # the campaign API, as SEEN's docs give it
V2_BASE_URL = "https://next.seen.io"  # SEEN API 2.0
# Django's slug rule (ASCII letters, digits, '-' and '_'); anything else cannot name a campaign.
CAMPAIGN_SLUG = re.compile(r"[A-Za-z0-9_-]+")
# A workspace or project id goes into the URL path as it is: letters, digits and . _ - only.
DATA_TARGET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# SEEN's answer as text is shown to people; a page of HTML is cut short.
ANSWER_TEXT_LIMIT = 500


# --- answers -------------------------------------------------------------------------------------


class AnswerKind(StrEnum):
    CREATED = "created"
    REJECTED = "rejected"  # v1: 400 with an array, nothing stored; 2.0: any other 4xx
    BAD_REQUEST = "bad_request"  # v1: 400 with an object, concerning the whole request
    TOKEN_REFUSED = "token_refused"  # 401/403
    TARGET_NOT_FOUND = "target_not_found"  # 404 on create: no such campaign, workspace, project
    CAMPAIGN_NOT_FOUND = "target_not_found"  # the v1 name of the same answer
    TOO_LARGE = "too_large"  # 413
    THROTTLED = "throttled"  # 429
    SERVER_ERROR = "server_error"  # 5xx
    NO_ANSWER = "no_answer"  # timeout, connection refused, reset or dropped
    UNEXPECTED = "unexpected"  # anything else: 3xx, 415, a 400 that is not JSON, …
    FOUND = "found"  # 2.0 Retrieve or List: 200, with the item(s) in `data`
    ABSENT = "absent"  # 2.0 Retrieve: 404, SEEN holds no one with that id


@dataclass(frozen=True)
class Answer:
    """What SEEN answered to one request, in terms `sending` can act on."""

    kind: AnswerKind
    status: int | None
    errors: list[dict[str, list[str]]] | None
    message: str
    retry_after: float | None = None
    maybe_stored: bool = False
    data: Any = None  # Retrieve and List: the JSON SEEN answered with


# --- pacing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pacing:
    """How fast requests may start: evenly spaced at `rate` per second (0: unspaced), and never
    more than `limit` requests in any `seconds` (a sliding window, per entry of `windows`)."""

    rate: float
    windows: tuple[tuple[int, float], ...] = ()


# --- targets -------------------------------------------------------------------------------------


class Target(ABC):
    """One place SEEN takes people: the shape of its requests and the meaning of its answers."""

    api: ClassVar[str]  # "v1" | "2.0"
    kind: ClassVar[str]  # "campaign" | "workspace" | "project"
    default_base_url: ClassVar[str]
    auth_scheme: ClassVar[str]  # the word before the token in the Authorization header
    content_type: ClassVar[str]
    max_batch: ClassVar[int]  # people in one request
    pacing: ClassVar[Pacing]
    # How a lost answer is confirmed: False — send again (v1: a customer_id makes SEEN answer
    # "already exists"); True — ask Retrieve whether SEEN holds the person (2.0).
    confirms_by_retrieve: ClassVar[bool]
    # Whether sending a person twice stores them once (2.0: the same id is the same person), so
    # a request need not wait for the disk before it goes out.
    same_id_same_person: ClassVar[bool]

    @property
    @abstractmethod
    def key(self) -> str:
        """The stable text the journal keeps for this target (`target_from_key` reads it)."""

    @property
    @abstractmethod
    def name(self) -> str:
        """The slug or id, as the user typed it."""

    @property
    def label(self) -> str:
        """`campaign 'spring'`, `workspace 'ws-1'`: the target inside a sentence."""
        return _("{kind} '{name}'").format(
            kind=_(_KIND_WORDS.get(self.kind, self.kind)), name=self.name
        )

    @property
    def is_data(self) -> bool:
        """Whether it is a SEEN API 2.0 workspace or project (not a v1 campaign)."""
        return self.api == "2.0"

    @property
    def title(self) -> str:
        """`Campaign 'spring'`: the target at the start of a sentence."""
        label = self.label
        return label[:1].upper() + label[1:]

    @property
    def not_found(self) -> str:
        """Why a send stops when SEEN answers 404 to a create."""
        return _("{target} was not found.").format(target=self.title)

    @abstractmethod
    def create_path(self) -> str:
        """The path people are POSTed to."""

    @abstractmethod
    def shape(self, receiver: Mapping[str, object]) -> dict[str, object]:
        """One person as this target takes them, from the v1 receiver `receivers.payload` makes."""

    @abstractmethod
    def body(self, payloads: Sequence[str]) -> bytes:
        """The request body for people already encoded as JSON (as the journal keeps them)."""

    @abstractmethod
    def read_create(self, response: Response, count: int) -> Answer:
        """What SEEN's answer to a create of `count` people means."""

    def person_id(self, payload: Mapping[str, object]) -> str | None:
        """The id SEEN knows a shaped person by (None: no safe way to recognise them)."""
        value = payload.get("customer_id")
        return str(value) if value else None

    def item_path(self, person_id: str) -> str:
        raise ConfigurationError(f"SEEN cannot look people up in {self.label} (API {self.api}).")

    def list_path(self) -> str:
        raise ConfigurationError(f"SEEN cannot list the people in {self.label} (API {self.api}).")

    def read_retrieve(self, response: Response) -> Answer:
        raise ConfigurationError(f"SEEN cannot look people up in {self.label} (API {self.api}).")


@dataclass(frozen=True)
class Campaign(Target):
    """A v1 campaign: batches as a JSON array, `Token` auth; its key is the slug itself."""

    slug: str

    api: ClassVar[str] = "v1"
    kind: ClassVar[str] = "campaign"
    default_base_url: ClassVar[str] = V1_BASE_URL
    auth_scheme: ClassVar[str] = "Token"
    content_type: ClassVar[str] = "application/json; charset=utf-8"
    max_batch: ClassVar[int] = 1000
    # 10 requests/s, and the partner figure of 1,000 calls an hour that v1's own page lacks.
    pacing: ClassVar[Pacing] = Pacing(10.0, ((1000, 3600.0),))
    confirms_by_retrieve: ClassVar[bool] = False
    same_id_same_person: ClassVar[bool] = False  # a receiver without customer_id is created again

    def __post_init__(self) -> None:
        if not isinstance(self.slug, str) or not CAMPAIGN_SLUG.fullmatch(self.slug):
            raise ConfigurationError(
                campaign_problem(str(self.slug))
                or f"{self.slug!r} is not a campaign slug: use only letters, digits, - and _."
            )

    @property
    def key(self) -> str:
        return self.slug

    @property
    def name(self) -> str:
        return self.slug

    def create_path(self) -> str:
        return f"/v1/campaigns/{self.slug}/receivers/"

    def shape(self, receiver: Mapping[str, object]) -> dict[str, object]:
        return dict(receiver)

    def body(self, payloads: Sequence[str]) -> bytes:
        # Each receiver's JSON as stored, joined into the array: never decoded and encoded again.
        return f"[{','.join(payloads)}]".encode()

    def read_create(self, response: Response, count: int) -> Answer:
        return _read_v1(response, count)


@dataclass(frozen=True)
class _DataTarget(Target):
    """A SEEN API 2.0 target: one flat object per request, `Bearer` auth, Retrieve and List."""

    id: str

    api: ClassVar[str] = "2.0"
    default_base_url: ClassVar[str] = V2_BASE_URL
    auth_scheme: ClassVar[str] = "Bearer"
    content_type: ClassVar[str] = "application/json"
    max_batch: ClassVar[int] = 1  # "arrays are not supported"
    pacing: ClassVar[Pacing] = Pacing(10.0, ((100, 10.0),))  # 2.0's documented limit
    confirms_by_retrieve: ClassVar[bool] = True
    same_id_same_person: ClassVar[bool] = True  # "treated as the same entity"

    def __post_init__(self) -> None:
        problem = id_problem(self.kind, self.id if isinstance(self.id, str) else "")
        if problem or self.id != self.id.strip():
            raise ConfigurationError(problem or f"{self.id!r} is not a {self.kind} id.")

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.id}"

    @property
    def name(self) -> str:
        return self.id

    def create_path(self) -> str:
        return f"/v1/{self.kind}s/{self.id}/data"

    def item_path(self, person_id: str) -> str:
        if not person_id:
            raise InputError("A person without an id cannot be looked up in SEEN.")
        return f"{self.create_path()}/{quote(person_id, safe='')}"

    def list_path(self) -> str:
        return self.create_path()

    def shape(self, receiver: Mapping[str, object]) -> dict[str, object]:
        return flat_payload(receiver)

    def person_id(self, payload: Mapping[str, object]) -> str | None:
        value = payload.get("id")
        return value if isinstance(value, str) and value else None

    def body(self, payloads: Sequence[str]) -> bytes:
        if len(payloads) != 1:
            raise InputError(f"SEEN API 2.0 takes one person per request, not {len(payloads)}.")
        return payloads[0].encode()

    def read_create(self, response: Response, count: int) -> Answer:
        return _read_data_create(response, self)

    def read_retrieve(self, response: Response) -> Answer:
        return _read_data_get(response)


@dataclass(frozen=True)
class Workspace(_DataTarget):
    """A 2.0 workspace: `POST /v1/workspaces/{id}/data`; key `workspace/<id>`."""

    kind: ClassVar[str] = "workspace"


@dataclass(frozen=True)
class Project(_DataTarget):
    """A 2.0 project (newer SEEN projects): `POST /v1/projects/{id}/data`; key `project/<id>`."""

    kind: ClassVar[str] = "project"


_KINDS: dict[str, type[Target]] = {"campaign": Campaign, "workspace": Workspace, "project": Project}


def campaign_problem(slug: str) -> str | None:
    """Why a campaign slug cannot be used, in one sentence, or None when it can."""
    slug = slug.strip()
    if not slug:
        return _("Enter the campaign's slug: the last part of its address in SEEN.")
    if not CAMPAIGN_SLUG.fullmatch(slug):
        return _("'{slug}' is not a campaign slug: use only letters, digits, - and _.").format(
            slug=slug
        )
    return None


def id_problem(kind: str, value: str) -> str | None:
    """Why a workspace or project id cannot be used, in one sentence, or None when it can."""
    value = value.strip()
    if not value:
        if kind == "project":
            return _("Enter the project's id, as SEEN shows it in the project's settings.")
        return _("Enter the workspace's id, as SEEN shows it in the workspace's settings.")
    if not DATA_TARGET_ID.fullmatch(value):
        return _(
            "'{value}' is not a {kind} id: use only letters, digits, '.', '-' and '_', "
            "starting with a letter or digit."
        ).format(value=value, kind=_(_KIND_WORDS.get(kind, kind)))
    return None


def target_for(kind: str, value: str) -> Target:
    """The target of that kind (`campaign`, `workspace`, `project`) named by a slug or id."""
    if kind not in _KINDS:
        raise ConfigurationError(
            f"'{kind}' is not a kind of SEEN target; choose campaign, workspace or project."
        )
    if kind == "campaign":
        return Campaign(value)
    return _KINDS[kind](value)  # type: ignore[call-arg]


def kind_and_name(key: str) -> tuple[str, str]:
    """A target key's kind and slug or id, as written (a name still being typed included):
    `spring` → campaign 'spring'; `workspace/ws-1` → workspace 'ws-1'; `campaign/spring` is
    read as `spring`. The one place the key's form is known, with `key_for`."""
    kind, slash, value = key.partition("/")
    return (kind, value) if slash else ("campaign", key)


def key_for(kind: str, name: str) -> str:
    """The key of the target of that kind and name (`kind_and_name`'s other way); "" for none."""
    if not name:
        return ""
    return name if kind == "campaign" else f"{kind}/{name}"


def target_from_key(key: str) -> Target:
    """The target a journal key names: `spring` (a v1 campaign), `workspace/…`, `project/…`."""
    kind, value = kind_and_name(key)
    if kind not in _KINDS:
        raise ConfigurationError(f"'{key}' names no SEEN campaign, workspace or project.")
    return target_for(kind, value)


def target_problem(key: str) -> str | None:
    """Why a target key cannot be used (no slug, a bad slug or id), in one sentence, or None."""
    try:
        target_from_key(key)
    except ConfigurationError as error:
        return str(error)
    return None


def label_of(key: str) -> str:
    """The target a key names, inside a sentence (`campaign 'spring'`); a key that names none
    (a name still being typed) is shown as it is."""
    try:
        return target_from_key(key).label
    except ConfigurationError:
        return f"'{key}'"


def is_data_key(key: str) -> bool:
    """Whether the key names a SEEN API 2.0 workspace or project; False for none yet."""
    try:
        return target_from_key(key).is_data
    except ConfigurationError:
        return False


def address_for(key: str) -> str:
    """SEEN's own address for the API of the target a key names (v1's when it names none)."""
    try:
        return target_from_key(key).default_base_url
    except ConfigurationError:
        return V1_BASE_URL


def flat_payload(receiver: Mapping[str, object]) -> dict[str, object]:
    """A v1 receiver as SEEN API 2.0 takes it: `customer_id` as `id` (first), the other fields
    as they are, and `extra_args` as properties at the top level. Shaping twice changes nothing."""
    flat: dict[str, object] = {}
    if receiver.get("customer_id"):
        flat["id"] = str(receiver["customer_id"])
    elif receiver.get("id"):
        flat["id"] = receiver["id"]
    for name, value in receiver.items():
        if name not in ("customer_id", "id", "extra_args"):
            flat[name] = value
    extra = receiver.get("extra_args") or {}
    if not isinstance(extra, Mapping):
        raise InputError("The extra properties of a person must be named values.")
    for key, value in extra.items():
        if key in flat or key in ("id", "customer_id"):
            raise InputError(
                f"The property '{key}' has the name of a SEEN field; give its column another key."
            )
        flat[key] = value
    return flat


# --- reading answers -----------------------------------------------------------------------------


def _read_v1(response: Response, count: int) -> Answer:
    status = response.status
    if status == 201:
        # The body echoes every receiver; nothing in it is needed, so it is not parsed.
        return Answer(AnswerKind.CREATED, status, None, f"SEEN created {count} receivers.")
    data = _json_or_none(response.body)
    detail = _detail(data)
    if status == 400:
        if isinstance(data, list):
            if len(data) != count:
                return Answer(
                    AnswerKind.UNEXPECTED,
                    status,
                    None,
                    f"SEEN answered 400 with {len(data)} error entries for {count} receivers.",
                )
            errors = [_receiver_errors(item) for item in data]
            bad = sum(1 for e in errors if e)
            return Answer(
                AnswerKind.REJECTED,
                status,
                errors,
                f"SEEN rejected {bad} of {count} receivers; nothing in this request was stored.",
            )
        if isinstance(data, dict):
            return Answer(
                AnswerKind.BAD_REQUEST,
                status,
                None,
                f"SEEN refused the whole request: {detail or 'no reason given'}",
            )
        return Answer(AnswerKind.UNEXPECTED, status, None, "SEEN answered 400 without JSON.")
    if status in (401, 403):
        return Answer(
            AnswerKind.TOKEN_REFUSED, status, None, _sentence("SEEN refused the token", detail)
        )
    if status == 404:
        return Answer(
            AnswerKind.TARGET_NOT_FOUND,
            status,
            None,
            _sentence("SEEN does not know this campaign", detail),
        )
    if status == 413:
        return Answer(
            AnswerKind.TOO_LARGE, status, None, f"SEEN found the batch of {count} too large."
        )
    if status == 429:
        return _throttled(response)
    if 500 <= status < 600:
        return _server_error(status, "The receivers may have been stored.")
    # A 2xx other than 201 may still mean the receivers were stored; we cannot tell.
    return Answer(
        AnswerKind.UNEXPECTED,
        status,
        None,
        _sentence(f"SEEN gave an unexpected answer (HTTP {status})", detail),
        maybe_stored=200 <= status < 300,
    )


def _read_data_create(response: Response, target: Target) -> Answer:
    status = response.status
    if status == 201:
        return Answer(AnswerKind.CREATED, status, None, "SEEN stored this person.")
    if status in (401, 403):
        detail = _detail(_json_or_none(response.body))
        return Answer(
            AnswerKind.TOKEN_REFUSED, status, None, _sentence("SEEN refused the token", detail)
        )
    if status == 404:
        return Answer(AnswerKind.TARGET_NOT_FOUND, status, None, target.not_found)
    if status == 429:
        return _throttled(response)
    if 400 <= status < 500:
        # 2.0 documents no error bodies: whatever SEEN said is shown as it is.
        return Answer(
            AnswerKind.REJECTED,
            status,
            None,
            f"SEEN refused this person (HTTP {status}): {answer_text(response.body)}",
        )
    if 500 <= status < 600:
        return _server_error(status, "The person may have been stored.")
    # 200 or another 2xx may be a stored person, a 3xx surely is not: Retrieve tells.
    return Answer(
        AnswerKind.UNEXPECTED,
        status,
        None,
        f"SEEN gave an unexpected answer (HTTP {status}): {answer_text(response.body)}",
        maybe_stored=200 <= status < 300,
    )


def _read_data_get(response: Response) -> Answer:
    status = response.status
    if status == 200:
        data = _json_or_none(response.body)
        if isinstance(data, dict):
            return Answer(AnswerKind.FOUND, status, None, "SEEN holds this person.", data=data)
        return Answer(AnswerKind.UNEXPECTED, status, None, "SEEN answered 200 without an item.")
    if status == 404:
        return Answer(AnswerKind.ABSENT, status, None, "SEEN holds no one with this id.")
    if status in (401, 403):
        detail = _detail(_json_or_none(response.body))
        return Answer(
            AnswerKind.TOKEN_REFUSED, status, None, _sentence("SEEN refused the token", detail)
        )
    if status == 429:
        return _throttled(response)
    if 500 <= status < 600:
        return _server_error(status, "")
    return Answer(
        AnswerKind.UNEXPECTED,
        status,
        None,
        f"SEEN gave an unexpected answer (HTTP {status}): {answer_text(response.body)}",
    )


def _throttled(response: Response) -> Answer:
    retry_after = retry_after_seconds(response.header("Retry-After"))
    wait = f"; try again in {retry_after:g} s" if retry_after is not None else ""
    return Answer(
        AnswerKind.THROTTLED,
        response.status,
        None,
        f"SEEN asked us to slow down{wait}.",
        retry_after=retry_after,
    )


def _server_error(status: int, stored_note: str) -> Answer:
    # 503 means SEEN turned the request away unprocessed; any other 5xx (500, 502, 504, …)
    # may have come after the people were written.
    maybe_stored = status != 503 and bool(stored_note)
    tail = f" {stored_note}" if maybe_stored else ""
    return Answer(
        AnswerKind.SERVER_ERROR,
        status,
        None,
        f"SEEN had a server error (HTTP {status}).{tail}",
        maybe_stored=maybe_stored,
    )


def answer_text(body: bytes) -> str:
    """SEEN's answer as one line of text to show, whatever its shape."""
    data = _json_or_none(body)
    if isinstance(data, dict):
        for name in ("detail", "message", "error"):
            if isinstance(data.get(name), str) and data[name].strip():
                text = data[name]
                break
        else:
            text = json.dumps(data, ensure_ascii=False)
    elif data is not None:
        text = json.dumps(data, ensure_ascii=False)
    else:
        text = body.decode("utf-8", errors="replace")
    text = " ".join(text.split())
    if not text:
        return "no reason given."
    if len(text) > ANSWER_TEXT_LIMIT:
        text = text[: ANSWER_TEXT_LIMIT - 1] + "…"
    return text


def _json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _detail(data: Any) -> str:
    """A short human text from a DRF error object: `detail`, else every message joined."""
    if isinstance(data, dict):
        if isinstance(data.get("detail"), str):
            return data["detail"]
        return " ".join(
            f"{key}: {' '.join(msgs)}" if key != "non_field_errors" else " ".join(msgs)
            for key, msgs in _flatten(data).items()
        )
    return ""


def _sentence(lead: str, detail: str) -> str:
    return f"{lead} ({detail.rstrip('.')})." if detail else f"{lead}."


def _receiver_errors(item: Any) -> dict[str, list[str]]:
    if isinstance(item, dict):
        return _flatten(item)
    # Not DRF's shape, but keep whatever SEEN said rather than drop it.
    return {"non_field_errors": _messages(item)} if item else {}


def _flatten(data: dict, prefix: str = "") -> dict[str, list[str]]:
    """DRF nests errors (`{"extra_args": {"key": [...]}}`); flatten to `extra_args.key`."""
    out: dict[str, list[str]] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
            # A list of nested errors (a ListField child): index the entries that have any.
            for index, entry in enumerate(value):
                if isinstance(entry, dict):
                    out.update(_flatten(entry, f"{name}.{index}."))
                elif entry:
                    out[f"{name}.{index}"] = _messages(entry)
        else:
            messages = _messages(value)
            if messages:
                out[name] = messages
    return out


def _messages(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [m for v in value for m in _messages(v)]
    return [str(value)]


def retry_after_seconds(value: str | None) -> float | None:
    """A `Retry-After` header (seconds or an HTTP date) as seconds from now, or None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)
