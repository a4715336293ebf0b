"""The validation rules: rows and a mapping in, Problems with stable codes and row numbers out."""

from __future__ import annotations

import operator
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from itertools import accumulate
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from seen_core.check.contact import PhonesChecked, emails_not_valid, phones_checked
from seen_core.check.mapping import Mapping, mapping_problems
from seen_core.check.suggestions import domain_fix, email_domain_fix, name_case_fix
from seen_core.i18n import N_, _
from seen_core.interpreter import gc_paused
from seen_core.problems import Problem
from seen_core.read.text_table import Rows, text_of
from seen_core.wording import phone_messages

if TYPE_CHECKING:
    import pandas as pd

    from seen_core.check.phone_process import PhoneProcess

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
IMAGE_TYPES = ("image/jpg", "image/jpeg", "image/png")
IMAGE_MAX_BYTES = 2 * 1024 * 1024
_IMAGE_WORDS = (
    "image",
    "img",
    "bilde",
    "bild",
    "picture",
    "photo",
    "foto",
    "logo",
    "avatar",
    "thumbnail",
    "portrait",
)

_LOOKS_LIKE_IMAGE = re.compile(r"\.(jpe?g|png|gif|webp|bmp|tiff?|svg|heic)$", re.IGNORECASE)


@dataclass(frozen=True)
class CheckOptions:
    region: str = "NO"  # numbers without a country code are read in this region
    delivery: bool = True  # SEEN delivers the films, so each receiver needs a phone or e-mail
    check_images: bool = False  # fetch image URLs (no redirect, no auth, type, size)
    image_timeout: float = 10.0  # for each URL, everything included
    image_allow_loopback: bool = False  # only for tests, whose image servers are on 127.0.0.1
    # SEEN API 2.0: the customer ID is sent as the person's required `id`, so it must be mapped
    # and filled on every row, and no property may be called `id`.
    id_required: bool = False


# --- single values, each parsed once per distinct value ----------------------------------------


def is_image_value(key: str, value: str) -> bool:
    """Whether an extra_args value is an image URL that SEEN's image rules apply to."""
    if not value.lower().startswith(("http://", "https://")):
        return False
    path = urlsplit(value).path
    return bool(_LOOKS_LIKE_IMAGE.search(path)) or any(w in key.lower() for w in _IMAGE_WORDS)


def image_extension_problem(value: str) -> str | None:
    path = urlsplit(value).path
    if path.endswith(IMAGE_EXTENSIONS):
        return None
    return _("An image URL must end in .jpg, .jpeg or .png, in lowercase.")


def check_image_online(
    url: str, timeout: float = 10.0, *, allow_loopback: bool = False
) -> tuple[str, str] | None:
    """Fetch an image URL as SEEN would: (code, message) for the first rule it breaks, else None.

    Never from this server, a private network, link-local or cloud-metadata addresses (see
    `image_fetch`), without the environment's proxy, within `timeout` seconds in all.
    """
    from seen_core.check.image_fetch import ImageNotFetched, fetch_image

    try:
        answer = fetch_image(
            url,
            seconds=timeout,
            max_bytes=IMAGE_MAX_BYTES,
            types=IMAGE_TYPES,
            allow_loopback=allow_loopback,
        )
    except ImageNotFetched as why:
        return "image_url_unreachable", str(why)
    if 300 <= answer.status < 400:
        return "image_url_redirect", _("The image URL redirects; SEEN needs a direct link.")
    if answer.status in (401, 403):
        return "image_url_auth", _("The image URL needs a login; SEEN needs a public link.")
    if answer.status >= 400 or answer.status < 200:
        return "image_url_unreachable", _("The image URL answered {status}.").format(
            status=answer.status
        )
    if answer.content_type not in IMAGE_TYPES:
        return (
            "image_url_type",
            _("The image URL serves '{type}', not JPEG or PNG.").format(
                type=answer.content_type or _("no type")
            ),
        )
    if (answer.length or 0) > IMAGE_MAX_BYTES or (answer.size or 0) > IMAGE_MAX_BYTES:
        return "image_url_too_large", _("The image is larger than 2 MB.")
    return None


# --- the result ---------------------------------------------------------------------------------


