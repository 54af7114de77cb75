"""DNSBL lookups against a local DNS peer serving blocklist zones, and the `blocklist` command's targets."""

from __future__ import annotations

import time
import uuid

import pytest

from bot.checks.blocklist import (
    KNOWN_LISTS,
    RESOLVER_FIX,
    Target,
    blocklist_report,
    dedicated_ips,
    listing_findings,
    lookup_domain,
    lookup_ip,
    lookup_targets,
    query_name,
)
from bot.classify import blocklist_named, classify
from bot.commands import CommandContext, execute, parse
from bot.commands.blocklist import parse_targets
from bot.findings import Severity
from bot.target import UsageError

ZEN = "zen.spamhaus.org"
IP = "198.51.100.7"


def statuses(listings) -> list[tuple[str, str, str]]:
    return [(li.target, li.zone, li.status) for li in listings]


def add_event(store, ip: str, when: str, blocklist: str | None = None) -> None:
    with store.transaction() as db:
        db["events"].insert(
            {
                "id": uuid.uuid4().hex,
                "type": "Bounce",
                "recipient": "jo@example.net",
                "domain": "example.net",
                "timestamp": when,
                "sending_ip": ip,
                "blocklist": blocklist,
                "received_at": when,
            }
        )


# --- query names ---------------------------------------------------------------------------------------


def test_query_names_reverse_ipv4_octets_and_ipv6_nibbles():
    assert [
        query_name("192.0.2.10", ZEN),
        query_name("2001:db8::1", ZEN),
        query_name("2001:db8::1", "bl.spamcop.net"),
        query_name("::ffff:192.0.2.10", "bl.spamcop.net"),
        query_name("Example.COM", "dbl.spamhaus.org"),
    ] == [
        "10.2.0.192.zen.spamhaus.org",
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.spamhaus.org",
        None,
        "10.2.0.192.bl.spamcop.net",
        "example.com.dbl.spamhaus.org",
    ]


# --- answers -------------------------------------------------------------------------------------------


def test_listed_not_listed_resolver_error_and_dead_list_in_one_run(dns_peer, deps):
    dns_peer.list_ip(ZEN, IP, code="127.0.0.4", txt="https://check.spamhaus.org/query/ip/198.51.100.7")
    dns_peer.list_ip("b.barracudacentral.org", IP, code="127.255.255.254", txt=None)
    dns_peer.fault("bl.spamcop.net", "timeout", suffix=True)  # a dead list: never answers
    zones = [ZEN, "b.barracudacentral.org", "bl.spamcop.net", "psbl.surriel.com"]
    listings = lookup_ip(deps, IP, zones)
    assert statuses(listings) == [
        (IP, ZEN, "listed"),
        (IP, "b.barracudacentral.org", "refused"),
        (IP, "bl.spamcop.net", "error"),
        (IP, "psbl.surriel.com", "clean"),
    ]
    zen, barracuda, spamcop, _ = listings
    assert (zen.codes, zen.meanings, zen.severity, zen.reason) == (
        ["127.0.0.4"],
        ["XBL: exploited or infected host (botnet, open proxy)"],
        Severity.ERROR,
        "https://check.spamhaus.org/query/ip/198.51.100.7",
    )
    assert barracuda.meanings == ["the list refuses queries that come through a public or open resolver"]
    assert spamcop.error == "no answer within 1 s"


@pytest.mark.parametrize(
    ("code", "meaning"),
    [
        ("127.255.255.252", "the list's zone name is wrong (typo): the query did not reach a real list"),
        ("127.255.255.254", "the list refuses queries that come through a public or open resolver"),
        ("127.255.255.255", "the list rate-limited this resolver (too many queries)"),
    ],
)
def test_spamhaus_error_codes_are_never_a_listing(dns_peer, deps, code, meaning):
    dns_peer.list_ip(ZEN, IP, code=code)
    [li] = lookup_ip(deps, IP, [ZEN])
    assert (li.status, li.meanings, li.severity) == ("refused", [meaning], Severity.OK)


def test_an_ip_asked_of_the_spamhaus_domain_list_is_its_error_answer_not_a_listing(dns_peer, deps):
    dns_peer.list_ip("dbl.spamhaus.org", IP, code="127.0.1.255")
    [li] = lookup_ip(deps, IP, ["dbl.spamhaus.org"])
    assert (li.status, li.severity) == ("refused", Severity.OK)
    assert li.meanings == [
        "an IP address was asked of a domain list: Spamhaus's domain lists (DBL, ZRD) take domain names only"
    ]


