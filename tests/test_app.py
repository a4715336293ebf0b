"""The Streamlit app under AppTest: every page opens, and the whole flow works end to end."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from builders import messy_workbook
from streamlit.testing.v1 import AppTest

from seen_core.journal import Journal, default_path
from seen_core.session import SheetStore, report_workbook

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = ["pages/send.py", "pages/history.py", "pages/sandbox.py", "pages/help.py"]


@pytest.fixture
def app(seen_data_dir) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["seen"] = {"base_url": "http://127.0.0.1:9"}  # no token: the sandbox is the default
    return at.run()


def upload(at: AppTest, name: str, data: bytes, campaign: str = "autumn") -> AppTest:
    at.text_input(key="campaign").set_value(campaign)
    return at.file_uploader(key="upload").set_value((name, data, "application/octet-stream")).run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def edit_cell(at: AppTest, row: int, column: str, value: str) -> AppTest:
    key = at.session_state["fix_editor_key"]
    rows = at.data_editor(key=key).value.index.tolist()
    at.session_state[key] = {
        "edited_rows": {rows.index(row): {column: value}},
        "added_rows": [],
        "deleted_rows": [],
    }
    return at.run()


def wait_for_send(at: AppTest) -> int:
    """Wait for the app's send thread to end, then let the page show the results."""
    job_id = at.session_state["job_id"]
    send = at.session_state["_registry"].get(job_id)
    send.thread.join(timeout=30)
    assert send.finished, "the send did not finish"
    for _ in range(5):  # the progress panel reruns the page once when it sees the end
        at.run()
        if any(m.label == "Created" for m in at.metric):
            break
    return job_id


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens(app, page):
    app.switch_page(page).run()
    assert not app.exception


def test_the_whole_flow_from_messy_workbook_to_annotated_report(app):
    at = upload(app, "kunder.xlsx", messy_workbook())
    assert not at.exception
    assert not at.error
    assert at.selectbox(key="sheet_pick").value == "Mottakere"  # not the notes sheet before it
    assert at.number_input(key="header_row").value == 4  # under the title rows
    # The suggested mapping is pre-filled and marked.
    assert at.selectbox(key="map_first_name").value == "Fornavn"
    assert at.selectbox(key="map_phone").value == "Mobil"
    assert "(suggested)" in at.selectbox(key="map_email").format_func("E-post")
    assert metrics(at) == {"Rows": "7", "Ready to send": "1", "Invalid": "6", "Warnings": "0"}

    at = edit_cell(at, 6, "Fornavn", "Kari")
    assert not at.exception
    assert metrics(at)["Ready to send"] == "2"
    assert 6 not in at.data_editor(key=at.session_state["fix_editor_key"]).value.index

    send = at.button(key="send")
    assert send.label == "Send 2 receivers to the sandbox"
    send.click().run()
    assert not at.exception
    job_id = wait_for_send(at)
    assert metrics(at)["Created"] == "2"
    assert metrics(at)["Invalid"] == "5"
    sandbox = at.session_state["_sandbox"]
    assert [r["first_name"] for r in sandbox.received("autumn")][-2:] == ["Ola", "Kari"]

    journal = Journal(default_path())
    book = openpyxl.load_workbook(io.BytesIO(report_workbook(journal, job_id, SheetStore(journal))))
    sheet = book.worksheets[0]
    status = [c.value for c in sheet[4]].index("SEEN status") + 1
    assert {r: sheet.cell(r, status).value for r in (5, 6, 7, 9, 10, 11, 12)} == {
        5: "created",
        6: "created",
        7: "invalid",
        9: "invalid",
        10: "invalid",
        11: "invalid",
        12: "invalid",
    }
    assert sheet.cell(6, 2).value == "Kari"  # the report holds the fixed cell
    assert "Summary" in book.sheetnames
    found = [(r[0], r[3]) for r in book["Problems"].iter_rows(min_row=2, values_only=True)]
    assert (7, "email_invalid") in found and (9, "customer_id_duplicate") in found
    assert (6, "first_name_missing") not in found  # fixed before the send


