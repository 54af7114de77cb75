"""Tests for bot.classify: bounce / delay / SES-error text -> category, blocklist, summary, fix.

The corpus tests score the classifier against sisimai's labels for real bounce mails
(tests/data/bounces/, copied from the shared corpus).  The rules were developed looking only
at the "dev" part of the 698 records (sha256 of the diagnostic text mod 10 < 6); the other ~40%
("holdout") is scored separately, so the held-out figures say how the rules do on texts they
were not written against.  Run with ``-s`` to see the per-category tables and the speed figure.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.classify import BLOCKLISTS, CATEGORIES, Classification, blocklist_named, classify, delist_url_for
from bot.classify import engine as classify_module

DATA = Path(__file__).parent / "data" / "bounces"
SET_OF_EMAILS = DATA / "sisimai-set-of-emails-p5-labels.jsonl"
TESTFILE = DATA / "sisimai-testfile-expected-labels.jsonl"

# sisimai's reasons mapped onto our categories.  The first category is the one we mean; any
# other listed category is also accepted, where sisimai's reason is coarser than our taxonomy or
# where our taxonomy cuts the same mails differently.  None = not a delivery failure, not scored.
SISIMAI_TO_CATEGORIES: dict[str, tuple[str, ...] | None] = {
    "userunknown": ("unknown_user",),
    # The address moved without forwarding / the account is disabled: for the sender it is the
    # same outcome and the same action as an unknown user (stop mailing it).
    "hasmoved": ("unknown_user",),
    "suspend": ("unknown_user",),
    # sisimai: refused by a recipient-side filter after RCPT. In these mails that is mostly a
    # late "User unknown", sometimes a header or policy filter: ours is finer.
    "filtered": ("unknown_user", "policy", "content"),
    "mailboxfull": ("mailbox_full",),
    # The receiving *system* is out of disk: a mailbox-full to the sender, or a server fault.
    "systemfull": ("mailbox_full", "other"),
    "mesgtoobig": ("message_too_large",),
    "exceedlimit": ("message_too_large",),  # sisimai: message exceeds the recipient's size limit
    # sisimai's "blocked" covers DNSBL listings, provider IP blocks, reputation refusals and
    # local policy refusals of the client host; we split those into ip_blocklist (listed or
    # blocked IP), reputation and policy.  A connection failure is not accepted here.
    "blocked": ("ip_blocklist", "reputation", "policy"),
    "badreputation": ("reputation",),
    "spamdetected": ("content",),
    "virusdetected": ("content",),
    "contenterror": ("content",),
    "notcompliantrfc": ("content", "policy"),  # a malformed message; some receivers call it policy
    "policyviolation": ("policy", "content"),  # sisimai lumps attachment rules in here
    # sisimai: "security error" - access denied, authentication required, flagged as spam.
    # Sisimai/Reason/SecurityError.pm also lists "starttls is required to send mail" and "tls required but not
    # supported" (moved to FailedSTARTTLS in sisimai 5.2): TLS failures are connection in our taxonomy.
    "securityerror": ("policy", "authentication", "content", "connection"),
    "authfailure": ("authentication",),
    "requireptr": ("policy",),  # missing reverse DNS is the receiver's policy, not a blocklist
    "rejected": ("policy",),  # sisimai: rejected because of the envelope sender
    "norelaying": ("policy",),
    "hostunknown": ("dns",),
    # null MX / no MX, "host does not accept mail"; sisimai also sets it for a bare 521/554/556 reply and says
    # "in many case, the server is high load or under the maintenance" (Sisimai/Reason/NotAccept.pm): other.
    "notaccept": ("dns", "policy", "other"),
    "networkerror": ("dns", "connection"),  # sisimai puts DNS failures and lost sessions here
    # gave up retrying: "delivery time has expired due to connection failure or network error"
    # (Sisimai/Reason/Expired.pm), and a network error includes a DNS lookup failure (NetworkError.pm).
    "expired": ("connection", "dns"),
    "toomanyconn": ("throttling", "policy"),
    "speeding": ("throttling",),
    # Sisimai/Reason/SystemError.pm lists "loops back to myself" and "loop was found in the mail exchanger": an
    # MX pointing back at the sender, which our taxonomy files as dns.
    "systemerror": ("other", "connection", "dns"),
    "mailererror": ("other",),
    "onhold": ("other",),
    "syntaxerror": ("other",),
    "feedback": None,  # complaint (ARF) reports, not bounces
    "delivered": None,
    "undefined": None,  # sisimai could not decide either
}


def is_dev(text: str) -> bool:
    """The deterministic ~60% the rules were written against."""
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % 10 < 6


@functools.cache
def corpus_records() -> tuple[dict, ...]:
    return tuple(json.loads(line) for line in SET_OF_EMAILS.read_text(encoding="utf-8").splitlines() if line)


def dev_texts() -> list[tuple[str, str]]:
    """(text, category) of every development text, in file order: providers-dev, then the dev half of
    sisimai's labels under the first category each reason maps to (benchmarks/classify.py reads them the same
    way, in the same order, to train the words guess)."""
    rows = [json.loads(line) for line in (DATA / "providers-dev.jsonl").read_text("utf-8").splitlines() if line]
    out = [(r["text"], r["category"]) for r in rows]
    for r in corpus_records():
        accepted = SISIMAI_TO_CATEGORIES.get(r["reason"])
        if accepted and is_dev(r["diagnosticcode"]):
            out.append((r["diagnosticcode"], accepted[0]))
    return out


@functools.cache
def expected_label_records() -> tuple[dict, ...]:
    return tuple(json.loads(line) for line in TESTFILE.read_text(encoding="utf-8").splitlines() if line)


def score(rows: list[tuple[str, str]]) -> tuple[dict[str, tuple[int, int]], tuple[int, int]]:
    """(text, sisimai reason) pairs -> per expected category (ok, n), and overall (ok, n).

    Only the diagnostic text is given to the classifier: sisimai's deliverystatus field is
    partly its own output (5.0.9xx pseudo-codes encode the reason), so passing it would leak
    the label.
    """
    per: dict[str, list[int]] = {}
    for text, reason in rows:
        accepted = SISIMAI_TO_CATEGORIES[reason]
        if accepted is None:
            continue
        got = classify(text).category
        cell = per.setdefault(accepted[0], [0, 0])
        cell[0] += got in accepted
        cell[1] += 1
    ok = sum(c[0] for c in per.values())
    n = sum(c[1] for c in per.values())
    return {k: (v[0], v[1]) for k, v in per.items()}, (ok, n)


def table(title: str, per: dict[str, tuple[int, int]], total: tuple[int, int]) -> str:
    lines = [title, f"  {'category':<18} {'ok/n':>9} {'acc':>6}"]
    for category in CATEGORIES:
        if category in per:
            ok, n = per[category]
            lines.append(f"  {category:<18} {ok:>4}/{n:<4} {ok / n:>6.1%}")
    lines.append(f"  {'overall':<18} {total[0]:>4}/{total[1]:<4} {total[0] / total[1]:>6.1%}")
    return "\n".join(lines)


def split(dev: bool) -> list[tuple[str, str]]:
    return [(r["diagnosticcode"], r["reason"]) for r in corpus_records() if is_dev(r["diagnosticcode"]) == dev]


# ------------------------------------------------------------------------------------------
# The corpus
# ------------------------------------------------------------------------------------------


def test_the_corpus_files_are_in_the_repository_with_the_expected_record_counts() -> None:
    assert len(corpus_records()) == 698
    assert len(expected_label_records()) == 157


def test_every_sisimai_reason_in_the_corpus_has_a_mapping_to_our_categories() -> None:
    reasons = {r["reason"] for r in corpus_records()} | {r["expected_reason"] for r in expected_label_records()}
    assert reasons <= set(SISIMAI_TO_CATEGORIES)
    for accepted in SISIMAI_TO_CATEGORIES.values():
        assert accepted is None or set(accepted) <= set(CATEGORIES)


def test_the_dev_holdout_split_is_deterministic_and_roughly_sixty_forty() -> None:
    dev, holdout = split(True), split(False)
    assert len(dev) + len(holdout) == 698
    assert 0.5 < len(dev) / 698 < 0.7
    assert split(True) == dev
    # Identical texts always fall on the same side, so the holdout holds no copy of a dev text.
    assert not {t for t, _ in dev} & {t for t, _ in holdout}


# Achieved when the rules were frozen, minus a margin of about one record per category.
# dev: 369/387 = 95.3%; holdout: 224/278 = 80.6% (79.9% at the first look at the holdout; one
# round of general phrase additions from outside knowledge followed, then the rules were frozen).
DEV_MIN = {
    "authentication": 0.93,
    "connection": 0.94,
    "content": 0.80,
    "dns": 0.95,
    "ip_blocklist": 0.70,
    "mailbox_full": 0.92,
    "message_too_large": 0.87,
    "other": 0.90,
    "policy": 0.85,
    "unknown_user": 0.96,
}
HOLDOUT_MIN = {
    "authentication": 0.85,
    "connection": 0.50,
    "content": 0.54,
    "dns": 0.75,
    "ip_blocklist": 0.50,
    "mailbox_full": 0.90,
    "message_too_large": 0.85,
    "other": 0.72,
    "policy": 0.58,
    "reputation": 0.66,
    "throttling": 0.66,
    "unknown_user": 0.86,
}


def test_accuracy_on_the_development_split_stays_at_what_was_achieved() -> None:
    per, total = score(split(True))
    print("\n" + table("sisimai set-of-emails, dev split (rules written against these)", per, total))
    assert total[0] / total[1] >= 0.93
    for category, minimum in DEV_MIN.items():
        ok, n = per[category]
        assert ok / n >= minimum, (category, ok, n)


def test_accuracy_on_the_held_out_split_stays_at_what_was_achieved() -> None:
    per, total = score(split(False))
    print("\n" + table("sisimai set-of-emails, held-out split (never used to write rules)", per, total))
    assert total[0] / total[1] >= 0.77
    for category, minimum in HOLDOUT_MIN.items():
        ok, n = per[category]
        assert ok / n >= minimum, (category, ok, n)


def test_accuracy_on_the_labels_sisimai_own_tests_expect() -> None:
    per, total = score([(r["diagnosticcode"], r["expected_reason"]) for r in expected_label_records()])
    print("\n" + table("sisimai testfile expected labels (dev + holdout texts)", per, total))
    assert total[0] / total[1] >= 0.82  # achieved 131/154 = 85.1%


def test_every_corpus_text_gets_a_valid_category_and_readable_wording() -> None:
    for record in corpus_records():
        result = classify(record["diagnosticcode"])
        assert result.category in CATEGORIES
        assert result.summary and result.fix
        assert "{" not in result.summary + result.fix  # no unfilled placeholder


# ------------------------------------------------------------------------------------------
# Hand-written texts, one or more per category
# ------------------------------------------------------------------------------------------

CASES: list[tuple[str, str, str | None]] = [
    # (text, category, blocklist)
    (
        "smtp; 554 5.7.1 Service unavailable; Client host [54.240.8.1] blocked using zen.spamhaus.org;"
        " https://www.spamhaus.org/query/ip/54.240.8.1",
        "ip_blocklist",
        "zen.spamhaus.org",
    ),
    (
        "554 5.7.1 Service unavailable; Client host [1.2.3.4] blocked using b.barracudacentral.org",
        "ip_blocklist",
        "b.barracudacentral.org",
    ),
    ("550 Rejected: 198.51.100.7 listed at bl.spamcop.net", "ip_blocklist", "bl.spamcop.net"),
    ("553 5.7.1 see https://www.spamhaus.org/query/ip/198.51.100.7", "ip_blocklist", "Spamhaus"),
    (
        "451 4.7.1 Barracuda Reputation: your IP 198.51.100.7 is listed, try again later",
        "ip_blocklist",
        "b.barracudacentral.org",
    ),
    ("554 Blocked - see https://ipcheck.proofpoint.com/?ip=198.51.100.7", "ip_blocklist", "Proofpoint"),
    ("421 4.7.0 198.51.100.7 is listed on Cloudmark CSI-Global, please try later", "ip_blocklist", "Cloudmark CSI"),
    (
        "550 5.7.1 Unfortunately, messages from [198.51.100.7] weren't sent. Please contact your Internet"
        " service provider since part of their network is on our block list (S3150).",
        "ip_blocklist",
        "Microsoft (S3150)",
    ),
    ("550 5.7.606 Access denied, banned sending IP [198.51.100.7]", "ip_blocklist", "Microsoft (5.7.606-649)"),
    ("554 5.7.1 Client host [198.51.100.7] blocked using rbl.example-isp.net", "ip_blocklist", "rbl.example-isp.net"),
    ("550 Your IP address 198.51.100.7 has been blocked", "ip_blocklist", None),
    # The CBL by its own name, not its zone (Spamhaus: the XBL "incorporates the CBL").
    ("554 Your sending server 198.51.100.7 appears in the CBL", "ip_blocklist", "cbl.abuseat.org"),
    ("550 Rejected: listed in the Composite Blocking List", "ip_blocklist", "cbl.abuseat.org"),
    ("554 5.7.1 Rejected: the URL in the message is listed on dbl.spamhaus.org", "domain_blocklist", "Spamhaus DBL"),
    ("550 5.7.1 Message rejected: example.com is listed in multi.uribl.com", "domain_blocklist", "URIBL"),
    ("554 5.7.1 Body contains a domain on a blacklist (rhsbl)", "domain_blocklist", None),
    (
        "421 4.7.0 [TSS04] Messages from 198.51.100.7 temporarily deferred due to unexpected volume or user complaints",
        "reputation",
        None,
    ),
    ("550 5.7.1 Mail refused: poor sender reputation", "reputation", None),
    (
        "451 4.7.650 The mail server [198.51.100.7] has been temporarily rate limited due to IP reputation.",
        "reputation",
        None,
    ),
    ("554 5.7.1 Your message looks like spam and was refused", "content", None),
    ("550 5.7.0 Message rejected: virus found in attachment invoice.zip", "content", None),
    ("552 5.7.0 Our system detected an illegal attachment on your message.", "content", None),
    ("550 5.6.0 Message header error: duplicate Message-ID header", "content", None),
    (
        "550 5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy",
        "authentication",
        None,
    ),
    ("550 5.7.1 SPF check failed: 198.51.100.7 is not allowed to send for example.com", "authentication", None),
    ("550 5.7.20 No passing DKIM signature found", "authentication", None),
    (
        "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table",
        "unknown_user",
        None,
    ),
    ("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", "unknown_user", None),
    ("550 No such user here", "unknown_user", None),
    ("550 The account you tried to reach has been disabled", "unknown_user", None),
    ("550 5.1.1 Adresse d'au moins un destinataire invalide", "unknown_user", None),
    ("550 Benutzer unbekannt", "unknown_user", None),
    ("550 Usuario desconocido", "unknown_user", None),
    ("550 宛先のユーザーは存在しません", "unknown_user", None),
    ("552 5.2.2 The email account that you tried to reach is over quota", "mailbox_full", None),
    ("452 4.2.2 Mailbox full", "mailbox_full", None),
    ("552 Requested mail action aborted: exceeded storage allocation", "mailbox_full", None),
    ("452 4.3.1 Insufficient system storage", "mailbox_full", None),
    ("552 5.3.4 Message size exceeds fixed maximum message size (10485760)", "message_too_large", None),
    ("552 5.2.3 Message too large for this recipient", "message_too_large", None),
    (
        "Amazon SES did not send the message to this address because it is on the suppression list for your account.",
        "suppressed",
        None,
    ),
    ("554 5.7.1 <someone@example.net>: Relay access denied", "policy", None),
    ("550 5.7.1 Client host rejected: cannot find your reverse hostname, [198.51.100.7]", "policy", None),
    ("554 5.7.9 Message not accepted for policy reasons", "policy", None),
    ("Connected to 192.0.2.1 but sender was rejected.", "policy", None),  # qmail-remote.c
    ("554 5.5.0 Error: bare <LF> received", "content", None),  # Postfix smtpd (smtpd_forbid_bare_newline)
    ("451 4.3.5 Server configuration problem", "other", None),  # Postfix smtpd_check.c
    ("553 5.1.8 Domain of sender address bounce@nowhere.invalid does not exist", "policy", None),
    ("550 5.7.1 Sender is on the recipient's blocked senders list", "policy", None),
    ("Host or domain name not found. Name service error for name=exmaple.com type=MX: Host not found", "dns", None),
    ("DNS Error: DNS type 'mx' lookup of gmial.com responded with code NXDOMAIN", "dns", None),
    ("550 5.1.2 Bad destination system address", "dns", None),
    ("connect to mx.example.org[203.0.113.5]:25: Connection timed out", "connection", None),
    ("451 4.4.2 Connection dropped while sending DATA", "connection", None),
    ("Remote server does not support TLS; STARTTLS required", "connection", None),
    ("Message expired after 14 hours of retrying: connection refused", "connection", None),
    ("421 4.7.0 Too many concurrent connections from your IP, slow down", "throttling", None),
    ("452 4.5.3 Too many recipients in this hour, try again later", "throttling", None),
    ("451 4.7.1 Greylisting in action, please come back later", "throttling", None),
    ("451 4.3.0 Internal server error, please try again later", "other", None),
    ("250 2.0.0 Ok: queued as 4BxyZ", "other", None),
    # common MTA wording with no status code (sender callouts, lists, broken sessions, volume verdicts)
    ("550 Callout verification failure", "policy", None),
    ("550 Mail from this sender is not accepted", "policy", None),
    ("550 Only members can post to this list", "policy", None),
    ("550 Message rejected by recipient's mail rules", "policy", None),
    ("unexpected end of file from server", "connection", None),
    ("SMTP session closed unexpectedly", "connection", None),
    ("550 Your IP is sending too much unwanted mail", "reputation", None),
    ("550 Too many complaints from your IP", "reputation", None),
    ("421 Maximum connections exceeded", "throttling", None),
    ("EOF during SMTP session", "connection", None),
    ("Connection terminated abnormally", "connection", None),
    ("No DNS records found for the domain", "dns", None),
    ("550 Adresse inconnue", "unknown_user", None),
    ("Mailbox voll", "mailbox_full", None),
    ("550 5.5.1 Data command rejected: Multi-recipient bounce", "policy", None),
    ("550 message has lines too long for transport", "content", None),
    ("550 Your message contains an attachment of a type we do not accept", "content", None),
    ("550 Rejected by filter", "content", None),
    ("554 5.7.1 Message refused, suspected botnet", "reputation", None),
    ("Recipient's Domino Directory entry does not specify a valid Notes mail file", "unknown_user", None),
    ("message was forwarded more than the maximum allowed times", "connection", None),
    ("550 Bulk mail rejected", "content", None),
    ("550 Please use your provider's SMTP server", "policy", None),
    ("Destinatário inválido", "unknown_user", None),
    ("メールボックスの容量を超えています", "mailbox_full", None),
    # Refused at connection or EHLO with no reason given: the receiver refuses the sending host (RFC 5321 3.1,
    # 4.1.1.1), as Exim and Postfix report it; a 4xx greeting is a connection problem, not a block.
    ("SMTP error from remote mail server after EHLO mta.example.com: 550 Rejected", "ip_blocklist", None),
    ("host mx.example.org[192.0.2.1] said: 554 5.7.1 Go away (in reply to EHLO command)", "ip_blocklist", None),
    (
        "connect to mx.example.org[192.0.2.1]: server refused to talk to me: 421 Service not available",
        "connection",
        None,
    ),
    # Terse forms of published texts, the copula dropped (Exchange "Client was not authenticated", Mimecast
    # "Account service is temporarily unavailable", Yahoo "From: Domain is invalid").
    ("530 5.7.1 Client not authenticated", "policy", None),
    # Texts a too-loose reading once misread (a review of the classifier's normalisation): a recipient's
    # *server* closing the connection, a sender without permission on an account, "cant" without its
    # apostrophe.
    ("451 4.4.2 Timeout waiting for data from recipient server, connection closed", "connection", None),
    ("554 5.7.1 The sending user does not have permission to use this account", "policy", None),
    ("we cant resolve your domain", "dns", None),
    # A recipient's account state, with "recipient" right before it; a domain's mailbox (Yahoo's "doesn't
    # have a yahoo.com account", in the other word).
    ("550 recipient disabled", "unknown_user", None),
    ("554 delivery error: dd This user doesn't have a yahoo.com mailbox", "unknown_user", None),
    ("cant connect to host", "connection", None),
    # Postfix's RBL refusal with the zone cut off (src/smtpd/smtpd_check.c): still the sending IP's block.
    ("554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked by 198.51.100.1", "ip_blocklist", None),
    ("451 Account service temporarily unavailable", "throttling", None),
    ("550 example.com From: Domain invalid. Provide a valid From:", "policy", None),
]


@pytest.mark.parametrize(("text", "category", "blocklist"), CASES, ids=[c[0][:60] for c in CASES])
def test_a_hand_written_bounce_gets_its_category_and_list(text: str, category: str, blocklist: str | None) -> None:
    result = classify(text)
    assert result.category == category, result
    assert result.blocklist == blocklist, result


def test_every_category_is_reached_by_some_hand_written_case() -> None:
    reached = {c[1] for c in CASES}
    assert reached == set(CATEGORIES)


def test_a_named_list_comes_with_its_delisting_url_in_the_fix() -> None:
    result = classify("554 5.7.1 Client host [198.51.100.7] blocked using b.barracudacentral.org")
    assert result.delist_url == "https://www.barracudacentral.org/rbl/removal-request"
    assert result.delist_url in result.fix
    assert "b.barracudacentral.org" in result.summary
    assert result.summary == (
        "The receiving server rejected the mail because the sending IP is listed on b.barracudacentral.org."
    )


def test_a_list_known_to_be_closed_says_so_instead_of_a_delisting_url() -> None:
    result = classify("521 5.7.1 client [198.51.100.7] blocked using dnsbl.sorbs.net")
    assert result.category == "ip_blocklist"
    assert result.blocklist == "dnsbl.sorbs.net"
    assert result.delist_url is None
    assert "closed" in result.fix
    assert "looking the sending IP up" not in result.fix  # there is nothing left to look up


def test_a_uceprotect_level_2_or_3_listing_is_of_a_network_and_gets_no_removal_link() -> None:
    # UCEPROTECT's levels 2 and 3 list address blocks and autonomous systems (for SES, Amazon's), not one IP.
    for text in (
        "554 5.7.1 Your IP 54.240.8.1 is listed in dnsbl-3.uceprotect.net",
        "550 Net-block 54.240.0.0/18 is UCEPROTECT-Level2 listed because of abuse",
    ):
        result = classify(text)
        assert (result.category, result.blocklist, result.delist_url) == ("ip_blocklist", "UCEPROTECT Level 2/3", None)
        assert "Amazon's network" in result.fix
    level1 = classify("554 5.7.1 Your IP 54.240.8.1 is listed in dnsbl-1.uceprotect.net")
    assert (level1.blocklist, level1.delist_url) == ("UCEPROTECT", "https://www.uceprotect.net/")


def test_the_blocklist_table_is_well_formed() -> None:
    names = [b.name for b in BLOCKLISTS]
    assert len(set(names)) == len(names)
    for entry in BLOCKLISTS:
        assert entry.kind in ("ip", "domain")
        assert entry.delist_url is None or entry.delist_url.startswith("https://")
        assert entry.delist_url or entry.note or entry.fix, entry.name


def test_a_list_is_found_by_its_canonical_name_or_by_a_zone_it_would_recognise_in_a_bounce() -> None:
    names = [
        "SURBL",
        "surbl",
        "Microsoft",
        "multi.surbl.org",
        "spam.spamrats.com",
        "dbl.spamhaus.org",
        "zen.spamhaus.org.",
    ]
    found = [(n, getattr(blocklist_named(n), "name", None), delist_url_for(n)) for n in names]
    assert found == [
        ("SURBL", "SURBL", "https://www.surbl.org/surbl-analysis"),
        ("surbl", "SURBL", "https://www.surbl.org/surbl-analysis"),
        ("Microsoft", "Microsoft", "https://sender.office.com/"),
        ("multi.surbl.org", "SURBL", "https://www.surbl.org/surbl-analysis"),
        ("spam.spamrats.com", "SpamRATS", "https://www.spamrats.com/removal.php"),
        ("dbl.spamhaus.org", "Spamhaus DBL", "https://check.spamhaus.org/"),
        ("zen.spamhaus.org.", "zen.spamhaus.org", "https://check.spamhaus.org/"),
    ]


def test_an_unknown_or_closed_list_has_no_delisting_url() -> None:
    assert [blocklist_named("dnsbl.example.net"), blocklist_named(""), delist_url_for("dnsbl.example.net")] == [
        None,
        None,
        None,
    ]
    assert (blocklist_named("dnsbl.sorbs.net").name, delist_url_for("dnsbl.sorbs.net")) == ("dnsbl.sorbs.net", None)


def test_a_bounce_naming_a_zone_gets_the_delisting_url_the_lookup_gives_for_that_zone() -> None:
    zones = ["multi.surbl.org", "bl.mailspike.net", "spam.spamrats.com"]
    results = [classify(f"554 5.7.1 Service unavailable; blocked using {zone}") for zone in zones]
    assert [(r.blocklist, r.delist_url) for r in results] == [
        ("SURBL", "https://www.surbl.org/surbl-analysis"),
        ("bl.mailspike.net", "https://mailspike.io/"),
        ("SpamRATS", "https://www.spamrats.com/removal.php"),
    ]
    assert [r.delist_url for r in results] == [delist_url_for(zone) for zone in zones]


# ------------------------------------------------------------------------------------------
# Traps
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using zen.spamhaus.org; Error:"
        " open resolver; https://www.spamhaus.org/returnc/pub/172.68.1.1",
        "550 5.7.1 client [198.51.100.7] blocked using zen.spamhaus.org (127.255.255.254)",
        "554 rejected: blocked using zen.spamhaus.org; query via public resolver refused",
    ],
)
def test_a_dnsbl_lookup_through_an_open_resolver_is_the_receivers_dns_problem_not_a_listing(text: str) -> None:
    result = classify(text)
    assert result.category == "dns"
    assert result.blocklist is None
    assert "not actually listed" in result.summary


def test_missing_reverse_dns_is_policy_and_not_a_blocklist() -> None:
    result = classify("554 5.7.1 Missing reverse DNS for 198.51.100.7, see our block list policy")
    assert result.category == "policy"
    assert "not a blocklist" in result.summary


def test_banned_content_is_content_and_not_a_blocklist() -> None:
    result = classify("554 5.7.0 Reject, id=01234-05 - BANNED CONTENT: payload.exe")
    assert result.category == "content"


def test_gmail_authentication_boilerplate_about_spam_is_still_authentication() -> None:
    text = (
        "550-5.7.26 This message does not pass authentication checks (SPF and DKIM both do not pass)."
        " To best protect our users from spam, the message has been blocked."
    )
    assert classify(text).category == "authentication"


def test_a_mailbox_over_quota_with_a_user_unknown_status_code_is_mailbox_full() -> None:
    assert classify("552 sorry, mailbox someone@example.org is over quota (#5.1.1)").category == "mailbox_full"


def test_users_not_listed_in_a_directory_are_unknown_users_not_blocklist_listings() -> None:
    result = classify("User jdoe (jdoe@example.com) not listed in Domino Directory")
    assert result.category == "unknown_user"


# ------------------------------------------------------------------------------------------
# SES's own errors
# ------------------------------------------------------------------------------------------

SES_CASES: list[tuple[str, str, str]] = [
    # (pasted error, category, a phrase the summary or fix must contain)
    ("454 Throttling failure: Maximum sending rate exceeded.", "throttling", "maximum send rate"),
    ("Throttling: Maximum sending rate exceeded.", "throttling", "backoff"),
    ("TooManyRequestsException: Too many requests", "throttling", "backoff"),
    ("454 Throttling failure: Daily message quota exceeded.", "throttling", "24-hour"),
    ("Daily message quota exceeded", "throttling", "24-hour"),
    ("LimitExceededException", "throttling", "quota"),
    ("421 Too many concurrent SMTP connections", "throttling", "connection pool"),
    (
        "MessageRejected: Email address is not verified. The following identities failed the check in"
        " region US-EAST-1: a@b.com",
        "policy",
        "request production access",
    ),
    ("554 Message rejected: Email address is not verified.", "policy", "verify the recipient"),
    ("Your account is in the sandbox in this region", "policy", "production access"),
    ("AccountSendingPausedException", "policy", "paused"),
    ("SendingPausedException: sending is paused", "policy", "EnforcementStatus"),
    ("ConfigurationSetSendingPausedException", "policy", "configuration set"),
    ("AccountSuspendedException", "policy", "AWS Support"),
    ("535 Authentication Credentials Invalid", "authentication", "not IAM access keys"),
    (
        "554 Access denied: User arn:aws:iam::123456789012:user/app is not authorized to perform"
        " ses:SendRawEmail on resource arn:aws:ses:us-east-1:123456789012:identity/example.com",
        "authentication",
        "ses:SendRawEmail",
    ),
    ("MailFromDomainNotVerifiedException", "authentication", "feedback-smtp"),
    ("TemplateDoesNotExist: Template hello does not exist", "other", "test-render-email-template"),
    ("Attribute 'name' is not present in the rendering data.", "other", "Rendering Failure"),
    ("ConfigurationSetDoesNotExist", "other", "configuration set"),
    ("451 Timeout waiting for data from client.", "connection", "DATA"),
    ("Connection to email-smtp.eu-west-1.amazonaws.com:25 timed out", "connection", "587"),
    ("Bad content", "content", "virus"),
    ("InvalidParameterValue: Missing final '@domain'", "unknown_user", "malformed"),
]


@pytest.mark.parametrize(("text", "category", "phrase"), SES_CASES, ids=[c[0][:50] for c in SES_CASES])
def test_an_ses_error_gets_an_ses_specific_explanation(text: str, category: str, phrase: str) -> None:
    result = classify(text)
    assert result.category == category, result
    assert phrase.lower() in (result.summary + " " + result.fix).lower(), result


def test_the_unverified_identity_summary_names_the_region_and_the_identities() -> None:
    result = classify(
        "MessageRejected: Email address is not verified. The following identities failed the check in"
        " region US-EAST-1: sender@example.com, rcpt@example.org"
    )
    assert "us-east-1" in result.summary
    assert "sender@example.com, rcpt@example.org" in result.summary
    assert "docs.aws.amazon.com" in result.fix


# ------------------------------------------------------------------------------------------
# Structured hints
# ------------------------------------------------------------------------------------------


def test_a_suppression_subtype_wins_over_any_text() -> None:
    for subtype in ("OnAccountSuppressionList", "Suppressed"):
        result = classify("blocked using zen.spamhaus.org", bounce_type="Permanent", bounce_subtype=subtype)
        assert result.category == "suppressed"
        assert "get-suppressed-destination" in result.fix


@pytest.mark.parametrize(
    ("subtype", "category"),
    [
        ("MailboxFull", "mailbox_full"),
        ("MessageTooLarge", "message_too_large"),
        ("ContentRejected", "content"),
        ("AttachmentRejected", "content"),
        ("NoEmail", "unknown_user"),
    ],
)
def test_a_decisive_bounce_subtype_beats_a_vague_text(subtype: str, category: str) -> None:
    result = classify("550 Requested action not taken", bounce_type="Permanent", bounce_subtype=subtype)
    assert result.category == category


def test_an_attachment_rejection_says_attachment() -> None:
    assert "attachment" in classify(None, bounce_subtype="AttachmentRejected").summary


def test_a_named_blocklist_in_the_text_beats_a_generic_or_decisive_subtype() -> None:
    text = "554 5.7.1 Client host [198.51.100.7] blocked using bl.spamcop.net"
    for subtype in ("General", "ContentRejected", "Undetermined"):
        result = classify(text, bounce_type="Transient", bounce_subtype=subtype)
        assert (result.category, result.blocklist) == ("ip_blocklist", "bl.spamcop.net")


def test_a_general_subtype_defers_to_the_text() -> None:
    result = classify("552 5.2.2 Mailbox full", bounce_type="Transient", bounce_subtype="General")
    assert result.category == "mailbox_full"


def test_an_unknown_new_subtype_is_treated_as_generic() -> None:
    assert classify("550 5.1.1 User unknown", bounce_subtype="SomethingNew").category == "unknown_user"


@pytest.mark.parametrize(
    ("delay_type", "category"),
    [
        ("MailboxFull", "mailbox_full"),
        ("SpamDetected", "content"),
        ("TransientCommunicationFailure", "connection"),
        ("BYOIPHostNameLookupUnavailable", "dns"),
        ("InternalFailure", "other"),
        ("SendingDeferral", "throttling"),
    ],
)
def test_a_decisive_delay_type_sets_the_category(delay_type: str, category: str) -> None:
    assert classify("451 4.0.0 try again later", delay_type=delay_type).category == category


def test_an_ip_failure_delay_is_an_ip_block_unless_the_text_says_otherwise() -> None:
    plain = classify("421 4.0.0 Service temporarily unavailable", delay_type="IPFailure")
    assert plain.category == "ip_blocklist"
    assert "IPFailure" in plain.summary
    assert classify(None, delay_type="IPFailure").category == "ip_blocklist"
    assert classify("421 4.7.0 Too many connections, rate limited", delay_type="IPFailure").category == "throttling"
    reputation = classify("421 4.7.0 [TSS04] deferred due to user complaints", delay_type="IPFailure")
    assert reputation.category == "reputation"
    named = classify("451 4.7.1 blocked using zen.spamhaus.org", delay_type="IPFailure")
    assert (named.category, named.blocklist) == ("ip_blocklist", "zen.spamhaus.org")
    assert classify("451 Missing reverse DNS (PTR)", delay_type="IPFailure").category == "policy"


def test_the_status_hint_is_used_when_the_text_has_no_signal() -> None:
    assert classify("Delivery failed", status="5.1.1").category == "unknown_user"
    assert classify("Delivery failed", status="5.2.2").category == "mailbox_full"
    assert classify(None, status="5.7.26").category == "authentication"
    result = classify("550 Access denied", status="5.7.606")
    assert (result.category, result.blocklist) == ("ip_blocklist", "Microsoft (5.7.606-649)")


def test_enhanced_status_codes_are_not_read_out_of_ip_addresses() -> None:
    # "2.2.1" inside an address is neither 5.2.2 nor anything else.
    assert classify("Remote host 10.5.2.2 said something odd").category == "other"


# ------------------------------------------------------------------------------------------
# Edge cases, determinism, cache, speed
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [None, "", "   \n\t "])
def test_no_text_gives_other_with_a_hint_where_to_look(text: str | None) -> None:
    result = classify(text)
    assert result.category == "other"
    assert result.blocklist is None
    assert "No diagnostic text" in result.summary


def test_no_text_with_a_bounce_type_says_which_kind_of_bounce_it_was() -> None:
    assert "permanent" in classify("", bounce_type="Permanent").summary
    assert "temporary" in classify("", bounce_type="Transient").summary
    assert "Undetermined" in classify("", bounce_type="Undetermined").summary


def _best_time(text: str) -> float:
    """The least of five uncached classifications' times (the least is the one the machine disturbed least)."""
    times = []
    for _ in range(5):
        start = time.perf_counter()
        classify_module._classify.__wrapped__(text, "", "", "", "")
        times.append(time.perf_counter() - start)
    return min(times)


