"""The command grammar shared by Slack (`/ses why x@y`) and the terminal (`sesbot why x@y`).

One registry, one parser, one engine, two front ends. A command is registered with `@command(...)` in
the module of its concern (`bot/commands/why.py`, ...); `bot.commands.all` imports them in help order.
May import the rest of the engine (`bot.*`); never `handlers` or `sesbot`.

    >>> parse("why <mailto:a@b.com|a@b.com> --json").json
    True
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.deps import Deps
from bot.findings import Answer, Report
from bot.notify import Poster
from bot.target import UsageError, shown

MAX_COMMAND_TEXT = 4000


@dataclass
class Invocation:
    name: str
    args: list[str]
    rest: str  # everything after the command name, as typed (for `explain <pasted text>`)
    json: bool = False
    flags: set[str] = field(default_factory=set)


@dataclass
class CommandContext:
    """Who asks, from where. `via` is "slack" or "cli"."""

    deps: Deps
    via: str = "cli"
    user_id: str | None = None
    channel_id: str | None = None
    team_id: str | None = None
    thread_ts: str | None = None
    invocation: Invocation | None = None
    poster: Poster | None = None  # where alert messages go, when the front end has a chat system


Result = Report | Answer
RunFn = Callable[[CommandContext, Invocation], Result]


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    summary: str
    example: str
    run: RunFn
    in_chat: bool = True  # offered in the chat front end (`/ses ...`)
    cli: bool = True  # offered in the terminal
    record: bool = False  # store as a diagnosis (who asked what, the verdict)
    answer_in_ack: bool = False  # quick and offline: a chat front end may answer in its acknowledgement
    flags: tuple[str, ...] = ()  # flags it accepts besides --json


COMMANDS: dict[str, Command] = {}
ALIASES = {"diagnose": "why", "-h": "help", "--help": "help", "?": "help"}


def command(
    name: str,
    usage: str,
    summary: str,
    example: str,
    *,
    in_chat: bool = True,
    cli: bool = True,
    record: bool = False,
    answer_in_ack: bool = False,
    flags: tuple[str, ...] = (),
) -> Callable[[RunFn], RunFn]:
    def deco(fn: RunFn) -> RunFn:
        COMMANDS[name] = Command(name, usage, summary, example, fn, in_chat, cli, record, answer_in_ack, flags)
        return fn

    return deco


def load() -> dict[str, Command]:
    import bot.commands.all  # noqa: F401

    return COMMANDS


_TYPOGRAPHIC_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


def straighten_quotes(text: str) -> str:
    """Typographic quotes (chat apps and text editors put them in) as the plain ones shlex understands."""
    return text.translate(_TYPOGRAPHIC_QUOTES)


def _split(text: str) -> list[str]:
    # shlex should see plain quotes, and never fail on a stray one.
    text = straighten_quotes(text)
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def parse(text: str) -> Invocation:
    """Split a command line; an empty line is `help`. Raises `UsageError` for oversize input."""
    if text is None:
        text = ""
    if len(text) > MAX_COMMAND_TEXT:
        raise UsageError(f"that command is {len(text)} characters long; the limit is {MAX_COMMAND_TEXT}")
    text = text.strip()
    if not text:
        return Invocation("help", [], "")
    parts = text.split(None, 1)
    head, rest = parts[0], (parts[1] if len(parts) > 1 else "")
    name = ALIASES.get(head.lower(), head.lower())
    tokens = _split(rest)
    flags = {t for t in tokens if t.startswith("--")}
    args = [t for t in tokens if not t.startswith("--")]
    json_flag = "--json" in flags
    flags.discard("--json")
    rest_clean = " ".join(w for w in rest.split(" ") if w != "--json").strip()
    return Invocation(name, args, rest_clean, json=json_flag, flags=flags)


def parse_argv(argv: list[str]) -> Invocation:
    """The terminal's argv, already split by the shell: `sesbot explain "554 5.7.1 ..." --json`."""
    if sum(len(a) + 1 for a in argv) > MAX_COMMAND_TEXT:
        raise UsageError(f"that command is too long; the limit is {MAX_COMMAND_TEXT} characters")
    if not argv:
        return Invocation("help", [], "")
    name = ALIASES.get(argv[0].lower(), argv[0].lower())
    flags = {a for a in argv[1:] if a.startswith("--")}
    args = [a for a in argv[1:] if not a.startswith("--")]
    json_flag = "--json" in flags
    flags.discard("--json")
    return Invocation(name, args, " ".join(args), json=json_flag, flags=flags)


class UnknownCommand(UsageError):
    pass


def resolve(inv: Invocation, via: str) -> Command:
    commands = load()
    cmd = commands.get(inv.name)
    if cmd is None or (via == "slack" and not cmd.in_chat) or (via == "cli" and not cmd.cli):
        raise UnknownCommand(f"unknown command `{shown(inv.name, 40)}`")
    unknown = {f for f in inv.flags if f.split("=", 1)[0] not in cmd.flags}
    if unknown:
        raise UsageError(f"`{cmd.name}` does not take {', '.join(sorted(unknown))}; usage: {cmd.usage}")
    return cmd


def execute(ctx: CommandContext, inv: Invocation) -> Result:
    """Run a parsed command; usage problems raise `UsageError` with a one-line message."""
    cmd = resolve(inv, ctx.via)
    ctx.invocation = inv
    result = cmd.run(ctx, inv)
    if cmd.record:  # each diagnosis: who asked what, when, the verdict
        for report in [result] if isinstance(result, Report) else result.reports:
            ctx.deps.store.record_diagnosis(
                report.as_dict(),
                via=ctx.via,
                command=f"{inv.name} {inv.rest}".strip(),
                user_id=ctx.user_id,
                channel_id=ctx.channel_id,
            )
    return result


def help_answer(via: str, prefix: str) -> Answer:
    lines = []
    data = []
    for cmd in load().values():
        if (via == "slack" and not cmd.in_chat) or (via == "cli" and not cmd.cli):
            continue
        lines.append(f"{prefix}{cmd.usage} — {cmd.summary} (e.g. {prefix}{cmd.example})")
        data.append({"command": cmd.name, "usage": cmd.usage, "summary": cmd.summary, "example": cmd.example})
    return Answer(
        title="sesbot: why SES mail did not arrive",
        sections=[("Commands", lines)],
        data={"commands": data},
        kind="help",
    )
