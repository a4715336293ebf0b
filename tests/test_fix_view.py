"""Check and fix's grid as a user reads it: the reason and the cell to fix first, narrowed to
one kind of problem or one column, the identifying columns beside it."""

from __future__ import annotations

from builders import csv_bytes

from seen_core import flow
from seen_core.check import view
from seen_core.check.mapping import suggest

ROWS = [
    ["Fornavn", "Etternavn", "E-post", "Mobil", "Kundenr", "By"],
    ["Kari", "Nordmann", "kari@example.no", "12", "1", "Oslo"],
    ["OLA", "Hansen", "ola@gmial.com", "45860321", "2", "Bergen"],
    ["Per", "Berg", "per@@example", "", "3", "Moss"],
    ["Liv", "Dahl", "liv@example.no", "+474745860321", "4", "Bodø"],
    ["Eva", "Strand", "eva@example.no", "45860322", "5", "Hamar"],
]


def checked() -> flow.Checked:
    sheet = flow.read("folk.csv", csv_bytes(ROWS))
    return flow.check(sheet, suggest(sheet.columns), table=sheet.table)


def test_the_narrowings_name_each_kind_and_each_column_with_their_rows():
    labels = [n.label for n in view.narrowings(checked())]
    assert labels[0] == "Every row that needs attention — 4 rows"
    assert "Phone number not valid — 2 rows" in labels
    assert "Column Mobil — 2 rows" in labels
    assert "Name in capitals or small letters — 1 row" in labels


def test_narrowed_to_a_column_the_cell_to_fix_comes_after_the_reason():
    done = checked()
    rows = view.rows_for(done, "column:Mobil")
    assert rows == [2, 5]
    grid = view.fix_grid(done, rows, "column:Mobil")
    assert grid.frame.columns[:2].tolist() == [view.WHY, "Mobil — fix here"]
    assert grid.frame.columns[2:7].tolist() == [
        view.APPLY,
        "Fornavn",
        "Etternavn",
        "Kundenr",
        "E-post",
    ]
    assert "Mobil" not in grid.frame.columns  # shown once, as the cell to fix
    assert "'12' is not a valid phone number" in grid.frame.at[2, view.WHY]
    assert "Suggested: +4745860321" in grid.frame.at[5, view.WHY]
    assert grid.edits({0: {"Mobil — fix here": "45860399", "By": "Oslo"}}) == {
        (2, "Mobil"): "45860399",
        (2, "By"): "Oslo",
    }
    assert [p.row for p in grid.applied({1: {view.APPLY: True}})] == [5]


def test_every_row_shows_its_own_cell_to_fix_and_its_column():
    done = checked()
    grid = view.fix_grid(done, done.attention_rows)
    assert grid.fix_header == "Cell to fix"
    assert grid.frame[view.IN_COLUMN].to_dict() == {
        2: "Mobil",
        3: "E-post",  # the first of its two: ola@gmial.com, then OLA
        4: "E-post",
        5: "Mobil",
    }
    assert grid.frame.at[4, "Cell to fix"] == "per@@example"
    # One cell to fix per row, its reason in full; the row's other problem is counted.
    assert grid.frame.at[3, view.WHY] == (
        "'ola@gmial.com' may be a slip for gmail.com. Suggested: ola@gmail.com."
        " (+1 more in other columns)"
    )
    assert grid.edits({2: {"Cell to fix": "per@example.no"}}) == {(4, "E-post"): "per@example.no"}
