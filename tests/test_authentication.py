"""Sender-domain authentication (SPF, DKIM, DMARC, MAIL FROM, MX) against the local DNS and AWS peers.

The conftest sender is news@mail.example.com; most tests verify the domain identity mail.example.com
in us-east-1 and publish DNS records on the DNS peer, then run one check through the runner.
"""

from __future__ import annotations

import pytest

from bot.checks import REGISTRY
from bot.checks.authentication.alignment import aligned
from bot.checks.authentication.domains import org_domain
from bot.checks.authentication.spf import _record_names_ses, inspect_spf
from bot.findings import Finding, Severity
from bot.runner import run_checks

REGION = "us-east-1"
DOMAIN = "mail.example.com"
MAIL_FROM = "bounce.mail.example.com"
SES_SPF = "v=spf1 ip4:199.255.192.0/22 ip4:54.240.0.0/18 -all"  # amazonses.com's own record, shortened


def run(deps, check_id: str, target: str = DOMAIN) -> list[Finding]:
    checks = [c for c in REGISTRY if c.id == check_id]
    report, _ = run_checks(deps, target, suite=checks[0].suite, checks=checks)
    return report.findings


def one(deps, check_id: str, target: str = DOMAIN) -> Finding:
    [finding] = run(deps, check_id, target)
    return finding


def brief(f: Finding) -> tuple[Severity, str]:
    return (f.severity, f.summary)


def verify(aws_peer, dns_peer, domain: str = DOMAIN, *, publish_dkim: bool = True, **identity) -> list[str]:
    """Verify `domain` in SES (Easy DKIM) and publish its DKIM CNAMEs; returns the tokens."""
    answer = aws_peer.set_identity(domain, region=REGION, **identity)
    tokens = answer["DkimAttributes"]["Tokens"]
    if publish_dkim:
        for token in tokens:
            dns_peer.add(f"{token}._domainkey.{domain}", "CNAME", f"{token}.dkim.amazonses.com.")
    return tokens


def custom_mail_from(aws_peer, dns_peer, spf: str | None = "v=spf1 include:amazonses.com ~all", **kw) -> None:
    verify(aws_peer, dns_peer, mail_from_domain=MAIL_FROM, **kw)
    dns_peer.add(MAIL_FROM, "MX", f"10 feedback-smtp.{REGION}.amazonses.com.")
    dns_peer.add("amazonses.com", "TXT", SES_SPF)
    if spf is not None:
        dns_peer.add(MAIL_FROM, "TXT", spf)


# --- names ---------------------------------------------------------------------------------------------


def test_the_organizational_domain_comes_from_the_public_suffix_list():
    assert [org_domain(d) for d in ("a.b.example.com", "mail.example.co.uk", "example.com", "co.uk")] == [
        "example.com",
        "example.co.uk",
        "example.com",
        "co.uk",
    ]


def test_relaxed_alignment_compares_organizational_domains_and_strict_the_names():
    assert [
        aligned("example.com", "mail.example.com", "r"),
        aligned("example.com", "mail.example.com", "s"),
        aligned("mail.example.com", "mail.example.com", "s"),
        aligned("amazonses.com", "mail.example.com", "r"),
    ] == [True, False, True, False]


# --- SPF of the MAIL FROM domain -------------------------------------------------------------------------


def test_a_valid_spf_record_that_includes_amazonses_passes(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer)
    f = one(deps, "domain.spf")
    assert brief(f) == (
        Severity.OK,
        f"SPF of {MAIL_FROM} includes amazonses.com, 1 of 10 DNS lookups, ends in softfail",
    )
    assert f.data["spf"] == [
        {
            "domain": MAIL_FROM,
            "records": ["v=spf1 include:amazonses.com ~all"],
            "dns_lookups": 1,
            "void_lookups": 0,
            "all": "softfail",
            "includes_amazonses": True,
            "permerror": None,
            "dns_error": None,
        }
    ]


def test_a_missing_spf_record_is_an_error(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer, spf=None)
    f = one(deps, "domain.spf")
    assert brief(f) == (Severity.ERROR, f"{MAIL_FROM} has no SPF record: SPF gives none for SES's mail")
    assert f.fix.startswith(f'Publish exactly one TXT record at {MAIL_FROM}: "v=spf1 include:amazonses.com ~all"')


