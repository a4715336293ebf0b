"""Plain words: slugs offered for typed names, counts, the summary line, phone messages."""

from __future__ import annotations

import pytest

from seen_core.send.client import campaign_problem
from seen_core.wording import count, phone_message, suggest_slug, summary_line


@pytest.mark.parametrize(
    ("typed", "slug"),
    [
        ("Velkomst November 2026", "velkomst-november-2026"),
        ("Høstkampanje Ærlig Å", "hostkampanje-aerlig-a"),
        ("Grüße aus Köln: Ärger!", "grusse-aus-koln-arger"),
        ("  Vår -- kampanje  ", "var-kampanje"),
        ("Café déjà vu", "cafe-deja-vu"),
    ],
)
def test_a_typed_campaign_name_is_offered_as_a_slug(typed, slug):
    assert suggest_slug(typed) == slug
    assert campaign_problem(slug) is None


@pytest.mark.parametrize("slug", ["Spring2026", "velkomst-november-2026", "kampanje_2"])
def test_a_valid_slug_is_kept_as_it_is(slug):
    assert suggest_slug(slug) == slug


@pytest.mark.parametrize("typed", ["", "   ", "!!!", "— ·"])
def test_a_name_with_nothing_usable_suggests_nothing(typed):
    assert suggest_slug(typed) == ""


def test_counts_use_a_comma_between_thousands_and_the_right_noun():
    assert count(1, "row") == "1 row"
    assert count(0, "row") == "0 rows"
    assert count(5000, "row") == "5,000 rows"
    assert count(1_234_567, "receiver") == "1,234,567 receivers"
    assert count(2, "person", "people") == "2 people"


def test_summary_line_puts_created_first_and_sums_what_needs_attention():
    counts = {"created": 4812, "rejected": 2, "invalid": 7, "failed": 1, "unknown": 2}
    assert summary_line(counts) == "4,812 created · 12 need attention"
    assert (
        summary_line({**counts, "not_sent": 3}) == "4,812 created · 12 need attention · 3 not sent"
    )
    assert summary_line({"created": 5, "unknown": 1}) == "5 created · 1 needs attention"
    assert summary_line({"created": 5000}) == "5,000 created"


@pytest.mark.parametrize("counts", [{}, {"created": 0, "not_sent": 0}, {"ready": 12}])
def test_summary_line_before_any_send(counts):
    assert summary_line(counts) == "Nothing sent yet"


def test_phone_message_names_the_country_only_for_numbers_without_a_country_code():
    assert phone_message("4586", "NO") == (
        "'4586' is not a valid phone number "
        "(numbers without a country code are read as Norway (+47))."
    )
    assert phone_message(" +46 12 ", "NO") == "'+46 12' is not a valid phone number."
    assert phone_message("0046 12", "NO") == "'0046 12' is not a valid phone number."
    assert "United Kingdom (+44))" in phone_message("0123", "GB")
