"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from seen_core.sandbox import DEFAULT_TOKEN, Sandbox

# -- sandbox: the local SEEN stand-in on 127.0.0.1 ------------------------------------------

SANDBOX_CAMPAIGN = "spring-campaign"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A running sandbox that knows one campaign, `spring-campaign`, and DEFAULT_TOKEN."""
    with Sandbox(token=DEFAULT_TOKEN, campaigns={SANDBOX_CAMPAIGN}) as running:
        yield running
