"""Run `python -m seen_core …` in this process, as a script would see it: exit code and output."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from seen_core.cli import main


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str | Path, env: dict[str, str] | None = None) -> Done:
    """The command's exit code and what it printed; `env` replaces the SEEN_ variables."""
    out, err = io.StringIO(), io.StringIO()
    kept = {k: v for k, v in os.environ.items() if not k.startswith("SEEN_")}
    with (
        mock.patch.dict(os.environ, {**kept, **(env or {})}, clear=True),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = main([str(a) for a in args])
    return Done(code, out.getvalue(), err.getvalue())
