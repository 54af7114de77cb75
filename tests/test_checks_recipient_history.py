"""The history checks, on SES event-publishing notifications ingested through the real ingest path.

The documents have the shape of the AWS Developer Guide's examples (../shared/corpus/ses-notifications/),
with the recipient, times and diagnostic texts of each scenario.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

import bot.checks.all  # noqa: F401  (registers every check, in report order)
from bot.checks import REGISTRY, checks_for
from bot.classify import classify
from bot.deps import Deps
from bot.findings import Finding
from bot.history import domain_blocklist_events
from bot.ingest import ingest_documents
from bot.runner import run_checks
from bot.settings import Settings
from bot.store import Store, iso

RECIPIENT = "jo@example.com"
WINDOW = "Looked at the last 30 days of the bot's event history."
UNKNOWN_USER = "smtp; 550 5.1.1 <jo@example.com>: Recipient address rejected: User unknown in virtual mailbox table"
SPAMHAUS = (
    "smtp; 554 5.7.1 Service unavailable; Client host [54.240.8.10] blocked using zen.spamhaus.org; "
    "https://www.spamhaus.org/query/ip/54.240.8.10"
)
MAILBOX_FULL = "smtp; 452 4.2.2 The email account that you tried to reach is over quota."


@pytest.fixture
def deps(tmp_path) -> Deps:
    """History checks need no peers: only a store."""
    settings = Settings.from_env({"AWS_REGION": "us-east-1", "SESBOT_SENDER": "news@mail.example.com"})
    store = Store(str(tmp_path / "history.db"))
    yield Deps.build(settings, store=store)
    store.close()


# -- SES documents -----------------------------------------------------------------------------------


def _ts(dt: datetime) -> str:
    return iso(dt)


def _mail(recipient: str, when: datetime, message_id: str) -> dict[str, Any]:
    return {
        "timestamp": _ts(when - timedelta(seconds=2)),
        "source": "news@mail.example.com",
        "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/mail.example.com",
        "sendingAccountId": "123456789012",
        "messageId": message_id,
        "destination": [recipient],
        "headersTruncated": False,
        "tags": {"ses:configuration-set": ["ConfigSet"]},
    }


def _id() -> str:
    return f"0100018f{uuid.uuid4().hex[:8]}-{uuid.uuid4()}-000000"


def bounce(
    recipient: str,
    when: datetime,
    diagnostic: str | None,
    *,
    kind: str = "Permanent",
    subtype: str = "General",
    status: str = "5.1.1",
    message_id: str | None = None,
) -> dict[str, Any]:
    entry = {"emailAddress": recipient, "action": "failed", "status": status}
    if diagnostic is not None:
        entry["diagnosticCode"] = diagnostic
    return {
        "eventType": "Bounce",
        "mail": _mail(recipient, when, message_id or _id()),
        "bounce": {
            "bounceType": kind,
            "bounceSubType": subtype,
            "bouncedRecipients": [entry],
            "timestamp": _ts(when),
            "feedbackId": _id(),
            "reportingMTA": "dsn; a8-70.smtp-out.amazonses.com",
            "remoteMtaIp": "192.0.2.25",
        },
    }


def complaint(
    recipient: str, when: datetime, feedback_type: str | None = "abuse", *, subtype: str | None = None
) -> dict[str, Any]:
    """A Complaint event; `feedback_type` None leaves complaintFeedbackType out (as SES does for a
    suppression-list complaint), `subtype` sets complaintSubType."""
    doc: dict[str, Any] = {
        "eventType": "Complaint",
        "mail": _mail(recipient, when, _id()),
        "complaint": {
            "complainedRecipients": [{"emailAddress": recipient}],
            "timestamp": _ts(when),
            "feedbackId": _id(),
            "userAgent": "Mozilla/5.0",
            "arrivalDate": _ts(when - timedelta(minutes=5)),
        },
    }
    if feedback_type is not None:
        doc["complaint"]["complaintFeedbackType"] = feedback_type
    if subtype is not None:
        doc["complaint"]["complaintSubType"] = subtype
    return doc


def delay(
    recipient: str,
    when: datetime,
    expires: datetime,
    delay_type: str = "TransientCommunicationFailure",
    diagnostic: str = "smtp; 421 4.4.1 Unable to connect to remote host",
    message_id: str | None = None,
) -> dict[str, Any]:
    return {
        "eventType": "DeliveryDelay",
        "mail": _mail(recipient, when, message_id or _id()),
        "deliveryDelay": {
            "timestamp": _ts(when),
            "delayType": delay_type,
            "expirationTime": _ts(expires),
            "delayedRecipients": [{"emailAddress": recipient, "status": "4.4.1", "diagnosticCode": diagnostic}],
        },
    }


def reject(recipient: str, when: datetime) -> dict[str, Any]:
    return {"eventType": "Reject", "mail": _mail(recipient, when, _id()), "reject": {"reason": "Bad content"}}


def rendering_failure(recipient: str, when: datetime, template: str, variable: str) -> dict[str, Any]:
    return {
        "eventType": "Rendering Failure",
        "mail": _mail(recipient, when, _id()),
        "failure": {
            "errorMessage": f"Attribute '{variable}' is not present in the rendering data.",
            "templateName": template,
        },
    }


def ingest(deps: Deps, *docs: dict[str, Any]) -> None:
    result = ingest_documents(deps.store, list(docs), origin="test")
    assert (result.ingested, result.quarantined) == (len(docs), 0)


def delivery(recipient: str, when: datetime, message_id: str | None = None) -> dict[str, Any]:
    """A Delivery event: the ingest counts it and moves the recipient's latest delivery time forward."""
    return {
        "eventType": "Delivery",
        "mail": _mail(recipient, when, message_id or _id()),
        "delivery": {
            "timestamp": _ts(when),
            "processingTimeMillis": 1203,
            "recipients": [recipient],
            "smtpResponse": "250 2.6.0 Message received",
            "remoteMtaIp": "192.0.2.26",
            "reportingMTA": "a8-70.smtp-out.amazonses.com",
        },
    }


