"""Parsing an upload in a process of its own (`python -m seen_core.read.reader`), under a memory
and a time limit, so that a file made to exhaust memory or abort its reader ends only that
parse; one such process is kept started ahead for the next upload (`keep_reader_ready`).
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from seen_core import i18n
from seen_core import interpreter as bulk
from seen_core.errors import SheetError
from seen_core.i18n import _
from seen_core.interpreter import gc_paused
from seen_core.read.limits import LimitError, Limits
from seen_core.read.reader import unpack_columns
from seen_core.read.sheets import Sheet, file_kind, sheet_from_columns
from seen_core.read.workbook_limits import check_package

_log = logging.getLogger(__name__)
_ROOT = Path(__file__).resolve().parents[2]  # where `python -m seen_core.read.reader` is found
_spare: subprocess.Popen[bytes] | None = None  # a reader started ahead, see keep_reader_ready
_spare_lock = threading.Lock()
_keep_spare = False
SPARE_AFTER = 10.0  # seconds from taking the spare reader to starting the next one


def _start_reader(warm: bool = False) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "seen_core.read.reader", *(["--warm"] if warm else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=_ROOT,
        env=bulk.helper_environment(),  # it parses files from others: no token, nothing else
    )


def keep_reader_ready() -> None:
    """From now on keep one reader process started ahead, so that an upload does not wait for
    an interpreter to start (about 0.1 s), with the checks loaded for a check ahead. For a
    long-running server such as the app. Once an upload takes it, the next one is started
    `SPARE_AFTER` seconds later (an upload in between gets a reader started for it)."""
    global _keep_spare, _spare
    with _spare_lock:
        _keep_spare = True
        if _spare is None or _spare.poll() is not None:
            _spare = _start_reader(warm=True)


def _take_reader() -> subprocess.Popen[bytes]:
    global _spare
    with _spare_lock:
        reader, _spare = _spare, None
        if reader is None or reader.poll() is not None:
            reader = _start_reader()
        if _keep_spare:
            # The next spare starts later: its start and its loading of the checks (about
            # 1.5 s of CPU) would take a core from the upload that took this one.
            later = threading.Timer(SPARE_AFTER, _start_spare)
            later.daemon = True
            later.start()
    return reader


def _start_spare() -> None:
    global _spare
    with _spare_lock:
        if _keep_spare and (_spare is None or _spare.poll() is not None):
            _spare = _start_reader(warm=True)


class _Answers:
    """The frames a reader process writes (8-byte length, then a pickle), taken in by a thread
    of their own as they come, so that the reader never waits on a full pipe; the process is
    waited for once its output ends."""

    def __init__(self, reader: subprocess.Popen[bytes]) -> None:
        self.reader = reader
        self._frames: queue.Queue[bytes | None] = queue.Queue()
        threading.Thread(target=self._take, name="seen-reader-answers", daemon=True).start()

    def _take(self) -> None:
        out = self.reader.stdout
        assert out is not None
        try:
            while len(head := out.read(8)) == 8:
                size = int.from_bytes(head, "big")
                body = out.read(size)
                if len(body) < size:
                    break
                self._frames.put(body)
        finally:
            self._frames.put(None)
            self.reader.wait()

    def next(self, timeout: float) -> bytes | None:
        """The next frame, or None when the reader ended without one; queue.Empty when none
        came within `timeout` seconds."""
        return self._frames.get(timeout=max(timeout, 0.0))

    def stop(self) -> None:
        if self.reader.poll() is None:
            self.reader.kill()


class Pending:
    """An answer that a reader process is still working out after the cells (a check ahead):
    `wait` gives it, or None when the reader could not give it in time."""

    def __init__(self, answers: _Answers, deadline: float) -> None:
        self._answers, self._deadline = answers, deadline
        self._lock = threading.Lock()
        self._value: object | None = None
        self._done = False

    def cancel(self) -> None:
        """Not wanted after all: the reader is stopped."""
        with self._lock:
            self._done = True
            self._answers.stop()

    def wait(self) -> object | None:
        with self._lock:
            if not self._done:
                self._done = True
                try:
                    frame = self._answers.next(self._deadline - time.monotonic())
                except queue.Empty:
                    frame = None
                    self._answers.stop()
                try:
                    kind, value = pickle.loads(frame) if frame is not None else (None, None)
                except Exception:
                    kind, value = None, None
                self._value = value if kind == "checked" else None
            return self._value


def read_sheet_isolated(
    file_name: str,
    data: bytes,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    limits: Limits | None = None,
) -> Sheet:
    """`read_sheet` with the parse in a process of its own, under a memory and a time limit.

    An out-of-memory, a reader's abort or a parse past the time limit ends that process only,
    and comes back as a SheetError of one sentence; so does everything `read_sheet` refuses.
    The cheap checks (size, what a workbook's parts unpack to, the sizes its sheets declare
    where they can be trusted) run here first, so a file they refuse costs no process at all;
    the parts to look into (`workbook_limits.check_package`) are looked into by the reader.
    Safe to call from several threads at once.
    """
    return _read_isolated(file_name, data, sheet, header_row, limits, None)[0]


def read_sheet_checking_ahead(
    file_name: str,
    data: bytes,
    options: dict,
    *,
    header_row: int | None = None,
    limits: Limits | None = None,
) -> tuple[Sheet, Pending]:
    """`read_sheet_isolated`, and then, in the same reader process, the first check of the
    sheet: its suggested mapping under these check options (`CheckOptions` as a dict).

    The sheet comes back as soon as it is read; `Pending.wait()` gives (mapping as a dict,
    CheckOptions, CheckResult) once the reader has checked it, on another core than the
    caller's, or None. For the app: its pages go on while the check is made elsewhere.
    """
    sheet, pending = _read_isolated(file_name, data, None, header_row, limits, options)
    assert pending is not None
    return sheet, pending


def _read_isolated(
    file_name: str,
    data: bytes,
    sheet: str | None,
    header_row: int | None,
    limits: Limits | None,
    ahead: dict | None,
) -> tuple[Sheet, Pending | None]:
    limits = limits or Limits.from_env()
    # The cheap checks here; what takes a core for a while (a sheet's cells counted, parts that
    # pack tightly unpacked) in the reader, under its limits.
    to_look_into = []
    if file_kind(file_name, data, limits) == "workbook":
        to_look_into = check_package(file_name, data, limits)
    request = pickle.dumps(
        (file_name, data, sheet, limits, header_row, ahead, to_look_into, i18n.language()),
        protocol=pickle.HIGHEST_PROTOCOL,
    )
    deadline = time.monotonic() + limits.parse_seconds
    reader = _take_reader()
    answers = _Answers(reader)
    try:
        assert reader.stdin is not None
        try:
            reader.stdin.write(request)
            reader.stdin.close()
        except BrokenPipeError:  # the reader ended before it took the request
            pass
        del request
        try:
            frame = answers.next(deadline - time.monotonic())
        except queue.Empty:
            raise _over_time(file_name, limits) from None
        with gc_paused():
            kind, value = _outcome(file_name, frame, answers)
            del frame
            if kind == "grid":
                sheet_names, sheet_name, packed = value
                sha256 = hashlib.sha256(data).hexdigest()
                found = sheet_from_columns(
                    file_name, sha256, sheet_names, sheet_name, unpack_columns(packed), header_row
                )
                return found, (Pending(answers, deadline) if ahead is not None else None)
    except BaseException:
        answers.stop()  # an exception of our own, or no sheet: leave no process behind
        raise
    answers.stop()
    if kind == "error":
        raise value
    if kind == "memory":
        raise LimitError(
            _(
                "'{file}' could not be read within the server's memory limit of {mb} MB; split "
                "it into smaller files."
            ).format(file=file_name, mb=i18n.number(limits.parse_memory_mb))
        )
    if kind == "time":
        raise _over_time(file_name, limits)
    raise SheetError(
        _("'{file}' could not be read; save it again from Excel and try again.").format(
            file=file_name
        )
    )


def _over_time(file_name: str, limits: Limits) -> LimitError:
    return LimitError(
        _(
            "'{file}' could not be read within the server's time limit of {seconds} seconds; "
            "split it into smaller files."
        ).format(file=file_name, seconds=i18n.number(limits.parse_seconds))
    )


def _outcome(file_name: str, frame: bytes | None, answers: _Answers) -> tuple[str, object]:
    """What the reader sent: ("grid", (names, name, packed columns)) or ("error", SheetError)
    or ("memory", None); or, when it ended without a usable answer, what its end means:
    ("memory", None), ("time", None) or ("broken", None)."""
    if frame is not None:
        try:
            outcome = pickle.loads(frame)
        except Exception:
            outcome = None
        if outcome and (outcome[0] in ("grid", "memory") or isinstance(outcome[1], SheetError)):
            return outcome
    answers.stop()
    returncode = answers.reader.wait()
    _log.warning("Reading %r ended with exit code %s", file_name, returncode)
    if returncode == -signal.SIGXCPU:  # its CPU-time limit, a backstop to our deadline
        return ("time", None)
    # An abort (SIGABRT) is how calamine fails an allocation; SIGKILL is the kernel's
    # out-of-memory killer.
    if returncode in (-signal.SIGABRT, -signal.SIGKILL, -signal.SIGSEGV):
        return ("memory", None)
    return ("broken", None)
