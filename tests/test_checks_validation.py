"""The email validation checks (Auto Validation, email address insights) against the local AWS peer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import bot.checks.all  # noqa: F401  (registers every check, in report order)
from bot.checks import REGISTRY
from bot.findings import Finding
from bot.ingest import ingest_documents
from bot.runner import run_checks
from bot.store import iso

RECIPIENT = "jo@example.com"
AUTO_DOC = "https://docs.aws.amazon.com/ses/latest/dg/email-validation-auto.html"
COST = "GetEmailAddressInsights is charged per call (asked because SESBOT_EMAIL_INSIGHTS=true)."


def run(deps, check_id: str, target: str = RECIPIENT) -> list[Finding]:
    checks = [c for c in REGISTRY if c.id == check_id]
    assert [c.id for c in checks] == [check_id]
    report, _ = run_checks(deps, target, checks=checks)
    return report.findings


def delivered(deps, recipient: str, at: datetime) -> None:
    """A Delivery event through the real ingest: it moves the recipient's latest delivery time forward."""
    doc = {
        "eventType": "Delivery",
        "mail": {
            "timestamp": iso(at - timedelta(seconds=2)),
            "source": "news@mail.example.com",
            "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/mail.example.com",
            "sendingAccountId": "123456789012",
            "messageId": "0100018f2a7c3d4e-delivered-000000",
            "destination": [recipient],
            "headersTruncated": False,
            "tags": {},
        },
        "delivery": {
            "timestamp": iso(at),
            "processingTimeMillis": 1203,
            "recipients": [recipient],
            "smtpResponse": "250 2.6.0 Message received",
            "remoteMtaIp": "192.0.2.26",
            "reportingMTA": "a8-70.smtp-out.amazonses.com",
        },
    }
    result = ingest_documents(deps.store, [doc], origin="test")
    assert (result.ingested, result.quarantined) == (1, 0)


# -- account.validation ------------------------------------------------------------------------------


def test_auto_validation_at_managed_is_a_warning_that_names_the_threshold_and_the_fix(aws_peer, deps):
    aws_peer.set_account(auto_validation="MANAGED")
    [f] = run(deps, "account.validation")
    assert (f.severity.label, f.region, f.summary) == (
        "warning",
        "us-east-1",
        "Auto Validation is on in us-east-1 (threshold MANAGED): SES itself suppresses recipients it judges "
        "below that confidence, so mail can be sent, never bounce and never be delivered.",
    )
    assert f.evidence == [
        "ConditionThresholdEnabled: ENABLED",
        "ConfidenceVerdictThreshold: MANAGED (SES chooses the threshold itself, from the account's sending "
        "patterns and reputation)",
        "SES accepts the send and returns a MessageId, then does not deliver to a recipient it judges below "
        "the threshold.",
        "No delivery to jo@example.com in the last 30 days of the bot's event history.",
    ]
    assert f.fix == (
        "If SES holds back addresses you know are good, lower the threshold to MEDIUM: "
        "`aws sesv2 put-account-suppression-attributes --suppressed-reasons BOUNCE COMPLAINT "
        "--validation-attributes 'ConditionThreshold={ConditionThresholdEnabled=ENABLED,"
        "OverallConfidenceThreshold={ConfidenceVerdictThreshold=MEDIUM}}' --region us-east-1`, or turn it off: "
        "`aws sesv2 put-account-suppression-attributes --suppressed-reasons BOUNCE COMPLAINT "
        "--validation-attributes 'ConditionThreshold={ConditionThresholdEnabled=DISABLED}' --region us-east-1` "
        f"({AUTO_DOC})"
    )
    assert f.data == {"auto_validation": True, "threshold": "MANAGED", "delivered_recently": False}


def test_auto_validation_at_medium_can_only_be_turned_off(aws_peer, deps):
    aws_peer.set_account(auto_validation="MEDIUM", suppressed_reasons=["BOUNCE"])
    [f] = run(deps, "account.validation")
    assert f.severity.label == "warning"
    assert f.evidence[1] == (
        "ConfidenceVerdictThreshold: MEDIUM (SES sends only to addresses it judges of medium or high "
        "delivery likelihood)"
    )
    assert f.fix.startswith(
        "If SES holds back addresses you know are good, turn it off: `aws sesv2 "
        "put-account-suppression-attributes --suppressed-reasons BOUNCE --validation-attributes "
        "'ConditionThreshold={ConditionThresholdEnabled=DISABLED}' --region us-east-1`"
    )
    assert "MEDIUM}}" not in f.fix


