"""The configuration-set checks against the local AWS peer, DNS peer and SMTP peer.

Which sets: the recipient's stored events (ingested through the real ingest path), the sender identity's
default set, SESBOT_CONFIGURATION_SET. What is judged: paused and auto-paused sets, TLS REQUIRE against a
real SMTP server standing in for the recipient's MX, dedicated IPs in warm-up, suppression overrides.
"""

from __future__ import annotations

import textwrap
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.session
import pytest

import bot.checks.all  # noqa: F401  (registers every check, in report order)
from bot.checks import REGISTRY
from bot.checks.config_set import ENTITY_STATUS_SEVERITY
from bot.findings import Finding, Report
from bot.ingest import ingest_documents
from bot.runner import run_checks
from bot.store import iso

RECIPIENT = "jo@example.com"
REGION = "us-east-1"
SET = "Marketing"
IDS = ("config_set.sending", "config_set.delivery")


def run(deps, *ids: str, target: str = RECIPIENT) -> list[Finding]:
    """The ranked findings of the named checks only, run as the `why` command runs them."""
    checks = [c for c in REGISTRY if c.id in ids]
    assert sorted(c.id for c in checks) == sorted(ids)
    report, _ = run_checks(deps, target, checks=checks)
    return report.findings


def why(deps, target: str = RECIPIENT) -> Report:
    """A full `why` run: every check of the suite."""
    report, _ = run_checks(deps, target)
    return report


def brief(findings: list[Finding]) -> list[tuple[str, str, str | None, str]]:
    return [(f.check, f.severity.label, f.region, f.summary) for f in findings]


def create_set(aws_peer, name: str = SET) -> None:
    aws_peer.client("sesv2", REGION).create_configuration_set(ConfigurationSetName=name)


def use_set(deps, name: str = SET) -> None:
    deps.settings.configuration_set = name


def bounce_with_tag(recipient: str, config_set: str, when: datetime) -> dict[str, Any]:
    """An SES event-publishing Bounce whose mail went through `config_set` (its `ses:configuration-set` tag)."""
    ts = iso(when)
    return {
        "eventType": "Bounce",
        "mail": {
            "timestamp": ts,
            "source": "news@mail.example.com",
            "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/mail.example.com",
            "sendingAccountId": "123456789012",
            "messageId": f"0100018f-{uuid.uuid4()}-000000",
            "destination": [recipient],
            "tags": {"ses:configuration-set": [config_set]},
        },
        "bounce": {
            "bounceType": "Transient",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": recipient, "action": "failed", "status": "4.4.7"}],
            "timestamp": ts,
            "feedbackId": f"feedback-{uuid.uuid4()}",
            "reportingMTA": "dsn; a8-70.smtp-out.amazonses.com",
        },
    }


def mx_zone(dns_peer, domain: str = "example.com") -> None:
    zone = f"""
        $ORIGIN {domain}.
        @      IN MX 10 mx1.{domain}.
        @      IN MX 20 mx2.{domain}.
        mx1    IN A 127.0.0.1
        mx2    IN A 127.0.0.1
    """
    dns_peer.load_zone_text(textwrap.dedent(zone))


def require_tls(aws_peer, deps, name: str = SET) -> None:
    create_set(aws_peer, name)
    aws_peer.set_config_set_options(name, tls_policy="REQUIRE")
    use_set(deps, name)


# -- which sets ------------------------------------------------------------------------------------------


def test_no_set_found_is_one_quiet_line_per_check_saying_where_it_looked(aws_peer, deps):
    findings = run(deps, *IDS)
    assert brief(findings) == [
        (
            "config_set.sending",
            "ok",
            REGION,
            "No configuration set was found for mail to jo@example.com in us-east-1.",
        ),
        (
            "config_set.delivery",
            "ok",
            REGION,
            "No configuration set was found for mail to jo@example.com in us-east-1, so no delivery options apply.",
        ),
    ]
    assert findings[0].evidence == [
        "Looked at:",
        "  The recipient's events in us-east-1: none stored in the last 30 days",
        "  Sender identity: news@mail.example.com: not an identity in us-east-1; "
        "mail.example.com: not an identity in us-east-1 (nor is a parent domain)",
        "  SESBOT_CONFIGURATION_SET: not set",
    ]
    assert findings[0].data == {"sets": {}}


