"""`streamlit run app.py` serves SEEN's callback routes beside the pages, on the same port."""

from __future__ import annotations

import urllib.request

import requests
from browser import serve

from seen_core.engagement import EngagementStore, default_store_path

SECRET = "team-callback-secret-5d1e"


def test_the_app_stores_a_callback_on_its_own_server_and_still_serves_its_pages(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[seen.callbacks]\nsecret = "{SECRET}"\n', encoding="utf-8")
    data = tmp_path / "data"
    film = {"id": "42", "player": "https://play.seen.example/42", "shoe_size": 44}

    with serve(data, secrets=secrets) as url:
        stored = requests.post(
            f"{url}/seen/v2/workspaces/ws-1/film",
            json=film,
            headers={"Authorization": f"Bearer {SECRET}"},
            timeout=30,
        )
        refused = requests.post(f"{url}/seen/v2/workspaces/ws-1/film", json=film, timeout=30)
        with urllib.request.urlopen(f"{url}/", timeout=30) as page:
            html = page.read().decode()
        signin = requests.get(f"{url}/oauth2callback", timeout=30, allow_redirects=False)
        nothing = requests.get(f"{url}/no-such-route", timeout=30, allow_redirects=False)

    assert stored.status_code == 201 and stored.json() == {"stored": True, "new": True}
    assert refused.status_code == 401 and refused.json() == {"error": "Unauthorized."}
    assert '<div id="root">' in html or 'id="root"' in html  # the app's page
    # st.login's route still answers as itself (a path no route serves gets the app's page)
    assert signin.status_code == 302 and nothing.status_code == 200
    with EngagementStore(default_store_path(data / "journal.sqlite3")) as store:
        (raw,) = store.raw_calls("workspace/ws-1", "42")
    assert '"shoe_size":44' in raw