def test_auto_validation_is_only_context_when_the_history_shows_the_recipient_gets_mail(aws_peer, deps):
    aws_peer.set_account(auto_validation="HIGH")
    at = datetime.now(UTC) - timedelta(hours=3)
    delivered(deps, "Jo@Example.com", at)
    [f] = run(deps, "account.validation")
    assert (f.severity.label, f.summary) == (
        "info",
        "Auto Validation is on in us-east-1 (threshold HIGH): SES itself suppresses recipients it judges "
        "below that confidence, so mail can be sent, never bounce and never be delivered; mail to "
        "jo@example.com was delivered lately, so it is not held back.",
    )
    assert f.evidence[-1] == f"Last delivery to jo@example.com: {at.strftime('%Y-%m-%d %H:%M UTC')} (3 hours ago)"
    assert f.data["delivered_recently"] is True


def test_a_delivery_older_than_the_window_does_not_lower_the_warning(aws_peer, deps):
    aws_peer.set_account(auto_validation="HIGH")
    delivered(deps, RECIPIENT, datetime.now(UTC) - timedelta(days=45))
    [f] = run(deps, "account.validation")
    assert f.severity.label == "warning"


def test_auto_validation_turned_off_is_one_ok_line(aws_peer, deps):
    aws_peer.set_account(auto_validation="")
    [f] = run(deps, "account.validation")
    assert (f.severity.label, f.summary, f.evidence, f.fix) == (
        "ok",
        "Auto Validation is off in us-east-1: SES does not hold back recipients on its own judgement.",
        ["ConditionThresholdEnabled: DISABLED"],
        "",
    )


def test_an_account_that_never_set_auto_validation_passes(aws_peer, deps):
    [f] = run(deps, "account.validation")
    assert (f.severity.label, f.data) == ("ok", {"auto_validation": False})


def test_an_unreadable_account_is_left_to_the_account_checks(aws_peer, deps):
    aws_peer.fail("GetAccount", code="AccessDeniedException", status=403, count=None)
    checks = [c for c in REGISTRY if c.id in ("account.sandbox", "account.validation")]
    report, _ = run_checks(deps, RECIPIENT, checks=checks)
    assert [(f.check, f.severity.label, f.data) for f in report.findings] == [
        ("account.sandbox", "warning", {"could_not_check": True})
    ]


# -- recipient.validation ----------------------------------------------------------------------------


def test_email_insights_are_not_asked_by_default_because_each_call_costs_money(aws_peer, deps):
    [f] = run(deps, "recipient.validation")
    assert (f.severity.label, f.summary) == (
        "info",
        "SES's email address insights for jo@example.com were not asked in us-east-1: they cost money per "
        "call; SESBOT_EMAIL_INSIGHTS=true turns them on.",
    )
    assert aws_peer.calls_to("GetEmailAddressInsights") == []


def test_an_address_ses_judges_missing_is_an_error_with_every_verdict_and_the_cost(aws_peer, deps):
    deps.settings.email_insights = True
    aws_peer.set_email_insights(RECIPIENT, is_valid="LOW", mailbox_exists="LOW")
    [f] = run(deps, "recipient.validation")
    assert (f.severity.label, f.summary) == (
        "error",
        "SES judges jo@example.com unlikely to exist (IsValid LOW, asked in us-east-1).",
    )
    assert f.evidence == [
        "IsValid: LOW (overall validity)",
        "HasValidSyntax: HIGH (the address follows the RFC syntax)",
        "HasValidDnsRecords: HIGH (the domain exists and is set up to receive mail)",
        "MailboxExists: LOW (the mailbox exists and can receive mail)",
        "IsRoleAddress: LOW (a role address such as admin@ or info@)",
        "IsDisposable: LOW (a disposable or temporary address)",
        "IsRandomInput: LOW (looks like random text)",
        COST,
    ]
    assert f.data["verdicts"]["MailboxExists"] == "LOW"
    assert len(aws_peer.calls_to("GetEmailAddressInsights")) == 1


def test_a_missing_mailbox_alone_is_also_an_error(aws_peer, deps):
    deps.settings.email_insights = True
    aws_peer.set_email_insights(RECIPIENT, mailbox_exists="LOW")
    [f] = run(deps, "recipient.validation")
    assert (f.severity.label, f.summary) == (
        "error",
        "SES judges jo@example.com unlikely to exist: no such mailbox (MailboxExists LOW, asked in us-east-1).",
    )


def test_a_disposable_address_is_a_warning(aws_peer, deps):
    deps.settings.email_insights = True
    aws_peer.set_email_insights(RECIPIENT, disposable="HIGH", role="HIGH")
    [f] = run(deps, "recipient.validation")
    assert (f.severity.label, f.summary) == (
        "warning",
        "SES judges jo@example.com a disposable address (IsDisposable HIGH, asked in us-east-1).",
    )
    assert "IsRoleAddress: HIGH (a role address such as admin@ or info@)" in f.evidence