def test_two_spf_records_are_a_permerror(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer)
    dns_peer.add(MAIL_FROM, "TXT", "v=spf1 ip4:192.0.2.1 -all")
    assert brief(one(deps, "domain.spf")) == (
        Severity.ERROR,
        f"{MAIL_FROM} has 2 SPF records: receivers return permerror (RFC 7208 4.5)",
    )


def test_broken_spf_syntax_is_a_permerror_with_checkdmarcs_explanation(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer, spf="v=spf1 include:amazonses.com ip4:192.0.2.300 ~all")
    f = one(deps, "domain.spf")
    assert brief(f) == (
        Severity.ERROR,
        f"SPF of {MAIL_FROM} is broken (permerror): 192.0.2.300 is not a valid IPv4 value.",
    )


def test_more_than_ten_dns_lookups_following_includes_is_a_permerror(aws_peer, dns_peer, deps):
    # amazonses.com + 5 includes, each of which includes one more domain: 1 + 5 * 2 = 11 lookups.
    includes = " ".join(f"include:_spf{i}.example.com" for i in range(5))
    custom_mail_from(aws_peer, dns_peer, spf=f"v=spf1 include:amazonses.com {includes} ~all")
    for i in range(5):
        dns_peer.add(f"_spf{i}.example.com", "TXT", f"v=spf1 include:_inner{i}.example.com -all")
        dns_peer.add(f"_inner{i}.example.com", "TXT", f"v=spf1 ip4:192.0.2.{i} -all")
    f = one(deps, "domain.spf")
    assert brief(f) == (
        Severity.ERROR,
        f"SPF of {MAIL_FROM} needs 11 DNS lookups, over the limit of 10: receivers return permerror",
    )
    assert f.data["spf"][0]["dns_lookups"] == 11


def test_plus_all_is_a_warning(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer, spf="v=spf1 include:amazonses.com +all")
    assert brief(one(deps, "domain.spf")) == (
        Severity.WARNING,
        f"SPF of {MAIL_FROM} ends in +all: it authorizes every server on the internet, and filters distrust it",
    )


def test_more_than_two_void_lookups_risk_a_permerror(aws_peer, dns_peer, deps):
    gone = " ".join(f"a:gone{i}.example.com" for i in range(3))
    custom_mail_from(aws_peer, dns_peer, spf=f"v=spf1 include:amazonses.com {gone} ~all")
    f = one(deps, "domain.spf")
    assert brief(f) == (
        Severity.WARNING,
        f"SPF of {MAIL_FROM} makes 3 void DNS lookups (more than 2): receivers may return permerror",
    )


def test_more_than_ten_dns_lookups_is_a_permerror_even_when_the_void_limit_is_passed_first(aws_peer, dns_peer, deps):
    # checkdmarc stops at the third void lookup (a:gone2), before it has counted the 13 lookups.
    gone = " ".join(f"a:gone{i}.example.com" for i in range(3))
    hosts = " ".join(f"a:h{i}.example.com" for i in range(9))
    custom_mail_from(aws_peer, dns_peer, spf=f"v=spf1 {gone} {hosts} include:amazonses.com ~all")
    for i in range(9):
        dns_peer.add(f"h{i}.example.com", "A", "192.0.2.3")
    f = one(deps, "domain.spf")
    assert brief(f) == (
        Severity.ERROR,
        f"SPF of {MAIL_FROM} needs 13 DNS lookups, over the limit of 10: receivers return permerror",
    )
    assert (f.data["spf"][0]["dns_lookups"], f.data["spf"][0]["void_lookups"]) == (13, 3)
    assert f"SPF {MAIL_FROM}: 13 DNS lookup(s), 3 void" in f.evidence
    assert any(line.startswith("SPF note: ") and "3/2 maximum void DNS lookups" in line for line in f.evidence)


def test_an_spf_record_without_amazonses_fails_for_ses(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer, spf="v=spf1 ip4:192.0.2.1 -all")
    assert brief(one(deps, "domain.spf")) == (
        Severity.ERROR,
        f"SPF of {MAIL_FROM} does not include amazonses.com: SES's servers fail SPF",
    )


