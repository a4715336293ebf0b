"""A big worksheet parsed in pieces, one thread each, reads exactly as when parsed whole."""

from __future__ import annotations

import datetime as dt
import io
import struct
import threading
import time
import zipfile
from types import SimpleNamespace

import pytest
import python_calamine
import xlsxwriter
from builders import HEADER, messy_workbook
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seen_core import interpreter as bulk
from seen_core.errors import SheetError
from seen_core.read import workbook, xlsx_pieces
from seen_core.read.cells import text_columns
from seen_core.read.limits import LimitError, Limits
from seen_core.read.sheets import read_grid, read_sheet

LIMITS = Limits()


@pytest.fixture(autouse=True)
def cut_any_size(monkeypatch):
    """The tests' workbooks are small: cut them all the same, in three pieces."""
    monkeypatch.setattr(xlsx_pieces, "SMALL", 0)
    monkeypatch.setattr(bulk, "cores", lambda: 3)


def whole(data: bytes, sheet: str, limits: Limits = LIMITS) -> list[list[str]]:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    return text_columns(workbook.sheet_grid(book, "p.xlsx", sheet, limits))


def in_pieces(data: bytes, sheet: str | None, limits: Limits = LIMITS) -> list[list[str]] | None:
    found = workbook.read_in_pieces("p.xlsx", data, sheet, limits)
    return None if found is None else found[2]


def test_a_messy_export_reads_the_same_in_pieces(monkeypatch):
    data = messy_workbook()
    for count in (2, 3, 4):
        monkeypatch.setattr(bulk, "cores", lambda count=count: count)
        assert len(xlsx_pieces.pieces_for(data, "Mottakere")[1]) == count
        assert in_pieces(data, "Mottakere") == whole(data, "Mottakere")
    here = read_sheet("p.xlsx", data)  # two sheets: picked from the whole, as before
    assert here.sheet_name == "Mottakere" and here.columns == HEADER
    assert here.table.loc[12, "Fornavn"] == " Åse " and here.table.loc[5, "Mobil"] == "4745860321"


def test_the_only_sheet_is_read_in_pieces_without_opening_the_whole_workbook(monkeypatch):
    data = _workbook([["Fornavn", "Mobil"], *[[f"Navn {i}", 45860000 + i] for i in range(40)]],
                     top=2, left=1, date_1904=False)  # fmt: skip
    with monkeypatch.context() as whole_read:
        whole_read.setattr(xlsx_pieces, "SMALL", 10**9)
        expected = read_grid("p.xlsx", data, None, LIMITS)

    def not_opened(*args, **kwargs):
        raise AssertionError("the whole workbook was opened")

    monkeypatch.setattr(workbook, "open_workbook", not_opened)
    assert read_grid("p.xlsx", data, None, LIMITS) == expected == (["Ark1"], "Ark1", expected[2])
    assert expected[2][1][2:5] == ["Fornavn", "Navn 0", "Navn 1"]


def test_a_workbook_of_several_sheets_is_picked_from_whole_when_no_sheet_is_named():
    assert xlsx_pieces.pieces_for(messy_workbook(), None) is None
    names, name, _ = read_grid("p.xlsx", messy_workbook(), None, LIMITS)
    assert (names, name) == (["Notater", "Mottakere"], "Mottakere")


def test_a_chosen_sheet_among_several_is_the_one_cut():
    data = messy_workbook()
    assert in_pieces(data, "Notater") == whole(data, "Notater")
    assert read_grid("p.xlsx", data, "Notater", LIMITS)[2][0][:2] == [
        "Husk å sende før fredag",
        "Spør Kari om bildene",
    ]


_CELL = st.one_of(
    st.none(),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(),
    st.dates(dt.date(1905, 1, 1), dt.date(2100, 1, 1)),
    st.datetimes(dt.datetime(1905, 1, 1), dt.datetime(2100, 1, 1)),
)


