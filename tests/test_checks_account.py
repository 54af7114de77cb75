"""The account checks (sandbox, sending, quota) against the local AWS peer's account state."""

from __future__ import annotations

import bot.checks.all  # noqa: F401  (registers every check, in report order)
from bot.checks import REGISTRY
from bot.findings import Finding
from bot.runner import run_checks

RECIPIENT = "jo@example.com"
SANDBOX_DOC = "https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html"


def run(deps, *ids: str, target: str = RECIPIENT) -> list[Finding]:
    """The ranked findings of the named checks only, run as the `why` command runs them."""
    checks = [c for c in REGISTRY if c.id in ids]
    assert sorted(c.id for c in checks) == sorted(ids)
    report, _ = run_checks(deps, target, checks=checks)
    return report.findings


def brief(findings: list[Finding]) -> list[tuple[str, str, str | None, str]]:
    return [(f.check, f.severity.label, f.region, f.summary) for f in findings]


# -- account.sandbox ---------------------------------------------------------------------------------


def test_production_access_passes_the_sandbox_check(aws_peer, deps):
    aws_peer.set_account(production_access=True)
    [f] = run(deps, "account.sandbox")
    assert (f.severity.label, f.summary, f.evidence) == (
        "ok",
        "Production access in us-east-1: SES delivers to any recipient.",
        ["ProductionAccessEnabled: true"],
    )


def test_sandbox_with_an_unverified_recipient_is_critical(aws_peer, deps):
    aws_peer.set_account(production_access=False, review_status="DENIED")
    [f] = run(deps, "account.sandbox")
    case = aws_peer.account()["Details"]["ReviewDetails"]["CaseId"]
    assert brief([f]) == [
        (
            "account.sandbox",
            "critical",
            "us-east-1",
            "The account is in the sandbox in us-east-1 and jo@example.com is not a verified identity: "
            "SES refuses to send to it (MessageRejected: Email address is not verified).",
        )
    ]
    assert f.evidence == [
        "ProductionAccessEnabled: false (the account is in the sandbox in this region)",
        f"Production-access request: DENIED, case {case} (denied: read the case and reply with what AWS asked for)",
        "jo@example.com: not an identity in us-east-1",
        "example.com: not an identity in us-east-1",
    ]
    assert SANDBOX_DOC in f.fix
    assert "aws sesv2 create-email-identity --email-identity jo@example.com --region us-east-1" in f.fix


def test_sandbox_with_a_pending_recipient_identity_is_still_critical(aws_peer, deps):
    aws_peer.set_identity(RECIPIENT, verified=False)
    [f] = run(deps, "account.sandbox")
    assert f.severity.label == "critical"
    assert f.evidence[1:] == [
        "jo@example.com: VerifiedForSendingStatus false, VerificationStatus PENDING",
        "example.com: not an identity in us-east-1",
    ]


def test_sandbox_with_a_verified_recipient_address_is_info_with_the_review_status(aws_peer, deps):
    aws_peer.set_account(review_status="PENDING")
    aws_peer.set_identity(RECIPIENT, verified=True)
    [f] = run(deps, "account.sandbox")
    case = aws_peer.account()["Details"]["ReviewDetails"]["CaseId"]
    assert (f.severity.label, f.summary) == (
        "info",
        "The account is in the sandbox in us-east-1, but jo@example.com is a verified identity, so SES delivers to it.",
    )
    assert f.evidence == [
        "ProductionAccessEnabled: false (the account is in the sandbox in this region)",
        f"Production-access request: PENDING, case {case} (AWS is reviewing it)",
        "jo@example.com: VerifiedForSendingStatus true, VerificationStatus SUCCESS",
    ]
    assert f.data == {"sandbox": True, "verified_by": "jo@example.com"}


def test_sandbox_with_a_verified_recipient_domain_is_info(aws_peer, deps):
    aws_peer.set_identity("example.com", verified=True)
    [f] = run(deps, "account.sandbox")
    assert f.severity.label == "info"
    assert f.data == {"sandbox": True, "verified_by": "example.com"}
    assert f.evidence[1:] == [
        "jo@example.com: not an identity in us-east-1",
        "example.com: VerifiedForSendingStatus true, VerificationStatus SUCCESS",
    ]