def test_a_40_kb_text_costs_no_more_than_a_4_kb_one_and_is_still_read_at_both_ends() -> None:
    filler = "lorem ipsum dolor sit amet 192.0.2.1 a.a.a.a " * 1000  # ~45 kB
    assert len(filler) > 40_000
    for text, category in [
        ("550 5.1.1 User unknown " + filler, "unknown_user"),
        (filler + " blocked using zen.spamhaus.org", "ip_blocklist"),
        (filler, "other"),
        ("x" * 40_000, "other"),
        ("a." * 20_000, "other"),
        ("blocked using " * 3_000, "ip_blocklist"),
    ]:
        result = classify_module._classify.__wrapped__(text, "", "", "", "")
        assert result.category == category
        assert classify(text).category == category  # the public path cuts the text before caching
        # Cut to its head and tail, a 40 kB text costs what a 4 kB one does (a ratio within one run: were the
        # whole text read, or read in quadratic time, it would cost ten to a hundred times more).
        assert _best_time(text) < 4 * _best_time(text[:4096]), len(text)


def test_classify_is_deterministic_and_cached() -> None:
    classify_module.cache_clear()
    text = "550 5.1.1 <x@example.org>: Recipient address rejected: User unknown"
    first = classify(text, status="5.1.1")
    info = classify_module.cache_info()
    second = classify(text, status="5.1.1")
    assert second is first
    assert classify_module.cache_info().hits == info.hits + 1
    assert classify_module.cache_info().maxsize is not None  # bounded
    classify_module.cache_clear()
    third = classify(text, status="5.1.1")
    assert third == first


