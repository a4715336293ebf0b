"""Plain words for the user: counts with one thousands separator, slugs, summary lines, messages.

Every number shown to a campaign manager goes through `count` or `number`, so "5,000" reads
the same everywhere, in the user's language ("5 000" in Norwegian; see `seen_core.i18n`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from seen_core import i18n
from seen_core.check.countries import short_label
from seen_core.i18n import _, ngettext
from seen_core.statuses import Status

__all__ = [
    "count",
    "number",
    "phone_message",
    "phone_messages",
    "suggest_slug",
    "summary_line",
    "transliterate",
]

# Letters that keys and slugs spell out in ASCII; NFKD then drops the accents of the rest (é → e).
_TRANSLITERATE = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae", "å": "a", "Å": "A", "ö": "o", "Ö": "O",
     "ä": "a", "Ä": "A", "ü": "u", "Ü": "U", "ß": "ss", "œ": "oe", "Œ": "Oe", "ð": "d",
     "Ð": "D", "þ": "th", "Þ": "Th", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D"}
)  # fmt: skip
_NOT_SLUG = re.compile(r"[^a-z0-9_]+")
_ATTENTION = (Status.REJECTED, Status.INVALID, Status.FAILED, Status.UNKNOWN)


def transliterate(text: str) -> str:
    """Nordic and accented letters as ASCII: 'Høst Ærlig Å' → 'Host Aerlig A'; others kept."""
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    return "".join(c for c in text if not unicodedata.combining(c))


def suggest_slug(name: str) -> str:
    """A campaign slug for a typed name: 'Velkomst November 2026' → 'velkomst-november-2026'.

    A name that already is a slug (letters, digits, '-', '_') is kept as it is, capitals
    included; otherwise letters are made ASCII and lowercase, everything else becomes '-'.
    "" when nothing usable is left.
    """
    from seen_core.send.client import (
        CAMPAIGN_SLUG,  # here: checks use this module, and client is slow
    )

    name = name.strip()
    if CAMPAIGN_SLUG.fullmatch(name):
        return name
    return _NOT_SLUG.sub("-", transliterate(name).lower()).strip("-")


def number(n: int) -> str:
    """A whole number with the user's thousands separator: 5000 → '5,000' ('5 000' in nb)."""
    return i18n.number(n)


def count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 row', '5,000 rows', '2 people' (with plural='people')."""
    word = noun if n == 1 else (plural or f"{noun}s")
    return f"{number(n)} {word}"


def summary_line(counts: Mapping[str, int]) -> str:
    """'4,812 created · 12 need attention · 3 not sent' from a send's counts per status.

    Need attention = rejected + invalid + failed + unknown; 'not sent' only when there are any.
    'Nothing sent yet' when no row has an outcome.
    """
    created = counts.get(Status.CREATED, 0)
    attention = sum(counts.get(status, 0) for status in _ATTENTION)
    not_sent = counts.get(Status.NOT_SENT, 0)
    if not (created or attention or not_sent):
        return _("Nothing sent yet")
    parts = [_("{count} created").format(count=number(created))]
    if attention:
        parts.append(
            ngettext("{count} needs attention", "{count} need attention", attention).format(
                count=number(attention)
            )
        )
    if not_sent:
        parts.append(_("{count} not sent").format(count=number(not_sent)))
    return " · ".join(parts)


def has_country_code(value: str) -> bool:
    """Whether a phone number is written with its country code ('+46 …' or '0046 …')."""
    return value.strip().startswith(("+", "00"))


def phone_message(value: str, region: str) -> str:
    """Why a phone number is refused, naming the country it was read in only where that applied:
    "'45 86' is not a valid phone number (numbers without a country code are read as Norway
    (+47))." or "'+46 12' is not a valid phone number."."""
    return phone_messages([value], region)[0]


def phone_messages(values: list[str], region: str) -> list[str]:
    """`phone_message` of each value (36,000 of them in a messy 100k-row sheet)."""
    plain = _("'{value}' is not a valid phone number.")
    read_as = _(
        "'{value}' is not a valid phone number (numbers without a country code are read as "
        "{country})."
    ).replace("{country}", short_label(region))
    messages = []
    for value in values:
        value = value.strip()
        template = plain if has_country_code(value) else read_as
        messages.append(template.replace("{value}", value))
    return messages
