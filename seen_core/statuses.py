"""Row statuses and send states, each with the one line that explains it to a campaign manager."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from enum import StrEnum
from operator import itemgetter

from seen_core.i18n import N_, _


class Status(StrEnum):
    """What became of one row of the sheet."""

    READY = "ready"
    CREATED = "created"
    REJECTED = "rejected"
    INVALID = "invalid"
    FAILED = "failed"
    UNKNOWN = "unknown"
    NOT_SENT = "not_sent"

    @property
    def label(self) -> str:
        return _(_LABELS[self])

    @property
    def explanation(self) -> str:
        return _(_EXPLANATIONS[self])

    @property
    def next_step(self) -> str:
        return _(_NEXT_STEPS[self])


def status_label(status: str) -> str:
    """A status in the words the app and the workbook show ("Needs fixing" for "invalid");
    a status this version does not know, as it is."""
    try:
        return Status(status).label
    except ValueError:
        return str(status)


_LABELS = {
    Status.READY: N_("Ready"),
    Status.CREATED: N_("Created"),
    Status.REJECTED: N_("Rejected by SEEN"),
    Status.INVALID: N_("Needs fixing"),
    Status.FAILED: N_("Failed"),
    Status.UNKNOWN: N_("Unknown"),
    Status.NOT_SENT: N_("Not sent"),
}
_EXPLANATIONS = {
    Status.READY: N_("Passed every check and will be sent."),
    Status.CREATED: N_("SEEN created this person; their film is on its way."),
    Status.REJECTED: N_("SEEN refused this person; its reason is given beside the row."),
    Status.INVALID: N_("Did not pass the checks, so it was not sent."),
    Status.FAILED: N_("SEEN could not be reached or kept failing; nothing was stored."),
    Status.UNKNOWN: N_("The answer was lost; SEEN may or may not have created this person."),
    Status.NOT_SENT: N_("The send stopped before this row was sent."),
}
_NEXT_STEPS = {
    Status.READY: N_("Send it."),
    Status.CREATED: N_("Nothing to do."),
    Status.REJECTED: N_("Fix the value SEEN names and send again."),
    Status.INVALID: N_("Fix the cell that is marked and send again."),
    Status.FAILED: N_("Send again later; nothing was stored."),
    Status.UNKNOWN: N_("Look the person up in SEEN before sending again."),
    Status.NOT_SENT: N_("Resume the send, or send again."),
}

# Rows SEEN holds are never offered again; `unknown` may be held, so the user checks first.
NOT_CREATED = (Status.REJECTED, Status.INVALID, Status.FAILED, Status.UNKNOWN, Status.NOT_SENT)
# The order counts are shown in (summaries, JSON, the Summary sheet).
SUMMARY_ORDER = (
    Status.CREATED,
    Status.REJECTED,
    Status.INVALID,
    Status.FAILED,
    Status.UNKNOWN,
    Status.NOT_SENT,
)
# Rows a send has settled for good (progress counts them as done).
SETTLED = (Status.CREATED, Status.REJECTED, Status.FAILED, Status.UNKNOWN)


def count_statuses(outcomes: Mapping[int, tuple[str, str]]) -> dict[Status, int]:
    """Rows per status of row → (status, message): every status, in the enum's order (0 when
    none), then any other status met, as it was written."""
    return tally_statuses(map(itemgetter(0), outcomes.values()))


def tally_statuses(statuses: Iterable[str]) -> dict[Status, int]:
    """Rows per status, as `count_statuses` gives them, of each row's status (counted in C:
    a report counts 100,000)."""
    counts: dict[Status, int] = dict.fromkeys(Status, 0)
    for status, count in Counter(statuses).items():
        counts[status] = counts.get(status, 0) + count  # type: ignore[index]
    return counts


class JobState(StrEnum):
    """Where a send stands. `interrupted` is derived: running, but its owner is gone."""

    PENDING = "pending"
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def label(self) -> str:
        """The state in the user's words."""
        return _(_STATE_LABELS[self])


_STATE_LABELS = {
    JobState.PENDING: N_("pending"),
    JobState.RUNNING: N_("running"),
    JobState.FINISHED: N_("finished"),
    JobState.STOPPED: N_("stopped"),
    JobState.CANCELLED: N_("cancelled"),
    JobState.INTERRUPTED: N_("interrupted"),
}


END_STATES = (JobState.FINISHED, JobState.STOPPED, JobState.CANCELLED)
# A send in one of these can be resumed: it stopped, was cancelled, was interrupted, or never ran.
RESUMABLE_STATES = (JobState.PENDING, JobState.INTERRUPTED, JobState.CANCELLED, JobState.STOPPED)
