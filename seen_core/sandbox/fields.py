"""What the sandbox accepts as an e-mail address, a phone number and a key, for v1 and 2.0 alike."""

from __future__ import annotations

import re

PHONE = re.compile(r"\+[1-9]\d{6,14}")
KEY = re.compile(r"[A-Za-z0-9_]+")  # a key of v1's extra_args, a property name of 2.0

_SPACE = re.compile(r"\s")
# Close to Django's EmailValidator: dot-atom local part, dotted domain with a letter TLD.
_EMAIL_USER = re.compile(r"[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+)*")
_EMAIL_DOMAIN = re.compile(
    r"((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+)(?:[A-Za-z0-9-]{2,63}(?<!-))"
)


def is_email(text: str) -> bool:
    user, at, domain = text.rpartition("@")
    if not at or not user or not domain or _SPACE.search(text):
        return False
    if not _EMAIL_USER.fullmatch(user) and not re.fullmatch(r'"[^"\\\r\n]*"', user):
        return False
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")  # Django accepts international domains
        except UnicodeError:
            return False
    return bool(_EMAIL_DOMAIN.fullmatch(domain))
