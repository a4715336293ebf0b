"""Workbooks nobody on this project wrote, for tests/test_corpus.py.

Three kinds:

- **downloaded**: workbooks shipped inside packages, saved by Excel (Windows, Mac, Online),
  LibreOffice, WPS and other libraries, fetched with the ordinary package clients into a cache
  folder (`python tests/corpus.py fetch`, which `.ci/run` runs) and never committed;
- **made**: workbooks this file saves itself with openpyxl (with lxml, as pandas and CRM
  exports write them), pandas and XlsxWriter, each with what a report must keep: pictures,
  charts, comments, merged cells, number formats, tables, links, names, a very hidden sheet;
- **LibreOffice's copies** of both, where LibreOffice is installed (`soffice --headless`).

The cache folder is $SEEN_CORPUS_DIR, else ~/.cache/seen-sender/corpus.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

# Packages that ship workbooks, by registry. Debian's are taken at the version the machine's
# package lists name; PyPI's sdists at a pinned version (their tests hold the workbooks).
DEBIAN = ["r-cran-readxl", "r-cran-openxlsx", "xlsx2csv"]
PYPI = ["tablib==3.10.0", "pyexcel-xlsx==0.6.1"]
SUFFIXES = (".xlsx", ".xlsm")


def cache_folder() -> Path:
    found = os.environ.get("SEEN_CORPUS_DIR")
    return Path(found) if found else Path.home() / ".cache" / "seen-sender" / "corpus"


# --- downloaded ------------------------------------------------------------------------------


def fetch(folder: Path | None = None) -> list[Path]:
    """Download the packages (once) and unpack their workbooks into `folder`/files."""
    folder = folder or cache_folder()
    packages = folder / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    for name in DEBIAN:
        if not list(packages.glob(f"{name}_*.deb")):
            subprocess.run(["apt-get", "download", "-q", name], cwd=packages, check=True)
    for requirement in PYPI:
        project = requirement.split("==")[0].replace("-", "_")
        if not list(packages.glob(f"{project}-*.tar.gz")):
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                 "--no-binary", ":all:", "-d", str(packages), requirement],
                check=True,
            )  # fmt: skip
    files = folder / "files"
    files.mkdir(exist_ok=True)
    for package in sorted(packages.iterdir()):
        if package.suffix == ".deb":
            _unpack(package, files / package.name.split("_")[0])
        elif package.name.endswith(".tar.gz"):
            _unpack(package, files / package.name.rsplit("-", 1)[0])
    return downloaded(folder)


def _unpack(package: Path, into: Path) -> None:
    """The workbooks inside a .deb or an sdist, under their own file names."""
    if into.exists():
        return
    staging = Path(tempfile.mkdtemp(dir=into.parent))
    try:
        if package.suffix == ".deb":
            subprocess.run(["dpkg-deb", "-x", str(package), str(staging)], check=True)
            found = [p for p in staging.rglob("*") if p.suffix.lower() in SUFFIXES]
        else:
            with tarfile.open(package) as sdist:
                members = [m for m in sdist.getmembers() if m.name.lower().endswith(SUFFIXES)]
                sdist.extractall(staging, members=members, filter="data")
            found = [p for p in staging.rglob("*") if p.suffix.lower() in SUFFIXES]
        kept = staging / "kept"
        kept.mkdir()
        for path in found:
            if path.is_file() and not path.name.startswith("~$"):
                shutil.copyfile(path, kept / path.name)
        kept.rename(into)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def downloaded(folder: Path | None = None) -> list[Path]:
    """The workbooks fetched so far (none when `fetch` has not run)."""
    files = (folder or cache_folder()) / "files"
    if not files.is_dir():
        return []
    return sorted(p for p in files.rglob("*") if p.suffix.lower() in SUFFIXES)


# --- made here -------------------------------------------------------------------------------

PEOPLE = [
    ["Fornavn", "Etternavn", "E-post", "Mobil", "Beløp", "Dato"],
    ["Ola", "Nordmann", "ola@example.no", 4745860321, 1250.5, 46000],
    ["Kari", "Hansen", "kari@@example", "458 60 322", 99, 46001],
    ["Per", "", "per@example.no", 45860323, 0, 46002],
    ["Åse", "Øren", " ase@example.no ", "+47 458 60 326", 12.25, 46003],
]


def _png() -> bytes:
    """A 2×2 PNG, made without an image library."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    pixels = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


