"""SEEN's v1 `POST /v1/campaigns/{slug}/receivers/` as the sandbox answers it: Django REST
framework's checks in DRF's order, each receiver validated as DRF would, and a batch stored whole
or refused whole with one error object per receiver (an empty one for the good ones)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from typing import Any

from seen_core.sandbox.fields import KEY, PHONE, is_email
from seen_core.sandbox.gate import NOT_FOUND, Answer, Gate, Request

_SLUG = re.compile(r"[A-Za-z0-9_-]+")
_STRING_FIELDS = ("first_name", "last_name", "email", "phone", "customer_id")
_REQUIRED = "This field is required."
_NULL = "This field may not be null."
_BLANK = "This field may not be blank."
_DUPLICATE = "A receiver with this ID already exists."
_TOO_LARGE = {"detail": "Request entity too large."}


class Campaigns:
    """The campaigns and the receivers created in them, with ids in the order of creation.

    `known`: the campaigns that exist; None: every well-formed slug exists, as the app needs.
    """

    def __init__(self, known: Iterable[str] | None) -> None:
        self._known = None if known is None else set(known)
        self._lock = threading.Lock()
        self._stores: dict[str, list[dict[str, Any]]] = {}
        self._customer_ids: dict[str, set[str]] = {}
        self._next_id = 1
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._stores = {slug: [] for slug in self._known or ()}
            self._customer_ids = {slug: set() for slug in self._known or ()}
            self._next_id = 1

    def post(self, gate: Gate, request: Request, campaign: str) -> Answer:
        """Create a batch of receivers, after DRF's checks in DRF's order."""
        auth_error = gate.token_error(request.authorization)
        if auth_error:
            return 401, {"detail": auth_error}, {"WWW-Authenticate": "Token"}
        wait = gate.throttle()
        if wait is not None:
            detail = f"Request was throttled. Expected available in {wait} seconds."
            return 429, {"detail": detail}, {"Retry-After": str(wait)}
        if not self.exists(campaign, create=True):
            return 404, NOT_FOUND, {}
        if not request.is_json:
            detail = f'Unsupported media type "{request.content_type}" in request.'
            return 415, {"detail": detail}, {}
        if request.size > gate.max_body_bytes:
            return 413, _TOO_LARGE, {}
        if request.parse_error is not None:
            return 400, {"detail": request.parse_error}, {}
        data = request.data
        if not isinstance(data, list):
            kind = type(data).__name__
            return (
                400,
                {"non_field_errors": [f'Expected a list of items but got type "{kind}".']},
                {},
            )
        if not data:
            return 400, {"non_field_errors": ["This list may not be empty."]}, {}
        if len(data) > gate.max_batch:
            return 413, _TOO_LARGE, {}
        status, payload = self._store(campaign, data)
        return status, payload, {}

    def exists(self, slug: str, *, create: bool) -> bool:
        if not _SLUG.fullmatch(slug):
            return False
        with self._lock:
            if slug in self._stores:
                return True
            if self._known is None and create:
                self._stores[slug] = []
                self._customer_ids[slug] = set()
            return self._known is None

    def received(self, campaign: str) -> list[dict]:
        """The receivers stored for a campaign, in the order they were created (copies)."""
        with self._lock:
            return json.loads(json.dumps(self._stores.get(campaign, [])))

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {slug: len(stored) for slug, stored in sorted(self._stores.items())}

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
        elif field == "email" and not is_email(text):
            errors[field] = ["Enter a valid email address."]
        elif field == "phone" and not PHONE.fullmatch(text):
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
                if not KEY.fullmatch(key):
                    extra_errors[key] = ["Use only the letters A-Z, a-z, digits and _ in keys."]
                elif value is None or not isinstance(value, str | int | float | bool):
                    extra_errors[key] = ["Expected a string, number or boolean."]
            if extra_errors:
                errors["extra_args"] = extra_errors
            else:
                cleaned["extra_args"] = dict(extra)
    return cleaned, errors
