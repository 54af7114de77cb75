"""Block Kit builders: pure functions from reports and answers to Slack messages.

Every piece of text that can carry someone else's words (bounce diagnostics, SMTP banners, DNS TXT,
template names, what the user typed) goes through `escape()`, so `<!channel>`, `<@U123>` and
`<http://evil|bank>` arrive as harmless text (and a bidi control or zero-width character as `\\u202e`-style
text, so `https://\\u202emoc.nozama.swa\\u202c/` cannot pass for aws.amazon.com), and through `cut()`, so
Slack's limits hold: 50 blocks a message, 3,000 characters a section, 150 a header, and a `text` fallback always.

    >>> escape("<!channel> & <@U1>")
    '&lt;!channel&gt; &amp; &lt;@U1&gt;'
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.findings import Answer, Finding, Report, Severity
from bot.redact import clip, redact_addresses
from bot.render_text import visible
from bot.slack_ids import slack_user, slack_user_or_group
from bot.target import slack_unescaped

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_FALLBACK = 3000
MAX_BUTTON_VALUE = 2000
MAX_VIEW_BLOCKS = 100  # a Home tab or a modal
MAX_VIEW_TITLE = 24  # a modal's title, submit and close texts

EMOJI = {
    Severity.OK: ":white_check_mark:",
    Severity.INFO: ":information_source:",
    Severity.WARNING: ":warning:",
    Severity.ERROR: ":x:",
    Severity.CRITICAL: ":rotating_light:",
}


def escape(text: object) -> str:
    """Escape Slack mrkdwn control characters in untrusted text (the three Slack asks for), and show the
    characters that reorder or hide text (`visible`)."""
    return visible(str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def cut(text: str, limit: int) -> str:
    """Shorten to `limit` characters without splitting an `&amp;`-style entity or an address (`clip`)."""
    if len(text) <= limit:
        return text
    head = clip(text, limit - 1)
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head + "…"


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": cut(text, MAX_SECTION)}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts[:MAX_CONTEXT_ELEMENTS]]}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": cut(text, MAX_HEADER), "emoji": True}}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    b: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": cut(text, 75)},
        "action_id": action_id,
        "value": value[:MAX_BUTTON_VALUE],
    }
    if style:
        b["style"] = style
    return b


def finding_text(f: Finding, *, evidence: int = 6) -> str:
    where = f" · {escape(f.where)}" if f.where else ""
    lines = [f"{EMOJI[f.severity]} *{escape(f.summary)}*  `{escape(f.check)}`{where}"]
    for e in f.evidence[:evidence]:
        lines.append(f"• {escape(cut(str(e), 600))}")
    if len(f.evidence) > evidence:
        lines.append(f"• … and {len(f.evidence) - evidence} more")
    if f.fix:
        lines.append(f"*Fix:* {escape(f.fix)}")
    return "\n".join(lines)


def fit(
    blocks: list[dict[str, Any]],
    tail: list[dict[str, Any]] | None = None,
    *,
    limit: int = MAX_BLOCKS,
    more: str = "use the CLI with --json",
) -> list[dict[str, Any]]:
    """Keep the first blocks and the tail (buttons) within `limit` blocks (a message's 50, a view's 100),
    saying what was left out and where to see it (`more`)."""
    tail = tail or []
    room = limit - len(tail)
    if len(blocks) > room:
        dropped = len(blocks) - (room - 1)
        blocks = blocks[: room - 1] + [context(f"… {dropped} more sections not shown; {more}.")]
    return blocks + tail


def report_message(
    report: Report,
    *,
    command: str | None = None,
    extra_buttons: list[dict[str, Any]] | None = None,
    lead: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """`{"text", "blocks"}` for a report: verdict, other problems, what passed, a Re-run button; `lead`
    (a note on who asked...) comes first, and what does not fit in 50 blocks is cut before the buttons."""
    verdict = report.verdict
    title = f"{report.heading}: {report.target}"
    blocks: list[dict[str, Any]] = [*(lead or []), header(title)]
    if verdict:
        blocks.append(section(f"*Most likely cause*\n{finding_text(verdict)}"))
        fallback = f"{title} — {verdict.severity.label}: {verdict.summary}"
    else:
        blocks.append(section(":white_check_mark: *Nothing wrong found.* Every check passed."))
        fallback = f"{title} — nothing wrong found"
    others = [f for f in report.problems if f is not verdict]
    if others:
        blocks.append({"type": "divider"})
        blocks.append(section(f"*Other problems ({len(others)})*"))
        blocks += [section(finding_text(f, evidence=4)) for f in others]
    passed = report.passed
    if passed:
        # A diagnosis lists what passed by name only; a one-question answer (domain, smtp...) is made of
        # its passing findings, so they keep their summary and evidence (TLS version, records seen...).
        oks = [f for f in passed if f.severity == Severity.OK]
        shown = [f for f in passed if f.severity == Severity.INFO or report.kind != "why"]
        names = ", ".join(escape(f.check) for f in oks if f not in shown)
        blocks.append({"type": "divider"})
        for f in shown:
            blocks.append(section(finding_text(f, evidence=6)))
        if names:
            blocks.append(context(f":white_check_mark: Passed: {names}"))
    blocks.append(context(f"{len(report.findings)} findings in {report.elapsed_ms} ms"))
    # A button's value holds at most 2,000 characters: a longer command (big template data) gets no Re-run
    # rather than one that runs what is left of it.
    rerun = [button("Re-run", "sesbot_rerun", command)] if command and len(command) <= MAX_BUTTON_VALUE else []
    buttons = rerun + list(extra_buttons or [])
    tail = [{"type": "actions", "elements": buttons[:25]}] if buttons else []
    return {"text": cut(escape(fallback), MAX_FALLBACK), "blocks": fit(blocks, tail)}


def with_people(text: str, people: list[str]) -> str:
    """Escaped `text` with each of `people` (user ids the bot itself recorded, never ids read from untrusted
    text) shown as a mention where it stands as a whole word. A mention someone wrote in a note ("<@U0ERIN>",
    escaped to "&lt;@U0ERIN&gt;") is replaced whole: a recorded person is shown as that person, once, and
    anyone else's id stays escaped text (no ping)."""
    ids = [p for p in people if slack_user(p)]
    if not ids:
        return text
    alternatives = "|".join(map(re.escape, ids))
    pattern = rf"&lt;@({alternatives})(?:\|[^&<>]*)?&gt;|\b({alternatives})\b"
    return re.sub(pattern, lambda m: mention(m.group(1) or m.group(2)), text)


