"""The demo world: an SES account with a realistic mix of problems, on the local peers.

Used by `sesbot demo` and by the tests that check the demo's story. Everything is generated from a
fixed seed and a given "now", so runs are repeatable.

Recipients and what is wrong with each:
- `new.customer@example.org`  — the account is still in the sandbox and the address is not verified
- `jane@example.net`          — on the account suppression list after a hard bounce
- `gone@example.org`          — hard bounce: the mailbox does not exist
- `ops@blocked.example`       — soft bounces: the sending IP is on zen.spamhaus.org
- `info@nomail.example`       — the domain publishes a null MX: it accepts no mail
- `orders@example.com`        — sent as the tenant `shop-eu`, which SES disabled after a complaint spike
- `ok@example.com`            — nothing wrong

The account has Virtual Deliverability Manager on, so `why <HARD_BOUNCE_MESSAGE_ID>` also shows SES's own
timeline for that message (the receiving ISP, the bounce).
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
SENDER_DOMAIN = "mail.example.com"
SENDER = f"news@{SENDER_DOMAIN}"
SENDING_IP = "198.51.100.23"
DKIM_TOKENS = (
    "demo1tokenaaaaaaaaaaaaaaaaaaaaaa",
    "demo2tokenbbbbbbbbbbbbbbbbbbbbbb",
    "demo3tokencccccccccccccccccccccc",
)

RECIPIENTS = {
    "sandbox": "new.customer@example.org",
    "suppressed": "jane@example.net",
    "hard_bounce": "gone@example.org",
    "blocklist": "ops@blocked.example",
    "null_mx": "info@nomail.example",
    "tenant": "orders@example.com",
    "healthy": "ok@example.com",
}
TENANT = "shop-eu"
TENANT_CAUSE = "Complaint rate above the policy threshold for this tenant"
# The message whose hard bounce gone@example.org's diagnosis quotes (SendEmail's MessageId shape).
HARD_BOUNCE_MESSAGE_ID = "0100018c0ffee000-5e5b0700-0000-4000-8000-00000000d1ed-000000"
HARD_BOUNCE_TEXT = (
    "smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking "
    "the recipient's email address."
)

ZONE = f"""
; the sender's domain: verified, Easy DKIM, SPF for SES, DMARC quarantine
{SENDER_DOMAIN}. 300 IN MX 10 inbound-smtp.{REGION}.amazonaws.com.
{SENDER_DOMAIN}. 300 IN TXT "v=spf1 include:amazonses.com ~all"
_dmarc.{SENDER_DOMAIN}. 300 IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"
_dmarc.example.com. 300 IN TXT "v=DMARC1; p=none"
{DKIM_TOKENS[0]}._domainkey.{SENDER_DOMAIN}. 300 IN CNAME {DKIM_TOKENS[0]}.dkim.amazonses.com.
{DKIM_TOKENS[1]}._domainkey.{SENDER_DOMAIN}. 300 IN CNAME {DKIM_TOKENS[1]}.dkim.amazonses.com.
{DKIM_TOKENS[2]}._domainkey.{SENDER_DOMAIN}. 300 IN CNAME {DKIM_TOKENS[2]}.dkim.amazonses.com.
{DKIM_TOKENS[0]}.dkim.amazonses.com. 300 IN TXT "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ"
{DKIM_TOKENS[1]}.dkim.amazonses.com. 300 IN TXT "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ"
{DKIM_TOKENS[2]}.dkim.amazonses.com. 300 IN TXT "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ"
amazonses.com. 300 IN TXT "v=spf1 ip4:199.255.192.0/22 ip4:199.127.232.0/22 ip4:54.240.0.0/18 ~all"
inbound-smtp.{REGION}.amazonaws.com. 300 IN A 203.0.113.10
; recipients' domains
example.com. 300 IN MX 10 mx.example.com.
mx.example.com. 300 IN A 203.0.113.20
example.org. 300 IN MX 10 mx.example.org.
mx.example.org. 300 IN A 203.0.113.21
example.net. 300 IN MX 10 mx.example.net.
mx.example.net. 300 IN A 203.0.113.22
blocked.example. 300 IN MX 10 mx.blocked.example.
mx.blocked.example. 300 IN A 203.0.113.23
nomail.example. 300 IN MX 0 .
"""


def _mail(now: datetime, recipient: str, message_id: str) -> dict[str, Any]:
    return {
        "timestamp": _ts(now - timedelta(seconds=3)),
        "messageId": message_id,
        "source": SENDER,
        "sourceArn": f"arn:aws:ses:{REGION}:{ACCOUNT_ID}:identity/{SENDER_DOMAIN}",
        "sourceIp": "10.0.0.12",
        "sendingAccountId": ACCOUNT_ID,
        "destination": [recipient],
        "tags": {"ses:configuration-set": ["sesbot"]},
        "commonHeaders": {
            "from": [f"Example News <{SENDER}>"],
            "to": [recipient],
            "subject": "Your weekly digest",
        },
    }


def _sent_mail(now: datetime, recipient: str, message_id: str, i: int) -> dict[str, Any]:
    """A Send event's mail with its original headers (the event destination includes them): the digest
    carries one-click unsubscribe on three messages in four (the fourth only a mailto link), and every
    tenth message is a receipt from the transactional `receipts` set, without any unsubscribe header."""
    mail = _mail(now, recipient, message_id)
    headers = [
        {"name": "From", "value": mail["commonHeaders"]["from"][0]},
        {"name": "To", "value": recipient},
        {"name": "Message-ID", "value": f"<{message_id}@email.amazonses.com>"},
    ]
    if i % 10 == 9:
        receipt = f"Example Receipts <receipts@{SENDER_DOMAIN}>"
        mail["tags"] = {"ses:configuration-set": ["receipts"]}
        mail["commonHeaders"] = {**mail["commonHeaders"], "from": [receipt], "subject": "Your receipt"}
        headers[0]["value"] = receipt
    elif i % 4 == 3:
        headers.append({"name": "List-Unsubscribe", "value": f"<mailto:unsubscribe@{SENDER_DOMAIN}>"})
    else:
        headers += [
            {
                "name": "List-Unsubscribe",
                "value": f"<https://{SENDER_DOMAIN}/u/{i}>, <mailto:unsubscribe@{SENDER_DOMAIN}>",
            },
            {"name": "List-Unsubscribe-Post", "value": "List-Unsubscribe=One-Click"},
        ]
    mail["headers"] = headers
    mail["headersTruncated"] = False
    return mail


def _ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _mid(rng: random.Random) -> str:
    return f"0100018{rng.randrange(16**9):09x}-{uuid.UUID(int=rng.getrandbits(128))}-000000"


def bounce(
    now: datetime,
    recipient: str,
    *,
    kind: str,
    sub: str,
    status: str,
    diagnostic: str,
    rng: random.Random,
    message_id: str | None = None,
    tags: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    mid = _mid(rng)
    mail = _mail(now, recipient, message_id or mid)
    if tags:
        mail["tags"] = {**mail["tags"], **tags}
    return {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": kind,
            "bounceSubType": sub,
            "bouncedRecipients": [
                {
                    "emailAddress": recipient,
                    "action": "failed",
                    "status": status,
                    "diagnosticCode": diagnostic,
                }
            ],
            "timestamp": _ts(now),
            "feedbackId": f"{mid[:-7]}-fb-{rng.randrange(10**6):06d}",
            "reportingMTA": "dns; a8-30.smtp-out.amazonses.com",
            "remoteMtaIp": "203.0.113.23",
        },
        "mail": mail,
    }


def events(now: datetime, seed: int = 7) -> list[dict[str, Any]]:
    """SES events (configuration-set event publishing shape) that tell the demo's story."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    # Background traffic: sends and deliveries over the last two days.
    for i in range(400):
        at = now - timedelta(minutes=7 * i)
        rcpt = f"reader{i % 97}@{rng.choice(['example.com', 'example.org', 'example.net'])}"
        mid = _mid(rng)
        out.append({"eventType": "Send", "send": {}, "mail": _sent_mail(at, rcpt, mid, i)})
        out.append(
            {
                "eventType": "Delivery",
                "mail": _mail(at, rcpt, mid),
                "delivery": {
                    "timestamp": _ts(at),
                    "processingTimeMillis": 812,
                    "recipients": [rcpt],
                    "smtpResponse": "250 2.0.0 OK",
                    "reportingMTA": "a8-30.smtp-out.amazonses.com",
                    "remoteMtaIp": "203.0.113.20",
                },
            }
        )
    out.append(
        bounce(
            now - timedelta(days=3),
            RECIPIENTS["suppressed"],
            kind="Permanent",
            sub="General",
            status="5.1.1",
            diagnostic="smtp; 550 5.1.1 <jane@example.net>: Recipient address rejected: "
            "User unknown in virtual mailbox table",
            rng=rng,
        )
    )
    out.append(
        bounce(
            now - timedelta(hours=30),
            RECIPIENTS["suppressed"],
            kind="Permanent",
            sub="OnAccountSuppressionList",
            status="5.1.1",
            diagnostic="Amazon SES did not send the message to this address because it is on the "
            "suppression list for your account.",
            rng=rng,
        )
    )
    out.append(
        bounce(
            now - timedelta(hours=5),
            RECIPIENTS["hard_bounce"],
            kind="Permanent",
            sub="General",
            status="5.1.1",
            diagnostic=HARD_BOUNCE_TEXT,
            rng=rng,
            message_id=HARD_BOUNCE_MESSAGE_ID,
        )
    )
    for h in (2, 1):
        out.append(
            bounce(
                now - timedelta(hours=h),
                RECIPIENTS["blocklist"],
                kind="Transient",
                sub="General",
                status="5.7.1",
                diagnostic=f"smtp; 554 5.7.1 Service unavailable; Client host "
                f"[{SENDING_IP}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/"
                f"{SENDING_IP}",
                rng=rng,
            )
        )
    # The tenant's last message before SES disabled it: a deferral, retried and given up on.
    out.append(
        bounce(
            now - timedelta(hours=26),
            RECIPIENTS["tenant"],
            kind="Transient",
            sub="General",
            status="4.7.0",
            diagnostic="smtp; 421 4.7.0 Try again later, closing connection.",
            rng=rng,
            tags={"ses:tenant-name": [TENANT]},
        )
    )
    return out


