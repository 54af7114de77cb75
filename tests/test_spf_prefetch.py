"""SPF includes are fetched a level at a time (all of a level at once) before checkdmarc walks them."""

from __future__ import annotations

from bot.checks.authentication.spf import inspect_spf
from bot.checks.authentication.spf_prefetch import prefetched, targets


def test_the_targets_of_a_record_are_its_literal_includes_and_redirect():
    record = "v=spf1 ip4:192.0.2.1 include:_spf.Example.com -include:x.test include:%{d}.m.test redirect=r.test"
    assert targets(record) == ["_spf.example.com", "x.test", "r.test"]


def test_every_level_of_includes_is_fetched_before_checkdmarc_walks_them(deps, dns_peer):
    dns_peer.add("a.test", "TXT", "v=spf1 include:b.test include:c.test ~all")
    dns_peer.add("b.test", "TXT", "v=spf1 include:amazonses.com ~all")
    dns_peer.add("c.test", "TXT", "v=spf1 redirect=d.test")
    dns_peer.add("d.test", "TXT", "v=spf1 ip4:192.0.2.0/24 -all")
    dns_peer.add("amazonses.com", "TXT", "v=spf1 ip4:199.255.192.0/22 ~all")
    walker = prefetched(deps.resolver, "v=spf1 include:a.test include:gone.test -all")
    assert sorted(walker._answers) == ["a.test", "amazonses.com", "b.test", "c.test", "d.test", "gone.test"]
    assert isinstance(walker._answers["gone.test"], Exception)  # NXDOMAIN, kept for checkdmarc to see


def test_an_spf_verdict_through_prefetched_includes_is_the_networks_own(deps, dns_peer):
    dns_peer.add("mail.prefetch.test", "TXT", "v=spf1 include:a.test -all")
    dns_peer.add("a.test", "TXT", "v=spf1 include:b.test ~all")
    dns_peer.add("b.test", "TXT", "v=spf1 include:amazonses.com ~all")
    dns_peer.add("amazonses.com", "TXT", "v=spf1 ip4:199.255.192.0/22 ~all")
    spf = inspect_spf(deps, "mail.prefetch.test")
    assert spf.authorizes_ses is True and not spf.permerror and spf.dns_lookups == 3


def test_an_spf_version_in_upper_case_reaches_checkdmarc_lower_cased_even_split_across_strings(deps, dns_peer):
    dns_peer.add("mail.prefetch.test", "TXT", "v=spf1 redirect=a.test")
    dns_peer.add("a.test", "TXT", '"v=SP" "F1 include:amazonses.com -all"')
    dns_peer.add("amazonses.com", "TXT", "V=Spf1 ip4:199.255.192.0/22 ~all")
    walker = prefetched(deps.resolver, "v=spf1 redirect=a.test")
    assert [r.strings for r in walker.resolve("a.test", "TXT")] == [(b"v=sp", b"f1 include:amazonses.com -all")]
    spf = inspect_spf(deps, "mail.prefetch.test")
    assert spf.authorizes_ses is True and not spf.permerror and spf.dns_lookups == 2
