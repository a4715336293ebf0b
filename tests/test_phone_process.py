"""A big sheet's phone numbers checked in a second process: the same answer as here, always."""

from __future__ import annotations

import array
import json
from pathlib import Path

import pytest
from builders import messy_workbook
from cli_runner import run_cli

from seen_core.check import phone_process
from seen_core.check.contact import phones_not_valid
from seen_core.check.phone_process import PhoneProcess

# Numbers as a CRM exports them: stored as numbers, written with spaces, foreign, one digit
# short, not numbers at all.
SHAPES = ("{n}", "+47 {n}", "{short}", "+46 70 {n}", "+4 {short}", "ring meg", "")
NUMBERS = [
    SHAPES[i % len(SHAPES)].format(n=90_000_000 + 7 * i, short=9_000_000 + i)
    for i in range(2 * phone_process.ELSEWHERE_FROM)
]


def test_a_big_column_is_checked_in_the_second_process_with_the_same_answer():
    expected = phones_not_valid(NUMBERS, "NO")
    assert 0 < len(expected) < len(NUMBERS)
    with PhoneProcess() as elsewhere:
        answer = elsewhere.not_valid(NUMBERS, "NO")
        assert answer() == expected
        assert elsewhere.answered


def test_a_small_column_is_checked_here_and_the_process_ends():
    with PhoneProcess() as elsewhere:
        process = elsewhere._process
        assert elsewhere.not_valid(["91234567", "123"], "NO")() == [1]
        assert not elsewhere.answered
        assert process is not None and process.poll() is not None


def test_a_process_that_ends_without_answering_leaves_the_answer_to_this_one():
    with PhoneProcess() as elsewhere:
        process = elsewhere._process
        assert process is not None
        process.kill()
        process.wait()
        assert elsewhere.not_valid(NUMBERS, "SE")() == phones_not_valid(NUMBERS, "SE")
        assert not elsewhere.answered


@pytest.mark.parametrize(
    "positions",
    [[3, 1], [0, 0], [0, len(NUMBERS)]],
    ids=["not-ascending", "twice", "past-the-end"],
)
def test_an_answer_that_cannot_be_right_is_not_taken(positions: list[int]):
    assert phone_process._decoded(array.array("I", positions).tobytes(), len(NUMBERS)) is None
    assert phone_process._decoded(b"\x01\x02\x03", len(NUMBERS)) is None  # half a position
    assert phone_process._decoded(array.array("I", [1, 5]).tobytes(), len(NUMBERS)) == [1, 5]


def test_the_second_process_is_given_no_token(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SEEN_API_TOKEN", "secret-token-for-test")
    monkeypatch.setenv("SEEN_API_TOKEN_SPRING", "another-secret")
    with PhoneProcess() as elsewhere:
        process = elsewhere._process
        assert process is not None
        environment = Path(f"/proc/{process.pid}/environ")
        if not environment.exists():
            pytest.skip("no /proc here to read a process's environment from")
        seen = environment.read_bytes()
    assert b"secret" not in seen
    assert b"SEEN_" not in seen


def test_validate_of_a_big_file_checks_its_numbers_elsewhere_and_prints_the_same(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    path = tmp_path / "mottakere.xlsx"
    path.write_bytes(messy_workbook())
    alone = run_cli("validate", path, "--json")
    started: list[PhoneProcess] = []
    starting = PhoneProcess.__init__

    def start(self: PhoneProcess) -> None:
        starting(self)
        started.append(self)

    monkeypatch.setattr(PhoneProcess, "__init__", start)
    monkeypatch.setattr("seen_core.cli.options.WORTH_STARTING_BYTES", 0)  # a small file as big
    monkeypatch.setattr(phone_process, "ELSEWHERE_FROM", 1)
    beside = run_cli("validate", path, "--json")
    assert beside.returncode == alone.returncode == 1
    assert json.loads(beside.stdout) == json.loads(alone.stdout)
    assert any(p["code"] == "phone_invalid" for p in json.loads(beside.stdout)["problems"])
    assert [p.answered for p in started] == [True]
