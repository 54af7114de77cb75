"""The Bolt app: built from deps and a Web API client, with every listener registered.

Deps reach listeners by closure (Bolt deep-copies `context` for lazy listeners), so nothing here is
global and tests build as many apps as they like.
"""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.deps import Deps
from handlers import actions, guard, home, mentions, slash, suppression, threads


def build_client(deps: Deps) -> WebClient:
    token = deps.settings.slack_bot_token
    return WebClient(token=token.reveal() if token else None, base_url=deps.settings.slack_api_url)


def build_app(deps: Deps, client: WebClient | None = None, *, verify_token: bool = True) -> App:
    """A Bolt app; `verify_token` calls auth.test at build (a bad token fails here, not at first use)."""
    client = client or build_client(deps)
    secret = deps.settings.slack_signing_secret
    app = App(
        client=client,
        signing_secret=secret.reveal() if secret else None,
        token_verification_enabled=verify_token,
        # Socket Mode has no signatures to check; HTTP mode always does.
        request_verification_enabled=not deps.settings.socket_mode,
        process_before_response=False,
    )
    guard.register(app, deps)
    slash.register(app, deps)
    mentions.register(app, deps)
    actions.register(app, deps)
    home.register(app, deps)
    suppression.register(app, deps)
    threads.register(app, deps)
    return app
