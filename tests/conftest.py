"""Shared pytest fixtures."""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The tests start many Python processes (command-line sends, each upload's reader, the app's
# server); they read the project's compiled modules instead of compiling them again, even where
# PYTHONDONTWRITEBYTECODE is set, because this process writes them.
sys.dont_write_bytecode = False

from seen_core.sandbox import DEFAULT_TOKEN, Sandbox  # noqa: E402  (after the line above)

# -- sandbox: the local SEEN stand-in on 127.0.0.1 ------------------------------------------

SANDBOX_CAMPAIGN = "spring-campaign"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A running sandbox that knows one campaign, `spring-campaign`, and DEFAULT_TOKEN."""
    with Sandbox(token=DEFAULT_TOKEN, campaigns={SANDBOX_CAMPAIGN}) as running:
        yield running


# -- the app (tests/test_app.py, tests/test_browser.py) -----------------------------------------


@pytest.fixture
def seen_data_dir(tmp_path, monkeypatch):
    """An empty data folder for the app's journal, mappings and kept sheets."""
    folder = tmp_path / "seen-data"
    monkeypatch.setenv("SEEN_DATA_DIR", str(folder))
    for name in list(os.environ):  # a developer's own tokens and targets stay out
        if name.startswith(("SEEN_API_TOKEN", "SEEN_BASE_URL", "SEEN_TARGET_")):
            monkeypatch.delenv(name, raising=False)
    return folder


@pytest.fixture(autouse=True)
def navigation_as_served(monkeypatch):
    """Run app.py on every AppTest run, as `streamlit run` does once `st.navigation` has run.

    AppTest forgets between runs that the app uses `st.navigation`; with a folder named
    `pages/` it then runs the page's file alone (Streamlit's older multipage mode), skipping
    the frame in app.py (sign-in, the draft, the step bar) that a real server always runs.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture(autouse=True, scope="session")
def installed_components_scanned_once():
    """Scan the installed packages for Streamlit components once per test session.

    Every new AppTest scans the metadata of every installed package (about 0.4 s each time);
    what is installed does not change while the tests run.
    """
    from streamlit.components.v2 import manifest_scanner

    original = manifest_scanner.scan_component_manifests
    manifest_scanner.scan_component_manifests = functools.cache(original)
    yield
    manifest_scanner.scan_component_manifests = original


@pytest.fixture(autouse=True, scope="session")
def scripts_compiled_once():
    """Compile app.py and each page once per test session, as a running server does.

    Every AppTest run starts with an empty script cache, so without this each run parses
    and compiles the frame and the page again (with Streamlit's "magic" rewriting): that was
    four tenths of the time of the app tests. A file changed on disk is compiled anew.
    """
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache

    original = ScriptCache.get_bytecode
    compiled: dict[tuple[str, int, int], object] = {}

    def get_bytecode(self, script_path: str):
        stat = os.stat(script_path)
        key = (os.path.abspath(script_path), stat.st_mtime_ns, stat.st_size)
        if key not in compiled:
            compiled[key] = original(self, script_path)
        return compiled[key]

    ScriptCache.get_bytecode = get_bytecode
    yield
    ScriptCache.get_bytecode = original


# -- a real small disk (tmpfs), for a journal that runs out of room ---------------------------


@pytest.fixture
def small_disk(tmp_path) -> Iterator[SmallDisk]:
    """A tmpfs of 2 MB of its own, mounted in the test's folder (needs root, as in CI)."""
    disk = SmallDisk(tmp_path / "small-disk")
    disk.path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(disk.path)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk.path)], check=False)


class SmallDisk:
    """A mounted tmpfs: fill it to the last byte, free it, or make it read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler"

    def fill(self) -> None:
        """Take every free byte (as another program's big file would)."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            for size in (1 << 16, 1 << 12, 1 << 9, 1):
                with contextlib.suppress(OSError):
                    while True:
                        os.write(fd, b"\0" * size)
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def read_only(self) -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(self.path)], check=True)
