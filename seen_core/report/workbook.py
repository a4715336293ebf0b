"""The workbook around the receivers' sheet: which part that sheet is, the styles, and the
report's own Summary and Problems sheets added to the workbook's list of sheets."""

from __future__ import annotations

import array
import operator
import pickle

from seen_core.i18n import _
from seen_core.report.model import (
    PROBLEMS_SHEET_NAME,
    SUMMARY_SHEET_NAME,
    ReportInput,
    legal_sheet_name,
)
from seen_core.report.package import CT_STYLES, CT_WORKSHEET, Package, relative
from seen_core.report.parallel import Early, Elsewhere
from seen_core.report.plan import Plan
from seen_core.report.sheet import SheetEditor
from seen_core.report.styles import Styles, plain_styles
from seen_core.report.summary import packed_problem_rows, problems_sheet, summary_sheet
from seen_core.report.xml import (
    DIALECTS,
    Dialect,
    NotInPlace,
    Part,
    attr_text,
    attribute_prefix,
    element_name,
    xml_text,
)

_ROWS = "<!--seen-sender: the problems-->"  # where rows packed elsewhere go


def workbook_part(package: Package) -> str:
    """The workbook's main part (xl/workbook.xml, as a rule)."""
    found = next(
        (r["Target"] for r in package.relationships("") if r["Type"].endswith("/officeDocument")),
        None,
    )
    if found is None or not package.has(found):
        raise NotInPlace("it has no workbook part where the package says")
    return found


def annotate(
    package: Package,
    plan: Plan,
    report: ReportInput,
    *,
    rebuilt: bool,
    early: Early | Elsewhere | None = None,
) -> None:
    """Write the plan into the receivers' sheet of `package` and add Summary and Problems;
    `early`: what a child began for it (`rows_ahead`), where a command may fork."""
    book_part, book, dialect, book_rels, sheets = _workbook(package)
    sheet_list = book.first(dialect.main, "sheets")
    if sheet_list is None or not sheets:
        raise NotInPlace("its list of sheets is missing")
    if package.receivers is not None:
        sheet_part = package.receivers[0]
    else:
        sheet_part = _receivers_part(package, sheets, book_rels, report.sheet_name)
    styles_part = next(
        (r["Target"] for r in book_rels.values() if r["Type"].endswith("/styles")), None
    )
    if styles_part is None or not package.has(styles_part):
        # A workbook may have no styles at all (every cell in Excel's default look).
        styles_part = "xl/styles.xml"  # where readers look, whatever the relationship says
        if package.has(styles_part):
            styles_part = package.free_name("xl/styles{}.xml")
        package.write(styles_part, plain_styles(dialect))
        package.set_content_type(styles_part, CT_STYLES)
        package.add_relationship(book_part, "styles", relative(book_part, styles_part))
    styles = Styles(package.read(styles_part), dialect)

    sheet = SheetEditor(package, sheet_part, plan, styles, rebuilt=rebuilt)
    sheet.early = early
    # The Problems sheet's rows: made by the child begun before the plan, after it found the
    # rows (`report.begin_report`); else by the child that makes the notes, where one may fork
    # (else here, after the rows).
    # Either way packed, a chunk at a time (`packed_problem_rows`).
    begun = early is not None and early.then_begun(report.problems)
    if not begun:
        sheet.also = lambda: packed_problem_rows(report.problems)
    sheet.annotate(*(package.rows or ()))
    packed = sheet.also_made  # None: no problem
    if begun:
        made = early.then_made()  # type: ignore[union-attr]
        packed = packed_problem_rows(report.problems) if made is None else made[0]

    # Our own sheets, after the user's, under names the user's sheets do not use.
    taken = [s[0] for s in sheets]
    summary_name = legal_sheet_name(_(SUMMARY_SHEET_NAME), taken)
    problems_name = legal_sheet_name(_(PROBLEMS_SHEET_NAME), [*taken, summary_name])
    bold = styles.with_font(0, "bold")
    next_id = max((int(s[1]) for s in sheets if s[1].isdigit()), default=0) + 1
    tag, declare = element_name(sheet_list.scope, dialect.main, "sheet")
    r, declare_r = attribute_prefix(sheet_list.scope, dialect.rel)
    entries = []
    ours = [
        (summary_name, summary_sheet(report, plan, bold, dialect)),
        (problems_name, problems_sheet(report, bold, dialect, _ROWS if packed else None)),
    ]
    for offset, (name, xml) in enumerate(ours):
        part = package.free_name("xl/worksheets/sheet{}.xml")
        if packed and name == problems_name:
            head, _rows, tail = xml.partition(_ROWS)
            package.write_around(part, head.encode("utf-8"), packed, tail.encode("utf-8"))
        else:
            package.write(part, xml)
        package.set_content_type(part, CT_WORKSHEET)
        rid = package.add_relationship(book_part, "worksheet", relative(book_part, part))
        entries.append(
            f'<{tag}{declare}{declare_r} name="{attr_text(name)}" '
            f'sheetId="{next_id + offset}" {r}:id="{rid}"/>'
        )
    book.append(sheet_list, "".join(entries))
    if package.receivers is not None and sheet.filter_ref:
        # The filter over the rebuilt sheet, named the way Excel names its own filters.
        _part, name, index = package.receivers
        quoted = "'" + name.replace("'", "''") + "'"
        book.replace(
            sheet_list.end,
            sheet_list.end,
            '<definedNames><definedName name="_xlnm._FilterDatabase" '
            f'localSheetId="{index}" hidden="1">{xml_text(quoted)}!{sheet.filter_ref}'
            "</definedName></definedNames>",
        )
    package.write(book_part, book.to_bytes())
    package.write(styles_part, styles.to_xml())
    if sheet.dropped_formulas:
        _drop_calc_chain(package, book_part)