@dataclass
class CheckResult:
    """Every problem of a sheet, kept per row so one edited row can be re-checked alone."""

    rows: list[int]
    sheet_problems: list[Problem]
    row_rules: dict[int, list[Problem]]  # rows with problems from the per-row rules
    duplicates: dict[int, Problem] = field(default_factory=dict)  # customer_id repeats
    # The customer IDs as the duplicate rule read them, in `rows` order: a re-check that
    # changes none of them keeps `duplicates` instead of reading every row again.
    customer_ids: list[str] | None = field(default=None, repr=False, compare=False)
    # The phone numbers in E.164 form as the rules found them, in `rows` order ("" where a
    # value has none): the values as sent are not worked out again (`receivers.values_sent`).
    # A re-check leaves them out.
    phone_e164: list[str] | None = field(default=None, repr=False, compare=False)

    # The properties below are read after every edit of a 100k-row sheet: comprehensions over
    # the rows with problems, no per-row generators or copies.
    @cached_property
    def by_row(self) -> dict[int, list[Problem]]:
        merged = dict(self.row_rules)
        for row, problem in self.duplicates.items():
            merged[row] = [*merged.get(row, ()), problem]
        return merged

    @cached_property
    def problems(self) -> list[Problem]:
        by_row = self.by_row
        return [*self.sheet_problems, *[p for row in sorted(by_row) for p in by_row[row]]]

    @cached_property
    def rows_by_code(self) -> dict[str, int]:
        """How many rows have each problem code (a row with a code twice counts once)."""
        single = Counter(found[0].code for found in self.by_row.values() if len(found) == 1)
        for found in self.by_row.values():
            if len(found) > 1:
                single.update({p.code for p in found})
        return dict(single)

    @cached_property
    def blocked(self) -> bool:
        """A sheet-level error (mapping) makes every row unsendable."""
        return any(p.severity == "error" for p in self.sheet_problems)

    @cached_property
    def invalid_rows(self) -> set[int]:
        if self.blocked:
            return set(self.rows)
        return {row for row, found in self.by_row.items() for p in found if p.severity == "error"}

    @property
    def valid_rows(self) -> list[int]:
        invalid = self.invalid_rows
        return [r for r in self.rows if r not in invalid]

    @property
    def counts(self) -> dict[str, int]:
        warnings = len([p for p in self.problems if p.severity == "warning"])
        invalid = len(self.invalid_rows)
        return {
            "rows": len(self.rows),
            "valid": len(self.rows) - invalid,
            "invalid": invalid,
            "warnings": warnings,
        }

    def messages(self, row: int) -> str:
        return "; ".join(p.message for p in self.by_row.get(row, ()))


# --- the rules ----------------------------------------------------------------------------------


def _column(table: Rows, column: str | None, rows: Sequence[int] | None) -> list[str]:
    if column is None:
        return [""] * (len(table) if rows is None else len(rows))
    return table.column(column, rows)


class _Columns:
    """The columns one check reads, each taken out of the table once (several rules read the
    same column), with its text joined once for the whole-column searches."""

    def __init__(self, table: Rows, rows: Sequence[int] | None) -> None:
        self.table, self.rows = table, rows
        self._values: dict[str | None, list[str]] = {}
        self._text: dict[str, str] = {}

    def values(self, column: str | None) -> list[str]:
        if column not in self._values:
            self._values[column] = _column(self.table, column, self.rows)
        return self._values[column]

    def text(self, column: str) -> str:
        """The column's values joined by line breaks (no rule's pattern spans one)."""
        if column not in self._text:
            self._text[column] = "\n".join(self.values(column))
        return self._text[column]


def _phones_begun(
    columns: _Columns,
    mapping: Mapping,
    options: CheckOptions,
    phone_process: PhoneProcess | None = None,
) -> Callable[[], PhonesChecked]:
    """The phone column's check begun: in the second process, when there is one (the function
    returned waits for its answer), else here when the function is called."""
    column = mapping.fields.get("phone")
    if not column:
        return partial(PhonesChecked, [], [], [])
    if phone_process is not None:
        return phone_process.checked(columns.values(column), options.region)
    return partial(phones_checked, columns.values(column), options.region)


