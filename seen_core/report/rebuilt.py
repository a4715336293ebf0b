"""A report written anew: the plain workbook a CSV, XLS or ODS upload becomes (and an XLSX the
editor cannot change), and the report as CSV.

The plain workbook holds the upload's cells, numbers as numbers where the upload had numbers,
every sheet of a workbook, and the receivers' sheet with its title rows and each person on
their own row; `sheet.SheetEditor` then writes the receivers' rows into it, annotated.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import zipfile
from collections.abc import Sequence

from seen_core import i18n
from seen_core.errors import InputError
from seen_core.i18n import _
from seen_core.read.cells import column_letter
from seen_core.read.text_table import text_of
from seen_core.report.model import ReportInput, cell_text, legal_sheet_name
from seen_core.report.package import (
    CT_NS,
    CT_STYLES,
    CT_WORKBOOK,
    CT_WORKSHEET,
    PKG_REL_NS,
    REL_TYPE,
    Package,
)
from seen_core.report.plan import MAX_WIDTH, MIN_WIDTH, WIDTH_SAMPLE_ROWS, Grid, Plan, make_plan
from seen_core.report.styles import BOLD, DATE, DATETIME, PLAIN_STYLES, TIME
from seen_core.report.xml import (
    EXCEL_MAX_ROWS,
    MAIN_NS,
    REL_NS,
    XML_DECLARATION,
    attr_text,
    care_needed,
    excel_serial,
    inline_cell,
    number_cell,
    number_text,
    plain_number,
    text_cell,
)

# CSV formula injection (OWASP): Excel runs a cell starting with = + - @ (or tab/CR before one)
# as a formula, so such cells get a leading ' in the CSV. A plain number or phone number
# (`+4712345678`, `-5`, `+47 123 45 678`, `3,5`) is left as it is: it has no letters, so it
# cannot name a function, a cell reference or a DDE command, and a quote would spoil the phone
# numbers the user sends to SEEN. `+1+2` or `-1-2` still get the quote (operators inside).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d[\d ]*(?:[.,]\d+)?")


def plain_package(report: ReportInput, plan: Plan, grid: Grid | None) -> Package:
    """A new workbook holding the upload's cells (numbers as numbers where the upload had
    numbers), the receivers' sheet with its title rows and each person on their own row."""
    if grid is None or not grid.cells:
        receivers_name = legal_sheet_name(report.sheet_name)
        sheets = [(receivers_name, _grid_from_table(report, plan.positions), "visible")]
        receivers = 0
        typed = False
    else:
        taken: list[str] = []
        sheets = []
        for name, cells, state in grid.sheets:
            legal = legal_sheet_name(name, taken)
            taken.append(legal)
            sheets.append((legal, cells, state))
        receivers = grid.receivers
        typed = True
    last_row = max(plan.rows, default=plan.header_row)
    if last_row > EXCEL_MAX_ROWS or len(sheets[receivers][1]) > EXCEL_MAX_ROWS:
        raise InputError(
            _(
                "The sheet has more rows than Excel can hold ({rows}); download the report "
                "as CSV instead."
            ).format(rows=i18n.number(EXCEL_MAX_ROWS))
        )
    numbers = "csv" if grid is not None and grid.from_csv else "typed" if typed else "text"

    package = Package()
    package.write("[Content_Types].xml", "")  # written last, when every part is known
    package.write(
        "_rels/.rels",
        f'{XML_DECLARATION}<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
        f'Type="{REL_TYPE}officeDocument" Target="xl/workbook.xml"/></Relationships>',
    )
    entries, rels, overrides = [], [], []
    for number, (name, cells, visibility) in enumerate(sheets, start=1):
        part = f"xl/worksheets/sheet{number}.xml"
        is_receivers = number - 1 == receivers
        header = plan.header_row if is_receivers else None
        package.write(part, _plain_sheet(cells, header, numbers, is_receivers))
        # A hidden sheet stays hidden, and a very hidden one (only a macro can show it) so.
        hidden = visibility != "visible" and not is_receivers
        state = f' state="{visibility}"' if hidden else ""
        entries.append(
            f'<sheet name="{attr_text(name)}" sheetId="{number}"{state} r:id="rId{number}"/>'
        )
        rels.append(
            f'<Relationship Id="rId{number}" Type="{REL_TYPE}worksheet" '
            f'Target="worksheets/sheet{number}.xml"/>'
        )
        overrides.append(f'<Override PartName="/{part}" ContentType="{CT_WORKSHEET}"/>')
    styles_id = len(sheets) + 1
    rels.append(f'<Relationship Id="rId{styles_id}" Type="{REL_TYPE}styles" Target="styles.xml"/>')
    package.write(
        "xl/workbook.xml",
        f'{XML_DECLARATION}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        f'<bookViews><workbookView activeTab="{receivers}"/></bookViews>'
        f"<sheets>{''.join(entries)}</sheets></workbook>",
    )
    package.write(
        "xl/_rels/workbook.xml.rels",
        f'{XML_DECLARATION}<Relationships xmlns="{PKG_REL_NS}">{"".join(rels)}</Relationships>',
    )
    package.write("xl/styles.xml", PLAIN_STYLES)
    package.write(
        "[Content_Types].xml",
        f'{XML_DECLARATION}<Types xmlns="{CT_NS}">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{CT_WORKBOOK}"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{CT_STYLES}"/>'
        f"{''.join(overrides)}</Types>",
    )
    package.receivers = (f"xl/worksheets/sheet{receivers + 1}.xml", sheets[receivers][0], receivers)
    package.rows = (sheets[receivers][1], numbers)
    return package


