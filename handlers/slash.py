"""`/ses ...`: acknowledge at once, then answer at the response_url.

Fast commands (help, explain, usage errors) are answered in the acknowledgement itself; slow ones
are acknowledged with "working on it" (or "busy, N ahead of you") and answered from the answer pool
(`handlers.work`) when the engine is done, never in the listener that acknowledged (Slack allows 3 s for
the acknowledgement and 30 minutes for the response_url). A full pool is said in the acknowledgement.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.commands import UnknownCommand, help_answer, parse, resolve
from bot.deps import Deps
from bot.target import UsageError, strip_link_markup
from handlers.answer import for_channel, run_for_slack
from handlers.blocks import answer_message, error_message, escape
from handlers.work import Admission, Work


def working_text(asked: str, admission: Admission) -> str:
    """The acknowledgement of a slow command: working on it, or how many answers come first."""
    if admission.ahead:
        return f":hourglass_flowing_sand: Busy: {admission.ahead} ahead of you. Working on `{asked}` next…"
    return f":hourglass_flowing_sand: Working on `{asked}`…"


def busy_text(admission: Admission) -> str:
    return (
        f"The bot is busy: {admission.waiting} requests are already waiting for an answer. "
        "Try again in a minute (an admin can raise SESBOT_ANSWER_WORKERS)."
    )


# Said to a person whose answer was admitted but not given: the bot stopped first (`Work.shutdown`).
RESTARTED_TEXT = "sesbot restarted before it could answer. Ask again in a minute."


def register(app: App, deps: Deps, work: Work) -> None:
    @app.command("/ses")
    def on_ses(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        text = command.get("text") or ""
        try:
            inv = parse(text)
            cmd = resolve(inv, "slack")
        except UnknownCommand as exc:
            msg = answer_message(help_answer("slack", "/ses "))
            ack(
                response_type="ephemeral",
                text=f"{escape(str(exc))}. {msg['text']}",
                blocks=error_message(str(exc))["blocks"] + msg["blocks"][:49],
            )
            return
        except UsageError as exc:
            ack(response_type="ephemeral", **error_message(str(exc)))
            return
        who = dict(
            user_id=command.get("user_id"),
            channel_id=command.get("channel_id"),
            team_id=command.get("team_id"),
        )
        if cmd.answer_in_ack:
            msg, _ = run_for_slack(deps, inv, **who)
            ack(response_type="ephemeral", **msg)
            return
        admission = work.admit()
        if not admission.accepted:
            ack(response_type="ephemeral", **error_message(busy_text(admission)))
            return
        asked = escape(" ".join([inv.name, *(strip_link_markup(a) for a in inv.args)])[:100])
        try:
            ack(response_type="ephemeral", text=working_text(asked, admission))
        except BaseException:
            admission.cancel()
            raise

        def answer() -> None:
            msg, ok = run_for_slack(deps, inv, **who)
            if ok:
                respond(response_type="in_channel", replace_original=False, **for_channel(deps, msg))
            else:
                respond(response_type="ephemeral", replace_original=False, **msg)

        def restarted() -> None:
            respond(response_type="ephemeral", replace_original=False, **error_message(RESTARTED_TEXT))

        admission.start(answer, if_dropped=restarted)