def test_the_result_is_immutable_and_serialises_to_a_dict() -> None:
    result = classify("554 5.7.1 blocked using zen.spamhaus.org")
    assert isinstance(result, Classification)
    with pytest.raises(AttributeError):
        result.category = "other"  # type: ignore[misc]
    as_dict = result.as_dict()
    assert as_dict == {
        "category": "ip_blocklist",
        "blocklist": "zen.spamhaus.org",
        "summary": result.summary,
        "fix": result.fix,
        "rule": "named-ip-list",
        "confidence": "high",
        "delist_url": "https://check.spamhaus.org/",
    }
    assert set(classify("550 5.1.1 User unknown").as_dict()) == {
        "category",
        "blocklist",
        "summary",
        "fix",
        "rule",
        "confidence",
    }


def test_speed_on_the_corpus_texts_uncached_is_printed() -> None:
    texts = [r["diagnosticcode"] for r in corpus_records()]
    uncached = classify_module._classify.__wrapped__
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for text in texts:
            uncached(text, "", "", "", "")
        best = min(best, time.perf_counter() - start)
    print(f"\nclassify, uncached: {len(texts) / best:,.0f} texts/s ({best / len(texts) * 1e6:.1f} us each)")


# ------------------------------------------------------------------------------------------
# The rule index (gates) never changes an answer
# ------------------------------------------------------------------------------------------


