"""Results and History show each send's films and what viewers did, as SEEN's calls come in
(over real HTTP, to the routes over the app's own store)."""

from __future__ import annotations

import json

from callback_server import films_made
from test_app import new_app, send_to_sandbox, texts, to_check, work

from seen_core.engagement import engagement_for_job
from seen_core.engagement.serving import shared_store

SECRET = "results-secret-4c8a"


def test_results_and_history_show_films_and_viewers_as_seen_calls_back(seen_data_dir):
    at = to_check(new_app(), campaign="films-and-viewers")
    at = send_to_sandbox(at)
    journal = work(at).journal
    job = work(at).sends()[-1]
    assert "No film is ready yet" in texts(at)
    store = shared_store(journal.path)
    people = [p.id for p in engagement_for_job(journal, store, job.id).rows]
    assert people  # the messy sheet's ready row was created

    films_made(store, people, campaign="films-and-viewers", secret=SECRET)
    at.run()

    assert not at.exception
    said = texts(at)
    assert f"{len(people)} of {len(people)} films ready · 0 opened" in said
    (table,) = [d.value for d in at.dataframe if "Film" in d.value.columns]
    assert list(table["Film"]) == [f"https://watch.seen.example/{p}" for p in people]
    (funnel,) = at.get("vega_lite_chart")
    spec = json.loads(funnel.proto.spec)
    # Every stage of the funnel is named on its axis (Vega-Lite drops every other label else).
    assert spec["encoding"]["y"]["axis"]["labelOverlap"] is False

    at.switch_page("pages/history.py").run()
    assert not at.exception
    (history,) = [d.value for d in at.dataframe if "Film" in d.value.columns]
    assert list(history["ID"]) == people


def test_help_shows_an_admin_what_to_paste_into_seen_per_target(seen_data_dir):
    secrets = {
        "seen": {
            "callbacks": {"secret": SECRET, "targets": {"workspace/ws-1": "ws-own-secret-77"}},
            "campaigns": {"spring": "token-of-spring"},
        }
    }
    at = new_app(secrets).switch_page("pages/help.py").run()
    at.text_input(key="callback_public_base").set_value("https://seen-calls.example.com").run()

    assert not at.exception
    codes = "\n".join(c.value for c in at.code)
    assert "POST https://seen-calls.example.com/seen/v2/workspaces/ws-1/film" in codes
    assert "POST https://seen-calls.example.com/seen/v2/workspaces/ws-1/event" in codes
    assert '"event": "{{event_name}}"' in codes and '"timestamp": "{{timestamp}}"' in codes
    assert "POST https://seen-calls.example.com/seen/v1/callback" in codes
    assert "ws-own-secret-77" not in codes and SECRET not in codes  # until asked for
    at.toggle(key="callback_show_secrets").set_value(True).run()
    codes = "\n".join(c.value for c in at.code)
    assert "Authorization: Bearer ws-own-secret-77" in codes
    assert f"Authorization: Token {SECRET}" in codes  # spring has the shared one


def test_help_shows_no_secrets_to_a_user_who_is_no_admin(seen_data_dir):
    secrets = {
        "auth": {"client_id": "seen-sender"},
        "seen": {"callbacks": {"secret": SECRET}, "campaigns": {"spring": "t"}},
    }
    at = new_app(secrets, user="kari@example.no").switch_page("pages/help.py").run()
    assert not at.exception
    assert "SEEN's calls back to this app" not in [s.value for s in at.subheader]
    assert SECRET not in "\n".join(c.value for c in at.code)
