"""The journal's sends: each send, its receivers, each batch before it is sent and its outcome.

The schema and its versions are described in docs/ARCHITECTURE.md ("The journal"); the file
itself (opening, transactions, what goes wrong with it) is `store.database`, who is sending a
send right now `store.claims`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from seen_core.errors import AlreadySent, JobBusy, NotFound, NothingToResume
from seen_core.i18n import _, number
from seen_core.send.targets import label_of
from seen_core.statuses import END_STATES as _END
from seen_core.statuses import JobState, Status
from seen_core.store.claims import let_go, new_owner, owner_alive
from seen_core.store.database import Database

# Statuses of a row (docs/ARCHITECTURE.md). `ready` rows may be sent; the others are outcomes.
READY = Status.READY
CREATED = Status.CREATED
REJECTED = Status.REJECTED
INVALID = Status.INVALID
FAILED = Status.FAILED
UNKNOWN = Status.UNKNOWN
NOT_SENT = Status.NOT_SENT
STATUSES = tuple(Status)

# States of a job as stored; "interrupted" is derived (running, but its owner is gone).
PENDING = JobState.PENDING
RUNNING = JobState.RUNNING
FINISHED = JobState.FINISHED
STOPPED = JobState.STOPPED
CANCELLED = JobState.CANCELLED
INTERRUPTED = JobState.INTERRUPTED
END_STATES = _END

LOST_ANSWER_MESSAGE = "No answer from SEEN; check whether this receiver was created."

# receivers.batch_id is set while the row's request is in flight: set before the request,
# cleared with its answer. receivers.maybe_stored: an earlier request carrying the row may
# have been stored by SEEN although no usable answer came back.


@dataclass(frozen=True)
class JobInfo:
    id: int
    file_name: str
    file_sha256: str
    campaign: str
    target: str
    batch_size: int
    created_at: str
    finished_at: str | None
    state: str
    stop_reason: str
    counts: dict[str, int]
    user_id: str = ""
    draft_id: str | None = None


@dataclass(frozen=True)
class Claim:
    """Proof that this process and thread own a job until `Journal.release`."""

    job_id: int
    owner: str


@dataclass(frozen=True)
class SendPlan:
    """A send as it is to be journalled: which file goes where, for whom, and every row.

    `target_key` is the target's key (`spring`, `workspace/ws-1`); `address` SEEN's address (or
    `sandbox`); `receivers` the payloads exactly as they will be sent; `invalid` the rows that
    will not be, with why.
    """

    file_name: str
    file_sha256: str
    target_key: str
    address: str
    batch_size: int
    receivers: list[tuple[int, dict]]
    invalid: dict[int, str]
    user_id: str = ""
    draft_id: str | None = None


@dataclass(frozen=True)
class Sendable:
    """A row still to be sent, as stored when the job was created."""

    row: int
    maybe_stored: bool
    has_customer_id: bool


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class Journal(Database):
    """The sends in the journal: planned, claimed, sent batch by batch, kept, purged."""

    # --- jobs ------------------------------------------------------------------------------

    def plan_job(self, plan: SendPlan, *, resume: bool = False, force: bool = False) -> int:
        """The send to run: the unfinished one (resume), else a new one unless this was sent.

        The look for earlier sends of the file to this campaign and target and the creation of
        the new send are one write transaction, so two tabs, two users or two shells starting
        the same send at the same moment cannot both create one (docs/ARCHITECTURE.md).
        Only the user's own sends are resumed, carried on or named as sent already: another
        user's send of the same file is never reused, nor described beyond the fact that the
        file is being sent right now. A draft's own earlier sends do not count as a repeat:
        the draft leaves out the rows SEEN holds, so sending its other rows again sends no one
        twice.
        """
        if plan.batch_size < 1:
            raise ValueError("The batch size must be at least 1.")
        file_name, campaign, target = plan.file_name, plan.target_key, plan.address
        draft_id = plan.draft_id
        with self._write() as db:
            earlier = self._select_jobs(
                "WHERE file_sha256 = ? AND campaign = ? AND target = ? AND user_id = ?",
                (plan.file_sha256, campaign, target, plan.user_id),
                db,
            )
            if resume:
                for job in earlier:  # newest first
                    if job.state != FINISHED and (draft_id is None or job.draft_id == draft_id):
                        return job.id
                raise NothingToResume(
                    _("There is no unfinished send of {file} to {target} on {address}.").format(
                        file=file_name, target=label_of(campaign), address=target
                    )
                )
            running = [job for job in earlier if job.state == RUNNING]
            if running:
                raise JobBusy(
                    _("Send #{number} of {file} is being sent right now.").format(
                        number=running[0].id, file=file_name
                    )
                )
            if self._sent_by_others_now(db, plan):
                raise JobBusy(
                    _(
                        "{file} is being sent to {target} on {address} right now, by another "
                        "user; send it when that send has finished, so no one is sent twice."
                    ).format(file=file_name, target=label_of(campaign), address=target)
                )
            mine = [j for j in earlier if draft_id is not None and j.draft_id == draft_id]
            others = [j for j in earlier if j not in mine]
            for job in mine:
                if job.state != FINISHED and self._reached_seen(db, job.id):
                    raise AlreadySent(
                        _(
                            "Send #{number} of this draft stopped before it finished; resume it "
                            "first, so no row is sent twice."
                        ).format(number=job.id),
                        job,
                    )
            for job in [] if force else others:  # newest first
                if job.state != FINISHED and not self._reached_seen(db, job.id):
                    # Nothing of it reached SEEN (a refused token, a send never started): no
                    # repeat. The command line carries on with it, which is the same as
                    # starting afresh; a draft sends its own rows as they are now.
                    if draft_id is None and job.draft_id is None:
                        return job.id
                    continue
                raise AlreadySent(
                    _(
                        "{file} was already sent, wholly or in part, to {target} on {address} "
                        "(send #{number} of {when}, {created} created); resume that send, or "
                        "choose to send the whole file again."
                    ).format(
                        file=file_name,
                        target=label_of(campaign),
                        address=target,
                        number=job.id,
                        when=_when(job.created_at),
                        created=number(job.counts[CREATED]),
                    ),
                    job,
                )
            return self._insert_job(db, plan)

    @staticmethod
    def _sent_by_others_now(db: sqlite3.Connection, plan: SendPlan) -> bool:
        """Whether another user's send of this file to this target is running right now."""
        found = db.execute(
            "SELECT owner, heartbeat_at FROM jobs WHERE file_sha256 = ? AND campaign = ?"
            " AND target = ? AND user_id != ? AND state = ?",
            (plan.file_sha256, plan.target_key, plan.address, plan.user_id, RUNNING),
        ).fetchall()
        return any(owner_alive(job["owner"], job["heartbeat_at"]) for job in found)

    @staticmethod
    def _insert_job(db: sqlite3.Connection, plan: SendPlan) -> int:
        cursor = db.execute(
            "INSERT INTO jobs (file_name, file_sha256, campaign, target, batch_size,"
            " created_at, user_id, draft_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                plan.file_name,
                plan.file_sha256,
                plan.target_key,
                plan.address,
                plan.batch_size,
                _iso(_now()),
                plan.user_id,
                plan.draft_id,
            ),
        )
        job_id = int(cursor.lastrowid or 0)
        db.executemany(
            "INSERT INTO receivers (job_id, row, payload, has_customer_id, status)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                (
                    job_id,
                    row,
                    # allow_nan=False: NaN is not JSON; SEEN would refuse the request.
                    json.dumps(payload, ensure_ascii=False, allow_nan=False),
                    int(bool(payload.get("customer_id"))),
                    READY,
                )
                for row, payload in plan.receivers
            ),
        )
        db.executemany(
            "INSERT INTO receivers (job_id, row, status, message) VALUES (?, ?, ?, ?)",
            ((job_id, row, INVALID, message) for row, message in plan.invalid.items()),
        )
        return job_id

    def jobs(self, user_id: str | None = None) -> list[JobInfo]:
        """Every send (of one user, when given), newest first."""
        if user_id is None:
            return self._select_jobs("", ())
        return self._select_jobs("WHERE user_id = ?", (user_id,))

    def draft_jobs(self, draft_id: str) -> list[JobInfo]:
        """The sends made from a draft, oldest first."""
        return self._select_jobs("WHERE draft_id = ?", (draft_id,))[::-1]

    def job(self, job_id: int) -> JobInfo:
        found = self._select_jobs("WHERE id = ?", (job_id,))
        if not found:
            raise NotFound(f"There is no send #{job_id} in the journal.")
        return found[0]

    def jobs_for(self, file_sha256: str, campaign: str, target: str, user_id: str) -> list[JobInfo]:
        """One user's sends of this file to this campaign and target, newest first."""
        return self._select_jobs(
            "WHERE file_sha256 = ? AND campaign = ? AND target = ? AND user_id = ?",
            (file_sha256, campaign, target, user_id),
        )

    def _select_jobs(
        self, where: str, params: tuple, db: sqlite3.Connection | None = None
    ) -> list[JobInfo]:
        if db is not None:  # inside a transaction the caller holds
            return self._jobs_in(db, where, params)
        with self._read() as db:
            return self._jobs_in(db, where, params)

    @staticmethod
    def _jobs_in(db: sqlite3.Connection, where: str, params: tuple) -> list[JobInfo]:
        jobs = db.execute(f"SELECT * FROM jobs {where} ORDER BY id DESC", params).fetchall()
        ids = [job["id"] for job in jobs]
        counts: dict[int, dict[str, int]] = {i: dict.fromkeys(STATUSES, 0) for i in ids}
        if ids:
            marks = ",".join("?" * len(ids))
            for job_id, status, n in db.execute(
                f"SELECT job_id, status, count(*) FROM receivers WHERE job_id IN ({marks})"
                " GROUP BY job_id, status",
                ids,
            ):
                counts[job_id][status] = n
        return [
            JobInfo(
                id=job["id"],
                file_name=job["file_name"],
                file_sha256=job["file_sha256"],
                campaign=job["campaign"],
                target=job["target"],
                batch_size=job["batch_size"],
                created_at=job["created_at"],
                finished_at=job["finished_at"],
                state=_visible_state(job["state"], job["owner"], job["heartbeat_at"]),
                stop_reason=job["stop_reason"],
                counts=counts[job["id"]],
                user_id=job["user_id"],
                draft_id=job["draft_id"],
            )
            for job in jobs
        ]

    def outcomes(self, job_id: int) -> dict[int, tuple[str, str]]:
        """Spreadsheet row → (status, message), in row order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT row, status, message FROM receivers WHERE job_id = ? ORDER BY row",
                (job_id,),
            ).fetchall()
        return {row: (status, message) for row, status, message in rows}

    @staticmethod
    def _reached_seen(db: sqlite3.Connection, job_id: int) -> bool:
        """Whether any row of the job is, or may be, stored by SEEN (or was judged by it)."""
        found = db.execute(
            "SELECT 1 FROM receivers WHERE job_id = ? AND (status IN (?, ?, ?) "
            "OR maybe_stored = 1 OR batch_id IS NOT NULL) LIMIT 1",
            (job_id, CREATED, REJECTED, UNKNOWN),
        ).fetchone()
        return found is not None

    def counts(self, job_id: int) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        with self._lock:
            for status, n in self._db.execute(
                "SELECT status, count(*) FROM receivers WHERE job_id = ? GROUP BY status",
                (job_id,),
            ):
                counts[status] = n
        return counts

    def delete_job(self, job_id: int, user_id: str | None) -> None:
        """Forget a send and its receivers; refused while it is being sent. Only the user's
        own send (`user_id`; None: any user's, for an admin)."""
        with self._write() as db:
            job = db.execute(
                "SELECT owner, heartbeat_at, user_id FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
            if job is None or (user_id is not None and job["user_id"] != user_id):
                return
            if owner_alive(job["owner"], job["heartbeat_at"]):
                raise JobBusy(
                    _("Send #{number} is being sent right now; it cannot be deleted.").format(
                        number=job_id
                    )
                )
            self._delete(db, [job_id])

    def purge(self, older_than_days: int = 30) -> int:
        """Delete sends whose last activity is older than that and that are not being sent.

        Finished sends go by when they finished; stopped, cancelled and never-run ones by their
        last activity too, since they also hold people's data. Returns how many were deleted.
        """
        cutoff = _iso(_now() - timedelta(days=older_than_days))
        with self._write() as db:
            old = db.execute(
                "SELECT id, owner, heartbeat_at FROM jobs"
                " WHERE coalesce(finished_at, heartbeat_at, created_at) < ?",
                (cutoff,),
            ).fetchall()
            ids = [job["id"] for job in old if not owner_alive(job["owner"], job["heartbeat_at"])]
            self._delete(db, ids)
        return len(ids)

    @staticmethod
    def _delete(db: sqlite3.Connection, ids: list[int]) -> None:
        for job_id in ids:
            db.execute("DELETE FROM receivers WHERE job_id = ?", (job_id,))
            db.execute("DELETE FROM batches WHERE job_id = ?", (job_id,))
            db.execute("DELETE FROM kept_sheets WHERE job_id = ?", (job_id,))
            db.execute("DELETE FROM videos WHERE job_id = ?", (job_id,))
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def keep_sheet(self, job_id: int, data: bytes) -> None:
        """Keep the app's sheet of a send (opaque bytes) with the send, for its report later.

        It goes when the send is deleted or purged, like every other trace of its people.
        """
        with self._write(durable=False) as db:
            db.execute(
                "INSERT OR REPLACE INTO kept_sheets (job_id, data) VALUES (?, ?)", (job_id, data)
            )

    def kept_sheet(self, job_id: int) -> bytes | None:
        with self._lock:
            found = self._db.execute(
                "SELECT data FROM kept_sheets WHERE job_id = ?", (job_id,)
            ).fetchone()
        return None if found is None else bytes(found[0])

    # --- what sending needs ------------------------------------------------------------------

    def claim(self, job_id: int) -> Claim:
        """Take the job for this thread, or raise JobBusy if someone alive holds it."""
        owner = new_owner()
        try:
            with self._write() as db:
                job = db.execute(
                    "SELECT owner, heartbeat_at FROM jobs WHERE id = ?", (job_id,)
                ).fetchone()
                if job is None:
                    raise NotFound(f"There is no send #{job_id} in the journal.")
                if owner_alive(job["owner"], job["heartbeat_at"]):
                    raise JobBusy(_("Send #{number} is already being sent.").format(number=job_id))
                db.execute(
                    "UPDATE jobs SET owner = ?, heartbeat_at = ?, state = ?, stop_reason = '',"
                    " finished_at = NULL WHERE id = ?",
                    (owner, _iso(_now()), RUNNING, job_id),
                )
        except BaseException:
            let_go(owner)
            raise
        return Claim(job_id, owner)

    def release(self, claim: Claim, state: str, stop_reason: str = "") -> None:
        """End the claim and record how the run ended."""
        if state not in END_STATES:
            raise ValueError(f"A send cannot end as {state!r}.")
        try:
            with self._write() as db:
                db.execute(
                    "UPDATE jobs SET owner = NULL, state = ?, stop_reason = ?, finished_at = ?"
                    " WHERE id = ? AND owner = ?",
                    (state, stop_reason, _iso(_now()), claim.job_id, claim.owner),
                )
        finally:
            let_go(claim.owner)

    def _hold(self, db: sqlite3.Connection, claim: Claim) -> None:
        """Check the claim is still ours (inside a write) and note that we are alive."""
        updated = db.execute(
            "UPDATE jobs SET heartbeat_at = ? WHERE id = ? AND owner = ?",
            (_iso(_now()), claim.job_id, claim.owner),
        ).rowcount
        if not updated:
            raise JobBusy(f"Send #{claim.job_id} was taken over by another process.")

    def recover(self, claim: Claim) -> None:
        """Make a claimed job ready to run again after a crash, a stop or a cancel.

        Rows left in flight had their answer lost, which may mean SEEN stored them: rows with
        a customer_id are sent again (SEEN's "already exists" then means created); rows
        without one become `unknown`, never sent blindly again. `not_sent` rows are ready.
        """
        with self._write() as db:
            self._hold(db, claim)
            db.execute(
                "UPDATE receivers SET status = ?, message = ?, batch_id = NULL"
                " WHERE job_id = ? AND batch_id IS NOT NULL AND has_customer_id = 0",
                (UNKNOWN, LOST_ANSWER_MESSAGE, claim.job_id),
            )
            db.execute(
                "UPDATE receivers SET maybe_stored = 1, batch_id = NULL"
                " WHERE job_id = ? AND batch_id IS NOT NULL",
                (claim.job_id,),
            )
            db.execute(
                "UPDATE receivers SET status = ?, message = '' WHERE job_id = ? AND status = ?",
                (READY, claim.job_id, NOT_SENT),
            )

    def sendable(self, job_id: int) -> list[Sendable]:
        """Rows still to send, in file order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT row, maybe_stored, has_customer_id FROM receivers"
                " WHERE job_id = ? AND status = ? AND batch_id IS NULL ORDER BY row",
                (job_id, READY),
            ).fetchall()
        return [Sendable(row, bool(stored), bool(customer_id)) for row, stored, customer_id in rows]

    def payload_json(self, job_id: int, rows: Sequence[int]) -> list[str]:
        """The receivers of these rows as stored (JSON text), in the order asked for: read by
        the thread sending their batch, so a large send starts at once."""
        found: dict[int, str] = {}
        with self._lock:
            for start in range(0, len(rows), 500):  # well under SQLite's parameter limit
                part = list(rows[start : start + 500])
                marks = ",".join("?" * len(part))
                found.update(
                    self._db.execute(
                        f"SELECT row, payload FROM receivers WHERE job_id = ? AND row IN ({marks})",
                        (job_id, *part),
                    ).fetchall()
                )
        return [found[row] for row in rows]

    def mark_in_flight(
        self, claim: Claim, rows: Iterable[int], attempt: int, *, durable: bool = True
    ) -> int:
        """Record, before the request goes out, that these rows are being sent. Returns its id.

        `durable=False` does not wait for the disk: only for requests SEEN takes twice without
        harm (2.0: the same id is the same person), where a mark lost to a power cut means the
        row is sent again as new, which stores no one twice."""
        rows = list(rows)
        with self._write(durable=durable) as db:
            self._hold(db, claim)
            batch_id = int(
                db.execute(
                    "INSERT INTO batches (job_id, attempt, size, sent_at) VALUES (?, ?, ?, ?)",
                    (claim.job_id, attempt, len(rows), _iso(_now())),
                ).lastrowid
                or 0
            )
            db.executemany(
                "UPDATE receivers SET batch_id = ?, attempts = attempts + 1"
                " WHERE job_id = ? AND row = ?",
                ((batch_id, claim.job_id, row) for row in rows),
            )
        return batch_id

    def record_answer(
        self,
        claim: Claim,
        batch_id: int,
        *,
        answer: str,
        http_status: int | None,
        outcomes: dict[int, tuple[str, str]],
        maybe_stored: Iterable[int] = (),
    ) -> None:
        """Record a batch's answer: final outcomes, and which rows SEEN may have stored.

        Rows of the batch without an outcome stay `ready` for the next request. Not fsynced:
        if a power cut loses it, the rows are still marked in flight, and recovery treats them
        as a lost answer (sent again only with a customer_id, else `unknown`), which is safe.
        """
        with self._write(durable=False) as db:
            self._hold(db, claim)
            db.execute(
                "UPDATE batches SET answered_at = ?, answer = ?, http_status = ? WHERE id = ?",
                (_iso(_now()), answer, http_status, batch_id),
            )
            db.executemany(
                "UPDATE receivers SET maybe_stored = 1 WHERE job_id = ? AND row = ?",
                ((claim.job_id, row) for row in maybe_stored),
            )
            db.executemany(
                "UPDATE receivers SET status = ?, message = ? WHERE job_id = ? AND row = ?",
                (
                    (status, message, claim.job_id, row)
                    for row, (status, message) in outcomes.items()
                ),
            )
            db.execute(
                "UPDATE receivers SET batch_id = NULL WHERE job_id = ? AND batch_id = ?",
                (claim.job_id, batch_id),
            )

    def mark_not_sent(self, claim: Claim) -> int:
        """Every row still `ready` becomes `not_sent` (the send stopped); returns how many."""
        with self._write() as db:
            self._hold(db, claim)
            return db.execute(
                "UPDATE receivers SET status = ? WHERE job_id = ? AND status = ?"
                " AND batch_id IS NULL",
                (NOT_SENT, claim.job_id, READY),
            ).rowcount

    # --- SEEN API 2.0: ids and video links ---------------------------------------------------

    def mark_identified(self, job_id: int) -> None:
        """Mark the rows of a 2.0 send, which carry their customer ID as `id`, as having one:
        after a lost answer they are then looked up and sent again, never left `unknown`."""
        with self._write(durable=False) as db:
            db.execute(
                "UPDATE receivers SET has_customer_id = 1 WHERE job_id = ?"
                " AND has_customer_id = 0 AND payload IS NOT NULL"
                " AND coalesce(json_extract(payload, '$.id'), '') != ''",
                (job_id,),
            )

    def save_videos(
        self, job_id: int, videos: dict[int, tuple[str | None, str | None, str | None]]
    ) -> None:
        """Keep rows' video links as SEEN gave them: row → (player, thumbnail, e-mail
        thumbnail), None where SEEN has none yet. They go when the send is deleted or purged."""
        with self._write(durable=False) as db:
            now = _iso(_now())
            db.executemany(
                "INSERT OR REPLACE INTO videos"
                " (job_id, row, player, thumbnail, email_thumbnail, fetched_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                ((job_id, row, *links, now) for row, links in videos.items()),
            )

    def videos(self, job_id: int) -> dict[int, tuple[str | None, str | None, str | None]]:
        """Row → (player, thumbnail, e-mail thumbnail) as last fetched, in row order."""
        with self._lock:
            found = self._db.execute(
                "SELECT row, player, thumbnail, email_thumbnail FROM videos"
                " WHERE job_id = ? ORDER BY row",
                (job_id,),
            ).fetchall()
        return {row: (player, thumbnail, email) for row, player, thumbnail, email in found}


def _when(iso: str) -> str:
    """`2026-11-27T21:21:53+00:00` → `2026-11-27 21:21 UTC`, as people read it."""
    return f"{iso[:10]} {iso[11:16]} UTC"


def _visible_state(state: str, owner: str | None, heartbeat_at: str | None) -> str:
    if state == RUNNING and not owner_alive(owner, heartbeat_at):
        return INTERRUPTED
    return state