def test_the_set_from_the_recipients_events_is_checked_and_its_source_named(aws_peer, deps):
    create_set(aws_peer)
    when = datetime.now(UTC) - timedelta(hours=2)
    docs = [bounce_with_tag(RECIPIENT, SET, when), bounce_with_tag(RECIPIENT, SET, when - timedelta(days=1))]
    result = ingest_documents(deps.store, docs, origin="test")
    assert (result.ingested, result.quarantined) == (2, 0)
    [f] = run(deps, "config_set.sending")
    assert brief([f]) == [
        ("config_set.sending", "ok", REGION, "Sending is enabled for configuration set Marketing in us-east-1.")
    ]
    stamp = iso(when)[:16].replace("T", " ")
    assert f.evidence[0] == (
        f"Marketing: from the recipient's events (2 events in the last 30 days, latest {stamp} UTC (2 hours ago))"
    )
    assert f.evidence[1] == "SendingOptions.SendingEnabled: true"
    assert f.data["sets"] == {"Marketing": {"sources": ["events"], "sending_enabled": True}}


def test_the_sender_identitys_default_set_is_checked_and_named_as_such(aws_peer, deps):
    create_set(aws_peer)
    aws_peer.set_identity("mail.example.com", region=REGION)
    client = aws_peer.client("sesv2", REGION)
    client.put_email_identity_configuration_set_attributes(EmailIdentity="mail.example.com", ConfigurationSetName=SET)
    client.put_configuration_set_sending_options(ConfigurationSetName=SET, SendingEnabled=False)
    [f] = run(deps, "config_set.sending")
    assert (f.severity.label, f.evidence[0]) == (
        "critical",
        "Marketing: from the default configuration set of the sender identity mail.example.com",
    )
    assert f.data["sources"] == ["identity"]


def test_a_set_that_does_not_exist_is_a_warning_naming_it(aws_peer, deps):
    use_set(deps, "Gone")
    findings = run(deps, *IDS)
    assert brief(findings) == [
        (
            "config_set.sending",
            "warning",
            REGION,
            "The configuration set Gone does not exist in us-east-1: SESBOT_CONFIGURATION_SET names it.",
        )
    ]
    [f] = findings
    assert f.evidence[0] == "Gone: from SESBOT_CONFIGURATION_SET"
    assert f.evidence[1].startswith("GetConfigurationSet(Gone): NotFoundException")
    assert f.fix.startswith("Correct SESBOT_CONFIGURATION_SET, or create the set in us-east-1")


# -- config_set.sending ----------------------------------------------------------------------------------


def test_a_paused_configuration_set_is_the_verdict_of_why(aws_peer, dns_peer, deps):
    aws_peer.set_account(production_access=True)
    aws_peer.set_identity("mail.example.com", region=REGION)
    mx_zone(dns_peer)
    create_set(aws_peer)
    aws_peer.client("sesv2", REGION).put_configuration_set_sending_options(
        ConfigurationSetName=SET, SendingEnabled=False
    )
    use_set(deps)
    report = why(deps)
    verdict = report.verdict
    assert verdict is not None
    assert brief([verdict]) == [
        (
            "config_set.sending",
            "critical",
            REGION,
            "The configuration set Marketing is paused in us-east-1 (SendingEnabled false): SES refuses every "
            "send through it (SendingPausedException).",
        )
    ]
    assert verdict.evidence[:2] == ["Marketing: from SESBOT_CONFIGURATION_SET", "SendingOptions.SendingEnabled: false"]
    assert verdict.fix.startswith(
        "Resume it: `aws sesv2 put-configuration-set-sending-options --configuration-set-name Marketing "
        "--sending-enabled --region us-east-1`."
    )
    assert {"account.sending", "sender.identity", "recipient.domain"} <= {f.check for f in report.findings}


def test_a_set_paused_by_ses_is_critical_with_the_cause_since_when_and_the_policy(aws_peer, deps):
    create_set(aws_peer)
    use_set(deps)
    since = datetime.now(UTC) - timedelta(days=2, hours=1)
    cause = "Bounce rate above 10% for mail sent through this configuration set"
    arn = aws_peer.arn("configuration-set", SET)
    aws_peer.set_reputation_entity(arn, aws_status="DISABLED", aws_cause=cause, impact="HIGH", updated=since)
    [f] = run(deps, "config_set.sending")
    stamp = since.strftime("%Y-%m-%d %H:%M UTC")
    assert brief([f]) == [
        (
            "config_set.sending",
            "critical",
            REGION,
            f"SES has paused the configuration set Marketing in us-east-1 since {stamp} (2 days ago) "
            "(reputation entity AwsSesManagedStatus DISABLED): no mail goes out through it.",
        )
    ]
    assert f.evidence == [
        "Marketing: from SESBOT_CONFIGURATION_SET",
        f"Reputation entity: {arn}",
        f"AwsSesManagedStatus: DISABLED since {stamp} (2 days ago)",
        f"AWS cause: {cause}",
        f"CustomerManagedStatus: ENABLED since {stamp} (2 days ago)",
        "SendingStatusAggregate: DISABLED",
        "ReputationManagementPolicy: arn:aws:ses:::reputation-policy/standard",
        "ReputationImpact: HIGH",
    ]
    assert f.fix.startswith("Fix the cause SES names")
    assert "ask AWS to reinstate the set" in f.fix
    assert (f.data["paused_by"], f.data["arn"]) == ("aws", arn)


