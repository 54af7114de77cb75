"""`compliance [domain]`: the big receivers' sender requirements against the local AWS and DNS peers and the
header sample of mail really ingested (issue 16), and `why` naming the requirement a rejection says failed."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import bot.commands.compliance  # noqa: F401  (registers the command)
from bot.checks import checks_for
from bot.checks.compliance.requirements import REQUIREMENTS, rejection_for
from bot.commands import CommandContext, execute, parse
from bot.findings import Finding, Report, Severity
from bot.ingest import ingest_documents
from bot.runner import run_checks
from bot.target import UsageError
from tests.conftest import REGION, bounce_doc, put_rate
from tests.test_cli import sesbot
from tests.test_domain_command import publish_healthy_domain

DATA = Path(__file__).parent / "data" / "ses-notifications"
AWS_SEND = json.loads((DATA / "awsdocs-evt-sns-event-publishing-retrieving-sns-send.json").read_text())
DOMAIN = "example.org"
ONE_CLICK = [
    {"name": "List-Unsubscribe", "value": "<https://example.org/u?id=1>, <mailto:unsub@example.org>"},
    {"name": "List-Unsubscribe-Post", "value": "List-Unsubscribe=One-Click"},
]
LINK_ONLY = [{"name": "List-Unsubscribe", "value": "<https://example.org/u?id=1>"}]


def send(n: int, deps, *, headers: list[dict[str, Any]], config_set: str, sender: str, to: str = "") -> dict:
    """An SES Send event shaped like AWS's documented example, sent an hour ago."""
    doc = copy.deepcopy(AWS_SEND)
    mail = doc["mail"]
    mail["timestamp"] = (deps.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    mail["messageId"] = f"msg-{n}"
    mail["destination"] = [to or f"reader{n}@example.net"]
    mail["commonHeaders"]["from"] = [sender]
    mail["tags"]["ses:configuration-set"] = [config_set]
    mail["headers"] = mail["headers"] + headers
    return doc


def run(deps, text: str) -> Report:
    report = execute(CommandContext(deps), parse(text))
    assert isinstance(report, Report)
    return report


def finding(report: Report, check: str) -> Finding:
    [found] = [f for f in report.findings if f.check == check]
    return found


@pytest.fixture
def healthy_domain(aws_peer, dns_peer) -> str:
    publish_healthy_domain(aws_peer, dns_peer, DOMAIN)
    return DOMAIN


def test_the_suite_answers_one_finding_per_requirement_each_naming_its_receivers(healthy_domain, deps):
    report = run(deps, f"compliance {healthy_domain}")
    assert (report.kind, report.heading, report.target) == ("compliance", "Sender requirements", DOMAIN)
    assert sorted(f.check for f in report.findings) == sorted(r.check for r in REQUIREMENTS.values())
    for f in report.findings:
        assert f.data["receivers"], f.check
        assert any(line.startswith("Required by ") for line in f.evidence), f.check


def test_a_marketing_set_without_list_unsubscribe_post_is_warned_with_its_share_and_an_example(healthy_domain, deps):
    docs = [
        send(i, deps, headers=ONE_CLICK, config_set="newsletter", sender="News <news@example.org>") for i in range(3)
    ]
    docs.append(send(3, deps, headers=LINK_ONLY, config_set="newsletter", sender="News <news@example.org>"))
    ingest_documents(deps.store, docs, origin="test")
    f = finding(run(deps, f"compliance {healthy_domain}"), "compliance.unsubscribe")
    assert f.severity == Severity.WARNING
    assert "set `newsletter`" in f.summary and "news@example.org" in f.summary
    assert "3 of 4 sampled messages (75%)" in f.summary
    assert "example without: msg-3" in f.summary
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in f.fix
    [group] = f.data["groups"]
    assert (group["kind"], group["share"], group["example_without"]) == ("marketing", 0.75, "msg-3")


def test_a_marketing_set_whose_mail_all_has_one_click_unsubscribe_passes(healthy_domain, deps):
    docs = [send(i, deps, headers=ONE_CLICK, config_set="newsletter", sender="news@example.org") for i in range(5)]
    ingest_documents(deps.store, docs, origin="test")
    f = finding(run(deps, f"compliance {healthy_domain}"), "compliance.unsubscribe")
    assert f.severity == Severity.OK
    assert "Every sampled marketing message had one-click unsubscribe" in f.summary


def test_a_transactional_set_is_exempt_and_says_why(healthy_domain, deps):
    docs = [send(i, deps, headers=[], config_set="password-reset", sender="security@example.org") for i in range(4)]
    ingest_documents(deps.store, docs, origin="test")
    f = finding(run(deps, f"compliance {healthy_domain}"), "compliance.unsubscribe")
    assert f.severity == Severity.OK
    assert "1 transactional set/From exempt" in f.summary
    assert any("set `password-reset` from security@example.org: transactional, exempt" in e for e in f.evidence)
    assert f.data["groups"][0]["why"] == "its set name says 'password'"


def test_a_set_declared_transactional_is_exempt_whatever_its_name(healthy_domain, deps):
    docs = [send(i, deps, headers=LINK_ONLY, config_set="newsletter", sender="news@example.org") for i in range(2)]
    ingest_documents(deps.store, docs, origin="test")
    deps.settings.transactional_sets = frozenset({"newsletter"})
    f = finding(run(deps, f"compliance {healthy_domain}"), "compliance.unsubscribe")
    assert f.severity == Severity.OK
    assert f.data["groups"][0]["why"] == "declared in SESBOT_TRANSACTIONAL_SETS"


def test_mail_from_another_domain_is_not_judged_for_this_one(healthy_domain, deps):
    ingest_documents(
        deps.store, [send(1, deps, headers=[], config_set="newsletter", sender="news@other.example")], origin="test"
    )
    f = finding(run(deps, f"compliance {healthy_domain}"), "compliance.unsubscribe")
    assert f.severity == Severity.INFO
    assert "No Send events from example.org" in f.summary
    assert "Publish Send events to the bot" in f.fix


def test_a_1024_bit_dkim_key_passes_with_a_2048_bit_recommendation(aws_peer, dns_peer, deps):
    publish_healthy_domain(aws_peer, dns_peer, DOMAIN)
    aws_peer.set_identity(DOMAIN, region=REGION, mail_from_domain=f"bounce.{DOMAIN}", signing_key_length="RSA_1024_BIT")
    f = finding(run(deps, f"compliance {DOMAIN}"), "compliance.dkim")
    assert f.severity == Severity.OK
    assert "1024-bit key: meets the 1,024-bit minimum; 2,048 bits is recommended" in f.summary
    assert "RSA_2048_BIT" in f.fix
    assert f.data["key_bits"] == {REGION: 1024}


def test_a_2048_bit_key_passes_without_advice(healthy_domain, deps):
    f = finding(run(deps, f"compliance {healthy_domain}"), "compliance.dkim")
    assert (f.severity, f.fix) == (Severity.OK, "")
    assert f.summary == f"DKIM signs as d={DOMAIN} in {REGION} with a 2048-bit key"


def test_a_domain_that_is_no_ses_identity_fails_dkim(dns_peer, deps):
    f = finding(run(deps, "compliance unknown.example"), "compliance.dkim")
    assert f.severity == Severity.ERROR
    assert "not DKIM-signed with its own domain (no SES identity for it" in f.summary


def test_dmarc_p_none_meets_the_requirement(aws_peer, dns_peer, deps):
    publish_healthy_domain(aws_peer, dns_peer, DOMAIN)
    dns_peer.remove(f"_dmarc.{DOMAIN}", "TXT")
    dns_peer.add(f"_dmarc.{DOMAIN}", "TXT", "v=DMARC1; p=none")
    f = finding(run(deps, f"compliance {DOMAIN}"), "compliance.dmarc")
    assert f.severity == Severity.OK
    assert f.summary.startswith(f"DMARC p=none adkim=r aspf=r at _dmarc.{DOMAIN}; SES mail in {REGION} aligns via")
    assert f.data["policy"] == "none"


def test_a_missing_dmarc_record_fails_the_requirement(aws_peer, dns_peer, deps):
    publish_healthy_domain(aws_peer, dns_peer, DOMAIN)
    dns_peer.remove(f"_dmarc.{DOMAIN}", "TXT")
    report = run(deps, f"compliance {DOMAIN}")
    f = finding(report, "compliance.dmarc")
    assert f.severity == Severity.ERROR
    assert f.summary.startswith(f"DMARC requirement not met for {DOMAIN}")
    assert "p=none" in f.fix
    assert report.verdict is f


def test_the_complaint_rate_states_its_denominator(healthy_domain, deps):
    docs = [send(i, deps, headers=[], config_set="sesbot", sender="news@example.org") for i in range(200)]
    ingest_documents(deps.store, docs, origin="test")
    f = finding(run(deps, f"compliance {healthy_domain}"), "compliance.complaints")
    # Information, not a pass: Gmail reports no complaints to SES, so its own spam rate is not in the figure.
    assert f.severity == Severity.INFO
    assert "0 complaints of 200 sends in the last 7 days" in f.summary
    assert "Gmail's spam rate is not among them" in f.summary and "Postmaster Tools" in f.fix
    assert (f.data["sends"], f.data["complaints"]) == (200, 0)


def test_too_few_sends_give_no_rate_but_say_how_many_were_seen(healthy_domain, deps):
    f = finding(run(deps, f"compliance {healthy_domain}"), "compliance.complaints")
    assert f.severity == Severity.INFO
    assert "Too little mail to state a complaint rate (0 complaints of 0 sends" in f.summary


def test_ses_cloudwatch_complaint_rate_over_the_gmail_target_warns(aws_peer, healthy_domain, deps):
    put_rate(aws_peer, 0.0015, deps.now() - timedelta(minutes=10), metric="Reputation.ComplaintRate")
    f = finding(run(deps, f"compliance {healthy_domain}"), "compliance.complaints")
    assert f.severity == Severity.WARNING
    assert "spam-complaint rate 0.15%" in f.summary.lower()
    assert "over the 0.1 % Gmail asks senders to stay under" in f.summary
    assert "0 complaints of 0 sends" in f.summary  # the history's denominator beside SES's figure


def test_dedicated_ips_need_forward_confirmed_reverse_dns(aws_peer, dns_peer, healthy_domain, deps):
    aws_peer.set_dedicated_ips(["198.51.100.7", "198.51.100.8"], region=REGION)
    dns_peer.add("7.100.51.198.in-addr.arpa", "PTR", "a7.smtp-out.amazonses.com.")
    dns_peer.add("a7.smtp-out.amazonses.com", "A", "198.51.100.7")
    dns_peer.add("8.100.51.198.in-addr.arpa", "PTR", "mail.example.org.")
    dns_peer.add("mail.example.org", "A", "192.0.2.99")
    f = finding(run(deps, f"compliance {healthy_domain}"), "compliance.reverse_dns")
    assert f.severity == Severity.ERROR
    assert "198.51.100.8's PTR name mail.example.org does not resolve back to it" in f.summary
    assert any("a7.smtp-out.amazonses.com A: 198.51.100.7" in e for e in f.evidence)


def test_without_dedicated_ips_the_shared_pool_passes_reverse_dns(healthy_domain, deps):
    f = finding(run(deps, f"compliance {healthy_domain}"), "compliance.reverse_dns")
    assert f.severity == Severity.OK
    assert "shared IPs have forward-confirmed reverse DNS" in f.summary


def test_five_thousand_sends_a_day_to_gmail_make_a_bulk_sender(healthy_domain, deps):
    docs = [
        send(i, deps, headers=[], config_set="sesbot", sender="news@example.org", to=f"r{i}@gmail.com")
        for i in range(5000)
    ]
    ingest_documents(deps.store, docs, origin="test")
    f = finding(run(deps, f"compliance {healthy_domain}"), "compliance.bulk_volume")
    assert f.severity == Severity.INFO
    assert f.summary.startswith("A bulk sender to Gmail (5,000 on ")
    assert f.data["peaks"]["Gmail"]["sends"] == 5000


def test_the_sender_domain_is_the_default_and_bad_input_gets_a_usage_line(dns_peer, deps):
    assert run(deps, "compliance").target == "mail.example.com"
    with pytest.raises(UsageError, match="give one domain"):
        run(deps, "compliance a.example b.example")
    with pytest.raises(UsageError):
        run(deps, "compliance not_a_domain!")


# -- why names the requirement a receiver's rejection says failed ----------------------------------------

GMAIL_DMARC = (
    "smtp; 550-5.7.26 Unauthenticated email from mail.example.com is not accepted due to domain's DMARC "
    "policy. Please contact the administrator of mail.example.com domain if this was a legitimate mail."
)


def test_a_gmail_5_7_26_hard_bounce_in_why_names_the_failing_requirement(deps):
    ingest_documents(
        deps.store, [bounce_doc(1, "ana@gmail.com", GMAIL_DMARC, deps.now() - timedelta(hours=1))], origin="test"
    )
    checks = [c for c in checks_for("why") if c.id == "recipient.bounces"]
    report, _ = run_checks(deps, "ana@gmail.com", checks=checks)
    f = report.verdict
    assert f is not None and f.severity == Severity.CRITICAL
    assert "Gmail's sender requirement failed: DMARC published and aligned (compliance.dmarc)" in f.summary
    assert f.fix.startswith("Run `compliance mail.example.com` to check every requirement")
    assert f.data["requirements"] == ["compliance.dmarc"]
    assert any(e.startswith("Sender requirement: Gmail rejected the mail") for e in f.evidence)


def test_an_ordinary_hard_bounce_names_no_requirement(deps):
    text = "smtp; 550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown"
    ingest_documents(
        deps.store, [bounce_doc(1, "bob@example.net", text, deps.now() - timedelta(hours=1))], origin="test"
    )
    checks = [c for c in checks_for("why") if c.id == "recipient.bounces"]
    report, _ = run_checks(deps, "bob@example.net", checks=checks)
    assert report.verdict is not None and report.verdict.data["requirements"] == []
    assert "sender requirement" not in report.verdict.summary


# Real rejection texts (the classifier corpora and providers' pages), and what they say failed.
REAL_REJECTIONS = [
    (
        "550 5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy. "
        "Please contact the administrator of example.com domain if this was a legitimate mail.",
        "gmail-smtp-in.l.google.com",
        "Gmail",
        ["compliance.dmarc"],
    ),
    (
        "550 5.7.26 This message does not have authentication information or fails to pass authentication "
        "checks (SPF or DKIM). To best protect our users from spam, the message has been blocked.",
        "gmail-smtp-in.l.google.com",
        "Gmail",
        ["compliance.spf", "compliance.dkim"],
    ),
    (
        "550 5.7.30 This mail has been blocked because DKIM does not pass. Gmail requires all large senders "
        "to authenticate with DKIM.",
        None,
        "Gmail",
        ["compliance.dkim"],
    ),
    (
        "550 5.7.515 Access denied, sending domain [example.com] does not meet the required authentication level.",
        "hotmail-com.olc.protection.outlook.com",
        "Outlook.com",
        ["compliance.spf", "compliance.dkim", "compliance.dmarc"],
    ),
    (
        "550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo requires all "
        "senders to authenticate with either SPF or DKIM.",
        "mta7.am0.yahoodns.net",
        "Yahoo",
        ["compliance.spf", "compliance.dkim"],
    ),
    (
        "554 5.7.9 Message not accepted for policy reasons. See https://senders.yahooinc.com/error-codes",
        "mta5.am0.yahoodns.net",
        "Yahoo",
        ["compliance.dmarc"],
    ),
    (
        "550 5.7.25 The IP address sending this message does not have a PTR record setup, or the "
        "corresponding forward DNS entry does not point to the sending IP.",
        "gmail-smtp-in.l.google.com",
        "Gmail",
        ["compliance.reverse_dns"],
    ),
]


@pytest.mark.parametrize(("text", "mta", "receiver", "checks"), REAL_REJECTIONS)
def test_real_rejection_texts_name_the_receiver_and_the_requirement(text, mta, receiver, checks):
    match = rejection_for(text, remote_mta=mta)
    assert match is not None
    assert (match.receiver, [r.check for r in match.requirements]) == (receiver, checks)


def test_texts_that_are_no_sender_requirement_match_nothing():
    for text in ("550 5.1.1 user unknown", "452 4.2.2 mailbox full", "421 4.7.0 Try again later", ""):
        assert rejection_for(text) is None


def test_the_terminal_answers_in_json(aws_peer, dns_peer, tmp_path):
    publish_healthy_domain(aws_peer, dns_peer, DOMAIN)
    env = {
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": aws_peer.endpoint_url,
        "SESBOT_DB": str(tmp_path / "s.db"),
        "SESBOT_DNS_SERVERS": dns_peer.server_spec,
    }
    out = sesbot("compliance", DOMAIN, "--json", env=env)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert (report["kind"], report["target"]) == ("compliance", DOMAIN)
    assert {f["check"] for f in report["findings"]} == {r.check for r in REQUIREMENTS.values()}


def test_a_failed_custom_mail_from_that_rejects_sends_is_no_spf_pass(aws_peer, dns_peer, deps):
    publish_healthy_domain(aws_peer, dns_peer, DOMAIN)
    aws_peer.set_identity(
        DOMAIN,
        region=REGION,
        mail_from_domain=f"bounce.{DOMAIN}",
        mail_from_status="FAILED",
        behavior_on_mx_failure="REJECT_MESSAGE",
    )
    f = finding(run(deps, f"compliance {DOMAIN}"), "compliance.spf")
    assert f.severity == Severity.ERROR
    assert "SES refuses every send (MailFromDomainNotVerified)" in f.summary
