"""SPF and DMARC judged to the letter of RFC 7208 and RFC 7489, against the local DNS and AWS peers.

Two external suites, turned into SES sender scenarios (tests/data/rfc/, each case citing its source):

* the openspf RFC 7208 test suite (pyspf's ``test/rfc7208-tests.yml``): the cases about the SPF record of a
  MAIL FROM domain, each published as the custom MAIL FROM domain of an SES identity and judged by
  ``domain.spf``;
* checkdmarc's own SPF and DMARC tests, with the verdict of the RFCs where checkdmarc (which follows the
  DMARCbis drafts in places) differs: SPF records at the MAIL FROM domain, DMARC records at the From domain.

Then the defects named in the issue, as SES scenarios, each saying what receivers do with the record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import bot.checks.authentication  # noqa: F401  (registers the checks)
from bot.checks import REGISTRY
from bot.findings import Finding, Severity
from bot.runner import run_checks

DATA = Path(__file__).parent / "data" / "rfc"
RFC7208 = json.loads((DATA / "rfc7208-tests.json").read_text())
CHECKDMARC = json.loads((DATA / "checkdmarc-tests.json").read_text())

REGION = "us-east-1"
DOMAIN = "mail.example.com"
MAIL_FROM = "bounce.mail.example.com"
SES_SPF = "v=spf1 ip4:199.255.192.0/22 ip4:54.240.0.0/18 -all"  # amazonses.com's own record, shortened


def run(deps, check_id: str, target: str) -> Finding:
    checks = [c for c in REGISTRY if c.id == check_id]
    report, _ = run_checks(deps, target, suite=checks[0].suite, checks=checks)
    [finding] = report.findings
    return finding


VERDICT_LINES = ("info:", "warning:", "error:", "critical:", "could not check:", "DMARC note:", "SPF note:")


def text_of(f: Finding) -> str:
    """What a finding says: its summary, fix and verdict lines (not the records it quotes as evidence)."""
    return " ".join([f.summary, f.fix or "", *[line for line in f.evidence if line.startswith(VERDICT_LINES)]])


def txt_value(value: str | list[str]) -> bytes | list[bytes]:
    """A TXT value of the data files: latin-1 code points are the suite's bytes; a list is several strings."""
    if isinstance(value, list):
        return [v.encode("latin-1") for v in value]
    return value.encode("latin-1")


def publish(dns_peer, zone: list[list[Any]], timeouts: list[str] = ()) -> None:
    for name, rtype, value in zone:
        dns_peer.add(name, rtype, txt_value(value) if rtype == "TXT" else value)
    for name in timeouts:
        dns_peer.fault(name, "timeout")


def mail_from_scenario(aws_peer, dns_peer, mail_from: str) -> str:
    """SES sends with `mail_from` as the custom MAIL FROM domain of its parent's identity; returns the parent."""
    identity = mail_from.split(".", 1)[1]
    aws_peer.set_identity(identity, region=REGION, mail_from_domain=mail_from)
    dns_peer.add(mail_from, "MX", f"10 feedback-smtp.{REGION}.amazonses.com.")
    return identity


def spf_verdict(f: Finding) -> str:
    """What domain.spf says of the record: could_not_check, none, permerror or sound."""
    if f.data.get("could_not_check"):
        return "could_not_check"
    [spf] = f.data["spf"]
    if not spf["records"]:
        return "none"
    if spf["permerror"] or len(spf["records"]) > 1:
        return "permerror" if "permerror" in f.summary else "permerror, unsaid"
    return "sound" if "permerror" not in f.summary else "sound, but called permerror"


def dmarc_verdict(f: Finding) -> str:
    """The policy receivers apply per domain.dmarc, or ignored / no_record."""
    dmarc = f.data["dmarc"]
    if dmarc["policy"] is not None:
        return dmarc["policy"]
    return "no_record" if f.summary.startswith("No DMARC record") else "ignored"


def matches(verdict: str, expect: str) -> bool:
    return verdict in ("sound", "permerror") if expect == "either" else verdict == expect


# --- the RFC 7208 test suite --------------------------------------------------------------------------