def test_a_set_paused_by_the_team_is_critical_with_the_command_that_resumes_it(aws_peer, deps):
    create_set(aws_peer)
    use_set(deps)
    arn = aws_peer.arn("configuration-set", SET)
    aws_peer.set_reputation_entity(arn, customer_status="DISABLED", customer_cause="Paused during the migration")
    [f] = run(deps, "config_set.sending")
    assert (f.severity.label, f.summary) == (
        "critical",
        "Someone on your team paused the configuration set Marketing in us-east-1 (reputation entity "
        "CustomerManagedStatus DISABLED): no mail goes out through it.",
    )
    assert "Customer cause: Paused during the migration" in f.evidence
    assert (
        "`aws sesv2 update-reputation-entity-customer-managed-status --reputation-entity-type RESOURCE "
        f"--reputation-entity-reference {arn} --sending-status ENABLED --region us-east-1`"
    ) in f.fix


def test_a_set_whose_aggregate_sending_status_alone_is_disabled_is_critical(aws_peer, deps):
    create_set(aws_peer)
    use_set(deps)
    arn = aws_peer.arn("configuration-set", SET)
    aws_peer.set_reputation_entity(arn, aggregate="DISABLED")
    [f] = run(deps, "config_set.sending")
    assert (f.severity.label, f.summary, f.data["paused_by"]) == (
        "critical",
        "SES reports the configuration set Marketing disabled in us-east-1 (reputation entity "
        "SendingStatusAggregate DISABLED): no mail goes out through it.",
        "aggregate",
    )


def test_a_reputation_entity_status_the_bot_does_not_know_is_a_warning_that_names_it(aws_peer, deps):
    create_set(aws_peer)
    use_set(deps)
    aws_peer.allow_newer_values("SUSPENDED")  # SES may answer a status newer than botocore's list
    arn = aws_peer.arn("configuration-set", SET)
    aws_peer.set_reputation_entity(arn, aws_status="SUSPENDED", aggregate="SUSPENDED")
    [f] = run(deps, "config_set.sending")
    assert (f.severity.label, f.summary) == (
        "warning",
        "The configuration set Marketing's reputation entity reports a sending status this bot does not know in "
        "us-east-1 (AwsSesManagedStatus SUSPENDED, SendingStatusAggregate SUSPENDED): it may not send the mail "
        "through Marketing.",
    )


def test_every_reputation_entity_status_botocore_lists_has_a_severity():
    model = botocore.session.get_session().get_service_model("sesv2")
    assert set(ENTITY_STATUS_SEVERITY) == set(model.shape_for("SendingStatus").enum)


def test_a_healthy_set_without_a_reputation_entity_passes_without_noise(aws_peer, deps):
    create_set(aws_peer)
    create_set(aws_peer, "Transactional")
    use_set(deps, "Transactional")
    aws_peer.set_identity("mail.example.com", region=REGION)
    aws_peer.client("sesv2", REGION).put_email_identity_configuration_set_attributes(
        EmailIdentity="mail.example.com", ConfigurationSetName=SET
    )
    findings = run(deps, *IDS)
    assert brief(findings) == [
        (
            "config_set.sending",
            "ok",
            REGION,
            "Sending is enabled for configuration sets Marketing, Transactional in us-east-1.",
        ),
        (
            "config_set.delivery",
            "ok",
            REGION,
            "The delivery options of configuration sets Marketing, Transactional in us-east-1 hold nothing back: "
            "TLS optional, no IPs in warm-up, the account's suppression.",
        ),
    ]
    assert "Reputation entity: none (SES tracks no reputation entity for this set)" in findings[0].evidence
    assert findings[1].evidence == [
        "Marketing: from the default configuration set of the sender identity mail.example.com",
        "  TlsPolicy OPTIONAL, pool shared, suppression the account settings",
        "Transactional: from SESBOT_CONFIGURATION_SET",
        "  TlsPolicy OPTIONAL, pool shared, suppression the account settings",
    ]