def first_match_without_gates(norm: str, codes: str) -> object:
    for alt in classify_module._ALTS:
        hay = codes if alt.rule.on == "codes" else norm
        if hay and alt.regex.search(hay):
            return alt.rule
    return None


def test_the_gate_index_gives_the_same_first_rule_as_trying_every_alternative() -> None:
    texts = [r["diagnosticcode"] for r in corpus_records()] + [c[0] for c in CASES] + [c[0] for c in SES_CASES]
    for text in texts:
        norm = classify_module.normalise(text)
        codes = classify_module._codes(norm, "")
        hit = classify_module._match_text(norm, codes)
        assert (hit[0] if hit else None) is first_match_without_gates(norm, codes), text


def test_every_text_alternative_has_a_gate() -> None:
    ungated = [a.regex.pattern for a in classify_module._ALTS if a.rule.on == "text" and a.gate is None]
    assert ungated == []


def gate_hits(norm: str) -> set[str]:
    return classify_module._INDEX.gates(norm)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_any_text_an_alternative_matches_contains_one_of_its_gates(data: st.DataObject) -> None:
    alts = [a for a in classify_module._ALTS if a.gate]
    alt = data.draw(st.sampled_from(alts))
    try:
        sample = data.draw(st.from_regex(alt.regex, fullmatch=True))
    except Exception:  # a construct hypothesis cannot generate from
        return
    norm = " ".join(sample.split()).lower()
    if not alt.regex.search(norm):
        return  # normalising changed the sample (case, whitespace)
    bit = 1 << classify_module._ALTS.index(alt)
    mask = 0
    for gate in gate_hits(norm):
        mask |= classify_module._GATE_MASK[gate]
    assert mask & bit, (alt.regex.pattern, sample, alt.gate)


