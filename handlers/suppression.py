"""The "Remove from suppression list" button: admin-only, writes-on only, confirmed in a dialog.

The checks run again when the dialog is submitted: a dialog is no permission.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.deps import Deps
from bot.target import UsageError, parse_email
from bot.writes import WriteRefused, may_write, remove_suppressed
from handlers.blocks import button, escape

ACTION = "suppression_remove"
CALLBACK = "suppression_remove_confirm"


def remove_button(email: str, region: str) -> dict[str, Any]:
    return button(
        "Remove from suppression list", ACTION, json.dumps({"email": email, "region": region}), style="danger"
    )


def _target(raw: str) -> tuple[str, str]:
    try:
        data = json.loads(raw)
        return parse_email(str(data["email"])), str(data["region"])
    except (ValueError, KeyError, TypeError, UsageError) as exc:
        raise WriteRefused("That button's payload is not valid; run the diagnosis again.") from exc


def register(app: App, deps: Deps) -> None:
    def tell(client: WebClient, channel: str | None, user: str | None, text: str) -> None:
        if channel and user:
            client.chat_postEphemeral(channel=channel, user=user, text=text)

    @app.action(ACTION)
    def on_remove(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user = (body.get("user") or {}).get("id")
        channel = (body.get("channel") or {}).get("id")
        try:
            email, region = _target(str(action.get("value") or ""))
            may_write(deps, user)
        except WriteRefused as exc:
            deps.store.audit(f"{ACTION} (button)", False, user_id=user, channel_id=channel, detail=str(exc))
            tell(client, channel, user, f":no_entry: {escape(exc)}")
            return
        meta = json.dumps({"email": email, "region": region, "channel": channel})
        client.views_open(
            trigger_id=body["trigger_id"],
            view={
                "type": "modal",
                "callback_id": CALLBACK,
                "private_metadata": meta,
                "title": {"type": "plain_text", "text": "Remove suppression"},
                "submit": {"type": "plain_text", "text": "Remove"},
                "close": {"type": "plain_text", "text": "Cancel"},
                "blocks": [
                    {
                        "type": "section",
                        "text": {
                            "type": "mrkdwn",
                            "text": (
                                f"Remove *{escape(email)}* from the account suppression list in *{escape(region)}*?\n"
                                "SES will deliver to it again: do this only when the address works now, or the next "
                                "bounce counts against your bounce rate."
                            ),
                        },
                    }
                ],
            },
        )

    @app.view(CALLBACK)
    def on_confirm(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        ack()
        user = (body.get("user") or {}).get("id")
        team = (body.get("team") or {}).get("id")
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = {}
        channel = meta.get("channel")
        try:
            email, region = _target(json.dumps(meta))
            result = remove_suppressed(deps, email, region, user_id=user, team_id=team, channel_id=channel)
        except WriteRefused as exc:
            tell(client, channel, user, f":no_entry: {escape(exc)}")
            return
        mark = ":white_check_mark:" if result.ok else ":x:"
        tell(client, channel, user, f"{mark} {escape(result.message)}")
