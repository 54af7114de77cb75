"""Running a command for Slack: the engine's answer, or a one-line error, as a Slack message.

Shared by the slash command, mentions and buttons so each stays a few lines. Never raises: a failure
becomes a message that says what to do; the traceback goes to the log only.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.aws import describe_error
from bot.commands import CommandContext, Invocation, execute
from bot.deps import Deps
from bot.findings import Answer, Report, Severity
from bot.target import UsageError
from handlers.blocks import error_message, message, redact_message
from handlers.suppression import remove_button

log = logging.getLogger(__name__)


def run_for_slack(
    deps: Deps,
    inv: Invocation,
    *,
    user_id: str | None,
    channel_id: str | None,
    team_id: str | None = None,
    thread_ts: str | None = None,
    lead: list[dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], bool]:
    """(message, ok). `ok` is False when the message is an error meant only for the asker. An answer starts
    with the `lead` blocks (a note on who asked), fitted with it within Slack's 50 blocks."""
    ctx = CommandContext(
        deps=deps, via="slack", user_id=user_id, channel_id=channel_id, team_id=team_id, thread_ts=thread_ts
    )
    try:
        result = execute(ctx, inv)
    except UsageError as exc:
        return error_message(f"{exc} (try `/ses help`)"), False
    except Exception as exc:
        log.exception("command %s failed", inv.name)
        return error_message(
            f"`{inv.name}` failed: {describe_error(exc)}. Try again; if it persists, check the bot's logs."
        ), False
    command = f"{inv.name} {inv.rest}".strip()
    return message(result, command=command, extra_buttons=_write_buttons(deps, result), lead=lead), True


def for_channel(deps: Deps, msg: dict[str, Any]) -> dict[str, Any]:
    """A message the whole channel will read: with `SESBOT_REDACT=local`, addresses become j***@example.com
    (ephemeral answers to the asker keep them whole)."""
    return redact_message(msg) if deps.settings.redact == "local" else msg


def _write_buttons(deps: Deps, result: Report | Answer) -> list[dict[str, Any]]:
    """Offer account changes only where they are possible: writes on and a suppressed recipient."""
    if not deps.settings.allow_writes or not isinstance(result, Report):
        return []
    where = [
        (f.account, f.region)
        for f in result.findings
        # The button removes from the account list; a tenant list's entry gets its command in the fix.
        if f.check == "recipient.suppressed" and f.severity >= Severity.ERROR and f.region and not f.data.get("tenant")
    ][:3]
    return [
        remove_button(result.target, region, account, index=i, named=len(where) > 1)
        for i, (account, region) in enumerate(where)
    ]
