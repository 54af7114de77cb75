"""Pushed, not polled (issue 13): SES's status and Advisor events, as an EventBridge rule puts them on the bot's
queue, open or resolve incidents (or owe an Advisor notice) in the receive that brings them; the sweep, still
polling, finds the incident already open and opens nothing twice.

The events go on a real queue of the AWS peer (moto's SQS) in EventBridge's envelope, are received by the real
consumer, and what they owe is posted to the Slack peer. The `detail` of a status event is not read: the bot
asks SES (`GetAccount`) at once, and uses the event's word only when SES cannot be asked.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from bot.alerts import sweep
from bot.alerts.signals import read_all
from bot.alerts.transitions import apply_reading
from bot.events import parse
from bot.sqs import SqsConsumer
from tests.conftest import CHANNEL, REGION, slack_poster


def eventbridge(detail_type: str, detail: dict | None = None, *, event_id: str | None = None, region: str = REGION):
    """An SES event as EventBridge delivers it to an SQS target: the event itself is the message body."""
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.ses",
        "account": "123456789012",
        "time": "2026-12-03T12:00:00Z",
        "region": region,
        "resources": [],
        "detail": detail if detail is not None else {},
    }


@pytest.fixture
def queue(aws_peer, alert_deps) -> str:
    url = aws_peer.client("sqs").create_queue(QueueName="sesbot-events")["QueueUrl"]
    alert_deps.settings.sqs_queue_url = url
    return url


def put(aws_peer, queue: str, *events: dict) -> None:
    for event in events:
        aws_peer.client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(event))


def receive(alert_deps, slack_peer, queue: str) -> None:
    """One receive of the consumer, posting through the Slack poster."""
    consumer = SqsConsumer(alert_deps, queue_url=queue, poster=slack_poster(slack_peer))
    result = consumer.poll_once(wait_seconds=1)
    assert result.pushed, "the receive brought the pushed events"


def incidents(alert_deps) -> list[dict]:
    return alert_deps.store.query("SELECT id, signal, level, status, ts FROM incidents ORDER BY id")


def test_sending_status_disabled_on_the_queue_opens_the_incident_in_that_receive_and_the_sweep_opens_no_second(
    aws_peer, slack_peer, alert_deps, clock, queue
):
    aws_peer.set_account(REGION, sending_enabled=False)
    put(aws_peer, queue, eventbridge("Sending Status Disabled"))

    receive(alert_deps, slack_peer, queue)

    [incident] = incidents(alert_deps)
    assert (incident["signal"], incident["level"], incident["status"]) == ("account_status", "paused", "open")
    [parent] = slack_peer.messages_in(CHANNEL)  # the parent message, posted from the queue, no sweep run
    assert parent["ts"] == incident["ts"]
    assert "paused" in parent["text"].lower()
    assert aws_peer.calls_to("GetAccount")  # SES was asked at once

    clock.tick()
    later = sweep(alert_deps, slack_poster(slack_peer))  # polling, the fallback, sees the same status
    assert [(s.signal, s.previous_level, s.level) for s in later.signals if s.signal == "account_status"] == [
        ("account_status", "paused", "paused")
    ]
    assert incidents(alert_deps) == [incident]
    assert later.posted == []
    assert len(slack_peer.messages_in(CHANNEL)) == 1


def test_sending_status_enabled_resolves_it_in_its_thread_within_the_receive(
    aws_peer, slack_peer, alert_deps, clock, queue
):
    aws_peer.set_account(REGION, sending_enabled=False)
    put(aws_peer, queue, eventbridge("Sending Status Disabled"))
    receive(alert_deps, slack_peer, queue)
    [opened] = incidents(alert_deps)

    aws_peer.set_account(REGION, sending_enabled=True)
    clock.tick()
    put(aws_peer, queue, eventbridge("Sending Status Enabled"))
    receive(alert_deps, slack_peer, queue)

    [resolved] = incidents(alert_deps)
    assert (resolved["id"], resolved["status"]) == (opened["id"], "resolved")
    thread = slack_peer.messages_in(CHANNEL, thread_ts=opened["ts"])
    assert len(thread) >= 2  # the parent and the resolution (then its summary) in the thread


def test_when_ses_cannot_be_asked_the_events_own_word_opens_the_incident(
    aws_peer, slack_peer, alert_deps, clock, queue
):
    aws_peer.fail("GetAccount", count=None)
    put(aws_peer, queue, eventbridge("Sending Status Disabled"))
    receive(alert_deps, slack_peer, queue)
    [incident] = incidents(alert_deps)
    assert (incident["signal"], incident["level"]) == ("account_status", "paused")
    assert len(slack_peer.messages_in(CHANNEL)) == 1


def test_an_advisor_recommendation_is_one_notice_however_often_sqs_delivers_it(
    aws_peer, slack_peer, alert_deps, clock, queue
):
    detail = {
        "type": "DMARC",
        "resourceArn": "arn:aws:ses:us-east-1:123456789012:identity/mail.example.com",
        "impact": "HIGH",
        "description": "No <b>DMARC</b> record found for mail.example.com",
    }
    event = eventbridge("Advisor Recommendation Status Open", detail, event_id="advisor-1")
    put(aws_peer, queue, event)
    receive(alert_deps, slack_peer, queue)
    put(aws_peer, queue, event)  # the same event again (SQS delivers at least once)
    consumer = SqsConsumer(alert_deps, queue_url=queue, poster=slack_poster(slack_peer))
    consumer.poll_once(wait_seconds=1)

    [notice] = slack_peer.messages_in(CHANNEL)
    assert "Advisor opened a recommendation: DMARC in us-east-1" in notice["text"]
    blocks = json.dumps(notice["blocks"])
    assert "identity/mail.example.com" in blocks and "HIGH" in blocks
    assert "<b>" not in blocks and "<b>" not in notice["text"]  # SES's text is data, escaped before Slack
    assert incidents(alert_deps) == []  # advice, not an incident


def test_eventbridge_envelopes_are_read_for_what_they_hold():
    status = parse(json.dumps(eventbridge("Sending Status Disabled", {"x": 1}, event_id="e1")))
    assert [(p.id, p.detail_type, p.region, p.detail) for p in status.pushed] == [
        ("e1", "Sending Status Disabled", REGION, {"x": 1})
    ]
    other = parse(json.dumps({**eventbridge("EC2 Instance State-change Notification"), "source": "aws.ec2"}))
    assert (other.pushed, other.skipped) == ([], {"EventBridge event from aws.ec2": 1})
    bounce = {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": "gone@example.org", "diagnosticCode": "smtp; 550 5.1.1 unknown"}],
            "timestamp": "2026-12-03T12:00:00.000Z",
            "feedbackId": "fb-1",
        },
        "mail": {"timestamp": "2026-12-03T12:00:00.000Z", "messageId": "m-1", "destination": ["gone@example.org"]},
    }
    email = parse(json.dumps(eventbridge("Email Bounced", bounce)))
    assert [e["recipient"] for e in email.event_dicts()] == ["gone@example.org"]
    broken = parse(json.dumps({**eventbridge("Sending Status Disabled"), "detail": "disabled"}))
    assert broken.pushed == [] and len(broken.quarantined) == 1


def test_a_sweep_reading_taken_before_ses_pushed_a_pause_does_not_undo_the_pause(
    aws_peer, slack_peer, alert_deps, clock, queue
):
    # The sweep reads AWS outside its transaction. Here it read "enabled", then SES paused sending and pushed
    # the event, which the consumer applied, and only then did the sweep apply what it had read.
    sweep(alert_deps, slack_poster(slack_peer))
    began = clock.tick()
    readings = [r for r in read_all(alert_deps, began) if r.signal == "account_status"]
    assert [r.level for r in readings] == ["ok"]
    clock.tick()
    aws_peer.set_account(REGION, sending_enabled=False)
    put(aws_peer, queue, eventbridge("Sending Status Disabled"))
    receive(alert_deps, slack_peer, queue)

    with alert_deps.store.transaction() as db:
        [(signal, owed)] = [apply_reading(db.conn, alert_deps, r, began, notify=True) for r in readings]

    assert (signal.level, owed) == ("paused", [])
    [incident] = incidents(alert_deps)
    assert (incident["level"], incident["status"]) == ("paused", "open")


def at(clock, minutes: float) -> str:
    """An event `time` this many minutes from the clock's now, as EventBridge writes it."""
    return (clock.now + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_when_ses_cannot_be_asked_the_newest_event_of_a_receive_counts_not_the_last_one_received(
    aws_peer, slack_peer, alert_deps, clock, queue
):
    aws_peer.fail("GetAccount", count=None)
    enabled = dict(eventbridge("Sending Status Enabled"), time=at(clock, -1))
    disabled = dict(eventbridge("Sending Status Disabled"), time=at(clock, -6))
    put(aws_peer, queue, enabled, disabled)  # a standard queue gives no order: the older one may come last
    receive(alert_deps, slack_peer, queue)
    assert incidents(alert_deps) == []
    assert slack_peer.messages_in(CHANNEL) == []


def test_when_ses_cannot_be_asked_an_event_older_than_the_stored_reading_changes_nothing(
    aws_peer, slack_peer, alert_deps, clock, queue
):
    aws_peer.fail("GetAccount", count=None)
    put(aws_peer, queue, dict(eventbridge("Sending Status Enabled"), time=at(clock, -1)))
    receive(alert_deps, slack_peer, queue)
    clock.tick()
    put(aws_peer, queue, dict(eventbridge("Sending Status Disabled"), time=at(clock, -11)))  # SQS delivered it late
    receive(alert_deps, slack_peer, queue)
    assert incidents(alert_deps) == []
    assert slack_peer.messages_in(CHANNEL) == []
