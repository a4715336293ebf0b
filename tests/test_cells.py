"""Column letters, as Excel names its columns."""

from __future__ import annotations

import pytest

from seen_core.read.cells import column_index, column_letter


@pytest.mark.parametrize(
    ("index", "letters"),
    [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (702, "AAA"), (16_383, "XFD")],
)
def test_a_column_has_the_letters_excel_gives_it(index: int, letters: str) -> None:
    assert column_letter(index) == letters
    assert column_index(letters) == index
    assert column_index(letters.lower()) == index


def test_every_column_of_excels_grid_goes_there_and_back() -> None:
    assert all(column_index(column_letter(i)) == i for i in range(16_384))
