"""Notifications: the neutral message the alert engine builds, and the poster protocol that sends it.

The engine (`bot.alerts`) never knows Slack: it builds `Message` objects (title, fields, lines,
sections, a monospaced chart, buttons wanted) and hands them to a `Poster`. `handlers.poster.SlackPoster`
renders them as Block Kit (and uploads an `Image`, a chart, into a thread); `TerminalPoster` here prints
them (for `sesbot sweep --once` without Slack, and for the demo). A poster that cannot deliver raises
`PostError`, and the engine keeps the notification unsent for the next sweep.

    >>> import io
    >>> out = io.StringIO()
    >>> posted = TerminalPoster(out).post("#ses-alerts", Message(title="Bounce rate 5.2%"))
    >>> posted.channel, "Bounce rate 5.2%" in out.getvalue()
    ('#ses-alerts', True)
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from bot.findings import Severity
from bot.render_text import clean


@dataclass(frozen=True)
class Button:
    """A button the message wants; `action_id` is what the Slack handler listens for."""

    label: str
    action_id: str
    value: str
    style: str | None = None  # "primary" | "danger" | None


@dataclass
class Message:
    """A message, neutral of any chat system. Every text may carry untrusted words: renderers escape.

    `fields` are short (label, value) facts; `lines` are sentences under the title; `sections` are
    (heading, lines) blocks; `chart` is monospaced (a sparkline and its legend); `footer` is small print.
    """

    title: str
    severity: Severity = Severity.INFO
    fields: list[tuple[str, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    chart: list[str] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    footer: str = ""
    notify: str = ""  # a user or user-group id to notify (the chat system mentions it), or ""
    owner: str = ""  # the user id who owns what the message is about (shown as a fact), or ""
    people: list[str] = field(default_factory=list)  # user ids the text names, which the chat system may show as people

    def text(self) -> str:
        """The plain-text version: Slack's notification fallback, the terminal, `--json`."""
        out = [self.title]
        out += [f"{label}: {value}" for label, value in self.fields]
        out += self.lines
        out += self.chart
        for heading, lines in self.sections:
            out.append(f"{heading}:")
            out += [f"  {line}" for line in lines]
        if self.footer:
            out.append(self.footer)
        return "\n".join(out)

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "severity": self.severity.label,
            "fields": [list(f) for f in self.fields],
            "lines": list(self.lines),
            "sections": [[h, list(lines)] for h, lines in self.sections],
            "chart": list(self.chart),
            "buttons": [
                {"label": b.label, "action_id": b.action_id, "value": b.value, "style": b.style} for b in self.buttons
            ],
            "footer": self.footer,
            "notify": self.notify,
            "owner": self.owner,
            "people": list(self.people),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Message:
        return cls(
            title=d.get("title") or "",
            severity=Severity.parse(d.get("severity") or "info"),
            fields=[(str(a), str(b)) for a, b in d.get("fields") or []],
            lines=[str(x) for x in d.get("lines") or []],
            sections=[(str(h), [str(x) for x in lines]) for h, lines in d.get("sections") or []],
            chart=[str(x) for x in d.get("chart") or []],
            buttons=[Button(b["label"], b["action_id"], b["value"], b.get("style")) for b in d.get("buttons") or []],
            footer=d.get("footer") or "",
            notify=d.get("notify") or "",
            owner=d.get("owner") or "",
            people=[str(p) for p in d.get("people") or []],
        )


@dataclass(frozen=True)
class Posted:
    """Where a message landed. `channel` is the channel ID the chat system answered with (Slack's
    `chat.update` needs the ID, not a `#name`), `ts` the message's timestamp (its id)."""

    channel: str
    ts: str


@dataclass(frozen=True)
class Mark:
    """What names one outbox message inside the chat system, so that a retry can find it there: the outbox
    row's id and the outbox's `instance` (one per database: two bots posting in one channel never adopt each
    other's messages). Slack carries it in the message's metadata."""

    outbox_id: int
    instance: str

    @property
    def token(self) -> str:
        """The mark as a word, for what carries no metadata (an uploaded file's name)."""
        return f"o{self.outbox_id}-{self.instance[:12]}"


@dataclass(frozen=True)
class Image:
    """A picture to attach to a message's thread, neutral of any chat system: the PNG bytes, its file name,
    a title, the alt text that states what it shows in words, and a caption posted with it."""

    data: bytes
    filename: str
    title: str
    alt_text: str
    caption: str = ""


