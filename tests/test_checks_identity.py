"""The sender identity check against identities in the local AWS peer (moto + our overlay)."""

from __future__ import annotations

import bot.checks.all  # noqa: F401  (registers every check, in report order)
from bot.checks import REGISTRY
from bot.findings import Finding
from bot.runner import run_checks

SENDER_DOMAIN = "mail.example.com"  # the conftest sender is news@mail.example.com
SENDER = "news@mail.example.com"


def run(deps) -> list[Finding]:
    checks = [c for c in REGISTRY if c.id == "sender.identity"]
    report, _ = run_checks(deps, "jo@example.com", checks=checks)
    return report.findings


def brief(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.severity.label, f.summary) for f in findings]


def test_a_verified_domain_with_dkim_and_default_mail_from_passes(aws_peer, deps):
    aws_peer.set_identity(SENDER_DOMAIN, verified=True, dkim_status="SUCCESS")
    [f] = run(deps)
    assert (f.severity.label, f.summary, f.evidence) == (
        "ok",
        "The sender news@mail.example.com is verified in us-east-1 (identity mail.example.com), DKIM signs, "
        "MAIL FROM is fine.",
        [
            "mail.example.com: verified for sending in us-east-1 (DOMAIN)",
            "DKIM (mail.example.com): Status SUCCESS, SigningEnabled true",
            "MAIL FROM: the default (a subdomain of amazonses.com)",
        ],
    )


def test_a_sender_that_is_no_identity_at_all_is_critical(aws_peer, deps):
    [f] = run(deps)
    assert brief([f]) == [
        (
            "critical",
            "The sender news@mail.example.com is not verified in us-east-1: "
            "neither news@mail.example.com nor "
            "mail.example.com nor example.com is an identity in us-east-1. SES refuses to send as it "
            "(MessageRejected: Email address is not verified).",
        )
    ]
    assert f.evidence == [
        "news@mail.example.com: not an identity in us-east-1",
        "mail.example.com: not an identity in us-east-1",
        "example.com: not an identity in us-east-1",
    ]
    assert "aws sesv2 create-email-identity --email-identity mail.example.com --region us-east-1" in f.fix


def test_a_failed_domain_verification_explains_the_error_type(aws_peer, deps):
    aws_peer.set_identity(SENDER_DOMAIN, verified=False, dkim_status="FAILED", verification_error="HOST_NOT_FOUND")
    [f] = run(deps)
    assert f.severity.label == "critical"
    assert f.summary == (
        "The sender news@mail.example.com is not verified in us-east-1: mail.example.com is FAILED (the DKIM "
        "CNAME records (<token>._domainkey.<domain>) do not exist in DNS). SES refuses to send as it "
        "(MessageRejected: Email address is not verified)."
    )
    assert f.evidence[:4] == [
        "news@mail.example.com: not an identity in us-east-1",
        "mail.example.com: exists, VerifiedForSendingStatus false",
        "  VerificationStatus: FAILED (SES gave up after 72 hours without finding the DNS records; "
        "verification must be restarted)",
        "  VerificationInfo.ErrorType: HOST_NOT_FOUND (the DKIM CNAME records (<token>._domainkey.<domain>) "
        "do not exist in DNS)",
    ]
    assert f.evidence[4].startswith("  Last checked by SES: ")
    assert f.data == {"verified": False, "identities": {SENDER: False, SENDER_DOMAIN: True, "example.com": False}}


def test_an_unclicked_address_verification_says_to_click_the_link(aws_peer, deps):
    aws_peer.set_identity(SENDER, verified=False, dkim_status="NOT_STARTED")
    [f] = run(deps)
    assert (f.severity.label, f.summary) == (
        "critical",
        "The sender news@mail.example.com is not verified in us-east-1: news@mail.example.com is PENDING. "
        "SES refuses to send as it (MessageRejected: Email address is not verified).",
    )
    assert f.evidence[:3] == [
        "news@mail.example.com: exists, VerifiedForSendingStatus false",
        "  VerificationStatus: PENDING (waiting for someone to click the link SES mailed to the address (it "
        "expires after 24 hours))",
        "mail.example.com: not an identity in us-east-1",
    ]
    assert f.fix.startswith("Click the link in the verification mail SES sent to news@mail.example.com")


def test_a_verified_address_without_domain_dkim_is_an_error(aws_peer, deps):
    aws_peer.set_identity(SENDER, verified=True, dkim_status="NOT_STARTED")
    [f] = run(deps)
    assert (f.severity.label, f.summary) == (
        "error",
        "DKIM for news@mail.example.com is NOT_STARTED in us-east-1: DKIM is not set up for this identity. "
        "Mail is not signed with your domain, so DMARC cannot pass by DKIM and receivers are more likely to "
        "file it as spam.",
    )


