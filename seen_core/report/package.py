"""The package an XLSX is: a zip of XML parts, their relationships and content types.

Parts are read lazily from the upload; only the parts the report changes are held in memory,
and every other part goes back into the zip as it came. Part names are found the way OPC
means them, whatever case or slashes the zip spells them with (some writers use backslashes),
and written back with forward slashes.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterable
from pathlib import PurePosixPath
from urllib.parse import unquote

from isal import isal_zlib  # zlib's API on Intel's ISA-L: deflates about 4x faster than zlib

from seen_core.read.xlsx_pieces import kept_sheet
from seen_core.report.xml import (
    REL_NS,
    TRANSITIONAL,
    XML_DECLARATION,
    Dialect,
    NotInPlace,
    Part,
    element_name,
    escape_attr,
)

PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_TYPE = REL_NS + "/"  # a Transitional relationship's type is this and its kind
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_WORKBOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"
CT_MACRO_WORKBOOK = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CONTENT_TYPES = "[Content_Types].xml"
_BIG_PART = 2_000_000  # parts larger than this are compressed fast rather than small
_LOCAL = struct.Struct("<IHHHHHIIIHH")  # a zip's local file header
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")  # its central directory's entry for a file
_END = struct.Struct("<IHHHHIIH")  # the end of its central directory
_ZIP32 = 0xFFFFFFFF  # sizes and offsets a zip without the zip64 extension holds


def _key(name: str) -> str:
    """A part's name as OPC compares names: forward slashes, no leading one, any case."""
    return name.replace("\\", "/").lstrip("/").casefold()


