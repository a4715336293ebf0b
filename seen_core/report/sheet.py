"""The receivers' sheet, edited in place: the report's columns appended to the header and the
people's rows, wrong cells filled and commented, fixed cells written in with their old value in
a comment, and widths, the filter, hyperlinks and comments added where SpreadsheetML wants them.

The sheet's XML is split at each `</row>`; rows the report does not touch are copied as bytes,
so a 100,000-row sheet is edited in well under a second. A rebuilt workbook's sheet is written
here too, from its grid (`SheetEditor.annotate`).
"""

from __future__ import annotations

import re

from seen_core.errors import InputError
from seen_core.read.cells import column_index, column_letter
from seen_core.report.comments import add_notes
from seen_core.report.package import Package
from seen_core.report.plan import MAX_WIDTH, MIN_WIDTH, WIDTH_SAMPLE_ROWS, Added, Plan
from seen_core.report.rebuilt import grid_cells
from seen_core.report.styles import AMBER, BOLD, RED, STATUS_FILLS, Styles
from seen_core.report.xml import (
    CELL_COLUMN,
    CELL_REF,
    CELL_STYLE,
    EXCEL_MAX_COLUMNS,
    EXCEL_MAX_LINKS,
    REL_NS,
    ROW_NUMBER,
    SPANS,
    STYLE_ATTR,
    TYPE_ATTR,
    NotInPlace,
    attrs,
    care_needed,
    inline_cell,
    insert_before_close,
    namespace_prefix,
    number_cell,
    plain_number,
    prefixed,
    root_prefix,
    set_attrs,
    text_cell,
)

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
        self.xml = package.read(part)
        root = re.search(rb"<(?:\w+:)?worksheet\b[^>]*>", self.xml[:20_000])
        if root is None:
            raise NotInPlace
        root_tag = root.group().decode("utf-8")
        self.prefix = root_prefix(root_tag, "worksheet")
        # The prefix of relationship ids (r:id); declared on our elements when the root lacks it.
        found = namespace_prefix(root_tag, REL_NS)
        self.r_prefix = found or "r"
        self.r_declare = "" if found else f' xmlns:r="{REL_NS}"'
        self.comments: dict[tuple[int, int], str] = {}
        self.links: list[tuple[str, str]] = []
        self.dropped_formulas = False
        self.last_header_style = 0
        self.filter_ref = ""
        self.appended: list[dict[int, str]] | None = None
        p = re.escape(self.prefix)
        self.cell_pattern = re.compile(rf"<{p}c\b([^>]*?)(?:/>|>.*?</{p}c>)", re.S)

    def annotate(self, grid: list[list[object]] | None = None, numbers: str = "typed") -> None:
        """Annotate the sheet's own rows; or, for a rebuilt workbook, write `grid`'s rows
        annotated into its empty sheet (`numbers` as for `grid_cells`)."""
        p = self.prefix.encode()
        xml = self.xml
        open_match = re.search(rb"<" + re.escape(p) + rb"sheetData\b[^>]*?(/?)>", xml)
        if open_match is None or open_match.group(1):
            raise NotInPlace  # no rows at all: nothing of ours fits
        close_tag = b"</" + p + b"sheetData>"
        body_start = open_match.end()
        body_end = xml.find(close_tag, body_start)
        if body_end < 0:
            raise NotInPlace
        head = xml[: open_match.start()].decode("utf-8")
        tail = xml[body_end + len(close_tag) :].decode("utf-8")
        if grid is None:
            body = self._rows(xml[body_start:body_end], p)
        else:
            body = self._grid_rows(grid, numbers)
        head, tail = self._head_and_tail(head, tail)
        self.package.write(
            self.part,
            b"".join(
                [
                    head.encode(),
                    xml[open_match.start() : body_start],
                    body,
                    close_tag,
                    tail.encode(),
                ]
            ),
        )

    # rows ---------------------------------------------------------------------------------

    def _start(self, width: int) -> None:
        """Place the report's columns after the user's last column (`width` of them)."""
        plan = self.plan
        if width + len(plan.added) > EXCEL_MAX_COLUMNS:
            raise InputError(
                f"The sheet has {width} columns; with SEEN's {len(plan.added)} it would have "
                f"more than Excel can hold ({EXCEL_MAX_COLUMNS:,})."
            )
        self.first_free = width
        self.column_of = dict(plan.positions)
        for i, added in enumerate(plan.added):
            self.column_of.setdefault(added.header, width + i)
        styles = self.styles
        self.added_letters = [column_letter(width + i) for i in range(len(plan.added))]
        self.status_styles = {
            status: styles.with_fill(0, rgb)
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

    def _rows(self, body: bytes, p: bytes) -> bytes:
        """The sheet's own rows: the rows the report does not touch are copied as they are."""
        plan = self.plan
        end_tag = b"</" + p + b"row>"
        start_tag = b"<" + p + b"row"
        cell_tag = b"<" + p + b"c "
        wanted = {plan.header_row, *plan.rows}
        # Each wanted row: (number, start of its tag, end of its tag, start of its end tag).
        found: list[tuple[int, int, int, int]] = []
        width = plan.width
        find, rfind = body.find, body.rfind
        begin = 0
        while (end := find(end_tag, begin)) >= 0:
            at = rfind(start_tag, begin, end)
            if at < 0:
                raise NotInPlace
            close = find(b">", at, end)
            number = ROW_NUMBER.search(body, at, close)
            if number is None or body[close - 1] == 47:  # 47 is "/": a row with no end tag
                raise NotInPlace  # rows numbered by position only
            row = int(number.group(1))
            begin = end + len(end_tag)
            if row not in wanted:
                continue
            found.append((row, at, close, end))
            last = rfind(cell_tag, close, end)
            if last >= 0:
                ref = CELL_REF.search(body, last, find(b">", last, end))
                if ref is None:
                    raise NotInPlace
                width = max(width, column_index(ref.group(1).decode()) + 1)
                if row == plan.header_row:
                    style = CELL_STYLE.search(body, last, find(b">", last, end))
                    self.last_header_style = int(style.group(1)) if style else 0
        if len({row for row, *_ in found}) != len(wanted):
            raise NotInPlace  # a person with no row in the XML: the sheet is not as read
        self._start(width)

        changed_rows = plan.marks.keys() | plan.edits.keys()
        view = memoryview(body)
        out: list[bytes | memoryview] = []
        done = 0
        for row, at, close, end in found:
            out.append(view[done:at])
            out.append(SPANS.sub(b"", body[at : close + 1]))
            if row in changed_rows:
                cells = body[close + 1 : end].decode("utf-8")
                out.append(self._change_cells(row, cells).encode("utf-8"))
            else:
                out.append(view[close + 1 : end])
            appended = self._appended(row)
            if self.prefix:
                appended = prefixed(appended, self.prefix)
            out.append(appended.encode("utf-8"))
            done = end
        out.append(view[done:])
        return b"".join(out)

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
        for column in sorted(changes, reverse=True):
            ref = f"{column_letter(column)}{row}"
            at = text.find(f'<{p}c r="{ref}"')
            if at < 0:
                return self._change_parsed(row, text, changes)
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
        key = (row, column)
        self.comments[key] = f"{self.comments[key]}\n{text}" if key in self.comments else text

    # the rest of the sheet ----------------------------------------------------------------

    def _head_and_tail(self, head: str, tail: str) -> tuple[str, str]:
        plan = self.plan
        p = self.prefix
        # Widths for the columns we add, unless the user's own column settings cover them.
        first, last = self.first_free + 1, self.first_free + len(plan.added)
        covered = any(
            int(attrs(tag).get("max", "0")) >= first
            for tag in re.findall(rf"<{re.escape(p)}col\b[^>]*>", head)
        )
        if not covered and plan.added:
            cols = "".join(
                f'<{p}col min="{first + i}" max="{first + i}" width="{_added_width(a)}" '
                'customWidth="1"/>'
                for i, a in enumerate(plan.added)
            )
            if re.search(rf"</{re.escape(p)}cols>", head):
                head = insert_before_close(head, "cols", cols)
            else:
                head += f"<{p}cols>{cols}</{p}cols>"
        last_row = max([plan.header_row, *plan.rows])
        head = re.sub(
            rf"(<{re.escape(p)}dimension\b[^>]*?\bref\s*=\s*)([\"'])([A-Z]+\d+:)?([A-Z]+)(\d+)\2",
            lambda m: (
                f'{m.group(1)}"{(m.group(3) or "A1:")}'
                f"{column_letter(max(last, column_index(m.group(4)) + 1) - 1)}"
                f'{max(int(m.group(5)), last_row)}"'
            ),
            head,
            count=1,
        )
        if self.rebuilt:
            end = column_letter(last - 1)
            bottom = max(last_row, plan.header_row + 1)
            self.filter_ref = f"$A${plan.header_row}:${end}${bottom}"
            tail = self._insert(
                tail, "autoFilter", f'<autoFilter ref="A{plan.header_row}:{end}{bottom}"/>'
            )
        if self.links:
            tail = self._hyperlinks(tail)
        if self.comments:
            tail = self._comments(tail)
        return head, tail

    def _insert(self, tail: str, element: str, xml: str) -> str:
        """`xml` placed in the sheet's tail where ECMA-376 wants `element`."""
        after = _WORKSHEET_TAIL[_WORKSHEET_TAIL.index(element) + 1 :]
        p = re.escape(self.prefix)
        names = "|".join(after)
        match = re.search(rf"<{p}(?:{names})\b", tail)
        end = re.search(rf"</{p}worksheet\s*>", tail)
        if end is None:
            raise NotInPlace
        at = match.start() if match and match.start() < end.start() else end.start()
        # Inside an mc:AlternateContent wrapper the insert goes before the whole wrapper.
        wrapper = tail.rfind("<mc:AlternateContent", 0, at)
        if wrapper >= 0 and tail.rfind("</mc:AlternateContent>", 0, at) < wrapper:
            at = wrapper
        return tail[:at] + xml + tail[at:]

    def _hyperlinks(self, tail: str) -> str:
        p = self.prefix
        ids = self.package.add_many_relationships(
            self.part, "hyperlink", [url for _ref, url in self.links]
        )
        r, declare = self.r_prefix, self.r_declare
        links = "".join(
            f'<{p}hyperlink ref="{ref}"{declare} {r}:id="{rid}"/>'
            for (ref, _url), rid in zip(self.links, ids, strict=True)
        )
        if re.search(rf"</{re.escape(p)}hyperlinks>", tail):
            return insert_before_close(tail, "hyperlinks", links)
        return self._insert(tail, "hyperlinks", f"<{p}hyperlinks>{links}</{p}hyperlinks>")

    def _comments(self, tail: str) -> str:
        package, part, p = self.package, self.part, self.prefix
        legacy = re.search(rf"<{re.escape(p)}legacyDrawing\b[^>]*>", tail)
        vml_part = None
        if legacy:
            rid = attrs(legacy.group()).get(f"{self.r_prefix}:id")
            rels = package.relationships(part)
            vml_part = next((x["Target"] for x in rels if x["Id"] == rid), None)
            if vml_part is None:
                raise NotInPlace
        rid = add_notes(package, part, sorted(self.comments.items()), vml_part)
        if rid is None:
            return tail
        legacy_drawing = f'<{p}legacyDrawing{self.r_declare} {self.r_prefix}:id="{rid}"/>'
        return self._insert(tail, "legacyDrawing", legacy_drawing)


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
    was = f"it was {old!r}" if old else "it was empty"
    if kept:
        return (
            f"Changed to {new!r} in SEEN Sender ({was}); the cell holds a formula, so it is kept."
        )
    return f"Changed in SEEN Sender; {was}."
