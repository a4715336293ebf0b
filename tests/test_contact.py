"""The fast paths for phones and e-mails say exactly what phonenumbers and email-validator say."""

import random
import subprocess
import sys
from unittest import mock

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seen_core.check.contact import (
    _bare_numbers,
    _fast_phone,
    email_valid,
    emails_not_valid,
    phone_e164,
    phones_checked,
    phones_e164,
    slow_email_valid,
    slow_phone_e164,
)
from seen_core.check.suggestions import phone_fix

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
        ("4586032", "NO", None),  # a digit lost
        ("458603211", "NO", None),  # a digit too many
        ("46701234567", "NO", None),  # a Swedish number that lost its +
        ("+46 70 123", "NO", None),
        ("07911 123456", "GB", "+447911123456"),
        ("45860321", "no", None),  # phonenumbers knows regions only in capitals
    ],
)
def test_phone_numbers_as_a_campaign_manager_types_them(text, region, expected):
    assert phone_e164(text, region) == expected == slow_phone_e164(text, region)


def test_the_fast_paths_serve_a_crm_export_of_bare_national_numbers():
    code, valid, bare = _bare_numbers("NO")
    assert (code, bool(valid.fullmatch("45860321")), bool(bare.fullmatch("4586032"))) == (
        "+47",
        True,
        True,
    )
    assert not valid.fullmatch("4586032") and not bare.fullmatch("4745860321")
    assert _fast_phone("+46701234567", "NO") == "+46701234567"


@pytest.mark.parametrize(
    ("compact", "region"),
    [
        ("4586032", "NO"),
        ("458603211", "NO"),
        ("12345678", "NO"),
        ("46701234567", "NO"),
        ("4915112345678", "NO"),
        ("474586032", "NO"),
        ("+4670123", "NO"),
        ("+4420794", "NO"),
        ("+4712345", "NO"),
        ("+112345678", "NO"),
        ("0070123456", "SE"),
        ("5551234", "US"),
    ],
)
def test_numbers_that_are_not_valid_are_decided_without_the_library(compact, region, monkeypatch):
    # A messy export holds tens of thousands of these: each must not cost a library call.
    assert slow_phone_e164(compact, region) is None
    monkeypatch.setattr("seen_core.check.contact.slow_phone_e164", _no_library)
    phone_e164.cache_clear()
    assert phone_e164(compact, region) is None


@pytest.mark.parametrize(
    ("texts", "region"),
    [
        # The country code stored without "+": taken off, or read as a national number's start.
        (["4745860321", "4740003850", "479055670", "47311884", "4745860"], "NO"),
        (["46701234567", "467012345", "46701234567890"], "SE"),
        (["4479111234", "447911123456"], "GB"),
        (["4529855159", "452985515", "49151123"], "DK"),
        # "+" and a country code, with the separators people type.
        (["+47 458 60 321", "+46 70 123 45 67", "+44 7911 123456", "+49 151 1234567"], "NO"),
        (["+1 (202) 555-0123", "+46 70 624", "+45 2985 5159", "+358 40 1234567"], "NO"),
    ],
)
def test_a_column_decides_the_shapes_of_a_crm_export_without_going_number_by_number(
    texts, region, monkeypatch
):
    # In a messy export a quarter of the numbers have these shapes: each decided in the
    # column's own pass (a pattern or two), as phonenumbers would, without the longer way.
    expected = [slow_phone_e164(text, region) for text in texts]
    assert any(expected) and None in expected  # valid and not valid numbers alike
    monkeypatch.setattr("seen_core.check.contact.phone_e164", _no_longer_way)
    assert phones_e164(texts, region) == expected


def _no_longer_way(text: str, region: str) -> None:
    raise AssertionError(f"{text!r} in {region} went number by number (phone_e164)")


def _no_library(text: str, region: str) -> None:
    raise AssertionError(f"{text!r} in {region} went to phonenumbers")


def test_digits_of_other_scripts_are_read_as_the_library_reads_them():
    assert phone_e164("٤٥٨٦٠٣٢١", "NO") == slow_phone_e164("٤٥٨٦٠٣٢١", "NO") == "+4745860321"