def test_the_mailbox_simulator_is_allowed_from_the_sandbox(aws_peer, deps):
    [f] = run(deps, "account.sandbox", target="bounce@simulator.amazonses.com")
    assert (f.severity.label, f.summary) == (
        "info",
        "The account is in the sandbox in us-east-1; the mailbox simulator is allowed there.",
    )
    assert aws_peer.calls_to("GetEmailIdentity") == []


def test_sandbox_is_judged_per_region(aws_peer, deps):
    deps.settings.regions = ["us-east-1", "eu-west-1"]
    aws_peer.set_account("eu-west-1", production_access=True)
    findings = run(deps, "account.sandbox")
    assert sorted((f.region, f.severity.label) for f in findings) == [
        ("eu-west-1", "ok"),
        ("us-east-1", "critical"),
    ]


def test_an_identity_lookup_refused_in_the_sandbox_is_a_could_not_check(aws_peer, deps):
    aws_peer.fail("GetEmailIdentity", code="AccessDeniedException", status=403, count=None)
    [f] = run(deps, "account.sandbox")
    assert f.severity.label == "warning"
    assert f.data == {"could_not_check": True}
    assert f.summary == (
        "The account is in the sandbox in us-east-1, and whether jo@example.com is a verified identity "
        "could not be checked: AWS refused GetEmailIdentity (AccessDenied): grant the bot's role that "
        "permission (see README, IAM policy)"
    )
    assert "ses:GetEmailIdentity" in f.fix


# -- account.sending ---------------------------------------------------------------------------------


def test_healthy_sending_passes(aws_peer, deps):
    [f] = run(deps, "account.sending")
    assert (f.severity.label, f.summary, f.evidence) == (
        "ok",
        "Sending is enabled and healthy in us-east-1.",
        ["SendingEnabled: true", "EnforcementStatus: HEALTHY"],
    )


def test_paused_sending_is_critical(aws_peer, deps):
    aws_peer.set_account(sending_enabled=False)
    [f] = run(deps, "account.sending")
    assert (f.severity.label, f.summary) == (
        "critical",
        "Sending is paused for the account in us-east-1 (SendingEnabled false): SES refuses every send "
        "(SendingPausedException).",
    )
    assert f.evidence == ["SendingEnabled: false", "EnforcementStatus: HEALTHY"]
    assert "aws sesv2 put-account-sending-attributes --sending-enabled --region us-east-1" in f.fix


def test_shutdown_is_critical(aws_peer, deps):
    aws_peer.set_account(enforcement_status="SHUTDOWN", sending_enabled=False)
    [f] = run(deps, "account.sending")
    assert (f.severity.label, f.summary) == (
        "critical",
        "AWS has shut down sending for the account in us-east-1 (EnforcementStatus SHUTDOWN): no mail goes out.",
    )
    assert f.evidence == ["SendingEnabled: false", "EnforcementStatus: SHUTDOWN"]


def test_probation_is_an_error(aws_peer, deps):
    aws_peer.set_account(enforcement_status="PROBATION")
    [f] = run(deps, "account.sending")
    assert f.severity.label == "error"
    assert f.summary.startswith("The account in us-east-1 is under review (EnforcementStatus PROBATION)")


def test_an_unknown_enforcement_status_is_a_warning_with_the_raw_value(aws_peer, deps):
    aws_peer.set_account(enforcement_status="WATCHLIST")
    [f] = run(deps, "account.sending")
    assert (f.severity.label, f.summary, f.data) == (
        "warning",
        "The account in us-east-1 reports an enforcement status this bot does not know: WATCHLIST.",
        {"enforcement_status": "WATCHLIST"},
    )


# -- account.quota -----------------------------------------------------------------------------------


