"""`python -m seen_core send` as a user runs it, against the sandbox over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from seen_core.sandbox import Sandbox
from tests.builders import big_workbook, messy_workbook
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parent.parent
CAMPAIGN = "spring-campaign"
TOKEN = "tok-Hemmelig-9f3b2c71d0"  # distinctive, so a leak anywhere is found by a plain search


@pytest.fixture
def seen(tmp_path):
    with Sandbox(token=TOKEN, campaigns={CAMPAIGN}) as running:
        yield running


def _env(tmp_path: Path, token: str | None = TOKEN) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEN_")}
    env["SEEN_DATA_DIR"] = str(tmp_path / "data")
    if token is not None:
        env["SEEN_API_TOKEN"] = token
    return env


def _send(tmp_path: Path, sandbox: Sandbox, file: Path, *extra: str, token: str | None = TOKEN):
    env = {k: v for k, v in _env(tmp_path, token).items() if k.startswith("SEEN_")}
    return run_cli(
        "send", file, "--campaign", CAMPAIGN, "--base-url", sandbox.url, "--rate", "0", *extra,
        env=env,
    )  # fmt: skip


@pytest.fixture
def messy(tmp_path) -> Path:
    path = tmp_path / "kunder.xlsx"
    path.write_bytes(messy_workbook())
    return path


def test_send_creates_the_valid_rows_and_reports_every_row(tmp_path, seen, messy):
    report = tmp_path / "sent.xlsx"
    done = _send(tmp_path, seen, messy, "--json", "--report", str(report))

    assert done.returncode == 1, done.stderr  # some rows were invalid
    result = json.loads(done.stdout)
    assert (result["created"], result["invalid"], result["not_sent"]) == (1, 6, 0)
    statuses = {r["row"]: r["status"] for r in result["rows"]}
    assert statuses == {5: "created", 6: "invalid", 7: "invalid", 9: "invalid", 10: "invalid",
                        11: "invalid", 12: "invalid"}  # fmt: skip
    stored = seen.received(CAMPAIGN)
    assert [(r["first_name"], r["phone"], r["customer_id"]) for r in stored] == [
        ("Ola", "+4745860321", "100")
    ]
    sheet = openpyxl.load_workbook(report)["Mottakere"]  # the user's own workbook
    header = [c.value for c in sheet[4]]
    status_col = header.index("SEEN status") + 1
    assert sheet.cell(5, status_col).value == "Created"
    assert sheet.cell(6, status_col).value == "Needs fixing"


def test_a_file_already_sent_is_refused_unless_forced(tmp_path, seen, messy):
    assert _send(tmp_path, seen, messy).returncode == 1
    again = _send(tmp_path, seen, messy)
    assert again.returncode == 2
    assert "already sent" in again.stderr and "Traceback" not in again.stderr
    assert len(seen.received(CAMPAIGN)) == 1

    forced = _send(tmp_path, seen, messy, "--force", "--json")
    result = json.loads(forced.stdout)
    assert result["rejected"] == 1  # SEEN keeps customer_id unique: nothing is stored twice
    assert "A receiver with this ID already exists." in json.dumps(result["rows"])
    assert len(seen.received(CAMPAIGN)) == 1


@pytest.mark.parametrize(
    ("token", "campaign", "reason"),
    [("wrong-token", CAMPAIGN, "refused the token"), (TOKEN, "no-such-campaign", "not found")],
)
def test_a_refused_token_or_unknown_campaign_stops_at_once(tmp_path, seen, token, campaign, reason):
    people = tmp_path / "people.xlsx"
    people.write_bytes(big_workbook(40))
    done = run_cli(
        "send", people, "--campaign", campaign, "--base-url", seen.url, "--batch-size", "10",
        "--json", env=_env(tmp_path, token),
    )  # fmt: skip
    assert done.returncode == 3
    assert reason in done.stderr
    assert json.loads(done.stdout)["not_sent"] == 40
    assert seen.campaigns() == {} or sum(seen.campaigns().values()) == 0
    assert len(seen.requests_log) == 1  # nothing more was tried after the first refusal


def test_without_a_token_the_send_asks_for_one(tmp_path, seen, messy):
    done = _send(tmp_path, seen, messy, token=None)
    assert done.returncode == 2
    assert "SEEN_API_TOKEN" in done.stderr and "Traceback" not in done.stderr
    assert seen.requests_log == []


def test_dry_run_sends_nothing(tmp_path, seen, messy):
    done = _send(tmp_path, seen, messy, "--dry-run")
    assert done.returncode == 1
    assert "1 receivers would be sent" in done.stdout
    assert seen.requests_log == []


def test_a_send_killed_midway_is_resumed_and_nobody_is_stored_twice(tmp_path):
    people = tmp_path / "people.xlsx"
    people.write_bytes(big_workbook(400))
    with Sandbox(token=TOKEN, campaigns={CAMPAIGN}, latency=0.05) as seen:
        process = subprocess.Popen(
            [sys.executable, "-m", "seen_core", "send", str(people), "--campaign", CAMPAIGN,
             "--base-url", seen.url, "--batch-size", "10", "--rate", "0"],
            cwd=ROOT, env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while len(seen.received(CAMPAIGN)) < 50 and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert 0 < len(seen.received(CAMPAIGN)) < 400, "the kill came too late to test anything"

        refused = _send(tmp_path, seen, people)
        assert refused.returncode == 2 and "--resume" not in refused.stdout

        resumed = _send(tmp_path, seen, people, "--resume", "--json")
        assert resumed.returncode == 0, resumed.stderr
        assert json.loads(resumed.stdout)["created"] == 400

        ids = Counter(r["customer_id"] for r in seen.received(CAMPAIGN))
        assert len(ids) == 400 and max(ids.values()) == 1


def test_the_token_never_appears_in_output_report_or_journal(tmp_path, seen, messy):
    report = tmp_path / "sent.xlsx"
    outputs = [_send(tmp_path, seen, messy, "--report", str(report))]
    outputs.append(_send(tmp_path, seen, messy, "--json", "--force"))
    outputs.append(_send(tmp_path, seen, messy, "--force", token=TOKEN + "x"))  # refused token

    for done in outputs:
        assert TOKEN not in done.stdout and TOKEN not in done.stderr
    assert TOKEN.encode() not in report.read_bytes()
    data_files = list((tmp_path / "data").iterdir())
    assert any(f.name.startswith("journal") for f in data_files)
    for path in data_files:
        assert TOKEN.encode() not in path.read_bytes(), path.name


def test_a_send_purges_sends_older_than_the_retention(tmp_path, seen, messy, monkeypatch):
    from datetime import timedelta

    from seen_core.store import journal as journal_module

    data = tmp_path / "data"
    data.mkdir()
    real_now = journal_module._now()
    monkeypatch.setattr(journal_module, "_now", lambda: real_now - timedelta(days=31))
    with journal_module.Journal(data / "journal.sqlite3") as old:
        plan = journal_module.SendPlan(
            "old.xlsx", "0" * 64, CAMPAIGN, seen.url, 10, [(2, {"first_name": "Gammel"})], {}
        )
        job_id = old.plan_job(plan)
        old.release(old.claim(job_id), "finished")
    monkeypatch.undo()

    assert _send(tmp_path, seen, messy).returncode == 1
    with journal_module.Journal(data / "journal.sqlite3") as journal:
        assert [j.file_name for j in journal.jobs()] == ["kunder.xlsx"]


def test_a_progress_bar_goes_to_stderr_only_when_it_is_a_terminal(tmp_path, seen, messy):
    import pty

    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "seen_core", "send", str(messy), "--campaign", CAMPAIGN,
             "--base-url", seen.url, "--rate", "0"],
            cwd=ROOT, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=follower, timeout=60,
        )  # fmt: skip
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal is closed once all is read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert done.returncode == 1
    assert b"[" in shown and b"1/1" in shown and b"created 1" in shown
    assert b"created 1" not in done.stdout.split(b"\n")[0]  # the bar is not in the output
    piped = _send(tmp_path, seen, messy, "--force")
    assert "1/1" not in piped.stderr


def test_a_base_url_with_a_login_is_refused_before_anything_is_journalled(tmp_path, messy):
    done = run_cli(
        "send", messy, "--campaign", CAMPAIGN, "--base-url", "http://user:hemmelig@127.0.0.1:9",
        env=_env(tmp_path),
    )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "hemmelig" not in done.stderr
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())


def test_the_sandbox_command_serves_its_campaigns_until_ctrl_c(tmp_path):
    import socket
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "seen_core", "sandbox", "--port", str(port), "--token", TOKEN,
         "--campaign", "alpha", "beta"],
        cwd=ROOT, env=_env(tmp_path, None), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert f"http://127.0.0.1:{port}" in server.stdout.readline()

        def post(campaign: str) -> int:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/v1/campaigns/{campaign}/receivers/",
                data=b'[{"first_name": "Kari"}]',
                headers={"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    return answer.status
            except urllib.error.HTTPError as error:
                return error.code

        assert post("beta") == 201
        assert post("gamma") == 404
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=20)
    assert server.returncode == 0
    assert "Traceback" not in stderr


def test_two_sends_of_the_same_file_started_at_once_store_each_person_once(tmp_path):
    """Two shells press Enter at the same moment: one send runs, the other is refused."""
    people = tmp_path / "people.xlsx"
    people.write_bytes(big_workbook(60))
    for attempt in range(3):
        data = tmp_path / f"data-{attempt}"
        with Sandbox(token=TOKEN, campaigns={CAMPAIGN}, latency=0.01) as seen:
            env = {**_env(tmp_path), "SEEN_DATA_DIR": str(data)}
            command = [sys.executable, "-m", "seen_core", "send", str(people), "--campaign",
                       CAMPAIGN, "--base-url", seen.url, "--rate", "0", "--json"]  # fmt: skip
            both = [
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(2)
            ]
            done = [(p.wait(timeout=120), *p.communicate()) for p in both]
            stored = Counter(r["customer_id"] for r in seen.received(CAMPAIGN))
        assert len(stored) == 60 and max(stored.values()) == 1, f"attempt {attempt}"
        codes = sorted(code for code, _out, _err in done)
        # Either the second is refused, or it found the first's send not yet started, took it
        # over once the first let go, and had nothing left to send: never a second send.
        assert codes in ([0, 2], [0, 0]), done
        for code, _out, err in done:
            assert "Traceback" not in err
            if code == 2:
                assert "already" in err or "being sent" in err
