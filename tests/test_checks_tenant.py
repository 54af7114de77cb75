"""The tenant check (`tenant.status`) against the local AWS peer's tenants and reputation entities."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import botocore.session

import bot.checks.all  # noqa: F401  (registers every check, in report order)
from bot.checks import REGISTRY
from bot.checks.tenant import STATUS_SEVERITY
from bot.findings import Finding
from bot.ingest import ingest_documents
from bot.runner import run_checks

RECIPIENT = "jo@example.com"
SENDER_DOMAIN = "mail.example.com"  # conftest's SESBOT_SENDER is news@mail.example.com
POLICY = "arn:aws:ses:::reputation-policy/standard"
CAUSE = "Bounce rate above 10% over the last 24 hours (finding 7f3c)"
BOUNCE = (
    Path(__file__).parent / "data" / "ses-notifications" / "awsdocs-evt-sns-event-publishing-retrieving-sns-bounce.json"
)


def run(deps, target: str = RECIPIENT) -> list[Finding]:
    checks = [c for c in REGISTRY if c.id == "tenant.status"]
    report, _ = run_checks(deps, target, checks=checks)
    return report.findings


def stamp(deps, days: float) -> str:
    return (deps.now() - timedelta(days=days)).strftime("%Y-%m-%d %H:%M UTC")


def hold_clock(deps) -> None:
    """Stop the deps' clock at now, on a whole second (the peer keeps timestamps to the second): a test that
    sets a time and later prints it must not cross a minute, nor see "2 days" become "1 day"."""
    now = deps.now().replace(microsecond=0)
    deps.clock = lambda: now


def tagged_bounce(deps, tenant: str, days_ago: float = 2) -> dict:
    """The SES documentation's event-publishing bounce, sent to RECIPIENT as `tenant` a few days ago."""
    doc = json.loads(BOUNCE.read_text())
    at = (deps.now() - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    doc["bounce"]["timestamp"] = doc["mail"]["timestamp"] = at
    doc["bounce"]["bouncedRecipients"][0]["emailAddress"] = RECIPIENT
    doc["mail"]["destination"] = [RECIPIENT]
    doc["mail"]["tags"]["ses:tenant-name"] = [tenant]
    return doc


def test_a_tenant_disabled_by_ses_is_the_critical_verdict_with_both_statuses_and_the_cause(aws_peer, deps):
    hold_clock(deps)
    aws_peer.set_account(production_access=True)
    deps.settings.tenant = "acme"
    arn = aws_peer.add_tenant("acme", sending_status="DISABLED")
    since = deps.now() - timedelta(days=2)
    aws_peer.set_reputation_entity(arn, aws_status="DISABLED", aws_cause=CAUSE, impact="HIGH", updated=since)

    report, _ = run_checks(deps, RECIPIENT)

    f = report.verdict
    assert f is not None
    assert (f.check, f.severity.label, f.region, f.summary) == (
        "tenant.status",
        "critical",
        "us-east-1",
        "Tenant acme is disabled by SES (AwsSesManagedStatus DISABLED) in us-east-1: SES sends none of the "
        "mail sent as acme.",
    )
    assert f.evidence == [
        "Tenant acme: used because SESBOT_TENANT names it",
        "GetTenant SendingStatus: DISABLED",
        "SendingStatusAggregate: DISABLED",
        f"AwsSesManagedStatus: DISABLED since {stamp(deps, 2)} (2 days ago); Cause: {CAUSE}",
        f"CustomerManagedStatus: ENABLED since {stamp(deps, 2)} (2 days ago)",
        f"ReputationManagementPolicy: {POLICY}",
        "ReputationImpact: HIGH",
    ]
    assert "ask AWS to re-enable it" in f.fix
    assert f"wait for its reputation policy ({POLICY})" in f.fix
    assert "update-reputation-entity-customer-managed-status" not in f.fix
    assert (f.data["aws_status"], f.data["aws_cause"], f.data["customer_status"], f.data["arn"]) == (
        "DISABLED",
        CAUSE,
        "ENABLED",
        arn,
    )


def test_a_tenant_the_team_disabled_names_the_command_that_enables_it_again(aws_peer, deps):
    deps.settings.tenant = "acme"
    arn = aws_peer.add_tenant("acme", sending_status="DISABLED")
    aws_peer.set_reputation_entity(arn, customer_status="DISABLED", customer_cause="paused during the migration")
    [f] = run(deps)
    assert (f.severity.label, f.summary) == (
        "critical",
        "Tenant acme is disabled by the team (CustomerManagedStatus DISABLED) in us-east-1: SES sends none of "
        "the mail sent as acme.",
    )
    assert f.evidence[3].startswith("AwsSesManagedStatus: ENABLED since ")
    assert f.evidence[4].startswith("CustomerManagedStatus: DISABLED since ")
    assert f.evidence[4].endswith("; Cause: paused during the migration")
    assert (
        "`aws sesv2 update-reputation-entity-customer-managed-status --reputation-entity-type RESOURCE "
        f"--reputation-entity-reference {arn} --sending-status ENABLED --region us-east-1`"
    ) in f.fix
    assert "ask AWS" not in f.fix


def test_a_reinstated_tenant_warns_that_it_sends_again_on_probation(aws_peer, deps):
    deps.settings.tenant = "acme"
    arn = aws_peer.add_tenant("acme", sending_status="REINSTATED")
    aws_peer.set_reputation_entity(arn, customer_status="REINSTATED")
    [f] = run(deps)
    assert (f.severity.label, f.summary) == (
        "warning",
        "Tenant acme is reinstated in us-east-1: it sends again, on probation, while its reputation findings "
        "may still be active.",
    )
    assert f.evidence[-1] == (
        "REINSTATED: sending is allowed again, even while reputation findings are still active; if the bounces "
        "or complaints that caused them continue, its reputation policy can disable it again."
    )
    assert f"aws sesv2 list-recommendations --filter RESOURCE_ARN={arn} --region us-east-1" in f.fix


def test_an_enabled_tenant_passes(aws_peer, deps):
    deps.settings.tenant = "acme"
    arn = aws_peer.add_tenant("acme")
    aws_peer.set_reputation_entity(arn)
    [f] = run(deps)
    assert (f.severity.label, f.summary, f.data["aggregate"]) == (
        "ok",
        "Tenant acme is enabled in us-east-1.",
        "ENABLED",
    )


def test_a_tenant_status_the_bot_does_not_know_is_a_warning_that_names_it(aws_peer, deps):
    deps.settings.tenant = "acme"
    aws_peer.allow_newer_values("SUSPENDED")  # SES may answer a status newer than botocore's list
    arn = aws_peer.add_tenant("acme", sending_status="SUSPENDED")
    aws_peer.set_reputation_entity(arn, aws_status="SUSPENDED", aggregate="SUSPENDED")
    [f] = run(deps)
    assert (f.severity.label, f.summary) == (
        "warning",
        "Tenant acme reports a sending status this bot does not know in us-east-1 (SendingStatus SUSPENDED, "
        "SendingStatusAggregate SUSPENDED, AwsSesManagedStatus SUSPENDED): it may not send the mail sent as acme.",
    )


def test_a_suspended_aggregate_alone_is_not_an_enabled_tenant(aws_peer, deps):
    deps.settings.tenant = "acme"
    aws_peer.allow_newer_values("SUSPENDED")
    arn = aws_peer.add_tenant("acme")
    aws_peer.set_reputation_entity(arn, aggregate="SUSPENDED")
    [f] = run(deps)
    assert (f.severity.label, f.data["aggregate"]) == ("warning", "SUSPENDED")
    assert "(SendingStatusAggregate SUSPENDED)" in f.summary


def test_every_sending_status_botocore_lists_has_a_severity():
    model = botocore.session.get_session().get_service_model("sesv2")
    assert set(STATUS_SEVERITY) == set(model.shape_for("SendingStatus").enum)


def test_the_tenant_comes_from_the_tag_of_an_ingested_bounce(aws_peer, deps):
    hold_clock(deps)
    ingest_documents(deps.store, [tagged_bounce(deps, "shop-eu")], "test", now=deps.now())
    arn = aws_peer.add_tenant("shop-eu", sending_status="DISABLED")
    aws_peer.set_reputation_entity(arn, aws_status="DISABLED", aws_cause=CAUSE)
    [f] = run(deps)
    assert (f.severity.label, f.data["tenant"], f.data["sources"]) == ("critical", "shop-eu", ["events"])
    assert f.evidence[0] == (
        f"Tenant shop-eu: used because the ses:tenant-name tag of 1 stored event to {RECIPIENT} "
        f"(latest {stamp(deps, 2)} (2 days ago))"
    )


def test_a_tenant_tag_older_than_the_window_is_not_used(aws_peer, deps):
    ingest_documents(deps.store, [tagged_bounce(deps, "shop-eu", days_ago=45)], "test", now=deps.now())
    aws_peer.add_tenant("shop-eu", sending_status="DISABLED")
    [f] = run(deps)
    assert (f.severity.label, f.summary) == (
        "info",
        "The account has tenants in us-east-1, but none is tied to this mail.",
    )
    assert "SESBOT_TENANT" in f.fix


def test_the_tenant_comes_from_sesbot_tenant(aws_peer, deps):
    deps.settings.tenant = "acme"
    aws_peer.add_tenant("acme")
    [f] = run(deps)
    assert (f.severity.label, f.data["sources"], f.evidence[0]) == (
        "ok",
        ["setting"],
        "Tenant acme: used because SESBOT_TENANT names it",
    )
    # No reputation entity for the tenant: GetTenant's status decides, and the evidence says so.
    assert f.evidence[2] == f"{f.data['arn']}: no reputation entity (ListReputationEntities)"


def test_the_tenant_comes_from_the_sender_identitys_membership(aws_peer, deps):
    identity = aws_peer.arn("identity", SENDER_DOMAIN)
    arn = aws_peer.add_tenant("newsletters", sending_status="DISABLED", resources=[identity])
    aws_peer.add_tenant("unrelated")
    aws_peer.set_reputation_entity(arn, aws_status="DISABLED", aws_cause=CAUSE)
    [f] = run(deps)
    assert (f.severity.label, f.data["tenant"], f.data["sources"]) == ("critical", "newsletters", ["identity"])
    assert f.evidence[0] == f"Tenant newsletters: used because the sender identity {SENDER_DOMAIN} belongs to it"


def test_every_tenant_the_mail_used_gets_its_own_finding(aws_peer, deps):
    deps.settings.tenant = "acme"
    ingest_documents(deps.store, [tagged_bounce(deps, "shop-eu")], "test", now=deps.now())
    aws_peer.add_tenant("acme")
    arn = aws_peer.add_tenant("shop-eu", sending_status="DISABLED")
    aws_peer.set_reputation_entity(arn, aws_status="DISABLED")
    findings = run(deps)
    assert [(f.data["tenant"], f.severity.label) for f in findings] == [("shop-eu", "critical"), ("acme", "ok")]


def test_get_tenant_refused_for_one_tenant_degrades_only_that_tenants_finding(aws_peer, deps):
    deps.settings.tenant = "acme"
    ingest_documents(deps.store, [tagged_bounce(deps, "shop-eu")], "test", now=deps.now())
    for name in ("acme", "shop-eu"):
        arn = aws_peer.add_tenant(name, sending_status="DISABLED")
        aws_peer.set_reputation_entity(arn, aws_status="DISABLED")
    # The IAM policy allows GetTenant on some tenant ARNs only: one of the two (asked at once) is refused.
    aws_peer.fail("GetTenant", code="AccessDeniedException", status=403, count=1)
    findings = run(deps)
    by_severity = {f.severity.label: f for f in findings}
    assert sorted(by_severity) == ["critical", "info"]
    refused, judged = by_severity["info"].data["tenant"], by_severity["critical"].data["tenant"]
    assert {refused, judged} == {"acme", "shop-eu"}
    assert by_severity["info"].summary.startswith(
        f"Could not read tenant {refused} in us-east-1: AWS refused GetTenant (AccessDenied)"
    )
    assert "ses:GetTenant" in by_severity["info"].fix
    assert by_severity["critical"].summary.startswith(f"Tenant {judged} is disabled by SES")


def test_a_configured_tenant_that_does_not_exist_is_a_warning(aws_peer, deps):
    deps.settings.tenant = "acme"
    [f] = run(deps)
    assert (f.severity.label, f.summary) == (
        "warning",
        "Tenant acme does not exist in us-east-1: SESBOT_TENANT names a tenant SES does not know there.",
    )
    assert "aws sesv2 list-tenants --region us-east-1" in f.fix


def test_an_account_without_tenants_is_one_quiet_ok_line(aws_peer, deps):
    [f] = run(deps)
    assert (f.severity.label, f.summary, f.data) == (
        "ok",
        "No tenants in us-east-1: no mail is sent as a tenant there.",
        {"tenants": []},
    )
    assert aws_peer.calls_to("ListResourceTenants") == []


def test_a_refused_list_tenants_is_one_info_line_and_the_rest_of_the_report(aws_peer, deps):
    aws_peer.fail("ListTenants", code="AccessDeniedException", status=403, count=None)
    report, _ = run_checks(deps, RECIPIENT)
    mine = [f for f in report.findings if f.check == "tenant.status"]
    assert [(f.severity.label, f.summary, f.data) for f in mine] == [
        ("info", "Tenant sending status is not available on this account in us-east-1.", {"available": False})
    ]
    assert "ses:ListTenants" in mine[0].fix
    others = {f.check for f in report.findings} - {"tenant.status"}
    assert {"account.sandbox", "account.sending", "recipient.suppressed"} <= others
    assert report.verdict is not None and report.verdict.check != "tenant.status"


def test_the_tenants_are_checked_in_every_configured_region(aws_peer, deps):
    deps.settings.regions = ["us-east-1", "eu-west-1"]
    deps.settings.tenant = "acme"
    aws_peer.add_tenant("acme", region="us-east-1")
    arn = aws_peer.add_tenant("acme", sending_status="DISABLED", region="eu-west-1")
    aws_peer.set_reputation_entity(arn, aws_status="DISABLED", region="eu-west-1")
    findings = run(deps)
    assert [(f.region, f.severity.label) for f in findings] == [("eu-west-1", "critical"), ("us-east-1", "ok")]
    assert len(aws_peer.calls_to("GetCallerIdentity")) == 1


def test_a_region_without_tenant_operations_is_one_info_line(aws_peer, deps):
    aws_peer.fail("ListTenants", code="UnknownOperationException", status=400, count=None)
    [f] = run(deps)
    assert (f.severity.label, f.summary) == (
        "info",
        "Tenant sending status is not available on this account in us-east-1.",
    )
    assert "SESv2 feature" in f.fix


def test_a_refused_get_tenant_for_the_configured_tenant_is_one_info_line(aws_peer, deps):
    deps.settings.tenant = "acme"
    aws_peer.add_tenant("acme")
    aws_peer.fail("GetTenant", code="AccessDeniedException", status=403, count=None)
    [f] = run(deps)
    assert (f.severity.label, f.data) == ("info", {"available": False})
    assert "ses:GetTenant" in f.fix
