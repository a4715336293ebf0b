"""Fetch an image URL from a sheet as SEEN would, without letting the sheet reach our own network.

A URL in a cell is chosen by whoever made the sheet. So: the host is looked up once, every
address it has must be on the public internet (not this server, a private network, a link-local
or cloud-metadata address), and the connection goes to the address that was checked, so that a
second look-up cannot answer differently. No proxy from the environment, no redirect followed,
and one deadline for look-up, connection, headers and body together.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

# Cloud providers' instance metadata: link-local or private anyway, named for a clearer reason.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
_INTERNAL_NAMES = ("localhost", "metadata", "metadata.goog", "instance-data")
_INTERNAL_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa")
_CHUNK = 64 * 1024


class ImageNotFetched(Exception):
    """The URL was not fetched, or not in full; `str()` is one sentence for the user."""


@dataclass(frozen=True)
class ImageAnswer:
    status: int
    content_type: str  # lowercased, without parameters ("image/png")
    length: int | None  # the Content-Length header, when it is a number
    size: int | None  # bytes of the body read (at most max_bytes + 1), None when not read


def address_refusal(address: str, *, allow_loopback: bool = False) -> str | None:
    """Why an IP address is not fetched from, in words ("a private network address"), or None.

    `allow_loopback` lets tests fetch from a server on 127.0.0.1.
    """
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):  # an IPv4 address inside IPv6 is judged as IPv4
        ip = ip.ipv4_mapped or ip.sixtofour or ip
    if ip in METADATA_ADDRESSES:
        return "a cloud server's metadata address"
    if ip.is_loopback:
        return None if allow_loopback else "this server's own address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private network address"
    if not ip.is_global or ip.is_reserved:
        return "an address outside the public internet"
    return None


def fetch_image(
    url: str,
    *,
    seconds: float,
    max_bytes: int,
    types: Collection[str],
    allow_loopback: bool = False,
) -> ImageAnswer:
    """GET `url` within `seconds` in all; read the body (up to `max_bytes` + 1) only for a 2xx
    answer of one of `types` whose Content-Length is not over `max_bytes`.

    Raises ImageNotFetched for an address that is not fetched from, a host that is not found,
    a failed connection and a deadline passed.
    """
    deadline = time.monotonic() + seconds
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        raise ImageNotFetched("The image URL has a port that is not a number.") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".")
    if scheme not in ("http", "https") or not host:
        raise ImageNotFetched("The image URL is not an http:// or https:// address.")
    if host in _INTERNAL_NAMES or host.endswith(_INTERNAL_SUFFIXES):
        raise ImageNotFetched(
            f"The image URL's host '{host}' is an internal name; it is not fetched, "
            "and SEEN could not reach it either."
        )
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ImageNotFetched(f"The image URL's host '{host}' is not a valid name.") from None
    port = port or (443 if scheme == "https" else 80)
    found = _look_up(host, port, deadline, seconds)
    for *_, sockaddr in found:
        reason = address_refusal(sockaddr[0], allow_loopback=allow_loopback)
        if reason:
            raise ImageNotFetched(
                f"The image URL leads to {reason} ({sockaddr[0]}); it is not fetched, "
                "and SEEN could not reach it either."
            )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _get(found, host, port, scheme, target, deadline, seconds, max_bytes, types)


def _late(seconds: float) -> ImageNotFetched:
    return ImageNotFetched(f"The image URL did not answer in full within {seconds:g} seconds.")


def _look_up(
    host: str, port: int, deadline: float, seconds: float
) -> list[tuple[int, int, int, str, tuple]]:
    """The host's addresses, with the look-up held to the deadline (the resolver has none)."""
    result: list = []

    def look_up() -> None:
        try:
            result.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except (OSError, UnicodeError) as error:
            result.append(error)

    thread = threading.Thread(target=look_up, name="image-url-lookup", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if not result:
        raise _late(seconds)
    if isinstance(result[0], Exception) or not result[0]:
        raise ImageNotFetched(f"The image URL's host '{host}' could not be found.")
    return list(dict.fromkeys(result[0]))


def _get(
    found: list[tuple[int, int, int, str, tuple]],
    host: str,
    port: int,
    scheme: str,
    target: str,
    deadline: float,
    seconds: float,
    max_bytes: int,
    types: Collection[str],
) -> ImageAnswer:
    expired = threading.Event()
    sock: socket.socket | None = None
    watchdog: threading.Timer | None = None
    try:
        for family, kind, protocol, _, sockaddr in found:  # the checked addresses, in order
            sock = socket.socket(family, kind, protocol)
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                sock.connect(sockaddr)
                break
            except OSError:
                sock.close()
                sock = None
                if time.monotonic() >= deadline:
                    raise _late(seconds) from None
        if sock is None:
            raise ImageNotFetched("The image URL could not be reached.")

        def stop(connected: socket.socket = sock) -> None:  # ends any read in progress
            expired.set()
            with contextlib.suppress(OSError):
                connected.shutdown(socket.SHUT_RDWR)

        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), stop)
        watchdog.daemon = True
        watchdog.start()
        connection: http.client.HTTPConnection
        if scheme == "https":
            context = _tls_context()
            sock = context.wrap_socket(sock, server_hostname=host)
            connection = http.client.HTTPSConnection(host, port, context=context)
        else:
            connection = http.client.HTTPConnection(host, port)
        connection.sock = sock  # already connected, to the checked address
        connection.request(
            "GET", target, headers={"User-Agent": "SEEN-Sender", "Accept": "image/*"}
        )
        response = connection.getresponse()
        kind = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        length_header = (response.getheader("Content-Length") or "").strip()
        length = int(length_header) if length_header.isdigit() else None
        size = None
        if 200 <= response.status < 300 and kind in types and (length or 0) <= max_bytes:
            size = 0
            while size <= max_bytes:
                chunk = response.read(min(_CHUNK, max_bytes + 1 - size))
                if not chunk:
                    break
                size += len(chunk)
        if expired.is_set():
            raise _late(seconds)
        return ImageAnswer(response.status, kind, length, size)
    except (OSError, http.client.HTTPException, ValueError):
        if expired.is_set() or time.monotonic() >= deadline:
            raise _late(seconds) from None
        raise ImageNotFetched("The image URL could not be reached.") from None
    finally:
        if watchdog is not None:
            watchdog.cancel()
        if sock is not None:
            sock.close()


def _tls_context() -> ssl.SSLContext:
    try:
        import certifi  # the certificates requests uses, when installed

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:
        return ssl.create_default_context()
