"""A big sheet's phone numbers checked in a second process, while this one runs the other rules.

A command's check is bound by the interpreter's lock, and of its rules the phone numbers cost
the most: about half of the check of a 100,000-row export in which many numbers are not
valid. `PhoneProcess` starts `python -m seen_core.check.phone_process` before the sheet is read, so
that its start and its imports happen while this process reads; `checked` then hands it
the phone column and gives back a function that waits for its answer, worked out by the same
`contact.phones_checked` as here: the positions of the numbers that are not valid, the fix
suggested for each, and every number's E.164 form (what the report says was sent).

For a command that writes the report (`validate --report`), the process then finds where the
header and the people's rows are in the sheet's XML for it (`find_rows_after`,
`report.rows_ahead`): it reads the file itself, and answers only when it holds the very bytes
read here (their SHA-256). This process then need not fork a child for that before its
payloads and plan, which would have every page they touch copied once more (see
`report/parallel.py`). The Problems sheet's rows are then made by the report's child that
makes the notes.

The process is given the phone numbers, the region and, for the report, the file's path, the
sheet and its rows: not the environment (a token may be in it). When it cannot start, ends
without an answer, answers what cannot be right or takes longer than `ANSWER_SECONDS`, the
work is done in this process instead: the answer is the same, only later. For the commands;
the app checks ahead in its reader process (see `isolated.read_sheet_checking_ahead`).
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
from typing import TYPE_CHECKING, BinaryIO

from seen_core.interpreter import helper_environment

if TYPE_CHECKING:
    from seen_core.check.contact import PhonesChecked

ELSEWHERE_FROM = 20_000  # numbers; fewer are checked here sooner than a process could answer
WORTH_STARTING_BYTES = 1_000_000  # files smaller than this hold too few numbers (see above)
ANSWER_SECONDS = 120.0  # after this, the numbers are checked here

_ROOT = Path(__file__).resolve().parents[2]  # where `python -m seen_core.check.phone_process` is
_POSITION = "I"  # unsigned ints: a sheet has far fewer rows than 2**32
_LENGTH = 8  # bytes that give a message's length before it


class PhoneProcess:
    """A second process, started now, ready to check one column of phone numbers; and, for a
    command that writes a report (`report`), to find where the report's rows are after that
    (`find_rows_after`), with the report's modules loaded while this process reads."""

    def __init__(self, *, report: bool = False) -> None:
        self._process: subprocess.Popen[bytes] | None
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "seen_core.check.phone_process"]
                + (["--report"] if report else []),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # nothing it could say is for the user
                cwd=_ROOT,
                env=helper_environment(),  # no token
            )
        except OSError:
            self._process = None
        self.answered = False  # whether the last `checked` came from the second process
        self._rows_wanted: tuple[str, str, str | None, int, bytes] | None = None
        self._answer: _Answer | None = None

    def __enter__(self) -> PhoneProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def find_rows_after(
        self, path: str, sha256: str, sheet: str | None, header_row: int, rows: Sequence[int]
    ) -> None:
        """Once it has checked the phone numbers, have the process find where the header and
        the people's `rows` are in the sheet `sheet` of the workbook at `path`, for its report
        (`report.rows_ahead`): only if the file it reads is still the one read here (`sha256`).
        Asked before `checked`; the answer is `rows_found`'s."""
        packed = array.array(_POSITION, rows).tobytes()
        self._rows_wanted = (os.path.abspath(path), sha256, sheet, header_row, packed)

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
            request = (region, list(values), self._rows_wanted)
            process.stdin.write(pickle.dumps(request, pickle.HIGHEST_PROTOCOL))
            process.stdin.close()  # the request ends here
        except OSError:  # it ended already
            _stop(process)
            return lambda: phones_checked(values, region)
        answer = self._answer = _Answer(process, 1 + (self._rows_wanted is not None))

        def found() -> PhonesChecked:
            checked = answer.checked(len(values))
            self.answered = checked is not None
            return phones_checked(values, region) if checked is None else checked

        return found

    def rows_found(self) -> RowsFound | None:
        """Where the report's rows are, as the process found them (see `find_rows_after`):
        None when it was not asked, or was not given the phone numbers."""
        answer, self._answer = self._answer, None
        if answer is None or answer.wanted < 2:
            if answer is not None:
                answer.stop()
            return None
        return RowsFound(answer)

    def close(self) -> None:
        """Not needed after all: the process ends."""
        process, self._process = self._process, None
        _stop(process)


