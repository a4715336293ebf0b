"""Fixes as a user makes them: previewed with a count, applied, undone, and what they change."""

from __future__ import annotations

import pandas as pd
import pytest

from seen_core import flow
from seen_core.check.checks import check_sheet
from seen_core.check.fixes import (
    CellEdit,
    Change,
    apply_change,
    find_replace,
    leave_out_invalid,
    leave_out_preview,
    phones_from_country_column,
    split_full_name,
    trim,
    undo_change,
    unknown_countries,
)
from seen_core.check.mapping import Mapping
from seen_core.errors import InputError
from seen_core.read.sheets import read_sheet


def _csv(table: pd.DataFrame) -> bytes:
    """The table as the CSV a user would upload (the first person on row 2)."""
    return table.to_csv(index=False).encode("utf-8")


def _table(columns: dict[str, list[str]], first_row: int = 2) -> pd.DataFrame:
    size = len(next(iter(columns.values())))
    frame = pd.DataFrame(columns, dtype=object, index=range(first_row, first_row + size))
    return frame


def _cells(change: Change) -> list[tuple[int, str, str, str]]:
    return [(e.row, e.column, e.old, e.new) for e in change.edits]


# --- Change, apply and undo ---------------------------------------------------------------------


def test_a_change_applies_to_a_copy_and_undo_restores_the_sheet():
    table = _table({"Fornavn": ["Kari", "Ola"], "E-post": ["kari@gmial.com", "ola@x.no"]})
    original = table.copy()
    change = Change(
        "Fix two cells",
        (
            CellEdit(2, "E-post", "kari@gmial.com", "kari@gmail.com"),
            CellEdit(3, "Fornavn", "Ola", "Ole"),
        ),
    )
    fixed = apply_change(table, change)
    assert fixed.loc[2, "E-post"] == "kari@gmail.com"
    assert fixed.loc[3, "Fornavn"] == "Ole"
    pd.testing.assert_frame_equal(table, original)  # the user's sheet is untouched
    pd.testing.assert_frame_equal(undo_change(fixed, change), original)
    assert change.rows == 2
    assert change.changed_rows == [2, 3]


def test_rows_counts_a_row_with_several_edited_cells_once():
    change = Change("x", (CellEdit(5, "A", "", "1"), CellEdit(5, "B", "", "2")))
    assert change.rows == 1


def test_applying_a_change_to_a_missing_row_or_column_says_so():
    table = _table({"A": ["x"]})
    with pytest.raises(InputError, match="no row 9"):
        apply_change(table, Change("x", (CellEdit(9, "A", "x", "y"),)))
    with pytest.raises(InputError, match="no column 'B'"):
        apply_change(table, Change("x", (CellEdit(2, "B", "", "y"),)))


# --- find and replace ---------------------------------------------------------------------------


def test_find_replace_counts_the_rows_before_anything_changes():
    table = _table({"E-post": ["kari@gmial.com", "ola@gmail.com", "per@GMIAL.com", "gmial.com"]})
    change = find_replace(table, "E-post", "gmial.com", "gmail.com")
    assert change.rows == 2  # case matters by default: GMIAL is left
    assert change.label == "Find 'gmial.com' → 'gmail.com' in E-post"
    assert table.loc[2, "E-post"] == "kari@gmial.com"
    fixed = apply_change(table, change)
    assert fixed["E-post"].tolist() == [
        "kari@gmail.com",
        "ola@gmail.com",
        "per@GMIAL.com",
        "gmail.com",
    ]


def test_find_replace_ignoring_case_and_taking_the_text_literally():
    table = _table({"Notat": ["A.B a.b AxB", "nothing"]})
    change = find_replace(table, "Notat", "a.b", "c\\1", match_case=False)
    assert _cells(change) == [(2, "Notat", "A.B a.b AxB", "c\\1 c\\1 AxB")]


def test_find_replace_whole_cell_only_replaces_cells_that_are_exactly_the_text():
    table = _table({"Land": ["Norge", " norge ", "Norge og Sverige", "Sverige"]})
    change = find_replace(table, "Land", "Norge", "NO", whole_cell=True, match_case=False)
    assert [(e.row, e.new) for e in change.edits] == [(2, "NO"), (3, "NO")]


def test_find_replace_whole_cell_with_nothing_to_find_fills_the_empty_cells():
    table = _table({"Land": ["", "SE", "  "]})
    change = find_replace(table, "Land", "", "NO", whole_cell=True)
    assert [(e.row, e.new) for e in change.edits] == [(2, "NO"), (4, "NO")]
    assert change.label == "Fill empty cells in Land with 'NO'"


