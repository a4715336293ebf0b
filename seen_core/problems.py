"""Problems found in a sheet: data with stable codes and spreadsheet row numbers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, NamedTuple

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
        "first_name_unmapped", "error", "No first-name column",
        "Choose the column that holds first names; SEEN needs one for every receiver.",
    ),
    ProblemKind(
        "first_name_missing", "error", "First name missing",
        "Fill in the first name on this row, or leave the row out.",
    ),
    ProblemKind(
        "email_invalid", "error", "E-mail address not valid",
        "Correct the address (one address, like name@example.no), or clear it where the row "
        "has a valid phone number.",
    ),
    ProblemKind(
        "phone_invalid", "error", "Phone number not valid",
        "Correct the number, add its country code (+46 ...) when it is from another country "
        "than the default one, or clear it where the row has a valid e-mail address.",
    ),
    ProblemKind(
        "email_domain_typo", "warning", "E-mail domain looks mistyped",
        "Check the address: its domain is one or two letters from a common one (gmial.com "
        "for gmail.com); apply the suggested fix when it is the slip it looks like.",
    ),
    ProblemKind(
        "name_case", "warning", "Name in capitals or small letters",
        "Write the name in normal case; the film greets the person as the name is written "
        "(OLA). The suggested fix keeps van der, O'Brien, Anne-Marie and McDonald right.",
    ),
    ProblemKind(
        "no_contact", "error", "No phone or e-mail",
        "Add a phone number or an e-mail address; SEEN needs one to deliver the film.",
        note="A warning when SEEN does not deliver the films.",
    ),
    ProblemKind(
        "customer_id_duplicate", "error", "Customer ID used twice",
        "Give each row its own customer ID, or leave out the repeated row; the message names "
        "the row that has it first.",
    ),
    ProblemKind(
        "customer_id_missing", "warning", "No customer ID",
        "Choose a column with one ID per person (such as a customer number), so that a retry "
        "is safe and SEEN's callbacks can be matched to your rows.",
        note="An error for SEEN API 2.0, which needs the ID as each person's id.",
    ),
    ProblemKind(
        "extra_key_invalid", "error", "Extra field name not allowed",
        "Rename the key using only letters, digits and _, and use each key once.",
    ),
    ProblemKind(
        "column_not_found", "error", "Column not in the sheet",
        "Choose another column, or check that the right sheet and header row are read.",
    ),
    ProblemKind(
        "column_mapped_twice", "error", "Column used for two fields",
        "Map the column to one field only.",
    ),
    ProblemKind(
        "text_invalid", "error", "Invisible control character",
        "Retype the value or remove the hidden character (often pasted from another "
        "program); SEEN refuses values that hold one.",
    ),
    ProblemKind(
        "text_mojibake", "error", "Text garbled by a wrong encoding",
        "Fix the file (save it again as UTF-8) or retype the value; the message says what it "
        "probably was. SEEN would show the garbled letters in the film.",
    ),
    ProblemKind(
        "text_formula", "warning", "Looks like a spreadsheet formula",
        "Replace the formula with the text it should show; the film would show it as written.",
    ),
    ProblemKind(
        "image_url_extension", "error", "Image URL does not end in .jpg or .png",
        "Use a link that ends in .jpg, .jpeg or .png, in lowercase.",
    ),
    ProblemKind(
        "image_url_redirect", "error", "Image URL redirects",
        "Use the address the link leads to, so that SEEN gets the image directly.",
    ),
    ProblemKind(
        "image_url_auth", "error", "Image needs a login",
        "Use a public link that opens without signing in.",
    ),
    ProblemKind(
        "image_url_unreachable", "error", "Image cannot be fetched",
        "Check the link in a browser; use a public address on the internet that answers "
        "within 10 seconds.",
    ),
    ProblemKind(
        "image_url_type", "error", "Not a JPEG or PNG image",
        "Link to a JPEG or PNG image, not to a web page or another format.",
    ),
    ProblemKind(
        "image_url_too_large", "error", "Image larger than 2 MB",
        "Make the image smaller than 2 MB and link to that one.",
    ),
)  # fmt: skip


def describe(code: str) -> ProblemKind:
    """The kind of problem a code names. A code this version does not know (from a draft saved
    by another version) gets a plain description instead of an error."""
    known = CATALOGUE.get(code)
    if known is not None:
        return known
    return ProblemKind(code, "error", code.replace("_", " ").capitalize(), "See the message.")


def suggestion_groups(problems: Iterable[Problem]) -> dict[str, list[Problem]]:
    """Problem code → the problems of that kind that carry a suggested fix, in the sheet's
    order: what "apply to all N like it" applies."""
    groups: dict[str, list[Problem]] = {}
    for problem in problems:
        if problem.suggestion is not None and problem.row is not None:
            groups.setdefault(problem.code, []).append(problem)
    return groups
