"""The `sesbot` console script: `run` (the Slack bot), `demo` (everything against local peers), and every
engine command (`why`, `status`, ... answered by `bot.cli`), with the Slack poster handed in for
`sweep --once` when a bot token is configured."""

from __future__ import annotations

import sys

from bot import cli
from bot.notify import Poster
from bot.settings import Settings

RUNNING_HELP = [
    "sesbot run — start the Slack bot (Socket Mode with SLACK_APP_TOKEN, else HTTP on PORT)",
    "sesbot demo — run the bot against local emulated AWS, DNS and Slack, and print what Slack would show",
]


def slack_poster(settings: Settings) -> Poster | None:
    """Slack's poster for alert messages when a bot token is set; building it touches no network."""
    if not settings.slack_bot_token:
        return None
    from handlers.app import build_poster_client
    from handlers.poster import SlackPoster

    return SlackPoster(build_poster_client(settings), redact=settings.redact == "local")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    head = argv[0].lower() if argv else "help"
    if head == "demo":
        from sesbot.demo import main as demo_main

        return demo_main(argv[1:])
    if head == "run":
        settings = cli.load_settings()
        if settings is None:
            return 2
        from handlers.main import run

        return run(settings)
    return cli.main(argv, chat_poster=slack_poster, running=RUNNING_HELP)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
