"""Phone numbers and e-mail addresses: parsed once per distinct value, with exact fast paths.

A 100,000-row sheet holds 100,000 different numbers and addresses, so caching alone does not
help: `phonenumbers` and `email-validator` cost about 20 µs a value each. For the shapes CRM
exports nearly always have (a bare national number, `+` and digits, an address in ASCII or
with letters like æøå before the @, a name with a space where the address should be) we
decide with precompiled patterns taken from the same libraries' metadata and rules; anything
else goes to the libraries themselves. `tests/test_contact.py` checks that both paths always agree.
"""

from __future__ import annotations

import array
import itertools
import re
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Literal, NamedTuple

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, SUPPORTED_REGIONS, PhoneMetadata
from phonenumbers.phonemetadata import REGION_CODE_FOR_NON_GEO_ENTITY

if TYPE_CHECKING:
    import pyarrow as pa

_SEPARATORS = str.maketrans("", "", " \u00a0-.()/")
_DIGITS = re.compile(r"[0-9]{3,17}")  # three digits at least: the library's "viable number"

# Any type makes a number valid, so the order is only for speed: the common types first.
_TYPES = ("mobile", "fixed_line", "toll_free", "premium_rate", "shared_cost", "voip",
          "personal_number", "pager", "uan", "voicemail")  # fmt: skip


# --- phone numbers -----------------------------------------------------------------------------


@lru_cache(maxsize=262_144)
def phone_e164(text: str, region: str = "NO") -> str | None:
    """The number in E.164 (`+4745860321`), or None when it is not a valid phone number."""
    if len(text) > _MAX_INPUT:
        return slow_phone_e164(text, region)
    # A number stored as a number arrives as bare digits: nothing to strip.
    compact = text if text.isascii() and text.isdigit() else text.strip().translate(_SEPARATORS)
    bare = _bare_numbers(region)
    if bare is not None:
        code, valid, shape = bare
        if valid.fullmatch(compact):
            return code + compact
        if shape.fullmatch(compact):
            return None  # a bare national number that the region's patterns do not take
    decided = _fast_phone(compact, region)
    if decided is _UNSURE:
        return slow_phone_e164(text, region)
    return decided


def slow_phone_e164(text: str, region: str = "NO") -> str | None:
    """The reference: what `phonenumbers` itself says."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# What phonenumbers.parse does, step by step, for the one shape the fast path takes: ASCII
# digits, perhaps after one "+", with only spaces, dots, dashes, brackets and slashes between
# them. For that shape the library's text handling (extensions, letters, RFC 3966, leading
# junk) changes nothing, so what is left is the part that depends on the region's metadata:
# international prefix, country code, national prefix, possible lengths. Each step below names
# the library function it follows.

_MAX_INPUT = 250  # phonenumbers refuses longer input outright
_MIN_NSN, _MAX_NSN = 2, 17


class _Verdict(Enum):
    UNSURE = "only phonenumbers can tell"


_UNSURE = _Verdict.UNSURE
_Fast = str | None | Literal[_Verdict.UNSURE]  # E.164 when valid, None when surely not valid
_TOO_LONG, _USABLE, _NOT_USABLE = "too long", "usable", "not usable"


@dataclass(frozen=True)
class _Plan:
    """What parsing a number needs from one region's metadata, compiled once."""

    country_code: int
    idd: re.Pattern[str] | None  # international prefix
    national_prefix: re.Pattern[str] | None  # national_prefix_for_parsing
    general: re.Pattern[str] | None  # general_desc.national_number_pattern
    lengths: tuple[int, ...]  # general_desc.possible_length, sorted
    local_lengths: frozenset[int]

    def viable(self, nsn: str) -> bool:
        """_match_national_number(nsn, general_desc, False)."""
        return self.general is not None and self.general.fullmatch(nsn) is not None

    def length(self, nsn: str) -> str:
        """_test_number_length against the general description, in three outcomes."""
        size = len(nsn)
        if size in self.local_lengths:
            return _NOT_USABLE
        if self.lengths[0] == size:
            return _USABLE
        if self.lengths[0] > size:
            return _NOT_USABLE
        if self.lengths[-1] < size:
            return _TOO_LONG
        return _USABLE if size in self.lengths[1:] else _NOT_USABLE

    def strip_national_prefix(self, number: str) -> str:
        """_maybe_strip_national_prefix_carrier_code, without transform rules (see _plan)."""
        if not number or self.national_prefix is None:
            return number
        match = self.national_prefix.match(number)
        if match is None:
            return number
        rest = number[match.end() :]
        if self.viable(number) and not self.viable(rest):
            return number
        return rest


