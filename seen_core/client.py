"""One HTTP request to SEEN's receivers endpoint and its answer, typed; `sending` retries."""

from __future__ import annotations

import hmac
import json
import logging
import math
import re
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

__all__ = ["Answer", "AnswerKind", "Secret", "SeenClient"]

log = logging.getLogger(__name__)

# Django's slug rule (ASCII letters, digits, '-' and '_'); anything else cannot name a campaign.
DEFAULT_BASE_URL = "https://api.seen.io"  # SEEN's API, as its docs give it
CAMPAIGN_SLUG = re.compile(r"[A-Za-z0-9_-]+")


def campaign_problem(slug: str) -> str | None:
    """Why a campaign slug cannot be used, in one sentence, or None when it can."""
    slug = slug.strip()
    if not slug:
        return "Enter the campaign's slug: the last part of its address in SEEN."
    if not CAMPAIGN_SLUG.fullmatch(slug):
        return f"'{slug}' is not a campaign slug: use only letters, digits, - and _."
    return None


# Printable ASCII without spaces: anything else would be refused by http.client with an
# exception that quotes the header value, i.e. the token.
_TOKEN_CHARS = re.compile(r"[!-~]+")
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class Secret:
    """The SEEN token: shows as `Secret('***')` everywhere and refuses to be pickled."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(Secret)  # all secrets collide on purpose: a hash must not leak the token

    def __reduce__(self) -> Any:
        # Pickles end up in caches, session stores and crash dumps; the token must not.
        raise TypeError("A Secret cannot be pickled.")


class AnswerKind(StrEnum):
    CREATED = "created"
    REJECTED = "rejected"  # 400 with an array: one entry per receiver, nothing stored
    BAD_REQUEST = "bad_request"  # 400 with an object: concerns the whole request
    TOKEN_REFUSED = "token_refused"  # 401/403
    CAMPAIGN_NOT_FOUND = "campaign_not_found"  # 404
    TOO_LARGE = "too_large"  # 413
    THROTTLED = "throttled"  # 429
    SERVER_ERROR = "server_error"  # 5xx
    NO_ANSWER = "no_answer"  # timeout, connection refused, reset or dropped
    UNEXPECTED = "unexpected"  # anything else: 3xx, 415, a 400 that is not JSON, …


@dataclass(frozen=True)
class Answer:
    """What SEEN answered to one request, in terms `sending` can act on."""

    kind: AnswerKind
    status: int | None
    errors: list[dict[str, list[str]]] | None
    message: str
    retry_after: float | None = None
    maybe_stored: bool = False


class _TokenAuth(AuthBase):
    # Passing auth explicitly also stops requests from replacing our header with ~/.netrc data.
    def __init__(self, token: Secret) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Token {self._token.reveal()}"
        return request

    def __repr__(self) -> str:
        return "_TokenAuth(Secret('***'))"


class SeenClient:
    """Posts batches of receivers to one SEEN base URL; never retries and never raises on I/O."""

    def __init__(
        self,
        base_url: str,
        token: str | Secret,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        pool_size: int = 8,
    ) -> None:
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"The SEEN address must start with http:// or https://: {base_url!r}")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("The SEEN address must not contain a query, fragment or login.")
        self.base_url = base_url.strip().rstrip("/")
        secret = token if isinstance(token, Secret) else Secret(token)
        secret = Secret(secret.reveal().strip())  # a pasted token often carries a newline
        if not _TOKEN_CHARS.fullmatch(secret.reveal()):
            raise ValueError("The SEEN token is empty or contains spaces or unusual characters.")
        self._token = secret
        self._timeout = (connect_timeout, read_timeout)
        self._read_timeout = read_timeout

        session = requests.Session()
        # max_retries=0: a retry here would hide from `sending` that a request may be stored.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.auth = _TokenAuth(secret)
        session.headers["Accept"] = "application/json"
        # The sandbox on loopback must never be reached through a proxy from the environment.
        if parts.hostname in _LOOPBACK_HOSTS:
            session.trust_env = False
        self._session = session

    def __repr__(self) -> str:
        return f"SeenClient(base_url={self.base_url!r})"

    def __enter__(self) -> SeenClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    def post_receivers(self, campaign: str, receivers: list[dict]) -> Answer:
        """POST one batch of receivers to the campaign and say what SEEN answered."""
        if not receivers:
            raise ValueError("There are no receivers to send.")
        try:
            # allow_nan=False: a NaN from a spreadsheet would otherwise become invalid JSON.
            body = json.dumps(receivers, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except ValueError as exc:
            raise ValueError(f"A receiver holds a value JSON cannot carry: {exc}") from None
        return self.post_json(campaign, body, len(receivers))

    def post_json(self, campaign: str, body: bytes, count: int) -> Answer:
        """POST a batch already encoded as a JSON array of `count` receivers."""
        if not isinstance(campaign, str) or not CAMPAIGN_SLUG.fullmatch(campaign):
            raise ValueError(
                f"The campaign {campaign!r} is not a SEEN campaign slug "
                "(only letters, digits, '-' and '_')."
            )
        if count < 1:
            raise ValueError("There are no receivers to send.")
        url = f"{self.base_url}/v1/campaigns/{campaign}/receivers/"
        started = time.monotonic()
        try:
            response = self._session.post(
                url,
                data=body,
                headers={"Content-Type": "application/json; charset=utf-8"},
                timeout=self._timeout,
                # requests would turn a redirected POST into a GET and lose the batch.
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            answer = self._no_answer(exc)
        else:
            answer = _answer_from_response(response, count)
        answer = _scrubbed(answer, self._token.reveal())
        log.debug(
            "POST campaign %s: %d receivers -> %s (%s) in %.3f s",
            campaign,
            count,
            answer.kind,
            answer.status,
            time.monotonic() - started,
        )
        return answer

    def _no_answer(self, exc: requests.RequestException) -> Answer:
        host = urlsplit(self.base_url).netloc
        if isinstance(exc, requests.ConnectTimeout):
            return _no_answer(f"Could not connect to SEEN at {host}: the connection timed out.")
        causes = list(_causes(exc))
        if any(isinstance(c, urllib3.exceptions.NameResolutionError) for c in causes):
            return _no_answer(f"Could not connect to SEEN: the name {host} was not found.")
        if any(isinstance(c, urllib3.exceptions.NewConnectionError) for c in causes):
            why = (
                "the connection was refused"
                if any(isinstance(c, ConnectionRefusedError) for c in causes)
                else "the connection failed"
            )
            return _no_answer(f"Could not connect to SEEN at {host}: {why}.")
        if isinstance(exc, requests.exceptions.SSLError) and any(
            isinstance(c, ssl.SSLCertVerificationError) for c in causes
        ):
            # Certificates are checked during the handshake, before the request is sent.
            return _no_answer(f"Could not connect to SEEN at {host}: its certificate was refused.")
        if isinstance(exc, requests.ReadTimeout):
            return _no_answer(
                f"SEEN did not answer within {self._read_timeout:g} s; "
                "the receivers may have been stored.",
                maybe_stored=True,
            )
        # Reset, dropped or broken mid-answer: the request may have reached SEEN.
        return _no_answer(
            "The connection to SEEN broke before an answer came; "
            "the receivers may have been stored.",
            maybe_stored=True,
        )


def _no_answer(message: str, *, maybe_stored: bool = False) -> Answer:
    return Answer(AnswerKind.NO_ANSWER, None, None, message, maybe_stored=maybe_stored)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """Every exception wrapped in `exc`: requests and urllib3 nest them in args and .reason."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        stack.extend(item.args)
        stack.extend([getattr(item, "reason", None), item.__cause__, item.__context__])


