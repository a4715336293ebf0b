"""Reading the user's file: every cell as the text they see, the right sheet, the right header."""

from __future__ import annotations

import io
import itertools
import random
import re
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from builders import (
    HEADER,
    MESSY_ROW_COUNT,
    cells_workbook,
    csv_bytes,
    messy_workbook,
    ods_bytes,
    windows_csv,
    xls_bytes,
)
from hypothesis import given
from hypothesis import strategies as st

from seen_core.errors import SheetError
from seen_core.read.isolated import read_sheet_isolated
from seen_core.read.sheets import read_sheet

ROOT = Path(__file__).resolve().parent.parent

# --- the messy Norwegian workbook ----------------------------------------------------------------


@pytest.fixture(scope="module")
def messy():
    return read_sheet("kunder.xlsx", messy_workbook())


def test_picks_the_receiver_sheet_over_the_notes_sheet(messy):
    assert messy.sheet_names == ["Notater", "Mottakere"]
    assert messy.sheet_name == "Mottakere"
    assert read_sheet("kunder.xlsx", messy_workbook()).sheet_names == ["Notater", "Mottakere"]


def members_by_month(first: str = "blank", fields: bool = False) -> bytes:
    """A club's workbook: a first sheet that looks empty, then its members month by month
    (24, 120, 480 and 60 of them) under a header that names no SEEN field; with `fields`, a
    short sheet of receivers after them.

    The first sheet's cells are formulas that give an empty text, as Excel saves them
    (`t="str"`, an empty value), down to row 1000; with `first="empty"` it has no cells."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    front = book.add_worksheet("Ark1")
    if first == "blank":
        for r in range(1000):
            front.write_formula(r, 0, '=IF(Mai!A2="x","x","")', None, "")
    for name, count in [("Mars", 24), ("April", 120), ("Mai", 480), ("Juni", 60)]:
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, ["Navn", "Adresse", "Postnr", "Poststed"])
        for r in range(1, count + 1):
            sheet.write_row(r, 0, [f"Medlem {r}", f"Gate {r}", f"{r:04d}", "Oslo"])
    if fields:
        sheet = book.add_worksheet("Utsending")
        sheet.write_row(0, 0, ["Fornavn", "E-post"])
        for r in range(1, 25):
            sheet.write_row(r, 0, [f"Navn {r}", f"navn{r}@example.no"])
    book.close()
    source = zipfile.ZipFile(buffer)
    saved = io.BytesIO()
    with zipfile.ZipFile(saved, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":  # XlsxWriter leaves out the type
                data = re.sub(rb'(<c r="A\d+")><f>', rb'\1 t="str"><f>', data)
            copy.writestr(info.filename, data)
    return saved.getvalue()


def test_the_sheet_picked_is_the_one_with_the_most_people_not_the_first():
    for first, read in itertools.product(["blank", "empty"], [read_sheet, read_sheet_isolated]):
        sheet = read("medlemmer.xlsx", members_by_month(first))
        assert sheet.sheet_names == ["Ark1", "Mars", "April", "Mai", "Juni"]
        assert (sheet.sheet_name, sheet.rows) == ("Mai", 480), first
    # ... unless a sheet's header names SEEN fields: that is the sheet for SEEN
    sheet = read_sheet("medlemmer.xlsx", members_by_month(fields=True))
    assert (sheet.sheet_name, sheet.rows) == ("Utsending", 24)


def test_header_is_found_below_the_title_rows(messy):
    assert messy.header_row == 4
    assert messy.columns == HEADER


def test_rows_are_numbered_as_in_excel_and_blank_rows_are_dropped_and_counted(messy):
    assert list(messy.table.index) == [5, 6, 7, 9, 10, 11, 12]
    assert messy.rows == MESSY_ROW_COUNT
    assert messy.blank_rows == 1


def test_numbers_read_as_the_text_the_user_sees(messy):
    first = messy.table.loc[5]
    assert first["Mobil"] == "4745860321"  # not 4745860321.0, not 4.7E9
    assert first["Kundenr"] == "100"
    assert first["Antall mil"] == "12"
    assert messy.table.loc[6, "Antall mil"] == "7.5"
    assert messy.table.loc[10, "Antall mil"] == "0"


def test_text_cells_are_kept_as_written(messy):
    assert messy.table.loc[12, "Mobil"] == "+47 458 60 326"
    assert messy.table.loc[12, "Fornavn"] == " Åse "
    assert messy.table.loc[11, "E-post"] == ""


def test_header_row_can_be_overridden(messy):
    sheet = read_sheet("kunder.xlsx", messy_workbook(), sheet="Mottakere", header_row=2)
    assert sheet.header_row == 2
    assert sheet.columns[0] == "Eksportert fra CRM 2026-11-20"
    assert sheet.table.index[0] == 4  # the old header is now the first person, on row 4
    assert sheet.table.loc[4].tolist()[:2] == ["Kundenr", "Fornavn"]


def test_other_sheet_can_be_chosen_and_an_unknown_sheet_is_a_clear_error():
    notes = read_sheet("kunder.xlsx", messy_workbook(), sheet="Notater")
    assert notes.sheet_name == "Notater"
    with pytest.raises(SheetError, match="no sheet named 'Budsjett'"):
        read_sheet("kunder.xlsx", messy_workbook(), sheet="Budsjett")


def test_header_row_outside_the_sheet_is_a_sheet_error():
    with pytest.raises(SheetError):
        read_sheet("kunder.xlsx", messy_workbook(), header_row=500)


# --- cells of every kind -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cells():
    return read_sheet("celler.xlsx", cells_workbook())


def test_dates_are_read_as_iso_dates(cells):
    assert cells.table["Født"].tolist() == ["1990-05-17", "2001-12-31"]


def test_leading_zeros_kept_where_the_file_holds_text(cells):
    assert cells.table["Postnr"].tolist() == ["0150", "0001"]


def test_decimals_and_whole_numbers_without_point_zero(cells):
    assert cells.table["Beløp"].tolist() == ["1234.5", "1000000"]


def test_blank_and_repeated_headers_are_made_unique(cells):
    assert cells.columns == ["Fornavn", "Født", "Column C", "Postnr", "Fornavn (2)", "Beløp"]


def test_blank_row_between_people_is_dropped_and_numbering_follows_excel(cells):
    assert list(cells.table.index) == [2, 4]
    assert cells.blank_rows == 1


# --- CSV -----------------------------------------------------------------------------------------


def test_windows_1252_semicolon_csv_is_decoded_with_norwegian_letters():
    sheet = read_sheet("eksport.csv", windows_csv())
    assert sheet.sheet_name is None and sheet.sheet_names == []
    assert sheet.columns == ["Fornavn", "Etternavn", "Mobil", "E-post", "Kjønn"]
    assert sheet.table["Fornavn"].tolist() == ["Ørjan", "Åshild", "Jens"]
    assert sheet.table["Etternavn"].tolist() == ["Sæther", "Bø", "Hæhre"]
    assert sheet.table.loc[4, "Mobil"] == "004745860323"  # leading zeros of text kept
    assert sheet.table.loc[3, "Mobil"] == "+4745860322"
    assert list(sheet.table.index) == [2, 3, 4]


def test_utf8_with_bom_does_not_leak_into_the_first_header():
    data = csv_bytes([["Fornavn", "E-post"], ["Åse", "ase@example.no"]], bom=True)
    sheet = read_sheet("bom.csv", data)
    assert sheet.columns == ["Fornavn", "E-post"]
    assert sheet.table.loc[2, "Fornavn"] == "Åse"


def mixed_csv(*lines: tuple[str, str], bom: bool = False) -> bytes:
    """A CSV whose lines are in different encodings, as after rows from one export were pasted
    or appended to another's: (line, encoding) each, CRLF line ends."""
    data = b"".join((line + "\r\n").encode(encoding) for line, encoding in lines)
    return (b"\xef\xbb\xbf" if bom else b"") + data


