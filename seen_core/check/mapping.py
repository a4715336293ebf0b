"""Which column feeds which SEEN field: field model, suggestions, extra_args keys, mapping files."""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from collections.abc import Mapping as Mapping_
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from seen_core.errors import InputError
from seen_core.i18n import N_, _
from seen_core.problems import Problem

KEY_PATTERN = re.compile(r"[A-Za-z0-9_]+")
FUZZY_CUTOFF = 0.82  # close enough for "Telefonnr" ~ "telefonnummer", far from unrelated words


class MappingError(InputError):
    """A mapping file or mapping cannot be used; the message is one sentence for the user."""


@dataclass(frozen=True)
class Field:
    """A SEEN receiver field and the headers that usually mean it."""

    name: str
    label: str
    required: bool
    synonyms: tuple[str, ...]
    help: str


FIELDS: tuple[Field, ...] = (
    Field(
        "first_name",
        N_("First name"),
        True,
        (
            "first name",
            "firstname",
            "given name",
            "forename",
            "fname",
            "fornavn",
            "förnamn",
            "fornamn",
            "tilltalsnamn",
            "tiltalsnavn",
        ),
        N_("Required. The name the film greets."),
    ),
    Field(
        "last_name",
        N_("Last name"),
        False,
        (
            "last name",
            "lastname",
            "surname",
            "family name",
            "lname",
            "etternavn",
            "efternavn",
            "efternamn",
            "slektsnavn",
        ),
        N_("Optional."),
    ),
    Field(
        "email",
        N_("E-mail"),
        False,
        (
            "email",
            "e-mail",
            "email address",
            "e-mail address",
            "mail",
            "e-post",
            "epost",
            "e-postadresse",
            "epostadresse",
            "e-postadress",
            "mailadresse",
            "mailadress",
            "e-mailadresse",
            "emailadresse",
        ),
        N_("Where SEEN sends the film by e-mail."),
    ),
    Field(
        "phone",
        N_("Phone"),
        False,
        (
            "phone",
            "phone number",
            "mobile",
            "mobile phone",
            "mobile number",
            "cell",
            "cellphone",
            "telephone",
            "tel",
            "mobil",
            "mobilnummer",
            "mobilnr",
            "mobiltelefon",
            "telefon",
            "telefonnummer",
            "telefonnr",
            "tlf",
            "tlfnr",
            "tlf nr",
            "mobilnummer",
            "mobiltlf",
        ),
        N_("Where SEEN sends the film by text message; sent in E.164 (+4712345678)."),
    ),
    Field(
        "customer_id",
        N_("Customer ID"),
        False,
        (
            "customer id",
            "customerid",
            "customer number",
            "customer no",
            "client id",
            "crm id",
            "external id",
            "member id",
            "member number",
            "id",
            "kundenr",
            "kundenummer",
            "kunde-id",
            "kundeid",
            "kunde nr",
            "kund-id",
            "kundid",
            "kundnummer",
            "kundnr",
            "medlemsnummer",
            "medlemsnr",
            "medlems-id",
        ),
        N_("Your own ID for the person: makes a retry safe and matches SEEN's callbacks."),
    ),
)
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
FIELDS_BY_NAME = {f.name: f for f in FIELDS}

_TRANSLITERATE = str.maketrans(
    {
        "ø": "o",
        "Ø": "O",
        "æ": "ae",
        "Æ": "Ae",
        "å": "a",
        "Å": "A",
        "ö": "o",
        "Ö": "O",
        "ä": "a",
        "Ä": "A",
        "ü": "u",
        "Ü": "U",
        "ß": "ss",
        "œ": "oe",
        "Œ": "Oe",
    }
)


def _fold(text: str) -> str:
    """Lowercase ASCII letters and digits only: 'E-post ' → 'epost', 'Kjønn' → 'kjonn'."""
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE).casefold())
    return "".join(c for c in text if c.isascii() and c.isalnum())


_FIELDS_BY_FOLD = {_fold(f.name): f.name for f in FIELDS}
_SYNONYMS: dict[str, str] = {
    _fold(s): f.name for f in FIELDS for s in (f.name, f.label, *f.synonyms)
}


@lru_cache(maxsize=4096)
def known_header(header: str) -> str | None:
    """The SEEN field a header names exactly (ignoring case, spaces and punctuation), if any."""
    return _SYNONYMS.get(_fold(header)) if header.strip() else None


def _closeness(header: str, field_name: str) -> float:
    folded = _fold(header)
    if not folded:
        return 0.0
    best = 0.0
    for synonym, name in _SYNONYMS.items():
        if name == field_name and len(synonym) > 2:  # "id" and "tel" only match exactly
            best = max(best, difflib.SequenceMatcher(None, folded, synonym).ratio())
    return best


