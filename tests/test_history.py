"""bot.history and the `history` / `explain` commands: lookups, rate estimates, blocklist signals."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import bot.commands.explain  # noqa: F401  (registers the command)
import bot.commands.history  # noqa: F401
from bot.commands import CommandContext, execute, parse, parse_argv
from bot.deps import Deps
from bot.history import (
    blocklist_events,
    counted,
    domain_events,
    hourly_series,
    last_delivery,
    rate_estimate,
    recipient_events,
    sending_ips,
)
from bot.ingest import ingest_documents
from bot.settings import Settings
from bot.target import UsageError

DATA = Path(__file__).parent / "data" / "ses-notifications"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
BOUNCE = json.loads((DATA / "awsdocs-evt-sns-event-publishing-retrieving-sns-bounce.json").read_text())
COMPLAINT = json.loads((DATA / "awsdocs-evt-sns-event-publishing-retrieving-sns-complaint.json").read_text())
SEND = json.loads((DATA / "awsdocs-evt-sns-event-publishing-retrieving-sns-send.json").read_text())
DELIVERY = json.loads((DATA / "awsdocs-evt-sns-event-publishing-retrieving-sns-delivery.json").read_text())


def ts(hours_ago: float) -> str:
    t = NOW - timedelta(hours=hours_ago)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def bounce(n: int, to: str, hours_ago: float, *, subtype="General", btype="Permanent", text=None, cs="ConfigSet"):
    doc = copy.deepcopy(BOUNCE)
    doc["bounce"].update(bounceType=btype, bounceSubType=subtype, timestamp=ts(hours_ago), feedbackId=f"fb-{n}")
    doc["bounce"]["bouncedRecipients"] = [
        {"emailAddress": to, "status": "5.1.1", "diagnosticCode": text or "550 5.1.1 user unknown"}
    ]
    doc["mail"]["tags"]["ses:configuration-set"] = [cs]
    return doc


def complaint(n: int, to: str, hours_ago: float, subtype=None):
    doc = copy.deepcopy(COMPLAINT)
    doc["complaint"].update(timestamp=ts(hours_ago), feedbackId=f"cfb-{n}", complaintSubType=subtype)
    doc["complaint"]["complainedRecipients"] = [{"emailAddress": to}]
    return doc


def counted_event(base: dict, n: int, to: str, hours_ago: float, cs="ConfigSet"):
    doc = copy.deepcopy(base)
    doc["mail"].update(messageId=f"m-{n}", timestamp=ts(hours_ago), destination=[to])
    doc["mail"]["tags"]["ses:configuration-set"] = [cs]
    if "delivery" in doc:
        doc["delivery"].update(timestamp=ts(hours_ago), recipients=[to])
    return doc


BLOCKED = "554 5.7.1 Service unavailable; Client host [54.240.8.33] blocked using zen.spamhaus.org"


@pytest.fixture
def filled(store):
    docs = [counted_event(SEND, i, f"u{i}@example.com", 2) for i in range(100)]
    docs += [counted_event(DELIVERY, i, f"u{i}@example.com", 2) for i in range(90)]
    docs += [counted_event(SEND, 1000 + i, f"o{i}@other.org", 2, cs="other") for i in range(100)]
    docs += [
        bounce(1, "u1@example.com", 2),
        bounce(2, "u2@example.com", 2),
        bounce(3, "u3@example.com", 2, subtype="OnAccountSuppressionList"),
        bounce(4, "u4@example.com", 2, subtype="Suppressed"),
        bounce(5, "u5@example.com", 2, btype="Transient", subtype="MailboxFull"),
        bounce(6, "u6@Example.com", 1, text=BLOCKED),
        bounce(7, "u1@example.com", 30),  # outside a 24 h window
        bounce(8, "o1@other.org", 2, cs="other"),
        complaint(1, "u7@example.com", 2),
        complaint(2, "u8@example.com", 2, subtype="OnAccountSuppressionList"),
    ]
    ingest_documents(store, docs, "test", now=NOW)
    return store


def test_a_recipients_events_come_newest_first_whatever_the_case(filled):
    got = [(e["type"], e["timestamp"]) for e in recipient_events(filled, "U1@EXAMPLE.com")]
    assert got == [("Bounce", ts(2)), ("Bounce", ts(30))]


def test_a_recipients_latest_delivery_is_found_whatever_the_case(filled):
    got = [last_delivery(filled, to) for to in ("U1@EXAMPLE.com", " u89@example.com ", "o1@other.org")]
    assert got == [ts(2), ts(2), None]  # o1@other.org was sent to, never delivered


def test_a_domains_events_can_be_narrowed_by_time_and_type(filled):
    got = domain_events(filled, "Example.com", since=NOW - timedelta(hours=1.5), types=("Bounce",))
    assert [(e["recipient"], e["category"], e["sending_ip"]) for e in got] == [
        ("u6@example.com", "ip_blocklist", "54.240.8.33")
    ]


def test_the_rate_estimate_counts_only_bounces_that_count_toward_the_ses_rate(filled):
    est = rate_estimate(filled, NOW - timedelta(hours=24), NOW)
    assert est == {
        "sends": 200,
        "deliveries": 90,
        # 1, 2 and 8: not the suppressed two, not the transient one, and not 6: a bounce from a
        # blocklisted IP does not count toward the SES bounce rate (AWS enforcement FAQ).
        "hard_bounces_counted": 3,
        "bounces": 7,
        "complaints": 1,
        "bounce_rate": 0.015,
        "complaint_rate": 0.005,
        "sends_estimated": False,
        "since": ts(24)[:13] + ":00:00.000Z",
        "until": ts(0)[:13] + ":00:00.000Z",
    }


def test_the_rate_estimate_can_be_scoped_to_a_configuration_set(filled):
    est = rate_estimate(filled, NOW - timedelta(hours=24), NOW, config_set="other")
    assert (est["sends"], est["hard_bounces_counted"], est["bounce_rate"]) == (100, 1, 0.01)


def test_without_send_events_sends_are_estimated_from_deliveries_and_bounces(store):
    docs = [counted_event(DELIVERY, i, f"u{i}@example.com", 1) for i in range(8)]
    docs += [bounce(1, "x@example.com", 1), bounce(2, "y@example.com", 1)]
    ingest_documents(store, docs, "test", now=NOW)
    est = rate_estimate(store, NOW - timedelta(hours=24), NOW)
    assert (est["sends"], est["sends_estimated"], est["bounce_rate"]) == (10, True, 0.2)


def test_an_empty_history_has_no_rates(store):
    est = rate_estimate(store, NOW - timedelta(hours=24), NOW)
    assert (est["sends"], est["bounce_rate"], est["complaint_rate"]) == (0, None, None)


def test_the_hourly_series_has_every_hour_with_zeros(filled):
    series = hourly_series(filled, NOW - timedelta(hours=3), NOW)
    assert [p["hour"] for p in series] == [ts(3)[:13], ts(2)[:13], ts(1)[:13]]
    assert series[0] == {
        "hour": ts(3)[:13],
        "sends": 0,
        "deliveries": 0,
        "hard_bounces_counted": 0,
        "bounces": 0,
        "complaints": 0,
        "delays": 0,
        "rejects": 0,
    }
    assert (series[1]["sends"], series[1]["hard_bounces_counted"], series[1]["complaints"]) == (200, 3, 1)
    assert (series[2]["hard_bounces_counted"], series[2]["bounces"]) == (0, 1)  # u6's, from a blocklisted IP


def test_an_hour_with_late_bounces_and_no_sends_has_no_rate_when_send_events_are_published(filled):
    series = hourly_series(filled, NOW - timedelta(hours=3), NOW)
    assert (series[2]["sends"], series[2]["bounces"]) == (0, 1)  # not 1 send bounced: 100 %


def test_without_send_events_each_hours_sends_are_estimated_from_deliveries_and_bounces(store):
    docs = [counted_event(DELIVERY, i, f"u{i}@example.com", 2) for i in range(8)]
    docs += [bounce(1, "x@example.com", 2), bounce(2, "y@example.com", 1)]
    ingest_documents(store, docs, "test", now=NOW)
    series = hourly_series(store, NOW - timedelta(hours=3), NOW)
    assert [p["sends"] for p in series] == [0, 9, 1]


def test_the_hourly_series_counts_bounces_and_complaints_as_the_rate_estimate_counts_them(filled):
    est = rate_estimate(filled, NOW - timedelta(hours=24), NOW)
    series = hourly_series(filled, NOW - timedelta(hours=24), NOW)
    assert sum(p["hard_bounces_counted"] for p in series) == est["hard_bounces_counted"] == 3
    assert sum(p["complaints"] for p in series) == est["complaints"] == 1
    assert sum(p["bounces"] for p in series) == est["bounces"] == 7


def test_blocklist_events_and_the_sending_ips_they_name(filled):
    assert [(e["recipient"], e["blocklist"]) for e in blocklist_events(filled, NOW - timedelta(hours=24))] == [
        ("u6@example.com", "zen.spamhaus.org")
    ]
    assert sending_ips(filled, NOW - timedelta(hours=24)) == [
        {
            "ip": "54.240.8.33",
            "events": 1,
            "first_seen": ts(1),
            "last_seen": ts(1),
            "blocklists": ["zen.spamhaus.org"],
            "categories": ["ip_blocklist"],
            "domains": 1,
        }
    ]


def test_counted_events_per_type_for_a_domain(filled):
    assert counted(filled, NOW - timedelta(hours=24), NOW, domain="other.org") == {
        "Send": 100,
        "Delivery": 0,
        "Open": 0,
        "Click": 0,
        "Subscription": 0,
    }


def deps_for(tmp_path, store) -> Deps:
    settings = Settings.from_env({"AWS_REGION": "us-east-1", "SESBOT_DB": str(tmp_path / "sesbot.db")})
    return Deps(settings=settings, store=store, aws=None, clock=lambda: NOW)  # type: ignore[arg-type]


def test_the_history_command_answers_with_the_events_as_data(filled, tmp_path):
    answer = execute(CommandContext(deps=deps_for(tmp_path, filled)), parse("history u6@example.com --json"))
    assert answer.data == {
        "events": [
            {
                "type": "Bounce",
                "recipient": "u6@example.com",
                "timestamp": ts(1),
                "bounce_type": "Permanent",
                "bounce_subtype": "General",
                "delay_type": None,
                "complaint_type": None,
                "complaint_subtype": None,
                "status": "5.1.1",
                "diagnostic": BLOCKED,
                "category": "ip_blocklist",
                "rule": "named-ip-list",  # which classifier rule decided, stored at ingest
                "message_id": "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
                "source": "Sender Name <sender@example.com>",
            }
        ]
    }
    assert answer.sections[0][1][0].startswith(f"{ts(1)} Bounce Permanent/General u6@example.com [ip_blocklist")


def test_the_history_command_tells_complaint_kinds_apart_in_text_and_data(store, tmp_path):
    not_spam = complaint(1, "jo@example.com", 1)
    not_spam["complaint"]["complaintFeedbackType"] = "not-spam"
    listed = complaint(2, "jo@example.com", 2, subtype="OnAccountSuppressionList")
    del listed["complaint"]["complaintFeedbackType"]
    ingest_documents(store, [not_spam, listed, complaint(3, "jo@example.com", 3)], "test", now=NOW)

    answer = execute(CommandContext(deps=deps_for(tmp_path, store)), parse("history jo@example.com"))

    assert answer.sections[0][1] == [
        f"{ts(1)} Complaint not-spam jo@example.com",
        f"{ts(2)} Complaint OnAccountSuppressionList jo@example.com",
        f"{ts(3)} Complaint abuse jo@example.com",
    ]
    assert [(e["complaint_type"], e["complaint_subtype"]) for e in answer.data["events"]] == [
        ("not-spam", None),
        (None, "OnAccountSuppressionList"),
        ("abuse", None),
    ]


def test_the_history_command_takes_a_domain_and_a_limit(filled, tmp_path):
    ctx = CommandContext(deps=deps_for(tmp_path, filled))
    assert len(execute(ctx, parse("history @example.com --limit 3")).data["events"]) == 3
    assert len(execute(ctx, parse_argv(["history", "@example.com", "--limit=2"])).data["events"]) == 2
    slack_style = execute(ctx, parse("history <mailto:U1@example.com|U1@example.com>"))
    assert [e["timestamp"] for e in slack_style.data["events"]] == [ts(2), ts(30)]


def test_the_history_command_says_when_nothing_is_stored(store, tmp_path):
    answer = execute(CommandContext(deps=deps_for(tmp_path, store)), parse("history nobody@example.com"))
    assert (answer.title, answer.data) == ("History of nobody@example.com: nothing stored", {"events": []})


@pytest.mark.parametrize("text", ["history", "history a@b.com c@d.com", "history a@b.com --limit x"])
def test_the_history_command_explains_its_usage(store, tmp_path, text):
    with pytest.raises(UsageError):
        execute(CommandContext(deps=deps_for(tmp_path, store)), parse(text))


def test_explain_classifies_pasted_text(store, tmp_path):
    answer = execute(CommandContext(deps=deps_for(tmp_path, store)), parse(f'explain "{BLOCKED}" --json'))
    assert (answer.data["category"], answer.data["blocklist"]) == ("ip_blocklist", "zen.spamhaus.org")
    assert sorted(answer.data) == ["blocklist", "category", "confidence", "fix", "lead", "rule", "summary"]


def test_explain_needs_text(store, tmp_path):
    with pytest.raises(UsageError, match="paste the bounce"):
        execute(CommandContext(deps=deps_for(tmp_path, store)), parse("explain"))
