"""The journal's SQLite database: where it lives, its schema and versions, its transactions,
and one sentence for each way the file itself can fail (full, busy, read-only, damaged).

The tables are described in docs/ARCHITECTURE.md ("The journal"); `store.journal` and
`store.drafts` work on them through `Database.writing` and `Database.reading`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from seen_core.errors import (
    JournalBusy,
    JournalDamaged,
    JournalError,
    JournalFull,
    JournalUnwritable,
)
from seen_core.i18n import _, ngettext

# Version 1: the journal as SEEN Sender 0.1 wrote it (no user_version set). Applied with
# IF NOT EXISTS, so it is also the upgrade of such a journal.
SCHEMA = """
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
# Two tables migration 7 may have to add again (see there): made if they are not there yet.
_USER_LANGUAGES = """
CREATE TABLE IF NOT EXISTS user_languages (
    user_id TEXT PRIMARY KEY,
    language TEXT NOT NULL
) WITHOUT ROWID;
"""
_DRAFT_UNDONE = """
CREATE TABLE IF NOT EXISTS draft_undone (
    draft_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    label TEXT NOT NULL,
    edits TEXT NOT NULL,
    PRIMARY KEY (draft_id, seq)
) WITHOUT ROWID;
"""
MIGRATIONS: dict[int, str] = {
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
    # 4: each signed-in user's language (see `seen_core.store.languages`).
    4: _USER_LANGUAGES,
    # 5: a draft keeps the changes undone, last undone last, so that redo outlives a reload;
    # a new change forgets them.
    5: _DRAFT_UNDONE,
    # 7: one release numbered the undone changes 6 (and had no languages), before 4 and 5 were
    # given to the two tables above: a journal it wrote says 6, and gets here what it lacks.
    # Journals of every other release have both already.
    7: _USER_LANGUAGES + _DRAFT_UNDONE,
}
SCHEMA_VERSION = max(MIGRATIONS)


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
        _(
            "The journal {name} is damaged ({why}); move it aside to start a new one, or restore "
            "it from a backup."
        ).format(name=path.name, why=why)
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
            _(
                "The disk that holds the journal {path} is full; free some room there and try "
                "again (nothing was sent that the journal did not record, and your drafts and "
                "earlier sends are kept)."
            ).format(path=path)
        )
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        wait = busy_seconds()
        return JournalBusy(
            ngettext(
                "The journal {name} is busy: another program has held it for more than {wait} "
                "second; try again in a moment (nothing in it is lost, and nothing was sent that "
                "it did not record).",
                "The journal {name} is busy: another program has held it for more than {wait} "
                "seconds; try again in a moment (nothing in it is lost, and nothing was sent "
                "that it did not record).",
                1 if wait == 1 else 2,
            ).format(name=path.name, wait=f"{wait:g}")
        )
    if code in (_SQLITE_READONLY, _SQLITE_PERM, _SQLITE_CANTOPEN):
        return JournalUnwritable(
            _(
                "The journal {path} cannot be written (its folder is read-only or belongs to "
                "another user); make it writable for SEEN Sender, or set SEEN_DATA_DIR to a "
                "folder that is."
            ).format(path=path)
        )
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return damaged(path, why)
    return JournalError(
        _("The journal {path} could not be read or written ({why}).").format(path=path, why=why)
    )


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


class Database:
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
            steps = [] if version >= 1 else [SCHEMA]
            steps += [MIGRATIONS[v] for v in sorted(MIGRATIONS) if v > max(version, 1)]
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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