def test_access_denied_on_get_configuration_set_is_one_line_and_the_rest_of_the_report_stays(aws_peer, deps):
    aws_peer.set_account(production_access=True)
    create_set(aws_peer)
    use_set(deps)
    aws_peer.fail("GetConfigurationSet", code="AccessDeniedException", status=403, count=None)
    report = why(deps)
    mine = [f for f in report.findings if f.check.startswith("config_set.")]
    assert brief(mine) == [
        (
            "config_set.sending",
            "info",
            REGION,
            "Whether configuration set Marketing is paused could not be read in us-east-1: the bot may not call "
            "GetConfigurationSet.",
        )
    ]
    assert (
        mine[0].fix == "Allow `ses:GetConfigurationSet` for the bot's IAM role or user (see the README's IAM policy)."
    )
    assert mine[0].data == {"available": False, "sets": ["Marketing"]}
    others = {f.check for f in report.findings}
    assert {"account.sandbox", "account.sending", "sender.identity", "recipient.domain"} <= others


# -- config_set.delivery: TLS REQUIRE --------------------------------------------------------------------


def test_tls_required_with_an_mx_without_starttls_is_critical(aws_peer, dns_peer, deps, start_peer):
    mx = start_peer("no_starttls")
    mx_zone(dns_peer)
    deps.settings.mx_port = mx.port
    require_tls(aws_peer, deps)
    [f] = run(deps, "config_set.delivery")
    where = f"mx1.example.com (127.0.0.1):{mx.port}"
    assert brief([f]) == [
        (
            "config_set.delivery",
            "critical",
            REGION,
            f"The configuration set Marketing in us-east-1 requires TLS and example.com's MX ({where}) does not "
            "offer STARTTLS: SES will never deliver to it while the set requires TLS.",
        )
    ]
    assert f.evidence[:4] == [
        "Marketing: from SESBOT_CONFIGURATION_SET",
        "DeliveryOptions.TlsPolicy: REQUIRE",
        "MX example.com: 10 mx1.example.com, 20 mx2.example.com",
        f"Connected to {where}; banner: 220 email-smtp.amazonaws.com ESMTP SimpleEmailService-d-TESTPEER0",
    ]
    assert f.evidence[4].startswith("EHLO advertised: ")
    assert "STARTTLS" not in f.evidence[4]
    assert f.fix.startswith(
        "Set the TLS policy to OPTIONAL (`aws sesv2 put-configuration-set-delivery-options "
        "--configuration-set-name Marketing --tls-policy OPTIONAL --region us-east-1`), or send this recipient's "
        "mail through another set"
    )
    assert (f.data["starttls"], f.data["tls_policy"]) == ("not_offered", "REQUIRE")


def test_tls_required_with_an_mx_offering_starttls_is_ok_and_says_how_it_was_judged(
    aws_peer, dns_peer, deps, start_peer
):
    mx = start_peer("starttls")
    mx_zone(dns_peer)
    deps.settings.mx_port = mx.port
    require_tls(aws_peer, deps)
    [f] = run(deps, "config_set.delivery")
    assert brief([f]) == [
        (
            "config_set.delivery",
            "ok",
            REGION,
            "The configuration set Marketing in us-east-1 requires TLS, and example.com's MX offers STARTTLS "
            f"(judged from here: mx1.example.com (127.0.0.1):{mx.port}, EHLO advertised STARTTLS and the TLS "
            "handshake worked).",
        )
    ]
    assert "STARTTLS" in f.evidence[4]
    assert f.evidence[5].startswith("STARTTLS: 220")
    assert f.evidence[6].startswith("TLS handshake: TLSv1.")
    # The peer's certificate is from a CA no system trusts: SES does not require a trusted one, nor does the check.
    assert f.evidence[7].endswith("(not verified: SES does not require a trusted certificate for STARTTLS)")


def test_tls_required_with_an_mx_whose_starttls_handshake_fails_is_critical_with_the_tls_error(
    aws_peer, dns_peer, deps, start_peer
):
    mx = start_peer("starttls_broken")
    mx_zone(dns_peer)
    deps.settings.mx_port = mx.port
    require_tls(aws_peer, deps)
    [f] = run(deps, "config_set.delivery")
    where = f"mx1.example.com (127.0.0.1):{mx.port}"
    assert (f.severity.label, f.data["starttls"]) == ("critical", "handshake_failed")
    assert f.summary.startswith(
        f"The configuration set Marketing in us-east-1 requires TLS and example.com's MX ({where}) offers "
        "STARTTLS, but the TLS handshake fails ("
    )
    assert f.summary.endswith("): SES will never deliver to it while the set requires TLS.")
    assert "STARTTLS" in f.evidence[4]
    assert f.evidence[5].startswith("STARTTLS: 220")
    assert f.evidence[6].startswith("TLS handshake failed: ")
    assert f.fix.startswith("Set the TLS policy to OPTIONAL (`aws sesv2 put-configuration-set-delivery-options ")


