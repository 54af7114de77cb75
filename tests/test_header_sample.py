"""The rolling header sample kept at ingest (issue 16): per day, configuration set and From address, the
unsubscribe headers of the mail really sent, bounded in size and pruned with the retention."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.events import Extracted, parse
from bot.history import header_sample
from bot.ingest import ingest_documents, prune
from bot.store import MIGRATIONS, Store, iso

DATA = Path(__file__).parent / "data" / "ses-notifications"
AWS_SEND = json.loads((DATA / "awsdocs-evt-sns-event-publishing-retrieving-sns-send.json").read_text())
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=7)

# What a marketing sender adds (RFC 8058), and what a sender that only offers a mailto link adds.
ONE_CLICK = [
    {"name": "List-Unsubscribe", "value": "<https://example.com/u?id=1>, <mailto:unsub@example.com>"},
    {"name": "List-Unsubscribe-Post", "value": "List-Unsubscribe=One-Click"},
]
MAILTO_ONLY = [{"name": "List-Unsubscribe", "value": "<mailto:unsub@example.com?subject=unsubscribe>"}]


def send(
    n: int,
    *,
    extra_headers: list[dict[str, Any]] | None = None,
    headers: bool = True,
    config_set: str | None = "marketing",
    sender: str = "News <News@Mail.Example.com>",
    ts: str = "2024-06-01T10:00:00.000Z",
    to: list[str] | None = None,
) -> dict[str, Any]:
    """An SES Send event shaped like AWS's documented example, with the headers asked for."""
    doc = copy.deepcopy(AWS_SEND)
    mail = doc["mail"]
    mail["timestamp"] = ts
    mail["messageId"] = f"msg-{n}"
    mail["destination"] = to or [f"user{n}@example.org"]
    mail["commonHeaders"]["from"] = [sender]
    mail["commonHeaders"]["messageId"] = f"msg-{n}"
    if config_set is None:
        del mail["tags"]["ses:configuration-set"]
    else:
        mail["tags"]["ses:configuration-set"] = [config_set]
    if headers:
        mail["headers"] = mail["headers"] + (extra_headers or [])
    else:
        del mail["headers"]
    return doc


def sample(store: Store, since: datetime = SINCE) -> list[dict[str, Any]]:
    return header_sample(store, since)


def row(config_set: str, sender: str, **counts: Any) -> dict[str, Any]:
    base = {"sent": 0, "list_unsubscribe": 0, "one_click": 0, "https": 0, "example_without": None, "headers_seen": 0}
    return {"config_set": config_set, "from_address": sender, **base, **counts}


def test_sends_are_summed_per_set_and_from_with_the_share_that_had_each_header_and_an_example_without(store):
    docs = [send(i, extra_headers=ONE_CLICK) for i in range(6)]
    docs += [send(6, extra_headers=MAILTO_ONLY), send(7), send(8, extra_headers=MAILTO_ONLY)]
    docs += [send(9, extra_headers=ONE_CLICK, config_set="receipts", sender="billing@example.com")]
    ingest_documents(store, docs, "test", now=NOW)
    assert sample(store) == [
        row(
            "marketing",
            "news@mail.example.com",
            sent=9,
            headers_seen=9,
            list_unsubscribe=8,
            one_click=6,
            https=6,
            example_without="msg-6",
        ),
        row("receipts", "billing@example.com", sent=1, headers_seen=1, list_unsubscribe=1, one_click=1, https=1),
    ]


def test_a_send_without_mail_headers_counts_as_sent_but_not_as_headers_seen(store):
    ingest_documents(store, [send(1, headers=False), send(2, headers=False)], "test", now=NOW)
    assert sample(store) == [row("marketing", "news@mail.example.com", sent=2)]


def test_a_redelivered_send_is_sampled_once_in_the_same_batch_and_in_a_later_one(store):
    docs = [send(1, extra_headers=MAILTO_ONLY), send(1, extra_headers=MAILTO_ONLY), send(2)]
    first = ingest_documents(store, docs, "test", now=NOW)
    again = ingest_documents(store, docs, "test", now=NOW, batch_records=None)
    assert (first.ingested, again.ingested, again.duplicates) == (2, 0, 3)
    assert sample(store) == [
        row("marketing", "news@mail.example.com", sent=2, headers_seen=2, list_unsubscribe=1, example_without="msg-1")
    ]