def test_a_csv_mixing_utf8_and_windows_1252_rows_reads_each_row_right():
    data = mixed_csv(
        ("Fornavn;Etternavn;E-post", "utf-8"),
        ("Bjørn;Ødegård;bjorn@example.no", "utf-8"),
        ("Bjørn;Sæther;bjorn.s@example.no", "cp1252"),
    )
    sheet = read_sheet("blandet.csv", data)
    assert sheet.columns == ["Fornavn", "Etternavn", "E-post"]
    assert sheet.table["Fornavn"].tolist() == ["Bjørn", "Bjørn"]
    assert sheet.table["Etternavn"].tolist() == ["Ødegård", "Sæther"]


@pytest.mark.parametrize("bom", [False, True])
def test_a_mixed_csv_reads_right_whichever_encoding_comes_first(bom: bool):
    data = mixed_csv(
        ("Fornavn;Notat", "cp1252"),
        ("Åse;«Hei» – velkommen", "cp1252"),
        ("Ærling;Kjør på, O’Brien", "utf-8"),
        ("Jens;Sånn € går", "cp1252"),
        ("Zoë;Straße 5", "utf-8"),
        bom=bom,
    )
    sheet = read_sheet("blandet.csv", data)
    assert sheet.columns == ["Fornavn", "Notat"]
    assert sheet.table["Fornavn"].tolist() == ["Åse", "Ærling", "Jens", "Zoë"]
    assert sheet.table["Notat"].tolist() == [
        "«Hei» – velkommen", "Kjør på, O’Brien", "Sånn € går", "Straße 5",
    ]  # fmt: skip