def run(deps: Deps, check_id: str, target: str = RECIPIENT) -> list[Finding]:
    checks = [c for c in REGISTRY if c.id == check_id]
    report, _ = run_checks(deps, target, checks=checks)
    return report.findings


def ago(**kw: float) -> datetime:
    return datetime.now().astimezone() - timedelta(**kw)


# -- recipient.bounces -------------------------------------------------------------------------------


def test_no_bounces_pass_and_say_the_window(deps):
    [f] = run(deps, "recipient.bounces")
    assert (f.severity.label, f.summary, f.evidence) == (
        "ok",
        "No bounces to jo@example.com in the history.",
        [WINDOW],
    )


def test_the_latest_hard_bounce_is_critical_in_the_remote_servers_words(deps):
    when = ago(hours=5)
    doc = bounce(RECIPIENT, when, UNKNOWN_USER, message_id="0100018f-hard-1")
    ingest(deps, bounce(RECIPIENT, ago(days=3), UNKNOWN_USER), doc)
    [f] = run(deps, "recipient.bounces")
    stamp = _ts(when)[:16].replace("T", " ")  # the store's UTC time, to the minute
    assert (f.severity.label, f.summary) == (
        "critical",
        f"jo@example.com hard-bounced {stamp} UTC (5 hours ago) (unknown_user): "
        '"smtp; 550 5.1.1 <jo@example.com>: Recipient address rejected: User unknown in virtual mailbox '
        'table"',
    )
    assert f.evidence[:8] == [
        f"Latest hard bounce: {stamp} UTC (5 hours ago) (Permanent/General)",
        "Category: unknown_user — The recipient address does not exist or no longer accepts mail (unknown, "
        "disabled or moved mailbox).",
        f'Remote server said: "{UNKNOWN_USER}"',
        "Status: 5.1.1",
        "Remote MTA: 192.0.2.25",
        "Reporting MTA: dsn; a8-70.smtp-out.amazonses.com",
        "Message ID: 0100018f-hard-1",
        "Sender: news@mail.example.com",
    ]
    assert f.evidence[8].startswith("2 hard bounces in the window; earlier ones: ")
    assert f.evidence[-1] == WINDOW
    assert f.fix.startswith("Remove the address or fix the typo; do not retry it.")
    assert f.data["category"] == "unknown_user"


