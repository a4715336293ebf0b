"""Countries for phone numbers: labels people can search, and the region a typed country means.

Region codes and calling codes come from `phonenumbers`; so do the English names and the
Swedish ones (its geocoder data). Norwegian and Danish names, and the short forms people type
("UK", "USA", "England"), are a small table of our own below.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import phonenumbers

__all__ = [
    "CountryChoice",
    "country_choices",
    "english_name",
    "label_for",
    "region_from_text",
    "short_label",
]

# Shown first, in this order: the countries SEEN's users mostly send to.
NORDIC = ("NO", "SE", "DK", "FI", "IS")

# English names where phonenumbers has none, or one people would not look for.
_ENGLISH = {
    "AC": "Ascension Island",
    "TA": "Tristan da Cunha",
    "XK": "Kosovo",
    "CD": "Democratic Republic of the Congo",
    "CG": "Republic of the Congo",
    "MK": "North Macedonia",
    "SZ": "Eswatini",
    "RE": "Réunion",
    "SX": "Sint Maarten",
    "VA": "Vatican City",
}

# Other English names and short forms, shown in the label so a search finds them.
_SHOWN_ALIASES = {
    "GB": ("UK", "Great Britain", "England"),
    "US": ("USA",),
    "AE": ("UAE",),
    "NL": ("Holland",),
    "CZ": ("Czechia",),
    "CI": ("Ivory Coast",),
    "MM": ("Burma",),
    "CD": ("DR Congo",),
    "MK": ("Macedonia",),
    "SZ": ("Swaziland",),
    "TR": ("Türkiye",),
    "TL": ("East Timor",),
    "CV": ("Cabo Verde",),
}

# Names in Norwegian and Danish (phonenumbers has Swedish but not these), and other ways people
# write a country in a CRM: understood in a country column, not shown in the labels.
_OTHER_NAMES = {
    "NO": ("Norge", "Noreg", "NOR"),
    "SE": ("Sverige", "SWE"),
    "DK": ("Danmark", "DNK"),
    "FI": ("Suomi", "FIN"),
    "IS": ("Island", "Ísland", "ISL"),
    "FO": ("Færøyene", "Færøerne", "Føroyar", "Faroe"),
    "GL": ("Grønland", "Kalaallit Nunaat"),
    "AX": ("Åland",),
    "SJ": ("Svalbard", "Jan Mayen"),
    "GB": ("Storbritannia", "Storbritannien", "Skottland", "Skotland", "Scotland", "Wales",
           "Nord-Irland", "Nordirland", "Northern Ireland", "Britain", "United Kingdom of Great "
           "Britain and Northern Ireland", "Det forente kongerike", "GBR"),
    "US": ("US", "America", "Amerika", "United States of America", "USA",
           "Amerikas forente stater", "De forente stater", "Forenede Stater"),
    "DE": ("Tyskland", "Deutschland", "DEU"),
    "NL": ("Nederland", "Nederlandene", "The Netherlands"),
    "BE": ("Belgia", "Belgien"),
    "FR": ("Frankrike", "Frankrig"),
    "ES": ("Spania", "Spanien", "España"),
    "IT": ("Italia", "Italien"),
    "CH": ("Sveits", "Schweiz"),
    "AT": ("Østerrike", "Østrig", "Österreich"),
    "PL": ("Polska",),
    "LT": ("Litauen",),
    "LV": ("Letland",),
    "EE": ("Estland",),
    "IE": ("Irland",),
    "GR": ("Hellas", "Grækenland"),
    "TR": ("Tyrkia", "Tyrkiet"),
    "RU": ("Russland", "Rusland"),
    "UA": ("Ukraina",),
    "BY": ("Hviterussland", "Hviderusland"),
    "CZ": ("Tsjekkia", "Tjekkiet", "Den tsjekkiske republikk"),
    "SK": ("Slovakiet",),
    "HU": ("Ungarn",),
    "RO": ("Rumænien",),
    "BG": ("Bulgarien",),
    "HR": ("Kroatia", "Kroatien"),
    "RS": ("Serbien",),
    "SI": ("Slovenien",),
    "BA": ("Bosnia-Hercegovina", "Bosnien-Hercegovina", "Bosnia"),
    "MK": ("Nord-Makedonia", "Nordmakedonien"),
    "AL": ("Albanien",),
    "CY": ("Kypros", "Cypern"),
    "IN": ("Indien",),
    "CN": ("Kina",),
    "KR": ("Sør-Korea", "Sydkorea", "Korea"),
    "KP": ("Nord-Korea", "Nordkorea"),
    "PH": ("Filippinene", "Filippinerne"),
    "ID": ("Indonesien",),
    "IQ": ("Irak",),
    "SY": ("Syrien",),
    "LB": ("Libanon",),
    "PS": ("Palestina",),
    "SA": ("Saudi-Arabia", "Saudi-Arabien"),
    "AE": ("De forente arabiske emirater", "De Forenede Arabiske Emirater", "Emiratene"),
    "EG": ("Egypten",),
    "MA": ("Marokko",),
    "TN": ("Tunisia", "Tunesien"),
    "DZ": ("Algerie", "Algeriet"),
    "LY": ("Libyen",),
    "ET": ("Etiopia", "Etiopien"),
    "ZA": ("Sør-Afrika", "Sydafrika"),
    "MX": ("Mexiko",),
    "BR": ("Brasil", "Brasilien"),
    "AU": ("Australien",),
    "CI": ("Elfenbenskysten", "Cote d'Ivoire"),
    "TL": ("Øst-Timor", "Østtimor"),
    "CV": ("Kapp Verde", "Kap Verde"),
    "CD": ("Kongo-Kinshasa", "Congo-Kinshasa", "DRC"),
    "CG": ("Congo", "Kongo", "Kongo-Brazzaville", "Congo-Brazzaville"),
    "GE": ("Georgien",),
    "AM": ("Armenien",),
    "AZ": ("Aserbajdsjan", "Aserbajdsjan"),
    "KZ": ("Kasakhstan", "Kasakhstan"),
    "MN": ("Mongolia", "Mongoliet"),
}  # fmt: skip

_FOLD = str.maketrans({"ø": "o", "æ": "ae", "å": "a", "ß": "ss", "œ": "oe", "ð": "d", "þ": "th"})
_CALLING_CODE = re.compile(r"\(?\s*(?:\+|00)?\s*([1-9][0-9]{0,2})\s*\)?")
_LABEL_TAIL = re.compile(r"\s*\(\+[0-9]+\).*$")


@dataclass(frozen=True, slots=True)
class CountryChoice:
    """One country in a picker: its region code (`NO`) and the label people search by."""

    region: str
    label: str

    def __str__(self) -> str:
        return self.label


@cache
def _locale_data() -> dict[str, dict[str, str]]:
    """phonenumbers' table of country names per language, read on its own.

    `phonenumbers.geocoder` would give the same names, but importing it loads every area-code
    description first (about 0.7 s and much memory); this file alone loads in about 15 ms.
    """
    path = Path(phonenumbers.__file__).parent / "geodata" / "locale.py"
    spec = importlib.util.spec_from_file_location("phonenumbers.geodata.locale", path)
    if spec is None or spec.loader is None:  # a phonenumbers without the file: codes only
        return {}
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "phonenumbers.geodata"  # its one import is `from ..util import u`
    try:
        spec.loader.exec_module(module)
    except (OSError, ImportError):
        return {}
    return module.LOCALE_DATA


def _region_display_name(region: str, language: str) -> str:
    """The region's name in a language, as phonenumbers' geocoder gives it ("" when none)."""
    names = _locale_data().get(region, {})
    name = names.get(language, "")
    if name.startswith("*"):  # "*aa": the same name as in that other entry
        name = names.get(name[1:], "")
    return name


def _fold(text: str) -> str:
    """Lowercase ASCII letters and digits only: 'Sør-Afrika' → 'sorafrika'."""
    text = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    return "".join(c for c in text if c.isascii() and c.isalnum())


def _tidy(name: str) -> str:
    # phonenumbers capitalises some small words: "Saint Kitts And Nevis", "Isle Of Man".
    return re.sub(r"(?<=\s)(And|Of|The|Da)(?=\s)", lambda m: m[0].lower(), name)


@cache
def _calling_codes() -> dict[str, int]:
    """Region → calling code, without loading each region's metadata (245 modules)."""
    return {
        region: code
        for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()
        for region in regions
        if region in phonenumbers.SUPPORTED_REGIONS
    }