@cache
def _plan(region: str) -> _Plan | None:
    """The parsing plan of a region, or None where the fast path leaves it to phonenumbers:
    unknown regions and those whose national prefix is rewritten by a transform rule."""
    metadata = PhoneMetadata.metadata_for_region(region, None)
    if metadata is None or not metadata.country_code or metadata.national_prefix_transform_rule:
        return None
    general = metadata.general_desc
    lengths = tuple(general.possible_length or ()) if general is not None else ()
    if not lengths:
        return None
    pattern = general.national_number_pattern
    return _Plan(
        country_code=metadata.country_code,
        idd=re.compile(metadata.international_prefix) if metadata.international_prefix else None,
        national_prefix=(
            re.compile(metadata.national_prefix_for_parsing)
            if metadata.national_prefix_for_parsing
            else None
        ),
        general=re.compile(pattern) if pattern else None,
        lengths=lengths,
        local_lengths=frozenset(general.possible_length_local_only or ()),
    )


_COUNTRY_CODES = {str(code): code for code in COUNTRY_CODE_TO_REGION_CODE}


def _split_country_code(digits: str) -> tuple[int, str] | None:
    """_extract_country_code: the shortest known country code the digits start with."""
    if digits[0] == "0":
        return None
    for size in (1, 2, 3):  # a prefix shorter than `size` was already looked up: no harm
        code = _COUNTRY_CODES.get(digits[:size])
        if code is not None:
            return code, digits[size:]
    return None


def _fast_phone(compact: str, region: str) -> _Fast:
    """E.164 text when valid, None when surely not valid, _UNSURE when only the library can tell.
    `compact` is the text without surrounding space and separators."""
    plus = compact.startswith("+")
    digits = compact[1:] if plus else compact
    if not _DIGITS.fullmatch(digits) or region not in SUPPORTED_REGIONS:
        return _UNSURE
    home = _plan(region)
    if home is None:
        return _UNSURE
    if plus:
        found = _split_country_code(digits)
        if found is None:
            return _UNSURE  # the library tries again without the "+": rare, and subtle
        return _national(*found, None)
    # _maybe_strip_i18n_prefix_and_normalize: an international prefix, unless a 0 follows it.
    if home.idd is not None and (idd := home.idd.match(digits)):
        after = digits[idd.end() :]
        if not after or after[0] != "0":
            if len(after) <= _MIN_NSN:
                return None  # TOO_SHORT_AFTER_IDD
            found = _split_country_code(after)
            return None if found is None else _national(*found, None)  # INVALID_COUNTRY_CODE
    # _maybe_extract_country_code: the region's own country code written without "+".
    code = str(home.country_code)
    if digits.startswith(code):
        rest = home.strip_national_prefix(digits[len(code) :])
        if (not home.viable(digits) and home.viable(rest)) or home.length(digits) == _TOO_LONG:
            return _national(home.country_code, rest, None)
    return _national(home.country_code, digits, home)


def _national(code: int, number: str, plan: _Plan | None) -> _Fast:
    """The rest of parse (national prefix, lengths) and is_valid_number, for a country code and
    the digits after it. `plan` is the region's when no country code was written; otherwise the
    plan of the country code's main region is used, as the library does."""
    if plan is None:
        plan = _main_plan(code)
        if plan is None:
            return _UNSURE
    if len(number) < _MIN_NSN:
        return None  # TOO_SHORT_NSN
    stripped = plan.strip_national_prefix(number)
    if plan.length(stripped) != _NOT_USABLE:
        number = stripped
    if len(number) > _MAX_NSN:
        return None  # TOO_LONG
    lengths = _country_lengths(code)
    if lengths is not None and len(number) not in lengths:
        return None  # no region of the code has numbers this long: no pattern to compile
    valid = _country_valid(code)
    if valid is None:
        return _UNSURE
    return f"+{code}{number}" if valid.fullmatch(number) else None


