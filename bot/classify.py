"""Classify one bounce, delivery-delay or SES error text into a cause a person can act on.

This module's one job: turn a diagnostic string (a bounce ``diagnosticCode``, a delay's
``diagnosticCode``, or an error pasted from the SES API / SMTP interface), plus the structured
hints SES gives alongside it, into a :class:`Classification` -- a category from
:data:`CATEGORIES`, the blocklist named in the text (canonical name and delisting URL), a
one-sentence summary and what to do next.  It is pure (no I/O), compiles every regex once at
import, and memoises on the input tuple with a bounded LRU cache, because it runs on the ingest
hot path.

How a text is classified
------------------------
1. ``bounce_subtype`` ``OnAccountSuppressionList`` / ``Suppressed`` -> ``suppressed`` always (SES
   never attempted delivery, whatever the text says).
2. The text (lower-cased, whitespace collapsed, cut to its head and tail past 4 kB) goes through
   ``_RULES``, an ordered table of rows ``(category, wording kind, regex alternatives, optional
   blocklist extractor)``; the first row with a matching alternative wins, and the comments in
   the table say why each row sits where it does.  Rows match general signals -- phrases, and
   enhanced status codes ``x.y.z`` found in the text or passed as ``status`` -- never single
   corpus strings.
3. A blocklist *named* in the text beats every structured hint.  Otherwise a decisive hint beats
   the text: ``bounce_subtype`` MailboxFull -> ``mailbox_full``, MessageTooLarge ->
   ``message_too_large``, ContentRejected / AttachmentRejected -> ``content``, NoEmail ->
   ``unknown_user``; ``delay_type`` MailboxFull -> ``mailbox_full``, SpamDetected -> ``content``,
   TransientCommunicationFailure -> ``connection``, BYOIPHostNameLookupUnavailable -> ``dns``,
   InternalFailure -> ``other``, SendingDeferral -> ``throttling``.  Generic hints (General,
   Undetermined, RecipientServerError, values we do not know) defer to the text.  ``delay_type``
   IPFailure ("the receiver blocked or throttled the sending IP") gives ``ip_blocklist`` unless
   the text names a more specific sender-side cause (throttling, reputation, policy such as
   missing reverse DNS, authentication, the DNSBL-resolver trap).

Speed: every regex is compiled once, at import.  Each alternative also gets a *gate*, a
substring every match of it must contain (read off the parsed regex); one trie-regex pass finds
the gates present in a text, and only the alternatives they select are tried, in table order.
The result is memoised on the whole input tuple (bounded LRU).

SES's own errors and the category they map to
---------------------------------------------
These come from the client -> SES hop, not from a receiving server, and get SES-specific
summaries and fixes (sandbox, quotas, paused sending, SMTP credentials ...):

==================================================================  ================
Error text                                                          Category
==================================================================  ================
``MessageRejected: Email address is not verified ...`` / sandbox     ``policy``
``Throttling`` / ``454 Throttling failure: Maximum sending rate ...``  ``throttling``
``Daily message quota exceeded``, ``LimitExceededException``          ``throttling``
``TooManyRequestsException``, ``421 Too many concurrent SMTP ...``    ``throttling``
``AccountSendingPausedException``, ``SendingPausedException``         ``policy``
``ConfigurationSetSendingPausedException``                            ``policy``
``AccountSuspendedException``                                         ``policy``
``535 Authentication Credentials Invalid`` (SMTP credentials)         ``authentication``
``not authorized to perform ses:SendRawEmail`` (IAM)                  ``authentication``
``MailFromDomainNotVerifiedException``                                ``authentication``
``TemplateDoesNotExist``, rendering failures                          ``other``
``ConfigurationSetDoesNotExist``                                      ``other``
``451 Timeout waiting for data from client``                          ``connection``
a timeout talking to ``email-smtp.<region>.amazonaws.com``            ``connection``
reject reason ``Bad content`` (virus)                                 ``content``
``InvalidParameterValue: Missing final '@domain'``                    ``unknown_user``
"... on the suppression list for your account"                        ``suppressed``
==================================================================  ================

Traps (from the DNS-blocklist notes): "blocked using zen.spamhaus.org ... open resolver" (or
``127.255.255.25x``, ``returnc/pub``) is the receiver's own broken DNSBL lookup -> ``dns``, never
``ip_blocklist``; "Missing reverse DNS" is ``policy``; "banned content" is ``content``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

try:  # CPython's regex parser, used once at import to index the rules (see _gate_of)
    from re import _constants as _sre_c
    from re import _parser as _sre_parser
except ImportError:  # pragma: no cover - other Pythons: every alternative is simply tried
    _sre_c = None  # type: ignore[assignment]
    _sre_parser = None  # type: ignore[assignment]

__all__ = [
    "BLOCKLISTS",
    "CATEGORIES",
    "Blocklist",
    "Classification",
    "blocklist_named",
    "cache_clear",
    "cache_info",
    "classify",
    "delist_url_for",
]

CATEGORIES: tuple[str, ...] = (
    "ip_blocklist",
    "domain_blocklist",
    "reputation",
    "content",
    "authentication",
    "unknown_user",
    "mailbox_full",
    "suppressed",
    "policy",
    "message_too_large",
    "dns",
    "connection",
    "throttling",
    "other",
)

# Texts longer than this are cut to their head and tail: real diagnostics are well under 2 kB,
# and the cap keeps a pathological 40 kB paste from costing more than a normal bounce, and the
# cache's memory bounded (at most _CACHE_SIZE keys of at most ~_MAX_CHARS characters).
_MAX_CHARS = 4096
_HEAD_CHARS = 3072
_CACHE_SIZE = 8192


@dataclass(frozen=True)
class Classification:
    """The cause of one failed delivery or send, as a person should read it."""

    category: str
    blocklist: str | None
    summary: str
    fix: str
    delist_url: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {
            "category": self.category,
            "blocklist": self.blocklist,
            "summary": self.summary,
            "fix": self.fix,
        }
        if self.delist_url:
            out["delist_url"] = self.delist_url
        return out


# --------------------------------------------------------------------------------------------
# Known blocklists
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Blocklist:
    """A DNS blocklist (or provider block) a bounce text can name."""

    name: str  # canonical name, as Classification.blocklist reports it
    kind: str  # "ip" or "domain"
    pattern: str  # regex over the lower-cased text: the names, zones and URLs bounces use
    delist_url: str | None
    note: str = ""


_SPAMHAUS_CHECK = "https://check.spamhaus.org/"

# This table is the one place a delisting URL is written: the `blocklist` command's table
# (bot.checks.blocklist) takes each of its lists' URL, and its label where the name here is one,
# from `blocklist_named`, so a bounce's advice and a lookup's advice cannot disagree.
# Order matters only between entries that can match at the same position: the more specific
# first (the DBL before plain "spamhaus", a zone before its vendor's bare name).
BLOCKLISTS: tuple[Blocklist, ...] = (
    Blocklist(
        "Spamhaus DBL",
        "domain",
        r"dbl\.spamhaus\.org|spamhaus dbl|spamhaus\.org/query/(?:dbl|domain)|spamhaus domain block",
        _SPAMHAUS_CHECK,
    ),
    Blocklist("SURBL", "domain", r"surbl", "https://www.surbl.org/surbl-analysis"),
    Blocklist("URIBL", "domain", r"uribl", "https://admin.uribl.com/"),
    Blocklist("zen.spamhaus.org", "ip", r"zen\.spamhaus\.org", _SPAMHAUS_CHECK),
    Blocklist("sbl-xbl.spamhaus.org", "ip", r"sbl-xbl\.spamhaus\.org", _SPAMHAUS_CHECK),
    Blocklist("sbl.spamhaus.org", "ip", r"sbl\.spamhaus\.org", _SPAMHAUS_CHECK),
    Blocklist("xbl.spamhaus.org", "ip", r"xbl\.spamhaus\.org", _SPAMHAUS_CHECK),
    Blocklist("pbl.spamhaus.org", "ip", r"pbl\.spamhaus\.org", _SPAMHAUS_CHECK),
    Blocklist("Spamhaus", "ip", r"spamhaus", _SPAMHAUS_CHECK),
    Blocklist(
        "cbl.abuseat.org",
        "ip",
        r"abuseat",
        _SPAMHAUS_CHECK,
        "The CBL is now part of Spamhaus XBL.",
    ),
    Blocklist(
        "b.barracudacentral.org",
        "ip",
        r"barracudacentral|barracuda (?:reputation|rbl|block)",
        "https://www.barracudacentral.org/rbl/removal-request",
    ),
    Blocklist("bl.spamcop.net", "ip", r"spamcop", "https://www.spamcop.net/bl.shtml"),
    Blocklist(
        "dnsbl.sorbs.net",
        "ip",
        r"sorbs",
        None,
        "SORBS closed in 2024: a receiver still using it is misconfigured, tell its postmaster.",
    ),
    Blocklist("psbl.surriel.com", "ip", r"psbl", "https://psbl.org/"),
    Blocklist("bl.mailspike.net", "ip", r"mailspike", "https://mailspike.io/"),
    Blocklist("dnsbl.abusix.net", "ip", r"abusix", "https://lookup.abusix.com/"),
    # removal.php serves every RATS list (Dyna, NoPtr, Spam, Auth), as this one entry does.
    Blocklist("SpamRATS", "ip", r"spamrats", "https://www.spamrats.com/removal.php"),
    Blocklist("ubl.lashback.com", "ip", r"lashback", "https://blacklist.lashback.com/"),
    Blocklist("UCEPROTECT", "ip", r"uceprotect", "https://www.uceprotect.net/"),
    Blocklist(
        "Trend Micro ERS",
        "ip",
        r"trend ?micro (?:rbl|ers|email reputation)|mail-abuse\.(?:org|com)",
        "https://ers.trendmicro.com/",
    ),
    Blocklist("bl.score.senderscore.com", "ip", r"bl\.score\.senderscore\.com", "https://www.senderscore.org/"),
    Blocklist(
        "Proofpoint",
        "ip",
        r"ipcheck\.proofpoint\.com|proofpoint\.com/dnsbl|proofpoint[^.;]{0,60}(?:dnsbl|blocklist|blacklist)",
        "https://ipcheck.proofpoint.com/",
    ),
    Blocklist(
        "Cloudmark CSI",
        "ip",
        r"cloudmark ?csi|csi\.cloudmark\.com|cloudmark[^.;]{0,40}(?:reputation|listed|block)",
        "https://csi.cloudmark.com/en/reset/",
    ),
    # Microsoft's own IP blocklist: S3150/S3140 in the text, or the 5.7.606-5.7.649 range.
    Blocklist("Microsoft (S3150)", "ip", r"s3150(?!\d)", "https://sender.office.com/"),
    Blocklist("Microsoft (S3140)", "ip", r"s3140(?!\d)", "https://sender.office.com/"),
    Blocklist("Microsoft (5.7.606-649)", "ip", r"[45]\.7\.6(?:0[6-9]|[1-4]\d)(?!\d)", "https://sender.office.com/"),
    Blocklist("Microsoft", "ip", r"banned sending ip|sender\.office\.com", "https://sender.office.com/"),
)

_BL_BY_GROUP: dict[str, Blocklist] = {f"b{i}": bl for i, bl in enumerate(BLOCKLISTS)}


def _bl_union(kinds: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?P<b{i}>{bl.pattern})" for i, bl in enumerate(BLOCKLISTS) if bl.kind in kinds))


_DOMAIN_LISTS_RE = _bl_union(("domain",))
_IP_LISTS_RE = _bl_union(("ip",))
_ANY_LIST_RE = _bl_union(("domain", "ip"))

# A zone written after the usual DNSBL wording, for lists we do not know by name.
_ZONE_RE = re.compile(
    r"(?:blocked using|listed (?:on|in|at|by)|(?:black|block)listed (?:on|in|at|by)|refused by|"
    r"\b(?:dns)?rbl\b[:=]?|\bdnsbl\b[:=]?)\s+(?:the\s+)?"
    r"((?=[a-z0-9-]*[a-z])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+)"
)

# (canonical name, delisting URL)
_Found = tuple[str, str | None]


def _found_from_match(m: re.Match[str]) -> _Found:
    bl = _BL_BY_GROUP[m.lastgroup or ""]
    return bl.name, bl.delist_url


def _named_list(regex: re.Pattern[str]) -> Callable[[str], _Found | None]:
    def extract(text: str) -> _Found | None:
        m = regex.search(text)
        return _found_from_match(m) if m else None

    return extract


def _zone(text: str) -> _Found | None:
    """Generic list wording: the zone the text names, canonical if it is a list we know."""
    z = _ZONE_RE.search(text)
    if z is None:
        return None
    zone = z.group(1).rstrip(".-")
    m = _ANY_LIST_RE.search(zone)
    return _found_from_match(m) if m else (zone, None)


_BL_BY_NAME: dict[str, Blocklist] = {bl.name.lower(): bl for bl in BLOCKLISTS}


def blocklist_named(zone_or_name: str) -> Blocklist | None:
    """The entry for a canonical name ("SURBL") or a DNSBL zone ("multi.surbl.org"), else None.

    A zone resolves to the entry a bounce saying "blocked using <zone>" would get (the same
    patterns `_zone` uses), so the checks' table and the classifier mean the same list by a zone.
    """
    key = zone_or_name.strip().lower().rstrip(".")
    if not key:
        return None
    if key in _BL_BY_NAME:
        return _BL_BY_NAME[key]
    m = _ANY_LIST_RE.search(key)
    return _BL_BY_GROUP[m.lastgroup or ""] if m else None


def delist_url_for(zone_or_name: str) -> str | None:
    """The delisting URL of a list named or zoned as `blocklist_named` reads it, else None."""
    bl = blocklist_named(zone_or_name)
    return bl.delist_url if bl else None


# --------------------------------------------------------------------------------------------
# Enhanced status codes
# --------------------------------------------------------------------------------------------

# x.y.z with class 2/4/5, not part of an IP address or a longer dotted number.
# (The look-behind sits after the first character so the scan can skip to a 2, 4 or 5.)
_CODE_RE = re.compile(r"[245](?<![\w.][245])\.\d{1,3}\.\d{1,3}(?![\w]|\.\d)")


def _codes(text: str, status: str) -> str:
    """Space-separated enhanced status codes from the text, then the ``status`` hint."""
    found = _CODE_RE.findall(text)
    if status:
        found.extend(_CODE_RE.findall(status.strip().lower()))
    return " " + " ".join(found) + " " if found else ""


# --------------------------------------------------------------------------------------------
# The ordered rule table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """One row of the table: if one of ``alts`` matches, the text is ``category``.

    ``on`` says what the alternatives are matched against: the normalised lower-case text, or
    the enhanced status codes found (" 5.1.1 4.7.1 ").  ``extract`` names the blocklist.
    """

    category: str
    kind: str  # key into _MESSAGES
    alts: tuple[str, ...]
    on: str = "text"
    extract: Callable[[str], _Found | None] | None = None


def _r(category: str, kind: str, *alts: str, extract: Callable[[str], _Found | None] | None = None) -> _Rule:
    return _Rule(category, kind, alts, "text", extract)


def _c(category: str, kind: str, alt: str, extract: Callable[[str], _Found | None] | None = None) -> _Rule:
    return _Rule(category, kind, (alt,), "codes", extract)


_RULES: tuple[_Rule, ...] = (
    # --- SES's own API/SMTP errors. First: they are exact, come from the client->SES hop, and
    # several reuse words that mean something else in a remote bounce ("quota exceeded" is not a
    # full mailbox, "authentication" is not SPF/DKIM, "not verified" is not DMARC).
    _r(
        "suppressed",
        "suppressed",
        r"on the (?:account(?:-level)?|global) suppression list",
        r"suppression list for your account",
        r"on (?:your|the) account'?s? suppression list",
        r"onaccountsuppressionlist",
        r"amazon ses has suppressed sending",
        r"address is suppressed",
    ),
    _r(
        "policy",
        "ses_unverified",
        r"email address is not verified",
        r"identities failed the check",
        r"messagerejected[^.]{0,40}not verified",
    ),
    _r(
        "policy",
        "ses_sandbox",
        r"\b(?:ses|account)\b[^.]{0,40}\bsandbox\b",
        r"sandbox\b[^.]{0,60}\b(?:ses|production access)\b",
    ),
    _r(
        "throttling",
        "ses_daily_quota",
        r"daily (?:message|sending) quota exceeded",
        r"max24hoursend",
        r"24[- ]hour (?:sending )?quota",
    ),
    _r(
        "throttling",
        "ses_rate",
        r"maximum sending rate exceeded",
        r"throttling failure",
        r"^throttling\b",
        r"throttling(?:exception)?:",
        r"toomanyrequestsexception",
    ),
    _r("throttling", "ses_limit", r"limitexceededexception"),
    _r("throttling", "ses_smtp_conns", r"too many concurrent smtp connections"),
    _r(
        "policy",
        "ses_cs_paused",
        r"configurationsetsendingpaused",
        r"sending is (?:disabled|paused) for the configuration set",
    ),
    _r(
        "policy",
        "ses_paused",
        r"sendingpausedexception",
        r"sending (?:is )?(?:currently )?(?:paused|disabled) for (?:your|the|this) (?:entire )?account",
        r"ability to send email is currently paused",
    ),
    _r(
        "policy",
        "ses_suspended",
        r"accountsuspendedexception",
        r"ability to send email has been permanently restricted",
    ),
    _r(
        "authentication",
        "ses_smtp_auth",
        r"authentication credentials invalid",
        r"invalidclienttokenid",
        r"signaturedoesnotmatch",
        r"security token included in the request is invalid",
    ),
    _r(
        "authentication",
        "ses_iam",
        r"not authorized to perform:? ?ses:",
        r"accessdenied(?:exception)?[^.]{0,120}ses:",
    ),
    _r(
        "authentication",
        "ses_mail_from",
        r"mailfromdomainnotverified",
        r"mail[- ]?from domain[^.]{0,40}not verified",
        r"could not read the mx record required",
    ),
    _r(
        "other",
        "ses_template",
        r"templatedoesnotexist",
        r"template[^.]{0,80}does not exist",
        r"invalidrenderingparameter",
        r"missingrenderingattribute",
        r"is not present in the rendering data",
        r"rendering failure",
    ),
    _r(
        "other",
        "ses_cs_missing",
        r"configurationsetdoesnotexist",
        r"configuration set[^.]{0,60}does not exist",
    ),
    _r("connection", "ses_smtp_timeout", r"timeout waiting for data from client"),
    _r(
        "connection",
        "ses_smtp_port",
        r"email-smtp\.[a-z0-9-]+\.amazonaws\.com.{0,200}?(?:timed? ?out|timeout|connection refused)",
        r"(?:timed? ?out|timeout|connection refused).{0,200}?email-smtp\.[a-z0-9-]+\.amazonaws\.com",
    ),
    _r("content", "ses_bad_content", r"\bbad content\b"),
    _r(
        "unknown_user",
        "ses_bad_address",
        r"missing final '@",
        r"illegal address",
        r"invalidparametervalue[^.]{0,60}address",
    ),
    # --- Trap: the receiver's own DNSBL lookup failed (public/open resolver, over quota, wrong
    # zone). Before any blocklist rule, because these texts still say "blocked using zen...".
    _r(
        "dns",
        "dnsbl_resolver",
        r"open resolver",
        r"public (?:dns )?resolver",
        r"returnc/(?:pub|vol|ext|err)",
        r"127\.255\.255\.25[2-5]",
        r"excessive number of queries",
        r"not queried via",
    ),
    # --- A blocklist named in the text: the most specific, most actionable evidence there is.
    # Domain lists first, since "Spamhaus DBL" also contains "Spamhaus".
    _r(
        "domain_blocklist",
        "domain_blocklist",
        *(bl.pattern for bl in BLOCKLISTS if bl.kind == "domain"),
        extract=_named_list(_DOMAIN_LISTS_RE),
    ),
    _r(
        "ip_blocklist",
        "ip_blocklist",
        *(bl.pattern for bl in BLOCKLISTS if bl.kind == "ip"),
        extract=_named_list(_IP_LISTS_RE),
    ),
    # --- Blocks that use list words but are not DNSBLs: a recipient's personal block list, and
    # the sending host's identity (PTR / HELO). Before the generic "block list" wording.
    _r(
        "policy",
        "recipient_block",
        r"blocked senders? list",
        r"(?:sender|address|domain) (?:is |has been )?(?:on|in) (?:the )?"
        r"(?:user|recipient)'?s? (?:block|black)",
        r"(?:recipient|user) has blocked",
    ),
    _r(
        "policy",
        "ptr",
        r"reverse (?:dns|hostname|lookup|name|mapping|address)",
        r"\b(?:fc)?rdns\b",
        r"\bptr\b",
        r"cannot find your (?:reverse )?hostname",
        r"ip name lookup failed",
        r"unverif[iy]able (?:sending ip|hostname|host)",
        r"(?:does not|doesn'?t) resolve back",
        r"my name was rejected",
        r"(?:helo|ehlo)(?: command)? (?:rejected|refused)",
        r"(?:invalid|bad|illegal) (?:helo|ehlo)",
        r"may not be mail exchanger",
        r"no (?:dns|host) ?name",
        r"(?:cannot|can'?t|could not|unable to) resolve (?:your |the )?(?:ip|address|host|client)",
        r"unresolvable (?:ip|address|host|client)",
        r"(?:does not|doesn'?t) resolve to",
        r"(?:generic|dynamic)[- ](?:looking )?(?:hostname|rdns|reverse)",
        r"host ?name (?:does not match|mismatch)",
        r"forward and reverse",
    ),
    # --- Generic list wording with no known name: take the zone if the text gives one.
    _r(
        "domain_blocklist",
        "domain_blocklist",
        r"\b(?:domain|url|uri|link)s?\b[^.;]{0,40}\b(?:black|block)[ -]?list",
        r"(?:url|uri|domain)[ -]?(?:black|block)list",
        r"rhsbl",
        extract=_zone,
    ),
    _r(
        "ip_blocklist",
        "ip_blocklist",
        r"blocked using",
        r"(?:black|block)[ -]?list",
        r"rbl\b",
        r"dnsbl",
        r"listed (?:on|in|at|by) (?:the )?(?:[a-z0-9-]+\.)+[a-z]{2,}",
        r"(?:is|are|was|been) (?:currently )?listed",
        r"\bip(?: address)?\b[^;]{0,40}?\b(?:is |has been |was |are )?(?:temporarily |permanently )?"
        r"(?:blocked|banned|blacklisted)\b",
        extract=_zone,
    ),
    # --- Reputation, before throttling and content: "rate limited due to IP reputation" and
    # Gmail's "unsolicited mail originating from your IP ... spam" are reputation verdicts.
    _r(
        "reputation",
        "reputation",
        r"reputation",
        r"\brp-\d{3}\b",
        r"\brp: ?\w{3}\b",
        r"\brtr: ?\w\w\b",
        r"\[tss?\d\d\]",
        r"(?:deferred|blocked|rejected) due to[^.]{0,40}complaints",
        r"user complaints",
        r"unsolicited mail originating from",
        r"unusual rate of unsolicited mail",
        r"s311[34](?!\d)",
        r"sender ?score",
        r"suspicious due to",
    ),
    # --- Strong content verdicts, before authentication: Google's spam-classification text
    # advises setting up SPF, which would otherwise read as an SPF failure.
    _r(
        "content",
        "content",
        r"spam classification",
        r"(?:classified|flagged|identified|detected|marked|considered|rejected|blocked) as "
        r"(?:spam|junk|bulk|phishing)",
        r"spam (?:detected|content|message)",
        r"looks? like spam",
        r"(?:likely|appears) (?:to be )?spam",
        r"spam ?score",
        r"(?<![a-z])- ?spam\b",
        r"\(spam\)",
        r"message content",
        r"content (?:rejected|refused|not accepted)",
        r"banned (?:content|attachment|file)",
        r"its content",
        r"(?:illegal|prohibited|blocked|unacceptable|dangerous|forbidden) (?:attachment|file|content)",
        r"spam ?filter",
        r"spam (?:policy|rules|checks?|threshold)",
        r"probability of (?:being )?spam",
        r"likely unsolicited",
        r"malicious",
        r"executable",
        r"attachment (?:type )?(?:not allowed|rejected|blocked)",
        r"virus",
        r"malware",
        r"infected",
        r"\bube\b",
        r"unsolicited bulk",
        r"content filter",
        r"header error",
        r"(?:bad|illegal|invalid|duplicate|multiple) [^.]{0,20}header",
        r"multiple addresses in from",
        r"rfc ?(?:5322|2822)",
        r"8-?bit data",
    ),
    # --- Sender authentication (SPF / DKIM / DMARC), before generic policy: Microsoft's DMARC
    # reject also says "Access denied".
    _r(
        "authentication",
        "authentication",
        r"dmarc",
        r"\bspf\b",
        r"dkim",
        r"unauthenticated",
        r"not authenticated",
        r"authentication (?:check|information|result|fail)",
        r"fails? to pass (?:authentication|verification)",
        r"sender policy framework",
        r"domainkeys",
        r"smtp authentication",
    ),
    # --- Rate words, before mailbox-full: "daily sending quota exceeded" is a rate limit, and
    # Gmail's per-recipient receiving rate names the user.
    _r(
        "throttling",
        "throttling",
        r"rate[- ]?limit",
        r"too many (?:connections|concurrent|messages|recipients|requests|sessions|mails)",
        r"receiving mail at a rate",
        r"(?:sending|message|connection) rate",
        r"throttl",
        r"too fast",
        r"slow down",
        r"(?:hourly|daily|per[- ]hour|per[- ]day) (?:user )?(?:sending )?(?:limit|quota)",
        r"(?:recipients|messages) (?:this|per) hour",
        r"connection limit",
        r"too many (?:\w+ )?(?:in|at) (?:once|the same time)",
        r"gr[ae]ylist",
    ),
    # --- Mailbox full before too-large and unknown-user: "mailbox ... over quota (#5.1.1)" and
    # "mailbox size limit" must not be read by their status code or the word "size".
    _r(
        "mailbox_full",
        "mailbox_full",
        r"mail ?box (?:is |was )?full",
        r"full mailbox",
        r"(?:over|exceeded?|exceeds|reached) (?:the |its |his |her |their |your )?"
        r"(?:mailbox |storage |disk |account |user )?(?:quota|storage)",
        r"quota (?:exceeded|full)",
        r"over ?quota",
        r"insufficient (?:system )?storage",
        r"out of (?:storage|disk) space",
        r"not enough (?:disk |storage )?(?:space|storage)",
        r"disk (?:space|quota)",
        r"storage (?:space|limit|quota)",
        r"mailbox (?:size|storage) (?:limit|exceeded)",
        r"mailbox (?:exceeds|has exceeded|is over)",
        r"exceeds allowed size",
        r"messages in (?:the )?(?:recipient'?s? )?mailbox exceeded",
        r"bo[iî]te (?:aux lettres )?(?:est )?pleine",
        r"postfach (?:ist )?voll",
        r"buz[oó]n (?:est[aá] )?lleno",
        r"caixa (?:postal )?(?:est[aá] )?cheia",
    ),
    _r(
        "message_too_large",
        "message_too_large",
        r"(?:message|mail|email|data) (?:is )?too (?:large|big)",
        r"too large",
        r"(?:message|mail|email) size",
        r"size (?:limit|exceeds)",
        r"exceeds? (?:the )?(?:maximum|max|fixed|allowed) (?:message )?size",
        r"maximum (?:message )?size",
        r"recipsizelimit",
        r"message length exceeds",
        r"line (?:length )?limit exceeded",
        r"line too long",
    ),
    # --- The envelope sender / From, before unknown-user and DNS: "Domain of sender address
    # does not exist" and Google's "Address not found ... Sender address rejected" are about
    # our side, not the recipient.
    _r(
        "policy",
        "sender",
        r"sender address rejected",
        r"sender (?:address |domain )?(?:is )?(?:invalid|rejected|unknown|not allowed|denied)",
        r"domain of sender address",
        r"unroutable sender",
        r"sender (?:verify|verification) failed",
        r"sender not (?:allowed|authori[sz]ed|permitted)",
        r"from: domain is invalid",
        r"purported responsible address",
        r"send mail as",
        r"customfromdenied",
        r"not a member of this (?:mailing )?list",
        r"permission to post",
        r"bad sender",
    ),
    _r(
        "policy",
        "relay",
        r"relay(?:ing)? (?:access )?(?:denied|not permitted|prohibited|not allowed)",
        r"not (?:configured|permitted|allowed|authori[sz]ed) to relay",
        r"insecure mail relay",
        r"unable to relay",
        r"we do not relay",
    ),
    # --- The recipient domain does not resolve to a mail server.
    _r(
        "dns",
        "dns",
        r"host (?:or domain name )?not found",
        r"domain (?:name )?not found",
        r"no such domain",
        r"domain (?:does not|doesn'?t) exist",
        r"nxdomain",
        r"unroute?able address",
        r"no mx\b",
        r"mx record",
        r"mail exchanger",
        r"couldn'?t find any host",
        r"host unknown",
        r"unknown host",
        r"name service error",
        r"dns (?:error|query|lookup|failure|resolution|type)",
        r"host ?name lookup failure",
        r"lookup of [^ ]+ (?:failed|responded)",
        r"illegal host",
        r"invalid domain",
        r"domain is not reachable",
        r"null mx",
        r"no smtp service",
        r"does not accept mail",
        r"doesn'?t receive email",
        r"name server",
        r"servfail",
        r"temporary lookup failure",
        r"no data known",
        r"unknown domain",
        r"(?:could not|cannot|can'?t|unable to|failed to) resolve",
        r"name or service not known",
        r"no address associated",
        r"failure in name resolution",
        r"host lookup did not complete",
        r"non-existent host",
        r"unroutable (?:mail )?domain",
        r"(?:no|missing) (?:valid )?(?:mx|mail) (?:records?|hosts?|servers?)",
    ),
    # --- The recipient address does not exist / is disabled (strong phrases, several languages).
    _r(
        "unknown_user",
        "unknown_user",
        r"user (?:is )?unknown",
        r"unknown (?:user|recipient|mailbox|local[- ]?part|alias)",
        r"no such (?:user|recipient|mailbox|account|address|person)",
        r"(?:recipient|address|mailbox|account|user)s? (?:was |were )?not found",
        r"recip(?:ient)?notfound",
        r"(?:address|account|mailbox|recipient|user) (?:does not|doesn'?t|did not) exist",
        r"account that you tried to reach",
        r"(?:invalid|illegal|bad) (?:recipient|mailbox|alias|user)",
        r"invalid final delivery",
        r"no mailbox",
        r"mailbox (?:not found|does not exist|is disabled|disabled|inactive|not available)",
        r"not listed in",
        r"(?:account|mailbox|user)\b[^;]{0,40}\b(?:is |has been )?"
        r"(?:disabled|inactive|deactivated|suspended|locked|discontinued|closed|terminated|expired)\b",
        r"(?:recipient|destination|user)(?:'s)? (?:account|mailbox) (?:is |has been )?(?:blocked|locked)",
        r"(?:disabled|inactive|deactivated) (?:recipient|account|user|mailbox|address)",
        r"has moved",
        r"no forwarding address",
        r"no longer (?:valid|active|available|in use|exists)",
        r"not our (?:user|customer)",
        r"(?:doesn'?t|does not) have an? [^;]{1,40}? account",
        r"address couldn'?t be found",
        r"(?:recipient|mailbox|addressee) (?:is )?unknown",
        r"unknown addressee",
        r"mailbox name not allowed",
        r"bad destination mailbox",
        r"user (?:not|no longer) (?:found|exists?|valid)",
        r"not a valid (?:recipient|mailbox|user|address)",
        r"utilisateur inconnu",
        r"destinataire (?:invalide|inconnu)",
        r"n'existe pas",
        r"compte [^.]{0,40}(?:bloqu|d[eé]sactiv|inexistant)",
        r"unbekannt",
        r"existiert nicht",
        r"desconocido",
        r"no existe",
        r"n[aã]o existe",
        r"inesistente",
        r"non esiste",
        r"見つかりません",
        r"存在しません",
        r"宛先不明",
    ),
    # --- Decisive enhanced status codes, used when no phrase above said more.
    _c("unknown_user", "unknown_user", r" [45]\.1\.(?:1|10|3|6) | [45]\.2\.1 | [45]\.7\.13 "),
    _c("mailbox_full", "mailbox_full", r" [45]\.2\.2 "),
    _c("message_too_large", "message_too_large", r" [45]\.(?:3\.4|2\.3) "),
    _c("ip_blocklist", "ip_blocklist", r" [45]\.7\.6(?:0[6-9]|[1-4]\d) ", extract=_named_list(_IP_LISTS_RE)),
    _c("authentication", "authentication", r" [45]\.7\.(?:2[0-46]|509|51[0-5]) "),
    _c("policy", "ptr", r" [45]\.7\.25 "),
    _c("policy", "sender", r" [45]\.1\.[78] "),
    _c("content", "content", r" [45]\.6\.\d+ "),
    _c("dns", "dns", r" [45]\.1\.2 | [45]\.4\.(?:3|4|31[02]) "),
    _c("throttling", "throttling", r" [45]\.4\.5 "),
    # x.4.1 only as 4.4.1: Microsoft uses 5.4.1 for "Recipient address rejected: Access denied".
    _c("connection", "connection", r" [45]\.4\.(?:[2679]|31[68]) | 4\.4\.1 "),
    # --- Connection failures and "gave up after retrying" wrappers. Late, because MTAs append
    # "giving up ... in the queue too long" to whatever the real reason was.
    _r(
        "connection",
        "connection",
        r"timed? ?out",
        r"time-out",
        r"connection (?:was )?(?:refused|reset|closed|dropped|lost|failed|error)",
        r"lost connection",
        r"(?:could not|couldn'?t|unable to|failed to|cannot|can'?t|wasn'?t able to) "
        r"(?:connect|establish|reach|open a connection)",
        r"requests to connect",
        r"socket error",
        r"winsock",
        r"(?:network|host) (?:is )?(?:unreachable|not reachable)",
        r"no route to host",
        r"\b(?:start)?tls\b",
        r"\bssl\b",
        r"certificate",
        r"handshake",
        r"service not available",
        r"not accepting connections",
        r"closing (?:transmission|connection)",
        r"(?:message|envelope) expired",
        r"retry timeout",
        r"could not be delivered (?:for|within)",
        r"not delivered within",
        r"queue too long",
        r"giving up",
        r"gave up",
        r"delivery failed \d+ attempts",
        r"(?:unable|failed) to deliver[^.]{0,40} after",
        r"have been failing",
        r"will be retried",
        r"hop count",
        r"(?:mail|routing) loop",
        r"\bexpired\b",
        r"(?:delivery|message|queue) (?:time|lifetime) (?:expired|exceeded)",
        r"max(?:imum)? (?:number of )?(?:retries|retry|delivery attempts)",
        r"retry (?:limit|count) (?:reached|exceeded)",
        r"no answer from host",
        r"(?:remote|peer|server) (?:host )?closed (?:the )?connection",
        r"broken pipe",
        r"i/o error",
        r"network (?:error|failure)",
        r"not been delivered (?:for|within|after)",
        r"undeliverable after",
        r"(?:deferred|delayed) for too long",
    ),
    # --- Spam words without a verdict phrase: late, since auth and reputation replies also say
    # "to protect our users from spam".
    _r("content", "content", r"\bspam\b", r"\bjunk\b", r"unsolicited"),
    # --- The receiving system failed internally. After the specific causes (an internal error is
    # often reported beside one), before the weak wording that follows.
    _r(
        "other",
        "receiver_error",
        r"mailer error",
        r"(?:internal|local) (?:system |server |mail )?(?:error|problem|failure)",
        r"system (?:error|problem|failure)",
        r"(?:write|queue) error",
        r"\bon hold\b",
        r"upstream error",
    ),
    # --- Weak, generic wording: a refusal with no better reason is the receiver's policy.
    _r(
        "policy",
        "policy",
        r"polic(?:y|ies)",
        r"not (?:permitted|allowed|authori[sz]ed)",
        r"\bdenied\b",
        r"prohibited",
        r"client host rejected",
        r"(?:smtp|mail) server of your isp",
        r"dynamic (?:ip|address)",
        r"dial-?up",
        r"residential",
        r"refused to talk to me",
        r"service refus",
        r"invalid ip",
        r"\bblocked\b",
    ),
    _r(
        "unknown_user",
        "unknown_user",
        r"recipient (?:address )?rejected",
        r"address rejected",
        r"mailbox unavailable",
        r"invalid (?:address|recipient)",
        r"does not exist",
        r"undeliverable address",
    ),
    _c("policy", "policy", r" [45]\.7\.\d+ "),
)


_REPEATS = (
    ()
    if _sre_c is None
    else tuple(getattr(_sre_c, n) for n in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") if hasattr(_sre_c, n))
)


def _gate_of(pattern: str) -> frozenset[str] | None:
    """Substrings one of which every match of ``pattern`` contains (None: no such set found).

    Read off the parsed regex: a run of literal characters outside any optional part is in
    every match; a required group of alternatives is covered by one substring per branch.  The
    fewest, longest candidates win.  Without CPython's parser, every alternative just runs.
    """
    if _sre_parser is None:
        return None
    try:
        parsed = _sre_parser.parse(pattern)
    except Exception:  # any parser trouble only costs speed
        return None
    return _gate_of_items(list(parsed))


def _gate_of_items(items: list[tuple[object, object]]) -> frozenset[str] | None:
    best: frozenset[str] | None = None

    def consider(candidate: frozenset[str] | None) -> None:
        nonlocal best
        if not candidate or min(len(c) for c in candidate) < 3:
            return
        key = (len(candidate), -min(len(c) for c in candidate))
        if best is None or key < (len(best), -min(len(c) for c in best)):
            best = candidate

    run: list[str] = []
    for op, av in items + [(None, None)]:
        if op is _sre_c.LITERAL:
            run.append(chr(av))  # type: ignore[arg-type]
            continue
        consider(frozenset(["".join(run)]) if run else None)
        run = []
        if op is _sre_c.SUBPATTERN:
            consider(_gate_of_items(list(av[-1])))  # type: ignore[index]
        elif op is _sre_c.BRANCH:
            branches = [_gate_of_items(list(b)) for b in av[1]]  # type: ignore[index]
            if all(branches):
                consider(frozenset().union(*branches))  # type: ignore[arg-type]
        elif op in _REPEATS and av[0] >= 1:  # type: ignore[index]
            consider(_gate_of_items(list(av[2])))  # type: ignore[index]
    return best


def _trie_regex(words: list[str]) -> str:
    """A regex matching any of ``words``, factored as a trie so each position tries few branches."""
    root: dict[str, dict] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(root)


@dataclass(frozen=True)
class _Alt:
    rule: _Rule
    regex: re.Pattern[str]
    gate: frozenset[str] | None  # None: always tried


def _compile_table() -> tuple[tuple[_Alt, ...], re.Pattern[str] | None, dict[str, int], int]:
    """Flatten the rules into alternatives (in priority order) and index them by gate.

    Each alternative is tried only when the text contains one of its gate substrings.  One
    pass of a trie regex (in a lookahead, so overlapping hits are all seen) finds the gates a
    text contains; that pass plus the few alternatives it selects is what keeps the table cheap
    on the hot path.  The longest gate starting at a position stands for every gate that is a
    prefix of it.
    """
    alts: list[_Alt] = []
    by_gate: dict[str, int] = {}
    always = 0
    for rule in _RULES:
        for alt in rule.alts:
            gate = _gate_of(alt) if rule.on == "text" else None
            bit = 1 << len(alts)
            alts.append(_Alt(rule, re.compile(alt), gate))
            if gate is None:
                always |= bit
            else:
                for g in {g.strip() or g for g in gate}:
                    by_gate[g] = by_gate.get(g, 0) | bit
    if not by_gate:
        return tuple(alts), None, {}, always
    gates = sorted(by_gate)
    closure = {g: functools.reduce(int.__or__, (by_gate[p] for p in gates if g.startswith(p)), 0) for g in gates}
    first = "".join(sorted({re.escape(g[0]) for g in gates}))
    scan = re.compile(f"(?=[{first}])(?=({_trie_regex(gates)}))")
    return tuple(alts), scan, closure, always


_ALTS, _GATES_RE, _GATE_MASK, _ALWAYS_MASK = _compile_table()


# --------------------------------------------------------------------------------------------
# What a person reads
# --------------------------------------------------------------------------------------------

_DOCS = "https://docs.aws.amazon.com/ses/latest/dg/"
_IP_FIX_TAIL = (
    " If the IP is in SES's shared pool, AWS handles delisting: keep your own bounce and complaint"
    " rates low and let SES retry; with dedicated IPs, fix the cause (compromised sender, bad list"
    " hygiene) and then request removal. Blocklist bounces do not count toward the SES bounce rate."
)

# kind -> (summary, fix). Placeholders: {bl} list name, {region}, {ids}.
_MESSAGES: dict[str, tuple[str, str]] = {
    "ip_blocklist": (
        "The receiving server rejected the mail because the sending IP is listed on {bl}.",
        "Confirm the listing by looking the sending IP up on {bl}." + _IP_FIX_TAIL,
    ),
    "ip_blocklist_unnamed": (
        "The receiving server refuses mail from the sending IP: it is blocked or on a blocklist the"
        " server uses (the reply does not name the list).",
        "Check the sending IP against the major lists (zen.spamhaus.org, b.barracudacentral.org,"
        " bl.spamcop.net) with the bot's blocklist check, and read the reply for a URL naming the list." + _IP_FIX_TAIL,
    ),
    "ipfailure": (
        "SES reports that the receiving server is blocking or throttling the sending IP (IPFailure);"
        " the reply does not name a list.",
        "Check the sending IP against the major blocklists with the bot's blocklist check; if it is not"
        " listed, the receiver is rate-limiting or distrusting the IP (see its postmaster pages)." + _IP_FIX_TAIL,
    ),
    "domain_blocklist": (
        "The receiving server rejected the mail because a domain in it (sender, return path or a link)"
        " is listed on {bl}.",
        "Find which domain is listed - From, MAIL FROM and every link or image host, including URL"
        " shorteners and tracking domains - remove or replace it, then request delisting. Changing the"
        " sending IP will not help.",
    ),
    "domain_blocklist_unnamed": (
        "The receiving server rejected the mail because a domain in it (sender, return path or a link)"
        " is on a domain blocklist.",
        "Check the From, MAIL FROM and link domains against Spamhaus DBL (https://check.spamhaus.org/),"
        " SURBL and URIBL; remove or replace the listed domain, then request delisting.",
    ),
    "dnsbl_resolver": (
        "The receiving server's own blocklist lookup failed (it queries the list through a public or open"
        " DNS resolver, which the list refuses), so it rejected mail from an IP that is not actually listed.",
        "Nothing is wrong with your IP: confirm it is not listed (https://check.spamhaus.org/) and tell the"
        " recipient's postmaster that their DNSBL queries are refused (127.255.255.252/254/255 error"
        " answers); they need their own resolver or Spamhaus DQS."
        " See https://www.spamhaus.org/faqs/dnsbl-usage/",
    ),
    "reputation": (
        "The receiving server refused or rate-limited the mail because of the sending IP's or domain's reputation.",
        "Check the account's bounce and complaint rates (CloudWatch Reputation.BounceRate /"
        " Reputation.ComplaintRate) and the receiver's postmaster tools (Google"
        " https://postmaster.google.com, Microsoft SNDS, Yahoo https://senders.yahooinc.com/); send only"
        " to engaged, opted-in recipients, slow down and let SES retry. Dedicated IPs need warming up.",
    ),
    "content": (
        "The receiving server rejected the message because of its content (classified as spam, a virus,"
        " a disallowed attachment or a malformed message).",
        "Review the message: link domains, attachments (types, macros), headers (one From, RFC 5322"
        " compliance) and wording; test it with a spam checker and make sure SPF, DKIM and DMARC pass,"
        " then resend a plain version to confirm.",
    ),
    "attachment": (
        "The receiving server rejected the message because of an attachment.",
        "Send the file as a link, or in a type the receiver accepts (no executables, scripts or macro"
        " documents); zipping does not help with most filters.",
    ),
    "authentication": (
        "The receiving server rejected the mail because it failed sender authentication (SPF, DKIM or DMARC).",
        "Enable Easy DKIM for the From domain (three CNAMEs to dkim.amazonses.com), use a custom MAIL FROM"
        " domain with SPF include:amazonses.com for SPF alignment, and publish a DMARC record; the bot's"
        " DNS check shows which record is missing. " + _DOCS + "email-authentication-methods.html",
    ),
    "unknown_user": (
        "The recipient address does not exist or no longer accepts mail (unknown, disabled or moved mailbox).",
        "Remove the address or fix the typo; do not retry it. Sending to dead addresses raises the SES"
        " bounce rate (keep it below 2%; review starts at 5%), and SES adds hard-bounced addresses to the"
        " account suppression list when that is enabled.",
    ),
    "mailbox_full": (
        "The recipient's mailbox is full (over quota).",
        "Nothing to fix on your side: SES retries soft bounces for a while. If it keeps bouncing, reach"
        " the recipient another way. Mailbox-full bounces do not count toward the SES bounce rate.",
    ),
    "suppressed": (
        "SES did not attempt delivery because the address is on a suppression list (the account's, or"
        " SES's global list).",
        "See why with `aws sesv2 get-suppressed-destination --email-address ADDRESS` (reason BOUNCE or"
        " COMPLAINT); remove it only if the address is now valid and wants your mail. "
        + _DOCS
        + "sending-email-suppression-list.html",
    ),
    "policy": (
        "The receiving server refused the mail under its local policy, without naming a blocklist.",
        "Read the full reply for the rule that fired and any URL it gives (provider error-code pages"
        " explain their codes); check that the From and MAIL FROM domains are valid and authenticated."
        " If nothing applies, ask the recipient's postmaster.",
    ),
    "ptr": (
        "The receiving server refused the sending host's identity (missing or mismatched reverse DNS /"
        " PTR, or a rejected HELO name) - this is not a blocklist listing.",
        "SES shared and dedicated IPs have AWS-managed PTRs, so this usually comes from a relay of yours"
        " in front of or behind SES, or from BYOIP: give the IP a PTR whose name resolves back to it and"
        " use that name in HELO.",
    ),
    "recipient_block": (
        "The recipient (or their organisation) has blocked your sender address or domain.",
        "Only the recipient can unblock you; reach them another way and ask them to remove the block.",
    ),
    "relay": (
        "The receiving server refused to relay: it does not accept mail for that domain from you.",
        "Check that the recipient domain's MX records point to the right servers; if that server is"
        " yours, add the domain to its local or relay domains.",
    ),
    "sender": (
        "The receiving server rejected the envelope sender or From address (unknown, unroutable or not allowed).",
        "Make sure the From and MAIL FROM (Return-Path) domains exist and resolve (MX or A) and are"
        " verified in SES; with a custom MAIL FROM domain, check its MX record. " + _DOCS + "mail-from.html",
    ),
    "message_too_large": (
        "The receiving server rejected the message because it is larger than the recipient accepts.",
        "Send large files as links, or shrink them (base64 adds about a third). SES accepts up to 40 MB"
        " but many receivers cap messages at 10-25 MB.",
    ),
    "dns": (
        "The recipient's domain could not be resolved to a mail server (no such domain, no MX record, or"
        " a DNS failure).",
        "Check the domain for typos (e.g. gmal.com); `dig MX <domain>` shows whether it receives mail. If"
        " the domain is right, its DNS is broken and only its owner can fix it.",
    ),
    "byoip": (
        "SES could not look up the host name of your BYOIP sending IP (BYOIPHostNameLookupUnavailable).",
        "Check the reverse DNS (PTR) delegation and records of your BYOIP range.",
    ),
    "connection": (
        "SES could not connect to or finish a session with the receiving server (timeout, refused"
        " connection, TLS failure) and eventually gave up.",
        "Usually the receiving server is down or unreachable: check that the domain's MX hosts answer on"
        " port 25 with working STARTTLS. If only this domain fails, the fault is on their side.",
    ),
    "throttling": (
        "The receiving server is limiting how fast it accepts mail (rate limit, too many connections or recipients).",
        "SES retries deferrals automatically; spread large sends over time and use fewer recipients per"
        " message. Throttling that persists at one provider usually means reputation - check its"
        " postmaster tools.",
    ),
    "other": (
        "The reply does not match a known failure pattern.",
        "Read the full diagnostic text: its enhanced status code (x.y.z) and any URL in it are the best"
        " leads; the receiving provider's postmaster pages explain their own codes.",
    ),
    "receiver_error": (
        "The receiving mail system failed internally (mailer or system error) and could not take the message.",
        "Nothing to fix on your side: SES retries temporary failures. If it persists, tell the"
        " recipient's postmaster; their mail system is broken.",
    ),
    "empty": (
        "No diagnostic text was given, so the cause cannot be told.",
        "Look at the full bounce or delay event (bounceType, bounceSubType, status, reportingMTA) or ask"
        " the bot to look the message up.",
    ),
    "empty_permanent": (
        "SES reported a permanent (hard) bounce without diagnostic text.",
        "Do not resend to the address until you know why: look at the full bounce event (status,"
        " reportingMTA, remoteMtaIp) or ask the bot to look the message up.",
    ),
    "empty_transient": (
        "SES reported a temporary (soft) bounce without diagnostic text.",
        "SES has already retried; look at the full bounce event (status, reportingMTA) and try again later.",
    ),
    "empty_undetermined": (
        "SES could not determine why the mail bounced (Undetermined) and gave no diagnostic text.",
        "Look at the full bounce event and the recipient domain's MX hosts; if it repeats for one"
        " domain, ask its postmaster.",
    ),
    "ses_internal": (
        "SES had an internal failure delivering this message (InternalFailure) and is retrying it.",
        "Nothing to fix on your side; if many messages stay delayed, check the AWS Health Dashboard.",
    ),
    "ses_deferral": (
        "SES deferred delivery internally (SendingDeferral) and will retry.",
        "Usually temporary; if it persists, check the account's sending status (GetAccount) and the AWS"
        " Health Dashboard.",
    ),
    "recipient_server": (
        "The receiving server reported an error of its own (RecipientServerError).",
        "SES retries; if the delay persists, the recipient's mail system is at fault - contact its postmaster.",
    ),
    # SES's own errors (client -> SES)
    "ses_unverified": (
        "SES refused the send because an identity is not verified{region}{ids}.",
        "Verify the sender address or domain in that region (identities are per region): "
        + _DOCS
        + "creating-identities.html. If the account is still in the sandbox there, recipients must be"
        " verified too: verify the recipient, use the mailbox simulator, or request production access: "
        + _DOCS
        + "request-production-access.html",
    ),
    "ses_sandbox": (
        "The SES account is in the sandbox in this region: it can only send to verified addresses,"
        " 200 messages a day, 1 a second.",
        "Verify the recipient for testing, or request production access for the region: "
        + _DOCS
        + "request-production-access.html",
    ),
    "ses_daily_quota": (
        "SES refused the send: the account's 24-hour sending quota is used up (Daily message quota exceeded).",
        "Wait for the rolling 24-hour window to free up, or request a higher quota (Service Quotas or the"
        " SES console): " + _DOCS + "manage-sending-quotas.html. Sandbox accounts are capped at 200 a day.",
    ),
    "ses_rate": (
        "SES refused the send: the account's maximum send rate (messages per second) was exceeded.",
        "Pace the sender to MaxSendRate (GetAccount SendQuota) and retry throttled calls with exponential"
        " backoff and jitter; request a higher rate if needed: " + _DOCS + "manage-sending-quotas.html",
    ),
    "ses_limit": (
        "SES refused the request because an account limit was exceeded (LimitExceededException).",
        "Check the account's quotas with GetAccount and the Service Quotas console, and request an"
        " increase if the limit is too low: " + _DOCS + "manage-sending-quotas.html",
    ),
    "ses_smtp_conns": (
        "The SES SMTP endpoint refused the connection: the client has too many concurrent SMTP connections.",
        "Reuse connections and cap the client's connection pool; retry with backoff.",
    ),
    "ses_paused": (
        "SES refused the send because sending is paused for the account in this region.",
        "Check GetAccount (SendingEnabled, EnforcementStatus) and the messages from AWS about the review;"
        " fix the bounce or complaint cause and follow the enforcement FAQ: "
        + _DOCS
        + "faqs-enforcement.html. Re-enable with `aws sesv2 put-account-sending-attributes"
        " --sending-enabled` only if an operator paused it.",
    ),
    "ses_cs_paused": (
        "SES refused the send because sending is paused for the configuration set it used.",
        "Find out why it was paused, then re-enable it with `aws sesv2 put-configuration-set-sending-options"
        " --configuration-set-name NAME --sending-enabled`.",
    ),
    "ses_suspended": (
        "SES refused the send: the account's ability to send email has been permanently restricted.",
        "Contact AWS Support from the account; see " + _DOCS + "faqs-enforcement.html",
    ),
    "ses_smtp_auth": (
        "The SES SMTP endpoint rejected the login: the SMTP credentials are invalid.",
        "SES SMTP credentials are not IAM access keys: create SMTP credentials in the SES console (or derive"
        " the password from a secret key with the documented algorithm); they only work for the region of"
        " the endpoint (email-smtp.<region>.amazonaws.com). " + _DOCS + "smtp-credentials.html",
    ),
    "ses_iam": (
        "SES refused the request: the IAM user or role is not allowed to send (ses:SendEmail / ses:SendRawEmail).",
        "Grant ses:SendEmail and ses:SendRawEmail on the identity to that principal, and check SCPs and the"
        " identity's sending-authorization policy: " + _DOCS + "control-user-access.html",
    ),
    "ses_mail_from": (
        "SES refused the send because the custom MAIL FROM domain is not verified (its MX record could not"
        " be read) and the identity rejects mail in that case.",
        "Publish `MX 10 feedback-smtp.<region>.amazonses.com` and SPF `v=spf1 include:amazonses.com ~all`"
        " on the MAIL FROM domain, or set BehaviorOnMxFailure to USE_DEFAULT_VALUE: " + _DOCS + "mail-from.html",
    ),
    "ses_template": (
        "SES could not render the email template (it does not exist in this region, or the template data"
        " is missing a variable or is not valid JSON).",
        "Check the template name and region with `aws sesv2 get-email-template`, and test the data with"
        " `aws sesv2 test-render-email-template`. A templated send returns a MessageId even when rendering"
        " fails later: watch for Rendering Failure events.",
    ),
    "ses_cs_missing": (
        "SES refused the send because the configuration set named in the request does not exist in this region.",
        "Create the configuration set in that region or fix its name in the sending code"
        " (`aws sesv2 list-configuration-sets`).",
    ),
    "ses_smtp_timeout": (
        "The SES SMTP endpoint closed the session because the client stopped sending data (451 Timeout"
        " waiting for data from client).",
        "Check the client's network path and that it sends the message promptly after DATA; large messages"
        " over slow links hit this.",
    ),
    "ses_smtp_port": (
        "The connection to the SES SMTP endpoint timed out.",
        "EC2 throttles outbound port 25 by default: use port 587 or 2587 (STARTTLS) or 465/2465 (TLS), and"
        " check security groups and egress firewalls. " + _DOCS + "smtp-connect.html",
    ),
    "ses_bad_content": (
        "SES rejected the message because it contains a virus (reject reason 'Bad content').",
        "Remove the infected attachment and scan the system that produced it; SES scans every message.",
    ),
    "ses_bad_address": (
        "SES refused the address as malformed.",
        "Check the address syntax (one @, no spaces or stray quotes, punycode for international domains)"
        " before sending.",
    ),
}

# Structured hints that decide the category on their own (the text only refines the wording).
_SUBTYPE_DECISIVE: dict[str, tuple[str, str]] = {
    "mailboxfull": ("mailbox_full", "mailbox_full"),
    "messagetoolarge": ("message_too_large", "message_too_large"),
    "contentrejected": ("content", "content"),
    "attachmentrejected": ("content", "attachment"),
    "noemail": ("unknown_user", "unknown_user"),
}
_SUPPRESSED_SUBTYPES = frozenset({"onaccountsuppressionlist", "suppressed"})
_DELAY_DECISIVE: dict[str, tuple[str, str]] = {
    "mailboxfull": ("mailbox_full", "mailbox_full"),
    "spamdetected": ("content", "content"),
    "transientcommunicationfailure": ("connection", "connection"),
    "byoiphostnamelookupunavailable": ("dns", "byoip"),
    "internalfailure": ("other", "ses_internal"),
    "sendingdeferral": ("throttling", "ses_deferral"),
}
# With IPFailure, text that names one of these sender-side causes is more precise than "blocked".
_IPFAILURE_TEXT_WINS = frozenset(
    {"ip_blocklist", "domain_blocklist", "reputation", "throttling", "policy", "dns", "authentication"}
)

_REGION_RE = re.compile(r"in region ([A-Za-z]{2}(?:-gov)?-[A-Za-z]+-\d)")
_IDS_RE = re.compile(r"failed the check in region [^:]*:\s*(.{1,300})$", re.S)


def _make(category: str, kind: str, found: _Found | None = None, raw: str = "") -> Classification:
    if kind == "ses_unverified":
        region_m = _REGION_RE.search(raw)
        ids_m = _IDS_RE.search(raw)
        summary, fix = _MESSAGES[kind]
        summary = summary.format(
            region=f" in region {region_m.group(1).lower()}" if region_m else "",
            ids=f" ({ids_m.group(1).strip().rstrip('.')})" if ids_m else "",
        )
        return Classification(category=category, blocklist=None, summary=summary, fix=fix)
    return _make_static(category, kind, found)


@functools.lru_cache(maxsize=1024)
def _make_static(category: str, kind: str, found: _Found | None) -> Classification:
    """The wording of a result; shared (it is immutable) by every text with the same verdict."""
    bl_name, url = found if found else (None, None)
    if kind in ("ip_blocklist", "domain_blocklist") and not bl_name:
        kind += "_unnamed"
    summary, fix = _MESSAGES.get(kind, _MESSAGES[category])
    if bl_name:
        summary = summary.format(bl=bl_name)
        fix = fix.format(bl=bl_name)
        note = next((b.note for b in BLOCKLISTS if b.name == bl_name and b.note), "")
        if url:
            fix += f" Delisting / lookup: {url}"
        if note:
            fix += " " + note
    return Classification(category=category, blocklist=bl_name, summary=summary, fix=fix, delist_url=url)


def _cut(text: str) -> str:
    if len(text) > _MAX_CHARS:
        return text[:_HEAD_CHARS] + " ... " + text[-(_MAX_CHARS - _HEAD_CHARS) :]
    return text


def _normalise(text: str) -> str:
    return " ".join(_cut(text).split()).lower()


def _match_text(norm: str, codes: str) -> tuple[_Rule, _Found | None] | None:
    """The first rule (in table order) with an alternative that matches."""
    mask = _ALWAYS_MASK
    if _GATES_RE is not None:
        for gate in set(_GATES_RE.findall(norm)):
            mask |= _GATE_MASK[gate]
    while mask:
        low = mask & -mask
        mask ^= low
        alt = _ALTS[low.bit_length() - 1]
        rule = alt.rule
        hay = codes if rule.on == "codes" else norm
        if hay and alt.regex.search(hay):
            found = None
            if rule.extract is not None:
                # A code rule (Microsoft 5.7.6xx) still takes the list's name from the text if any.
                found = rule.extract(norm) or (rule.extract(codes) if rule.on == "codes" else None)
            return rule, found
    return None


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _classify(text: str, status: str, bounce_type: str, bounce_subtype: str, delay_type: str) -> Classification:
    subtype = bounce_subtype.strip().lower()
    delay = delay_type.strip().lower()
    if subtype in _SUPPRESSED_SUBTYPES:
        return _make("suppressed", "suppressed")

    norm = _normalise(text)
    codes = _codes(norm, status)
    hit = _match_text(norm, codes) if (norm or codes) else None
    from_text: Classification | None = None
    if hit is not None:
        rule, found = hit
        from_text = _make(rule.category, rule.kind, found, text)
        if found is not None and rule.category in ("ip_blocklist", "domain_blocklist"):
            return from_text  # a named list beats every structured hint

    decisive = _SUBTYPE_DECISIVE.get(subtype) or _DELAY_DECISIVE.get(delay)
    if decisive is not None:
        category, kind = decisive
        if from_text is not None and from_text.category == category and kind == category:
            return from_text  # same verdict; the text's wording is more specific
        return _make(category, kind)
    if delay == "ipfailure":
        if from_text is not None and from_text.category in _IPFAILURE_TEXT_WINS:
            return from_text
        return _make("ip_blocklist", "ipfailure")
    if from_text is not None:
        return from_text
    if delay == "recipientservererror":
        return _make("other", "recipient_server")
    if not norm:
        kind = f"empty_{bounce_type.strip().lower()}"
        return _make("other", kind if kind in _MESSAGES else "empty")
    return _make("other", "other")


def classify(
    text: str | None,
    *,
    status: str | None = None,
    bounce_type: str | None = None,
    bounce_subtype: str | None = None,
    delay_type: str | None = None,
) -> Classification:
    """Classify a bounce / delay diagnostic or a pasted SES error.

    ``text`` is the diagnostic text; ``status`` the enhanced status code SES reports beside it;
    ``bounce_type`` / ``bounce_subtype`` / ``delay_type`` the structured fields of the event.
    Deterministic and memoised (bounded LRU) on the whole input tuple.
    """
    return _classify(_cut(text or ""), (status or "")[:64], bounce_type or "", bounce_subtype or "", delay_type or "")


def cache_info() -> functools._CacheInfo:
    """Hit/miss statistics of the memoisation cache."""
    return _classify.cache_info()


def cache_clear() -> None:
    """Empty the memoisation cache (tests and benchmarks)."""
    _classify.cache_clear()
