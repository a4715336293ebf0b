"""docs/SETUP.md's nginx example, run exactly as documented (only the ports are this test's):
SEEN's calls reach the app through it; the pages and /_stcore/ do not."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests
from browser import free_port, serve

REPO = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SECRET = "proxy-secret-2e9f"

if not Path(NGINX).exists() and not os.environ.get("CI"):
    pytest.skip("nginx is not installed (apt-get install -y nginx)", allow_module_level=True)


def documented_config() -> str:
    """The nginx block of docs/SETUP.md that follows its test marker, as written there."""
    text = (REPO / "docs" / "SETUP.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- seen-callbacks-nginx:.*?-->\s*```nginx\n(.*?)```", text, re.S)
    assert found, "docs/SETUP.md has no nginx block after its marker"
    return found.group(1)


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_the_documented_nginx_passes_only_seens_calls_to_the_app(tmp_path):
    config = documented_config()
    assert "listen 8080;" in config and "127.0.0.1:8501" in config
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[seen.callbacks]\nsecret = "{SECRET}"\n', encoding="utf-8")
    with serve(tmp_path / "data", secrets=secrets) as app_url:
        app_port = int(app_url.rsplit(":", 1)[1])
        proxy_port = free_port()
        site = config.replace("listen 8080;", f"listen 127.0.0.1:{proxy_port};").replace(
            "127.0.0.1:8501", f"127.0.0.1:{app_port}"
        )
        (tmp_path / "seen-callbacks.conf").write_text(site, encoding="utf-8")
        temp = "".join(
            f"{kind}_temp_path {tmp_path}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (tmp_path / "nginx.conf").write_text(
            f"worker_processes 1;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
            f"events {{}}\nhttp {{\naccess_log off;\n{temp}"
            f"include {tmp_path}/seen-callbacks.conf;\n}}\n",
            encoding="utf-8",
        )
        nginx = subprocess.Popen(
            [NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
             "-e", str(tmp_path / "error.log"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 20
            while not listening(proxy_port):
                if nginx.poll() is not None:
                    pytest.fail(f"nginx exited: {nginx.stderr.read().decode()[-2000:]}")
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
            proxy = f"http://127.0.0.1:{proxy_port}"
            film = {"id": "9", "player": "https://play.seen.example/9"}
            auth = {"Authorization": f"Token {SECRET}"}

            stored = requests.post(f"{proxy}/seen/v2/workspaces/ws-1/film", json=film, headers=auth)
            refused = requests.post(f"{proxy}/seen/v2/workspaces/ws-1/film", json=film)
            big = requests.post(
                f"{proxy}/seen/v2/workspaces/ws-1/film",
                json={**film, "pad": "x" * 70_000},
                headers=auth,
            )
            page = requests.get(f"{proxy}/")
            health = requests.get(f"{proxy}/_stcore/health")
            stream = requests.get(f"{proxy}/_stcore/stream")
            read = requests.get(f"{proxy}/seen/v2/workspaces/ws-1/film", headers=auth)
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)

    assert stored.status_code == 201 and stored.json() == {"stored": True, "new": True}
    assert refused.status_code == 401
    assert big.status_code == 413
    assert page.status_code == 404 and 'id="root"' not in page.text  # not the app's page
    assert health.status_code == 404 and health.text != "ok"
    assert stream.status_code == 404
    assert read.status_code == 403  # only POST passes
