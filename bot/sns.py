"""The SNS HTTPS endpoint: verify every POSTed SNS message, confirm subscriptions, store notifications.

This module's one job is to decide whether a POST really comes from Amazon SNS for one of our topics, and
only then hand it to `bot.ingest`. `make_sns_app(deps)` returns a WSGI app answering `POST /sns`:

* 200: a verified Notification (stored, or, for SES's status and Advisor events from EventBridge, applied as
  the SQS consumer applies them; a re-delivery is a no-op), a confirmed SubscriptionConfirmation,
  an UnsubscribeConfirmation (logged);
* 400: not an SNS message at all (not JSON, no `Type`), or a raw message delivery (`x-amz-sns-rawdelivery:
  true`: no signed envelope; one warning says to turn RawMessageDelivery off or use SQS);
* 403: verification failed -- nothing is stored and no URL is fetched;
* 404 / 405 / 413: wrong path, wrong method, body too large; 500: the store failed (SNS retries); 502: the
  subscription could not be confirmed.

Verification, cheapest checks first (so junk never makes us fetch anything):
`SignatureVersion` "1" (SHA1withRSA) or "2" (SHA256withRSA); `TopicArn` in `settings.sns_topic_arns` (an
empty list refuses everything); `Timestamp` at most `MAX_AGE` old and not from the future; the
`SigningCertURL` https, ending in `.pem`, on a host `sns.<region>.amazonaws.com` (`.com.cn` in China) whose
`<region>` is region-shaped (`SNS_HOST_RE`; never an S3 bucket host such as `sns.s3.amazonaws.com`), on the
default port, with no user info; then the RSA signature over SNS's canonical string with that certificate's key.

How tests trust a test certificate without loosening anything: certificates come from a
`CertificateSource`. In production it fetches over HTTPS (system trust store, no redirects, size-capped) and
caches in memory and in `settings.sns_cert_dir`. A test builds its own source and `seed`s it with a PEM
for a URL such as `https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem`: `seed` and
every lookup run the same strict URL check first, so a message naming another host is refused whatever
was seeded. Likewise the SubscribeURL is checked with the same host rule before the confirmation GET, and
only the GET itself goes through an injectable `confirm_opener` (a test's opener sends it to a loopback
server and records it; production's sends it to the URL over verified HTTPS).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import re
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bot.alerts.outbox import deliver
from bot.alerts.pushed import record_pushed
from bot.deps import Deps
from bot.ingest import ingest_documents
from bot.notify import Poster

log = logging.getLogger(__name__)

# The label after "sns." must be a region (us-east-1, us-gov-west-1, cn-north-1 ...): a looser one such as
# [a-z0-9-]+ also matches S3's bucket hosts (sns.s3.amazonaws.com, sns.s3-us-west-2.amazonaws.com), where
# anyone who owns a bucket named "sns" could serve a certificate.
SNS_HOST_RE = re.compile(r"^sns\.[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+\.amazonaws\.com(\.cn)?$")
MAX_AGE = timedelta(hours=1)
MAX_SKEW = timedelta(minutes=5)  # a timestamp this far ahead of our clock is refused too
MAX_BODY = 1024 * 1024  # SNS messages are at most 256 KB; the envelope escapes them
MAX_CERT_BYTES = 64 * 1024
FETCH_TIMEOUT = 5.0
FAILED_FETCH_SECONDS = 300.0  # a certificate URL whose fetch failed is not asked again before this

_SIGNED_KEYS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
    "UnsubscribeConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}

ConfirmOpener = Callable[[str], int]  # GETs a checked SubscribeURL, returns the HTTP status


class VerificationError(Exception):
    """Why a message is not trusted (one line, safe to log)."""


def check_sns_url(url: Any, *, pem: bool = True) -> str:
    """Raise `VerificationError` unless `url` is https on an SNS host (and, for certificates, a `.pem`)."""
    if not isinstance(url, str) or len(url) > 2048:
        raise VerificationError("the URL is missing")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise VerificationError("the URL cannot be parsed") from None
    if parts.scheme != "https":
        raise VerificationError(f"the URL is not https: {url[:120]}")
    host = parts.hostname or ""
    if parts.username or parts.password or port not in (None, 443) or not SNS_HOST_RE.match(host):
        raise VerificationError(f"the URL's host is not an Amazon SNS host: {host[:120] or url[:120]}")
    if host != (parts.netloc or "").lower().removesuffix(":443"):
        raise VerificationError(f"the URL's host is not an Amazon SNS host: {parts.netloc[:120]}")
    if pem and not parts.path.endswith(".pem"):
        raise VerificationError("the signing certificate URL does not end in .pem")
    return url


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would take us to a host the check never saw.
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201
        raise urllib.error.HTTPError(req.full_url, code, "redirects are not followed", headers, fp)


def _https_opener() -> urllib.request.OpenerDirector:
    context = ssl.create_default_context()
    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _NoRedirect())


class CertificateSource:
    """SNS signing certificates by URL: the strict URL check always, then memory, disk, HTTPS.

    `cache_dir` (e.g. `settings.sns_cert_dir`) keeps fetched PEMs across restarts. Tests `seed` a PEM for
    a URL that passes the same check; nothing here can be told to skip it.
    """

    def __init__(
        self,
        cache_dir: str | None = None,
        *,
        timeout: float = FETCH_TIMEOUT,
        max_entries: int = 64,
        clock: Callable[[], float] = time.monotonic,
        opener: Callable[[], Any] | None = None,
    ):
        self.cache_dir = cache_dir
        self.opener = opener or _https_opener  # what fetches: HTTPS with no redirects (tests: a loopback one)
        self.timeout = timeout
        self.max_entries = max_entries
        self.clock = clock
        # Each key with the end of its certificate's validity: an expired one is fetched again.
        self._keys: dict[str, tuple[rsa.RSAPublicKey, datetime]] = {}
        # URLs whose fetch failed, and when: asked again only after FAILED_FETCH_SECONDS, so a stream of
        # messages naming a certificate that is not there costs one fetch, not one per message.
        self._failed: dict[str, float] = {}
        self._lock = threading.Lock()
        self.fetches = 0  # how many times a certificate was fetched over the network

    def seed(self, url: str, pem: bytes) -> None:
        """Trust `pem` for `url` (the URL must still pass the strict check)."""
        check_sns_url(url)
        key, until = _public_key(pem)
        with self._lock:
            self._keys[url] = (key, until)

    def public_key(self, url: str, now: datetime | None = None) -> rsa.RSAPublicKey:
        check_sns_url(url)
        with self._lock:
            cached = self._keys.get(url)
            failed_at = self._failed.get(url)
        if cached is not None and (now is None or now <= cached[1]):
            return cached[0]
        if failed_at is not None and self.clock() - failed_at < FAILED_FETCH_SECONDS:
            raise VerificationError("the signing certificate could not be fetched a moment ago")
        pem = self._from_disk(url)
        if pem is not None:
            try:
                key, until = _public_key(pem, now)
            except VerificationError:
                pem = None  # an expired (or damaged) copy: fetch it again
        if pem is None:
            try:
                pem = self._fetch(url)
            except VerificationError:
                with self._lock:
                    if len(self._failed) >= self.max_entries:
                        self._failed.pop(next(iter(self._failed)))
                    self._failed[url] = self.clock()
                raise
            key, until = _public_key(pem, now)
            self._to_disk(url, pem)
        with self._lock:
            self._failed.pop(url, None)
            if len(self._keys) >= self.max_entries and url not in self._keys:
                self._keys.pop(next(iter(self._keys)))
            self._keys[url] = (key, until)
        return key

    def _path(self, url: str) -> str | None:
        if not self.cache_dir:
            return None
        return os.path.join(self.cache_dir, hashlib.sha256(url.encode()).hexdigest() + ".pem")

    def _from_disk(self, url: str) -> bytes | None:
        path = self._path(url)
        if path is None or not os.path.exists(path):
            return None
        with open(path, "rb") as f:
            return f.read(MAX_CERT_BYTES)

    def _to_disk(self, url: str, pem: bytes) -> None:
        path = self._path(url)
        if path is None:
            return
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "wb") as f:
                f.write(pem)
            os.replace(tmp, path)
        except OSError as exc:  # a read-only cache dir costs a fetch per restart, nothing more
            log.warning("could not cache the SNS certificate in %s: %s", self.cache_dir, exc)

    def _fetch(self, url: str) -> bytes:
        self.fetches += 1
        try:
            with self.opener().open(url, timeout=self.timeout) as resp:
                data = resp.read(MAX_CERT_BYTES + 1)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise VerificationError(f"could not fetch the signing certificate: {exc}") from None
        if len(data) > MAX_CERT_BYTES:
            raise VerificationError("the signing certificate is implausibly large")
        return data


def _public_key(pem: bytes, now: datetime | None = None) -> tuple[rsa.RSAPublicKey, datetime]:
    """The certificate's RSA key and the end of its validity."""
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise VerificationError("the signing certificate is not a PEM certificate") from None
    if now is not None and not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise VerificationError("the signing certificate is not valid at this time")
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise VerificationError("the signing certificate does not hold an RSA key")
    return key, cert.not_valid_after_utc