def mention(who: str) -> str:
    """Slack's mention of a user (U.../W...) or user group (S...); "" for anything else (never raw text)."""
    if not slack_user_or_group(who):
        return ""
    return f"<!subteam^{who}>" if who.startswith("S") else f"<@{who}>"


def answer_message(answer: Answer, *, lead: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [*(lead or []), header(answer.title)]
    for heading, lines in answer.sections:
        chunk: list[str] = [f"*{escape(heading)}*"] if heading else []
        size = sum(len(c) + 1 for c in chunk)
        for line in lines:
            item = with_people(escape(line), answer.people)
            if size + len(item) + 1 > MAX_SECTION - 10 and chunk:
                blocks.append(section("\n".join(chunk)))
                chunk, size = [], 0
            chunk.append(cut(item, MAX_SECTION - 10))
            size += len(chunk[-1]) + 1
        if chunk:
            blocks.append(section("\n".join(chunk)))
    first = next((line for _, lines in answer.sections for line in lines), "")
    fallback = f"{answer.title}: {first}" if first else answer.title
    return {"text": cut(escape(fallback), MAX_FALLBACK), "blocks": fit(blocks)}


def message(
    result: Report | Answer,
    *,
    command: str | None = None,
    extra_buttons: list[dict[str, Any]] | None = None,
    lead: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The message for a report or an answer; `lead`: blocks before it, which fitting it never cuts."""
    if isinstance(result, Report):
        return report_message(result, command=command, extra_buttons=extra_buttons, lead=lead)
    return answer_message(result, lead=lead)


def redact_message(msg: Any) -> Any:
    """Every address in a message's visible text as `j***@example.com` (button values keep theirs:
    they are not shown, and the action behind them re-checks who may use them)."""
    if isinstance(msg, dict):
        return {
            k: (v if k in ("value", "action_id", "private_metadata") else redact_message(v)) for k, v in msg.items()
        }
    if isinstance(msg, list):
        return [redact_message(v) for v in msg]
    if isinstance(msg, str):
        return redact_addresses(msg)
    return msg


def plain(text: str, limit: int) -> dict[str, Any]:
    """A plain_text object (Slack shows it as typed, never parsed), cut to `limit` characters."""
    return {"type": "plain_text", "text": cut(text, limit), "emoji": True}


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something (a refusal, a busy bot): `text` is mrkdwn, already escaped."""
    return {
        "type": "modal",
        "title": plain(title, MAX_VIEW_TITLE),
        "close": plain("Close", MAX_VIEW_TITLE),
        "blocks": [section(text)],
    }


def error_message(text: str) -> dict[str, Any]:
    """A one-line error for the asker (already phrased as what to do)."""
    line = f":warning: {escape(cut(text, 500))}"
    return {"text": line, "blocks": [section(line)]}


def blocks_to_text(msg: dict[str, Any]) -> str:
    """What a message looks like to a person, roughly: for the terminal demo and for tests."""
    out: list[str] = []
    for b in msg.get("blocks") or []:
        t = b.get("type")
        if t == "header":
            out += [b["text"]["text"], "=" * min(60, len(b["text"]["text"]))]
        elif t == "section":
            if b.get("text"):
                out.append(b["text"]["text"])
            fields = [f.get("text", "") for f in b.get("fields") or []]
            if fields:
                out.append("  " + "   ".join(f.replace("\n", " ") for f in fields))
        elif t == "context":
            out.append("  " + "  ".join(e.get("text", "") for e in b.get("elements", [])))
        elif t == "divider":
            out.append("-" * 40)
        elif t == "actions":
            out.append("  " + "  ".join(f"[{e['text']['text']}]" for e in b.get("elements", [])))
        elif t == "image":
            out.append(f"  (image: {b.get('alt_text', '')})")
    if not out:
        out.append(msg.get("text", ""))
    text = "\n".join(out)
    return slack_unescaped(text)


def as_json(msg: dict[str, Any]) -> str:
    return json.dumps(msg, ensure_ascii=False)
