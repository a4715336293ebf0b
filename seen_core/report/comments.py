"""Comments (Excel's notes) on the cells the report marks or fixes, and the legacy VML drawing
that shows them.

A sheet's own comments stay: a cell that has one of the user's gets ours appended to it, and
our shapes take a block of VML shape ids no drawing in the workbook uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import chain

from seen_core.read.cells import column_letter
from seen_core.report.package import CT_COMMENTS, CT_VML, Package, pack_text, relative
from seen_core.report.xml import (
    XML_DECLARATION,
    NotInPlace,
    element_name,
    prefix_of,
    xml_text,
    xml_texts,
)

COMMENT_AUTHOR = "SEEN Sender"
_CHUNK = 2_000  # notes made at a time
_MANY_NOTES = 5_000  # notes whose parts are some MB: packed fast rather than small

Notes = list[tuple[tuple[int, int], str]]  # ((row, 0-based column), text), sorted


def new_drawing(package: Package, part: str) -> tuple[str, str]:
    """A legacy drawing for the notes of the sheet `part`, its name taken now (`add_notes`
    writes it): its part, and the relationship id for the sheet's <legacyDrawing>."""
    vml_part = package.free_name("xl/drawings/vmlDrawing{}.vml")
    package.write(vml_part, b"")
    package.set_content_type(vml_part, CT_VML, by_extension=True)
    return vml_part, package.add_relationship(part, "vmlDrawing", relative(part, vml_part))


Packed = tuple[bytes, int, int]  # a part as `pack` packs it


def has_notes(package: Package, part: str) -> bool:
    """Whether the sheet `part` has comments of its own (ours are then merged into them)."""
    return any(
        r["Type"].endswith("/comments") and package.has(r["Target"])
        for r in package.relationships(part)
    )


def notes_parts(package: Package, notes: Notes) -> tuple[Packed, Packed]:
    """The comments part and the drawing of `notes`, packed, for a sheet without notes of its
    own and a drawing of ours: what `add_notes` writes, made elsewhere (report/parallel.py)."""
    block = _free_vml_block(package)
    # Made and packed a chunk at a time: for 44,000 notes the two parts are 40 MB of text,
    # which would otherwise be made, joined and encoded whole.
    level = 1 if len(notes) > _MANY_NOTES else 3
    comments = pack_text(_comments_chunks(notes, package.dialect.main), level)
    drawing = pack_text(
        chain([_vml_head(block, len(notes))], _shape_chunks(notes, block), ["</xml>"]), level
    )
    return comments, drawing


def add_notes(
    package: Package,
    part: str,
    notes: Notes,
    vml_part: str,
    *,
    merge: bool,
    made: tuple[Packed, Packed] | None = None,
) -> None:
    """Write `notes` into the comments of the sheet `part`, and their shapes into its legacy
    drawing `vml_part`: the sheet's own (`merge`), or one `new_drawing` gave. `made`: the two
    parts as `notes_parts` made them, when the sheet has no comments and the drawing is ours."""
    rels = package.relationships(part)
    existing = next(
        (r for r in rels if r["Type"].endswith("/comments") and package.has(r["Target"])), None
    )
    if existing:
        new_notes = _merge_comments(package, existing["Target"], notes)
    else:
        comments_part = package.free_name("xl/comments{}.xml")
        if made is not None:
            package.write_packed(comments_part, made[0])
        else:
            package.write(comments_part, _comments_xml(notes, package.dialect.main))
        package.set_content_type(comments_part, CT_COMMENTS)
        package.add_relationship(part, "comments", relative(part, comments_part))
        new_notes = notes
    if made is not None and not existing and not merge:
        package.write_packed(vml_part, made[1])
        return
    block = _free_vml_block(package)
    shapes = _vml_shapes(new_notes, block)
    if merge:
        vml = package.read(vml_part).decode("utf-8", "replace")
        package.write(vml_part, _merge_vml(vml, shapes, block, len(new_notes)))
    else:
        package.write(vml_part, _vml_xml(shapes, block, len(new_notes)))


def _comment_text(text: str, p: str = "", declare: str = "") -> str:
    """The runs of a comment of ours: the author in bold, then `text`; `p` is the prefix the
    comments part writes SpreadsheetML with, `declare` a declaration each run needs."""
    body = xml_text(text)
    font = f'<{p}sz val="9"/><{p}rFont val="Tahoma"/><{p}family val="2"/>'
    return (
        f"<{p}r{declare}><{p}rPr><{p}b/>{font}</{p}rPr><{p}t>{COMMENT_AUTHOR}:</{p}t></{p}r>"
        f'<{p}r{declare}><{p}rPr>{font}</{p}rPr><{p}t xml:space="preserve">\n{body}</{p}t>'
        f"</{p}r>"
    )


def _comments_xml(notes: Notes, main: str) -> str:
    return "".join(_comments_chunks(notes, main))


def _comments_chunks(notes: Notes, main: str) -> Iterator[str]:
    """The comments part of `notes`, in chunks of `_CHUNK` notes: `_comment_text` of each
    note, the runs around its text made once, and the texts escaped one by one only when one
    of them needs it (`xml_texts`)."""
    head, _, tail = _comment_text("\ue000").partition("\ue000")  # a character left as it is
    head, tail = f'" authorId="0"><text>{head}', f"{tail}</text></comment>"
    letters: dict[int, str] = {}
    for (_, column), _ in notes:
        if column not in letters:
            letters[column] = column_letter(column)
    yield (
        f'{XML_DECLARATION}<comments xmlns="{main}"><authors><author>{COMMENT_AUTHOR}'
        "</author></authors><commentList>"
    )
    for at in range(0, len(notes), _CHUNK):
        some = notes[at : at + _CHUNK]
        texts = xml_texts([text for _, text in some])
        yield "".join(
            [
                f'<comment ref="{letters[c]}{r}{head}{text}{tail}'
                for ((r, c), _), text in zip(some, texts, strict=True)
            ]
        )
    yield "</commentList></comments>"