def test_a_long_diagnostic_is_cut_at_a_word_boundary(deps):
    text = "smtp; 550 5.7.1 " + " ".join(["this message was refused by our local policy"] * 20)
    ingest(deps, bounce(RECIPIENT, ago(hours=1), text, status="5.7.1"))
    [f] = run(deps, "recipient.bounces")
    quoted = f.evidence[2]
    assert quoted.startswith('Remote server said: "smtp; 550 5.7.1 this message')
    assert quoted.endswith('…"')
    assert len(quoted) < 340
    assert len(f.summary) < 260


def test_soft_bounces_are_warnings_counted_per_category(deps):
    ingest(
        deps,
        bounce(RECIPIENT, ago(hours=30), MAILBOX_FULL, kind="Transient", subtype="MailboxFull", status="4.2.2"),
        bounce(RECIPIENT, ago(hours=20), MAILBOX_FULL, kind="Transient", subtype="MailboxFull", status="4.2.2"),
        bounce(
            RECIPIENT,
            ago(hours=2),
            "smtp; 421 4.7.0 Try again later, closing connection.",
            kind="Transient",
            subtype="General",
            status="4.7.0",
        ),
    )
    [f] = run(deps, "recipient.bounces")
    assert f.severity.label == "warning"
    assert f.summary.startswith("3 soft bounces to jo@example.com (mailbox_full ×2, ")
    assert f.summary.endswith("the latest " + f.evidence[0].split(": ")[0] + ".")
    assert len(f.evidence) == 4 and f.evidence[-1] == WINDOW
    assert f.data["soft"] == 3 and f.data["categories"]["mailbox_full"] == 2


def test_a_delivery_after_the_last_hard_bounce_lowers_it_to_a_warning(deps):
    ingest(deps, bounce(RECIPIENT, ago(days=2), UNKNOWN_USER), delivery(RECIPIENT, ago(hours=3)))
    [f] = run(deps, "recipient.bounces")
    assert f.severity.label == "warning"
    assert " — but a later message was delivered " in f.summary
    assert f.evidence[0].startswith("Delivered after the bounce: ")
    assert f.data["delivered_after"] is True


def test_a_delivery_before_the_last_hard_bounce_leaves_it_critical(deps):
    ingest(deps, delivery(RECIPIENT, ago(days=3)), bounce(RECIPIENT, ago(days=2), UNKNOWN_USER))
    [f] = run(deps, "recipient.bounces")
    assert (f.severity.label, f.data["delivered_after"]) == ("critical", False)
    assert " — but a later message was delivered " not in f.summary
    assert f.evidence[0].startswith("Latest hard bounce: ")


def test_a_delivery_after_the_soft_bounces_lowers_them_to_info_whatever_the_case_of_the_address(deps):
    delivered_at = ago(hours=2)
    ingest(
        deps,
        bounce(RECIPIENT, ago(hours=5), MAILBOX_FULL, kind="Transient", subtype="MailboxFull", status="4.2.2"),
        delivery("Jo@Example.COM", delivered_at),
    )
    [f] = run(deps, "recipient.bounces", target="JO@example.com")
    stamp = _ts(delivered_at)[:16].replace("T", " ")
    assert f.severity.label == "info"
    assert f.summary.endswith(f". A later message was delivered {stamp} UTC (2 hours ago).")


SUPPRESSED_TEXT = (
    "Amazon SES did not send the message to this address because it is on the suppression list for your account."
)


def test_suppression_list_drops_alone_are_an_error_pointing_at_the_suppression_check(deps):
    ingest(deps, bounce(RECIPIENT, ago(hours=1), SUPPRESSED_TEXT, subtype="OnAccountSuppressionList"))
    [f] = run(deps, "recipient.bounces")
    assert (f.severity.label, f.data) == ("error", {"dropped": 1, "global_suppression": 0, "category": "suppressed"})
    assert f.summary.startswith(
        "SES dropped 1 send to jo@example.com without trying to deliver, because the address is on a "
        "suppression list (the latest "
    )
    assert f.fix.startswith("See recipient.suppressed for why it is on the list and how to remove it.")


def test_the_verdict_quotes_the_real_bounce_not_the_later_suppression_drops(deps):
    ingest(
        deps,
        bounce(RECIPIENT, ago(days=3), UNKNOWN_USER),
        bounce(RECIPIENT, ago(hours=30), SUPPRESSED_TEXT, subtype="OnAccountSuppressionList"),
    )
    [f] = run(deps, "recipient.bounces")
    assert (f.severity.label, f.data["category"], f.data["dropped"]) == ("critical", "unknown_user", 1)
    assert f.evidence[-2].startswith(
        "Since then SES dropped 1 send without trying (the address is on the suppression list; see "
        "recipient.suppressed), the latest "
    )


