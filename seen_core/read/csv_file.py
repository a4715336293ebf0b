"""A CSV file's cells: its bytes decoded (UTF-8 with or without BOM, UTF-16, a Western 8-bit
code, or UTF-8 and Windows-1252 mixed line by line), its delimiter sniffed, its rows read within
the upload limits."""

from __future__ import annotations

import csv
import io
import re

from seen_core.errors import SheetError
from seen_core.i18n import _
from seen_core.read.limits import Limits, cell_too_long, check_extent

DELIMITERS = (",", ";", "\t", "|")

# A letter of a Western language in UTF-8 (æ ø å é ü …: C3 and a continuation byte), a no-break
# space or a sign such as « or °, or typographic punctuation (’ “ ” – — € …). Text in an 8-bit
# code holds none of these pairs by accident: there, Ã or Â before ¸, ™ or ’ is garbled text.
# (Each pattern starts with its lead byte: a search for a byte is fast, one for a set is not.)
_UTF8_WESTERN = tuple(
    map(re.compile, (rb"\xc3[\x80-\xbf]", rb"\xc2[\x80-\xbf]", rb"\xe2[\x80-\x82][\x80-\xbf]"))
)


def decode_text(data: bytes) -> str:
    """Decode CSV bytes: UTF-8 (± BOM), UTF-16 with BOM, else a detected Western 8-bit code;
    a file that mixes UTF-8 and Windows-1252 lines line by line (`decode_mixed`)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:  # a cut-off or fake BOM: let the checks below judge the bytes
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    mixed = decode_mixed(data)
    if mixed is not None:
        return mixed
    from charset_normalizer import from_bytes

    # Exports from Norwegian CRMs are Windows-1252 nearly always; let the detector choose only
    # among the Western single-byte codes, and prefer cp1252 where it and Latin-1 agree.
    best = from_bytes(
        data[:200_000], cp_isolation=["cp1252", "latin_1", "iso8859_15", "mac_roman", "cp850"]
    ).best()
    encoding = best.encoding if best is not None else "cp1252"
    if encoding in ("latin_1", "iso8859_15"):
        encoding = "cp1252"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return data.decode("latin_1")


def decode_mixed(data: bytes) -> str | None:
    """Bytes that are not UTF-8 as a whole, but hold lines that are, decoded line by line: as
    UTF-8 where a line is valid UTF-8, else as Windows-1252 (Latin-1 for the five bytes that
    code leaves out). None when the bytes hold no Western letter in UTF-8: one 8-bit code then.

    Such files come from rows pasted or appended from another export: a UTF-8 "Bjørn" and a
    Windows-1252 "Bjørn" are then both read as "Bjørn".
    """
    if not any(pattern.search(data) for pattern in _UTF8_WESTERN):
        return None
    return "\n".join(map(_decode_line, data.removeprefix(b"\xef\xbb\xbf").split(b"\n")))


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:
        return line.decode("latin_1")


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    if "\x00" in sample:
        return True
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\r\n\t\f")
    return controls > max(3, len(sample) // 100)


def sniff_delimiter(text: str) -> str:
    """The delimiter (`,` `;` tab `|`) that splits the most lines into the same number of fields."""
    lines = [line for line in text[:1_000_000].splitlines()[:60] if line.strip()]
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:  # e.g. a cell over the length limit: reading the file will say so
            continue
        widths = [w for w in widths if w > 1]
        if not widths:
            continue
        common = max(set(widths), key=widths.count)
        score = (widths.count(common), common)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_csv(file_name: str, data: bytes, limits: Limits) -> list[list[str]]:
    """The file's rows of cells, as long as each row is; rows, columns, cells and each cell's
    length held to the limits as they are read (LimitError)."""
    text = decode_text(data)
    if _looks_binary(text):
        raise SheetError(
            _("'{file}' does not look like a CSV file: it holds binary data.").format(
                file=file_name
            )
        )
    delimiter = sniff_delimiter(text)
    # The csv module's field limit is the cell limit, checked in C as it reads. It is a setting
    # of the whole process; this is the only CSV reader in SEEN Sender.
    csv.field_size_limit(limits.cell_chars)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    grid: list[list[str]] = []
    width, most_rows, most_columns, most_cells = 0, limits.rows, limits.columns, limits.cells
    try:
        for row in reader:  # rows, columns and cells counted as they come: memory stays bounded
            grid.append(row)
            if len(row) > width:
                width = len(row)
            if len(grid) > most_rows or width > most_columns or len(grid) * width > most_cells:
                check_extent(f"'{file_name}'", len(grid), width, limits)
    except csv.Error as error:
        if "field limit" in str(error):
            raise cell_too_long(f"'{file_name}'", limits, len(grid) + 1) from None
        raise SheetError(
            _("'{file}' could not be read as CSV: {why}.").format(file=file_name, why=error)
        ) from None
    return grid
