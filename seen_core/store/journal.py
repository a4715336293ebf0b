"""SQLite journal: drafts, sends, their receivers, each batch before it is sent and its outcome.

The schema and its versions are described in docs/ARCHITECTURE.md ("The journal").
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import socket
import sqlite3
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from seen_core.errors import (
    AlreadySent,
    JobBusy,
    JournalBusy,
    JournalDamaged,
    JournalError,
    JournalFull,
    JournalUnwritable,
    NotFound,
    NothingToResume,
)
from seen_core.statuses import END_STATES as _END
from seen_core.statuses import JobState, Status

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

# A claim on another host cannot be checked by pid; a claim whose owner has not written for
# this long is taken as dead. Far above the longest wait between two writes (timeouts, back-off).
STALE_CLAIM_SECONDS = 600.0

# Version 1: the journal as SEEN Sender 0.1 wrote it (no user_version set). Applied with
# IF NOT EXISTS, so it is also the upgrade of such a journal.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_name TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    campaign TEXT NOT NULL,
    target TEXT NOT NULL,
    batch_size INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    state TEXT NOT NULL DEFAULT 'pending',
    stop_reason TEXT NOT NULL DEFAULT '',
    owner TEXT,
    heartbeat_at TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_file ON jobs (file_sha256, campaign, target);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    size INTEGER NOT NULL,
    sent_at TEXT NOT NULL,
    answered_at TEXT,
    answer TEXT,
    http_status INTEGER
);
CREATE INDEX IF NOT EXISTS batches_by_job ON batches (job_id);
CREATE TABLE IF NOT EXISTS receivers (
    job_id INTEGER NOT NULL,
    row INTEGER NOT NULL,
    payload TEXT,
    has_customer_id INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    batch_id INTEGER,
    maybe_stored INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, row)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS receivers_in_flight ON receivers (job_id, batch_id)
    WHERE batch_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS kept_sheets (
    job_id INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);
"""
# Each later version: statements that take a journal of the version before to this one.
_MIGRATIONS: dict[int, str] = {
    # 2: sends and drafts have a user; a send may come from a draft; saved mappings per user;
    # 2.0 sends keep each person's video links.
    2: """
ALTER TABLE jobs ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN draft_id TEXT;
CREATE INDEX jobs_by_user ON jobs (user_id);
CREATE INDEX jobs_by_draft ON jobs (draft_id);
CREATE TABLE drafts (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    source BLOB NOT NULL,
    settings TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX drafts_by_user ON drafts (user_id, updated_at);
CREATE TABLE draft_changes (
    draft_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    label TEXT NOT NULL,
    edits TEXT NOT NULL,
    PRIMARY KEY (draft_id, seq)
) WITHOUT ROWID;
CREATE TABLE videos (
    job_id INTEGER NOT NULL,
    row INTEGER NOT NULL,
    player TEXT,
    thumbnail TEXT,
    email_thumbnail TEXT,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (job_id, row)
) WITHOUT ROWID;
CREATE TABLE saved_mappings (
    user_id TEXT NOT NULL,
    target TEXT NOT NULL,
    mapping TEXT NOT NULL,
    PRIMARY KEY (user_id, target)
) WITHOUT ROWID;
""",
    # 3: a draft's file in a table of its own. In the drafts row, every change of a setting
    # (each step, each typed campaign) rewrote the whole file with it: 11 MB written, 0.13 s,
    # for a 5 MB workbook.
    3: """
CREATE TABLE draft_sources (
    draft_id TEXT PRIMARY KEY,
    source BLOB NOT NULL
);
INSERT INTO draft_sources (draft_id, source) SELECT id, source FROM drafts;
ALTER TABLE drafts DROP COLUMN source;
""",
}
SCHEMA_VERSION = max(_MIGRATIONS)

# receivers.batch_id is set while the row's request is in flight: set before the request,
# cleared with its answer. receivers.maybe_stored: an earlier request carrying the row may
# have been stored by SEEN although no usable answer came back.

# Claims held by this process, so a claim carrying our own pid can be told apart from one
# left by an earlier process that had the same pid (pid 1 in a restarted container).
_live_claims: set[str] = set()
_live_lock = threading.Lock()


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
class Sendable:
    """A row still to be sent, as stored when the job was created."""

    row: int
    maybe_stored: bool
    has_customer_id: bool


def retention_days() -> int:
    """How long sends (and the people in them) are kept: $SEEN_RETENTION_DAYS, else 30."""
    try:
        return max(1, int(os.environ.get("SEEN_RETENTION_DAYS", "30")))
    except ValueError:
        return 30


