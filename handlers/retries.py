"""Slack's own retries, processed once: an Events API delivery Slack sends again is acknowledged, not re-run.

Slack re-sends an event (`X-Slack-Retry-Num`, `X-Slack-Retry-Reason` in HTTP mode; `retry_attempt` in a
Socket Mode envelope) when it did not see a 200 in 3 seconds, up to three times. Each event carries an
`event_id` and an `event_time` that stay the same across those deliveries, so the first delivery claims
the id in the store and every later one is answered 200 with nothing done: a mention is never diagnosed
twice. The claim is dated by `event_time`, so retention prunes it like any other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

from bot.deps import Deps

log = logging.getLogger(__name__)

KEY_PREFIX = "slack-event:"


def retry_number(req: BoltRequest) -> str | None:
    """The `X-Slack-Retry-Num` header of an HTTP delivery, or None for a first delivery."""
    values = req.headers.get("x-slack-retry-num") or []
    return values[0] if values else None


def event_time(body: dict[str, Any]) -> datetime:
    """When the event happened, as Slack says in every delivery of it (now, if it does not say)."""
    try:
        return datetime.fromtimestamp(int(body["event_time"]), UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def register(app: App, deps: Deps) -> None:
    @app.use
    def once_per_event(req: BoltRequest, body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not event_id or deps.store.first_time(KEY_PREFIX + str(event_id), event_time(body)):
            next()
            return None
        log.info("Slack re-sent event %s (retry %s): already handled", event_id, retry_number(req) or "?")
        return BoltResponse(status=200, body="")