@pytest.mark.parametrize(
    "zone,code,operator",
    [
        ("black.uribl.com", "127.0.0.1", "URIBL"),
        ("multi.uribl.com", "127.0.0.1", "URIBL"),
        ("dbl.surbl.org", "127.0.0.1", "SURBL"),
        ("zrd.spamhaus.org", "127.0.1.255", "Spamhaus"),
    ],
)
def test_an_operators_refusal_code_is_never_a_listing_on_any_of_its_zones(dns_peer, deps, zone, code, operator):
    dns_peer.list_domain(zone, "example.com", code=code, txt=None)
    [li] = lookup_domain(deps, "example.com", [zone])
    assert (li.status, li.severity) == ("refused", Severity.OK)
    assert operator in li.meanings[0]


def test_pbl_is_a_policy_listing_and_only_a_warning(dns_peer, deps):
    dns_peer.list_ip(ZEN, IP, code=["127.0.0.10", "127.0.0.11"])
    [li] = lookup_ip(deps, IP, [ZEN])
    assert (li.status, li.codes, li.severity) == ("listed", ["127.0.0.10", "127.0.0.11"], Severity.WARNING)


def test_a_spamhaus_data_query_service_zone_reads_its_codes_from_the_zen_and_dbl_tables(dns_peer, deps):
    zen, dbl = "k3y.zen.dq.spamhaus.net", "k3y.dbl.dq.spamhaus.net"
    dns_peer.list_ip(zen, IP, code="127.0.0.10", txt=None)
    dns_peer.list_domain(dbl, "example.com", code="127.0.1.2", txt=None)
    [ip] = lookup_ip(deps, IP, [zen])
    [domain] = lookup_domain(deps, "example.com", [dbl])
    assert (ip.status, ip.severity, ip.meanings) == (
        "listed",
        Severity.WARNING,
        ["PBL (ISP): end-user range that should not send mail directly"],
    )
    assert (domain.status, domain.severity, domain.meanings) == ("listed", Severity.ERROR, ["spam domain"])
    assert query_name("2001:db8::25", zen) is not None  # ZEN carries IPv6, under its DQS name too


def test_a_servfail_is_could_not_query(dns_peer, deps):
    dns_peer.fault("bl.mailspike.net", "servfail", suffix=True)
    [li] = lookup_ip(deps, IP, ["bl.mailspike.net"])
    assert (li.status, li.error) == ("error", "the resolver answered SERVFAIL or REFUSED")


def test_an_answer_outside_127_is_not_a_listing(dns_peer, deps):
    dns_peer.add(f"7.100.51.198.{ZEN}", "A", "203.0.113.80")  # an NXDOMAIN-rewriting resolver
    [li] = lookup_ip(deps, IP, [ZEN])
    assert (li.status, li.error) == (
        "error",
        "unexpected answer 203.0.113.80: not a blocklist code (does the resolver rewrite NXDOMAIN?)",
    )


def test_ipv6_is_queried_where_the_list_carries_it_and_said_plainly_elsewhere(dns_peer, deps):
    dns_peer.list_ip(ZEN, "2001:db8::25", code="127.0.0.3")
    listings = lookup_ip(deps, "2001:db8::25", [ZEN, "b.barracudacentral.org"])
    assert statuses(listings) == [
        ("2001:db8::25", ZEN, "listed"),
        ("2001:db8::25", "b.barracudacentral.org", "unsupported"),
    ]
    report = blocklist_report(deps, ["2001:db8::25"])
    ipv6 = [f for f in report.findings if f.check == "blocklist.ipv6"]
    assert [(f.severity, f.summary) for f in ipv6] == [
        (
            Severity.INFO,
            "2001:db8::25 is IPv6: b.barracudacentral.org, bl.spamcop.net, psbl.surriel.com, bl.mailspike.net, "
            "spam.spamrats.com, ubl.lashback.com do not list IPv6 addresses; checked on zen.spamhaus.org",
        )
    ]