def test_amazonses_reached_through_a_nested_include_counts(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer, spf="v=spf1 include:_spf.example.com -all")
    dns_peer.add("_spf.example.com", "TXT", "v=spf1 include:amazonses.com -all")
    assert brief(one(deps, "domain.spf")) == (
        Severity.OK,
        f"SPF of {MAIL_FROM} includes amazonses.com, 2 of 10 DNS lookups, ends in fail",
    )


def test_an_included_record_with_its_version_in_upper_case_is_read_as_spf(aws_peer, dns_peer, deps):
    # RFC 7208 4.5 and 12: the version tag is case-insensitive, in an included record as at the top.
    custom_mail_from(aws_peer, dns_peer, spf="v=spf1 include:_spf.example.com ~all")
    dns_peer.add("_spf.example.com", "TXT", "v=SPF1 include:amazonses.com -all")
    f = one(deps, "domain.spf")
    assert brief(f) == (
        Severity.OK,
        f"SPF of {MAIL_FROM} includes amazonses.com, 2 of 10 DNS lookups, ends in softfail",
    )
    assert f.data["spf"][0]["permerror"] is None


@pytest.mark.parametrize(
    "spf",
    ["v=spf1 include:amazonses.com. ~all", "v=spf1 redirect=amazonses.com.", "v=spf1 +include:AmazonSES.com. -all"],
)
def test_amazonses_named_with_a_trailing_dot_is_amazonses(aws_peer, dns_peer, deps, spf):
    # RFC 7208 7.1: a domain-spec may end in the dot of a fully qualified name; it names the same domain.
    custom_mail_from(aws_peer, dns_peer, spf=spf)
    assert one(deps, "domain.spf").severity == Severity.OK
    assert _record_names_ses(spf)  # as the record itself is read when checkdmarc cannot parse it


def test_spf_through_an_include_of_amazonses_with_a_trailing_dot_aligns_for_dmarc(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer, spf="v=spf1 include:amazonses.com. ~all", dkim_status="FAILED")
    dns_peer.add("_dmarc.example.com", "TXT", "v=DMARC1; p=reject; rua=mailto:d@example.com")
    assert brief(one(deps, "domain.dmarc")) == (
        Severity.OK,
        f"DMARC p=reject adkim=r aspf=r at _dmarc.example.com; SES mail passes aligned via SPF {MAIL_FROM}",
    )


def test_a_timeout_on_an_include_is_could_not_check_not_a_missing_record(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer, spf="v=spf1 include:amazonses.com include:_slow.example.com ~all")
    dns_peer.fault("_slow.example.com", "timeout")
    f = one(deps, "domain.spf")
    assert (f.severity, f.data.get("could_not_check")) == (Severity.WARNING, True)
    assert f.summary.startswith(
        f"Could not check domain.spf: could not look up the SPF of {MAIL_FROM}: no answer within 1 s"
    )


def test_a_timeout_on_the_mail_from_domain_is_could_not_check(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer)
    dns_peer.fault(MAIL_FROM, "timeout")
    f = one(deps, "domain.spf")
    assert brief(f) == (
        Severity.WARNING,
        f"Could not check domain.spf: could not look up the SPF of {MAIL_FROM}: no answer within 1 s",
    )


def test_with_the_default_mail_from_spf_cannot_align(aws_peer, dns_peer, deps):
    verify(aws_peer, dns_peer)
    assert brief(one(deps, "domain.spf")) == (
        Severity.INFO,
        f"Default MAIL FROM in {REGION}: SES's own amazonses.com SPF applies and passes, but cannot align "
        f"with {DOMAIN}",
    )


def test_checkdmarc_asks_our_resolver_even_for_an_spf_exp_target(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer, spf="v=spf1 include:amazonses.com -all exp=explain.example.com")
    dns_peer.add("explain.example.com", "TXT", "Not allowed to send for us")
    assert one(deps, "domain.spf").severity == Severity.OK
    asked = set(dns_peer.queries)
    assert {("amazonses.com", "TXT"), ("explain.example.com", "TXT")} <= asked


def test_spf_answers_are_not_cached_between_runs(dns_peer, deps):
    dns_peer.add("spf.example.com", "TXT", "v=spf1 ip4:192.0.2.1 -all")
    dns_peer.add("amazonses.com", "TXT", SES_SPF)
    first = inspect_spf(deps, "spf.example.com")
    dns_peer.remove("spf.example.com", "TXT")
    dns_peer.add("spf.example.com", "TXT", "v=spf1 include:amazonses.com -all")
    second = inspect_spf(deps, "spf.example.com")
    assert (first.authorizes_ses, second.authorizes_ses) == (False, True)