def default_path() -> Path:
    """Where the journal lives: `$SEEN_DATA_DIR/journal.sqlite3`, else the user's data dir."""
    env = os.environ.get("SEEN_DATA_DIR")
    if env:
        folder = Path(env).expanduser()
    else:
        home = Path.home()
        if sys.platform == "win32":
            base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
        elif sys.platform == "darwin":
            base = home / "Library" / "Application Support"
        else:
            base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
        folder = base / ".seen-sender"
    path = folder / "journal.sqlite3"
    try:
        # The journal holds people's names and addresses: keep the folder private where we
        # make it.
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise trouble(path, error) from None
    return path


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this machine (a zombie counts as dead)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user
    stat = Path(f"/proc/{pid}/stat")
    try:
        # A killed child not yet reaped still answers kill(0); its state letter is Z.
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _windows_pid_alive(pid: int) -> bool:
    # os.kill(pid, 0) would terminate the process on Windows, so ask the kernel instead.
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def _owner_alive(owner: str | None, heartbeat_at: str | None) -> bool:
    """Whether the owner of a claim may still be sending."""
    if not owner:
        return False
    host, _, rest = owner.partition("|")
    pid_text, _, _token = rest.partition("|")
    fresh = False
    if heartbeat_at:
        age = (_now() - datetime.fromisoformat(heartbeat_at)).total_seconds()
        fresh = age < STALE_CLAIM_SECONDS
    if host != socket.gethostname():
        return fresh
    pid = int(pid_text) if pid_text.isdigit() else -1
    if pid == os.getpid():
        with _live_lock:
            return owner in _live_claims
    # A live pid with a stale heartbeat is most likely another program that reused the pid.
    return fresh and _pid_alive(pid)


def busy_seconds() -> float:
    """How long to wait for a journal another program holds: $SEEN_JOURNAL_BUSY_SECONDS, else 5.

    Long enough for another send's write (milliseconds), short enough that a journal held by
    a stuck program is said to be busy while the user still waits for an answer."""
    try:
        return max(0.0, float(os.environ.get("SEEN_JOURNAL_BUSY_SECONDS", "5")))
    except ValueError:
        return 5.0


# SQLite's primary result codes that say something about the journal's file, not our SQL.
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 10, 11, 13, 14, 26


def damaged(path: Path, why: str) -> JournalDamaged:
    return JournalDamaged(
        f"The journal {path.name} is damaged ({why}); move it aside to start a new one, or "
        "restore it from a backup."
    )


def trouble(path: Path, error: OSError | sqlite3.Error) -> JournalError:
    """The one sentence for a journal that cannot be used, by what is wrong with it.

    A full disk, a journal held by another program, a folder that cannot be written and a
    damaged file each ask something different of the user; only the last may be moved aside
    (a busy journal moved aside would lose every resume point and the user's History)."""
    if isinstance(error, OSError):
        code = {
            errno.ENOSPC: _SQLITE_FULL,
            errno.EDQUOT: _SQLITE_FULL,
            errno.EROFS: _SQLITE_READONLY,
            errno.EACCES: _SQLITE_READONLY,
            errno.EPERM: _SQLITE_READONLY,
        }.get(error.errno or 0, _SQLITE_IOERR)
        why = error.strerror or type(error).__name__
    else:
        code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
        why = str(error)
    if code == _SQLITE_FULL:
        return JournalFull(
            f"The disk that holds the journal {path} is full; free some room there and try "
            "again (nothing was sent that the journal did not record, and your drafts and "
            "earlier sends are kept)."
        )
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        wait = busy_seconds()
        return JournalBusy(
            f"The journal {path.name} is busy: another program has held it for more than "
            f"{wait:g} second{'' if wait == 1 else 's'}; try again in a moment (nothing in it "
            "is lost, and nothing was sent that it did not record)."
        )
    if code in (_SQLITE_READONLY, _SQLITE_PERM, _SQLITE_CANTOPEN):
        return JournalUnwritable(
            f"The journal {path} cannot be written (its folder is read-only or belongs to "
            "another user); make it writable for SEEN Sender, or set SEEN_DATA_DIR to a folder "
            "that is."
        )
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return damaged(path, why)
    return JournalError(f"The journal {path} could not be read or written ({why}).")


_OURS = {
    _SQLITE_PERM,
    _SQLITE_BUSY,
    _SQLITE_LOCKED,
    _SQLITE_READONLY,
    _SQLITE_IOERR,
    _SQLITE_CORRUPT,
    _SQLITE_FULL,
    _SQLITE_CANTOPEN,
    _SQLITE_NOTADB,
}


