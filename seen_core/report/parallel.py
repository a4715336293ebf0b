"""A second core for the report of a command: part of the work done in a forked child.

The command line's `validate --report` (and `send --report`) is one process that reads,
checks, writes the report and ends; most of the report is Python, so one core does it all
while the other waits. There, and only there, the report may fork: the child makes what it
can make from the plan alone (the notes, their drawing, the Problems sheet's rows) while this
process writes the people's rows, and hands it back through a pipe.

The app never forks (its server runs threads, and a fork copies only the thread that made it):
`on_two_cores` is entered by the command line alone, and without it the report is made in
this process, in the same order, to the same bytes. When the child cannot be had or fails,
the parent makes the same parts itself: a fork is a way to be faster, never to differ.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
from collections.abc import Callable, Iterator
from typing import Any

from seen_core.interpreter import cores

_allowed = False
_early: Early | None = None


@contextlib.contextmanager
def on_two_cores() -> Iterator[None]:
    """Let the reports made meanwhile hand part of their work to a forked child (a command
    that does nothing else at the time: never the app's server)."""
    global _allowed, _early
    was = _allowed
    _allowed = hasattr(os, "fork") and cores() >= 2
    try:
        yield
    finally:
        _allowed = was
        if _early is not None:  # begun for a report that was not made in place
            _early.helper.abandon()
            _early = None


def forking() -> bool:
    """Whether a report made now may fork (see `on_two_cores`)."""
    return _allowed


def begin(
    work: Callable[[], dict[str, Any]],
    source: bytes,
    sheet: str | None,
    header_row: int,
    rows: list[int],
) -> None:
    """Start `work` in a child for the report of `source`'s sheet `sheet` (its header on
    `header_row`, its people on `rows`) that is made next: before the payloads and the plan,
    which it needs not wait for (see `report.begin_report`)."""
    global _early
    if _allowed and _early is None:
        _early = Early((source, sheet, header_row, rows), Helper(work))


def early_for(source: bytes, sheet: str | None, header_row: int) -> Early | None:
    """The work begun for the report of this sheet, if any (it is handed out once)."""
    global _early
    early = _early
    if early is None:
        return None
    begun_source, begun_sheet, begun_header, _rows = early.key
    if (begun_sheet, begun_header) != (sheet, header_row) or begun_source != source:
        return None
    _early = None
    return early


class Early:
    """Work begun in a child before the report (`begin`): its answer is a dict."""

    def __init__(self, key: tuple[bytes, str | None, int, list[int]], helper: Helper) -> None:
        self.key = key
        self.helper = helper

    def answer(self, name: str, rows: list[int] | None = None) -> Any:
        """The answer's `name` (None when the child failed or made it for other rows)."""
        found = self.helper.result()
        if found is None or (rows is not None and rows != self.key[3]):
            return None
        return found.get(name)


class Helper:
    """The answer of `work`, run in a forked child; `result()` waits for it (None when the
    child failed, and the caller makes it itself)."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self.pid = 0
        self.reader = -1
        self._answer: Any = None
        self._done = False
        try:
            reader, writer = os.pipe()
        except OSError:
            self._done = True
            return
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError:
            os.close(reader)
            os.close(writer)
            self._done = True
            return
        if pid == 0:  # the child: answer through the pipe, and end without cleaning up
            status = 1
            try:
                os.close(reader)
                data = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
                view = memoryview(data)
                while view:
                    view = view[os.write(writer, view) :]
                status = 0
            except BaseException:
                pass
            os._exit(status)
        os.close(writer)
        self.pid, self.reader = pid, reader

    def result(self) -> Any:
        if self._done:
            return self._answer
        self._done = True
        chunks = []
        try:
            while chunk := os.read(self.reader, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(self.reader)
            _, status = os.waitpid(self.pid, 0)
        if status != 0:
            return None
        try:
            self._answer = pickle.loads(b"".join(chunks))
        except Exception:
            self._answer = None
        return self._answer

    def abandon(self) -> None:
        """Wait for the child without its answer (the report failed meanwhile)."""
        if not self._done:
            self._done = True
            os.close(self.reader)
            os.waitpid(self.pid, 0)