def joined(*parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Text made of parts drawn one after another (much faster to draw than `from_regex`)."""
    return st.tuples(*parts).map("".join)


REGIONS_WIDE = [*REGIONS, "CA", "IT", "AU", "BR", "IN", "CN", "RU", "FR", "AR", "MX"]


def _agree(text: str, region: str) -> None:
    phone_e164.cache_clear()
    assert phone_e164(text, region) == slow_phone_e164(text, region), (text, region)


def _agree_on_all(texts: list[str], region: str) -> None:
    """Each text alone, and the texts as a sheet's column, say what phonenumbers says."""
    library = {t: slow_phone_e164(t, region) for t in {*texts, *(t.strip() for t in texts)}}

    def asked(text: str, region_asked: str) -> str | None:  # the library, asked once a text
        if region_asked != region or text not in library:
            return slow_phone_e164(text, region_asked)
        return library[text]

    with mock.patch("seen_core.check.contact.slow_phone_e164", asked):
        phone_e164.cache_clear()
        for text in texts:
            assert phone_e164(text, region) == library[text], (text, region)
        not_valid = [i for i, t in enumerate(texts) if t.strip() and library[t.strip()] is None]
        phone_e164.cache_clear()
        found = phones_checked(texts, region)
        assert found.not_valid == not_valid, region
        assert found.fixes == [phone_fix(texts[i], region) or "" for i in not_valid]
        stripped = [t.strip() for t in texts]
        assert phones_e164(stripped, region) == [library[t] if t else None for t in stripped]
        assert found.e164 == [library[t] or "" if t else "" for t in stripped]


def test_phone_fast_paths_agree_with_phonenumbers_on_many_numbers():
    rng = random.Random(7)
    hits = {"bare valid": 0, "bare not valid": 0, "+ valid": 0, "+ not valid": 0}
    for region in REGIONS_WIDE:
        bare = _bare_numbers(region)
        texts = []
        for _ in range(400):
            digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(2, 15)))
            texts += [digits, "+" + digits, digits[:3] + " " + digits[3:], ""]
            if bare is not None:
                hits["bare valid"] += bool(bare[1].fullmatch(digits))
                hits["bare not valid"] += bool(
                    bare[2].fullmatch(digits) and not bare[1].fullmatch(digits)
                )
            decided = _fast_phone("+" + digits, region)
            hits["+ valid"] += isinstance(decided, str)
            hits["+ not valid"] += decided is None
        _agree_on_all(texts, region)
    # The fast paths really were exercised, on both sides.
    assert min(hits.values()) > 200, hits


