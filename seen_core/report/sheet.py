"""The receivers' sheet, edited in place: the report's columns appended to the header and the
people's rows, wrong cells filled and commented, fixed cells written in with their old value in
a comment, and widths, the filter, hyperlinks and comments added where SpreadsheetML wants them.

The sheet's XML is split at each `</row>`; rows the report does not touch are copied as bytes,
so a 100,000-row sheet is edited in well under a second. A rebuilt workbook's sheet is written
here too, from its grid (`SheetEditor.annotate`).
"""

from __future__ import annotations

import array
import bisect
import operator
import pickle
import re
from collections.abc import Callable
from typing import Any

from seen_core.errors import InputError
from seen_core.i18n import _, number
from seen_core.read.cells import column_index, column_letter
from seen_core.report.comments import add_notes, has_notes, new_drawing, notes_parts
from seen_core.report.package import Package, Packer
from seen_core.report.parallel import Early, Elsewhere, Helper, forking
from seen_core.report.plan import MAX_WIDTH, MIN_WIDTH, WIDTH_SAMPLE_ROWS, Added, Plan
from seen_core.report.rebuilt import grid_cells
from seen_core.report.styles import AMBER, BOLD, RED, STATUS_FILLS, Styles
from seen_core.report.xml import (
    CELL_COLUMN,
    CELL_REF,
    CELL_STYLE,
    EXCEL_MAX_COLUMNS,
    EXCEL_MAX_LINKS,
    ROW_NUMBER,
    SPANS,
    STYLE_ATTR,
    TYPE_ATTR,
    NotInPlace,
    Part,
    attribute_prefix,
    care_needed,
    element_name,
    inline_cell,
    number_cell,
    plain_number,
    prefix_of,
    prefixed,
    set_attrs,
    text_cell,
    utf8_xml,
)

# Where a sheet's header and people's rows are: (number, start of its tag, end of its tag, start
# of its end tag) each, the columns the widest reaches, the header's last style (`scan`).
Scan = tuple[list[tuple[int, int, int, int]], int, int]
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_SHEET_DATA = re.compile(rb"<((?:[\w.-]+:)?)sheetData\b")
# Of the report's cells, the share made by this process while a child makes the rest (and then
# the notes): so that the two end about together (0.3 left this process last, 0.2 left it waiting
# for the notes).
_FIRST_ROWS_HERE = 0.25
_NUMBER = operator.itemgetter(0)  # of a row's place (`Scan`): its number, taken in C
_BODY = "<!--seen-sender: the rows-->"  # where the rows go back, in the sheet without them
# The rows' bytes are joined and deflated this many pieces at a time (some 4,000 rows, 2 MB).
_PIECES_AT_A_TIME = 16_384

# The order of a worksheet's elements after <sheetData> (ECMA-376 CT_Worksheet): to add one,
# it goes before the first element that must follow it.
_WORKSHEET_TAIL = [
    "sheetCalcPr",
    "sheetProtection",
    "protectedRanges",
    "scenarios",
    "autoFilter",
    "sortState",
    "dataConsolidate",
    "customSheetViews",
    "mergeCells",
    "phoneticPr",
    "conditionalFormatting",
    "dataValidations",
    "hyperlinks",
    "printOptions",
    "pageMargins",
    "pageSetup",
    "headerFooter",
    "rowBreaks",
    "colBreaks",
    "customProperties",
    "cellWatches",
    "ignoredErrors",
    "smartTags",
    "drawing",
    "legacyDrawing",
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
]


