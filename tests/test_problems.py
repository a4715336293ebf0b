"""The problem catalogue: every code a rule can give is described, with its usual severity."""

from __future__ import annotations

import ast
from pathlib import Path

from seen_core.problems import CATALOGUE, Problem, describe

SOURCE = Path(__file__).resolve().parent.parent / "seen_core"


def codes_in_the_source() -> set[str]:
    """Codes given anywhere in seen_core: the code of every `Problem(...)` written out, the
    `image_url_*` verdicts, and every code a rule compares with (`p.code == "..."`)."""
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if not any(word in text for word in ("Problem(", "image_url_", ".code")):
            continue  # nothing to find: not worth parsing
        for node in ast.walk(ast.parse(text)):
            name = getattr(node, "func", None)
            if isinstance(node, ast.Call) and getattr(name, "id", getattr(name, "attr", "")) == (
                "Problem"
            ):
                if len(node.args) > 3 and isinstance(node.args[3], ast.Constant):
                    found.add(node.args[3].value)
                found.update(
                    k.value.value
                    for k in node.keywords
                    if k.arg == "code" and isinstance(k.value, ast.Constant)
                )
            elif isinstance(node, ast.Constant) and str(node.value).startswith("image_url_"):
                found.add(node.value)
            elif isinstance(node, ast.Compare) and getattr(node.left, "attr", None) == "code":
                for right in node.comparators:
                    constants = right.elts if isinstance(right, ast.Tuple) else [right]
                    found.update(c.value for c in constants if isinstance(c, ast.Constant))
    return found


def test_every_code_given_in_the_source_is_in_the_catalogue():
    given = codes_in_the_source()
    # The search itself must find the rules of the design, or it proves nothing.
    assert {"first_name_missing", "no_contact", "column_not_found", "text_invalid"} <= given
    assert {"text_mojibake", "text_formula"} <= given
    assert {"image_url_unreachable", "image_url_too_large"} <= given
    assert given - set(CATALOGUE) == set()


def test_each_kind_has_a_severity_a_title_and_what_to_do():
    for code, kind in CATALOGUE.items():
        assert kind.code == code
        assert kind.severity in ("error", "warning")
        assert kind.title and kind.what_to_do.endswith(".")
    assert describe("customer_id_missing").severity == "warning"
    assert describe("text_invalid").severity == "error"


def test_garbled_text_is_an_error_and_a_formula_a_warning_each_with_its_own_words():
    """The check page names each kind of problem by its title ("… in 3 rows")."""
    garbled, formula = describe("text_mojibake"), describe("text_formula")
    assert (garbled.severity, garbled.title) == ("error", "Text garbled by a wrong encoding")
    assert (formula.severity, formula.title) == ("warning", "Looks like a spreadsheet formula")
    assert "UTF-8" in garbled.what_to_do and "as written" in formula.what_to_do


def test_an_unknown_code_is_described_plainly():
    kind = describe("phone_on_holiday")
    assert (kind.title, kind.severity) == ("Phone on holiday", "error")


def test_a_problem_survives_pickling_as_it_was():
    """The reader process sends its check as a pickle (see sheets.read_sheet_checking_ahead)."""
    import pickle

    problem = Problem(7, "E-post", "email", "email_invalid", "error", "'x@' is not valid.")
    sheet_wide = Problem(None, None, "customer_id", "customer_id_missing", "warning", "None.")
    for pickled in (problem, sheet_wide):
        again = pickle.loads(pickle.dumps(pickled, protocol=pickle.HIGHEST_PROTOCOL))
        assert again == pickled and type(again) is Problem