def _workbook(
    package: Package,
) -> tuple[str, Part, Dialect, dict[str, dict[str, str]], list[tuple[str, str, str]]]:
    """The workbook part, its XML and dialect (set on `package`), its relationships by id,
    and its sheets: (name, sheetId, relationship id) each."""
    book_part = workbook_part(package)
    book = package.xml(book_part)
    dialect = DIALECTS.get(book.root.ns) if book.root.local == "workbook" else None
    if dialect is None:
        raise NotInPlace("it is written in a kind of SpreadsheetML the report does not know")
    package.dialect = dialect
    book_rels = {r["Id"]: r for r in package.relationships(book_part)}
    sheets = [
        (
            element.attrs.get("name", ""),
            element.attrs.get("sheetId", ""),
            element.attr(dialect.rel, "id") or "",
        )
        for element in book.find(dialect.main, "sheet")
    ]
    return book_part, book, dialect, book_rels, sheets


def _receivers_part(
    package: Package,
    sheets: list[tuple[str, str, str]],
    book_rels: dict[str, dict[str, str]],
    sheet_name: str | None,
) -> str:
    """The part of the sheet named `sheet_name` (else the first)."""
    wanted = [s for s in sheets if s[0] == sheet_name] or sheets[:1]
    if not wanted:
        raise NotInPlace("its list of sheets is missing")
    rel = book_rels.get(wanted[0][2])
    if rel is None or not rel["Type"].endswith("/worksheet") or not package.has(rel["Target"]):
        raise NotInPlace("its sheet of people is not where the workbook says")
    return rel["Target"]


def rows_ahead(
    source: bytes, sheet_name: str | None, header_row: int, rows: list[int]
) -> dict[str, object]:
    """What a report of `source` can have made before its plan, elsewhere (see
    report/parallel.py): where the sheet's header and people's rows are (its part and
    `SheetEditor.scan`), the places pickled on their own and the rows' numbers beside them:
    the report unpickles the places only once it has forked, so that they are its own pages
    and not its child's too (see `SheetEditor._rows`)."""
    answer: dict[str, object] = {}
    package = Package.from_zip(source)
    _book_part, _book, _dialect, book_rels, sheets = _workbook(package)
    part = _receivers_part(package, sheets, book_rels, sheet_name)
    editor = SheetEditor(package, part, None, None, rebuilt=False)  # type: ignore[arg-type]
    found, width, style = editor.scan(
        editor.xml, editor.body_start, editor.body_end, header_row, rows
    )
    answer["part"] = part
    answer["scan"] = (pickle.dumps(found, pickle.HIGHEST_PROTOCOL), width, style)
    answer["rows"] = array.array("I", map(operator.itemgetter(0), found)).tobytes()
    return answer


def _drop_calc_chain(package: Package, book_part: str) -> None:
    """Excel rebuilds the calculation chain; a stale one (a formula we replaced) is an error."""
    for rel in package.relationships(book_part):
        if rel["Type"].endswith("/calcChain"):
            package.remove_relationship(book_part, rel)