class Package:
    """The parts of an XLSX, read lazily from the upload; changed parts are kept in memory."""

    def __init__(self, source: zipfile.ZipFile | None = None, data: bytes | None = None) -> None:
        self.source = source
        self.data = data  # the zip `source` reads, when given
        # Each part under its name as written back, and the zip's own name for it.
        self.names: list[str] = []
        self._in_zip: dict[str, str] = {}
        self._by_key: dict[str, str] = {}
        if source is not None:
            for info in source.infolist():
                if info.is_dir():
                    continue
                name = info.filename.replace("\\", "/").lstrip("/")
                if _key(name) in self._by_key:
                    continue  # a second part of the same name: OPC allows one
                self.names.append(name)
                self._in_zip[name] = info.filename
                self._by_key[_key(name)] = name
        self.changed: dict[str, bytes] = {}
        # Big parts written whole (the receivers' sheet, comments, drawings), deflated when
        # written so that they do not pile up in memory: (packed bytes, CRC-32, size).
        self.deflated: dict[str, tuple[bytes, int, int]] = {}
        self.deleted: set[str] = set()
        self.dialect: Dialect = TRANSITIONAL
        # A rebuilt workbook's receivers' sheet (part, name, index) and the rows to write in it.
        self.receivers: tuple[str, str, int] | None = None
        self.rows: tuple[list[list[object]], str] | None = None

    @classmethod
    def from_zip(cls, data: bytes) -> Package:
        try:
            return cls(zipfile.ZipFile(io.BytesIO(data)), data)
        except (zipfile.BadZipFile, ValueError):
            raise NotInPlace("it is not a zip file the report can open") from None

    def name_of(self, name: str) -> str | None:
        """The part `name` stands for, as this package spells it (None: no such part)."""
        found = self._by_key.get(_key(name))
        if found is None and "%" in name:
            found = self._by_key.get(_key(unquote(name)))
        if found is None or found in self.deleted:
            return None
        return found

    def has(self, name: str) -> bool:
        return self.name_of(name) is not None

    def read(self, name: str) -> bytes:
        found = self.name_of(name)
        if found is None:
            raise NotInPlace("a part it refers to is missing")
        if found in self.changed:
            return self.changed[found]
        if found in self.deflated:
            return _inflate(memoryview(self.deflated[found][0]), *self.deflated[found][1:])
        if self.source is None:
            raise NotInPlace("a part it refers to is missing")
        if self.data is not None:
            kept = kept_sheet(self.data, self._in_zip[found])  # inflated by the read
            if kept is not None:
                return kept
        packed = self._packed(found)
        if packed is not None and packed[1] == zipfile.ZIP_DEFLATED:
            return _inflate(packed[0], packed[2], packed[3])
        try:
            return self.source.read(self._in_zip[found])
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
            raise NotInPlace("a part of its zip cannot be unpacked") from None

    def _packed(self, name: str) -> tuple[memoryview, int, int, int] | None:
        """The part as packed in the upload (its bytes, method, CRC-32 and size), to copy or
        inflate as it is; None where it cannot be taken so (encrypted, zip64, other methods)."""
        source = self.source
        data = getattr(source, "fp", None) if source is not None else None
        if not isinstance(data, io.BytesIO) or name not in self._in_zip:
            return None
        info = source.getinfo(self._in_zip[name])  # type: ignore[union-attr]
        if (
            info.flag_bits & 0x1
            or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
            or max(info.compress_size, info.file_size, info.header_offset) >= _ZIP32
        ):
            return None
        buffer = data.getbuffer()
        at = info.header_offset
        if bytes(buffer[at : at + 4]) != b"PK\x03\x04":
            return None
        name_length, extra_length = struct.unpack_from("<HH", buffer, at + 26)
        begin = at + 30 + name_length + extra_length
        packed = buffer[begin : begin + info.compress_size]
        if len(packed) != info.compress_size:
            return None
        return packed, info.compress_type, info.CRC, info.file_size

    def xml(self, name: str) -> Part:
        return Part(self.read(name))

    def write(self, name: str, data: bytes | bytearray | str) -> None:
        found = self._by_key.get(_key(name))
        if found is None:
            found = name
            self.names.append(name)
            self._by_key[_key(name)] = name
        self.deleted.discard(found)
        self.changed.pop(found, None)
        self.deflated.pop(found, None)
        data = data.encode("utf-8") if isinstance(data, str) else data
        if len(data) > _BIG_PART:
            self.deflated[found] = (_deflate(data, 1), isal_zlib.crc32(data), len(data))
        else:
            self.changed[found] = data

    def write_packed(self, name: str, packed: tuple[bytes, int, int]) -> None:
        """Write the part `name` as `pack` packed it (elsewhere: see report/parallel.py)."""
        self.write(name, b"")
        found = self._by_key[_key(name)]
        self.changed.pop(found, None)
        self.deflated[found] = packed

    def write_around(
        self, name: str, head: bytes, middle: tuple[bytes, int, int], tail: bytes
    ) -> None:
        """Write the part `name`: `head`, then `middle` as `pack_text` packed it as a piece,
        then `tail` (a deflated stream may be continued by another: only its last block is
        marked last)."""
        first = isal_zlib.compressobj(3, isal_zlib.DEFLATED, -15)
        last = isal_zlib.compressobj(3, isal_zlib.DEFLATED, -15)
        packed, crc, size = middle
        crc = isal_zlib.crc32_combine(isal_zlib.crc32(head), crc, size)
        crc = isal_zlib.crc32_combine(crc, isal_zlib.crc32(tail), len(tail))
        self.write_packed(
            name,
            (
                b"".join(
                    [
                        first.compress(head),
                        first.flush(isal_zlib.Z_SYNC_FLUSH),
                        packed,
                        last.compress(tail),
                        last.flush(),
                    ]
                ),
                crc,
                len(head) + size + len(tail),
            ),
        )

    def delete(self, name: str) -> None:
        found = self.name_of(name)
        if found is not None:
            self.deleted.add(found)
            self.changed.pop(found, None)
            self.deflated.pop(found, None)

    def free_name(self, pattern: str) -> str:
        """The first `pattern.format(n)` (n = 1, 2, ...) that is not a part yet."""
        number = 1
        while self.has(pattern.format(number)):
            number += 1
        return pattern.format(number)

    def to_bytes(self) -> bytes:
        """The package as a zip: each part the report did not change copied as it was packed,
        each changed one deflated (by ISA-L, at its fastest level for big parts)."""
        entries = []
        total = 0
        for name in self.names:
            if name in self.deleted:
                continue
            changed = name in self.changed or name in self.deflated
            packed = None if changed else self._packed(name)
            if name in self.deflated:
                raw, crc, size = self.deflated[name]
                entries.append((name, raw, zipfile.ZIP_DEFLATED, crc, size))
            elif packed is not None:
                raw, method, crc, size = packed
                entries.append((name, raw, method, crc, size))
            else:
                data = self.changed[name] if name in self.changed else self.read(name)
                raw = _deflate(data, 1 if len(data) > _BIG_PART else 3)
                entries.append((name, raw, zipfile.ZIP_DEFLATED, isal_zlib.crc32(data), len(data)))
                size = len(data)
            total += len(raw) + size
        if total >= _ZIP32 or len(entries) >= 0xFFFF:
            return self._to_zip64()
        return _zip(entries)

    def _to_zip64(self) -> bytes:
        """The package through zipfile, which writes the zip64 extension a huge one needs."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as package:
            for name in self.names:
                if name in self.deleted:
                    continue
                data = self.read(name)
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                package.writestr(info, data, compresslevel=1)
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
        rels = self.xml(name)
        for element in rels.find(PKG_REL_NS, "Relationship"):
            found_attrs = dict(element.attrs)
            target = found_attrs.get("Target", "")
            if found_attrs.get("TargetMode") != "External":
                resolved = resolve(part, target)
                target = self.name_of(resolved) or resolved
            found.append({**found_attrs, "Target": target})
        return found

    def _rels(self, part: str) -> tuple[str, Part]:
        name = self.rels_name(part)
        if self.has(name):
            return name, self.xml(name)
        self.set_content_type(name, CT_RELS)
        empty = f'{XML_DECLARATION}<Relationships xmlns="{PKG_REL_NS}"></Relationships>'
        return name, Part(empty.encode())

    def add_relationship(self, part: str, kind: str, target: str, external: bool = False) -> str:
        """Add a relationship from `part`; returns its new id. `target` as written in the rels."""
        return self.add_many_relationships(part, kind, [target], external=external, stem="rId")[0]

    def add_many_relationships(
        self, part: str, kind: str, targets: list[str], *, external: bool = True, stem: str = ""
    ) -> list[str]:
        """Relationships from `part` to each of `targets` at once (hyperlinks: external), with
        new ids (rIdSeen1, ... unless `stem` says otherwise)."""
        name, rels = self._rels(part)
        root = rels.root
        if root.ns != PKG_REL_NS or root.local != "Relationships":
            raise NotInPlace("its relationships are not written the way OPC writes them")
        taken = {e.attrs.get("Id") for e in rels.find(PKG_REL_NS, "Relationship")}
        tag, declare = element_name(root.scope, PKG_REL_NS, "Relationship")
        mode = ' TargetMode="External"' if external else ""
        ids, entries, number = [], [], len(taken) if stem == "rId" else 0
        stem = stem or "rIdSeen"
        for target in targets:
            number += 1
            while f"{stem}{number}" in taken:
                number += 1
            rid = f"{stem}{number}"
            ids.append(rid)
            entries.append(
                f'<{tag}{declare} Id="{rid}" Type="{self.dialect.rel_type(kind)}" '
                f'Target="{escape_attr(target)}"{mode}/>'
            )
        rels.append(root, "".join(entries))
        self.write(name, rels.to_bytes())
        return ids

    def remove_relationship(self, part: str, rel: dict[str, str]) -> None:
        """Remove the relationship `rel` of `part`, its target part and its content type."""
        self.delete(rel["Target"])
        name = self.rels_name(part)
        rels = self.xml(name)
        for element in rels.find(PKG_REL_NS, "Relationship"):
            if element.attrs.get("Id") == rel["Id"]:
                rels.remove(element)
        self.write(name, rels.to_bytes())
        types = self.xml(CONTENT_TYPES)
        for element in types.find(CT_NS, "Override"):
            if _key(element.attrs.get("PartName", "")) == _key(rel["Target"]):
                types.remove(element)
        self.write(CONTENT_TYPES, types.to_bytes())

    # content types --------------------------------------------------------------------------

    def content_type(self, part: str) -> str | None:
        """The content type of `part`: its own (an Override), else its extension's."""
        types = self.xml(CONTENT_TYPES)
        for element in types.find(CT_NS, "Override"):
            if _key(element.attrs.get("PartName", "")) == _key(part):
                return element.attrs.get("ContentType")
        extension = PurePosixPath(part).suffix.lstrip(".").casefold()
        for element in types.find(CT_NS, "Default"):
            if element.attrs.get("Extension", "").casefold() == extension:
                return element.attrs.get("ContentType")
        return None

    def set_content_type(self, part: str, content_type: str, *, by_extension: bool = False) -> None:
        """Give `part` the content type `content_type`: nothing to do when its extension's is
        that already (as for .rels in most workbooks), else an Override of its own (as
        LibreOffice and exceljs give every .rels part), or with `by_extension` a Default for
        its extension where there is none yet (as Excel types its .vml drawings)."""
        if self.content_type(part) == content_type:
            return
        types = self.xml(CONTENT_TYPES)
        root = types.root
        if root.ns != CT_NS or root.local != "Types":
            raise NotInPlace("its content types are not written the way OPC writes them")
        extension = PurePosixPath(part).suffix.lstrip(".")
        overrides = [
            e
            for e in types.find(CT_NS, "Override")
            if _key(e.attrs.get("PartName", "")) == _key(part)
        ]
        defaults = [
            e
            for e in types.find(CT_NS, "Default")
            if e.attrs.get("Extension", "").casefold() == extension.casefold()
        ]
        if overrides:
            types.set_attr(overrides[0], "ContentType", content_type)
        elif by_extension and extension and not defaults:
            tag, declare = element_name(root.scope, CT_NS, "Default")
            types.append(
                root,
                f'<{tag}{declare} Extension="{escape_attr(extension)}" '
                f'ContentType="{content_type}"/>',
            )
        else:
            tag, declare = element_name(root.scope, CT_NS, "Override")
            types.append(
                root,
                f'<{tag}{declare} PartName="/{escape_attr(part)}" ContentType="{content_type}"/>',
            )
        self.write(CONTENT_TYPES, types.to_bytes())