def _workbook(rows: list[list[object]], top: int, left: int, date_1904: bool) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "date_1904": date_1904})
    sheet = book.add_worksheet("Ark1")
    dates = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, (dt.date, dt.datetime)):
                sheet.write_datetime(top + r, left + c, value, dates)
            elif isinstance(value, str):
                sheet.write_string(top + r, left + c, value)
            else:
                sheet.write(top + r, left + c, value)
    book.close()
    return buffer.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.integers(1, 5).flatmap(
        lambda width: st.lists(
            st.lists(_CELL, min_size=width, max_size=width), min_size=3, max_size=30
        )
    ),
    top=st.integers(0, 3),
    left=st.integers(0, 2),
    date_1904=st.booleans(),
)
def test_any_sheet_reads_the_same_in_pieces_as_whole(rows, top, left, date_1904):
    data = _workbook(rows, top, left, date_1904)
    expected = whole(data, "Ark1")
    got = in_pieces(data, "Ark1")
    if got is None:  # a piece without a cell: read whole, as the caller does
        assert read_grid("p.xlsx", data, "Ark1", LIMITS)[2] == expected
    else:
        assert got == expected
        assert workbook.read_in_pieces("p.xlsx", data, None, LIMITS) == (["Ark1"], "Ark1", expected)


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _sheet(rows: str, prefix: str = "") -> bytes:
    """A one-sheet workbook of these rows of XML, the tags prefixed with `prefix:` if given."""
    p, colon = (f"{prefix}:", f":{prefix}") if prefix else ("", "")
    xml = (
        f'<?xml version="1.0"?><{p}worksheet xmlns{colon}="{_MAIN}">'
        f"<{p}sheetData>{rows}</{p}sheetData></{p}worksheet>"
    )
    return _with_sheet_xml(_workbook([["Fornavn"]], 0, 0, False), xml.encode())


def _with_sheet_xml(data: bytes, xml: bytes) -> bytes:
    """The workbook with its one worksheet's XML replaced."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as copy:
        for info in source.infolist():
            part = xml if info.filename == "xl/worksheets/sheet1.xml" else source.read(info)
            copy.writestr(info.filename, part, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _row(number: int | None, *cells: str, prefix: str = "") -> str:
    p = f"{prefix}:" if prefix else ""
    r = f' r="{number}"' if number else ""
    inner = "".join(f'<{p}c t="inlineStr"><{p}is><{p}t>{c}</{p}t></{p}is></{p}c>' for c in cells)
    return f"<{p}row{r} >{inner}</{p}row>"


def test_rows_out_of_order_are_read_whole_and_right():
    rows = "".join(_row(n, f"a{n}", f"b{n}") for n in (1, 2, 3, 20, 21, 22, 4, 5, 6))
    data = _sheet(rows)
    assert xlsx_pieces.pieces_for(data, "Ark1") is not None  # cut, but the pieces overlap
    assert in_pieces(data, "Ark1") is None
    columns = read_grid("p.xlsx", data, "Ark1", LIMITS)[2]
    assert columns == whole(data, "Ark1")
    assert columns[0][3] == "a4" and columns[0][19] == "a20"


@pytest.mark.parametrize(
    "data",
    [
        _sheet("".join(_row(None, f"a{n}") for n in range(30))),  # rows without numbers
        _sheet("".join(_row(n, f"a{n}", prefix="x") for n in range(1, 30)), prefix="x"),
        _sheet(""),  # no rows at all
    ],
    ids=["no row numbers", "prefixed tags", "no rows"],
)
def test_a_sheet_not_written_the_plain_way_is_not_cut(data):
    assert xlsx_pieces.pieces_for(data, "Ark1") is None
    read_grid("p.xlsx", data, "Ark1", LIMITS)  # and still reads as before


def test_a_small_sheet_is_not_cut(monkeypatch):
    monkeypatch.setattr(xlsx_pieces, "SMALL", 6 * 1024 * 1024)
    assert xlsx_pieces.pieces_for(messy_workbook(), "Mottakere") is None


def test_one_core_parses_whole(monkeypatch):
    monkeypatch.setattr(bulk, "cores", lambda: 1)
    assert xlsx_pieces.pieces_for(messy_workbook(), "Mottakere") is None


def _people(strings: str) -> bytes:
    """400 people, their names as shared strings or written in the cells themselves."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": strings == "shared",
                                        "constant_memory": strings == "in the cells"})  # fmt: skip
    sheet = book.add_worksheet("Ark1")
    for r in range(400):
        sheet.write_row(r, 0, [f"Fornavn {r}", f"Etternavn {r}", 45860000 + r])
    book.close()
    return buffer.getvalue()


