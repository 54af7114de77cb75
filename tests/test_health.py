"""What /healthz says beyond delivery (bot.health): the background parts' failures and their threads."""

from __future__ import annotations

import threading
import urllib.request

from bot.health import Health


def test_a_failing_part_is_a_problem_until_it_works_again_and_says_since_when():
    now = [100.0]
    health = Health(clock=lambda: now[0])
    health.failed("the alert sweep", "OperationalError")
    now[0] += 30
    health.failed("the alert sweep", "OperationalError")  # still the same run of failures
    assert health.problems() == ["the alert sweep failing for 30 s (OperationalError)"]
    health.working("the alert sweep")
    assert health.problems() == []


def test_a_watched_thread_that_is_gone_is_a_problem_unless_the_bot_is_stopping():
    health = Health()
    done = threading.Thread(target=lambda: None, name="sqs-1")
    done.start()
    done.join()
    health.watch("the SQS consumer", [done])
    assert health.problems() == ["the SQS consumer stopped (sqs-1)"]
    health.stopping()
    assert health.problems() == []


def test_healthz_lists_every_problem_a_part_reports(bot_server_factory, deps):
    server = bot_server_factory()
    with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as resp:  # noqa: S310 - loopback
        assert resp.read() == b"ok\n"
    deps.health.failed("the SQS consumer of sesbot-events", "AWS refused ReceiveMessage (AccessDenied)")
    with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as resp:  # noqa: S310 - loopback
        body = resp.read().decode()
    assert resp.status == 200  # alive: a restart would not fix a denied queue
    assert body.startswith("degraded: the SQS consumer of sesbot-events failing for ")
    assert body.rstrip().endswith("(AWS refused ReceiveMessage (AccessDenied))")