@pytest.mark.parametrize("case", RFC7208["cases"], ids=[c["name"] for c in RFC7208["cases"]])
def test_each_rfc7208_suite_case_gets_the_verdict_of_receivers(aws_peer, dns_peer, deps, case):
    identity = mail_from_scenario(aws_peer, dns_peer, case["mail_from"])
    publish(dns_peer, case["zone"], case.get("timeout", []))
    f = run(deps, "domain.spf", identity)
    assert matches(spf_verdict(f), case["expect"]), (case["suite_result"], f.summary)


# --- checkdmarc's own tests, judged by the RFCs -----------------------------------------------------------


@pytest.mark.parametrize("case", CHECKDMARC["spf"], ids=[c["name"] for c in CHECKDMARC["spf"]])
def test_each_checkdmarc_spf_case_gets_the_verdict_of_rfc7208(aws_peer, dns_peer, deps, case):
    identity = mail_from_scenario(aws_peer, dns_peer, case["mail_from"])
    publish(dns_peer, case["zone"])
    f = run(deps, "domain.spf", identity)
    assert spf_verdict(f) == case["expect"], f.summary


@pytest.mark.parametrize("case", CHECKDMARC["dmarc"], ids=[c["name"] for c in CHECKDMARC["dmarc"]])
def test_each_checkdmarc_dmarc_case_gets_the_verdict_of_rfc7489(aws_peer, dns_peer, deps, case):
    answer = aws_peer.set_identity(DOMAIN, region=REGION)
    for token in answer["DkimAttributes"]["Tokens"]:
        dns_peer.add(f"{token}._domainkey.{DOMAIN}", "CNAME", f"{token}.dkim.amazonses.com.")
    publish(dns_peer, case["zone"])
    f = run(deps, "domain.dmarc", DOMAIN)
    said = text_of(f)
    assert (
        dmarc_verdict(f),
        [w for w in case.get("says", []) if w not in said],
        [w for w in case.get("not_says", []) if w in said],
    ) == (case["expect"], [], []), said


# --- SPF: the defects of the issue, as SES sends ------------------------------------------------------


def custom_mail_from(aws_peer, dns_peer, spf: str | bytes, *, dkim_status: str = "SUCCESS") -> None:
    answer = aws_peer.set_identity(DOMAIN, region=REGION, mail_from_domain=MAIL_FROM, dkim_status=dkim_status)
    for token in answer["DkimAttributes"]["Tokens"]:
        dns_peer.add(f"{token}._domainkey.{DOMAIN}", "CNAME", f"{token}.dkim.amazonses.com.")
    dns_peer.add(MAIL_FROM, "MX", f"10 feedback-smtp.{REGION}.amazonses.com.")
    dns_peer.add("amazonses.com", "TXT", SES_SPF)
    dns_peer.add(MAIL_FROM, "TXT", spf)


RECEIVERS = "Receivers return permerror for it: SPF does not pass for SES's mail, and DMARC counts SPF as failed"


def test_text_after_all_is_a_permerror_even_though_evaluation_stops_at_all(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer, "v=spf1 include:amazonses.com -all moo")
    f = run(deps, "domain.spf", DOMAIN)
    assert (f.severity, f.summary) == (
        Severity.ERROR,
        f"SPF of {MAIL_FROM} is broken (permerror): `moo` is not an SPF mechanism or modifier; receivers check "
        "the whole record, even after all (RFC 7208 §4.6, §4.6.1)",
    )
    assert f.fix.startswith(RECEIVERS)
    assert f.data["spf"][0]["includes_amazonses"] is False


def test_a_control_character_between_terms_is_a_permerror(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer, b"v=spf1 include:amazonses.com\tip4:192.0.2.1 ~all")
    f = run(deps, "domain.spf", DOMAIN)
    assert (f.severity, f.summary) == (
        Severity.ERROR,
        f"SPF of {MAIL_FROM} is broken (permerror): `include:amazonses.com\\x09ip4:192.0.2.1` holds a control "
        "character: terms are separated by spaces only (RFC 7208 §4.6.1)",
    )


def test_a_non_ascii_character_is_a_permerror(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer, "v=spf1 include:amazonses.com ~all\u00a0".encode())
    f = run(deps, "domain.spf", DOMAIN)
    assert f.summary == (
        f"SPF of {MAIL_FROM} is broken (permerror): `~all\\xc2\\xa0` holds a non-ASCII character: SPF records are "
        "US-ASCII (RFC 7208 §3.1)"
    )


