"""bot.sns over real HTTP on loopback: signed SNS messages are stored, everything else is refused.

A test RSA key and certificate are made with `cryptography`. The app trusts that certificate because the
test seeds its `CertificateSource` with it for an SNS-shaped URL that passes the production URL check;
nothing in the app is relaxed. The SubscribeURL of a confirmation is also SNS-shaped (so it passes the same
host check); the test's confirmation opener -- the one injectable piece, used only for that GET -- sends
the request to a loopback server that records it.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from bot.deps import Deps
from bot.settings import Settings
from bot.sns import CertificateSource, VerificationError, check_sns_url, make_sns_app
from tests.conftest import CHANNEL, EXAMPLES_RETENTION_DAYS, REGION, slack_poster
from tests.test_pushed_events import eventbridge

DATA = Path(__file__).parent / "data" / "ses-notifications"
TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000test.pem"


@pytest.fixture(scope="module")
def signing_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


def canonical(msg: dict) -> bytes:
    """SNS's string to sign, written here from the AWS documentation (not borrowed from bot.sns)."""
    if msg["Type"] == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{k}\n{msg[k]}\n" for k in keys if k in msg).encode()


def sign(msg: dict, key, version: str = "1") -> dict:
    msg = dict(msg, SignatureVersion=version, SigningCertURL=msg.get("SigningCertURL", CERT_URL))
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303  (SNS v1 is SHA1withRSA)
    msg["Signature"] = base64.b64encode(key.sign(canonical(msg), padding.PKCS1v15(), algorithm)).decode()
    return msg


