"""Who may ask: one middleware for commands, mentions, buttons and App Home alike."""

from __future__ import annotations

from slack_bolt import App

from bot.deps import Deps


def register(app: App, deps: Deps) -> None:
    return None