def test_tls_required_with_an_mx_that_refuses_ehlo_but_accepts_helo_is_critical_starttls_not_offered(
    aws_peer, dns_peer, deps, start_peer
):
    mx = start_peer("helo_only")
    mx_zone(dns_peer)
    deps.settings.mx_port = mx.port
    require_tls(aws_peer, deps)
    [f] = run(deps, "config_set.delivery")
    assert (f.severity.label, f.data["starttls"]) == ("critical", "not_offered")
    assert f.evidence[4].startswith("EHLO: 502 5.5.2 Command not recognized; HELO: 250 ")
    assert f.evidence[5] == "No ESMTP (EHLO refused, HELO accepted): no extensions, so no STARTTLS"


def test_tls_required_with_an_unreachable_mx_could_not_be_judged_from_here(aws_peer, dns_peer, deps, start_peer):
    mx = start_peer("refused")
    mx_zone(dns_peer)
    deps.settings.mx_port = mx.port
    require_tls(aws_peer, deps)
    [f] = run(deps, "config_set.delivery")
    assert brief([f]) == [
        (
            "config_set.delivery",
            "info",
            REGION,
            "The configuration set Marketing in us-east-1 requires TLS; whether example.com's MX offers STARTTLS "
            f"could not be judged from here: connecting to mx1.example.com (127.0.0.1):{mx.port} was refused.",
        )
    ]
    assert f.evidence[-1].startswith("Outbound port 25 is often blocked")
    assert "`openssl s_client -starttls smtp -connect <mx>:25`" in f.fix


@pytest.mark.parametrize(
    ("greeting", "replies", "said"),
    [
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", {}, "it greeted with: HTTP/1.1 400 Bad Request"),
        (b"SSH-2.0-OpenSSH_9.6\r\n", {}, "it greeted with: SSH-2.0-OpenSSH_9.6"),
        (b"220 hi\r\n", {"EHLO": b"<html>nope</html>\r\n"}, "its EHLO reply was: <html>nope</html>"),
    ],
)
def test_tls_required_with_an_mx_port_that_is_not_smtp_says_not_an_smtp_server_quoting_its_line(
    aws_peer, dns_peer, deps, scripted, greeting, replies, said
):
    mx_zone(dns_peer)
    deps.settings.mx_port = scripted(greeting, replies)
    require_tls(aws_peer, deps)
    [f] = run(deps, "config_set.delivery")
    assert (f.severity.label, f.data["starttls"]) == ("info", "unknown")
    assert f.summary == (
        "The configuration set Marketing in us-east-1 requires TLS; whether example.com's MX offers STARTTLS "
        f"could not be judged from here: mx1.example.com is not an SMTP server; {said}."
    )
    assert "refused" not in " ".join(f.evidence) and "-1" not in " ".join(f.evidence)


def test_tls_required_for_a_domain_without_mx_is_judged_on_its_address_record(aws_peer, dns_peer, deps, start_peer):
    mx = start_peer("no_starttls")
    dns_peer.add("example.com", "A", "127.0.0.1")
    deps.settings.mx_port = mx.port
    require_tls(aws_peer, deps)
    [f] = run(deps, "config_set.delivery")
    assert (f.severity.label, f.data["starttls"], f.data["mx"]) == (
        "critical",
        "not_offered",
        f"example.com (127.0.0.1):{mx.port}",
    )
    assert f.evidence[2] == "MX example.com: no records, so mail goes to example.com itself (implicit MX, RFC 5321 5.1)"


def test_tls_required_for_a_domain_without_mx_or_address_could_not_be_judged(aws_peer, dns_peer, deps):
    dns_peer.add("example.com", "TXT", "v=spf1 -all")
    require_tls(aws_peer, deps)
    [f] = run(deps, "config_set.delivery")
    assert (f.severity.label, f.summary) == (
        "info",
        "The configuration set Marketing in us-east-1 requires TLS; whether example.com's MX offers STARTTLS "
        "could not be judged from here: example.com has no MX record and no address.",
    )


