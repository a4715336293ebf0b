"""Files the tests build for themselves: messy Norwegian workbooks, Windows-1252 CSVs, ODS, junk."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import xlsxwriter

HEADER = ["Kundenr", "Fornavn", "Etternavn", "E-post", "Mobil", "Kjønn", "Antall mil", "Bilde"]

# (row in Excel, cells) — numbers stay numbers, as a CRM export stores them.
MESSY_ROWS: list[tuple[int, list[object]]] = [
    (5, [100, "Ola", "Nordmann", "ola@example.no", 4745860321, "M", 12, "https://img.example.com/ola.jpg"]),
    (6, [101, "", "Hansen", "kari@example.no", 45860322, "K", 7.5, ""]),
    (7, [102, "Per", "Berg", "per@@example", 45860323, "M", 3, ""]),
    # row 8 is blank
    (9, [100, "Kari", "Dahl", "kari.dahl@example.no", 45860324, "K", 1, ""]),
    (10, [104, "Nils", "Ås", "nils@example.no", 12345, "M", 0, ""]),
    (11, [105, "Eva", "Lie", "", "", "K", 2, ""]),
    (12, [106, " Åse ", "Øren", " ase@example.no ", "+47 458 60 326", "K", 1, "https://x.example/a.JPG"]),
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
    header = ["Customer ID", "First name", "Last name", "Email", "Mobile", "City", "Score", "Joined"]
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
