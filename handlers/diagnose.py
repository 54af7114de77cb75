"""The "Diagnose an address" modal: opened from the App Home button or the global shortcut, checked in the modal
(a bad address is an inline error on its field, as Slack shows `response_action: errors`), answered in a
direct message from the bot.

The check is `why`'s own (`bot.commands.why.parse_targets`): what the modal accepts is what `/ses why`
accepts (an address, an SES message id, `@domain`, up to three). The diagnosis runs on the answer pool
(`handlers.work`), after the submission is acknowledged: the modal closes at once.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.commands import parse
from bot.commands.why import parse_targets
from bot.deps import Deps
from bot.target import UsageError, shown
from handlers.answer import run_for_slack
from handlers.blocks import context, cut, error_message, escape, plain
from handlers.slash import RESTARTED_TEXT, busy_text, working_text
from handlers.work import Work

log = logging.getLogger(__name__)

OPEN_ACTION = "sesbot_diagnose_open"  # the Home tab's button
SHORTCUT = "sesbot_diagnose"  # the global shortcut (slack/manifest.yml)
VIEW = "sesbot_diagnose_modal"
TARGET_BLOCK, TARGET_ACTION = "target", "value"
MAX_ERROR = 150  # an inline error is one short line under the field


def diagnose_modal() -> dict[str, Any]:
    """The modal: one field, the answer promised in a direct message."""
    return {
        "type": "modal",
        "callback_id": VIEW,
        "title": plain("Diagnose an address", 24),
        "submit": plain("Diagnose", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            {
                "type": "input",
                "block_id": TARGET_BLOCK,
                "label": plain("Email address or SES message id", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": TARGET_ACTION,
                    "placeholder": plain("jane@example.com", 150),
                    "max_length": 400,
                },
                "hint": plain("Up to 3, separated by commas; @domain diagnoses a whole domain.", 2000),
            },
            context("sesbot answers in a direct message: why mail to it did not arrive, and the fix."),
        ],
    }


def submitted_text(view: dict[str, Any]) -> str:
    """What was typed in the modal's field ("" when empty)."""
    values = (view.get("state") or {}).get("values") or {}
    return str(((values.get(TARGET_BLOCK) or {}).get(TARGET_ACTION) or {}).get("value") or "").strip()


def why_line(text: str) -> str:
    """The `why` command the modal runs for what was typed; `UsageError` (one line) when it is not valid."""
    if not text:
        raise UsageError("give an email address or an SES message id, like jane@example.com")
    inv = parse(f"why {text.replace(',', ' ')}")
    if inv.flags:
        # The form diagnoses what it is given in every account; a flag would be dropped, so it is refused.
        flags = " ".join(sorted(inv.flags))
        raise UsageError(
            f"the form takes addresses, @domains and message ids, not {shown(flags, 40)}; use `/ses why` for flags"
        )
    parse_targets(inv.args)
    return f"why {' '.join(inv.args)}"


def _inline_error(ack: Ack, text: str) -> None:
    ack(response_action="errors", errors={TARGET_BLOCK: cut(text, MAX_ERROR)})


def register(app: App, deps: Deps, work: Work) -> None:
    def open_modal(body: dict[str, Any], client: WebClient) -> None:
        client.views_open(trigger_id=body["trigger_id"], view=diagnose_modal())

    @app.action(OPEN_ACTION)
    def on_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        open_modal(body, client)

    @app.shortcut(SHORTCUT)
    def on_shortcut(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        open_modal(body, client)

    @app.view(VIEW)
    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        try:
            line = why_line(submitted_text(view))
        except UsageError as exc:
            _inline_error(ack, f"{exc}")
            return
        admission = work.admit()
        if not admission.accepted:
            _inline_error(ack, busy_text(admission))
            return
        try:
            ack()
        except BaseException:
            admission.cancel()
            raise
        user = str((body.get("user") or {}).get("id") or "")
        team = (body.get("team") or {}).get("id")

        def answer() -> None:
            dm = client.conversations_open(users=user)["channel"]["id"]
            asked = escape(line[:100])
            client.chat_postMessage(channel=dm, text=working_text(asked, admission))
            msg, _ = run_for_slack(deps, parse(line), user_id=user, channel_id=dm, team_id=team)
            # A direct message is the asker's own: the addresses stay whole, errors are said here too.
            client.chat_postMessage(channel=dm, **msg)

        def restarted() -> None:
            dm = client.conversations_open(users=user)["channel"]["id"]
            client.chat_postMessage(channel=dm, **error_message(RESTARTED_TEXT))

        admission.start(answer, if_dropped=restarted)
