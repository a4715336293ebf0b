"""The app in Norwegian: chosen in the sidebar, remembered for a signed-in user, and followed by
the problems, the statuses and the workbook the user downloads."""

from __future__ import annotations

import io

import openpyxl
from callback_server import films_made
from test_app import new_app, plain, send_to_sandbox, texts, to_check, work

from seen_core import i18n
from seen_core.engagement import engagement_for_job
from seen_core.engagement.serving import shared_store
from seen_core.statuses import Status

AUTH = {"auth": {"client_id": "seen-sender"}}


def in_norwegian(at):
    return at.segmented_control(key="language_pick").set_value("nb").run()


def grid_text(at) -> str:
    """Every cell of the grid of rows to fix, the status and ⚠ columns included."""
    grid = at.data_editor(key=at.session_state["fix_editor_key"]).value
    return " ".join(str(v) for v in grid.to_numpy().ravel())


def test_the_app_speaks_english_until_norwegian_is_chosen(seen_data_dir):
    at = new_app()
    assert at.title[0].value == "Upload your sheet of people"
    at = in_norwegian(at)
    assert not at.exception
    assert at.title[0].value == "Last opp arket ditt med personer"
    assert at.button(key="demo").label == "Prøv eksempelfilen"


def test_a_norwegian_user_reads_the_problems_in_norwegian(seen_data_dir):
    at = to_check(in_norwegian(new_app()))
    assert at.title[0].value == "Kontroller og rett"
    # the kinds of problem, counted (the box's key changes with its labels)
    narrowings = next(box for box in at.selectbox if box.label == "Vis").options
    assert "Ugyldig e-postadresse — 1 rad" in narrowings
    assert any(n.startswith("Alle rader som trenger oppfølging — ") for n in narrowings)
    grid = at.data_editor(key=at.session_state["fix_editor_key"]).value
    assert grid.columns[0] == "Hvorfor" and grid.index.name == "Rad"
    assert "Why" not in grid.columns and not any(c.endswith(" — fix here") for c in grid.columns)
    messages = grid_text(at)
    assert "er ikke en gyldig e-postadresse" in messages
    assert "is not a valid" not in messages
    assert "Må rettes" in messages or "Verken mobilnummer eller e-post" in messages


def test_switching_back_to_english_makes_the_problems_again_in_english(seen_data_dir):
    at = to_check(in_norwegian(new_app()))
    at = at.segmented_control(key="language_pick").set_value("en").run()
    assert at.title[0].value == "Check and fix"
    assert "is not a valid e-mail address" in grid_text(at)
    assert "er ikke en gyldig" not in grid_text(at)


def test_a_norwegian_users_results_and_workbook_are_in_norwegian(seen_data_dir):
    at = send_to_sandbox(to_check(in_norwegian(new_app())))
    assert at.title[0].value == "Resultater"
    assert "Avvist av SEEN: 1 rad" in plain(at) or "Må rettes:" in plain(at)
    with i18n.using("nb"):
        assert Status.REJECTED.label == "Avvist av SEEN"
        book = openpyxl.load_workbook(io.BytesIO(work(at).report("xlsx")))
    receivers = book[book.sheetnames[1]]  # after the notes sheet, as in the user's file
    header = [c.value for c in next(receivers.iter_rows(min_row=4, max_row=4))]
    assert "Status i SEEN" in header and "Melding fra SEEN" in header
    status = header.index("Status i SEEN") + 1
    words = {c.value for c in next(receivers.iter_cols(min_col=status, max_col=status))[4:]}
    assert words - {None} <= {"Opprettet", "Avvist av SEEN", "Må rettes"}, words
    assert "Må rettes" in words  # the statuses in the user's words, not 'invalid'
    assert "Sammendrag" in book.sheetnames and "Problemer" in book.sheetnames
    summary = [row[0] for row in book["Sammendrag"].iter_rows(values_only=True) if row]
    assert "Rapport fra SEEN Sender" in summary and "Personer i arket" in summary
    problems = list(book["Problemer"].iter_rows(values_only=True))
    assert problems[0][:4] == ("Rad", "Kolonne", "Problem", "Hva du gjør")
    assert any("er ikke en gyldig e-postadresse" in str(row[2]) for row in problems[1:])


def test_a_signed_in_users_language_follows_them_to_a_new_session(seen_data_dir):
    in_norwegian(new_app(AUTH, user="kari@example.no"))
    again = new_app(AUTH, user="kari@example.no")
    assert again.title[0].value == "Last opp arket ditt med personer"
    assert again.segmented_control(key="language_pick").value == "nb"
    other = new_app(AUTH, user="ola@example.no")
    assert other.title[0].value == "Upload your sheet of people"


def test_a_norwegian_users_films_and_viewers_and_their_workbook_columns(seen_data_dir):
    at = send_to_sandbox(to_check(in_norwegian(new_app()), campaign="filmer"))
    journal, job = work(at).journal, work(at).sends()[-1]
    assert "Ingen film er klar ennå" in texts(at)
    store = shared_store(journal.path)
    people = [p.id for p in engagement_for_job(journal, store, job.id).rows]
    films_made(store, people, campaign="filmer", secret="norsk-hemmelighet-1")
    at.run()
    assert not at.exception
    n = len(people)
    assert f"{n} av {n} filmer klare · 0 åpnet · 0 spilt av · 0 sett · 0 klikket" in texts(at)
    (table,) = [d.value for d in at.dataframe if "Film" in d.value.columns]
    assert list(table["Film"]) == [f"https://watch.seen.example/{p}" for p in people]
    with i18n.using("nb"):  # the download is made in the language of the user who clicks
        engagement = engagement_for_job(journal, store, job.id).columns()
        book = openpyxl.load_workbook(io.BytesIO(work(at).report_file("xlsx", engagement).data))
    receivers = book[book.sheetnames[1]]
    header = [c.value for c in next(receivers.iter_rows(min_row=4, max_row=4))]
    assert {"Film", "Åpnet", "Sett", "Klikket"} <= set(header), header
    assert not {"Opened", "Watched", "Clicked", "SEEN status"} & set(header)
    films = header.index("Film") + 1
    linked = [c.value for c in next(receivers.iter_cols(min_col=films, max_col=films))[4:]]
    assert sorted(v for v in linked if v) == sorted(
        f"https://watch.seen.example/{p}" for p in people
    )
