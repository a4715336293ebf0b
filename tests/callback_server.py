"""SEEN's callbacks served for real: uvicorn on 127.0.0.1 (a free port) in a thread, with the
engagement routes over a store and a journal in a temporary folder."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
import uvicorn
from starlette.applications import Starlette

from seen_core.engagement import CallbackSecrets
from seen_core.engagement.routes import CallbackRoutes
from seen_core.engagement.store import EngagementStore


@contextmanager
def served(app: Any) -> Iterator[str]:
    """Serve an ASGI app on a free port of 127.0.0.1 until the block ends; yields its URL."""
    # IPPROTO_TCP: asyncio turns Nagle off only on sockets that say they are TCP (else each
    # answer waits 40 ms for the client's delayed ACK).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", backlog=4096)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def films_made(store: EngagementStore, people: list[str], *, campaign: str, secret: str) -> None:
    """SEEN calls back, through the real routes over `store`, that each person's film in the
    v1 campaign `campaign` is made (its page at watch.seen.example/<person>)."""
    with served(Starlette(routes=CallbackRoutes(store, CallbackSecrets(secret)).routes())) as url:
        for person in people:
            film = {
                "customer_id": person,
                "campaign_slug": campaign,
                "landing_page_url": f"https://watch.seen.example/{person}",
            }
            answer = requests.post(
                f"{url}/seen/v1/callback", json=film, headers={"Authorization": f"Token {secret}"}
            )
            assert answer.status_code == 201