def test_the_send_button_is_disabled_while_a_send_runs_and_cancel_reaches_it(app):
    at = upload(app, "kunder.xlsx", messy_workbook(), campaign="guarded")
    sandbox = at.session_state["_sandbox"]
    sandbox.latency = 1.0  # the one request takes a second: the page sees the send running
    try:
        at.button(key="send").click().run()
        assert at.button(key="send").disabled
        assert at.button(key="cancel_send")
        with pytest.raises(Exception, match="disabled"):
            at.button(key="send").click()
        # A reload (a new session) finds the running send by the job id in the address.
        reloaded = AppTest.from_file(APP, default_timeout=30)
        reloaded.secrets["seen"] = {"base_url": "http://127.0.0.1:9"}
        reloaded.query_params["job"] = str(at.session_state["job_id"])
        reloaded.run()
        assert "Sending…" in reloaded.get("progress")[0].proto.text
        assert reloaded.button(key="cancel_send")
        at.button(key="cancel_send").click().run()
        assert at.session_state["_registry"].get(at.session_state["job_id"]).cancel.is_set()
    finally:
        sandbox.latency = 0.0
    wait_for_send(at)
    assert not at.button(key="send").disabled
    assert len(Journal(default_path()).jobs()) == 1


def test_a_second_send_of_the_same_file_asks_first(app):
    at = upload(app, "kunder.xlsx", messy_workbook(), campaign="twice")
    at.button(key="send").click().run()
    wait_for_send(at)
    at.button(key="send").click().run()
    assert any("already sent" in w.value for w in at.warning)
    assert len(Journal(default_path()).jobs()) == 1
    at.checkbox(key="force_send").check().run()
    at.button(key="send").click().run()
    wait_for_send(at)
    assert len(Journal(default_path()).jobs()) == 2
    at.button(key="send").click().run()  # forcing once does not force the next send
    assert any("already sent" in w.value for w in at.warning)
    assert len(Journal(default_path()).jobs()) == 2


def test_failed_rows_come_back_to_be_fixed_and_sent_again(app):
    at = upload(app, "kunder.xlsx", messy_workbook(), campaign="again")
    at.button(key="send").click().run()
    wait_for_send(at)
    at.button(key="resend_failed").click().run()
    assert metrics(at)["Rows"] == "6"
    at = edit_cell(at, 7, "E-post", "per@example.no")
    # Row 9 repeated row 5's customer ID; without row 5 in the table it passes the checks,
    # and SEEN (here the sandbox) refuses it because row 5 was created with that ID.
    assert at.button(key="send").label == "Send 2 receivers to the sandbox"
    at.button(key="send").click().run()
    job_id = wait_for_send(at)
    outcomes = Journal(default_path()).outcomes(job_id)
    assert outcomes[7][0] == "created"
    assert outcomes[9] == ("rejected", "customer_id: A receiver with this ID already exists.")
    assert 5 not in outcomes


def test_a_reload_finds_the_send_again_by_its_link(app):
    at = upload(app, "kunder.xlsx", messy_workbook(), campaign="reload")
    at.button(key="send").click().run()
    job_id = wait_for_send(at)
    reloaded = AppTest.from_file(APP, default_timeout=30)
    reloaded.secrets["seen"] = {"base_url": "http://127.0.0.1:9"}
    reloaded.query_params["job"] = str(job_id)
    reloaded.run()
    assert not reloaded.exception
    assert metrics(reloaded)["Created"] == "1"


def test_a_bad_file_gets_one_friendly_sentence(app):
    at = upload(app, "kunder.xlsx", b"this is not a workbook at all")
    assert not at.exception
    assert len(at.error) == 1
    assert "could not be opened" in at.error[0].value
    assert not at.metric