@cache
def _country_lengths(code: int) -> frozenset[int] | None:
    """Every length a valid national number of the code can have (its regions' general
    descriptions), or None when a region does not limit it."""
    lengths: set[int] = set()
    for name in COUNTRY_CODE_TO_REGION_CODE.get(code, ()):
        metadata = PhoneMetadata.metadata_for_region(name, None)
        if metadata is None:
            continue
        possible = getattr(metadata.general_desc, "possible_length", None)
        if not possible:
            return None
        lengths.update(possible)
    return frozenset(lengths) if lengths else None


@cache
def _main_plan(code: int) -> _Plan | None:
    """The plan of a country code's main region (None for non-geographic codes)."""
    main = COUNTRY_CODE_TO_REGION_CODE[code][0]
    return None if main == REGION_CODE_FOR_NON_GEO_ENTITY else _plan(main)


def _valid_pattern(region: str) -> str | None:
    """_number_type_helper(nsn) != UNKNOWN for one region, as one regular expression."""
    metadata = PhoneMetadata.metadata_for_region(region, None)
    if metadata is None or not getattr(metadata.general_desc, "national_number_pattern", None):
        return None

    def desc(d: object) -> str | None:
        pattern = getattr(d, "national_number_pattern", None)
        if not pattern:
            return None
        lengths = sorted(set(getattr(d, "possible_length", ()) or ()))
        fits = f"(?=(?:{'|'.join(f'[0-9]{{{n}}}' for n in lengths)})$)" if lengths else ""
        return f"{fits}(?:{pattern})$"

    # Where mobile and fixed-line numbers share a pattern, the library tries only fixed-line.
    names = [t for t in _TYPES if t != "mobile" or not metadata.same_mobile_and_fixed_line_pattern]
    types = [t for t in (desc(getattr(metadata, name, None)) for name in names) if t]
    if not types:
        return "(?!)"  # no type of number at all: none is valid
    return f"(?={desc(metadata.general_desc)})(?:{'|'.join(types)})"


@cache
def _country_pattern(code: int) -> str | None:
    """is_valid_number for a country code, as one pattern over the national number: the region
    it belongs to (by leading digits, or the first whose types accept it) decides."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(code, ())
    if not regions or REGION_CODE_FOR_NON_GEO_ENTITY in regions:
        return None
    if len(regions) == 1:
        return _valid_pattern(regions[0]) or "(?!)"
    branches, earlier_leads = [], ""
    for name in regions:
        metadata = PhoneMetadata.metadata_for_region(name, None)
        if metadata is None:
            continue
        valid = _valid_pattern(name) or "(?!)"
        if metadata.leading_digits is not None:
            # phonenumbers: the first region whose leading digits match decides alone.
            branches.append(f"{earlier_leads}(?=(?:{metadata.leading_digits})){valid}")
            earlier_leads += f"(?!(?:{metadata.leading_digits}))"
        else:
            branches.append(f"{earlier_leads}{valid}")
    return "|".join(branches) if branches else "(?!)"


@cache
def _country_valid(code: int) -> re.Pattern[str] | None:
    pattern = _country_pattern(code)
    return None if pattern is None else re.compile(f"(?:{pattern})", re.ASCII)


@cache
def _bare_numbers(region: str) -> tuple[str, re.Pattern[str], re.Pattern[str]] | None:
    """("+CC", valid, bare): two patterns for the bare national numbers of a region, which
    phonenumbers reads unchanged (the common case of a CRM export): `bare` takes them all,
    `valid` the valid ones. A text `bare` takes and `valid` does not is not a valid number;
    a text `bare` does not take goes _fast_phone's longer way."""
    plan = _plan(region) if region in SUPPORTED_REGIONS else None
    if plan is None:
        return None
    pattern = _country_pattern(plan.country_code)
    if pattern is None:
        return None
    # Numbers that start with the country code, an international or a national prefix are
    # read differently by the library: those take the longer way.
    bare = f"(?=[0-9]{{3,{_MAX_NSN}}}$)(?!{plan.country_code})(?!0)"
    for prefix in (plan.idd, plan.national_prefix):
        if prefix is not None:
            bare += f"(?!(?:{prefix.pattern}))"
    return (
        f"+{plan.country_code}",
        re.compile(f"{bare}(?:{pattern})", re.ASCII),
        re.compile(f"{bare}[0-9]+", re.ASCII),
    )


# --- e-mail addresses --------------------------------------------------------------------------

