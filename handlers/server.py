"""HTTP mode: one WSGI app for Slack (`/slack/events`), SNS (`/sns`) and a health check, served by
waitress (a production-grade threaded server; Bolt's own development server binds 0.0.0.0, is
single-threaded, and is not for production).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import waitress
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import wasyncore

from bot.alerts.outbox import delivery_problem, delivery_problem_text
from bot.deps import Deps
from bot.notify import Poster
from bot.sns import MAX_BODY, make_sns_app

WSGIApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]


def _plain(status: str, body: bytes) -> WSGIApp:
    def app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def make_wsgi(app: App, deps: Deps, sns_app: WSGIApp | None = None, poster: Poster | None = None) -> WSGIApp:
    """Route by path: Slack's endpoint, the SNS endpoint (posting what SES's pushed events owe through
    `poster`), `/healthz`; everything else 404."""
    slack = SlackRequestHandler(app)
    if sns_app is None:
        sns_app = make_sns_app(deps, poster=poster)
    ok = _plain("200 OK", b"ok\n")

    def health(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        """`ok`, or `degraded: <why>` (still 200: the process is alive and a restart would not fix it)."""
        problems = list(deps.health.problems())  # the SQS consumer, the sweep, their threads
        try:
            problem = delivery_problem(deps.store)
        except Exception as exc:  # the health answer never fails on the database: it says so
            problem = None
            problems.append(f"the database cannot be read ({type(exc).__name__})")
        if problem is not None:
            problems.insert(0, delivery_problem_text(problem).replace("<#", "").replace(">", ""))
        if not problems:
            return ok(environ, start_response)
        text = "degraded: " + "; ".join(problems) + "\n"
        return _plain("200 OK", text.encode())(environ, start_response)

    not_found = _plain("404 Not Found", b"not found\n")

    def router(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/slack/events":
            return slack(environ, start_response)
        if path == "/sns":
            return sns_app(environ, start_response)
        if path in ("/healthz", "/"):
            return health(environ, start_response)
        return not_found(environ, start_response)

    return router


# waitress, set deliberately. Requests are short (Slack's are acknowledged at once, their work runs on the
# answer pool), so a few threads serve many; connections cost no thread until a whole request has arrived,
# so idle or half-open ones (a scanner, a proxy's keep-alives) are cheap and are allowed by the thousand
# (waitress's default, 100, lets 100 idle sockets stop it answering even /healthz). poll() instead of
# select(): select() cannot watch more than 1,024 sockets.
CHANNEL_TIMEOUT = 30  # seconds an idle connection is kept (waitress: 120)
CLEANUP_INTERVAL = 10  # how often idle connections are looked for (waitress: 30)
BACKLOG = 1024  # pending accepts the kernel queues (waitress: 1024)
# The largest body waitress reads (its default, 1 GiB, is buffered whole before the app can refuse it): the SNS
# endpoint's limit, which no Slack request comes near. waitress refuses a body of this size or more, so the
# app's own limit (at most MAX_BODY bytes) is one byte below; a longer declared body is answered 413 at once.
MAX_REQUEST_BODY = MAX_BODY + 1


class HttpServer:
    """waitress in a background thread; `port=0` picks a free port (tests), read it from `.port`."""

    def __init__(
        self, wsgi: WSGIApp, host: str = "127.0.0.1", port: int = 0, threads: int = 8, connection_limit: int = 1000
    ):
        self._server = waitress.create_server(
            wsgi,
            host=host,
            port=port,
            threads=threads,
            connection_limit=connection_limit,
            channel_timeout=CHANNEL_TIMEOUT,
            cleanup_interval=CLEANUP_INTERVAL,
            backlog=BACKLOG,
            max_request_body_size=MAX_REQUEST_BODY,
            asyncore_use_poll=True,
            ident="sesbot",
            clear_untrusted_proxy_headers=True,
        )
        self.host = host
        self.port = self._server.effective_port
        self._thread: threading.Thread | None = None
        self._stop_lock = threading.Lock()
        self._stopped = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> HttpServer:
        if self._thread is not None:  # one loop per server: two would race on the same sockets
            return self
        self._thread = threading.Thread(target=self._server.run, name="http", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.run()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving within `timeout` seconds: no new connections, the requests running finish and their
        answers are sent, then every connection is closed, idle keep-alive ones too (left open, each would keep
        the loop running until its channel timeout); a second call does nothing."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        deadline = time.monotonic() + timeout
        if not (self._thread and self._thread.is_alive()):
            self._server.task_dispatcher.shutdown(timeout=timeout)
            wasyncore.close_all(self._server._map)
            return
        # Changes to the connections are made inside the server's loop (it owns them), through its trigger.
        pulled = self._pull(self._stop_accepting)
        self._server.task_dispatcher.shutdown(timeout=max(0.0, deadline - time.monotonic()))
        while pulled and self._server.active_channels and time.monotonic() < deadline:  # the answers being sent
            time.sleep(0.01)
        # Whatever is left at the deadline, and the trigger: the loop sees an empty map and returns at once.
        if not self._pull(self._close_all):
            self._close_all()  # the loop let go of its trigger: close what is left from here
        self._thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _pull(self, thunk: Callable[[], None]) -> bool:
        """Run `thunk` inside the server's loop; False when the trigger is already closed (waitress closes it
        with the server when the listener fails in the loop, as a closed listener polled once more can)."""
        try:
            self._server.trigger.pull_trigger(thunk)
        except OSError:
            return False
        return True

    def _close_all(self) -> None:
        try:
            wasyncore.close_all(self._server._map)
        except OSError:  # a socket already closed by the loop: nothing left to close on it
            pass

    def _stop_accepting(self) -> None:
        """Close the listener, and each connection as soon as what it has to send is sent (an idle one at
        once; one whose request is running once its answer is)."""
        wasyncore.dispatcher.close(self._server)  # the listener alone: the trigger stays until the end
        for channel in list(self._server.active_channels.values()):
            with channel.requests_lock:
                channel.close_when_flushed = True

    def __enter__(self) -> HttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