def openpyxl_small() -> bytes:
    """Three rows saved by openpyxl: with lxml installed, it declares `r:` on each <sheet>."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Kunder"
    for line in PEOPLE[:3]:
        sheet.append(line[:4])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def openpyxl_rich() -> bytes:
    """A CRM export as openpyxl writes it, with everything a report must keep."""
    import openpyxl
    from openpyxl.chart import BarChart, Reference
    from openpyxl.comments import Comment
    from openpyxl.drawing.image import Image
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.table import Table

    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Notater"
    notes["A1"] = "Husk å sende før fredag"
    notes.merge_cells("A1:C1")
    notes["A2"] = 0.25
    notes["A2"].number_format = "0.0%"
    notes["A3"] = "SEEN"
    notes["A3"].hyperlink = "https://seen.io/"
    for i in range(4, 8):
        notes.append([f"q{i}", i * 10])
    chart = BarChart()
    chart.add_data(Reference(notes, min_col=2, min_row=4, max_row=7))
    notes.add_chart(chart, "E2")
    notes.add_image(Image(io.BytesIO(_png())), "E20")  # openpyxl needs Pillow (Streamlit's)
    people = book.create_sheet("Mottakere")
    people.append(["Kundeliste høst 2026"])
    people.merge_cells("A1:D1")
    for line in PEOPLE:
        people.append(line)
    for row in range(3, 7):
        people.cell(row, 5).number_format = "#,##0.00"
        people.cell(row, 6).number_format = "yyyy-mm-dd"
    people["A3"].comment = Comment("Ola vil ha filmen på nynorsk", "Kari")
    people.add_table(Table(displayName="Kunder", ref="A2:F6"))
    secret = book.create_sheet("Oppsett")
    secret["A1"] = "skjult"
    secret.sheet_state = "veryHidden"
    book.create_sheet("Gammel")["A1"] = 1
    book["Gammel"].sheet_state = "hidden"
    book.defined_names["Beløp"] = DefinedName("Beløp", attr_text="Mottakere!$E$3:$E$6")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pandas_export(engine: str) -> bytes:
    """A frame saved by pandas (`to_excel`), the way most scripts write a sheet of people."""
    import pandas as pd

    frame = pd.DataFrame(PEOPLE[1:], columns=PEOPLE[0])
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine=engine) as writer:
        frame.to_excel(writer, sheet_name="Kunder", index=False)
        frame.describe().to_excel(writer, sheet_name="Tall")
    return out.getvalue()


def xlsxwriter_rich() -> bytes:
    """A workbook as XlsxWriter writes it, with pictures, a chart, comments, merged cells,
    number formats, a table, links, names, validation and a very hidden sheet."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    money = book.add_format({"num_format": "#,##0.00 kr"})
    date = book.add_format({"num_format": "dd.mm.yyyy"})
    title = book.add_format({"bold": True, "align": "center"})
    people = book.add_worksheet("Mottakere")
    people.merge_range("A1:F1", "Kundeliste høst 2026", title)
    people.write_row(1, 0, PEOPLE[0])
    for r, line in enumerate(PEOPLE[1:], start=2):
        for c, value in enumerate(line):
            if c == 4:
                people.write_number(r, c, value, money)
            elif c == 5:
                people.write_number(r, c, value, date)
            elif isinstance(value, int | float):
                people.write_number(r, c, value)
            elif value:
                people.write_string(r, c, value)
    people.write_comment("A3", "Ola vil ha filmen på nynorsk", {"author": "Kari"})
    people.data_validation("E3:E6", {"validate": "decimal", "criteria": ">=", "value": 0})
    people.conditional_format("E3:E6", {"type": "cell", "criteria": ">", "value": 100,
                                        "format": book.add_format({"bold": True})})  # fmt: skip
    people.insert_image("H2", "pixel.png", {"image_data": io.BytesIO(_png())})
    people.write_url("H10", "https://seen.io/", string="SEEN")
    charts = book.add_worksheet("Grafer")
    for r in range(4):
        charts.write_row(r, 0, [f"q{r + 1}", (r + 1) * 10])
    chart = book.add_chart({"type": "column"})
    chart.add_series({"values": "=Grafer!$B$1:$B$4"})
    charts.insert_chart("D2", chart)
    charts.merge_range("A6:B7", "Sammenslått")
    charts.add_table("A10:B12", {"name": "Tabell", "columns": [{"header": "A"}, {"header": "B"}]})
    secret = book.add_worksheet("Oppsett")
    secret.write("A1", "skjult")
    secret.very_hidden()
    book.define_name("Beløp", "=Mottakere!$E$3:$E$6")
    book.close()
    return out.getvalue()