class SheetEditor:
    """Appends the report's columns to the receivers' sheet and marks cells, row by row.

    The sheet's XML is split at each `</row>`; rows the report does not touch are copied as
    bytes, so a 100,000-row sheet is edited in well under a second.
    """

    def __init__(
        self, package: Package, part: str, plan: Plan, styles: Styles, *, rebuilt: bool
    ) -> None:
        self.package = package
        self.part = part
        self.plan = plan
        self.styles = styles
        self.rebuilt = rebuilt
        xml = utf8_xml(package.read(part))
        # The sheet without its rows: small, so it is read with its namespaces, and every
        # element the report adds or changes outside the rows is found there.
        found = _SHEET_DATA.search(xml)
        if found is None:
            raise NotInPlace("its sheet of people has no rows")
        open_end = xml.find(b">", found.end()) + 1
        self.body_start = open_end
        if xml[open_end - 2 : open_end] == b"/>":
            raise NotInPlace("its sheet of people has no rows")
        close_tag = b"</" + found.group(1) + b"sheetData"
        self.body_end = xml.find(close_tag, open_end)
        if open_end <= 0 or self.body_end < 0:
            raise NotInPlace("its sheet of people has no end")
        self.xml = xml
        skeleton = xml[:open_end] + _BODY.encode() + xml[self.body_end :]
        self.skeleton = Part(skeleton)
        root = self.skeleton.root
        self.main = package.dialect.main
        self.rel = package.dialect.rel
        if root.ns != self.main or root.local != "worksheet":
            raise NotInPlace("its sheet of people is not written as SpreadsheetML's")
        sheet_data = self.skeleton.first(self.main, "sheetData")
        if sheet_data is None or sheet_data.parent is not root:
            raise NotInPlace("its rows are not where SpreadsheetML puts them")
        self.prefix = prefix_of(sheet_data.qname)  # the rows' cells are written with it
        self.root = root
        self.merges = _merges(self.skeleton, self.main)
        self.comments: dict[tuple[int, int], str] = {}
        self.links: list[tuple[str, str]] = []
        self.dropped_formulas = False
        self.last_header_style = 0
        self.filter_ref = ""
        self.appended: list[dict[int, str]] | None = None
        self.drawing: tuple[str, bool] = ("", False)  # the notes' drawing; whether it is theirs
        # Work made from the plan alone that a forked child may do while the rows are written
        # (see report/parallel.py): the caller's (`also`), its answer, and the child.
        self.also: Callable[[], Any] | None = None
        self.also_made: Any = None
        self.helper: Helper | None = None
        self.early: Early | Elsewhere | None = None  # begun before the plan: where the rows are
        self.notes_elsewhere = False  # the child makes the rows' notes (`_fork`)
        self.notes_to_come = False  # and there are some
        self.cell_refs: dict[int, bytes] = {}  # column → b'<c r="E' (`_mark_cells`)
        self.filled_tags: dict[tuple[bytes, str], bytes] = {}
        p = re.escape(self.prefix)
        self.cell_pattern = re.compile(rf"<{p}c\b([^>]*?)(?:/>|>.*?</{p}c>)", re.S)

    def annotate(self, grid: list[list[object]] | None = None, numbers: str = "typed") -> None:
        """Annotate the sheet's own rows; or, for a rebuilt workbook, write `grid`'s rows
        annotated into its empty sheet (`numbers` as for `grid_cells`)."""
        xml = self.xml
        try:
            if grid is None:
                body = self._rows(xml, self.body_start, self.body_end)
            else:
                packer = Packer()
                packer.add(self._grid_rows(grid, numbers))
                body = packer.packed(piece=True)
            self._head_and_tail()
            head, _, tail = self.skeleton.to_bytes().partition(_BODY.encode())
            self.package.write_around(self.part, head, body, tail)
            # The sheet as it came is not needed any more: its memory goes back before the
            # notes are written.
            del body
            self.xml = b""
            made = self.helper.result() if self.helper is not None else None
        except BaseException:
            if self.helper is not None:
                self.helper.abandon()
            raise
        parts = None
        if made is not None:
            parts, also_made = made
            if self.also is not None:
                self.also_made = also_made
        else:
            if self.notes_elsewhere:  # the child failed: its notes are made here
                self.comments = self._all_notes()
            if self.also is not None:
                self.also_made = self.also()
        self.notes_elsewhere = False
        vml_part, theirs = self.drawing
        if parts is not None:  # the child's notes, in parts of their own
            add_notes(self.package, self.part, [], vml_part, merge=False, made=parts)
        elif self.comments:
            notes = _off_merged_cells(self.comments, self.merges)
            add_notes(self.package, self.part, sorted(notes.items()), vml_part, merge=theirs)

    def _fork(self, first: Callable[[], Any] | None = None) -> None:
        """Once the rows are found and the report's columns placed: have a child make the
        notes, their drawing and the caller's `also` (after `first`, when given) while this
        process writes the rows, when the notes are all the plan's (nothing fixed in the app,
        whose notes depend on the cells) and go into parts of their own (the sheet has no
        comments or drawing yet)."""
        if (
            not forking(len(self.plan.rows))
            or self.plan.edits
            or self.skeleton.first(self.main, "legacyDrawing") is not None
            or has_notes(self.package, self.part)
        ):
            return
        self.helper = Helper(self._made_elsewhere, first)
        if self.helper.pid:
            # The rows' notes are the child's: here only whether there are any is known.
            self.notes_elsewhere = True
            self.notes_to_come = bool(self.comments) or any(
                self.column_of.get(name, self.first_free) < self.first_free
                for marks in self.plan.marks.values()
                for name in marks
            )

    def _made_elsewhere(self) -> tuple[object, Any]:
        """In the child: the notes' parts (None without notes), and the caller's `also`."""
        notes = self._all_notes()
        parts = None
        if notes:
            parts = notes_parts(self.package, sorted(_off_merged_cells(notes, self.merges).items()))
        return parts, (self.also() if self.also is not None else None)

    def _all_notes(self) -> dict[tuple[int, int], str]:
        """The notes the rows will have once written: those made so far and one on each wrong
        cell of the user's columns, as `_mark_cells` and `_change_cells` make them (the plan
        has no fixes here)."""
        notes = dict(self.comments)
        column_of, first_free = self.column_of, self.first_free
        for row, marks in self.plan.marks.items():
            for name, (_severity, reasons) in marks.items():
                column = column_of.get(name, first_free)
                if column < first_free:
                    key, text = (row, column), "\n".join(reasons)
                    notes[key] = f"{notes[key]}\n{text}" if key in notes else text
        return notes

    # rows ---------------------------------------------------------------------------------

    def _start(self, width: int) -> None:
        """Place the report's columns after the user's last column (`width` of them)."""
        plan = self.plan
        if width + len(plan.added) > EXCEL_MAX_COLUMNS:
            raise InputError(
                _(
                    "The sheet has {width} columns; with SEEN's {added} it would have more than "
                    "Excel can hold ({most})."
                ).format(width=number(width), added=len(plan.added), most=number(EXCEL_MAX_COLUMNS))
            )
        self.first_free = width
        self.column_of = dict(plan.positions)
        for i, added in enumerate(plan.added):
            self.column_of.setdefault(added.header, width + i)
        styles = self.styles
        self.added_letters = [column_letter(width + i) for i in range(len(plan.added))]
        self.status_styles = {  # by the words the status column says
            status.label: styles.with_fill(0, rgb)
            for status, rgb in STATUS_FILLS.items()
            if status in plan.statuses.values()
        }
        if any(added.kind == "link" for added in plan.added):
            self.link_style = styles.with_font(0, "link")
        self.header_style = BOLD if self.rebuilt else self.last_header_style
        for column, note in plan.header_notes.items():
            if column in self.column_of:
                self._note(plan.header_row, self.column_of[column], note)
        for added in plan.added:
            if added.note:
                self._note(plan.header_row, self.column_of[added.header], added.note)

    def _rows(self, xml: bytes, start: int, stop: int) -> tuple[bytes, int, int]:
        """The sheet's own rows, between `start` and `stop` in `xml`, annotated and packed as
        the middle of the sheet's part (see `Packer`): the rows the report does not touch are
        copied as they are, and deflated `_PIECES_AT_A_TIME` at a time (the 60 MB of rows of a
        100,000-row sheet are never all in memory)."""
        plan = self.plan
        scanned = None
        if self.early is not None and self.early.answer("part") == self.part:
            scanned = self.early.answer("scan", plan.rows)
        if scanned is None:
            scanned = self.scan(xml, start, stop, plan.header_row, plan.rows)
        found, width, self.last_header_style = scanned
        self._start(max(width, plan.width))

        changed_rows = plan.marks.keys() | plan.edits.keys()
        if isinstance(found, bytes):  # found elsewhere: the places pickled, the rows beside
            rows = array.array("I", self.early.answer("rows")).tolist()  # type: ignore[union-attr]
        else:
            rows = list(map(_NUMBER, found))
        marked: dict[int, bytes] | None = None
        appended = None
        # Where a child may make the report's cells, it makes those of the later rows, first,
        # while this process marks the wrong cells and makes the cells of the first rows (they
        # touch no style, note or link of this process): the two are done at about one time.
        split = max(1, int(len(rows) * _FIRST_ROWS_HERE))
        if self._plain_appended() and len(rows) > split:
            self._fork(first=lambda: (self._appended_joined(rows[split:]),))
        if isinstance(found, bytes):
            # Unpickled after the fork: the places are then this process's pages alone, and
            # marking and copying the rows (which touch each place) do not fault on them again
            # (5,700 page faults for 100,000 rows).
            found = pickle.loads(found)
        if self.helper is not None and self.helper.pid:
            marked = self._marked_rows(xml, found, changed_rows)
            here = self._appended_joined(rows[:split])
            joined = self.helper.first_result()
            if joined is not None:
                if here is None or joined[0] is None:  # no cells of ours at all
                    appended = [b""] * len(rows)
                else:
                    appended = here.split(b"\x00") + joined[0].split(b"\x00")
        if appended is None:
            appended = self._appended_rows(rows)
        if self.helper is None:
            self._fork()
        if marked is None:  # after `_fork`: the notes are made here, or by the child alone
            marked = self._marked_rows(xml, found, changed_rows)
        view = memoryview(xml)
        packer = Packer()
        pieces: list[bytes | memoryview] = []
        add = pieces.append
        done = start
        find = xml.find
        for (row, at, close, end), cells in zip(found, appended, strict=True):
            # The row's extent (spans="1:8"), which SEEN's columns would outgrow, is left out:
            # the bytes before it and after it are copied, as they are, up to the cells' end.
            cut = find(b' spans="', at, close)
            if cut >= 0:
                add(view[done:cut])
                done = xml.index(b'"', cut + 8) + 1
            elif find(b"spans", at, close) >= 0:  # written another way: the pattern's work
                add(view[done:at])
                add(SPANS.sub(b"", xml[at : close + 1]))
                done = close + 1
            if row in changed_rows:
                add(view[done : close + 1])
                add(marked[row])
            else:
                add(view[done:end])
            add(cells)
            done = end
            if len(pieces) > _PIECES_AT_A_TIME:
                packer.add(b"".join(pieces))
                pieces.clear()
        add(view[done:stop])
        packer.add(b"".join(pieces))
        return packer.packed(piece=True)

    def scan(self, xml: bytes, start: int, stop: int, header_row: int, rows: list[int]) -> Scan:
        """Where the header row and the people's `rows` are, between `start` and `stop` in
        `xml`: (number, start of its tag, end of its tag, start of its end tag) for each, in
        the sheet's order; how many columns the widest of them reaches; the style of the
        header's last cell. Made from the sheet alone (see report/parallel.py)."""
        wanted = {header_row, *rows}
        found = self._rows_found(xml, start, stop, wanted)
        if len(set(map(_NUMBER, found))) != len(wanted):
            raise NotInPlace("its rows are not numbered the way they were read")
        header = next(place for place in found if place[0] == header_row)
        width, header_style = self._extent(xml, header, with_style=True)
        # As a rule no cell reaches further right than the header's last: one search over the
        # rows says so, instead of looking for each row's last cell.
        if self._further_right(width).search(xml, found[0][1], stop):
            width = max(self._extent(xml, place)[0] for place in found)
        return found, width, header_style

    def _rows_found(
        self, xml: bytes, start: int, stop: int, wanted: set[int]
    ) -> list[tuple[int, int, int, int]]:
        """(number, start of its tag, end of its tag, start of its end tag) of each row in
        `wanted` between `start` and `stop` in `xml`, in the sheet's order."""
        p = self.prefix.encode()
        end_tag = b"</" + p + b"row>"
        start_tag = b"<" + p + b"row"
        numbered = start_tag + b' r="'
        found: list[tuple[int, int, int, int]] = []
        add, find, rfind, startswith = found.append, xml.find, xml.rfind, xml.startswith
        after_end, after_number = len(end_tag), len(numbered)  # each row's work kept small
        begin, previous = start, 0
        while (end := find(end_tag, begin, stop)) >= 0:
            # The row starts where the one before ended, as a rule; else (an empty row
            # between, written <row r="3"/>, or space) it is the last to start before its end.
            at = begin if startswith(start_tag, begin) else rfind(start_tag, begin, end)
            close = find(b">", at, end)
            if at >= 0 and xml[close - 1] == 47:  # "/": an empty row, not this one
                at = rfind(start_tag, begin, end)
                close = find(b">", at, end)
            if at < 0 or close < 0:
                raise NotInPlace("its rows are not written as SpreadsheetML's")
            if startswith(numbered, at):  # <row r="12" ...>: the usual way, without a pattern
                digits_at = at + after_number
                digits = xml[digits_at : find(b'"', digits_at, close)]
                row = int(digits) if digits.isdigit() else -1
            else:
                number = ROW_NUMBER.search(xml, at, close)
                row = int(number.group(1)) if number is not None else -1
            if row < 0:  # a row may go without its number: it follows the one before
                row = previous + 1 + xml.count(start_tag, begin, at)
            previous = row
            begin = end + after_end
            if row in wanted:
                add((row, at, close, end))
        return found

    def _extent(
        self, xml: bytes, place: tuple[int, int, int, int], with_style: bool = False
    ) -> tuple[int, int]:
        """How many columns the row at `place` reaches (its last cell's column and one), and
        the style of that cell when asked (0: none or not asked)."""
        _row, _at, close, end = place
        p = self.prefix.encode()
        cell_tag = b"<" + p + b"c "
        referenced = cell_tag + b'r="'
        find, rfind, startswith = xml.find, xml.rfind, xml.startswith
        last = rfind(cell_tag, close, end)
        if last >= 0 and startswith(referenced, last):  # <c r="F12" ...>: the usual way
            ref = xml[last + len(referenced) : find(b'"', last + len(referenced), end)]
            letters = ref.rstrip(b"0123456789")
            ref = letters if letters and ref != letters else None
        else:
            ref = CELL_REF.search(xml, last, find(b">", last, end)) if last >= 0 else None
            ref = ref.group(1) if ref is not None else None
        after = max(last, close)
        if (
            find(b"<" + p + b"c>", after, end) >= 0
            or find(b"<" + p + b"c/>", after, end) >= 0
            or (last >= 0 and ref is None)
        ):  # cells without their references: counted from the left
            cells = xml[close + 1 : end].decode("utf-8")
            column, last = _last_cell(cells, self.prefix)
            last += close + 1
        elif last < 0:
            return 0, 0  # no cells
        else:
            column = column_index(ref.decode())  # type: ignore[union-attr]
        style = CELL_STYLE.search(xml, last, find(b">", last, end)) if with_style else None
        return column + 1, int(style.group(1)) if style else 0

    def _further_right(self, width: int) -> re.Pattern[bytes]:
        """A cell at column `width` or further right, or one not written `<c r="B5"` (whose
        column only its row tells): any cell but those plainly left of `width`."""
        p = re.escape(self.prefix).encode()
        if width <= 0:
            return re.compile(rb"<%bc(?=[\s>/])" % p)
        letters = column_letter(width)
        shorter = f"[A-Z]{{1,{len(letters) - 1}}}" if len(letters) > 1 else ""
        left = "|".join(part for part in (shorter, _before(letters)) if part)
        return re.compile(rb'<%bc(?=[\s>/])(?! r="(?:%b)\d)' % (p, left.encode()))

    def _marked_rows(
        self, xml: bytes, found: list[tuple[int, int, int, int]], changed_rows: set[int]
    ) -> dict[int, bytes]:
        """Row → its cells changed (`_marked_row`), for each of `found` in `changed_rows`."""
        return {
            row: self._marked_row(row, xml, close, end)
            for row, _at, close, end in found
            if row in changed_rows
        }

    def _marked_row(self, row: int, xml: bytes, close: int, end: int) -> bytes:
        """The cells of a row with wrong or fixed cells (its tag ends at `close`, its cells at
        `end`), changed."""
        marked = None if row in self.plan.edits else self._mark_cells(row, xml, close + 1, end)
        if marked is None:
            text = xml[close + 1 : end].decode("utf-8")
            marked = self._change_cells(row, text).encode("utf-8")
        return marked

    def _plain_appended(self) -> bool:
        """Whether the report's own cells have no mark (a column the app added, wrong) and no
        link: made without a style, a note or a link of their own (a status's style is
        chosen in `_start`). A kind of column not named here is made by this process."""
        plan = self.plan
        for added in plan.added:
            if added.kind not in ("text", "status"):
                return False
            if (
                added.kind == "text"
                and added.header not in plan.positions
                and added.header in plan.marked_columns
            ):
                return False
        return True

    def _appended_rows(self, rows: list[int]) -> list[bytes]:
        """The cells the report adds to each of `rows`, as bytes."""
        joined = self._appended_joined(rows)
        return [b""] * len(rows) if joined is None else joined.split(b"\x00")

    def _appended_joined(self, rows: list[int]) -> bytes | None:
        """The cells the report adds to each of `rows`, made column by column and encoded in
        one go, a row's after another's with NUL between (None when there are none)."""
        if self.appended is None and rows and self.plan.added:
            lines = [self._added_line(i, added, rows) for i, added in enumerate(self.plan.added)]
        else:
            if self.appended is None:
                self.appended = [
                    self._added_cells(i, added) for i, added in enumerate(self.plan.added)
                ]
            if not rows or not self.appended:
                return None
            lines = [[cells.get(row, "") for row in rows] for cells in self.appended]
        self.appended = None  # each step's memory goes back as the next is made
        joined = "\x00".join(map("".join, zip(*lines, strict=True)))  # no cell of ours holds NUL
        del lines
        if self.prefix:
            joined = prefixed(joined, self.prefix)
        return joined.encode("utf-8")

    def _grid_rows(self, grid: list[list[object]], numbers: str) -> bytes:
        """The rows of a rebuilt sheet, annotated as they are written."""
        plan = self.plan
        wanted = {plan.header_row, *plan.rows}
        width = plan.width
        for row in wanted:
            line = grid[row - 1] if row <= len(grid) else ()
            for column in range(len(line) - 1, width - 1, -1):
                if line[column] not in ("", None):
                    width = column + 1
                    break
        self._start(width)
        changed_rows = plan.marks.keys() | plan.edits.keys()
        out = []
        for row, cells in enumerate(grid_cells(grid, numbers, plan.header_row), start=1):
            xml = "".join(cells)
            if row in changed_rows:
                xml = self._change_cells(row, xml)
            if row in wanted:
                xml += self._appended(row)
            if xml:
                out.append(f'<row r="{row}">{xml}</row>')
        return "".join(out).encode("utf-8")

    def _appended(self, row: int) -> str:
        """The cells the report adds to `row`, made column by column the first time."""
        if self.appended is None:
            self.appended = [self._added_cells(i, added) for i, added in enumerate(self.plan.added)]
        return "".join([cells[row] for cells in self.appended if row in cells])

    def _added_line(self, i: int, added: Added, rows: list[int]) -> list[str]:
        """The cells of one added column in `rows`' order ("" for a row without one), as
        `_added_cells` makes them: a status or plain text, the usual column, is made straight
        into the line (no dict of cells between)."""
        plan = self.plan
        plain = added.kind == "status" or (
            added.kind == "text"
            and (added.header in plan.positions or added.header not in plan.marked_columns)
        )
        header = plan.header_row
        values = added.values
        got = [values.get(row, "") for row in rows]
        texts = [value for row, value in zip(rows, got, strict=True) if value and row != header]
        if not plain or care_needed(texts):  # marks, links, text to escape: the careful way
            cells = self._added_cells(i, added)
            return [cells.get(row, "") for row in rows]
        ref = f'<c r="{self.added_letters[i]}'
        if added.kind == "status":
            styles = self.status_styles
            attribute = {value: styles.get(value, 0) for value in set(texts)}
            ends = {
                value: (f' s="{style}"' if style else "")
                + f' t="inlineStr"><is><t>{value}</t></is></c>'
                for value, style in attribute.items()
            }
            line = [
                f'{ref}{row}"{ends[value]}' if value else ""
                for row, value in zip(rows, got, strict=True)
            ]
        else:
            line = [
                f'{ref}{row}" t="inlineStr"><is><t>{value}</t></is></c>' if value else ""
                for row, value in zip(rows, got, strict=True)
            ]
        if header in rows:  # the header row comes first, as a rule
            line[rows.index(header)] = text_cell(
                f"{self.added_letters[i]}{header}", added.header, self.header_style
            )
        return line

    def _added_cells(self, i: int, added: Added) -> dict[int, str]:
        """Row → the cell of one added column, its header included."""
        plan = self.plan
        letter = self.added_letters[i]
        ref = f'<c r="{letter}'
        header = plan.header_row
        cells = {header: text_cell(f"{letter}{header}", added.header, self.header_style)}
        values = {row: value for row, value in added.values.items() if value and row != header}
        marked = []
        if added.kind == "text" and added.header not in plan.positions:
            if added.header in plan.marked_columns:
                marked = [row for row, found in plan.marks.items() if added.header in found]
            for row in marked:
                values.setdefault(row, "")  # a wrong cell is marked even when empty
        if added.kind == "status":
            status_styles = self.status_styles
            plain = {row: (value, status_styles.get(value, 0)) for row, value in values.items()}
        elif added.kind == "text" and not marked:
            plain = {row: (value, 0) for row, value in values.items()}
        else:  # links, and cells of a column the app added that are wrong: one by one
            plain = {}
            for row, value in values.items():
                style = 0
                mark = plan.marks[row][added.header] if row in marked else None
                if mark is not None:
                    style = self.styles.with_fill(0, RED if mark[0] == "error" else AMBER)
                    self._note(row, self.column_of[added.header], "\n".join(mark[1]))
                elif (
                    added.kind == "link"
                    and _is_web_link(value)
                    and len(self.links) < EXCEL_MAX_LINKS
                ):
                    self.links.append((f"{letter}{row}", value))
                    style = self.link_style
                plain[row] = (value, style)
        care = care_needed(values.values())
        if care or marked:
            for row, (value, style) in plain.items():
                if value:
                    cells[row] = inline_cell(f"{letter}{row}", value, style, care)
                else:
                    cells[row] = f'{ref}{row}" s="{style}"/>'

        else:
            attribute = {style: f' s="{style}"' if style else "" for _, style in plain.values()}
            for row, (value, style) in plain.items():
                s = attribute[style]
                cells[row] = f'{ref}{row}"{s} t="inlineStr"><is><t>{value}</t></is></c>'
        return cells

    def _mark_cells(self, row: int, xml: bytes, start: int, end: int) -> bytes | None:
        """The row's cells (`xml` from `start` to `end`) with its wrong cells filled, found
        and changed as bytes (the usual row: marks, no fix); None when a cell is not written
        as `<c r="E5"`, for `_change_cells` to do."""
        column_of, first_free = self.column_of, self.first_free
        marks = []
        for name, mark in self.plan.marks[row].items():
            column = column_of.get(name, first_free)
            if column < first_free:  # ours come later
                marks.append((column, mark))
        if len(marks) > 1:
            marks.sort()
        refs = self.cell_refs
        places, done = [], start
        for column, _mark in marks:  # every cell found first, then changed
            ref = refs.get(column)
            if ref is None:
                ref = refs[column] = f'<{self.prefix}c r="{column_letter(column)}'.encode()
            ref = b'%b%d"' % (ref, row)
            at = xml.find(ref, done, end)
            if at < 0:
                return None
            places.append(at + len(ref))
            done = at + 1
        # A cell's start tag after its reference (` s="3" t="s">`) → the same, filled: the
        # same few for every row, so each is worked out once.
        filled = self.filled_tags
        pieces, done = [], start
        for (column, (severity, reasons)), cut in zip(marks, places, strict=True):
            close = xml.find(b">", cut, end) + 1
            rest = xml[cut:close]
            new = filled.get((rest, severity))
            if new is None:
                new = filled[rest, severity] = self._filled(rest, severity)
            if not self.notes_elsewhere:
                self._note(row, column, "\n".join(reasons))
            pieces += [xml[done:cut], new]
            done = close
        pieces.append(xml[done:end])
        return b"".join(pieces)

    def _filled(self, tag: bytes, severity: str) -> bytes:
        """A cell's start tag (what follows its reference) in its style with the fill of
        `severity`."""
        found = CELL_STYLE.search(tag)
        style = self.styles.with_fill(
            int(found.group(1)) if found else 0, RED if severity == "error" else AMBER
        )
        if found is not None:
            return b"%b%d%b" % (tag[: found.start(1)], style, tag[found.end(1) :])
        cut = len(tag) - (2 if tag.endswith(b"/>") else 1)
        return b'%b s="%d"%b' % (tag[:cut], style, tag[cut:])

    def _change_cells(self, row: int, text: str) -> str:
        """The row's cells (XML) with the wrong cells filled and the fixed cells rewritten."""
        plan, p = self.plan, self.prefix
        changes: dict[int, tuple[tuple[str, list[str]] | None, tuple[str, str] | None]] = {}
        for name, mark in plan.marks.get(row, {}).items():
            column = self.column_of.get(name)
            if column is not None and column < self.first_free:  # ours are written later
                changes[column] = (mark, None)
        for name, edit in plan.edits.get(row, {}).items():
            column = plan.positions.get(name)
            if column is not None:
                changes[column] = (changes.get(column, (None, None))[0], edit)
        # Excel and the libraries write `<c r="E5"` first: found that way, a cell is replaced
        # where it stands; a cell that is not there (or written otherwise) needs a full parse.
        # Every cell is looked for before any is changed (and noted): else a row with a wrong
        # cell and an empty one had the first one's note twice.
        refs = {column: f'<{p}c r="{column_letter(column)}{row}"' for column in changes}
        if any(ref not in text for ref in refs.values()):
            return self._change_parsed(row, text, changes)
        for column in sorted(changes, reverse=True):
            at = text.find(refs[column])
            close = text.index(">", at)
            end = (
                close + 1 if text[close - 1] == "/" else text.index(f"</{p}c>", close) + 4 + len(p)
            )
            new = self._changed_cell(row, column, text[at:end], *changes[column])
            text = text[:at] + new + text[end:]
        return text

    def _change_parsed(self, row: int, text: str, changes: dict) -> str:  # type: ignore[type-arg]
        parsed: dict[int, str] = {}
        last = -1
        for match in self.cell_pattern.finditer(text):
            ref = CELL_COLUMN.search(match.group(1))
            column = column_index(ref.group(1)) if ref else last + 1
            last = column
            parsed[column] = (
                match.group(0)
                if ref
                else set_attrs(match.group(0), r=f"{column_letter(column)}{row}")
            )
        for column, (mark, edit) in changes.items():
            parsed[column] = self._changed_cell(row, column, parsed.get(column, ""), mark, edit)
        return "".join(parsed[c] for c in sorted(parsed))

    def _changed_cell(
        self,
        row: int,
        column: int,
        cell: str,
        mark: tuple[str, list[str]] | None,
        edit: tuple[str, str] | None,
    ) -> str:
        """One cell (its XML, or "" when there is none) after its mark and its fix."""
        p = self.prefix
        ref = f"{column_letter(column)}{row}"
        if mark is not None:
            self._note(row, column, "\n".join(mark[1]))
        if edit is not None:
            old, new = edit
            if re.search(rf"<{re.escape(p)}f\b[^>]*\bref\s*=", cell):
                # The first cell of a shared formula: its neighbours need it, so it stays.
                self._note(row, column, _edit_note(old, new, kept=True))
            else:
                if f"<{p}f" in cell:
                    self.dropped_formulas = True
                style = _style_of(cell) if cell else 0
                number = plain_number(new) if cell and _holds_number(cell) else None
                if not new:
                    cell = f'<c r="{ref}" s="{style}"/>' if style else f'<c r="{ref}"/>'
                elif number is not None:
                    cell = number_cell(ref, number, style)
                else:
                    cell = text_cell(ref, new, style)
                if p:
                    cell = prefixed(cell, p)
                self._note(row, column, _edit_note(old, new, kept=False))
        if mark is not None:
            cell = cell or f'<{p}c r="{ref}"/>'
            rgb = RED if mark[0] == "error" else AMBER
            cell = _with_style(cell, self.styles.with_fill(_style_of(cell), rgb))
        return cell

    def _note(self, row: int, column: int, text: str) -> None:
        if self.notes_elsewhere:
            return
        key = (row, column)
        self.comments[key] = f"{self.comments[key]}\n{text}" if key in self.comments else text

    # the rest of the sheet ----------------------------------------------------------------

    def _head_and_tail(self) -> None:
        """The sheet's elements around its rows: widths for the report's columns, the extent,
        the filter of a rebuilt sheet, the links and the comments."""
        plan, sheet, main = self.plan, self.skeleton, self.main
        # Widths for the columns we add, unless the user's own column settings cover them.
        first, last = self.first_free + 1, self.first_free + len(plan.added)
        columns = sheet.first(main, "cols")
        covered = columns is not None and any(
            _int(col.attrs.get("max")) >= first for col in sheet.find(main, "col", columns)
        )
        if not covered and plan.added:
            scope = columns.scope if columns is not None else self.root.scope
            tag, declare = element_name(scope, main, "col")
            cols = "".join(
                f'<{tag}{declare} min="{first + i}" max="{first + i}" '
                f'width="{_added_width(a)}" customWidth="1"/>'
                for i, a in enumerate(plan.added)
            )
            if columns is not None:
                sheet.append(columns, cols)
            else:
                tag, declare = element_name(self.root.scope, main, "cols")
                self._before_rows(f"<{tag}{declare}>{cols}</{tag}>")
        last_row = max([plan.header_row, *plan.rows])
        dimension = sheet.first(main, "dimension")
        extent = re.fullmatch(
            r"([A-Z]+\d+:)?([A-Z]+)(\d+)", (dimension.attrs.get("ref", "") if dimension else "")
        )
        if dimension is not None and extent is not None:
            right = column_letter(max(last, column_index(extent[2]) + 1) - 1)
            bottom = max(int(extent[3]), last_row)
            sheet.set_attr(dimension, "ref", f"{extent[1] or 'A1:'}{right}{bottom}")
        if self.rebuilt:
            end = column_letter(last - 1)
            bottom = max(last_row, plan.header_row + 1)
            self.filter_ref = f"$A${plan.header_row}:${end}${bottom}"
            self._insert("autoFilter", f'ref="A{plan.header_row}:{end}{bottom}"')
        if self.links:
            self._hyperlinks()
        if self.comments or self.notes_to_come:
            self._comments()

    def _before_rows(self, xml: str) -> None:
        sheet_data = self.skeleton.first(self.main, "sheetData")
        assert sheet_data is not None
        self.skeleton.replace(sheet_data.start, sheet_data.start, xml)

    def _insert(self, local: str, attributes: str, inner: str = "", rid: str = "") -> None:
        """The element `local` (its `attributes` and `inner` XML, and an r:id of `rid`)
        placed in the sheet where ECMA-376 wants it, named as the sheet names its own."""
        after = set(_WORKSHEET_TAIL[_WORKSHEET_TAIL.index(local) + 1 :])
        root, sheet = self.root, self.skeleton
        tag, declare = element_name(root.scope, self.main, local)
        if rid:
            r, declare_r = attribute_prefix(root.scope, self.rel)
            attributes = f'{attributes} {r}:id="{rid}"{declare_r}'
        start = f"{tag}{declare} {attributes.strip()}".rstrip()
        xml = f"<{start}>{inner}</{tag}>" if inner else f"<{start}/>"
        at = root.close
        for child in sheet.elements:
            if child.parent is not root:
                continue
            if (child.ns == self.main and child.local in after) or (
                child.ns == MC_NS  # an mc:AlternateContent: it goes before the whole wrapper
                and any(
                    e.ns == self.main and e.local in after
                    for e in sheet.elements
                    if child.start < e.start < child.end
                )
            ):
                at = child.start
                break
        sheet.replace(at, at, xml)

    def _hyperlinks(self) -> None:
        ids = self.package.add_many_relationships(
            self.part, "hyperlink", [url for _ref, url in self.links]
        )
        existing = self.skeleton.first(self.main, "hyperlinks")
        scope = existing.scope if existing is not None else self.root.scope
        tag, declare = element_name(scope, self.main, "hyperlink")
        r, declare_r = attribute_prefix(scope, self.rel)
        links = "".join(
            f'<{tag}{declare}{declare_r} ref="{ref}" {r}:id="{rid}"/>'
            for (ref, _url), rid in zip(self.links, ids, strict=True)
        )
        if existing is not None:
            self.skeleton.append(existing, links)
        else:
            self._insert("hyperlinks", "", links)

    def _comments(self) -> None:
        """The drawing the notes' shapes go in: the sheet's own, else a new one, placed."""
        package, part = self.package, self.part
        legacy = self.skeleton.first(self.main, "legacyDrawing")
        if legacy is not None:
            rid = legacy.attr(self.rel, "id")
            rels = package.relationships(part)
            vml_part = next(
                (x["Target"] for x in rels if x["Id"] == rid and package.has(x["Target"])), None
            )
            if vml_part is not None:
                self.drawing = (vml_part, True)
                return
            self.skeleton.remove(legacy)  # a drawing that is not there: ours takes its place
        vml_part, rid = new_drawing(package, part)
        self.drawing = (vml_part, False)
        self._insert("legacyDrawing", "", rid=rid)