GLOBAL_TEXT = (
    "Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an "
    "invalid address."
)
GLOBAL_CLAIM = "no API reads or changes it, and SES takes the address off on its own within 14 days"


def test_a_drop_by_ses_global_suppression_list_names_that_list_and_not_the_account_check(deps):
    ingest(deps, bounce(RECIPIENT, ago(hours=1), GLOBAL_TEXT, subtype="Suppressed"))
    [f] = run(deps, "recipient.bounces")
    assert f.severity.label == "error"
    assert f.summary.startswith(
        "SES dropped 1 send to jo@example.com without trying to deliver, because the address is on SES's "
        "global suppression list (the latest "
    )
    assert f.fix.startswith("On SES's global suppression list (not the account's, which recipient.suppressed reads)")
    assert "See recipient.suppressed" not in f.fix
    # the same claim as the classifier's for that bounce
    assert GLOBAL_CLAIM in f.fix
    assert GLOBAL_CLAIM in classify(GLOBAL_TEXT, bounce_type="Permanent", bounce_subtype="Suppressed").fix
    assert f.data["global_suppression"] == 1


def test_global_suppression_drops_after_a_hard_bounce_say_ses_clears_them(deps):
    ingest(
        deps,
        bounce(RECIPIENT, ago(days=3), UNKNOWN_USER),
        bounce(RECIPIENT, ago(hours=30), GLOBAL_TEXT, subtype="Suppressed"),
    )
    [f] = run(deps, "recipient.bounces")
    assert f.evidence[-2].startswith(
        "Since then SES dropped 1 send without trying (the address is on SES's global suppression list, which "
        "SES clears on its own within 14 days), the latest "
    )


def test_events_older_than_the_window_are_not_counted(deps):
    ingest(deps, bounce(RECIPIENT, ago(days=45), UNKNOWN_USER))
    [f] = run(deps, "recipient.bounces")
    assert f.severity.label == "ok"


def test_an_address_typed_with_capitals_finds_its_history(deps):
    ingest(deps, bounce(RECIPIENT, ago(hours=1), UNKNOWN_USER))
    [f] = run(deps, "recipient.bounces", target="Jo@example.com")
    assert f.severity.label == "critical"


# -- recipient.blocklist -----------------------------------------------------------------------------


def test_a_blocklist_bounce_to_the_recipient_names_the_list_the_ip_and_the_delisting(deps):
    ingest(deps, bounce(RECIPIENT, ago(hours=4), SPAMHAUS, kind="Transient", subtype="General", status="5.7.1"))
    [f] = run(deps, "recipient.blocklist")
    stamp = f.evidence[0].rsplit("latest ", 1)[1]
    assert (f.severity.label, f.summary) == (
        "error",
        f"Mail to jo@example.com was refused {stamp} because the sending IP 54.240.8.10 is on zen.spamhaus.org.",
    )
    assert f.evidence == [
        f"zen.spamhaus.org (ip_blocklist), sending IP 54.240.8.10: 1 bounce/delay, 1 to jo@example.com, latest {stamp}",
        f'Latest text: "{SPAMHAUS}"',
        WINDOW,
    ]

    assert "https://check.spamhaus.org/" in f.fix
    assert "https://docs.aws.amazon.com/ses/latest/dg/dedicated-ip.html" in f.fix
    assert f.data["lists"] == [
        {
            "category": "ip_blocklist",
            "blocklist": "zen.spamhaus.org",
            "sending_ip": "54.240.8.10",
            "count": 1,
            "to_recipient": 1,
            "latest": f.data["lists"][0]["latest"],
        }
    ]


def test_the_blocklist_checks_latest_example_reads_the_recipients_own_index_without_statistics(deps):
    ingest(deps, bounce(RECIPIENT, ago(hours=4), SPAMHAUS, kind="Transient", subtype="General", status="5.7.1"))
    statements: list[str] = []
    deps.store.conn.set_trace_callback(statements.append)
    try:  # what the check asks for its latest example, here on this thread's connection
        [event] = domain_blocklist_events(deps.store, "example.com", since=ago(days=30), recipient=RECIPIENT)
    finally:
        deps.store.conn.set_trace_callback(None)
    assert event["recipient"] == RECIPIENT
    [latest] = [q for q in statements if q.startswith("SELECT * FROM events")]
    plan = [row[3] for row in deps.store.conn.execute(f"EXPLAIN QUERY PLAN {latest}")]
    assert plan == ["SEARCH events USING INDEX events_recipient_ts (recipient=? AND timestamp>?)"], plan


