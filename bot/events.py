"""Parsing SES notifications: every shape they arrive in, turned into flat per-recipient records.

This module's one job is to read; it never touches the database (`bot.ingest` writes what it returns).

Shapes understood (nested freely, e.g. an SQS body holding an SNS envelope holding an SES event):

* an SNS envelope (`Type`, `MessageId`, `TopicArn`, `Message`): `Message` is a JSON *string* in real AWS,
  an *object* in some emulators (moto), or plain text ("Successfully validated SNS topic ...", skipped);
  an `UnsubscribeConfirmation` is skipped, a `SubscriptionConfirmation` quarantined with how to confirm it (the
  HTTPS endpoint confirms its own before this; over SQS its Token is what a person needs);
* Lambda-style `{"Records": [{"Sns": {...}}]}` (which spells `SigningCertUrl`), and SQS-to-Lambda
  `{"Records": [{"body": "..."}]}`; a saved `ReceiveMessage` answer `{"Messages": [{"Body": "..."}]}`;
* a bare SES document: legacy `notificationType` (Bounce, Complaint, Delivery) or event publishing
  `eventType` (Send, Reject, Bounce, Complaint, Delivery, Open, Click, "Rendering Failure" with its
  space, DeliveryDelay, Subscription) -- raw SQS delivery and Firehose JSON lines look like this;
* an EventBridge event (`version`, `id`, `detail-type`, `source`, `account`, `region`, `detail`) from
  `aws.ses`: SES's account sending status and VDM Advisor events (`SES_PUSHED_TYPES`) are kept as `pushed`
  for the alert engine; an email event (`detail` holding an SES event-publishing document) is read as one;
* a JSON array of any of these.

What comes out (`Extracted`):

* `events`: one tuple per recipient of a *problem* event (Bounce, Complaint, DeliveryDelay, Reject,
  RenderingFailure, and any event type this code does not know yet: unknown types are kept, never
  dropped), in `EVENT_COLUMNS` order, ready for `executemany`;
* `counts`: one `(seen_id, hour, type, domain, config_set)` per recipient of a *high-volume* event
  (Send, Delivery, Open, Click, Subscription), which `bot.ingest` turns into hourly counters;
* `deliveries`: one `(recipient, timestamp)` per recipient of a Delivery (also in `counts`), from which
  `bot.ingest` keeps each recipient's latest delivery time (a later delivery tempers an earlier bounce);
* `headers`: one tuple per Send event (per message, not per recipient), in `HEADER_COLUMNS` order: the
  unsubscribe headers the message carried, for `bot.ingest`'s rolling header sample. It carries the `seen`
  id of the message's first counted recipient, so a re-delivered Send is sampled once, like it is counted;
* `pushed`: one `PushedEvent` per SES status or Advisor event EventBridge delivered, which the SQS consumer
  hands to the alert engine (`bot.alerts.pushed`) in the same receive;
* `skipped` (reason -> count) and `quarantined` ((reason, raw text) pairs) for what is not an event.

Natural ids -- why they come from the SES payload, never from the SNS envelope
------------------------------------------------------------------------------
The same SES event can reach the bot by several paths: an SNS HTTPS POST, an SQS message holding the SNS
envelope, an SQS message with raw delivery (no envelope at all), a Firehose/S3 export file. The SNS
`MessageId` exists only on the first two, so an id built from it would store the event twice when it also
arrives raw or from a file. Every id is therefore built from fields inside the SES document, which are the
same on every path:

* Bounce and Complaint: ``type | feedbackId | recipient`` (SES gives each bounce/complaint report a unique
  feedbackId; the legacy notification and the event-publishing copy of one bounce share it, so the bounce
  is stored once even when both are configured);
* everything else (and a bounce/complaint without feedbackId): ``type | mail.messageId | recipient |
  event timestamp`` (the timestamp tells two DeliveryDelay or Open events of one message apart; a Click
  adds its link).

The key is hashed (BLAKE2b, 128 bits, hex) to keep the primary-key index small. Counted events' `seen`
ids are prefixed with the event's hour ('YYYY-MM-DDTHH:'), so the `seen` table is ordered by time: inserts
land near each other and retention pruning is a primary-key range delete.

Recipients are stored lower-cased (address and domain): SES reports what the sender wrote, and a person
looking up `Jane@Example.com` means the same mailbox as `jane@example.com`.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeGuard

import orjson

from bot.classify import Classification, classify
from bot.timefmt import iso

# The events table's columns, in the order the tuples in `Extracted.events` hold them.
EVENT_COLUMNS: tuple[str, ...] = (
    "id",
    "type",
    "recipient",
    "domain",
    "timestamp",
    "message_id",
    "source",
    "config_set",
    "region",
    "account_id",  # the AWS account that sent the mail (`mail.sendingAccountId`, else the sourceArn's)
    "bounce_type",
    "bounce_subtype",
    "delay_type",
    "complaint_type",
    "complaint_subtype",
    "status",
    "action",
    "diagnostic",
    "category",
    "blocklist",
    "sending_ip",
    "remote_mta",
    "reporting_mta",
    "template",
    "reason",
    "expires",
    "feedback_id",
    "received_at",
    "tenant",
    "rule",  # which classifier rule decided `category` (bot/classify/rules.toml id); None when not classified
)
COUNT_COLUMNS: tuple[str, ...] = ("id", "hour", "type", "domain", "config_set")
# One Send event's header facts, in the order the tuples in `Extracted.headers` hold them. `seen_id` is the
# `counts` id of the message's first recipient; the flags are 0/1; `headers_seen` is 0 when the event
# carried no `mail.headers` (then the other flags are 0 too, and mean "unknown", not "absent").
HEADER_COLUMNS: tuple[str, ...] = (
    "seen_id",
    "day",
    "config_set",
    "from_address",
    "headers_seen",
    "list_unsubscribe",
    "one_click",
    "https",
    "message_id",
)

PROBLEM_TYPES = frozenset({"Bounce", "Complaint", "DeliveryDelay", "Reject", "RenderingFailure"})
COUNTED_TYPES = frozenset({"Send", "Delivery", "Open", "Click", "Subscription"})

# eventType / notificationType as SES spells it -> the type stored, and the key of its detail object.
_KNOWN: dict[str, tuple[str, str]] = {
    "Bounce": ("Bounce", "bounce"),
    "Complaint": ("Complaint", "complaint"),
    "Delivery": ("Delivery", "delivery"),
    "DeliveryDelay": ("DeliveryDelay", "deliveryDelay"),
    "Send": ("Send", "send"),
    "Reject": ("Reject", "reject"),
    "Open": ("Open", "open"),
    "Click": ("Click", "click"),
    "Rendering Failure": ("RenderingFailure", "failure"),
    "RenderingFailure": ("RenderingFailure", "failure"),
    "Subscription": ("Subscription", "subscription"),
}
_loads = orjson.loads
# SES's own notices on a topic, not mail events.
_NOTICES = frozenset({"AmazonSnsSubscriptionSucceeded"})

MAX_RAW = 262_144  # quarantined bodies are kept up to SQS's own message limit
_MAX_NESTING = 4  # envelope in envelope in ...: real shapes need 3 levels at most
_MAX_TEXT = 4000  # a diagnostic longer than this is cut (SES already truncates, but files can hold anything)


# The SES events EventBridge carries that the bot turns into incidents at once (EventBridge's reference for
# Amazon SES, "Amazon SES service events"): the account's sending status and the VDM Advisor's
# recommendations. `setup --apply` routes exactly these to the bot's queue.
SES_PUSHED_TYPES = (
    "Sending Status Enabled",
    "Sending Status Disabled",
    "Advisor Recommendation Status Open",
    "Advisor Recommendation Status Resolved",
)


@dataclass(frozen=True)
class PushedEvent:
    """One SES status or Advisor event as EventBridge delivered it: its id (the same on every redelivery),
    `detail-type`, account, region, time and `detail` object, untouched."""

    id: str
    detail_type: str
    account: str
    region: str
    time: str
    detail: dict[str, Any]


class Malformed(ValueError):
    """A document that claims to be an SES event or an SNS envelope but cannot be read as one."""


# What a parser step raises on a document of an unexpected shape (a field of the wrong JSON type deep inside, a
# timestamp with no UTC time): the document is malformed, not the code wrong.
MALFORMED: tuple[type[Exception], ...] = (
    Malformed,
    TypeError,
    AttributeError,
    KeyError,
    ValueError,
    IndexError,
    OverflowError,
)


@dataclass
class Extracted:
    """What a run of `extract` collected; `bot.ingest` writes it in one transaction."""

    events: list[tuple[Any, ...]] = field(default_factory=list)
    counts: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    deliveries: list[tuple[str, str]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    quarantined: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str, str, str, int, int, int, int, str | None]] = field(default_factory=list)
    pushed: list[PushedEvent] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.events) + len(self.counts) + len(self.headers)

    def merge(self, other: Extracted) -> None:
        """Append what another batch holds (a parser process's share of a file)."""
        self.events.extend(other.events)
        self.counts.extend(other.counts)
        self.deliveries.extend(other.deliveries)
        self.headers.extend(other.headers)
        self.pushed.extend(other.pushed)
        self.quarantined.extend(other.quarantined)
        for reason, n in other.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + n

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def quarantine(self, reason: str, raw: Any) -> None:
        self.quarantined.append((reason[:500], raw_text(raw)))

    def clear(self) -> None:
        self.events = []
        self.counts = []
        self.deliveries = []
        self.headers = []
        self.pushed = []
        self.skipped = {}
        self.quarantined = []

    def event_dicts(self) -> list[dict[str, Any]]:
        """The problem events as dicts (for tests and callers that are not on the hot path)."""
        return [dict(zip(EVENT_COLUMNS, row, strict=True)) for row in self.events]

    def count_dicts(self) -> list[dict[str, str]]:
        return [dict(zip(COUNT_COLUMNS, row, strict=True)) for row in self.counts]

    def header_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(HEADER_COLUMNS, row, strict=True)) for row in self.headers]