# A plain ASCII address that email-validator surely accepts (syntax only, no DNS): dot-atom
# local part, LDH labels, an alphabetic top-level domain. "xn--" labels and special-use domains
# go to the library, as does everything this pattern does not match.
_ATOMS = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABELS = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
_TOP_LABEL = r"[A-Za-z]{2,63}"
_PLAIN_EMAIL = re.compile(f"(?P<local>{_ATOMS})@(?P<domain>{_LABELS}{_TOP_LABEL})")
_SPECIAL_USE = {"arpa", "invalid", "local", "localhost", "onion", "test", "example", "internal",
                "alt", "home", "corp", "lan", "intranet", "private"}  # fmt: skip


# The same with letters and digits of any script before the @ (kåre@, ærling.bø@): the library
# accepts such a part (it needs SMTPUTF8) when it is a dot-atom of ASCII atom characters and
# Unicode letters and digits (\w), already in Unicode's NFC form, and at most 64 bytes in UTF-8.
_INTERNATIONAL_EMAIL = re.compile(
    r"(?P<local>[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)


@lru_cache(maxsize=262_144)
def email_valid(text: str) -> bool:
    """Whether an address is valid: syntax only, no DNS look-up."""
    if text.isascii():
        match = _PLAIN_EMAIL.fullmatch(text)
        local_fits = match is not None and len(match["local"]) <= 64
    else:
        match = _INTERNATIONAL_EMAIL.fullmatch(text)
        local_fits = (
            match is not None
            and len(match["local"].encode()) <= 64
            and unicodedata.is_normalized("NFC", match["local"])
        )
    if (
        local_fits
        and len(text.encode()) <= 254
        and "--" not in match["domain"]
        and match["domain"].rsplit(".", 1)[1].lower() not in _SPECIAL_USE
    ):
        return True
    if _surely_not_an_address(text):
        return False
    return slow_email_valid(text)


# What surely makes an address invalid for email-validator, in the shapes CRM exports have: a
# space (no address holds one outside quotes, and quotes go to the library); and in a plain
# ASCII address no @ or two, nothing before or after it, a comma, a domain without a period,
# periods at the ends or doubled. Quotes, brackets, backslashes and, but for spaces, any
# non-ASCII text (quoted local parts, display names, domain literals, international
# addresses) are left to the library.
_LEFT_TO_THE_LIBRARY = re.compile(r'["\\<>()\[\]]')
_LOCAL_CHARS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_DOMAIN_CHARS = re.compile(r"[A-Za-z0-9.-]+")


def _surely_not_an_address(text: str) -> bool:
    if _LEFT_TO_THE_LIBRARY.search(text):
        return False
    if " " in text:
        return True
    if not text.isascii():
        return False
    local, at, domain = text.partition("@")
    return (
        not at
        or not _LOCAL_CHARS.fullmatch(local)
        or not _DOMAIN_CHARS.fullmatch(domain)
        or local[0] == "."
        or local[-1] == "."
        or ".." in local
        or "." not in domain
        or domain[0] == "."
        or domain[-1] == "."
        or ".." in domain
    )


def slow_email_valid(text: str) -> bool:
    """The reference: what `email-validator` itself says."""
    import email_validator  # only here: most addresses never need it, and it loads slowly

    try:
        email_validator.validate_email(text, check_deliverability=False)
    except (email_validator.EmailNotValidError, ValueError, TypeError):
        return False
    return True


# --- whole columns -----------------------------------------------------------------------------


class PhonesChecked(NamedTuple):
    """A column of phone numbers checked: the positions of the values that hold a number, once
    stripped, that is not valid; the fix suggested for each of those (`phone_fix`, "" for
    none); and each value's E.164 form ("" where it has none), which is what is sent."""

    not_valid: list[int]
    fixes: list[str]
    e164: list[str]


def phones_checked(values: Sequence[str], region: str = "NO") -> PhonesChecked:
    """The phone column `values` checked (see `PhonesChecked`)."""
    from seen_core.check.suggestions import phone_fix  # it builds on this module

    texts = [value.strip() for value in values]
    forms = phones_e164(texts, region)
    bad = [i for i, e164 in enumerate(forms) if e164 is None and texts[i]]
    fixes = [phone_fix(values[i], region) or "" for i in bad]
    return PhonesChecked(bad, fixes, [form or "" for form in forms])


def phones_e164(values: Sequence[str], region: str = "NO") -> list[str | None]:
    """`phone_e164` of each value (already stripped), with the common shapes done here: bare
    national numbers, the region's country code written without "+", and "+" numbers."""
    bare = _bare_numbers(region)
    if bare is None:
        return [phone_e164(value, region) if value else None for value in values]
    code, valid, shape = bare[0], bare[1].fullmatch, bare[2].fullmatch
    prefixed = None  # made for the first number that needs it
    found: list[str | None] = []
    for value in values:
        if value and value.isdigit() and value.isascii():  # a number stored as a number
            if valid(value):
                found.append(code + value)
                continue
            if shape(value):
                found.append(None)
                continue
            if prefixed is None:
                prefixed = _prefixed_numbers(region) or _unsure
            decided = prefixed(value)
            if decided is not _UNSURE:
                found.append(decided)
                continue
        elif value[:1] == "+" and len(value) <= _MAX_INPUT:
            decided = _international(value)
            if decided is not _UNSURE:
                found.append(decided)
                continue
        found.append(phone_e164(value, region) if value else None)
    return found


# Two more shapes of a CRM export decided without `_fast_phone`'s longer way, by the same
# steps, where those depend on nothing but the digits and the metadata's patterns (no national
# prefix to strip, no international prefix); other numbers take the longer way.


def _international(text: str) -> _Fast:
    """`phone_e164` of a text that starts with "+", where the digits after the country code are
    2-17 and hold no national prefix to strip (`_national` then keeps them as they are);
    _UNSURE otherwise."""
    digits = text.strip().translate(_SEPARATORS)[1:]
    if not _DIGITS.fullmatch(digits):
        return _UNSURE
    found = _split_country_code(digits)
    if found is None:
        return _UNSURE
    code, number = found
    plan, valid = _main_plan(code), _country_valid(code)
    if (
        plan is None
        or valid is None
        or len(number) < _MIN_NSN
        or (plan.national_prefix is not None and plan.national_prefix.match(number))
    ):
        return _UNSURE
    return "+" + digits if valid.fullmatch(number) else None


def _no(prefix: re.Pattern[str] | None) -> str:
    """A lookahead: the prefix does not match here (so stripping it would change nothing)."""
    return "" if prefix is None else f"(?!(?:{prefix.pattern}))"


@cache
def _prefixed_numbers(region: str) -> Callable[[str], _Fast] | None:
    """`phone_e164` of bare digits that start with the region's own country code (a CRM that
    stored 4745860321), where no international or national prefix is involved; _UNSURE for
    other digits. The library takes the code off, or reads it as the first digits of a
    national number (47311884 in Norway): the pattern tells which, `_country_valid` the rest.
    None for a region without the plans this needs."""
    home = _plan(region) if region in SUPPORTED_REGIONS else None
    if home is None:
        return None
    code = home.country_code
    main, valid = _main_plan(code), _country_valid(code)
    if main is None or valid is None:
        return None
    # _maybe_extract_country_code takes the code off when the digits are not a viable
    # national number and the rest is, or when the digits are too long to be one.
    viable = home.general.pattern if home.general is not None else None
    too_long = [n for n in range(3, _MAX_NSN + 1) if home.length("0" * n) == _TOO_LONG]
    takes_off = (
        "|".join(
            [
                *([f"(?!(?:{viable})$)(?={code}(?:{viable})$)"] if viable else []),
                *([f"(?=(?:{'|'.join(f'[0-9]{{{n}}}' for n in too_long)})$)"] if too_long else []),
            ]
        )
        or "(?!)"
    )
    rest_kept = _no(home.national_prefix)  # home.strip_national_prefix leaves the rest as it is
    # Every step the library takes is here, the international prefix and the main region's
    # national prefix too, although no region's metadata today makes those two matter.
    pattern = re.compile(
        f"(?=[0-9]{{3,{_MAX_NSN}}}$){_no(home.idd)}"
        f"(?:(?:{takes_off}){code}{rest_kept}{_no(main.national_prefix)}(?=[0-9]{{{_MIN_NSN},}}$)"
        f"|(?!(?:{takes_off}))(?={code}{rest_kept}){rest_kept})"
        "(?P<national>[0-9]+)",
        re.ASCII,
    )
    prefix, valid_number = f"+{code}", valid.fullmatch

    def decided(digits: str) -> _Fast:
        match = pattern.fullmatch(digits)
        if match is None:
            return _UNSURE
        national = match["national"]
        return prefix + national if valid_number(national) else None

    return decided


def _unsure(_: str) -> _Fast:
    return _UNSURE


def emails_not_valid(values: Sequence[str]) -> list[int]:
    """The positions of the values that hold an address, once stripped, that is not valid.

    The plain addresses, nearly all of a CRM export, are told apart first with `email_valid`'s
    own pattern and limits; only the others go through `email_valid` one by one.
    `tests/test_contact.py` holds the answers to email-validator's.
    """
    others = None
    if len(values) >= _ARROW_FROM and _arrow_loaded():
        others = _not_plain_in_arrow(values)
    if others is None:
        others = _not_plain(values)
    return [position for position in others if _not_an_address(values[position])]


def _arrow_loaded() -> bool:
    return "pyarrow" in sys.modules


def _not_plain(values: Sequence[str]) -> list[int]:
    """The positions of the values that are not plain addresses: ASCII, `_PLAIN_EMAIL`, at most
    64 characters before the @ and 254 in all, no "--" in the domain, no special-use ending
    (one pattern, `_PLAIN_ADDRESS`, tried on every value in C)."""
    return [i for i, found in enumerate(map(_PLAIN_ADDRESS.fullmatch, values)) if found is None]


def _not_plain_in_arrow(values: Sequence[str]) -> list[int] | None:
    """`_not_plain` in a few passes of RE2 (Arrow's regular expressions, in C++) over the whole
    column: twice as fast, where pyarrow is loaded already (the app's pandas loads it; a
    command does not load it for this, which takes longer than the column). None for a column
    Arrow cannot hold."""
    import pyarrow.compute as pc

    column = _arrow_strings(values)
    if column is None:
        return None
    plain = pc.and_kleene(
        pc.and_kleene(
            pc.match_substring_regex(column, _PLAIN_EMAIL_RE2),
            pc.match_substring_regex(column, "^[^@]{1,64}@"),  # at most 64 before the @
        ),
        pc.invert(
            pc.or_kleene(
                pc.match_substring_regex(column, "@.*--"),
                pc.match_substring_regex(column, _SPECIAL_USE_RE2, ignore_case=True),
            )
        ),
    )
    others = pc.indices_nonzero(pc.invert(plain)).to_pylist()  # no nulls: every value is text
    # ... and at most 254 in all (counted here: a number compared in Arrow imports pandas)
    return sorted({*others, *(i for i, value in enumerate(values) if len(value) > 254)})


_ARROW_FROM = 1_000  # values; below that, Arrow's passes (3 ms whatever the size) do not pay


def _arrow_strings(values: Sequence[str]) -> pa.StringArray | None:
    """The values as an Arrow string array, made from their UTF-8 bytes and offsets: `pa.array`
    of a list would import pandas (0.6 s) to ask whether the list is one of its types. None
    for text that is not Unicode throughout (a lone surrogate) or over 2 GB."""
    import pyarrow as pa

    text = "".join(values)
    try:
        data = text.encode()
    except UnicodeEncodeError:
        return None
    if len(data) >= 2**31:
        return None
    sizes = map(len, values) if len(data) == len(text) else (len(v.encode()) for v in values)
    offsets = array.array("i", itertools.accumulate(sizes, initial=0))
    return pa.StringArray.from_buffers(len(values), pa.py_buffer(offsets), pa.py_buffer(data))


def _not_an_address(value: str) -> bool:
    text = value.strip()
    return bool(text) and not email_valid(text)


# `email_valid`'s fast path as one pattern: its limits as lookaheads (which RE2 has not).
_PLAIN_ADDRESS = re.compile(
    r"(?=[^@]{1,64}@)(?=.{1,254}\Z)"  # at most 64 before the @, and 254 in all
    f"{_ATOMS}@(?!.*--){_LABELS}"  # no "--" in the domain
    f"(?!(?i:{'|'.join(sorted(_SPECIAL_USE))})\\Z){_TOP_LABEL}"  # no special-use ending
)
_PLAIN_EMAIL_RE2 = "^(?:{})$".format(
    _PLAIN_EMAIL.pattern.replace("(?P<local>", "(?:").replace("(?P<domain>", "(?:")
)
_SPECIAL_USE_RE2 = r"\.(?:" + "|".join(sorted(_SPECIAL_USE)) + ")$"
