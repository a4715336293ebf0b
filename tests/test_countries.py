"""Countries in the phone picker and in a country column: labels people search, names understood."""

from __future__ import annotations

import phonenumbers
import pytest

from seen_core.check.countries import country_choices, label_for, region_from_text, short_label


def test_every_supported_region_is_offered_once():
    regions = [choice.region for choice in country_choices()]
    assert sorted(regions) == sorted(phonenumbers.SUPPORTED_REGIONS)


def test_nordic_countries_come_first_then_a_to_z():
    labels = [choice.label for choice in country_choices()]
    assert labels[:5] == [
        "Norway (+47)",
        "Sweden (+46)",
        "Denmark (+45)",
        "Finland (+358)",
        "Iceland (+354)",
    ]
    assert labels[5].startswith("Afghanistan")
    assert labels[-1].startswith("Zimbabwe")
    # Accented names sort with their letter, not after Z.
    assert labels.index("Åland Islands (+358)") < labels.index("Albania (+355)")


@pytest.mark.parametrize(
    ("typed", "region"),
    [("UK", "GB"), ("England", "GB"), ("USA", "US"), ("Norway", "NO"), ("+44", "GB")],
)
def test_what_people_type_finds_their_country_in_the_picker(typed, region):
    found = {c.region for c in country_choices() if typed.lower() in c.label.lower()}
    assert region in found


def test_every_label_names_a_country_and_its_calling_code():
    for choice in country_choices():
        assert "(+" in choice.label
        assert not choice.label.startswith(choice.region + " ")  # a name, not a bare code


def test_labels_read_as_english_names():
    assert label_for("GB") == "United Kingdom (+44) · UK, Great Britain, England"
    assert label_for("us") == "United States (+1) · USA"
    assert label_for("KN") == "Saint Kitts and Nevis (+1)"
    assert label_for("XK") == "Kosovo (+383)"
    assert short_label("GB") == "United Kingdom (+44)"


def test_an_unknown_region_code_is_shown_as_it_is():
    assert label_for("ZZ") == "ZZ"


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("Norge", "NO"),
        ("Norway", "NO"),
        ("NO", "NO"),
        ("no", "NO"),
        (" +47 ", "NO"),
        ("47", "NO"),
        ("0047", "NO"),
        ("Sverige", "SE"),
        ("sweden", "SE"),
        ("Danmark", "DK"),
        ("Suomi", "FI"),
        ("Island", "IS"),
        ("UK", "GB"),
        ("Storbritannia", "GB"),
        ("Storbritannien", "GB"),
        ("England", "GB"),
        ("+44", "GB"),
        ("USA", "US"),
        ("+1", "US"),
        ("Tyskland", "DE"),
        ("Sør-Afrika", "ZA"),
        ("Færøyene", "FO"),
        ("Holland", "NL"),
        ("Côte d’Ivoire", "CI"),
        ("Norway (+47)", "NO"),
        ("United Kingdom (+44) · UK, Great Britain, England", "GB"),
    ],
)
def test_a_country_cell_is_understood(text, region):
    assert region_from_text(text) == region


@pytest.mark.parametrize("text", ["", "  ", "Narnia", "+800", "999", "N/A"])
def test_a_cell_that_names_no_country_is_not_guessed(text):
    assert region_from_text(text) is None