def test_two_redirect_modifiers_are_a_permerror(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer, "v=spf1 redirect=amazonses.com redirect=_spf.example.com")
    dns_peer.add("_spf.example.com", "TXT", "v=spf1 ip4:192.0.2.1 -all")
    f = run(deps, "domain.spf", DOMAIN)
    assert (f.severity, f.summary) == (
        Severity.ERROR,
        f"SPF of {MAIL_FROM} is broken (permerror): redirect= appears 2 times, and may appear once (RFC 7208 §6)",
    )
    assert f.fix.startswith(RECEIVERS)


def test_an_unknown_modifier_after_all_is_ignored_as_the_rfc_says(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer, "v=spf1 include:amazonses.com -all google-site-verification=abc123")
    f = run(deps, "domain.spf", DOMAIN)
    assert (f.severity, f.summary) == (
        Severity.OK,
        f"SPF of {MAIL_FROM} includes amazonses.com, 1 of 10 DNS lookups, ends in fail",
    )


def test_a_syntax_error_in_an_included_record_is_a_permerror(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer, "v=spf1 include:_spf.example.com include:amazonses.com ~all")
    dns_peer.add("_spf.example.com", "TXT", "v=spf1 ip4:192.0.2.1 -all trailing-junk")
    f = run(deps, "domain.spf", DOMAIN)
    assert f.summary == (
        f"SPF of {MAIL_FROM} is broken (permerror): in the record of _spf.example.com (include:_spf.example.com), "
        "`trailing-junk` is not an SPF mechanism or modifier; receivers check the whole record, even after all "
        "(RFC 7208 §4.6, §4.6.1)"
    )


def test_a_broken_spf_record_leaves_dmarc_to_dkim_alone(aws_peer, dns_peer, deps):
    custom_mail_from(aws_peer, dns_peer, "v=spf1 include:amazonses.com -all moo", dkim_status="FAILED")
    dns_peer.add("_dmarc.example.com", "TXT", "v=DMARC1; p=reject; rua=mailto:d@example.com")
    f = run(deps, "domain.dmarc", DOMAIN)
    assert f.severity == Severity.CRITICAL
    assert f"SPF: the SPF record of {MAIL_FROM} does not pass for SES" in f.summary


# --- DMARC: a bad tag is discarded, the rest applies (RFC 7489 §6.3) ------------------------------------


def verify_address_only(aws_peer) -> None:
    """Only the address is verified: SES signs with d=amazonses.com, so SES mail cannot align."""
    aws_peer.set_identity(f"news@{DOMAIN}", region=REGION)


def test_an_invalid_fo_tag_is_discarded_and_p_reject_still_rejects_unaligned_mail(aws_peer, dns_peer, deps):
    verify_address_only(aws_peer)
    dns_peer.add("_dmarc.example.com", "TXT", "v=DMARC1; p=reject; fo=x; rua=mailto:dmarc@example.com")
    f = run(deps, "domain.dmarc", DOMAIN)
    assert (f.severity, f.data["dmarc"]["policy"]) == (Severity.CRITICAL, "reject")
    assert f.summary.endswith("receivers reject it")
    assert (
        "info: receivers discard fo=x (fo must be 0, 1, d or s, joined by colons) and apply the rest of the "
        "DMARC record (RFC 7489 §6.3)"
    ) in f.evidence


def test_an_rua_without_mailto_is_discarded_and_the_policy_applies(aws_peer, dns_peer, deps):
    verify_address_only(aws_peer)
    dns_peer.add("_dmarc.example.com", "TXT", "v=DMARC1; p=quarantine; rua=dmarc@example.com")
    f = run(deps, "domain.dmarc", DOMAIN)
    assert (f.severity, f.data["dmarc"]["policy"], f.data["dmarc"]["rua"]) == (Severity.ERROR, "quarantine", [])
    assert (
        "info: receivers discard rua=dmarc@example.com (not a URI: a report address is written "
        "mailto:dmarc@example.com) and apply the rest of the DMARC record (RFC 7489 §6.3)"
    ) in f.evidence


