"""App Home: the dashboard, published when someone opens the bot's Home tab and again after every sweep for
those who opened it in the last 24 hours (`bot.dashboard.RECENT_VIEWERS`).

Opening the tab records the visit and hands the publishing to the answer pool (`handlers.work`); the view
is built from the store alone (`bot.dashboard`), so it never waits on AWS or DNS. Incident thread links come
from `chat.getPermalink`, asked once per thread and kept (a permalink never changes). The sweep's refresh is
`refresher(...)`, which the composition root hands to the scheduler as its after-sweep hook: the engine
never imports this module.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.alerts import Incident, SweepResult
from bot.dashboard import dashboard, home_opened, recent_viewers
from bot.deps import Deps
from handlers.home_view import ChartSource, home_view
from handlers.work import Work

log = logging.getLogger(__name__)


class Permalinks:
    """Each incident thread's permalink, asked of Slack once (None when Slack cannot say: the view then
    names the channel)."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def of(self, client: WebClient, incidents: list[Incident]) -> dict[int, str]:
        links: dict[int, str] = {}
        for i in incidents:
            if not (i.channel and i.ts):
                continue
            key = (i.channel, i.ts)
            with self._lock:
                link = self._known.get(key)
            if link is None:
                try:
                    link = str(client.chat_getPermalink(channel=i.channel, message_ts=i.ts)["permalink"])
                except Exception as exc:  # noqa: BLE001 - a missing link is shown as the channel instead
                    log.info("no permalink for incident %s: %s", i.id, type(exc).__name__)
                    continue
                with self._lock:
                    self._known[key] = link
            links[i.id] = link
        return links


def publish(
    deps: Deps, client: WebClient, users: list[str], links: Permalinks, charts: ChartSource | None = None
) -> dict[str, Any]:
    """Build the dashboard once and publish it to each of `users`; returns the view."""
    dash = dashboard(deps)
    view = home_view(
        dash, links=links.of(client, dash.incidents), chart_for=charts, redact=deps.settings.redact == "local"
    )
    for user in users:
        try:
            client.views_publish(user_id=user, view=view)
        except Exception as exc:  # noqa: BLE001 - one user's failed refresh must not stop the others'
            log.warning("could not publish the Home of %s: %s", user, type(exc).__name__)
    return view


def refresher(deps: Deps, client: WebClient, charts: ChartSource | None = None) -> Callable[[SweepResult], None]:
    """The scheduler's after-sweep hook: republish the Home of everyone who opened it recently."""
    links = Permalinks()

    def refresh(result: SweepResult) -> None:
        users = recent_viewers(deps.store, deps.now())
        if users:
            publish(deps, client, users, links, charts)
            log.info("refreshed the App Home of %d people after the sweep", len(users))

    return refresh


def register(app: App, deps: Deps, work: Work, charts: ChartSource | None = None) -> None:
    links = Permalinks()

    @app.event("app_home_opened")
    def on_home(event: dict[str, Any], client: WebClient) -> None:
        user = event.get("user")
        if event.get("tab") not in (None, "home") or not isinstance(user, str):
            return
        home_opened(deps.store, user, deps.now())
        admission = work.admit()
        if not admission.accepted:  # the view they last saw stays; the next sweep refreshes it
            log.info("answer pool full: the Home of %s is refreshed after the next sweep", user)
            return
        admission.start(publish, deps, client, [user], links, charts)
