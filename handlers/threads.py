"""Incident threads: `status` and `ack` mentioned in an incident's thread speak about that incident."""

from __future__ import annotations

from typing import Any

from bot.commands import Invocation
from bot.deps import Deps


def incident_reply(
    deps: Deps, inv: Invocation, *, channel: str, thread_ts: str, user_id: str | None
) -> dict[str, Any] | None:
    """The reply for an incident-thread command, or None when the thread is no incident's or the
    command is not incident-specific (then the ordinary command runs)."""
    return None
