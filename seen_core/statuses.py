"""Row statuses and send states, each with the one line that explains it to a campaign manager."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


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
        return _LABELS[self]

    @property
    def explanation(self) -> str:
        return _EXPLANATIONS[self]

    @property
    def next_step(self) -> str:
        return _NEXT_STEPS[self]


def status_label(status: str) -> str:
    """A status in the words the app and the workbook show ("Needs fixing" for "invalid");
    a status this version does not know, as it is."""
    try:
        return Status(status).label
    except ValueError:
        return str(status)


_LABELS = {
    Status.READY: "Ready",
    Status.CREATED: "Created",
    Status.REJECTED: "Rejected by SEEN",
    Status.INVALID: "Needs fixing",
    Status.FAILED: "Failed",
    Status.UNKNOWN: "Unknown",
    Status.NOT_SENT: "Not sent",
}
_EXPLANATIONS = {
    Status.READY: "Passed every check and will be sent.",
    Status.CREATED: "SEEN created this person; their film is on its way.",
    Status.REJECTED: "SEEN refused this person; its reason is given beside the row.",
    Status.INVALID: "Did not pass the checks, so it was not sent.",
    Status.FAILED: "SEEN could not be reached or kept failing; nothing was stored.",
    Status.UNKNOWN: "The answer was lost; SEEN may or may not have created this person.",
    Status.NOT_SENT: "The send stopped before this row was sent.",
}
_NEXT_STEPS = {
    Status.READY: "Send it.",
    Status.CREATED: "Nothing to do.",
    Status.REJECTED: "Fix the value SEEN names and send again.",
    Status.INVALID: "Fix the cell that is marked and send again.",
    Status.FAILED: "Send again later; nothing was stored.",
    Status.UNKNOWN: "Look the person up in SEEN before sending again.",
    Status.NOT_SENT: "Resume the send, or send again.",
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
    counts: dict[Status, int] = dict.fromkeys(Status, 0)
    for status, _message in outcomes.values():
        counts[status] = counts.get(status, 0) + 1  # type: ignore[index]
    return counts


class JobState(StrEnum):
    """Where a send stands. `interrupted` is derived: running, but its owner is gone."""

    PENDING = "pending"
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


END_STATES = (JobState.FINISHED, JobState.STOPPED, JobState.CANCELLED)
# A send in one of these can be resumed: it stopped, was cancelled, was interrupted, or never ran.
RESUMABLE_STATES = (JobState.PENDING, JobState.INTERRUPTED, JobState.CANCELLED, JobState.STOPPED)