def test_an_ipv6_address_no_configured_list_covers_is_not_checked_rather_than_not_listed(dns_peer, deps):
    deps.settings.ip_blocklists = ("b.barracudacentral.org",)
    report = blocklist_report(deps, ["2001:db8::25", IP])
    assert [(f.check, f.severity, f.summary, f.data.get("could_not_check")) for f in report.findings] == [
        (
            "blocklist.ipv6",
            Severity.INFO,
            "2001:db8::25 not checked: none of the lists covers IPv6 (b.barracudacentral.org)",
            True,
        ),
        ("blocklist.clean", Severity.OK, f"Not listed anywhere checked: {IP}", None),
    ]
    alone = blocklist_report(deps, ["2001:db8::25"])
    assert [(f.check, f.severity) for f in alone.findings] == [("blocklist.ipv6", Severity.INFO)]


def test_a_domain_is_checked_with_its_organizational_domain_on_domain_lists(dns_peer, deps):
    dns_peer.list_domain("dbl.spamhaus.org", "example.com", code="127.0.1.4")
    dns_peer.list_domain("multi.uribl.com", "example.com", code="127.0.0.1", txt=None)
    listings = lookup_domain(deps, "mail.example.com", ["dbl.spamhaus.org", "multi.uribl.com"])
    assert statuses(listings) == [
        ("mail.example.com", "dbl.spamhaus.org", "clean"),
        ("mail.example.com", "multi.uribl.com", "clean"),
        ("example.com", "dbl.spamhaus.org", "listed"),
        ("example.com", "multi.uribl.com", "refused"),
    ]
    assert listings[2].meanings == ["phishing domain"]


def test_surbl_bitmask_codes_name_every_category(dns_peer, deps):
    dns_peer.list_domain("multi.surbl.org", "example.com", code="127.0.0.24")
    [li] = lookup_domain(deps, "example.com", ["multi.surbl.org"])
    assert (li.status, li.meanings) == ("listed", ["phishing (PH); malware (MW)"])


def test_every_known_list_takes_its_delisting_url_and_label_from_the_classifier():
    table = {zone: (bl.title, bl.delist) for zone, bl in KNOWN_LISTS.items()}
    assert table == {
        "zen.spamhaus.org": ("Spamhaus ZEN", "https://check.spamhaus.org/"),
        "b.barracudacentral.org": (
            "Barracuda Reputation Block List",
            "https://www.barracudacentral.org/rbl/removal-request",
        ),
        "bl.spamcop.net": ("SpamCop", "https://www.spamcop.net/bl.shtml"),
        "psbl.surriel.com": ("Passive Spam Block List", "https://psbl.org/"),
        "bl.mailspike.net": ("Mailspike", "https://mailspike.io/"),
        "spam.spamrats.com": ("SpamRATS", "https://www.spamrats.com/removal.php"),
        "ubl.lashback.com": ("LashBack UBL", "https://blacklist.lashback.com/"),
        "dbl.spamhaus.org": ("Spamhaus DBL", "https://check.spamhaus.org/"),
        "multi.surbl.org": ("SURBL", "https://www.surbl.org/surbl-analysis"),
        "multi.uribl.com": ("URIBL", "https://admin.uribl.com/"),
    }
    for zone, bl in KNOWN_LISTS.items():
        entry = blocklist_named(zone)
        # the URL always, the label wherever the classifier's name is a label rather than the zone
        assert (bl.delist, bl.kind) == (entry.delist_url, entry.kind), zone
        assert bl.title == entry.name or entry.name == zone, zone


def test_a_surbl_listing_and_a_bounce_naming_surbl_give_the_same_delisting_link(dns_peer, deps):
    dns_peer.list_domain("multi.surbl.org", "example.com", code="127.0.0.64")
    listings = lookup_domain(deps, "example.com", ["multi.surbl.org"])
    [listed, _clean] = listing_findings([Target("example.com", ["named in the command"])], listings)
    bounce = classify("554 5.7.1 Message rejected: a link in it is listed on multi.surbl.org")
    assert (listed.summary, listed.data["delist"]) == (
        "example.com is listed on multi.surbl.org (SURBL): spam or abuse (ABUSE)",
        "https://www.surbl.org/surbl-analysis",
    )
    assert (bounce.blocklist, bounce.delist_url) == ("SURBL", listed.data["delist"])
    assert listed.fix.endswith(f"request removal at {bounce.delist_url}.")


def test_an_unknown_configured_zone_reports_the_raw_code(dns_peer, deps):
    dns_peer.list_ip("dnsbl.example.net", IP, code="127.0.0.9", txt=None)
    [li] = lookup_ip(deps, IP, ["dnsbl.example.net"])
    assert (li.status, li.meanings, li.severity) == ("listed", ["listed (return code 127.0.0.9)"], Severity.ERROR)