def raw_text(raw: Any) -> str:
    """A quarantined item as text: bytes decoded leniently, objects re-serialised, cut at `MAX_RAW`."""
    if isinstance(raw, bytes | bytearray | memoryview):
        text = bytes(raw[:MAX_RAW]).decode("utf-8", "replace")
    elif isinstance(raw, str):
        text = raw[:MAX_RAW]
    else:
        try:
            text = orjson.dumps(raw, default=str).decode()[:MAX_RAW]
        except (TypeError, orjson.JSONEncodeError):
            text = repr(raw)[:MAX_RAW]
    return text


def parse(doc: Any, received_at: str | None = None) -> Extracted:
    """Parse one document (bytes, text or an already-decoded object) into a fresh `Extracted`.

    >>> ex = parse(b'{"eventType":"Send","mail":{"messageId":"m1","timestamp":"2024-01-02T03:04:05.678Z",'
    ...            b'"destination":["Jo@Example.com"]},"send":{}}', "2024-01-02T03:05:00.000Z")
    >>> ex.count_dicts()[0]["hour"], ex.count_dicts()[0]["domain"]
    ('2024-01-02T03', 'example.com')
    """
    out = Extracted()
    extract(doc, out, received_at or _now_iso())
    return out


def extract(doc: Any, out: Extracted, received_at: str) -> None:
    """Parse one document (bytes, text or object) and append what it holds to `out`.

    Never raises for bad input: what cannot be read is quarantined in `out` with its reason.
    """
    if isinstance(doc, bytes | str | bytearray | memoryview):
        try:
            value = _loads(doc)
        except orjson.JSONDecodeError as exc:
            out.quarantine(f"not valid JSON: {exc}", doc)
            return
    else:
        value = doc
    # Fast path for the two shapes nearly everything arrives in -- a bare SES document, and an SNS
    # Notification whose Message is the SES document as a JSON string -- without the general dispatcher.
    if value.__class__ is dict:
        target = topic = None
        if "eventType" in value or "notificationType" in value:
            target = value
        else:
            message = value.get("Message")
            if message.__class__ is str and message[:1] == "{" and value.get("Type") == "Notification":
                try:
                    inner = _loads(message)
                except orjson.JSONDecodeError:
                    inner = None  # the general path below reports it
                if inner.__class__ is dict and ("eventType" in inner or "notificationType" in inner):
                    target, topic = inner, value.get("TopicArn")
        if target is not None:
            n_events, n_counts, n_deliveries = len(out.events), len(out.counts), len(out.deliveries)
            n_headers = len(out.headers)
            try:
                _ses(target, out, received_at, topic)
            except MALFORMED as exc:
                del out.events[n_events:]
                del out.counts[n_counts:]
                del out.deliveries[n_deliveries:]
                del out.headers[n_headers:]
                out.quarantine(_reason(exc), doc)
            return
    _guarded(_dispatch, value, out, received_at, None, 0, doc)