def test_a_mixed_csv_reads_the_same_in_isolation():
    data = mixed_csv(("Fornavn", "utf-8"), ("Bjørn", "utf-8"), ("Bjørn", "cp1252"))
    assert read_sheet_isolated("blandet.csv", data).table["Fornavn"].tolist() == ["Bjørn"] * 2


@pytest.mark.parametrize("delimiter", ["\t", "|", ";", ","])
def test_delimiter_is_sniffed(delimiter):
    rows = [["Fornavn", "Mobil", "Notat"], ["Ola", "+4745860321", "7,5"], ["Kari", "4545", "x"]]
    sheet = read_sheet("people.csv", csv_bytes(rows, delimiter=delimiter))
    assert sheet.columns == ["Fornavn", "Mobil", "Notat"]
    assert sheet.table.loc[2].tolist() == ["Ola", "+4745860321", "7,5"]


def test_csv_with_title_lines_above_the_header():
    rows = [
        ["Kundeliste høst"],
        [],
        ["Fornavn", "Etternavn", "E-post"],
        ["Ola", "Nordmann", "ola@example.no"],
    ]
    sheet = read_sheet("titler.csv", csv_bytes(rows, delimiter=";"))
    assert sheet.header_row == 3
    assert sheet.columns == ["Fornavn", "Etternavn", "E-post"]
    assert list(sheet.table.index) == [4]


def test_header_only_file_has_no_rows_and_does_not_crash():
    sheet = read_sheet("tom.csv", csv_bytes([["Fornavn", "E-post"]]))
    assert sheet.columns == ["Fornavn", "E-post"]
    assert sheet.rows == 0


# --- ODS and XLS ---------------------------------------------------------------------------------


def test_ods_is_read(tmp_path: Path):
    sheet = read_sheet("people.ods", ods_bytes(tmp_path))
    assert sheet.columns == ["First name", "Phone", "Id"]
    assert sheet.table["Phone"].tolist() == ["+4745860321", "45860322"]
    assert list(sheet.table.index) == [2, 3]


def test_xls_is_read():
    data = xls_bytes()
    if data is None:
        pytest.skip("xlwt is not installed, so no real .xls can be written here")
    sheet = read_sheet("gammel.xls", data)
    assert sheet.sheet_name == "Mottakere"
    assert sheet.table.loc[2].tolist() == ["Ørjan", "4745860321", "100"]


# --- files that cannot be read: one sentence, never a traceback ----------------------------------

_RANDOM = random.Random(7).randbytes(4000)
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000)

UNREADABLE = [
    pytest.param("tom.xlsx", b"", "empty", id="empty"),
    pytest.param("tom.csv", b"", "empty", id="empty-csv"),
    pytest.param("blank.csv", b"\r\n ; \r\n\r\n", "no data", id="only-blank-lines"),
    pytest.param("skadet.xlsx", b"PK\x03\x04" + _RANDOM[:500], "damaged", id="corrupt-zip"),
    pytest.param("støy.csv", _RANDOM, "binary", id="random-bytes-csv"),
    pytest.param("støy.xlsx", _RANDOM, "damaged", id="random-bytes-xlsx"),
    pytest.param("hemmelig.xlsx", _OLE, "password", id="encrypted"),
    pytest.param("rapport.pdf", b"%PDF-1.4\n", "CSV, XLSX", id="unsupported"),
    pytest.param("utf16.csv", b"\xff\xfe\x00", "", id="cut-off-utf16"),
]