# --- DKIM --------------------------------------------------------------------------------------------


def test_dkim_with_every_cname_in_place_passes(aws_peer, dns_peer, deps):
    tokens = verify(aws_peer, dns_peer)
    f = one(deps, "domain.dkim")
    assert brief(f) == (Severity.OK, f"DKIM signs as d={DOMAIN} in {REGION}; all 3 record(s) correct")
    assert f.data["records"] == [
        {
            "name": f"{t}._domainkey.{DOMAIN}",
            "expected": f"{t}.dkim.amazonses.com",
            "state": "ok",
            "found": [f"{t}.dkim.amazonses.com"],
        }
        for t in tokens
    ]


def test_a_missing_dkim_cname_is_an_error_that_names_it(aws_peer, dns_peer, deps):
    tokens = verify(aws_peer, dns_peer)
    dns_peer.remove(f"{tokens[1]}._domainkey.{DOMAIN}")
    f = one(deps, "domain.dkim")
    assert brief(f) == (
        Severity.ERROR,
        f"1 of 3 DKIM record(s) of {DOMAIN} are wrong: {tokens[1]}._domainkey.{DOMAIN}: missing (NXDOMAIN); "
        f"expected CNAME {tokens[1]}.dkim.amazonses.com",
    )


def test_a_dkim_cname_with_the_wrong_target_names_both(aws_peer, dns_peer, deps):
    tokens = verify(aws_peer, dns_peer)
    name = f"{tokens[0]}._domainkey.{DOMAIN}"
    dns_peer.remove(name)
    dns_peer.add(name, "CNAME", "selector1.dkim.other-esp.example.")
    f = one(deps, "domain.dkim")
    assert brief(f) == (
        Severity.ERROR,
        f"1 of 3 DKIM record(s) of {DOMAIN} are wrong: {name} -> selector1.dkim.other-esp.example "
        f"(wrong target; expected {tokens[0]}.dkim.amazonses.com)",
    )


def test_a_dkim_name_holding_a_txt_record_instead_of_a_cname_is_named(aws_peer, dns_peer, deps):
    tokens = verify(aws_peer, dns_peer)
    name = f"{tokens[2]}._domainkey.{DOMAIN}"
    dns_peer.remove(name)
    dns_peer.add(name, "TXT", f"{tokens[2]}.dkim.amazonses.com")
    assert one(deps, "domain.dkim").data["records"][2]["state"] == "not_cname"


def test_failed_dkim_verification_is_an_error(aws_peer, dns_peer, deps):
    verify(aws_peer, dns_peer, dkim_status="FAILED")
    assert brief(one(deps, "domain.dkim")) == (
        Severity.ERROR,
        f"DKIM status of {DOMAIN} in {REGION} is FAILED: SES does not sign with it yet",
    )


# --- the identity and MAIL FROM -------------------------------------------------------------------------


def test_a_domain_without_an_identity_is_an_error(aws_peer, dns_peer, deps):
    f = one(deps, "domain.identity")
    assert brief(f) == (
        Severity.ERROR,
        f"{DOMAIN} is not an SES identity in {REGION} (nor is a parent domain): SES refuses to send from it "
        "unless each address is verified, and cannot DKIM-sign as the domain",
    )
    assert f.evidence == [f"GetEmailIdentity {DOMAIN}, example.com: NotFoundException"]


def test_a_parent_domain_identity_covers_a_subdomain(aws_peer, dns_peer, deps):
    verify(aws_peer, dns_peer, "example.com")
    assert brief(one(deps, "domain.identity")) == (
        Severity.OK,
        f"{DOMAIN} is verified for sending in {REGION} (through the parent identity example.com)",
    )


def test_a_failed_verification_names_its_error_type(aws_peer, dns_peer, deps):
    verify(aws_peer, dns_peer, verified=False, verification_error="TYPE_NOT_FOUND", publish_dkim=False)
    assert brief(one(deps, "domain.identity")) == (
        Severity.ERROR,
        f"Identity {DOMAIN} in {REGION} failed verification (FAILED): TYPE_NOT_FOUND — the DKIM names exist "
        f"but hold no CNAME record (a TXT record instead?); mail from {DOMAIN} is not sent",
    )


