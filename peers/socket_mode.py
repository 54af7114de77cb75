"""A local stand-in for Slack's Socket Mode server: a WebSocket endpoint that pushes envelopes and records acks.

`SocketModePeer` listens on 127.0.0.1 (ephemeral port, plain ``ws://``; slack_sdk uses plain TCP when the
port is not 443) with the ``websockets`` package's threaded server. A client that connects gets
``{"type": "hello", ...}`` first, as from Slack. The test then pushes envelopes (`send_slash_command`, or any
envelope with `send`) to the newest connection and reads the client's acknowledgements back with
`wait_for_ack`. An ack is the JSON the client sent: ``{"envelope_id": ..., "payload": {...}}``, where
``payload`` is the acknowledgement's response body (for a slash command, the message shown to the user).

Wire it to the Web API stand-in so that ``apps.connections.open`` hands out this server::

    with SocketModePeer() as sm:
        slack_peer.socket_mode_url = sm.url
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

import websockets.sync.server as ws_server
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection

from peers.base import LoopbackPeer
from peers.slack import APP_ID, slash_command_body


class SocketModePeer(LoopbackPeer):
    """A Socket Mode server on 127.0.0.1 (ephemeral port); see the module docstring."""

    scheme = "ws"

    def __init__(self, *, app_id: str = APP_ID, send_hello: bool = True, ping_every: float | None = 0.25) -> None:
        super().__init__()
        self.app_id = app_id
        self.send_hello = send_hello
        self.ping_every = ping_every
        self._stopping = threading.Event()
        self._pinger: threading.Thread | None = None
        self._server: ws_server.Server | None = None  # WebSocketServer in websockets 12
        self._cond = threading.Condition()
        self._open: list[ServerConnection] = []  # connections that got their hello, oldest first
        self._connects = 0
        self._acks: list[dict[str, Any]] = []
        self._other: list[Any] = []  # anything else a client sent (not an ack)

    # ----------------------------------------------------------------------------------- lifecycle

    def _serve(self) -> int:
        # No compression (Slack's client does not negotiate it), and a short close timeout so that stop()
        # never waits long on a client that does not answer the close frame.
        self._server = ws_server.serve(self._handle, self.host, 0, compression=None, close_timeout=1, open_timeout=5)
        self._in_thread(self._server.serve_forever, "socket-mode-peer")
        if self.ping_every:
            self._stopping.clear()
            self._pinger = self._in_thread(self._ping_loop, "socket-mode-peer-ping")
        return int(self._server.socket.getsockname()[1])

    def _shutdown(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        if self._pinger is not None:
            self._pinger.join(timeout=5)
            self._pinger = None
        # websockets 12 does not close open connections on shutdown; close them here, whatever the version.
        with self._cond:
            connections = list(self._open)
        for connection in connections:
            connection.close()
        server.shutdown()

    @property
    def url(self) -> str:
        """The WebSocket URL ``apps.connections.open`` hands out, shaped like Slack's (``/link/?ticket=...``)."""
        return f"{super().url}/link/?ticket=test-ticket&app_id={self.app_id}"

    # --------------------------------------------------------------------------------- connections

    @property
    def connections(self) -> int:
        """How many clients are connected now."""
        with self._cond:
            return len(self._open)

    @property
    def connects(self) -> int:
        """How many clients have connected since start (reconnects count again)."""
        with self._cond:
            return self._connects

    def wait_for_connection(self, timeout: float = 5.0) -> None:
        """Wait until a client is connected and has been sent its hello."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._open:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no Socket Mode client connected to {self.url} within {timeout}s")
                self._cond.wait(remaining)

    def _handle(self, connection: ServerConnection) -> None:
        # One thread per connection (the websockets threaded server): hello, then read until the client goes.
        with self._cond:
            if self.send_hello:
                connection.send(json.dumps(self._hello(len(self._open) + 1)))
            self._open.append(connection)
            self._connects += 1
            self._cond.notify_all()
        try:
            for raw in connection:
                self._record(raw)
        except ConnectionClosed:
            pass  # slack_sdk's client drops the socket without a close frame when it closes
        finally:
            with self._cond:
                if connection in self._open:
                    self._open.remove(connection)
                self._cond.notify_all()

    def _ping_loop(self) -> None:
        # Slack's server pings its clients too; pinging often matters here because slack_sdk's client closes
        # its socket only between reads, and a read otherwise lasts until its 3 s timeout: each ping ends one,
        # so a test's teardown takes a fraction of a second instead of seconds.
        while not self._stopping.wait(self.ping_every):
            with self._cond:
                connections = list(self._open)
            for connection in connections:
                try:
                    connection.ping()
                except (ConnectionClosed, RuntimeError, OSError):
                    pass  # closing: the handler thread notices and forgets the connection

    def _hello(self, num_connections: int) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": num_connections,
            "debug_info": {"host": "applink-sesbot-test", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }

    def _record(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            message = raw
        with self._cond:
            if isinstance(message, dict) and "envelope_id" in message:
                self._acks.append(message)
            else:
                self._other.append(message)
            self._cond.notify_all()

    # ----------------------------------------------------------------------------------- envelopes

    def send(self, envelope: dict[str, Any]) -> str:
        """Push ``envelope`` to the newest connected client; returns its ``envelope_id``."""
        with self._cond:
            if not self._open:
                raise RuntimeError("no Socket Mode client is connected (see wait_for_connection)")
            connection = self._open[-1]
        connection.send(json.dumps(envelope))
        return str(envelope["envelope_id"])

    def send_slash_command(
        self,
        text: str,
        *,
        response_url: str,
        command: str = "/ses",
        user_id: str = "U0ALICE",
        channel_id: str = "C0OPS",
        envelope_id: str | None = None,
        **fields: str,
    ) -> str:
        """Push a ``slash_commands`` envelope as Slack does; returns its ``envelope_id``.

        The payload carries the same fields as the HTTP form body (`peers.slack.slash_command_body`), as a
        JSON object; ``fields`` are passed on to it (``user_name``, ``team_id``, ``trigger_id``...).
        """
        form = slash_command_body(
            text, command=command, user_id=user_id, channel_id=channel_id, response_url=response_url, **fields
        )
        envelope = {
            "envelope_id": envelope_id or str(uuid.uuid4()),
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": dict(parse_qsl(form.decode("utf-8"), keep_blank_values=True)),
        }
        return self.send(envelope)

    # -------------------------------------------------------------------------------------- acks

    @property
    def acks(self) -> list[dict[str, Any]]:
        """Every ack received so far (a copy), oldest first."""
        with self._cond:
            return list(self._acks)

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The client's ack of ``envelope_id`` (``{"envelope_id": ..., "payload": ...}``), waiting for it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = next((a for a in self._acks if a.get("envelope_id") == envelope_id), None)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [a.get("envelope_id") for a in self._acks]
                    raise AssertionError(f"no ack for envelope {envelope_id} within {timeout}s; acks seen: {seen}")
                self._cond.wait(remaining)


__all__ = ["SocketModePeer"]