def test_every_query_runs_at_once(dns_peer, deps):
    dns_peer.delay(0.2)
    targets = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
    start = time.perf_counter()
    listings = lookup_targets(deps, targets, domain_zones=[])
    wall_ms = (time.perf_counter() - start) * 1000
    assert len(listings) == 21 and {li.status for li in listings} == {"clean"}
    assert wall_ms < sum(li.ms for li in listings) / 4  # a ratio within one run, not a time budget


# --- findings ------------------------------------------------------------------------------------------


def test_the_report_has_one_finding_per_listing_one_per_broken_list_and_a_clean_summary(dns_peer, deps):
    deps.settings.ip_blocklists = (ZEN, "b.barracudacentral.org", "bl.spamcop.net")
    deps.settings.domain_blocklists = ("dbl.spamhaus.org",)
    dns_peer.list_ip(ZEN, IP, code="127.0.0.2", txt="SBL12345")
    dns_peer.list_ip("b.barracudacentral.org", IP, code="127.255.255.254", txt=None)
    dns_peer.fault("bl.spamcop.net", "timeout", suffix=True)
    report = blocklist_report(deps, [IP, "198.51.100.8", "example.org"])
    assert [(f.check, f.severity, f.summary) for f in report.findings] == [
        (
            "blocklist.listed",
            Severity.ERROR,
            f"{IP} is listed on zen.spamhaus.org (Spamhaus ZEN): SBL: a known spam source or spam operation",
        ),
        (
            "blocklist.query",
            Severity.WARNING,
            f"b.barracudacentral.org would not answer this resolver (127.255.255.254: the list refuses queries "
            f"that come through a public or open resolver); whether {IP} is listed there is unknown",
        ),
        (
            "blocklist.query",
            Severity.WARNING,
            f"Could not query bl.spamcop.net for {IP}, 198.51.100.8: no answer within 1 s",
        ),
        ("blocklist.clean", Severity.OK, "Not listed anywhere checked: example.org"),
    ]
    listed, refused, _, clean = report.findings
    assert listed.evidence == [
        f"7.100.51.198.{ZEN} A 127.0.0.2",
        f"7.100.51.198.{ZEN} TXT SBL12345",
        f"{IP}: named in the command",
    ]
    assert listed.fix.endswith("request removal at https://check.spamhaus.org/.")
    assert refused.fix == RESOLVER_FIX
    assert clean.evidence[:3] == [
        f"198.51.100.8: not listed on {ZEN}, b.barracudacentral.org",
        "example.org: not listed on dbl.spamhaus.org",
        f"{IP}: named in the command",
    ]
    assert report.verdict is listed


# --- targets when none are given -----------------------------------------------------------------------


def test_dedicated_ips_are_read_across_every_page(aws_peer, deps):
    ips = [f"198.51.100.{i}" for i in range(1, 121)] + [f"203.0.113.{i}" for i in range(1, 11)]
    aws_peer.set_dedicated_ips(ips)
    assert [ip["Ip"] for ip in dedicated_ips(deps, "us-east-1")] == ips
    assert len(aws_peer.calls_to("GetDedicatedIps")) == 2


def test_no_argument_checks_dedicated_ips_history_ips_and_the_sender_domain(aws_peer, dns_peer, deps, store):
    deps.settings.ip_blocklists = (ZEN,)
    deps.settings.domain_blocklists = ("dbl.spamhaus.org",)
    aws_peer.set_dedicated_ips(["198.51.100.7"], pool_name="marketing")
    recent = deps.now().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    add_event(store, "203.0.113.9", recent, blocklist="zen.spamhaus.org")
    add_event(store, "203.0.113.9", recent)
    add_event(store, "203.0.113.200", "2001-01-01T00:00:00.000Z")  # outside the history window
    dns_peer.list_ip(ZEN, "203.0.113.9", code="127.0.0.3", txt=None)
    report = blocklist_report(deps)
    assert report.target == "198.51.100.7 203.0.113.9 mail.example.com"
    assert [(f.check, f.severity, f.summary) for f in report.findings] == [
        (
            "blocklist.listed",
            Severity.ERROR,
            "203.0.113.9 is listed on zen.spamhaus.org (Spamhaus ZEN): CSS: low-reputation mail, e.g. snowshoe "
            "spam or bad sending practices",
        ),
        ("blocklist.clean", Severity.OK, "Not listed anywhere checked: 198.51.100.7, mail.example.com, example.com"),
    ]
    listed = report.findings[0]
    assert listed.evidence[-1] == (
        f"203.0.113.9: sending IP in 2 event(s) of the last 30 days, last {recent}; bounces named zen.spamhaus.org"
    )
    assert "198.51.100.7: dedicated IP in us-east-1 (pool marketing, warm-up DONE)" in report.findings[1].evidence