def string_to_sign(msg: dict[str, Any]) -> bytes:
    """SNS's canonical text: `Key\\nValue\\n` for the signed keys of the message's Type, in order."""
    keys = _SIGNED_KEYS.get(msg.get("Type"))  # type: ignore[arg-type]
    if keys is None:
        raise VerificationError("unknown SNS message Type")
    out = []
    for key in keys:
        value = msg.get(key)
        if value is None and key == "Subject":
            continue  # Subject is signed only when present
        if not isinstance(value, str):
            raise VerificationError(f"{key} is missing")
        out.append(f"{key}\n{value}\n")
    return "".join(out).encode()


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise VerificationError("Timestamp is missing")
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise VerificationError("Timestamp cannot be read") from None
    if dt.tzinfo is None:
        raise VerificationError("Timestamp has no time zone")
    return dt


def verify_message(
    msg: dict[str, Any],
    *,
    certs: CertificateSource,
    topics: Iterable[str],
    now: datetime,
    max_age: timedelta = MAX_AGE,
) -> None:
    """Raise `VerificationError` unless `msg` is a genuine, fresh SNS message for one of `topics`."""
    version = msg.get("SignatureVersion")
    algorithm = _HASHES.get(version) if isinstance(version, str) else None
    if algorithm is None:
        raise VerificationError(f"SignatureVersion {str(version)[:10]!r} is not 1 or 2")
    if msg.get("Type") not in _SIGNED_KEYS:
        raise VerificationError("unknown SNS message Type")
    topic = msg.get("TopicArn")
    if not isinstance(topic, str) or topic not in set(topics):
        raise VerificationError(f"topic {str(topic)[:200]!r} is not in SESBOT_SNS_TOPIC_ARNS")
    ts = _parse_time(msg.get("Timestamp"))
    if now - ts > max_age:
        raise VerificationError(f"stale message: Timestamp {msg['Timestamp']} is older than {max_age}")
    if ts - now > MAX_SKEW:
        raise VerificationError(f"Timestamp {msg['Timestamp']} is in the future")
    cert_url = check_sns_url(msg.get("SigningCertURL", msg.get("SigningCertUrl")))
    signature = msg.get("Signature")
    if not isinstance(signature, str):
        raise VerificationError("Signature is missing")
    try:
        raw_signature = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError("Signature is not base64") from None
    text = string_to_sign(msg)
    key = certs.public_key(cert_url, now)
    try:
        key.verify(raw_signature, text, padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise VerificationError("the signature does not match the message") from None


def https_confirm_opener(timeout: float = FETCH_TIMEOUT) -> ConfirmOpener:
    """Production's confirmation GET: verified HTTPS, no redirects, small read."""

    def get(url: str) -> int:
        with _https_opener().open(url, timeout=timeout) as resp:
            resp.read(MAX_CERT_BYTES)
            return resp.status

    return get


def confirm_subscription(msg: dict[str, Any], opener: ConfirmOpener) -> None:
    """GET the SubscribeURL of a verified SubscriptionConfirmation; its host is checked like a cert URL."""
    url = check_sns_url(msg.get("SubscribeURL"), pem=False)
    query = urlsplit(url).query
    if "Action=ConfirmSubscription" not in query:
        raise VerificationError("SubscribeURL is not a ConfirmSubscription URL")
    status = opener(url)
    if not 200 <= status < 300:
        raise ConnectionError(f"SNS answered {status} to the confirmation")


def make_sns_app(
    deps: Deps,
    cert_source: CertificateSource | None = None,
    *,
    confirm_opener: ConfirmOpener | None = None,
    path: str = "/sns",
    max_age: timedelta | None = None,
    poster: Poster | None = None,
) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """A WSGI app for `POST /sns`. Mount it beside the Slack handler (e.g. dispatch on PATH_INFO).

    SES's status and Advisor events that reach the topic from EventBridge are applied as the SQS consumer
    applies them (`record_pushed`), and what they owe is delivered through `poster` (None: levels only)."""
    settings = deps.settings
    certs = cert_source or CertificateSource(cache_dir=settings.sns_cert_dir)
    opener = confirm_opener or https_confirm_opener()
    age = max_age or timedelta(seconds=settings.sns_max_age_seconds)

    def reply(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> list[bytes]:
        data = orjson.dumps(body)
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").rstrip("/") != path:
            return reply(start_response, "404 Not Found", {"error": "not found"})
        if environ.get("REQUEST_METHOD") != "POST":
            start_response("405 Method Not Allowed", [("Allow", "POST"), ("Content-Length", "0")])
            return [b""]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            return reply(start_response, "413 Content Too Large", {"error": "body too large"})
        body = environ["wsgi.input"].read(length) if length else b""
        if environ.get("HTTP_X_AMZ_SNS_RAWDELIVERY", "").lower() == "true":
            # The bare message, without SNS's signed envelope: nothing to verify it with, so it is refused.
            subscription = environ.get("HTTP_X_AMZ_SNS_SUBSCRIPTION_ARN", "")[:200] or "<subscription-arn>"
            log.warning(
                "SNS raw message delivery refused (%s): a raw message carries no signature. Turn "
                "RawMessageDelivery off for this HTTPS subscription (aws sns set-subscription-attributes "
                "--subscription-arn %s --attribute-name RawMessageDelivery --attribute-value false), or deliver "
                "through SQS (SESBOT_SQS_QUEUE_URL)",
                environ.get("REMOTE_ADDR", "?"),
                subscription,
            )
            return reply(start_response, "400 Bad Request", {"error": "raw message delivery is not accepted"})
        try:
            msg = orjson.loads(body)
        except orjson.JSONDecodeError:
            return reply(start_response, "400 Bad Request", {"error": "the body is not JSON"})
        if not isinstance(msg, dict) or not isinstance(msg.get("Type"), str):
            return reply(start_response, "400 Bad Request", {"error": "not an SNS message"})
        header_type = environ.get("HTTP_X_AMZ_SNS_MESSAGE_TYPE")
        if header_type is not None and header_type != msg["Type"]:
            return reply(start_response, "400 Bad Request", {"error": "x-amz-sns-message-type does not match"})
        try:
            verify_message(msg, certs=certs, topics=settings.sns_topic_arns, now=deps.now(), max_age=age)
        except VerificationError as exc:
            log.warning("SNS message refused (%s): %s", environ.get("REMOTE_ADDR", "?"), exc)
            return reply(start_response, "403 Forbidden", {"error": "verification failed"})

        kind = msg["Type"]
        if kind == "SubscriptionConfirmation":
            try:
                confirm_subscription(msg, opener)
            except VerificationError as exc:
                log.warning("SNS subscription not confirmed: %s", exc)
                return reply(start_response, "403 Forbidden", {"error": "verification failed"})
            except (OSError, ConnectionError, ValueError) as exc:
                log.warning("SNS subscription to %s could not be confirmed: %s", msg.get("TopicArn"), exc)
                return reply(start_response, "502 Bad Gateway", {"error": "confirmation failed"})
            log.info("confirmed the SNS subscription to %s", msg.get("TopicArn"))
            return reply(start_response, "200 OK", {"confirmed": msg.get("TopicArn")})
        if kind == "UnsubscribeConfirmation":
            log.warning("SNS says the subscription to %s was removed", msg.get("TopicArn"))
            return reply(start_response, "200 OK", {"unsubscribed": msg.get("TopicArn")})
        # Only what the signature covers is stored: anything else in the body (an "eventType", a "mail" beside
        # the signed "Message") is the sender's, not SNS's.
        signed = orjson.dumps({k: msg[k] for k in _SIGNED_KEYS["Notification"] if k in msg})
        try:
            deps.store.durable()  # SNS forgets the delivery once it is answered 200
            result = ingest_documents(
                deps.store,
                [signed],
                "https",
                now=deps.now(),
                batch_records=None,
                retention_days=deps.settings.retention_days,
            )
            pushed = record_pushed(deps, result.pushed, notify=poster is not None) if result.pushed else None
        except Exception as exc:  # the store failed: 500 makes SNS retry later (applying an event again is a no-op)
            log.error("could not store an SNS notification: %s: %s", type(exc).__name__, exc)
            return reply(start_response, "500 Internal Server Error", {"error": "could not store"})
        if pushed is not None and pushed.owes and poster is not None:
            try:
                deliver(deps, poster)
            except Exception as exc:  # stored and owed: the sweep delivers it; SNS need not send it again
                log.warning("SNS pushed event recorded, its message not posted yet: %s: %s", type(exc).__name__, exc)
        return reply(start_response, "200 OK", result.as_dict())

    return app