def test_an_aws_failure_is_could_not_check(aws_peer, dns_peer, deps):
    aws_peer.fail("GetEmailIdentity", code="AccessDeniedException", status=403, count=None)
    f = one(deps, "domain.identity")
    assert (f.severity, f.data) == (Severity.WARNING, {"could_not_check": True})
    assert f.summary.startswith("Could not check domain.identity: GetEmailIdentity failed: AWS refused")


def test_a_healthy_custom_mail_from_passes(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer)
    assert brief(one(deps, "domain.mail_from")) == (
        Severity.OK,
        f"Custom MAIL FROM {MAIL_FROM} in {REGION} is SUCCESS, MX feedback-smtp.{REGION}.amazonses.com",
    )


def test_a_mail_from_domain_without_the_ses_mx_loses_spf_alignment(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer)
    dns_peer.remove(MAIL_FROM, "MX")
    f = one(deps, "domain.mail_from")
    assert brief(f) == (
        Severity.WARNING,
        f"MAIL FROM domain {MAIL_FROM} has no MX feedback-smtp.{REGION}.amazonses.com (found: NODATA); when "
        "SES notices, SES falls back to amazonses.com, so SPF cannot align",
    )
    assert f.data["mx_ok"] is False


def test_a_failed_mail_from_set_to_reject_blocks_sending(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer, mail_from_status="FAILED", behavior_on_mx_failure="REJECT_MESSAGE")
    dns_peer.remove(MAIL_FROM, "MX")
    f = one(deps, "domain.mail_from")
    assert brief(f) == (
        Severity.CRITICAL,
        f"Custom MAIL FROM {MAIL_FROM} in {REGION} is FAILED: SES rejects sends (MailFromDomainNotVerified) "
        "because the identity is set to REJECT_MESSAGE (and 1 more problem)",
    )


# --- DMARC and alignment -------------------------------------------------------------------------------


def test_dmarc_p_none_with_aligned_dkim_is_monitoring_only(aws_peer, dns_peer, deps):
    verify(aws_peer, dns_peer)
    dns_peer.add("_dmarc.example.com", "TXT", "v=DMARC1; p=none; rua=mailto:dmarc@example.com")
    f = one(deps, "domain.dmarc")
    assert brief(f) == (
        Severity.INFO,
        "DMARC p=none adkim=r aspf=r at _dmarc.example.com; SES mail passes aligned via DKIM d=mail.example.com",
    )
    assert f.evidence[0] == (
        f"info: DMARC policy for {DOMAIN} is p=none: monitoring only, receivers do not act on failures"
    )


def test_dmarc_quarantine_with_a_missing_dkim_cname_sends_mail_to_spam(aws_peer, dns_peer, deps):
    tokens = verify(aws_peer, dns_peer)
    dns_peer.remove(f"{tokens[0]}._domainkey.{DOMAIN}")
    dns_peer.add(f"_dmarc.{DOMAIN}", "TXT", "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com")
    assert brief(one(deps, "domain.dmarc")) == (
        Severity.ERROR,
        f"DMARC p=quarantine for {DOMAIN} and no SES mail in {REGION} passes with alignment (DKIM: 1 CNAME "
        "record(s) missing or wrong; SPF: default MAIL FROM amazonses.com cannot align): receivers put it in "
        "the spam folder",
    )


def test_dmarc_reject_without_aligned_dkim_is_the_critical_verdict_of_why(aws_peer, dns_peer, deps):
    # Only the address is verified: SES signs with d=amazonses.com, another organizational domain.
    aws_peer.set_identity("news@mail.example.com", region=REGION)
    dns_peer.add("_dmarc.example.com", "TXT", "v=DMARC1; p=reject; rua=mailto:dmarc@example.com")
    f = one(deps, "sender.authentication", "jo@recipient.example")
    assert brief(f) == (
        Severity.CRITICAL,
        f"DMARC p=reject for {DOMAIN} and no SES mail in {REGION} passes with alignment (DKIM: signed as "
        "amazonses.com (no domain identity); SPF: default MAIL FROM amazonses.com cannot align): receivers "
        "reject it (and 1 more problem)",
    )
    assert f.data["dkim"]["d"] == "amazonses.com"
    assert f.data["dmarc"]["policy"] == "reject"