def _int(text: str | None) -> int:
    return int(text) if text and text.isdigit() else 0


def _off_merged_cells(
    notes: dict[tuple[int, int], str], merges: list[tuple[int, int, int, int]]
) -> dict[tuple[int, int], str]:
    """The notes with each one on a cell a merged range covers moved to the range's first
    cell, the only one Excel shows (and openpyxl keeps)."""
    if not merges or not notes:
        return notes
    keys = sorted(notes)
    moved: dict[tuple[int, int], tuple[int, int]] = {}
    for first_row, first_col, last_row, last_col in merges:
        at = bisect.bisect_left(keys, (first_row, -1))
        while at < len(keys) and keys[at][0] <= last_row:
            row, column = keys[at]
            if first_col <= column <= last_col and (row, column) != (first_row, first_col):
                moved.setdefault((row, column), (first_row, first_col))
            at += 1
    if not moved:
        return notes
    out: dict[tuple[int, int], str] = {}
    for key in keys:
        target = moved.get(key, key)
        out[target] = f"{out[target]}\n{notes[key]}" if target in out else notes[key]
    return out


def _before(letters: str) -> str:
    """A pattern for the column letters of as many letters as `letters`, before it ("": none)."""
    first, rest = letters[0], letters[1:]
    options = []
    if first != "A":
        options.append(f"[A-{chr(ord(first) - 1)}]" + (f"[A-Z]{{{len(rest)}}}" if rest else ""))
    if rest:
        after_first = _before(rest)
        if after_first:
            options.append(f"{first}{after_first}")
    return f"(?:{'|'.join(options)})" if options else ""