def _row_rules(
    table: Rows,
    mapping: Mapping,
    options: CheckOptions,
    rows: Sequence[int] | None = None,
    begun: tuple[_Columns, Callable[[], PhonesChecked]] | None = None,
) -> tuple[dict[int, list[Problem]], list[str] | None]:
    """Row → the problems the per-row rules find in it (the rows with any), and the phone
    numbers' E.164 forms in `rows` order ("" where a value has none; None: no phone column).
    `begun`: the columns and the phone column's check, begun already (`_phones_begun`)."""
    numbers = table.rows if rows is None else list(rows)
    col = mapping.fields.get
    # Each rule over its whole column first (the plain e-mails by one pattern, see contact.py), then
    # the problems made for the rows that have any, in the order a row lists them. The phone
    # numbers first: in a second process, when there is one, they are checked meanwhile.
    if begun is None:
        columns = _Columns(table, rows)
        phones_found = _phones_begun(columns, mapping, options)
    else:
        columns, phones_found = begun
    first, emails, phones = (columns.values(col(f)) for f in ("first_name", "email", "phone"))
    region = options.region
    contact_severity = "error" if options.delivery else "warning"
    missing = [i for i, name in enumerate(first) if not name or name.isspace()]
    bad_emails = emails_not_valid(emails) if col("email") else []
    no_contact = [
        i
        for i in [i for i, email in enumerate(emails) if not email or email.isspace()]
        if not phones[i] or phones[i].isspace()
    ]
    # The rules a row lists after those, also while the phone numbers may be checked elsewhere.
    later: dict[int, list[Problem]] = {}
    id_column = col("customer_id")
    if options.id_required and id_column:
        for row, value in zip(numbers, columns.values(id_column), strict=True):
            if not value.strip():
                later.setdefault(row, []).append(
                    Problem(row, id_column, "customer_id", "customer_id_missing", "error",
                            _("The customer ID is empty; SEEN API 2.0 needs it as the "
                              "person's id."))
                )  # fmt: skip
    _image_rules(columns, mapping, options, numbers, later)
    _text_rules(columns, mapping, numbers, later)
    # The suggestions a row lists last, by position.
    last: dict[int, list[Problem]] = {}
    if col("email"):
        _email_typos(emails, bad_emails, numbers, col("email"), last)
    for name in ("first_name", "last_name"):
        if col(name):
            _name_case(columns.values(col(name)), numbers, col(name), name, last)
    phones_found_now = phones_found()
    bad_phones = phones_found_now.not_valid
    by_position: dict[int, list[Problem]] = {}
    for i in missing:
        by_position[i] = [
            Problem(numbers[i], col("first_name"), "first_name", "first_name_missing", "error",
                    _("First name is empty."))
        ]  # fmt: skip
    for i in bad_emails:
        by_position.setdefault(i, []).append(
            Problem(numbers[i], col("email"), "email", "email_invalid", "error",
                    _("'{value}' is not a valid e-mail address.").format(value=emails[i].strip()))
        )  # fmt: skip
    phone_column = col("phone")
    messages = phone_messages([phones[i] for i in bad_phones], region)
    for i, message, fixed in zip(bad_phones, messages, phones_found_now.fixes, strict=True):
        if fixed:
            message = _("{message} Suggested: {fixed} (the country code once).").format(
                message=message, fixed=fixed
            )
        by_position.setdefault(i, []).append(
            Problem(numbers[i], phone_column, "phone", "phone_invalid", "error", message,
                    fixed or None)
        )  # fmt: skip
    for i in no_contact:
        by_position.setdefault(i, []).append(
            Problem(numbers[i], None, None, "no_contact", contact_severity,
                    _("Neither phone nor e-mail: SEEN cannot deliver the film."))
        )  # fmt: skip
    for i, found in last.items():
        by_position.setdefault(i, []).extend(found)
    found = {numbers[i]: by_position[i] for i in sorted(by_position)}
    for row, problems in later.items():
        found.setdefault(row, []).extend(problems)
    return found, phones_found_now.e164 if col("phone") else None


def _email_typos(
    emails: list[str],
    bad: list[int],
    numbers: list[int],
    column: str,
    by_position: dict[int, list[Problem]],
) -> None:
    """email_domain_typo: a valid address at a domain one or two letters from a common one.
    Each distinct domain is judged once (a sheet has few)."""
    domains = [email.rpartition("@")[2] for email in emails]
    slips = {d for d in set(domains) if d and domain_fix(d.strip().lower()) is not None}
    if not slips:
        return
    skip = set(bad)
    for i, domain in enumerate(domains):
        if domain not in slips or i in skip:
            continue
        email = emails[i]
        fixed = email_domain_fix(email)
        if fixed is None:
            continue
        domain = fixed.rpartition("@")[2]
        by_position.setdefault(i, []).append(
            Problem(numbers[i], column, "email", "email_domain_typo", "warning",
                    _("'{value}' may be a slip for {domain}. Suggested: {fixed}.").format(
                        value=email.strip(), domain=domain, fixed=fixed),
                    fixed)
        )  # fmt: skip


