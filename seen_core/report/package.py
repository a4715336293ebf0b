"""The package an XLSX is: a zip of XML parts, their relationships and content types.

Parts are read lazily from the upload; only the parts the report changes are held in memory,
and every other part goes back into the zip as it came.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePosixPath

from seen_core.report.xml import (
    REL_ID,
    REL_NS,
    XML_DECLARATION,
    NotInPlace,
    attrs,
    escape_attr,
    insert_before_close,
)

PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_TYPE = REL_NS + "/"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_WORKBOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CONTENT_TYPES = "[Content_Types].xml"
_BIG_PART = 2_000_000  # parts larger than this are compressed fast rather than small


class Package:
    """The parts of an XLSX, read lazily from the upload; changed parts are kept in memory."""

    def __init__(self, source: zipfile.ZipFile | None = None) -> None:
        self.source = source
        self.names: list[str] = [i.filename for i in source.infolist()] if source else []
        self.changed: dict[str, bytes] = {}
        self.deleted: set[str] = set()
        # A rebuilt workbook's receivers' sheet (part, name, index) and the rows to write in it.
        self.receivers: tuple[str, str, int] | None = None
        self.rows: tuple[list[list[object]], str] | None = None

    @classmethod
    def from_zip(cls, data: bytes) -> Package:
        try:
            return cls(zipfile.ZipFile(io.BytesIO(data)))
        except zipfile.BadZipFile:
            raise NotInPlace from None

    def has(self, name: str) -> bool:
        return name in self.changed or (name in self.names and name not in self.deleted)

    def read(self, name: str) -> bytes:
        if name in self.changed:
            return self.changed[name]
        if self.source is None or name not in self.names or name in self.deleted:
            raise NotInPlace
        return self.source.read(name)

    def text(self, name: str) -> str:
        return self.read(name).decode("utf-8")

    def write(self, name: str, data: bytes | str) -> None:
        if name not in self.names:
            self.names.append(name)
        self.deleted.discard(name)
        self.changed[name] = data.encode("utf-8") if isinstance(data, str) else data

    def delete(self, name: str) -> None:
        self.deleted.add(name)
        self.changed.pop(name, None)

    def free_name(self, pattern: str) -> str:
        """The first `pattern.format(n)` (n = 1, 2, ...) that is not a part yet."""
        taken = {n.casefold() for n in self.names if n not in self.deleted}
        number = 1
        while pattern.format(number).casefold() in taken:
            number += 1
        return pattern.format(number)

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
            for name in self.names:
                if name in self.deleted:
                    continue
                data = self.changed[name] if name in self.changed else self.read(name)
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                package.writestr(info, data, compresslevel=1 if len(data) > _BIG_PART else 6)
        return out.getvalue()

    # relationships --------------------------------------------------------------------------

    @staticmethod
    def rels_name(part: str) -> str:
        path = PurePosixPath(part)
        return str(path.parent / "_rels" / (path.name + ".rels")).lstrip("./")

    def relationships(self, part: str) -> list[dict[str, str]]:
        """The relationships of `part` (or of the package for ""), targets resolved to parts."""
        name = "_rels/.rels" if not part else self.rels_name(part)
        if not self.has(name):
            return []
        found = []
        for tag in re.findall(r"<(?:\w+:)?Relationship\b[^>]*>", self.text(name)):
            found_attrs = attrs(tag)
            target = found_attrs.get("Target", "")
            if found_attrs.get("TargetMode") != "External":
                target = resolve(part, target)
            found.append({**found_attrs, "Target": target})
        return found

    def _rels_text(self, part: str) -> tuple[str, str]:
        name = self.rels_name(part)
        text = (
            self.text(name)
            if self.has(name)
            else f'{XML_DECLARATION}<Relationships xmlns="{PKG_REL_NS}"></Relationships>'
        )
        return name, text

    def add_relationship(self, part: str, kind: str, target: str, external: bool = False) -> str:
        """Add a relationship from `part`; returns its new id. `target` as written in the rels."""
        name, text = self._rels_text(part)
        taken = set(REL_ID.findall(text))
        number = len(taken) + 1
        while f"rId{number}" in taken:
            number += 1
        rid = f"rId{number}"
        mode = ' TargetMode="External"' if external else ""
        entry = (
            f'<Relationship Id="{rid}" Type="{REL_TYPE}{kind}" '
            f'Target="{escape_attr(target)}"{mode}/>'
        )
        self.write(name, insert_before_close(text, "Relationships", entry))
        return rid

    def add_many_relationships(self, part: str, kind: str, targets: list[str]) -> list[str]:
        """Many external relationships at once (hyperlinks), without re-reading the rels each."""
        name, text = self._rels_text(part)
        taken = set(REL_ID.findall(text))
        ids, entries, number = [], [], 0
        for target in targets:
            number += 1
            while f"rIdSeen{number}" in taken:
                number += 1
            rid = f"rIdSeen{number}"
            ids.append(rid)
            entries.append(
                f'<Relationship Id="{rid}" Type="{REL_TYPE}{kind}" '
                f'Target="{escape_attr(target)}" TargetMode="External"/>'
            )
        self.write(name, insert_before_close(text, "Relationships", "".join(entries)))
        return ids

    def remove_relationship(self, part: str, rel: dict[str, str]) -> None:
        """Remove the relationship `rel` of `part`, its target part and its content type."""
        self.delete(rel["Target"])
        rels = self.rels_name(part)
        text = self.text(rels)
        text = re.sub(rf"<(\w+:)?Relationship\b[^>]*\bId=\"{rel['Id']}\"[^>]*/>", "", text)
        self.write(rels, text)
        types = self.text(CONTENT_TYPES)
        types = re.sub(rf"<(\w+:)?Override\b[^>]*/{re.escape(rel['Target'])}\"[^>]*/>", "", types)
        self.write(CONTENT_TYPES, types)

    # content types --------------------------------------------------------------------------

    def add_content_type(self, part: str, content_type: str) -> None:
        text = self.text(CONTENT_TYPES)
        entry = f'<Override PartName="/{part}" ContentType="{content_type}"/>'
        self.write(CONTENT_TYPES, insert_before_close(text, "Types", entry))

    def add_default_type(self, extension: str, content_type: str) -> None:
        text = self.text(CONTENT_TYPES)
        if re.search(rf'Extension\s*=\s*["\']{extension}["\']', text, re.I):
            return
        entry = f'<Default Extension="{extension}" ContentType="{content_type}"/>'
        self.write(CONTENT_TYPES, insert_before_close(text, "Types", entry))


def resolve(part: str, target: str) -> str:
    """The part a relationship of `part` points to, from its target as written."""
    if target.startswith("/"):
        return target.lstrip("/")
    base = PurePosixPath(part).parent
    parts: list[str] = []
    for piece in (base / target).parts:
        if piece == "..":
            if parts:
                parts.pop()
        elif piece != ".":
            parts.append(piece)
    return "/".join(parts)


def relative(from_part: str, to_part: str) -> str:
    """The target `to_part` as written in the rels of `from_part` ('../comments1.xml')."""
    base = PurePosixPath(from_part).parent.parts
    target = PurePosixPath(to_part).parts
    common = 0
    while common < min(len(base), len(target)) and base[common] == target[common]:
        common += 1
    return "/".join([".."] * (len(base) - common) + list(target[common:]))