def _last_cell(cells: str, prefix: str) -> tuple[int, int]:
    """The column (0-based) of the last of a row's cells, and where it starts in `cells`: a
    cell without its reference stands just right of the cell before it."""
    column, start = -1, 0
    for match in re.finditer(rf"<{re.escape(prefix)}c(?=[\s/>])[^>]*>", cells):
        ref = CELL_COLUMN.search(match.group())
        column = column_index(ref.group(1)) if ref else column + 1
        start = match.start()
    return column, len(cells[:start].encode("utf-8"))


def _merges(sheet: Part, main: str) -> list[tuple[int, int, int, int]]:
    """The sheet's merged ranges: (first row, first column, last row, last column), 0-based
    columns."""
    merges = []
    for element in sheet.find(main, "mergeCell"):
        found = re.fullmatch(
            r"\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?", element.attrs.get("ref", "").upper()
        )
        if found is None:
            continue
        first_col, first_row = column_index(found[1]), int(found[2])
        last_col = column_index(found[3]) if found[3] else first_col
        last_row = int(found[4]) if found[4] else first_row
        merges.append((first_row, first_col, last_row, last_col))
    return merges


def _holds_number(cell: str) -> bool:
    """Whether the cell (raw XML) holds a number: no type or type n, and a value."""
    kind = TYPE_ATTR.search(cell, 0, cell.index(">"))
    return (kind is None or kind.group(1) == "n") and "v>" in cell


