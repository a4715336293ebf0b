"""Phone numbers and e-mail addresses: parsed once per distinct value, with exact fast paths.

A 100,000-row sheet holds 100,000 different numbers and addresses, so caching alone does not
help: `phonenumbers` and `email-validator` cost about 20 µs a value each. For the shapes CRM
exports nearly always have (a bare national number, `+` and digits, a plain ASCII address) we
decide with precompiled patterns taken from the same libraries' metadata; anything else goes
to the libraries themselves. `tests/test_contact.py` checks that both paths always agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, lru_cache

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

_SEPARATORS = str.maketrans("", "", " \u00a0-.()/")
_DIGITS = re.compile(r"[0-9]{2,17}")


# --- phone numbers -----------------------------------------------------------------------------


@lru_cache(maxsize=262_144)
def phone_e164(text: str, region: str = "NO") -> str | None:
    """The number in E.164 (`+4745860321`), or None when it is not a valid phone number."""
    compact = text.strip().translate(_SEPARATORS)
    national = _national_number(region)
    if national is not None and national[1].fullmatch(compact):
        return national[0] + compact
    fast = _fast_phone(compact, region)
    if fast is not None:
        return fast
    return slow_phone_e164(text, region)


def slow_phone_e164(text: str, region: str = "NO") -> str | None:
    """The reference: what `phonenumbers` itself says."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_Matcher = Callable[[str], bool]


def _desc_matcher(desc: object) -> _Matcher | None:
    """`phonenumbers`' _is_number_matching_desc for one description, precompiled."""
    pattern = getattr(desc, "national_number_pattern", None)
    if not pattern:
        return None
    lengths = frozenset(getattr(desc, "possible_length", ()) or ())
    compiled = re.compile(pattern)
    if lengths:
        return lambda nsn: len(nsn) in lengths and compiled.fullmatch(nsn) is not None
    return lambda nsn: compiled.fullmatch(nsn) is not None


# Any type makes a number valid, so the order is only for speed: the common types first.
_TYPES = ("mobile", "fixed_line", "toll_free", "premium_rate", "shared_cost", "voip",
          "personal_number", "pager", "uan", "voicemail")  # fmt: skip


@cache
def _region_valid(region: str) -> tuple[re.Pattern[str] | None, _Matcher] | None:
    """(leading-digits pattern, is-a-known-number-type) for a region, as phonenumbers decides."""
    metadata = PhoneMetadata.metadata_for_region(region, None)
    if metadata is None:
        return None
    general = _desc_matcher(metadata.general_desc)
    types = [m for m in (_desc_matcher(getattr(metadata, t, None)) for t in _TYPES) if m]
    if general is None:
        return None

    def valid(nsn: str) -> bool:
        return general(nsn) and any(m(nsn) for m in types)

    leading = re.compile(metadata.leading_digits) if metadata.leading_digits else None
    return leading, valid


def _valid_for_country(country_code: int, nsn: str) -> bool:
    """phonenumbers.is_valid_number for (country code, national number without leading zero)."""
    for region in COUNTRY_CODE_TO_REGION_CODE.get(country_code, ()):
        checks = _region_valid(region)
        if checks is None:
            continue
        leading, valid = checks
        if leading is not None:
            if leading.match(nsn):
                return valid(nsn)
        elif valid(nsn):
            return True
    return False


@cache
def _region_plan(region: str) -> tuple[int, str, re.Pattern[str] | None] | None:
    """(country code, national prefix, international prefix) when the fast path can serve it."""
    metadata = PhoneMetadata.metadata_for_region(region, None)
    if metadata is None or not metadata.country_code:
        return None
    prefix = metadata.national_prefix_for_parsing or metadata.national_prefix or ""
    if prefix and not prefix.isdigit():
        return None  # a pattern of prefixes (carrier codes...): leave it to phonenumbers
    idd = re.compile(metadata.international_prefix) if metadata.international_prefix else None
    return metadata.country_code, prefix, idd