def _answer_from_response(response: requests.Response, count: int) -> Answer:
    status = response.status_code
    if status == 201:
        # The body echoes every receiver; nothing in it is needed, so it is not parsed.
        return Answer(AnswerKind.CREATED, status, None, f"SEEN created {count} receivers.")
    data = _json_or_none(response.content)
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
            AnswerKind.CAMPAIGN_NOT_FOUND,
            status,
            None,
            _sentence("SEEN does not know this campaign", detail),
        )
    if status == 413:
        return Answer(
            AnswerKind.TOO_LARGE, status, None, f"SEEN found the batch of {count} too large."
        )
    if status == 429:
        retry_after = _retry_after(response.headers.get("Retry-After"))
        wait = f"; try again in {retry_after:g} s" if retry_after is not None else ""
        return Answer(
            AnswerKind.THROTTLED,
            status,
            None,
            f"SEEN asked us to slow down{wait}.",
            retry_after=retry_after,
        )
    if 500 <= status < 600:
        # 503 means SEEN turned the request away unprocessed; any other 5xx (500, 502, 504, …)
        # may have come after the receivers were written.
        maybe_stored = status != 503
        tail = " The receivers may have been stored." if maybe_stored else ""
        return Answer(
            AnswerKind.SERVER_ERROR,
            status,
            None,
            f"SEEN had a server error (HTTP {status}).{tail}",
            maybe_stored=maybe_stored,
        )
    # A 2xx other than 201 may still mean the receivers were stored; we cannot tell.
    return Answer(
        AnswerKind.UNEXPECTED,
        status,
        None,
        _sentence(f"SEEN gave an unexpected answer (HTTP {status})", detail),
        maybe_stored=200 <= status < 300,
    )


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


def _retry_after(value: str | None) -> float | None:
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


def _scrubbed(answer: Answer, token: str) -> Answer:
    # A server may echo the request headers back in its error text; the token stays here.
    if token not in answer.message and not (
        answer.errors and token in json.dumps(answer.errors, ensure_ascii=False)
    ):
        return answer
    errors = answer.errors and [
        {k.replace(token, "***"): [m.replace(token, "***") for m in v] for k, v in e.items()}
        for e in answer.errors
    ]
    return Answer(
        answer.kind,
        answer.status,
        errors,
        answer.message.replace(token, "***"),
        answer.retry_after,
        answer.maybe_stored,
    )
