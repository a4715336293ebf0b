"""Upload limits: files made to exhaust memory are refused in one sentence, and never take the
process that reads them for others down."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from builders import (
    corner_bomb,
    long_cell_csv,
    long_string_bomb,
    messy_workbook,
    ods_repeat_bomb,
    repeated_rows_bomb,
    too_many_rows_csv,
    windows_csv,
    workbook_of_cells,
)
from openpyxl.comments import Comment

from seen_core.errors import ConfigurationError, InputError, SheetError
from seen_core.read.isolated import read_sheet_checking_ahead, read_sheet_isolated
from seen_core.read.limits import LimitError, Limits
from seen_core.read.sheets import read_sheet

ROOT = Path(__file__).resolve().parent.parent

# name, builder, what the sentence names
BOMBS = {
    "corner.xlsx": (corner_bomb, "has 1,048,576 rows × 16,384 columns = 17,179,869,184 cells"),
    "no-dimension.xlsx": (lambda: corner_bomb(None), "limit of 10,000,000 cells"),
    "one-string.xlsx": (long_string_bomb, "unpacks to 1,024 MB, over the limit of 500 MB"),
    "repeated-rows.xlsx": (repeated_rows_bomb, "holds more than 10,000,000 cells, the limit"),
    # ... declaring one cell, and packed 1,000-fold: its cells are counted all the same
    "lying-rows.xlsx": (
        lambda: repeated_rows_bomb(dimension="A1"),
        "holds more than 10,000,000 cells, the limit",
    ),
    "repeated.ods": (ods_repeat_bomb, "limit of 10,000,000 cells"),
    "long-cell.csv": (long_cell_csv, "Row 2 of 'long-cell.csv' holds a cell of more than 32,767"),
    "rows.csv": (too_many_rows_csv, "1,048,577 rows, over the limit of 1,048,576 rows"),
}


def one_sentence(text: str) -> bool:
    return text.endswith(".") and "\n" not in text and "Traceback" not in text


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    paths = {}
    for name, (build, _) in BOMBS.items():
        paths[name] = folder / name
        paths[name].write_bytes(build())
    return paths


@pytest.mark.parametrize("name", BOMBS)
def test_each_bomb_is_refused_in_one_sentence_naming_the_limit(bombs: dict[str, Path], name: str):
    with pytest.raises(LimitError) as refused:
        read_sheet(name, bombs[name].read_bytes())
    assert BOMBS[name][1] in str(refused.value)
    assert one_sentence(str(refused.value))
    assert isinstance(refused.value, SheetError) and isinstance(refused.value, InputError)


DRIVER = """
import json, resource, sys
from seen_core.errors import SheetError
from seen_core.read.isolated import read_sheet_isolated
messages = {}
for path in sys.argv[1:]:
    name = path.rsplit("/", 1)[-1]
    try:
        read_sheet_isolated(name, open(path, "rb").read())
        messages[name] = None
    except SheetError as error:
        messages[name] = str(error)
# VmHWM is this process's own peak; ru_maxrss would carry over its parent's (pytest's) across exec.
own = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
readers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"messages": messages, "peak_mb": max(own, readers) // 1024}))
"""


def test_bombs_read_in_isolation_are_refused_and_the_caller_lives_under_1_gb(
    bombs: dict[str, Path], tmp_path: Path
):
    # A workbook that lies about its size passes every check before parsing; its reader
    # aborts (calamine asks for 512 GB) and only that reader ends.
    liar = tmp_path / "lying.xlsx"
    liar.write_bytes(corner_bomb("A1"))
    files = [*map(str, bombs.values()), str(liar)]
    run = subprocess.run(
        [sys.executable, "-c", DRIVER, *files], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout)
    for name, (_, names_the_limit) in BOMBS.items():
        assert names_the_limit in found["messages"][name]
    assert found["messages"]["lying.xlsx"] == (
        "'lying.xlsx' could not be read within the server's memory limit of 2,048 MB; "
        "split it into smaller files."
    )
    assert all(one_sentence(m) for m in found["messages"].values())
    assert found["peak_mb"] < 1024  # the caller and every reader it started, at their peak


def test_reading_in_isolation_gives_the_same_sheet():
    for name, data in [("kunder.xlsx", messy_workbook()), ("kunder.csv", windows_csv())]:
        alone, here = read_sheet_isolated(name, data), read_sheet(name, data)
        assert alone.table.equals(here.table)
        assert (alone.sheet_names, alone.sheet_name, alone.header_row, alone.columns) == (
            here.sheet_names,
            here.sheet_name,
            here.header_row,
            here.columns,
        )
        assert (alone.sha256, alone.blank_rows, alone.preview) == (
            here.sha256,
            here.blank_rows,
            here.preview,
        )
    with pytest.raises(SheetError, match="no sheet named 'Budsjett'"):
        read_sheet_isolated("kunder.xlsx", messy_workbook(), sheet="Budsjett")


def test_the_reader_checks_ahead_as_this_process_would():
    from dataclasses import asdict

    from seen_core.check.checks import CheckOptions, check_sheet
    from seen_core.check.mapping import suggest

    options = CheckOptions(region="SE", delivery=False)
    sheet, pending = read_sheet_checking_ahead("kunder.xlsx", messy_workbook(), asdict(options))
    mapping, made_options, result = pending.wait()
    here = check_sheet(sheet.table, suggest(sheet.columns), options)
    assert mapping == suggest(sheet.columns).to_dict() and made_options == options
    assert result.problems == here.problems and result.rows == here.rows


# Reads and checks ahead with every process it starts recorded, then says how each ended.
AHEAD_DRIVER = """
import json, subprocess, sys
from builders import messy_workbook
from seen_core.read.isolated import read_sheet_checking_ahead