def _with_style(cell: str, style: int) -> str:
    """The cell (raw XML) in style number `style`."""
    end = cell.index(">")
    found = STYLE_ATTR.search(cell, 0, end)
    if found:
        return f"{cell[: found.start(1)]}{style}{cell[found.end(1) :]}"
    at = end - 1 if cell[end - 1] == "/" else end
    return f'{cell[:at]} s="{style}"{cell[at:]}'


def _style_of(cell: str) -> int:
    found = STYLE_ATTR.search(cell, 0, cell.index(">"))
    return int(found.group(1)) if found else 0


def _is_web_link(value: str) -> bool:
    return value.startswith(("https://", "http://")) and not any(c.isspace() for c in value)


def _added_width(added: Added) -> int:
    sample = list(added.values.values())[:WIDTH_SAMPLE_ROWS]
    longest = max((len(v) for v in sample), default=0)
    return min(max(len(added.header) + 3, longest + 2, MIN_WIDTH), MAX_WIDTH)


def _edit_note(old: str, new: str, *, kept: bool) -> str:
    was = _("it was '{old}'").format(old=old) if old else _("it was empty")
    if kept:
        return _(
            "Changed to '{new}' in SEEN Sender ({was}); the cell holds a formula, so it is kept."
        ).format(new=new, was=was)
    return _("Changed in SEEN Sender; {was}.").format(was=was)
