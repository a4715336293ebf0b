"""Suggested fixes: what a cell most likely should say, where that is likely.

Each function takes a cell's text and returns the text it would become, or None when there is
no likely fix. The rules (`checks`) put the suggestion on the problem they find
(`Problem.suggestion`); `fixes.apply_suggestions` makes them a change, for one row or for all
the rows with the same kind of problem.

- An e-mail domain one or two letters from a common one: `ola@gmial.com` → `ola@gmail.com`.
- A phone number with its country code twice, or `00` for `+`: `+474745860321` → `+4745860321`.
- A first or last name in ALL CAPS or all lower case, in normal case: `OLA` → `Ola`,
  `VAN DER BERG` → `van der Berg`, `o'brien` → `O'Brien`, `anne-marie` → `Anne-Marie`,
  `MCDONALD` → `McDonald`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from seen_core.check.contact import phone_e164

__all__ = ["COMMON_DOMAINS", "domain_fix", "email_domain_fix", "name_case_fix", "phone_fix"]

# Domains most people's addresses are at (Norway's ISPs and the big international ones); an
# unknown domain this close to one of them is most likely a slip of the finger.
COMMON_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "hotmail.com", "hotmail.no", "hotmail.co.uk", "hotmail.se",
    "hotmail.dk", "outlook.com", "outlook.no", "live.com", "live.no", "live.se", "live.dk",
    "msn.com", "yahoo.com", "yahoo.no", "yahoo.se", "yahoo.co.uk", "icloud.com", "me.com",
    "mac.com", "aol.com", "protonmail.com", "proton.me", "mail.com", "gmx.com", "gmx.de",
    "online.no", "start.no", "broadpark.no", "frisurf.no", "c2i.net", "chello.no",
    "getmail.no", "altibox.no", "lyse.net", "tele2.no", "bluezone.no", "haugnett.no",
    "enivest.net", "ebnett.no", "netcom.no", "telia.com", "telia.no", "bredband.net",
    "mail.dk", "jubii.dk", "yandex.com", "yandex.ru", "web.de", "t-online.de", "orange.fr",
})  # fmt: skip


def _distance(a: str, b: str, most: int) -> int:
    """Optimal string alignment distance (a swap of two letters counts as one), or most + 1
    when it is more than `most`."""
    if abs(len(a) - len(b)) > most:
        return most + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > most:
            return most + 1
        previous2, previous = previous, current
    return previous[-1]


@lru_cache(maxsize=65_536)
def domain_fix(domain: str) -> str | None:
    """The common domain this one is most likely a slip for, or None."""
    if domain in COMMON_DOMAINS or len(domain) < 6:
        return None
    most = 2 if len(domain) >= 9 else 1
    best: list[tuple[int, str]] = []
    for common in COMMON_DOMAINS:
        found = _distance(domain, common, most)
        if found <= most:
            best.append((found, common))
    if not best:
        return None
    best.sort()
    if len(best) > 1 and best[0][0] == best[1][0]:
        return None  # as close to two: not likely enough to say which
    return best[0][1]


def email_domain_fix(address: str) -> str | None:
    """The address at the common domain its domain is one or two letters from, or None."""
    text = address.strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return None
    fixed = domain_fix(domain.lower())
    return None if fixed is None else f"{local}@{fixed}"


_NOT_DIGITS = re.compile(r"[^\d+]")


def phone_fix(text: str, region: str = "NO") -> str | None:
    """A number not valid as written, made valid by writing its country code once and with
    `+` for `00` (`+47 47 45 86 03 21`, `0047 4745860321`, `4745860321` → `+4745860321`);
    None otherwise. Only for numbers the check found not valid."""
    compact = _NOT_DIGITS.sub("", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    elif compact.isdigit() and len(compact) >= 10:  # a country code written without its +
        found = phone_e164("+" + compact, region)
        if found is not None:
            return found
    if not compact.startswith("+") or len(compact) < 6:
        return None
    digits = compact[1:]
    for size in (1, 2, 3):  # country codes are one to three digits
        code = digits[:size]
        if digits[size:].startswith(code):
            found = phone_e164("+" + code + digits[2 * size :], region)
            if found is not None:
                return found
    found = phone_e164(compact, region)  # only the 00 was in the way
    return found if found is not None and compact != text.strip() else None


# --- names in normal case ------------------------------------------------------------------------

# Words that belong lowercase inside a name: "van der Berg", "Hilma af Klint", "da Silva".
_PARTICLES = frozenset({"af", "av", "van", "von", "der", "den", "de", "del", "della", "di",
                        "da", "du", "la", "le", "zu", "ten", "ter", "dos", "das", "y"})  # fmt: skip
_APOSTROPHES = "'’"


def _capitalised(part: str) -> str:
    """One part of a name in normal case: O'Brien, D'Angelo, McDonald."""
    for mark in _APOSTROPHES:
        head, found, tail = part.partition(mark)
        if found and len(head) == 1 and tail:  # O'Brien, D'Angelo (not Ola's)
            return head.upper() + mark + _capitalised(tail)
    word = part[:1].upper() + part[1:].lower()
    if word.startswith("Mc") and len(word) > 3:
        word = "Mc" + word[2].upper() + word[3:]
    return word


def name_case_fix(name: str) -> str | None:
    """The name in normal case where it is written in ALL CAPS or all lower case (two letters
    or more), else None. Particles stay lowercase (van der Berg), each part of a double name
    and the name after O' is capitalised (Anne-Marie, O'Brien), Mc names keep theirs
    (McDonald)."""
    text = name.strip()
    letters = sum(c.isalpha() for c in text)
    if letters < 2 or not (text.isupper() or text.islower()):
        return None
    words = text.split()
    fixed = []
    for at, word in enumerate(words):
        lower = word.lower()
        if lower in _PARTICLES and len(words) > 1 and at < len(words) - 1:
            fixed.append(lower)
        else:
            fixed.append("-".join(_capitalised(part) for part in word.split("-")))
    out = " ".join(fixed)
    return out if out != text else None