def test_a_hard_blocklist_bounce_is_the_blocklist_cause_with_the_bounce_as_its_evidence(deps):
    ingest(deps, bounce(RECIPIENT, ago(hours=4), SPAMHAUS, status="5.7.1", message_id="m-blocked"))
    report, _ = run_checks(deps, RECIPIENT, checks=[c for c in checks_for("why") if c.id.startswith("recipient.b")])
    verdict = report.verdict
    assert verdict is not None and (verdict.check, verdict.severity.label) == ("recipient.blocklist", "critical")
    stamp = verdict.evidence[0].rsplit("latest ", 1)[1]
    assert verdict.summary == (
        f"Mail to jo@example.com hard-bounced {stamp} because the sending IP 54.240.8.10 is on zen.spamhaus.org."
    )
    assert f"The bounce: {stamp} (Permanent/General)" in verdict.evidence
    assert "Message ID: m-blocked" in verdict.evidence
    assert "https://check.spamhaus.org/" in verdict.fix
    [bounces] = [f for f in report.findings if f.check == "recipient.bounces"]
    assert bounces.severity.label == "info"
    assert bounces.summary.endswith("because of a blocklist listing; recipient.blocklist has the cause.")


def test_a_blocklist_bounce_to_someone_else_at_the_domain_is_a_warning(deps):
    ingest(deps, bounce("sam@example.com", ago(hours=4), SPAMHAUS, status="5.7.1"))
    [f] = run(deps, "recipient.blocklist")
    assert f.severity.label == "warning"
    assert f.summary.startswith("Other mail to @example.com was refused ")
    assert f.summary.endswith(
        "because the sending IP 54.240.8.10 is on zen.spamhaus.org; mail to jo@example.com may meet the same block."
    )


def test_an_ipfailure_delay_counts_as_a_blocklist_signal(deps):
    ingest(
        deps,
        delay(
            RECIPIENT,
            ago(minutes=30),
            ago(minutes=-600),
            delay_type="IPFailure",
            diagnostic="smtp; 421 4.7.0 [TSS04] Messages from 54.240.8.10 temporarily deferred due to "
            "unexpected volume or user complaints",
        ),
    )
    [f] = run(deps, "recipient.blocklist")
    assert f.severity.label == "error"
    assert "IPFailure: the receiving provider is blocking or throttling the sending IP address." in f.evidence


def test_blocklist_bounces_behind_a_thousand_newer_ordinary_bounces_are_still_found_and_all_counted(deps):
    ingest(deps, *(bounce(f"x{i}@example.com", ago(days=2, seconds=i), SPAMHAUS, status="5.7.1") for i in range(1200)))
    ingest(deps, *(bounce(f"u{i}@example.com", ago(hours=2, seconds=i), UNKNOWN_USER) for i in range(1000)))
    [f] = run(deps, "recipient.blocklist")
    assert f.severity.label == "warning"
    assert f.evidence[0].startswith(
        "zen.spamhaus.org (ip_blocklist), sending IP 54.240.8.10: 1200 bounce/delays, 0 to jo@example.com, latest "
    )
    assert [g["count"] for g in f.data["lists"]] == [1200]


def test_ordinary_bounces_are_no_blocklist_signal(deps):
    ingest(deps, bounce(RECIPIENT, ago(hours=4), UNKNOWN_USER))
    [f] = run(deps, "recipient.blocklist")
    assert (f.severity.label, f.summary) == (
        "ok",
        "No bounce or delay to jo@example.com or @example.com points at a blocklist.",
    )


# -- recipient.complaints ----------------------------------------------------------------------------


def test_a_complaint_is_an_error(deps):
    ingest(deps, complaint(RECIPIENT, ago(days=1)))
    [f] = run(deps, "recipient.complaints")
    assert f.severity.label == "error"
    assert f.summary.startswith("jo@example.com marked your mail as spam (1 complaint, the latest ")
    assert f.evidence[0].endswith(", feedback type abuse, message " + f.evidence[0].rsplit("message ", 1)[1])
    assert "0.1%" in f.fix


