"""The flow's reports: a check's or a draft's annotated workbook (or CSV), each send's own sheet
kept with it, and a send's own report."""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from seen_core.check.checks import CheckOptions, CheckResult
from seen_core.check.mapping import Mapping as FieldMapping
from seen_core.check.receivers import payloads, values_sent
from seen_core.flow.checking import Checked, is_data, target_label
from seen_core.flow.sending import SANDBOX, stored_links
from seen_core.i18n import _
from seen_core.problems import Problem
from seen_core.read.sheets import Sheet
from seen_core.read.text_table import TextTable
from seen_core.statuses import JobState
from seen_core.store.journal import Journal

if TYPE_CHECKING:
    from seen_core.send.links import Video


# --- reports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFile:
    """A report to hand the user: its bytes, the suffix its name must have, and what it lacks.

    `suffix` is ".csv", ".xlsx", or ".xlsm" for a workbook that keeps the upload's macros
    (Excel opens a workbook only under the name its kind allows); `name_for` gives a wanted
    name that suffix. `lacks` are plain sentences for the user when their workbook could not
    be annotated in place and the report is a new workbook made from its cells: why, and what
    of the original it has not ("The new workbook has no pictures, charts or merged cells of
    the original."). Empty when the report is the user's own workbook, or a CSV.
    """

    data: bytes
    suffix: str
    lacks: tuple[str, ...] = ()

    def name_for(self, wanted: str) -> str:
        """`wanted` with this report's suffix when it asks for the other kind of workbook
        (.xlsx for a macro workbook, .xlsm for a plain one); other names as they are."""
        from pathlib import PurePath

        path = PurePath(wanted)
        suffix = path.suffix.lower()
        if self.suffix != suffix and {suffix, self.suffix} == {".xlsx", ".xlsm"}:
            return str(path.with_suffix(self.suffix))
        return wanted


def report_file(
    checked: Checked,
    out_name: str,
    *,
    source: bytes = b"",
    outcomes: Mapping[int, tuple[str, str]] | None = None,
    sent_to: str = "not sent (checked only)",
    who: str | None = None,
    details: Sequence[tuple[str, str]] = (),
    videos: Mapping[int, Video] | None = None,
    engagement: Mapping[int, tuple[str | None, bool, bool, bool]] | None = None,
) -> ReportFile:
    """The user's own sheet with SEEN's answer beside each row, as XLSX (the user's workbook
    itself when `source` is one) or as CSV when `out_name` ends in .csv; with the suffix its
    name must have and what a rebuilt workbook lacks."""
    from datetime import UTC, datetime

    from seen_core.report import (
        ReportInput,
        ReportSummary,
        annotated_csv,
        extra_keys_of,
        made_workbook,
        values_as_sent,
    )

    region, valid = checked.options.region, checked.result.valid_rows
    id_field = "id" if is_data(checked.target) else "customer_id"
    sent_as = None
    if checked.shape is None and id_field == "customer_id":  # v1 payloads: made by column
        sent_as = values_sent(
            checked.text, checked.mapping, region, valid, checked.result.phone_e164
        )
    if sent_as is None:
        sent = payloads(checked.text, checked.mapping, region, valid)
        if checked.shape is not None:
            sent = [(row, checked.shape(payload)) for row, payload in sent]
        sent_as = values_as_sent(checked.text, sent, checked.mapping, id_field=id_field)
    sent_rows = set(valid)
    for row, words in checked.sent_without().items():  # the cell kept, the value not sent
        if row in sent_rows:
            for column, text in words.items():
                sent_as.setdefault(column, {})[row] = text
    report = ReportInput(
        file_name=checked.sheet.file_name,
        source=source,
        sheet_name=checked.sheet.sheet_name,
        header_row=checked.sheet.header_row,
        table=checked.cells,  # the user's cells: a command's report never loads pandas
        outcomes=checked.outcomes() if outcomes is None else outcomes,
        summary=ReportSummary(
            target=target_label(checked.target) if checked.target else "not chosen yet",
            sent_to=sent_to,
            when=datetime.now(UTC),
            who=who,
            sha256=checked.sheet.sha256,
            details=tuple(details),
        ),
        problems=checked.problems,
        sent_as=sent_as,
        extra_keys=extra_keys_of(checked.mapping),
        videos={
            row: (v.player, v.thumbnail, v.email_thumbnail) for row, v in (videos or {}).items()
        },
        engagement=engagement or {},
        original=checked.sheet.text,
    )
    if str(out_name).lower().endswith(".csv"):
        return ReportFile(annotated_csv(report), ".csv")
    made = made_workbook(report)
    return ReportFile(made.data, made.suffix, made.lacks)


