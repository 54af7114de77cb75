"""The command grammar shared by Slack (`/ses why x@y`) and the terminal (`sesbot why x@y`).

One registry, one parser, one engine, two front ends. A command is registered with `@command(...)` in
the module of its concern (`bot/commands/why.py`, ...); `bot.commands.all` imports them in help order.
May import the rest of the engine (`bot.*`); never `handlers` or `sesbot`.

    >>> parse("why <mailto:a@b.com|a@b.com> --json").json
    True

Flags are words that start with `--`, anywhere on the line, until a `--` word: everything after it is
an argument (POSIX). A command whose argument is free text (`@command(..., free_text=True)`, like
`explain <pasted bounce>`) keeps every word as text, `-----` lines, newlines and quotes included, except
the flags it knows (`--json` and its own) at the very start (before an optional `--`) and the very end:

    >>> parse("explain ----- Transcript of session follows ----- --json").rest
    '----- Transcript of session follows -----'
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.aws import MissingRegion
from bot.deps import Deps
from bot.findings import Answer, Report
from bot.notify import Poster
from bot.settings import Settings
from bot.target import UsageError, shown, slack_unescaped

MAX_COMMAND_TEXT = 4000


@dataclass
class Invocation:
    name: str
    args: list[str]
    rest: str  # everything after the command name, as typed (for `explain <pasted text>`)
    json: bool = False
    flags: set[str] = field(default_factory=set)

    def option(self, flag: str, is_value: Callable[[str], bool]) -> tuple[str | None, list[str]]:
        """The value of `--flag=value` or `--flag value` and the arguments left without it.

        Flags and arguments are parsed apart, so for `--flag value` the value is the last argument that
        `is_value` accepts. Raises `UsageError` when the flag is given without a value.
        """
        args = list(self.args)
        for word in self.flags:
            if word.startswith(flag + "="):
                return word.split("=", 1)[1], args
        if flag not in self.flags:
            return None, args
        values = [a for a in args if is_value(a)]
        if not values:
            raise UsageError(f"`{flag}` needs a value")
        args.remove(values[-1])
        return values[-1], args


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
    free_text: bool = False  # its argument is pasted text: only its own flags at either end are flags

    def knows(self, word: str) -> bool:
        """Is this word a flag the command takes (`--json`, or one of `flags`, bare or `--flag=value`)?"""
        return word == "--json" or (word.startswith("--") and word.split("=", 1)[0] in self.flags)


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
    free_text: bool = False,
) -> Callable[[RunFn], RunFn]:
    def deco(fn: RunFn) -> RunFn:
        COMMANDS[name] = Command(
            name, usage, summary, example, fn, in_chat, cli, record, answer_in_ack, flags, free_text
        )
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


def _flags_and_args(words: list[str]) -> tuple[set[str], list[str]]:
    """Words starting with `--` are flags, up to a `--` word; everything after it is an argument."""
    flags: set[str] = set()
    args: list[str] = []
    for i, word in enumerate(words):
        if word == "--":
            args += words[i + 1 :]
            break
        if word.startswith("--"):
            flags.add(word)
        else:
            args.append(word)
    return flags, args


def _invocation(name: str, args: list[str], rest: str, flags: set[str]) -> Invocation:
    return Invocation(name, args, rest, json="--json" in flags, flags=flags - {"--json"})


def _free_text_command(name: str) -> Command | None:
    cmd = load().get(name)
    return cmd if cmd is not None and cmd.free_text else None


# A chat link written into pasted text (`<mailto:a@b|a@b>`, `<https://x|x>`): its label, or its target.
_INLINE_LINK = re.compile(r"<((?:mailto:|https?://)[^|>\s]*)(?:\|([^>]*))?>", re.I)
_QUOTE_PAIRS = ('"', "'", "```", "`")


def tidy_text(text: str) -> str:
    """Pasted text as a person meant it: chat markup and typographic quotes undone, one pair of
    enclosing quotes (or a code fence) removed, the lines kept, blank runs and trailing blanks gone."""
    text = _INLINE_LINK.sub(lambda m: m.group(2) or re.sub(r"^mailto:", "", m.group(1), flags=re.I), text)
    text = slack_unescaped(text)
    text = straighten_quotes(text).replace("\r\n", "\n").replace("\r", "\n").strip()
    for quote in _QUOTE_PAIRS:
        if len(text) > 2 * len(quote) and text.startswith(quote) and text.endswith(quote):
            text = text[len(quote) : -len(quote)].strip()
            break
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _peel(words: list[str], cmd: Command) -> tuple[int, int, set[str]]:
    """(start, end, flags): the text of a free-text command is `words[start:end]`. Its flags are peeled
    from the start up to the first other word or a `--` (peeled too), and from the end: no pasted text
    ends with the word `--json`, and `explain -- "..." --json` means JSON."""
    flags: set[str] = set()
    start, end = 0, len(words)
    while start < end and (words[start] == "--" or cmd.knows(words[start])):
        start += 1
        if words[start - 1] == "--":
            break
        flags.add(words[start - 1])
    while end > start and cmd.knows(words[end - 1]):
        end -= 1
        flags.add(words[end])
    return start, end, flags


def _parse_free_text(name: str, rest: str, cmd: Command) -> Invocation:
    """A chat line's free text, as typed: the words are found without shlex, so the quotes, `--` and
    newlines inside the text stay where they are."""
    spans = list(re.finditer(r"\S+", rest))
    start, end, flags = _peel([m.group() for m in spans], cmd)
    text = tidy_text(rest[spans[start].start() : spans[end - 1].end()]) if start < end else ""
    return _invocation(name, _split(text), text, flags)


def _rest_words(words: list[str]) -> list[str]:
    """The line as typed, without `--json` and the `--` separator (a `--json` after it is text)."""
    if "--" in words:
        cut = words.index("--")
        return [w for w in words[:cut] if w != "--json"] + words[cut + 1 :]
    return [w for w in words if w != "--json"]


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
    cmd = _free_text_command(name)
    if cmd is not None:
        return _parse_free_text(name, rest, cmd)
    flags, args = _flags_and_args(_split(rest))
    return _invocation(name, args, " ".join(_rest_words(rest.split(" "))).strip(), flags)


def parse_argv(argv: list[str]) -> Invocation:
    """The terminal's argv, already split by the shell: `sesbot explain "554 5.7.1 ..." --json`."""
    if sum(len(a) + 1 for a in argv) > MAX_COMMAND_TEXT:
        raise UsageError(f"that command is too long; the limit is {MAX_COMMAND_TEXT} characters")
    if not argv:
        return Invocation("help", [], "")
    name = ALIASES.get(argv[0].lower(), argv[0].lower())
    cmd = _free_text_command(name)
    if cmd is not None:
        start, end, flags = _peel(argv[1:], cmd)
        words = argv[1:][start:end]
        return _invocation(name, words, tidy_text(" ".join(words)), flags)
    flags, args = _flags_and_args(argv[1:])
    return _invocation(name, args, " ".join(args), flags)


def require_regions(settings: Settings) -> list[str]:
    """The configured regions; none is a usage problem, one line (exit 2 in the terminal), for every command."""
    if not settings.regions:
        raise UsageError(str(MissingRegion()))
    return settings.regions


class UnknownCommand(UsageError):
    pass


def resolve(inv: Invocation, via: str) -> Command:
    commands = load()
    cmd = commands.get(inv.name)
    if not shown(inv.name):
        raise UnknownCommand("give a command, like `why user@example.com`")
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
