"""The Slack surface over real HTTP: signed requests answered, unsigned and stale ones refused."""

from __future__ import annotations

import json
import time

from peers.slack import post_signed, slash_command_body
from tests.conftest import SIGNING_SECRET


def events_url(server) -> str:
    return f"{server.url}/slack/events"


def test_signed_ses_help_is_answered_with_the_commands(bot_server, slack_peer):
    body = slash_command_body("help", response_url=slack_peer.response_url("help"))
    status, text = post_signed(events_url(bot_server), body, SIGNING_SECRET)
    assert status == 200
    answer = json.loads(text)
    assert answer["response_type"] == "ephemeral"
    listed = "\n".join(b["text"]["text"] for b in answer["blocks"] if b["type"] == "section")
    assert "/ses help" in listed
    assert answer["text"].startswith("sesbot")


def test_an_unknown_subcommand_answers_with_the_help_ephemerally(bot_server, slack_peer):
    body = slash_command_body("frobnicate now", response_url=slack_peer.response_url("x"))
    status, text = post_signed(events_url(bot_server), body, SIGNING_SECRET)
    answer = json.loads(text)
    assert (status, answer["response_type"]) == (200, "ephemeral")
    assert "unknown command `frobnicate`" in answer["text"]
    assert any("/ses help" in b["text"]["text"] for b in answer["blocks"] if b["type"] == "section")


def test_an_unsigned_request_is_refused_and_nothing_runs(bot_server, slack_peer):
    body = slash_command_body("help", response_url=slack_peer.response_url("u"))
    status, _ = post_signed(events_url(bot_server), body, SIGNING_SECRET, sign=False)
    assert status == 401
    assert slack_peer.responses("u") == []


def test_a_request_signed_with_another_secret_is_refused(bot_server, slack_peer):
    body = slash_command_body("help", response_url=slack_peer.response_url("w"))
    status, _ = post_signed(events_url(bot_server), body, "not-the-secret")
    assert status == 401


def test_a_stale_request_is_refused(bot_server, slack_peer):
    body = slash_command_body("help", response_url=slack_peer.response_url("s"))
    status, _ = post_signed(events_url(bot_server), body, SIGNING_SECRET, timestamp=int(time.time()) - 600)
    assert status == 401


def test_the_health_endpoint_answers(bot_server):
    import urllib.request

    with urllib.request.urlopen(f"{bot_server.url}/healthz", timeout=5) as resp:  # noqa: S310 - loopback
        assert (resp.status, resp.read()) == (200, b"ok\n")


def test_health_still_answers_with_three_hundred_idle_connections_open(bot_server):
    import socket
    import urllib.request

    host, port = bot_server.host, bot_server.port
    idle = []
    try:
        for _ in range(300):  # waitress's own default limit (100) would stop accepting at the 101st
            s = socket.create_connection((host, port), timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # half a request: it never completes
            idle.append(s)
        with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=10) as resp:  # noqa: S310
            assert (resp.status, resp.read()) == (200, b"ok\n")
    finally:
        for s in idle:
            s.close()


def test_the_server_limits_are_set_from_the_settings(deps):
    from handlers.server import HttpServer

    server = HttpServer(lambda environ, start_response: [], threads=3, connection_limit=50)
    try:
        adj = server._server.adj
        assert (adj.threads, adj.connection_limit, adj.channel_timeout, adj.asyncore_use_poll) == (3, 50, 30, True)
    finally:
        server.stop()  # closes the socket and ends the dispatcher's threads (waitress-0..2), unlike _server.close()


def request_head(server, length: int) -> bytes:
    return f"POST /sns HTTP/1.1\r\nHost: {server.host}\r\nContent-Length: {length}\r\n\r\n".encode()


def test_a_body_over_the_limit_is_refused_before_the_server_reads_it(bot_server):
    import socket

    from bot.sns import MAX_BODY

    with socket.create_connection((bot_server.host, bot_server.port), timeout=10) as s:
        s.sendall(request_head(bot_server, MAX_BODY + 1))  # and not one byte of the body
        answer = s.makefile("rb").readline()
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_a_body_of_exactly_the_limit_reaches_the_sns_endpoint(bot_server):
    import socket

    from bot.sns import MAX_BODY

    with socket.create_connection((bot_server.host, bot_server.port), timeout=10) as s:
        s.sendall(request_head(bot_server, MAX_BODY) + b"a" * MAX_BODY)
        answer = s.makefile("rb").readline()
    assert answer.startswith(b"HTTP/1.1 400 ")  # the SNS app read it: not JSON


def test_stopping_the_server_closes_an_idle_keep_alive_connection(bot_server):
    import socket

    with socket.create_connection((bot_server.host, bot_server.port), timeout=10) as idle:
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: sesbot\r\n\r\n")
        answer = b""
        while not answer.endswith(b"ok\n"):  # bounded by the socket's timeout
            answer += idle.recv(1000)
        assert answer.startswith(b"HTTP/1.1 200")  # answered, and kept alive
        bot_server.stop()
        # Closed by the time stop returns (end of stream), not left open until its idle timeout (30 s), which
        # would keep the server's loop running (the recv would time out instead).
        assert idle.recv(1000) == b""


def test_stopping_a_server_whose_loop_already_let_go_of_its_trigger_raises_nothing_and_ends_the_loop(deps):
    from handlers.server import HttpServer, make_wsgi

    server = HttpServer(make_wsgi(lambda environ, start: [], deps)).start()
    # What waitress does when the listener fails inside its loop: the server closes, its trigger with it.
    server._server.trigger.close()
    server.stop()  # closes what is left from here: no "Bad file descriptor" out of the stop
    server._thread.join(timeout=10)  # a guard against a hang, not a time budget
    assert not server._thread.is_alive()
