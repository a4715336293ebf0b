"""`send --workspace/--project` and `links` as a user runs them, against the sandbox over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from builders import messy_workbook
from cli_runner import run_cli

from seen_core.sandbox import Sandbox

TOKEN = "tok-to-Bearer-5d1c9e"
WORKSPACE = "ws-1"


@pytest.fixture
def seen():
    with Sandbox(token=TOKEN, workspaces={WORKSPACE}, projects={"p-9"}) as running:
        yield running


@pytest.fixture
def messy(tmp_path) -> Path:
    path = tmp_path / "kunder.xlsx"
    path.write_bytes(messy_workbook())
    return path


def env(tmp_path: Path, token: str = TOKEN) -> dict[str, str]:
    return {"SEEN_DATA_DIR": str(tmp_path / "data"), "SEEN_API_TOKEN": token}


def send(tmp_path, seen, file, *args, token: str = TOKEN):
    return run_cli(
        "send", file, *args, "--base-url", seen.url, "--rate", "0", "--json",
        env=env(tmp_path, token),
    )  # fmt: skip


def test_a_messy_workbook_sent_to_a_workspace_stores_each_valid_person_once_flat(
    tmp_path, seen, messy
):
    done = send(tmp_path, seen, messy, "--workspace", WORKSPACE)
    assert done.returncode == 1, done.stderr  # some rows need fixing
    result = json.loads(done.stdout)
    assert result["created"] == 1 and result["invalid"] == 6
    people = seen.people(f"workspace/{WORKSPACE}")
    assert len(people) == 1
    assert people[0]["id"] == "100"
    person = people[0]["values"]
    assert person["phone"] == "+4745860321" and person["first_name"] == "Ola"
    assert "extra_args" not in person and person["kjonn"] == "M"  # flat: properties at the top


def test_a_project_target_reaches_the_projects_data(tmp_path, seen, messy):
    assert send(tmp_path, seen, messy, "--project", "p-9").returncode == 1
    assert len(seen.people("project/p-9")) == 1
    assert seen.people(f"workspace/{WORKSPACE}") == []


@pytest.mark.parametrize(
    ("token", "workspace", "words"),
    [("wrong-token", WORKSPACE, "token"), (TOKEN, "no-such-ws", "not found")],
)
def test_a_wrong_token_or_unknown_workspace_stops_at_once(
    tmp_path, seen, messy, token, workspace, words
):
    done = send(tmp_path, seen, messy, "--workspace", workspace, token=token)
    assert done.returncode == 3
    assert words in done.stderr
    assert TOKEN not in done.stdout + done.stderr


def test_links_prints_and_writes_each_created_persons_video(tmp_path, seen, messy):
    assert send(tmp_path, seen, messy, "--workspace", WORKSPACE).returncode == 1
    report = tmp_path / "filmer.xlsx"
    done = run_cli(
        "links", messy, "--workspace", WORKSPACE, "--base-url", seen.url, "--json",
        "--report", report, env=env(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["rows"]
    assert [(r["row"], r["id"]) for r in rows] == [(5, "100")]
    assert rows[0]["player"].startswith("http")
    sheet = openpyxl.load_workbook(report)["Mottakere"]
    header = [c.value for c in sheet[4]]
    video = sheet.cell(5, header.index("Video") + 1)
    assert video.hyperlink is not None and video.hyperlink.target == rows[0]["player"]


def test_links_of_a_file_never_sent_is_one_sentence(tmp_path, seen, messy):
    done = run_cli(
        "links", messy, "--workspace", WORKSPACE, "--base-url", seen.url, env=env(tmp_path)
    )
    assert done.returncode == 2
    assert "has not been sent" in done.stderr and len(done.stderr.splitlines()) == 1


def test_validate_by_the_rules_of_2_0_requires_the_id(tmp_path):
    people = tmp_path / "folk.csv"
    people.write_text("Fornavn;E-post\nOla;ola@example.no\n", encoding="utf-8")
    assert run_cli("validate", people).returncode == 0
    done = run_cli("validate", people, "--workspace", WORKSPACE, "--json")
    assert done.returncode == 1
    codes = {(p["row"], p["code"], p["severity"]) for p in json.loads(done.stdout)["problems"]}
    assert (None, "customer_id_missing", "error") in codes


def test_a_damaged_journal_is_one_sentence_and_exit_2(tmp_path, seen, messy):
    data = tmp_path / "data"
    data.mkdir()
    (data / "journal.sqlite3").write_bytes(b"SQLite format 3\x00" + b"\x01" * 5000)
    done = send(tmp_path, seen, messy, "--workspace", WORKSPACE)
    assert done.returncode == 2
    assert "damaged" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
