"""One HTTP request to SEEN and its answer, typed; the token and where it may go. `sending` retries.

What a request looks like and what an answer means belong to the target (`seen_core.send.targets`);
the client adds the token, sends through a transport and turns every I/O failure into an Answer.
The transport is a plain callable (`Request` → `Response`), so tests can answer without a network.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from seen_core.errors import ConfigurationError, InputError, SeenSenderError
from seen_core.i18n import _
from seen_core.send.targets import (
    CAMPAIGN_SLUG,
    V1_BASE_URL,
    Answer,
    AnswerKind,
    Campaign,
    Target,
    campaign_problem,
)

__all__ = [
    "CAMPAIGN_SLUG",
    "DEFAULT_BASE_URL",
    "Answer",
    "AnswerKind",
    "NoAnswer",
    "Request",
    "RequestsTransport",
    "Response",
    "Secret",
    "SeenClient",
    "Transport",
    "campaign_problem",
    "is_loopback",
]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = V1_BASE_URL  # v1's address; a 2.0 target's is `Target.default_base_url`

# Printable ASCII without spaces: anything else would be refused by http.client with an
# exception that quotes the header value, i.e. the token.
_TOKEN_CHARS = re.compile(r"[!-~]+")


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


# --- the transport seam --------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One HTTP request as the client hands it to a transport (headers hold the token)."""

    method: str
    url: str
    headers: Mapping[str, str] = field(repr=False)
    body: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Response:
    """An HTTP answer: status, body and headers, nothing more."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """A header's value, whatever the case of its name; None when absent."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


class NoAnswer(SeenSenderError):
    """Raised by a transport when no answer came; `maybe_stored`: the request may have arrived."""

    def __init__(self, message: str, *, maybe_stored: bool = False) -> None:
        super().__init__(message)
        self.maybe_stored = maybe_stored


# A transport sends one Request and returns its Response, or raises NoAnswer.
Transport = Callable[[Request], Response]


class _Authorization(AuthBase):
    """Sets exactly our Authorization header (or none). Passing auth explicitly also stops
    requests from putting ~/.netrc credentials in its place."""

    def __init__(self, value: str | None) -> None:
        self._value = value

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self._value is not None:
            request.headers["Authorization"] = self._value
        return request

    def __repr__(self) -> str:
        return "_Authorization('***')"


class RequestsTransport:
    """The real transport: a pooled `requests` session that never retries or follows a redirect."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        pool_size: int = 8,
    ) -> None:
        self._host = urlsplit(base_url).netloc
        self._timeout = (connect_timeout, read_timeout)
        self._read_timeout = read_timeout
        session = requests.Session()
        # max_retries=0: a retry here would hide from `sending` that a request may be stored.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        # The sandbox on loopback must never be reached through a proxy from the environment.
        if is_loopback(urlsplit(base_url).hostname or ""):
            session.trust_env = False
        self._session = session

    def __call__(self, request: Request) -> Response:
        headers = dict(request.headers)
        authorization = headers.pop("Authorization", None)
        try:
            answer = self._session.request(
                request.method,
                request.url,
                data=request.body,
                headers=headers,
                auth=_Authorization(authorization),
                timeout=self._timeout,
                # Never follow: requests would turn a redirected POST into a GET and lose the
                # people, and a redirect must not carry the token anywhere else.
                allow_redirects=False,
            )
            return Response(answer.status_code, answer.content, dict(answer.headers))
        except requests.RequestException as exc:
            raise self.no_answer(exc) from None

    def close(self) -> None:
        self._session.close()

    def no_answer(self, exc: requests.RequestException) -> NoAnswer:
        """What a failed request means: was anything sent, and may SEEN have stored it?"""
        host = self._host
        if isinstance(exc, requests.ConnectTimeout):
            return NoAnswer(f"Could not connect to SEEN at {host}: the connection timed out.")
        causes = list(_causes(exc))
        if any(isinstance(c, urllib3.exceptions.NameResolutionError) for c in causes):
            return NoAnswer(f"Could not connect to SEEN: the name {host} was not found.")
        if any(isinstance(c, urllib3.exceptions.NewConnectionError) for c in causes):
            why = (
                "the connection was refused"
                if any(isinstance(c, ConnectionRefusedError) for c in causes)
                else "the connection failed"
            )
            return NoAnswer(f"Could not connect to SEEN at {host}: {why}.")
        if isinstance(exc, requests.exceptions.SSLError) and any(
            isinstance(c, ssl.SSLCertVerificationError) for c in causes
        ):
            # Certificates are checked during the handshake, before the request is sent.
            return NoAnswer(f"Could not connect to SEEN at {host}: its certificate was refused.")
        if isinstance(exc, requests.ReadTimeout):
            return NoAnswer(
                f"SEEN did not answer within {self._read_timeout:g} s; "
                "what was sent may have been stored.",
                maybe_stored=True,
            )
        # Reset, dropped or broken mid-answer: the request may have reached SEEN.
        return NoAnswer(
            "The connection to SEEN broke before an answer came; "
            "what was sent may have been stored.",
            maybe_stored=True,
        )


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


def is_loopback(host: str) -> bool:
    """Whether a host name or address is this machine (`localhost`, 127.0.0.0/8, ::1)."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- the client ----------------------------------------------------------------------------------