def _name_case(
    names: list[str],
    numbers: list[int],
    column: str,
    field: str,
    by_position: dict[int, list[Problem]],
) -> None:
    """name_case: a first or last name in ALL CAPS or all lower case."""
    for i, name in enumerate(names):
        if not name or not (name.isupper() or name.islower()):
            continue
        fixed = name_case_fix(name)
        if fixed is None:
            continue
        said = (
            _("'{value}' is written in capitals: the film would greet {value}. Suggested: {fixed}.")
            if name.isupper()
            else _(
                "'{value}' is written in small letters: the film would greet {value}. "
                "Suggested: {fixed}."
            )
        )
        by_position.setdefault(i, []).append(
            Problem(numbers[i], column, field, "name_case", "warning",
                    said.format(value=name.strip(), fixed=fixed), fixed)
        )  # fmt: skip


_HTTP = re.compile("http", re.IGNORECASE)


def _image_rules(
    columns: _Columns,
    mapping: Mapping,
    options: CheckOptions,
    numbers: list[int],
    found: dict[int, list[Problem]],
) -> None:
    to_fetch: dict[str, list[tuple[int, str, str]]] = {}
    for key, column in mapping.extra_args.items():
        if not _HTTP.search(columns.text(column)):  # most columns hold no URL at all
            continue
        values = columns.values(column)
        for row, value in zip(numbers, values, strict=True):
            if "http" not in value[:12].lower():
                continue
            value = value.strip()
            if not is_image_value(key, value):
                continue
            message = image_extension_problem(value)
            if message:
                found.setdefault(row, []).append(
                    Problem(row, column, key, "image_url_extension", "error", message)
                )
            elif options.check_images:
                to_fetch.setdefault(value, []).append((row, column, key))
    if not to_fetch:
        return
    from concurrent.futures import ThreadPoolExecutor  # only for online image checks

    with ThreadPoolExecutor(max_workers=8) as pool:
        verdicts = dict(
            zip(
                to_fetch,
                pool.map(
                    lambda url: check_image_online(
                        url, options.image_timeout, allow_loopback=options.image_allow_loopback
                    ),
                    to_fetch,
                ),
                strict=True,
            )
        )
    for url, places in to_fetch.items():
        verdict = verdicts[url]
        if verdict:
            for row, column, key in places:
                found.setdefault(row, []).append(
                    Problem(row, column, key, *verdict[:1], "error", verdict[1])
                )


# C0 and C1 control characters but tab, LF and CR: SEEN's framework refuses NUL ("Null
# characters are not allowed."), and the others are invisible and rarely meant.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_NAMES = {"\x00": N_("a NUL character")}
_CONTROL_NAME = N_("an invisible control character")


def control_character_problem(value: str) -> str | None:
    """How a value to be sent breaks the text rule, in words, or None when it does not."""
    found = _CONTROL.search(value)
    if found is None:
        return None
    char = found.group()
    name = _(_CONTROL_NAMES.get(char, _CONTROL_NAME))
    return _("holds {name} (U+{code}), which SEEN refuses").format(
        name=name, code=f"{ord(char):04X}"
    )


# --- text garbled by a wrong encoding (mojibake) ---

# UTF-8 read as Windows-1252 (or Latin-1): each letter beyond ASCII became a lead character
# (Ã Â â Å Ð …, bytes C2–F4) and one to three continuation characters (bytes 80–BF: ¸ ¦ € ™ …,
# or the C1 control Latin-1 gives for the five bytes Windows-1252 leaves out).
_BYTE_OF: dict[str, int] = {
    **{chr(byte): byte for byte in range(0x80, 0xC0)},  # as Latin-1 reads them
    **{bytes([byte]).decode("cp1252", "ignore") or chr(byte): byte for byte in range(0x80, 0xC0)},
}
_CONTINUATIONS = tuple(_BYTE_OF)
_BYTE_OF.update((chr(lead), lead) for lead in range(0xC2, 0xF5))
_CONTINUATION = "[" + re.escape("".join(_CONTINUATIONS)) + "]"
_GARBLED = re.compile(
    f"[\u00c2-\u00df]{_CONTINUATION}"
    f"|[\u00e0-\u00ef]{_CONTINUATION}{{2}}"
    f"|[\u00f0-\u00f4]{_CONTINUATION}{{3}}"
)
_NOT_TEXT = ("Cc", "Cn", "Co", "Cs")  # controls, unassigned, private use: never what was meant


