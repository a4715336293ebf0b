"""A big sheet's phone numbers checked in a second process, while this one runs the other rules.

A command's check is bound by the interpreter's lock, and of its rules the phone numbers cost
the most: about half of the check of a 100,000-row export in which many numbers are not
valid. `PhoneProcess` starts `python -m seen_core.check.phone_process` before the sheet is read, so
that its start and its imports happen while this process reads; `checked` then hands it
the phone column and gives back a function that waits for its answer, worked out by the same
`contact.phones_checked` as here: the positions of the numbers that are not valid, the fix
suggested for each, and every number's E.164 form (what the report says was sent).

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
from typing import TYPE_CHECKING

from seen_core.interpreter import helper_environment

if TYPE_CHECKING:
    from seen_core.check.contact import PhonesChecked

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
        self.answered = False  # whether the last `checked` came from the second process

    def __enter__(self) -> PhoneProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def checked(self, values: Sequence[str], region: str) -> Callable[[], PhonesChecked]:
        """Start checking a phone column elsewhere; the function returned waits for what
        `contact.phones_checked(values, region)` says. A process checks one column only."""
        from seen_core.check.contact import phones_checked  # not before: this process was reading

        process, self._process = self._process, None
        self.answered = False
        if process is None or len(values) < ELSEWHERE_FROM:
            _stop(process)
            return lambda: phones_checked(values, region)
        try:
            assert process.stdin is not None
            process.stdin.write(pickle.dumps((region, list(values)), pickle.HIGHEST_PROTOCOL))
            process.stdin.close()  # the request ends here
        except OSError:  # it ended already
            _stop(process)
            return lambda: phones_checked(values, region)
        answer = _Answer(process)

        def found() -> PhonesChecked:
            checked = answer.checked(len(values))
            self.answered = checked is not None
            return phones_checked(values, region) if checked is None else checked

        return found

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

    def checked(self, count: int) -> PhonesChecked | None:
        """The column as checked there, or None for no answer in time or one that cannot be
        right."""
        self._taker.join(ANSWER_SECONDS)
        if self._taker.is_alive() or self._process.returncode != 0:
            _stop(self._process)
            return None
        return _decoded(self._data, count)


def _encoded(checked: PhonesChecked) -> bytes:
    """The answer: the positions as unsigned ints, the fixes and the E.164 forms each as one
    text, a line each (neither holds a line break: digits and "+")."""
    positions = array.array(_POSITION, checked.not_valid).tobytes()
    lines = ("\n".join(checked.fixes), "\n".join(checked.e164))
    return pickle.dumps((positions, *lines), pickle.HIGHEST_PROTOCOL)


def _decoded(data: bytes, count: int) -> PhonesChecked | None:
    from seen_core.check.contact import PhonesChecked

    try:
        packed, fixes, forms = pickle.loads(data)  # from the process this one started
        positions = array.array(_POSITION, packed).tolist()
    except Exception:  # cut short: not an answer
        return None
    if not isinstance(fixes, str) or not isinstance(forms, str):
        return None
    ascending = all(a < b for a, b in itertools.pairwise(positions))
    if not ascending or (positions and positions[-1] >= count):
        return None
    e164 = forms.split("\n") if count else []
    fixed = fixes.split("\n") if positions else []
    if len(e164) != count or len(fixed) != len(positions):
        return None
    return PhonesChecked(positions, fixed, e164)


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
    """Read (region, phone numbers) pickled on stdin; write what `contact.phones_checked` says
    of them on stdout (`_encoded`). An empty request: no answer."""
    from seen_core.check.contact import phones_checked  # while the caller reads its sheet

    request = sys.stdin.buffer.read()
    if not request:
        return
    region, values = pickle.loads(request)  # from the process that started this one
    sys.stdout.buffer.write(_encoded(phones_checked(values, region)))
    sys.stdout.buffer.flush()
    os._exit(0)  # at once: the caller takes the end of the output for the end of the answer


if __name__ == "__main__":
    main()
