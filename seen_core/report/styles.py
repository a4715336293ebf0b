"""The report's cell styles: the colours of statuses and marked cells, added to the workbook's
own styles.xml, and the styles of a rebuilt workbook."""

from __future__ import annotations

from seen_core.report.xml import (
    MAIN_NS,
    XML_DECLARATION,
    Dialect,
    Element,
    NotInPlace,
    Part,
    element_name,
    escape_attr,
    prefix_of,
    set_attrs,
)
from seen_core.statuses import Status

# Fills of Excel's own "Bad", "Neutral", "Good" cell styles, so the colours read the way Excel
# users already know them. Only the status cell and the cell that was wrong are coloured.
RED, AMBER, GREEN, BLUE, GREY = "FFFFC7CE", "FFFFEB9C", "FFC6EFCE", "FFDDEBF7", "FFE7E6E6"
STATUS_FILLS = {
    Status.READY: BLUE,
    Status.CREATED: GREEN,
    Status.REJECTED: RED,
    Status.INVALID: RED,
    Status.FAILED: RED,
    Status.UNKNOWN: AMBER,
    Status.NOT_SENT: GREY,
}


class Styles:
    """The workbook's styles.xml, with the fills and fonts the report adds."""

    def __init__(self, data: bytes, dialect: Dialect) -> None:
        part = Part(data)
        main = dialect.main
        if part.root.ns != main or part.root.local != "styleSheet":
            raise NotInPlace("its styles are not written as SpreadsheetML's")
        self.part = part
        self.sections: dict[str, Element] = {}
        children: dict[str, list[Element]] = {}
        for name, child in (("fonts", "font"), ("fills", "fill"), ("cellXfs", "xf")):
            section = next((e for e in part.find(main, name) if e.parent is part.root), None)
            if section is None:
                raise NotInPlace("its styles lack a list of fonts, fills or cell formats")
            self.sections[name] = section
            children[name] = [e for e in part.find(main, child, section) if e.parent is section]
        if not children["cellXfs"] or not children["fonts"]:
            raise NotInPlace("its styles have no cell format or no font")
        self.xfs = [part.text_of(e) for e in children["cellXfs"]]
        self.fill_count = len(children["fills"])
        self.font_count = len(children["fonts"])
        self.new_xfs: list[str] = []
        self.new_fills: list[str] = []
        self.new_fonts: list[str] = []
        self.cache: dict[tuple[object, ...], int] = {}
        first_font = children["fonts"][0]
        size = part.first(main, "sz", first_font)
        name = part.first(main, "name", first_font)
        self.font_size = (size.attrs.get("val") if size else None) or "11"
        self.font_name = (name.attrs.get("val") if name else None) or "Calibri"
        self.main = main

    def with_fill(self, style: int, rgb: str) -> int:
        """The style `style` with a solid fill of colour `rgb` (for the cell that was wrong)."""
        key = ("fill", style, rgb)
        if key not in self.cache:
            fill_id = self._fill(rgb)
            xf = self.xfs[style] if 0 <= style < len(self.xfs) else self.xfs[0]
            self.cache[key] = self._xf(set_attrs(xf, fillId=str(fill_id), applyFill="1"))
        return self.cache[key]

    def with_font(self, style: int, kind: str) -> int:
        """The style `style` in a bold ('bold') or hyperlink ('link') font."""
        key = ("font", style, kind)
        if key not in self.cache:
            font_id = self._font(kind)
            xf = self.xfs[style] if 0 <= style < len(self.xfs) else self.xfs[0]
            self.cache[key] = self._xf(set_attrs(xf, fontId=str(font_id), applyFont="1"))
        return self.cache[key]

    def _names(self, section: str, local: str) -> tuple[str, str, str]:
        """The element `local` as written in `section`: its name, its declaration, and the
        prefix its children take."""
        tag, declare = element_name(self.sections[section].scope, self.main, local)
        return tag, declare, prefix_of(tag)

    def _fill(self, rgb: str) -> int:
        key = ("fill-id", rgb)
        if key not in self.cache:
            tag, declare, p = self._names("fills", "fill")
            self.new_fills.append(
                f'<{tag}{declare}><{p}patternFill patternType="solid"><{p}fgColor rgb="{rgb}"/>'
                f'<{p}bgColor indexed="64"/></{p}patternFill></{tag}>'
            )
            self.cache[key] = self.fill_count + len(self.new_fills) - 1
        return self.cache[key]

    def _font(self, kind: str) -> int:
        key = ("font-id", kind)
        if key not in self.cache:
            tag, declare, p = self._names("fonts", "font")
            look = f"<{p}b/>" if kind == "bold" else f"<{p}u/>"
            colour = f'<{p}color rgb="FF0563C1"/>' if kind == "link" else ""
            self.new_fonts.append(
                f'<{tag}{declare}>{look}<{p}sz val="{escape_attr(self.font_size)}"/>{colour}'
                f'<{p}name val="{escape_attr(self.font_name)}"/></{tag}>'
            )
            self.cache[key] = self.font_count + len(self.new_fonts) - 1
        return self.cache[key]

    def _xf(self, xf: str) -> int:
        self.new_xfs.append(xf)
        return len(self.xfs) + len(self.new_xfs) - 1

    def to_xml(self) -> bytes:
        part = self.part
        for name, added, count in (
            ("fonts", self.new_fonts, self.font_count),
            ("fills", self.new_fills, self.fill_count),
            ("cellXfs", self.new_xfs, len(self.xfs)),
        ):
            if not added:
                continue
            part.append(self.sections[name], "".join(added))
            part.set_attr(self.sections[name], "count", str(count + len(added)))
        return part.to_bytes()


# --- the styles of a rebuilt workbook ------------------------------------------------------------

PLAIN_STYLES = (
    f'{XML_DECLARATION}<styleSheet xmlns="{MAIN_NS}">'
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy\\-mm\\-dd\\ hh:mm"/>'
    '<numFmt numFmtId="166" formatCode="hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
BOLD, DATE, DATETIME, TIME = 1, 2, 3, 4  # PLAIN_STYLES' cellXfs


def plain_styles(dialect: Dialect) -> str:
    """A rebuilt workbook's styles (and a workbook's that had none), in `dialect`."""
    return PLAIN_STYLES.replace(MAIN_NS, dialect.main, 1)