def notification(message: str | dict, *, ts: datetime | None = None, topic: str = TOPIC, mid: str = "n-1") -> dict:
    return {
        "Type": "Notification",
        "MessageId": mid,
        "TopicArn": topic,
        "Message": message if isinstance(message, str) else json.dumps(message),
        "Timestamp": (ts or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x",
    }


def bounce() -> dict:
    return json.loads((DATA / "awsdocs-evt-sns-event-publishing-retrieving-sns-bounce.json").read_text())


class Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


class Recorder(http.server.BaseHTTPRequestHandler):
    """Stands in for SNS's ConfirmSubscription endpoint; records each GET."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        type(self).seen.append(self.path)
        body = b"<ConfirmSubscriptionResponse/>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def confirm_server():
    Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def endpoint(tmp_path, store, signing_key, confirm_server):
    """`make_sns_app` served on 127.0.0.1 by wsgiref; yields its URL."""
    settings = Settings.from_env({"AWS_REGION": "us-east-1", "SESBOT_DB": str(tmp_path / "sesbot.db")})
    settings.sns_topic_arns = [TOPIC]
    settings.retention_days = EXAMPLES_RETENTION_DAYS
    deps = Deps(settings=settings, store=store, aws=None)  # type: ignore[arg-type]  (no AWS call here)
    certs = CertificateSource()
    certs.seed(CERT_URL, signing_key[1])

    def to_loopback(url: str) -> int:
        # The app has already checked that `url` is https on an SNS host; only the transport differs.
        parts = urllib.parse.urlsplit(url)
        local = f"http://127.0.0.1:{confirm_server.server_address[1]}{parts.path}?{parts.query}"
        with urllib.request.urlopen(local, timeout=5) as resp:
            return resp.status

    yield from serve(make_sns_app(deps, certs, confirm_opener=to_loopback))


def serve(app):
    """Serve the WSGI `app` on 127.0.0.1 by wsgiref until the fixture ends; yields its `/sns` URL."""
    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sns"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def alert_endpoint(alert_deps, slack_peer, signing_key):
    """`make_sns_app` with the alert engine's deps (the AWS peer, the test's clock) posting to the Slack peer."""
    alert_deps.settings.sns_topic_arns = [TOPIC]
    certs = CertificateSource()
    certs.seed(CERT_URL, signing_key[1])
    yield from serve(make_sns_app(alert_deps, certs, confirm_opener=lambda url: 200, poster=slack_poster(slack_peer)))


def post(url: str, body: dict | bytes, headers: dict | None = None, method: str = "POST") -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data if method == "POST" else None, method=method)  # noqa: S310
    req.add_header("Content-Type", "text/plain; charset=UTF-8")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310  (loopback only)
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw.startswith(b"{") else {}


def stored(store) -> list[tuple]:
    return [(r["type"], r["recipient"]) for r in store.query("SELECT type, recipient FROM events")]


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_validly_signed_notification_is_stored(endpoint, store, signing_key, version):
    msg = sign(notification(bounce()), signing_key[0], version)
    status, body = post(endpoint, msg, {"x-amz-sns-message-type": "Notification"})
    assert (status, body) == (200, {"ingested": 1, "duplicates": 0, "skipped": {}, "quarantined": 0})
    assert stored(store) == [("Bounce", "recipient@example.com")]


def test_a_notification_with_a_subject_is_verified_with_it(endpoint, store, signing_key):
    msg = sign(dict(notification(bounce()), Subject="Amazon SES Email Event Notification"), signing_key[0], "2")
    assert post(endpoint, msg)[0] == 200


def test_the_same_message_twice_is_stored_once(endpoint, store, signing_key):
    msg = sign(notification(bounce()), signing_key[0])
    post(endpoint, msg)
    status, body = post(endpoint, msg)
    assert (status, body) == (200, {"ingested": 0, "duplicates": 1, "skipped": {}, "quarantined": 0})
    assert stored(store) == [("Bounce", "recipient@example.com")]


def test_a_tampered_message_is_refused_and_nothing_is_stored(endpoint, store, signing_key):
    msg = sign(notification(bounce()), signing_key[0])
    evil = bounce()
    evil["bounce"]["bouncedRecipients"][0]["emailAddress"] = "ceo@example.com"
    msg["Message"] = json.dumps(evil)
    assert post(endpoint, msg) == (403, {"error": "verification failed"})
    assert stored(store) == []


def test_only_the_signed_message_is_stored_not_an_event_written_beside_it(endpoint, store, signing_key):
    msg = sign(notification(bounce()), signing_key[0])
    forged = bounce()
    forged["bounce"]["bouncedRecipients"][0]["emailAddress"] = "ceo@example.com"
    msg.update(forged)  # unsigned top-level keys: eventType, mail, bounce
    status, body = post(endpoint, msg)
    assert (status, body["ingested"]) == (200, 1)
    assert stored(store) == [("Bounce", "recipient@example.com")]


def test_a_message_for_another_topic_is_refused(endpoint, store, signing_key):
    msg = sign(notification(bounce(), topic="arn:aws:sns:us-east-1:999999999999:other"), signing_key[0])
    assert post(endpoint, msg)[0] == 403
    assert stored(store) == []


@pytest.mark.parametrize(
    "cert_url",
    [
        "https://sns.us-east-1.evil.example.com/SimpleNotificationService-0000test.pem",
        "https://sns.us-east-1.amazonaws.com.evil.example.com/SimpleNotificationService-0000test.pem",
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000test.pem",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000test.txt",
        "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-0000test.pem",
        "https://attacker@sns.us-east-1.amazonaws.com/SimpleNotificationService-0000test.pem",
        # S3 bucket hosts: anyone can own a bucket named "sns"
        "https://sns.s3.amazonaws.com/SimpleNotificationService-0000test.pem",
        "https://sns.s3-accelerate.amazonaws.com/SimpleNotificationService-0000test.pem",
        "https://sns.s3-external-1.amazonaws.com/SimpleNotificationService-0000test.pem",
        "https://sns.s3-us-west-2.amazonaws.com/SimpleNotificationService-0000test.pem",
        "https://sns.s3.amazonaws.com.cn/SimpleNotificationService-0000test.pem",
    ],
)
def test_a_certificate_url_off_the_sns_hosts_is_refused(endpoint, store, signing_key, cert_url):
    msg = sign(dict(notification(bounce()), SigningCertURL=cert_url), signing_key[0])
    assert post(endpoint, msg)[0] == 403
    assert stored(store) == []
    with pytest.raises(VerificationError):
        CertificateSource().seed(cert_url, signing_key[1])  # not even a test can trust such a URL


@pytest.mark.parametrize(
    "host",
    [
        "sns.us-east-1.amazonaws.com",
        "sns.eu-central-2.amazonaws.com",
        "sns.ap-southeast-4.amazonaws.com",
        "sns.us-gov-west-1.amazonaws.com",
        "sns.il-central-1.amazonaws.com",
        "sns.me-central-1.amazonaws.com",
        "sns.cn-north-1.amazonaws.com.cn",
    ],
)
def test_every_region_shaped_sns_host_is_accepted_by_the_url_check(host):
    url = f"https://{host}/SimpleNotificationService-abc.pem"
    assert check_sns_url(url) == url


@pytest.mark.parametrize("age", [timedelta(hours=2), timedelta(minutes=-30)])
def test_stale_and_future_timestamps_are_refused(endpoint, store, signing_key, age):
    msg = sign(notification(bounce(), ts=datetime.now(UTC) - age), signing_key[0])
    assert post(endpoint, msg)[0] == 403
    assert stored(store) == []


def test_an_unknown_signature_version_is_refused(endpoint, store, signing_key):
    msg = sign(notification(bounce()), signing_key[0])
    msg["SignatureVersion"] = "3"
    assert post(endpoint, msg)[0] == 403


def test_a_message_signed_by_another_key_is_refused(endpoint, store):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert post(endpoint, sign(notification(bounce()), other))[0] == 403
    assert stored(store) == []


def test_a_subscription_confirmation_for_our_topic_is_confirmed(endpoint, signing_key, confirm_server):
    subscribe = (
        "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"
        f"&TopicArn={urllib.parse.quote(TOPIC)}&Token=2336412f37fb687f5d51e6e2425"
    )
    msg = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "c-1",
        "Token": "2336412f37fb687f5d51e6e2425",
        "TopicArn": TOPIC,
        "Message": f"You have chosen to subscribe to the topic {TOPIC}.",
        "SubscribeURL": subscribe,
        "Timestamp": notification("x")["Timestamp"],
    }
    status, body = post(endpoint, sign(msg, signing_key[0]), {"x-amz-sns-message-type": "SubscriptionConfirmation"})
    assert (status, body) == (200, {"confirmed": TOPIC})
    assert Recorder.seen == [
        f"/?Action=ConfirmSubscription&TopicArn={urllib.parse.quote(TOPIC)}&Token=2336412f37fb687f5d51e6e2425"
    ]


def test_a_subscription_confirmation_pointing_elsewhere_is_not_fetched(endpoint, signing_key, confirm_server):
    msg = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "c-2",
        "Token": "t",
        "TopicArn": TOPIC,
        "Message": "subscribe",
        "SubscribeURL": "https://attacker.example.com/?Action=ConfirmSubscription&Token=t",
        "Timestamp": notification("x")["Timestamp"],
    }
    assert post(endpoint, sign(msg, signing_key[0]))[0] == 403
    assert Recorder.seen == []


def test_a_subscription_confirmation_pointing_at_an_s3_bucket_named_sns_is_not_fetched(
    endpoint, signing_key, confirm_server
):
    msg = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "c-4",
        "Token": "t",
        "TopicArn": TOPIC,
        "Message": "subscribe",
        "SubscribeURL": "https://sns.s3.amazonaws.com/?Action=ConfirmSubscription&Token=t",
        "Timestamp": notification("x")["Timestamp"],
    }
    assert post(endpoint, sign(msg, signing_key[0]))[0] == 403
    assert Recorder.seen == []


def test_a_confirmation_for_another_topic_is_not_confirmed(endpoint, signing_key, confirm_server):
    msg = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "c-3",
        "Token": "t",
        "TopicArn": "arn:aws:sns:us-east-1:999999999999:other",
        "Message": "subscribe",
        "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t",
        "Timestamp": notification("x")["Timestamp"],
    }
    assert post(endpoint, sign(msg, signing_key[0]))[0] == 403
    assert Recorder.seen == []


def test_a_sending_status_event_through_sns_opens_the_incident_as_one_from_the_queue_does(
    alert_endpoint, alert_deps, aws_peer, slack_peer, clock, signing_key
):
    aws_peer.set_account(REGION, sending_enabled=False)
    msg = sign(notification(eventbridge("Sending Status Disabled"), ts=clock.now), signing_key[0])
    assert post(alert_endpoint, msg)[0] == 200
    [incident] = alert_deps.store.query("SELECT signal, level, status, ts FROM incidents")
    assert (incident["signal"], incident["level"], incident["status"]) == ("account_status", "paused", "open")
    [parent] = slack_peer.messages_in(CHANNEL)
    assert parent["ts"] == incident["ts"] and "paused" in parent["text"].lower()
    assert post(alert_endpoint, msg)[0] == 200  # SNS delivers at least once: nothing opens or posts twice
    assert len(alert_deps.store.query("SELECT id FROM incidents")) == 1
    assert len(slack_peer.messages_in(CHANNEL)) == 1


def test_a_signed_envelope_with_a_broken_message_is_quarantined(endpoint, store, signing_key):
    status, body = post(endpoint, sign(notification("{not json"), signing_key[0]))
    assert (status, body) == (200, {"ingested": 0, "duplicates": 0, "skipped": {}, "quarantined": 1})
    assert [q["origin"] for q in store.query("SELECT origin FROM quarantine")] == ["https"]


def test_the_ses_validation_text_message_is_accepted_and_skipped(endpoint, store, signing_key):
    msg = sign(notification("Successfully validated SNS topic for Amazon SES event publishing."), signing_key[0])
    status, body = post(endpoint, msg)
    assert (status, body["skipped"]) == (200, {"SNS text message (not an SES event)": 1})


def test_bodies_that_are_not_sns_messages_get_400(endpoint):
    assert post(endpoint, b"not json")[0] == 400
    assert post(endpoint, {"hello": "world"})[0] == 400
    assert post(endpoint, {"Type": "Notification"}, {"x-amz-sns-message-type": "SubscriptionConfirmation"})[0] == 400


def test_a_raw_message_delivery_is_refused_with_a_warning_that_says_what_to_change(endpoint, store, caplog):
    headers = {
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-rawdelivery": "true",
        "x-amz-sns-subscription-arn": f"{TOPIC}:0f6b2b7e",
    }
    with caplog.at_level(logging.WARNING, logger="bot.sns"):
        assert post(endpoint, bounce(), headers) == (400, {"error": "raw message delivery is not accepted"})
    [line] = [r.getMessage() for r in caplog.records if r.name == "bot.sns"]
    assert "raw message delivery" in line and "RawMessageDelivery off" in line and "SQS" in line
    assert f"--subscription-arn {TOPIC}:0f6b2b7e" in line
    assert stored(store) == []


def test_other_methods_and_paths_are_not_served(endpoint):
    assert post(endpoint, b"", method="GET")[0] == 405
    assert post(endpoint.replace("/sns", "/other"), {"Type": "Notification"})[0] == 404


def test_a_certificate_cached_on_disk_is_used_without_fetching(tmp_path, signing_key):
    (tmp_path / (hashlib.sha256(CERT_URL.encode()).hexdigest() + ".pem")).write_bytes(signing_key[1])
    source = CertificateSource(cache_dir=str(tmp_path))
    key = source.public_key(CERT_URL, datetime.now(UTC))
    assert (key.public_numbers(), source.fetches) == (signing_key[0].public_key().public_numbers(), 0)


class CertHost(http.server.BaseHTTPRequestHandler):
    """The certificate host on loopback: serves `pem` (404 when None) to every GET, and counts them."""

    pem: bytes | None = None
    gets = 0

    def do_GET(self) -> None:  # noqa: N802
        type(self).gets += 1
        body = type(self).pem
        self.send_response(200 if body else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def cert_host():
    """A loopback stand-in for sns.<region>.amazonaws.com's certificates; yields an opener that reaches it."""
    CertHost.pem, CertHost.gets = None, 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CertHost)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    port = server.server_address[1]

    class ToLoopback:
        # The URL has passed the strict check; only the transport differs.
        def open(self, url: str, timeout: float):
            return urllib.request.urlopen(f"http://127.0.0.1:{port}{urllib.parse.urlsplit(url).path}", timeout=timeout)

    yield ToLoopback
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_an_expired_certificate_is_not_trusted(tmp_path, signing_key, cert_host):
    (tmp_path / (hashlib.sha256(CERT_URL.encode()).hexdigest() + ".pem")).write_bytes(signing_key[1])
    CertHost.pem = signing_key[1]  # fetched again, it is the same expired certificate
    source = CertificateSource(cache_dir=str(tmp_path), opener=cert_host)
    with pytest.raises(VerificationError, match="not valid at this time"):
        source.public_key(CERT_URL, datetime.now(UTC) + timedelta(days=365))
    assert CertHost.gets == 1  # the expired copy on disk was not taken for a fresh one


def test_a_certificate_that_cannot_be_fetched_is_not_asked_for_again_for_every_message(cert_host):
    clock = [0.0]
    source = CertificateSource(opener=cert_host, clock=lambda: clock[0])
    url = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-nothere.pem"
    for _ in range(3):
        with pytest.raises(VerificationError):
            source.public_key(url)
    assert CertHost.gets == 1  # one fetch for three messages naming it
    clock[0] += 301
    with pytest.raises(VerificationError, match="could not fetch"):
        source.public_key(url)
    assert CertHost.gets == 2  # asked again once the pause is over


def test_a_cached_key_whose_certificate_has_expired_is_not_used(signing_key, cert_host):
    source = CertificateSource(opener=cert_host)
    source.seed(CERT_URL, signing_key[1])
    assert source.public_key(CERT_URL, datetime.now(UTC)) is not None  # from memory: no fetch
    with pytest.raises(VerificationError, match="could not fetch"):
        source.public_key(CERT_URL, datetime.now(UTC) + timedelta(days=365))  # expired in memory: fetched (404)
    assert CertHost.gets == 1
