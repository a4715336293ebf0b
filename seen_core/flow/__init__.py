"""The one flow under the app and the command line: read → map → check → plan a send → send →
report.

Each front end only gathers input and shows output; every step's wiring is here, once, in three
modules — `checking` (read, map, check, the rows SEEN holds), `sending` (where a send goes,
planning and running it, 2.0 video links) and `reports` (the annotated workbook and each send's
own) — whose names this package gives as one. See docs/ARCHITECTURE.md ("The flow").
"""

from __future__ import annotations

from seen_core.check import checks  # the rules the flow runs (tests slow them down)
from seen_core.flow.checking import (
    ALREADY_EXISTS,
    CheckAhead,
    Checked,
    check,
    check_options,
    for_target,
    held_rows,
    is_data,
    is_held,
    latest_outcomes,
    mapping_for,
    read,
    read_checking_ahead,
    recheck,
    settled,
    target_label,
    target_problem,
)
from seen_core.flow.reports import (
    ReportFile,
    keep_send_sheet,
    kept_send_sheet,
    report_file,
    send_report_file,
    sent_to_words,
)
from seen_core.flow.sending import (
    SANDBOX,
    Connection,
    connect,
    fetch_links,
    latest_send_of,
    open_journal,
    outcomes_after,
    plan,
    purge,
    reconnect,
    send,
    send_names,
    stored_links,
)
from seen_core.statuses import count_statuses  # pages and commands count here

__all__ = [
    "ALREADY_EXISTS",
    "SANDBOX",
    "CheckAhead",
    "Checked",
    "Connection",
    "ReportFile",
    "check",
    "check_options",
    "checks",
    "connect",
    "count_statuses",
    "fetch_links",
    "for_target",
    "held_rows",
    "is_data",
    "is_held",
    "keep_send_sheet",
    "kept_send_sheet",
    "latest_outcomes",
    "latest_send_of",
    "mapping_for",
    "open_journal",
    "outcomes_after",
    "plan",
    "purge",
    "read",
    "read_checking_ahead",
    "recheck",
    "reconnect",
    "report_file",
    "send",
    "send_names",
    "send_report_file",
    "sent_to_words",
    "settled",
    "stored_links",
    "target_label",
    "target_problem",
]
