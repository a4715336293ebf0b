"""What SEEN's calls brought, kept in a SQLite file of its own beside the journal.

A burst of calls never holds the journal's write lock while a send records its answers: the
calls go to `<journal>.callbacks.sqlite3`. Every write is done by ONE writer thread fed by a
queue; it commits what has queued up in one transaction and only then answers each call's
future, so a call is answered 2xx only once it is stored, and a burst is paced by the commits,
never dropped. Reads open their own connection (WAL: readers never wait for the writer).

Films are one per target and person (SEEN's retries and a re-render update the same row);
events one per target, person, event name and timestamp (repeats are stored once). The whole
body of each call is kept in `raw`, so fields SEEN adds per client are not lost.
"""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import sys
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from seen_core.engagement.calls import CLICKED, OPENED, PLAYED, WATCHED, Event, Film
from seen_core.errors import JournalError
from seen_core.store.database import busy_seconds, trouble

SCHEMA = """
CREATE TABLE IF NOT EXISTS films (
    target TEXT NOT NULL,
    person TEXT NOT NULL,
    film TEXT,
    thumbnail TEXT,
    email_thumbnail TEXT,
    raw TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (target, person)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS films_by_age ON films (received_at);
CREATE TABLE IF NOT EXISTS events (
    target TEXT NOT NULL,
    person TEXT NOT NULL,
    event TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    raw TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (target, person, event, timestamp)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_by_age ON events (received_at);
CREATE TABLE IF NOT EXISTS people (
    target TEXT NOT NULL,
    person TEXT NOT NULL,
    film TEXT,
    thumbnail TEXT,
    has_film INTEGER NOT NULL DEFAULT 0,
    opened INTEGER NOT NULL DEFAULT 0,
    played INTEGER NOT NULL DEFAULT 0,
    watched INTEGER NOT NULL DEFAULT 0,
    clicked INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (target, person)
) WITHOUT ROWID
"""
# `people` sums up films and events per person as they are written, so a send's figures are
# one lookup per person, not an aggregation of every event (rebuilt after a purge).
_REBUILD_PEOPLE = """
DELETE FROM people;
INSERT INTO people (target, person, film, thumbnail, has_film, opened, played, watched, clicked)
SELECT k.target, k.person, f.film, f.thumbnail, f.person IS NOT NULL,
       coalesce(e.opened, 0), coalesce(e.played, 0), coalesce(e.watched, 0),
       coalesce(e.clicked, 0)
FROM (SELECT target, person FROM films UNION SELECT target, person FROM events) AS k
LEFT JOIN films AS f ON f.target = k.target AND f.person = k.person
LEFT JOIN (
    SELECT target, person, max(event = 'player-opened') AS opened,
           max(event = 'video-played') AS played, max(event = 'video-watched') AS watched,
           max(event IN ('share-clicked', 'cta-clicked')) AS clicked
    FROM events GROUP BY target, person
) AS e ON e.target = k.target AND e.person = k.person
"""
_EVENT_COLUMN = {OPENED: "opened", PLAYED: "played", WATCHED: "watched"} | dict.fromkeys(
    CLICKED, "clicked"
)
BATCH_LIMIT = 2000  # calls committed together at most
_STOP = object()


def default_store_path(journal_path: str | Path) -> Path:
    """The callbacks' file beside a journal: `journal.sqlite3` → `journal.callbacks.sqlite3`."""
    journal_path = Path(journal_path)
    return journal_path.with_name(f"{journal_path.stem}.callbacks.sqlite3")


