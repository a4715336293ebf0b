"""Suggested fixes as a user meets them: the likely slip named, what it would change to, applied
for one row or for all like it, and undone."""

from __future__ import annotations

import pandas as pd
import pytest

from seen_core.check.checks import check_sheet
from seen_core.check.fixes import apply_change, suggested_fixes, undo_change
from seen_core.check.mapping import Mapping
from seen_core.check.suggestions import email_domain_fix, name_case_fix, phone_fix
from seen_core.problems import CATALOGUE

MAPPING = Mapping(
    {"first_name": "Fornavn", "last_name": "Etternavn", "email": "E-post", "phone": "Mobil"}
)


@pytest.mark.parametrize(
    ("address", "fixed"),
    [
        ("ola@gmial.com", "ola@gmail.com"),  # two letters swapped
        ("kari@hotmal.com", "kari@hotmail.com"),  # one left out
        ("per@onlin.no", "per@online.no"),  # a Norwegian ISP
        ("anne@gmail.co", "anne@gmail.com"),
        ("liv@outlok.com", "liv@outlook.com"),
        ("nils@yaho.no", "nils@yahoo.no"),
        ("Ola.Nordmann@GMIAL.COM", "Ola.Nordmann@gmail.com"),
        ("ola@gmail.com", None),  # right as it is
        ("ola@mail.com", None),  # a provider of its own, one letter from gmail.com
        ("ola@firma.no", None),  # a company's own domain, near nothing common
        ("ola@nav.no", None),  # too short to tell a slip from a name
        ("not an address", None),
    ],
)
def test_an_email_domain_one_or_two_letters_from_a_common_one(address, fixed):
    assert email_domain_fix(address) == fixed


@pytest.mark.parametrize(
    ("phone", "fixed"),
    [
        ("+474745860321", "+4745860321"),  # the country code twice
        ("+47 47 45 86 03 21", "+4745860321"),
        ("00474745860321", "+4745860321"),  # 00 for + and the code twice
        ("+46 46 70 123 45 67", "+46701234567"),
        ("4745860321", "+4745860321"),  # the country code without its +
        ("+4712", None),  # nothing likely
        ("12345", None),
    ],
)
def test_a_phone_with_a_doubled_or_00_country_code(phone, fixed):
    assert phone_fix(phone, "NO") == fixed


@pytest.mark.parametrize(
    ("name", "fixed"),
    [
        ("OLA", "Ola"),
        ("ola", "Ola"),
        ("ØYVIND", "Øyvind"),
        ("ÅSE-MARIT", "Åse-Marit"),
        ("anne-marie", "Anne-Marie"),
        ("VAN DER BERG", "van der Berg"),
        ("o'brien", "O'Brien"),
        ("D'ANGELO", "D'Angelo"),
        ("MCDONALD", "McDonald"),
        ("ola jakob", "Ola Jakob"),
        ("Ola", None),  # normal case already
        ("McDonald", None),
        ("van der Berg", None),  # mixed: the user wrote it so
        ("A", None),  # one letter: an initial
        ("", None),
    ],
)
def test_a_name_in_capitals_or_small_letters_in_normal_case(name, fixed):
    assert name_case_fix(name) == fixed


def _table(columns: dict[str, list[str]]) -> pd.DataFrame:
    size = len(next(iter(columns.values())))
    return pd.DataFrame(columns, dtype=object, index=range(2, 2 + size))


def _sheet() -> pd.DataFrame:
    return _table(
        {
            "Fornavn": ["OLA", "Kari", "per", "Liv"],
            "Etternavn": ["NORDMANN", "Nordmann", "van der berg", "Berg"],
            "E-post": ["ola@gmial.com", "kari@gmial.com", "per@example.no", "liv@example.no"],
            "Mobil": ["", "", "+474745860321", "45860321"],
        }
    )


def test_the_check_names_each_likely_slip_with_its_suggested_fix():
    result = check_sheet(_sheet(), MAPPING)
    found = {(p.row, p.code, p.column): p.suggestion for p in result.problems}
    assert found[(2, "name_case", "Fornavn")] == "Ola"
    assert found[(2, "name_case", "Etternavn")] == "Nordmann"
    assert found[(4, "name_case", "Etternavn")] == "van der Berg"
    assert found[(2, "email_domain_typo", "E-post")] == "ola@gmail.com"
    assert found[(4, "phone_invalid", "Mobil")] == "+4745860321"
    ola = next(p for p in result.by_row[2] if p.code == "name_case")
    assert "the film would greet OLA" in ola.message
    assert {"name_case", "email_domain_typo"} <= set(CATALOGUE)
    assert 2 in result.valid_rows  # warnings: the row can still be sent as it is
    assert 4 not in result.valid_rows  # the phone is not valid until fixed


def test_a_suggestion_for_one_row_and_for_all_like_it_applied_and_undone():
    table = _sheet()
    result = check_sheet(table, MAPPING)
    typos = [p for p in result.problems if p.code == "email_domain_typo"]
    one = suggested_fixes(table, typos[:1])
    assert one.label == "Row 2, E-post: 'ola@gmial.com' → 'ola@gmail.com'"
    assert one.rows == 1
    everyone = suggested_fixes(table, typos)
    assert everyone.rows == 2
    assert everyone.label == "Suggested fix: E-mail domain looks mistyped"
    fixed = apply_change(table, everyone)
    assert fixed["E-post"].tolist()[:2] == ["ola@gmail.com", "kari@gmail.com"]
    after = check_sheet(fixed, MAPPING)
    assert not [p for p in after.problems if p.code == "email_domain_typo"]
    pd.testing.assert_frame_equal(undo_change(fixed, everyone), table)


def test_a_suggestion_for_a_cell_changed_since_is_passed_over():
    table = _sheet()
    typos = [p for p in check_sheet(table, MAPPING).problems if p.code == "email_domain_typo"]
    table.at[2, "E-post"] = "ola@gmail.com"  # fixed by hand meanwhile
    assert [e.row for e in suggested_fixes(table, typos).edits] == [3]


def test_a_hundred_thousand_rows_are_checked_with_their_suggestions():
    size = 100_000
    table = _table(
        {
            "Fornavn": ["OLA" if n % 10 == 0 else "Kari" for n in range(size)],
            "Etternavn": ["Nordmann"] * size,
            "E-post": [
                f"p{n}@gmial.com" if n % 7 == 0 else f"p{n}@example.no" for n in range(size)
            ],
            "Mobil": ["+474745860321" if n % 5 == 0 else "45860321" for n in range(size)],
        }
    )
    result = check_sheet(table, MAPPING)
    assert result.rows_by_code["name_case"] == size // 10
    assert result.rows_by_code["email_domain_typo"] == len(range(0, size, 7))
    change = suggested_fixes(table, [p for p in result.problems if p.code == "phone_invalid"])
    assert change.rows == size // 5