class RowsFound:
    """Where the process found the report's rows (`report.rows_ahead`'s answer), for the
    report to take (`report.parallel.begun_elsewhere`)."""

    def __init__(self, answer: _Answer) -> None:
        self._answer = answer

    def result(self) -> dict[str, object] | None:
        """The answer, or None for none in time or one that cannot be right."""
        found = self._answer.message(1)
        try:
            answer = pickle.loads(found) if found is not None else None  # from our process
        except Exception:  # cut short: not an answer
            answer = None
        return answer if isinstance(answer, dict) and "scan" in answer else None

    def stop(self) -> None:
        """Not needed (any more): the process ends."""
        self._answer.stop()


class _Answer:
    """The process's answers, taken in by a thread as they come (the process never waits on a
    full pipe while this one is busy with the other rules): `wanted` messages, each its length
    (`_LENGTH` bytes) and its bytes."""

    def __init__(self, process: subprocess.Popen[bytes], wanted: int) -> None:
        self._process = process
        self.wanted = wanted
        self._messages: list[bytes | None] = [None] * wanted
        self._came = [threading.Event() for _ in range(wanted)]
        self._taker = threading.Thread(target=self._take, name="phone answer", daemon=True)
        self._taker.start()

    def _take(self) -> None:
        try:
            with contextlib.suppress(OSError, ValueError):
                assert self._process.stdout is not None
                for number in range(self.wanted):
                    head = self._process.stdout.read(_LENGTH)
                    if len(head) < _LENGTH:
                        break
                    size = int.from_bytes(head, "little")
                    data = self._process.stdout.read(size)
                    if len(data) < size:
                        break
                    self._messages[number] = data
                    self._came[number].set()
                self._process.wait()
        finally:
            for came in self._came:
                came.set()  # what has not come will not: the caller does it

    def message(self, number: int) -> bytes | None:
        """The `number`th message (from 0), or None when it did not come in time."""
        if not self._came[number].wait(ANSWER_SECONDS):
            self.stop()
            return None
        return self._messages[number]

    def checked(self, count: int) -> PhonesChecked | None:
        """The column as checked there, or None for no answer in time or one that cannot be
        right."""
        data = self.message(0)
        return None if data is None else _decoded(data, count)

    def stop(self) -> None:
        _stop(self._process)


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
    """Read (region, phone numbers, rows wanted) pickled on stdin; write what
    `contact.phones_checked` says of them on stdout (`_encoded`), then, when asked, where the
    report's rows are (`find_rows_after`): each a message of its length and its bytes. An
    empty request: no answer."""
    from seen_core.check.contact import phones_checked  # while the caller reads its sheet

    if "--report" in sys.argv[1:]:
        import seen_core.report.workbook  # noqa: F401  also while the caller reads

    request = sys.stdin.buffer.read()
    if not request:
        return
    region, values, rows_wanted = pickle.loads(request)  # from the process that started this one
    out = sys.stdout.buffer
    _send(out, _encoded(phones_checked(values, region)))
    if rows_wanted is not None:
        _send(out, pickle.dumps(_rows_ahead(*rows_wanted), pickle.HIGHEST_PROTOCOL))
    os._exit(0)  # at once: nothing to tidy


def _send(out: BinaryIO, data: bytes) -> None:
    out.write(len(data).to_bytes(_LENGTH, "little"))
    out.write(data)
    out.flush()


def _rows_ahead(
    path: str, sha256: str, sheet: str | None, header_row: int, packed: bytes
) -> dict[str, object] | None:
    """`report.rows_ahead` of the workbook at `path`, when it is still the one read there."""
    import hashlib

    from seen_core.report.workbook import rows_ahead

    try:
        data = Path(path).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            return None  # changed since: the report finds its rows itself
        return rows_ahead(data, sheet, header_row, array.array(_POSITION, packed).tolist())
    except Exception:  # whatever went wrong, the report finds its rows itself
        return None


if __name__ == "__main__":
    main()
