"""bot.events: every shape an SES notification arrives in becomes the right per-recipient records."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from bot.events import EVENT_COLUMNS, Extracted, extract, parse, sending_ip_in

DATA = Path(__file__).parent / "data" / "ses-notifications"
NOW = "2024-06-01T12:00:00.000Z"

# file -> (stored type, recipients, "row" for a problem event or "count" for a counted one)
CORPUS = {
    "awsdocs-evt-firehose-event-publishing-retrieving-firehose-bounce.json": (
        "Bounce",
        ["recipient@example.com"],
        "row",
    ),
    "awsdocs-evt-firehose-event-publishing-retrieving-firehose-click.json": (
        "Click",
        ["recipient@example.com"],
        "count",
    ),
    "awsdocs-evt-firehose-event-publishing-retrieving-firehose-complaint.json": (
        "Complaint",
        ["recipient@example.com"],
        "row",
    ),
    "awsdocs-evt-firehose-event-publishing-retrieving-firehose-delayed-delivery.json": (
        "DeliveryDelay",
        ["recipient@example.com"],
        "row",
    ),
    "awsdocs-evt-firehose-event-publishing-retrieving-firehose-delivery.json": (
        "Delivery",
        ["recipient@example.com"],
        "count",
    ),
    "awsdocs-evt-firehose-event-publishing-retrieving-firehose-failure.json": (
        "RenderingFailure",
        ["recipient@example.com"],
        "row",
    ),
    "awsdocs-evt-firehose-event-publishing-retrieving-firehose-open.json": (
        "Open",
        ["recipient@example.com"],
        "count",
    ),
    "awsdocs-evt-firehose-event-publishing-retrieving-firehose-reject.json": (
        "Reject",
        ["sender@example.com"],
        "row",
    ),
    "awsdocs-evt-firehose-event-publishing-retrieving-firehose-send.json": (
        "Send",
        ["recipient@example.com"],
        "count",
    ),
    "awsdocs-evt-firehose-event-publishing-retrieving-firehose-subscription.json": (
        "Subscription",
        ["recipient@example.com"],
        "count",
    ),
    "awsdocs-evt-sns-event-publishing-retrieving-sns-bounce.json": (
        "Bounce",
        ["recipient@example.com"],
        "row",
    ),
    "awsdocs-evt-sns-event-publishing-retrieving-sns-click.json": (
        "Click",
        ["recipient@example.com"],
        "count",
    ),
    "awsdocs-evt-sns-event-publishing-retrieving-sns-complaint.json": (
        "Complaint",
        ["recipient@example.com"],
        "row",
    ),
    "awsdocs-evt-sns-event-publishing-retrieving-sns-delayed-delivery.json": (
        "DeliveryDelay",
        ["recipient@example.com"],
        "row",
    ),
    "awsdocs-evt-sns-event-publishing-retrieving-sns-delivery.json": (
        "Delivery",
        ["recipient@example.com"],
        "count",
    ),
    "awsdocs-evt-sns-event-publishing-retrieving-sns-failure.json": (
        "RenderingFailure",
        ["recipient@example.com"],
        "row",
    ),
    "awsdocs-evt-sns-event-publishing-retrieving-sns-open.json": ("Open", ["recipient@example.com"], "count"),
    "awsdocs-evt-sns-event-publishing-retrieving-sns-reject.json": ("Reject", ["sender@example.com"], "row"),
    "awsdocs-evt-sns-event-publishing-retrieving-sns-send.json": ("Send", ["recipient@example.com"], "count"),
    "awsdocs-evt-sns-event-publishing-retrieving-sns-subscription.json": (
        "Subscription",
        ["recipient@example.com"],
        "count",
    ),
    "awsdocs-sns-notif-notification-examples-bounce-no-dsn.json": (
        "Bounce",
        ["jane@example.com", "richard@example.com"],
        "row",
    ),
    "awsdocs-sns-notif-notification-examples-bounce-with-dsn.json": ("Bounce", ["jane@example.com"], "row"),
    "awsdocs-sns-notif-notification-examples-complaint-no-feedback.json": (
        "Complaint",
        ["richard@example.com"],
        "row",
    ),
    "awsdocs-sns-notif-notification-examples-complaint-with-feedback.json": (
        "Complaint",
        ["richard@example.com"],
        "row",
    ),
    "awsdocs-sns-notif-notification-examples-delivery.json": ("Delivery", ["jane@example.com"], "count"),
    "sisimai-json-amazonses-01.json": ("Bounce", ["bounce@simulator.amazonses.com"], "row"),
    "sisimai-json-amazonses-02-sns-envelope.json": ("Bounce", ["bounce@simulator.amazonses.com"], "row"),
    "sisimai-json-amazonses-03.json": ("Complaint", ["complaint@simulator.amazonses.com"], "row"),
    "sisimai-json-amazonses-04.json": ("Delivery", ["success@simulator.amazonses.com"], "count"),
    "sisimai-json-amazonses-05.json": ("Delivery", ["complaint@simulator.amazonses.com"], "count"),
    "sisimai-json-amazonses-06.json": ("Bounce", ["bounce@simulator.amazonses.com"], "row"),
}


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def rows(doc) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "id"} for r in parse(doc, NOW).event_dicts()]


def test_the_table_covers_every_corpus_file():
    assert sorted(CORPUS) == sorted(p.name for p in DATA.glob("*.json"))


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_corpus_file_gives_its_type_and_recipients(name):
    etype, recipients, kind = CORPUS[name]
    ex = parse((DATA / name).read_bytes(), NOW)
    assert (ex.skipped, ex.quarantined) == ({}, [])
    if kind == "row":
        assert ex.counts == []
        assert [(r["type"], r["recipient"]) for r in ex.event_dicts()] == [(etype, r) for r in recipients]
    else:
        assert ex.events == []
        assert [(c["type"], c["domain"]) for c in ex.count_dicts()] == [(etype, r.split("@")[1]) for r in recipients]


def test_an_event_without_a_sending_account_id_takes_it_from_its_source_arn():
    doc = load("awsdocs-evt-sns-event-publishing-retrieving-sns-bounce.json")
    del doc["mail"]["sendingAccountId"]
    doc["mail"]["sourceArn"] = "arn:aws:ses:eu-west-1:222222222222:identity/sender@example.com"
    assert [(r["region"], r["account_id"]) for r in rows(doc)] == [("eu-west-1", "222222222222")]


def test_an_event_publishing_bounce_keeps_every_field():
    doc = load("awsdocs-evt-sns-event-publishing-retrieving-sns-bounce.json")
    assert rows(doc) == [
        {
            "type": "Bounce",
            "recipient": "recipient@example.com",
            "domain": "example.com",
            "timestamp": "2017-08-05T00:41:02.669Z",
            "message_id": "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
            "source": "Sender Name <sender@example.com>",
            "config_set": "ConfigSet",
            "region": "us-east-1",
            "account_id": "123456789012",
            "bounce_type": "Permanent",
            "bounce_subtype": "General",
            "delay_type": None,
            "complaint_type": None,
            "complaint_subtype": None,
            "status": "5.1.1",
            "action": "failed",
            "diagnostic": "smtp; 550 5.1.1 user unknown",
            "category": "unknown_user",
            "blocklist": None,
            "sending_ip": None,
            "remote_mta": None,
            "reporting_mta": "dsn; mta.example.com",
            "template": None,
            "reason": None,
            "expires": None,
            "feedback_id": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
            "received_at": NOW,
            "tenant": None,
            "rule": "unknown-user",
        }
    ]


def test_a_legacy_bounce_without_dsn_gives_one_row_per_recipient_with_the_remote_mta():
    doc = load("awsdocs-sns-notif-notification-examples-bounce-no-dsn.json")
    got = [(r["recipient"], r["remote_mta"], r["diagnostic"], r["config_set"], r["feedback_id"]) for r in rows(doc)]
    feedback = "00000137860315fd-869464a4-8680-4114-98d3-716fe35851f9-000000"
    assert got == [
        ("jane@example.com", "127.0.2.0", None, None, feedback),
        ("richard@example.com", "127.0.2.0", None, None, feedback),
    ]


def test_a_delivery_delay_keeps_its_type_status_and_expiry():
    doc = load("awsdocs-evt-sns-event-publishing-retrieving-sns-delayed-delivery.json")
    (row,) = rows(doc)
    got = {k: row[k] for k in ("type", "delay_type", "status", "diagnostic", "category", "expires", "timestamp")}
    assert got == {
        "type": "DeliveryDelay",
        "delay_type": "TransientCommunicationFailure",
        "status": "4.4.1",
        "diagnostic": "smtp; 421 4.4.1 Unable to connect to remote host",
        "category": "connection",
        "expires": "2020-06-16T00:25:40.914Z",
        "timestamp": "2020-06-16T00:25:40.095Z",
    }


def test_rendering_failure_with_its_space_is_stored_with_template_and_error():
    doc = load("awsdocs-evt-sns-event-publishing-retrieving-sns-failure.json")
    assert doc["eventType"] == "Rendering Failure"
    (row,) = rows(doc)
    assert (row["type"], row["template"], row["reason"]) == (
        "RenderingFailure",
        "MyTemplate",
        "Attribute 'attributeName' is not present in the rendering data.",
    )


def test_a_reject_keeps_its_reason_and_is_classified():
    (row,) = rows(load("awsdocs-evt-sns-event-publishing-retrieving-sns-reject.json"))
    assert (row["type"], row["reason"], row["category"]) == ("Reject", "Bad content", "content")
    assert row["rule"] == "ses.bad-content"


def test_each_classified_event_stores_the_rule_that_decided_its_category():
    delay = rows(load("awsdocs-evt-sns-event-publishing-retrieving-sns-delayed-delivery.json"))[0]
    bounce = rows(load("awsdocs-sns-notif-notification-examples-bounce-with-dsn.json"))[0]
    assert (delay["category"], delay["rule"]) == ("connection", "code.connection")
    assert (bounce["category"], bounce["rule"]) == ("unknown_user", "code.unknown-user")


def test_events_the_classifier_never_reads_have_no_rule():
    complaint = rows(load("awsdocs-evt-sns-event-publishing-retrieving-sns-complaint.json"))[0]
    failure = rows(load("awsdocs-evt-sns-event-publishing-retrieving-sns-failure.json"))[0]
    assert (complaint["category"], complaint["rule"]) == (None, None)
    assert (failure["category"], failure["rule"]) == (None, None)


def test_a_complaint_keeps_feedback_type_and_subtype():
    doc = load("awsdocs-evt-sns-event-publishing-retrieving-sns-complaint.json")
    doc["complaint"]["complaintSubType"] = "OnAccountSuppressionList"
    (row,) = rows(doc)
    assert (row["complaint_type"], row["complaint_subtype"]) == ("abuse", "OnAccountSuppressionList")


def test_counted_events_give_hour_domain_and_configuration_set():
    ex = parse(load("awsdocs-evt-sns-event-publishing-retrieving-sns-open.json"), NOW)
    (count,) = ex.count_dicts()
    assert {k: v for k, v in count.items() if k != "id"} == {
        "hour": "2017-08-09T22",
        "type": "Open",
        "domain": "example.com",
        "config_set": "ConfigSet",
    }
    assert count["id"].startswith("2017-08-09T22:")


def test_a_delivery_gives_each_recipient_and_its_time_for_the_latest_delivery():
    doc = load("awsdocs-evt-sns-event-publishing-retrieving-sns-delivery.json")
    doc["delivery"]["recipients"] = ["recipient@example.com", "Other <Second@Example.COM>"]
    ex = parse(doc, NOW)
    assert ex.deliveries == [
        ("recipient@example.com", "2016-10-19T23:21:04.133Z"),
        ("second@example.com", "2016-10-19T23:21:04.133Z"),
    ]
    assert [c["type"] for c in ex.count_dicts()] == ["Delivery", "Delivery"]
    legacy = parse(load("awsdocs-sns-notif-notification-examples-delivery.json"), NOW)
    assert legacy.deliveries == [("jane@example.com", "2016-01-27T14:59:38.237Z")]


@pytest.mark.parametrize("kind", ["send", "open", "click", "subscription"])
def test_other_counted_events_give_no_delivery_time(kind):
    ex = parse(load(f"awsdocs-evt-sns-event-publishing-retrieving-sns-{kind}.json"), NOW)
    assert (len(ex.counts), ex.deliveries) == (1, [])


def test_the_same_event_has_one_id_whether_raw_in_an_envelope_in_sqs_or_in_lambda_records():
    bare = load("awsdocs-evt-sns-event-publishing-retrieving-sns-bounce.json")
    envelope = {
        "Type": "Notification",
        "MessageId": "0d3b7c1e-0000-4000-8000-000000000001",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:ses-events",
        "Message": json.dumps(bare),
        "Timestamp": "2017-08-05T00:41:03.000Z",
    }
    moto_style = dict(envelope, Message=bare)  # some emulators put an object, not a string
    lambda_style = {"Records": [{"EventSource": "aws:sns", "Sns": dict(envelope, SigningCertUrl="https://x")}]}
    sqs_raw_body = {"Body": json.dumps(bare)}
    ids = set()
    for doc in (bare, envelope, moto_style, lambda_style, sqs_raw_body, json.dumps(envelope).encode()):
        ex = parse(doc, NOW)
        assert len(ex.events) == 1, doc
        ids.add(ex.events[0][0])
    assert len(ids) == 1


def test_a_legacy_and_an_event_publishing_copy_of_one_bounce_share_the_id():
    event = load("awsdocs-evt-sns-event-publishing-retrieving-sns-bounce.json")
    legacy = copy.deepcopy(event)
    legacy["notificationType"] = legacy.pop("eventType")
    assert parse(event, NOW).events[0][0] == parse(legacy, NOW).events[0][0]


def test_two_delays_of_one_message_are_two_events():
    first = load("awsdocs-evt-sns-event-publishing-retrieving-sns-delayed-delivery.json")
    second = copy.deepcopy(first)
    second["deliveryDelay"]["timestamp"] = "2020-06-16T01:25:40.095Z"
    assert parse(first, NOW).events[0][0] != parse(second, NOW).events[0][0]


def test_an_sns_text_message_is_skipped_not_quarantined():
    envelope = {
        "Type": "Notification",
        "MessageId": "m",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:ses-events",
        "Message": "Successfully validated SNS topic for Amazon SES event publishing.",
    }
    ex = parse(envelope, NOW)
    assert (len(ex), ex.skipped, ex.quarantined) == (0, {"SNS text message (not an SES event)": 1}, [])


def test_a_subscription_confirmation_is_kept_to_be_confirmed_and_ses_notices_are_skipped():
    confirm = {
        "Type": "SubscriptionConfirmation",
        "TopicArn": "arn:aws:sns:us-east-1:1:t",
        "Message": "You have",
    }
    notice = {
        "notificationType": "AmazonSnsSubscriptionSucceeded",
        "message": "You have successfully subscribed",
    }
    ex = Extracted()
    extract(confirm, ex, NOW)
    extract(notice, ex, NOW)
    assert ex.skipped == {"SES notice AmazonSnsSubscriptionSucceeded": 1}
    # Over SQS, the confirmation's Token is what confirms the subscription: kept, with how to use it.
    [(reason, _)] = ex.quarantined
    assert reason.startswith("an SNS SubscriptionConfirmation for arn:aws:sns:us-east-1:1:t: confirm the subscription")


def test_unknown_event_types_and_subtypes_are_kept():
    doc = load("awsdocs-evt-sns-event-publishing-retrieving-sns-bounce.json")
    doc["bounce"]["bounceSubType"] = "SomethingNew"
    (row,) = rows(doc)
    assert row["bounce_subtype"] == "SomethingNew"
    future = load("awsdocs-evt-sns-event-publishing-retrieving-sns-send.json")
    future["eventType"] = "Future Thing"
    future["futureThing"] = {"timestamp": "2016-10-14T05:03:00.000Z"}
    (row,) = rows(future)
    assert (row["type"], row["recipient"], row["timestamp"]) == (
        "FutureThing",
        "recipient@example.com",
        "2016-10-14T05:03:00.000Z",
    )


def test_addresses_are_stored_lower_case_and_display_names_are_dropped():
    doc = load("awsdocs-evt-sns-event-publishing-retrieving-sns-bounce.json")
    doc["bounce"]["bouncedRecipients"][0]["emailAddress"] = "Jane Doe <Jane.Doe@Example.COM>"
    (row,) = rows(doc)
    assert (row["recipient"], row["domain"]) == ("jane.doe@example.com", "example.com")


def test_timestamps_in_other_iso_forms_are_normalised():
    doc = load("awsdocs-evt-sns-event-publishing-retrieving-sns-bounce.json")
    doc["bounce"]["timestamp"] = "2017-08-05T02:41:02+02:00"
    (row,) = rows(doc)
    assert row["timestamp"] == "2017-08-05T00:41:02.000Z"


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"42", "expected a JSON object"),
        (b'{"hello": "world"}', "not an SNS envelope or SES notification"),
        (b'{"eventType": "Bounce", "bounce": {}}', "SES Bounce without a mail object"),
        (
            b'{"eventType": "Bounce", "mail": {"timestamp": "2024-01-01T00:00:00.000Z"}, "bounce": {}}',
            "SES Bounce without bouncedRecipients",
        ),
        (
            b'{"eventType": "Send", "mail": {"destination": ["a@b.c"]}}',
            "SES Send without a readable timestamp",
        ),
        (
            b'{"Type": "Notification", "TopicArn": "arn:aws:sns:x:1:t", "Message": "{broken"}',
            "SNS Message is not",
        ),
    ],
)
def test_malformed_documents_are_quarantined_with_their_reason_and_raw_body(doc, reason):
    ex = parse(doc, NOW)
    assert len(ex) == 0
    ((got_reason, raw),) = ex.quarantined
    assert got_reason.startswith(reason)
    assert raw == doc.decode()


def test_a_document_is_all_or_nothing_when_a_later_recipient_is_malformed():
    doc = load("awsdocs-sns-notif-notification-examples-bounce-no-dsn.json")
    doc["bounce"]["bouncedRecipients"].append("not-an-object")
    ex = parse(doc, NOW)
    assert (ex.events, [r for r, _ in ex.quarantined]) == ([], ["a bouncedRecipients entry is not an object"])


def test_one_bad_record_in_lambda_records_does_not_sink_the_others():
    good = load("awsdocs-evt-sns-event-publishing-retrieving-sns-bounce.json")
    doc = {
        "Records": [
            {
                "Sns": {
                    "Type": "Notification",
                    "TopicArn": "arn:aws:sns:us-east-1:1:t",
                    "Message": json.dumps(good),
                }
            },
            {"Sns": {"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": "{oops"}},
        ]
    }
    ex = parse(doc, NOW)
    assert [r["recipient"] for r in ex.event_dicts()] == ["recipient@example.com"]
    assert [reason.split(":")[0] for reason, _ in ex.quarantined] == ["SNS Message is not valid JSON"]


def test_fields_of_the_wrong_json_type_never_reach_sqlite_as_lists():
    doc = load("awsdocs-evt-sns-event-publishing-retrieving-sns-bounce.json")
    doc["bounce"]["bouncedRecipients"][0]["diagnosticCode"] = ["550", "user unknown"]
    doc["mail"]["source"] = {"odd": True}
    (row,) = rows(doc)
    assert (row["diagnostic"], row["source"]) == ('["550","user unknown"]', '{"odd":true}')
    assert all(v is None or isinstance(v, str) for v in row.values())


def test_rows_have_one_value_per_events_column():
    ex = parse(load("awsdocs-evt-sns-event-publishing-retrieving-sns-bounce.json"), NOW)
    assert [len(r) for r in ex.events] == [len(EVENT_COLUMNS)]


def test_a_blocklist_bounce_names_the_blocklist_and_our_sending_ip():
    doc = load("awsdocs-evt-sns-event-publishing-retrieving-sns-bounce.json")
    doc["bounce"]["bouncedRecipients"][0].update(
        status="5.7.1",
        diagnosticCode=(
            "smtp; 554 5.7.1 Service unavailable; Client host [54.240.8.33] blocked using zen.spamhaus.org; "
            "https://www.spamhaus.org/query/ip/54.240.8.33"
        ),
    )
    doc["bounce"]["remoteMtaIp"] = "198.51.100.7"
    (row,) = rows(doc)
    assert (row["category"], row["sending_ip"], row["remote_mta"]) == (
        "ip_blocklist",
        "54.240.8.33",
        "198.51.100.7",
    )
    assert "spamhaus" in row["blocklist"].lower()


@pytest.mark.parametrize(
    ("text", "ip"),
    [
        (
            "host r2.example.org[198.51.100.18] refused to talk to me: 554 Blocked - see "
            "https://support.proofpoint.com/dnsbl-lookup.cgi?ip=192.0.2.225",
            "192.0.2.225",
        ),
        (
            "203.0.113.225 does not like recipient. Remote host said: 550 5.7.606 Access denied, "
            "banned sending IP [192.0.2.225]. To request removal from this list please visit "
            "https://sender.office.com",
            "192.0.2.225",
        ),
        (
            "554 5.7.1 <a8-95.smtp-out.amazonses.com[203.0.113.22]>: Client host rejected: blocked using x",
            "203.0.113.22",
        ),
        ("550 5.7.1 Connection refused by the receiver: blocked by a local policy", None),
    ],
)
def test_the_sending_ip_is_ours_not_the_receivers(text, ip):
    assert sending_ip_in(text) == ip


def test_the_sending_ip_is_only_recorded_for_ip_blocks():
    doc = load("awsdocs-evt-sns-event-publishing-retrieving-sns-bounce.json")
    doc["bounce"]["bouncedRecipients"][0]["diagnosticCode"] = "smtp; 550 5.1.1 user unknown (from 192.0.2.9)"
    (row,) = rows(doc)
    assert (row["category"], row["sending_ip"]) == ("unknown_user", None)


def test_the_region_falls_back_to_the_topics_when_the_mail_has_no_source_arn():
    doc = load("awsdocs-evt-sns-event-publishing-retrieving-sns-bounce.json")
    del doc["mail"]["sourceArn"]
    envelope = {"Type": "Notification", "TopicArn": "arn:aws:sns:eu-west-1:123456789012:t", "Message": json.dumps(doc)}
    assert [r["region"] for r in rows(envelope)] == ["eu-west-1"]
    assert [r["region"] for r in rows(doc)] == [None]


def test_an_sns_envelope_whose_message_is_no_event_object_is_quarantined_not_lost():
    for message in ([], "[]", [[]], 7):
        out = parse(json.dumps({"Type": "Notification", "MessageId": "m-1", "Message": message}))
        assert (out.events, out.counts) == ([], [])
        assert [reason for reason, _ in out.quarantined] == ["SNS Message is not an SES event (a JSON object)"]
