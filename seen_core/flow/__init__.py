"""The one flow under the app and the command line: read → map → check → plan a send → send →
report.

Each front end only gathers input and shows output; every step's wiring is here, once, in three
modules — `checking` (read, map, check, the rows SEEN holds), `sending` (where a send goes,
planning and running it, 2.0 video links) and `reports` (the annotated workbook and each send's
own) — whose names this package gives as one. See docs/ARCHITECTURE.md ("The flow").
"""

from __future__ import annotations

from seen_core.check import checks as checks  # the rules the flow runs (tests slow them down)
from seen_core.flow.checking import (
    ALREADY_EXISTS as ALREADY_EXISTS,
)
from seen_core.flow.checking import (
    CheckAhead as CheckAhead,
)
from seen_core.flow.checking import (
    Checked as Checked,
)
from seen_core.flow.checking import (
    check as check,
)
from seen_core.flow.checking import (
    check_options as check_options,
)
from seen_core.flow.checking import (
    for_target as for_target,
)
from seen_core.flow.checking import (
    held_rows as held_rows,
)
from seen_core.flow.checking import (
    is_data as is_data,
)
from seen_core.flow.checking import (
    is_held as is_held,
)
from seen_core.flow.checking import (
    latest_outcomes as latest_outcomes,
)
from seen_core.flow.checking import (
    mapping_for as mapping_for,
)
from seen_core.flow.checking import (
    read as read,
)
from seen_core.flow.checking import (
    read_checking_ahead as read_checking_ahead,
)
from seen_core.flow.checking import (
    recheck as recheck,
)
from seen_core.flow.checking import (
    target_label as target_label,
)
from seen_core.flow.checking import (
    target_problem as target_problem,
)
from seen_core.flow.reports import (
    ReportFile as ReportFile,
)
from seen_core.flow.reports import (
    keep_send_sheet as keep_send_sheet,
)
from seen_core.flow.reports import (
    kept_send_sheet as kept_send_sheet,
)
from seen_core.flow.reports import (
    report_bytes as report_bytes,
)
from seen_core.flow.reports import (
    report_file as report_file,
)
from seen_core.flow.reports import (
    send_report_bytes as send_report_bytes,
)
from seen_core.flow.reports import (
    send_report_file as send_report_file,
)
from seen_core.flow.reports import (
    sent_to_words as sent_to_words,
)
from seen_core.flow.sending import (
    SANDBOX as SANDBOX,
)
from seen_core.flow.sending import (
    Connection as Connection,
)
from seen_core.flow.sending import (
    connect as connect,
)
from seen_core.flow.sending import (
    fetch_links as fetch_links,
)
from seen_core.flow.sending import (
    latest_send_of as latest_send_of,
)
from seen_core.flow.sending import (
    open_journal as open_journal,
)
from seen_core.flow.sending import (
    outcomes_after as outcomes_after,
)
from seen_core.flow.sending import (
    plan as plan,
)
from seen_core.flow.sending import (
    purge as purge,
)
from seen_core.flow.sending import (
    reconnect as reconnect,
)
from seen_core.flow.sending import (
    send as send,
)
from seen_core.flow.sending import (
    stored_links as stored_links,
)
from seen_core.statuses import count_statuses as count_statuses  # pages and commands count here
