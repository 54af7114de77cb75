"""The Virtual Deliverability Manager Advisor check against the local AWS peer's recommendations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import bot.checks.all  # noqa: F401  (registers every check, in report order)
from bot.checks import REGISTRY
from bot.findings import Finding
from bot.runner import run_checks

RECIPIENT = "jo@example.com"
DKIM_DOC = "https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dkim.html"
BIMI_DOC = "https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-bimi.html"
DMARC_DOC = "https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dmarc.html"
DNSBL_DOC = "https://docs.aws.amazon.com/ses/latest/dg/faqs-dnsbls.html"


def run(deps) -> list[Finding]:
    checks = [c for c in REGISTRY if c.id == "sender.advisor"]
    report, _ = run_checks(deps, RECIPIENT, checks=checks)
    return report.findings


def stamp(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M UTC")


def test_a_high_dkim_recommendation_is_a_warning_named_with_its_age_and_link_before_a_low_one(aws_peer, deps):
    aws_peer.set_account(vdm_enabled=True)
    now = datetime.now(UTC)
    bimi_at, dkim_at = now - timedelta(days=20), now - timedelta(days=3, hours=2)
    aws_peer.add_recommendation(
        aws_peer.arn("identity", "example.com"), "BIMI", impact="LOW", description="BIMI1", created=bimi_at
    )
    aws_peer.add_recommendation(
        aws_peer.arn("identity", "mail.example.com"),
        "DKIM",
        impact="HIGH",
        description="DKIM signing is not set up for this identity",
        created=dkim_at,
    )
    [f] = run(deps)
    assert (f.check, f.severity.label, f.region, f.summary) == (
        "sender.advisor",
        "warning",
        "us-east-1",
        "2 open Advisor recommendations for news@mail.example.com in us-east-1, 1 of high impact; "
        "first: HIGH DKIM, open for 3 days.",
    )
    assert f.evidence == [
        f"HIGH DKIM on mail.example.com, open since {stamp(dkim_at)} (3 days ago): "
        f'"DKIM signing is not set up for this identity"; fix: {DKIM_DOC}',
        f'LOW BIMI on example.com, open since {stamp(bimi_at)} (20 days ago): "BIMI1"; fix: {BIMI_DOC}',
    ]
    assert f.fix == f"Start with the DKIM one: {DKIM_DOC}; then {BIMI_DOC}"
    assert [(r["type"], r["impact"]) for r in f.data["recommendations"]] == [("DKIM", "HIGH"), ("BIMI", "LOW")]


def test_among_equal_impact_the_oldest_comes_first(aws_peer, deps):
    aws_peer.set_account(vdm_enabled=True)
    now = datetime.now(UTC)
    sender = aws_peer.arn("identity", "mail.example.com")
    aws_peer.add_recommendation(sender, "DKIM", created=now - timedelta(days=1))
    aws_peer.add_recommendation(sender, "DMARC", created=now - timedelta(days=9))
    [f] = run(deps)
    assert [r["type"] for r in f.data["recommendations"]] == ["DMARC", "DKIM"]
    assert f.summary.endswith("first: HIGH DMARC, open for 9 days.")
    assert f.fix == f"Start with the DMARC one: {DMARC_DOC}; then {DKIM_DOC}"


def test_fixed_recommendations_and_other_identities_are_ignored(aws_peer, deps):
    aws_peer.set_account(vdm_enabled=True)
    aws_peer.add_recommendation(aws_peer.arn("identity", "mail.example.com"), "DKIM", status="FIXED")
    aws_peer.add_recommendation(aws_peer.arn("identity", "other.example.org"), "SPF", impact="HIGH")
    [f] = run(deps)
    assert (f.severity.label, f.summary, f.evidence) == (
        "ok",
        "No open Advisor recommendations for news@mail.example.com in us-east-1.",
        ["1 open recommendation on other resources, not listed."],
    )
    assert "other.example.org" not in " ".join([f.summary, *f.evidence, f.fix])


def test_only_low_impact_recommendations_are_context(aws_peer, deps):
    aws_peer.set_account(vdm_enabled=True)
    aws_peer.add_recommendation(aws_peer.arn("identity", "mail.example.com"), "BIMI", impact="LOW")
    [f] = run(deps)
    assert (f.severity.label, f.summary) == (
        "info",
        "1 open Advisor recommendation for news@mail.example.com in us-east-1, all of low impact; "
        "first: LOW BIMI, open for 1 minute.",
    )


def test_account_wide_recommendations_are_kept_and_listed_without_a_sender(aws_peer, deps):
    deps.settings.sender = None
    aws_peer.set_account(vdm_enabled=True)
    aws_peer.add_recommendation("arn:aws:ses:us-east-1:123456789012:", "IP_LISTING", description="IP1")
    aws_peer.add_recommendation(aws_peer.arn("identity", "mail.example.com"), "DKIM")
    [f] = run(deps)
    assert (f.severity.label, f.summary) == (
        "warning",
        "1 open Advisor recommendation account-wide in us-east-1, 1 of high impact; first: HIGH IP_LISTING, "
        "open for 1 minute.",
    )
    assert f.evidence[0].startswith("HIGH IP_LISTING on the account, open since ")
    assert f.evidence[0].endswith(f'"IP1"; fix: {DNSBL_DOC}')
    assert f.evidence[1:] == [
        "No sender is configured (SESBOT_SENDER), so only account-wide recommendations are listed.",
        "1 open recommendation on other resources, not listed.",
    ]


def test_recommendations_beyond_the_first_page_are_read(aws_peer, deps):
    aws_peer.set_account(vdm_enabled=True)
    for i in range(120):
        aws_peer.add_recommendation(aws_peer.arn("identity", f"shop{i}.example.org"), "SPF", impact="LOW")
    aws_peer.add_recommendation(aws_peer.arn("identity", "mail.example.com"), "DKIM")
    [f] = run(deps)
    assert f.severity.label == "warning"
    assert f.evidence[-1] == "120 open recommendations on other resources, not listed."
    assert len(aws_peer.calls_to("ListRecommendations")) == 2


def test_vdm_off_is_one_info_line_and_the_rest_of_the_report_stands(aws_peer, deps):
    aws_peer.set_account(production_access=True)
    report, _ = run_checks(deps, RECIPIENT)
    advisor = [f for f in report.findings if f.check == "sender.advisor"]
    assert [(f.severity.label, f.summary, f.data) for f in advisor] == [
        (
            "info",
            "Virtual Deliverability Manager's Advisor is not available on this account in us-east-1.",
            {"available": False},
        )
    ]
    assert "put-account-vdm-attributes --vdm-attributes VdmEnabled=ENABLED" in advisor[0].fix
    assert aws_peer.calls_to("ListRecommendations") == []
    checks = {f.check for f in report.findings}
    assert {"account.sandbox", "account.sending", "sender.identity", "recipient.suppressed"} <= checks
    assert not any(f.data.get("could_not_check") for f in report.findings if f.check.startswith("account."))


def test_a_refused_list_is_one_info_line_naming_the_permission(aws_peer, deps):
    aws_peer.set_account(vdm_enabled=True)
    aws_peer.fail("ListRecommendations", code="AccessDeniedException", status=403, count=None)
    [f] = run(deps)
    assert (f.severity.label, f.summary, f.data) == (
        "info",
        "Virtual Deliverability Manager's Advisor is not available on this account in us-east-1.",
        {"available": False},
    )
    assert f.fix == "Allow `ses:ListRecommendations` for the bot's IAM role or user (see the README's IAM policy)."


def test_a_failing_list_is_a_could_not_check(aws_peer, deps):
    aws_peer.set_account(vdm_enabled=True)
    aws_peer.fail("ListRecommendations", code="InternalFailure", status=500, count=None)
    [f] = run(deps)
    assert (f.severity.label, f.data) == ("warning", {"could_not_check": True})
    assert f.summary.startswith("Could not check sender.advisor: ")