def test_an_invalid_p_with_a_valid_rua_is_read_as_p_none(aws_peer, dns_peer, deps):
    verify_address_only(aws_peer)
    dns_peer.add("_dmarc.example.com", "TXT", "v=DMARC1; p=rejected; rua=mailto:dmarc@example.com")
    f = run(deps, "domain.dmarc", DOMAIN)
    assert (f.data["dmarc"]["policy"], f.data["dmarc"]["p"]) == ("none", "none")
    assert (
        "warning: the DMARC record's p=rejected is not none, quarantine or reject: with a valid rua=, receivers "
        "act as if p=none (RFC 7489 §6.6.3), so the policy you meant is not applied"
    ) in f.evidence


def test_an_invalid_p_without_rua_makes_receivers_ignore_the_record(aws_peer, dns_peer, deps):
    verify_address_only(aws_peer)
    dns_peer.add("_dmarc.example.com", "TXT", "v=DMARC1; p=rejected")
    f = run(deps, "domain.dmarc", DOMAIN)
    assert (f.severity, f.summary) == (
        Severity.WARNING,
        "The DMARC record at _dmarc.example.com is invalid, so receivers ignore it: p=rejected is not none, "
        "quarantine or reject, and without a valid rua= receivers apply no DMARC processing (RFC 7489 §6.6.3)",
    )


def test_a_version_in_lower_case_makes_receivers_ignore_the_record(aws_peer, dns_peer, deps):
    verify_address_only(aws_peer)
    dns_peer.add("_dmarc.example.com", "TXT", "v=dmarc1; p=reject")
    f = run(deps, "domain.dmarc", DOMAIN)
    assert (f.severity, f.summary) == (
        Severity.WARNING,
        "The DMARC record at _dmarc.example.com is invalid, so receivers ignore it: its version is v=dmarc1, "
        "and it must be exactly v=DMARC1 (RFC 7489 §6.3)",
    )


def test_a_record_starting_with_a_space_is_judged_and_flagged(aws_peer, dns_peer, deps):
    verify_address_only(aws_peer)
    dns_peer.add("_dmarc.example.com", "TXT", '" v=DMARC1; p=reject; rua=mailto:dmarc@example.com"')
    f = run(deps, "domain.dmarc", DOMAIN)
    assert (f.severity, f.data["dmarc"]["policy"]) == (Severity.CRITICAL, "reject")
    assert (
        "warning: the DMARC record at _dmarc.example.com starts with a space: RFC 7489's grammar (§6.4) has "
        "none before v=DMARC1, and receivers that read it to the letter discard the record (§6.6.3), while "
        "those that trim it apply p=reject"
    ) in f.evidence
    assert "Remove the space before v=DMARC1" in f.fix


def test_an_external_rua_without_its_authorization_record_gets_no_reports(aws_peer, dns_peer, deps):
    verify_address_only(aws_peer)
    dns_peer.add("_dmarc.example.com", "TXT", "v=DMARC1; p=none; rua=mailto:agg@reports.example.net")
    f = run(deps, "domain.dmarc", DOMAIN)
    assert (
        "info: receivers will not send aggregate reports to agg@reports.example.net: reports.example.net does not "
        'authorize them (no TXT "v=DMARC1" at example.com._report._dmarc.reports.example.net, RFC 7489 §7.1)'
    ) in f.evidence
    assert ("example.com._report._dmarc.reports.example.net", "TXT") in dns_peer.queries


def test_an_external_rua_with_its_authorization_record_is_fine(aws_peer, dns_peer, deps):
    verify_address_only(aws_peer)
    dns_peer.add("_dmarc.example.com", "TXT", "v=DMARC1; p=none; rua=mailto:agg@reports.example.net")
    dns_peer.add("example.com._report._dmarc.reports.example.net", "TXT", "v=DMARC1")
    f = run(deps, "domain.dmarc", DOMAIN)
    assert not [line for line in f.evidence if "will not send" in line]
    assert f.data["dmarc"]["rua"] == ["agg@reports.example.net"]


def test_an_invalid_pct_is_discarded_so_the_policy_applies_to_all_mail(aws_peer, dns_peer, deps):
    verify_address_only(aws_peer)
    dns_peer.add("_dmarc.example.com", "TXT", "v=DMARC1; p=reject; pct=150; rua=mailto:dmarc@example.com")
    f = run(deps, "domain.dmarc", DOMAIN)
    assert (f.severity, f.data["dmarc"]["pct"]) == (Severity.CRITICAL, None)
    assert not [line for line in f.evidence if "part of the mail only" in line]