class _Connection(sqlite3.Connection):
    """A connection whose errors about the journal's file (full, busy, read-only, damaged)
    come out as the sentence for it, wherever in the journal or the drafts they happen."""

    path: Path

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.DatabaseError as error:
            if (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF not in _OURS:
                raise
            raise trouble(self.path, error) from None

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        try:
            return super().executemany(sql, parameters)
        except sqlite3.DatabaseError as error:
            if (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF not in _OURS:
                raise
            raise trouble(self.path, error) from None


class Journal:
    """The journal file; one connection shared by the threads of this process under a lock."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            new_file = not self.path.exists()
            # isolation_level=None: we open every transaction ourselves (BEGIN IMMEDIATE for
            # writes).
            self._db = sqlite3.connect(
                self.path,
                timeout=busy_seconds(),
                isolation_level=None,
                check_same_thread=False,
                factory=_Connection,
            )
            if new_file and sys.platform != "win32":
                # It holds people's names, e-mails and phones: readable by its owner only.
                self.path.chmod(0o600)
        except (OSError, sqlite3.Error) as error:
            raise trouble(self.path, error) from None
        self._db.path = self.path
        self._db.row_factory = sqlite3.Row
        try:
            self._open()
        except JournalError:
            self._db.close()
            raise
        except sqlite3.DatabaseError as error:  # our own verdicts: quick_check, a newer schema
            self._db.close()
            raise damaged(self.path, str(error)) from None

    def _open(self) -> None:
        self._db.execute(f"PRAGMA busy_timeout = {int(busy_seconds() * 1000)}")
        # A truncated or overwritten file must be found here, not half-way through a send.
        verdict = self._db.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            raise sqlite3.DatabaseError(str(verdict))
        self._db.execute("PRAGMA journal_mode = WAL")
        # A deleted or purged send's people are overwritten on disk, not left in free pages.
        self._db.execute("PRAGMA secure_delete = ON")
        # FULL: a committed "in flight" mark must survive a power cut, or a row could be sent twice.
        self._db.execute("PRAGMA synchronous = FULL")
        self._durable = True
        with self._write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise sqlite3.DatabaseError(
                    f"it was written by a newer SEEN Sender (schema {version})"
                )
            # executescript would commit on its own; run the statements inside our transaction,
            # so an upgrade is all or nothing.
            steps = [] if version >= 1 else [_SCHEMA]
            steps += [_MIGRATIONS[v] for v in sorted(_MIGRATIONS) if v > max(version, 1)]
            for script in steps:
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
            if version != SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # --- plumbing --------------------------------------------------------------------------

    @contextmanager
    def _write(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the database's write lock at once.

        `durable=False` skips the fsync at commit (WAL keeps it safe from a crash of the
        process, not from a power cut): only for writes whose loss recovery already handles.
        """
        with self._lock:
            if durable != self._durable:
                self._db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
                self._durable = durable
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                # SQLite ends a transaction itself on some errors (a full disk among them).
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error, JournalError):
                        self._db.execute("ROLLBACK")
                raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction, so several queries see one snapshot."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            finally:
                if self._db.in_transaction:
                    self._db.execute("COMMIT")

    def writing(
        self, *, durable: bool = True
    ) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A write transaction for the other tables of the journal's database (drafts);
        `durable=False` as in `_write`."""
        return self._write(durable=durable)

    def reading(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A read transaction: several queries see one snapshot."""
        return self._read()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- jobs ------------------------------------------------------------------------------

    def create_job(
        self,
        *,
        file_name: str,
        file_sha256: str,
        campaign: str,
        target: str,
        batch_size: int,
        receivers: list[tuple[int, dict]],
        invalid: dict[int, str],
        user_id: str = "",
        draft_id: str | None = None,
    ) -> int:
        """Store a new send with every payload (so it can resume without the file)."""
        if batch_size < 1:
            raise ValueError("The batch size must be at least 1.")
        with self._write() as db:
            return self._insert_job(
                db,
                file_name,
                file_sha256,
                campaign,
                target,
                batch_size,
                receivers,
                invalid,
                user_id,
                draft_id,
            )

    def plan_job(
        self,
        *,
        file_name: str,
        file_sha256: str,
        campaign: str,
        target: str,
        batch_size: int,
        receivers: list[tuple[int, dict]],
        invalid: dict[int, str],
        resume: bool = False,
        force: bool = False,
        user_id: str = "",
        draft_id: str | None = None,
    ) -> int:
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
        if batch_size < 1:
            raise ValueError("The batch size must be at least 1.")
        with self._write() as db:
            earlier = self._select_jobs(
                "WHERE file_sha256 = ? AND campaign = ? AND target = ? AND user_id = ?",
                (file_sha256, campaign, target, user_id),
                db,
            )
            if resume:
                for job in earlier:  # newest first
                    if job.state != FINISHED and (draft_id is None or job.draft_id == draft_id):
                        return job.id
                raise NothingToResume(
                    f"There is no unfinished send of {file_name} to {_target_words(campaign)} "
                    f"on {target}."
                )
            running = [job for job in earlier if job.state == RUNNING]
            if running:
                raise JobBusy(f"Send #{running[0].id} of {file_name} is being sent right now.")
            if self._sent_by_others_now(db, file_sha256, campaign, target, user_id):
                raise JobBusy(
                    f"{file_name} is being sent to {_target_words(campaign)} on {target} right "
                    "now, by another user; send it when that send has finished, so no one is "
                    "sent twice."
                )
            mine = [j for j in earlier if draft_id is not None and j.draft_id == draft_id]
            others = [j for j in earlier if j not in mine]
            for job in mine:
                if job.state != FINISHED and self._reached_seen(db, job.id):
                    raise AlreadySent(
                        f"Send #{job.id} of this draft stopped before it finished; resume it "
                        "first, so no row is sent twice.",
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
                    f"{file_name} was already sent, wholly or in part, to "
                    f"{_target_words(campaign)} on {target} (send #{job.id} of "
                    f"{_when(job.created_at)}, {job.counts[CREATED]} created); resume that "
                    "send, or choose to send the whole file again.",
                    job,
                )
            return self._insert_job(
                db,
                file_name,
                file_sha256,
                campaign,
                target,
                batch_size,
                receivers,
                invalid,
                user_id,
                draft_id,
            )

    @staticmethod
    def _sent_by_others_now(
        db: sqlite3.Connection, file_sha256: str, campaign: str, target: str, user_id: str
    ) -> bool:
        """Whether another user's send of this file to this target is running right now."""
        found = db.execute(
            "SELECT owner, heartbeat_at FROM jobs WHERE file_sha256 = ? AND campaign = ?"
            " AND target = ? AND user_id != ? AND state = ?",
            (file_sha256, campaign, target, user_id, RUNNING),
        ).fetchall()
        return any(_owner_alive(job["owner"], job["heartbeat_at"]) for job in found)

    @staticmethod
    def _insert_job(
        db: sqlite3.Connection,
        file_name: str,
        file_sha256: str,
        campaign: str,
        target: str,
        batch_size: int,
        receivers: list[tuple[int, dict]],
        invalid: dict[int, str],
        user_id: str,
        draft_id: str | None,
    ) -> int:
        cursor = db.execute(
            "INSERT INTO jobs (file_name, file_sha256, campaign, target, batch_size,"
            " created_at, user_id, draft_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                file_name,
                file_sha256,
                campaign,
                target,
                batch_size,
                _iso(_now()),
                user_id,
                draft_id,
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
                for row, payload in receivers
            ),
        )
        db.executemany(
            "INSERT INTO receivers (job_id, row, status, message) VALUES (?, ?, ?, ?)",
            ((job_id, row, INVALID, message) for row, message in invalid.items()),
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
            if _owner_alive(job["owner"], job["heartbeat_at"]):
                raise JobBusy(f"Send #{job_id} is being sent right now; it cannot be deleted.")
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
            ids = [job["id"] for job in old if not _owner_alive(job["owner"], job["heartbeat_at"])]
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
        owner = f"{socket.gethostname()}|{os.getpid()}|{secrets.token_hex(8)}"
        with self._write() as db:
            job = db.execute(
                "SELECT owner, heartbeat_at FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
            if job is None:
                raise NotFound(f"There is no send #{job_id} in the journal.")
            if _owner_alive(job["owner"], job["heartbeat_at"]):
                raise JobBusy(f"Send #{job_id} is already being sent.")
            now = _iso(_now())
            db.execute(
                "UPDATE jobs SET owner = ?, heartbeat_at = ?, state = ?, stop_reason = '',"
                " finished_at = NULL WHERE id = ?",
                (owner, now, RUNNING, job_id),
            )
            with _live_lock:
                _live_claims.add(owner)
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
            with _live_lock:
                _live_claims.discard(claim.owner)

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


def _target_words(key: str) -> str:
    """`spring` → campaign 'spring'; `workspace/ws-1` → workspace 'ws-1'."""
    kind, _, ident = key.partition("/")
    if ident and kind in ("workspace", "project"):
        return f"{kind} '{ident}'"
    return f"campaign '{key}'"


def _visible_state(state: str, owner: str | None, heartbeat_at: str | None) -> str:
    if state == RUNNING and not _owner_alive(owner, heartbeat_at):
        return INTERRUPTED
    return state