def test_not_spam_feedback_is_only_info(deps):
    ingest(deps, complaint(RECIPIENT, ago(days=1), feedback_type="not-spam"))
    [f] = run(deps, "recipient.complaints")
    assert f.severity.label == "info"


def test_a_suppression_list_complaint_says_ses_did_not_send_and_points_at_the_suppression_check(deps):
    ingest(deps, complaint(RECIPIENT, ago(hours=1), None, subtype="OnAccountSuppressionList"))
    [f] = run(deps, "recipient.complaints")
    assert f.severity.label == "error"
    assert f.summary.startswith(
        "SES did not send 1 message to jo@example.com because the address is on the account suppression list "
        "(complaint subtype OnAccountSuppressionList: no complaint from the recipient, not counted toward the "
        "complaint rate), the latest "
    )
    assert "spam" not in f.summary
    assert f.fix.startswith("See recipient.suppressed for why it is on the list and how to remove it.")
    assert "counts toward" not in f.fix
    assert ", subtype OnAccountSuppressionList, message " in f.evidence[0]
    assert (f.data["complaints"], f.data["suppression_list"]) == (0, 1)


def test_a_real_complaint_beside_a_suppression_list_one_counts_only_the_real_one(deps):
    ingest(
        deps,
        complaint(RECIPIENT, ago(hours=1), None, subtype="OnAccountSuppressionList"),
        complaint(RECIPIENT, ago(days=2)),
    )
    [f] = run(deps, "recipient.complaints")
    assert f.severity.label == "error"
    assert f.summary.startswith("jo@example.com marked your mail as spam (1 complaint, the latest ")
    assert " SES did not send 1 message to jo@example.com because the address is on the account " in f.summary
    assert (f.data["complaints"], f.data["suppression_list"]) == (1, 1)


def test_not_spam_feedback_beside_complaints_is_said_apart_and_not_counted_as_spam(deps):
    ingest(
        deps,
        complaint(RECIPIENT, ago(hours=1), feedback_type="not-spam"),
        complaint(RECIPIENT, ago(hours=2), feedback_type="not-spam"),
        complaint(RECIPIENT, ago(days=2)),
    )
    [f] = run(deps, "recipient.complaints")
    assert f.severity.label == "error"
    assert f.summary.startswith("jo@example.com marked your mail as spam (1 complaint, the latest ")
    assert "; 2 reported as not spam, the latest " in f.summary
    assert (f.data["complaints"], f.data["not_spam"]) == (1, 2)


def test_no_complaints_pass(deps):
    [f] = run(deps, "recipient.complaints")
    assert (f.severity.label, f.summary) == ("ok", "No complaints from jo@example.com in the history.")


# -- recipient.delays --------------------------------------------------------------------------------


def test_a_pending_delay_is_a_warning_with_its_type_and_expiry(deps):
    ingest(deps, delay(RECIPIENT, ago(minutes=20), ago(hours=-7), message_id="0100018f-delayed"))
    [f] = run(deps, "recipient.delays")
    assert f.severity.label == "warning"
    assert f.summary.startswith(
        "SES is still retrying 1 message to jo@example.com: delayed by TransientCommunicationFailure (a "
        "temporary communication failure with the recipient's mail server), until "
    )
    assert f.summary.endswith("(in 6 hours).")
    assert f.evidence[0].endswith("; message 0100018f-delayed")
    assert f.evidence[1] == '  Remote server said: "smtp; 421 4.4.1 Unable to connect to remote host"'
    assert f.data["delay_type"] == "TransientCommunicationFailure"


def test_a_pending_ipfailure_delay_explains_the_ip_block(deps):
    ingest(
        deps,
        delay(
            RECIPIENT,
            ago(minutes=20),
            ago(hours=-7),
            delay_type="IPFailure",
            diagnostic="smtp; 421 4.7.0 IP not in whitelist for RCPT domain, closing connection.",
        ),
    )
    [f] = run(deps, "recipient.delays")
    assert f.severity.label == "warning"
    assert "delayed by IPFailure (the receiving provider is blocking or throttling the sending IP address)" in (
        f.summary
    )
    assert f.fix.startswith("IPFailure means the receiving provider blocks or throttles the SES sending IP")