def test_tls_required_with_a_best_mx_without_address_is_judged_on_the_next_mx(aws_peer, dns_peer, deps, start_peer):
    mx = start_peer("no_starttls")
    zone = """
        $ORIGIN example.com.
        @      IN MX 10 mx1.example.com.
        @      IN MX 20 mx2.example.com.
        mx2    IN A 127.0.0.1
    """
    dns_peer.load_zone_text(textwrap.dedent(zone))
    deps.settings.mx_port = mx.port
    require_tls(aws_peer, deps)
    [f] = run(deps, "config_set.delivery")
    assert (f.severity.label, f.data["starttls"], f.data["mx"]) == (
        "critical",
        "not_offered",
        f"mx2.example.com (127.0.0.1):{mx.port}",
    )
    assert f.evidence[3] == "Address of mx1.example.com: no A or AAAA record"


def test_tls_required_with_a_null_mx_next_to_other_mx_records_is_judged_on_the_other_hosts(
    aws_peer, dns_peer, deps, start_peer
):
    mx = start_peer("no_starttls")
    dns_peer.load_zone_text(
        textwrap.dedent("""
        $ORIGIN example.com.
        @      IN MX 0 .
        @      IN MX 10 mx1.example.com.
        mx1    IN A 127.0.0.1
    """)
    )
    deps.settings.mx_port = mx.port
    require_tls(aws_peer, deps)
    [f] = run(deps, "config_set.delivery")
    assert (f.severity.label, f.data["starttls"], f.data["mx"]) == (
        "critical",
        "not_offered",
        f"mx1.example.com (127.0.0.1):{mx.port}",
    )


def test_tls_required_with_an_ip_literal_mx_is_not_probed_as_recipient_domain_calls_it_unusable(
    aws_peer, dns_peer, deps, start_peer
):
    mx = start_peer("starttls")
    dns_peer.load_zone_text(
        textwrap.dedent("""
        $ORIGIN example.com.
        @      IN MX 10 127.0.0.1.
    """)
    )
    deps.settings.mx_port = mx.port
    require_tls(aws_peer, deps)
    [f] = run(deps, "config_set.delivery")
    assert (f.severity.label, f.summary) == (
        "info",
        "The configuration set Marketing in us-east-1 requires TLS; whether example.com's MX offers STARTTLS "
        "could not be judged from here: the MX host 127.0.0.1 is an IP address, not a host name.",
    )
    assert f.evidence[3] == "MX host 127.0.0.1: an IP address, not a host name"
    [domain] = run(deps, "recipient.domain")
    assert domain.severity.label == "critical"


def test_tls_required_with_an_mx_host_whose_address_lookup_fails_says_it_could_not_be_looked_up(
    aws_peer, dns_peer, deps
):
    dns_peer.load_zone_text(
        textwrap.dedent("""
        $ORIGIN example.com.
        @      IN MX 10 mx1.example.com.
    """)
    )
    dns_peer.fault("mx1.example.com", "servfail")
    require_tls(aws_peer, deps)
    [f] = run(deps, "config_set.delivery")
    assert (f.severity.label, f.summary) == (
        "info",
        "The configuration set Marketing in us-east-1 requires TLS; whether example.com's MX offers STARTTLS "
        "could not be judged from here: the address of the MX host mx1.example.com could not be looked up.",
    )
    assert f.evidence[3].startswith("Address of mx1.example.com: could not be looked up (")
    assert "SERVFAIL" in f.evidence[3]


# -- config_set.delivery: dedicated IPs, suppression -----------------------------------------------------


def test_ips_in_warm_up_warn_and_name_the_large_receiver(aws_peer, deps):
    create_set(aws_peer)
    aws_peer.set_config_set_options(SET, sending_pool="marketing-pool")
    aws_peer.set_dedicated_ips(
        ["192.0.2.10", "192.0.2.11"], pool_name="marketing-pool", warmup_status="IN_PROGRESS", warmup_percentage=30
    )
    use_set(deps)
    [f] = run(deps, "config_set.delivery", target="jo@gmail.com")
    assert brief([f]) == [
        (
            "config_set.delivery",
            "warning",
            REGION,
            "The configuration set Marketing in us-east-1 sends from the dedicated pool marketing-pool, whose IPs "
            "are still warming up (192.0.2.10 at 30%, 192.0.2.11 at 30%): Gmail may throttle or defer mail to "
            "gmail.com from them (4.7.x deferrals).",
        )
    ]
    assert f.evidence[1:4] == [
        "DeliveryOptions.SendingPoolName: marketing-pool",
        "192.0.2.10: WarmupStatus IN_PROGRESS, WarmupPercentage 30",
        "192.0.2.11: WarmupStatus IN_PROGRESS, WarmupPercentage 30",
    ]
    assert "SES sends only that share of the pool's volume over these IPs" in f.evidence[4]
    assert f.evidence[4].endswith("gmail.com (Gmail) is such a large receiver.")
    assert f.data["big_receiver"] == "Gmail"


