"""bot.sqs against the local AWS peer: SNS topic -> SQS queue -> consumer -> rows, and its failure modes."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

import pytest

from bot.deps import Deps
from bot.settings import Settings
from bot.sqs import SqsConsumer
from bot.store import StoreUnavailable
from tests.conftest import EXAMPLES_RETENTION_DAYS

DATA = Path(__file__).parent / "data" / "ses-notifications"


def corpus_doc(name: str) -> dict:
    return json.loads((DATA / name).read_text())


BOUNCE = "awsdocs-evt-sns-event-publishing-retrieving-sns-bounce.json"
DELAY = "awsdocs-evt-sns-event-publishing-retrieving-sns-delayed-delivery.json"
SEND = "awsdocs-evt-sns-event-publishing-retrieving-sns-send.json"


@pytest.fixture
def queue(aws_peer):
    """An SNS topic with an SQS queue subscribed to it, as SES event publishing is usually wired."""
    sns, sqs = aws_peer.client("sns"), aws_peer.client("sqs")
    topic = sns.create_topic(Name="ses-events")["TopicArn"]
    url = sqs.create_queue(QueueName="ses-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return {"topic": topic, "url": url, "arn": arn, "sns": sns, "sqs": sqs}


@pytest.fixture
def consumer_deps(tmp_path, store, aws_peer, queue) -> Deps:
    settings = Settings.from_env({"AWS_REGION": "us-east-1", "SESBOT_DB": str(tmp_path / "sesbot.db")})
    settings.aws_endpoint_url = aws_peer.endpoint_url
    settings.sqs_queue_url = queue["url"]
    settings.retention_days = EXAMPLES_RETENTION_DAYS
    return Deps.build(settings, store=store)


def publish(queue, *names: str) -> None:
    for name in names:
        queue["sns"].publish(TopicArn=queue["topic"], Message=json.dumps(corpus_doc(name)))


def events(store) -> list[tuple]:
    return [(r["type"], r["recipient"]) for r in store.query("SELECT type, recipient FROM events ORDER BY type")]


def visible(queue) -> int:
    attrs = queue["sqs"].get_queue_attributes(
        QueueUrl=queue["url"], AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_published_events_reach_the_store_and_leave_the_queue(consumer_deps, queue, store):
    publish(queue, BOUNCE, DELAY, SEND)
    result = SqsConsumer(consumer_deps).poll_once(wait_seconds=1)
    assert result.as_dict() == {"ingested": 3, "duplicates": 0, "skipped": {}, "quarantined": 0}
    assert events(store) == [("Bounce", "recipient@example.com"), ("DeliveryDelay", "recipient@example.com")]
    assert store.query("SELECT type, count FROM counters") == [{"type": "Send", "count": 1}]
    assert visible(queue) == 0


def test_a_batch_is_on_the_disk_before_it_is_deleted_from_the_queue(consumer_deps, queue, store):
    # WAL's usual synchronous=NORMAL may lose a commit to a power cut; the queue would have deleted the batch.
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL, for everything else
    publish(queue, BOUNCE)
    SqsConsumer(consumer_deps).poll_once(wait_seconds=1)
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL on the consumer's connection
    assert visible(queue) == 0


def test_raw_message_delivery_bodies_are_stored_too(consumer_deps, queue, store):
    sub = queue["sns"].list_subscriptions_by_topic(TopicArn=queue["topic"])["Subscriptions"][0]
    queue["sns"].set_subscription_attributes(
        SubscriptionArn=sub["SubscriptionArn"], AttributeName="RawMessageDelivery", AttributeValue="true"
    )
    publish(queue, BOUNCE)
    body = queue["sqs"].receive_message(QueueUrl=queue["url"], VisibilityTimeout=0)["Messages"][0]["Body"]
    assert json.loads(body)["eventType"] == "Bounce"  # no envelope: the SES document itself
    assert SqsConsumer(consumer_deps).poll_once(wait_seconds=1).ingested == 1
    assert events(store) == [("Bounce", "recipient@example.com")]


def test_a_crash_between_store_and_delete_neither_loses_nor_duplicates(consumer_deps, queue, store):
    publish(queue, BOUNCE, SEND)
    crashed = SqsConsumer(consumer_deps)
    messages = crashed.receive(wait_seconds=1)
    assert crashed.store(messages).ingested == 2
    # The process dies here, before DeleteMessageBatch; the visibility timeout runs out.
    for m in messages:
        queue["sqs"].change_message_visibility(
            QueueUrl=queue["url"], ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
        )
    result = SqsConsumer(consumer_deps).poll_once(wait_seconds=1)
    assert result.as_dict() == {"ingested": 0, "duplicates": 2, "skipped": {}, "quarantined": 0}
    assert events(store) == [("Bounce", "recipient@example.com")]
    assert store.query("SELECT type, count FROM counters") == [{"type": "Send", "count": 1}]
    assert visible(queue) == 0


def test_a_failed_delete_is_an_error_and_the_redelivery_is_a_duplicate(consumer_deps, queue, store, aws_peer):
    # A one-second visibility timeout, so the undeleted message comes back within the next long poll.
    queue["sqs"].set_queue_attributes(QueueUrl=queue["url"], Attributes={"VisibilityTimeout": "1"})
    publish(queue, BOUNCE)
    aws_peer.fail("DeleteMessageBatch", code="AccessDenied", status=400, count=1)
    consumer = SqsConsumer(consumer_deps)
    with pytest.raises(Exception, match="AccessDenied"):
        consumer.poll_once(wait_seconds=1)
    assert events(store) == [("Bounce", "recipient@example.com")]  # committed before the delete failed
    again = consumer.poll_once(wait_seconds=5)
    assert again.as_dict() == {"ingested": 0, "duplicates": 1, "skipped": {}, "quarantined": 0}
    assert events(store) == [("Bounce", "recipient@example.com")]
    assert visible(queue) == 0


def test_a_database_file_deleted_while_running_keeps_the_batch_in_the_queue(consumer_deps, queue, store):
    publish(queue, BOUNCE)
    for suffix in ("", "-wal", "-shm"):
        os.remove(store.path + suffix)
    with pytest.raises(StoreUnavailable, match="deleted or replaced while sesbot ran"):
        SqsConsumer(consumer_deps).poll_once(wait_seconds=1)
    assert visible(queue) == 1  # not committed to a deleted file, so not deleted from the queue


def test_poison_messages_are_quarantined_and_deleted_with_the_good_ones_kept(consumer_deps, queue, store):
    queue["sqs"].send_message(QueueUrl=queue["url"], MessageBody="this is not json")
    queue["sqs"].send_message(QueueUrl=queue["url"], MessageBody=json.dumps({"eventType": "Bounce"}))
    publish(queue, BOUNCE)
    consumer = SqsConsumer(consumer_deps)
    total = consumer.poll_once(wait_seconds=1)
    while visible(queue):
        total.merge(consumer.poll_once(wait_seconds=1))
    assert total.as_dict() == {"ingested": 1, "duplicates": 0, "skipped": {}, "quarantined": 2}
    assert events(store) == [("Bounce", "recipient@example.com")]
    reasons = sorted(q["reason"].split(":")[0] for q in store.query("SELECT reason FROM quarantine"))
    assert reasons == ["SES Bounce without a mail object", "not valid JSON"]
    assert visible(queue) == 0


def test_the_run_loop_stores_messages_until_stopped(consumer_deps, queue, store):
    stop = threading.Event()
    thread = threading.Thread(target=SqsConsumer(consumer_deps).run, args=(stop,), kwargs={"wait_seconds": 1})
    thread.start()
    try:
        publish(queue, BOUNCE)
        deadline = time.monotonic() + 20
        while not events(store) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
    assert (events(store), thread.is_alive()) == ([("Bounce", "recipient@example.com")], False)


def test_a_missing_queue_is_logged_in_one_line_and_retried_not_crashed(consumer_deps, caplog):
    consumer = SqsConsumer(consumer_deps, queue_url=consumer_deps.settings.sqs_queue_url + "-gone")
    stop = threading.Event()
    caplog.set_level(logging.WARNING, logger="bot.sqs")
    thread = threading.Thread(target=consumer.run, args=(stop,), kwargs={"wait_seconds": 0})
    thread.start()
    deadline = time.monotonic() + 20
    while not caplog.records and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    thread.join(10)
    assert thread.is_alive() is False
    (record,) = caplog.records[:1]
    assert record.getMessage().startswith("SQS consumer: ") and "\n" not in record.getMessage()
    assert "retrying in 1 s" in record.getMessage()
    # /healthz says so, naming the queue, until a receive works again.
    [problem] = consumer_deps.health.problems()
    assert problem.startswith(f"the SQS consumer of {consumer.queue_name} failing for ")


def test_a_consumer_needs_a_queue(tmp_path, store):
    settings = Settings.from_env({"AWS_REGION": "us-east-1"})
    with pytest.raises(ValueError, match="SESBOT_SQS_QUEUE_URL"):
        SqsConsumer(Deps.build(settings, store=store))


def test_several_receivers_store_every_message_once_and_stop_together(consumer_deps, queue, store):
    from bot.sqs import start_receivers

    stop = threading.Event()
    threads = start_receivers(consumer_deps, stop, 3, wait_seconds=1)
    try:
        assert sorted(t.name for t in threads) == ["sqs-1", "sqs-2", "sqs-3"]
        for i in range(25):
            doc = corpus_doc(BOUNCE)
            doc["mail"]["messageId"] = f"many-{i}"
            doc["bounce"]["feedbackId"] = f"feedback-many-{i}"
            queue["sqs"].send_message(QueueUrl=queue["url"], MessageBody=json.dumps(doc))
        deadline = time.monotonic() + 30
        while len(events(store)) < 25 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert len(events(store)) == 25
    assert visible(queue) == 0
    assert not any(t.is_alive() for t in threads)
