"""The `sesbot` console script: the `/ses` command grammar in the terminal, plus `run` and `demo`.

sesbot why user@example.com            # the diagnosis, as text
sesbot why user@example.com --json     # the same, as JSON
sesbot run                             # start the Slack bot
sesbot demo                            # everything, against local emulated peers
"""

from __future__ import annotations

import json
import logging
import sys

from bot.aws import describe_error
from bot.commands import CommandContext, execute, help_answer, parse_argv
from bot.render_text import render
from bot.settings import Settings, SettingsError
from bot.target import UsageError

log = logging.getLogger("sesbot")

EXTRA_HELP = [
    "sesbot run — start the Slack bot (Socket Mode with SLACK_APP_TOKEN, else HTTP on PORT)",
    "sesbot demo — run the bot against local emulated AWS, DNS and Slack, and print what Slack would show",
]


def _print_help(json_out: bool = False) -> None:
    answer = help_answer("cli", "sesbot ")
    if json_out:
        print(json.dumps(answer.as_dict(), indent=2))
        return
    answer.sections.append(("Running", EXTRA_HELP))
    answer.sections.append(("Options", ["--json — print the answer as JSON (every query command)"]))
    print(render(answer))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    head = argv[0].lower() if argv else "help"
    if head in ("help", "-h", "--help", "?"):
        _print_help("--json" in argv)
        return 0
    if head == "demo":
        from bot.demo import main as demo_main

        return demo_main(argv[1:])
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    from bot.logs import setup_logging

    setup_logging(settings)
    if head == "run":
        from handlers.main import run

        return run(settings)

    from bot.deps import Deps

    try:
        inv = parse_argv(argv)
        deps = Deps.build(settings)
        result = execute(CommandContext(deps=deps, via="cli"), inv)
    except UsageError as exc:
        print(f"sesbot: {exc} (see `sesbot help`)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
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
