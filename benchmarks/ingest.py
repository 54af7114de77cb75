"""Ingest speed: realistic SES notifications from files into a fresh database, against this machine's ceiling.

    .venv/bin/python benchmarks/ingest.py                 # 200,000 notifications (the issue's figure)
    .venv/bin/python benchmarks/ingest.py --docs 20000    # quicker

What is measured, in one run (the machine's speed moves with its load, so only the ratio is compared):

* **ingest**: `bot.ingest.ingest_paths` on JSON-lines files (half SNS envelopes with the SES document as a
  JSON string, half bare Firehose-style events), into a fresh database: parse, unwrap, classify, id, write
  (problem events, `seen` ids, hourly counters, each recipient's latest delivery) -- everything the bot does,
  as `sesbot ingest` does it (big JSON-lines files are parsed by parser processes while one process writes);
* **ceiling**: the least any implementation must do with the same input and output: `orjson` parse of every
  line (and of every envelope's `Message`) plus one `executemany` transaction inserting the very same rows
  (`events` rows, `seen` ids, and one `last_delivery` row per delivered recipient) into a fresh database with
  the same schema.

The mix (per 100 notifications): 30 Send, 28 Delivery, 15 Open, 6 Click, 9 Bounce (varied diagnostics, some
naming a blocklist), 1 Complaint, 5 DeliveryDelay, 2 Reject, 2 Rendering Failure, 2 Subscription; about 3 KB
each with headers, like real notifications. Each run is done twice, the best kept. Target: ratio >= 0.6.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import classify as classify_module  # noqa: E402
from bot import events as events_module  # noqa: E402
from bot.events import EVENT_COLUMNS, Extracted, extract  # noqa: E402
from bot.ingest import ingest_paths, parser_processes  # noqa: E402
from bot.store import Store  # noqa: E402

DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "example.com", "example.org", "corp.example.net"]
DOMAINS += [f"company{i}.example" for i in range(200)]
DIAGNOSTICS = [
    "smtp; 550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table",
    "smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking "
    "the recipient's email address for typos or unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser",
    "smtp; 552 5.2.2 <{r}>: user is over quota",
    "smtp; 554 5.7.1 Service unavailable; Client host [54.240.{a}.{b}] blocked using zen.spamhaus.org; "
    "https://www.spamhaus.org/query/ip/54.240.{a}.{b}",
    "smtp; 550 5.7.606 Access denied, banned sending IP [54.240.{a}.{b}]. To request removal from this list "
    "please visit https://sender.office.com/ and follow the directions.",
    "smtp; 554 5.7.1 Message rejected because of unacceptable content. For help, contact postmaster",
    "smtp; 550 5.7.26 This message does not pass authentication checks (SPF and DKIM both do not pass).",
    "smtp; 421 4.7.0 [TSS04] Messages from 54.240.{a}.{b} temporarily deferred due to user complaints",
    "Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an "
    "invalid address.",
]
DELAYS = [
    ("TransientCommunicationFailure", "4.4.1", "smtp; 421 4.4.1 Unable to connect to remote host"),
    ("MailboxFull", "4.2.2", "smtp; 452 4.2.2 <{r}> Mailbox full"),
    ("IPFailure", "4.7.1", "smtp; 451 4.7.1 Client host [54.240.{a}.{b}] temporarily blocked: RBL listed"),
    ("SpamDetected", "4.7.0", "smtp; 450 4.7.0 Message looks like spam, try again later"),
]
MIX = (
    ["Send"] * 30
    + ["Delivery"] * 28
    + ["Open"] * 15
    + ["Click"] * 6
    + ["Bounce"] * 9
    + ["Complaint"] * 1
    + ["DeliveryDelay"] * 5
    + ["Reject"] * 2
    + ["Rendering Failure"] * 2
    + ["Subscription"] * 2
)


def _ts(rng: random.Random, base: float) -> str:
    t = base + rng.random() * 86400 * 3
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{rng.randrange(1000):03d}Z"


def make_doc(i: int, rng: random.Random, base: float) -> dict:
    etype = rng.choice(MIX)
    domain = rng.choice(DOMAINS)
    recipient = f"user{rng.randrange(500_000)}@{domain}"
    mail_ts = _ts(rng, base)
    message_id = f"0100018{i:09x}-{rng.getrandbits(64):016x}-{rng.getrandbits(32):08x}-000000"
    subject = "Your weekly digest from Example Corp: " + " ".join(rng.choice(("news", "deals", "updates")) * 3)
    headers = [
        {
            "name": "Received",
            "value": f"from mail.example.com (mail.example.com [203.0.113.{i % 250}]) by "
            "email-smtp.amazonaws.com with SMTP (SimpleEmailService-d-ABCDEFGHI) id " + message_id,
        },
        {"name": "From", "value": "Example Corp <news@mail.example.com>"},
        {"name": "Reply-To", "value": "support@example.com"},
        {"name": "To", "value": recipient},
        {"name": "Subject", "value": subject},
        {"name": "Date", "value": "Sat, 01 Jun 2024 10:00:00 +0000"},
        {"name": "Message-ID", "value": f"<{message_id}@email.amazonses.com>"},
        {"name": "MIME-Version", "value": "1.0"},
        {
            "name": "Content-Type",
            "value": 'multipart/alternative; boundary="----=_Part_1234567_89012345.1717236000000"',
        },
        {"name": "List-Unsubscribe", "value": f"<https://example.com/unsubscribe?u={rng.getrandbits(96):024x}>"},
        {"name": "List-Unsubscribe-Post", "value": "List-Unsubscribe=One-Click"},
        {"name": "X-SES-CONFIGURATION-SET", "value": "newsletter"},
        {"name": "X-SES-MESSAGE-TAGS", "value": "campaign=weekly-2024-22, segment=active"},
        {
            "name": "DKIM-Signature",
            "value": "v=1; a=rsa-sha256; q=dns/txt; c=relaxed/simple; s=abcdefghijklmnop; "
            "d=mail.example.com; t=1717236000; h=From:Reply-To:To:Subject:Date:Message-ID:MIME-Version:Content-Type; "
            f"bh={rng.getrandbits(256):064x}=; b={rng.getrandbits(1024):0256x}",
        },
    ]
    mail = {
        "timestamp": mail_ts,
        "source": "Example Corp <news@mail.example.com>",
        "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/mail.example.com",
        "sendingAccountId": "123456789012",
        "messageId": message_id,
        "destination": [recipient],
        "headersTruncated": False,
        "headers": headers,
        "commonHeaders": {
            "from": ["Example Corp <news@mail.example.com>"],
            "replyTo": ["support@example.com"],
            "date": "Sat, 01 Jun 2024 10:00:00 +0000",
            "to": [recipient],
            "messageId": message_id,
            "subject": subject,
        },
        "tags": {
            "ses:configuration-set": ["newsletter"],
            "ses:source-ip": ["203.0.113.10"],
            "ses:from-domain": ["mail.example.com"],
            "ses:caller-identity": ["newsletter-sender"],
            "ses:outgoing-ip": [f"54.240.{i % 4}.{i % 200}"],
            "campaign": ["weekly-2024-22"],
        },
    }
    doc: dict = {"eventType": etype, "mail": mail}
    ev_ts = _ts(rng, base)
    a, b = i % 4, i % 200
    if etype == "Send":
        doc["send"] = {}
    elif etype == "Delivery":
        doc["delivery"] = {
            "timestamp": ev_ts,
            "processingTimeMillis": rng.randrange(200, 5000),
            "recipients": [recipient],
            "smtpResponse": "250 2.0.0 OK  1717236000 abc123def456.12 - gsmtp",
            "remoteMtaIp": "142.250.1.26",
            "reportingMTA": f"a8-{b}.smtp-out.amazonses.com",
        }
    elif etype in ("Open", "Click"):
        detail = {
            "timestamp": ev_ts,
            "ipAddress": "198.51.100.7",
            "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5",
        }
        if etype == "Click":
            detail.update(link=f"https://example.com/article/{rng.randrange(50)}", linkTags={"campaign": ["weekly"]})
        doc[etype.lower()] = detail
    elif etype == "Bounce":
        text = rng.choice(DIAGNOSTICS).format(r=recipient, a=a, b=b)
        subtype = "OnAccountSuppressionList" if text.startswith("Amazon SES has suppressed") else "General"
        doc["bounce"] = {
            "bounceType": "Permanent" if " 5." in text or subtype != "General" else "Transient",
            "bounceSubType": subtype,
            "bouncedRecipients": [
                {"emailAddress": recipient, "action": "failed", "status": "5.0.0", "diagnosticCode": text}
            ],
            "timestamp": ev_ts,
            "feedbackId": f"0100018{i:09x}-{rng.getrandbits(64):016x}-000000",
            "remoteMtaIp": "198.51.100.25",
            "reportingMTA": "dsn; a8-30.smtp-out.amazonses.com",
        }
    elif etype == "Complaint":
        doc["complaint"] = {
            "complainedRecipients": [{"emailAddress": recipient}],
            "timestamp": ev_ts,
            "feedbackId": f"0100018{i:09x}-{rng.getrandbits(64):016x}-000000",
            "complaintFeedbackType": "abuse",
            "userAgent": "Yahoo!-Mail-Feedback/2.0",
        }
    elif etype == "DeliveryDelay":
        delay_type, status, text = rng.choice(DELAYS)
        doc["deliveryDelay"] = {
            "timestamp": ev_ts,
            "delayType": delay_type,
            "expirationTime": ev_ts,
            "delayedRecipients": [
                {"emailAddress": recipient, "status": status, "diagnosticCode": text.format(r=recipient, a=a, b=b)}
            ],
        }
    elif etype == "Reject":
        doc["reject"] = {"reason": "Bad content"}
    elif etype == "Rendering Failure":
        doc["failure"] = {
            "templateName": "weekly",
            "errorMessage": "Attribute 'name' is not present in the rendering data.",
        }
    elif etype == "Subscription":
        doc["subscription"] = {
            "contactList": "news",
            "timestamp": ev_ts,
            "source": "UnsubscribeHeader",
            "newTopicPreferences": {"unsubscribeAll": True},
        }
    return doc


def envelope(doc: dict, i: int) -> dict:
    return {
        "Type": "Notification",
        "MessageId": f"{i:08x}-aaaa-5bbb-8ccc-{i:012x}",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:ses-events",
        "Message": orjson.dumps(doc).decode(),
        "Timestamp": doc["mail"]["timestamp"],
        "SignatureVersion": "1",
        "Signature": "EXAMPLE"
        + "pH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkk" * 2,
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:123456789012:ses-events:1",
    }


def write_files(folder: Path, n: int, files: int) -> list[Path]:
    rng = random.Random(42)
    base = time.time() - 86400 * 4
    paths = [folder / f"notifications-{k}.jsonl" for k in range(files)]
    handles = [p.open("wb") for p in paths]
    for i in range(n):
        doc = make_doc(i, rng, base)
        if i % 2:
            doc = envelope(doc, i)
        handles[i % files].write(orjson.dumps(doc) + b"\n")
    for h in handles:
        h.close()
    return paths


def ceiling(
    paths: list[Path], events: list[tuple], seen: list[tuple], last: list[tuple], db: str
) -> tuple[float, float]:
    """orjson parse of every line (+ the inner Message) and one executemany transaction of the same rows."""
    store = Store(db)
    conn = store.conn
    cols = ", ".join(EVENT_COLUMNS)
    marks = ", ".join("?" for _ in EVENT_COLUMNS)
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        with path.open("rb") as f:
            for line in f:
                doc = orjson.loads(line)
                message = doc.get("Message")
                if message is not None:
                    orjson.loads(message)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(f"INSERT INTO events ({cols}) VALUES ({marks})", events)
    conn.executemany("INSERT INTO seen (id, at) VALUES (?, ?)", seen)
    conn.executemany("INSERT INTO last_delivery (recipient, at) VALUES (?, ?)", last)
    conn.execute("COMMIT")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    store.close()
    return elapsed, cpu


def ingest(paths: list[Path], db: str) -> tuple[float, float, dict]:
    classify_module.cache_clear()  # no help from a previous run's caches
    events_module._classify.cache_clear()
    events_module._sending_ip_in.cache_clear()
    store = Store(db)
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    result = ingest_paths(store, [str(p) for p in paths])
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    store.close()
    return elapsed, cpu, result.as_dict()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=200_000, help="notifications to generate (default 200000)")
    parser.add_argument("--files", type=int, default=4, help="files to spread them over")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each measurement; the best is kept")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="sesbot-bench-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        paths = write_files(folder, args.docs, args.files)
        size = sum(p.stat().st_size for p in paths)
        print(
            f"input: {args.docs:,} notifications in {args.files} files, {size / 1e6:.0f} MB "
            f"({size / args.docs / 1000:.1f} KB each), generated in {time.perf_counter() - t0:.1f} s"
        )

        # The rows the bot writes, extracted once (untimed) so the ceiling inserts exactly the same.
        ex = Extracted()
        for p in paths:
            with p.open("rb") as f:
                for line in f:
                    extract(line, ex, "2024-06-01T00:00:00.000Z")
        seen_rows = [(c[0], "2024-06-01T00:00:00.000Z") for c in ex.counts]
        latest: dict[str, str] = {}
        for recipient, at in ex.deliveries:
            latest[recipient] = max(at, latest.get(recipient, at))
        last_rows = list(latest.items())  # the end state only: the least any implementation must write
        records = len(ex.events) + len(ex.counts)
        print(f"records: {len(ex.events):,} problem events + {len(ex.counts):,} counted = {records:,}")

        best = {"ceiling": float("inf"), "ingest": float("inf")}
        best_cpu = dict(best)
        result: dict = {}
        for r in range(args.repeat):
            wall, cpu = ceiling(paths, ex.events, seen_rows, last_rows, os.path.join(tmp, f"c{r}.db"))
            best["ceiling"], best_cpu["ceiling"] = min(best["ceiling"], wall), min(best_cpu["ceiling"], cpu)
            wall, cpu, result = ingest(paths, os.path.join(tmp, f"i{r}.db"))
            best["ingest"], best_cpu["ingest"] = min(best["ingest"], wall), min(best_cpu["ingest"], cpu)
        print(f"ingest result: {result}")
        for name in ("ingest", "ceiling"):
            t = best[name]
            print(
                f"{name:7}: {args.docs / t:10,.0f} notifications/s  ({records / t:,.0f} records/s, {t:.2f} s wall, "
                f"{best_cpu[name]:.2f} s CPU)"
            )
        ratio = best["ceiling"] / best["ingest"]
        workers = max(parser_processes(str(p)) for p in paths)
        print(
            f"ratio  : {ratio:.2f} wall  (target >= 0.60: {'met' if ratio >= 0.6 else 'NOT met'}); ingest parsed "
            + (
                f"with {workers} parser processes, so its CPU above is the writing process's only"
                if workers > 1
                else "in one process"
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