def test_a_send_to_several_recipients_is_one_message_in_the_sample(store):
    doc = send(1, extra_headers=ONE_CLICK, to=["a@example.org", "b@example.net", "c@example.com"])
    assert ingest_documents(store, [doc], "test", now=NOW).ingested == 3  # counted per recipient
    assert sample(store) == [
        row("marketing", "news@mail.example.com", sent=1, headers_seen=1, list_unsubscribe=1, one_click=1, https=1)
    ]


def test_header_names_match_in_any_case_and_only_an_https_uri_counts_as_https(store):
    shouted = [
        {"name": "LIST-UNSUBSCRIBE", "value": "<HTTPS://example.com/u>"},
        {"name": "list-unsubscribe-post", "value": " list-unsubscribe=one-click "},
    ]
    plain_http = [
        {"name": "List-Unsubscribe", "value": "<http://example.com/u>"},
        {"name": "List-Unsubscribe-Post", "value": "List-Unsubscribe=One-Click"},
    ]
    wrong_post = [
        {"name": "List-Unsubscribe", "value": "<https://example.com/u>"},
        {"name": "List-Unsubscribe-Post", "value": "List-Unsubscribe=Yes"},
    ]
    docs = [send(1, extra_headers=shouted), send(2, extra_headers=plain_http), send(3, extra_headers=wrong_post)]
    ingest_documents(store, docs, "test", now=NOW)
    assert sample(store) == [
        row(
            "marketing",
            "news@mail.example.com",
            sent=3,
            headers_seen=3,
            list_unsubscribe=3,
            one_click=2,
            https=2,
            example_without="msg-3",
        )
    ]


def test_the_from_address_is_the_from_headers_address_lower_cased_else_the_mail_source(store):
    no_from = send(2)
    del no_from["mail"]["commonHeaders"]["from"]
    no_from["mail"]["source"] = "Alerts <Alerts@Example.COM>"
    docs = [send(1, sender='"Jo, Example" <Jo@Example.com>'), no_from]
    ingest_documents(store, docs, "test", now=NOW)
    assert [(r["from_address"], r["sent"]) for r in sample(store)] == [("alerts@example.com", 1), ("jo@example.com", 1)]


def test_a_send_without_a_configuration_set_is_sampled_under_an_empty_set_name(store):
    ingest_documents(store, [send(1, config_set=None, extra_headers=ONE_CLICK)], "test", now=NOW)
    assert [(r["config_set"], r["one_click"]) for r in sample(store)] == [("", 1)]


def test_only_send_events_are_sampled_even_when_other_events_carry_the_headers(store):
    delivery = send(2, extra_headers=MAILTO_ONLY)
    delivery["eventType"] = "Delivery"
    delivery["delivery"] = {"timestamp": "2024-06-01T10:00:01.000Z", "recipients": ["user2@example.org"]}
    ingest_documents(store, [send(1, extra_headers=ONE_CLICK), delivery], "test", now=NOW)
    assert sample(store) == [
        row("marketing", "news@mail.example.com", sent=1, headers_seen=1, list_unsubscribe=1, one_click=1, https=1)
    ]


def test_the_first_example_without_one_click_stays_when_later_batches_add_more(store):
    ingest_documents(store, [send(1, extra_headers=ONE_CLICK), send(2)], "test", now=NOW)
    ingest_documents(store, [send(3), send(4, extra_headers=MAILTO_ONLY)], "test", now=NOW)
    [r] = sample(store)
    assert (r["sent"], r["one_click"], r["example_without"]) == (4, 1, "msg-2")


def test_a_send_whose_headers_were_not_published_is_never_the_example_without_one_click(store):
    ingest_documents(store, [send(1, headers=False), send(2, extra_headers=ONE_CLICK)], "test", now=NOW)
    [r] = sample(store)
    assert (r["sent"], r["headers_seen"], r["example_without"]) == (2, 1, None)


def test_a_malformed_headers_entry_is_passed_over_and_the_send_still_counts(store):
    broken = ["List-Unsubscribe", None, {"value": "x"}, {"name": 16 * [1]}, {"name": 7}, *ONE_CLICK]
    result = ingest_documents(store, [send(1, extra_headers=broken)], "test", now=NOW)
    assert (result.ingested, result.quarantined) == (1, 0)
    assert [(r["headers_seen"], r["one_click"], r["https"]) for r in sample(store)] == [(1, 1, 1)]