@pytest.mark.parametrize("cores, strings, pieces", [
    (2, "in the cells", 4), (3, "in the cells", 4), (2, "shared", 2), (3, "shared", 3),
])  # fmt: skip
def test_two_pieces_a_core_unless_every_piece_would_read_many_shared_strings(
    monkeypatch, cores, strings, pieces
):
    monkeypatch.setattr(bulk, "cores", lambda: cores)
    data = _people(strings)
    assert ("xl/sharedStrings.xml" in zipfile.ZipFile(io.BytesIO(data)).namelist()) == (
        strings == "shared"
    )
    assert len(xlsx_pieces.pieces_for(data, "Ark1")[1]) == pieces
    assert in_pieces(data, "Ark1") == whole(data, "Ark1")


@pytest.mark.parametrize("cores, strings, shares", [
    (2, "in the cells", [3, 4, 4, 3]), (3, "in the cells", [3, 4, 4, 3]), (2, "shared", [3, 4]),
])  # fmt: skip
def test_the_first_and_last_pieces_are_smaller_so_the_threads_do_not_keep_step(
    monkeypatch, cores, strings, shares
):
    """Pieces of one size are parsed at one pace, and their cells made text (holding the
    interpreter's lock) at one time, one thread waiting for the other: the first and the last
    piece are a quarter smaller than the rest (of two, the first)."""
    monkeypatch.setattr(bulk, "cores", lambda: cores)
    data = _people(strings)
    pieces = xlsx_pieces.pieces_for(data, "Ark1")[1]
    rows = []
    for piece in pieces:
        with zipfile.ZipFile(io.BytesIO(piece)) as book:
            rows.append(book.read("xl/worksheets/sheet1.xml").count(b"<row "))
    assert sum(rows) == 400
    assert [round(n / 400 * sum(shares)) for n in rows] == shares
    assert in_pieces(data, "Ark1") == whole(data, "Ark1")


def test_the_pieces_are_parsed_by_no_more_threads_than_there_are_cores(monkeypatch):
    """More threads would parse no faster, and each keeps a malloc arena of its own (75 MB more
    at the peak of a 100k-row `validate --json` with four)."""
    monkeypatch.setattr(bulk, "cores", lambda: 2)
    data = _people("in the cells")
    now, most, lock, threads = 0, 0, threading.Lock(), set()
    real = python_calamine.CalamineWorkbook.from_filelike

    def opened(stream):
        nonlocal now, most
        with lock:
            threads.add(threading.get_ident())
            now += 1
            most = max(most, now)
        time.sleep(0.05)  # long enough for all four threads to be started meanwhile
        with lock:
            now -= 1
        return real(stream)

    watched = SimpleNamespace(**vars(python_calamine))
    watched.CalamineWorkbook = SimpleNamespace(from_filelike=opened)
    monkeypatch.setattr(workbook, "python_calamine", watched)
    assert len(xlsx_pieces.pieces_for(data, "Ark1")[1]) == 4
    assert in_pieces(data, "Ark1") == whole(data, "Ark1")
    assert most == 2 and len(threads) == 2