started = []

class Recorded(subprocess.Popen):
    def __init__(self, *args, **named):
        super().__init__(*args, **named)
        started.append(self)

subprocess.Popen = Recorded
sheet, pending = read_sheet_checking_ahead("kunder.xlsx", messy_workbook(), {})
checked = pending.wait() is not None
print(json.dumps({"checked": checked, "ends": [p.wait(timeout=10) for p in started]}))
"""


def test_a_reader_that_checked_ahead_ends():
    run = subprocess.run(
        [sys.executable, "-c", AHEAD_DRIVER],
        cwd=ROOT / "tests",
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout) == {"checked": True, "ends": [0]}  # no reader left behind


def test_a_parse_over_the_memory_limit_ends_only_its_reader():
    people = b"Fornavn,Etternavn,E-post\n" + b"Ola,Nordmann,ola@example.no\n" * 300_000
    with pytest.raises(LimitError, match="within the server's memory limit of 64 MB"):
        read_sheet_isolated("people.csv", people, limits=Limits(parse_memory_mb=64))
    assert read_sheet_isolated("people.csv", people).rows == 300_000


def test_a_parse_past_the_time_limit_is_stopped():
    with pytest.raises(LimitError, match=r"within the server's time limit of 0\.001 seconds"):
        read_sheet_isolated("kunder.xlsx", messy_workbook(), limits=Limits(parse_seconds=0.001))


def test_a_large_file_is_refused_before_it_is_parsed():
    huge = bytes(60 * 1024 * 1024)
    with pytest.raises(LimitError, match=r"is 60 MB, over the limit of 50 MB for one upload\.$"):
        read_sheet("kunder.csv", huge)
    data = messy_workbook()
    assert read_sheet_isolated("kunder.xlsx", data).rows == read_sheet("kunder.xlsx", data).rows


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SEEN_MAX_ROWS", "5")
    monkeypatch.setenv("SEEN_MAX_UPLOAD_MB", "1_000")
    assert Limits.from_env() == Limits(rows=5, upload_mb=1000)
    with pytest.raises(LimitError, match="has 12 rows, over the limit of 5 rows"):
        read_sheet("kunder.xlsx", messy_workbook())
    monkeypatch.setenv("SEEN_MAX_CELLS", "lots")
    with pytest.raises(ConfigurationError, match=r"^SEEN_MAX_CELLS must be a whole number"):
        Limits.from_env()


@pytest.mark.parametrize(
    ("limits", "refusal"),
    [
        (Limits(columns=7), "has 8 columns, over the limit of 7 columns."),
        (Limits(cells=90), "12 rows × 8 columns = 96 cells, over the limit of 90 cells."),
        (Limits(cell_chars=20), "Row 2 of the sheet 'Mottakere' in 'kunder.xlsx' holds a cell"),
        (Limits(upload_mb=0), "KB, over the limit of 0 MB for one upload."),
    ],
)
def test_each_limit_can_be_lowered(limits: Limits, refusal: str):
    with pytest.raises(LimitError) as refused:
        read_sheet("kunder.xlsx", messy_workbook(), limits=limits)
    assert refusal in str(refused.value)


def test_a_cell_longer_than_excel_allows_is_refused_in_a_csv_and_a_workbook():
    with pytest.raises(LimitError, match=r"Row 2 of 'notes\.csv' holds a cell of more than 32,767"):
        read_sheet("notes.csv", long_cell_csv(40_000))
    assert read_sheet("notes.csv", long_cell_csv(32_767)).table.loc[2, "Notat"] == "x" * 32_767


@pytest.mark.parametrize("dimension", [None, "A1"])
def test_a_sheet_that_declares_no_size_or_a_wrong_one_is_still_read(dimension: str | None):
    cells = {"A1": "Fornavn", "B1": "Etternavn", "A3": "Ola", "B3": "Nordmann"}
    sheet = read_sheet("small.xlsx", workbook_of_cells(cells, dimension))
    assert sheet.columns == ["Fornavn", "Etternavn"]
    assert sheet.table.loc[3].tolist() == ["Ola", "Nordmann"]
    assert sheet.blank_rows == 1


def test_the_cells_a_sheet_reaches_count_where_it_declares_no_size():
    cells = {"A1": "Fornavn", "C20": "x"}
    with pytest.raises(LimitError, match="has 20 rows × 3 columns = 60 cells, over the limit"):
        read_sheet("small.xlsx", workbook_of_cells(cells, None), limits=Limits(cells=50))


# --- what a file holds, not what it declares -----------------------------------------------------


def people_workbook(rows: int = 30) -> bytes:
    """A small workbook of people as XlsxWriter writes it."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Mottakere")
    sheet.write_row(0, 0, ["Fornavn", "E-post", "Mobil"])
    for r in range(1, rows + 1):
        sheet.write_row(r, 0, [f"Navn {r}", f"navn{r}@example.no", 45860000 + r])
    book.close()
    return buffer.getvalue()


