"""The local DNS peer answers like a real DNS server, as seen through dnspython."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rdatatype
import dns.resolver
import pytest

from peers.dns import DEFAULT_LISTING_TXT, DnsPeer

ZONE = """
; example.com as SES wants it
$TTL 600
example.com.  3600 IN SOA ns1.example.com. hostmaster.example.com. (
                  2024010101 ; serial
                  7200 3600 1209600
                  300 )      ; negative-caching TTL
example.com.       IN NS    ns1.example.com.
example.com.       IN MX    10 inbound-smtp.us-east-1.amazonaws.com.
example.com.       IN TXT   "v=spf1 include:amazonses.com ~all"
_dmarc.example.com. IN TXT  "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com" ; semicolons kept
abc._domainkey.example.com. IN CNAME abc.dkim.amazonses.com.
www.example.com.   IN CNAME example.com.
ns1.example.com.   IN A     192.0.2.53
nullmx.example.com. IN MX   0 .
abc.dkim.amazonses.com. IN TXT "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"
"""

SPF_LONG = "v=spf1 " + " ".join(f"ip4:198.51.100.{i}" for i in range(50)) + " include:amazonses.com -all"


@pytest.fixture
def peer() -> Iterator[DnsPeer]:
    with DnsPeer() as p:
        p.load_zone_text(ZONE)
        yield p


def resolver_for(peer: DnsPeer, lifetime: float = 2.0) -> dns.resolver.Resolver:
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [peer.host]
    res.port = peer.port
    res.lifetime = lifetime
    res.timeout = lifetime
    return res


def async_resolver_for(peer: DnsPeer, lifetime: float = 2.0) -> dns.asyncresolver.Resolver:
    res = dns.asyncresolver.Resolver(configure=False)
    res.nameservers = [peer.host]
    res.port = peer.port
    res.lifetime = lifetime
    res.timeout = lifetime
    return res


def texts(answer: dns.resolver.Answer) -> list[str]:
    return [b"".join(r.strings).decode() for r in answer]


# --- records ---------------------------------------------------------------------------------------------


def test_server_spec_is_host_colon_port(peer: DnsPeer) -> None:
    assert peer.server_spec == f"127.0.0.1:{peer.port}"
    assert peer.port > 0


def test_mx_record_is_answered_with_preference_and_exchange(peer: DnsPeer) -> None:
    answer = resolver_for(peer).resolve("example.com", "MX")
    assert [(r.preference, r.exchange.to_text()) for r in answer] == [(10, "inbound-smtp.us-east-1.amazonaws.com.")]
    assert answer.rrset.ttl == 600


def test_null_mx_is_preference_zero_pointing_at_the_root(peer: DnsPeer) -> None:
    peer.add("nothing.example.com", "MX", "0 .")
    for name in ("nullmx.example.com", "nothing.example.com"):
        (record,) = resolver_for(peer).resolve(name, "MX")
        assert record.preference == 0
        assert record.exchange == dns.name.root


def test_spf_txt_record_is_served_as_one_string(peer: DnsPeer) -> None:
    answer = resolver_for(peer).resolve("example.com", "TXT")
    assert texts(answer) == ["v=spf1 include:amazonses.com ~all"]


def test_quoted_txt_in_zone_text_keeps_semicolons_that_are_not_comments(peer: DnsPeer) -> None:
    answer = resolver_for(peer).resolve("_dmarc.example.com", "TXT")
    assert texts(answer) == ["v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"]


def test_txt_longer_than_255_bytes_is_split_and_fetched_over_tcp_after_truncation(peer: DnsPeer) -> None:
    assert len(SPF_LONG) > 512
    peer.add("long.example.com", "TXT", SPF_LONG)
    answer = resolver_for(peer).resolve("long.example.com", "TXT")
    (record,) = answer
    assert [len(s) for s in record.strings[:-1]] == [255] * (len(record.strings) - 1)
    assert b"".join(record.strings).decode() == SPF_LONG
    # UDP came back truncated (TC), dnspython asked again over TCP.
    assert peer.queries.count(("long.example.com", "TXT")) == 2


def test_quoted_txt_strings_are_kept_as_written(peer: DnsPeer) -> None:
    peer.add("multi.example.com", "TXT", '"first part" "second \\"quoted\\" part"')
    (record,) = resolver_for(peer).resolve("multi.example.com", "TXT")
    assert record.strings == (b"first part", b'second "quoted" part')


def test_cname_is_followed_to_the_target_records(peer: DnsPeer) -> None:
    answer = resolver_for(peer).resolve("abc._domainkey.example.com", "TXT")
    assert answer.canonical_name.to_text() == "abc.dkim.amazonses.com."
    assert texts(answer) == ["p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"]
    assert [rrset.rdtype for rrset in answer.response.answer] == [dns.rdatatype.CNAME, dns.rdatatype.TXT]


def test_cname_query_returns_the_cname_itself(peer: DnsPeer) -> None:
    (record,) = resolver_for(peer).resolve("abc._domainkey.example.com", "CNAME")
    assert record.target.to_text() == "abc.dkim.amazonses.com."


def test_cname_answers_for_every_type_then_nodata_at_the_target(peer: DnsPeer) -> None:
    answer = resolver_for(peer).resolve("www.example.com", "MX")
    assert answer.canonical_name.to_text() == "example.com."
    with pytest.raises(dns.resolver.NoAnswer):
        resolver_for(peer).resolve("www.example.com", "AAAA")


def test_cname_to_a_missing_name_is_nxdomain(peer: DnsPeer) -> None:
    peer.add("dangling.example.com", "CNAME", "gone.example.net.")
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver_for(peer).resolve("dangling.example.com", "TXT")


def test_existing_name_asked_for_another_type_is_nodata_with_soa_in_authority(peer: DnsPeer) -> None:
    with pytest.raises(dns.resolver.NoAnswer) as caught:
        resolver_for(peer).resolve("example.com", "AAAA")
    response = caught.value.response()
    assert response.rcode() == 0
    (soa,) = response.authority
    assert soa.rdtype == dns.rdatatype.SOA
    assert soa.name.to_text() == "example.com."
    assert soa.ttl == 300  # min(SOA TTL, SOA minimum)


def test_empty_non_terminal_is_nodata_not_nxdomain(peer: DnsPeer) -> None:
    with pytest.raises(dns.resolver.NoAnswer):
        resolver_for(peer).resolve("_domainkey.example.com", "TXT")


def test_missing_name_is_nxdomain_with_the_zone_soa(peer: DnsPeer) -> None:
    with pytest.raises(dns.resolver.NXDOMAIN) as caught:
        resolver_for(peer).resolve("missing.example.com", "A")
    qname = dns.name.from_text("missing.example.com")
    (soa,) = caught.value.response(qname).authority
    assert soa.rdtype == dns.rdatatype.SOA


def test_missing_name_outside_any_zone_is_nxdomain_without_soa(peer: DnsPeer) -> None:
    with pytest.raises(dns.resolver.NXDOMAIN) as caught:
        resolver_for(peer).resolve("nothing.example.org", "TXT")
    assert caught.value.response(dns.name.from_text("nothing.example.org")).authority == []


def test_names_are_case_insensitive(peer: DnsPeer) -> None:
    peer.add("MiXeD.Example.COM.", "A", "192.0.2.7")
    answer = resolver_for(peer).resolve("mixed.EXAMPLE.com", "A")
    assert [r.address for r in answer] == ["192.0.2.7"]


def test_a_aaaa_ns_and_ptr_records_are_served(peer: DnsPeer) -> None:
    peer.load(
        [
            ("host.example.com", "A", "192.0.2.10"),
            ("host.example.com", "AAAA", "2001:db8::10", 60),
            ("10.2.0.192.in-addr.arpa", "PTR", "host.example.com."),
        ]
    )
    res = resolver_for(peer)
    assert [r.address for r in res.resolve("host.example.com", "A")] == ["192.0.2.10"]
    aaaa = res.resolve("host.example.com", "AAAA")
    assert [r.address for r in aaaa] == ["2001:db8::10"] and aaaa.rrset.ttl == 60
    assert [r.target.to_text() for r in res.resolve_address("192.0.2.10")] == ["host.example.com."]
    assert [r.target.to_text() for r in res.resolve("example.com", "NS")] == ["ns1.example.com."]


def test_adding_the_same_record_twice_keeps_one(peer: DnsPeer) -> None:
    peer.add("dup.example.com", "A", "192.0.2.1")
    peer.add("DUP.example.com.", "A", "192.0.2.1", ttl=60)
    answer = resolver_for(peer).resolve("dup.example.com", "A")
    assert len(answer) == 1 and answer.rrset.ttl == 60


def test_remove_by_type_then_whole_name_then_clear(peer: DnsPeer) -> None:
    peer.add("gone.example.com", "A", "192.0.2.1")
    peer.add("gone.example.com", "TXT", "hello")
    res = resolver_for(peer)
    assert peer.remove("gone.example.com", "A") == 1
    with pytest.raises(dns.resolver.NoAnswer):
        res.resolve("gone.example.com", "A")
    assert peer.remove("gone.example.com") == 1
    with pytest.raises(dns.resolver.NXDOMAIN):
        res.resolve("gone.example.com", "TXT")
    peer.clear()
    with pytest.raises(dns.resolver.NXDOMAIN):
        res.resolve("example.com", "MX")


def test_zone_text_supports_origin_at_sign_and_continuation_names() -> None:
    with DnsPeer() as peer:
        loaded = peer.load_zone_text(
            """
            $ORIGIN example.net.
            @     300 IN MX  10 mx1
                  300 IN TXT "v=spf1 -all"
            mx1       IN A   192.0.2.25
            """.replace("\n            ", "\n")
        )
        assert loaded == 3
        res = resolver_for(peer)
        assert [r.exchange.to_text() for r in res.resolve("example.net", "MX")] == ["mx1.example.net."]
        assert texts(res.resolve("example.net", "TXT")) == ["v=spf1 -all"]
        assert [r.address for r in res.resolve("mx1.example.net", "A")] == ["192.0.2.25"]


def test_bad_record_values_are_rejected() -> None:
    peer = DnsPeer()
    with pytest.raises(ValueError):
        peer.add("x.example.com", "NOTATYPE", "1")
    with pytest.raises(ValueError):
        peer.add("x.example.com", "A", "not-an-address")


# --- DNSBL helpers ---------------------------------------------------------------------------------------


def test_listed_ipv4_answers_a_code_and_txt_reason_at_reversed_octets(peer: DnsPeer) -> None:
    name = peer.list_ip("zen.spamhaus.org", "192.0.2.99", code="127.0.0.4")
    assert name == "99.2.0.192.zen.spamhaus.org"
    res = resolver_for(peer)
    assert [r.address for r in res.resolve(name, "A")] == ["127.0.0.4"]
    assert texts(res.resolve(name, "TXT")) == [DEFAULT_LISTING_TXT]
    with pytest.raises(dns.resolver.NXDOMAIN):
        res.resolve("98.2.0.192.zen.spamhaus.org", "A")


def test_listed_ipv6_uses_reversed_nibbles(peer: DnsPeer) -> None:
    name = peer.list_ip("zen.spamhaus.org", "2001:db8::1", txt=None)
    assert name == "1." + "0." * 23 + "8.b.d.0.1.0.0.2.zen.spamhaus.org"
    res = resolver_for(peer)
    assert [r.address for r in res.resolve(name, "A")] == ["127.0.0.2"]
    with pytest.raises(dns.resolver.NoAnswer):
        res.resolve(name, "TXT")


def test_listed_domain_answers_at_domain_dot_zone(peer: DnsPeer) -> None:
    name = peer.list_domain("dbl.spamhaus.org", "Example.com", code=["127.0.1.2", "127.0.1.4"], txt="spam")
    assert name == "example.com.dbl.spamhaus.org"
    res = resolver_for(peer)
    assert sorted(r.address for r in res.resolve(name, "A")) == ["127.0.1.2", "127.0.1.4"]
    assert texts(res.resolve(name, "TXT")) == ["spam"]


# --- faults and delays -----------------------------------------------------------------------------------


def test_servfail_fault_makes_dnspython_raise_no_nameservers(peer: DnsPeer) -> None:
    peer.fault("example.com", "servfail")
    with pytest.raises(dns.resolver.NoNameservers, match="SERVFAIL"):
        resolver_for(peer).resolve("example.com", "MX")


def test_refused_fault_makes_dnspython_raise_no_nameservers(peer: DnsPeer) -> None:
    peer.fault("example.com", "refused")
    with pytest.raises(dns.resolver.NoNameservers, match="REFUSED"):
        resolver_for(peer).resolve("example.com", "TXT")


def test_timeout_fault_drops_the_query_and_dnspython_raises_lifetime_timeout(peer: DnsPeer) -> None:
    peer.fault("example.com", "timeout")
    with pytest.raises(dns.resolver.LifetimeTimeout) as caught:
        resolver_for(peer, lifetime=0.2).resolve("example.com", "MX")
    assert ("example.com", "MX") in peer.queries  # the query arrived...
    # ...and was dropped: every try the resolver made ended in its own timeout, none in an answer.
    tries = caught.value.kwargs["errors"]
    assert tries
    assert all(isinstance(exc, dns.exception.Timeout) and answer is None for *_, exc, answer in tries), tries


def test_timeout_fault_over_tcp_holds_the_connection_without_answering(peer: DnsPeer) -> None:
    peer.fault("example.com", "timeout")
    query = dns.message.make_query("example.com", "MX")
    with pytest.raises(dns.exception.Timeout):
        dns.query.tcp(query, peer.host, port=peer.port, timeout=0.2)


def test_wildcard_fault_matches_names_below_the_zone_only(peer: DnsPeer) -> None:
    peer.list_ip("zen.spamhaus.org", "192.0.2.1")
    peer.add("zen.spamhaus.org", "TXT", "zone apex")
    peer.fault("*.zen.spamhaus.org", "servfail")
    res = resolver_for(peer)
    with pytest.raises(dns.resolver.NoNameservers):
        res.resolve("1.2.0.192.zen.spamhaus.org", "A")
    with pytest.raises(dns.resolver.NoNameservers):
        res.resolve("9.9.9.9.zen.spamhaus.org", "A")
    assert texts(res.resolve("zen.spamhaus.org", "TXT")) == ["zone apex"]


def test_suffix_fault_matches_the_name_and_everything_below(peer: DnsPeer) -> None:
    peer.fault("example.com", "refused", suffix=True)
    res = resolver_for(peer)
    for name in ("example.com", "_dmarc.example.com"):
        with pytest.raises(dns.resolver.NoNameservers):
            res.resolve(name, "TXT")


def test_exact_fault_wins_over_a_suffix_fault(peer: DnsPeer) -> None:
    peer.fault("example.com", "servfail", suffix=True)
    peer.fault("_dmarc.example.com", "timeout")
    with pytest.raises(dns.resolver.LifetimeTimeout):
        resolver_for(peer, lifetime=0.2).resolve("_dmarc.example.com", "TXT")


def test_clear_faults_restores_answers(peer: DnsPeer) -> None:
    peer.fault("example.com", "servfail")
    peer.delay(5)
    peer.clear_faults()
    assert texts(resolver_for(peer, lifetime=1).resolve("example.com", "TXT"))


def test_unknown_fault_kind_is_rejected(peer: DnsPeer) -> None:
    with pytest.raises(ValueError):
        peer.fault("example.com", "nxdomain")  # type: ignore[arg-type]


def test_delay_for_one_name_slows_only_that_name(peer: DnsPeer) -> None:
    peer.delay(0.6, "example.com")
    res = resolver_for(peer)
    started = time.perf_counter()
    res.resolve("ns1.example.com", "A")
    fast = time.perf_counter() - started
    started = time.perf_counter()
    res.resolve("example.com", "MX")
    slow = time.perf_counter() - started
    assert slow >= 0.6  # the delay is a sleep: never shorter
    assert fast < slow / 3  # the other name is not delayed (a comparison within one run)


def test_delayed_queries_overlap_when_sent_concurrently(peer: DnsPeer) -> None:
    count, one_by_one, delay = 30, 3, 0.05
    names = [peer.list_ip("zen.spamhaus.org", f"192.0.2.{i}") for i in range(count)]
    peer.delay(delay)
    res = async_resolver_for(peer, lifetime=5)

    async def lookup_all() -> tuple[float, float, list[dns.resolver.Answer]]:
        started = time.perf_counter()
        for name in names[:one_by_one]:  # the baseline, in this run: what one delayed lookup costs
            await res.resolve(name, "A")
        each = (time.perf_counter() - started) / one_by_one
        started = time.perf_counter()
        answers = await asyncio.gather(*(res.resolve(name, "A") for name in names))
        return each, time.perf_counter() - started, answers

    each, together, answers = asyncio.run(lookup_all())
    assert all([r.address for r in a] == ["127.0.0.2"] for a in answers)
    assert each >= delay  # the baseline is the peer's delay, not the lookup's own overhead
    # One after another, the 30 would take about 30 lookups' time; overlapping, a few.
    assert together < count * each / 2, f"{count} lookups together took {together / each:.1f}x one lookup"


def test_async_resolver_sees_nxdomain_and_no_answer(peer: DnsPeer) -> None:
    res = async_resolver_for(peer)

    async def probe() -> tuple[type[Exception], type[Exception]]:
        kinds = []
        for name, rtype in (("missing.example.com", "A"), ("example.com", "AAAA")):
            try:
                await res.resolve(name, rtype)
            except Exception as exc:
                kinds.append(type(exc))
        return kinds[0], kinds[1]

    assert asyncio.run(probe()) == (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer)


# --- transport and lifecycle -----------------------------------------------------------------------------


def test_tcp_is_served_on_the_same_port_as_udp(peer: DnsPeer) -> None:
    answer = resolver_for(peer).resolve("example.com", "MX", tcp=True)
    assert answer.rrset is not None
    response = dns.query.tcp(dns.message.make_query("example.com", "TXT"), peer.host, port=peer.port)
    assert response.answer and response.answer[0].rdtype == dns.rdatatype.TXT


def test_queries_are_recorded_as_lowercase_name_and_type(peer: DnsPeer) -> None:
    res = resolver_for(peer)
    res.resolve("Example.COM", "MX")
    with pytest.raises(dns.resolver.NXDOMAIN):
        res.resolve("missing.example.com", "TXT")
    assert peer.queries == [("example.com", "MX"), ("missing.example.com", "TXT")]


def test_stop_drops_a_delayed_query_ends_its_threads_and_frees_the_port() -> None:
    peer = DnsPeer().start()
    try:
        peer.add("slow.example.com", "A", "192.0.2.1")
        peer.delay(60)
        outcome: list[BaseException | dns.message.Message] = []

        def ask() -> None:
            # Over TCP the client learns when the peer lets go of the query; its own timeout (well short
            # of the delay) is what it sees if stop leaves the delayed query running.
            try:
                query = dns.message.make_query("slow.example.com", "A")
                outcome.append(dns.query.tcp(query, peer.host, port=peer.port, timeout=10))
            except (dns.exception.DNSException, EOFError, OSError) as exc:
                outcome.append(exc)

        worker = threading.Thread(target=ask, daemon=True)
        worker.start()
        for _ in range(200):  # bounded: until the peer holds the query
            if ("slow.example.com", "A") in peer.queries:
                break
            time.sleep(0.01)
        assert ("slow.example.com", "A") in peer.queries, "the query never reached the peer"
        serving = [
            t for t in threading.enumerate() if t.name.startswith("dns-peer-") and t.name.endswith(f"-{peer.port}")
        ]
        assert len(serving) == 2  # UDP and TCP
    finally:
        peer.stop()
    # stop waited for its threads rather than giving up on them after its join timeout
    assert [t.name for t in serving if t.is_alive()] == []
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        assert probe.connect_ex((peer.host, peer.port)) != 0  # nothing listens any more
    worker.join(timeout=30)  # bounded; the worker answers within its own 10 s timeout at worst
    # The delayed query was let go when the peer stopped: the connection closed with no answer, rather
    # than the client timing out while the peer kept sitting on it.
    assert len(outcome) == 1 and isinstance(outcome[0], EOFError), outcome


def test_peer_keeps_its_records_across_a_restart() -> None:
    peer = DnsPeer()
    peer.add("example.com", "MX", "10 mx.example.com.")
    for _ in range(2):
        with peer:
            assert len(resolver_for(peer).resolve("example.com", "MX")) == 1