@pytest.mark.parametrize(("name", "data", "words"), UNREADABLE)
def test_unreadable_file_is_one_clear_sentence(name: str, data: bytes, words: str):
    with pytest.raises(SheetError) as raised:
        read_sheet(name, data)
    message = str(raised.value)
    assert name in message
    assert words in message
    assert "\n" not in message
    assert message.endswith(".")
    assert "Traceback" not in message and "Error" not in message


def test_workbook_with_a_csv_name_is_explained():
    with pytest.raises(SheetError, match="rename it"):
        read_sheet("kunder.csv", messy_workbook())


@pytest.mark.parametrize(
    "columns",
    [
        [["Fornavn", "Ola", "Kari"], ["E-post", "ola@x.no", ""]],
        [["Notat", "a\x00b", "c"], ["x", "y", "z"]],  # a NUL in a cell: another joiner
        [["\x00\x1f\x1e\ufdd0", "", "end"]],  # every joiner in a cell: the cells as they are
        [[], []],  # no rows
        [["", "", ""]],
    ],
)
def test_columns_come_back_from_the_reader_as_they_went(columns):
    import pickle

    from seen_core.read.reader import pack_columns, unpack_columns

    packed = pickle.loads(pickle.dumps(pack_columns(columns)))
    assert unpack_columns(packed) == columns


def test_ragged_csv_rows_read_the_same_in_isolation():
    data = b"Fornavn;E-post;Mobil\nOla;ola@x.no\nKari;;45860321;extra\n;;\nPer\n"
    alone, here = read_sheet_isolated("p.csv", data), read_sheet("p.csv", data)
    assert alone.table.equals(here.table) and alone.columns == here.columns
    assert here.columns == ["Fornavn", "E-post", "Mobil", "Column D"]
    assert here.table.index.tolist() == [2, 3, 5] and here.blank_rows == 1
    assert here.table.loc[3].tolist() == ["Kari", "", "45860321", "extra"]


_CELLS = st.one_of(
    st.text(max_size=6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**12), 10**12).map(float),  # numbers stored as numbers
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.none(),
)


@given(st.integers(1, 4).flatmap(lambda w: st.lists(st.lists(_CELLS, min_size=w, max_size=w))))
def test_a_column_at_a_time_reads_every_cell_as_cell_text_does(grid):
    from seen_core.read.cells import cell_text, columns_of, text_columns

    expected = columns_of([[cell_text(c) for c in row] for row in grid])
    assert text_columns(grid) == expected


# A process that keeps a reader ready, each process it starts and each timer it sets recorded:
# the clock is the driver's, so a loaded machine cannot make the next spare start early.
SPARE_DRIVER = """
import json, subprocess, threading
from seen_core.read import isolated

started, later = [], []

class Recorded(subprocess.Popen):
    def __init__(self, args, *rest, **named):
        started.append("--warm" in args)  # a spare loads the checks while it waits
        super().__init__(args, *rest, **named)

class Timer:
    def __init__(self, interval, function):
        later.append((interval, function))
    def start(self):
        pass

subprocess.Popen, threading.Timer = Recorded, Timer
seen = {}
isolated.keep_reader_ready()
seen["kept ready"] = list(started)
isolated.read_sheet_isolated("p.csv", b"Fornavn;Mobil\\nOla;45860321\\n")
seen["after the upload"] = list(started)
seen["waits"] = [interval for interval, _ in later]
later[0][1]()  # that long after
seen["after the wait"] = list(started)
seen["spare after"] = isolated.SPARE_AFTER
print(json.dumps(seen))
"""


def test_the_next_spare_reader_starts_after_the_upload_that_took_the_last():
    """A spare reader loads the checks (a core for a second or more): it must not start while
    the upload that took the last one still parses, but a while later."""
    import json
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", SPARE_DRIVER], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    seen = json.loads(run.stdout)
    assert seen["kept ready"] == [True]
    assert seen["after the upload"] == [True]  # the spare was taken, and no other started meanwhile
    assert seen["waits"] == [seen["spare after"]] and seen["spare after"] > 0
    assert seen["after the wait"] == [True, True]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads priorities in /proc")