def test_a_shared_ip_account_is_told_it_has_no_dedicated_ips(aws_peer, dns_peer, deps):
    deps.settings.domain_blocklists = ("dbl.spamhaus.org",)
    report = blocklist_report(deps)
    assert [(f.check, f.severity, f.summary) for f in report.findings] == [
        (
            "blocklist.dedicated_ips",
            Severity.INFO,
            "No dedicated IPs in us-east-1: SES sends from shared IPs, whose listings AWS handles",
        ),
        ("blocklist.clean", Severity.OK, "Not listed: mail.example.com, example.com on 1 list(s)"),
    ]


def test_a_listed_shared_ip_gets_the_aws_support_advice_and_no_removal_request(aws_peer, dns_peer, deps, store):
    deps.settings.ip_blocklists, deps.settings.domain_blocklists = (ZEN,), ()
    add_event(store, "54.240.8.10", deps.now().strftime("%Y-%m-%dT%H:%M:%S.000Z"), blocklist=ZEN)
    dns_peer.list_ip(ZEN, "54.240.8.10", code="127.0.0.2", txt=None)
    listed = blocklist_report(deps).verdict  # the account has no dedicated IPs: 54.240.8.10 is a shared one
    assert listed is not None and listed.check == "blocklist.listed"
    assert "AWS manages the shared IPs' listings" in listed.fix and "open an AWS Support case" in listed.fix
    assert "request removal" not in listed.fix and "check.spamhaus.org" not in listed.fix
    assert listed.data["delist"] is None
    # The same words as the classifier's advice for a bounce naming the list.
    assert "AWS manages the shared IPs' listings" in classify("blocked using zen.spamhaus.org").fix


def test_a_listed_dedicated_ip_is_told_to_request_removal(aws_peer, dns_peer, deps):
    deps.settings.ip_blocklists, deps.settings.domain_blocklists = (ZEN,), ()
    aws_peer.set_dedicated_ips([IP])
    dns_peer.list_ip(ZEN, IP, code="127.0.0.2", txt=None)
    listed = blocklist_report(deps).verdict
    assert listed is not None and listed.fix.endswith("request removal at https://check.spamhaus.org/.")


def test_an_aws_error_listing_dedicated_ips_is_could_not_check(aws_peer, dns_peer, deps):
    deps.settings.sender = None
    aws_peer.fail("GetDedicatedIps", code="AccessDeniedException", status=403, count=None)
    report = blocklist_report(deps)
    assert [(f.check, f.severity, f.data.get("could_not_check")) for f in report.findings] == [
        ("blocklist.dedicated_ips", Severity.WARNING, True),
        ("blocklist.targets", Severity.INFO, None),
    ]


# --- the command ---------------------------------------------------------------------------------------


def test_targets_are_ips_or_domains_normalised_and_deduplicated():
    assert parse_targets(["198.51.100.7", "<http://Example.COM|Example.COM>", "example.com", "2001:DB8::1"]) == [
        "198.51.100.7",
        "example.com",
        "2001:db8::1",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999.1.1.1"], "`999.1.1.1` is not an IP address"),
        (
            ["not a domain!"],
            "`not a domain!` is neither an IP address nor a domain; try `blocklist 192.0.2.1 example.com`",
        ),
        ([f"198.51.100.{i}" for i in range(21)], "that is 21 targets; the limit is 20 at a time"),
        (["2001:db8::1%eth0"], "`2001:db8::1%eth0` has an interface zone (%eth0); try `2001:db8::1`"),
    ],
)
def test_bad_targets_are_usage_errors(args, message):
    with pytest.raises(UsageError) as err:
        parse_targets(args)
    assert str(err.value) == message


def test_the_blocklist_command_answers_with_a_report(dns_peer, deps):
    import bot.commands.blocklist  # noqa: F401  (registers the command)

    deps.settings.ip_blocklists = (ZEN,)
    report = execute(CommandContext(deps), parse("blocklist 198.51.100.7 --json"))
    assert (report.kind, report.target, [f.check for f in report.findings]) == (
        "blocklist",
        "198.51.100.7",
        ["blocklist.clean"],
    )
