"""A big XLSX worksheet cut between rows into small workbooks, to parse on every core at once.

calamine parses a worksheet on one core, without holding the interpreter's lock. Cut into
pieces, each a workbook of its own with the original's workbook part, shared strings and
styles and the worksheet's rows of that piece, the sheet parses on every core, a thread a
core taking the pieces in turn; the pieces' cells go back together by where each piece starts
(`workbook.read_in_pieces` does that). The pieces are zipped here by hand: the kept parts
copied as they are packed, the worksheet's piece stored; only the worksheet is inflated (and
its checksum checked, as calamine would).

Only a worksheet written the plain way is cut: unprefixed tags, and a row number (`r`) on the
first row of every piece. Anything else gives None, and the sheet is parsed whole as before;
so does a piece that fails to parse, or rows out of order (the caller checks).

A command that writes the report right after the read keeps the worksheet's XML inflated here
(`keeping_sheet`) for the report to take (`kept_sheet`) instead of inflating it again.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import re
import struct
import zipfile
from collections.abc import Iterator

from isal import isal_zlib  # zlib's API on Intel's ISA-L: inflates and checksums 2-3x faster

from seen_core import interpreter as bulk
from seen_core.read.limits import MB
from seen_core.read.workbook_limits import packed_part, sheet_parts

SMALL = 6 * MB  # of worksheet XML: below it, one parse takes a fraction of a second anyway
MOST_PIECES = 4
BIG_SHARED = 16  # shared strings (xl/sharedStrings.xml) over a 16th of the sheet: one piece a core

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

_keeping = False
_kept: tuple[bytes, str, bytes] | None = None  # (the workbook, the sheet's part, its XML)


@contextlib.contextmanager
def keeping_sheet() -> Iterator[None]:
    """Keep the XML of the worksheet cut meanwhile, until `kept_sheet` hands it out (a
    command's report, made right after the read: never the app's, whose reads are in
    processes of their own)."""
    global _keeping, _kept
    _keeping = True
    try:
        yield
    finally:
        _keeping, _kept = False, None


def _keep(data: bytes, part: str, xml: bytes) -> None:
    global _kept
    if _keeping:
        _kept = (data, part, xml)


def kept_sheet(data: bytes, part: str) -> bytes | None:
    """The XML of `part` (as the zip names it) of the workbook `data`, the very bytes cut
    while `keeping_sheet`, as inflated and checked then; handed out once."""
    global _kept
    if _kept is None or _kept[0] is not data or _kept[1] != part:
        return None
    xml, _kept = _kept[2], None
    return xml


def pieces_for(
    data: bytes, sheet: str | None, count: int | None = None
) -> tuple[str, list[bytes]] | None:
    """(the sheet's name, the workbook `data` as `count` workbooks), each holding the sheet
    named `sheet` (None: the workbook's only worksheet) with a run of its rows, in row order.
    None where the sheet is small, not an XLSX worksheet written the plain way, not there or
    not the only one, or the file cannot be cut.

    By default two pieces a core (at most four), so that the first pieces' cells become text
    while the last still parse (see `workbook.read_in_pieces`); one a core where the shared strings
    are big, since every piece reads them all."""
    if (bulk.cores() if count is None else count) < 2:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            names = set(book.namelist())
            if "xl/workbook.xml" not in names:
                return None
            parts = sheet_parts(book, names)
            if sheet is None and len(parts) == 1:
                sheet = next(iter(parts.values()))
            part = next((p for p, s in parts.items() if s == sheet), None)
            if sheet is None or part is None or book.getinfo(part).file_size < SMALL:
                return None
            infos = [book.getinfo(part)] + [
                info
                for info in book.infolist()
                if info.filename != part and not info.filename.startswith(_LEFT_OUT)
            ]
        shared = sum(i.file_size for i in infos if i.filename == "xl/sharedStrings.xml")
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, RuntimeError):
        return None  # damaged: the whole parse gives the sentence for it
    if count is None:
        count = bulk.cores() * (2 if shared < infos[0].file_size // BIG_SHARED else 1)
    count = min(count, MOST_PIECES)
    raw = [_raw_entry(data, info) for info in infos]
    if any(entry is None for entry in raw):
        return None
    try:
        xml = _inflated(*raw[0][1:3]) if infos[0].compress_type else bytes(raw[0][1])
    except isal_zlib.error:
        return None
    if len(xml) != infos[0].file_size or isal_zlib.crc32(xml) != infos[0].CRC:
        return None
    _keep(data, infos[0].filename, xml)
    cuts = _row_cuts(xml, count)
    if cuts is None:
        return None
    head, tail = xml[: cuts[0]], xml[cuts[-1] :]
    rows = memoryview(xml)
    head_crc = isal_zlib.crc32(head)
    books = []
    for start, end in itertools.pairwise(cuts):
        crc = isal_zlib.crc32(tail, isal_zlib.crc32(rows[start:end], head_crc))
        size = len(head) + (end - start) + len(tail)
        piece = (infos[0].filename, (head, rows[start:end], tail), 0, crc, size, size)
        books.append(_zip([piece, *(entry[0] for entry in raw[1:])]))
    return sheet, books


# A zip entry: (name, data in chunks, method, CRC-32, packed size, size).
_Entry = tuple[str, tuple[bytes | memoryview, ...], int, int, int, int]
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")


def _raw_entry(data: bytes, info: zipfile.ZipInfo) -> tuple[_Entry, memoryview, int] | None:
    """A part as packed in `data`, ready to copy: None for what a copy cannot keep as it is
    (encrypted, zip64, an unknown method)."""
    if max(info.compress_size, info.file_size, info.header_offset) >= 0xFFFFFFFF:
        return None
    packed = packed_part(data, info)
    if packed is None:
        return None
    entry = (info.filename, (packed,), info.compress_type, info.CRC, info.compress_size,
             info.file_size)  # fmt: skip
    return entry, packed, info.file_size


def _inflated(packed: memoryview, size: int) -> bytes:
    inflater = isal_zlib.decompressobj(-15)
    return inflater.decompress(packed, size) + inflater.flush()


def _zip(entries: list[_Entry]) -> bytes:
    chunks: list[bytes | memoryview] = []
    central = []
    offset = 0
    for name, data, method, crc, packed, size in entries:
        encoded = name.encode()
        local = _LOCAL.pack(0x04034B50, 20, 0x800, method, 0, 0x21, crc, packed, size,
                            len(encoded), 0)  # fmt: skip
        chunks += [local, encoded, *data]
        central.append(
            _CENTRAL.pack(0x02014B50, 20, 20, 0x800, method, 0, 0x21, crc, packed, size,
                          len(encoded), 0, 0, 0, 0, 0, offset) + encoded
        )  # fmt: skip
        offset += len(local) + len(encoded) + packed
    directory = b"".join(central)
    chunks += [directory, _END.pack(0x06054B50, 0, 0, len(entries), len(entries), len(directory),
                                    offset, 0)]  # fmt: skip
    return b"".join(chunks)


def _shares(count: int) -> list[int]:
    """How big each of `count` pieces is, against the others: the first and the last a quarter
    smaller than the rest (of two, the first). Pieces of one size are parsed by the threads at
    one pace, so their cells become text (which holds the interpreter's lock) at one time, on
    one core, while the other waits: a 100,000-row sheet read 0.1-0.15 s slower, as a rule. A
    smaller first piece puts one thread's text where the other still parses, and a smaller last
    one ends the threads about together."""
    if count <= 2:
        return [3, 4][:count]
    return [3] + [4] * (count - 2) + [3]


def _row_cuts(xml: bytes, count: int) -> list[int] | None:
    """Offsets in the worksheet XML: where its rows begin, where each further piece's first row
    begins, where its rows end. None when the rows are not there in the plain form."""
    begin = xml.find(_SHEET_DATA)
    end = xml.rfind(_SHEET_DATA_END)
    if begin < 0 or end < begin:
        return None
    begin += len(_SHEET_DATA)
    cuts = [begin]
    shares = _shares(count)
    total, done = sum(shares), 0
    for share in shares[:-1]:
        done += share
        at = xml.find(_ROW, max(begin + (end - begin) * done // total, cuts[-1] + 1), end)
        if at < 0:
            break
        if not _ROW_NUMBER.match(xml, at):
            return None
        cuts.append(at)
    if len(cuts) < 2:  # one piece: nothing to gain
        return None
    cuts.append(end)
    return cuts
