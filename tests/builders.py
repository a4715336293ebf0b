"""Files the tests build for themselves: messy Norwegian workbooks, Windows-1252 CSVs, ODS, junk."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pandas as pd
import xlsxwriter

HEADER = ["Kundenr", "Fornavn", "Etternavn", "E-post", "Mobil", "Kjønn", "Antall mil", "Bilde"]

# (row in Excel, cells) — numbers stay numbers, as a CRM export stores them.
MESSY_ROWS: list[tuple[int, list[object]]] = [
    (
        5,
        [
            100,
            "Ola",
            "Nordmann",
            "ola@example.no",
            4745860321,
            "M",
            12,
            "https://img.example.com/ola.jpg",
        ],
    ),
    (6, [101, "", "Hansen", "kari@example.no", 45860322, "K", 7.5, ""]),
    (7, [102, "Per", "Berg", "per@@example", 45860323, "M", 3, ""]),
    # row 8 is blank
    (9, [100, "Kari", "Dahl", "kari.dahl@example.no", 45860324, "K", 1, ""]),
    (10, [104, "Nils", "Ås", "nils@example.no", 12345, "M", 0, ""]),
    (11, [105, "Eva", "Lie", "", "", "K", 2, ""]),
    (
        12,
        [
            106,
            " Åse ",
            "Øren",
            " ase@example.no ",
            "+47 458 60 326",
            "K",
            1,
            "https://x.example/a.JPG",
        ],
    ),
]
MESSY_ROW_COUNT = len(MESSY_ROWS)


def _workbook(buffer: io.BytesIO, options: dict | None = None) -> xlsxwriter.Workbook:
    """An xlsxwriter workbook that comes out the same bytes every time (xlsxwriter stamps the
    time of writing in the file's properties, so two builds a second apart would differ)."""
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, **(options or {})})
    book.set_properties({"created": dt.datetime(2026, 11, 20, 9, 0)})
    return book


def messy_workbook() -> bytes:
    """A Norwegian export: a notes sheet first, title rows above the header, numbers as numbers."""
    buffer = io.BytesIO()
    book = _workbook(buffer)
    notes = book.add_worksheet("Notater")
    notes.write_string(0, 0, "Husk å sende før fredag")
    notes.write_string(1, 0, "Spør Kari om bildene")
    sheet = book.add_worksheet("Mottakere")
    sheet.write_string(0, 0, "Kundeliste høst 2026")
    sheet.write_string(1, 0, "Eksportert fra CRM 2026-11-20")
    for col, name in enumerate(HEADER):
        sheet.write_string(3, col, name)
    for excel_row, cells in MESSY_ROWS:
        for col, value in enumerate(cells):
            if isinstance(value, (int, float)):
                sheet.write_number(excel_row - 1, col, value)
            elif value != "":
                sheet.write_string(excel_row - 1, col, value)
    book.close()
    return buffer.getvalue()


