"""Who is sending a send right now: a claim names a host, a process and a random token, and
is alive while that process is (checked by pid on this host) and has written lately."""

from __future__ import annotations

import os
import secrets
import socket
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

# A claim on another host cannot be checked by pid; a claim whose owner has not written for
# this long is taken as dead. Far above the longest wait between two writes (timeouts, back-off).
STALE_CLAIM_SECONDS = 600.0

# Claims held by this process, so a claim carrying our own pid can be told apart from one
# left by an earlier process that had the same pid (pid 1 in a restarted container).
_live_claims: set[str] = set()
_live_lock = threading.Lock()


def now() -> datetime:
    return datetime.now(UTC)


def new_owner() -> str:
    """A claim's owner for this thread, remembered as held by this process."""
    owner = f"{socket.gethostname()}|{os.getpid()}|{secrets.token_hex(8)}"
    with _live_lock:
        _live_claims.add(owner)
    return owner


def let_go(owner: str) -> None:
    """This process no longer holds the claim (its send ended, or the claim was not taken)."""
    with _live_lock:
        _live_claims.discard(owner)


def _pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this machine (a zombie counts as dead)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user
    stat = Path(f"/proc/{pid}/stat")
    try:
        # A killed child not yet reaped still answers kill(0); its state letter is Z.
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _windows_pid_alive(pid: int) -> bool:
    # os.kill(pid, 0) would terminate the process on Windows, so ask the kernel instead.
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def owner_alive(owner: str | None, heartbeat_at: str | None) -> bool:
    """Whether the owner of a claim may still be sending."""
    if not owner:
        return False
    host, _, rest = owner.partition("|")
    pid_text, _, _token = rest.partition("|")
    fresh = False
    if heartbeat_at:
        age = (now() - datetime.fromisoformat(heartbeat_at)).total_seconds()
        fresh = age < STALE_CLAIM_SECONDS
    if host != socket.gethostname():
        return fresh
    pid = int(pid_text) if pid_text.isdigit() else -1
    if pid == os.getpid():
        with _live_lock:
            return owner in _live_claims
    # A live pid with a stale heartbeat is most likely another program that reused the pid.
    return fresh and _pid_alive(pid)
