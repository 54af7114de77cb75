"""Buttons: Re-run a diagnosis (and the incident buttons, registered by `handlers.incident_actions`)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.commands import parse
from bot.deps import Deps
from bot.target import UsageError
from handlers.answer import for_channel, run_for_slack
from handlers.blocks import error_message
from handlers.slash import RESTARTED_TEXT, busy_text
from handlers.work import Work


def register(app: App, deps: Deps, work: Work) -> None:
    @app.action("sesbot_rerun")
    def on_rerun(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        try:
            inv = parse(str(action.get("value") or ""))
        except UsageError as exc:
            respond(response_type="ephemeral", replace_original=False, **error_message(str(exc)))
            return
        admission = work.admit()
        if not admission.accepted:
            respond(response_type="ephemeral", replace_original=False, **error_message(busy_text(admission)))
            return

        def answer() -> None:
            msg, ok = run_for_slack(
                deps,
                inv,
                user_id=(body.get("user") or {}).get("id"),
                channel_id=(body.get("channel") or {}).get("id"),
                team_id=(body.get("team") or {}).get("id"),
            )
            if ok:
                respond(response_type="in_channel", replace_original=False, **for_channel(deps, msg))
            else:
                respond(response_type="ephemeral", replace_original=False, **msg)

        def restarted() -> None:
            respond(response_type="ephemeral", replace_original=False, **error_message(RESTARTED_TEXT))

        admission.start(answer, if_dropped=restarted)
