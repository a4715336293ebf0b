"""The report's cell styles: the colours of statuses and marked cells, added to the workbook's
own styles.xml, and the styles of a rebuilt workbook."""

from __future__ import annotations

import re

from seen_core.report.xml import (
    MAIN_NS,
    XML_DECLARATION,
    NotInPlace,
    escape_attr,
    insert_before_close,
    root_prefix,
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

    def __init__(self, text: str) -> None:
        self.prefix = root_prefix(text, "styleSheet")
        self.text = text
        p = re.escape(self.prefix)
        section = re.search(rf"<{p}cellXfs\b[^>]*>(.*?)</{p}cellXfs>", text, re.S)
        if section is None:
            raise NotInPlace
        self.xfs = re.findall(rf"<{p}xf\b[^>]*?(?:/>|>.*?</{p}xf>)", section.group(1), re.S)
        self.new_xfs: list[str] = []
        self.new_fills: list[str] = []
        self.new_fonts: list[str] = []
        self.fill_count = self._count("fills")
        self.font_count = self._count("fonts")
        self.cache: dict[tuple[object, ...], int] = {}
        font = re.search(rf"<{p}font\b[^>]*>(.*?)</{p}font>", text, re.S)
        first_font = font.group(1) if font else ""
        size = re.search(r'<(?:\w+:)?sz\s+val="([^"]+)"', first_font)
        name = re.search(r'<(?:\w+:)?name\s+val="([^"]+)"', first_font)
        self.font_size = size.group(1) if size else "11"
        self.font_name = name.group(1) if name else "Calibri"

    def _count(self, element: str) -> int:
        p = re.escape(self.prefix)
        section = re.search(rf"<{p}{element}\b[^>]*?(?:/>|>(.*?)</{p}{element}>)", self.text, re.S)
        if section is None:
            raise NotInPlace
        inner = section.group(1) or ""
        return len(re.findall(rf"<{p}{element[:-1]}\b", inner))

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

    def _fill(self, rgb: str) -> int:
        key = ("fill-id", rgb)
        if key not in self.cache:
            p = self.prefix
            self.new_fills.append(
                f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="{rgb}"/>'
                f'<{p}bgColor indexed="64"/></{p}patternFill></{p}fill>'
            )
            self.cache[key] = self.fill_count + len(self.new_fills) - 1
        return self.cache[key]

    def _font(self, kind: str) -> int:
        key = ("font-id", kind)
        if key not in self.cache:
            p = self.prefix
            look = f"<{p}b/>" if kind == "bold" else f"<{p}u/>"
            colour = f'<{p}color rgb="FF0563C1"/>' if kind == "link" else ""
            self.new_fonts.append(
                f'<{p}font>{look}<{p}sz val="{self.font_size}"/>{colour}'
                f'<{p}name val="{escape_attr(self.font_name)}"/></{p}font>'
            )
            self.cache[key] = self.font_count + len(self.new_fonts) - 1
        return self.cache[key]

    def _xf(self, xf: str) -> int:
        self.new_xfs.append(xf)
        return len(self.xfs) + len(self.new_xfs) - 1

    def to_xml(self) -> str:
        text = self.text
        for element, added, count in (
            ("fonts", self.new_fonts, self.font_count),
            ("fills", self.new_fills, self.fill_count),
            ("cellXfs", self.new_xfs, len(self.xfs)),
        ):
            if not added:
                continue
            text = insert_before_close(text, element, "".join(added))
            text = re.sub(
                rf"(<{re.escape(self.prefix)}{element}\b[^>]*?\bcount\s*=\s*)([\"'])\d+\2",
                rf"\g<1>\g<2>{count + len(added)}\g<2>",
                text,
                count=1,
            )
        return text


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