def _grid_from_table(report: ReportInput, positions: dict[str, int]) -> list[list[object]]:
    """The receivers' sheet rebuilt from the table alone: the user's columns where they stood,
    each person on their row (the columns the app added come with SEEN's)."""
    table = text_of(report.table)
    rows = [int(r) for r in table.rows]
    width = max(positions.values(), default=-1) + 1
    cells: list[list[object]] = [[] for _ in range(max(rows, default=report.header_row))]
    header: list[object] = [""] * width
    for column, position in positions.items():
        header[position] = column
    cells[report.header_row - 1] = header
    if list(positions) == list(table.columns) and list(positions.values()) == list(range(width)):
        # the usual case: the table as it stands
        lines = [list(line) for line in zip(*(table.column(c) for c in positions), strict=True)]
        if not positions:
            lines = [[] for _ in rows]
    else:
        lines = [[""] * width for _ in rows]
        for column, position in positions.items():
            for line, value in zip(lines, table.column(column), strict=True):
                line[position] = value
    for row, line in zip(rows, lines, strict=True):
        cells[row - 1] = line  # texts; anything else is written as its text
    return cells


def _plain_sheet(
    cells: list[list[object]], header_row: int | None, numbers: str, receivers: bool
) -> str:
    """One worksheet of the upload's cells (see `grid_cells` for `numbers`). The receivers'
    sheet is left without rows: the report writes them, annotated, in one go."""
    widths: list[int] = []
    for line in cells[:WIDTH_SAMPLE_ROWS]:
        widths += [0] * (len(line) - len(widths))
        for c, value in enumerate(line):
            if value not in ("", None):
                widths[c] = max(widths[c], len(value if type(value) is str else cell_text(value)))
    rows = []
    if not receivers:
        for r, line in enumerate(grid_cells(cells, numbers, None), start=1):
            xml = "".join(line)
            if xml:
                rows.append(f'<row r="{r}">{xml}</row>')
    cols = "".join(
        f'<col min="{i + 1}" max="{i + 1}" width="{_width(w)}" customWidth="1"/>'
        for i, w in enumerate(widths)
        if w
    )
    view = ""
    if header_row is not None:
        view = (
            f'<pane ySplit="{header_row}" topLeftCell="A{header_row + 1}" '
            'activePane="bottomLeft" state="frozen"/>'
        )
    selected = ' tabSelected="1"' if receivers else ""
    return (
        f'{XML_DECLARATION}<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        f'<sheetViews><sheetView{selected} workbookViewId="0">{view}</sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"{f'<cols>{cols}</cols>' if cols else ''}"
        f"<sheetData>{''.join(rows)}</sheetData>"
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        "</worksheet>"
    )