MADE = {
    "openpyxl-small.xlsx": openpyxl_small,
    "openpyxl-rich.xlsx": openpyxl_rich,
    "pandas-openpyxl.xlsx": lambda: pandas_export("openpyxl"),
    "pandas-xlsxwriter.xlsx": lambda: pandas_export("xlsxwriter"),
    "xlsxwriter-rich.xlsx": xlsxwriter_rich,
}


def made(folder: Path) -> list[Path]:
    """The workbooks this file makes, saved into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in MADE.items():
        path = folder / name
        path.write_bytes(make())
        paths.append(path)
    return paths


# --- LibreOffice -----------------------------------------------------------------------------


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def libreoffice_copies(paths: list[Path], folder: Path) -> list[Path]:
    """Each workbook opened and saved again by LibreOffice (none where it is not installed).

    LibreOffice gives each .rels part a content type of its own and writes its own styles,
    which is what a report must cope with.
    """
    program = soffice()
    if program is None or not paths:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    profile = folder / "profile"
    sources = folder / "sources"
    sources.mkdir(exist_ok=True)
    named = []
    for path in paths:  # LibreOffice names each copy after its file: make the names unique
        copy = sources / f"lo-{path.parent.name}-{path.stem}{path.suffix}"
        shutil.copyfile(path, copy)
        named.append(copy)
    out = folder / "out"
    subprocess.run(
        [program, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
         "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out),
         *map(str, named)],
        check=False, capture_output=True, timeout=600,
    )  # fmt: skip
    return sorted(p for p in out.glob("*.xlsx") if zipfile.is_zipfile(p))


def convert_all_with_libreoffice(paths: list[Path], folder: Path) -> set[str]:
    """Each workbook opened by LibreOffice and saved as CSV into `folder`, in one run; the
    stems of those it could open (a second reader of the reports)."""
    program = soffice()
    if program is None or not paths:
        return set()
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [program, "--headless", "--norestore",
         f"-env:UserInstallation={(folder / 'profile').as_uri()}",
         "--convert-to", "csv", "--outdir", str(folder), *map(str, paths)],
        check=False, capture_output=True, timeout=900,
    )  # fmt: skip
    return {p.stem for p in folder.glob("*.csv")}


def fetched(folder: Path | None = None) -> bool:
    """Whether every package is in the cache already (nothing to download)."""
    packages = (folder or cache_folder()) / "packages"
    debian = all(list(packages.glob(f"{name}_*.deb")) for name in DEBIAN)
    pypi = all(list(packages.glob(f"{r.split('==')[0].replace('-', '_')}-*.tar.gz")) for r in PYPI)
    return debian and pypi


if __name__ == "__main__":
    command = sys.argv[1:2]
    folder = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    if command == ["fetched"]:
        sys.exit(0 if fetched(folder) else 1)
    if command != ["fetch"]:
        sys.exit("usage: python tests/corpus.py fetch|fetched [FOLDER]")
    found = fetch(folder)
    print(f"{len(found)} workbooks in {(folder or cache_folder()) / 'files'}")
