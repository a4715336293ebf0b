"""The HTTP side of SEEN's calls: Starlette routes under `/seen/`, served beside the app.

- `POST /seen/v1/callback` — SEEN's v1 callback (the campaign from its `campaign_slug`);
- `POST /seen/v2/{workspaces|projects}/{ID}/film` — the 2.0 Journey webhook node;
- `POST /seen/v2/{workspaces|projects}/{ID}/event` — 2.0 External Events.

Answers: 201 stored, 200 stored already (a retry, a repeat), 401 wrong or missing secret,
404 a target with no callback secret, 413 over 64 KB, 415 a body declared other than JSON,
400 not a JSON object or no person's id, 503 the file could not be written (SEEN retries).
A 401 says nothing about people; the routes do nothing but store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from seen_core.engagement import calls
from seen_core.engagement.calls import Event, Film, Refusal
from seen_core.engagement.secrets import CallbackSecrets
from seen_core.engagement.store import EngagementStore
from seen_core.errors import JournalError

PREFIX = "/seen"
V1_CALLBACK = f"{PREFIX}/v1/callback"
V2_FILM = PREFIX + "/v2/{kind}/{target}/film"
V2_EVENT = PREFIX + "/v2/{kind}/{target}/event"


def v2_path(kind: str, name: str, what: str) -> str:
    """The path SEEN calls for a 2.0 target: kind `workspace`/`project`, what `film`/`event`."""
    return f"{PREFIX}/v2/{kind}s/{name}/{what}"


def _refuse(refusal: Refusal) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="seen"'} if refusal.status == 401 else None
    return JSONResponse({"error": refusal.message}, status_code=refusal.status, headers=headers)


async def _body(request: Request) -> bytes | Refusal:
    """The body, read no further than the limit (a Content-Length is not taken on trust)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > calls.MAX_BODY_BYTES:
        return calls.TOO_LARGE
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > calls.MAX_BODY_BYTES:
            return calls.TOO_LARGE
        chunks.append(chunk)
    return b"".join(chunks)


async def _object(request: Request) -> dict[str, Any] | Refusal:
    refused = calls.content_type_refused(request.headers.get("content-type"))
    if refused is not None:
        return refused
    body = await _body(request)
    if isinstance(body, Refusal):
        return body
    return calls.json_object(body)


class CallbackRoutes:
    """The routes' endpoints over one store; `secrets` is read at each call (a callable), so a
    secret changed in secrets.toml applies without a restart when the caller rereads it."""

    def __init__(
        self,
        store: Callable[[], EngagementStore] | EngagementStore,
        secrets: Callable[[], CallbackSecrets] | CallbackSecrets,
    ) -> None:
        self._store = store if callable(store) else (lambda: store)
        self._secrets = secrets if callable(secrets) else (lambda: secrets)

    def routes(self) -> list[Route]:
        return [
            Route(V1_CALLBACK, self.v1_callback, methods=["POST"]),
            Route(V2_FILM, self.v2_film, methods=["POST"]),
            Route(V2_EVENT, self.v2_event, methods=["POST"]),
        ]

    async def _keep(self, call: Film | Event) -> JSONResponse:
        try:
            new = await asyncio.wrap_future(self._store().submit(call))
        except JournalError:
            return JSONResponse({"error": "Not stored; try again."}, status_code=503)
        return JSONResponse({"stored": True, "new": new}, status_code=201 if new else 200)

    async def v1_callback(self, request: Request) -> JSONResponse:
        secrets = self._secrets()
        authorization = request.headers.get("authorization")
        # The body names the campaign (and so its secret): no body is read for a call that
        # carries none of the configured secrets.
        if not secrets.matches_any(authorization):
            return _refuse(calls.UNAUTHORIZED if secrets.any_configured() else calls.NO_ADDRESS)
        data = await _object(request)
        if isinstance(data, Refusal):
            return _refuse(data)
        slug = calls.v1_campaign(data)
        if isinstance(slug, Refusal):
            return _refuse(slug)
        refused = calls.authorized(secrets, "campaign", slug, authorization)
        if refused is not None:
            return _refuse(refused)
        film = calls.v1_film(data, slug)
        return _refuse(film) if isinstance(film, Refusal) else await self._keep(film)

    async def _v2(self, request: Request, read: Callable) -> JSONResponse:
        target = calls.data_target(request.path_params["kind"], request.path_params["target"])
        if target is None:
            return _refuse(calls.NO_ADDRESS)
        refused = calls.authorized(self._secrets(), *target, request.headers.get("authorization"))
        if refused is not None:
            return _refuse(refused)
        data = await _object(request)
        if isinstance(data, Refusal):
            return _refuse(data)
        call = read(data, *target)
        return _refuse(call) if isinstance(call, Refusal) else await self._keep(call)

    async def v2_film(self, request: Request) -> JSONResponse:
        return await self._v2(request, calls.v2_film)

    async def v2_event(self, request: Request) -> JSONResponse:
        return await self._v2(request, calls.v2_event)


def lifespan_closing(store: EngagementStore) -> Callable[[Any], Any]:
    """A Starlette lifespan that stores what is queued and stops the writer at shutdown."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await asyncio.to_thread(store.close)

    return lifespan