def _reason(exc: Exception) -> str:
    return (str(exc) if isinstance(exc, Malformed) else f"unreadable field ({type(exc).__name__}: {exc})")[:300]


def _guarded(fn: Any, value: Any, out: Extracted, received_at: str, topic: str | None, depth: int, raw: Any) -> None:
    """Run one parser step; if it fails, undo what it appended and quarantine `raw` instead."""
    n_events, n_counts, n_deliveries, n_headers, n_pushed = (
        len(out.events),
        len(out.counts),
        len(out.deliveries),
        len(out.headers),
        len(out.pushed),
    )
    try:
        fn(value, out, received_at, topic, depth)
    except MALFORMED as exc:
        # A field of an unexpected JSON type deep inside means the document is malformed, not the code wrong;
        # a document is all or nothing, so rows it added before the bad part are taken back.
        del out.events[n_events:]
        del out.counts[n_counts:]
        del out.deliveries[n_deliveries:]
        del out.headers[n_headers:]
        del out.pushed[n_pushed:]
        out.quarantine(_reason(exc), raw)


def _dispatch(value: Any, out: Extracted, received_at: str, topic: str | None, depth: int) -> None:
    if depth > _MAX_NESTING:
        raise Malformed("nested too deeply to be an SES notification")
    if value.__class__ is dict:
        if "eventType" in value or "notificationType" in value:
            _ses(value, out, received_at, topic)
        elif "Message" in value and ("Type" in value or "TopicArn" in value):
            _envelope(value, out, received_at, depth)
        elif "detail-type" in value and "source" in value:
            _eventbridge(value, out, received_at, depth)
        elif isinstance(value.get("Records"), list):
            _each(value["Records"], out, received_at, topic, depth, _record)
        elif isinstance(value.get("Messages"), list):
            _each(value["Messages"], out, received_at, topic, depth, _sqs_message)
        elif isinstance(value.get("Body"), str) or isinstance(value.get("body"), str):
            _sqs_message(value, out, received_at, topic, depth)
        else:
            keys = ", ".join(sorted(str(k) for k in value)[:8])
            raise Malformed(f"not an SNS envelope or SES notification (keys: {keys})")
    elif value.__class__ is list:
        _each(value, out, received_at, topic, depth, _dispatch)
    else:
        raise Malformed(f"expected a JSON object, got {type(value).__name__}")