@pytest.mark.parametrize(
    ("record", "severity", "effect"),
    [
        (
            "p=reject; pct=0",
            Severity.ERROR,
            "receivers put it in the spam folder (pct=0: no mail gets p=reject, "
            "all of it the next less strict p=quarantine)",
        ),
        (
            "p=reject; pct=30",
            Severity.CRITICAL,
            "receivers reject it for 30% of it (pct=30); the rest gets p=quarantine",
        ),
        (
            "p=quarantine; pct=0",
            Severity.WARNING,
            "it fails DMARC (p=none: delivered, but filters count it "
            "against you) (pct=0: no mail gets p=quarantine, all of it the next less strict p=none)",
        ),
    ],
)
def test_pct_gives_the_mail_it_leaves_out_the_next_less_strict_policy(
    aws_peer, dns_peer, deps, record, severity, effect
):
    # RFC 7489 section 6.6.4: mail not sampled by pct gets the next less strict policy.
    aws_peer.set_identity("news@mail.example.com", region=REGION)
    dns_peer.add("_dmarc.example.com", "TXT", f"v=DMARC1; {record}; rua=mailto:dmarc@example.com")
    f = one(deps, "sender.authentication", "jo@recipient.example")
    assert f.severity == severity
    assert effect in " ".join([f.summary, *f.evidence])


def test_strict_dkim_alignment_fails_when_a_parent_domain_signs(aws_peer, dns_peer, deps):
    verify(aws_peer, dns_peer, "example.com")
    dns_peer.add("_dmarc.example.com", "TXT", "v=DMARC1; p=reject; adkim=s; rua=mailto:dmarc@example.com")
    f = one(deps, "domain.dmarc")
    assert brief(f) == (
        Severity.CRITICAL,
        f"DMARC p=reject for {DOMAIN} and no SES mail in {REGION} passes with alignment (DKIM: d=example.com "
        f"does not align with {DOMAIN} under strict (adkim=s) alignment; SPF: default MAIL FROM amazonses.com "
        "cannot align): receivers reject it",
    )


def test_a_subdomain_gets_the_organizational_domains_sp_policy(aws_peer, dns_peer, deps):
    verify(aws_peer, dns_peer, publish_dkim=False)
    dns_peer.add("_dmarc.example.com", "TXT", "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.com")
    f = one(deps, "domain.dmarc")
    assert (f.severity, f.data["dmarc"]["location"], f.data["dmarc"]["policy"]) == (
        Severity.ERROR,
        "example.com",
        "quarantine",
    )


def test_aligned_spf_through_a_custom_mail_from_satisfies_dmarc_without_dkim(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer, dkim_status="FAILED")
    dns_peer.add("_dmarc.example.com", "TXT", "v=DMARC1; p=reject; rua=mailto:d@example.com")
    f = one(deps, "domain.dmarc")
    assert brief(f) == (
        Severity.OK,
        f"DMARC p=reject adkim=r aspf=r at _dmarc.example.com; SES mail passes aligned via SPF {MAIL_FROM}",
    )


def test_no_dmarc_record_is_a_warning(aws_peer, dns_peer, deps):
    verify(aws_peer, dns_peer)
    assert brief(one(deps, "domain.dmarc")) == (
        Severity.WARNING,
        f"No DMARC record at _dmarc.{DOMAIN} nor _dmarc.example.com: Gmail and Yahoo require one from bulk "
        "senders, and mail without it is more likely to be filtered",
    )


def test_an_invalid_dmarc_record_is_ignored_by_receivers(aws_peer, dns_peer, deps):
    verify(aws_peer, dns_peer)
    dns_peer.add("_dmarc.example.com", "TXT", "v=DMARC1; p=block")
    f = one(deps, "domain.dmarc")
    assert f.severity == Severity.WARNING
    assert f.summary.startswith("The DMARC record at _dmarc.example.com is invalid, so receivers ignore it: ")