def bounce_rate_history() -> list[tuple[int, float]]:
    """CloudWatch's hourly bounce rates before the demo's sweeps, (hours ago, rate): rising since the
    newsletter started, the trend the first alert's forecast is fitted to."""
    return [(5, 0.012), (4, 0.016), (3, 0.019), (2, 0.023), (1, 0.027)]


def newsletter(now: datetime, sends: int = 1200, seed: int = 11) -> list[dict[str, Any]]:
    """The newsletter behind the bounces: `sends` Send events spread over the last three hours (enough
    volume for a forecast to mean something), 97 in 100 of them delivered."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(sends):
        at = now - timedelta(seconds=int(3 * 3600 * i / sends))
        rcpt = f"subscriber{i}@{rng.choice(['example.com', 'example.org', 'example.net'])}"
        mid = _mid(rng)
        out.append({"eventType": "Send", "send": {}, "mail": _sent_mail(at, rcpt, mid, i)})
        if i % 100 >= 3:
            delivery = {"timestamp": _ts(at), "recipients": [rcpt], "smtpResponse": "250 2.0.0 OK"}
            out.append({"eventType": "Delivery", "mail": _mail(at, rcpt, mid), "delivery": delivery})
    return out


def bounce_rate_series() -> list[float]:
    """The CloudWatch bounce rates the demo's sweeps see, one per sweep: up, worse, pause level, then
    two calm sweeps (recovery needs two in a row)."""
    return [0.031, 0.045, 0.052, 0.11, 0.01, 0.009]


def setup_dns(dns_peer: Any) -> None:
    dns_peer.load_zone_text(ZONE)
    dns_peer.list_ip(
        "zen.spamhaus.org",
        SENDING_IP,
        code="127.0.0.2",
        txt=f"Listed by SBL, see https://check.spamhaus.org/sbl/query/SBL999999 ({SENDING_IP})",
    )


def setup_aws(aws_peer: Any, now: datetime) -> None:
    """The account as the demo starts: in the sandbox, sender domain verified with Easy DKIM."""
    aws_peer.set_account(
        region=REGION,
        production_access=False,
        max_24h=200,
        max_rate=1,
        sent_last_24h=37,
        review_status="PENDING",
    )
    aws_peer.set_identity(
        SENDER_DOMAIN, region=REGION, verified=True, dkim_status="SUCCESS", dkim_tokens=list(DKIM_TOKENS)
    )
    aws_peer.suppress(
        RECIPIENTS["suppressed"],
        reason="BOUNCE",
        region=REGION,
        last_update=now - timedelta(days=3),
        message_id="0100018demo-suppressed-000000",
    )
    setup_vdm_and_tenant(aws_peer, now)


def setup_vdm_and_tenant(aws_peer: Any, now: datetime) -> None:
    """Virtual Deliverability Manager on, with SES's timeline of the hard-bounced message; the tenant
    `shop-eu` disabled by SES's reputation policy."""
    aws_peer.set_account(region=REGION, vdm_enabled=True)
    aws_peer.add_message_insights(
        HARD_BOUNCE_MESSAGE_ID,
        region=REGION,
        from_address=SENDER,
        subject="Your weekly digest",
        insights=[
            {
                "Destination": RECIPIENTS["hard_bounce"],
                "Isp": "Gmail",
                "Events": [
                    {"Timestamp": now - timedelta(hours=5, seconds=3), "Type": "SEND"},
                    {
                        "Timestamp": now - timedelta(hours=5),
                        "Type": "BOUNCE",
                        "Details": {
                            "Bounce": {
                                "BounceType": "PERMANENT",
                                "BounceSubType": "General",
                                "DiagnosticCode": HARD_BOUNCE_TEXT,
                            }
                        },
                    },
                ],
            }
        ],
    )
    tenant_arn = aws_peer.add_tenant(TENANT, region=REGION, sending_status="DISABLED")
    aws_peer.set_reputation_entity(
        tenant_arn,
        region=REGION,
        aws_status="DISABLED",
        aws_cause=TENANT_CAUSE,
        impact="HIGH",
        updated=now - timedelta(hours=20),
    )


def go_to_production(aws_peer: Any) -> None:
    aws_peer.set_account(
        region=REGION,
        production_access=True,
        max_24h=50000,
        max_rate=14,
        sent_last_24h=12840,
        review_status="GRANTED",
    )