@cache
def english_name(region: str) -> str:
    """The country's English name, or the region code itself when none is known."""
    region = region.upper()
    return _ENGLISH.get(region) or _tidy(_region_display_name(region, "en")) or region


def short_label(region: str) -> str:
    """'Norway (+47)' ('Norge (+47)' in Norwegian): the name and calling code, for messages;
    an unknown code as it is."""
    from seen_core import i18n

    return _short_label(region, i18n.language())


@cache
def _short_label(region: str, language: str) -> str:
    region = region.strip().upper()
    code = _calling_codes().get(region)
    if code is None:
        return region
    from seen_core import i18n

    name = english_name(region)
    if language == "nb":  # the country named in the user's language
        name = i18n.locale().territories.get(region, name)
    return f"{name} (+{code})"


def label_for(region: str) -> str:
    """'Norway (+47)', 'United Kingdom (+44) · UK, Great Britain, England': the short label and
    the other names people search by; an unknown code comes back as it is. In Norwegian the
    country's Norwegian name comes first, its English one among the others."""
    from seen_core import i18n

    return _label_for(region, i18n.language())


@cache
def _label_for(region: str, language: str) -> str:
    region = region.strip().upper()
    aliases = list(_SHOWN_ALIASES.get(region, ()))
    label = _short_label(region, language)
    if language == "nb" and not label.startswith(english_name(region)):
        aliases.insert(0, english_name(region))
    tail = f" · {', '.join(aliases)}" if aliases else ""
    return label + tail