_NUMBER_START = frozenset("-0123456789")


def grid_cells(
    grid: list[list[object]], numbers: str, header_row: int | None
) -> list[tuple[str, ...]]:
    """Each row's cells of a rebuilt sheet, as XML, one entry per column ("" for none), made
    column by column: in a column the same few questions have the same answers.

    `numbers`: 'typed' keeps the reader's types, 'csv' writes plain numbers as numbers, 'text'
    writes every cell as text. The header row is bold and never numbers.
    """
    columns = []
    for index, column in enumerate(itertools.zip_longest(*grid, fillvalue="")):
        try:
            care = care_needed(column)  # type: ignore[arg-type]
        except TypeError:  # numbers and dates among the texts
            care = care_needed([v for v in column if type(v) is str])
        columns.append(_column_cells(column, column_letter(index), numbers, care))
        if header_row is not None and header_row <= len(column):
            value = column[header_row - 1]
            text = value if type(value) is str else cell_text(value)
            ref = f"{column_letter(index)}{header_row}"
            columns[-1][header_row - 1] = text_cell(ref, text, BOLD) if text else ""
    return list(zip(*columns, strict=True))


def _column_cells(column: Sequence[object], letter: str, numbers: str, care: int) -> list[str]:
    start = f'<c r="{letter}'
    csv_numbers = numbers == "csv"
    out = [""] * len(column)
    for i, value in enumerate(column):
        if type(value) is str:
            if not value:
                continue
            if csv_numbers and value[0] in _NUMBER_START:
                if value.isdigit():  # the usual number, without the regular expression
                    plain = len(value) <= 15 and value.isascii()
                    number = value if plain and (value[0] != "0" or len(value) == 1) else None
                else:
                    number = plain_number(value)
                if number is not None:
                    out[i] = f'{start}{i + 1}"><v>{number}</v></c>'
                    continue
            if care:
                out[i] = inline_cell(f"{letter}{i + 1}", value, 0, care)
            else:
                out[i] = f'{start}{i + 1}" t="inlineStr"><is><t>{value}</t></is></c>'
        elif value is not None:
            if numbers == "text":
                text = cell_text(value)
                out[i] = text_cell(f"{letter}{i + 1}", text) if text else ""
            else:
                out[i] = _typed_cell(f"{letter}{i + 1}", value, 0)
    return out


def _typed_cell(ref: str, value: object, style: int) -> str:
    kind = type(value)
    if kind is float or kind is int:
        number = number_text(value)  # type: ignore[arg-type]
        return number_cell(ref, number, style) if number is not None else ""
    if kind is bool:
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'  # type: ignore[call-overload]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        serial = excel_serial(value)
        if serial is not None:
            date_style = (
                TIME
                if isinstance(value, dt.time)
                else DATETIME
                if isinstance(value, dt.datetime) and value.time() != dt.time(0)
                else DATE
            )
            return number_cell(ref, number_text(serial) or "0", date_style)
    text = cell_text(value)
    return text_cell(ref, text, style) if text else ""


def _width(characters: int) -> int:
    return min(max(characters + 2, MIN_WIDTH), MAX_WIDTH)


# --- the report as CSV ----------------------------------------------------------------------------


def csv_report(report: ReportInput) -> bytes:
    """The report as CSV: the user's columns as fixed, then the columns the report adds."""
    plan = make_plan(report, None)
    table = text_of(report.table)
    columns = list(table.columns)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([_csv_safe(c) for c in [*columns, *(a.header for a in plan.added)]])
    for row, *values in zip(table.rows, *(table.column(c) for c in columns), strict=True):
        extra = [a.values.get(row, "") for a in plan.added]
        writer.writerow(
            [_csv_safe(v if type(v) is str else cell_text(v)) for v in (*values, *extra)]
        )
    return buffer.getvalue().encode("utf-8-sig")