def windows_csv() -> bytes:
    """A semicolon CSV in Windows-1252 with Norwegian letters, as Excel on Windows saves it."""
    lines = [
        "Fornavn;Etternavn;Mobil;E-post;Kjønn",
        "Ørjan;Sæther;45860321;orjan@example.no;M",
        "Åshild;Bø;+4745860322;ashild@example.no;K",
        "Jens;Hæhre;004745860323;;M",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def ods_bytes(tmp: Path) -> bytes:
    frame = pd.DataFrame(
        {"First name": ["Anna", "Bo"], "Phone": ["+4745860321", "45860322"], "Id": ["a1", "a2"]}
    )
    path = tmp / "people.ods"
    frame.to_excel(path, engine="odf", index=False)
    return path.read_bytes()


def big_workbook(rows: int) -> bytes:
    """An 8-column XLSX of `rows` clean receivers (used by tests sparingly and by bench/)."""
    buffer = io.BytesIO()
    book = _workbook(buffer, {"constant_memory": True})
    sheet = book.add_worksheet("People")
    header = [
        "Customer ID",
        "First name",
        "Last name",
        "Email",
        "Mobile",
        "City",
        "Score",
        "Joined",
    ]
    for col, name in enumerate(header):
        sheet.write_string(0, col, name)
    for i in range(rows):
        r = i + 1
        sheet.write_number(r, 0, 100000 + i)
        sheet.write_string(r, 1, f"Name{i}")
        sheet.write_string(r, 2, f"Surname{i % 977}")
        sheet.write_string(r, 3, f"person{i}@example.com")
        sheet.write_number(r, 4, 40000000 + i)
        sheet.write_string(r, 5, ("Oslo", "Bergen", "Trondheim", "Tromsø")[i % 4])
        sheet.write_number(r, 6, i % 100)
        sheet.write_string(r, 7, "2026-01-15")
    book.close()
    return buffer.getvalue()


def csv_bytes(
    rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8", bom: bool = False
) -> bytes:
    """A CSV as a spreadsheet program saves it (CRLF line ends, quoting only where needed)."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" if bom else b"") + data


def clean_workbook() -> bytes:
    """Three receivers that pass every check, with a customer ID column."""
    buffer = io.BytesIO()
    book = _workbook(buffer)
    sheet = book.add_worksheet("People")
    sheet.write_row(0, 0, ["Customer ID", "First name", "Email", "Mobile"])
    sheet.write_row(1, 0, ["c1", "Anna", "anna@example.com", "+4745860321"])
    sheet.write_row(2, 0, ["c2", "Bo", "bo@example.com", "45860322"])
    sheet.write_row(3, 0, ["c3", "Cy", "", "+46701234567"])
    book.close()
    return buffer.getvalue()


def cells_workbook() -> bytes:
    """Cells of every kind a user types: dates, decimals, text with leading zeros, blank and
    repeated headers, a blank row in the middle."""
    buffer = io.BytesIO()
    book = _workbook(buffer)
    sheet = book.add_worksheet("Ark1")
    date_format = book.add_format({"num_format": "dd.mm.yyyy"})
    sheet.write_row(0, 0, ["Fornavn", "Født", "", "Postnr", "Fornavn", "Beløp"])
    sheet.write_string(1, 0, "Ola")
    sheet.write_datetime(1, 1, dt.datetime(1990, 5, 17), date_format)
    sheet.write_string(1, 2, "x")
    sheet.write_string(1, 3, "0150")
    sheet.write_string(1, 4, "Ola Jr")
    sheet.write_number(1, 5, 1234.5)
    # row 3 is blank
    sheet.write_string(3, 0, "Kari")
    sheet.write_datetime(3, 1, dt.datetime(2001, 12, 31), date_format)
    sheet.write_string(3, 3, "0001")
    sheet.write_number(3, 5, 1000000)
    book.close()
    return buffer.getvalue()


def xls_bytes() -> bytes | None:
    """A real BIFF8 .xls written by xlwt, or None when xlwt is not installed."""
    try:
        import xlwt  # type: ignore[import-not-found]
    except ImportError:
        return None
    book = xlwt.Workbook()
    sheet = book.add_sheet("Mottakere")
    for col, name in enumerate(["Fornavn", "Mobil", "Kundenr"]):
        sheet.write(0, col, name)
    sheet.write(1, 0, "Ørjan")
    sheet.write(1, 1, 4745860321)
    sheet.write(1, 2, 100)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- files made to exhaust a reader: each must be refused in one sentence ------------------------


def _zip(parts: list[tuple[str, bytes, int, int, bool]]) -> bytes:
    """A zip of (name, data as stored, CRC-32, unpacked size, deflated?) entries, written by
    hand (the reader's own zip writer, `xlsx_pieces._zip`) so that a part can be deflated
    ahead (see `_deflated_repeat`)."""
    from seen_core.read.xlsx_pieces import _zip as zip_by_hand

    return zip_by_hand(
        [
            (name, (stored,), 8 if deflated else 0, crc, len(stored), size)
            for name, stored, crc, size, deflated in parts
        ]
    )


def _deflated_repeat(head: bytes, chunk: bytes, times: int, tail: bytes) -> tuple[bytes, int, int]:
    """head + chunk × times + tail, deflated in a moment however large: (data, CRC-32, size).

    Each piece ends with a full flush, so the deflated chunk is the same bytes every time."""
    import zlib

    def piece(data: bytes, last: bool = False) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return packer.compress(data) + packer.flush(zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH)

    crc = zlib.crc32(head)
    for _ in range(times):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    data = piece(head) + piece(chunk) * times + piece(tail, last=True)
    return data, crc, len(head) + len(chunk) * times + len(tail)


def _xlsx_parts(sheet_xml: bytes | None = None, strings_xml: bytes | None = None) -> list:
    """The parts of a one-sheet workbook written by xlsxwriter, with the sheet or the shared
    strings replaced."""
    import zipfile
    import zlib

    buffer = io.BytesIO()
    book = _workbook(buffer)
    book.add_worksheet("Ark1").write_string(0, 0, "Fornavn")
    book.close()
    parts = []
    with zipfile.ZipFile(buffer) as source:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml" and sheet_xml is not None:
                data = sheet_xml
            if info.filename == "xl/sharedStrings.xml" and strings_xml is not None:
                data = strings_xml
            packer = zlib.compressobj(6, zlib.DEFLATED, -15)
            parts.append(
                (info.filename, packer.compress(data) + packer.flush(), zlib.crc32(data),
                 len(data), True)
            )  # fmt: skip
    return parts


_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
    b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def workbook_of_cells(cells: dict[str, str], dimension: str | None) -> bytes:
    """A one-sheet XLSX of text cells by reference ({"A1": "Fornavn"}), declaring `dimension`
    (the truth, a lie, or nothing when None), as any program could write it."""
    declared = f'<dimension ref="{dimension}"/>'.encode() if dimension else b""
    rows: dict[int, list[str]] = {}
    for ref, text in cells.items():
        number = int("".join(c for c in ref if c.isdigit()))
        rows.setdefault(number, []).append(f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>')
    data = "".join(f'<row r="{n}">{"".join(found)}</row>' for n, found in sorted(rows.items()))
    sheet = _SHEET_HEAD + declared + f"<sheetData>{data}</sheetData></worksheet>".encode()
    return _zip(_xlsx_parts(sheet_xml=sheet))


def corner_bomb(dimension: str | None = "A1:XFD1048576") -> bytes:
    """5 KB: one cell at A1 and one at XFD1048576; a reader building the grid wants 512 GB.

    `dimension` is what the sheet declares: the truth, a lie ("A1"), or nothing (None)."""
    return workbook_of_cells({"A1": "Fornavn", "XFD1048576": "x"}, dimension)


def long_string_bomb(size: int = 1024**3) -> bytes:
    """About 1 MB holding one shared string of `size` characters (1 GB by default)."""
    strings, crc, unpacked = _deflated_repeat(
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns='
        b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        b"<si><t>",
        b"a" * (1024 * 1024),
        size // (1024 * 1024),
        b"</t></si></sst>",
    )
    sheet = _SHEET_HEAD + (
        b'<dimension ref="A1"/><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>'
        b"</sheetData></worksheet>"
    )
    parts = [p for p in _xlsx_parts(sheet_xml=sheet) if p[0] != "xl/sharedStrings.xml"]
    return _zip([*parts, ("xl/sharedStrings.xml", strings, crc, unpacked, True)])


def repeated_rows_bomb(
    rows: int = 1_048_576, columns: int = 20, dimension: str | None = None
) -> bytes:
    """A small XLSX of the same row over and over, down to Excel's last row, declaring the
    size it has (or `dimension`, a lie)."""
    row = b"<row>" + b'<c t="s"><v>0</v></c>' * columns + b"</row>"
    per_chunk = 2048
    dimension = dimension or f"A1:{column_letter_of(columns)}{rows}"
    sheet, crc, unpacked = _deflated_repeat(
        _SHEET_HEAD + f'<dimension ref="{dimension}"/><sheetData>'.encode(),
        row * per_chunk,
        rows // per_chunk,
        b"</sheetData></worksheet>",
    )
    strings = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns='
        b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        b"<si><t>Ola</t></si></sst>"
    )
    parts = [p for p in _xlsx_parts(strings_xml=strings) if p[0] != "xl/worksheets/sheet1.xml"]
    return _zip([*parts, ("xl/worksheets/sheet1.xml", sheet, crc, unpacked, True)])


def column_letter_of(number: int) -> str:
    letters = ""
    while number:
        number, rem = divmod(number - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def ods_repeat_bomb(rows: int = 1_048_576, columns: int = 16_384) -> bytes:
    """An ODS of a few hundred bytes whose one cell with a value is repeated across the grid."""
    import zipfile

    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Ark1">'
        "<table:table-column/>"
        f'<table:table-row table:number-rows-repeated="{rows}">'
        f'<table:table-cell table:number-columns-repeated="{columns}" office:value-type="string">'
        "<text:p>Ola</text:p></table:table-cell></table:table-row>"
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        book.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        book.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def long_cell_csv(length: int = 200_000) -> bytes:
    """A CSV whose second line holds a cell longer than the csv module's field limit (128 KB)."""
    return b"Fornavn,Notat\nOla," + b"x" * length + b"\nKari,kort\n"


def too_many_rows_csv(rows: int = 1_048_577) -> bytes:
    """A CSV with more rows than Excel holds (a header and rows - 1 people)."""
    return b"Fornavn\n" + b"Ola\n" * (rows - 1)