def _each(items: list[Any], out: Extracted, received_at: str, topic: str | None, depth: int, fn: Any) -> None:
    # Each item stands alone: one malformed record in a Records/array list does not sink the others.
    if len(items) == 1:
        fn(items[0], out, received_at, topic, depth + 1)
        return
    for item in items:
        _guarded(fn, item, out, received_at, topic, depth + 1, item)


def _record(rec: Any, out: Extracted, received_at: str, topic: str | None, depth: int) -> None:
    if not isinstance(rec, dict):
        raise Malformed("a Records entry is not an object")
    sns = rec.get("Sns") or rec.get("sns")
    if isinstance(sns, dict):
        _envelope(sns, out, received_at, depth)
    elif isinstance(rec.get("body"), str) or isinstance(rec.get("Body"), str):
        _sqs_message(rec, out, received_at, topic, depth)
    else:
        _dispatch(rec, out, received_at, topic, depth)


def _sqs_message(msg: Any, out: Extracted, received_at: str, topic: str | None, depth: int) -> None:
    if not isinstance(msg, dict):
        raise Malformed("an SQS message entry is not an object")
    body = msg.get("Body", msg.get("body"))
    if not isinstance(body, str):
        raise Malformed("an SQS message without a Body")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Malformed(f"SQS Body is not valid JSON: {exc}") from None
    _dispatch(value, out, received_at, topic, depth)


def _envelope(env: dict[str, Any], out: Extracted, received_at: str, depth: int) -> None:
    kind = env.get("Type", "Notification")
    if kind == "SubscriptionConfirmation":
        # Over SQS (the HTTPS endpoint confirms its own): kept, since its Token confirms the subscription.
        raise Malformed(
            f"an SNS SubscriptionConfirmation for {str(env.get('TopicArn'))[:200]}: confirm the subscription with its "
            "Token (`aws sns confirm-subscription`, in the topic's account) or its SubscribeURL"
        )
    if kind != "Notification":
        out.skip(
            f"SNS {kind}" if kind in ("SubscriptionConfirmation", "UnsubscribeConfirmation") else "SNS message type"
        )
        return
    topic = env.get("TopicArn")
    message = env.get("Message")
    if message.__class__ is str:
        head = message.lstrip()[:1]
        if head != "{" and head != "[":
            # "Successfully validated SNS topic for Amazon SES event publishing." and other notices.
            out.skip("SNS text message (not an SES event)")
            return
        try:
            message = orjson.loads(message)
        except orjson.JSONDecodeError as exc:
            raise Malformed(f"SNS Message is not valid JSON: {exc}") from None
    elif message is None:
        raise Malformed("SNS envelope without a Message")
    if message.__class__ is not dict:
        # SES publishes one event object per SNS notification; anything else (an array, a number) is a
        # broken envelope, quarantined rather than read as an empty batch.
        raise Malformed("SNS Message is not an SES event (a JSON object)")
    _dispatch(message, out, received_at, topic if isinstance(topic, str) else None, depth + 1)


def _eventbridge(event: dict[str, Any], out: Extracted, received_at: str, depth: int) -> None:
    """An EventBridge event: SES's status and Advisor events are kept as `pushed`; an SES email event (its
    `detail` an event-publishing document) is read as one; anything else is skipped, counted by its type."""
    source, kind, detail = event.get("source"), event.get("detail-type"), event.get("detail")
    if not isinstance(kind, str) or not isinstance(source, str):
        raise Malformed("EventBridge event without a detail-type and source")
    if source != "aws.ses":
        out.skip(f"EventBridge event from {source[:40]}")
        return
    if kind in SES_PUSHED_TYPES:
        if not isinstance(detail, dict):
            raise Malformed(f"EventBridge {kind} without a detail object")
        region, event_id = event.get("region"), event.get("id")
        if not isinstance(region, str) or not region or not isinstance(event_id, str) or not event_id:
            raise Malformed(f"EventBridge {kind} without its id or region")
        when = _ts(event.get("time")) or received_at
        out.pushed.append(PushedEvent(event_id, kind, str(event.get("account") or ""), region, when, detail))
    elif isinstance(detail, dict) and ("eventType" in detail or "notificationType" in detail):
        _ses(detail, out, received_at, None)
    else:
        out.skip(f"EventBridge {kind[:60]}")


