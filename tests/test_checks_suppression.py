"""The suppression-list check against the local AWS peer's account suppression list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import bot.checks.all  # noqa: F401  (registers every check, in report order)
from bot.checks import REGISTRY
from bot.findings import Finding
from bot.ingest import ingest_documents
from bot.runner import run_checks
from tests.conftest import bounce_doc
from tests.test_checks_validation import delivered

RECIPIENT = "jo@example.com"
REMOVE = "`aws sesv2 delete-suppressed-destination --email-address jo@example.com --region us-east-1`"
DOC = "https://docs.aws.amazon.com/ses/latest/dg/sending-email-suppression-list.html"


def run(deps, target: str = RECIPIENT) -> list[Finding]:
    checks = [c for c in REGISTRY if c.id == "recipient.suppressed"]
    report, _ = run_checks(deps, target, checks=checks)
    return report.findings


def test_an_address_not_on_the_list_passes_and_names_what_the_list_collects(aws_peer, deps):
    [f] = run(deps)
    assert (f.severity.label, f.summary, f.evidence, f.data) == (
        "ok",
        "jo@example.com is not on the account suppression list in us-east-1.",
        [
            "GetSuppressedDestination(jo@example.com): NotFoundException",
            "Account suppression list collects: BOUNCE, COMPLAINT",
        ],
        {"suppressed": False},
    )


def test_a_bounce_suppressed_address_is_critical_with_when_why_and_how_to_remove(aws_peer, deps):
    since = deps.now() - timedelta(days=3, hours=1)
    aws_peer.suppress(
        RECIPIENT,
        "BOUNCE",
        last_update=since,
        message_id="0100018f2a7c3d4e-5b6a7c8d-1111-2222-3333-444455556666-000000",
        feedback_id="0100018f2a7c4e5f-aaaa-bbbb-cccc-ddddeeeeffff-000000",
    )
    [f] = run(deps)
    assert (f.severity.label, f.region, f.summary) == (
        "critical",
        "us-east-1",
        "jo@example.com is on the account suppression list in us-east-1 after a hard bounce: "
        "SES accepts mail "
        "to it but never delivers it.",
    )
    assert f.evidence == [
        "Reason: BOUNCE",
        f"On the list since: {since.strftime('%Y-%m-%d %H:%M UTC')} (3 days ago)",
        "Put there by message: 0100018f2a7c3d4e-5b6a7c8d-1111-2222-3333-444455556666-000000",
        "Feedback ID: 0100018f2a7c4e5f-aaaa-bbbb-cccc-ddddeeeeffff-000000",
        "Account suppression list collects: BOUNCE, COMPLAINT",
        "SES accepts sends to this address, returns a MessageId, and never delivers them; each one is "
        "reported as a Permanent/OnAccountSuppressionList bounce.",
    ]
    assert f.fix == (
        "Make sure the address is valid now (ask the person; check the recipient.bounces history), then "
        f"remove it: {REMOVE}. ({DOC})"
    )
    assert f.data["reason"] == "BOUNCE"
    assert f.data["message_id"].startswith("0100018f2a7c3d4e")


def test_an_address_a_blocklist_bounce_suppressed_says_to_clear_the_listing_before_removing_it(aws_peer, deps):
    at = deps.now() - timedelta(hours=2)
    text = "smtp; 554 5.7.1 Service unavailable; Client host [198.51.100.23] blocked using zen.spamhaus.org"
    ingest_documents(deps.store, [bounce_doc(1, RECIPIENT, text, at)], origin="test")
    aws_peer.suppress(RECIPIENT, "BOUNCE", last_update=at)
    [f] = run(deps)
    # The listing is the cause (recipient.blocklist, critical); this entry is its consequence and ranks after it.
    assert (f.severity.label, f.summary) == (
        "error",
        "jo@example.com is on the account suppression list in us-east-1 after a hard bounce naming a blocklist "
        "(recipient.blocklist has the cause): SES accepts mail to it but never delivers it.",
    )
    assert f.fix == (
        "Clear the listing first (see recipient.blocklist), then remove the address from the suppression list: "
        f"{REMOVE}. Removed while the listing stands, it only bounces again. ({DOC})"
    )


def test_a_complaint_suppressed_address_warns_before_removing_it(aws_peer, deps):
    aws_peer.suppress(RECIPIENT, "COMPLAINT", last_update=datetime.now(UTC))
    [f] = run(deps)
    assert f.severity.label == "critical"
    assert f.summary.endswith("after they marked a message as spam: SES accepts mail to it but never delivers it.")
    assert f.fix.startswith(f"Only if jo@example.com has asked to get your mail again, remove it: {REMOVE}.")
    assert f.evidence[1].endswith("(just now)")


def test_a_disabled_account_list_is_pointed_out_when_the_address_is_not_on_it(aws_peer, deps):
    aws_peer.set_account(suppressed_reasons=[])
    [f] = run(deps)
    assert (f.severity.label, f.summary) == (
        "ok",
        "jo@example.com is not on the account suppression list in us-east-1. "
        "(The account-level suppression list is turned off.)",
    )
    assert f.evidence[-1] == "Account suppression list collects nothing (SuppressedReasons is empty)"
    assert "put-account-suppression-attributes --suppressed-reasons BOUNCE COMPLAINT" in f.fix


def test_the_list_is_checked_in_every_configured_region(aws_peer, deps):
    deps.settings.regions = ["us-east-1", "eu-west-1"]
    aws_peer.suppress(RECIPIENT, "BOUNCE", region="eu-west-1")
    findings = run(deps)
    assert [(f.region, f.severity.label) for f in findings] == [
        ("eu-west-1", "critical"),
        ("us-east-1", "ok"),
    ]


def test_a_refused_lookup_is_a_could_not_check_that_names_the_permission(aws_peer, deps):
    aws_peer.fail("GetSuppressedDestination", code="AccessDeniedException", status=403, count=None)
    [f] = run(deps)
    assert (f.severity.label, f.data) == ("warning", {"could_not_check": True})
    assert f.summary == (
        "Could not check recipient.suppressed: AWS refused GetSuppressedDestination (AccessDenied): "
        "grant the "
        "bot's role that permission (see README, IAM policy)"
    )
    assert "ses:GetSuppressedDestination" in f.fix


def test_an_unreadable_account_only_drops_the_note_not_the_answer(aws_peer, deps):
    aws_peer.fail("GetAccount", code="AccessDeniedException", status=403, count=None)
    aws_peer.suppress(RECIPIENT, "BOUNCE")
    [f] = run(deps)
    assert f.severity.label == "critical"
    assert not any(e.startswith("Account suppression list") for e in f.evidence)


# -- the tenants' own suppression lists ----------------------------------------------------------------

TENANT_DOC = "https://docs.aws.amazon.com/ses/latest/dg/sending-email-suppression-list-tenant-level-manage.html"
TENANT_REMOVE = (
    "`aws sesv2 delete-suppressed-destination --email-address jo@example.com --tenant-name acme --region us-east-1`"
)


def test_a_tenant_list_entry_is_critical_while_the_account_list_is_clean(aws_peer, deps):
    deps.settings.tenant = "acme"
    aws_peer.add_tenant("acme", suppressed_reasons=["BOUNCE"], suppression_scope="TENANT")
    since = deps.now() - timedelta(days=5, hours=1)
    aws_peer.suppress(RECIPIENT, "BOUNCE", last_update=since, message_id="m-tenant-1", tenant="acme")
    [f] = run(deps)
    assert (f.severity.label, f.region, f.summary) == (
        "critical",
        "us-east-1",
        "jo@example.com is not on the account suppression list in us-east-1, but on tenant acme's list after a "
        "hard bounce: SES accepts mail sent as acme to it but never delivers it.",
    )
    assert f.evidence == [
        "Tenant acme: used because SESBOT_TENANT names it",
        "GetSuppressedDestination(jo@example.com): NotFoundException",
        "GetSuppressedDestination(jo@example.com, TenantName=acme): on tenant acme's list",
        "Reason: BOUNCE",
        f"On tenant acme's list since: {since.strftime('%Y-%m-%d %H:%M UTC')} (5 days ago)",
        "Put there by message: m-tenant-1",
        "Tenant acme: SuppressionScope TENANT: the tenant uses its own suppression list, so this list, not the "
        "account's, is the one that applies to mail sent as acme",
        "Tenant acme's suppression list collects: BOUNCE",
    ]
    assert f.fix == (
        "Make sure the address is valid now (ask the person; check the recipient.bounces history), then "
        f"remove it from tenant acme's list: {TENANT_REMOVE}. ({TENANT_DOC})"
    )
    assert (f.data["tenant"], f.data["scope"], f.data["reason"]) == ("acme", "TENANT", "BOUNCE")


def test_a_tenant_list_entry_of_a_tenant_on_the_account_scope_is_only_a_warning(aws_peer, deps):
    deps.settings.tenant = "acme"
    aws_peer.add_tenant("acme", suppression_scope="ACCOUNT")
    aws_peer.suppress(RECIPIENT, "COMPLAINT", tenant="acme")
    [f] = run(deps)
    assert (f.severity.label, f.summary) == (
        "warning",
        "jo@example.com is not on the account suppression list in us-east-1, but on tenant acme's list after "
        "they marked a message as spam; the tenant uses the account list (SuppressionScope ACCOUNT), so that "
        "entry stops none of its mail today.",
    )
    assert TENANT_REMOVE in f.fix


def test_a_tenant_list_entry_of_a_tenant_without_a_scope_is_a_warning_as_ses_defaults_to_the_account_list(
    aws_peer, deps
):
    deps.settings.tenant = "acme"
    aws_peer.add_tenant("acme", suppressed_reasons=["BOUNCE"])  # no SuppressionScope: SES's default is ACCOUNT
    aws_peer.suppress(RECIPIENT, "BOUNCE", tenant="acme")
    [f] = run(deps)
    assert (f.severity.label, f.data["scope"]) == ("warning", None)
    assert f.summary.endswith("so that entry stops none of its mail today.")
    assert (
        "Tenant acme: SuppressionScope not reported, so SES's default ACCOUNT: the tenant uses the account-level "
        "suppression list, so this entry stops none of its mail while the scope stays ACCOUNT"
    ) in f.evidence


def test_an_address_on_both_lists_keeps_the_account_finding_as_a_warning_and_the_tenants_first(aws_peer, deps):
    deps.settings.tenant = "acme"
    aws_peer.add_tenant("acme", suppression_scope="TENANT")
    aws_peer.suppress(RECIPIENT, "BOUNCE")
    aws_peer.suppress(RECIPIENT, "BOUNCE", tenant="acme")
    tenant, account = run(deps)  # the tenant's entry first: it is the one that stops mail sent as acme
    assert (account.severity.label, account.summary) == (
        "warning",
        "jo@example.com is on the account suppression list in us-east-1 after a hard bounce, but mail sent as "
        "acme is checked against the tenant's own list (SuppressionScope TENANT): this entry stops only mail "
        "sent without a tenant.",
    )
    assert account.fix.endswith(f"remove it: {REMOVE}. ({DOC})")
    assert account.evidence[-1] == (
        "Tenant acme uses its own suppression list (SuppressionScope TENANT): mail sent as acme is checked "
        "against that list, not this one."
    )
    assert (tenant.severity.label, tenant.summary) == (
        "critical",
        "jo@example.com is also on tenant acme's suppression list in us-east-1 after a hard bounce: SES accepts "
        "mail sent as acme to it but never delivers it.",
    )


def test_a_clean_tenant_list_is_named_in_the_passing_finding(aws_peer, deps):
    deps.settings.tenant = "acme"
    aws_peer.add_tenant("acme", suppression_scope="TENANT")
    aws_peer.suppress(RECIPIENT, "BOUNCE", tenant="other")
    [f] = run(deps)
    assert (f.severity.label, f.summary) == (
        "ok",
        "jo@example.com is not on the account suppression list in us-east-1. It is not on the suppression "
        "list of tenant acme either.",
    )
    assert f.evidence[2] == "GetSuppressedDestination(jo@example.com, TenantName=acme): NotFoundException"
    assert f.evidence[3].startswith("Tenant acme: SuppressionScope TENANT")


def test_the_tenant_list_of_the_sender_identitys_tenant_is_read_too(aws_peer, deps):
    identity = aws_peer.arn("identity", "mail.example.com")
    aws_peer.add_tenant("newsletters", resources=[identity], suppression_scope="TENANT")
    aws_peer.suppress(RECIPIENT, "BOUNCE", tenant="newsletters")
    [f] = run(deps)
    assert (f.severity.label, f.data["tenant"]) == ("critical", "newsletters")
    assert f.evidence[0] == "Tenant newsletters: used because the sender identity mail.example.com belongs to it"


def test_a_refused_tenant_list_leaves_the_account_answer_as_it_was(aws_peer, deps):
    deps.settings.tenant = "acme"
    aws_peer.add_tenant("acme")
    aws_peer.fail("GetTenant", code="AccessDeniedException", status=403, count=None)
    [f] = run(deps)
    assert (f.severity.label, f.summary.split(". ")[0]) == (
        "ok",
        "jo@example.com is not on the account suppression list in us-east-1",
    )
    assert f.evidence[-1] == (
        "Tenant acme's suppression settings could not be read: AWS refused GetTenant (AccessDenied): grant the "
        "bot's role that permission (see README, IAM policy)"
    )


def test_the_account_entry_stops_no_mail_sent_as_a_tenant_with_its_own_list(aws_peer, deps):
    deps.settings.tenant = "shop"
    aws_peer.add_tenant("shop", suppression_scope="TENANT")
    aws_peer.suppress(RECIPIENT, "BOUNCE")  # on the account list only
    [f] = run(deps)
    assert f.severity.label == "warning"
    assert "this entry stops only mail sent without a tenant" in f.summary


def test_a_complaint_entry_a_set_does_not_apply_is_only_a_warning_that_mail_still_reaches_it(aws_peer, deps):
    aws_peer.client("sesv2", "us-east-1").create_configuration_set(ConfigurationSetName="News")
    aws_peer.set_config_set_options("News", suppressed_reasons=["BOUNCE"])
    deps.settings.configuration_set = "News"
    aws_peer.suppress(RECIPIENT, "COMPLAINT", last_update=deps.now() - timedelta(days=5))
    [f] = run(deps)
    assert (f.severity.label, f.summary) == (
        "warning",
        "jo@example.com is on the account suppression list in us-east-1 for COMPLAINT, but set News does not "
        "apply it: mail still reaches someone who complained.",
    )
    assert f.evidence[-1] == (
        "Configuration set News (from SESBOT_CONFIGURATION_SET): SuppressionOptions.SuppressedReasons BOUNCE, "
        "so COMPLAINT entries stop none of its mail"
    )
    assert "make configuration set News suppress COMPLAINT again" in f.fix


def test_a_set_that_suppresses_the_entrys_reason_leaves_it_critical(aws_peer, deps):
    aws_peer.client("sesv2", "us-east-1").create_configuration_set(ConfigurationSetName="News")
    aws_peer.set_config_set_options("News", suppressed_reasons=["BOUNCE", "COMPLAINT"])
    deps.settings.configuration_set = "News"
    aws_peer.suppress(RECIPIENT, "COMPLAINT", last_update=deps.now() - timedelta(days=5))
    [f] = run(deps)
    assert f.severity.label == "critical"


def test_a_delivery_after_the_listing_shows_the_entry_is_not_blocking(aws_peer, deps):
    listed = deps.now() - timedelta(days=5)
    aws_peer.suppress(RECIPIENT, "BOUNCE", last_update=listed)
    delivered(deps, RECIPIENT, deps.now() - timedelta(hours=2))
    [f] = run(deps)
    assert f.severity.label == "warning"
    assert f.summary.startswith("jo@example.com is on the account suppression list in us-east-1 for BOUNCE, but ")
    assert f.summary.endswith(" (2 hours ago), after it was listed: mail still reaches an address that hard-bounced.")
    assert f.evidence[-1].startswith("Last delivery to jo@example.com: ")


def test_a_delivery_before_the_listing_leaves_the_entry_critical(aws_peer, deps):
    aws_peer.suppress(RECIPIENT, "BOUNCE", last_update=deps.now() - timedelta(hours=2))
    delivered(deps, RECIPIENT, deps.now() - timedelta(days=5))
    [f] = run(deps)
    assert f.severity.label == "critical"
