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


def messy_workbook() -> bytes:
    """A Norwegian export: a notes sheet first, title rows above the header, numbers as numbers."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
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
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": True})
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
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
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
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
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
