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
CREATE INDEX IF NOT EXISTS events_by_age ON events (received_at)
"""
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

    _SEND_SQL = """
        WITH people AS (
            SELECT row, CAST(coalesce(json_extract(payload, '$.customer_id'),
                                      json_extract(payload, '$.id')) AS TEXT) AS person
            FROM sent.receivers WHERE job_id = ? AND status = ?
        ), did AS (
            SELECT person, max(event = ?) AS opened, max(event = ?) AS played,
                   max(event = ?) AS watched, max(event IN ({marks})) AS clicked
            FROM events WHERE target = ? GROUP BY person
        ), joined AS (
            SELECT people.row AS row, people.person AS person, films.film AS film,
                   films.thumbnail AS thumbnail, films.person IS NOT NULL AS has_film,
                   coalesce(did.opened, 0) AS opened, coalesce(did.played, 0) AS played,
                   coalesce(did.watched, 0) AS watched, coalesce(did.clicked, 0) AS clicked
            FROM people
            LEFT JOIN films ON films.target = ? AND films.person = people.person
            LEFT JOIN did ON did.person = people.person
            WHERE people.person IS NOT NULL AND people.person != ''
        )
    """

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

        The journal is attached read-only for the query, so 100,000 people, their films and
        300,000 events are matched and counted in C rather than in Python."""
        marks = ", ".join("?" * len(CLICKED))
        head = self._SEND_SQL.format(marks=marks)
        uri = "file:" + quote(str(Path(journal_path).resolve())) + "?mode=ro"
        params = (job_id, created, OPENED, PLAYED, WATCHED, *CLICKED, target, target)
        with self._reading(attach=uri) as db:
            db.execute(f"CREATE TEMP TABLE send_rows AS {head} SELECT * FROM joined", params)
            counts = db.execute(
                "SELECT count(*), coalesce(sum(has_film), 0), coalesce(sum(opened), 0),"
                " coalesce(sum(played), 0), coalesce(sum(watched), 0),"
                " coalesce(sum(clicked), 0) FROM send_rows"
            ).fetchone()
            if told_limit is None:
                rows = db.execute("SELECT * FROM send_rows ORDER BY row").fetchall()
            else:
                rows = db.execute(
                    "SELECT * FROM send_rows WHERE has_film OR opened OR played OR watched"
                    " OR clicked ORDER BY row LIMIT ?",
                    (told_limit,),
                ).fetchall()
        return tuple(counts), rows

    def facts(self, target: str, people: Iterable[str] | None = None) -> dict[str, PersonFacts]:
        """Person → what SEEN told about them on that target (only those it told anything);
        `people` narrows it to those ids."""
        wanted = None if people is None else set(people)
        films: dict[str, tuple[str | None, str | None]] = {}
        seen: dict[str, set[str]] = {}
        with self._reading() as db:
            for person, film, thumbnail in db.execute(
                "SELECT person, film, thumbnail FROM films WHERE target = ?", (target,)
            ):
                if wanted is None or person in wanted:
                    films[person] = (film, thumbnail)
            for person, event in db.execute(
                "SELECT DISTINCT person, event FROM events WHERE target = ?", (target,)
            ):
                if wanted is None or person in wanted:
                    seen.setdefault(person, set()).add(event)
        facts: dict[str, PersonFacts] = {}
        for person in films.keys() | seen.keys():
            film, thumbnail = films.get(person, (None, None))
            events = seen.get(person, set())
            facts[person] = PersonFacts(
                film=film,
                thumbnail=thumbnail,
                has_film=person in films,
                opened=OPENED in events,
                played=PLAYED in events,
                watched=WATCHED in events,
                clicked=any(e in events for e in CLICKED),
            )
        return facts

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
            return True
        # A retry (the same body) changes nothing; a film made again replaces the links.
        db.execute(
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
        )
        return False
    return bool(
        db.execute(
            "INSERT OR IGNORE INTO events (target, person, event, timestamp, raw, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (call.target, call.person, call.event, call.timestamp, call.raw, now),
        ).rowcount
    )
