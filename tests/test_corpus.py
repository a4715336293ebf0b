"""Real workbooks nobody here wrote, each checked and reported on by `validate --report`.

The workbooks come from packages (fetched by `tests/corpus.py fetch`, which CI runs), from the
libraries people export with (saved here by openpyxl with lxml, pandas and XlsxWriter), and from
LibreOffice saving each of them again where it is installed. Each report must be a workbook
every reader opens, with the user's sheets, merges, formats, tables, links and names as they
were; a report the editor had to rebuild must say what it lacks.
"""

from __future__ import annotations

import fcntl
import io
import os
import re
import warnings
import zipfile
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree
from xml.parsers import expat

import openpyxl
import pytest
import python_calamine
from cli_runner import run_cli
from corpus import (
    MADE,
    convert_all_with_libreoffice,
    downloaded,
    libreoffice_copies,
    made,
    soffice,
)

IN_CI = bool(os.environ.get("CI"))

# Files the reader refuses though a person would expect them read: the reader's work
# (seen_core/read/), not the report's. Each is expected to fail until the reader reads it.
READ_FAILS: dict[str, str] = {}  # name → why the reader refuses it, for a strict xfail


def _names() -> list[str]:
    names = [f"{p.parent.name}/{p.name}" for p in downloaded()]
    names += [f"made/{name}" for name in MADE]
    if soffice() is not None:
        names += [f"libreoffice/{_lo_name(name)}" for name in names]
    return names


def _lo_name(name: str) -> str:
    folder, file = name.split("/")
    return f"lo-{folder}-{PurePosixPath(file).stem}.xlsx"


NAMES = _names()
CASES = [
    pytest.param(name, marks=pytest.mark.xfail(reason=READ_FAILS[name], strict=True))
    if name in READ_FAILS
    else name
    for name in NAMES
]


@pytest.fixture(scope="session")
def corpus_folder(tmp_path_factory) -> Path:
    """The made workbooks and LibreOffice's copies, made once for every test worker."""
    if not downloaded():
        message = "the corpus is not fetched: run `python tests/corpus.py fetch`"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    if IN_CI and soffice() is None:
        pytest.fail("LibreOffice is not installed: .ci/run installs libreoffice-calc-nogui")
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # every worker's folder is in this run's own
        base = base.parent
    shared = base / "seen-corpus"
    shared.mkdir(exist_ok=True)
    with open(shared / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "done").exists():
            ours = made(shared / "made")
            for folder_name in {p.parent.name for p in downloaded()}:
                (shared / folder_name).mkdir(exist_ok=True)
            sources = [*downloaded(), *ours]
            copies = libreoffice_copies(sources, shared / "lo-work")
            (shared / "libreoffice").mkdir(exist_ok=True)
            for copy in copies:
                copy.rename(shared / "libreoffice" / copy.name)
            (shared / "done").touch()
    return shared


def _path(folder: Path, name: str) -> Path:
    kind, file = name.split("/")
    if kind in ("made", "libreoffice"):
        return folder / kind / file
    return next(p for p in downloaded() if p.parent.name == kind and p.name == file)


# --- what each report must be ----------------------------------------------------------------


def _parts(book: zipfile.ZipFile) -> dict[str, bytes]:
    return {i.filename: book.read(i) for i in book.infolist() if not i.is_dir()}


def _well_formed(data: bytes) -> bool:
    parser = expat.ParserCreate()
    try:
        parser.Parse(data, True)
    except expat.ExpatError:
        return False
    return True


