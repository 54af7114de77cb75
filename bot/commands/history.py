"""`history <email|@domain> [--limit N]`: the recent stored events of one address or domain, newest first."""

from __future__ import annotations

from typing import Any

from bot.commands import CommandContext, Invocation, command
from bot.findings import Answer, Severity
from bot.history import domain_events, recipient_events
from bot.redact import clip
from bot.target import UsageError, parse_domain, parse_email, strip_link_markup, whole_number

DEFAULT_LIMIT = 20
MAX_LIMIT = 500
FIELDS = (
    "type",
    "recipient",
    "timestamp",
    "bounce_type",
    "bounce_subtype",
    "delay_type",
    "complaint_type",  # complaintFeedbackType: abuse, not-spam, ...
    "complaint_subtype",  # complaintSubType: OnAccountSuppressionList when SES did not send at all
    "status",
    "diagnostic",
    "category",
    "rule",  # the classifier rule that decided the category at ingest (bot/classify/rules.toml)
    "message_id",
    "source",
)
USAGE = "history <email|@domain> [--limit N]"


def _limit(inv: Invocation) -> tuple[int, list[str]]:
    """`--limit N` or `--limit=N`; returns the limit and the arguments that are left."""
    try:
        value, args = inv.option("--limit", str.isdigit)
    except UsageError:
        raise UsageError(f"`--limit` needs a number; usage: {USAGE}") from None
    if value is None:
        return DEFAULT_LIMIT, args
    number = whole_number(value)
    if number is None or not 1 <= number <= MAX_LIMIT:
        raise UsageError(f"`--limit` takes a whole number from 1 to {MAX_LIMIT}")
    return number, args


def _line(e: dict[str, Any]) -> str:
    kind = e["type"]
    detail = "/".join(
        x
        for x in (
            e.get("bounce_type"),
            e.get("bounce_subtype"),
            e.get("delay_type"),
            e.get("complaint_type"),
            e.get("complaint_subtype"),
        )
        if x
    )
    if detail:
        kind += f" {detail}"
    parts = [e["timestamp"], kind, e.get("recipient") or ""]
    if e.get("category"):
        parts.append(f"[{e['category']}{' ' + e['blocklist'] if e.get('blocklist') else ''}]")
    text = e.get("diagnostic") or e.get("reason")
    if text:
        parts.append(f"— {clip(text, 300)}")
    return " ".join(p for p in parts if p)


@command(
    "history",
    USAGE,
    "the recent bounces, complaints and delays stored for an address or a domain",
    "history user@example.com",
    answer_in_ack=True,
    flags=("--limit",),
)
def run_history(ctx: CommandContext, inv: Invocation) -> Answer:
    limit, args = _limit(inv)
    if len(args) != 1:
        raise UsageError(f"give one email address or @domain; usage: {USAGE}")
    raw = strip_link_markup(args[0])
    store = ctx.deps.store
    if "@" in raw and not raw.startswith("@"):
        target = parse_email(raw)
        rows = recipient_events(store, target, limit=limit)
    else:
        target = "@" + parse_domain(raw.lstrip("@"))
        rows = domain_events(store, target[1:], limit=limit)
    events = [{k: r.get(k) for k in FIELDS} for r in rows]
    if events:
        lines = [_line(r) for r in rows]
        title = f"History of {target}: {len(events)} most recent event{'s' if len(events) != 1 else ''}"
        severity = Severity.WARNING if any(r["type"] in ("Bounce", "Complaint") for r in rows) else Severity.INFO
    else:
        lines = [
            "No bounce, complaint, delay or reject is stored for it. Deliveries and sends are only counted, "
            "not stored per address; if events should be here, check that SES publishes them to the bot's "
            "SNS topic / SQS queue."
        ]
        title = f"History of {target}: nothing stored"
        severity = Severity.INFO
    return Answer(
        title=title,
        sections=[("Events, newest first", lines)],
        data={"events": events},
        kind="history",
        severity=severity,
    )
