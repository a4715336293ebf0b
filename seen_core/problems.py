"""Problems found in a sheet: data with stable codes and spreadsheet row numbers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal, NamedTuple

from seen_core.i18n import N_, _

Severity = Literal["error", "warning"]


class Problem(NamedTuple):
    """One thing wrong with a row (or with the whole sheet when `row` is None).

    `row` is the row number the user sees in Excel (header on row 1 → first person on row 2);
    `column` is the user's column header; `field` the SEEN field or extra field's key.
    `suggestion` is what the cell would most likely say instead (a suggested fix, see
    `check.suggestions`), or None.

    A named tuple, immutable: a 100k-row sheet can have 45,000 problems, made again at every
    full check, and a tuple is made in a quarter of the time of a frozen dataclass (which sets
    each field through `object.__setattr__`). Changed copies: `problem._replace(row=...)`.
    """

    row: int | None
    column: str | None
    field: str | None
    code: str
    severity: Severity
    message: str
    suggestion: str | None = None

    def as_dict(self) -> dict[str, object]:
        found: dict[str, object] = {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
        }
        if self.suggestion is not None:
            found["suggestion"] = self.suggestion
        return found


@dataclass(frozen=True, slots=True)
class ProblemKind:
    """What a problem code means, for people: its usual severity, a title and what to do."""

    code: str
    severity: Severity  # the usual one; a rule may say otherwise (see `note`)
    title: str
    what_to_do: str
    note: str = ""  # when the severity differs


def _kinds(*kinds: ProblemKind) -> dict[str, ProblemKind]:
    return {kind.code: kind for kind in kinds}


# Every code a rule can give (a test holds the rules to this list). Codes are stable: reports,
# the command line's JSON and saved drafts carry them.
CATALOGUE: dict[str, ProblemKind] = _kinds(
    ProblemKind(
        "first_name_unmapped", "error", N_("No first-name column"),
        N_(
            "Choose the column that holds first names; SEEN needs one for every receiver."
        ),
    ),
    ProblemKind(
        "first_name_missing", "error", N_("First name missing"),
        N_(
            "Fill in the first name on this row, or leave the row out."
        ),
    ),
    ProblemKind(
        "email_invalid", "error", N_("E-mail address not valid"),
        N_(
            "Correct the address (one address, like name@example.no), or clear it where the row "
            "has a valid phone number."
        ),
    ),
    ProblemKind(
        "phone_invalid", "error", N_("Phone number not valid"),
        N_(
            "Correct the number, add its country code (+46 ...) when it is from another country "
            "than the default one, or clear it where the row has a valid e-mail address."
        ),
    ),
    ProblemKind(
        "email_domain_typo", "warning", N_("E-mail domain looks mistyped"),
        N_(
            "Check the address: its domain is one or two letters from a common one (gmial.com "
            "for gmail.com); apply the suggested fix when it is the slip it looks like."
        ),
    ),
    ProblemKind(
        "name_case", "warning", N_("Name in capitals or small letters"),
        N_(
            "Write the name in normal case; the film greets the person as the name is written "
            "(OLA). The suggested fix keeps van der, O'Brien, Anne-Marie and McDonald right."
        ),
    ),
    ProblemKind(
        "no_contact", "error", N_("No phone or e-mail"),
        N_(
            "Add a phone number or an e-mail address; SEEN needs one to deliver the film."
        ),
        note=N_("A warning when SEEN does not deliver the films."),
    ),
    ProblemKind(
        "customer_id_duplicate", "error", N_("Customer ID used twice"),
        N_(
            "Give each row its own customer ID, or leave out the repeated row; the message names "
            "the row that has it first."
        ),
    ),
    ProblemKind(
        "customer_id_missing", "warning", N_("No customer ID"),
        N_(
            "Choose a column with one ID per person (such as a customer number), so that a retry "
            "is safe and SEEN's callbacks can be matched to your rows."
        ),
        note=N_("An error for SEEN API 2.0, which needs the ID as each person's id."),
    ),
    ProblemKind(
        "extra_key_invalid", "error", N_("Extra field name not allowed"),
        N_(
            "Rename the key using only letters, digits and _, and use each key once."
        ),
    ),
    ProblemKind(
        "column_not_found", "error", N_("Column not in the sheet"),
        N_(
            "Choose another column, or check that the right sheet and header row are read."
        ),
    ),
    ProblemKind(
        "column_mapped_twice", "error", N_("Column used for two fields"),
        N_(
            "Map the column to one field only."
        ),
    ),
    ProblemKind(
        "text_invalid", "error", N_("Invisible control character"),
        N_(
            "Retype the value or remove the hidden character (often pasted from another "
            "program); SEEN refuses values that hold one."
        ),
    ),
    ProblemKind(
        "text_mojibake", "error", N_("Text garbled by a wrong encoding"),
        N_(
            "Fix the file (save it again as UTF-8) or retype the value; the message says what it "
            "probably was. SEEN would show the garbled letters in the film."
        ),
    ),
    ProblemKind(
        "text_formula", "warning", N_("Looks like a spreadsheet formula"),
        N_(
            "Replace the formula with the text it should show; the film would show it as written."
        ),
    ),
    ProblemKind(
        "image_url_extension", "error", N_("Image URL does not end in .jpg or .png"),
        N_(
            "Use a link that ends in .jpg, .jpeg or .png, in lowercase."
        ),
    ),
    ProblemKind(
        "image_url_redirect", "error", N_("Image URL redirects"),
        N_(
            "Use the address the link leads to, so that SEEN gets the image directly."
        ),
    ),
    ProblemKind(
        "image_url_auth", "error", N_("Image needs a login"),
        N_(
            "Use a public link that opens without signing in."
        ),
    ),
    ProblemKind(
        "image_url_unreachable", "error", N_("Image cannot be fetched"),
        N_(
            "Check the link in a browser; use a public address on the internet that answers "
            "within 10 seconds."
        ),
    ),
    ProblemKind(
        "image_url_type", "error", N_("Not a JPEG or PNG image"),
        N_(
            "Link to a JPEG or PNG image, not to a web page or another format."
        ),
    ),
    ProblemKind(
        "image_url_too_large", "error", N_("Image larger than 2 MB"),
        N_(
            "Make the image smaller than 2 MB and link to that one."
        ),
    ),
)  # fmt: skip


def describe(code: str) -> ProblemKind:
    """The kind of problem a code names. A code this version does not know (from a draft saved
    by another version) gets a plain description instead of an error."""
    known = CATALOGUE.get(code)
    if known is not None:  # in the user's language
        return replace(
            known,
            title=_(known.title),
            what_to_do=_(known.what_to_do),
            note=_(known.note) if known.note else "",
        )
    return ProblemKind(code, "error", code.replace("_", " ").capitalize(), _("See the message."))


def suggestion_groups(problems: Iterable[Problem]) -> dict[str, list[Problem]]:
    """Problem code → the problems of that kind that carry a suggested fix, in the sheet's
    order: what "apply to all N like it" applies."""
    groups: dict[str, list[Problem]] = {}
    for problem in problems:
        if problem.suggestion is not None and problem.row is not None:
            groups.setdefault(problem.code, []).append(problem)
    return groups
