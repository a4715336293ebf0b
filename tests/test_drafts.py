"""Drafts in the journal: restored exactly, private to their user, undoable, purged; the journal
upgraded from 0.1 and refused when damaged."""

from __future__ import annotations

import json
import sqlite3

import pytest
from builders import messy_workbook

from seen_core.check.fixes import CellEdit, Change
from seen_core.errors import InputError, JournalError, NotFound
from seen_core.store import drafts as drafts_module
from seen_core.store.database import SCHEMA_VERSION
from seen_core.store.drafts import DraftStore, SavedMappings, Settings, Step, User
from seen_core.store.journal import Journal

ALICE = User("alice@example.no", "Alice")
BOB = User("bob@example.no", "Bob")
ADMIN = User("it@example.no", "IT", is_admin=True)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "journal.sqlite3"


def _draft(journal: Journal, user: User = ALICE):
    store = DraftStore(journal)
    settings = Settings(step=Step.CHECK, target="spring", sheet_name="Mottakere", header_row=4)
    return store, store.create(user, "kunder.xlsx", messy_workbook(), settings)


def test_a_draft_comes_back_exactly_after_a_restart(path):
    with Journal(path) as journal:
        store, draft = _draft(journal)
        store.update_settings(ALICE, draft, region="SE", mapping={"first_name": "Fornavn"})
        store.add_change(
            ALICE, draft.id, Change("Fornavn on row 6", (CellEdit(6, "Fornavn", "", "Kari"),))
        )

    with Journal(path) as journal:  # a new process: only the file is left
        store = DraftStore(journal)
        again = store.get(ALICE, draft.id)
        assert again.settings.step is Step.CHECK
        assert (again.settings.region, again.settings.mapping) == ("SE", {"first_name": "Fornavn"})
        assert again.settings.header_row == 4 and again.settings.sheet_name == "Mottakere"
        assert [c.label for c in again.changes] == ["Fornavn on row 6"]
        assert again.changes[0].edits == (CellEdit(6, "Fornavn", "", "Kari"),)
        assert store.source(ALICE, draft.id) == messy_workbook()


def test_another_users_draft_cannot_be_seen_or_touched_but_an_admin_can(path):
    with Journal(path) as journal:
        store, draft = _draft(journal)
        with pytest.raises(NotFound):
            store.get(BOB, draft.id)
        with pytest.raises(NotFound):
            store.source(BOB, draft.id)
        with pytest.raises(NotFound):
            store.rename(BOB, draft.id, "mine now")
        with pytest.raises(NotFound):
            store.delete(BOB, draft.id)
        assert store.drafts(BOB) == []
        assert [d.id for d in store.drafts(ALICE)] == [draft.id]
        assert [d.id for d in store.drafts(ADMIN)] == [draft.id]
        assert store.get(ADMIN, draft.id).name == "kunder.xlsx"


def test_changes_are_undone_one_at_a_time(path):
    with Journal(path) as journal:
        store, draft = _draft(journal)
        for n in (1, 2):
            store.add_change(
                ALICE, draft.id, Change(f"fix {n}", (CellEdit(5, "Fornavn", "", str(n)),))
            )
        assert store.undo(ALICE, draft.id).label == "fix 2"
        assert [c.label for c in store.get(ALICE, draft.id).changes] == ["fix 1"]
        assert store.undo(ALICE, draft.id).label == "fix 1"
        assert store.undo(ALICE, draft.id) is None


def test_a_draft_can_be_renamed_and_deleted(path):
    with Journal(path) as journal:
        store, draft = _draft(journal)
        store.rename(ALICE, draft.id, "  Høstkampanje   kunder ")
        assert store.get(ALICE, draft.id).name == "Høstkampanje kunder"
        with pytest.raises(InputError):
            store.rename(ALICE, draft.id, "   ")
        store.delete(ALICE, draft.id)
        with pytest.raises(NotFound):
            store.get(ALICE, draft.id)


def test_drafts_past_the_retention_are_purged_with_their_file(path, monkeypatch):
    with Journal(path) as journal:
        store, old = _draft(journal)
        later = drafts_module._now()
        monkeypatch.setattr(drafts_module, "_now", lambda: "2026-01-01T00:00:00+00:00")
        store.rename(ALICE, old.id, "old")  # last changed long ago
        monkeypatch.setattr(drafts_module, "_now", lambda: later)
        _, fresh = _draft(journal)
        assert store.purge(30) == 1
        assert [d.id for d in store.drafts(ALICE)] == [fresh.id]
        with journal.reading() as db:
            assert db.execute("SELECT count(*) FROM drafts").fetchone()[0] == 1


def test_saved_mappings_belong_to_their_user(path):
    with Journal(path) as journal:
        saved = SavedMappings(journal)
        saved.save(ALICE, "spring", {"first_name": "Fornavn"})
        assert saved.load(ALICE, "spring") == {"first_name": "Fornavn"}
        assert saved.load(BOB, "spring") is None


EMPTY = {
    "first_name": None, "last_name": None, "email": None, "phone": None, "customer_id": None,
    "extra_args": {"kjonn": "Kjønn"},
}  # fmt: skip


def test_a_mapping_that_maps_no_field_is_never_remembered(path):
    """Every box empty, as a page caught half-way once stored it: the next sheet for the
    target would start from nothing, and an empty mapping fits every sheet."""
    with Journal(path) as journal:
        saved = SavedMappings(journal)
        saved.save(ALICE, "spring", {"first_name": "Fornavn"})
        assert saved.save(ALICE, "spring", EMPTY) is False
        assert saved.save(ALICE, "spring", {"first_name": 7}) is False  # not a mapping
        assert saved.load(ALICE, "spring") == {"first_name": "Fornavn"}  # the one before stays
        assert saved.save(ALICE, "autumn", EMPTY) is False
        assert saved.load(ALICE, "autumn") is None