def _ungarbled(match: re.Match[str]) -> str:
    """A lead and its continuations as the UTF-8 letter they were, or as they are when their
    bytes are not UTF-8 (or not a letter anyone writes)."""
    garbled = match.group()
    try:
        letter = bytes(map(_BYTE_OF.__getitem__, garbled)).decode("utf-8")
    except UnicodeDecodeError:
        return garbled
    return garbled if unicodedata.category(letter) in _NOT_TEXT else letter


# What follows a word now and then, even a word in capitals ending in Å, Ø, É … ("«Ø»",
# "JOSÉ’S", "Å" and a no-break space): after those capitals, such a pair tells of a wrong
# encoding only inside a word ("RÅ«ta" is Rūta, "EglÄ—" Eglė).
_AFTER_WORDS = frozenset("\u00a0«»’“”–—")


def _telling(value: str, match: re.Match[str]) -> bool:
    """Whether a lead and its continuations in `value` tell of a wrong encoding."""
    garbled = match.group()
    if len(garbled) > 2 or garbled[0] in "ÂÃ" or garbled[1] not in _AFTER_WORDS:
        return True
    before = value[match.start() - 1 : match.start()]
    after = "" if garbled[1] == "\u00a0" else value[match.end() : match.end() + 1]
    return before.islower() or after.islower()


def mojibake_repair(value: str) -> str | None:
    """What a value garbled by a wrong encoding probably was ('BjÃ¸rn' → 'Bjørn'), or None when
    it does not read as garbled. Real letters never do: Ø, å, ü or é is followed by a letter,
    a space or nothing, never by a continuation such as ¸ or ™. Garbled twice ('BjÃƒÂ¸rn')
    is undone twice."""
    if not any(
        _telling(value, match) and _ungarbled(match) != match.group()
        for match in _GARBLED.finditer(value)
    ):
        return None
    repaired = value
    for _attempt in range(3):
        again = _GARBLED.sub(_ungarbled, repaired)
        if again == repaired:
            break
        repaired = again
    return None if repaired == value else repaired


def _may_be_garbled(text: str) -> bool:
    """Whether a column's text holds a continuation character at all (a few fast searches; a
    column of real Nordic names holds none)."""
    return not text.isascii() and any(char in text for char in _CONTINUATIONS)


# --- text that looks like a spreadsheet formula ---

# A value that starts with "=", or with "@", "+" or "-" before a function's name and its "("
# (or a DDE command's "|": -cmd|' /C calc'!A0), perhaps after some arithmetic (-2+3+cmd|…).
# A phone number (+4712345678), a negative number (-5), a date or an e-mail address is none of
# these; nor is a handle such as @ola.
_FORMULA = re.compile(r"=.|[@+\-]\s*[\d+\-*/^&.,()]*[A-Za-z_][\w.]*[(|]", re.DOTALL)
# The same at the start of any value of a column's text but its first (`_Columns.text`).
_FORMULA_IN_TEXT = re.compile(r"\n[^\S\n]*(?:=|[@+\-][^\S\n]*[\d+\-*/^&.,()]*[A-Za-z_][\w.]*[(|])")


def looks_like_formula(value: str) -> bool:
    """Whether a value, as it is sent (trimmed), looks like a spreadsheet formula."""
    return _FORMULA.match(value.strip()) is not None


def _may_hold_formulas(text: str) -> bool:
    """Whether a column's text holds a character every formula the rule knows needs."""
    return "=" in text or "(" in text or "|" in text


def _shown(value: str, at: int = 0, most: int = 40) -> str:
    """A value as a message quotes it: trimmed, and when long, the part from a little before
    `at` (where it is wrong)."""
    if len(value) <= most:
        return value.strip()
    start = max(0, min(at, len(value)) - 10)
    end = start + most
    return "…" * (start > 0) + value[start:end].strip() + "…" * (end < len(value))