def test_dmarc_pct_and_rua_are_reported(aws_peer, dns_peer, deps):
    verify(aws_peer, dns_peer)
    dns_peer.add("_dmarc.example.com", "TXT", "v=DMARC1; p=quarantine; pct=25")
    f = one(deps, "domain.dmarc")
    assert f.evidence[:2] == [
        "info: DMARC pct=25: the policy applies to part of the mail only",
        "info: the DMARC record has no rua=: nobody receives aggregate reports about failures",
    ]
    assert (f.data["dmarc"]["pct"], f.data["dmarc"]["rua"]) == ("25", [])


# --- the why check -------------------------------------------------------------------------------------


def test_why_sees_fully_authenticated_mail_as_passing(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer)
    dns_peer.add("_dmarc.example.com", "TXT", "v=DMARC1; p=reject; rua=mailto:d@example.com")
    f = one(deps, "sender.authentication", "jo@recipient.example")
    assert brief(f) == (
        Severity.OK,
        f"Mail from {DOMAIN} passes DMARC (p=reject adkim=r aspf=r) aligned via DKIM d={DOMAIN} and SPF {MAIL_FROM}",
    )
    assert f.region == REGION


def test_why_names_a_missing_dkim_cname_as_an_error_even_without_dmarc_enforcement(aws_peer, dns_peer, deps):
    tokens = verify(aws_peer, dns_peer)
    dns_peer.remove(f"{tokens[0]}._domainkey.{DOMAIN}")
    dns_peer.add("_dmarc.example.com", "TXT", "v=DMARC1; p=none; rua=mailto:d@example.com")
    f = one(deps, "sender.authentication", "jo@recipient.example")
    assert f.severity == Severity.ERROR
    assert f.summary.startswith(f"1 of 3 DKIM record(s) of {DOMAIN} are wrong: {tokens[0]}._domainkey.")


def test_why_turns_a_dead_dns_server_into_could_not_check(aws_peer, dns_peer, deps):
    verify(aws_peer, dns_peer)
    dns_peer.fault("example.com", "timeout", suffix=True)
    f = one(deps, "sender.authentication", "jo@recipient.example")
    assert f.severity == Severity.WARNING
    assert "no answer within 1 s" in " ".join([f.summary, *f.evidence])


# --- the domain's own MX -------------------------------------------------------------------------------


def test_a_null_mx_means_the_domain_accepts_no_mail(dns_peer, deps):
    dns_peer.add(DOMAIN, "MX", "0 .")
    f = one(deps, "domain.mx")
    assert brief(f) == (
        Severity.WARNING,
        f"{DOMAIN} publishes a null MX (RFC 7505): it accepts no mail, so replies bounce, and receivers may "
        "reject or distrust mail from a domain that cannot receive any",
    )


def test_mx_hosts_are_listed_by_preference(dns_peer, deps):
    dns_peer.add(DOMAIN, "MX", "20 mx2.example.com.")
    dns_peer.add(DOMAIN, "MX", "10 mx1.example.com.")
    assert brief(one(deps, "domain.mx")) == (
        Severity.OK,
        f"{DOMAIN} receives mail at mx1.example.com (10), mx2.example.com (20)",
    )


def test_a_domain_with_only_an_address_record_uses_implicit_mx(dns_peer, deps):
    dns_peer.add(DOMAIN, "A", "192.0.2.25")
    assert brief(one(deps, "domain.mx")) == (
        Severity.INFO,
        f"{DOMAIN} has no MX; mail to it goes to its address record (192.0.2.25)",
    )


@pytest.mark.parametrize("kind", ["servfail", "timeout"])
def test_an_mx_lookup_failure_is_could_not_check(dns_peer, deps, kind):
    dns_peer.fault(DOMAIN, kind)
    f = one(deps, "domain.mx")
    assert (f.severity, f.data) == (Severity.WARNING, {"could_not_check": True})


def test_why_still_judges_the_dmarc_record_when_the_identity_cannot_be_read(aws_peer, dns_peer, deps):
    aws_peer.fail("GetEmailIdentity", code="AccessDeniedException", status=403, count=None)
    f = one(deps, "sender.authentication", "jo@recipient.example")
    assert brief(f) == (
        Severity.WARNING,
        f"No DMARC record at _dmarc.{DOMAIN} nor _dmarc.example.com: Gmail and Yahoo require one from bulk "
        "senders, and mail without it is more likely to be filtered",
    )
    assert f.evidence[0].startswith("could not check: could not read the SES identity: AWS refused")
