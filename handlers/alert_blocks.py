"""Block Kit for alert messages: a pure function from the engine's neutral `Message` to a Slack message.

Every text is escaped (a bounce diagnostic from a remote server can hold `<!channel>`), every section is
cut to Slack's 3,000 characters, the whole fits in 50 blocks, and a plain `text` fallback is always set
(notifications and screen readers use it).

    >>> from bot.notify import Message
    >>> msg = alert_message(Message(title="Bounce rate 5.2% <!channel>"))
    >>> "&lt;!channel&gt;" in msg["text"], msg["blocks"][0]["type"]
    (True, 'header')
"""

from __future__ import annotations

from typing import Any

from bot.notify import Message
from bot.slack_ids import slack_user
from handlers.blocks import (
    EMOJI,
    MAX_FALLBACK,
    MAX_SECTION,
    button,
    context,
    cut,
    escape,
    fit,
    header,
    mention,
    section,
    with_people,
)

MAX_FIELDS = 10  # Slack's limit of fields in one section
MAX_FIELD = 2000  # characters in one field's text
MAX_ACTIONS = 25  # elements in one actions block


def _sections_of(heading: str | None, lines: list[str], people: list[str] | None = None) -> list[dict[str, Any]]:
    """(heading, lines) as one or more sections, split so none passes the 3,000-character limit; `people`
    as in `with_people`."""
    out: list[dict[str, Any]] = []
    chunk: list[str] = [f"*{escape(heading)}*"] if heading else []
    size = sum(len(c) + 1 for c in chunk)
    for line in lines:
        item = cut(with_people(escape(line), people or []), MAX_SECTION - 10)
        if size + len(item) + 1 > MAX_SECTION - 10 and chunk:
            out.append(section("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(item)
        size += len(item) + 1
    if chunk:
        out.append(section("\n".join(chunk)))
    return out


def _chart(lines: list[str]) -> dict[str, Any]:
    # A code block keeps the sparkline's columns aligned; backticks inside would end it early.
    body = "\n".join(escape(line).replace("`", "'") for line in lines)
    return section(f"```{cut(body, MAX_SECTION - 10)}```")


def alert_message(msg: Message) -> dict[str, Any]:
    """`{"text", "blocks"}` for `chat.postMessage` / `chat.update`."""
    blocks: list[dict[str, Any]] = [header(f"{EMOJI[msg.severity]} {escape(msg.title)}")]
    # The first sentences and the facts share one section: the figure is read together with its meaning.
    lines = [cut(with_people(escape(line), msg.people), 1000) for line in msg.lines[:3]]
    notified = mention(msg.notify)
    if notified:
        lines.insert(0, notified)
    first: dict[str, Any] = section("\n".join(lines) if lines else f"*{escape(msg.title)}*")
    fields = [
        {"type": "mrkdwn", "text": cut(f"*{escape(label)}*\n{escape(value)}", MAX_FIELD)}
        for label, value in msg.fields[: MAX_FIELDS - 1]
    ]
    owner = mention(msg.owner) if slack_user(msg.owner) else ""
    if owner:
        fields.append({"type": "mrkdwn", "text": f"*Owner*\n{owner}"})
    if fields:
        first["fields"] = fields
    blocks.append(first)
    if msg.lines[3:]:
        blocks += _sections_of(None, msg.lines[3:], msg.people)
    if msg.chart:
        blocks.append(_chart(msg.chart))
    for heading, lines in msg.sections:
        blocks += _sections_of(heading, lines, msg.people)
    if msg.footer:
        blocks.append(context(escape(msg.footer)))
    tail = []
    if msg.buttons:
        elements = [button(b.label, b.action_id, b.value, b.style) for b in msg.buttons[:MAX_ACTIONS]]
        tail.append({"type": "actions", "elements": elements})
    first_line = msg.lines[0] if msg.lines else ""
    fallback = f"{msg.title}: {first_line}" if first_line else msg.title
    return {"text": cut(escape(fallback), MAX_FALLBACK), "blocks": fit(blocks, tail)}
