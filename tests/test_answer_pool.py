"""Acknowledge first, always (issue 15): slow answers run on the bounded answer pool, never on the listener
that acknowledges, so acknowledgements never queue behind diagnoses, and a full pool is said at once."""

from __future__ import annotations

import json
import threading
import time

from handlers.work import Work
from peers.slack import app_mention_body, post_signed, slash_command_body
from tests.conftest import REGION, SIGNING_SECRET


def slash(server, slack_peer, name: str, user: str) -> dict:
    body = slash_command_body("why jane@example.net", user_id=user, response_url=slack_peer.response_url(name))
    status, raw = post_signed(server.events_url, body, SIGNING_SECRET)
    assert status == 200
    return json.loads(raw)


def test_the_pool_admits_its_workers_then_its_queue_then_refuses():
    work = Work(workers=2, queue=1)
    admitted = [work.admit() for _ in range(4)]
    assert [(a.accepted, a.ahead) for a in admitted[:3]] == [(True, 0), (True, 0), (True, 1)]
    assert (admitted[3].accepted, admitted[3].waiting) == (False, 1)
    admitted[2].cancel()
    assert work.admit().accepted
    work.shutdown()


def test_a_finished_or_failed_answer_gives_its_place_back():
    work = Work(workers=1, queue=0)
    done = threading.Event()

    def boom() -> None:
        done.set()
        raise RuntimeError("the engine broke")

    work.admit().start(boom)
    assert done.wait(5)
    work.shutdown(wait=True)
    assert work.active == 0


def test_twelve_slow_diagnoses_are_all_acknowledged_before_the_first_answer(bot_server_factory, slack_peer, aws_peer):
    aws_peer.set_account(production_access=True, region=REGION)
    server = bot_server_factory(answer_workers=2, answer_queue=20)
    aws_peer.set_delay(1.0)  # every AWS call takes a second: each diagnosis holds a worker for seconds
    acks = [slash(server, slack_peer, f"r{i}", f"U0USER{i:02d}") for i in range(12)]
    answered_when_acked = sum(len(slack_peer.responses(f"r{i}")) for i in range(12))
    assert answered_when_acked == 0  # every acknowledgement came back while all twelve were still working
    assert acks[0]["text"] == ":hourglass_flowing_sand: Working on `why jane@example.net`…"
    assert acks[1]["text"] == acks[0]["text"]
    assert acks[2]["text"] == ":hourglass_flowing_sand: Busy: 1 ahead of you. Working on `why jane@example.net` next…"
    assert acks[11]["text"].startswith(":hourglass_flowing_sand: Busy: 10 ahead of you.")
    aws_peer.set_delay(0)
    for i in range(12):
        assert slack_peer.wait_for_response(f"r{i}", timeout=60)["response_type"] == "in_channel"


def test_a_full_pool_says_so_in_the_acknowledgement_and_runs_nothing(bot_server_factory, slack_peer, aws_peer):
    aws_peer.set_account(production_access=True, region=REGION)
    server = bot_server_factory(answer_workers=1, answer_queue=1)
    aws_peer.set_delay(1.0)
    first, second, third = (slash(server, slack_peer, f"f{i}", f"U0FULL{i}") for i in range(3))
    assert third["response_type"] == "ephemeral"
    assert "The bot is busy: 1 requests are already waiting" in json.dumps(third)
    assert "SESBOT_ANSWER_WORKERS" in json.dumps(third)
    aws_peer.set_delay(0)
    assert slack_peer.wait_for_response("f1", timeout=60)["response_type"] == "in_channel"
    assert slack_peer.responses("f2") == []


def test_a_mention_is_answered_from_the_pool_in_its_thread(bot_server_factory, slack_peer, aws_peer):
    aws_peer.set_account(production_access=True, region=REGION)
    server = bot_server_factory()
    body = app_mention_body("why jane@example.net", channel="C0OPS", ts="1700000000.000100")
    status, _ = post_signed(server.events_url, body, SIGNING_SECRET, content_type="application/json")
    assert status == 200
    call = slack_peer.wait_for("chat.postMessage", timeout=30)
    assert call.params["thread_ts"] == "1700000000.000100"
    assert "Diagnosis: jane@example.net" in json.dumps(call.params)


def test_stopping_tells_each_person_whose_answer_waits_or_runs_to_ask_again():
    work = Work(workers=1, queue=1)
    release, told = threading.Event(), []
    running, waiting = work.admit(), work.admit()
    running.start(release.wait, 30, if_dropped=lambda: told.append("running"))
    waiting.start(print, "never runs", if_dropped=lambda: told.append("waiting"))
    try:
        assert work.shutdown(finish_by=time.monotonic() + 30) == 2
    finally:
        release.set()
    assert sorted(told) == ["running", "waiting"]


def test_a_slow_slack_does_not_hold_stopping_past_its_deadline():
    work = Work(workers=1, queue=0)
    release, finished = threading.Event(), threading.Event()

    def slow_notice() -> None:
        try:
            release.wait(30)  # bounded, so that a shutdown that waits for it still ends (and fails below)
        finally:
            finished.set()

    work.admit().start(release.wait, 30, if_dropped=slow_notice)
    try:
        assert work.shutdown(finish_by=time.monotonic()) == 1
        assert not finished.is_set(), "shutdown returned only after the notice had been posted"
    finally:
        release.set()
        assert finished.wait(30)  # the straggler ends once released; no thread outlives the test