def test_find_replace_that_finds_nothing_changes_nothing():
    table = _table({"E-post": ["a@b.no"]})
    assert find_replace(table, "E-post", "zzz", "y").edits == ()
    assert find_replace(table, "E-post", "", "y").edits == ()


def test_find_replace_in_a_column_the_sheet_does_not_have_says_so():
    with pytest.raises(InputError, match="no column 'Epost'"):
        find_replace(_table({"E-post": ["a"]}), "Epost", "a", "b")


# --- trim ---------------------------------------------------------------------------------------


def test_trim_removes_spaces_around_the_text_and_no_break_spaces_inside():
    table = _table(
        {
            "Fornavn": ["  Kari ", "Ola", "\u00a0Per\u00a0Olav\u200b", "Anne  Lise"],
            "Mobil": ["458 60 321 ", "45860322", "", "\ufeff45860323"],
        }
    )
    change = trim(table, ["Fornavn", "Mobil"])
    assert change.label == "Trim spaces in 2 columns"
    assert _cells(change) == [
        (2, "Fornavn", "  Kari ", "Kari"),
        (4, "Fornavn", "\u00a0Per\u00a0Olav\u200b", "Per Olav"),
        (2, "Mobil", "458 60 321 ", "458 60 321"),
        (5, "Mobil", "\ufeff45860323", "45860323"),
    ]
    assert change.rows == 3  # inner runs of spaces ("Anne  Lise") are kept
    assert trim(table, ["Fornavn"]).label == "Trim spaces in Fornavn"


# --- phone numbers with a country column ---------------------------------------------------------


def test_phones_are_written_with_the_country_of_their_row():
    table = _table(
        {
            "Mobil": [
                "45860321",
                "070-123 45 67",
                "20 12 34 56",
                "+47 458 60 322",
                "12",
                "",
                "45860323",
            ],
            "Land": ["Norge", "Sverige", "+45", "SE", "Norway", "NO", "Narnia"],
        }
    )
    change = phones_from_country_column(table, "Mobil", "Land", "NO")
    assert _cells(change) == [
        (2, "Mobil", "45860321", "+4745860321"),
        (3, "Mobil", "070-123 45 67", "+46701234567"),
        (4, "Mobil", "20 12 34 56", "+4520123456"),
        (5, "Mobil", "+47 458 60 322", "+4745860322"),  # its own country code wins
        (8, "Mobil", "45860323", "+4745860323"),  # a country not understood: the default
    ]  # "12" is still not valid and is left as it is


def test_phones_already_written_with_their_country_code_are_not_changed():
    table = _table({"Mobil": ["+4745860321"], "Land": ["Norge"]})
    assert phones_from_country_column(table, "Mobil", "Land", "NO").edits == ()


def test_phones_with_a_default_country_and_no_country_column():
    table = _table({"Mobil": ["07911 123456", "45860321"]})
    change = phones_from_country_column(table, "Mobil", None, "GB")
    assert _cells(change) == [(2, "Mobil", "07911 123456", "+447911123456")]


def test_country_values_not_understood_are_listed_once():
    table = _table({"Land": ["Norge", "Narnia", "", "Narnia", "Atlantis"]})
    assert unknown_countries(table, "Land") == ["Narnia", "Atlantis"]


# --- split a full name --------------------------------------------------------------------------


def test_split_full_name_the_ways_people_write_names():
    table = _table(
        {
            "Navn": [
                "Kari Nordmann",
                "Ola Jakob Nordmann",
                "Nordmann, Kari",
                "Cher",
                "",
                "Hilma af Klint",
            ],
            "Fornavn": ["", "", "", "", "", ""],
            "Etternavn": ["", "", "", "Old", "", ""],
        }
    )
    change = split_full_name(table, "Navn", "Fornavn", "Etternavn")
    fixed = apply_change(table, change)
    assert fixed["Fornavn"].tolist() == ["Kari", "Ola Jakob", "Kari", "Cher", "", "Hilma"]
    assert fixed["Etternavn"].tolist() == [
        "Nordmann",
        "Nordmann",
        "Nordmann",
        "Old",
        "",
        "af Klint",
    ]
    assert change.rows == 5
    assert change.label == "Split Navn into Fornavn and Etternavn"


def test_split_full_name_into_columns_the_sheet_lacks_adds_them_and_undo_removes_them():
    table = _table({"Navn": ["Kari Nordmann", "  Ola   Nordmann "]})
    change = split_full_name(table, "Navn", "First name", "Last name")
    assert change.new_columns == ("First name", "Last name")
    fixed = apply_change(table, change)
    assert fixed.columns.tolist() == ["Navn", "First name", "Last name"]
    assert fixed["Last name"].tolist() == ["Nordmann", "Nordmann"]
    pd.testing.assert_frame_equal(undo_change(fixed, change), table)