def test_an_illegal_extra_args_key_blocks_the_check(app):
    at = upload(app, "kunder.xlsx", messy_workbook())
    key = at.session_state["extras_editor_key"]
    columns = at.data_editor(key=key).value["Column"].tolist()
    at.session_state[key] = {
        "edited_rows": {columns.index("Kjønn"): {"extra_args key": "kjønn"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert any("Kjønn" in e.value and "kjonn" in e.value for e in at.error)
    assert not at.metric  # nothing is checked until the key is fixed


def test_the_demo_file_loads_with_its_deliberate_problems_and_sends(app):
    at = app.button(key="demo").click().run()
    assert not at.exception
    assert metrics(at) == {"Rows": "10", "Ready to send": "5", "Invalid": "5", "Warnings": "0"}
    problems = next(d.value for d in at.dataframe if "Problem" in d.value.columns)
    assert problems["Row"].tolist() == [6, 7, 9, 10, 11]
    assert at.text_input(key="campaign").value == "demo-campaign"
    at.button(key="send").click().run()
    wait_for_send(at)
    assert metrics(at)["Created"] == "5"


def test_the_mapping_is_remembered_for_the_campaign(app):
    at = upload(app, "kunder.xlsx", messy_workbook(), campaign="remember")
    at.selectbox(key="map_last_name").set_value(None).run()
    at.button(key="send").click().run()
    wait_for_send(at)
    fresh = AppTest.from_file(APP, default_timeout=30)
    fresh.secrets["seen"] = {"base_url": "http://127.0.0.1:9"}
    fresh = upload(fresh.run(), "kunder.xlsx", messy_workbook(), campaign="remember")
    assert fresh.selectbox(key="map_last_name").value is None
    assert any("remember" in i.value for i in fresh.info)


def all_text(at: AppTest) -> str:
    """Everything the page sends to the browser, as text."""
    return "\n".join(str(node.proto) for node in at._tree.main.children.values()) + str(
        [str(n.proto) for n in at.sidebar.children.values()]
    )


def test_a_send_to_seen_asks_for_confirmation_and_never_shows_the_token(app):
    at = upload(app, "kunder.xlsx", messy_workbook(), campaign="real-one")
    sandbox = at.session_state["_sandbox"]
    # SEEN is played by the sandbox; the campaign's token comes from secrets.toml.
    at.secrets["seen"] = {"base_url": sandbox.url, "campaigns": {"real-one": "sandbox-token"}}
    at.radio(key="target").set_value("seen").run()
    assert at.button(key="send").disabled  # not before the confirmation
    assert any("secrets.toml [seen.campaigns] real-one" in c.value for c in at.caption)
    at.checkbox(key="confirm_send").check().run()
    assert (
        "Yes, create 1 receiver on the SEEN campaign 'real-one'"
        in at.checkbox(key="confirm_send").label
    )
    at.button(key="send").click().run()
    job_id = wait_for_send(at)
    assert Journal(default_path()).job(job_id).target == sandbox.url
    assert [r["first_name"] for r in sandbox.received("real-one")] == ["Ola"]
    assert "sandbox-token" not in all_text(at)
    assert "sandbox-token" not in repr(at.session_state.to_dict())


def test_history_resumes_an_unfinished_send_and_deletes_one(app, seen_data_dir):
    from builders import messy_workbook as book

    from seen_core.checks import check_sheet
    from seen_core.mapping import suggest
    from seen_core.sending import plan_send
    from seen_core.session import send_plan
    from seen_core.sheets import read_sheet

    sheet = read_sheet("kunder.xlsx", book())
    mapping = suggest(sheet.columns)
    receivers, invalid = send_plan(sheet.table, mapping, check_sheet(sheet.table, mapping), "NO")
    journal = Journal(default_path())
    job_id = plan_send(
        journal,
        file_name=sheet.file_name,
        file_sha256=sheet.sha256,
        campaign="resume-me",
        target="sandbox",
        batch_size=100,
        receivers=receivers,
        invalid=invalid,
    )
    at = app.switch_page("pages/history.py").run()
    assert not at.exception
    at.button(key=f"history_resume_{job_id}").click().run()
    send = at.session_state["_registry"].get(job_id)
    send.thread.join(timeout=30)
    at.run()
    assert journal.job(job_id).state == "finished"
    assert journal.job(job_id).counts["created"] == 1
    assert not [b for b in at.button if b.key == f"history_resume_{job_id}"]
    at.button(key=f"history_delete_{job_id}").click().run()
    assert journal.jobs() == []
    assert any("Nothing has been sent yet" in i.value for i in at.info)


def test_a_saved_mapping_file_can_be_loaded(app):
    at = upload(app, "kunder.xlsx", messy_workbook())
    mapping = (
        '{"first_name": "Fornavn", "last_name": null, "email": "E-post", "phone": null,'
        ' "customer_id": "Kundenr", "extra_args": {"gender": "Kjønn"}}'
    )
    at.file_uploader(key="mapping_upload").set_value(
        ("autumn-mapping.json", mapping.encode(), "application/json")
    ).run()
    assert not at.exception
    assert at.selectbox(key="map_phone").value is None
    assert at.selectbox(key="map_last_name").value is None
    extras = at.data_editor(key=at.session_state["extras_editor_key"]).value
    sent = extras[extras["Send"]]
    assert dict(zip(sent["extra_args key"], sent["Column"], strict=True)) == {"gender": "Kjønn"}
    assert any("autumn-mapping.json" in i.value for i in at.info)


def test_a_mapping_file_that_is_not_json_is_refused_in_one_sentence(app):
    at = upload(app, "kunder.xlsx", messy_workbook())
    at.file_uploader(key="mapping_upload").set_value(("m.json", b"{oops", "application/json"))
    at.run()
    assert not at.exception
    assert any("is not a mapping file" in e.value for e in at.error)


def widgets(node) -> list:
    from streamlit.testing.v1.element_tree import Widget

    found = [node] if isinstance(node, Widget) else []
    for child in getattr(node, "children", {}).values():
        found += widgets(child)
    return found


def test_every_widget_has_a_key(app):
    at = upload(app, "kunder.xlsx", messy_workbook(), campaign="keys")
    at.radio(key="target").set_value("seen").run()
    at.radio(key="target").set_value("sandbox").run()
    at.button(key="send").click().run()
    wait_for_send(at)
    found = widgets(at._tree)
    for page in PAGES[1:]:
        at.switch_page(page).run()
        found += widgets(at._tree)
    assert len(found) > 15
    assert [type(w).__name__ for w in found if not w.key] == []


def test_a_refused_token_stops_the_send_and_says_so(app):
    at = upload(app, "kunder.xlsx", messy_workbook(), campaign="wrong-token")
    sandbox = at.session_state["_sandbox"]
    at.secrets["seen"] = {"base_url": sandbox.url, "campaigns": {"wrong-token": "not-the-token"}}
    at.radio(key="target").set_value("seen").run()
    at.checkbox(key="confirm_send").check().run()
    at.button(key="send").click().run()
    wait_for_send(at)
    assert any("SEEN refused the token" in e.value for e in at.error)
    assert metrics(at)["Not sent"] == "1"
    assert sandbox.received("wrong-token") == []
    assert "not-the-token" not in all_text(at)


def test_the_app_purges_sends_older_than_the_retention(seen_data_dir, monkeypatch):
    from datetime import timedelta

    from seen_core import journal as journal_module

    real_now = journal_module._now()
    monkeypatch.setattr(journal_module, "_now", lambda: real_now - timedelta(days=31))
    with Journal(default_path()) as old:
        job_id = old.create_job(
            file_name="old.xlsx", file_sha256="0" * 64, campaign="autumn", target="sandbox",
            batch_size=10, receivers=[(2, {"first_name": "Gammel"})], invalid={},
        )  # fmt: skip
        old.release(old.claim(job_id), "finished")
    monkeypatch.setattr(journal_module, "_now", lambda: real_now)

    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page("pages/history.py").run()
    assert not at.exception
    assert at.session_state["_journal"].jobs() == []


def test_rows_seen_may_have_created_are_flagged_and_not_offered_again(app):
    from builders import csv_bytes

    people = csv_bytes([["First name", "Email"], ["Anna", "anna@example.com"], ["Bo", "bo@x.no"]])
    at = upload(app, "people.csv", people, campaign="lost-answer")
    at.session_state["_sandbox"].inject("drop_after")  # stored, but the answer is lost
    at.button(key="send").click().run()
    wait_for_send(at)

    assert metrics(at)["Unknown"] == "2"
    assert len(at.session_state["_sandbox"].received("lost-answer")) == 2  # sent once only
    assert any("may have created them" in w.value for w in at.warning)
    assert not [b for b in at.button if b.key == "resend_failed"]


def test_a_new_tab_sees_a_running_send_and_can_follow_it(app):
    at = upload(app, "kunder.xlsx", messy_workbook(), campaign="elsewhere")
    sandbox = at.session_state["_sandbox"]
    usual = sandbox.latency
    sandbox.latency = 1.0  # long enough for the other tab to look while it runs
    try:
        at.button(key="send").click().run()
        job_id = at.session_state["job_id"]
        other = AppTest.from_file(APP, default_timeout=30)  # a new tab: no link to the send
        other.secrets["seen"] = {"base_url": "http://127.0.0.1:9"}
        other.run()
        assert any(f"Send #{job_id} of kunder.xlsx" in i.value for i in other.info)
        other.button(key=f"follow_{job_id}").click().run()
        assert other.session_state["job_id"] == job_id
    finally:
        sandbox.latency = usual
    wait_for_send(at)
    other.run()
    assert metrics(other)["Created"] == "1"