def _near_misses(region: str) -> set[str]:
    """Every region's example numbers, written the ways people write them, and one slip away:
    a digit lost, added or changed, the country code without +, national and international
    prefixes where they do not belong."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    code = str(metadata.country_code)
    texts: set[str] = set()
    for kind in phonenumbers.PhoneNumberType.values():
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        nsn = phonenumbers.national_significant_number(example)
        for number in {nsn, nsn[:-1], nsn + "5", nsn[1:], "1" + nsn[1:], "9" + nsn[1:], nsn * 2}:
            texts |= {number, "0" + number, code + number, code + "0" + number, "+" + code + number,
                      "+" + code + "0" + number, "00" + code + number, "011" + code + number,
                      "+" + number, "+" + code + code + number, code + number[:-2]}  # fmt: skip
    return texts


@pytest.mark.parametrize("region", sorted(phonenumbers.SUPPORTED_REGIONS))
def test_phone_fast_paths_agree_with_phonenumbers_one_slip_from_valid_numbers(region):
    _agree_on_all(sorted(_near_misses(region)), region)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text(alphabet="0123456789+ -()\u00a0\t", max_size=16), max_size=30),
    st.sampled_from([*REGIONS, "no", "XX"]),
)
def test_a_column_of_numbers_is_judged_as_each_number_alone(texts, region):
    _agree_on_all(texts, region)


def _both_ways(texts: list[str]) -> list[int]:
    """emails_not_valid with Python's patterns (a command's way) and in Arrow (the app's way,
    where pandas has loaded it), which must agree."""
    import pyarrow  # noqa: F401

    email_valid.cache_clear()
    with mock.patch("seen_core.check.contact._arrow_loaded", return_value=False):
        in_python = emails_not_valid(texts)
    email_valid.cache_clear()
    with (
        mock.patch("seen_core.check.contact._arrow_loaded", return_value=True),
        mock.patch("seen_core.check.contact._ARROW_FROM", 0),  # as a long column is
    ):
        in_arrow = emails_not_valid(texts)
    assert in_python == in_arrow
    return in_python


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="abXY09.-_+@ ,\tæøÅé", max_size=24), max_size=30))
def test_a_column_of_addresses_is_judged_as_each_address_alone(texts):
    expected = [i for i, t in enumerate(texts) if t.strip() and not slow_email_valid(t.strip())]
    assert _both_ways(texts) == expected


# Pieces of addresses at and over email-validator's limits: local parts of 63 to 65
# characters, labels of 63 and 64, hyphens where IDNA forbids them, special-use endings.
_ATOMS = st.sampled_from(["ola", "o-la", "x" * 20, "x" * 63, "x" * 64, "x" * 65, "", "-"])
_LABELS = st.sampled_from(["a", "b" * 63, "b" * 64, "ab--cd", "xn--abc", "-ab", "ab-", "c" * 60])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_ATOMS, min_size=1, max_size=3),
    st.lists(_LABELS, min_size=1, max_size=5),
    st.sampled_from(["no", "COM", "Local", "test", "onion", "x", "museum", "n0"]),
)
def test_addresses_near_every_limit_are_judged_as_the_library_does(atoms, labels, top):
    address = f"{'.'.join(atoms)}@{'.'.join([*labels, top])}"
    expected = [] if slow_email_valid(address) else [0]
    assert _both_ways([address, "ola@example.no"] * 3)[:1] == expected


@pytest.mark.parametrize(
    "text",
    ["ola@example.no", " ola@example.no ", "ola@host.LOCAL", "ola@ex--ample.no",
     "o--la@example.no", ("x" * 64) + "@example.no", ("x" * 65) + "@example.no",
     "a@" + ("b" * 63 + ".") * 3 + "c" * 60 + ".no", "a@" + ("b" * 63 + ".") * 3 + "c" * 63 + ".no",
     "kåre@eksempel.no", "ola@example", ""],
)  # fmt: skip
def test_the_column_of_addresses_keeps_email_validators_limits(text):
    texts = [text, "ola@example.no"]
    stripped = text.strip()
    expected = [0] if stripped and not slow_email_valid(stripped) else []
    assert _both_ways(texts * 600)[:1] == expected  # 1,200 values: a long column
    assert _both_ways(texts) == expected


def test_a_long_column_with_text_that_is_not_unicode_throughout_is_still_judged():
    # A lone surrogate cannot become UTF-8 for Arrow: the column is judged in Python instead.
    texts = ["ola@example.no", "kari@\ud800.no", "not an address"] * 400
    assert _both_ways(texts)[:3] == [1, 2, 4]


def _loaded_after(code: str, *modules: str) -> list[bool]:
    """Which of these modules a fresh interpreter has loaded after running `code`."""
    code += f"; import sys; print(*[m in sys.modules for m in {modules!r}])"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [word == "True" for word in found.stdout.split()]


def test_a_long_column_of_addresses_is_judged_without_loading_arrow_or_pandas():
    # A command that checks a sheet loads neither for its e-mails: either takes longer to load
    # (0.3 s, 0.6 s) than a 100,000-row column takes to check.
    code = (
        "from seen_core.check.contact import emails_not_valid; "
        "assert emails_not_valid(['ola@example.no', 'kåre@@x', 'x' * 250 + '@example.no'] * 500)"
        "[:3] == [1, 2, 4]"
    )
    assert _loaded_after(code, "pyarrow", "pandas") == [False, False]


def test_where_arrow_is_loaded_a_long_column_goes_through_it_without_loading_pandas():
    # Arrow's own import of pandas (pa.array, pa.scalar) is what the column's making avoids.
    code = (
        "import pyarrow; from seen_core.check.contact import emails_not_valid; "
        "assert emails_not_valid(['ola@example.no', 'kåre@@x'] * 600)[:2] == [1, 3]"
    )
    assert _loaded_after(code, "pandas") == [False]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789+ -()./\u00a0\t", max_size=20), st.sampled_from(REGIONS))
def test_phone_e164_always_matches_phonenumbers(text, region):
    _agree(text, region)


@settings(max_examples=300, deadline=None)
@given(
    joined(  # [ (]?\+?(00|011|0|1|44|46|47|49|358|800)?[0-9]{0,13}[ )]?
        st.sampled_from(["", " ", "("]),
        st.sampled_from(["", "+"]),
        st.sampled_from(["", "00", "011", "0", "1", "44", "46", "47", "49", "358", "800"]),
        st.text("0123456789", max_size=13),
        st.sampled_from(["", " ", ")"]),
    ),
    st.sampled_from([*REGIONS_WIDE, "GG", "JE", "IM", "AG", "VA", "KZ", "no"]),
)
def test_numbers_with_prefixes_always_match_phonenumbers(text, region):
    _agree(text, region)


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


@pytest.mark.parametrize(
    "text",
    [
        "per.jensen@online",
        "marte.saether@",
        "@online.no",
        "liv.bo@gmail,com",
        "-",
        "ola.nordmann",
        "erling@hotmail.com.",
        "Tor Pettersen@online.no",
        "ingrid@@yahoo.no",
        "ase.@gmail.com",
        ".ase@gmail.com",
        "a..b@gmail.com",
        "a@gmail..com",
        "a@.gmail.com",
        "a@gmail_com.no",
    ],
)
def test_addresses_that_are_not_valid_are_decided_without_the_library(text, monkeypatch):
    assert not slow_email_valid(text)
    monkeypatch.setattr("seen_core.check.contact.slow_email_valid", _no_email_library)
    email_valid.cache_clear()
    assert not email_valid(text)


def _no_email_library(text: str) -> bool:
    raise AssertionError(f"{text!r} went to email-validator")


@settings(max_examples=600, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="ab1.-_+@ ,\t!~'\"\\<>()[]:;ø", min_size=1, max_size=24),
        joined(  # [a-z. ,]{0,8}@{1,2}[a-z0-9._-]{0,8}(\.[a-z,]{0,4})?\.?
            st.text("abcdefghijklmnopqrstuvwxyz. ,", max_size=8),
            st.sampled_from(["@", "@@"]),
            st.text("abcdefghijklmnopqrstuvwxyz0123456789._-", max_size=8),
            st.one_of(
                st.just(""), st.text("abcdefghijklmnopqrstuvwxyz,", max_size=4).map(".{}".format)
            ),
            st.sampled_from(["", "."]),
        ),
    )
)
def test_addresses_of_any_shape_always_match_email_validator(text):
    email_valid.cache_clear()
    assert email_valid(text) == slow_email_valid(text)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("øystein.kristiansen221@live.no", True),
        ("ærling.bø1636@gmail.com", True),
        ("Åse.Sæther@firma.no", True),
        ("Ingrid_Ødegård+nyhetsbrev@epost.no", True),
        ("Bjørn Lie@firma.no", False),
        ("Åse Sæther@live.no", False),
        ("ola nordmann@firma.no", False),
        ("kåre@eksempel .no", False),
    ],
)
def test_norwegian_letters_before_the_at_are_decided_without_the_library(text, valid, monkeypatch):
    """CRM exports write æ, ø and å in addresses, and names with a space where the address
    should be: both as email-validator says, without its 0.2 ms a value."""
    assert slow_email_valid(text) is valid
    monkeypatch.setattr("seen_core.check.contact.slow_email_valid", _no_email_library)
    email_valid.cache_clear()
    assert email_valid(text) is valid


_LETTERS = "aøÅæß1٣_.-+é\u0308\u00a0 \u200b"  # ٣: an Arabic-Indic digit; U+0308: a combining mark


@settings(max_examples=600, deadline=None)
@given(
    st.one_of(
        joined(  # [letters]{0,10}@[a-z0-9.-]{0,8}(\.[a-zø]{0,4})?
            st.text(_LETTERS, max_size=10),
            st.just("@"),
            st.text("abcxyz019.-", max_size=8),
            st.one_of(st.just(""), st.text("abcnoø", max_size=4).map(".{}".format)),
        ),
        joined(  # long and decomposed local parts: the 64-byte and NFC rules
            st.text("øa\u0308e\u0301", min_size=20, max_size=40),
            st.just("@firma.no"),
        ),
        st.text(_LETTERS + "@", min_size=1, max_size=24),
    )
)
def test_addresses_with_letters_of_any_script_always_match_email_validator(text):
    email_valid.cache_clear()
    assert email_valid(text) == slow_email_valid(text)
