"""JSON output: compact in a pipe, indented on a terminal, Norwegian letters as they are."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from seen_core.jsonout import dumps, write_json

ROOT = Path(__file__).resolve().parent.parent

RECEIVER = {"row": 2, "payload": {"first_name": "Åse", "last_name": "Øren", "extra_args": {}}}


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_pipe_gets_compact_json_and_one_newline():
    stream = io.BytesIO()
    write_json({"receivers": [RECEIVER]}, stream)
    text = stream.getvalue().decode("utf-8")
    assert text.count("\n") == 1 and text.endswith("}\n")
    assert json.loads(text) == {"receivers": [RECEIVER]}


def test_a_terminal_gets_indented_json():
    stream = _Terminal()
    write_json(RECEIVER, stream)
    assert stream.getvalue().startswith('{\n  "row": 2,\n  "payload": {\n    "first_name"')
    assert json.loads(stream.getvalue()) == RECEIVER


def test_indent_can_be_chosen_whatever_the_stream():
    assert dumps(RECEIVER, indent=True).count(b"\n") > 3
    compact = io.BytesIO()
    write_json(RECEIVER, compact, indent=False)
    indented = io.BytesIO()
    write_json(RECEIVER, indented, indent=True)
    assert compact.getvalue().count(b"\n") == 1 and indented.getvalue().count(b"\n") > 3


def test_letters_are_written_as_utf8_not_escaped():
    stream = io.BytesIO()
    write_json(RECEIVER, stream)
    assert "Åse".encode() in stream.getvalue() and b"\\u" not in stream.getvalue()


def test_text_written_before_stays_before_on_a_text_stream_with_a_buffer():
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8")
    stream.write("before\n")
    write_json([1, "ø"], stream)
    stream.write("after\n")
    stream.flush()
    assert raw.getvalue().decode("utf-8") == 'before\n[1,"ø"]\nafter\n'


def _child_output(code: str, terminal: bool) -> bytes:
    command = [sys.executable, "-c", code]
    if not terminal:
        return subprocess.run(command, capture_output=True, check=True, cwd=ROOT).stdout
    main, secondary = pty.openpty()
    try:
        subprocess.run(command, stdout=secondary, check=True, cwd=ROOT)
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).replace(b"\r\n", b"\n")
    finally:
        os.close(main)


@pytest.mark.parametrize(("terminal", "lines"), [(False, 1), (True, 9)])
def test_sys_stdout_gets_indented_json_only_on_a_terminal(terminal, lines):
    code = (
        "import sys; from seen_core.jsonout import write_json; "
        "write_json({'rows': 1, 'receivers': [{'row': 2, 'payload': {}}]}, sys.stdout)"
    )
    output = _child_output(code, terminal)
    assert output.count(b"\n") == lines
    assert json.loads(output) == {"rows": 1, "receivers": [{"row": 2, "payload": {}}]}