def test_an_expired_or_settled_delay_is_only_info(deps):
    settled = "0100018f-later-bounced"
    ingest(
        deps,
        delay(RECIPIENT, ago(days=3), ago(days=2)),  # expired
        delay(RECIPIENT, ago(hours=5), ago(hours=-10), message_id=settled),
        bounce(RECIPIENT, ago(hours=1), MAILBOX_FULL, kind="Transient", subtype="MailboxFull", message_id=settled),
    )
    [f] = run(deps, "recipient.delays")
    assert (f.severity.label, f.data) == (
        "info",
        {"pending": 0, "past": {"TransientCommunicationFailure": 2}},
    )
    assert f.summary == (
        "2 earlier delivery delays to jo@example.com (TransientCommunicationFailure ×2), none still pending."
    )


def test_a_delay_followed_by_a_delivery_to_the_address_is_no_longer_pending(deps):
    ingest(
        deps,
        delay(RECIPIENT, ago(hours=5), ago(hours=-10)),
        delivery(RECIPIENT, ago(hours=1)),
    )
    [f] = run(deps, "recipient.delays")
    assert (f.severity.label, f.data["pending"]) == ("info", 0)


def test_a_delivery_before_the_delay_leaves_it_pending(deps):
    ingest(
        deps,
        delivery(RECIPIENT, ago(hours=6)),
        delay(RECIPIENT, ago(hours=5), ago(hours=-10)),
    )
    [f] = run(deps, "recipient.delays")
    assert (f.severity.label, f.data["pending"]) == ("warning", 1)


# -- recipient.rejects and recipient.rendering -------------------------------------------------------


def test_a_reject_is_critical_and_says_ses_found_a_virus(deps):
    ingest(deps, reject(RECIPIENT, ago(hours=2)))
    [f] = run(deps, "recipient.rejects")
    assert f.severity.label == "critical"  # nothing was sent, and nothing was delivered since
    assert f.summary.startswith(
        "SES rejected 1 message to jo@example.com without sending "
        '(reason "Bad content": SES found a virus in '
        "the message), the latest "
    )


def test_a_rendering_failure_names_the_template_and_the_missing_variable(deps):
    ingest(
        deps,
        rendering_failure(RECIPIENT, ago(hours=3), "WelcomeEmail", "first_name"),
        rendering_failure(RECIPIENT, ago(hours=1), "WelcomeEmail", "first_name"),
    )
    [f] = run(deps, "recipient.rendering")
    assert f.severity.label == "critical"
    assert f.summary.startswith(
        "Template WelcomeEmail failed to render for jo@example.com: the variable 'first_name' is not in the "
        "send's template data, so nothing was sent (2 failures, the latest "
    )
    assert f.evidence[0].startswith("Template WelcomeEmail: variable 'first_name' missing, 2 failures, latest ")
    assert f.data == {"failures": 2, "template": "WelcomeEmail", "missing_variable": "first_name"}
    assert "--template-name WelcomeEmail" in f.fix


def test_a_reject_or_rendering_failure_followed_by_a_delivery_is_a_warning_not_the_cause(deps):
    delivered_at = ago(hours=1)
    ingest(
        deps,
        reject(RECIPIENT, ago(hours=5)),
        rendering_failure(RECIPIENT, ago(hours=4), "WelcomeEmail", "first_name"),
        delivery(RECIPIENT, delivered_at),
    )
    found = run(deps, "recipient.rejects") + run(deps, "recipient.rendering")
    assert [f.severity.label for f in found] == ["warning", "warning"]
    later = f" A later message was delivered {_ts(delivered_at)[:16].replace('T', ' ')} UTC (1 hour ago)."
    assert [f.summary.endswith(later) for f in found] == [True, True]


@pytest.mark.parametrize(
    ("check_id", "summary"),
    [
        ("recipient.rejects", "SES rejected no message to jo@example.com."),
        ("recipient.rendering", "No template rendering failures for jo@example.com."),
        ("recipient.delays", "No delivery delays to jo@example.com in the history."),
    ],
)
def test_an_empty_history_passes_each_check(deps, check_id, summary):
    [f] = run(deps, check_id)
    assert (f.severity.label, f.summary, f.evidence) == ("ok", summary, [WINDOW])
