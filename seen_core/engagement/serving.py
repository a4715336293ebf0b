"""The callbacks' routes as the app's server runs them: one store per process (shared by the
routes and the pages), the secrets read from secrets.toml, and the secret the app makes for
its own sandbox when none is configured.

With no `[seen.callbacks]` at all, the routes accept only calls carrying a secret this process
generated when it started — which only its own sandbox knows — so the demo shows the whole
loop while nothing from outside is taken.
"""

from __future__ import annotations

import asyncio
import secrets as random
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from seen_core.engagement.routes import CallbackRoutes
from seen_core.engagement.secrets import CallbackSecrets
from seen_core.engagement.store import EngagementStore, default_store_path
from seen_core.errors import ConfigurationError
from seen_core.store.database import default_path, retention_days

_lock = threading.Lock()
_stores: dict[Path, EngagementStore] = {}
_LOCAL_SECRET = random.token_urlsafe(32)
_served = threading.Event()  # set while this process's server answers the routes


def routes_served() -> bool:
    """Whether this process serves the `/seen/` routes (not so under AppTest or a command)."""
    return _served.is_set()


def sandbox_secret_for(read_config: Callable[[], Mapping[str, Any]]) -> Callable:
    """For the app's sandbox: the secret to call a target back with, or None (no calls) when
    this process serves no routes to call."""

    def secret_for(kind: str, name: str) -> str | None:
        if not routes_served():
            return None
        return effective_secrets(read_config()).secret_for(kind, name)

    return secret_for


def shared_store(journal_path: str | Path | None = None) -> EngagementStore:
    """The callbacks' store beside the journal, one per process (routes and pages share it)."""
    path = default_store_path(journal_path or default_path())
    with _lock:
        store = _stores.get(path)
        if store is None or store.closed:
            store = _stores[path] = EngagementStore(path)
        return store


def effective_secrets(config: Mapping[str, Any]) -> CallbackSecrets:
    """The configured secrets; with none configured (or none usable), this process's own."""
    try:
        configured = CallbackSecrets.from_config(config)
    except ConfigurationError:
        configured = CallbackSecrets()
    return configured if configured.any_configured() else CallbackSecrets(_LOCAL_SECRET)


SECRETS_READ_EVERY = 5.0  # seconds: a secret changed in secrets.toml applies this soon


def server_routes(read_config: Callable[[], Mapping[str, Any]]) -> list:
    """The `/seen/` routes over the shared store; `read_config` gives secrets.toml's content,
    read again at most every few seconds (not on each of 500 calls a second)."""
    held: dict[str, Any] = {"secrets": None, "read_at": float("-inf"), "store": None}

    def secrets() -> CallbackSecrets:
        now = time.monotonic()
        if now - held["read_at"] > SECRETS_READ_EVERY:
            held["secrets"], held["read_at"] = effective_secrets(read_config()), now
        return held["secrets"]

    def store() -> EngagementStore:
        if held["store"] is None or held["store"].closed:
            held["store"] = shared_store()
        return held["store"]

    return CallbackRoutes(store, secrets).routes()


def no_delay_on_listeners() -> int:
    """Turn Nagle's algorithm off on this process's listening TCP sockets (Linux: the
    connections they accept inherit it); how many. Streamlit binds its socket without saying it
    is TCP, so asyncio leaves Nagle on, and every answer — written as headers, then body —
    waited for the client's delayed ACK: 40 ms a call."""
    import os
    import socket

    done = 0
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:  # not Linux: nothing to do here
        return 0
    for name in names:
        try:
            fd = int(name)
            probe = socket.socket(fileno=os.dup(fd))
        except (ValueError, OSError):
            continue
        try:
            listening = probe.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
            if listening and probe.family in (socket.AF_INET, socket.AF_INET6):
                probe.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                done += 1
        except OSError:
            pass
        finally:
            probe.close()
    return done


@asynccontextmanager
async def server_lifespan(app: Any) -> AsyncIterator[None]:
    """At start: Nagle off for the server's connections, the store opened and purged of what
    is past the retention. At the end: what is queued is stored."""
    no_delay_on_listeners()
    store = await asyncio.to_thread(shared_store)
    await asyncio.to_thread(store.purge, retention_days())
    _served.set()
    try:
        yield
    finally:
        _served.clear()
        await asyncio.to_thread(store.close)


def callback_base(address: str | None, port: int | str | None) -> str:
    """The address the app's own routes answer on, as a local caller reaches them."""
    host = address or "127.0.0.1"
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port or 8501}"