# -- the SES document ---------------------------------------------------------------------------------------


def _ses(doc: dict[str, Any], out: Extracted, received_at: str, topic: Any) -> None:
    """One SES document; `topic` is the TopicArn of the envelope it came in (the region's fallback)."""
    raw_type = doc.get("eventType") or doc.get("notificationType")
    known = _KNOWN.get(raw_type) if raw_type.__class__ is str else None
    if known is None:
        if raw_type.__class__ is not str or not raw_type:
            raise Malformed("eventType/notificationType is not a name")
        if raw_type in _NOTICES:
            out.skip(f"SES notice {raw_type}")
            return
        etype = raw_type.replace(" ", "")[:64]
        detail_key = etype[:1].lower() + etype[1:]
    else:
        etype, detail_key = known
    mail = doc.get("mail")
    if mail.__class__ is not dict:
        raise Malformed(f"SES {raw_type} without a mail object")
    detail = doc.get(detail_key)
    if detail is None:
        detail = {}
    elif detail.__class__ is not dict:
        raise Malformed(f"SES {raw_type}: {detail_key} is not an object")
    timestamp = detail.get("timestamp")
    if timestamp is None or not (timestamp.__class__ is str and len(timestamp) == 24 and timestamp[23] == "Z"):
        timestamp = _ts(timestamp) or _ts(mail.get("timestamp"))
        if timestamp is None:
            raise Malformed(f"SES {raw_type} without a readable timestamp")
    message_id = mail.get("messageId")
    if message_id.__class__ is not str:
        message_id = _s(message_id)
    tags = mail.get("tags")
    config_set = tenant = None
    if tags.__class__ is dict:
        cs = tags.get("ses:configuration-set")
        if cs.__class__ is list and cs:
            config_set = cs[0] if cs[0].__class__ is str else _s(cs[0])
        tn = tags.get("ses:tenant-name")
        if tn.__class__ is list and tn:
            tenant = tn[0] if tn[0].__class__ is str else _s(tn[0])

    # The hot path: most traffic is counted, and needs nothing more than this.
    if etype in COUNTED_TYPES:
        if etype == "Delivery":
            recipients = detail.get("recipients") or mail.get("destination")
        else:
            recipients = mail.get("destination")
        extra = _s(detail.get("link")) or "" if etype == "Click" else ""
        n_counts = len(out.counts)
        _counted(out, etype, recipients, message_id, timestamp, config_set or "", extra)
        if etype == "Send" and len(out.counts) > n_counts:  # no counted recipient, nothing sent to sample
            _sample_headers(out, mail, out.counts[n_counts][0], timestamp, config_set or "", message_id)
        return

    region = _region(mail.get("sourceArn")) or _region(topic)
    account_id = _s(mail.get("sendingAccountId")) or _arn_account(mail.get("sourceArn"))
    common = (message_id, _s(mail.get("source")), config_set, region, account_id)
    if etype == "Bounce":
        _bounce(out, detail, common, timestamp, received_at, tags, tenant)
    elif etype == "Complaint":
        _complaint(out, detail, common, timestamp, received_at, tenant)
    elif etype == "DeliveryDelay":
        _delay(out, detail, common, timestamp, received_at, tags, tenant)
    else:
        # Reject, RenderingFailure and event types this code does not know: one row per destination.
        reason = _text(detail.get("reason")) or _text(detail.get("errorMessage"))
        template = _s(detail.get("templateName"))
        category = blocklist = rule = None
        if etype == "Reject" and reason:
            c = _classify(reason, None, None, None, None)
            category, blocklist, rule = c.category, c.blocklist, c.rule
        recipients = mail.get("destination")
        if not _nonempty_list(recipients):
            raise Malformed(f"SES {raw_type} without destination addresses")
        for addr in recipients:
            recipient, domain = _address(addr)
            if recipient is None:
                out.skip("a recipient that is not an email address")
                continue
            key = f"{etype}\x1f{message_id}\x1f{recipient}\x1f{timestamp}"
            out.events.append(
                (_hash(key), etype, recipient, domain, timestamp, *common)
                + (None, None, None, None, None, None, None, None, category, blocklist, None, None, None)
                + (template, reason, None, None, received_at, tenant, rule)
            )