@cache
def _choices(language: str) -> tuple[CountryChoice, ...]:
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    labels = {r: _label_for(r, language) for r in regions}
    others = sorted((r for r in regions if r not in NORDIC), key=lambda r: _fold(labels[r]))
    return tuple(CountryChoice(r, labels[r]) for r in (*NORDIC, *others))


def country_choices() -> list[CountryChoice]:
    """Every region phonenumbers supports: the Nordic countries first, then A to Z by name (in
    the user's language)."""
    from seen_core import i18n

    return list(_choices(i18n.language()))


@cache
def _names() -> dict[str, str]:
    """Folded name or code → region. Earlier sources win where two disagree (English first)."""
    index: dict[str, str] = {}
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)

    def add(name: str, region: str) -> None:
        key = _fold(name)
        if key:
            index.setdefault(key, region)

    for region in regions:
        add(english_name(region), region)
        add(_region_display_name(region, "en"), region)
    for source in (_SHOWN_ALIASES, _OTHER_NAMES):
        for region, names in source.items():
            for name in names:
                add(name, region)
    for language in ("sv", "nb", "da"):
        for region in regions:
            add(_region_display_name(region, language), region)
    index["uk"] = "GB"  # not an ISO code, but what everyone writes
    return index


@cache
def region_from_text(text: str) -> str | None:
    """The region a country cell means: 'Norge', 'Norway', 'NO', '+47', '47', 'Sverige', 'UK',
    'Storbritannia', or a label from `country_choices`. None when it means nothing we know."""
    text = text.strip()
    if not text:
        return None
    calling = _CALLING_CODE.fullmatch(text)
    if calling:
        region = phonenumbers.region_code_for_country_code(int(calling[1]))
        return region if region in phonenumbers.SUPPORTED_REGIONS else None
    if len(text) == 2 and text.isascii() and text.isalpha():  # an ISO code, but not "N/A"
        region = text.upper()
        if region in phonenumbers.SUPPORTED_REGIONS:
            return region
    names = _names()
    found = names.get(_fold(text))
    if found is None:
        found = names.get(_fold(_LABEL_TAIL.sub("", text)))
    return found
