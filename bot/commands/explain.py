"""`explain <pasted text>`: what a bounce, delay or SES error text means and what to do about it."""

from __future__ import annotations

from bot.classify import classify
from bot.classify.mime import bounce_words
from bot.commands import CommandContext, Invocation, command
from bot.findings import Answer, Severity
from bot.target import UsageError

MAX_TEXT = 3000


@command(
    "explain",
    "explain <bounce or error text>",
    "classify a pasted bounce, delay or SES error text: the cause and the fix",
    'explain "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"',
    answer_in_ack=True,
    free_text=True,
)
def run_explain(ctx: CommandContext, inv: Invocation) -> Answer:
    text = inv.rest.strip()  # the pasted text, whole: `free_text` parsing keeps `--`, quotes and lines
    if not text:
        raise UsageError('paste the bounce or error text after `explain`, like `explain "550 5.1.1 user unknown"`')
    # A whole bounce message: not the mail it returns; its base64, quoted-printable and RFC 2047 decoded.
    text = bounce_words(text)[:MAX_TEXT]
    c = classify(text)
    data = {
        "category": c.category,
        "blocklist": c.blocklist,
        "summary": c.summary,
        "fix": c.fix,
        "rule": c.rule,  # the rules.toml id, "hint.*" or "words" that decided; None when nothing matched
        "confidence": c.confidence,  # "high", "medium" or "low"
        "lead": c.lead,  # with "other": the category the reply's words point to, if any
    }
    # The headline line: the category and, for a blocklist, the list ("ip_blocklist, zen.spamhaus.org").
    lines = [f"Category: {c.category}" + (f", {c.blocklist}" if c.blocklist else "")]
    lines.append(
        f"Rule: {c.rule or 'none matched'} (confidence {c.confidence})" + (f", lead {c.lead}" if c.lead else "")
    )
    lines += [c.summary, f"Fix: {c.fix}"]
    severity = Severity.INFO if c.category == "other" else Severity.WARNING
    return Answer(title=c.summary, sections=[("Explanation", lines)], data=data, kind="explain", severity=severity)