def test_random_input_is_a_warning(aws_peer, deps):
    deps.settings.email_insights = True
    aws_peer.set_email_insights("xq7zv9k2@example.com", random_input="HIGH")
    [f] = run(deps, "recipient.validation", target="xq7zv9k2@example.com")
    assert f.severity.label == "warning"
    assert f.summary.startswith("SES judges xq7zv9k2@example.com random input")


def test_a_role_address_is_context(aws_peer, deps):
    deps.settings.email_insights = True
    aws_peer.set_email_insights("info@example.com", role="HIGH")
    [f] = run(deps, "recipient.validation", target="info@example.com")
    assert (f.severity.label, f.summary) == (
        "info",
        "SES judges info@example.com a role address, which usually engages less (IsRoleAddress HIGH, asked in "
        "us-east-1).",
    )


def test_a_valid_mailbox_passes_and_still_says_it_cost_a_call(aws_peer, deps):
    deps.settings.email_insights = True
    [f] = run(deps, "recipient.validation")
    assert (f.severity.label, f.summary) == ("ok", "SES judges jo@example.com a valid mailbox (asked in us-east-1).")
    assert f.evidence[0] == "IsValid: HIGH (overall validity)"
    assert f.evidence[-1] == COST


def test_insights_are_asked_once_however_many_regions_are_configured(aws_peer, deps):
    deps.settings.email_insights = True
    deps.settings.regions = ["us-east-1", "eu-west-1"]
    findings = run(deps, "recipient.validation")
    assert [(f.region, f.severity.label) for f in findings] == [("us-east-1", "ok")]
    assert len(aws_peer.calls_to("GetEmailAddressInsights")) == 1


def test_insights_refused_is_one_info_line_naming_the_permission(aws_peer, deps):
    deps.settings.email_insights = True
    aws_peer.fail("GetEmailAddressInsights", code="AccessDeniedException", status=403, count=None)
    [f] = run(deps, "recipient.validation")
    assert (f.severity.label, f.summary, f.data) == (
        "info",
        "SES email address insights (GetEmailAddressInsights) is not available on this account in us-east-1.",
        {"available": False},
    )
    assert "ses:GetEmailAddressInsights" in f.fix


def test_insights_not_offered_is_one_info_line_naming_what_offers_them(aws_peer, deps):
    deps.settings.email_insights = True
    aws_peer.fail("GetEmailAddressInsights", code="BadRequestException", status=400, count=None)
    [f] = run(deps, "recipient.validation")
    assert (f.severity.label, f.data) == ("info", {"available": False})
    assert f.fix.startswith("The Email Validation API must be offered in this region and on the account's plan")


def test_a_failing_insights_call_is_a_could_not_check(aws_peer, deps):
    deps.settings.email_insights = True
    aws_peer.fail("GetEmailAddressInsights", code="InternalFailure", status=500, count=None)
    [f] = run(deps, "recipient.validation")
    assert (f.severity.label, f.data) == ("warning", {"could_not_check": True})


def test_auto_validation_off_for_the_account_but_on_for_a_set_of_this_mail_names_the_set(aws_peer, deps):
    aws_peer.set_account(auto_validation="")
    aws_peer.client("sesv2", "us-east-1").create_configuration_set(ConfigurationSetName="Marketing")
    aws_peer.set_config_set_options("Marketing", validation_threshold="HIGH")
    deps.settings.configuration_set = "Marketing"
    [f] = run(deps, "account.validation")
    assert (f.severity.label, f.summary) == (
        "info",
        "Auto Validation is off for the account in us-east-1, but the configuration set Marketing (threshold "
        "HIGH) turns it on for the mail sent through it: SES holds back recipients of that mail it judges below "
        "the threshold (config_set.delivery reports it).",
    )
    assert f.evidence == [
        "ConditionThresholdEnabled: DISABLED",
        "Configuration set Marketing: its own Auto Validation is on (threshold HIGH) for mail sent through it "
        "(config_set.delivery)",
    ]
    assert f.data == {"auto_validation": False, "set_auto_validation": {"Marketing": "HIGH"}}


def test_auto_validation_on_for_the_account_names_a_set_that_turns_it_off(aws_peer, deps):
    aws_peer.set_account(auto_validation="HIGH")
    aws_peer.client("sesv2", "us-east-1").create_configuration_set(ConfigurationSetName="Receipts")
    aws_peer.set_config_set_options("Receipts", validation_threshold="")
    deps.settings.configuration_set = "Receipts"
    [f] = run(deps, "account.validation")
    assert f.severity.label == "warning"
    assert (
        "Configuration set Receipts: its own Auto Validation is off for mail sent through it (config_set.delivery)"
        in f.evidence
    )