def _indices_at(values: list[str], positions: Iterable[int]) -> list[int]:
    """Which values hold these positions of the values joined by line breaks, each once."""
    lengths = accumulate(map(len, values), initial=0)
    starts = list(map(operator.add, lengths, range(len(values))))  # + a line break each
    return sorted({bisect_right(starts, at) - 1 for at in positions})


def _text_rules(
    columns: _Columns,
    mapping: Mapping,
    numbers: list[int],
    found: dict[int, list[Problem]],
) -> None:
    """text_invalid, text_mojibake and text_formula: every value to be sent, each column
    searched whole first (nearly always clean), then only the rows it points at."""
    for target, column in [*mapping.fields.items(), *mapping.extra_args.items()]:
        text = columns.text(column)
        if _CONTROL.search(text):  # _CONTROL leaves out line breaks
            values = columns.values(column)
            for row, value in zip(numbers, values, strict=True):
                why = control_character_problem(value)
                if why:
                    found.setdefault(row, []).append(
                        Problem(
                            row,
                            column,
                            target,
                            "text_invalid",
                            "error",
                            _("'{column}' {why}.").format(column=column, why=why),
                        )
                    )
        if _may_be_garbled(text):
            values = columns.values(column)
            for i in _indices_at(values, (m.start() for m in _GARBLED.finditer(text))):
                value = values[i]
                repaired = mojibake_repair(value)
                if repaired is None:
                    continue
                first = _GARBLED.search(value)
                at = first.start() if first else 0
                found.setdefault(numbers[i], []).append(
                    Problem(numbers[i], column, target, "text_mojibake", "error",
                            _("'{value}' looks garbled by a wrong text encoding (probably "
                              "'{repaired}'): fix the file or the cell.").format(
                                value=_shown(value, at), repaired=_shown(repaired, at)),
                            repaired)
                )  # fmt: skip
        if _may_hold_formulas(text):
            values = columns.values(column)
            candidates = _indices_at(values, (m.end() for m in _FORMULA_IN_TEXT.finditer(text)))
            for i in sorted({0, *candidates}) if values else ():
                value = values[i]
                if looks_like_formula(value):
                    found.setdefault(numbers[i], []).append(
                        Problem(numbers[i], column, target, "text_formula", "warning",
                                _("'{value}' looks like a spreadsheet formula: the film "
                                  "would show it as written.").format(value=_shown(value)))
                    )  # fmt: skip


def _customer_id_duplicates(
    table: Rows, mapping: Mapping
) -> tuple[dict[int, Problem], list[str] | None]:
    """The duplicate rule over all rows, and the customer IDs it read (None when unmapped)."""
    column = mapping.fields.get("customer_id")
    if column is None:
        return {}, None
    ids = [value.strip() for value in table.column(column)]
    # Which IDs repeat is found first (a set's work); only the rows holding those are walked.
    seen: set[str] = set()
    repeated = {value for value in ids if value in seen or seen.add(value)}
    repeated.discard("")
    first_row: dict[str, int] = {}
    found: dict[int, Problem] = {}
    if not repeated:
        return found, ids
    for row, value in zip(table.rows, ids, strict=True):
        if value not in repeated:
            continue
        earlier = first_row.setdefault(value, row)
        if earlier != row:
            found[row] = Problem(
                row,
                column,
                "customer_id",
                "customer_id_duplicate",
                "error",
                _("Customer ID '{value}' is already used on row {row}.").format(
                    value=value, row=earlier
                ),
            )
    return found, ids


def _sheet_problems(table: Rows, mapping: Mapping, options: CheckOptions) -> list[Problem]:
    problems = mapping_problems(mapping, table.columns)
    if "customer_id" not in mapping.fields and options.id_required:
        problems.append(
            Problem(None, None, "customer_id", "customer_id_missing", "error",
                    _("No customer ID column is mapped: SEEN API 2.0 needs one as each "
                      "person's id."))
        )  # fmt: skip
    elif "customer_id" not in mapping.fields:
        problems.append(
            Problem(
                None,
                None,
                "customer_id",
                "customer_id_missing",
                "warning",
                _(
                    "No customer ID column is mapped: a retry cannot be made safe, "
                    "and SEEN's callbacks cannot be matched to your rows."
                ),
            )
        )
    if options.id_required and "id" in mapping.extra_args:
        problems.append(
            Problem(None, mapping.extra_args["id"], "id", "extra_key_invalid", "error",
                    _("'id' is SEEN API 2.0's field for the customer ID; pick another key."))
        )  # fmt: skip
    return problems


