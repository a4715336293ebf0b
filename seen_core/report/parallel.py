"""A second core for the report of a command: part of the work done in a forked child.

The command line's `validate --report` (and `send --report`) is one process that reads,
checks, writes the report and ends; most of the report is Python, so one core does it all
while the other waits. There, and only there, the report may fork: the child makes what it
can make from the plan alone (the notes, their drawing, the Problems sheet's rows) while this
process writes the people's rows, and hands it back in a file in memory (`_answers_file`).

Forking has a cost beyond the fork: every page either process writes after it faults once more
(copied while the child lives), and Python writes to every object it touches (its reference
count). So where the process that checked the phone numbers can find the rows before the plan
(`begun_elsewhere`), no child is forked for that, and the payloads and the plan, which touch
every cell, run on pages of their own.

The app never forks (its server runs threads, and a fork copies only the thread that made it):
`on_two_cores` is entered by the command line alone, and without it the report is made in
this process, in the same order, to the same bytes. When the child cannot be had or fails,
the parent makes the same parts itself: a fork is a way to be faster, never to differ.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import sys
from collections.abc import Callable, Iterator
from typing import Any, Generic, Protocol, TypeVar

from seen_core.interpreter import cores

# A child pays for itself from a few thousand rows on (forking and handing back take some
# 20-40 ms); a small sheet's report is made in this process.
WORTH_FORKING_ROWS = 5_000
T = TypeVar("T")
_allowed = False
_early: Early | Elsewhere | None = None


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
            _early.close()
            _early = None


def forking(rows: int) -> bool:
    """Whether the report of a sheet of `rows` people made now may fork (see
    `on_two_cores`)."""
    return _allowed and rows >= WORTH_FORKING_ROWS


def begin(
    work: Callable[[], dict[str, Any]],
    source: bytes,
    sheet: str | None,
    header_row: int,
    rows: list[int],
    then: Callable[[], Any] | None = None,
    then_for: object = None,
) -> None:
    """Start `work` in a child for the report of `source`'s sheet `sheet` (its header on
    `header_row`, its people on `rows`) that is made next: before the payloads and the plan,
    which it needs not wait for (see `report.begin_report`). `then`: more work the child does
    after, for the report of `then_for` (see `Early.then_made`)."""
    global _early
    if _allowed and _early is None:
        key = (source, sheet, header_row, rows)
        if then is None:
            _early = Early(key, Helper(work))
        else:
            _early = Early(key, Helper(lambda: (then(),), first=work), then_for)


def begun_elsewhere(
    source: bytes, sheet: str | None, header_row: int, rows: list[int], found: Found
) -> None:
    """Take where the rows of the report of `source`'s sheet `sheet` (its header on
    `header_row`, its people on `rows`) are from another process, which is finding them
    (`found`, see `phone_process.find_rows_after`), instead of a child `begin` forks: this
    process does not fork before the payloads and the plan, which would have every page they
    touch copied (or at least faulted) once more."""
    global _early
    if _allowed and _early is None:
        _early = Elsewhere((source, sheet, header_row, sorted(rows)), found)
    else:
        found.stop()


def early_for(source: bytes, sheet: str | None, header_row: int) -> Early | Elsewhere | None:
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

    def __init__(
        self, key: tuple[bytes, str | None, int, list[int]], helper: Helper, then_for: object = None
    ) -> None:
        self.key = key
        self.helper = helper
        self.then_for = then_for  # what the work after is for (None: there is none)

    def answer(self, name: str, rows: list[int] | None = None) -> Any:
        """The answer's `name` (None when the child failed or made it for other rows)."""
        helper = self.helper
        found = helper.result() if self.then_for is None else helper.first_result()
        if found is None or (rows is not None and rows != self.key[3]):
            return None
        return found.get(name)

    def then_begun(self, this: object) -> bool:
        """Whether the child's work after is for `this` (the very object it was begun for)."""
        return self.then_for is not None and self.then_for is this

    def then_made(self) -> tuple[Any] | None:
        """The answer of the work after, in a tuple (None when the child failed)."""
        return self.helper.result()

    def close(self) -> None:
        """Done with the child: its answers not taken are not waited for."""
        self.helper.abandon()


class Found(Protocol):
    """Where a report's rows are, being found by another process (`phone_process.RowsFound`)."""

    def result(self) -> dict[str, Any] | None: ...

    def stop(self) -> None: ...


class Elsewhere:
    """Where the rows are, found by another process (`begun_elsewhere`): answers as an
    `Early`'s, without the work after (the Problems sheet's rows are made with the notes)."""

    def __init__(self, key: tuple[bytes, str | None, int, list[int]], found: Found) -> None:
        self.key = key
        self.found = found
        self._result: dict[str, Any] | None = None
        self._taken = False

    def answer(self, name: str, rows: list[int] | None = None) -> Any:
        """The answer's `name` (None when the other process failed or found other rows)."""
        if not self._taken:
            self._result, self._taken = self.found.result(), True
        if self._result is None or (rows is not None and rows != self.key[3]):
            return None
        return self._result.get(name)

    def then_begun(self, this: object) -> bool:
        return False

    def then_made(self) -> tuple[Any] | None:
        return None

    def close(self) -> None:
        self.found.stop()