def test_not_a_workbook_or_no_such_sheet_is_not_cut():
    assert xlsx_pieces.pieces_for(b"Fornavn;Mobil\nOla;1\n", "Ark1") is None
    assert xlsx_pieces.pieces_for(messy_workbook(), "Finnes ikke") is None


def test_a_cell_past_the_limits_in_a_later_piece_is_refused_as_when_whole():
    rows = "".join(_row(n, f"a{n}") for n in range(1, 30))
    far = '<row r="40"><c r="Z40" t="inlineStr"><is><t>langt ute</t></is></c></row>'
    data = _sheet(rows + far)
    limits = Limits(columns=10)
    with pytest.raises(LimitError) as whole_error:
        whole(data, "Ark1", limits)
    with pytest.raises(LimitError) as pieces_error:
        in_pieces(data, "Ark1", limits)
    assert str(pieces_error.value) == str(whole_error.value)
    assert "26 columns" in str(pieces_error.value)


def test_a_cell_too_long_in_a_later_piece_is_refused_with_its_row_as_when_whole(monkeypatch):
    rows = "".join(_row(n, f"a{n}", "x" * (30 if n == 25 else 5)) for n in range(1, 30))
    data = _sheet(rows)
    limits = Limits(cell_chars=20)
    assert len(xlsx_pieces.pieces_for(data, "Ark1")[1]) == 4  # row 25 is in the last piece
    with pytest.raises(LimitError) as pieces_error:
        read_grid("p.xlsx", data, "Ark1", limits)
    monkeypatch.setattr(xlsx_pieces, "SMALL", 10**9)  # read whole
    with pytest.raises(LimitError) as whole_error:
        read_grid("p.xlsx", data, "Ark1", limits)
    assert str(pieces_error.value) == str(whole_error.value)
    assert str(pieces_error.value).startswith("Row 25 of the sheet 'Ark1' in 'p.xlsx' holds a cell")


def test_cells_too_long_in_several_pieces_are_refused_at_the_first_as_when_whole(monkeypatch):
    long_rows = (5, 12, 19, 26)  # one in each piece
    rows = "".join(_row(n, f"a{n}", "x" * (30 if n in long_rows else 5)) for n in range(1, 30))
    data = _sheet(rows)
    limits = Limits(cell_chars=20)

    def first_piece_last(grid):  # the first piece's cells become text after the others'
        if grid and grid[0] and grid[0][0] == "a1":
            time.sleep(0.3)
        return text_columns(grid)

    monkeypatch.setattr(workbook, "text_columns", first_piece_last)
    with pytest.raises(LimitError, match=r"^Row 5 of the sheet 'Ark1'"):
        read_grid("p.xlsx", data, "Ark1", limits)


def test_a_piece_that_does_not_parse_leaves_the_sentence_to_the_whole_parse():
    rows = "".join(_row(n, f"a{n}") for n in range(1, 30))
    broken = '<row r="30"><c r="A30" t="e"><v>#BAD</v></c></row>'  # no error Excel has
    data = _sheet(rows + broken)
    assert in_pieces(data, "Ark1") is None
    with pytest.raises(SheetError) as error:
        read_grid("p.xlsx", data, "Ark1", LIMITS)
    assert str(error.value) == "The sheet 'Ark1' in 'p.xlsx' could not be read."