def test_an_empty_mapping_remembered_before_is_not_given_back(path):
    with Journal(path) as journal:
        with journal.writing() as db:  # as an earlier version stored it
            db.execute(
                "INSERT INTO saved_mappings (user_id, target, mapping) VALUES (?, ?, ?)",
                (ALICE.id, "spring", json.dumps(EMPTY)),
            )
        assert SavedMappings(journal).load(ALICE, "spring") is None


def test_a_journal_of_version_0_1_is_upgraded_and_keeps_its_history(path):
    legacy = sqlite3.connect(path)
    legacy.executescript(
        """
        CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, file_name TEXT NOT NULL,
            file_sha256 TEXT NOT NULL, campaign TEXT NOT NULL, target TEXT NOT NULL,
            batch_size INTEGER NOT NULL, created_at TEXT NOT NULL, finished_at TEXT,
            state TEXT NOT NULL DEFAULT 'pending', stop_reason TEXT NOT NULL DEFAULT '',
            owner TEXT, heartbeat_at TEXT);
        CREATE TABLE receivers (job_id INTEGER NOT NULL, row INTEGER NOT NULL, payload TEXT,
            has_customer_id INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,
            batch_id INTEGER, maybe_stored INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (job_id, row)) WITHOUT ROWID;
        INSERT INTO jobs (file_name, file_sha256, campaign, target, batch_size, created_at, state)
            VALUES ('gammel.xlsx', 'abc', 'spring', 'sandbox', 100, '2026-11-01T10:00:00+00:00',
                    'finished');
        INSERT INTO receivers (job_id, row, payload, status) VALUES (1, 2, '{}', 'created');
        """
    )
    legacy.commit()
    legacy.close()

    with Journal(path) as journal:
        jobs = journal.jobs()
        assert [(j.file_name, j.user_id, j.counts["created"]) for j in jobs] == [
            ("gammel.xlsx", "", 1)
        ]
        with journal.reading() as db:
            assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        _draft(journal)  # the new tables are there


def test_a_changed_setting_does_not_write_the_file_again(path):
    """Every step and every typed campaign stores the draft's settings; with the file in the
    same row, each wrote the whole workbook again (11 MB for a 5 MB file)."""
    big = bytes(range(256)) * 8192  # 2 MB that do not compress
    with Journal(path) as journal:
        store = DraftStore(journal)
        draft = store.create(ALICE, "big.xlsx", big, Settings(step=Step.UPLOAD))
        other = sqlite3.connect(path)
        other.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the log starts empty
        other.close()
        wal = path.with_name(path.name + "-wal")
        before = wal.stat().st_size
        for step, target in [(Step.MAP, "s"), (Step.MAP, "spring"), (Step.CHECK, "spring")]:
            draft = store.update_settings(ALICE, draft, step=step, target=target)
        assert wal.stat().st_size - before < 200_000
        assert store.source(ALICE, draft.id) == big


def test_a_journal_of_version_2_keeps_its_drafts_files(path):
    from seen_core.store.database import MIGRATIONS, SCHEMA

    old = sqlite3.connect(path)
    for script in (SCHEMA, MIGRATIONS[2]):
        old.executescript(script)
    old.execute(
        "INSERT INTO drafts VALUES ('d1', ?, 'kunder.xlsx', 'kunder.xlsx', 'abc', ?, ?, 't', 't')",
        (ALICE.id, b"the file", Settings(step=Step.MAP).to_json()),
    )
    old.execute("PRAGMA user_version = 2")
    old.commit()
    old.close()

    with Journal(path) as journal:
        store = DraftStore(journal)
        assert store.source(ALICE, "d1") == b"the file"
        assert store.get(ALICE, "d1").settings.step == Step.MAP
        with journal.reading() as db:
            columns = [r[1] for r in db.execute("PRAGMA table_info(drafts)")]
        assert "source" not in columns
        store.delete(ALICE, "d1")
        with journal.reading() as db:
            assert db.execute("SELECT count(*) FROM draft_sources").fetchone()[0] == 0


@pytest.mark.parametrize("version", [5, 6])
def test_a_journal_of_an_earlier_release_keeps_its_drafts_and_takes_a_language(path, version):
    """One release wrote schema 6 with the undone changes and no languages; the next wrote 5
    with both. Either opens, keeps its drafts and their undone changes, and remembers a
    user's language."""
    from seen_core.store.languages import save_language, saved_language

    with Journal(path) as journal:
        _store, draft = _draft(journal)
    old = sqlite3.connect(path)
    if version == 6:  # as that release made it: no table of languages
        old.execute("DROP TABLE user_languages")
    old.execute("INSERT INTO draft_undone VALUES (?, 1, 'Fix', '[]')", (draft.id,))
    old.execute(f"PRAGMA user_version = {version}")
    old.commit()
    old.close()

    with Journal(path) as journal:
        assert DraftStore(journal).get(ALICE, draft.id).name == draft.name
        with journal.reading() as db:
            assert [r[0] for r in db.execute("SELECT label FROM draft_undone")] == ["Fix"]
            assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        save_language(journal, ALICE, "nb")
        assert saved_language(journal, ALICE) == "nb"


def test_a_damaged_journal_is_one_sentence(path):
    with Journal(path) as journal:
        _draft(journal)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(JournalError) as refused:
        Journal(path)
    message = str(refused.value)
    assert "damaged" in message and "\n" not in message


def test_a_journal_from_a_newer_version_is_refused(path):
    with Journal(path):
        pass
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(JournalError, match="newer"):
        Journal(path)
