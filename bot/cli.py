"""The engine's terminal front end: the `/ses` command grammar, answered as text or JSON.

    sesbot why user@example.com            # the diagnosis, as text
    sesbot why user@example.com --json     # the same, as JSON

The console script itself (`sesbot`, with `run` and `demo`) is the composition root in `sesbot.main`,
which hands in what only it may choose (the chat poster for `sweep --once`). `python -m bot.cli` runs the
engine's commands alone.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Sequence

from bot.aws import describe_error
from bot.commands import CommandContext, execute, help_answer, parse_argv, resolve
from bot.notify import Poster
from bot.render_text import render
from bot.settings import Settings, SettingsError
from bot.store import StoreUnavailable
from bot.target import UsageError, shown

log = logging.getLogger("sesbot")

HELP_WORDS = ("help", "-h", "--help", "?")
OPTIONS_HELP = ["--json — print the answer as JSON (every query command)"]


def print_help(json_out: bool = False, running: Sequence[str] = ()) -> None:
    """The command list; `running` adds the composition root's own commands (`run`, `demo`)."""
    answer = help_answer("cli", "sesbot ")
    if json_out:
        print(json.dumps(answer.as_dict(), indent=2))
        return
    if running:
        answer.sections.append(("Running", list(running)))
    answer.sections.append(("Options", OPTIONS_HELP))
    print(render(answer))


def load_settings() -> Settings | None:
    """Settings from the environment, with logging set up; None (and the reason on stderr) when invalid."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return None
    from bot.logs import setup_logging

    setup_logging(settings)
    return settings


def not_utf8(argv: Sequence[str]) -> str | None:
    """The first argument the terminal did not give as UTF-8, as it can be shown; None when all are.

    Python reads each byte of an argument that is not UTF-8 as a lone surrogate (`$'j\\xf6hn@example.com'`,
    Latin-1, is "j\\udcf6hn@example.com"), which no check, query or print can use."""
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return None


def main(
    argv: list[str] | None = None,
    *,
    chat_poster: Callable[[Settings], Poster | None] | None = None,
    running: Sequence[str] = (),
) -> int:
    """Run one engine command from argv; the exit code is 0 (answered), 1 (failed), 2 (usage)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    bad = not_utf8(argv)
    if bad is not None:  # refused before anything runs: no check would get further than a query
        print(
            f"sesbot: the argument `{shown(bad)}` is not UTF-8; set the terminal to UTF-8 (see `sesbot help`)",
            file=sys.stderr,
        )
        return 2
    head = argv[0].lower() if argv else "help"
    if head in HELP_WORDS:
        print_help("--json" in argv, running)
        return 0
    try:
        inv = parse_argv(argv)
        resolve(inv, "cli")  # an unknown command is refused before anything is opened
    except UsageError as exc:
        print(f"sesbot: {exc} (see `sesbot help`)", file=sys.stderr)
        return 2
    settings = load_settings()
    if settings is None:
        return 2

    from bot.deps import Deps

    try:
        deps = Deps.build(settings)
        poster = chat_poster(settings) if chat_poster is not None else None
        result = execute(CommandContext(deps=deps, via="cli", poster=poster), inv)
    except UsageError as exc:
        print(f"sesbot: {exc} (see `sesbot help`)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except StoreUnavailable as exc:
        print(f"sesbot: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a person gets one line; the log has the detail
        log.debug("command failed", exc_info=True)
        print(f"sesbot: {describe_error(exc)}", file=sys.stderr)
        return 1
    if inv.json:
        print(json.dumps(result.as_dict(), indent=2, default=str))
    else:
        print(render(result))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
