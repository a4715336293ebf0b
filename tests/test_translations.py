"""The catalogues: every message has its Norwegian, with the same placeholders, and the `.po`
files hold exactly the messages the code has; numbers, plurals and the pseudo-language."""

from __future__ import annotations

import datetime as dt
import re
import string

import pytest
from babel.messages.pofile import read_po

from seen_core import i18n
from seen_core.i18n import LANGUAGES, catalogue_path
from seen_core.i18n.__main__ import extract

NORWEGIAN = "nb"


def catalogue(lang: str):
    with catalogue_path(lang).open("rb") as po:
        return read_po(po, locale=lang)


def messages(lang: str) -> list:
    return [m for m in catalogue(lang) if m.id]


def forms(text: str | tuple) -> tuple[str, ...]:
    return text if isinstance(text, tuple) else (text,)


def placeholders(text: str) -> set[str]:
    """The `{name}` fields of a message as `str.format` reads them."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_message_has_a_norwegian_translation_and_none_is_fuzzy():
    missing = [m.id for m in messages(NORWEGIAN) if not all(forms(m.string))]
    fuzzy = [m.id for m in messages(NORWEGIAN) if m.fuzzy]
    assert not missing, f"{len(missing)} without Norwegian, e.g. {missing[:5]}"
    assert not fuzzy, f"fuzzy (unchecked) translations: {fuzzy[:5]}"


def test_each_translation_has_the_placeholders_of_its_message():
    wrong = []
    for message in messages(NORWEGIAN):
        wanted = set().union(*(placeholders(f) for f in forms(message.id)))
        for translated in forms(message.string):
            if placeholders(translated) != wanted:
                wrong.append((message.id, translated))
    assert not wrong, wrong[:5]


def test_placeholders_are_named_never_positional():
    positional = [
        m.id
        for m in messages("en")
        for f in forms(m.id)
        if "" in placeholders(f) or any(p.isdigit() for p in placeholders(f))
    ]
    assert not positional, positional


def test_the_catalogues_hold_exactly_the_messages_of_the_code(tmp_path):
    """A message added, changed or removed in the code without `python -m seen_core.i18n
    update` fails here."""
    template = tmp_path / "messages.pot"
    extract(template)
    with template.open("rb") as pot:
        in_code = {m.id for m in read_po(pot) if m.id}
    for lang in LANGUAGES:
        in_catalogue = {m.id for m in messages(lang)}
        assert in_catalogue - in_code == set(), f"{lang}: gone from the code"
        assert in_code - in_catalogue == set(), f"{lang}: not in the catalogue (run update)"


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_plural_forms_are_one_and_many(lang):
    assert catalogue(lang).plural_forms == "nplurals=2; plural=(n != 1);"


def test_norwegian_counts_rows_in_the_singular_for_one_only():
    with i18n.using("nb"):
        rows = [i18n.ngettext("{count} row", "{count} rows", n).format(count=n) for n in (0, 1, 2)]
    assert rows == ["0 rader", "1 rad", "2 rader"]


def test_numbers_and_dates_are_written_the_users_way():
    with i18n.using("nb"):
        assert i18n.number(5000) == "5\N{NO-BREAK SPACE}000"
        assert i18n.decimal(12.5) == "12,5"
        assert i18n.date(dt.date(2026, 12, 7)) == "7. des. 2026"
    with i18n.using("en"):
        assert i18n.number(5000) == "5,000"
        assert i18n.decimal(12.5) == "12.5"


@pytest.mark.parametrize(
    ("tag", "lang"),
    [("nb-NO", "nb"), ("no", "nb"), ("nn-NO", "nb"), ("nb_NO.UTF-8", "nb"), ("en-US", "en"),
     ("sv-SE", "en"), ("", "en"), (None, "en")],
)  # fmt: skip
def test_the_browsers_language_chooses_norwegian_or_english(tag, lang):
    assert i18n.from_locale(tag) == lang


def test_the_pseudo_language_wraps_every_message_and_is_never_offered():
    assert i18n.PSEUDO not in LANGUAGES
    with i18n.using(i18n.PSEUDO):
        for message in messages("en"):
            shown = i18n.ngettext(*message.id, 2) if message.pluralizable else i18n._(message.id)
            assert re.fullmatch(r"⟦.*⟧", shown, re.DOTALL), message.id


def test_english_is_taken_as_written_and_check_refuses_an_english_translation(
    tmp_path, monkeypatch, capsys
):
    """English messages are shown as the code writes them (its catalogue is never read), so
    the English catalogue must translate nothing: `check` fails where it does."""
    assert not [m.id for m in messages("en") if any(forms(m.string))]
    with i18n.using("en"):
        assert i18n._("First name is empty.") == "First name is empty."
        assert i18n.ngettext("{count} row", "{count} rows", 1) == "{count} row"
    from seen_core.i18n import __main__ as tooling

    assert tooling.check() == 0
    english = tmp_path / "en" / "LC_MESSAGES" / "messages.po"
    english.parent.mkdir(parents=True)
    text = catalogue_path("en").read_text(encoding="utf-8")
    english.write_text(
        text.replace(
            'msgid "First name is empty."\nmsgstr ""',
            'msgid "First name is empty."\nmsgstr "Given name missing."',
        ),
        encoding="utf-8",
    )
    norwegian = tmp_path / "nb" / "LC_MESSAGES" / "messages.po"
    norwegian.parent.mkdir(parents=True)
    norwegian.write_bytes(catalogue_path("nb").read_bytes())
    monkeypatch.setattr(
        tooling, "catalogue_path", lambda lang: tmp_path / lang / "LC_MESSAGES" / "messages.po"
    )
    assert tooling.check() == 1
    assert "'First name is empty.'" in capsys.readouterr().out


def test_a_command_in_english_loads_babel_only_beside_the_read():
    """`python -m seen_core` imports what the read needs before it; Babel (0.02 s) and the
    number formats load in the loader thread while the file is read."""
    import subprocess
    import sys

    code = (
        "import sys, seen_core.cli, seen_core.i18n as i; "
        "assert not any(m.startswith('babel') for m in sys.modules), 'babel before the read'; "
        "assert i._('First name is empty.') == 'First name is empty.'; "
        "assert not any(m.startswith('babel') for m in sys.modules), 'babel for English'; "
        "seen_core.cli.load_the_rest_meanwhile().join(); "
        "assert 'babel.numbers' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
