"""`sesbot run`: check the token, then start everything in one process — the Slack app (Socket Mode
or HTTP), the scheduler (alerts, retention) and the SQS consumer."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.scheduler import AfterSweep, start_scheduler
from bot.settings import Settings, SettingsError
from bot.sqs import start_receivers
from bot.store import KV_STARTED_AT, StoreUnavailable
from handlers import home
from handlers.app import build_app, build_client, build_poster_client, home_charts
from handlers.poster import SlackPoster
from handlers.server import HttpServer, make_wsgi
from handlers.work import Work

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

log = logging.getLogger("sesbot")
# Stopping takes at most 2 s (README, "How far one process goes"), one deadline for all it stops: the HTTP
# server, the SQS consumer and the answer pool finish what they hold within SHUTDOWN_GRACE of the stop, each
# in what the ones before left of it; then any other task still running (a sweep waiting on AWS) gets the
# rest of the 2 s before the process leaves anyway.
SHUTDOWN_GRACE = 1.5
LEAVE_GRACE = 0.5


def run(settings: Settings) -> int:
    try:
        settings.require_slack()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    deps = Deps.build(settings)
    try:  # the store at once, written to: a database it cannot write is one line now, not a 500 per request
        deps.store.kv_set(KV_STARTED_AT, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    except Exception as exc:  # noqa: BLE001 - sqlite3 and OS errors alike
        problem = exc if isinstance(exc, StoreUnavailable) else StoreUnavailable(settings.db_path, exc)
        print(f"sesbot: {problem}", file=sys.stderr)
        return 1
    client = build_client(deps)
    try:
        auth = client.auth_test()
    except Exception as exc:  # noqa: BLE001 - a refused token, Slack in trouble, no Slack: one line each
        print(_slack_problem(exc, settings, "auth.test", "SLACK_BOT_TOKEN"), file=sys.stderr)
        return 1
    charts = home_charts(deps, client)
    work = Work(settings.answer_workers, settings.answer_queue)
    app = build_app(deps, client, verify_token=False, charts=charts, work=work)
    socket_mode = None
    if settings.slack_app_token:  # Socket Mode (`settings.socket_mode`): connected before anything starts
        try:
            socket_mode = connect_socket_mode(app, settings.slack_app_token.reveal())
        except Exception as exc:  # noqa: BLE001 - as the bot token's: one line, no traceback
            print(
                _slack_problem(exc, settings, "apps.connections.open", "SLACK_APP_TOKEN"),
                file=sys.stderr,
            )
            return 1
    log.info("connected to Slack as %s in team %s", auth.get("user"), auth.get("team"))
    server = None
    if socket_mode is None:  # HTTP mode: listen before anything else starts, so a failure stops little
        # What SES's events pushed through SNS over HTTPS owe goes out as the SQS consumer's does.
        poster = SlackPoster(build_poster_client(settings), redact=settings.redact == "local")
        try:
            server = HttpServer(
                make_wsgi(app, deps, poster=poster if settings.alert_channel else None),
                host=settings.host,
                port=settings.port,
                threads=settings.http_threads,
                connection_limit=settings.http_connections,
            )
        except (OSError, ValueError) as exc:  # the port is taken, SESBOT_HOST is no address of this machine
            work.shutdown(wait=False)
            print(cannot_listen(settings, exc), file=sys.stderr)
            return 1

    stop = threading.Event()
    # The answer pool first: the people whose answers it drops are told while the rest stops.
    background = [
        lambda finish_by: work.shutdown(finish_by=finish_by),
        *start_background(deps, stop, after_sweep=home.refresher(deps, client, charts)),
    ]
    if charts is not None:
        background.append(lambda finish_by: charts.shutdown())
    # Last: the audit rows of the requests just answered (written after their acknowledgement).
    background.append(lambda finish_by: deps.store.flush_audit(timeout=max(0.0, finish_by - time.monotonic())))

    def shutdown(signum: int, frame: object) -> None:
        log.info("shutting down (signal %s)", signum)
        deps.health.stopping()
        stop.set()

    signal.signal(signal.SIGTERM, shutdown)
    try:
        if server is not None:
            log.info("HTTP mode: listening on %s:%s (/slack/events, /sns, /healthz)", settings.host, server.port)
            server.start()
        stop.wait()
    except KeyboardInterrupt:
        stop.set()
    finally:
        leave_by = time.monotonic() + SHUTDOWN_GRACE + LEAVE_GRACE
        finish_by = leave_by - LEAVE_GRACE
        if socket_mode is not None:  # also on Ctrl-C: the client's threads and socket must not outlive the bot
            socket_mode.close()
        if server is not None:
            server.stop(timeout=max(0.0, finish_by - time.monotonic()))
        for b in background:
            b(finish_by)
    _leave_in_time(leave_by)
    return 0


def cannot_listen(settings: Settings, exc: OSError | ValueError) -> str:
    """The one line `sesbot run` leaves with when the HTTP listener cannot be opened."""
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc)
    else:  # waitress: the host resolves to no address
        reason = "not an address this machine can listen on"
    return f"sesbot: cannot listen on {settings.host}:{settings.port} ({reason}); change PORT or SESBOT_HOST."


def _leave_in_time(leave_by: float) -> None:
    """Leave now rather than when the last task ends: a sweep or an answer waiting on AWS or Slack would keep
    the process for as long as its calls take (Python joins the thread pools' workers at exit, daemon or not).
    Nothing is lost by not waiting: each step of a sweep is one transaction, a message being posted is found
    and adopted at the next start (the outbox's exactly-once delivery), and an SQS message is deleted only
    after it is stored. `leave_by` is the stop's deadline (`time.monotonic()`)."""
    main = threading.main_thread()
    while time.monotonic() < leave_by:
        if not [t for t in threading.enumerate() if t is not main and not t.daemon and t.is_alive()]:
            break
        time.sleep(0.05)
    log.info("stopped")
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _slack_problem(exc: Exception, settings: Settings, method: str, token: str) -> str:
    """The one line for a Slack call that failed at start: Slack in trouble (or busy), which is not the token's
    fault; the token (the setting named `token`) refused, and what to do (`REFUSED_FIX`); or Slack not reached."""
    if not isinstance(exc, SlackApiError):
        return (
            f"sesbot: cannot reach Slack at {settings.slack_api_url} ({type(exc).__name__}); "
            "check the network or SLACK_API_URL."
        )
    status = exc.response.status_code if exc.response is not None else 0
    if status >= 500 or status == 429:
        return (
            f"sesbot: Slack answered HTTP {status} to {method}; it is not the token: try again in a few "
            "minutes (https://slack-status.com)."
        )
    err = exc.response.get("error", "unknown_error") if exc.response is not None else "unknown_error"
    return f"sesbot: Slack refused {token} ({err}); {REFUSED_FIX[token]}."


# What to do about a token Slack refuses, by its setting.
REFUSED_FIX = {
    "SLACK_BOT_TOKEN": "check the token in your Slack app's OAuth & Permissions page",
    "SLACK_APP_TOKEN": "generate a new app-level token with the connections:write scope in your Slack app's "
    "Basic Information page (App-Level Tokens)",
}


def connect_socket_mode(app: App, app_token: str) -> SocketModeHandler:
    """`app`'s Socket Mode connection, open; a refused token or no Slack raises (slack_sdk's error), with
    nothing of the client left running.

    The URL comes from `apps.connections.open` on the app's Web API client, so a test points the client at a
    local stand-in and this connects to whatever WebSocket server that hands out.
    """
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, app_token)
    try:
        handler.connect()
    except BaseException:
        handler.close()  # the client's threads and socket must not outlive a failed connect
        raise
    log.info("Socket Mode connected")
    return handler


def serve_socket_mode(app: App, app_token: str, stop: threading.Event) -> None:
    """Serve `app` over Socket Mode until `stop` is set: connect, wait, close."""
    handler = connect_socket_mode(app, app_token)
    try:
        stop.wait()
    finally:
        handler.close()  # also on Ctrl-C: the client's threads and socket must not outlive the bot


def start_background(
    deps: Deps, stop: threading.Event, after_sweep: AfterSweep | None = None
) -> list[Callable[[float], None]]:
    """Start the scheduler (with `after_sweep` as its hook: the App Home refresh) and the SQS consumer;
    return their stop functions, each given the time (`time.monotonic()`) it must be done by."""
    stoppers: list[Callable[[float], None]] = []
    poster = SlackPoster(build_poster_client(deps.settings), redact=deps.settings.redact == "local")
    sched = start_scheduler(deps, poster, after_sweep)
    stoppers.append(lambda finish_by: sched.shutdown(wait=False))
    if deps.settings.sqs_queue_url:
        receivers = start_receivers(
            deps, stop, deps.settings.sqs_workers, poster if deps.settings.alert_channel else None
        )

        def join_receivers(finish_by: float) -> None:
            # Not the long poll's 20 s: a receive still in flight is abandoned. Nothing is lost that way, since
            # a message is deleted only after it is stored (one transaction): one an abandoned receive took
            # reappears on the queue after its visibility timeout and is stored then.
            for t in receivers:
                t.join(timeout=max(0.0, finish_by - time.monotonic()))

        stoppers.append(join_receivers)
    return stoppers