def _merge_comments(package: Package, part: str, notes: Notes) -> Notes:
    """Add our notes to the sheet's own comments; a cell with a comment of the user's gets
    ours appended to it. Returns the notes that need a shape of their own."""
    comments = package.xml(part)
    main = package.dialect.main
    root = comments.root
    authors = comments.first(main, "authors")
    comment_list = comments.first(main, "commentList")
    if root.ns != main or root.local != "comments" or authors is None or comment_list is None:
        raise NotInPlace("its comments are not written as SpreadsheetML's")
    author_id = len([e for e in comments.find(main, "author", authors) if e.parent is authors])
    theirs = {}
    for comment in comments.find(main, "comment", comment_list):
        text = next((e for e in comments.find(main, "text", comment) if e.parent is comment), None)
        if text is not None:
            theirs.setdefault(comment.attrs.get("ref", "").replace("$", "").upper(), text)
    new = []
    for (row, column), note in notes:  # sorted, as the user's comments are
        ref = f"{column_letter(column)}{row}"
        if ref in theirs:
            tag, declare = element_name(theirs[ref].scope, main, "r")
            comments.append(theirs[ref], _comment_text(note, prefix_of(tag), declare))
        else:
            new.append(((row, column), note))
    tag, declare = element_name(authors.scope, main, "author")
    comments.append(authors, f"<{tag}{declare}>{COMMENT_AUTHOR}</{tag}>")
    if new:
        tag, declare = element_name(comment_list.scope, main, "comment")
        p = prefix_of(tag)
        comments.append(
            comment_list,
            "".join(
                f'<{tag}{declare} ref="{column_letter(c)}{r}" authorId="{author_id}">'
                f"<{p}text>{_comment_text(note, p)}</{p}text></{tag}>"
                for (r, c), note in new
            ),
        )
    package.write(part, comments.to_bytes())
    return new


def _free_vml_block(package: Package) -> int:
    """A block of 1,024 VML shape ids no drawing in the workbook uses yet."""
    used = [0]
    for name in package.names:
        if name.lower().endswith(".vml") and package.has(name):
            text = package.read(name).decode("utf-8", "replace")
            for data in re.findall(r'<o:idmap\b[^>]*\bdata\s*=\s*"([^"]*)"', text):
                used += [int(n) for n in re.findall(r"\d+", data)]
    return max(used) + 1


def _vml_shapes(notes: Notes, block: int) -> str:
    return "".join(_shape_chunks(notes, block))


def _shape_chunks(notes: Notes, block: int) -> Iterator[str]:
    """A hidden note's shape for each note, anchored beside its cell (VML counts rows and
    columns from 0), in chunks of `_CHUNK` notes; the pieces that depend on a note's column
    alone made once a column."""
    by_column: dict[int, tuple[str, str, str]] = {}
    for at in range(0, len(notes), _CHUNK):
        shapes = []
        for number, ((row, column), text) in enumerate(
            notes[at : at + _CHUNK], start=block * 1024 + at + 1
        ):
            pieces = by_column.get(column)
            if pieces is None:
                pieces = by_column[column] = (
                    f"{column + 1}, 15, ",
                    f", 10, {column + 3}, 15, ",
                    f"</x:Row><x:Column>{column}</x:Column></x:ClientData></v:shape>",
                )
            top = row - 2 if row > 1 else 0  # the row above the cell's
            height = min(4 + len(text) // 60, 12)
            shapes.append(
                f'<v:shape id="_x0000_s{number}{_SHAPE_START}{pieces[0]}{top}{pieces[1]}'
                f"{top + height}, 4{_SHAPE_MIDDLE}{row - 1}{pieces[2]}"
            )
        yield "".join(shapes)


_SHAPE_START = (
    '" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;'
    'width:108pt;height:59.25pt;z-index:1;visibility:hidden" fillcolor="#ffffe1" '
    'o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow on="t" color="black" '
    'obscured="t"/><v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">'
    '<div style="text-align:left"></div></v:textbox><x:ClientData ObjectType="Note">'
    "<x:MoveWithCells/><x:SizeWithCells/><x:Anchor>"
)
_SHAPE_MIDDLE = "</x:Anchor><x:AutoFill>False</x:AutoFill><x:Row>"


_VML_SHAPETYPE = (
    '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
    'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
    '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
)


def _vml_blocks(block: int, count: int) -> str:
    return ",".join(str(block + i) for i in range(count // 1024 + 1))


def _vml_xml(shapes: str, block: int, count: int) -> str:
    return f"{_vml_head(block, count)}{shapes}</xml>"


def _vml_head(block: int, count: int) -> str:
    return (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:'
        'office" xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit">'
        f'<o:idmap v:ext="edit" data="{_vml_blocks(block, count)}"/></o:shapelayout>'
        f"{_VML_SHAPETYPE}"
    )


def _merge_vml(vml: str, shapes: str, block: int, count: int) -> str:
    if 'id="_x0000_t202"' not in vml:
        shapes = _VML_SHAPETYPE + shapes
    vml = re.sub(
        r'(<o:idmap\b[^>]*\bdata\s*=\s*")([^"]*)(")',
        lambda m: f"{m.group(1)}{m.group(2)},{_vml_blocks(block, count)}{m.group(3)}",
        vml,
        count=1,
    )
    end = vml.rfind("</xml>")
    if end < 0:
        raise NotInPlace
    return vml[:end] + shapes + vml[end:]
