"""The process that parses one upload for `sheets.read_sheet_isolated`, under resource limits.

It reads a pickled (file name, bytes, sheet, Limits) on stdin, limits its own memory (address
space), CPU time and core file, parses with `sheets.read_grid`, and writes a pickled
("grid", (sheet names, sheet, cells)), ("error", SheetError) or ("memory", None) on stdout.
An abort or the kernel's OOM killer ends it without an answer; the caller reads the exit status.
It never imports pandas, so that it starts in about 0.1 s.
"""

from __future__ import annotations

import gc
import io
import os
import pickle
import sys

from seen_core.errors import SheetError
from seen_core.limits import MB, Limits


def limit_this_process(limits: Limits) -> None:
    """Memory (address space), CPU time and no core file, for a process that parses."""
    import resource

    def lower(which: int, soft: int) -> None:
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(which, (soft, hard))

    lower(resource.RLIMIT_AS, limits.parse_memory_mb * MB)
    lower(resource.RLIMIT_CPU, int(limits.parse_seconds) + 5)  # the caller stops it at its deadline
    lower(resource.RLIMIT_CORE, 0)


def main() -> None:
    # The answer goes to the real stdout alone; anything a library prints goes to stderr.
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    from seen_core import sheets  # loaded before the request comes, while the caller waits

    try:
        file_name, data, sheet, limits = pickle.load(sys.stdin.buffer)
    except EOFError:  # the caller went away without a request (a spare reader at exit)
        return
    limit_this_process(limits)
    gc.disable()  # millions of small objects and no cycles, in a process that lives briefly
    outcome: tuple[str, object]
    try:
        outcome = ("grid", sheets.read_grid(file_name, data, sheet, limits, checked=True))
    except SheetError as error:
        outcome = ("error", error)
    except MemoryError:
        outcome = ("memory", None)
    del data
    try:
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.fast = True  # no memo: the grid has no shared or recursive parts; 10x faster
        pickler.dump(outcome)
    except MemoryError:
        buffer = io.BytesIO(pickle.dumps(("memory", None)))
    del outcome
    answer.write(buffer.getbuffer())
    answer.flush()
    os._exit(0)  # the grid's million objects need no freeing one by one


if __name__ == "__main__":
    main()