def resolve(part: str, target: str) -> str:
    """The part a relationship of `part` points to, from its target as written."""
    target = target.replace("\\", "/")
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


class Packer:
    """A part, or the middle of one (see `Package.write_around`), deflated as its bytes are
    given: the whole part is never in memory."""

    def __init__(self, level: int = 1) -> None:
        self._deflater = isal_zlib.compressobj(level, isal_zlib.DEFLATED, -15)
        self._packed: list[bytes] = []
        self._crc = self._size = 0

    def add(self, data: bytes | bytearray | memoryview) -> None:
        self._packed.append(self._deflater.compress(data))
        self._crc = isal_zlib.crc32(data, self._crc)
        self._size += len(data)

    def packed(self, *, piece: bool = False) -> tuple[bytes, int, int]:
        """The packed bytes, CRC-32 and size, for `write_packed`; or, as a `piece`, for the
        middle of a part: ending on a whole byte, without the mark of a part's last block."""
        self._packed.append(
            self._deflater.flush(isal_zlib.Z_SYNC_FLUSH) if piece else self._deflater.flush()
        )
        return b"".join(self._packed), self._crc, self._size


def pack_text(
    chunks: Iterable[str], level: int = 1, *, piece: bool = False
) -> tuple[bytes, int, int]:
    """Text made a chunk at a time, encoded and deflated chunk by chunk (see `Packer`)."""
    packer = Packer(level)
    for chunk in chunks:
        packer.add(chunk.encode("utf-8"))
    return packer.packed(piece=piece)