def _csv_safe(value: str) -> str:
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


# --- what a rebuilt workbook lacks ---------------------------------------------------------------

# What a workbook may hold that a rebuilt one, made of its cells, does not: (words, how it is
# found: parts named so, or text in a worksheet, the workbook or the styles).
_BY_PART = [
    ("pictures", re.compile(r"^xl/media/")),
    ("charts", re.compile(r"^xl/(charts|chartsheets)/")),
    ("comments", re.compile(r"^xl/(comments|threadedcomments/)")),
    ("tables", re.compile(r"^xl/tables/")),
    ("pivot tables", re.compile(r"^xl/pivottables/")),
    ("macros", re.compile(r"vbaproject\.bin$")),
]
_IN_SHEETS = [
    ("merged cells", re.compile(rb"<(?:\w+:)?mergeCell\b")),
    ("formulas", re.compile(rb"<(?:\w+:)?f[ >]")),
    ("links", re.compile(rb"<(?:\w+:)?hyperlink\b")),
    ("data validation", re.compile(rb"<(?:\w+:)?dataValidation\b")),
    ("conditional formatting", re.compile(rb"<(?:\w+:)?conditionalFormatting\b")),
]
_NUMBER_FORMAT = re.compile(rb"""<(?:\w+:)?xf\b[^>]*\bnumFmtId\s*=\s*["']([1-9]\d*)["']""")
_FORMATTING = re.compile(rb"""\b(?:fontId|fillId|borderId)\s*=\s*["']([1-9]\d*)["']""")
_NAME = re.compile(rb"""<(?:\w+:)?definedName\b(?![^>]*name\s*=\s*["']_xlnm\._FilterDatabase)""")
_SCAN = 64_000_000  # a part is looked at up to this many bytes


def what_is_lost(source: bytes) -> list[str]:
    """What of the XLSX `source` a workbook rebuilt from its cells has not: ["pictures",
    "charts", "merged cells", ...], in that order, only what the workbook holds."""
    try:
        book = zipfile.ZipFile(io.BytesIO(source))
        names = {i.filename.replace("\\", "/").lstrip("/").lower(): i for i in book.infolist()}
    except (zipfile.BadZipFile, ValueError):
        return []

    def part(name: str) -> bytes:
        try:
            with book.open(names[name]) as opened:
                return opened.read(_SCAN)
        except (KeyError, zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
            return b""

    lost = [words for words, pattern in _BY_PART if any(pattern.search(n) for n in names)]
    sheets = [n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")]
    texts = [part(n) for n in sheets]
    for words, pattern in _IN_SHEETS:
        if any(pattern.search(text) for text in texts):
            lost.append(words)
    styles = part("xl/styles.xml")
    if any(number not in _BUILT_IN_KEPT for number in _NUMBER_FORMAT.findall(styles)):
        lost.append("number formats")
    if _FORMATTING.search(styles):
        lost.append("cell formatting")
    if _NAME.search(part("xl/workbook.xml")):
        lost.append("named ranges")
    if any(
        n.startswith("xl/drawings/") and n.endswith(".xml") and b"<xdr:sp" in part(n) for n in names
    ):
        lost.append("shapes")
    return lost


# Excel's built-in number formats a rebuilt workbook shows the same way: General, and the
# dates and times it writes with formats of its own.
_BUILT_IN_KEPT = {b"14", b"15", b"16", b"17", b"18", b"19", b"20", b"21", b"22"}


def lacks_sentences(file_name: str, why: str, lost: list[str]) -> tuple[str, ...]:
    """What to tell the user of a workbook that had to be rebuilt from its cells."""
    first = _(
        "{file} could not be annotated in place ({why}), so the report is a new workbook made "
        "from its cells."
    ).format(file=file_name, why=why)
    if not lost:
        return (first,)
    listed = (
        lost[0]
        if len(lost) == 1
        else _("{some} or {last}").format(some=", ".join(lost[:-1]), last=lost[-1])
    )
    return (first, _("The new workbook has no {listed} of the original.").format(listed=listed))