def check_sheet(
    table: pd.DataFrame | Rows,
    mapping: Mapping,
    options: CheckOptions | None = None,
    *,
    phone_process: PhoneProcess | None = None,
) -> CheckResult:
    """Run every rule on every row of a table of text: a `TextTable` (a sheet as read), or a
    DataFrame whose index is the spreadsheet row numbers (a sheet being edited).
    `phone_process`: a second process for the phone numbers (see `phone_process`)."""
    options = options or CheckOptions()
    with gc_paused():
        return _check_sheet(text_of(table), mapping, options, phone_process)


def _check_sheet(
    table: Rows,
    mapping: Mapping,
    options: CheckOptions,
    phone_process: PhoneProcess | None = None,
) -> CheckResult:
    sheet = _sheet_problems(table, mapping, options)
    if any(p.code in ("column_not_found",) for p in sheet):
        # The rules cannot read a column that is not there; the mapping problem says it all.
        return CheckResult(list(table.rows), sheet, {})
    # The phone numbers go to the second process first: the duplicate rule runs meanwhile.
    columns = _Columns(table, None)
    begun = (columns, _phones_begun(columns, mapping, options, phone_process))
    duplicates, ids = _customer_id_duplicates(table, mapping)
    row_rules, phone_e164 = _row_rules(table, mapping, options, None, begun)
    return CheckResult(list(table.rows), sheet, row_rules, duplicates, ids, phone_e164)


def recheck(
    result: CheckResult,
    table: pd.DataFrame | Rows,
    mapping: Mapping,
    changed_rows: Iterable[int],
    options: CheckOptions | None = None,
) -> CheckResult:
    """Re-run the row rules on the changed rows only, and the duplicate rule on all rows when a
    changed row's customer ID changed."""
    options = options or CheckOptions()
    table = text_of(table)
    changed = list(dict.fromkeys(changed_rows))
    if result.blocked and any(p.code == "column_not_found" for p in result.sheet_problems):
        return check_sheet(table, mapping, options)
    row_rules = dict(result.row_rules)
    for row in changed:
        row_rules.pop(row, None)
    with gc_paused():
        row_rules.update(_row_rules(table, mapping, options, changed)[0])
        duplicates, ids = _duplicates_after(result, table, mapping, changed)
    new = CheckResult(result.rows, result.sheet_problems, row_rules, duplicates, ids)
    if duplicates is result.duplicates and not new.blocked and len(changed) <= 64:
        _carry_over(result, new, changed)
    return new


def _carry_over(old: CheckResult, new: CheckResult, changed: list[int]) -> None:
    """Fill the new result's per-row views from the old one's, redoing the changed rows only:
    after one edited cell of a 100k-row sheet, the rows with problems are not walked again."""
    by_row = dict(old.by_row)
    invalid = set(old.invalid_rows)
    for row in changed:
        found = list(new.row_rules.get(row, ()))
        if row in new.duplicates:
            found.append(new.duplicates[row])
        if found:
            by_row[row] = found
        else:
            by_row.pop(row, None)
        if any(p.severity == "error" for p in found):
            invalid.add(row)
        else:
            invalid.discard(row)
    new.__dict__["by_row"] = by_row  # what the cached properties would compute
    new.__dict__["invalid_rows"] = invalid


def _duplicates_after(
    result: CheckResult, table: Rows, mapping: Mapping, changed: list[int]
) -> tuple[dict[int, Problem], list[str] | None]:
    """The duplicate rule after a change: the earlier answer when no changed row's customer ID
    changed (an edited e-mail, say), else the rule over all rows again."""
    column = mapping.fields.get("customer_id")
    rows, ids = result.rows, result.customer_ids
    if column is None or ids is None or len(ids) != len(rows) or column not in table.columns:
        return _customer_id_duplicates(table, mapping)
    if len(changed) > 64:  # many rows (a bulk fix): one look at the whole column is cheaper
        now = [value.strip() for value in table.column(column)]
        if len(now) != len(ids) or now != ids:
            return _customer_id_duplicates(table, mapping)
        return result.duplicates, ids
    for row in changed:
        at = bisect_left(rows, row)  # rows are in file order
        if at == len(rows) or rows[at] != row or ids[at] != table.column(column, [row])[0].strip():
            return _customer_id_duplicates(table, mapping)
    return result.duplicates, ids