def _fast_phone(compact: str, region: str) -> str | None:
    """The E.164 text when surely valid, None when only the library can tell."""
    if compact.startswith("+"):
        digits = compact[1:]
        if not _DIGITS.fullmatch(digits) or digits[0] == "0":
            return None
        for size in (1, 2, 3):
            code = int(digits[:size])
            if code in COUNTRY_CODE_TO_REGION_CODE:
                break
        else:
            return None
        main_region = COUNTRY_CODE_TO_REGION_CODE[code][0]
        plan = _region_plan(main_region)
        nsn = digits[size:]
        if plan is None or not nsn or nsn[0] == "0" or (plan[1] and nsn.startswith(plan[1])):
            return None
        return f"+{digits}" if _valid_for_country(code, nsn) else None
    if not _DIGITS.fullmatch(compact) or compact[0] == "0":
        return None
    plan = _region_plan(region.upper())
    if plan is None:
        return None
    code, prefix, idd = plan
    if compact.startswith(str(code)) or (prefix and compact.startswith(prefix)):
        return None  # country-code and national-prefix stripping: the library's subtle part
    if idd is not None and idd.match(compact):
        return None
    return f"+{code}{compact}" if _valid_for_country(code, compact) else None


def _valid_pattern(region: str) -> str | None:
    """_region_valid as one regular expression for a whole national number."""
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

    types = [t for t in (desc(getattr(metadata, name, None)) for name in _TYPES) if t]
    if not types:
        return None
    return f"(?={desc(metadata.general_desc)})(?:{'|'.join(types)})"


@cache
def _national_number(region: str) -> tuple[str, re.Pattern[str]] | None:
    """("+CC", pattern) matching exactly the bare national numbers of a region that
    phonenumbers reads unchanged and finds valid: the common case of a CRM export, in one
    regex call. Everything it does not match takes the paths below."""
    plan = _region_plan(region.upper())
    if plan is None:
        return None
    code, prefix, idd = plan
    # Country-code and national-prefix stripping are the library's subtle part: not ours.
    guards = "".join(f"(?!{re.escape(p)})" for p in (str(code), prefix) if p) + "(?!0)"
    if idd is not None:
        guards += f"(?!(?:{idd.pattern}))"
    branches, earlier_leads = [], ""
    for name in COUNTRY_CODE_TO_REGION_CODE.get(code, ()):
        metadata = PhoneMetadata.metadata_for_region(name, None)
        valid = _valid_pattern(name)
        if metadata is None or valid is None:
            continue
        if metadata.leading_digits:
            # phonenumbers: the first region whose leading digits match decides alone.
            branches.append(f"{earlier_leads}(?=(?:{metadata.leading_digits})){valid}")
            earlier_leads += f"(?!(?:{metadata.leading_digits}))"
        else:
            branches.append(f"{earlier_leads}{valid}")
    if not branches:
        return None
    pattern = f"(?=[0-9]{{2,17}}$){guards}(?:{'|'.join(branches)})"
    return f"+{code}", re.compile(pattern, re.ASCII)


# --- e-mail addresses --------------------------------------------------------------------------

# A plain ASCII address that email-validator surely accepts (syntax only, no DNS): dot-atom
# local part, LDH labels, an alphabetic top-level domain. "xn--" labels and special-use domains
# go to the library, as does everything this pattern does not match.
_PLAIN_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
_SPECIAL_USE = {"arpa", "invalid", "local", "localhost", "onion", "test", "example", "internal",
                "alt", "home", "corp", "lan", "intranet", "private"}  # fmt: skip


@lru_cache(maxsize=262_144)
def email_valid(text: str) -> bool:
    """Whether an address is valid: syntax only, no DNS look-up."""
    match = _PLAIN_EMAIL.fullmatch(text)
    if (
        match is not None
        and len(match["local"]) <= 64
        and len(text) <= 254
        and "--" not in match["domain"]
        and match["domain"].rsplit(".", 1)[1].lower() not in _SPECIAL_USE
    ):
        return True
    return slow_email_valid(text)


def slow_email_valid(text: str) -> bool:
    """The reference: what `email-validator` itself says."""
    import email_validator  # only here: most addresses never need it, and it loads slowly

    try:
        email_validator.validate_email(text, check_deliverability=False)
    except (email_validator.EmailNotValidError, ValueError, TypeError):
        return False
    return True
