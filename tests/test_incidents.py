"""Reading incidents back: `status`, `incidents`, and `status`/`ack`/"Show bounces" in an incident thread."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

import bot.commands.incidents  # noqa: F401  (registers the commands)
import bot.commands.status  # noqa: F401
from bot.alerts import sweep
from bot.commands import CommandContext, execute, parse
from bot.findings import Severity
from bot.incidents import (
    acknowledge,
    incident_bounces_answer,
    incident_for_thread,
    incident_status_answer,
    incidents_answer,
    status_answer,
)
from bot.ingest import ingest_documents
from bot.store import iso
from bot.timefmt import duration
from handlers.poster import SlackPoster
from tests.conftest import CHANNEL, REGION, bounce_doc, put_rate, slack_poster

PARENT_TS = "1700000000.000100"


@pytest.fixture
def poster(slack_peer) -> SlackPoster:
    return slack_poster(slack_peer)


def when(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M UTC")


def test_status_prints_a_quota_of_millions_in_full_with_separators(aws_peer, alert_deps, poster, clock):
    aws_peer.set_account(REGION, production_access=True, max_24h=2_000_000, max_rate=500, sent_last_24h=1_234_567)
    clock.tick()
    sweep(alert_deps, poster)
    answer = execute(CommandContext(deps=alert_deps, via="slack"), parse("status"))
    assert (
        "Daily quota: 1,234,567 of 2,000,000 sent in the last 24 h (61.7%); at most 500 a second"
        in dict(answer.sections)[REGION]
    )


def test_status_shows_account_quota_rates_and_open_incidents(aws_peer, alert_deps, poster, clock):
    aws_peer.set_account(REGION, production_access=True, max_24h=50000, max_rate=14, sent_last_24h=1000)
    opened = clock.tick()
    put_rate(aws_peer, 0.052, opened)
    sweep(alert_deps, poster)
    answer = execute(CommandContext(deps=alert_deps, via="slack"), parse("status"))

    assert answer.sections == [
        (
            REGION,
            [
                "Production access (out of the sandbox)",
                "Sending enabled: yes",
                "Enforcement status: HEALTHY",
                "Daily quota: 1,000 of 50,000 sent in the last 24 h (2%); at most 14 a second",
                "Bounce rate: 5.2% (CloudWatch), review (from 5%)",
                "Complaint rate: no data (no CloudWatch figure, too few events to estimate)",
            ],
        ),
        ("Open incidents", [f"#1 bounce rate in us-east-1: review, open since {when(opened)}"]),
    ]
    assert answer.severity == Severity.ERROR
    assert answer.data["regions"] == [
        {
            "region": REGION,
            "errors": [],
            "production_access": True,
            "sending_enabled": True,
            "enforcement_status": "HEALTHY",
            "quota": {"max_24h": 50000.0, "sent_last_24h": 1000.0, "max_rate": 14.0, "used": 0.02},
            "rates": [
                {
                    "signal": "bounce_rate",
                    "scope": "",
                    "value": 0.052,
                    "estimate": False,
                    "level": "review",
                    "alert_level": "review",
                },
                {
                    "signal": "complaint_rate",
                    "scope": "",
                    "value": None,
                    "estimate": False,
                    "level": None,
                    "alert_level": None,
                },
            ],
        }
    ]
    assert [i["id"] for i in answer.data["open_incidents"]] == [1]


def test_status_says_when_the_alert_level_waits_for_a_calm_figure(aws_peer, alert_deps, poster, clock):
    put_rate(aws_peer, 0.052, clock.tick())
    sweep(alert_deps, poster)
    put_rate(aws_peer, 0.01, clock.tick())

    lines = status_answer(alert_deps).sections[0][1]
    assert "Bounce rate: 1% (CloudWatch), OK; alert level still review until it stays lower" in lines


def test_status_says_what_it_could_not_read(aws_peer, alert_deps):
    aws_peer.fail("GetAccount", code="AccessDeniedException", status=403, count=None)

    answer = status_answer(alert_deps)
    assert answer.sections[0][1][0] == (
        "Could not read: SES GetAccount: AWS refused GetAccount (AccessDenied): "
        "grant the bot's role that permission (see README, IAM policy)"
    )
    assert answer.severity == Severity.WARNING


def test_status_in_an_incident_thread_gives_the_signal_now_and_the_timeline(aws_peer, alert_deps, poster, clock):
    opened = clock.tick()
    put_rate(aws_peer, 0.03, opened)
    sweep(alert_deps, poster)
    worse = clock.tick()
    put_rate(aws_peer, 0.052, worse)
    sweep(alert_deps, poster)
    put_rate(aws_peer, 0.01, clock.tick())
    sweep(alert_deps, poster)  # one calm sweep: still open
    acked = clock.tick()

    incident = incident_for_thread(alert_deps.store, CHANNEL, PARENT_TS)
    assert incident is not None and (incident.id, incident.level, incident.status) == (1, "review", "open")
    incident = acknowledge(alert_deps.store, incident.id, "U0ALICE", now=acked)
    answer = incident_status_answer(alert_deps, incident)

    assert answer.title == "Incident #1: bounce rate in us-east-1 (open)"
    assert answer.sections == [
        (
            "Now",
            [
                "Bounce rate: 1% (CloudWatch) review",
                "Lower for 1 of the 2 sweeps a recovery needs",
                f"As of the last sweep, {when(acked - timedelta(minutes=5))}",
            ],
        ),
        (
            "Timeline",
            [
                f"{when(opened)}: opened: elevated at 3%",
                f"{when(worse)}: now review at 5.2%",
                f"{when(acked)}: acknowledged by U0ALICE",
            ],
        ),
    ]
    assert (answer.data["incident"]["acked_by"], answer.data["incident"]["acked_at"][:16]) == (
        "U0ALICE",
        acked.strftime("%Y-%m-%dT%H:%M"),
    )


def test_a_thread_that_is_no_incident_is_none(aws_peer, alert_deps, poster, clock):
    put_rate(aws_peer, 0.03, clock.tick())
    sweep(alert_deps, poster)

    assert incident_for_thread(alert_deps.store, CHANNEL, "1699999999.000001") is None
    assert incident_for_thread(alert_deps.store, "C0OTHER", PARENT_TS) is None


def test_incidents_lists_open_ones_and_recently_resolved_ones(aws_peer, alert_deps, poster, clock):
    first = clock.tick()
    for value in (0.03, 0.01, 0.01):
        put_rate(aws_peer, value, clock.now)
        sweep(alert_deps, poster)
        clock.tick()
    resolved = clock.now - timedelta(minutes=5)
    aws_peer.set_account(REGION, enforcement_status="PROBATION")
    probation = clock.now
    sweep(alert_deps, poster)
    answer = execute(CommandContext(deps=alert_deps, via="cli"), parse("incidents"))

    assert answer.title == "Incidents: 1 open, 1 resolved in the last 7 days"
    assert answer.sections == [
        ("Open", [f"#2 account status in us-east-1: under review (probation), open since {when(probation)}"]),
        (
            "Resolved in the last 7 days",
            [f"#1 bounce rate in us-east-1: reached elevated, {when(first)} to {when(resolved)}"],
        ),
    ]
    assert [(i["id"], i["status"]) for i in answer.data["open"] + answer.data["recent"]] == [
        (2, "open"),
        (1, "resolved"),
    ]
    assert incidents_answer(alert_deps).severity == Severity.ERROR


def test_incidents_counts_every_recently_resolved_one_and_says_how_many_it_does_not_list(alert_deps, clock):
    now = clock.tick()
    for n in range(60):  # a busy week: 60 quota incidents, each resolved an hour after the one before
        at = iso(now - timedelta(hours=60 - n))
        alert_deps.store.conn.execute(
            "INSERT INTO incidents (signal, region, level, status, opened_at, resolved_at) "
            "VALUES ('quota', ?, 'elevated', 'resolved', ?, ?)",
            [REGION, at, at],
        )
    answer = execute(CommandContext(deps=alert_deps, via="cli"), parse("incidents"))

    assert answer.title == "Incidents: 0 open, 60 resolved in the last 7 days"
    listed = answer.sections[1][1]
    assert len(listed) == 51 and listed[0].startswith("#60 ")  # the newest 50, then the line for the rest
    assert listed[-1] == "… and 10 older ones (`incident N` shows any of them)"
    assert (len(answer.data["recent"]), answer.data["resolved"]) == (50, 60)


def test_show_bounces_lists_the_events_behind_the_incident(aws_peer, alert_deps, poster, clock):
    at = clock.tick()
    docs = [
        bounce_doc(1, "a@gmail.com", "smtp; 550 5.1.1 <a@gmail.com> user unknown", at - timedelta(minutes=2)),
        bounce_doc(2, "b@yahoo.com", "smtp; 550 5.1.1 no such user", at - timedelta(minutes=1)),
    ]
    ingest_documents(alert_deps.store, docs, origin="test", now=at)
    put_rate(aws_peer, 0.06, at)
    sweep(alert_deps, poster)
    incident = incident_for_thread(alert_deps.store, CHANNEL, PARENT_TS)

    answer = incident_bounces_answer(alert_deps, incident)
    assert answer.sections == [
        (
            "Newest first",
            [
                f"{when(at - timedelta(minutes=1))} b@yahoo.com: unknown_user — smtp; 550 5.1.1 no such user",
                f"{when(at - timedelta(minutes=2))} a@gmail.com: unknown_user — "
                "smtp; 550 5.1.1 <a@gmail.com> user unknown",
            ],
        )
    ]


def test_an_incident_lasts_as_long_as_it_lasted_to_the_minute_in_two_units():
    assert [duration(timedelta(minutes=m)) for m in (0.2, 25, 60, 119, 47 * 60, 1440 + 5)] == [
        "1 minute",
        "25 minutes",
        "1 hour",
        "1 hour 59 minutes",
        "1 day 23 hours",
        "1 day 5 minutes",
    ]
