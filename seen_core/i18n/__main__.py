"""The catalogues' tooling: `python -m seen_core.i18n extract|update|check`.

- extract [FILE]: every message in the code into a template (default `messages.pot`).
- update: the template merged into each language's `.po` (new messages untranslated, gone
  ones dropped; no guessing of "fuzzy" translations from similar messages).
- check: each catalogue's counts; exit code 1 when a Norwegian message is missing or fuzzy,
  or when the English catalogue translates one (English is taken as written, see
  `seen_core.i18n.translations`).

Catalogues are compiled in memory when the app first needs them (see `seen_core.i18n`), so
there is no compile step and nothing compiled is kept in the repository.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from seen_core.i18n import DOMAIN, LANGUAGES, LOCALES, SOURCE, catalogue_path

REPO = LOCALES.parent.parent.parent
MAPPING = LOCALES.parent / "babel.cfg"
KEYWORDS = ["_", "N_", "ngettext:1,2"]
WIDTH = "100"


def pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "--quiet", *args])


def extract(template: Path) -> None:
    """Every wrapped message of the code into `template`, without line numbers (so that an
    edit elsewhere in a file does not touch the catalogues)."""
    keywords = [arg for keyword in KEYWORDS for arg in ("-k", keyword)]
    here = Path.cwd()
    os.chdir(REPO)  # locations relative to the repository, the same on every machine
    try:
        _extract(template.resolve(), keywords)
    finally:
        os.chdir(here)


def _extract(template: Path, keywords: list[str]) -> None:
    pybabel(
        "extract", "--no-default-keywords", *keywords, "-F", str(MAPPING),
        "--add-location", "file", "--sort-output", "-w", WIDTH,
        "--project", "SEEN Sender", "--copyright-holder", "SEEN Sender",
        "-o", str(template), ".",
    )  # fmt: skip


def update() -> None:
    with tempfile.TemporaryDirectory() as folder:
        template = Path(folder) / f"{DOMAIN}.pot"
        extract(template)
        for lang in LANGUAGES:
            path = catalogue_path(lang)
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                pybabel("init", "-i", str(template), "-d", str(LOCALES), "-l", lang,
                        "-D", DOMAIN, "-w", WIDTH)  # fmt: skip
            before = path.read_text(encoding="utf-8")
            pybabel(
                "update", "-i", str(template), "-d", str(LOCALES), "-l", lang, "-D", DOMAIN,
                "--no-fuzzy-matching", "--ignore-obsolete", "-w", WIDTH,
            )  # fmt: skip
            if _undated(path.read_text(encoding="utf-8")) == _undated(before):
                path.write_text(before, encoding="utf-8")  # no change but the date: no churn


def _undated(po: str) -> str:
    return re.sub(r'^"POT-Creation-Date: .*$', "", po, flags=re.MULTILINE)


def check() -> int:
    missing = 0
    for lang in LANGUAGES:
        with catalogue_path(lang).open("rb") as po:
            catalog = read_po(po)
        messages = [m for m in catalog if m.id]
        empty = [m for m in messages if not (all(m.string) if m.pluralizable else m.string)]
        fuzzy = [m for m in messages if m.fuzzy]
        print(f"{lang}: {len(messages)} messages, {len(empty)} untranslated, {len(fuzzy)} fuzzy")
        if lang != SOURCE:
            missing += len(empty) + len(fuzzy)
            continue
        # English is the language the messages are written in, and it is taken as written.
        rewritten = [m for m in messages if (any(m.string) if m.pluralizable else m.string)]
        for message in rewritten:
            print(f"{lang}: translated, but English is taken as written: {message.id!r}")
        missing += len(rewritten)
    return 1 if missing else 0


def main(argv: list[str]) -> int:
    if len(argv) < 1 or argv[0] not in {"extract", "update", "check"}:
        print("usage: python -m seen_core.i18n extract [FILE.pot] | update | check")
        return 2
    if argv[0] == "extract":
        extract(Path(argv[1] if len(argv) > 1 else f"{DOMAIN}.pot"))
        return 0
    if argv[0] == "update":
        update()
    return check()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