def extra_key(header: str) -> str:
    """A legal `extra_args` key for a header: 'Kjønn' → 'kjonn', 'Antall mil' → 'antall_mil'."""
    text = unicodedata.normalize("NFKD", header.translate(_TRANSLITERATE).lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    key = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    return key or "column"


@dataclass(frozen=True)
class Mapping:
    """SEEN field → column header, and `extra_args` key → column header."""

    fields: dict[str, str] = field(default_factory=dict)
    extra_args: dict[str, str] = field(default_factory=dict)

    def column(self, field_name: str) -> str | None:
        return self.fields.get(field_name)

    def to_dict(self) -> dict[str, object]:
        """The mapping-file form: every SEEN field (None when unmapped) plus `extra_args`."""
        data: dict[str, object] = {name: self.fields.get(name) for name in FIELD_NAMES}
        data["extra_args"] = dict(self.extra_args)
        return data

    @classmethod
    def from_dict(cls, data: object) -> Mapping:
        if not isinstance(data, dict):
            raise MappingError("A mapping must be a JSON object of SEEN fields and column names.")
        unknown = sorted(set(data) - {*FIELD_NAMES, "extra_args"})
        if unknown:
            raise MappingError(
                f"The mapping names {', '.join(map(repr, unknown))}, which "
                f"{'is not a SEEN field' if len(unknown) == 1 else 'are not SEEN fields'}; "
                f"use {', '.join(FIELD_NAMES)} and extra_args."
            )
        fields: dict[str, str] = {}
        for name in FIELD_NAMES:
            column = data.get(name)
            if column in (None, ""):
                continue
            if not isinstance(column, str):
                raise MappingError(f"In the mapping, {name} must name a column, or be null.")
            fields[name] = column
        extra = data.get("extra_args")
        if extra is None:  # an empty list or text is a mistake to report, not "no extra_args"
            extra = {}
        if not isinstance(extra, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in extra.items()
        ):
            raise MappingError("In the mapping, extra_args must map keys to column names.")
        return cls(fields, dict(extra))

    def mapped_columns(self) -> list[str]:
        return [*self.fields.values(), *self.extra_args.values()]


def field_named(header: str) -> str | None:
    """The SEEN field a header is the very name of, in any case, spacing or punctuation
    ('customer_id', 'Customer ID', 'EMAIL'), if any."""
    return _FIELDS_BY_FOLD.get(_fold(header))


def suggest(columns: Sequence[str]) -> Mapping:
    """Map headers to SEEN fields: a header that is a field's very name first (`customer_id`
    wins over a column `id`), then by synonym, then by closeness; every other column to
    extra_args.

    Each column is used at most once; a contested field goes to the closer header.
    """
    fields: dict[str, str] = {}
    used: set[str] = set()
    for by in (field_named, known_header):
        for column in columns:
            name = by(column)
            if name and name not in fields and column not in used:
                fields[name] = column
                used.add(column)
    candidates = sorted(
        (
            (_closeness(column, f.name), i, f.name, column)
            for f in FIELDS
            if f.name not in fields
            for i, column in enumerate(columns)
            if column not in used
        ),
        key=lambda c: (-c[0], c[1]),
    )
    for score, _order, name, column in candidates:
        if score < FUZZY_CUTOFF:
            break
        if name not in fields and column not in used:
            fields[name] = column
            used.add(column)
    extra: dict[str, str] = {}
    for column in columns:
        if column not in used:
            key = base = extra_key(column)
            n = 1
            while key in extra or key in FIELD_NAMES:
                n += 1
                key = f"{base}_{n}"
            extra[key] = column
    ordered = {name: fields[name] for name in FIELD_NAMES if name in fields}
    return Mapping(ordered, extra)


def _field_words(target: str) -> str:
    """A SEEN field by its label ("First name"), an extra field by its name in quotes."""
    field = FIELDS_BY_NAME.get(target)
    return _(field.label) if field is not None else f"'{target}'"


def mapping_problems(mapping: Mapping, columns: Iterable[str]) -> list[Problem]:
    """What makes a mapping unusable for these columns (each a sheet-level Problem)."""
    columns = list(columns)
    problems: list[Problem] = []
    if "first_name" not in mapping.fields:
        problems.append(
            Problem(
                None,
                None,
                "first_name",
                "first_name_unmapped",
                "error",
                _("No column is mapped to First name, which SEEN requires."),
            )
        )
    seen: dict[str, str] = {}
    for target, column in [*mapping.fields.items(), *mapping.extra_args.items()]:
        if column not in columns:
            problems.append(
                Problem(
                    None,
                    column,
                    target,
                    "column_not_found",
                    "error",
                    _("The mapping names the column '{column}', which is not in the sheet.").format(
                        column=column
                    ),
                )
            )
        elif column in seen:
            problems.append(
                Problem(
                    None,
                    column,
                    target,
                    "column_mapped_twice",
                    "error",
                    _("The column '{column}' is mapped to both {first} and {second}.").format(
                        column=column, first=_field_words(seen[column]), second=_field_words(target)
                    ),
                )
            )
        else:
            seen[column] = target
    taken: dict[str, str] = {}
    for key, column in mapping.extra_args.items():
        why = key_problem(key, taken)
        if why:
            problems.append(Problem(None, column, key, "extra_key_invalid", "error", why))
        taken.setdefault(key.casefold(), column)
    return problems


def key_problem(key: str, taken: dict[str, str] | None = None) -> str | None:
    """Why `key` cannot be an extra_args key, in one sentence, or None when it can.

    `taken` maps the keys already used (casefolded) to their columns.
    """
    if not key:
        return _("The extra field name is empty.")
    if not KEY_PATTERN.fullmatch(key):
        return _(
            "The extra field name '{key}' may only hold the letters A to Z (no æ, ø or å), "
            "digits and _, without spaces; try '{better}'."
        ).format(key=key, better=extra_key(key))
    if key in FIELD_NAMES:
        return _(
            "'{key}' is the name of one of SEEN's own fields; pick another extra field name."
        ).format(key=key)
    if taken and key.casefold() in taken:
        return _("The extra field name '{key}' is already used for the column '{column}'.").format(
            key=key, column=taken[key.casefold()]
        )
    return None


def load_mapping(path: str | Path) -> Mapping:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"There is no mapping file '{path}'.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise MappingError(f"The mapping file '{path}' could not be read: {error}.") from None
    except json.JSONDecodeError as error:
        raise MappingError(
            f"The mapping file '{path}' is not valid JSON (line {error.lineno}: {error.msg})."
        ) from None
    return Mapping.from_dict(data)


def mapping_json(mapping: Mapping) -> str:
    return json.dumps(mapping.to_dict(), ensure_ascii=False, indent=2) + "\n"


# --- the Map step: the other columns, as personal fields for the film ---------------------------


@dataclass(frozen=True)
class ExtraChoice:
    """A column that is not a SEEN field: whether it is sent as a personal field, under what key."""

    column: str
    include: bool
    key: str


def extra_choices(
    columns: Iterable[str], fields: dict[str, str | None], start: Mapping
) -> list[ExtraChoice]:
    """The personal-field rows for every column not chosen for a SEEN field, in sheet order.

    A column the starting mapping sends is included under its key; any other one (say, a
    column just taken off a SEEN field) starts left out, under a suggested key.
    """
    used = {c for c in fields.values() if c}
    by_column = {column: key for key, column in start.extra_args.items()}
    return [
        ExtraChoice(column, column in by_column, by_column.get(column) or extra_key(column))
        for column in columns
        if column not in used
    ]


def key_errors(choices: Iterable[ExtraChoice]) -> dict[str, str]:
    """Column → why its key is refused (only for included columns)."""
    errors: dict[str, str] = {}
    taken: dict[str, str] = {}
    for choice in choices:
        if not choice.include:
            continue
        key = choice.key.strip()
        why = key_problem(key, taken)
        if why:
            errors[choice.column] = why
        else:
            taken[key.casefold()] = choice.column
    return errors


def build_mapping(fields: dict[str, str | None], choices: Iterable[ExtraChoice]) -> Mapping:
    """The mapping the user chose: SEEN field → column, and included key → column."""
    return Mapping(
        {name: fields[name] for name in FIELD_NAMES if fields.get(name)},
        {c.key.strip(): c.column for c in choices if c.include},
    )


def why_not_ready(
    kind: str,
    named: str,
    target_problem: str | None,
    refused_keys: Mapping_[str, str],
    problems: Iterable[Problem],
) -> str:
    """Why the Map page cannot move on yet, in one sentence beside its Next button: the target
    not named (`kind` "campaign", "workspace" or "project"; `named` what is typed), its name
    not usable, an extra field name refused (`key_errors`), or a mapping problem."""
    if not named.strip():
        return _(_NAME_IT.get(kind, _NAME_IT["campaign"]))
    if target_problem:
        return _(_USABLE_NAME.get(kind, _USABLE_NAME["campaign"])).format(why=target_problem)
    for column, message in refused_keys.items():
        return _("Next needs another extra field name for column '{column}': {why}").format(
            column=column, why=message
        )
    for problem in problems:
        return _("Next needs the mapping fixed: {why}").format(why=problem.message)
    return ""


# Whole sentences per kind of target: the word's gender and article differ between languages.
_NAME_IT = {
    "campaign": N_("Next needs the campaign the people go to: type its name above."),
    "workspace": N_("Next needs the workspace the people go to: type its name above."),
    "project": N_("Next needs the project the people go to: type its name above."),
}
_USABLE_NAME = {
    "campaign": N_("Next needs a campaign name SEEN can use: {why}"),
    "workspace": N_("Next needs a workspace name SEEN can use: {why}"),
    "project": N_("Next needs a project name SEEN can use: {why}"),
}
