"""What SEEN's calls say about the people of a user's sends: films ready, opened, played,
watched, clicked — matched by target and person id.

Matching (docs/ARCHITECTURE.md, "After the send"): a call for person X on a target counts for
every user whose sends to that target created X — the person in SEEN is theirs, and nobody
sees figures of people they did not send. Among one user's sends it counts once, for the
latest send that created X. A call that no send of anyone created is "unmatched": admins see
how many; it is purged with the retention like everything else.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from seen_core.engagement.store import EngagementStore, PersonFacts
from seen_core.i18n import N_, _
from seen_core.statuses import Status
from seen_core.store.journal import Journal

_ID_OF = (
    "CAST(coalesce(json_extract(payload, '$.customer_id'), json_extract(payload, '$.id')) AS TEXT)"
)


@dataclass(frozen=True)
class PersonEngagement:
    """One person of a send: spreadsheet row, id, and what SEEN said about them."""

    row: int
    id: str
    film: str | None
    thumbnail: str | None
    has_film: bool
    opened: bool
    played: bool
    watched: bool
    clicked: bool

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "film": self.film,
            "thumbnail": self.thumbnail,
            "opened": self.opened,
            "played": self.played,
            "watched": self.watched,
            "clicked": self.clicked,
        }


@dataclass(frozen=True)
class Engagement:
    """The figures for a send or a target, and each person (row order)."""

    people: int
    films: int
    opened: int
    played: int
    watched: int
    clicked: int
    unmatched: int = 0
    rows: list[PersonEngagement] = field(default_factory=list)

    FUNNEL = (
        ("films", N_("Films ready")),
        ("opened", N_("Opened")),
        ("played", N_("Played")),
        ("watched", N_("Watched")),
        ("clicked", N_("Clicked")),
    )

    def funnel(self) -> list[tuple[str, int]]:
        """(label, count) from films ready to clicked, for the chart; labels in the user's
        language."""
        return [(_(label), getattr(self, name)) for name, label in self.FUNNEL]

    def as_json(self) -> dict:
        return {
            "people": self.people,
            "films": self.films,
            "opened": self.opened,
            "played": self.played,
            "watched": self.watched,
            "clicked": self.clicked,
            "unmatched": self.unmatched,
            "rows": [person.as_json() for person in self.rows],
        }

    def by_row(self) -> dict[int, PersonEngagement]:
        return {person.row: person for person in self.rows}

    def columns(self) -> dict[int, tuple[str | None, bool, bool, bool]]:
        """Row → (film, opened, watched, clicked): the workbook's Film … Clicked columns, for
        the people SEEN told anything about."""
        return {
            p.row: (p.film, p.opened, p.watched, p.clicked)
            for p in self.rows
            if p.has_film or p.opened or p.played or p.watched or p.clicked
        }


def _created_ids(db: sqlite3.Connection, job_id: int) -> list[tuple[int, str]]:
    return [
        (row, person)
        for row, person in db.execute(
            f"SELECT row, {_ID_OF} FROM receivers WHERE job_id = ? AND status = ? ORDER BY row",
            (job_id, Status.CREATED.value),
        )
        if person
    ]


def _figures(
    people: list[tuple[int, str]], facts: dict[str, PersonFacts], unmatched: int
) -> Engagement:
    rows = []
    none = PersonFacts()
    for row, person in people:
        fact = facts.get(person, none)
        rows.append(
            PersonEngagement(
                row=row,
                id=person,
                film=fact.film,
                thumbnail=fact.thumbnail,
                has_film=fact.has_film,
                opened=fact.opened,
                played=fact.played,
                watched=fact.watched,
                clicked=fact.clicked,
            )
        )
    return Engagement(
        people=len(rows),
        films=sum(r.has_film for r in rows),
        opened=sum(r.opened for r in rows),
        played=sum(r.played for r in rows),
        watched=sum(r.watched for r in rows),
        clicked=sum(r.clicked for r in rows),
        unmatched=unmatched,
        rows=rows,
    )


def engagement_for_job(
    journal: Journal, store: EngagementStore, job_id: int, *, told_limit: int | None = None
) -> Engagement:
    """The figures of one send: its created people, less those the same user created again
    on the same target in a later send (they count there). `rows` holds every person, or
    with `told_limit` only the first that many SEEN told anything about (the figures still
    count everyone)."""
    with journal.reading() as db:
        job = db.execute("SELECT campaign, user_id FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if job is None:
            return Engagement(0, 0, 0, 0, 0, 0)
        target, user_id = job[0], job[1]
        later = [
            j
            for (j,) in db.execute(
                "SELECT id FROM jobs WHERE campaign = ? AND user_id = ? AND id > ?",
                (target, user_id, job_id),
            )
        ]
        again: set[str] = set()
        for other in later:
            again.update(person for _, person in _created_ids(db, other))
    created = Status.CREATED.value
    if again:  # people sent again later count there: counted here a row at a time
        _, found = store.send_rows(journal.path, job_id, target, created)
        found = [r for r in found if r[1] not in again]
        counts = (len(found), *(sum(bool(r[i]) for r in found) for i in range(4, 9)))
        if told_limit is not None:
            found = [r for r in found if any(r[4:9])][:told_limit]
    else:
        counts, found = store.send_rows(
            journal.path, job_id, target, created, told_limit=told_limit
        )
    rows = [
        PersonEngagement(row, person, film, thumbnail, bool(f), bool(o), bool(p), bool(w), bool(c))
        for row, person, film, thumbnail, f, o, p, w, c in found
    ]
    return Engagement(*counts, rows=rows)


def engagement_for_target(
    journal: Journal, store: EngagementStore, target: str, user_id: str
) -> Engagement:
    """The figures of everyone the user's sends created on a target (each person once, at the
    row of the latest send that created them); `unmatched`: people SEEN told about on that
    target whom no send of anyone created."""
    with journal.reading() as db:
        jobs = db.execute(
            "SELECT id, user_id FROM jobs WHERE campaign = ? ORDER BY id DESC", (target,)
        ).fetchall()
        mine: dict[str, int] = {}
        everyone: set[str] = set()
        for job_id, owner in jobs:
            for row, person in _created_ids(db, job_id):
                everyone.add(person)
                if owner == user_id and person not in mine:
                    mine[person] = row
    facts = store.facts(target)
    unmatched = sum(1 for person in facts if person not in everyone)
    people = sorted(((row, person) for person, row in mine.items()), key=lambda p: (p[0], p[1]))
    return _figures(people, facts, unmatched)


def unmatched_by_target(journal: Journal, store: EngagementStore) -> dict[str, int]:
    """For admins: per target, how many people SEEN told about whom no send created."""
    told = store.people_by_target()
    found: dict[str, int] = {}
    with journal.reading() as db:
        for target, people in told.items():
            created: set[str] = set()
            for (job_id,) in db.execute("SELECT id FROM jobs WHERE campaign = ?", (target,)):
                created.update(person for _, person in _created_ids(db, job_id))
            missing = len(people - created)
            if missing:
                found[target] = missing
    return found