def _deflate(data: bytes, level: int) -> bytes:
    """`data` deflated raw (as a zip holds it) by ISA-L at `level` (0-3)."""
    deflater = isal_zlib.compressobj(level, isal_zlib.DEFLATED, -15)
    return deflater.compress(data) + deflater.flush()


def _inflate(packed: memoryview, crc: int, size: int) -> bytes:
    """A deflated part, unpacked and checked against its CRC-32 and size."""
    try:
        inflater = isal_zlib.decompressobj(-15)
        data = inflater.decompress(packed, size) + inflater.flush()
    except isal_zlib.error:
        raise NotInPlace("a part of its zip cannot be unpacked") from None
    if len(data) != size or isal_zlib.crc32(data) != crc:
        raise NotInPlace("a part of its zip is damaged")
    return data


def _zip(entries: list[tuple[str, bytes | memoryview, int, int, int]]) -> bytes:
    """A zip of (name, packed bytes, method, CRC-32, size) entries, in that order, each dated
    1980-01-01 as Excel dates them, names in UTF-8."""
    chunks: list[bytes | memoryview] = []
    central = []
    offset = 0
    for name, raw, method, crc, size in entries:
        encoded = name.encode("utf-8")
        local = _LOCAL.pack(0x04034B50, 20, 0x800, method, 0, 0x21, crc, len(raw), size,
                            len(encoded), 0)  # fmt: skip
        chunks += [local, encoded, raw]
        central.append(
            _CENTRAL.pack(0x02014B50, 20, 20, 0x800, method, 0, 0x21, crc, len(raw), size,
                          len(encoded), 0, 0, 0, 0, 0, offset) + encoded
        )  # fmt: skip
        offset += len(local) + len(encoded) + len(raw)
    directory = b"".join(central)
    chunks += [directory, _END.pack(0x06054B50, 0, 0, len(entries), len(entries), len(directory),
                                    offset, 0)]  # fmt: skip
    return b"".join(chunks)