def test_split_full_name_with_the_mapping_sends_first_and_last_name_from_the_new_columns():
    table = _table({"Name": ["Ola Nordmann"], "Mobil": ["45860321"]})
    mapping = Mapping({"first_name": "Name", "phone": "Mobil"})
    change = split_full_name(table, "Name", "First name", "Last name", mapping)
    assert [(m.field, m.old, m.new) for m in change.remaps] == [
        ("first_name", "Name", "First name"),
        ("last_name", None, "Last name"),
    ]


def test_split_full_name_can_keep_the_first_name_in_the_full_name_column():
    table = _table({"Navn": ["Kari Nordmann"]})
    fixed = apply_change(table, split_full_name(table, "Navn", "Navn", "Etternavn"))
    assert fixed.loc[2].tolist() == ["Kari", "Nordmann"]


# --- leave out the invalid phone or e-mail -------------------------------------------------------

MAPPING = Mapping({"first_name": "Fornavn", "email": "E-post", "phone": "Mobil"})


def _people() -> pd.DataFrame:
    return _table(
        {
            "Fornavn": ["Kari", "Ola", "Per", "", "Anne", "Liv"],
            "E-post": [
                "kari@example.no",
                "",
                "per@",
                "anne@example.no",
                "anne@example.no",
                "liv@example.no",
            ],
            "Mobil": ["12", "12", "12", "12", "45860321", "bad@"],
        }
    )


def test_leaving_out_invalid_phones_makes_rows_reachable_by_e_mail_ready():
    table = _people()
    result = check_sheet(table, MAPPING)
    change, left_alone = leave_out_preview(table, result, "phone", MAPPING)
    assert change.label == "Leave out invalid phone numbers where the e-mail is valid"
    assert change.edits == ()  # the user's cells are never blanked
    assert [(o.row, o.field, o.value) for o in change.left_out] == [
        (2, "phone", "12"),
        (5, "phone", "12"),
        (7, "phone", "bad@"),
    ]
    assert change.rows == 3
    assert left_alone == 2  # Ola has no e-mail, Per's is not valid either
    left_out = {(o.row, o.field): o.value for o in change.left_out}
    sheet = read_sheet("folk.csv", _csv(table))
    after = flow.check(sheet, MAPPING, left_out=left_out)
    assert {2, 7} <= set(after.result.valid_rows)
    assert [p.code for p in after.result.by_row[5]] == ["first_name_missing"]  # theirs to fix
    sent = dict(after.receivers())
    assert "phone" not in sent[2] and sent[2]["email"] == "kari@example.no"
    assert after.cells.column("Mobil")[0] == "12"  # the user's cell as it was
    assert after.sent_without()[2] == {"Mobil": "sent without phone"}
    assert leave_out_invalid(table, result, "phone", MAPPING) == change


def test_a_value_left_out_is_sent_again_once_the_user_corrects_the_cell():
    table = _people()
    change, _ = leave_out_preview(table, check_sheet(table, MAPPING), "phone", MAPPING)
    left_out = {(o.row, o.field): o.value for o in change.left_out}
    corrected = table.copy()
    corrected.at[2, "Mobil"] = "45860321"
    sheet = read_sheet("folk.csv", _csv(table))
    after = flow.check(sheet, MAPPING, table=corrected, left_out=left_out)
    assert dict(after.receivers())[2]["phone"] == "+4745860321"
    assert 2 not in after.sent_without()


def test_leaving_out_invalid_e_mails_where_the_phone_is_valid():
    table = _table(
        {"Fornavn": ["Kari", "Ola"], "E-post": ["kari@", "ola@"], "Mobil": ["45860321", ""]}
    )
    result = check_sheet(table, MAPPING)
    change, left_alone = leave_out_preview(table, result, "email", MAPPING)
    assert [(o.row, o.field) for o in change.left_out] == [(2, "email")]
    assert left_alone == 1
    assert change.label == "Leave out invalid e-mail addresses where the phone number is valid"


def test_leaving_out_without_the_other_contact_mapped_changes_nothing():
    mapping = Mapping({"first_name": "Fornavn", "phone": "Mobil"})
    table = _table({"Fornavn": ["Kari"], "Mobil": ["12"]})
    change, left_alone = leave_out_preview(table, check_sheet(table, mapping), "phone", mapping)
    assert change.empty
    assert left_alone == 1


def test_only_a_phone_or_e_mail_can_be_left_out():
    table = _people()
    with pytest.raises(InputError, match="phone or e-mail"):
        leave_out_preview(table, check_sheet(table, MAPPING), "first_name", MAPPING)
