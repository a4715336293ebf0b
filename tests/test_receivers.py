"""What is sent to SEEN for each row: trimmed text, E.164 phones, nothing empty."""

from __future__ import annotations

import pytest
from builders import messy_workbook

from seen_core.check.mapping import Mapping, suggest
from seen_core.check.receivers import payload, payloads
from seen_core.read.sheets import read_sheet


@pytest.fixture(scope="module")
def sent() -> dict[int, dict[str, object]]:
    sheet = read_sheet("kunder.xlsx", messy_workbook())
    return dict(payloads(sheet.table, suggest(sheet.columns)))


def test_first_row_is_sent_as_seen_expects_it(sent):
    assert sent[5] == {
        "first_name": "Ola",
        "last_name": "Nordmann",
        "email": "ola@example.no",
        "phone": "+4745860321",
        "customer_id": "100",
        "extra_args": {
            "kjonn": "M",
            "antall_mil": "12",
            "bilde": "https://img.example.com/ola.jpg",
        },
    }


def test_numbers_are_sent_as_the_text_the_user_sees(sent):
    assert sent[6]["extra_args"]["antall_mil"] == "7.5"
    assert sent[6]["phone"] == "+4745860322"
    assert sent[9]["customer_id"] == "100"
    assert isinstance(sent[9]["customer_id"], str)


def test_text_is_trimmed_and_phone_normalised(sent):
    assert sent[12]["first_name"] == "Åse"
    assert sent[12]["email"] == "ase@example.no"
    assert sent[12]["phone"] == "+4745860326"


def test_empty_fields_and_extra_args_are_left_out(sent):
    assert "first_name" not in sent[6]
    assert "bilde" not in sent[6]["extra_args"]
    assert "email" not in sent[11] and "phone" not in sent[11]


def test_payloads_keep_file_order_and_can_be_limited_to_some_rows():
    sheet = read_sheet("kunder.xlsx", messy_workbook())
    mapping = suggest(sheet.columns)
    assert [row for row, _ in payloads(sheet.table, mapping)] == [5, 6, 7, 9, 10, 11, 12]
    assert [row for row, _ in payloads(sheet.table, mapping, rows=[12, 5])] == [12, 5]


def test_no_value_is_none_or_empty_and_blank_extra_args_disappear():
    mapping = Mapping(
        {"first_name": "Fornavn", "last_name": "Etternavn", "email": "E-post", "phone": "Mobil"},
        {"kjonn": "Kjønn", "notat": "Notat"},
    )
    cells = {"Fornavn": " Ola ", "Etternavn": "   ", "E-post": "", "Mobil": "\t", "Kjønn": " "}
    assert payload(cells, mapping) == {"first_name": "Ola"}


def test_phone_is_read_in_the_campaign_region():
    mapping = Mapping({"first_name": "Fornavn", "phone": "Mobil"})
    cells = {"Fornavn": "Sven", "Mobil": "070-123 45 67"}
    assert payload(cells, mapping, region="SE")["phone"] == "+46701234567"


def test_a_cell_left_empty_by_an_edit_is_left_out():
    import pandas as pd

    table = pd.DataFrame(
        {"Fornavn": [" Kari ", "Ola"], "E-post": [None, "ola@x.no"], "Mobil": ["45860321", None]},
        index=pd.Index([2, 3], name="row"),
        dtype=object,
    )
    mapping = Mapping({"first_name": "Fornavn", "email": "E-post", "phone": "Mobil"})
    assert payloads(table, mapping) == [
        (2, {"first_name": "Kari", "phone": "+4745860321"}),
        (3, {"first_name": "Ola", "email": "ola@x.no"}),
    ]