def _xml_named(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels", ".vml"))


def _untyped(parts: dict[str, bytes]) -> set[str]:
    """The parts [Content_Types].xml gives no content type, by name or by extension."""
    types = ElementTree.fromstring(parts["[Content_Types].xml"])
    ns = "{http://schemas.openxmlformats.org/package/2006/content-types}"
    defaults = {e.get("Extension", "").lower() for e in types.iter(f"{ns}Default")}
    overrides = {e.get("PartName", "").lstrip("/").lower() for e in types.iter(f"{ns}Override")}
    return {
        name
        for name in parts
        if name != "[Content_Types].xml"
        and name.lower() not in overrides
        and PurePosixPath(name).name.rpartition(".")[2].lower() not in defaults
    }


def _openpyxl(data: bytes) -> tuple[openpyxl.Workbook | None, set[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            book = openpyxl.load_workbook(io.BytesIO(data))
        except Exception as error:  # some writers' workbooks are beyond openpyxl
            return None, {f"{type(error).__name__}"}
    return book, {str(w.message) for w in caught}


def _sheet_view(sheet) -> dict[str, object]:
    """What a user sees of a sheet (openpyxl's reading of it)."""
    cells = {}
    formats = {}
    links = {}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is not None:
                cells[cell.coordinate] = cell.value
                formats[cell.coordinate] = cell.number_format
            if cell.hyperlink is not None:
                links[cell.coordinate] = cell.hyperlink.target or cell.hyperlink.location
    return {
        "state": sheet.sheet_state,
        "cells": cells,
        "formats": formats,
        "links": links,
        "merges": sorted(str(r) for r in sheet.merged_cells.ranges),
        "tables": dict(sheet.tables.items()),
    }


def _names_of(book: openpyxl.Workbook) -> dict[str, str]:
    return {name: str(d.value) for name, d in book.defined_names.items()}


def _receivers_sheet(stdout: str) -> str | None:
    found = re.search(r": sheet '(.*)', header on row \d+, \d+ rows", stdout)
    return found.group(1) if found else None


@pytest.mark.parametrize("name", CASES)
def test_a_real_workbook_comes_back_whole(name: str, corpus_folder: Path, tmp_path: Path) -> None:
    source = _path(corpus_folder, name)
    wanted = tmp_path / "report.xlsx"
    done = run_cli("validate", source, "--report", wanted)
    if done.returncode == 2:  # refused: one sentence, no report
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("seen_core: "), done.stderr
        assert not list(tmp_path.glob("report.*"))
        assert name not in READ_FAILS, done.stderr  # a person would expect it read
        return
    assert done.returncode in (0, 1), done.stderr
    [out] = list(tmp_path.glob("report.*"))
    before, after = source.read_bytes(), out.read_bytes()
    parts_before = _parts(zipfile.ZipFile(io.BytesIO(before)))
    parts = _parts(zipfile.ZipFile(io.BytesIO(after)))

    # Every XML part is well-formed (the writer's own broken ones aside), every part typed.
    broken = [
        part
        for part, data in parts.items()
        if _xml_named(part)
        and not _well_formed(data)
        and (part not in parts_before or _well_formed(parts_before[part]))
    ]
    assert not broken, broken
    untyped = _untyped(parts) - _untyped(parts_before)  # some writers leave junk untyped
    assert not untyped, untyped
    # Excel opens a workbook only under the name its content type allows.
    macros = b"macroEnabled.main+xml" in parts["[Content_Types].xml"]
    assert out.suffix == (".xlsm" if macros else ".xlsx"), out.name

    # calamine reads every sheet it could read in the upload (a sheet calamine cannot parse
    # there, it cannot here either: the report copies it as it was).
    calamine = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(after))
    calamine_before = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(before))
    for sheet_name in calamine.sheet_names:
        if sheet_name in calamine_before.sheet_names:
            try:
                calamine_before.get_sheet_by_name(sheet_name).to_python()
            except python_calamine.CalamineError:
                continue
        calamine.get_sheet_by_name(sheet_name).to_python()

    # openpyxl opens it with no warning it did not give for the upload.
    book_before, warned_before = _openpyxl(before)
    book, warned = _openpyxl(after)
    if book_before is None:
        return  # openpyxl cannot read the upload either: nothing to compare
    assert book is not None, warned
    assert warned <= warned_before, warned - warned_before

    rebuilt = "rebuilt" in done.stderr or "new workbook" in done.stderr
    receivers = _receivers_sheet(done.stdout)
    assert receivers is not None, done.stdout
    if rebuilt:
        # It says what it lacks; the values of the user's other sheets are there all the same.
        assert re.search(r"has no [a-z]", done.stderr), done.stderr
        for sheet in book_before.worksheets:
            if sheet.title != receivers:
                assert _sheet_view(book[sheet.title])["cells"] == _sheet_view(sheet)["cells"]
        return
    assert _names_of(book) == _names_of(book_before)
    assert book.sheetnames[: len(book_before.sheetnames)] == book_before.sheetnames
    for sheet in book_before.worksheets:
        seen, was = _sheet_view(book[sheet.title]), _sheet_view(sheet)
        if sheet.title == receivers:
            # The report's columns are added and cells coloured; the user's cells stay.
            assert seen["state"] == was["state"]
            assert seen["merges"] == was["merges"]
            assert seen["tables"] == was["tables"]
            for key in ("cells", "formats", "links"):
                assert {k: v for k, v in seen[key].items() if k in was[key]} == was[key], key
        else:
            assert seen == was, sheet.title


def test_libreoffice_opens_every_report(corpus_folder: Path, tmp_path: Path) -> None:
    """A second reader, where LibreOffice is installed (in CI it is): each report converted
    headless, in one run of LibreOffice for them all."""
    if soffice() is None:
        pytest.skip("LibreOffice is not installed")
    reports = []
    for number, name in enumerate(n for n in NAMES if n not in READ_FAILS):
        out = tmp_path / f"report-{number}.xlsx"
        done = run_cli("validate", _path(corpus_folder, name), "--report", out)
        written = list(tmp_path.glob(f"report-{number}.xls?"))
        assert len(written) == (done.returncode != 2), (name, done.stderr)
        reports += [(name, path) for path in written]
    assert len(reports) > len(NAMES) // 2
    converted = convert_all_with_libreoffice([p for _, p in reports], tmp_path / "csv")
    assert not [name for name, path in reports if path.stem not in converted]
