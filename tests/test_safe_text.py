"""Cells shown on a terminal cannot move the cursor or colour it; files with people's data are
readable by their owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from seen_core.errors import InputError
from seen_core.safe_text import for_terminal, lines_for_terminal, write_private


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("\x1b[2K\r✓ 0 problems", "\\x1b[2K\\r✓ 0 problems"),  # erase the line, print a lie
        ("Ola\x1b]0;hacked\x07", "Ola\\x1b]0;hacked\\x07"),  # set the window title
        ("Kari\x9b31m", "Kari\\x9b31m"),  # the one-byte CSI of C1
        ("abc\x08\x08\x08xyz", "abc\\x08\\x08\\x08xyz"),  # backspaces over the text
        ("two\nlines", "two\\nlines"),
        ("nul\x00del\x7f", "nul\\x00del\\x7f"),
        ("gpj.\u202eexe", "gpj.\\u202eexe"),  # a right-to-left override reverses what follows
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("bad \udcff byte", "bad \\udcff byte"),  # a lone surrogate would make print() fail
    ],
)
def test_control_characters_are_shown_as_escapes(cell: str, shown: str):
    assert for_terminal(cell) == shown
    assert for_terminal(cell).isprintable()


def test_letters_of_any_script_and_emoji_are_kept():
    for text in ["Åse Ørjan Sæther", "Müller-Lüdenscheidt", "Παπαδόπουλος", "李小龙", "Ola 👋🏽"]:
        assert for_terminal(text) is text


def test_a_private_file_is_0600_whatever_the_umask_and_replaces_a_wider_one(tmp_path: Path):
    report = tmp_path / "sent.xlsx"
    report.write_bytes(b"old")
    report.chmod(0o644)
    old_umask = os.umask(0o000)
    try:
        write_private(report, b"people")
    finally:
        os.umask(old_umask)
    assert report.read_bytes() == b"people"
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["sent.xlsx"]  # no temporary file left


def test_a_private_file_that_cannot_be_written_is_one_sentence(tmp_path: Path):
    with pytest.raises(InputError) as refused:
        write_private(tmp_path / "no-such-folder" / "sent.xlsx", b"people")
    assert str(refused.value) == (
        f"'{tmp_path / 'no-such-folder' / 'sent.xlsx'}' could not be written: "
        "No such file or directory."
    )


def test_many_lines_are_escaped_only_where_they_need_it():
    from seen_core.safe_text import lines_for_terminal

    assert lines_for_terminal(["row 2 ok", "row 3 ok"]) == "row 2 ok\nrow 3 ok"
    shown = lines_for_terminal(["row 2 ok", "row 3 \x1b[2Jfake"])
    assert shown == "row 2 ok\nrow 3 \\x1b[2Jfake"


def test_every_character_shown_as_an_escape_is_one_python_calls_unprintable():
    # lines_for_terminal skips its search for text that str.isprintable passes: that is only
    # safe while no character the search finds counts as printable.
    from seen_core.safe_text import _UNSAFE

    escaped = "".join(c for c in map(chr, range(0x110000)) if _UNSAFE.match(c))
    assert escaped and not any(c.isprintable() for c in escaped)
    assert lines_for_terminal(["Åse\u202eevil", "ok"]) == "Åse\\u202eevil\nok"
