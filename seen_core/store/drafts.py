"""Drafts: a user's work in progress, kept in the journal so a reload or a restart loses nothing.

A draft is the uploaded file as it came, the choices made on it (target, sheet, header row,
mapping, phone country, step) and every change made to its cells, in order, so each can be
undone. The sends made from it are jobs with its id. See docs/ARCHITECTURE.md ("Drafts").
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from seen_core.check.fixes import CellEdit, Change, LeftOut, Remap
from seen_core.check.mapping import Mapping as FieldMapping
from seen_core.errors import InputError, NotFound
from seen_core.i18n import N_, _
from seen_core.store.journal import Journal

MAX_NAME = 120


class Step(StrEnum):
    """The steps of the flow, in order."""

    UPLOAD = "upload"
    MAP = "map"
    CHECK = "check"
    SEND = "send"
    RESULTS = "results"

    @property
    def title(self) -> str:
        return _(_STEP_TITLES[self])

    @property
    def short(self) -> str:
        """The step's one word, for the step bar."""
        if self is Step.CHECK:
            return _("Check")
        return _("Map") if self is Step.MAP else self.title


_STEP_TITLES = {
    Step.UPLOAD: N_("Upload"),
    Step.MAP: N_("Map columns"),
    Step.CHECK: N_("Check and fix"),
    Step.SEND: N_("Send"),
    Step.RESULTS: N_("Results"),
}


@dataclass(frozen=True)
class User:
    """Who is working: `id` owns drafts and sends. Without sign-in there is one local user."""

    id: str = ""
    name: str = ""
    is_admin: bool = False

    def may_see(self, owner_id: str) -> bool:
        return self.is_admin or owner_id == self.id


LOCAL_USER = User("", "", False)


@dataclass(frozen=True)
class Settings:
    """The choices made on a draft; everything but the file and the cell changes."""

    step: Step = Step.UPLOAD
    target: str = ""  # the target's key: a campaign slug, `workspace/ID` or `project/ID`
    destination: str = "sandbox"  # "sandbox" or "seen"
    sheet_name: str | None = None
    header_row: int | None = None
    mapping: dict | None = None  # a mapping file's form; None: not chosen yet (the suggestion)
    region: str = "NO"
    delivery: bool = True

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        data = json.loads(text)
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        if "step" in known:
            known["step"] = Step(known["step"]) if known["step"] in set(Step) else Step.UPLOAD
        return cls(**known)


@dataclass(frozen=True)
class Draft:
    """A draft as stored (its file's bytes are read with `DraftStore.source`)."""

    id: str
    user_id: str
    name: str
    file_name: str
    file_sha256: str
    created_at: str
    updated_at: str
    settings: Settings
    changes: tuple[Change, ...] = field(default=())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _change_json(change: Change) -> str:
    data: dict[str, object] = {
        "edits": [[e.row, e.column, e.old, e.new] for e in change.edits],
        "new_columns": list(change.new_columns),
    }
    if change.left_out:  # rows sent without a value, their cells unchanged
        data["left_out"] = [[o.row, o.field, o.value] for o in change.left_out]
    if change.remaps:  # fields the change sends from other columns
        data["remaps"] = [[m.field, m.old, m.new] for m in change.remaps]
    return json.dumps(data, ensure_ascii=False)


def _change_from(label: str, text: str) -> Change:
    data = json.loads(text)
    edits = tuple(CellEdit(int(r), str(c), str(o), str(n)) for r, c, o, n in data["edits"])
    left_out = tuple(LeftOut(int(r), str(f), str(v)) for r, f, v in data.get("left_out", ()))
    remaps = tuple(Remap(str(f), o, n) for f, o, n in data.get("remaps", ()))
    return Change(label, edits, tuple(data.get("new_columns", ())), left_out, remaps)


