"""Bulk work on 100k-row sheets: pause the cyclic garbage collector while it runs."""

from __future__ import annotations

import gc
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
