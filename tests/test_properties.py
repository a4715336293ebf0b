"""Whatever text a user types into a cell, checking and building payloads never crash."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from seen_core.check.checks import CheckOptions, check_sheet, recheck
from seen_core.check.mapping import Mapping
from seen_core.check.receivers import payload, payloads

COLUMNS = ["Fornavn", "Etternavn", "E-post", "Mobil", "Kundenr", "Bilde", "Notat"]
MAPPING = Mapping(
    {
        "first_name": "Fornavn",
        "last_name": "Etternavn",
        "email": "E-post",
        "phone": "Mobil",
        "customer_id": "Kundenr",
    },
    {"bilde": "Bilde", "notat": "Notat"},
)


# The shaped parts are joined from small strategies rather than drawn with `from_regex`, which
# spent most of these tests' time generating text.
def joined(*parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map("".join)


# Any unicode (control characters, surrogates excluded as no file can hold them), plus the
# shapes that reach the parsers' edge cases.
no_space = st.characters(exclude_categories=("Cs", "Z", "Cc"))
no_space_nor_at = st.characters(exclude_categories=("Cs", "Z", "Cc"), exclude_characters="@")
cell = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    st.sampled_from(
        ["", " ", "\t", "\x00", "\u200b", "\r\n", "+", "@", "http://", "https://a.b/c"]
    ),
    joined(st.sampled_from(["", "+"]), st.text("0123456789 ()-", max_size=20)),
    joined(
        st.text(no_space_nor_at, max_size=10), st.just("@"), st.text(no_space_nor_at, max_size=10)
    ),
    joined(
        st.sampled_from(["http://", "https://"]),
        st.text("abcdefghijklmnopqrstuvwxyz.", min_size=1, max_size=10),
        st.just("/"),
        st.text(no_space, max_size=15),
    ),
)
row = st.fixed_dictionaries({c: cell for c in COLUMNS})
tables = st.lists(row, min_size=1, max_size=6).map(
    lambda rows: pd.DataFrame(
        rows, columns=COLUMNS, index=pd.Index(range(2, len(rows) + 2), name="row"), dtype=object
    )
)
regions = st.sampled_from(["NO", "SE", "DK", "US"])


def _no_empty_values(value: object) -> None:
    assert value is not None and value != ""
    if isinstance(value, dict):
        for inner in value.values():
            _no_empty_values(inner)


@settings(max_examples=100, deadline=None)
@given(tables, regions, st.booleans())
def test_check_sheet_and_payloads_never_raise(table: pd.DataFrame, region: str, delivery: bool):
    result = check_sheet(table, MAPPING, CheckOptions(region=region, delivery=delivery))
    assert set(result.valid_rows) | result.invalid_rows == set(table.index)
    for _, sent in payloads(table, MAPPING, region, result.valid_rows):
        _no_empty_values(sent)
        assert (
            isinstance(sent["first_name"], str) and sent["first_name"].strip() == sent["first_name"]
        )


@settings(max_examples=100, deadline=None)
@given(tables, st.data())
def test_recheck_after_any_edit_equals_a_full_check(table: pd.DataFrame, data: st.DataObject):
    before = check_sheet(table, MAPPING)
    row_number = data.draw(st.sampled_from(list(table.index)))
    column = data.draw(st.sampled_from(COLUMNS))
    table.loc[row_number, column] = data.draw(cell)
    after = recheck(before, table, MAPPING, [row_number])
    assert after.problems == check_sheet(table, MAPPING).problems


@settings(max_examples=100, deadline=None)
@given(row, regions)
def test_every_payload_value_is_text_never_none_or_empty(cells: dict[str, str], region: str):
    table = pd.DataFrame([cells], columns=COLUMNS, index=pd.Index([2], name="row"), dtype=object)
    for _, sent in payloads(table, MAPPING, region):
        _no_empty_values(sent)
        for key, value in sent.items():
            assert isinstance(value, dict if key == "extra_args" else str)


@settings(max_examples=100, deadline=None)
@given(tables, regions, st.data())
def test_payloads_of_a_whole_sheet_equal_each_row_built_alone(
    table: pd.DataFrame, region: str, data: st.DataObject
):
    rows = data.draw(st.lists(st.sampled_from(list(table.index)), unique=True))
    for chosen in (None, rows):
        built = payloads(table, MAPPING, region, chosen)
        one_by_one = [
            (row, payload(table.loc[row].to_dict(), MAPPING, region))
            for row in (table.index if chosen is None else chosen)
        ]
        assert built == one_by_one
        assert [list(p) for _, p in built] == [list(p) for _, p in one_by_one]  # key order too


customer_ids = st.sampled_from(["", " ", "1", " 1", "2", "2 ", "3"])


@settings(max_examples=100, deadline=None)
@given(tables, st.data())
def test_rechecks_after_edits_of_customer_ids_equal_a_full_check(
    table: pd.DataFrame, data: st.DataObject
):
    table["Kundenr"] = [data.draw(customer_ids) for _ in table.index]
    result = check_sheet(table, MAPPING)
    for _ in range(data.draw(st.integers(1, 4))):
        row_number = data.draw(st.sampled_from(list(table.index)))
        column = data.draw(st.sampled_from(["Kundenr", "E-post"]))
        table.loc[row_number, column] = data.draw(customer_ids if column == "Kundenr" else cell)
        result = recheck(result, table, MAPPING, [row_number])
        assert result.problems == check_sheet(table, MAPPING).problems


# Texts as the report's notes and cells have them: plain words, lines, the characters XML and
# Excel treat specially (markup, control characters, a literal _x0041_, a tab, a no-break space).
_NOTE_PIECES = st.sampled_from(
    [
        "Ola",
        "e-post",
        "\n",
        " ",
        "&",
        "<",
        ">",
        "_x",
        "_x0041_",
        "\t",
        "\x07",
        "\xa0",
        "é",
        "\ufffe",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_NOTE_PIECES, max_size=6).map("".join), max_size=8))
def test_many_texts_are_escaped_as_each_would_be_alone(texts: list[str]):
    from seen_core.report.xml import xml_text, xml_texts

    assert xml_texts(texts) == [xml_text(text) for text in texts]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a", "&", "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#10;", ";"]),
        max_size=8,
    ).map("".join)
)
def test_attribute_values_are_unescaped_as_the_standard_library_does(value: str):
    from xml.sax.saxutils import unescape

    from seen_core.report.xml import attrs

    expected = unescape(value, {"&quot;": '"', "&apos;": "'"})
    assert attrs(f'<c r="{value}"/>') == {"r": expected}