def test_the_documented_aws_send_event_in_an_sns_envelope_is_sampled(store):
    envelope = {
        "Type": "Notification",
        "MessageId": "00000000-0000-0000-0000-000000000001",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:ses-events",
        "Message": json.dumps(AWS_SEND),
    }
    ingest_documents(store, [envelope], "test", now=NOW)
    # AWS's example has headers but no List-Unsubscribe: seen, lacking, and its message id is the example.
    assert header_sample(store, datetime(2016, 10, 14, tzinfo=UTC)) == [
        row("ConfigSet", "sender@example.com", sent=1, headers_seen=1, example_without=AWS_SEND["mail"]["messageId"])
    ]


def test_the_sample_is_one_row_per_day_set_and_from_whatever_the_volume(store):
    days = ["2024-05-30", "2024-05-31", "2024-06-01"]
    docs = [send(i, extra_headers=ONE_CLICK if i % 2 else None, ts=f"{days[i % 3]}T08:00:00.000Z") for i in range(3000)]
    ingest_documents(store, docs, "test", now=NOW, batch_records=500)
    assert store.query("SELECT day, sent FROM header_sample ORDER BY day") == [
        {"day": day, "sent": 1000} for day in days
    ]
    [r] = sample(store)
    assert (r["sent"], r["headers_seen"], r["one_click"]) == (3000, 3000, 1500)


def test_the_sample_is_read_from_the_day_of_since_on(store):
    docs = [send(1, ts="2024-05-20T23:59:59.000Z"), send(2, ts="2024-05-25T00:00:00.000Z"), send(3)]
    ingest_documents(store, docs, "test", now=NOW)
    assert sample(store, datetime(2024, 5, 25, 18, tzinfo=UTC))[0]["sent"] == 2
    assert sample(store, datetime(2024, 6, 2, tzinfo=UTC)) == []


def test_prune_deletes_sample_days_older_than_the_retention_with_the_rest(store):
    old, recent = iso(NOW - timedelta(days=100)), iso(NOW - timedelta(days=1))
    ingest_documents(store, [send(1, ts=old), send(2, ts=recent, extra_headers=ONE_CLICK)], "test", now=NOW)
    prune(store, 90, now=NOW)
    assert store.query("SELECT day, sent, one_click FROM header_sample") == [
        {"day": recent[:10], "sent": 1, "one_click": 1}
    ]
    assert store.query("SELECT count(*) AS n FROM seen") == [{"n": 1}]


def test_the_parser_keeps_one_header_fact_per_send_and_a_batch_merges_and_clears_them():
    ex = parse(json.dumps(send(1, extra_headers=ONE_CLICK, to=["a@example.org", "b@example.org"])))
    [fact] = ex.header_dicts()
    assert {k: v for k, v in fact.items() if k != "seen_id"} == {
        "day": "2024-06-01",
        "config_set": "marketing",
        "from_address": "news@mail.example.com",
        "headers_seen": 1,
        "list_unsubscribe": 1,
        "one_click": 1,
        "https": 1,
        "message_id": "msg-1",
    }
    assert fact["seen_id"] == ex.counts[0][0]
    batch = Extracted()
    batch.merge(ex)
    batch.merge(parse(json.dumps(send(2, headers=False))))
    assert (len(batch.headers), len(batch)) == (2, 5)  # 3 counted recipients and 2 header facts
    batch.clear()
    assert (batch.headers, len(batch)) == ([], 0)


def test_a_database_from_before_the_header_sample_gains_its_table_and_keeps_its_counters(tmp_path):
    path = str(tmp_path / "s.db")
    old = Store(path, migrations=MIGRATIONS[:5])
    old.conn.execute(
        "INSERT INTO counters (hour, type, domain, config_set, count) VALUES ('2024-06-01T10', 'Send', 'x', '', 3)"
    )
    old.close()
    store = Store(path)
    assert store.version == len(MIGRATIONS)
    assert store.query("SELECT count FROM counters") == [{"count": 3}]
    ingest_documents(store, [send(1)], "test", now=NOW)
    assert [r["sent"] for r in sample(store)] == [1]
