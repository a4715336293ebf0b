"""A sheet's people as text without pandas, and a DataFrame read the same way."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
from builders import messy_workbook

from seen_core.check.checks import CheckOptions, check_sheet
from seen_core.check.mapping import suggest
from seen_core.check.receivers import payloads
from seen_core.read.sheets import read_sheet
from seen_core.read.text_table import FrameText, TextTable, text_of

PEOPLE = TextTable(
    [2, 3, 5],
    {"Fornavn": ["Kari", "Ola", "Åse"], "Mobil": ["912 34 567", "", "+46 70 123 45 67"]},
)


def test_a_column_of_some_rows_follows_the_rows_asked_for():
    assert PEOPLE.column("Fornavn") == ["Kari", "Ola", "Åse"]
    assert PEOPLE.column("Fornavn", [5, 2]) == ["Åse", "Kari"]
    assert PEOPLE.positions([3, 5]) == [1, 2]


@pytest.mark.parametrize("table", [PEOPLE, FrameText(PEOPLE.frame())], ids=["lists", "frame"])
def test_a_row_or_column_that_is_not_there_is_a_key_error(table):
    with pytest.raises(KeyError, match="rows not in the sheet: \\[4\\]"):
        table.positions([2, 4])
    with pytest.raises(KeyError):
        table.column("Etternavn")


def test_the_dataframe_is_text_indexed_by_spreadsheet_row():
    frame = PEOPLE.frame()
    assert frame.index.name == "row"
    assert frame.index.dtype == "int64"
    assert list(frame.index) == [2, 3, 5]
    assert all(dtype == "object" for dtype in frame.dtypes)
    assert frame.at[5, "Mobil"] == "+46 70 123 45 67"
    assert TextTable.of_frame(frame) == PEOPLE


def test_an_empty_table_still_has_its_columns():
    frame = TextTable([], {"Fornavn": [], "Mobil": []}).frame()
    assert (list(frame.columns), len(frame), frame.index.name) == (["Fornavn", "Mobil"], 0, "row")


@pytest.mark.parametrize("rows", [None, [3, 2], list(range(2, 2 + FrameText.FEW + 1))])
def test_a_dataframe_reads_as_its_own_lists_would(rows):
    big = TextTable(list(range(2, 102)), {"Fornavn": [f"Navn {i}" for i in range(100)]})
    framed = text_of(big.frame())
    assert isinstance(framed, FrameText)
    assert framed.rows == big.rows
    assert framed.column("Fornavn", rows) == big.column("Fornavn", rows)


def test_a_sheet_read_is_checked_and_sent_alike_as_text_and_as_dataframe():
    sheet = read_sheet("people.xlsx", messy_workbook())
    mapping = suggest(sheet.columns)
    assert sheet.table_made is None  # the DataFrame is made only when asked for
    as_text = check_sheet(sheet.text, mapping, CheckOptions())
    as_frame = check_sheet(sheet.table, mapping, CheckOptions())
    assert as_text.problems == as_frame.problems
    assert as_text.rows == as_frame.rows == list(sheet.table.index)
    rows = as_text.valid_rows
    assert payloads(sheet.text, mapping, "NO", rows) == payloads(sheet.table, mapping, "NO", rows)
    assert isinstance(sheet.table, pd.DataFrame)
    assert sheet.table_made is sheet.table  # made once


def test_threads_asking_for_a_sheets_dataframe_at_once_get_the_same_one(monkeypatch):
    sheet = read_sheet("people.xlsx", messy_workbook())
    making = TextTable.frame

    def slowly(self: TextTable) -> pd.DataFrame:
        time.sleep(0.05)  # every thread asks while the first is still making it
        return making(self)

    monkeypatch.setattr(TextTable, "frame", slowly)
    with ThreadPoolExecutor(8) as pool:
        tables = list(pool.map(lambda _: sheet.table, range(8)))
    assert all(table is tables[0] for table in tables)