class DraftStore:
    """Drafts in the journal's database, each visible to its user (and admins) only."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    @contextmanager
    def _write(self) -> Iterator:
        # Not fsynced: WAL keeps a draft's edits through a crash of the server; only a power
        # cut could lose the last moment of typing, never a row of a send.
        with self.journal.writing(durable=False) as db:
            yield db

    def create(self, user: User, file_name: str, data: bytes, settings: Settings) -> Draft:
        draft_id = secrets.token_urlsafe(12)  # unguessable: a link is no key to someone's data
        now = _now()
        with self._write() as db:
            db.execute(
                "INSERT INTO drafts (id, user_id, name, file_name, file_sha256, settings,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    draft_id,
                    user.id,
                    file_name[:MAX_NAME],
                    file_name,
                    hashlib.sha256(data).hexdigest(),
                    settings.to_json(),
                    now,
                    now,
                ),
            )
            # Apart from the draft's row, which changes with every step and choice.
            db.execute(
                "INSERT INTO draft_sources (draft_id, source) VALUES (?, ?)", (draft_id, data)
            )
        return self.get(user, draft_id)

    def get(self, user: User, draft_id: str) -> Draft:
        """The draft with its changes; NotFound when there is none, or it is someone else's."""
        with self.journal.reading() as db:
            row = db.execute(
                "SELECT id, user_id, name, file_name, file_sha256, settings, created_at,"
                " updated_at FROM drafts WHERE id = ?",
                (draft_id,),
            ).fetchone()
            if row is None or not user.may_see(row["user_id"]):
                raise NotFound(_("There is no such draft, or it is not yours."))
            changes = tuple(
                _change_from(label, edits)
                for label, edits in db.execute(
                    "SELECT label, edits FROM draft_changes WHERE draft_id = ? ORDER BY seq",
                    (draft_id,),
                )
            )
        return Draft(
            id=row["id"],
            user_id=row["user_id"],
            name=row["name"],
            file_name=row["file_name"],
            file_sha256=row["file_sha256"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            settings=Settings.from_json(row["settings"]),
            changes=changes,
        )

    def drafts(self, user: User) -> list[Draft]:
        """The user's drafts (every draft, for an admin), last changed first; without changes."""
        where, params = ("", ()) if user.is_admin else ("WHERE user_id = ?", (user.id,))
        with self.journal.reading() as db:
            rows = db.execute(
                "SELECT id, user_id, name, file_name, file_sha256, settings, created_at,"
                f" updated_at FROM drafts {where} ORDER BY updated_at DESC, rowid DESC",
                params,
            ).fetchall()
        return [
            Draft(
                r["id"],
                r["user_id"],
                r["name"],
                r["file_name"],
                r["file_sha256"],
                r["created_at"],
                r["updated_at"],
                Settings.from_json(r["settings"]),
            )
            for r in rows
        ]

    def last_open(self, user: User) -> Draft | None:
        """The draft this user changed last (their own, also for an admin), to offer on the
        start page; None when they have none."""
        return next((d for d in self.drafts(user) if d.user_id == user.id), None)

    def source(self, user: User, draft_id: str) -> bytes:
        """The file as it was uploaded."""
        with self.journal.reading() as db:
            row = db.execute(
                "SELECT user_id, source FROM drafts JOIN draft_sources ON draft_id = id"
                " WHERE id = ?",
                (draft_id,),
            ).fetchone()
        if row is None or not user.may_see(row["user_id"]):
            raise NotFound(_("There is no such draft, or it is not yours."))
        return bytes(row["source"])

    @staticmethod
    def _owned(db, user: User, draft_id: str) -> None:
        row = db.execute("SELECT user_id FROM drafts WHERE id = ?", (draft_id,)).fetchone()
        if row is None or not user.may_see(row["user_id"]):
            raise NotFound(_("There is no such draft, or it is not yours."))

    def _touch(self, db, user: User, draft_id: str) -> None:
        self._owned(db, user, draft_id)
        db.execute("UPDATE drafts SET updated_at = ? WHERE id = ?", (_now(), draft_id))

    def save_settings(self, user: User, draft_id: str, settings: Settings) -> None:
        with self._write() as db:
            self._touch(db, user, draft_id)
            db.execute(
                "UPDATE drafts SET settings = ? WHERE id = ?", (settings.to_json(), draft_id)
            )

    def update_settings(self, user: User, draft: Draft, **changes: object) -> Draft:
        """Store changed choices; returns the draft with them."""
        settings = replace(draft.settings, **changes)
        if settings != draft.settings:
            self.save_settings(user, draft.id, settings)
            draft = replace(draft, settings=settings)
        return draft

    def rename(self, user: User, draft_id: str, name: str) -> None:
        name = " ".join(name.split())[:MAX_NAME]
        if not name:
            raise InputError(_("A draft needs a name."))
        with self._write() as db:
            self._touch(db, user, draft_id)
            db.execute("UPDATE drafts SET name = ? WHERE id = ?", (name, draft_id))

    def add_change(
        self, user: User, draft_id: str, change: Change, *, redone: bool = False
    ) -> None:
        """Keep one more change to the draft's cells (undoable). A new change forgets what was
        undone; a change made again by redo (`redone`) keeps the rest of it."""
        if change.empty:
            return
        with self._write() as db:
            self._touch(db, user, draft_id)
            if not redone:
                db.execute("DELETE FROM draft_undone WHERE draft_id = ?", (draft_id,))
            seq = db.execute(
                "SELECT coalesce(max(seq), 0) + 1 FROM draft_changes WHERE draft_id = ?",
                (draft_id,),
            ).fetchone()[0]
            db.execute(
                "INSERT INTO draft_changes (draft_id, seq, label, edits) VALUES (?, ?, ?, ?)",
                (draft_id, seq, change.label, _change_json(change)),
            )

    def undo(self, user: User, draft_id: str) -> Change | None:
        """Forget the last change and return it (None when there is none)."""
        with self._write() as db:
            row = self._last(db, user, draft_id, "seq, label, edits")
            if row is None:
                return None
            db.execute(
                "DELETE FROM draft_changes WHERE draft_id = ? AND seq = ?", (draft_id, row["seq"])
            )
        return _change_from(row["label"], row["edits"])

    def forget_last(self, user: User, draft_id: str) -> bool:
        """Undo the last change (the caller has it in hand): it is kept as the next to redo.
        False when there is none."""
        with self._write() as db:
            row = self._last(db, user, draft_id, "seq, label, edits")
            if row is not None:
                db.execute(
                    "DELETE FROM draft_changes WHERE draft_id = ? AND seq = ?",
                    (draft_id, row["seq"]),
                )
                db.execute(
                    "INSERT INTO draft_undone (draft_id, seq, label, edits) VALUES (?,"
                    " (SELECT coalesce(max(seq), 0) + 1 FROM draft_undone WHERE draft_id = ?),"
                    " ?, ?)",
                    (draft_id, draft_id, row["label"], row["edits"]),
                )
        return row is not None

    def next_redo(self, user: User, draft_id: str) -> Change | None:
        """The change redo would make again (the last one undone), or None."""
        with self.journal.reading() as db:
            self._owned(db, user, draft_id)
            row = db.execute(
                "SELECT label, edits FROM draft_undone WHERE draft_id = ? ORDER BY seq DESC"
                " LIMIT 1",
                (draft_id,),
            ).fetchone()
        return None if row is None else _change_from(row["label"], row["edits"])

    def take_redo(self, user: User, draft_id: str) -> Change | None:
        """Take the last undone change off the list, to be made again; None when none."""
        with self._write() as db:
            self._touch(db, user, draft_id)
            row = db.execute(
                "SELECT seq, label, edits FROM draft_undone WHERE draft_id = ? ORDER BY seq DESC"
                " LIMIT 1",
                (draft_id,),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "DELETE FROM draft_undone WHERE draft_id = ? AND seq = ?", (draft_id, row["seq"])
            )
        return _change_from(row["label"], row["edits"])

    def _last(self, db, user: User, draft_id: str, columns: str):
        self._touch(db, user, draft_id)
        return db.execute(
            f"SELECT {columns} FROM draft_changes WHERE draft_id = ? ORDER BY seq DESC LIMIT 1",
            (draft_id,),
        ).fetchone()

    def delete(self, user: User, draft_id: str) -> None:
        """Forget the draft, its file and its changes (its sends stay in History)."""
        with self._write() as db:
            self._touch(db, user, draft_id)
            self._forget(db, draft_id)

    def purge(self, older_than_days: int) -> int:
        """Delete drafts not changed for that long, with the people in them."""
        cutoff = (datetime.now(UTC) - timedelta(days=older_than_days)).isoformat(timespec="seconds")
        with self._write() as db:
            ids = [
                r[0] for r in db.execute("SELECT id FROM drafts WHERE updated_at < ?", (cutoff,))
            ]
            for draft_id in ids:
                self._forget(db, draft_id)
        return len(ids)

    @staticmethod
    def _forget(db, draft_id: str) -> None:
        db.execute("DELETE FROM draft_changes WHERE draft_id = ?", (draft_id,))
        db.execute("DELETE FROM draft_undone WHERE draft_id = ?", (draft_id,))
        db.execute("DELETE FROM draft_sources WHERE draft_id = ?", (draft_id,))
        db.execute("DELETE FROM drafts WHERE id = ?", (draft_id,))


class SavedMappings:
    """The mapping each user last used for each target, so the next sheet starts from it.

    A mapping that maps no column to a SEEN field is never kept, and one kept before this rule
    is not given back: there is nothing in it to start from, and it would hide the sheet's own
    suggestion (an empty mapping fits every sheet)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def save(self, user: User, target: str, mapping: dict) -> bool:
        """Keep `mapping` (a mapping file's form) for the user and target; False, keeping
        nothing, when it maps no column to a SEEN field or is not a mapping at all."""
        if not target or not maps_a_field(mapping):
            return False
        with self.journal.writing() as db:
            db.execute(
                "INSERT OR REPLACE INTO saved_mappings (user_id, target, mapping) VALUES (?, ?, ?)",
                (user.id, target, json.dumps(mapping, ensure_ascii=False)),
            )
        return True

    def load(self, user: User, target: str) -> dict | None:
        with self.journal.reading() as db:
            row = db.execute(
                "SELECT mapping FROM saved_mappings WHERE user_id = ? AND target = ?",
                (user.id, target),
            ).fetchone()
        if row is None:
            return None
        try:
            mapping = json.loads(row[0])
        except json.JSONDecodeError:
            return None
        return mapping if maps_a_field(mapping) else None


def maps_a_field(mapping: object) -> bool:
    """Whether a mapping file's form maps a column to at least one SEEN field."""
    try:
        return bool(FieldMapping.from_dict(mapping).fields)
    except InputError:
        return False
