"""`python -m seen_core`: the command line, one module per command (contract: docs/CLI.md).

Options become typed values at the edge (`options.py`); each command drives `seen_core.flow`
and only prints. Exit codes: 0 all good, 1 some rows not created, 2 bad usage or an unreadable
file or journal, 3 the send was stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import threading
from collections.abc import Sequence

from seen_core.cli import engagement, inspect, links, sandbox, send, validate
from seen_core.cli.options import EXIT_STOPPED, EXIT_USAGE, say_error
from seen_core.errors import SeenSenderError
from seen_core.interpreter import gc_paused

COMMANDS = (inspect, validate, send, links, engagement, sandbox)
READ_AND_PRINT = ("inspect", "validate")  # they read, check, print and end


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m seen_core",
        description="Check a spreadsheet of people and send them to SEEN as receivers.",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands).set_defaults(run=command.run)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "file", None):
        load_the_rest_meanwhile(report=bool(getattr(args, "report", None)))
    try:
        # A command that reads, prints and ends makes no reference cycles worth collecting;
        # the collector would walk a 100k-row sheet's million objects again and again.
        with gc_paused() if args.command in READ_AND_PRINT else contextlib.nullcontext():
            return args.run(args)
    except SeenSenderError as error:
        say_error(str(error))
        return EXIT_USAGE
    except KeyboardInterrupt:
        say_error("stopped.")
        return EXIT_STOPPED
    except BrokenPipeError:
        # The reader stopped reading (`| head`): not an error worth a traceback. Point stdout
        # at nothing so the interpreter's own last flush cannot fail again.
        with contextlib.suppress(OSError, ValueError):  # in process, stdout may be no file
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def load_the_rest_meanwhile(report: bool = False) -> threading.Thread:
    """Import the checks and the rest of the flow in a thread of their own, and the report's
    package when a report is asked for (none of them loads pandas for a command).

    A command reads its file first, and calamine parses a workbook without holding the
    interpreter's lock: so the imports (about 0.1 s) run on the other core meanwhile, instead
    of before the read. That is why the command modules import `flow`
    only after reading. Babel and the language's number formats load there too (0.03 s, at
    the first number written).
    """
    from seen_core import i18n

    modules = ["seen_core.flow", *(["seen_core.report"] if report else [])]
    lang = i18n.language()  # this thread's: the loader's thread starts without it

    def load() -> None:
        for name in modules:
            importlib.import_module(name)
        with i18n.using(lang):
            i18n.number(0)

    loader = threading.Thread(target=load, name="seen_core imports")
    loader.start()
    return loader
