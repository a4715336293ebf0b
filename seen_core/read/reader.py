"""The process that parses one upload for `isolated.read_sheet_isolated`, under resource limits.

It reads a pickled request on stdin: (file name, bytes, sheet, Limits, header row, ahead,
the workbook's parts to look into, the language of its messages). It limits its own memory
(address space), CPU time and core file, looks into those parts
(`workbook_limits.check_contents`), parses with `sheets.read_grid`, and writes the answer on
stdout as a frame (8-byte length, then a pickle): ("grid", (sheet names, sheet, `pack_columns`
of the cells)), ("error", SheetError) or ("memory", None).
An abort or the kernel's OOM killer ends it without an answer; the caller reads the exit status.

`ahead` (check options as a dict, or None): after the cells, the first check of the sheet
with its suggested mapping, made here on the other core while the app goes on, as a second
frame: ("checked", (mapping, options, CheckResult)) or ("error", None). It runs at a lower
priority (`AHEAD_NICENESS`): the pages being drawn, in this session or another, come first.
A reader started ahead of need (`--warm`) loads the checks while it waits for its file;
without `--warm` it loads only what parsing needs, so that it starts in about 0.1 s. Neither
imports pandas: the checks read the cells as text (`text_table`).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import os
import pickle
import sys
import threading
from typing import BinaryIO

from seen_core.errors import SheetError
from seen_core.read.limits import MB, Limits

AHEAD_NICENESS = 10  # added to the reader's niceness for the check ahead

# Characters that join a column's cells into one string for the way to the caller: the first
# that no cell of the column holds (NUL nearly always).
_JOINERS = ("\x00", "\x1f", "\x1e", "\ufdd0")


def pack_columns(columns: list[list[str]]) -> tuple[int, list[tuple[str, str] | list[str]]]:
    """The columns for a pickle: each joined into one string where a character no cell holds
    can be found (1 string to pickle and split again, instead of 100,000 to unpickle)."""
    height = len(columns[0]) if columns else 0
    packed: list[tuple[str, str] | list[str]] = []
    for column in columns:
        for joiner in _JOINERS:
            text = joiner.join(column)
            if text.count(joiner) == height - 1:
                packed.append((joiner, text))
                break
        else:
            packed.append(column)
    return height, packed


def unpack_columns(packed: tuple[int, list[tuple[str, str] | list[str]]]) -> list[list[str]]:
    """The columns `pack_columns` packed, as they were (split in C)."""
    height, columns = packed
    if not height:
        return [[] for _ in columns]
    return [c[1].split(c[0]) if isinstance(c, tuple) else c for c in columns]


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


def write_frame(out: BinaryIO, outcome: tuple[str, object], *, shared: bool = False) -> None:
    """One answer: its length in 8 bytes, then its pickle. `shared`: the answer refers to the
    same objects many times (a check's problems share their codes and columns); else none
    (the grid), and the pickle keeps no memo."""
    try:
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.fast = not shared  # no memo for the grid: 10x faster
        pickler.dump(outcome)
        data = buffer.getbuffer()
    except MemoryError:
        data = memoryview(pickle.dumps(("memory", None)))
    out.write(len(data).to_bytes(8, "big"))
    out.write(data)
    out.flush()


def check_ahead(
    file_name: str, header_row: int | None, options: dict, grid: tuple
) -> tuple[str, object]:
    """The first check of the sheet the caller makes of these cells, with its suggested mapping."""
    from seen_core.check import checks, mapping
    from seen_core.read import sheets

    sheet_names, sheet_name, columns = grid
    sheet = sheets.sheet_from_columns(file_name, "", sheet_names, sheet_name, columns, header_row)
    suggested = mapping.suggest(sheet.columns)
    made = checks.CheckOptions(**options)
    return "checked", (suggested.to_dict(), made, checks.check_sheet(sheet.text, suggested, made))


def main() -> None:
    # The answer goes to the real stdout alone; anything a library prints goes to stderr.
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    from seen_core.read import sheets  # loaded before the request comes, while the caller waits

    if "--warm" in sys.argv:  # for the check ahead; the cells do not wait for it
        threading.Thread(target=importlib.import_module, args=("seen_core.check.checks",)).start()
    try:
        file_name, data, sheet, limits, header_row, ahead, to_look_into, *language = pickle.load(
            sys.stdin.buffer
        )
    except EOFError:  # the caller went away without a request (a spare reader at exit)
        os._exit(0)
    from seen_core import i18n

    # What it says of the file, in the language of the user who sent it.
    i18n.use(language[0] if language else "en")
    limit_this_process(limits)
    gc.disable()  # millions of small objects and no cycles, in a process that lives briefly
    outcome: tuple[str, object]
    columns = None
    try:
        sheet_names, sheet_name, columns = sheets.read_grid(
            file_name, data, sheet, limits, to_look_into
        )
        outcome = ("grid", (sheet_names, sheet_name, pack_columns(columns)))
    except SheetError as error:
        outcome = ("error", error)
    except MemoryError:
        outcome = ("memory", None)
    del data
    try:
        write_frame(answer, outcome)
        del outcome
        if ahead is not None and columns is not None:
            # Work ahead of need: the pages of this upload and everyone else's come first.
            with contextlib.suppress(OSError):  # where priorities cannot change, check anyway
                os.nice(AHEAD_NICENESS)
            try:
                found = check_ahead(
                    file_name, header_row, ahead, (sheet_names, sheet_name, columns)
                )
            except Exception:  # MemoryError too: the app checks in its own process instead
                found = ("error", None)
            write_frame(answer, found, shared=True)
    except BrokenPipeError:  # the caller stopped waiting
        pass
    os._exit(0)  # the grid's million objects need no freeing one by one


if __name__ == "__main__":
    main()