def test_warmed_up_ips_say_nothing(aws_peer, deps):
    create_set(aws_peer)
    aws_peer.set_config_set_options(SET, sending_pool="marketing-pool")
    aws_peer.set_dedicated_ips(["192.0.2.10"], pool_name="marketing-pool", warmup_status="DONE")
    use_set(deps)
    [f] = run(deps, "config_set.delivery")
    assert f.severity.label == "ok"
    assert "  TlsPolicy OPTIONAL, pool marketing-pool, suppression the account settings" in f.evidence


def test_a_set_that_suppresses_nothing_while_the_account_does_warns(aws_peer, deps):
    create_set(aws_peer)
    aws_peer.set_config_set_options(SET, suppressed_reasons=[])
    use_set(deps)
    [f] = run(deps, "config_set.delivery")
    assert brief([f]) == [
        (
            "config_set.delivery",
            "warning",
            REGION,
            "The configuration set Marketing in us-east-1 suppresses nothing while the account suppresses "
            "BOUNCE, COMPLAINT: addresses that hard-bounced get mail again, and their bounces keep counting; "
            "addresses that complained get mail again.",
        )
    ]
    assert f.evidence[1:] == [
        "SuppressionOptions.SuppressedReasons: none",
        "Account SuppressionAttributes.SuppressedReasons: BOUNCE, COMPLAINT",
    ]
    assert "--suppressed-reasons BOUNCE COMPLAINT --region us-east-1" in f.fix


def test_the_command_giving_a_set_its_reasons_back_keeps_its_scope_and_auto_validation(aws_peer, deps):
    # PutConfigurationSetSuppressionOptions sets every option at once: a command with the reasons alone would
    # quietly drop the set's tenant scope and its Auto Validation.
    create_set(aws_peer)
    aws_peer.set_config_set_options(SET, suppressed_reasons=[], suppression_scope="TENANT", validation_threshold="HIGH")
    use_set(deps)
    [reasons] = [f for f in run(deps, "config_set.delivery") if "suppresses nothing" in f.summary]
    assert (
        "--suppressed-reasons BOUNCE COMPLAINT --suppression-scope TENANT --validation-options "
        "'ConditionThreshold={ConditionThresholdEnabled=ENABLED,"
        "OverallConfidenceThreshold={ConfidenceVerdictThreshold=HIGH}}' --region us-east-1"
    ) in reasons.fix


def test_a_set_that_suppresses_more_than_the_account_is_info(aws_peer, deps):
    aws_peer.set_account(suppressed_reasons=["BOUNCE"])
    create_set(aws_peer)
    aws_peer.set_config_set_options(SET, suppressed_reasons=["BOUNCE", "COMPLAINT"])
    use_set(deps)
    [f] = run(deps, "config_set.delivery")
    assert (f.severity.label, f.summary) == (
        "info",
        "The configuration set Marketing in us-east-1 suppresses more than the account (COMPLAINT too): "
        "addresses on the list for that reason get no mail through it.",
    )


def test_a_set_with_tenant_scope_says_the_tenant_list_applies(aws_peer, deps):
    create_set(aws_peer)
    aws_peer.set_config_set_options(SET, suppressed_reasons=["BOUNCE", "COMPLAINT"], suppression_scope="TENANT")
    use_set(deps)
    [f] = run(deps, "config_set.delivery")
    assert brief([f]) == [
        (
            "config_set.delivery",
            "info",
            REGION,
            "The configuration set Marketing in us-east-1 keeps suppressed addresses per tenant "
            "(SuppressionScope TENANT): the tenant's suppression list applies to its mail.",
        )
    ]


