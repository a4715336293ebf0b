"""Each signed-in user's language, kept in the journal so that it follows them to any browser."""

from __future__ import annotations

from seen_core.i18n import LANGUAGES
from seen_core.store.drafts import User
from seen_core.store.journal import Journal


def saved_language(journal: Journal, user: User) -> str | None:
    """The language the user chose last ('nb', 'en'), or None when they never chose one (or
    nobody signs in: the one local user's choice stays with the browser session)."""
    if not user.id:
        return None
    with journal.reading() as db:
        row = db.execute(
            "SELECT language FROM user_languages WHERE user_id = ?", (user.id,)
        ).fetchone()
    return row[0] if row is not None and row[0] in LANGUAGES else None


def save_language(journal: Journal, user: User, language: str) -> None:
    """Remember the user's choice (nothing for the local user, or for a language we lack)."""
    if not user.id or language not in LANGUAGES:
        return
    with journal.writing(durable=False) as db:
        db.execute(
            "INSERT OR REPLACE INTO user_languages (user_id, language) VALUES (?, ?)",
            (user.id, language),
        )
