"""After the send: SEEN's callbacks and viewer events, received on the app's own server.

SEEN calls back when a person's film is made (v1 callbacks, the 2.0 Journey "Webhook" node) and
each time a viewer acts (2.0 External Events). `routes` answers those calls under `/seen/`
(Starlette, served beside the app by `st.App`); `calls` authenticates and reads one call;
`store` keeps what they bring in a SQLite file of its own beside the journal, written by one
thread in batches; `figures` matches it to the people of a user's sends and counts films ready,
opened, played, watched and clicked; `secrets` holds the secret each target's calls must carry.
See docs/ARCHITECTURE.md ("After the send").
"""

from __future__ import annotations

from seen_core.engagement.calls import EVENTS, Event, Film, Refusal
from seen_core.engagement.figures import (
    Engagement,
    PersonEngagement,
    engagement_for_job,
    engagement_for_target,
)
from seen_core.engagement.secrets import CallbackSecrets
from seen_core.engagement.store import EngagementStore, default_store_path

__all__ = [
    "EVENTS",
    "CallbackSecrets",
    "Engagement",
    "EngagementStore",
    "Event",
    "Film",
    "PersonEngagement",
    "Refusal",
    "default_store_path",
    "engagement_for_job",
    "engagement_for_target",
]
