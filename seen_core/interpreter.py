"""Bulk work on 100k-row sheets: the cyclic garbage collector paused while it runs, the cores
it may be shared across, and the environment of the processes it is handed to."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Reading and checking a sheet makes millions of small strings and lists and no cycles;
    the collector would walk them again and again for nothing (about a fifth of the time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# What an interpreter needs to start and find its packages; a token is in none of these.
_HELPER_ENVIRONMENT = ("PATH", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "SYSTEMROOT", "TMPDIR")


def helper_environment() -> dict[str, str]:
    """The environment for a process of ours that parses or checks (the reader, the phone
    process): what Python needs to start, nothing else. Not the SEEN token, nor anything
    else the server was given: such a process handles files from others."""
    return {name: os.environ[name] for name in _HELPER_ENVIRONMENT if name in os.environ}
