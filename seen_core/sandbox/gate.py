"""What every request to the sandbox passes, whichever API it is for: the token, the rate limit,
the limits on bodies and batches, the faults tests queue, the logs of what was asked, and the
pauses (latency, a hang) that stopping the sandbox cuts short."""

from __future__ import annotations

import hmac
import json
import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from email.message import Message
from typing import Any

FAULTS = ("503", "500", "429", "drop_before", "drop_after", "timeout_after")
Answer = tuple[int, Any, dict[str, str]]  # status, JSON payload, extra headers
NOT_FOUND = {"detail": "Not found."}


@dataclass(frozen=True)
class Request:
    """A POST as the checks of either API see it."""

    authorization: str | None
    content_type: str
    size: int  # of the body, in bytes
    data: Any  # the body parsed as JSON; None when it is not JSON
    parse_error: str | None

    @classmethod
    def read(cls, headers: Message, body: bytes) -> Request:
        try:
            data: Any = json.loads(body.decode("utf-8"), parse_constant=_no_constants)
            parse_error = None
        except (UnicodeDecodeError, ValueError) as exc:
            data, parse_error = None, f"JSON parse error - {exc}"
        return cls(
            headers.get("Authorization"),
            headers.get("Content-Type", ""),
            len(body),
            data,
            parse_error,
        )

    @property
    def is_json(self) -> bool:
        return self.content_type.split(";")[0].strip().lower() == "application/json"

    @property
    def count(self) -> int:
        """People in the request, for the log: a list's length, 1 for an object, else 0."""
        data = self.data
        return len(data) if isinstance(data, list) else 1 if isinstance(data, dict) else 0


class Gate:
    def __init__(
        self,
        *,
        token: str,
        latency: float,
        rate_limit: tuple[int, float] | None,
        max_batch: int,
        max_body_bytes: int,
        hang_seconds: float,
    ) -> None:
        self.latency = latency
        self.rate_limit = rate_limit
        self.max_batch = max_batch
        self.max_body_bytes = max_body_bytes
        self.hang_seconds = hang_seconds
        self._token = token
        self._lock = threading.Lock()
        self._log: list[tuple[str, int, int]] = []
        self._lookups: list[tuple[str, int]] = []
        self._faults: deque[str] = deque()
        self._recent: deque[float] = deque()  # times of requests let through the rate limit
        self.stopping = threading.Event()  # set: pauses end at once

    def reset(self) -> None:
        with self._lock:
            self._log = []
            self._lookups = []
            self._faults.clear()
            self._recent.clear()

    # -- who may ask ------------------------------------------------------------------------

    def token_error(self, header: str | None) -> str | None:
        """v1: DRF TokenAuthentication's messages, or None when the token is right."""
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

    def bearer_error(self, header: str | None) -> str | None:
        """2.0: why Authorization is refused, or None when it is `Bearer <token>`."""
        parts = (header or "").split()
        if len(parts) != 2 or parts[0].lower() != "bearer":
            return "Missing or malformed bearer token."
        if not hmac.compare_digest(parts[1].encode(), self._token.encode()):
            return "Invalid bearer token."
        return None

    def throttle(self) -> int | None:
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

    # -- bad days ---------------------------------------------------------------------------

    def inject(self, faults: tuple[str, ...]) -> None:
        unknown = [f for f in faults if f not in FAULTS]
        if unknown:
            raise ValueError(f"Unknown fault {unknown[0]!r}; choose from {', '.join(FAULTS)}.")
        with self._lock:
            self._faults.extend(faults)

    def next_fault(self) -> str | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def pause(self, seconds: float) -> None:
        if seconds > 0:
            self.stopping.wait(seconds)

    # -- what was asked ---------------------------------------------------------------------

    def record(self, target: str, count: int, status: int) -> None:
        """A POST: (campaign or 2.0 target key, people in it, status answered or 0 when none)."""
        with self._lock:
            self._log.append((target, count, status))

    def lookup(self, key: str, status: int) -> None:
        """A 2.0 List or Retrieve: (target key, status answered)."""
        with self._lock:
            self._lookups.append((key, status))

    def requests_log(self) -> list[tuple[str, int, int]]:
        with self._lock:
            return list(self._log)

    def lookups_log(self) -> list[tuple[str, int]]:
        with self._lock:
            return list(self._lookups)


def _no_constants(name: str) -> Any:
    # DRF's strict JSON parser refuses NaN and Infinity.
    raise ValueError("Out of range float values are not permitted")