@dataclass(frozen=True)
class PersonFacts:
    """What SEEN told about one person of a target."""

    film: str | None = None
    thumbnail: str | None = None
    has_film: bool = False
    opened: bool = False
    played: bool = False
    watched: bool = False
    clicked: bool = False


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class EngagementStore:
    """The callbacks' file: `submit` a film or event (answered once committed), read figures."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            new_file = not self.path.exists()
            db = self._connect()
            if new_file and sys.platform != "win32":
                self.path.chmod(0o600)  # people's ids and their films' links
            try:
                db.execute("PRAGMA journal_mode = WAL")
                db.executescript(SCHEMA)
            finally:
                db.close()
        except (OSError, sqlite3.Error) as error:
            raise trouble(self.path, error) from None

    @property
    def closed(self) -> bool:
        """Whether `close` was called: a new store must be opened for the file."""
        return self._closed

    def _connect(self, *, uri: bool = False) -> sqlite3.Connection:
        where = "file:" + quote(str(self.path.resolve())) if uri else self.path
        db = sqlite3.connect(
            where, timeout=busy_seconds(), isolation_level=None, check_same_thread=False, uri=uri
        )
        db.execute(f"PRAGMA busy_timeout = {int(busy_seconds() * 1000)}")
        return db

    # --- writing ---------------------------------------------------------------------------

    def submit(self, call: Film | Event) -> Future[bool]:
        """Queue a film or event; the future is True once it is stored, False when it was
        stored already (a retry, a repeated event), or raises when the file cannot be written."""
        if self._closed:
            raise JournalError("The callbacks' file is closed.")
        self._start()
        future: Future[bool] = Future()
        self._queue.put((call, future))
        return future

    def store(self, call: Film | Event) -> bool:
        """`submit` and wait: True when new."""
        return self.submit(call).result()

    def _start(self) -> None:
        if self._writer is not None:
            return
        with self._start_lock:
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_forever, name="seen-callbacks", daemon=True
                )
                self._writer.start()

    def _write_forever(self) -> None:
        db = self._connect()
        db.execute("PRAGMA synchronous = FULL")  # answered 2xx = on disk, even after a power cut
        try:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                batch = [first]
                stop = False
                while len(batch) < BATCH_LIMIT:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stop = True
                        break
                    batch.append(item)
                self._commit(db, batch)
                if stop:
                    return
        finally:
            db.close()

    def _commit(self, db: sqlite3.Connection, batch: list[tuple[Film | Event, Future]]) -> None:
        outcomes: list[bool] = []
        now = _now()
        try:
            db.execute("BEGIN IMMEDIATE")
            for call, _ in batch:
                outcomes.append(_write_one(db, call, now))
            db.execute("COMMIT")
        except (sqlite3.Error, OSError) as error:
            with contextlib.suppress(sqlite3.Error):
                if db.in_transaction:
                    db.execute("ROLLBACK")
            failure = trouble(self.path, error)
            for _, future in batch:
                future.set_exception(failure)
            return
        for (_, future), new in zip(batch, outcomes, strict=True):
            future.set_result(new)

    def close(self) -> None:
        """Store what is queued, then stop the writer."""
        self._closed = True
        writer = self._writer
        if writer is not None:
            self._queue.put(_STOP)
            writer.join()

    def __enter__(self) -> EngagementStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reading ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _reading(self, attach: str | None = None) -> Iterator[sqlite3.Connection]:
        """A read transaction on a connection of its own; `attach`: a database's URI to read
        beside (as `sent`)."""
        try:
            db = self._connect(uri=attach is not None)
            if attach is not None:
                db.execute("ATTACH DATABASE ? AS sent", (attach,))
        except sqlite3.Error as error:
            raise trouble(self.path, error) from None
        try:
            db.execute("BEGIN")
            yield db
        except sqlite3.Error as error:
            raise trouble(self.path, error) from None
        finally:
            db.close()

    def send_rows(
        self,
        journal_path: Path,
        job_id: int,
        target: str,
        created: str,
        *,
        told_limit: int | None = None,
    ) -> tuple[tuple[int, int, int, int, int, int], list[tuple]]:
        """A send's created rows joined in SQLite with what SEEN told about each person:
        the counts (people, films, opened, played, watched, clicked) and the rows (row, id,
        film, thumbnail, has film, opened, played, watched, clicked) in row order — every row,
        or with `told_limit` the first that many SEEN told anything about.

        The journal is attached read-only, so each person is one lookup in `people` inside
        SQLite (100,000 people with 300,000 events: a fraction of a second)."""
        uri = "file:" + quote(str(Path(journal_path).resolve())) + "?mode=ro"
        with self._reading(attach=uri) as db:
            found = db.execute(
                """
                SELECT s.row, s.person, p.film, p.thumbnail, coalesce(p.has_film, 0),
                       coalesce(p.opened, 0), coalesce(p.played, 0), coalesce(p.watched, 0),
                       coalesce(p.clicked, 0)
                FROM (
                    SELECT row, CAST(coalesce(json_extract(payload, '$.customer_id'),
                                              json_extract(payload, '$.id')) AS TEXT) AS person
                    FROM sent.receivers WHERE job_id = ? AND status = ?
                ) AS s
                LEFT JOIN people AS p ON p.target = ? AND p.person = s.person
                WHERE s.person IS NOT NULL AND s.person != ''
                ORDER BY s.row
                """,
                (job_id, created, target),
            ).fetchall()
        columns = list(zip(*found, strict=True)) if found else [()] * 9
        counts = (len(found), *(sum(column) for column in columns[4:9]))
        if told_limit is not None:
            told = [r for r in found if r[4] or r[5] or r[6] or r[7] or r[8]]
            found = told[:told_limit]
        return counts, found

    def facts(self, target: str, people: Iterable[str] | None = None) -> dict[str, PersonFacts]:
        """Person → what SEEN told about them on that target (only those it told anything);
        `people` narrows it to those ids."""
        wanted = None if people is None else set(people)
        with self._reading() as db:
            found = db.execute(
                "SELECT person, film, thumbnail, has_film, opened, played, watched, clicked"
                " FROM people WHERE target = ?",
                (target,),
            ).fetchall()
        return {
            person: PersonFacts(film, thumbnail, *(bool(flag) for flag in flags))
            for person, film, thumbnail, *flags in found
            if wanted is None or person in wanted
        }

    def people_by_target(self) -> dict[str, set[str]]:
        """Target → every person SEEN told anything about (for what matches no send)."""
        found: dict[str, set[str]] = {}
        with self._reading() as db:
            for target, person in db.execute(
                "SELECT target, person FROM films UNION SELECT target, person FROM events"
            ):
                found.setdefault(target, set()).add(person)
        return found

    def counts(self) -> dict[str, int]:
        with self._reading() as db:
            films = db.execute("SELECT count(*) FROM films").fetchone()[0]
            events = db.execute("SELECT count(*) FROM events").fetchone()[0]
        return {"films": films, "events": events}

    def raw_calls(self, target: str, person: str) -> list[str]:
        """The bodies kept for one person (films first), as SEEN sent them."""
        with self._reading() as db:
            films = db.execute(
                "SELECT raw FROM films WHERE target = ? AND person = ?", (target, person)
            ).fetchall()
            events = db.execute(
                "SELECT raw FROM events WHERE target = ? AND person = ? ORDER BY timestamp",
                (target, person),
            ).fetchall()
        return [raw for (raw,) in films + events]

    def purge(self, older_than_days: int = 30) -> int:
        """Delete what was received before the retention (matched or not); how many rows."""
        cutoff = (datetime.now(UTC) - timedelta(days=older_than_days)).isoformat(timespec="seconds")
        try:
            db = self._connect()
        except sqlite3.Error as error:
            raise trouble(self.path, error) from None
        try:
            db.execute("PRAGMA secure_delete = ON")
            db.execute("BEGIN IMMEDIATE")
            gone = db.execute("DELETE FROM films WHERE received_at < ?", (cutoff,)).rowcount
            gone += db.execute("DELETE FROM events WHERE received_at < ?", (cutoff,)).rowcount
            if gone:
                for statement in _REBUILD_PEOPLE.split(";"):
                    if statement.strip():
                        db.execute(statement)
            db.execute("COMMIT")
        except sqlite3.Error as error:
            raise trouble(self.path, error) from None
        finally:
            db.close()
        return gone


def _write_one(db: sqlite3.Connection, call: Film | Event, now: str) -> bool:
    if isinstance(call, Film):
        inserted = db.execute(
            "INSERT OR IGNORE INTO films (target, person, film, thumbnail, email_thumbnail, raw,"
            " received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                call.target,
                call.person,
                call.film,
                call.thumbnail,
                call.email_thumbnail,
                call.raw,
                now,
            ),
        ).rowcount
        if inserted:
            _film_of(db, call)
            return True
        # A retry (the same body) changes nothing; a film made again replaces the links.
        changed = db.execute(
            "UPDATE films SET film = ?, thumbnail = ?, email_thumbnail = ?, raw = ?,"
            " received_at = ? WHERE target = ? AND person = ? AND raw != ?",
            (
                call.film,
                call.thumbnail,
                call.email_thumbnail,
                call.raw,
                now,
                call.target,
                call.person,
                call.raw,
            ),
        ).rowcount
        if changed:
            _film_of(db, call)
        return False
    new = db.execute(
        "INSERT OR IGNORE INTO events (target, person, event, timestamp, raw, received_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (call.target, call.person, call.event, call.timestamp, call.raw, now),
    ).rowcount
    column = _EVENT_COLUMN.get(call.event)
    if new and column:  # the column's name is ours, never from the call
        db.execute(
            f"INSERT INTO people (target, person, {column}) VALUES (?, ?, 1)"
            f" ON CONFLICT (target, person) DO UPDATE SET {column} = 1",
            (call.target, call.person),
        )
    return bool(new)


def _film_of(db: sqlite3.Connection, film: Film) -> None:
    db.execute(
        "INSERT INTO people (target, person, film, thumbnail, has_film) VALUES (?, ?, ?, ?, 1)"
        " ON CONFLICT (target, person) DO UPDATE SET film = excluded.film,"
        " thumbnail = excluded.thumbnail, has_film = 1",
        (film.target, film.person, film.film, film.thumbnail),
    )
