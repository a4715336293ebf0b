"""A big sheet's phone numbers checked in a second process, while this one runs the other rules.

A command's check is bound by the interpreter's lock, and of its rules the phone numbers cost
the most: about half of the check of a 100,000-row export in which many numbers are not
valid. `PhoneProcess` starts `python -m seen_core.check.phone_process` before the sheet is read, so
that its start and its imports happen while this process reads; `not_valid` then hands it
the phone column and gives back a function that waits for its answer: the positions of the
numbers that are not valid, worked out by the same `contact.phones_not_valid` as here.

The process is given the phone numbers and the region, nothing else: not the environment
(a token may be in it), not the rest of the sheet. When it cannot start, ends without an
answer, answers what cannot be right or takes longer than `ANSWER_SECONDS`, the numbers are
checked in this process instead: the answer is the same, only later. For the commands; the
app checks ahead in its reader process (see `isolated.read_sheet_checking_ahead`).
"""

from __future__ import annotations

import array
import contextlib
import itertools
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from seen_core.interpreter import helper_environment

ELSEWHERE_FROM = 20_000  # numbers; fewer are checked here sooner than a process could answer
WORTH_STARTING_BYTES = 1_000_000  # files smaller than this hold too few numbers (see above)
ANSWER_SECONDS = 120.0  # after this, the numbers are checked here

_ROOT = Path(__file__).resolve().parents[2]  # where `python -m seen_core.check.phone_process` is
_POSITION = "I"  # unsigned ints: a sheet has far fewer rows than 2**32


class PhoneProcess:
    """A second process, started now, ready to check one column of phone numbers."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "seen_core.check.phone_process"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # nothing it could say is for the user
                cwd=_ROOT,
                env=helper_environment(),  # no token
            )
        except OSError:
            self._process = None
        self.answered = False  # whether the last `not_valid` came from the second process

    def __enter__(self) -> PhoneProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def not_valid(self, values: Sequence[str], region: str) -> Callable[[], list[int]]:
        """Start checking a phone column elsewhere; the function returned waits for what
        `contact.phones_not_valid(values, region)` says. A process checks one column only."""
        from seen_core.check.contact import phones_not_valid  # not before: this process was reading

        process, self._process = self._process, None
        self.answered = False
        if process is None or len(values) < ELSEWHERE_FROM:
            _stop(process)
            return lambda: phones_not_valid(values, region)
        try:
            assert process.stdin is not None
            process.stdin.write(pickle.dumps((region, list(values)), pickle.HIGHEST_PROTOCOL))
            process.stdin.close()  # the request ends here
        except OSError:  # it ended already
            _stop(process)
            return lambda: phones_not_valid(values, region)
        answer = _Answer(process)

        def positions() -> list[int]:
            found = answer.positions(len(values))
            self.answered = found is not None
            return phones_not_valid(values, region) if found is None else found

        return positions

    def close(self) -> None:
        """Not needed after all: the process ends."""
        process, self._process = self._process, None
        _stop(process)


class _Answer:
    """The process's answer, taken in by a thread as it comes (the process never waits on a
    full pipe while this one is busy with the other rules)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process
        self._data = b""
        self._taker = threading.Thread(target=self._take, name="phone answer", daemon=True)
        self._taker.start()

    def _take(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            assert self._process.stdout is not None
            self._data = self._process.stdout.read()
            self._process.wait()

    def positions(self, count: int) -> list[int] | None:
        """The positions answered, or None for no answer in time or one that cannot be right."""
        self._taker.join(ANSWER_SECONDS)
        if self._taker.is_alive() or self._process.returncode != 0:
            _stop(self._process)
            return None
        return _decoded(self._data, count)


def _decoded(data: bytes, count: int) -> list[int] | None:
    if len(data) % array.array(_POSITION).itemsize:
        return None
    positions = array.array(_POSITION, data).tolist()
    ascending = all(a < b for a, b in itertools.pairwise(positions))
    if not ascending or (positions and positions[-1] >= count):
        return None
    return positions


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None:
        return
    with contextlib.suppress(OSError):
        process.kill()
    for pipe in (process.stdin, process.stdout):
        with contextlib.suppress(OSError):
            if pipe is not None:
                pipe.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def main() -> None:
    """Read (region, phone numbers) pickled on stdin; write the positions of those that are not
    valid on stdout, as unsigned ints. An empty request: no answer."""
    from seen_core.check.contact import phones_not_valid  # while the caller reads its sheet

    request = sys.stdin.buffer.read()
    if not request:
        return
    region, values = pickle.loads(request)  # from the process that started this one
    sys.stdout.buffer.write(array.array(_POSITION, phones_not_valid(values, region)).tobytes())
    sys.stdout.buffer.flush()
    os._exit(0)  # at once: the caller takes the end of the output for the end of the answer


if __name__ == "__main__":
    main()
