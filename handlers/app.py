"""The Bolt app: built from deps and a Web API client, with every listener registered.

Deps reach listeners by closure (Bolt deep-copies `context` for lazy listeners), so nothing here is
global and tests build as many apps as they like.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.deps import Deps
from bot.logs import BOLT_APP_LOGGER
from bot.settings import Settings
from handlers import actions, diagnose, guard, home, mentions, retries, shortcuts, slash, suppression, threads
from handlers.home_charts import HomeCharts
from handlers.work import Work

# Retries, stated once for Slack: answers to a person (responses, DMs, views) wait out one `ratelimited`
# (HTTP 429 + Retry-After) and try again, as slack_sdk's handler does; alert messages do not, because the
# alert outbox keeps them and honours Retry-After itself (see `handlers.poster`). slack_sdk's default
# connection-error handler (one retry) stays on for both.
ANSWER_RATE_LIMIT_RETRIES = 1


def _client(settings: Settings) -> WebClient:
    token = settings.slack_bot_token
    return WebClient(token=token.reveal() if token else None, base_url=settings.slack_api_url)


def with_answer_retries(client: WebClient) -> WebClient:
    """`client`, waiting out one rate limit before it gives up (added once, whoever built the client)."""
    if not any(isinstance(h, RateLimitErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=ANSWER_RATE_LIMIT_RETRIES))
    return client


def build_client(deps: Deps) -> WebClient:
    """The Web API client the app answers people with."""
    return with_answer_retries(_client(deps.settings))


def build_poster_client(settings: Settings) -> WebClient:
    """The Web API client alert messages go out through: rate limits are the outbox's to honour."""
    return _client(settings)


def home_charts(deps: Deps, client: WebClient) -> HomeCharts | None:
    """The App Home's rate charts, uploaded through `client`; None with `SESBOT_CHARTS=off`."""
    return HomeCharts(deps, client) if deps.settings.charts else None


def build_app(
    deps: Deps,
    client: WebClient | None = None,
    *,
    verify_token: bool = True,
    charts: HomeCharts | None = None,
    work: Work | None = None,
) -> App:
    """A Bolt app; `verify_token` calls auth.test at build (a bad token fails here, not at first use);
    `charts` gives the App Home a chart per account and region (`home_charts`; none without it); `work` is
    the answer pool (one of `SESBOT_ANSWER_WORKERS` is made without it: whoever passes one shuts it down)."""
    client = with_answer_retries(client) if client is not None else build_client(deps)
    secret = deps.settings.slack_signing_secret
    app = App(
        client=client,
        signing_secret=secret.reveal() if secret else None,
        token_verification_enabled=verify_token,
        # Socket Mode has no signatures to check; HTTP mode always does.
        request_verification_enabled=not deps.settings.socket_mode,
        process_before_response=False,
        # Capped at WARNING by `bot.logs` (it logs request bodies at DEBUG); Bolt's middleware and listener
        # loggers take their level from it.
        logger=logging.getLogger(BOLT_APP_LOGGER),
    )
    # The slow part of every answer runs here, never on Bolt's listener threads that acknowledge.
    work = work or Work(deps.settings.answer_workers, deps.settings.answer_queue)
    retries.register(app, deps)
    guard.register(app, deps)
    slash.register(app, deps, work)
    mentions.register(app, deps, work)
    actions.register(app, deps, work)
    home.register(app, deps, work, charts)
    diagnose.register(app, deps, work)
    shortcuts.register(app, deps, work)
    suppression.register(app, deps)
    threads.register(app, deps)
    return app