def _counted(
    out: Extracted,
    etype: str,
    recipients: Any,
    message_id: str | None,
    timestamp: str,
    config_set: str,
    extra: str,
) -> None:
    if recipients.__class__ is not list or not recipients:
        raise Malformed(f"SES {etype} without recipients")
    hour = timestamp[:13]
    append = out.counts.append
    # Deliveries also feed each recipient's latest delivery time; the other counted types need nothing more.
    delivered = out.deliveries.append if etype == "Delivery" else None
    blake2b = hashlib.blake2b
    prefix = f"{etype}\x1f{message_id}\x1f"
    suffix = f"\x1f{timestamp}\x1f{extra}"
    recipient: str | None
    domain: str | None
    for addr in recipients:
        # The common case inline (a plain lower-case address); anything else through _address.
        if addr.__class__ is str and "<" not in addr and addr.islower() and "@" in addr and len(addr) <= 320:
            recipient = addr.strip()
            domain = recipient.rpartition("@")[2].rstrip(".")
        else:
            recipient, domain = _address(addr)
            if recipient is None or domain is None:  # _address gives both or neither
                out.skip("a recipient that is not an email address")
                continue
        digest = blake2b((prefix + recipient + suffix).encode(), digest_size=16).hexdigest()
        append((f"{hour}:{digest}", hour, etype, domain, config_set))
        if delivered is not None:
            delivered((recipient, timestamp))


def _sample_headers(
    out: Extracted, mail: dict[str, Any], seen_id: str, timestamp: str, config_set: str, message_id: str | None
) -> None:
    """One Send event's unsubscribe headers (RFC 2369 / RFC 8058) into `out.headers`; never raises.

    The scan runs only when the event carries `mail.headers`: a name is lower-cased only when its length
    is that of one of the two names wanted, so the usual dozen other headers cost a lookup and a `len`
    each. A malformed entry (not an object, no name) is passed over: the sample never fails a document.
    """
    headers = mail.get("headers")
    seen = lu = oc = https = 0
    if headers.__class__ is list:
        seen = 1
        for h in headers:
            try:  # free in Python 3.11 unless raised; cheaper than two type tests per header
                name = h["name"]
                n = len(name)
            except (TypeError, KeyError):  # not an object, no name, a name with no length
                continue
            if (n != 16 and n != 21) or name.__class__ is not str:
                continue
            name = name.lower()
            if name == "list-unsubscribe":
                lu = 1
                value = h.get("value")
                if value.__class__ is str and "<https:" in value.lower().replace("< ", "<"):
                    https = 1
            elif name == "list-unsubscribe-post":
                value = h.get("value")
                if value.__class__ is str and value.strip().lower() == "list-unsubscribe=one-click":
                    oc = 1
    common = mail.get("commonHeaders")
    sender = None
    if common.__class__ is dict:
        senders = common.get("from")
        if senders.__class__ is list and senders and senders[0].__class__ is str:
            sender = senders[0]
    address = _sender(sender) if sender is not None else ""
    if not address:
        source = mail.get("source")
        address = _sender(source) if source.__class__ is str else ""
    out.headers.append((seen_id, timestamp[:10], config_set, address, seen, lu, oc, https, message_id))


@functools.lru_cache(maxsize=1024)
def _sender(value: str) -> str:
    """The lower-cased address of a From value ('Name <a@b>' or 'a@b'), '' when it holds none (cached:
    a sender writes the same few From values again and again)."""
    return _address(value)[0] or ""


def _diagnosed(
    out: Extracted,
    recipients: list[Any],
    field_name: str,
    remote: str | None,
    tags: Any,
    bounce_type: str | None,
    subtype: str | None,
    delay_type: str | None,
) -> Iterator[tuple[dict[str, Any], str, str | None, str | None, str | None, Classification, str | None]]:
    """Each bounced or delayed recipient with its status, diagnostic text, classification and the sending
    IP the text names; recipients that are not addresses are counted as skipped."""
    for r in recipients:
        if r.__class__ is not dict:
            raise Malformed(f"a {field_name} entry is not an object")
        recipient, domain = _address(r.get("emailAddress"))
        if recipient is None:
            out.skip("a recipient that is not an email address")
            continue
        status = _s(r.get("status"))
        diagnostic = _text(r.get("diagnosticCode"))
        generic = _generic(diagnostic, r.get("emailAddress"))
        c = _classify(generic, status, bounce_type, subtype, delay_type)
        yield r, recipient, domain, status, diagnostic, c, _sending_ip(generic, c, remote, tags, delay_type)


