"""The flow's sending: where a send goes, the journal, planning and running a send, the journal's
sends read again, and 2.0 video links."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from seen_core.errors import ConfigurationError, InputError
from seen_core.flow.checking import Checked, target_label
from seen_core.i18n import _
from seen_core.statuses import JobState, Status
from seen_core.store.journal import JobInfo, Journal

if TYPE_CHECKING:  # sending needs requests; reading and checking should not pay for it
    from seen_core.send.client import Secret, SeenClient
    from seen_core.send.links import LinksResult, Video
    from seen_core.send.sending import Progress, SendResult


SANDBOX = "sandbox"  # the journal's address for sends to the app's local stand-in


# --- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Connection:
    """Where a send goes: the target, SEEN's address and the token (never shown)."""

    target: str
    base_url: str
    token: Secret = field(repr=False)
    sandbox: bool = False

    def client(self) -> SeenClient:
        from seen_core.send.client import SeenClient

        return SeenClient(self.base_url, self.token)

    @property
    def journal_target(self) -> str:
        """The address the journal keeps: the sandbox by name, since its port changes."""
        return SANDBOX if self.sandbox else self.base_url

    @property
    def pacing(self) -> dict[str, object]:
        """The sandbox has no limit worth keeping to; to SEEN, the target's own pacing (v1:
        10 requests/s and 1,000 an hour; 2.0: 100 per 10 s) applies."""
        return {"rate": 50.0, "windows": ()} if self.sandbox else {}


def connect(
    target: str, base_url: str | None, token: str | Secret, *, sandbox: bool = False
) -> Connection:
    """Check the address and the token before anything is journalled."""
    if not target:
        raise InputError(_("Choose a campaign, workspace or project to send to."))
    from seen_core.send.targets import address_for

    address = (base_url or address_for(target)).strip().rstrip("/")
    from seen_core.send.client import Secret, SeenClient

    secret = token if isinstance(token, Secret) else Secret(token)
    try:
        SeenClient(address, secret).close()
    except ValueError as error:
        raise ConfigurationError(str(error)) from None
    return Connection(target, address, secret, sandbox)


def open_journal(path: str | None = None) -> Journal:
    """The journal (`--journal`, else the data folder's), purged of what is past retention."""
    from pathlib import Path

    from seen_core.store.database import default_path, retention_days

    journal = Journal(Path(path) if path else default_path())
    purge(journal, retention_days())
    return journal


def purge(journal: Journal, days: int) -> None:
    """Sends and drafts past the retention go, with the people in them."""
    from seen_core.store.drafts import DraftStore

    journal.purge(days)
    DraftStore(journal).purge(days)


def plan(
    journal: Journal,
    checked: Checked,
    connection: Connection,
    *,
    batch_size: int = 100,
    resume: bool = False,
    force: bool = False,
    user_id: str = "",
    draft_id: str | None = None,
) -> int:
    """The send to run (one journal transaction decides and creates it): `sending.plan_send`,
    the one planning path, with the payloads exactly as `Checked.receivers` shows them."""
    from seen_core.send.sending import plan_send

    return plan_send(
        journal,
        file_name=checked.sheet.file_name,
        file_sha256=checked.sheet.sha256,
        campaign=checked.target,
        target=connection.journal_target,
        batch_size=batch_size,
        receivers=checked.receivers(),
        invalid=checked.invalid,
        resume=resume,
        force=force,
        user_id=user_id,
        draft_id=draft_id,
    )


def send(
    journal: Journal,
    job_id: int,
    connection: Connection,
    *,
    rate: float | None = None,
    max_in_flight: int = 4,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
) -> SendResult:
    """Send every row of the send still to send; safe to call again after any interruption."""
    from seen_core.send.sending import run_job

    pacing = dict(connection.pacing)
    if rate is not None:
        pacing["rate"] = rate
    with connection.client() as client:
        return run_job(
            journal,
            job_id,
            client,
            connection.target,
            max_in_flight=max_in_flight,
            on_progress=on_progress,
            cancel=cancel,
            **pacing,
        )


def outcomes_after(sent: SendResult) -> dict[int, tuple[str, str]]:
    """A send's outcomes, with the reason it stopped on the rows it did not send."""
    if sent.state == JobState.FINISHED or not sent.stop_reason:
        return dict(sent.outcomes)
    return {
        row: (status, message or (sent.stop_reason if status == Status.NOT_SENT else ""))
        for row, (status, message) in sent.outcomes.items()
    }


def reconnect(
    journal: Journal,
    job: JobInfo,
    secrets: Mapping[str, object],
    sandbox_url: str,
    typed_token: str = "",
) -> Connection:
    """The connection to carry on an earlier send: the same address, with the token
    configured for that address, or one typed for it."""
    import os

    from seen_core.send.tokens import configured

    if job.target == SANDBOX:
        from seen_core.sandbox import DEFAULT_TOKEN

        return connect(job.campaign, sandbox_url, DEFAULT_TOKEN, sandbox=True)
    found = configured(job.campaign, secrets, dict(os.environ))
    if found is not None and found.base_url == job.target:
        return connect(job.campaign, job.target, found.token)
    if typed_token.strip():
        return connect(job.campaign, job.target, typed_token)
    raise ConfigurationError(
        _("Enter the SEEN token for {target} at {address} to carry on.").format(
            target=target_label(job.campaign), address=job.target
        )
    )


# --- video links (SEEN API 2.0) ----------------------------------------------------------------


def fetch_links(
    journal: Journal,
    job_id: int,
    connection: Connection,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
) -> LinksResult:
    """Ask SEEN for the films of a 2.0 send's created rows, paced like a send, and keep them."""
    from seen_core.send.links import fetch_links as fetch

    with connection.client() as client:
        return fetch(
            journal, job_id, client, on_progress=on_progress, cancel=cancel, **connection.pacing
        )


def stored_links(journal: Journal, job_id: int) -> dict[int, Video]:
    """Row → the links last fetched for a send (empty: looked up, not ready then)."""
    from seen_core.send.links import stored_links as stored

    return stored(journal, job_id)


def latest_send_of(
    journal: Journal, file: str, target: str, base_url: str, user_id: str = ""
) -> JobInfo | None:
    """The user's newest send of a file (by its content) to a target at an address; the
    command line's user is the local one (`drafts.LOCAL_USER`)."""
    import hashlib
    from pathlib import Path

    try:
        digest = hashlib.sha256(Path(file).read_bytes()).hexdigest()
    except OSError as error:
        raise InputError(f"{file} could not be read: {error.strerror}.") from None
    found = journal.jobs_for(digest, target, base_url.rstrip("/"), user_id)
    return found[0] if found else None


def send_names(jobs: Iterable[JobInfo]) -> dict[int, str]:
    """Send id → its name for people: numbered within its draft, oldest first ("Send 2",
    a draft's first send is "Send 1", whatever other drafts sent), with its date and time;
    a send made from no draft (the command line) is named by its date and time only."""
    by_draft: dict[str, list[JobInfo]] = {}
    out: dict[int, str] = {}
    for job in jobs:
        if job.draft_id:
            by_draft.setdefault(job.draft_id, []).append(job)
        else:
            out[job.id] = _("Send of {moment}").format(moment=_when(job.created_at))
    for found in by_draft.values():
        for number, job in enumerate(sorted(found, key=lambda j: j.id), 1):
            out[job.id] = _("Send {number} ({moment})").format(
                number=number, moment=_when(job.created_at)
            )
    return out


def _when(iso: str) -> str:
    return f"{iso[:10]} {iso[11:16]} UTC" if len(iso) >= 16 else iso
