"""The "Remove from suppression list" button: admin-only, writes-on only, confirmed in a dialog.

The checks run again when the dialog is submitted: a dialog is no permission.
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.deps import Deps
from bot.target import UsageError, parse_email
from bot.writes import WriteRefused, may_remove_in, may_write, remove_suppressed
from handlers.blocks import button, escape

ACTION = "suppression_remove"
# One button per account and region the address is suppressed in, each with its own action_id (Slack wants
# them unique within a block): "suppression_remove", "suppression_remove:1", ...
ACTIONS = re.compile(rf"^{ACTION}(?::\d+)?$")
CALLBACK = "suppression_remove_confirm"


def remove_button(
    email: str, region: str, account: str | None = None, *, index: int = 0, named: bool = False
) -> dict[str, Any]:
    """The button for one (account, region); `named`: its label says which, when there are several."""
    where = f"{account} · {region}" if account else region
    label = f"Remove from suppression list ({where})" if named else "Remove from suppression list"
    value: dict[str, str] = {"email": email, "region": region}
    if account:
        value["account"] = account
    action = ACTION if index == 0 else f"{ACTION}:{index}"
    return button(label, action, json.dumps(value), style="danger")


def _target(raw: str) -> tuple[str, str, str | None]:
    try:
        data = json.loads(raw)
        account = data.get("account")
        if account is not None and not isinstance(account, str):
            raise TypeError("account")
        return parse_email(str(data["email"])), str(data["region"]), account
    except (ValueError, KeyError, TypeError, AttributeError, UsageError) as exc:
        raise WriteRefused("That button's payload is not valid; run the diagnosis again.") from exc


def register(app: App, deps: Deps) -> None:
    def tell(client: WebClient, channel: str | None, user: str | None, text: str) -> None:
        if channel and user:
            client.chat_postEphemeral(channel=channel, user=user, text=text)

    @app.action(ACTIONS)
    def on_remove(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user = (body.get("user") or {}).get("id")
        channel = (body.get("channel") or {}).get("id")
        try:
            email, region, account = _target(str(action.get("value") or ""))
            may_write(deps, user)
            may_remove_in(deps, email, region, account)  # a button from an older setup: no dialog
        except WriteRefused as exc:
            deps.store.audit(f"{ACTION} (button)", False, user_id=user, channel_id=channel, detail=str(exc))
            tell(client, channel, user, f":no_entry: {escape(exc)}")
            return
        meta = json.dumps({"email": email, "region": region, "account": account, "channel": channel})
        where = f"*{escape(account)}* · *{escape(region)}*" if account else f"*{escape(region)}*"
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
                                f"Remove *{escape(email)}* from the account suppression list in {where}?\n"
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
            email, region, account = _target(json.dumps(meta))
            result = remove_suppressed(
                deps, email, region, account=account, user_id=user, team_id=team, channel_id=channel
            )
        except WriteRefused as exc:
            tell(client, channel, user, f":no_entry: {escape(exc)}")
            return
        mark = ":white_check_mark:" if result.ok else ":x:"
        tell(client, channel, user, f"{mark} {escape(result.message)}")
