"""A big XLSX worksheet cut between rows into small workbooks, to parse on every core at once.

calamine parses a worksheet on one core, without holding the interpreter's lock. Cut into
pieces, each a workbook of its own with the original's workbook part, shared strings and
styles and the worksheet's rows of that piece, the sheet parses in one thread per piece; the
pieces' cells go back together by where each piece starts (`sheets` does that).

Only a worksheet written the plain way is cut: unprefixed tags, and a row number (`r`) on the
first row of every piece. Anything else gives None, and the sheet is parsed whole as before;
so does a piece that fails to parse, or rows out of order (the caller checks).
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
import zlib

from seen_core import bulk
from seen_core.limits import MB, _xlsx_sheet_parts

SMALL = 6 * MB  # of worksheet XML: below it, one parse takes a fraction of a second anyway
MOST_PIECES = 4

# Parts no sheet's values come from, left out of the pieces (with the other worksheets). Every
# other part is kept: the workbook and its relationships (the sheet's name and part, dates from
# 1904), the shared strings, the styles (which numbers are dates), and whatever is unknown here.
_LEFT_OUT = (
    "docProps/",
    "customXml/",
    "xl/media/",
    "xl/drawings/",
    "xl/charts/",
    "xl/chartsheets/",
    "xl/embeddings/",
    "xl/pivotCache/",
    "xl/pivotTables/",
    "xl/printerSettings/",
    "xl/externalLinks/",
    "xl/worksheets/",
    "xl/vbaProject.bin",
)
_SHEET_DATA = b"<sheetData>"
_SHEET_DATA_END = b"</sheetData>"
_ROW = b"<row "
_ROW_NUMBER = re.compile(rb'<row [^>]*?\br="\d+"')


def pieces_for(data: bytes, sheet: str, count: int | None = None) -> list[bytes] | None:
    """The workbook `data` as `count` workbooks (default: one per core, at most four), each
    holding the sheet named `sheet` with a run of its rows, in row order; None where the sheet
    is small, not an XLSX worksheet written the plain way, or the file cannot be cut."""
    count = min(count or bulk.cores(), MOST_PIECES)
    if count < 2:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            names = set(book.namelist())
            if "xl/workbook.xml" not in names:
                return None
            part = next((p for p, s in _xlsx_sheet_parts(book, names).items() if s == sheet), None)
            if part is None or book.getinfo(part).file_size < SMALL:
                return None
            xml = book.read(part)
            kept = {
                name: book.read(name)
                for name in names
                if name != part and not name.startswith(_LEFT_OUT)
            }
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, KeyError, RuntimeError):
        return None  # damaged or encrypted: the whole parse gives the sentence for it
    cuts = _row_cuts(xml, count)
    if cuts is None:
        return None
    head, tail = xml[: cuts[0]], xml[cuts[-1] :]
    rows = memoryview(xml)
    books = []
    for start, end in itertools.pairwise(cuts):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as piece:
            for name, content in kept.items():
                piece.writestr(name, content)
            with piece.open(part, "w") as stream:
                stream.write(head)
                stream.write(rows[start:end])
                stream.write(tail)
        books.append(out.getvalue())
    return books


def _row_cuts(xml: bytes, count: int) -> list[int] | None:
    """Offsets in the worksheet XML: where its rows begin, where each further piece's first row
    begins, where its rows end. None when the rows are not there in the plain form."""
    begin = xml.find(_SHEET_DATA)
    end = xml.rfind(_SHEET_DATA_END)
    if begin < 0 or end < begin:
        return None
    begin += len(_SHEET_DATA)
    cuts = [begin]
    for k in range(1, count):
        at = xml.find(_ROW, max(begin + (end - begin) * k // count, cuts[-1] + 1), end)
        if at < 0:
            break
        if not _ROW_NUMBER.match(xml, at):
            return None
        cuts.append(at)
    if len(cuts) < 2:  # one piece: nothing to gain
        return None
    cuts.append(end)
    return cuts