def test_the_check_ahead_runs_at_a_lower_priority_than_the_pages():
    """The reader answers with the cells at once, then checks ahead; that check is work ahead
    of need, so it gives way to the server drawing pages (its niceness rises)."""
    import pickle
    import select
    import subprocess
    import sys
    import time
    from dataclasses import asdict

    from seen_core.check.checks import CheckOptions
    from seen_core.read import reader as _parse
    from seen_core.read.limits import Limits

    rows = "".join(f"Navn {i};4{i % 10}86{i:04d};navn{i}@x\n" for i in range(20_000))
    request = ("p.csv", f"Fornavn;Mobil;E-post\n{rows}".encode(), None, Limits(), None,
               asdict(CheckOptions()), [])  # fmt: skip
    reader = subprocess.Popen(
        [sys.executable, "-m", "seen_core.read.reader"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
    )  # fmt: skip

    def niceness() -> int:
        stat = Path(f"/proc/{reader.pid}/stat").read_text()
        return int(stat[stat.rindex(")") + 2 :].split()[16])

    try:
        before = niceness()
        reader.stdin.write(pickle.dumps(request))
        reader.stdin.close()
        size = int.from_bytes(reader.stdout.read(8), "big")
        assert pickle.loads(reader.stdout.read(size))[0] == "grid"
        seen, deadline = {niceness()}, time.monotonic() + 60
        while not select.select([reader.stdout], [], [], 0.001)[0]:  # until the check comes
            seen.add(niceness())
            assert time.monotonic() < deadline, "the check ahead never came"
        size = int.from_bytes(reader.stdout.read(8), "big")
        assert pickle.loads(reader.stdout.read(size))[0] == "checked"
        assert max(seen) == min(before + _parse.AHEAD_NICENESS, 19)  # 19: the lowest priority
    finally:
        reader.kill()
        reader.wait()


TOKEN_DRIVER = """
import json, os
from pathlib import Path
from seen_core.read import isolated

isolated.keep_reader_ready()  # a reader started ahead, waiting for an upload
readers = []
for stat in Path("/proc").glob("[0-9]*/stat"):
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        command = (stat.parent / "cmdline").read_bytes()
    except OSError:
        continue
    if int(fields[1]) == os.getpid() and b"seen_core.read.reader" in command:
        readers.append((stat.parent / "environ").read_bytes().decode("utf-8", "replace"))
sheet = isolated.read_sheet_isolated("p.csv", b"Fornavn;Mobil\\nOla;45860321\\n")  # it reads
print(json.dumps({"environments": readers, "columns": sheet.columns}))
"""


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc")
def test_the_reader_of_uploads_is_given_no_token():
    """The process that parses other people's files gets what Python needs to start, not the
    server's environment: a file made to take over its parser finds no token there."""
    import json
    import os
    import subprocess
    import sys

    environment = {
        **os.environ,
        "SEEN_API_TOKEN": "secret-token-for-test",
        "SEEN_API_TOKEN_SPRING": "another-secret",
    }
    run = subprocess.run(
        [sys.executable, "-c", TOKEN_DRIVER],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout)
    assert len(found["environments"]) == 1
    assert "secret" not in found["environments"][0] and "SEEN_" not in found["environments"][0]
    assert found["columns"] == ["Fornavn", "Mobil"]  # ... and it still reads, in that environment


def test_a_sheet_calamine_cannot_parse_is_passed_over_for_the_one_with_people():
    import io
    import zipfile

    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.add_worksheet("Målinger").write_number(0, 0, 1.5)
    people = book.add_worksheet("Mottakere")  # second: the first readable sheet would win
    people.write_row(0, 0, ["Fornavn", "E-post"])
    people.write_row(1, 0, ["Kari", "kari@example.no"])
    book.close()
    broken = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            part = source.read(item.filename)
            # A number with a space before it, as in a real export calamine refuses.
            if item.filename == "xl/worksheets/sheet1.xml":
                part = part.replace(b'<c r="A1"><v>1.5</v>', b'<c r="A1" t="n"><v> 41</v>')
            target.writestr(item, part)

    sheet = read_sheet("målinger.xlsx", broken.getvalue())

    assert sheet.sheet_name == "Mottakere" and sheet.rows == 1
    with pytest.raises(SheetError, match="could not be read"):
        read_sheet("målinger.xlsx", broken.getvalue(), sheet="Målinger")
