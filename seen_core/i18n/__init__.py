"""The user's language: gettext messages in Norwegian (bokmål) or English, numbers and dates.

English is the source language: every message is written in English in the code, wrapped in
`_("…")` (or `ngettext("…", "…", n)` where a number decides the form, or `N_("…")` where the
text is kept in a table and translated where it is shown). Placeholders are named and filled
with `str.format`: `_("{count} rows").format(count=number(n))`.

The language is held per thread of work in a context variable, set at the start of every run
of the app (and by the command line from `LANG`), so that the core can make messages in the
user's language without knowing about Streamlit. Catalogues are the `.po` files under
`locales/`, compiled in memory at first use: a fresh machine needs nothing but Babel.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gettext
import io
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from babel import Locale

__all__ = [
    "LANGUAGES",
    "N_",
    "PSEUDO",
    "_",
    "date",
    "decimal",
    "from_locale",
    "in_this_language",
    "language",
    "moment",
    "ngettext",
    "number",
    "set_fallback",
    "use",
    "using",
]

LOCALES = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
SOURCE = "en"
# The languages a user can choose, each named in itself.
LANGUAGES: dict[str, str] = {"nb": "Norsk", "en": "English"}
# A pseudo-language for tests: every message wrapped in ⟦…⟧, so that a text shown without
# translation stands out. Made from the English catalogue in memory; never offered to users.
PSEUDO = "xx"
# Babel's locale for each language (the pseudo-language counts like English).
_BABEL_LOCALE = {"nb": "nb_NO", "en": "en_US", PSEUDO: "en_US"}
# Browser languages read as Norwegian: bokmål, nynorsk (no catalogue of its own) and "no".
_NORWEGIAN = {"nb", "nn", "no"}

T = TypeVar("T")
_current: ContextVar[str | None] = ContextVar("seen_language", default=None)
# Where a thread of work that was never told its language finds it (the app: the session's,
# for a widget's callback, which runs before the run's first line); None → English.
_fallback: Callable[[], str | None] | None = None


def from_locale(tag: str | None) -> str:
    """The language for a browser's or a system's locale: 'nb-NO', 'no', 'nn_NO.UTF-8' →
    'nb'; anything else (or nothing) → 'en'."""
    first = (tag or "").replace("_", "-").split(",")[0].split(".")[0].split("-")[0]
    return "nb" if first.strip().casefold() in _NORWEGIAN else SOURCE


def language() -> str:
    """The language messages are made in now."""
    lang = _current.get()
    if lang is None and _fallback is not None:
        lang = _fallback()
    return lang or SOURCE


def set_fallback(find: Callable[[], str | None] | None) -> None:
    """Where to find the language when this thread of work was never told it (`use`)."""
    global _fallback
    _fallback = find


def use(lang: str) -> None:
    """Make messages in `lang` from now on in this thread of work (unknown → English)."""
    _current.set(lang if lang in LANGUAGES or lang == PSEUDO else SOURCE)


@contextlib.contextmanager
def using(lang: str) -> Iterator[None]:
    """Make messages in `lang` within the block only."""
    token = _current.set(lang if lang in LANGUAGES or lang == PSEUDO else SOURCE)
    try:
        yield
    finally:
        _current.reset(token)


def in_this_language(make: Callable[[], T]) -> Callable[[], T]:
    """`make`, to be called later (a download made when it is clicked, in another thread),
    in the language of now."""
    lang = language()

    def made() -> T:
        with using(lang):
            return make()

    return made


def catalogue_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of a language, made from its `.po` once per process. English,
    the language the messages are written in, is taken as written: its catalogue holds no
    translation (`python -m seen_core.i18n check` fails if it ever does), so a command run in
    English neither reads it nor loads Babel for it."""
    if lang == PSEUDO:
        return _pseudo()
    path = catalogue_path(lang)
    if lang == SOURCE or not path.exists():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo  # Babel loads in 0.02 s: only when needed
    from babel.messages.pofile import read_po

    with path.open("rb") as po:
        catalog = read_po(po, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _pseudo() -> gettext.NullTranslations:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with catalogue_path(SOURCE).open("rb") as po:
        catalog = read_po(po, locale=SOURCE)
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            message.string = tuple(f"⟦{form}⟧" for form in message.id)
        else:
            message.string = f"⟦{message.id}⟧"
        message.flags.discard("fuzzy")
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _(message: str) -> str:
    """`message` in the current language."""
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for the number `n`, in the current language."""
    return translations(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a message kept in a table, for extraction; it is translated where shown (`_`)."""
    return message


def locale() -> Locale:
    """Babel's locale of the current language."""
    from babel import Locale

    return Locale.parse(_BABEL_LOCALE.get(language(), "en_US"))


def number(n: int) -> str:
    """A whole number as the user writes it: 5000 → '5,000' in English, '5 000' in Norwegian."""
    from babel.numbers import format_decimal

    return format_decimal(n, locale=locale())


def decimal(x: float, digits: int = 1) -> str:
    """A number with up to `digits` decimals: 12.5 → '12.5' in English, '12,5' in Norwegian."""
    from babel.numbers import format_decimal

    return format_decimal(round(x, digits), format=f"#,##0.{'#' * digits}", locale=locale())


def date(day: dt.date) -> str:
    """A day as the user reads it: 'Dec 7, 2026' in English, '7. des. 2026' in Norwegian."""
    from babel.dates import format_date

    return format_date(day, format="medium", locale=locale())


def moment(when: dt.datetime) -> str:
    """A day and time, to the minute, in the user's way."""
    from babel.dates import format_datetime

    return format_datetime(when, format="short", locale=locale())
