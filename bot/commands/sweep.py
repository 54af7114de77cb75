"""`sweep --once` (terminal only): read every alert signal once and post what changed.

To the chat poster the front end hands in (`CommandContext.poster`: the composition root gives Slack's
when `SLACK_BOT_TOKEN` is set, posting in `SESBOT_ALERT_CHANNEL`), else printed here. The engine never
chooses or imports a chat system itself. Without a token, on a database a chat bot uses
(`SESBOT_ALERT_CHANNEL` set, or `sesbot run` has started on it), the messages are owed and left to that
bot: printed here, they would be marked sent and never reach the channel.
"""

from __future__ import annotations

import sys

from bot.alerts import LEVEL_LABELS, SweepResult, fmt_value, signal_label, sweep
from bot.commands import CommandContext, Invocation, command, require_regions
from bot.findings import Answer, Severity, where
from bot.notify import Poster, TerminalPoster
from bot.store import KV_STARTED_AT
from bot.target import UsageError


def make_poster(ctx: CommandContext, inv: Invocation) -> Poster:
    """The chat poster when a bot token is configured, else the terminal (stderr under --json)."""
    settings = ctx.deps.settings
    if settings.slack_bot_token:
        if not settings.alert_channel:
            raise UsageError("SLACK_BOT_TOKEN is set but SESBOT_ALERT_CHANNEL is not: set the channel for alerts")
        if ctx.poster is None:
            raise UsageError("this front end cannot post to Slack: run `sesbot sweep --once`")
        return ctx.poster
    # Under --json, stdout carries the JSON document only.
    return TerminalPoster(sys.stderr if inv.json else sys.stdout)


def leaves_outbox_to_bot(ctx: CommandContext) -> bool:
    """Whether this sweep leaves what it owes to a chat bot: no token here, and the database is a bot's."""
    settings = ctx.deps.settings
    if settings.slack_bot_token:
        return False
    return bool(settings.alert_channel) or ctx.deps.store.kv_get(KV_STARTED_AT) is not None


def sweep_answer(result: SweepResult, left_to_bot: bool = False) -> Answer:
    lines = []
    for s in result.signals:
        figure = fmt_value(s.signal, s.value)
        if figure and s.estimate:
            figure += " (estimate)"
        level = LEVEL_LABELS.get(s.level, s.level)
        change = ""
        if s.previous_level is not None and s.previous_level != s.level:
            change = f" (was {LEVEL_LABELS.get(s.previous_level, s.previous_level)})"
        place = where(s.account, s.region)  # "prod · eu-west-1" with several accounts
        lines.append(f"{place} {signal_label(s.signal, s.scope)}: {figure + ', ' if figure else ''}{level}{change}")
    posted = [f"{p.kind} in {p.channel}: {p.text.splitlines()[0] if p.text else ''}" for p in result.posted]
    sections = [("Signals", lines or ["no region configured"])]
    if left_to_bot:
        sections.append(("Left to the Slack bot", [f"{result.pending} messages left for the Slack bot to post"]))
    else:
        sections.append(("Posted", posted or ["nothing changed"]))
    if result.pending and not left_to_bot:
        sections.append(("Still owed", [f"{result.pending} messages could not be posted; the next sweep retries"]))
    return Answer(
        title=f"Sweep: {len(result.signals)} signals read, {len(result.posted)} messages posted",
        sections=sections,
        data=result.as_dict(),
        kind="sweep",
        severity=Severity.WARNING if result.pending and not left_to_bot else Severity.INFO,
    )


@command(
    "sweep",
    "sweep --once",
    "read every alert signal once and post what changed (to Slack when configured, else here)",
    "sweep --once",
    in_chat=False,
    flags=("--once",),
)
def run_sweep(ctx: CommandContext, inv: Invocation) -> Answer:
    if "--once" not in inv.flags:
        raise UsageError("use `sweep --once`: the running bot sweeps on its own every SESBOT_SWEEP_MINUTES")
    require_regions(ctx.deps.settings)
    poster = make_poster(ctx, inv)
    if leaves_outbox_to_bot(ctx):
        return sweep_answer(sweep(ctx.deps, poster, deliver_owed=False), left_to_bot=True)
    return sweep_answer(sweep(ctx.deps, poster))
