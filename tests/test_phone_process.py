"""A big sheet's phone numbers checked in a second process: the same answer as here, always."""

from __future__ import annotations

import array
import json
import pickle
from pathlib import Path

import openpyxl
import pytest
from builders import messy_workbook
from cli_runner import run_cli

from seen_core.check import phone_process
from seen_core.check.contact import PhonesChecked, phones_checked
from seen_core.check.phone_process import PhoneProcess

# Numbers as a CRM exports them: stored as numbers, written with spaces, foreign, one digit
# short, the country code twice, not numbers at all.
SHAPES = ("{n}", "+47 {n}", "{short}", "+46 70 {n}", "+4 {short}", "+47 47{n}", "ring meg", "")
NUMBERS = [
    SHAPES[i % len(SHAPES)].format(n=90_000_000 + 7 * i, short=9_000_000 + i)
    for i in range(2 * phone_process.ELSEWHERE_FROM)
]


def test_a_big_column_is_checked_in_the_second_process_with_the_same_answer():
    expected = phones_checked(NUMBERS, "NO")
    assert 0 < len(expected.not_valid) < len(NUMBERS)
    assert any(expected.fixes) and not all(expected.fixes)  # "+4 9000001": no fix
    assert "+4790000000" in expected.e164 and "" in expected.e164
    with PhoneProcess() as elsewhere:
        answer = elsewhere.checked(NUMBERS, "NO")
        assert answer() == expected  # the numbers not valid, their fixes, the E.164 forms
        assert elsewhere.answered


def test_a_small_column_is_checked_here_and_the_process_ends():
    with PhoneProcess() as elsewhere:
        process = elsewhere._process
        found = elsewhere.checked(["91234567", "123"], "NO")()
        assert found == PhonesChecked([1], [""], ["+4791234567", ""])
        assert not elsewhere.answered
        assert process is not None and process.poll() is not None


def test_a_process_that_ends_without_answering_leaves_the_answer_to_this_one():
    with PhoneProcess() as elsewhere:
        process = elsewhere._process
        assert process is not None
        process.kill()
        process.wait()
        assert elsewhere.checked(NUMBERS, "SE")() == phones_checked(NUMBERS, "SE")
        assert not elsewhere.answered


@pytest.mark.parametrize(
    "positions",
    [[3, 1], [0, 0], [0, 4]],
    ids=["not-ascending", "twice", "past-the-end"],
)
def test_an_answer_that_cannot_be_right_is_not_taken(positions: list[int]):
    def answer(positions: list[int], fixes: str = "", forms: str = "\n" * 3) -> bytes:
        packed = array.array("I", positions).tobytes()
        return pickle.dumps((packed, "\n".join([fixes] * len(positions)), forms))

    assert phone_process._decoded(answer(positions), 4) is None
    assert phone_process._decoded(answer([1, 2])[:-5], 4) is None  # cut short
    assert phone_process._decoded(answer([1, 2], forms="\n"), 4) is None  # forms missing
    assert phone_process._decoded(answer([1, 2]), 4) == PhonesChecked([1, 2], ["", ""], [""] * 4)
    good = phone_process._encoded(phones_checked(NUMBERS[:40], "NO"))
    assert phone_process._decoded(good, 40) == phones_checked(NUMBERS[:40], "NO")


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
    alone = run_cli("validate", path, "--json", "--report", tmp_path / "alone.xlsx")
    started: list[PhoneProcess] = []
    starting = PhoneProcess.__init__

    def start(self: PhoneProcess, **options: bool) -> None:
        starting(self, **options)
        started.append(self)

    monkeypatch.setattr(PhoneProcess, "__init__", start)
    found_rows = rows_found_watched(monkeypatch)
    monkeypatch.setattr("seen_core.cli.options.WORTH_STARTING_BYTES", 0)  # a small file as big
    monkeypatch.setattr(phone_process, "ELSEWHERE_FROM", 1)
    beside = run_cli("validate", path, "--json", "--report", tmp_path / "beside.xlsx")
    assert beside.returncode == alone.returncode == 1
    assert json.loads(beside.stdout) == json.loads(alone.stdout)
    problems = json.loads(beside.stdout)["problems"]
    assert any(p["code"] == "phone_invalid" for p in problems)
    assert [p.answered for p in started] == [True]
    # The same process found where the report's rows are (no child forked for it).
    assert len(found_rows) == 1 and isinstance(found_rows[0], dict)
    assert found_rows[0]["part"] == "xl/worksheets/sheet2.xml"
    # The report says the same, its phone numbers as sent (E.164) the second process's.
    sheets = [people_rows(tmp_path / f"{n}.xlsx") for n in ("alone", "beside")]
    assert sheets[0] == sheets[1]
    header = sheets[1][3]
    sent = [row[header.index("Mobil (sent as)")] for row in sheets[1][4:]]
    assert "+4745860321" in sent


def test_rows_are_not_taken_from_a_file_changed_since_it_was_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    """The second process reads the file again to find the report's rows: when it is not the
    file read here any more, its answer is none and the report finds the rows itself, in the
    very bytes that were read and checked."""
    from seen_core.cli import options

    path = tmp_path / "mottakere.xlsx"
    path.write_bytes(messy_workbook())
    alone = run_cli("validate", path, "--report", tmp_path / "alone.xlsx")
    monkeypatch.setattr("seen_core.cli.options.WORTH_STARTING_BYTES", 0)
    monkeypatch.setattr(phone_process, "ELSEWHERE_FROM", 1)
    reading = options.read_sheet

    def read_then_change(args: object) -> object:
        sheet = reading(args)  # type: ignore[arg-type]
        path.write_bytes(b"PK changed since it was read")
        return sheet

    monkeypatch.setattr(options, "read_sheet", read_then_change)
    found_rows = rows_found_watched(monkeypatch)
    changed = run_cli("validate", path, "--report", tmp_path / "changed.xlsx")
    assert changed.returncode == alone.returncode == 1
    assert found_rows == [None]
    sheets = [people_rows(tmp_path / f"{n}.xlsx") for n in ("alone", "changed")]
    assert sheets[0] == sheets[1]


def rows_found_watched(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """What the second process answered each time a report asked where its rows are."""
    answers: list[object] = []
    finding = phone_process.RowsFound.result

    def found(self: phone_process.RowsFound) -> object:
        answers.append(finding(self))
        return answers[-1]

    monkeypatch.setattr(phone_process.RowsFound, "result", found)
    return answers


def people_rows(report: Path) -> list[tuple[object, ...]]:
    return list(openpyxl.load_workbook(report)["Mottakere"].iter_rows(values_only=True))