def test_a_used_up_daily_quota_is_critical_and_the_rate_is_info(aws_peer, deps):
    aws_peer.set_account(max_24h=50000, sent_last_24h=50000, max_rate=14)
    findings = run(deps, "account.quota")
    assert brief(findings) == [
        (
            "account.quota",
            "critical",
            "us-east-1",
            "The daily sending quota in us-east-1 is used up: 50,000 of 50,000 in the last 24 hours; SES "
            "refuses sends (Daily message quota exceeded) until it frees up.",
        ),
        (
            "account.quota",
            "info",
            "us-east-1",
            "Maximum send rate in us-east-1: 14 messages a second; faster sends get "
            "`Throttling: Maximum sending rate exceeded`.",
        ),
    ]
    assert findings[0].evidence == ["SentLast24Hours: 50,000", "Max24HourSend: 50,000"]


def test_a_nearly_used_quota_is_a_warning(aws_peer, deps):
    aws_peer.set_account(max_24h=200, sent_last_24h=170)
    quota, _rate = run(deps, "account.quota")
    assert (quota.severity.label, quota.summary) == (
        "warning",
        "Near the daily sending quota in us-east-1: 170 of 200 (85%) in the last 24 hours.",
    )


def test_a_quota_well_below_the_limit_passes(aws_peer, deps):
    aws_peer.set_account(max_24h=200, sent_last_24h=12)
    rate, quota = run(deps, "account.quota")  # ranked: the info line before the ok one
    assert [(quota.severity.label, quota.summary), (rate.severity.label, rate.evidence)] == [
        ("ok", "Daily quota in us-east-1: 12 of 200 used (6%)."),
        ("info", ["MaxSendRate: 1"]),
    ]


def test_an_unlimited_quota_passes(aws_peer, deps):
    aws_peer.set_account(max_24h=-1, sent_last_24h=1_000_000)
    _rate, quota = run(deps, "account.quota")
    assert (quota.severity.label, quota.summary, quota.evidence) == (
        "ok",
        "No daily sending limit in us-east-1.",
        ["SentLast24Hours: 1,000,000", "Max24HourSend: unlimited (-1)"],
    )


# -- one GetAccount call, shared ---------------------------------------------------------------------


def test_the_three_account_checks_of_a_run_share_one_get_account_call(aws_peer, deps):
    findings = run(deps, "account.sandbox", "account.sending", "account.quota")
    assert len(aws_peer.calls_to("GetAccount")) == 1
    assert sorted({f.check for f in findings}) == ["account.quota", "account.sandbox", "account.sending"]


def test_checks_that_start_while_the_call_is_in_flight_wait_for_it(aws_peer, deps):
    aws_peer.set_delay(0.2)  # the three checks start while the first call is still waiting
    run(deps, "account.sandbox", "account.sending", "account.quota")
    assert len(aws_peer.calls_to("GetAccount")) == 1


def test_the_next_run_sees_the_account_as_it_is_now(aws_peer, deps):
    aws_peer.set_account(sending_enabled=False)
    [before] = run(deps, "account.sending")
    aws_peer.set_account(sending_enabled=True)  # fixed at once; the Re-run must not see the old state
    [after] = run(deps, "account.sending")
    assert (before.severity.label, after.severity.label) == ("critical", "ok")
    assert len(aws_peer.calls_to("GetAccount")) == 2


def test_a_refused_get_account_gives_each_check_a_clear_finding_from_one_call(aws_peer, deps):
    aws_peer.set_account(production_access=True)
    aws_peer.fail("GetAccount", code="AccessDeniedException", status=403, count=1)
    findings = run(deps, "account.sandbox", "account.sending", "account.quota")
    assert len(aws_peer.calls_to("GetAccount")) == 1
    why = "AWS refused GetAccount (AccessDenied): grant the bot's role that permission (see README, IAM policy)"
    assert sorted(brief(findings)) == [
        (cid, "warning", "us-east-1", f"Could not check {cid}: {why}")
        for cid in ("account.quota", "account.sandbox", "account.sending")
    ]
    for f in findings:
        assert f.data == {"could_not_check": True}
        assert f.fix == (
            "Allow `ses:GetAccount` for the bot's IAM role or user (see the README's IAM policy), "
            "then run the command again."
        )
        assert f.evidence == [f"GetAccount in us-east-1 failed: {why}"]
