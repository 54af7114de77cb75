"""`domain [domain]`: the domain suite through the command grammar, against the local AWS and DNS peers."""

from __future__ import annotations

import pytest

import bot.commands.domain  # noqa: F401  (registers the command)
from bot.commands import CommandContext, execute, parse
from bot.findings import Report, Severity
from bot.target import UsageError

REGION = "us-east-1"


def publish_healthy_domain(aws_peer, dns_peer, domain: str) -> list[str]:
    """A domain as SES wants it: Easy DKIM, a custom MAIL FROM, SPF, DMARC p=reject, MX. Returns the tokens."""
    mail_from = f"bounce.{domain}"
    answer = aws_peer.set_identity(domain, region=REGION, mail_from_domain=mail_from)
    for token in answer["DkimAttributes"]["Tokens"]:
        dns_peer.add(f"{token}._domainkey.{domain}", "CNAME", f"{token}.dkim.amazonses.com.")
    dns_peer.add(mail_from, "MX", f"10 feedback-smtp.{REGION}.amazonses.com.")
    dns_peer.add(mail_from, "TXT", "v=spf1 include:amazonses.com ~all")
    dns_peer.add("amazonses.com", "TXT", "v=spf1 ip4:199.255.192.0/22 -all")
    dns_peer.add(f"_dmarc.{domain}", "TXT", f"v=DMARC1; p=reject; rua=mailto:dmarc@{domain}")
    dns_peer.add(domain, "MX", f"10 inbound-smtp.{REGION}.amazonaws.com.")
    return answer["DkimAttributes"]["Tokens"]


def run(deps, text: str) -> Report:
    return execute(CommandContext(deps), parse(text))


def test_a_healthy_domain_passes_every_check_in_order(aws_peer, dns_peer, deps):
    publish_healthy_domain(aws_peer, dns_peer, "example.org")
    report = run(deps, "domain example.org")
    assert (report.kind, report.target, report.verdict) == ("domain", "example.org", None)
    assert [(f.check, f.severity) for f in report.findings] == [
        ("domain.identity", Severity.OK),
        ("domain.dkim", Severity.OK),
        ("domain.mail_from", Severity.OK),
        ("domain.spf", Severity.OK),
        ("domain.dmarc", Severity.OK),
        ("domain.mx", Severity.OK),
    ]
    assert report.findings[4].summary == (
        "DMARC p=reject adkim=r aspf=r at _dmarc.example.org; SES mail passes aligned via DKIM d=example.org "
        "and SPF bounce.example.org"
    )


def test_the_checks_share_one_identity_lookup(aws_peer, dns_peer, deps):
    publish_healthy_domain(aws_peer, dns_peer, "example.org")
    run(deps, "domain example.org")
    assert len(aws_peer.calls_to("GetEmailIdentity")) == 1


def test_without_an_argument_the_sender_domain_is_checked(aws_peer, dns_peer, deps):
    report = run(deps, "domain")
    assert report.target == "mail.example.com"
    assert report.verdict.check == "domain.identity"
    assert report.verdict.severity == Severity.ERROR


def test_slack_link_formatting_is_understood(aws_peer, dns_peer, deps):
    publish_healthy_domain(aws_peer, dns_peer, "example.org")
    assert run(deps, "domain <http://Example.ORG|Example.ORG>").target == "example.org"


def test_a_broken_domain_names_the_worst_problem_first(aws_peer, dns_peer, deps):
    tokens = publish_healthy_domain(aws_peer, dns_peer, "example.org")
    dns_peer.remove("bounce.example.org", "TXT")
    dns_peer.remove(f"{tokens[0]}._domainkey.example.org")
    report = run(deps, "domain example.org")
    assert [(f.check, f.severity) for f in report.problems] == [
        ("domain.dmarc", Severity.CRITICAL),
        ("domain.dkim", Severity.ERROR),
        ("domain.spf", Severity.ERROR),
    ]
    assert report.verdict.summary == (
        "DMARC p=reject for example.org and no SES mail in us-east-1 passes with alignment (DKIM: 1 CNAME "
        "record(s) missing or wrong; SPF: the SPF record of bounce.example.org does not pass for SES): "
        "receivers reject it"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("domain example.org example.net", "give one domain, like `domain example.com`"),
        ("domain not_a_domain!", "`not_a_domain!` is not a domain name; try `example.com`"),
    ],
)
def test_bad_input_is_a_usage_error(deps, text, message):
    with pytest.raises(UsageError) as err:
        run(deps, text)
    assert str(err.value) == message


def test_no_argument_and_no_sender_is_a_usage_error(deps):
    deps.settings.sender = None
    with pytest.raises(UsageError) as err:
        run(deps, "domain")
    assert str(err.value) == "give a domain, like `domain example.com` (or set SESBOT_SENDER to check yours)"
