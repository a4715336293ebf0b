"""Writing `--report`: under the name Excel will open it by, saying what a rebuilt one lacks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import seen_core.cli.options as o

if TYPE_CHECKING:
    from seen_core.flow import ReportFile


def write_report(wanted: str, report: ReportFile, upload: str) -> str:
    """Write `report` where the user asked, or beside it under the suffix it must have, and
    return the name written.

    A workbook that keeps macros must be named .xlsm and one without them .xlsx: Excel refuses
    to open either under the other's name. The suffix is put right with a warning rather than
    the report refused, since `send` writes it after the people are sent. A file already there
    under the corrected name (the upload itself, say) is never overwritten: a number is added.
    What a workbook rebuilt from its cells lacks is said on stderr, one sentence a line.
    """
    name = report.name_for(wanted)
    if name != wanted:
        path, number = Path(name), 2
        while path.exists():
            path = Path(name).with_stem(f"{Path(name).stem}-{number}")
            number += 1
        name = str(path)
        holds = "holds macros" if report.suffix == ".xlsm" else "holds no macros"
        o.say_error(
            f"{Path(upload).name} {holds}, so the report is written to {name}: Excel opens "
            f"such a workbook only under a name ending in {report.suffix}."
        )
    o.write_private(name, report.data)
    for sentence in report.lacks:
        o.say_error(sentence)
    return name
