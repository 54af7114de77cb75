"""The recipient-domain check against test zones on the local DNS peer."""

from __future__ import annotations

import textwrap

import pytest

import bot.checks.all  # noqa: F401  (registers every check, in report order)
from bot.checks import REGISTRY
from bot.deps import Deps
from bot.findings import Finding
from bot.runner import run_checks
from bot.settings import DnsServer, Settings
from bot.store import Store


@pytest.fixture
def deps(tmp_path, dns_peer) -> Deps:
    """DNS through the local peer only; this check talks to nothing else."""
    settings = Settings.from_env({"AWS_REGION": "us-east-1"})
    settings.dns_servers = [DnsServer(dns_peer.host, dns_peer.port)]
    settings.dns_timeout = 0.5
    settings.check_timeout = 5.0
    store = Store(str(tmp_path / "dns.db"))
    yield Deps.build(settings, store=store)
    store.close()


def run(deps: Deps, target: str = "jo@example.com") -> Finding:
    checks = [c for c in REGISTRY if c.id == "recipient.domain"]
    report, _ = run_checks(deps, target, checks=checks)
    [finding] = report.findings
    return finding


def test_mx_hosts_are_listed_by_preference(deps, dns_peer):
    zone = """
        $ORIGIN example.com.
        @      IN MX 20 mx2.example.com.
        @      IN MX 10 mx1.example.com.
        mx1    IN A 192.0.2.10
        mx2    IN AAAA 2001:db8::25
    """
    dns_peer.load_zone_text(textwrap.dedent(zone))
    f = run(deps)
    assert (f.severity.label, f.summary, f.evidence) == (
        "ok",
        "example.com receives mail: MX mx1.example.com (10), mx2.example.com (20).",
        ["MX 10 mx1.example.com -> 192.0.2.10", "MX 20 mx2.example.com -> 2001:db8::25"],
    )
    assert f.data == {
        "mx": [{"preference": 10, "host": "mx1.example.com"}, {"preference": 20, "host": "mx2.example.com"}]
    }


def test_a_domain_that_does_not_exist_is_critical(deps, dns_peer):
    f = run(deps, "jo@exmaple.com")
    assert (f.severity.label, f.summary, f.data) == (
        "critical",
        "The domain exmaple.com does not exist (NXDOMAIN): no mail can be delivered to it.",
        {"exists": False},
    )
    assert f.evidence == ["MX exmaple.com: NXDOMAIN", f"Resolver: {dns_peer.host}:{dns_peer.port}"]


def test_no_mx_and_no_address_is_critical(deps, dns_peer):
    dns_peer.add("example.com", "TXT", "v=spf1 -all")  # the name exists, with nothing to deliver to
    f = run(deps)
    assert (f.severity.label, f.summary, f.evidence) == (
        "critical",
        "example.com has no MX record and no A or AAAA record: it cannot receive mail.",
        ["MX example.com: no records", "A/AAAA example.com: no records"],
    )


def test_no_mx_but_an_address_record_is_a_warning_about_implicit_mx(deps, dns_peer):
    dns_peer.add("example.com", "A", "192.0.2.80")
    f = run(deps)
    assert (f.severity.label, f.evidence, f.data) == (
        "warning",
        ["MX example.com: no records", "A/AAAA example.com: 192.0.2.80"],
        {"mx": [], "implicit_mx": ["192.0.2.80"]},
    )


def test_a_null_mx_is_critical(deps, dns_peer):
    dns_peer.add("example.com", "MX", "0 .")
    f = run(deps)
    assert (f.severity.label, f.summary, f.evidence) == (
        "critical",
        "example.com publishes a null MX (`0 .`, RFC 7505): it declares that it accepts no mail.",
        ["MX example.com: 0 ."],
    )


def test_a_null_mx_next_to_other_mx_records_is_an_error_naming_the_other_hosts(deps, dns_peer):
    dns_peer.add("example.com", "MX", "0 .")
    dns_peer.add("example.com", "MX", "10 mx.example.com.")
    dns_peer.add("mx.example.com", "A", "192.0.2.1")
    f = run(deps)
    assert (f.severity.label, f.summary, f.evidence) == (
        "error",
        "example.com has a misconfigured null MX: `0 .` next to other MX records (mx.example.com). RFC 7505 "
        "allows a null MX only as the single record; some senders take it as accepting no mail, others deliver "
        "to the other hosts.",
        [
            "MX example.com: 0 .",
            "MX example.com: 10 mx.example.com",
            "Null MX mixed with other MX records: RFC 7505 forbids that.",
        ],
    )
    assert f.data["other_mx"] == ["mx.example.com"]


