"""A journal that cannot be used: a full disk, a journal another program holds, a read-only
folder and a damaged file each get their own sentence, and nothing is lost or sent twice.

These use a real tmpfs of 2 MB (`small_disk`, root only) and a real SQLite lock held by
another process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from builders import big_workbook
from test_app import XLSX, new_app, plain

from seen_core.errors import JournalDamaged, JournalFull, JournalUnwritable
from seen_core.sandbox import Sandbox
from seen_core.store.journal import Journal, SendPlan
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parent.parent
CAMPAIGN = "spring-campaign"
TOKEN = "tok-Hemmelig-5d1e0a"


def _people(rows: range, name: str = "Person") -> list[tuple[int, dict]]:
    return [(row, {"first_name": f"{name} {row}", "customer_id": f"c{row}"}) for row in rows]


def _plan(journal: Journal, people: list[tuple[int, dict]], sha: str = "a" * 64) -> int:
    return journal.plan_job(SendPlan("people.xlsx", sha, CAMPAIGN, "sandbox", 10, people, {}))


def _says_only(sentence: str, *words: str) -> None:
    """One sentence that says what it is, never another trouble's advice."""
    assert all(word in sentence for word in words), sentence
    assert "Traceback" not in sentence
    others = {"full", "busy", "damaged", "cannot be written", "move it aside"} - set(words)
    assert not any(word in sentence for word in others), sentence


# -- the journal itself -----------------------------------------------------------------------


def test_a_full_disk_is_said_plainly_and_the_journal_keeps_what_it_had(small_disk):
    journal = Journal(small_disk.path / "journal.sqlite3")
    earlier = _plan(journal, _people(range(2, 12)))
    small_disk.fill()

    with pytest.raises(JournalFull) as refused:
        _plan(journal, _people(range(2, 5002), "Someone with a rather long name"), sha="b" * 64)

    _says_only(str(refused.value), "full")
    small_disk.free()
    assert [job.id for job in journal.jobs()] == [earlier]  # nothing half-written
    assert len(journal.outcomes(earlier)) == 10
    later = _plan(journal, _people(range(2, 5002)), sha="b" * 64)  # and it goes on with room
    assert len(journal.outcomes(later)) == 5000


def test_a_read_only_data_folder_is_not_called_damaged(small_disk):
    Journal(small_disk.path / "journal.sqlite3").close()
    small_disk.read_only()

    with pytest.raises(JournalUnwritable) as refused:
        Journal(small_disk.path / "journal.sqlite3")

    _says_only(str(refused.value), "cannot be written")


def test_only_a_damaged_journal_is_to_be_moved_aside(tmp_path):
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"This is not a journal. " * 400)

    with pytest.raises(JournalDamaged) as refused:
        Journal(path)

    _says_only(str(refused.value), "damaged", "move it aside")


LOCKS = {
    # another program in the middle of a long write
    "a write": "db.execute('BEGIN IMMEDIATE')",
    # another program that keeps the file to itself
    "exclusive": "db.execute('PRAGMA locking_mode = EXCLUSIVE'); db.execute('BEGIN EXCLUSIVE')",
}


def _hold_lock(path: Path, how: str) -> subprocess.Popen:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            f"db = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
            f"{how}\n"
            "print('held', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


@pytest.mark.parametrize("lock", LOCKS)
def test_a_journal_held_by_another_program_is_busy_and_the_send_waits_for_nothing(
    tmp_path, lock, monkeypatch
):
    data = tmp_path / "data"
    Journal(data / "journal.sqlite3").close()
    people = tmp_path / "people.xlsx"
    people.write_bytes(big_workbook(30))
    env = {"SEEN_DATA_DIR": str(data), "SEEN_API_TOKEN": TOKEN, "SEEN_JOURNAL_BUSY_SECONDS": "1"}
    command = ("send", people, "--campaign", CAMPAIGN, "--rate", "0", "--json")
    with Sandbox(token=TOKEN, campaigns={CAMPAIGN}) as seen:
        holder = _hold_lock(data / "journal.sqlite3", LOCKS[lock])
        try:
            busy = run_cli(*command, "--base-url", seen.url, env=env)
        finally:
            holder.communicate("")  # the other program lets go

        assert busy.returncode == 2
        _says_only(busy.stderr, "busy")
        assert seen.received(CAMPAIGN) == []  # nothing goes out that was not journalled

        sent = run_cli(*command, "--base-url", seen.url, env=env)
        assert sent.returncode == 0, sent.stderr
        assert len(seen.received(CAMPAIGN)) == 30


# -- a send that runs out of room --------------------------------------------------------------


def test_a_disk_filling_up_mid_send_stops_it_in_one_sentence_and_a_resume_sends_everyone_once(
    tmp_path, small_disk
):
    people = tmp_path / "people.xlsx"
    people.write_bytes(big_workbook(400))
    env = {"SEEN_DATA_DIR": str(small_disk.path / "data"), "SEEN_API_TOKEN": TOKEN}
    with Sandbox(token=TOKEN, campaigns={CAMPAIGN}, latency=0.1) as seen:
        command = [sys.executable, "-m", "seen_core", "send", str(people), "--campaign",
                   CAMPAIGN, "--base-url", seen.url, "--batch-size", "10"]  # fmt: skip
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**_plain_environment(), **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

        def fill_when_under_way() -> None:
            deadline = time.monotonic() + 60
            while len(seen.received(CAMPAIGN)) < 50 and time.monotonic() < deadline:
                time.sleep(0.005)
            small_disk.fill()

        filler = threading.Thread(target=fill_when_under_way)
        filler.start()
        _out, err = process.communicate(timeout=120)
        filler.join()
        stored_then = len(seen.received(CAMPAIGN))
        assert 0 < stored_then < 400, "the disk filled too late to test anything"

        assert process.returncode == 2, err
        _says_only(err, "full")

        small_disk.free()
        resumed = run_cli(
            "send", people, "--campaign", CAMPAIGN, "--base-url", seen.url, "--rate", "0",
            "--resume", "--json", env=env,
        )  # fmt: skip
        assert resumed.returncode == 0, resumed.stderr
        assert json.loads(resumed.stdout)["created"] == 400
        stored = Counter(r["customer_id"] for r in seen.received(CAMPAIGN))
        assert len(stored) == 400 and max(stored.values()) == 1


def _plain_environment() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("SEEN_")}


# -- the app ------------------------------------------------------------------------------------


def test_the_app_says_a_full_disk_on_the_page_and_keeps_the_draft(small_disk, monkeypatch):
    monkeypatch.setenv("SEEN_DATA_DIR", str(small_disk.path / "data"))
    at = new_app()
    at.button(key="demo").click().run()
    kept = at.session_state["work"].draft.id
    small_disk.fill()

    at.file_uploader(key="upload").set_value(("more.xlsx", big_workbook(50), XLSX)).run()

    assert not at.exception  # never Streamlit's error page
    said = [e.value for e in at.error if "full" in e.value]
    assert len(said) == 1, plain(at)
    _says_only(said[0], "full")
    small_disk.free()
    again = new_app(draft=kept)
    assert not again.exception
    assert again.session_state["work"].draft.id == kept
    assert again.session_state["work"].draft.file_name == "demo-receivers.xlsx"
