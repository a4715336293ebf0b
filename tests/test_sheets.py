"""Reading the user's file: every cell as the text they see, the right sheet, the right header."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
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

from seen_core.read.sheets import SheetError, pick_sheet, read_sheet

# --- the messy Norwegian workbook ----------------------------------------------------------------


@pytest.fixture(scope="module")
def messy():
    return read_sheet("kunder.xlsx", messy_workbook())


def test_picks_the_receiver_sheet_over_the_notes_sheet(messy):
    assert messy.sheet_names == ["Notater", "Mottakere"]
    assert messy.sheet_name == "Mottakere"
    assert pick_sheet("kunder.xlsx", messy_workbook()) == "Mottakere"
    assert read_sheet("kunder.xlsx", messy_workbook()).sheet_names == ["Notater", "Mottakere"]


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
    from seen_core.read.sheets import read_sheet_isolated

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

    from seen_core.read.sheets import pack_columns, unpack_columns

    packed = pickle.loads(pickle.dumps(pack_columns(columns)))
    assert unpack_columns(packed) == columns


def test_ragged_csv_rows_read_the_same_in_isolation():
    from seen_core.read.sheets import read_sheet_isolated

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
    from seen_core.read.cells import cell_text
    from seen_core.read.sheets import _text_columns, columns_of

    expected = columns_of([[cell_text(c) for c in row] for row in grid])
    assert _text_columns(grid) == expected


def test_the_next_spare_reader_starts_after_the_upload_that_took_the_last(monkeypatch):
    """A spare reader loads the checks (a core for a second or more): it must not start while
    the upload that took the last one still parses, but a while later."""
    from seen_core.read import sheets

    monkeypatch.setattr(sheets, "_keep_spare", False)  # put back as it was after the test
    monkeypatch.setattr(sheets, "_spare", None)
    started: list[bool] = []
    real = sheets._start_reader
    monkeypatch.setattr(
        sheets, "_start_reader", lambda warm=False: started.append(warm) or real(warm)
    )
    later: list[tuple[float, object]] = []  # what is to run, and after how long

    class Timer:  # the clock is the test's: a loaded machine cannot make it fire early
        def __init__(self, interval: float, function: object) -> None:
            later.append((interval, function))

        def start(self) -> None:
            pass

    monkeypatch.setattr(sheets.threading, "Timer", Timer)
    try:
        sheets.keep_reader_ready()
        assert started == [True]
        sheets.read_sheet_isolated("p.csv", b"Fornavn;Mobil\nOla;45860321\n")
        assert started == [True]  # the spare was taken, and no other started meanwhile
        assert [interval for interval, _ in later] == [sheets.SPARE_AFTER]
        later[0][1]()  # SPARE_AFTER seconds later
        assert started == [True, True] and sheets._spare.poll() is None
    finally:
        sheets._keep_spare = False
        if sheets._spare is not None:
            sheets._spare.kill()
            sheets._spare.wait()


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
               asdict(CheckOptions()))  # fmt: skip
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


def test_the_reader_of_uploads_is_given_no_token(monkeypatch):
    """The process that parses other people's files gets what Python needs to start, not the
    server's environment: a file made to take over its parser finds no token there."""
    from seen_core.read import sheets

    monkeypatch.setenv("SEEN_API_TOKEN", "secret-token-for-test")
    monkeypatch.setenv("SEEN_API_TOKEN_SPRING", "another-secret")
    reader = sheets._start_reader()
    try:
        environment = Path(f"/proc/{reader.pid}/environ")
        if not environment.exists():
            pytest.skip("no /proc here to read a process's environment from")
        seen = environment.read_bytes()
    finally:
        reader.kill()
        reader.wait()
        for pipe in (reader.stdin, reader.stdout):
            pipe.close()
    assert b"secret" not in seen and b"SEEN_" not in seen
    # ... and it still reads, in the same environment
    sheet = sheets.read_sheet_isolated("p.csv", b"Fornavn;Mobil\nOla;45860321\n")
    assert sheet.columns == ["Fornavn", "Mobil"]
