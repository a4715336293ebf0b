"""The workbook around the receivers' sheet: which part that sheet is, the styles, and the
report's own Summary and Problems sheets added to the workbook's list of sheets."""

from __future__ import annotations

import re

from seen_core.report.model import (
    PROBLEMS_SHEET_NAME,
    SUMMARY_SHEET_NAME,
    ReportInput,
    legal_sheet_name,
)
from seen_core.report.package import CT_WORKSHEET, Package, relative
from seen_core.report.plan import Plan
from seen_core.report.sheet import SheetEditor
from seen_core.report.styles import Styles
from seen_core.report.summary import problems_sheet, summary_sheet
from seen_core.report.xml import (
    REL_NS,
    NotInPlace,
    attr_text,
    attrs,
    declare,
    insert_before_close,
    namespace_prefix,
    root_prefix,
    xml_text,
)


def annotate(package: Package, plan: Plan, report: ReportInput, *, rebuilt: bool) -> None:
    """Write the plan into the receivers' sheet of `package` and add Summary and Problems."""
    workbook_part = next(
        (r["Target"] for r in package.relationships("") if r["Type"].endswith("/officeDocument")),
        None,
    )
    if workbook_part is None:
        raise NotInPlace
    workbook = package.text(workbook_part)
    book_prefix = root_prefix(workbook, "workbook")
    book_rels = {r["Id"]: r for r in package.relationships(workbook_part)}
    sheets = _workbook_sheets(workbook, book_prefix)
    if package.receivers is not None:
        sheet_part = package.receivers[0]
    else:
        wanted = [s for s in sheets if s["name"] == report.sheet_name] or sheets[:1]
        if not wanted or wanted[0]["rid"] not in book_rels:
            raise NotInPlace
        sheet_part = book_rels[wanted[0]["rid"]]["Target"]
        if not book_rels[wanted[0]["rid"]]["Type"].endswith("/worksheet"):
            raise NotInPlace
    styles_part = next(
        (r["Target"] for r in book_rels.values() if r["Type"].endswith("/styles")), None
    )
    if styles_part is None:
        raise NotInPlace
    styles = Styles(package.text(styles_part))

    sheet = SheetEditor(package, sheet_part, plan, styles, rebuilt=rebuilt)
    sheet.annotate(*(package.rows or ()))

    # Our own sheets, after the user's, under names the user's sheets do not use.
    taken = [s["name"] for s in sheets]
    summary_name = legal_sheet_name(SUMMARY_SHEET_NAME, taken)
    problems_name = legal_sheet_name(PROBLEMS_SHEET_NAME, [*taken, summary_name])
    bold = styles.with_font(0, "bold")
    next_id = max((int(s["sheetId"]) for s in sheets if s["sheetId"].isdigit()), default=0) + 1
    r_prefix = namespace_prefix(workbook, REL_NS)
    if r_prefix is None:
        workbook = declare(workbook, "workbook", "r", REL_NS)
        r_prefix = "r"
    entries = []
    ours = [
        (summary_name, summary_sheet(report, plan, bold)),
        (problems_name, problems_sheet(report, bold)),
    ]
    for offset, (name, xml) in enumerate(ours):
        part = package.free_name("xl/worksheets/sheet{}.xml")
        package.write(part, xml)
        package.add_content_type(part, CT_WORKSHEET)
        rid = package.add_relationship(workbook_part, "worksheet", relative(workbook_part, part))
        entries.append(
            f'<{book_prefix}sheet name="{attr_text(name)}" sheetId="{next_id + offset}" '
            f'{r_prefix}:id="{rid}"/>'
        )
    workbook = insert_before_close(workbook, "sheets", "".join(entries))
    if package.receivers is not None and sheet.filter_ref:
        # The filter over the rebuilt sheet, named the way Excel names its own filters.
        _part, name, index = package.receivers
        quoted = "'" + name.replace("'", "''") + "'"
        workbook = workbook.replace(
            "</sheets>",
            '</sheets><definedNames><definedName name="_xlnm._FilterDatabase" '
            f'localSheetId="{index}" hidden="1">{xml_text(quoted)}!{sheet.filter_ref}'
            "</definedName></definedNames>",
            1,
        )
    package.write(workbook_part, workbook)
    package.write(styles_part, styles.to_xml())
    if sheet.dropped_formulas:
        _drop_calc_chain(package, workbook_part)


def _workbook_sheets(workbook: str, prefix: str) -> list[dict[str, str]]:
    r_prefix = namespace_prefix(workbook, REL_NS) or "r"
    found = []
    for tag in re.findall(rf"<{re.escape(prefix)}sheet\b[^>]*>", workbook):
        sheet = attrs(tag)
        found.append(
            {
                "name": sheet.get("name", ""),
                "sheetId": sheet.get("sheetId", "0"),
                "rid": sheet.get(f"{r_prefix}:id", ""),
            }
        )
    return found


def _drop_calc_chain(package: Package, workbook_part: str) -> None:
    """Excel rebuilds the calculation chain; a stale one (a formula we replaced) is an error."""
    for rel in package.relationships(workbook_part):
        if rel["Type"].endswith("/calcChain"):
            package.remove_relationship(workbook_part, rel)
