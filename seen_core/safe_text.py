"""Showing and keeping what came from a sheet safely: text for a terminal, files kept private.

A cell is written by whoever made the sheet. Printed as it is, an escape sequence in it could
move the cursor, erase lines, colour the terminal or print fake results; a bidi override could
show text in another order than it has. `for_terminal` shows every such character as a visible
escape instead. `write_private` writes a file only its owner can read (0600), as every file
with people's data should be.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

from seen_core.errors import InputError

# C0 and C1 controls (ESC, CR, LF, backspace, CSI …), DEL, lone surrogates, and the invisible
# characters that change how text is shown: soft hyphen, zero-width ones, line and paragraph
# separators, bidi marks, embeddings, overrides and isolates, BOM, interlinear annotation, tags.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069"
    "\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def for_terminal(text: str) -> str:
    """`text` with every control or invisible formatting character shown as an escape
    (`\\x1b`, `\\r`, `\\u202e`), so that printing it cannot change what else the terminal shows.

    Letters of any script, emoji and ordinary punctuation are kept as they are.
    """
    if _UNSAFE.search(text) is None:  # nearly always: no copy
        return text
    return _UNSAFE.sub(_escape, text)


def lines_for_terminal(lines: list[str]) -> str:
    """Many lines for a terminal at once, each as `for_terminal` shows it: one search over the
    whole text finds whether any line needs escaping at all (most sheets hold none)."""
    text = "\n".join(lines)
    one_line = text.replace("\n", " ")
    # Every character _UNSAFE finds is one Python does not count as printable: a text of
    # printable characters only (letters of any script, emoji, spaces) needs no search.
    if one_line.isprintable() or not _UNSAFE.search(one_line):
        return text
    return "\n".join(for_terminal(line) for line in lines)


def write_private(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` readable and writable by its owner only (0600), whole or not at all.

    The bytes go to a new file beside `path` (created 0600, whatever the umask), which then
    replaces `path` in one step; a reader never sees half a file, and a file that was there
    before with wider permissions is replaced, not reused. Raises InputError in one sentence.
    """
    path = Path(path)
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o600)  # mkstemp's mode already; said for whoever reads this
        os.replace(temporary, path)
        temporary = None
    except OSError as error:
        reason = error.strerror or str(error)
        raise InputError(f"'{path}' could not be written: {reason}.") from None
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


# Every ASCII punctuation character may be backslash-escaped in Markdown (CommonMark); escaped,
# none can start a link, an image, emphasis, a heading, a list, a table or raw HTML.
_MARKDOWN_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")


def markdown_literal(text: str) -> str:
    """Text from a file (a file, sheet or column name, a cell, SEEN's message) for a place that
    renders Markdown, shown exactly as written: never a link, an image, bold or HTML."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _UNSAFE.sub(_escape, str(text)))
