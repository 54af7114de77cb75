"""The scheduler's jobs: how they are set up, and each job's function run once (never waiting on the clock)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient

from bot.deps import Deps
from bot.ingest import ingest_documents
from bot.scheduler import PRUNE_JOB, SWEEP_JOB, build_scheduler, start_scheduler
from handlers.poster import SlackPoster

REGION = "us-east-1"
CHANNEL = "C0ALERTS"


class Clock:
    """A clock the test moves by hand; `deps.clock` reads it."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: float = 5) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now


def put_rate(aws_peer, value: float, at: datetime, metric: str = "Reputation.BounceRate") -> None:
    cw = aws_peer.client("cloudwatch", REGION)
    cw.put_metric_data(Namespace="AWS/SES", MetricData=[{"MetricName": metric, "Value": value, "Timestamp": at}])


def bounce_doc(n: int, recipient: str, diagnostic: str, at: datetime) -> str:
    """An SES event-publishing Bounce for one recipient, as SNS/SQS would deliver its body."""
    ts = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    bounced = {"emailAddress": recipient, "action": "failed", "status": "5.1.1", "diagnosticCode": diagnostic}
    return json.dumps(
        {
            "eventType": "Bounce",
            "bounce": {
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [bounced],
                "timestamp": ts,
                "feedbackId": f"feedback-{n}",
            },
            "mail": {
                "timestamp": ts,
                "messageId": f"message-{n}",
                "source": "news@mail.example.com",
                "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/mail.example.com",
                "destination": [recipient],
            },
        }
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3))


@pytest.fixture
def alert_deps(settings, store, clock) -> Deps:
    settings.alert_channel = CHANNEL
    settings.sweep_minutes = 7
    settings.retention_days = 30
    return Deps.build(settings, store=store, clock=clock)


def test_the_sweep_runs_every_sweep_minutes_one_at_a_time_and_pruning_daily(alert_deps):
    scheduler = build_scheduler(alert_deps, poster=None)
    sweep_job, prune_job = scheduler.get_job(SWEEP_JOB), scheduler.get_job(PRUNE_JOB)

    assert isinstance(sweep_job.trigger, IntervalTrigger)
    assert sweep_job.trigger.interval == timedelta(minutes=7)
    assert (sweep_job.coalesce, sweep_job.max_instances, sweep_job.misfire_grace_time) == (True, 1, 420)
    assert prune_job.trigger.interval == timedelta(days=1)
    assert (prune_job.coalesce, prune_job.max_instances, prune_job.misfire_grace_time) == (True, 1, 21600)
    assert isinstance(sweep_job.misfire_grace_time, int)


def test_the_sweep_job_runs_one_sweep(aws_peer, slack_peer, alert_deps, clock):
    poster = SlackPoster(WebClient(base_url=slack_peer.base_url, token="xoxb-test"))
    job = build_scheduler(alert_deps, poster).get_job(SWEEP_JOB)
    put_rate(aws_peer, 0.052, clock.tick())

    result = job.func(*job.args)
    assert [(p.kind, p.channel) for p in result.posted] == [("open", CHANNEL)]
    assert [c.params["blocks"][0]["text"]["text"] for c in slack_peer.calls_to("chat.postMessage")] == [
        ":x: Bounce rate 5.2% in us-east-1: review"
    ]


def test_the_prune_job_deletes_events_older_than_the_retention(alert_deps, clock):
    old, recent = clock.now - timedelta(days=31), clock.now - timedelta(days=29)
    docs = [bounce_doc(1, "old@example.org", "550 user unknown", old), bounce_doc(2, "new@example.org", "550", recent)]
    ingest_documents(alert_deps.store, docs, origin="test")
    job = build_scheduler(alert_deps, poster=None).get_job(PRUNE_JOB)

    deleted = job.func(*job.args)
    assert deleted["events"] == 1
    assert alert_deps.store.query("SELECT recipient FROM events") == [{"recipient": "new@example.org"}]


def test_start_runs_the_jobs_in_the_background_until_shutdown(alert_deps):
    scheduler = start_scheduler(alert_deps, poster=None)
    try:
        assert scheduler.running
        assert sorted(job.id for job in scheduler.get_jobs()) == [PRUNE_JOB, SWEEP_JOB]
    finally:
        scheduler.shutdown(wait=True)
    assert not scheduler.running
