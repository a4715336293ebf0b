"""Mapping columns to SEEN fields: suggestions, extra_args keys, mapping files, problems."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seen_core.check.mapping import (
    Mapping,
    MappingError,
    extra_key,
    load_mapping,
    mapping_json,
    mapping_problems,
    suggest,
)


def _codes(problems) -> list[tuple[str | None, str]]:
    return [(p.field, p.code) for p in problems]


# --- suggestions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Fornavn", "first_name"),
        ("Etternavn", "last_name"),
        ("E-post", "email"),
        ("Epost", "email"),
        ("Mobil", "phone"),
        ("Mobilnummer", "phone"),
        ("Telefon", "phone"),
        ("Kundenr", "customer_id"),
        ("Kundenummer", "customer_id"),
        ("Kunde-ID", "customer_id"),
        ("First name", "first_name"),
        ("Last Name", "last_name"),
        ("Email", "email"),
        ("Phone number", "phone"),
        ("Customer ID", "customer_id"),
    ],
)
def test_known_header_maps_by_itself(header: str, field: str):
    mapping = suggest(["Notat", header])
    assert mapping.fields == {field: header}
    assert mapping.extra_args == {"notat": "Notat"}


@pytest.mark.parametrize("header", ["FORNAVN", " fornavn ", "For-navn", "for navn", "Fornavn:"])
def test_case_spaces_and_punctuation_are_ignored(header: str):
    assert suggest([header]).fields == {"first_name": header}


@pytest.mark.parametrize(("header", "field"), [("Telefonnr.", "phone"), ("Mobilnumer", "phone")])
def test_fuzzy_fallback_catches_abbreviations_and_typos(header: str, field: str):
    assert suggest(["Fornavn", header]).fields == {"first_name": "Fornavn", field: header}


def test_unrelated_header_is_not_fuzzily_mapped():
    mapping = suggest(["Fornavn", "Postnummer", "By"])
    assert mapping.fields == {"first_name": "Fornavn"}
    assert mapping.extra_args == {"postnummer": "Postnummer", "by": "By"}


def test_each_column_used_once_and_a_second_synonym_goes_to_extra_args():
    mapping = suggest(["Fornavn", "E-post", "Epost", "Mobil", "Telefon"])
    assert mapping.fields == {"first_name": "Fornavn", "email": "E-post", "phone": "Mobil"}
    assert mapping.extra_args == {"epost": "Epost", "telefon": "Telefon"}
    used = mapping.mapped_columns()
    assert len(used) == len(set(used)) == 5


def test_contested_field_goes_to_the_closer_header_wherever_it_stands():
    assert suggest(["Fornavn", "Mobilnumre", "Mobilnumer"]).fields["phone"] == "Mobilnumer"
    assert suggest(["Fornavn", "Mobilnumer", "Mobilnumre"]).fields["phone"] == "Mobilnumer"


def test_other_columns_get_legal_unique_extra_keys():
    columns = ["Fornavn", "Kjønn", "Antall mil", "Kjønn (2)", "Phone", "Mobil", "%"]
    mapping = suggest(columns)
    assert mapping.extra_args == {
        "kjonn": "Kjønn",
        "antall_mil": "Antall mil",
        "kjonn_2": "Kjønn (2)",
        "mobil": "Mobil",
        "column": "%",
    }
    assert mapping_problems(mapping, columns) == []


def test_extra_key_never_takes_a_seen_field_name():
    mapping = suggest(["Fornavn", "Phone", "PHONE"])
    assert mapping.fields["phone"] == "Phone"
    assert "phone" not in mapping.extra_args
    assert mapping.extra_args == {"phone_2": "PHONE"}


@pytest.mark.parametrize(
    ("columns", "field", "header"),
    [
        (["id", "Fornavn", "customer_id"], "customer_id", "customer_id"),
        (["Kundenr", "Fornavn", "CUSTOMER_ID"], "customer_id", "CUSTOMER_ID"),
        (["ID", "Fornavn", "Customer ID"], "customer_id", "Customer ID"),
        (["Fornavn", "first_name"], "first_name", "first_name"),
        (["E-post", "Fornavn", "Email"], "email", "Email"),
        (["Mobil", "Fornavn", "phone"], "phone", "phone"),
        (["Etternavn", "Fornavn", "Last_Name"], "last_name", "Last_Name"),
    ],
)
def test_a_header_that_is_a_fields_own_name_wins_over_a_synonym_before_it(
    columns: list[str], field: str, header: str
):
    mapping = suggest(columns)
    assert mapping.fields[field] == header
    synonym = columns[0]
    assert synonym not in mapping.fields.values()
    assert synonym in mapping.extra_args.values()  # still sent, as a personal field


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Kjønn", "kjonn"),
        ("Antall mil", "antall_mil"),
        ("Ærlig svar?", "aerlig_svar"),
        ("Bilde-URL (stor)", "bilde_url_stor"),
        ("Straße", "strasse"),
        ("Müller", "muller"),
        ("Café", "cafe"),
        ("Gård/bruk", "gard_bruk"),
        ("???", "column"),
    ],
)
def test_extra_key_is_lowercase_transliterated_ascii(header: str, key: str):
    assert extra_key(header) == key


# --- mapping files -------------------------------------------------------------------------------


def test_mapping_file_round_trip(tmp_path: Path):
    mapping = Mapping(
        {"first_name": "Fornavn", "phone": "Mobil", "customer_id": "Kundenr"},
        {"kjonn": "Kjønn", "antall_mil": "Antall mil"},
    )
    path = tmp_path / "kampanje.json"
    path.write_text(mapping_json(mapping), encoding="utf-8")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data == {
        "first_name": "Fornavn",
        "last_name": None,
        "email": None,
        "phone": "Mobil",
        "customer_id": "Kundenr",
        "extra_args": {"kjonn": "Kjønn", "antall_mil": "Antall mil"},
    }
    assert "Kjønn" in path.read_text(encoding="utf-8")  # readable, not \u00f8
    assert load_mapping(path) == mapping


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("{not json", id="bad-json"),
        pytest.param('["Fornavn"]', id="not-an-object"),
        pytest.param('{"fornavn": "Fornavn"}', id="unknown-field"),
        pytest.param('{"first_name": 3}', id="field-not-text"),
        pytest.param('{"first_name": ["Fornavn"]}', id="field-a-list"),
        pytest.param('{"first_name": "Fornavn", "extra_args": {"kjonn": 1}}', id="extra-value"),
        pytest.param('{"first_name": "Fornavn", "extra_args": ["Kjønn"]}', id="extra-list"),
        pytest.param('{"first_name": "Fornavn", "extra_args": []}', id="extra-empty-list"),
        pytest.param('{"first_name": "Fornavn", "extra_args": "Kjønn"}', id="extra-text"),
    ],
)
def test_unusable_mapping_file_is_one_sentence(tmp_path: Path, content: str):
    path = tmp_path / "m.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(MappingError) as raised:
        load_mapping(path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.endswith((".", ".)"))


def test_missing_mapping_file_names_it(tmp_path: Path):
    with pytest.raises(MappingError, match=r"borte\.json"):
        load_mapping(tmp_path / "borte.json")


def test_null_and_empty_fields_are_unmapped():
    mapping = Mapping.from_dict({"first_name": "Fornavn", "email": None, "phone": ""})
    assert mapping.fields == {"first_name": "Fornavn"}
    assert mapping.extra_args == {}


# --- mapping problems ----------------------------------------------------------------------------

COLUMNS = ["Fornavn", "E-post", "Kjønn", "Antall mil"]


def test_suggested_mapping_of_good_headers_has_no_problems():
    assert mapping_problems(suggest(COLUMNS), COLUMNS) == []


def test_first_name_unmapped():
    problems = mapping_problems(Mapping({"email": "E-post"}), COLUMNS)
    assert _codes(problems) == [("first_name", "first_name_unmapped")]
    assert problems[0].severity == "error"
    # In the words the Map page shows, not SEEN's field code.
    assert problems[0].message == "No column is mapped to First name, which SEEN requires."


def test_column_missing_from_the_sheet():
    problems = mapping_problems(Mapping({"first_name": "Navn"}), COLUMNS)
    assert _codes(problems) == [("first_name", "column_not_found")]
    assert "Navn" in problems[0].message


def test_column_mapped_twice():
    mapping = Mapping({"first_name": "Fornavn"}, {"navn": "Fornavn"})
    problems = mapping_problems(mapping, COLUMNS)
    assert _codes(problems) == [("navn", "column_mapped_twice")]
    assert problems[0].message == "The column 'Fornavn' is mapped to both First name and 'navn'."


@pytest.mark.parametrize(
    ("extra", "bad"),
    [
        ({"kjønn": "Kjønn"}, "kjønn"),
        ({"antall mil": "Antall mil"}, "antall mil"),
        ({"bilde-url": "Kjønn"}, "bilde-url"),
        ({"kjonn": "Kjønn", "Kjonn": "Antall mil"}, "Kjonn"),
        ({"email": "Kjønn"}, "email"),
    ],
)
def test_illegal_or_repeated_extra_key(extra: dict[str, str], bad: str):
    problems = mapping_problems(Mapping({"first_name": "Fornavn"}, extra), COLUMNS)
    assert _codes(problems) == [(bad, "extra_key_invalid")]
    assert bad in problems[0].message