class Helper:
    """The answers of `first` (when given) and of `work`, run in that order in a forked child;
    `first_result()` and `result()` wait for them (None when the child failed before it, and
    the caller makes it itself)."""

    def __init__(self, work: Callable[[], Any], first: Callable[[], Any] | None = None) -> None:
        self.pid = 0
        self.reader = -1
        self.store = -1
        self._read_to = 0  # how much of `store` this process has taken
        self._answers: list[Any] = []
        self._wanted = 2 if first is not None else 1
        self._done = False
        try:
            store = _answers_file()
        except OSError:
            self._done = True
            return
        try:
            reader, writer = os.pipe()
        except OSError:
            os.close(store)
            self._done = True
            return
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError:
            for fd in (reader, writer, store):
                os.close(fd)
            self._done = True
            return
        if pid == 0:  # the child: answer (`_send`), and end without cleaning up
            status = 1
            try:
                os.close(reader)
                for step in (first, work):
                    if step is not None:
                        _send(writer, store, step())
                status = 0
            except BaseException:
                pass
            os._exit(status)
        os.close(writer)
        self.pid, self.reader, self.store = pid, reader, store

    def first_result(self) -> Any:
        """The answer of `first`."""
        return self._answer(0)

    def result(self) -> Any:
        """The answer of `work`."""
        return self._answer(self._wanted - 1)

    def _answer(self, number: int) -> Any:
        while len(self._answers) <= number and not self._done:
            if _waiting_work and not select.select([self.reader], [], [], 0)[0]:
                _work_while_waiting()  # the child is not done: the command's own work first
            answer = self._receive()
            self._answers.append(answer)
            if answer is None or len(self._answers) == self._wanted:
                self._end()
        return self._answers[number] if number < len(self._answers) else None

    def _receive(self) -> Any:
        """The child's next answer: its length from the pipe, then its bytes from the file they
        were written to; None at the pipe's end (the child failed) or when cut short."""
        head = _read(self.reader, _LENGTH)
        if len(head) < _LENGTH:
            return None
        size = int.from_bytes(head, "little")
        data = _read_at(self.store, size, self._read_to)
        self._read_to += len(data)
        if len(data) < size:
            return None
        try:
            return pickle.loads(data)
        except Exception:
            return None

    def _end(self) -> None:
        self._done = True
        os.close(self.reader)
        os.close(self.store)
        _, status = os.waitpid(self.pid, 0)
        if status != 0 and self._answers:
            self._answers[-1] = None  # the child failed after writing it: not to be trusted

    def abandon(self) -> None:
        """Wait for the child without its answers (the report failed meanwhile)."""
        if not self._done:
            self._done = True
            os.close(self.reader)
            os.close(self.store)
            os.waitpid(self.pid, 0)


class Meanwhile(Generic[T]):
    """Work of the command's own, done when this process would otherwise wait for a child
    (`meanwhile`), or when its result is asked for, whichever comes first."""

    def __init__(self, call: Callable[[], T]) -> None:
        self._call: Callable[[], T] | None = call
        self._result: T | None = None
        self._error: BaseException | None = None

    def run(self) -> None:
        call, self._call = self._call, None
        if call is not None:
            try:
                self._result = call()
            except Exception as error:  # raised to whoever asks for the result
                self._error = error

    def result(self) -> T:
        if self in _waiting_work:
            _waiting_work.remove(self)
        self.run()
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]  # set, as no error was raised


_waiting_work: list[Meanwhile[Any]] = []


def meanwhile(call: Callable[[], T]) -> Meanwhile[T]:
    """Have `call` done the next time a report made now would wait for its child (the notes
    are the child's last work, and this process may be done with the rows before them): the
    command's own work, such as the lines it prints, on a core that would be idle."""
    work = Meanwhile(call)
    _waiting_work.append(work)
    return work


def _work_while_waiting() -> None:
    while _waiting_work:
        _waiting_work.pop(0).run()


_LENGTH = 8  # bytes that give an answer's length before it


def _answers_file() -> int:
    """A file in memory for a child's answers (the pipe carries only their lengths): the child
    writes them without waiting for this process to read, which it does only once its own
    share of the rows is made (through a pipe, which holds 64 KB, the child waited that long
    before it could start on the notes)."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("seen-sender-report", os.MFD_CLOEXEC)
    import tempfile  # not where memfd_create is: it loads shutil and random

    with tempfile.TemporaryFile() as file:  # elsewhere: a file of its own, already unlinked
        return os.dup(file.fileno())


def _send(writer: int, store: int, answer: Any) -> None:
    """In the child: `answer`'s bytes to the end of `store`, then their length to the pipe."""
    view = memoryview(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
    size = len(view)
    while view:
        view = view[os.write(store, view) :]
    os.write(writer, size.to_bytes(_LENGTH, "little"))  # a pipe takes 8 bytes at once


def _read(reader: int, size: int) -> bytes:
    chunks, left = [], size
    while left > 0:
        chunk = os.read(reader, min(left, 1 << 22))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_at(store: int, size: int, offset: int) -> bytes:
    """`size` bytes of `store` from `offset` (fewer where it ends), the file's own position
    left alone: the child, which shares it, writes at it."""
    chunks, left = [], size
    while left > 0:
        chunk = os.pread(store, min(left, 1 << 24), offset)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
        offset += len(chunk)
    return b"".join(chunks)
