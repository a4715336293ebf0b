"""The fast paths for phones and e-mails say exactly what phonenumbers and email-validator say."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seen_core.contact import (
    _fast_phone,
    _national_number,
    email_valid,
    phone_e164,
    slow_email_valid,
    slow_phone_e164,
)

REGIONS = ["NO", "SE", "DK", "FI", "GB", "US", "DE", "SJ"]


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("4745860321", "NO", "+4745860321"),  # a CRM stored the country code without +
        ("45860321", "NO", "+4745860321"),
        ("+47 458 60 321", "NO", "+4745860321"),
        ("004745860321", "NO", "+4745860321"),
        ("0701234567", "SE", "+46701234567"),
        ("0701234567", "NO", None),
        ("12345", "NO", None),
        ("+4712345678", "NO", None),
    ],
)
def test_phone_numbers_as_a_campaign_manager_types_them(text, region, expected):
    assert phone_e164(text, region) == expected


def test_the_fast_paths_serve_a_crm_export_of_bare_national_numbers():
    code, pattern = _national_number("NO")
    assert (code, bool(pattern.fullmatch("45860321"))) == ("+47", True)
    assert _fast_phone("+46701234567", "NO") == "+46701234567"


def test_digits_of_other_scripts_are_read_as_the_library_reads_them():
    assert phone_e164("٤٥٨٦٠٣٢١", "NO") == slow_phone_e164("٤٥٨٦٠٣٢١", "NO") == "+4745860321"


REGIONS_WIDE = [*REGIONS, "CA", "IT", "AU", "BR", "IN", "CN", "RU", "FR", "AR", "MX"]


def test_phone_fast_paths_agree_with_phonenumbers_on_many_numbers():
    rng = random.Random(7)
    national_hits = plus_hits = 0
    for region in REGIONS_WIDE:
        national = _national_number(region)
        for _ in range(2000):
            digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(2, 15)))
            for text in (digits, "+" + digits, digits[:3] + " " + digits[3:]):
                phone_e164.cache_clear()
                assert phone_e164(text, region) == slow_phone_e164(text, region), (text, region)
            if national is not None and national[1].fullmatch(digits):
                national_hits += 1
            if _fast_phone("+" + digits, region) is not None:
                plus_hits += 1
    assert national_hits > 1000 and plus_hits > 500  # the fast paths really were exercised


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789+ -()", max_size=20), st.sampled_from(REGIONS))
def test_phone_e164_always_matches_phonenumbers(text, region):
    assert phone_e164(text, region) == slow_phone_e164(text, region)


@pytest.mark.parametrize(
    "text",
    [
        "ola@example.no",
        "ola.nordmann+tag@sub.example.com",
        "per@@example",
        "per@example",
        "a..b@example.com",
        ".a@example.com",
        "a@-example.com",
        "a@example-.com",
        "a@xn--zz.com",
        "a@host.local",
        "a@host.test",
        "a@1.23",
        ("x" * 65) + "@example.com",
        "kåre@eksempel.no",
        "a@b.c",
        "æøå@example.com",
    ],
)
def test_email_fast_path_agrees_with_email_validator(text):
    assert email_valid(text) == slow_email_valid(text)


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet="abcXY019.-_+@'", min_size=1, max_size=30),
)
def test_email_valid_always_matches_email_validator(text):
    assert email_valid(text) == slow_email_valid(text)
