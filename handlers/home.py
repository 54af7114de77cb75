"""App Home: the dashboard, published when someone opens the bot's Home tab and again after every sweep for
those who opened it in the last 24 hours (`bot.dashboard.RECENT_VIEWERS`).

Opening the tab records the visit and hands the publishing to the answer pool (`handlers.work`); the view
is built from the store alone (`bot.dashboard`), so it never waits on AWS or DNS. Incident thread links
come from `chat.getPermalink`, asked once per thread the view lists (`MAX_INCIDENTS`) and kept (a permalink
never changes). The sweep's refresh is `refresher(...)`, which the composition root hands to the scheduler
as its after-sweep hook: the engine never imports this module. The rate charts
(`handlers.home_charts.HomeCharts`, when `SESBOT_CHARTS` is on) are drawn and uploaded after the first
publish on opening, on the charts' own worker (never the answer pool's: another person's opening never
waits behind AWS or an upload), and before the publish of the sweep's refresh. The refresh checks the user
allow-lists again (the guard sees only requests, and a refresh is none).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.alerts import Incident, SweepResult
from bot.dashboard import dashboard, home_forgotten, home_opened, recent_viewers
from bot.deps import Deps
from handlers.guard import NOT_ALLOWED, GroupMembers, refusal_home, user_allowed
from handlers.home_charts import HomeCharts
from handlers.home_view import MAX_INCIDENTS, ChartSource, home_view
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
    shown = links.of(client, dash.incidents[:MAX_INCIDENTS])  # the view lists these; the rest are counted
    view = home_view(dash, links=shown, chart_for=charts, redact=deps.settings.redact == "local")
    for user in users:
        try:
            client.views_publish(user_id=user, view=view)
        except Exception as exc:  # noqa: BLE001 - one user's failed refresh must not stop the others'
            log.warning("could not publish the Home of %s: %s", user, type(exc).__name__)
    return view


def show(deps: Deps, client: WebClient, user: str, links: Permalinks, charts: HomeCharts | None = None) -> None:
    """Publish the Home of `user` at once with the charts that are ready, then, if some were missing, have the
    charts' own worker draw and upload them and publish it again (opening the Home never waits on a picture,
    and the answer pool never waits on one either)."""
    # What is missing is asked before the view is built: a chart kept meanwhile brings a publish too many,
    # never a Home left without it.
    owed = [(view.account_name or "", region) for view, region, _ in charts.missing()] if charts is not None else []
    publish(deps, client, [user], links, charts)
    if charts is not None and owed and not charts.in_background(_with_charts, deps, client, user, links, charts, owed):
        log.info("chart worker busy: the Home of %s gets its charts after the next sweep", user)


def _with_charts(
    deps: Deps, client: WebClient, user: str, links: Permalinks, charts: HomeCharts, owed: list[tuple[str, str]]
) -> None:
    # Published again when a chart the Home lacked is ready, whoever drew it (an opening just before drew it).
    charts.prepare()
    if any(charts(account, region) for account, region in owed):
        publish(deps, client, [user], links, charts)


def refresher(deps: Deps, client: WebClient, charts: HomeCharts | None = None) -> Callable[[SweepResult], None]:
    """The scheduler's after-sweep hook: republish the Home of everyone who opened it recently, with the
    charts of the new readings; whoever is no longer allowed (`SESBOT_ALLOWED_*`, the user groups read
    afresh) gets the refusal instead, once, and is no longer refreshed."""
    links = Permalinks()

    def refresh(result: SweepResult) -> None:
        users = recent_viewers(deps.store, deps.now())
        if not users:
            return
        groups = GroupMembers(deps.settings.allowed_groups)  # read once per sweep: a removal counts at once
        allowed = [u for u in users if user_allowed(deps.settings, groups, client, u)]
        if groups.unread:  # Slack did not say who is in the groups: no dashboard, and no refusal either
            log.warning(
                "the allowed user groups could not be read: the App Home of %d people waits for the next sweep",
                len(users) - len(allowed),
            )
            users = allowed
        for user in users:
            if user not in allowed:
                home_forgotten(deps.store, user)
                try:
                    client.views_publish(user_id=user, view=refusal_home(NOT_ALLOWED))
                except Exception as exc:  # noqa: BLE001 - the next visit is refused by the guard anyway
                    log.warning("could not publish the refusal on the Home of %s: %s", user, type(exc).__name__)
                log.info("%s is no longer allowed: their Home shows the refusal", user)
        if not allowed:
            return
        if charts is not None:
            charts.prepare()
        publish(deps, client, allowed, links, charts)
        log.info("refreshed the App Home of %d people after the sweep", len(allowed))

    return refresh


def register(app: App, deps: Deps, work: Work, charts: HomeCharts | None = None) -> None:
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
        admission.start(show, deps, client, user, links, charts)