class PostError(Exception):
    """A message could not be delivered now; the engine keeps it unsent and retries.

    `retry_after` (seconds) is the chat system's own wait (Slack `Retry-After` on `ratelimited`): nothing
    more goes to that channel before then. `transient=False` marks an error that will not fix itself
    (a missing channel, a revoked token): other messages are not held back. `permanent` says retrying
    cannot help: `scope` "channel" (the bot cannot post there), "token" (it cannot post anywhere) or
    "message" (this message is refused); `reason` is the chat system's code and `hint` what a person
    does about it. The outbox marks such a message failed instead of retrying it.
    """

    def __init__(
        self,
        message: str,
        retry_after: float | None = None,
        *,
        transient: bool = True,
        permanent: str | None = None,
        reason: str = "",
        hint: str = "",
    ):
        super().__init__(message)
        self.retry_after = retry_after
        self.transient = transient and permanent is None
        self.permanent = permanent  # None, "channel", "token" or "message"
        self.reason = reason
        self.hint = hint


class Poster(Protocol):
    """Sends engine messages somewhere. Every method raises `PostError` when it cannot deliver (or look)."""

    def post(self, channel: str, message: Message, thread_ts: str | None = None, mark: Mark | None = None) -> Posted:
        """Post `message` in `channel` (a reply when `thread_ts` is given), carrying `mark` when given."""
        ...

    def find(
        self, channel: str, mark: Mark, thread_ts: str | None = None, after_ts: str | None = None
    ) -> Posted | None:
        """The message carrying `mark` (or sharing a file uploaded with it) among `channel`'s recent messages
        (posted after `after_ts` when given), or in the thread of `thread_ts`; None when it is not there (or the
        poster cannot look back)."""
        ...

    def update(self, channel: str, ts: str, message: Message) -> None:
        """Replace the message `ts` in `channel` with `message`."""
        ...

    def upload(self, channel: str, thread_ts: str, image: Image, mark: Mark | None = None) -> str:
        """Attach `image` in the thread of `thread_ts` in `channel`, carrying `mark` (so `find` finds it after a
        crash); returns the file's id."""
        ...


class TerminalPoster:
    """Prints messages to a stream, as the terminal's stand-in for a channel.

    Timestamps are made up like Slack's (`term-<seconds>.<micros>`), rising and unique across runs, since
    incidents remember their parent's ts and `sesbot sweep --once` is a new process each time.
    """

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream
        self._last = 0
        self._lock = threading.Lock()

    def _next_ts(self) -> str:
        self._last = max(self._last + 1, time.time_ns() // 1000)
        return f"term-{self._last // 1_000_000}.{self._last % 1_000_000:06d}"

    def _out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stdout

    def post(self, channel: str, message: Message, thread_ts: str | None = None, mark: Mark | None = None) -> Posted:
        with self._lock:
            ts = self._next_ts()
            where = f"{channel or 'terminal'}" + (f", reply to {thread_ts}" if thread_ts else "")
            self._write(f"[{message.severity.tag}] {where} ({ts})", message)
        return Posted(channel=channel or "terminal", ts=ts)

    def find(
        self, channel: str, mark: Mark, thread_ts: str | None = None, after_ts: str | None = None
    ) -> Posted | None:
        """A terminal cannot look back at what it printed: a message whose post was cut short prints again."""
        return None

    def update(self, channel: str, ts: str, message: Message) -> None:
        with self._lock:
            self._write(f"[{message.severity.tag}] {channel or 'terminal'}, message {ts} now reads", message)

    def upload(self, channel: str, thread_ts: str, image: Image, mark: Mark | None = None) -> str:
        """Prints what the picture shows (its alt text); the terminal has no thread to attach it to."""
        with self._lock:
            out = self._out()
            out.write(f"[chart] {channel or 'terminal'}, reply to {thread_ts}: {image.title}\n")
            out.write(f"  {clean(image.alt_text, 4000)}\n  {clean(image.caption, 1000)}\n\n")
            out.flush()
        return image.filename

    def _write(self, head: str, message: Message) -> None:
        out = self._out()
        # Remote text (bounce diagnostics) is data: control characters are shown, never obeyed.
        body = "\n".join("  " + clean(line, 4000) for line in message.text().splitlines())
        out.write(f"{head}\n{body}\n\n")
        out.flush()