def test_pending_dkim_on_a_verified_domain_is_an_error_listing_the_records(aws_peer, deps):
    aws_peer.set_identity(SENDER_DOMAIN, verified=True, dkim_status="PENDING", dkim_tokens=["tok1", "tok2"])
    [f] = run(deps)
    assert f.severity.label == "error"
    assert f.evidence == [
        "DKIM (mail.example.com): Status PENDING, SigningEnabled true",
        "Expected: tok1._domainkey.mail.example.com CNAME tok1.dkim.amazonses.com",
        "Expected: tok2._domainkey.mail.example.com CNAME tok2.dkim.amazonses.com",
    ]


def test_dkim_signing_turned_off_is_a_warning(aws_peer, deps):
    aws_peer.set_identity(SENDER_DOMAIN, verified=True, dkim_status="SUCCESS")
    # The peer has no switch for SigningEnabled alone yet: edit the state it reports (see the report).
    aws_peer._state("us-east-1").identities[SENDER_DOMAIN]["DkimAttributes"]["SigningEnabled"] = False
    [f] = run(deps)
    assert (f.severity.label, f.summary) == (
        "warning",
        "DKIM signing is turned off for mail.example.com in us-east-1: mail goes out without your domain's "
        "DKIM signature (DMARC can only pass through SPF alignment).",
    )
    assert "put-email-identity-dkim-attributes --email-identity mail.example.com --signing-enabled" in f.fix


def test_a_failing_mail_from_with_reject_message_blocks_sending(aws_peer, deps):
    aws_peer.set_identity(
        SENDER_DOMAIN,
        verified=True,
        mail_from_domain="bounce.mail.example.com",
        mail_from_status="FAILED",
        behavior_on_mx_failure="REJECT_MESSAGE",
    )
    [f] = run(deps)
    assert (f.severity.label, f.summary, f.evidence) == (
        "critical",
        "The custom MAIL FROM domain bounce.mail.example.com is FAILED and set to REJECT_MESSAGE: "
        "SES refuses "
        "every send from news@mail.example.com in us-east-1 (MailFromDomainNotVerified).",
        [
            "MailFromDomain: bounce.mail.example.com",
            "MailFromDomainStatus: FAILED",
            "BehaviorOnMxFailure: REJECT_MESSAGE",
        ],
    )
    assert "bounce.mail.example.com MX 10 feedback-smtp.us-east-1.amazonses.com" in f.fix


def test_a_failing_mail_from_with_the_default_fallback_is_a_warning(aws_peer, deps):
    aws_peer.set_identity(
        SENDER_DOMAIN,
        verified=True,
        mail_from_domain="bounce.mail.example.com",
        mail_from_status="PENDING",
        behavior_on_mx_failure="USE_DEFAULT_VALUE",
    )
    [f] = run(deps)
    assert (f.severity.label, f.summary) == (
        "warning",
        "The custom MAIL FROM domain bounce.mail.example.com is PENDING: mail goes out with the default "
        "amazonses.com MAIL FROM, so SPF does not align with your domain for DMARC.",
    )


def test_a_working_custom_mail_from_is_named_in_the_pass(aws_peer, deps):
    aws_peer.set_identity(SENDER_DOMAIN, verified=True, mail_from_domain="bounce.mail.example.com")
    [f] = run(deps)
    assert f.severity.label == "ok"
    assert f.evidence[-1] == "Custom MAIL FROM bounce.mail.example.com: SUCCESS"


def test_no_configured_sender_is_an_info_that_says_what_to_set(aws_peer, deps):
    deps.settings.sender = None
    [f] = run(deps)
    assert (f.severity.label, f.summary, f.fix) == (
        "info",
        "No sender is configured, so the sender identity was not checked.",
        "Set SESBOT_SENDER to the From address or domain your team sends as (news@example.com).",
    )


def test_a_sender_domain_setting_is_checked_as_a_domain(aws_peer, deps):
    deps.settings.sender = "mail.example.com"
    aws_peer.set_identity(SENDER_DOMAIN, verified=True)
    [f] = run(deps)
    assert f.summary.startswith("The sender mail.example.com is verified in us-east-1")
    assert [c.path for c in aws_peer.calls_to("GetEmailIdentity")] == ["/v2/email/identities/mail.example.com"]


def test_a_refused_identity_lookup_is_a_could_not_check(aws_peer, deps):
    aws_peer.fail("GetEmailIdentity", code="AccessDeniedException", status=403, count=None)
    [f] = run(deps)
    assert (f.severity.label, f.data) == ("warning", {"could_not_check": True})
    assert f.summary.startswith("Could not check sender.identity: AWS refused GetEmailIdentity (AccessDenied)")


def test_a_verified_parent_domain_covers_the_senders_subdomain(aws_peer, deps):
    aws_peer.set_identity("example.com", verified=True)
    [f] = run(deps)
    assert (f.severity.label, f.summary.startswith("The sender news@mail.example.com is verified")) == ("ok", True)
    assert f.evidence[0] == "example.com: verified for sending in us-east-1 (DOMAIN)"