def _bounce(
    out: Extracted,
    b: dict[str, Any],
    common: tuple[Any, ...],
    timestamp: str,
    received_at: str,
    tags: Any,
    tenant: str | None,
) -> None:
    recipients = b.get("bouncedRecipients")
    if not _nonempty_list(recipients):
        raise Malformed("SES Bounce without bouncedRecipients")
    bounce_type = _s(b.get("bounceType"))
    subtype = _s(b.get("bounceSubType"))
    feedback_id = _s(b.get("feedbackId"))
    remote = _s(b.get("remoteMtaIp"))
    reporting = _s(b.get("reportingMTA"))
    message_id = common[0]
    for r, recipient, domain, status, diagnostic, c, ip in _diagnosed(
        out, recipients, "bouncedRecipients", remote, tags, bounce_type, subtype, None
    ):
        if feedback_id:
            key = f"Bounce\x1f{feedback_id}\x1f{recipient}"
        else:
            key = f"Bounce\x1f{message_id}\x1f{recipient}\x1f{timestamp}"
        out.events.append(
            (_hash(key), "Bounce", recipient, domain, timestamp, *common)
            + (bounce_type, subtype, None, None, None, status, _s(r.get("action")), diagnostic, c.category)
            + (c.blocklist, ip, remote, reporting, None, None, None, feedback_id, received_at, tenant, c.rule)
        )


def _complaint(
    out: Extracted,
    cp: dict[str, Any],
    common: tuple[Any, ...],
    timestamp: str,
    received_at: str,
    tenant: str | None,
) -> None:
    recipients = cp.get("complainedRecipients")
    if not _nonempty_list(recipients):
        raise Malformed("SES Complaint without complainedRecipients")
    feedback_id = _s(cp.get("feedbackId"))
    feedback_type = _s(cp.get("complaintFeedbackType"))
    subtype = _s(cp.get("complaintSubType"))
    message_id = common[0]
    for r in recipients:
        if r.__class__ is not dict:
            raise Malformed("a complainedRecipients entry is not an object")
        recipient, domain = _address(r.get("emailAddress"))
        if recipient is None:
            out.skip("a recipient that is not an email address")
            continue
        if feedback_id:
            key = f"Complaint\x1f{feedback_id}\x1f{recipient}"
        else:
            key = f"Complaint\x1f{message_id}\x1f{recipient}\x1f{timestamp}"
        out.events.append(
            (_hash(key), "Complaint", recipient, domain, timestamp, *common)
            + (None, None, None, feedback_type, subtype, None, None, None, None, None, None, None, None)
            + (None, None, None, feedback_id, received_at, tenant, None)
        )


def _delay(
    out: Extracted,
    d: dict[str, Any],
    common: tuple[Any, ...],
    timestamp: str,
    received_at: str,
    tags: Any,
    tenant: str | None,
) -> None:
    recipients = d.get("delayedRecipients")
    if not _nonempty_list(recipients):
        raise Malformed("SES DeliveryDelay without delayedRecipients")
    delay_type = _s(d.get("delayType"))
    expires = _ts(d.get("expirationTime"))
    remote = _s(d.get("remoteMtaIp"))
    reporting = _s(d.get("reportingMTA"))
    message_id = common[0]
    for _r, recipient, domain, status, diagnostic, c, ip in _diagnosed(
        out, recipients, "delayedRecipients", remote, tags, None, None, delay_type
    ):
        key = f"DeliveryDelay\x1f{message_id}\x1f{recipient}\x1f{timestamp}"
        out.events.append(
            (_hash(key), "DeliveryDelay", recipient, domain, timestamp, *common)
            + (None, None, delay_type, None, None, status, None, diagnostic)
            + (c.category, c.blocklist, ip, remote, reporting, None, None, expires, None, received_at, tenant, c.rule)
        )


# -- small helpers, all on the hot path ---------------------------------------------------------------------


def _region(arn: Any) -> str | None:
    """The region field of an ARN (arn:aws:ses:REGION:...), or None."""
    if arn.__class__ is not str or arn.count(":") < 4:
        return None
    return arn.split(":", 4)[3] or None


def _arn_account(arn: Any) -> str | None:
    """The account field of an ARN (arn:aws:ses:REGION:ACCOUNT:...), or None."""
    if arn.__class__ is not str or arn.count(":") < 5:
        return None
    return arn.split(":", 5)[4] or None


def _generic(text: str | None, address: Any) -> str | None:
    """The text with the recipient's address replaced, as the classifier's cache key.

    Bounce texts usually quote the recipient; without it, one cached classification serves every
    recipient of the same reply (the address never decides the category).
    """
    if text and address.__class__ is str and address and address in text:
        return text.replace(address, "<recipient>")
    return text


def _hash(key: str) -> str:
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def _s(value: Any) -> str | None:
    """A short string field: SQLite must never be handed a list or a dict (it would fail the batch)."""
    if value.__class__ is str:
        return value[:1000] if len(value) > 1000 else value
    if value is None:
        return None
    if isinstance(value, bool | int | float):
        return str(value)
    return orjson.dumps(value).decode()[:1000]


def _text(value: Any) -> str | None:
    if value.__class__ is str:
        return value[:_MAX_TEXT] if len(value) > _MAX_TEXT else value
    return None if value is None else _s(value)


def _nonempty_list(value: Any) -> TypeGuard[list[Any]]:
    return value.__class__ is list and len(value) > 0