def test_each_delivery_concern_is_its_own_finding(aws_peer, dns_peer, deps, start_peer):
    mx = start_peer("no_starttls")
    mx_zone(dns_peer)
    deps.settings.mx_port = mx.port
    require_tls(aws_peer, deps)
    aws_peer.set_config_set_options(SET, suppressed_reasons=[], sending_pool="marketing-pool")
    aws_peer.set_dedicated_ips(["192.0.2.10"], pool_name="marketing-pool", warmup_status="IN_PROGRESS")
    findings = run(deps, "config_set.delivery")
    concerns = [(f.severity.label, f.data.get("starttls"), f.data.get("pool"), f.data.get("dropped")) for f in findings]
    assert concerns == [
        ("critical", "not_offered", None, None),
        ("warning", None, "marketing-pool", None),
        ("warning", None, None, ["BOUNCE", "COMPLAINT"]),
    ]


# -- config_set.delivery: the set's own Auto Validation -------------------------------------------------

AUTO_DOC = "https://docs.aws.amazon.com/ses/latest/dg/email-validation-auto.html"


def test_a_set_with_its_own_auto_validation_on_warns_while_the_account_has_it_off(aws_peer, deps):
    aws_peer.set_account(auto_validation="")
    create_set(aws_peer)
    aws_peer.set_config_set_options(SET, suppressed_reasons=["BOUNCE", "COMPLAINT"], validation_threshold="HIGH")
    use_set(deps)
    [f] = run(deps, "config_set.delivery")
    assert brief([f]) == [
        (
            "config_set.delivery",
            "warning",
            REGION,
            "The configuration set Marketing in us-east-1 has its own Auto Validation on (threshold HIGH), "
            "whatever the account's: SES itself suppresses recipients it judges below that confidence in the mail "
            "sent through it, so that mail can be sent, never bounce and never be delivered.",
        )
    ]
    assert f.evidence[1:] == [
        "SuppressionOptions.ValidationOptions.ConditionThresholdEnabled: ENABLED",
        "ConfidenceVerdictThreshold: HIGH (SES sends only to addresses it judges of high delivery likelihood)",
        "Account Auto Validation: off",
        "A set's Auto Validation overrides the account's for the mail sent through it: SES accepts the send and "
        "returns a MessageId, then does not deliver to a recipient it judges below the threshold.",
        "No delivery to jo@example.com in the last 30 days of the bot's event history.",
    ]
    assert f.fix == (
        "If SES holds back addresses you know are good, lower the threshold to MEDIUM: "
        "`aws sesv2 put-configuration-set-suppression-options --configuration-set-name Marketing "
        "--suppressed-reasons BOUNCE COMPLAINT --validation-options 'ConditionThreshold={ConditionThresholdEnabled="
        "ENABLED,OverallConfidenceThreshold={ConfidenceVerdictThreshold=MEDIUM}}' --region us-east-1`, or turn it "
        "off: `aws sesv2 put-configuration-set-suppression-options --configuration-set-name Marketing "
        "--suppressed-reasons BOUNCE COMPLAINT --validation-options "
        f"'ConditionThreshold={{ConditionThresholdEnabled=DISABLED}}' --region us-east-1` ({AUTO_DOC})"
    )
    assert (f.data["auto_validation"], f.data["threshold"], f.data["account_auto_validation"]) == (True, "HIGH", False)


def test_turning_the_sets_auto_validation_off_as_the_fix_says_leaves_nothing_held_back(aws_peer, deps):
    create_set(aws_peer)
    aws_peer.set_config_set_options(SET, validation_threshold="MEDIUM")
    use_set(deps)
    [before] = run(deps, "config_set.delivery")
    assert before.severity.label == "warning"
    assert "MEDIUM}}" not in before.fix  # at MEDIUM it can only be turned off
    aws_peer.client("sesv2", REGION).put_configuration_set_suppression_options(
        ConfigurationSetName=SET, ValidationOptions={"ConditionThreshold": {"ConditionThresholdEnabled": "DISABLED"}}
    )
    [after] = run(deps, "config_set.delivery")
    assert after.severity.label == "ok"


def test_a_set_that_turns_auto_validation_off_while_the_account_has_it_on_is_context(aws_peer, deps):
    aws_peer.set_account(auto_validation="HIGH")
    create_set(aws_peer)
    aws_peer.set_config_set_options(SET, validation_threshold="")
    use_set(deps)
    [f] = run(deps, "config_set.delivery")
    assert (f.severity.label, f.summary) == (
        "info",
        "The configuration set Marketing in us-east-1 turns Auto Validation off for the mail sent through it "
        "(its own ValidationOptions DISABLED), overriding the account's (threshold HIGH): SES does not hold back "
        "recipients of that mail on its own judgement.",
    )
    assert f.evidence[1:] == [
        "SuppressionOptions.ValidationOptions.ConditionThresholdEnabled: DISABLED",
        "Account Auto Validation: on (threshold HIGH)",
    ]
