"""`python -m seen_core inspect|validate` as scripts call it: the JSON contract and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from builders import HEADER, clean_workbook, csv_bytes, messy_workbook
from cli_runner import Done, run_cli

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str | Path) -> Done:
    return run_cli(*args)


def run_json(*args: str | Path) -> tuple[int, dict]:
    done = run(*args, "--json")
    assert done.stderr == ""
    return done.returncode, json.loads(done.stdout)


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    path = tmp_path / "kunder.xlsx"
    path.write_bytes(messy_workbook())
    return path


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    path = tmp_path / "klar.xlsx"
    path.write_bytes(clean_workbook())
    return path


# --- inspect -------------------------------------------------------------------------------------


def test_inspect_json_has_the_contract_shape(messy: Path):
    code, data = run_json("inspect", messy)
    assert code == 0
    assert data == {
        "sheets": ["Notater", "Mottakere"],
        "sheet": "Mottakere",
        "header_row": 4,
        "columns": HEADER,
        "rows": 7,
        "mapping": {
            "first_name": "Fornavn",
            "last_name": "Etternavn",
            "email": "E-post",
            "phone": "Mobil",
            "customer_id": "Kundenr",
            "extra_args": {"kjonn": "Kjønn", "antall_mil": "Antall mil", "bilde": "Bilde"},
        },
    }


def test_inspect_header_row_and_sheet_options(messy: Path):
    code, data = run_json("inspect", messy, "--sheet", "Mottakere", "--header-row", "2")
    assert code == 0
    assert (data["sheet"], data["header_row"], data["rows"]) == ("Mottakere", 2, 8)


def test_inspect_csv_has_no_sheets(tmp_path: Path):
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes([["First name", "Email"], ["Anna", "anna@example.com"]]))
    code, data = run_json("inspect", path)
    assert code == 0
    assert (data["sheets"], data["sheet"], data["header_row"], data["rows"]) == ([], None, 1, 1)
    assert data["mapping"]["extra_args"] == {}


def test_inspect_mapping_is_a_usable_mapping_file(messy: Path, tmp_path: Path):
    _, inspected = run_json("inspect", messy)
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps(inspected["mapping"]), encoding="utf-8")
    assert run_json("validate", messy, "--mapping", mapping) == run_json("validate", messy)


# --- validate ------------------------------------------------------------------------------------


def test_validate_json_on_the_messy_workbook(messy: Path):
    code, data = run_json("validate", messy)
    assert code == 1
    assert {k: data[k] for k in ("rows", "valid", "invalid", "warnings")} == {
        "rows": 7,
        "valid": 1,
        "invalid": 6,
        "warnings": 0,
    }
    assert [(p["row"], p["code"]) for p in data["problems"]] == [
        (6, "first_name_missing"),
        (7, "email_invalid"),
        (9, "customer_id_duplicate"),
        (10, "phone_invalid"),
        (11, "no_contact"),
        (12, "image_url_extension"),
    ]
    for problem in data["problems"]:
        assert set(problem) == {"row", "column", "field", "code", "severity", "message"}
        assert problem["severity"] == "error" and problem["message"]
    email = data["problems"][1]
    assert (email["column"], email["field"]) == ("E-post", "email")
    assert data["receivers"] == [
        {
            "row": 5,
            "payload": {
                "first_name": "Ola",
                "last_name": "Nordmann",
                "email": "ola@example.no",
                "phone": "+4745860321",
                "customer_id": "100",
                "extra_args": {
                    "kjonn": "M",
                    "antall_mil": "12",
                    "bilde": "https://img.example.com/ola.jpg",
                },
            },
        }
    ]


def test_validate_clean_file_exits_0(clean: Path):
    code, data = run_json("validate", clean)
    assert code == 0
    assert (data["valid"], data["invalid"], data["problems"]) == (3, 0, [])
    assert [r["payload"]["phone"] for r in data["receivers"]] == [
        "+4745860321",
        "+4745860322",
        "+46701234567",
    ]


def test_validate_text_output_exits_like_json(messy: Path):
    done = run("validate", messy)
    assert done.returncode == 1
    assert "email_invalid" in done.stdout
    assert done.stderr == ""


def test_no_delivery_turns_no_contact_into_a_warning(messy: Path):
    code, data = run_json("validate", messy, "--no-delivery")
    no_contact = [p for p in data["problems"] if p["code"] == "no_contact"]
    assert [(p["row"], p["severity"]) for p in no_contact] == [(11, "warning")]
    assert (data["valid"], data["warnings"]) == (2, 1)
    assert 11 in [r["row"] for r in data["receivers"]]
    assert code == 1


def test_region_reads_local_numbers(tmp_path: Path):
    path = tmp_path / "svenska.csv"
    path.write_bytes(csv_bytes([["Förnamn", "Mobil"], ["Sven", "0701234567"]]))
    code_no, in_norway = run_json("validate", path)
    code_se, in_sweden = run_json("validate", path, "--region", "se")
    assert (2, "phone_invalid") in [(p["row"], p["code"]) for p in in_norway["problems"]]
    assert in_sweden["receivers"][0]["payload"]["phone"] == "+46701234567"
    assert (code_no, code_se) == (1, 0)


def test_mapping_file_is_used(messy: Path, tmp_path: Path):
    mapping = tmp_path / "m.json"
    mapping.write_text(
        json.dumps(
            {"first_name": "Etternavn", "email": "E-post", "extra_args": {"km": "Antall mil"}}
        ),
        encoding="utf-8",
    )
    code, data = run_json("validate", messy, "--mapping", mapping)
    codes = [(p["row"], p["code"]) for p in data["problems"]]
    assert (None, "customer_id_missing") in codes
    assert (6, "first_name_missing") not in codes  # Etternavn is filled on row 6
    first = next(r["payload"] for r in data["receivers"] if r["row"] == 5)
    assert first == {
        "first_name": "Nordmann",
        "email": "ola@example.no",
        "extra_args": {"km": "12"},
    }
    assert code == 1


def test_mapping_file_naming_a_missing_column_makes_every_row_invalid(messy: Path, tmp_path: Path):
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"first_name": "Navn"}), encoding="utf-8")
    code, data = run_json("validate", messy, "--mapping", mapping)
    assert code == 1
    assert (data["valid"], data["invalid"], data["receivers"]) == (0, 7, [])
    assert (None, "column_not_found") in [(p["row"], p["code"]) for p in data["problems"]]


def test_validate_reads_a_csv_of_mixed_encodings_row_by_row(tmp_path: Path):
    path = tmp_path / "blandet.csv"
    path.write_bytes(
        b"Kundenr;Fornavn;E-post\r\n"
        + "1;Bjørn;bjorn@example.no\r\n".encode()
        + "2;Bjørn;bjorn2@example.no\r\n".encode("cp1252")
    )
    code, data = run_json("validate", path)
    assert (code, data["problems"]) == (0, [])
    assert [r["payload"]["first_name"] for r in data["receivers"]] == ["Bjørn", "Bjørn"]


def test_validate_flags_garbled_text_and_leaves_its_row_out(tmp_path: Path):
    path = tmp_path / "eksport.csv"
    path.write_bytes(
        csv_bytes(
            [
                ["Kundenr", "Fornavn", "E-post", "By"],
                ["1", "Bjørn", "bjorn@example.no", "Tromsø"],
                ["2", "BjÃ¸rn", "bjorn2@example.no", "Tromsø"],
                ["3", "Åse", "ase@example.no", "TromsÃ¸"],
            ],
            delimiter=";",
        )
    )
    code, data = run_json("validate", path)
    assert code == 1
    assert [(p["row"], p["column"], p["code"], p["severity"]) for p in data["problems"]] == [
        (3, "Fornavn", "text_mojibake", "error"),
        (4, "By", "text_mojibake", "error"),
    ]
    assert data["problems"][0]["message"] == (
        "'BjÃ¸rn' looks garbled by a wrong text encoding (probably 'Bjørn'): fix the file or "
        "the cell."
    )
    assert [r["row"] for r in data["receivers"]] == [2]
    assert (data["valid"], data["invalid"]) == (1, 2)


def test_validate_warns_of_a_formula_and_maps_customer_id_by_its_name(tmp_path: Path):
    path = tmp_path / "kunder.csv"
    path.write_bytes(
        csv_bytes(
            [
                ["id", "first_name", "customer_id", "phone", "Antall"],
                ["7", '=HYPERLINK("http://x","win")', "c1", "+4745860321", "-5"],
                ["8", "Kari", "c2", "+4745860322", "3"],
            ]
        )
    )
    code, data = run_json("validate", path)
    assert [(p["row"], p["column"], p["code"], p["severity"]) for p in data["problems"]] == [
        (2, "first_name", "text_formula", "warning"),
    ]
    assert (code, data["valid"], data["warnings"]) == (0, 2, 1)
    first = data["receivers"][0]["payload"]
    assert first == {
        "first_name": '=HYPERLINK("http://x","win")',
        "phone": "+4745860321",
        "customer_id": "c1",
        "extra_args": {"id": "7", "antall": "-5"},
    }


def test_the_command_line_starts_without_pandas_so_the_read_can_run_meanwhile():
    """The commands read their file while pandas and the checks load in a thread (calamine
    parses without the interpreter's lock): so starting the command line must not load them."""
    code = (
        "import sys, seen_core.cli; "
        "print(sorted(m for m in ('pandas', 'pyarrow', 'phonenumbers', 'seen_core.flow', "
        "'seen_core.check.checks') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("more", [[], ["--json"]], ids=["validate", "validate --json"])
def test_validate_checks_and_prints_without_ever_loading_pandas(messy: Path, more: list[str]):
    """Loading pandas takes longer than the check of 20,000 rows: a command that reads, checks
    and prints works on the sheet's text alone (the app's editor is what needs a DataFrame)."""
    code = (
        "import sys, contextlib, io, seen_core.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    code = seen_core.cli.main(['validate', {str(messy)!r}, *{more!r}])\n"
        "print(code, 'ready' in out.getvalue() or '\"receivers\"' in out.getvalue(), "
        "'pandas' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "True", "False"]


def test_validate_in_a_process_leaves_the_collector_as_it_found_it(messy: Path):
    import gc

    assert gc.isenabled()
    assert run("validate", messy).returncode == 1
    assert gc.isenabled()  # paused while the sheet is read and checked, not for the caller


# --- exit 2: one clear line, no traceback --------------------------------------------------------


def _bad_mapping(tmp_path: Path) -> Path:
    path = tmp_path / "m.json"
    path.write_text("{first_name: Fornavn}", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("make_args", "words"),
    [
        pytest.param(lambda tmp, good: [tmp / "borte.xlsx"], "borte.xlsx", id="missing-file"),
        pytest.param(
            lambda tmp, good: [_write(tmp / "skadet.xlsx", b"PK\x03\x04junk")],
            "skadet.xlsx",
            id="corrupt-file",
        ),
        pytest.param(
            lambda tmp, good: [good, "--mapping", _bad_mapping(tmp)], "JSON", id="mapping"
        ),
        pytest.param(lambda tmp, good: [good, "--region", "XX"], "XX", id="region"),
        pytest.param(lambda tmp, good: [good, "--header-row", "0"], "header-row", id="header-row"),
        pytest.param(lambda tmp, good: [good, "--sheet", "Nei"], "Nei", id="unknown-sheet"),
    ],
)
def test_unusable_input_exits_2_with_one_line(tmp_path: Path, clean: Path, make_args, words: str):
    done = run("validate", *make_args(tmp_path, clean), "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    assert words in lines[0]
    assert "Traceback" not in done.stderr


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- the report ----------------------------------------------------------------------------------


def test_validate_report_writes_the_annotated_workbook(tmp_path: Path):
    source = tmp_path / "kunder.csv"
    source.write_bytes(
        csv_bytes(
            [
                ["Fornavn", "E-post", "Notat"],
                ["Ola", "ola@example.no", "=1+2"],
                ["", "kari@example.no", "x"],
                ["Per", "per@@example", "@SUM(A1)"],
            ]
        )
    )
    out = tmp_path / "rapport.xlsx"
    done = run("validate", source, "--report", out)
    assert done.returncode == 1
    book = openpyxl.load_workbook(out)
    sheet = book.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(min_row=1, max_row=4, max_col=5, values_only=True)]
    assert rows[0] == ["Fornavn", "E-post", "Notat", "SEEN status", "SEEN message"]
    assert rows[1][:4] == ["Ola", "ola@example.no", "=1+2", "Ready"]
    assert rows[2][3] == "Needs fixing" and "First name" in rows[2][4]
    assert rows[3][3] == "Needs fixing" and "per@@example" in rows[3][4]
    formula_like = sheet.cell(row=2, column=3)
    assert (formula_like.value, formula_like.data_type) == ("=1+2", "s")
    assert sheet.cell(row=4, column=3).data_type == "s"


def test_a_report_that_cannot_be_written_is_one_sentence_and_exit_2(messy: Path, tmp_path: Path):
    """The report is written while the problems are printed: when it cannot be, the command
    says so in one sentence and ends with 2, after the problems (text) or instead of the JSON
    (a script must not read a result of a command that did not do all it was asked)."""
    out = tmp_path / "no-such-folder" / "rapport.xlsx"
    done = run("validate", messy, "--report", out)
    assert done.returncode == 2
    assert "phone_invalid" in done.stdout and "Report written" not in done.stdout
    assert done.stderr.count("\n") == 1 and "could not be written" in done.stderr
    as_json = run("validate", messy, "--report", out, "--json")
    assert as_json.returncode == 2 and as_json.stdout == ""
    assert "could not be written" in as_json.stderr
    assert not out.parent.exists()


def test_report_keeps_the_excel_row_numbers_of_the_messy_workbook(messy: Path, tmp_path: Path):
    out = tmp_path / "rapport.xlsx"
    assert run("validate", messy, "--report", out, "--json").returncode == 1
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[:2] == ["Notater", "Mottakere"]  # the user's own workbook
    sheet = book["Mottakere"]
    header = [c.value for c in sheet[4]]
    assert header[: len(HEADER) + 3] == [*HEADER, "SEEN status", "SEEN message", "Mobil (sent as)"]
    status = len(HEADER) + 1
    assert sheet.cell(row=5, column=status).value == "Ready"
    assert sheet.cell(row=5, column=5).value == 4745860321  # a number stays a number
    assert sheet.cell(row=5, column=status + 2).value == "+4745860321"
    assert oct(out.stat().st_mode & 0o777) == "0o600"  # it holds people's data
    assert sheet.cell(row=7, column=status).value == "Needs fixing"
    assert "per@@example" in sheet.cell(row=7, column=status + 1).value
    assert "row 5" in sheet.cell(row=9, column=status + 1).value


def test_output_cut_short_by_the_reader_is_no_traceback(tmp_path: Path):
    from builders import big_workbook

    people = tmp_path / "people.xlsx"
    people.write_bytes(big_workbook(3000))
    reader = subprocess.Popen(["head", "-c", "10"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    done = subprocess.run(
        [sys.executable, "-m", "seen_core", "validate", str(people), "--json"],
        cwd=ROOT, stdout=reader.stdin, stderr=subprocess.PIPE, text=True, timeout=60,
    )  # fmt: skip
    reader.stdin.close()
    assert reader.stdout.read() == b'{"rows":30'  # compact JSON in a pipe
    reader.wait()
    assert "Traceback" not in done.stderr


def test_a_cell_cannot_move_the_cursor_or_fake_results_in_human_output(tmp_path: Path):
    people = tmp_path / "folk.csv"
    fake = "\x1b[2K\x1b[1A\rOla: 100 ready, 0 invalid"
    people.write_bytes(csv_bytes([["Fornavn", "E-post"], ["Ola", f"ola{fake}@example.no"]]))
    done = run("validate", people)
    assert "\x1b" not in done.stdout and "\r" not in done.stdout
    assert "\\x1b[2K" in done.stdout  # shown, not obeyed


def test_a_sheet_name_with_control_characters_is_shown_escaped_by_inspect(tmp_path: Path):
    people = tmp_path / "folk\x1b[31m.csv"
    people.write_bytes(csv_bytes([["Fornavn", "E-post"], ["Ola", "ola@example.no"]]))
    done = run("inspect", people)
    assert done.returncode == 0
    assert "\x1b" not in done.stdout and "\\x1b[31m" in done.stdout


def test_problem_lines_line_up_for_sheet_and_row_problems_alike():
    from seen_core.cli.validate import problem_lines
    from seen_core.problems import Problem

    problems = [
        Problem(None, "Mobil", "phone", "column_not_found", "error", "No column 'Mobil'."),
        Problem(7, None, None, "no_contact", "warning", "Neither phone nor e-mail."),
        Problem(100_001, "Mobil", "phone", "phone_invalid", "error", "'45 86' is not valid."),
        Problem(100_002, "Mobil", "phone", "phone_invalid", "error", "'12' is not valid."),
        Problem(9, "Mobiltelefonnummer", "phone", "phone_invalid", "error", "Not valid."),
    ]
    assert problem_lines(problems) == [
        "  sheet     Mobil          column_not_found       No column 'Mobil'.",
        "  row 7                    no_contact             Neither phone nor e-mail.",
        "  row 100001 Mobil          phone_invalid          '45 86' is not valid.",
        "  row 100002 Mobil          phone_invalid          '12' is not valid.",
        "  row 9     Mobiltelefonnummer phone_invalid          Not valid.",
    ]


def test_a_missing_file_or_a_folder_is_one_sentence(tmp_path: Path):
    missing = run_cli("validate", tmp_path / "finnes-ikke.xlsx")
    folder = run_cli("validate", tmp_path)

    assert missing.returncode == folder.returncode == 2
    assert "There is no file" in missing.stderr and "finnes-ikke.xlsx" in missing.stderr
    assert "is a folder, not a file" in folder.stderr
    assert "Traceback" not in missing.stderr + folder.stderr