_ANGLE = re.compile(r"<([^<>]*@[^<>]*)>")


def _address(value: Any) -> tuple[str | None, str | None]:
    """(address, domain), lower-cased; (None, None) for something that is not an address."""
    if value.__class__ is not str or "@" not in value:
        return None, None
    if "<" in value:
        m = _ANGLE.search(value)
        if m:
            value = m.group(1)
    address = value.strip().lower()
    if len(address) > 320:
        return None, None
    return address, address.rpartition("@")[2].rstrip(".")


def _ts(value: Any) -> str | None:
    """An SES timestamp in the store's one format ('YYYY-MM-DDTHH:MM:SS.mmmZ'), or None."""
    if value.__class__ is not str:
        return None
    # SES's own format is already the store's: the common case costs four comparisons.
    if len(value) == 24 and value[23] == "Z" and value[10] == "T" and value[19] == ".":
        return value
    return _parse_ts(value)


@functools.lru_cache(maxsize=1024)
def _parse_ts(value: str) -> str | None:
    try:
        dt = datetime.fromisoformat(value.strip())
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        dt = dt.astimezone(UTC)  # "0001-01-01T00:00:00+01:00" has no UTC time: OverflowError
    except (ValueError, OverflowError):
        return None
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _now_iso() -> str:
    return iso(datetime.now(UTC))


@functools.lru_cache(maxsize=8192)
def _classify(
    text: str | None, status: str | None, bounce_type: str | None, subtype: str | None, delay_type: str | None
) -> Classification:
    # bot.classify memoises too; this cache skips building its keyword call on the hot path.
    return classify(text, status=status, bounce_type=bounce_type, bounce_subtype=subtype, delay_type=delay_type)


# -- the sending IP named in a blocklist text ----------------------------------------------------------------

# No lookbehind: a pattern that starts with \d lets `re` skip ahead to the next digit; the edges are
# checked in Python.
_IP_RE = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")
# Words that, right before an IP, say it is ours: "client host [ip]", "sending IP [ip]", "?ip=ip", "from [ip]".
_OURS = ("ip", "ip address", "client host", "client", "from", "for", "amazonses.com", "sending", "source")
_SENDING_IP_CATEGORIES = frozenset({"ip_blocklist", "reputation"})


def _sending_ip(
    text: str | None, c: Classification, remote: str | None, tags: Any, delay_type: str | None
) -> str | None:
    """The IP a blocklist / reputation text says was refused: ours, not the receiver's."""
    if c.category not in _SENDING_IP_CATEGORIES and delay_type != "IPFailure":
        return None
    if text:
        found = _sending_ip_in(text, remote)
        if found:
            return found
    if tags.__class__ is dict:
        outgoing = tags.get("ses:outgoing-ip")
        if outgoing.__class__ is list and outgoing and outgoing[0].__class__ is str:
            return outgoing[0]
    return None


def sending_ip_in(text: str, remote: str | None = None) -> str | None:
    """The sending IP named in a bounce text, skipping the receiving server's own address.

    >>> sending_ip_in("host mx.example.net[198.51.100.18] refused to talk to me: 554 Blocked - see "
    ...               "https://support.proofpoint.com/dnsbl-lookup.cgi?ip=192.0.2.225")
    '192.0.2.225'
    """
    return _sending_ip_in(text, remote)


@functools.lru_cache(maxsize=4096)
def _sending_ip_in(text: str, remote: str | None) -> str | None:
    first = None
    for m in _IP_RE.finditer(text):
        start, end = m.span()
        if start and (text[start - 1].isdigit() or text[start - 1] == "."):
            continue  # part of a longer dotted number (an OID, a version)
        if end < len(text) and (text[end].isdigit() or (text[end] == "." and text[end + 1 : end + 2].isdigit())):
            continue
        ip = m.group()
        if ip == remote or not _valid_ipv4(ip):
            continue
        before = text[max(0, start - 80) : start].lower().rstrip(" [(:=#")
        words = before.split()
        last = words[-1] if words else ""
        prev = words[-2] if len(words) > 1 else ""
        # The receiver's own address: "host mx.example.com[ip] said", "connected to ip", "remote host ip".
        if (prev == "host" and "." in last and not last.endswith("amazonses.com")) or (
            last == "to" and prev in ("connect", "connected")
        ):
            continue
        if last == "host" and prev == "remote":
            continue
        for word in _OURS:
            if before.endswith(word) and (len(before) == len(word) or not before[-len(word) - 1].isalnum()):
                return ip
        if first is None:
            first = ip
    return first


def _valid_ipv4(ip: str) -> bool:
    # Not ipaddress: this runs per blocklist bounce, and four int() calls are what it takes.
    octets = [int(o) for o in ip.split(".")]
    return max(octets) <= 255 and 0 < octets[0] < 224 and octets[0] != 127