def sent_to_words(address: str) -> str:
    """Where a send went, as the Summary sheet says it."""
    return _("the sandbox (nothing reached SEEN)") if address == SANDBOX else f"SEEN ({address})"


# --- each send's own sheet, and reports of a send ------------------------------------------------


def keep_send_sheet(journal: Journal, job_id: int, checked: Checked) -> None:
    """Keep the sheet as sent, and the problems its check found, with the send: its own
    report can then be made after a restart, and it goes when the send is deleted or purged."""
    text = checked.text
    columns = text.columns
    cells = zip(text.rows, *(text.column(c) for c in columns), strict=True)
    data = {
        "file_name": checked.sheet.file_name,
        "sha256": checked.sheet.sha256,
        "sheet_name": checked.sheet.sheet_name,
        "header_row": checked.sheet.header_row,
        "columns": [str(c) for c in columns],
        "rows": [[int(row), *values] for row, *values in cells],
        "problems": [p.as_dict() for p in checked.problems],
    }
    packed = gzip.compress(json.dumps(data, ensure_ascii=False).encode("utf-8"), 6)
    journal.keep_sheet(job_id, packed)


def kept_send_sheet(journal: Journal, job_id: int) -> tuple[Sheet, list[Problem]]:
    """The sheet kept with a send, else a sheet of its row numbers only."""
    packed = journal.kept_sheet(job_id)
    data = None
    if packed is not None:
        try:
            data = json.loads(gzip.decompress(packed))
        except (OSError, ValueError):
            data = None
    if data is None:
        rows = list(journal.outcomes(job_id))
        text = TextTable(rows, {"Row": [str(r) for r in rows]})
        return Sheet(journal.job(job_id).file_name, "", [], None, 1, ["Row"], text), []
    kept = data["rows"]
    columns = [list(column) for column in zip(*(r[1:] for r in kept), strict=True)]
    if not columns:  # no rows: no cells to take the columns from
        columns = [[] for _ in data["columns"]]
    text = TextTable([r[0] for r in kept], dict(zip(data["columns"], columns, strict=True)))
    sheet = Sheet(
        data["file_name"], data["sha256"], [], data["sheet_name"], data["header_row"],
        data["columns"], text,
    )  # fmt: skip
    return sheet, [Problem(**p) for p in data.get("problems", ())]


def send_report_file(
    journal: Journal,
    job_id: int,
    out_name: str,
    *,
    source: bytes = b"",
    who: str | None = None,
    engagement: Mapping[int, tuple[str | None, bool, bool, bool]] | None = None,
) -> ReportFile:
    """One send's own report: its sheet as sent, with that send's outcomes and any video
    links (rebuilt from its cells, or the user's workbook itself when `source` is given); with
    its suffix and what a rebuilt workbook lacks. `engagement`: row → (film, opened, watched,
    clicked) from SEEN's callbacks (`seen_core.engagement`), as the Film … Clicked columns."""
    sheet, problems = kept_send_sheet(journal, job_id)
    job = journal.job(job_id)
    result = CheckResult(list(sheet.text.rows), problems, {})
    checked = Checked(sheet, None, FieldMapping({}, {}), CheckOptions(), result, job.campaign)
    return report_file(
        checked,
        out_name,
        source=source,
        outcomes=journal.outcomes(job_id),
        sent_to=sent_to_words(job.target),
        who=who,
        details=[
            (_("Send"), f"{_send_name(journal, job)}, {JobState(job.state).label}"),
            (_("Started"), job.created_at),
        ],
        videos=stored_links(journal, job_id),
        engagement=engagement,
    )


def _send_name(journal: Journal, job) -> str:
    """The send's name as History and Results say it (numbered within its draft)."""
    from seen_core.flow.sending import send_names

    jobs = journal.draft_jobs(job.draft_id) if job.draft_id else [job]
    return send_names(jobs).get(job.id, _("Send of {moment}").format(moment=job.created_at))
