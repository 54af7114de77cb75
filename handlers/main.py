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

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.scheduler import AfterSweep, start_scheduler
from bot.settings import Settings, SettingsError
from bot.sqs import start_receivers
from handlers import home
from handlers.app import build_app, build_client, build_poster_client, home_charts
from handlers.poster import SlackPoster
from handlers.server import HttpServer, make_wsgi
from handlers.work import Work

log = logging.getLogger("sesbot")
# Stopping takes at most 2 s (README, "How far one process goes"): what the SQS consumer gets to finish what it
# holds, then what any other task still running (a sweep waiting on AWS) gets before the process leaves anyway.
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
        deps.store.kv_set("started_at", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    except Exception as exc:  # noqa: BLE001 - sqlite3 and OS errors alike
        print(f"sesbot: cannot write the database {settings.db_path} ({exc}); check SESBOT_DB.", file=sys.stderr)
        return 1
    client = build_client(deps)
    try:
        auth = client.auth_test()
    except SlackApiError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        if status >= 500 or status == 429:  # Slack in trouble (or busy): not the token's fault
            print(
                f"sesbot: Slack answered HTTP {status} to auth.test; it is not the token: try again in a few "
                "minutes (https://slack-status.com).",
                file=sys.stderr,
            )
            return 1
        err = exc.response.get("error", "unknown_error") if exc.response is not None else "unknown_error"
        print(
            f"sesbot: Slack refused SLACK_BOT_TOKEN ({err}); check the token in your Slack app's "
            "OAuth & Permissions page.",
            file=sys.stderr,
        )
        return 1
    except Exception as exc:  # noqa: BLE001 - network trouble is one line too
        print(
            f"sesbot: cannot reach Slack at {settings.slack_api_url} ({type(exc).__name__}); "
            "check the network or SLACK_API_URL.",
            file=sys.stderr,
        )
        return 1
    log.info("connected to Slack as %s in team %s", auth.get("user"), auth.get("team"))
    charts = home_charts(deps, client)
    work = Work(settings.answer_workers, settings.answer_queue)
    app = build_app(deps, client, verify_token=False, charts=charts, work=work)

    stop = threading.Event()
    background = start_background(deps, stop, after_sweep=home.refresher(deps, client, charts))
    background.append(lambda: work.shutdown(wait=False))

    def shutdown(signum: int, frame: object) -> None:
        log.info("shutting down (signal %s)", signum)
        deps.health.stopping()
        stop.set()

    signal.signal(signal.SIGTERM, shutdown)
    try:
        app_token = settings.slack_app_token
        if app_token:  # Socket Mode (`settings.socket_mode`)
            serve_socket_mode(app, app_token.reveal(), stop)
        else:
            # What SES's events pushed through SNS over HTTPS owe goes out as the SQS consumer's does.
            poster = SlackPoster(build_poster_client(settings), redact=settings.redact == "local")
            server = HttpServer(
                make_wsgi(app, deps, poster=poster if settings.alert_channel else None),
                host=settings.host,
                port=settings.port,
                threads=settings.http_threads,
                connection_limit=settings.http_connections,
            )
            log.info("HTTP mode: listening on %s:%s (/slack/events, /sns, /healthz)", settings.host, server.port)
            server.start()
            stop.wait()
            server.stop()
    except KeyboardInterrupt:
        stop.set()
    finally:
        for b in background:
            b()
    _leave_in_time()
    return 0


def _leave_in_time(grace: float = LEAVE_GRACE) -> None:
    """Leave now rather than when the last task ends: a sweep or an answer waiting on AWS or Slack would keep
    the process for as long as its calls take (Python joins the thread pools' workers at exit, daemon or not).
    Nothing is lost by not waiting: each step of a sweep is one transaction, a message being posted is found
    and adopted at the next start (the outbox's exactly-once delivery), and an SQS message is deleted only
    after it is stored."""
    deadline = time.monotonic() + grace
    main = threading.main_thread()
    while time.monotonic() < deadline:
        if not [t for t in threading.enumerate() if t is not main and not t.daemon and t.is_alive()]:
            break
        time.sleep(0.05)
    log.info("stopped")
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def serve_socket_mode(app: App, app_token: str, stop: threading.Event) -> None:
    """Serve `app` over Socket Mode until `stop` is set: connect, wait, close.

    The URL comes from `apps.connections.open` on the app's Web API client, so a test points the client at a
    local stand-in and this connects to whatever WebSocket server that hands out.
    """
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, app_token)
    try:
        handler.connect()
        log.info("Socket Mode connected")
        stop.wait()
    finally:
        # Also on Ctrl-C or a failed connect: the client's threads and socket must not outlive the bot.
        handler.close()


def start_background(
    deps: Deps, stop: threading.Event, after_sweep: AfterSweep | None = None
) -> list[Callable[[], None]]:
    """Start the scheduler (with `after_sweep` as its hook: the App Home refresh) and the SQS consumer;
    return their stop functions."""
    stoppers: list[Callable[[], None]] = []
    poster = SlackPoster(build_poster_client(deps.settings), redact=deps.settings.redact == "local")
    sched = start_scheduler(deps, poster, after_sweep)
    stoppers.append(lambda: sched.shutdown(wait=False))
    if deps.settings.sqs_queue_url:
        receivers = start_receivers(
            deps, stop, deps.settings.sqs_workers, poster if deps.settings.alert_channel else None
        )

        def join_receivers() -> None:
            # Not the long poll's 20 s: a receive still in flight is abandoned. Nothing is lost that way, since
            # a message is deleted only after it is stored (one transaction): one an abandoned receive took
            # reappears on the queue after its visibility timeout and is stored then.
            deadline = time.monotonic() + SHUTDOWN_GRACE
            for t in receivers:
                t.join(timeout=max(0.0, deadline - time.monotonic()))

        stoppers.append(join_receivers)
    return stoppers
