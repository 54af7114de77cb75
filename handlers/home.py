"""App Home: what the bot can do, published when someone opens the bot's Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.commands import help_answer
from bot.deps import Deps
from handlers.blocks import answer_message


def register(app: App, deps: Deps) -> None:
    @app.event("app_home_opened")
    def on_home(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") not in (None, "home"):
            return
        msg = answer_message(help_answer("slack", "/ses "))
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": msg["blocks"]})