class _Unseekable(io.RawIOBase):
    """A stream zipfile cannot seek back in, so it writes each part's sizes after its data."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, chunk) -> int:
        self.data += chunk
        return len(chunk)


def _repacked(data: bytes, how: str) -> bytes:
    """The same workbook zipped again: every part stored, or deflated with the sizes after."""
    out = _Unseekable() if how == "sizes after" else io.BytesIO()
    method = zipfile.ZIP_STORED if how == "stored" else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", method) as copy:
        for info in source.infolist():
            copy.writestr(info.filename, source.read(info.filename))
    return bytes(out.data) if how == "sizes after" else out.getvalue()


@pytest.mark.parametrize("how", ["stored", "sizes after"])
def test_a_workbook_zipped_another_way_reads_the_same_in_pieces(how):
    data = _repacked(messy_workbook(), how)
    assert xlsx_pieces.pieces_for(data, "Mottakere") is not None
    assert in_pieces(data, "Mottakere") == whole(messy_workbook(), "Mottakere")


def test_a_damaged_worksheet_is_not_cut_and_is_refused_as_before():
    data = bytearray(_repacked(messy_workbook(), "stored"))
    at = data.rindex(b"<sheetData>")  # the last worksheet stored: Mottakere
    data[at + 20] ^= 0x01  # one bit of it: its CRC no longer matches
    data = bytes(data)
    assert xlsx_pieces.pieces_for(data, "Mottakere") is None
    with pytest.raises(SheetError) as error:
        read_grid("p.xlsx", data, "Mottakere", LIMITS)
    assert "could not be" in str(error.value)


@pytest.mark.parametrize("where", [0.05, 0.5, 0.9])
def test_a_damaged_packed_worksheet_is_not_cut_and_is_refused_as_before(where):
    data = bytearray(messy_workbook())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet2.xml")
    assert info.compress_type == zipfile.ZIP_DEFLATED
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    begin = info.header_offset + 30 + name_length + extra_length
    data[begin + int(info.compress_size * where)] ^= 0x10  # one bit of the deflated stream
    data = bytes(data)
    assert xlsx_pieces.pieces_for(data, "Mottakere") is None
    with pytest.raises(SheetError) as error:
        read_grid("p.xlsx", data, "Mottakere", LIMITS)
    assert "could not be" in str(error.value)


def test_a_commands_report_takes_the_sheet_the_read_inflated(monkeypatch, tmp_path):
    """`validate --report`: the report edits the very workbook the read cut (not the file read
    again), and takes its sheet's XML from the read instead of inflating it again."""
    from cli_runner import run_cli

    from seen_core.report import package

    path = tmp_path / "mottakere.xlsx"
    path.write_bytes(messy_workbook())
    handed: list[tuple[str, bool]] = []

    def kept(data: bytes, part: str) -> bytes | None:
        xml = xlsx_pieces.kept_sheet(data, part)
        handed.append((part, xml is not None))
        return xml

    monkeypatch.setattr(package, "kept_sheet", kept)
    reading = xlsx_pieces.pieces_for

    def read_then_change(data: bytes, sheet: str | None, count: int | None = None):
        found = reading(data, sheet, count)
        path.write_bytes(b"changed since it was read")  # the report is of what was read
        return found

    monkeypatch.setattr(workbook.xlsx_pieces, "pieces_for", read_then_change)
    kept_way = run_cli("validate", path, "--sheet", "Mottakere", "--report", tmp_path / "kept.xlsx")
    assert ("xl/worksheets/sheet2.xml", True) in handed
    assert xlsx_pieces._kept is None  # nothing held once the command is done

    path.write_bytes(messy_workbook())
    monkeypatch.setattr(package, "kept_sheet", lambda data, part: None)
    monkeypatch.setattr(workbook.xlsx_pieces, "pieces_for", reading)
    inflated_again = run_cli(
        "validate", path, "--sheet", "Mottakere", "--report", tmp_path / "again.xlsx"
    )
    assert kept_way.returncode == inflated_again.returncode == 1
    with (
        zipfile.ZipFile(tmp_path / "kept.xlsx") as kept_book,
        zipfile.ZipFile(tmp_path / "again.xlsx") as again_book,
    ):
        sheet = "xl/worksheets/sheet2.xml"
        assert b"Kundeliste" in kept_book.read("xl/sharedStrings.xml")
        assert kept_book.read(sheet) == again_book.read(sheet)