# RFC 3463 section 3: the subject text of each enhanced status code, as some MTAs send it without the code.
RFC_3463_TEXTS = [
    ("Bad destination mailbox address", "unknown_user"),
    ("Bad destination system address", "dns"),
    ("Destination mailbox has moved, No forwarding address", "unknown_user"),
    ("Bad sender's mailbox address syntax", "policy"),
    ("Mailbox disabled, not accepting messages", "unknown_user"),
    ("Mailbox full", "mailbox_full"),
    ("Message length exceeds administrative limit", "message_too_large"),
    ("Message too big for system", "message_too_large"),
    ("No answer from host", "connection"),
    ("Bad connection", "connection"),
    ("Directory server failure", "dns"),
    ("Unable to route", "dns"),
    ("Mail system congestion", "throttling"),
    ("Delivery time expired", "connection"),
    ("Too many recipients", "throttling"),
    ("Other or undefined media error", "content"),
    ("Media not supported", "content"),
    ("Conversion required and prohibited", "content"),
    ("Conversion failed", "content"),
    ("Delivery not authorized, message refused", "policy"),
    ("Cryptographic failure", "policy"),
    ("Message integrity failure", "policy"),
]


@pytest.mark.parametrize(("text", "category"), RFC_3463_TEXTS)
def test_an_rfc_3463_subject_text_without_its_code_gets_the_category_of_its_code(text: str, category: str) -> None:
    assert classify(text).category == category
