"""The Streamlit app under AppTest: the steps, drafts that come back, fixes, sends, safety."""

from __future__ import annotations

import io
import json
import re
import time
import uuid
from pathlib import Path

import openpyxl
import pytest
from builders import csv_bytes, messy_workbook
from streamlit.testing.v1 import AppTest

from seen_core import flow, workbench
from seen_core.statuses import Status
from seen_core.store.database import default_path
from seen_core.store.drafts import User
from seen_core.store.journal import Journal
from seen_core.workbench import Work

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = [
    "pages/upload.py",
    "pages/map.py",
    "pages/check.py",
    "pages/send.py",
    "pages/results.py",
    "pages/history.py",
    "pages/sandbox.py",
    "pages/help.py",
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def new_app(
    secrets: dict | None = None, draft: str | None = None, user: str | None = None
) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    if user is not None:  # "" : nobody signed in
        at.user = (
            {"is_logged_in": True, "email": user, "name": user.split("@")[0]}
            if user
            else {"is_logged_in": False}
        )
    at.secrets["seen"] = (secrets or {}).get("seen", {})
    for name, value in (secrets or {}).items():
        if name != "seen":
            at.secrets[name] = value
    if draft:
        at.query_params["draft"] = draft
    return at.run()


@pytest.fixture
def app(seen_data_dir) -> AppTest:
    return new_app()


def work(at: AppTest) -> Work:
    return at.session_state["work"]


def upload(at: AppTest, name: str = "kunder.xlsx", data: bytes | None = None) -> AppTest:
    data = messy_workbook() if data is None else data
    return at.file_uploader(key="upload").set_value((name, data, XLSX)).run()


def texts(at: AppTest) -> str:
    """Everything the page says in Markdown-rendered elements, as their source text."""
    parts = []
    for kind in (
        "markdown",
        "caption",
        "success",
        "info",
        "warning",
        "error",
        "subheader",
        "title",
    ):
        parts += [e.value for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def plain(at: AppTest) -> str:
    """What the page says, as a person reads it (Markdown escapes taken out)."""
    return re.sub(r"\\(.)", r"\1", texts(at))


def to_check(at: AppTest, campaign: str | None = None) -> AppTest:
    """Upload the messy sheet, name a campaign (a new one: the app's sandbox lives as long as
    the test process), and go on to Check and fix."""
    campaign = campaign or f"autumn-{uuid.uuid4().hex[:8]}"
    at = upload(at)
    at.button(key="to_map").click().run()
    at.text_input(key="target_name").set_value(campaign).run()
    return at.button(key="to_check").click().run()


def edit_cell(at: AppTest, row: int, column: str, value: str) -> AppTest:
    key = at.session_state["fix_editor_key"]
    rows = at.data_editor(key=key).value.index.tolist()
    at.session_state[key] = {
        "edited_rows": {rows.index(row): {column: value}},
        "added_rows": [],
        "deleted_rows": [],
    }
    return at.run()


def sidebar_metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.sidebar.metric}


def send_to_sandbox(at: AppTest) -> AppTest:
    at.button(key="to_send").click().run()
    at.button(key="send").click().run()
    planned = at.session_state["registry"].preparing(work(at).draft.id)
    planned.thread.join(timeout=30)  # planned in a worker thread: the bar shows meanwhile
    assert planned.error is None
    job_id = work(at).sends()[-1].id
    send = at.session_state["registry"].get(job_id)
    send.thread.join(timeout=30)
    assert send.finished and send.error is None
    for _ in range(5):  # the progress panel moves on to Results when it sees the end
        at.run()
        if at.title and at.title[0].value == "Results":
            break
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_without_and_with_a_draft(app, page):
    app.switch_page(page).run()
    assert not app.exception
    at = upload(new_app())
    at.switch_page(page).run()
    assert not at.exception


def test_the_whole_flow_from_messy_workbook_to_results(app):
    at = upload(app)
    assert not at.exception and not at.error
    assert at.selectbox(key="sheet_pick").value == "Mottakere"  # not the notes sheet before it
    assert at.number_input(key="header_row").value == 4  # under the title rows
    at.button(key="to_map").click().run()
    assert at.title[0].value == "Map the columns"
    assert at.selectbox(key="map_first_name").value == "Fornavn"
    assert at.selectbox(key="map_phone").value == "Mobil"
    assert "(suggested)" in at.selectbox(key="map_email").format_func("E-post")
    at.text_input(key="target_name").set_value("autumn").run()
    at.button(key="to_check").click().run()
    assert at.title[0].value == "Check and fix"
    assert sidebar_metrics(at) == {"Rows": "7", "Ready to send": "1", "Need attention": "6"}

    at = edit_cell(at, 6, "Fornavn", "Kari")
    assert not at.exception
    assert sidebar_metrics(at)["Ready to send"] == "2"
    at = send_to_sandbox(at)
    assert at.subheader[0].value.startswith("2 created · 5 need attention")
    assert "Needs fixing" in plain(at)  # each status explained where it appears


def test_upload_and_map_do_not_wait_for_the_first_check(app, monkeypatch):
    original = flow.checks.check_sheet

    def slow_check(*args, **kwargs):  # as 100,000 rows take
        time.sleep(1.0)
        return original(*args, **kwargs)

    monkeypatch.setattr(flow.checks, "check_sheet", slow_check)
    monkeypatch.setattr(workbench, "QUICK_CHECK_ROWS", 0)  # the reader checks ahead, slowly
    original_ahead = flow.CheckAhead.result
    monkeypatch.setattr(flow.CheckAhead, "result", lambda *a: time.sleep(1.0) or original_ahead(*a))
    at = upload(app)
    at.button(key="to_map").click().run()
    assert at.title[0].value == "Map the columns"
    assert sidebar_metrics(at) == {}  # not waited for: the check goes on in the background
    assert "Checking the rows" in " ".join(c.value for c in at.sidebar.caption)
    work(at)._checking.join(timeout=30)
    at.run()
    assert sidebar_metrics(at) == {"Rows": "7", "Rows to fix": "6"}  # no campaign yet
    at.text_input(key="target_name").set_value("autumn-counts").run()  # a campaign named
    assert sidebar_metrics(at) == {"Rows": "7", "Ready to send": "1", "Need attention": "6"}


def test_a_small_sheet_shows_its_counts_at_once(app):
    at = app.button(key="demo").click().run()  # read, and checked, in the same run
    # the demo names its campaign: ready to send means something already
    assert sidebar_metrics(at) == {"Rows": "10", "Ready to send": "5", "Need attention": "5"}


def test_a_fix_made_as_next_is_clicked_is_kept(app):
    """Next goes on without drawing its page again, but never past a cell fixed in the same
    moment (both reach the server in one run)."""
    at = to_check(app)
    key = at.session_state["fix_editor_key"]
    rows = at.data_editor(key=key).value.index.tolist()
    at.session_state[key] = {
        "edited_rows": {rows.index(6): {"Fornavn": "Kari"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.button(key="to_send").click().run()
    assert not at.exception
    assert work(at).table.at[6, "Fornavn"] == "Kari"
    assert len(work(at).draft.changes) == 1
    assert at.title[0].value.startswith("Send")


def test_an_extra_column_left_out_as_next_is_clicked_stays_out(app):
    at = upload(app)
    at.button(key="to_map").click().run()
    at.text_input(key="target_name").set_value(f"autumn-{uuid.uuid4().hex[:8]}").run()
    key = at.session_state["extras_key"]
    extras = at.data_editor(key=key).value
    column = extras["Column"].iloc[0]
    assert extras["Send"].iloc[0]
    at.session_state[key] = {"edited_rows": {0: {"Send": False}}, "added_rows": [],
                             "deleted_rows": []}  # fmt: skip
    at.button(key="to_check").click().run()
    assert not at.exception
    assert at.title[0].value == "Check and fix"
    assert column not in work(at).mapping.extra_args.values()


def test_a_reload_brings_back_the_same_step_and_fixes(app):
    at = to_check(app)
    at = edit_cell(at, 6, "Fornavn", "Kari")
    at = edit_cell(at, 7, "E-post", "per@example.no")
    draft = work(at).draft.id

    again = new_app(draft=draft)  # a new browser session on the same address
    assert again.session_state["work"].draft.id == draft
    again.switch_page("pages/check.py").run()
    assert sidebar_metrics(again)["Ready to send"] == "3"
    assert work(again).table.at[7, "E-post"] == "per@example.no"
    assert work(again).settings.step.value == "check"


def test_the_steps_back_and_forth_keep_every_choice(app):
    at = to_check(app, campaign="autumn")
    at.selectbox(key="region").set_value("SE").run()
    at.switch_page("pages/map.py").run()
    assert at.text_input(key="target_name").value == "autumn"
    at.selectbox(key="map_last_name").set_value(None).run()
    at.switch_page("pages/upload.py").run()
    assert at.number_input(key="header_row").value == 4
    at.switch_page("pages/map.py").run()
    assert at.selectbox(key="map_last_name").value is None
    at.switch_page("pages/check.py").run()
    assert at.selectbox(key="region").value == "SE"


TWO_PHONES = csv_bytes(
    [
        ["Kundenr", "Fornavn", "Etternavn", "E-post", "Mobil", "Telefon"],
        ["1001", "Kari", "Nordmann", "kari@example.no", "45860321", "22334455"],
        ["1002", "Per", "Hansen", "per@example.no", "45860322", "22334466"],
    ]
)


def test_naming_a_campaign_shows_the_mapping_last_used_for_it_in_the_boxes(app):
    """The boxes are first drawn before the campaign is named, with the sheet's suggestion.
    Once it is named, the mapping last used for it is what would be sent, and the boxes must
    show it (they went on showing the suggestion, with Next disabled by a mapping not shown)."""
    campaign = f"autumn-{uuid.uuid4().hex[:8]}"
    at = upload(app, "kunder.csv", TWO_PHONES)
    at.button(key="to_map").click().run()
    at.text_input(key="target_name").set_value(campaign).run()
    at.selectbox(key="map_phone").set_value("Telefon").run()
    at.button(key="to_check").click().run()  # moved on with: remembered for the campaign
    assert at.title[0].value == "Check and fix"

    again = upload(new_app(), "kunder.csv", TWO_PHONES)
    again.button(key="to_map").click().run()
    assert again.selectbox(key="map_phone").value == "Mobil"  # no campaign yet: suggested
    again.text_input(key="target_name").set_value(campaign).run()
    assert "Starting from the mapping you last used" in plain(again)
    assert work(again).mapping.fields["phone"] == "Telefon"
    assert again.selectbox(key="map_phone").value == "Telefon"
    assert not again.button(key="to_check").disabled


def test_every_run_gives_the_browser_each_boxs_value(app):
    """With several people at once, a run cut short by the next click could leave a box
    registered but not shown; the browser then drew it empty and sent it back empty with the
    next click, as if chosen, and the empty mapping was stored ("0 ready · No column is mapped
    to first_name"). So every run gives each box its value, changed or not."""
    at = upload(app)
    at.button(key="to_map").click().run()
    at.text_input(key="target_name").set_value("autumn").run()  # a run that changes no box
    for field in ("first_name", "last_name", "email", "phone", "customer_id"):
        box = at.selectbox(key=f"map_{field}")
        assert box.proto.set_value, field
        assert box.proto.raw_value == box.format_func(box.value)
    assert at.selectbox(key="map_first_name").value == "Fornavn"


def test_an_empty_mapping_remembered_for_a_campaign_is_not_started_from(app):
    """What an earlier version remembered after such a run: every box empty. It hid the
    sheet's own suggestion for every sheet sent to the campaign after."""
    empty = {"first_name": None, "last_name": None, "email": None, "phone": None,
             "customer_id": None, "extra_args": {}}  # fmt: skip
    with Journal(default_path()) as journal, journal.writing() as db:
        db.execute(
            "INSERT INTO saved_mappings (user_id, target, mapping) VALUES ('', 'autumn', ?)",
            (json.dumps(empty),),
        )
    at = upload(app)
    at.button(key="to_map").click().run()
    at.text_input(key="target_name").set_value("autumn").run()
    assert "Starting from the mapping you last used" not in plain(at)
    assert at.selectbox(key="map_first_name").value == "Fornavn"
    assert not at.button(key="to_check").disabled
    at.button(key="to_check").click().run()
    assert sidebar_metrics(at)["Ready to send"] == "1"


def test_a_next_whose_switch_is_cut_short_still_goes_on(app, monkeypatch):
    """Next moves the draft on in its callback and the page switches at its top. When that run
    is stopped before the switch (a request the browser sent meanwhile), the next run of the
    page switches again: the click is not lost, the page does not sit on Check."""
    import streamlit
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    at = to_check(app)
    real = streamlit.switch_page
    cut: list[str] = []

    def switch_page(page, **kwargs):
        if page == "pages/send.py" and not cut:
            cut.append(page)
            raise StopException()  # the run stops here, as one stopped for a rerun does
        real(page, **kwargs)

    monkeypatch.setattr(streamlit, "switch_page", switch_page)
    at.button(key="to_send").click().run()
    assert cut and not any(t.value.startswith("Send") for t in at.title)  # cut short
    at.run()  # the browser's next request, still from Check and fix
    assert at.title[0].value.startswith("Send")
    at.switch_page("pages/check.py").run()  # back on Check by choice: it stays there
    assert at.title[0].value == "Check and fix"


def test_a_campaign_name_typed_as_words_is_offered_as_a_slug(app):
    at = upload(app)
    at.button(key="to_map").click().run()
    at.text_input(key="target_name").set_value("Velkomst November 2026").run()
    assert at.button(key="to_check").disabled
    at.button(key="use_slug").click().run()
    assert at.text_input(key="target_name").value == "velkomst-november-2026"
    assert work(at).settings.target == "velkomst-november-2026"
    assert not at.button(key="to_check").disabled


def test_the_country_picker_finds_the_united_kingdom_by_uk(app):
    at = to_check(app)
    box = at.selectbox(key="region")
    labels = [box.format_func(option) for option in box.options]
    found = [label for label in labels if "UK" in label]
    assert found and found[0].startswith("United Kingdom (+44)")
    assert labels[0].startswith("Norway (+47)")


def test_leaving_out_invalid_phones_makes_those_rows_ready_and_says_how_many(app):
    people = [["Fornavn", "E-post", "Mobil"]] + [
        [f"Person {n}", f"p{n}@example.no", "12345" if n % 2 else f"4745860{n:03d}"]
        for n in range(40)
    ]
    from builders import csv_bytes

    at = upload(app, "folk.csv", csv_bytes(people))
    at.button(key="to_map").click().run()
    at.text_input(key="target_name").set_value("autumn").run()
    at.button(key="to_check").click().run()
    assert sidebar_metrics(at)["Ready to send"] == "20"
    at.selectbox(key="bulk_kind").set_value("leave_out").run()
    assert at.button(key="bulk_apply").label == "Apply to 20 rows"
    at.button(key="bulk_apply").click().run()
    assert sidebar_metrics(at)["Ready to send"] == "40"
    undo_label = at.button(key="undo").label.replace("\\", "")  # markdown-escaped
    assert undo_label.endswith("where the e-mail is valid (20 rows)")
    assert not at.success  # the Undo button is the one confirmation
    assert work(at).table["Mobil"].tolist().count("12345") == 20  # the user's cells kept
    at.button(key="undo").click().run()
    assert sidebar_metrics(at)["Ready to send"] == "20"
    assert at.button(key="redo").label.replace("\\", "").startswith("Redo: Leave out invalid")
    at.button(key="redo").click().run()
    assert sidebar_metrics(at)["Ready to send"] == "40"


def test_find_and_replace_shows_its_count_before_applying(app):
    at = to_check(app)
    at.selectbox(key="bulk_kind").set_value("find").run()
    at.selectbox(key="find_column").set_value("E-post").run()
    at.text_input(key="find_text").set_value("@@").run()
    at.text_input(key="find_replacement").set_value("@").run()
    assert at.button(key="bulk_apply").label == "Apply to 1 row"
    at.button(key="bulk_apply").click().run()
    assert work(at).table.at[7, "E-post"] == "per@example"


def test_fix_and_send_again_flags_a_duplicate_of_a_created_row(app):
    at = to_check(app)
    at = send_to_sandbox(at)
    at.button(key="fix_again").click().run()
    assert at.title[0].value == "Check and fix"
    at = edit_cell(at, 6, "Fornavn", "Kari")
    checked = work(at).checked()
    assert 9 in checked.invalid and "row 5" in checked.invalid[9]  # ID 100 was created on row 5
    assert checked.ready_rows == [6]
    at = send_to_sandbox(at)
    sandbox = at.session_state["sandbox"]
    ids = [r["customer_id"] for r in sandbox.received(work(at).draft.settings.target)]
    assert sorted(ids) == ["100", "101"]
    outcomes = work(at).outcomes()
    assert outcomes[5][0] == Status.CREATED and outcomes[6][0] == Status.CREATED
    book = openpyxl.load_workbook(__import__("io").BytesIO(work(at).report("xlsx")))
    assert book is not None


def test_a_file_name_is_never_rendered_as_markdown(app):
    name = "Kunder ![b](http://127.0.0.1:9/beacon.png) **fet**.xlsx"
    at = upload(app, name)
    shown = texts(at)
    assert r"Kunder \!\[b\]\(http\:\/\/127\.0\.0\.1\:9\/beacon\.png\)" in shown
    assert "![b](" not in shown and "**fet**" not in shown
    at.switch_page("pages/history.py").run()
    assert "![b](" not in texts(at)


def test_a_typed_address_is_never_sent_the_servers_token(seen_data_dir):
    secrets = {"seen": {"campaigns": {"autumn": "server-token"}}}
    at = to_check(new_app(secrets), campaign="autumn")
    at.switch_page("pages/map.py").run()
    at.radio(key="destination").set_value("seen").run()
    at.switch_page("pages/send.py").run()
    # With a token configured, there is no address to type: it goes to SEEN's own address only.
    assert not [t for t in at.text_input if t.key == "seen_address"]
    assert "server-token" not in texts(at)
    assert "https://api.seen.io" in plain(at)


def test_a_send_to_seen_asks_for_confirmation_and_a_typed_token(app):
    at = to_check(app)
    at.switch_page("pages/map.py").run()
    at.radio(key="destination").set_value("seen").run()
    at.switch_page("pages/send.py").run()
    assert at.button(key="send").disabled
    at.text_input(key="seen_address").set_value("http://127.0.0.1:9").run()
    at.checkbox(key="confirm_send").check().run()
    at.button(key="send").click().run()
    assert "token typed here" in plain(at)
    assert work(at).sends() == []


def test_history_deletes_only_after_asking(app):
    at = to_check(app)
    draft = work(at).draft.id
    at.switch_page("pages/history.py").run()
    at.button(key=f"delete_draft_{draft}").click().run()
    assert "Delete for good" in plain(at)
    at.button(key=f"keep_draft_{draft}").click().run()
    with Journal(default_path()) as journal:
        assert Work.open(journal, User(), draft)
    at.button(key=f"delete_draft_{draft}").click().run()
    at.button(key=f"really_delete_draft_{draft}").click().run()
    assert not [b for b in at.button if b.key == f"open_{draft}"]


def test_signed_in_users_see_only_their_own_drafts_and_links(seen_data_dir):
    auth = {"auth": {"client_id": "seen-sender"}}
    alice = new_app(auth, user="alice@example.no")
    alice = to_check(alice)
    draft = work(alice).draft.id
    assert work(alice).draft.user_id == "alice@example.no"

    bob = new_app(auth, user="bob@example.no", draft=draft)
    assert bob.session_state["work"] is None  # Alice's link shows Bob nothing
    bob.switch_page("pages/history.py").run()
    assert not [b for b in bob.button if b.key == f"open_{draft}"]
    admin = new_app(
        {**auth, "seen": {"admins": ["it@example.no"]}}, user="it@example.no", draft=draft
    )
    assert admin.session_state["work"].draft.id == draft


def test_with_sign_in_configured_nobody_gets_in_without_signing_in(seen_data_dir):
    at = new_app({"auth": {"client_id": "seen-sender"}}, user="")
    assert at.button(key="sign_in")
    assert "work" not in at.session_state or at.session_state["work"] is None


def test_a_damaged_journal_gets_a_message_and_help_still_works(seen_data_dir):
    seen_data_dir.mkdir(parents=True, exist_ok=True)
    (seen_data_dir / "journal.sqlite3").write_bytes(b"SQLite format 3\x00" + b"\x07" * 4000)
    at = new_app()
    assert not at.exception
    assert "damaged" in plain(at)
    at.switch_page("pages/help.py").run()
    assert not at.exception
    assert "What each status means" in plain(at)


def test_every_widget_has_a_key(app):
    at = to_check(app)
    for kind in ("button", "text_input", "selectbox", "number_input", "checkbox", "toggle"):
        for widget in getattr(at, kind):
            assert widget.key and not str(widget.key).startswith("$$"), (kind, widget.label)


def test_without_sign_in_every_page_warns_when_reached_from_elsewhere(seen_data_dir):
    at = AppTest.from_file(APP, default_timeout=30)
    at.context["url"] = "http://10.20.30.40:8501/"
    at.run()
    assert any("reachable from other machines" in w.value for w in at.warning)
    local = new_app()
    assert not any("reachable from other machines" in w.value for w in local.warning)


def test_a_send_to_a_sandbox_workspace_fetches_the_video_links(app):
    at = app
    at.button(key="demo").click().run()
    at.button(key="to_map").click().run()
    at.radio(key="target_kind").set_value("workspace").run()
    at.text_input(key="target_name").set_value(f"ws-{uuid.uuid4().hex[:6]}").run()
    assert "properties" in plain(at)
    at.button(key="to_check").click().run()
    at = send_to_sandbox(at)
    created = work(at).checked().counts["held"]
    assert created > 0
    at.button(key="fetch_links").click().run()
    at.session_state["links_thread"].join(timeout=30)
    at.run()
    assert f"{created} people with a video link" in plain(
        at
    ) or "1 person with a video link" in plain(at)
    films = next(d.value for d in at.dataframe if "Film" in d.value.columns)  # in the app
    assert len(films) == created
    assert films["Film"].str.startswith("http").all()
    assert films["Thumbnail"].notna().all()
    names = work(at).names()
    assert films["Person"].tolist() == [names[row] for row in films["Row"]]
    book = openpyxl.load_workbook(io.BytesIO(work(at).report("xlsx")))
    sheet = book[work(at).settings.sheet_name or book.sheetnames[0]]
    header = [
        c.value for c in next(r for r in sheet.iter_rows() if any(c.value == "Video" for c in r))
    ]
    assert "Video" in header


def test_the_servers_token_never_reaches_an_address_typed_in_the_page(seen_data_dir, monkeypatch):
    """The exfiltration attempt: a configured token, and a listener's address slipped into the
    page's state. The people and the token go to the configured address only."""
    import http.server
    import threading

    from seen_core.sandbox import Sandbox

    hits: list[str] = []

    class Listener(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.headers.get("Authorization", ""))
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args):
            pass

    listener = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Listener)
    threading.Thread(target=listener.serve_forever, args=(0.05,), daemon=True).start()
    with Sandbox(token="server-token-7f3a", campaigns=None) as configured:
        monkeypatch.setenv("SEEN_API_TOKEN", "server-token-7f3a")
        monkeypatch.setenv("SEEN_BASE_URL", configured.url)
        at = to_check(new_app(), campaign="autumn")
        at.switch_page("pages/map.py").run()
        at.radio(key="destination").set_value("seen").run()
        at.switch_page("pages/send.py").run()
        at.session_state["seen_address"] = f"http://127.0.0.1:{listener.server_port}/x"
        at.checkbox(key="confirm_send").check().run()
        at.button(key="send").click().run()
        at.session_state["registry"].preparing(work(at).draft.id).thread.join(timeout=30)
        job = work(at).sends()[-1]
        at.session_state["registry"].get(job.id).thread.join(timeout=30)
        assert [r["customer_id"] for r in configured.received("autumn")] == ["100"]
    listener.shutdown()
    assert hits == []
    assert "server-token-7f3a" not in plain(at)


@pytest.mark.parametrize("bomb", ["corner_bomb", "long_string_bomb", "repeated_rows_bomb"])
def test_a_bomb_gets_one_sentence_and_the_app_goes_on(app, bomb):
    import builders

    at = upload(app, "bombe.xlsx", getattr(builders, bomb)())
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "limit" in errors[0]
    assert work(at) is None  # no draft is made of a file that cannot be read
    at = upload(at, "kunder.xlsx")
    assert "Read 7 people" in plain(at)


def test_the_server_does_not_collect_all_garbage_after_every_run(monkeypatch):
    """Streamlit collects all garbage after every run by default; with a 100,000-row draft in
    memory that took 0.13-0.27 s after each click and each fixed cell (AppTest's runner never
    does it, so this reads the setting as the served app does; Python's own collector still
    runs as objects are made)."""
    from streamlit import config

    monkeypatch.chdir(Path(APP).parent)  # where `streamlit run app.py` reads .streamlit/
    config.get_config_options(force_reparse=True)
    try:
        assert config.get_option("runner.postScriptGC") is False
    finally:
        monkeypatch.undo()
        config.get_config_options(force_reparse=True)


def _to_results_with(name: str, data: bytes) -> AppTest:
    at = upload(new_app(), name, data)
    at.button(key="to_map").click().run()
    at.text_input(key="target_name").set_value(f"vinter-{uuid.uuid4().hex[:8]}").run()
    at.button(key="to_check").click().run()
    return send_to_sandbox(at)


def test_results_names_a_macro_workbook_xlsm_and_says_what_a_rebuilt_one_lacks(seen_data_dir):
    from corpus import openpyxl_rich
    from report_books import crm_export
    from test_report_packages import with_doctype

    macros = _to_results_with("kunder.xlsm", crm_export(vba=True))
    made = work(macros).report_file("xlsx")  # what the page offers (made once a state)
    assert work(macros).report_name(made.suffix) == "kunder-seen.xlsm" and not made.lacks
    assert not macros.warning

    rebuilt = _to_results_with("kunder.xlsx", with_doctype(openpyxl_rich()))
    said = plain(rebuilt)
    assert "kunder.xlsx could not be annotated in place (" in said
    assert "The new workbook has no pictures, charts, comments, tables, merged cells" in said


def test_narrowed_to_a_column_the_reason_and_the_cell_to_fix_come_first(app):
    at = to_check(app)
    narrowings = next(box for box in at.selectbox if box.label == "Show")
    assert "Phone number not valid — 1 row" in narrowings.options  # as the user reads them
    assert "Column Mobil — 2 rows" in narrowings.options
    narrowings.set_value("column:Mobil").run()
    grid = at.data_editor(key=at.session_state["fix_editor_key"]).value
    header = grid.columns.tolist()
    assert header[:2] == ["Why", "Mobil — fix here"]
    assert header[2:6] == ["Fornavn", "Etternavn", "Kundenr", "E-post"]  # who the person is
    assert all("phone" in why or "Neither" in why for why in grid["Why"])


def test_a_suggested_fix_is_shown_applied_for_all_like_it_and_undone(app):
    rows = [["Fornavn", "E-post", "Kundenr"]] + [
        [name, f"{name.lower()}@gmial.com", str(n)] for n, name in enumerate(["OLA", "Kari", "Per"])
    ]
    from builders import csv_bytes

    at = upload(app, "folk.csv", csv_bytes(rows))
    at.button(key="to_map").click().run()
    at.text_input(key="target_name").set_value(f"typo-{uuid.uuid4().hex[:6]}").run()
    at.button(key="to_check").click().run()
    button = at.button(key="suggest_all_email_domain_typo")
    label = button.label.replace("\\", "")
    assert "apply the suggested fix to all 3 rows like it" in label
    assert "'ola@gmial.com' → 'ola@gmail.com'" in label  # shown before it is applied
    button.click().run()
    assert work(at).table["E-post"].tolist() == ["ola@gmail.com", "kari@gmail.com", "per@gmail.com"]
    assert (
        at.button(key="undo")
        .label.replace("\\", "")
        .endswith("Suggested fix: E-mail domain looks mistyped (3 rows)")
    )
    at.button(key="undo").click().run()
    assert work(at).table.at[2, "E-post"] == "ola@gmial.com"
    key = at.session_state["fix_editor_key"]  # one row: tick Apply beside its cell
    grid = at.data_editor(key=key).value
    at.session_state[key] = {
        "edited_rows": {grid.index.tolist().index(3): {"Apply": True}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert work(at).table["E-post"].tolist() == ["ola@gmial.com", "kari@gmail.com", "per@gmial.com"]


def test_a_refused_extra_field_name_is_said_beside_next_not_counted_against_every_row(app):
    at = upload(app)
    at.button(key="to_map").click().run()
    assert "velkomst" not in (at.text_input(key="target_name").placeholder or "")
    assert "Next needs the campaign the people go to" in plain(at)
    at.text_input(key="target_name").set_value(f"words-{uuid.uuid4().hex[:6]}").run()
    assert sidebar_metrics(at) == {"Rows": "7", "Ready to send": "1", "Need attention": "6"}
    key = at.session_state["extras_key"]
    names = at.data_editor(key=key).value["Column"].tolist()
    at.session_state[key] = {
        "edited_rows": {names.index("Antall mil"): {"Name in SEEN": "Antall mil!"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert at.button(key="to_check").disabled
    assert "Next needs another extra field name for column 'Antall mil'" in plain(at)
    assert sidebar_metrics(at) == {"Rows": "7", "Rows to fix": "6"}  # not 0 ready of 7


def test_the_start_page_offers_the_last_draft_and_sends_are_numbered_per_draft(app):
    at = to_check(app)
    at = send_to_sandbox(at)
    draft = work(at).draft
    again = new_app()  # the bare address, in a new session
    assert draft.name in plain(again) and "was left at Results" in plain(again)
    again.button(key="continue_last").click().run()
    assert again.title[0].value == "Results"
    assert work(again).draft.id == draft.id
    again.switch_page("pages/history.py").run()
    assert "Send 1 (" in plain(again) and "Send #" not in plain(again)
    assert again.text_input(key=f"name_{draft.id}").label.startswith("Rename this draft")
    assert not again.text_input(key="history_search").placeholder