def test_an_mx_host_that_does_not_resolve_is_an_error(deps, dns_peer):
    dns_peer.add("example.com", "MX", "10 mx1.example.com.")
    dns_peer.add("example.com", "MX", "20 gone.example.com.")
    dns_peer.add("mx1.example.com", "A", "192.0.2.10")
    f = run(deps)
    assert (f.severity.label, f.summary, f.evidence) == (
        "error",
        "1 of example.com's 2 MX hosts do not resolve (gone.example.com): delivery depends on the others and "
        "may be delayed.",
        ["MX 10 mx1.example.com -> 192.0.2.10", "MX 20 gone.example.com: does not exist (NXDOMAIN)"],
    )


def test_mx_hosts_that_all_fail_to_resolve_are_critical(deps, dns_peer):
    dns_peer.add("example.com", "MX", "10 gone.example.com.")
    dns_peer.add("example.com", "MX", "20 192.0.2.1.")
    f = run(deps)
    assert (f.severity.label, f.summary, f.evidence) == (
        "critical",
        "None of example.com's MX hosts resolves to an address: SES has nowhere to deliver mail for it.",
        [
            "MX 10 gone.example.com: does not exist (NXDOMAIN)",
            "MX 20 192.0.2.1: an IP address, not a host name",
        ],
    )


def test_a_resolver_timeout_says_the_resolver_failed_not_the_domain(deps, dns_peer):
    dns_peer.fault("example.com", "timeout")
    f = run(deps)
    assert (f.severity.label, f.data) == ("warning", {"could_not_check": True})
    assert f.summary == (
        "Could not check recipient.domain: DNS lookup failed: the resolver did not answer MX example.com within 0.5 s"
    )
    assert f.evidence == [
        "MX example.com: no answer",
        f"Resolver: {dns_peer.host}:{dns_peer.port}",
        "This is the resolver's failure; it says nothing about whether the domain is broken.",
    ]


def test_servfail_is_a_resolver_failure_too(deps, dns_peer):
    dns_peer.fault("example.com", "servfail")
    f = run(deps)
    assert f.data == {"could_not_check": True}
    assert f.summary == (
        "Could not check recipient.domain: DNS lookup failed: the resolver answered MX example.com with "
        "SERVFAIL or REFUSED"
    )


def test_an_mx_host_lookup_that_times_out_does_not_count_against_the_domain(deps, dns_peer):
    dns_peer.add("example.com", "MX", "10 mx1.example.com.")
    dns_peer.add("example.com", "MX", "20 mx2.example.com.")
    dns_peer.add("mx1.example.com", "A", "192.0.2.10")
    dns_peer.fault("mx2.example.com", "timeout")
    f = run(deps)
    assert f.severity.label == "ok"
    assert f.evidence[1] == (
        "MX 20 mx2.example.com: could not resolve (the resolver did not answer A mx2.example.com within 0.5 s)"
    )
    assert f.evidence[-1].endswith("(some lookups failed; the resolver's fault, not the domain's)")


def test_host_lookups_run_at_the_same_time(deps, dns_peer):
    for i in range(1, 5):
        dns_peer.add("example.com", "MX", f"{i * 10} mx{i}.example.com.")
        dns_peer.add(f"mx{i}.example.com", "A", f"192.0.2.{i}")
    dns_peer.delay(0.3)
    report, timings = run_checks(deps, "jo@example.com", checks=[c for c in REGISTRY if c.id == "recipient.domain"])
    assert report.findings[0].severity.label == "ok"
    # One after another, the 9 lookups (MX, then A and AAAA of 4 hosts) would take 9 delays; run at once
    # after the MX answer they take about 2. Compared as a ratio within this run, not as a time budget.
    one_after_another_ms = len(dns_peer.queries) * 0.3 * 1000
    assert len(dns_peer.queries) == 9
    assert timings[0].ms < one_after_another_ms / 2
