"""The one exception tree of SEEN Sender: what stops a run, each with one sentence for the user.

Problems in the data are not exceptions (see `problems.Problem`); only what stops reading,
checking, sending or the journal is. `str(error)` is always a sentence a campaign manager can
read; it never holds the SEEN token.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, MutableMapping
from typing import ParamSpec

P = ParamSpec("P")


class SeenSenderError(Exception):
    """Root of every error SEEN Sender raises on purpose."""


class InputError(SeenSenderError, ValueError):
    """The user's file, mapping or options cannot be used (CLI exit 2)."""


class SheetError(InputError):
    """The user's file cannot be read: damaged, unsupported, or beyond an upload limit."""


class ConfigurationError(SeenSenderError, ValueError):
    """The SEEN address, token or target is missing or not allowed (CLI exit 2)."""


class SendError(SeenSenderError):
    """A send cannot start or go on (already sent, nothing to resume, busy elsewhere)."""


class JournalError(SeenSenderError):
    """The journal cannot be used: damaged, unreadable, or it has no such send or draft."""


class JournalDamaged(JournalError):
    """The journal's file is not a sound SQLite journal (truncated, overwritten, too new)."""


class JournalBusy(JournalError):
    """Another program has held the journal's lock for longer than SEEN Sender waits."""


class JournalFull(JournalError):
    """The disk that holds the journal has no room left."""


class JournalUnwritable(JournalError):
    """The journal or its folder cannot be written: read-only, or not ours to write."""


class NotFound(JournalError, KeyError):
    """No send or draft with that id (or not one this user may see)."""

    def __str__(self) -> str:  # KeyError would quote the sentence
        return str(self.args[0]) if self.args else "Not found."


class AlreadySent(SendError):
    """This file was already sent, wholly or in part, to the same target (refused unless forced).

    `job` is the earlier send (a `journal.JobInfo`).
    """

    def __init__(self, message: str, job: object) -> None:
        super().__init__(message)
        self.job = job


class NothingToResume(SendError):
    """There is no unfinished send of this file to this target."""


class JobBusy(SendError):
    """The send is being sent right now by another process, thread or user."""


JOURNAL_TROUBLE = "journal_trouble"


def noting_journal_trouble(
    store: MutableMapping[str, object],
) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """For the app's callbacks: a journal that cannot be used (full, busy, read-only,
    damaged) puts its sentence in `store[JOURNAL_TROUBLE]` for the page to say, instead of
    ending the run with a traceback; what the callback had not stored stays as it was."""

    def wrap(callback: Callable[P, None]) -> Callable[P, None]:
        @functools.wraps(callback)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> None:
            try:
                callback(*args, **kwargs)
            except JournalError as error:
                store[JOURNAL_TROUBLE] = str(error)

        return guarded

    return wrap