class SeenClient:
    """Sends to one SEEN base URL with one token; never retries and never raises on I/O."""

    def __init__(
        self,
        base_url: str,
        token: str | Secret,
        *,
        transport: Transport | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        pool_size: int = 8,
    ) -> None:
        base_url = base_url.strip()
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(
                _("The SEEN address must start with http:// or https://, not '{address}'.").format(
                    address=base_url
                )
            )
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ConfigurationError(
                _("The SEEN address must not contain a query, fragment or login.")
            )
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            # Over plain HTTP the token would cross the network readable by anyone on the way.
            raise ConfigurationError(
                _(
                    "The SEEN address {host} must use https://; http:// is only for this "
                    "machine (127.0.0.1 or localhost)."
                ).format(host=parts.netloc)
            )
        self.base_url = base_url.rstrip("/")
        secret = token if isinstance(token, Secret) else Secret(token)
        secret = Secret(secret.reveal().strip())  # a pasted token often carries a newline
        if not _TOKEN_CHARS.fullmatch(secret.reveal()):
            raise ConfigurationError(
                _("The SEEN token is empty or contains spaces or unusual characters.")
            )
        self._token = secret
        self._transport: Transport = transport or RequestsTransport(
            self.base_url,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            pool_size=pool_size,
        )

    def __repr__(self) -> str:
        return f"SeenClient(base_url={self.base_url!r})"

    def __reduce__(self) -> Any:
        raise TypeError("A SeenClient cannot be pickled.")

    def __enter__(self) -> SeenClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        close = getattr(self._transport, "close", None)
        if callable(close):
            close()

    # --- creating people -------------------------------------------------------------------

    def create(self, target: Target, body: bytes, count: int) -> Answer:
        """POST people already encoded as the target's body and say what SEEN answered."""
        if count < 1:
            raise InputError("There are no receivers to send.")
        started = time.monotonic()
        response = self._send(target, "POST", target.create_path(), body)
        answer = response if isinstance(response, Answer) else target.read_create(response, count)
        answer = _scrubbed(answer, self._token.reveal())
        log.debug(
            "POST %s: %d people -> %s (%s) in %.3f s",
            target.label,
            count,
            answer.kind,
            answer.status,
            time.monotonic() - started,
        )
        return answer

    def post_receivers(self, campaign: str | Target, receivers: list[dict]) -> Answer:
        """POST receivers (dicts) to the target: a v1 batch, or one 2.0 person."""
        target = campaign if isinstance(campaign, Target) else Campaign(campaign)
        if not receivers:
            raise InputError("There are no receivers to send.")
        try:
            # allow_nan=False: a NaN from a spreadsheet would otherwise become invalid JSON.
            texts = [json.dumps(r, ensure_ascii=False, allow_nan=False) for r in receivers]
        except ValueError as exc:
            raise InputError(f"A receiver holds a value JSON cannot carry: {exc}") from None
        return self.create(target, target.body(texts), len(receivers))

    # --- looking people up (2.0) -----------------------------------------------------------

    def retrieve(self, target: Target, person_id: str) -> Answer:
        """2.0 Retrieve: FOUND with the item in `data`, ABSENT (404), or why not."""
        started = time.monotonic()
        response = self._send(target, "GET", target.item_path(person_id), None)
        answer = response if isinstance(response, Answer) else target.read_retrieve(response)
        answer = _scrubbed(answer, self._token.reveal())
        log.debug(
            "GET one person of %s -> %s (%s) in %.3f s",
            target.label,
            answer.kind,
            answer.status,
            time.monotonic() - started,
        )
        return answer

    def list(
        self,
        target: Target,
        *,
        query: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Answer:
        """2.0 List (`?q=field:value&limit=N&offset=N`): FOUND with `{"count", "data"}`."""
        params = {
            name: value
            for name, value in (("q", query), ("limit", limit), ("offset", offset))
            if value is not None
        }
        path = target.list_path() + (f"?{urlencode(params)}" if params else "")
        response = self._send(target, "GET", path, None)
        answer = response if isinstance(response, Answer) else target.read_retrieve(response)
        if answer.kind is AnswerKind.FOUND and not isinstance(answer.data.get("data"), list):
            answer = Answer(AnswerKind.UNEXPECTED, answer.status, None, "SEEN's list had no data.")
        return _scrubbed(answer, self._token.reveal())

    # --- plumbing ---------------------------------------------------------------------------

    def _send(
        self, target: Target, method: str, path: str, body: bytes | None
    ) -> Response | Answer:
        headers = {
            "Accept": "application/json",
            "Authorization": f"{target.auth_scheme} {self._token.reveal()}",
        }
        if body is not None:
            headers["Content-Type"] = target.content_type
        request = Request(method, self.base_url + path, headers, body)
        try:
            return self._transport(request)
        except NoAnswer as exc:
            return Answer(AnswerKind.NO_ANSWER, None, None, str(exc), maybe_stored=exc.maybe_stored)


def _scrubbed(answer: Answer, token: str) -> Answer:
    # A server may echo the request headers back in its error text; the token stays here.
    data_text = json.dumps(answer.data, ensure_ascii=False) if answer.data is not None else ""
    if (
        token not in answer.message
        and token not in data_text
        and not (answer.errors and token in json.dumps(answer.errors, ensure_ascii=False))
    ):
        return answer
    errors = answer.errors and [
        {k.replace(token, "***"): [m.replace(token, "***") for m in v] for k, v in e.items()}
        for e in answer.errors
    ]
    data = json.loads(data_text.replace(json.dumps(token)[1:-1], "***")) if data_text else None
    return Answer(
        answer.kind,
        answer.status,
        errors,
        answer.message.replace(token, "***"),
        answer.retry_after,
        answer.maybe_stored,
        data,
    )