def comment_at_the_last_cell() -> bytes:
    """People, and a comment on XFD1048576, as openpyxl saves it: the sheet then declares
    A1:XFD1048576 and holds an empty cell there."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Mottakere"
    sheet.append(["Fornavn", "E-post", "Mobil"])
    for r in range(1, 31):
        sheet.append([f"Navn {r}", f"navn{r}@example.no", 45860000 + r])
    sheet["XFD1048576"].comment = Comment("Sjekk før utsending", "Kari")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def declaring_the_whole_grid() -> bytes:
    """A real workbook of 30 people whose sheet declares `A1:XFD1048576` (as Excel does when a
    comment or a format reaches the last cell)."""
    source = zipfile.ZipFile(io.BytesIO(people_workbook()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert b'<dimension ref="A1:C31"/>' in data
                data = data.replace(
                    b'<dimension ref="A1:C31"/>', b'<dimension ref="A1:XFD1048576"/>'
                )
            copy.writestr(info.filename, data)
    return buffer.getvalue()


@pytest.mark.parametrize("build", [comment_at_the_last_cell, declaring_the_whole_grid])
def test_a_sheet_declaring_the_whole_grid_is_read_by_the_cells_it_holds(build):
    data = build()
    for read in (read_sheet, read_sheet_isolated):
        sheet = read("kunder.xlsx", data)
        assert sheet.columns == ["Fornavn", "E-post", "Mobil"]
        assert sheet.rows == 30 and sheet.table.loc[31, "Mobil"] == "45860030"


def long_notes(rows: int = 5_000) -> bytes:
    """5,000 people with a long note each, alike but for a number: the shared strings pack more
    than 100-fold, as a CRM's repeated notes do."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Mottakere")
    sheet.write_row(0, 0, ["Fornavn", "E-post", "Notat"])
    note = "Ring kunden om vinterdekk og felger før sesongen. " * 60
    for r in range(1, rows + 1):
        sheet.write_row(r, 0, [f"Navn {r}", f"navn{r}@example.no", f"Notat {r}: {note}"])
    book.close()
    return buffer.getvalue()


def test_a_sheet_of_long_repetitive_strings_that_packs_over_100_fold_is_read():
    data = long_notes()
    strings = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/sharedStrings.xml")
    assert strings.file_size > 120 * strings.compress_size  # as ordinary as it looks
    for read in (read_sheet, read_sheet_isolated):
        sheet = read("notater.xlsx", data)
        assert sheet.rows == 5_000
        assert sheet.table.loc[5_001, "Notat"].startswith("Notat 5000: Ring kunden om")


def with_sheet(rows_xml: str) -> bytes:
    """The small workbook of people with its sheet's rows replaced by these, no size declared."""
    source = zipfile.ZipFile(io.BytesIO(people_workbook()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                head, _, _ = data.partition(b"<dimension")
                data = head + f"<sheetData>{rows_xml}</sheetData></worksheet>".encode()
            copy.writestr(info.filename, data)
    return buffer.getvalue()


def test_cells_without_references_are_counted_where_they_stand():
    """A cell without a reference stands one after the cell before, in a row that says its
    number or follows the row before: as calamine places it, so is it judged."""
    text = '<c t="inlineStr"><is><t>{}</t></is></c>'
    header = f"<row>{text.format('Fornavn')}{text.format('Notat')}</row>"
    far = f'<row r="1048576">{"<c/>" * 16_383}{text.format("x")}</row>'
    with pytest.raises(LimitError) as refused:
        read_sheet_isolated("langt.xlsx", with_sheet(header + far))
    assert str(refused.value) == (
        "The sheet 'Mottakere' in 'langt.xlsx' has 1,048,576 rows × 16,384 columns = "
        "17,179,869,184 cells, over the limit of 10,000,000 cells."
    )
    near = f"<row>{text.format('Ola')}{text.format('')}</row><row/><row>{text.format('Kari')}</row>"
    sheet = read_sheet("nær.xlsx", with_sheet(header + near), limits=Limits(cells=8))
    assert sheet.table["Fornavn"].tolist() == ["Ola", "Kari"] and sheet.blank_rows == 1
    with pytest.raises(LimitError, match=r"has 4 rows × 2 columns = 8 cells, over the limit of 7"):
        read_sheet("nær.xlsx", with_sheet(header + near), limits=Limits(cells=7))
