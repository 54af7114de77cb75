"""Sender-domain email authentication: will SES mail from this domain pass SPF, DKIM and DMARC?

One job: look at a sender domain the way a receiving mail server does, through the SES identity that
sends for it (per region: the DKIM tokens and the MAIL FROM domain are per region) and through DNS, and
say what puts its mail in the spam folder or gets it rejected. Two reports use it:

* the `why` suite's **`sender.authentication`** (per region): one finding condensing all of it, worst
  cause first (e.g. DMARC ``p=reject`` with no aligned DKIM is critical; no DMARC record is a warning;
  a missing DKIM CNAME is an error);
* the **`domain`** suite, run by the ``domain <domain>`` command, one finding per question:

  ==================  ==========  ================================================================
  check id            per region  question
  ==================  ==========  ================================================================
  ``domain.identity``   yes       is the domain (or a parent domain) an SES identity, verified?
                                  (verification status and its error type)
  ``domain.dkim``       yes       is DKIM signing on and ``SUCCESS``, and does each Easy DKIM
                                  token's CNAME ``<token>._domainkey.<domain>`` point at
                                  ``<token>.dkim.amazonses.com`` (missing or wrong target named)?
  ``domain.mail_from``  yes       custom MAIL FROM: its status, behaviour on MX failure, and its MX
                                  ``10 feedback-smtp.<region>.amazonses.com``
  ``domain.spf``        no        SPF of each MAIL FROM domain: present, exactly one record,
                                  includes amazonses.com, at most 10 DNS lookups (following
                                  include/redirect), no ``+all``, at most 2 void lookups; with
                                  the default MAIL FROM, that SES's own SPF applies and cannot align
  ``domain.dmarc``      no        DMARC at ``_dmarc.<domain>`` or the organizational domain:
                                  syntax, p/sp, pct, rua, and whether SES mail aligns (DKIM d= vs
                                  From under adkim; SPF only with a custom MAIL FROM under aspf)
  ``domain.mx``         no        can the domain receive mail itself (MX, null MX, implicit MX)?
  ==================  ==========  ================================================================

Parsing and evaluating SPF and DMARC records is checkdmarc's job (`checkdmarc.spf.parse_spf_record`,
`checkdmarc.dmarc.parse_dmarc_record`): the RFC 7208 grammar, the 10-lookup and void-lookup counts
across include/redirect, the DMARC tag grammar and report-URI checks. Finding the records (the TXT
lookups at the MAIL FROM domain, ``_dmarc.<domain>`` and ``_dmarc.<organizational domain>``) is done
here, so that a DNS timeout is told apart from a missing record, and so that the organizational domain
comes from the Public Suffix List (``publicsuffixlist``, offline), as receivers do under RFC 7489.

How checkdmarc is kept on our resolver (verified by the tests against a DNS peer on an ephemeral port):

* every call gets ``resolver=`` (our `dns.resolver.Resolver`, whose ``Do53Nameserver`` entries carry
  the port) **and** ``nameservers=`` (the same nameserver objects): checkdmarc 6.0.4 looks up an SPF
  ``exp=`` target without passing the resolver on, and would otherwise ask the system's resolver;
* checkdmarc caches every answer process-wide for 30 minutes, keyed by name and type only; a record a
  person has just fixed would be reported stale and answers from one resolver served for another, so
  that cache is switched off below (`query_dns` only caches into an ``ExpiringDict``);
* DMARC report-destination checks (``rua``/``ruf`` authorization records and MX) stay on, through a copy
  of our resolver with a short lifetime, so a slow third-party domain cannot eat the check's time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import checkdmarc.dmarc
import checkdmarc.spf
import checkdmarc.utils
import dns.exception
import dns.resolver
from publicsuffixlist import PublicSuffixList

from bot.aws import describe_error, error_code
from bot.checks import CheckContext, RunMemo, check
from bot.deps import Deps
from bot.dnsq import make_resolver
from bot.findings import Finding, Severity, could_not_check

# Turn checkdmarc's process-wide DNS cache off (see the module docstring): `query_dns` reads this module
# global at call time and only caches into an ExpiringDict, so a plain dict leaves every lookup live.
if not hasattr(checkdmarc.utils, "DNS_CACHE"):  # pragma: no cover - a checkdmarc upgrade moved it
    raise ImportError("checkdmarc.utils.DNS_CACHE is gone: re-check how sesbot disables checkdmarc's DNS cache")
checkdmarc.utils.DNS_CACHE = {}

DOC_DKIM = "https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dkim-easy.html"
DOC_MAIL_FROM = "https://docs.aws.amazon.com/ses/latest/dg/mail-from.html"
DOC_SPF = "https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-spf.html"
DOC_DMARC = "https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dmarc.html"
DOC_IDENTITY = "https://docs.aws.amazon.com/ses/latest/dg/creating-identities.html"
DOC_VERIFY_TROUBLE = "https://docs.aws.amazon.com/ses/latest/dg/troubleshoot-verification.html"

SES_SPF_DOMAIN = "amazonses.com"
DMARC_REPORT_LIFETIME = 1.5  # seconds per rua/ruf destination lookup: advisory, never worth a slow check

VERIFICATION_ERRORS = {
    "DNS_SERVER_ERROR": "SES could not get an answer from the domain's DNS servers (timeout or SERVFAIL)",
    "HOST_NOT_FOUND": "the DKIM CNAME names do not exist in DNS",
    "TYPE_NOT_FOUND": "the DKIM names exist but hold no CNAME record (a TXT record instead?)",
    "INVALID_VALUE": "the DKIM CNAME records point at the wrong targets",
    "SERVICE_ERROR": "an error inside SES; it retries on its own",
    "REPLICATION_ACCESS_DENIED": "the parent identity used for replication does not allow it",
    "REPLICATION_PRIMARY_NOT_FOUND": "the primary identity to replicate from does not exist",
    "REPLICATION_PRIMARY_BYO_DKIM_NOT_SUPPORTED": "the primary identity uses BYODKIM: not replicable",
    "REPLICATION_REPLICA_AS_PRIMARY_NOT_SUPPORTED": "a replica cannot be the primary of another replica",
    "REPLICATION_PRIMARY_INVALID_REGION": "the primary identity's region cannot be replicated from",
}

_DMARC_RECORD_RE = re.compile(r"^v\s*=\s*dmarc1\s*(;|$)", re.IGNORECASE)
_DMARC_PCT_RE = re.compile(r"(?:^|;)\s*pct\s*=\s*([^;]*)", re.IGNORECASE)


# --- names --------------------------------------------------------------------------------------------


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()  # the list bundled with the package: offline


def org_domain(domain: str) -> str:
    """The organizational domain (RFC 7489: one label below the public suffix), from the Public Suffix List.

    >>> org_domain("mail.example.co.uk")
    'example.co.uk'
    """
    domain = domain.lower().rstrip(".")
    return _psl().privatesuffix(domain) or domain


def aligned(domain: str, from_domain: str, mode: str = "r") -> bool:
    """DMARC identifier alignment: strict (``s``) needs equal names, relaxed the same org domain."""
    a, b = domain.lower().rstrip("."), from_domain.lower().rstrip(".")
    return a == b if mode == "s" else org_domain(a) == org_domain(b)


def parent_domains(domain: str) -> list[str]:
    """`domain` and each parent down to its organizational domain: mail.example.com, example.com."""
    org = org_domain(domain)
    out = [domain]
    while out[-1] != org and "." in out[-1]:
        out.append(out[-1].split(".", 1)[1])
    return out


# --- DNS ----------------------------------------------------------------------------------------------


@dataclass
class Lookup:
    """One DNS question and what came back: records, NXDOMAIN, NODATA, or an error that says why."""

    name: str
    rtype: str
    outcome: str  # "answer", "nxdomain", "nodata", "error"
    records: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.outcome == "error"

    def describe(self) -> str:
        if self.outcome == "answer":
            return f"{self.name} {self.rtype}: " + "; ".join(self.records)
        if self.outcome == "nxdomain":
            return f"{self.name} {self.rtype}: NXDOMAIN (the name does not exist)"
        if self.outcome == "nodata":
            return f"{self.name} {self.rtype}: no {self.rtype} record (the name exists)"
        return f"{self.name} {self.rtype}: lookup failed ({self.error})"


def dns_error_text(exc: BaseException, lifetime: float | None = None) -> str:
    """One line for a failed lookup: a timeout, SERVFAIL/REFUSED, or whatever dnspython said."""
    if isinstance(exc, dns.resolver.LifetimeTimeout | dns.exception.Timeout):
        return f"no answer within {lifetime:g} s" if lifetime else "no answer in time"
    if isinstance(exc, dns.resolver.NoNameservers):
        return "the DNS server answered SERVFAIL or REFUSED"
    return f"{type(exc).__name__}: {str(exc)[:160]}"


def lookup(resolver: dns.resolver.Resolver, name: str, rtype: str) -> Lookup:
    """Ask `resolver` one question; never raises for DNS trouble."""
    try:
        answer = resolver.resolve(name, rtype, search=False)
    except dns.resolver.NXDOMAIN:
        return Lookup(name, rtype, "nxdomain")
    except dns.resolver.NoAnswer:
        return Lookup(name, rtype, "nodata")
    except dns.exception.DNSException as exc:
        return Lookup(name, rtype, "error", error=dns_error_text(exc, resolver.lifetime))
    records: list[str] = []
    for rdata in answer:
        if rtype == "TXT":
            # RFC 7208 3.3: the character-strings of one TXT record are joined without spaces.
            records.append(b"".join(rdata.strings).decode("utf-8", "replace"))
        elif rtype == "MX":
            records.append(f"{rdata.preference} {rdata.exchange.to_text().rstrip('.').lower() or '.'}")
        elif rtype == "CNAME":
            records.append(rdata.target.to_text().rstrip(".").lower())
        else:
            records.append(rdata.to_text())
    return Lookup(name, rtype, "answer", records)


def _mx_hosts(found: Lookup) -> list[tuple[int, str]]:
    hosts = []
    for rec in found.records:
        pref, _, host = rec.partition(" ")
        hosts.append((int(pref), host))
    return sorted(hosts)


# --- sharing lookups between the checks of one run ----------------------------------------------------


def _memo(ctx: CheckContext) -> RunMemo:
    """The run's memo: the `domain` suite's checks all need the same identity and records, computed once."""
    return ctx.memo


def _parallel(jobs: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run independent lookups at once: a check's time is its slowest lookup, not their sum."""
    if len(jobs) <= 1:
        return {k: fn() for k, fn in jobs.items()}
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="auth") as pool:
        futures = {k: pool.submit(fn) for k, fn in jobs.items()}
        return {k: f.result() for k, f in futures.items()}


# --- the SES identity ---------------------------------------------------------------------------------


@dataclass
class Identity:
    """The SES identity that covers `domain` in `region`: the domain itself, or a parent domain."""

    region: str | None
    domain: str
    name: str | None = None  # the identity found (domain or a parent), None when there is none
    response: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # AWS trouble: could not tell

    @property
    def found(self) -> bool:
        return self.name is not None

    @property
    def inherited(self) -> bool:
        return self.found and self.name != self.domain

    @property
    def verified(self) -> bool:
        return bool(self.response.get("VerifiedForSendingStatus"))

    @property
    def status(self) -> str:
        return self.response.get("VerificationStatus") or "UNKNOWN"

    @property
    def error_type(self) -> str | None:
        return (self.response.get("VerificationInfo") or {}).get("ErrorType")

    @property
    def dkim(self) -> dict[str, Any]:
        return self.response.get("DkimAttributes") or {}

    @property
    def mail_from(self) -> dict[str, Any]:
        return self.response.get("MailFromAttributes") or {}

    @property
    def mail_from_domain(self) -> str | None:
        value = self.mail_from.get("MailFromDomain")
        return value.lower().rstrip(".") if value else None


def find_identity(client: Any, region: str | None, domain: str) -> Identity:
    """The identity for `domain` or, failing that, the nearest parent domain identity (SES lets a verified
    domain send from its subdomains, and signs their mail with the parent's DKIM)."""
    for candidate in parent_domains(domain):
        try:
            response = client.get_email_identity(EmailIdentity=candidate)
        except Exception as exc:
            if error_code(exc) == "NotFoundException":
                continue
            return Identity(region, domain, error=describe_error(exc))
        response.pop("ResponseMetadata", None)
        return Identity(region, domain, candidate, response)
    return Identity(region, domain)


def _identity(deps: Deps, memo: RunMemo, region: str | None, domain: str) -> Identity:
    def compute() -> Identity:
        try:
            client = deps.aws.get("sesv2", region)
        except Exception as exc:
            return Identity(region, domain, error=describe_error(exc))
        return find_identity(client, region, domain)

    return memo.once(("identity", region, domain), compute)


def _dns(deps: Deps, memo: RunMemo, name: str, rtype: str) -> Lookup:
    return memo.once(("dns", name.lower(), rtype), lambda: lookup(deps.resolver, name, rtype))


# --- DKIM ---------------------------------------------------------------------------------------------


@dataclass
class DkimRecord:
    name: str
    expected: str  # the CNAME target (Easy DKIM), or "a DKIM public key (TXT p=...)" for BYODKIM
    state: str  # "ok", "missing", "wrong", "not_cname", "no_key", "error"
    found: Lookup

    def describe(self) -> str:
        if self.state == "ok":
            return f"{self.name} -> {self.found.records[0] if self.found.records else 'key'} (correct)"
        if self.state == "missing":
            return f"{self.name}: missing ({self.found.outcome.upper()}); expected CNAME {self.expected}"
        if self.state == "wrong":
            return f"{self.name} -> {', '.join(self.found.records)} (wrong target; expected {self.expected})"
        if self.state == "not_cname":
            return f"{self.name}: exists but is not a CNAME; expected CNAME {self.expected}"
        if self.state == "no_key":
            return f"{self.name}: no DKIM public key (TXT with p=) found"
        return f"{self.name}: lookup failed ({self.found.error})"


@dataclass
class Dkim:
    """DKIM as SES does it for one identity in one region, and what DNS says about its records."""

    identity: Identity
    records: list[DkimRecord] = field(default_factory=list)

    @property
    def signing_enabled(self) -> bool:
        return bool(self.identity.dkim.get("SigningEnabled"))

    @property
    def status(self) -> str:
        return self.identity.dkim.get("Status") or "NOT_STARTED"

    @property
    def origin(self) -> str:
        return self.identity.dkim.get("SigningAttributesOrigin") or "AWS_SES"

    @property
    def d_domain(self) -> str:
        """The d= of SES's signature: the identity's domain when it signs, else amazonses.com."""
        return self.identity.name if self.identity.found and self.signing_enabled else SES_SPF_DOMAIN

    @property
    def broken_records(self) -> list[DkimRecord]:
        return [r for r in self.records if r.state not in ("ok", "error")]

    @property
    def unchecked_records(self) -> list[DkimRecord]:
        return [r for r in self.records if r.state == "error"]

    @property
    def passes(self) -> bool:
        """Would receivers see a valid signature from the identity's domain?"""
        return (
            self.identity.found
            and self.signing_enabled
            and self.status == "SUCCESS"
            and bool(self.records)
            and not self.broken_records
        )


def inspect_dkim(deps: Deps, memo: RunMemo, ident: Identity) -> Dkim:
    """Check each DKIM token's DNS record (all at once)."""
    out = Dkim(ident)
    if not ident.found:
        return out
    tokens = [t for t in ident.dkim.get("Tokens") or [] if t]
    external = out.origin == "EXTERNAL"  # BYODKIM: the "token" is the selector of a TXT public key

    def one(token: str) -> DkimRecord:
        name = f"{token}._domainkey.{ident.name}"
        if external:
            found = _dns(deps, memo, name, "TXT")
            if found.failed:
                return DkimRecord(name, "TXT p=<public key>", "error", found)
            has_key = any(re.search(r"(^|;)\s*p\s*=\s*[A-Za-z0-9+/]", r) for r in found.records)
            return DkimRecord(name, "TXT p=<public key>", "ok" if has_key else "no_key", found)
        expected = f"{token}.dkim.amazonses.com".lower()
        found = _dns(deps, memo, name, "CNAME")
        if found.failed:
            state = "error"
        elif found.outcome == "nxdomain":
            state = "missing"
        elif found.outcome == "nodata":
            state = "not_cname"
        else:
            state = "ok" if expected in found.records else "wrong"
        return DkimRecord(name, expected, state, found)

    results = _parallel({t: (lambda t=t: one(t)) for t in tokens})
    out.records = [results[t] for t in tokens]
    return out


# --- MAIL FROM ----------------------------------------------------------------------------------------


@dataclass
class MailFrom:
    """The identity's custom MAIL FROM domain (if any) and its MX."""

    identity: Identity
    mx: Lookup | None = None

    @property
    def domain(self) -> str | None:
        return self.identity.mail_from_domain

    @property
    def status(self) -> str | None:
        return self.identity.mail_from.get("MailFromDomainStatus")

    @property
    def behavior(self) -> str:
        return self.identity.mail_from.get("BehaviorOnMxFailure") or "USE_DEFAULT_VALUE"

    @property
    def expected_mx(self) -> str:
        return f"feedback-smtp.{self.identity.region}.amazonses.com"

    @property
    def mx_ok(self) -> bool | None:
        if self.mx is None or self.mx.failed:
            return None
        return any(host == self.expected_mx for _, host in _mx_hosts(self.mx)) if self.mx.records else False

    @property
    def in_use(self) -> bool:
        """Does SES use the custom domain? (A failing one falls back to amazonses.com or rejects.)"""
        return bool(self.domain) and self.status == "SUCCESS"


def inspect_mail_from(deps: Deps, memo: RunMemo, ident: Identity) -> MailFrom:
    out = MailFrom(ident)
    if out.domain:
        out.mx = _dns(deps, memo, out.domain, "MX")
    return out


# --- SPF ----------------------------------------------------------------------------------------------


@dataclass
class Spf:
    """The SPF record of a MAIL FROM domain, evaluated by checkdmarc."""

    domain: str
    txt: Lookup | None = None
    records: list[str] = field(default_factory=list)  # every v=spf1 record found
    record: str | None = None
    dns_lookups: int | None = None
    void_lookups: int | None = None
    all_result: str | None = None  # pass (+all), fail, softfail, neutral
    authorizes_ses: bool = False
    permerror: str | None = None  # why receivers would return permerror
    dns_error: str | None = None  # could not tell
    warnings: list[str] = field(default_factory=list)
    parsed: dict[str, Any] | None = None

    @property
    def valid(self) -> bool:
        """Would SPF pass for SES's servers?"""
        return bool(self.record) and not self.permerror and not self.dns_error and self.authorizes_ses


def _names_ses(parsed: dict[str, Any] | None) -> bool:
    """Whether SES's servers are authorized: include/redirect of amazonses.com, directly or nested."""
    if not parsed:
        return False
    for mech in parsed.get("mechanisms") or []:
        if mech.get("mechanism") == "include" and mech.get("action") == "pass":
            if (mech.get("value") or "").lower() == SES_SPF_DOMAIN or _names_ses(mech.get("parsed")):
                return True
    redirect = parsed.get("redirect") or {}
    return (redirect.get("domain") or "").lower() == SES_SPF_DOMAIN or _names_ses(redirect.get("parsed"))


def _dns_cause(exc: BaseException) -> BaseException | None:
    """The DNS failure behind a checkdmarc error, if that is what it was (a timeout is not 'no record')."""
    seen = exc
    for _ in range(5):
        for candidate in (getattr(seen, "error", None), *getattr(seen, "args", ())):
            if isinstance(candidate, dns.exception.Timeout | dns.resolver.NoNameservers):
                return candidate
        nxt = seen.__cause__ or seen.__context__
        if nxt is None:
            return None
        seen = nxt
    return None


def inspect_spf(deps: Deps, domain: str) -> Spf:
    """Find the SPF record of `domain` and let checkdmarc parse and count it."""
    resolver = deps.resolver
    out = Spf(domain)
    out.txt = lookup(resolver, domain, "TXT")
    if out.txt.failed:
        out.dns_error = out.txt.error
        return out
    # RFC 7208 4.5: records that begin with exactly "v=spf1" followed by a space or the end.
    out.records = [r for r in out.txt.records if r.lower() == "v=spf1" or r.lower().startswith("v=spf1 ")]
    if len(out.records) != 1:
        return out  # none, or several (permerror): said by the findings
    out.record = out.records[0]
    try:
        result = checkdmarc.spf.parse_spf_record(
            out.record,
            domain,
            ignore_too_many_lookups=True,
            resolver=resolver,
            nameservers=list(resolver.nameservers),
            timeout=deps.settings.dns_timeout,
            retries=0,
        )
    except (checkdmarc.spf.SPFTooManyDNSLookups, checkdmarc.spf.SPFTooManyVoidDNSLookups) as exc:
        # checkdmarc raises the void-lookup limit even with ignore_too_many_lookups (from inside an
        # except clause), so the counts come from the exception; the parse is lost with it.
        out.permerror = str(exc)
        out.dns_lookups = (exc.data or {}).get("dns_lookups")
        out.void_lookups = (exc.data or {}).get("void_dns_lookups")
        out.warnings = list(exc.warnings or [])
        return out
    except checkdmarc.spf.SPFError as exc:
        cause = _dns_cause(exc)
        if cause is not None:
            out.dns_error = f"{dns_error_text(cause, resolver.lifetime)} while following {exc.args[0]!s:.120}"
        else:
            out.permerror = str(exc)
        out.warnings = list(getattr(exc, "warnings", []) or [])
        return out
    out.parsed = result.get("parsed")
    out.dns_lookups = result.get("dns_lookups")
    out.void_lookups = result.get("void_dns_lookups")
    out.warnings = list(result.get("warnings") or [])
    out.all_result = (out.parsed or {}).get("all")
    out.authorizes_ses = _names_ses(out.parsed)
    if result.get("error"):
        out.permerror = str(result["error"])
    return out


def _spf(deps: Deps, memo: RunMemo, domain: str) -> Spf:
    return memo.once(("spf", domain), lambda: inspect_spf(deps, domain))


# --- DMARC --------------------------------------------------------------------------------------------


@dataclass
class Dmarc:
    """The DMARC policy that applies to mail From `domain`, parsed by checkdmarc."""

    domain: str
    org: str
    lookups: list[Lookup] = field(default_factory=list)
    location: str | None = None  # the domain whose _dmarc record applies
    record: str | None = None
    multiple: list[str] = field(default_factory=list)
    invalid: str | None = None  # syntax error: receivers ignore the record
    dns_error: str | None = None
    tags: dict[str, Any] = field(default_factory=dict)
    pct: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return bool(self.record) and not self.invalid and not self.multiple and not self.dns_error

    def tag(self, name: str, default: Any = None) -> Any:
        value = (self.tags.get(name) or {}).get("value")
        return default if value is None else value

    @property
    def policy(self) -> str:
        """p for the domain itself; sp when the record was found at the organizational domain."""
        if self.location and self.location != self.domain:
            return self.tag("sp") or self.tag("p", "none")
        return self.tag("p", "none")

    @property
    def adkim(self) -> str:
        return self.tag("adkim", "r")

    @property
    def aspf(self) -> str:
        return self.tag("aspf", "r")

    @property
    def rua(self) -> list[str]:
        value = self.tag("rua") or []
        return [u.get("address", "") if isinstance(u, dict) else str(u) for u in value]

    def describe_policy(self) -> str:
        bits = [f"p={self.tag('p', 'none')}"]
        if (self.tags.get("sp") or {}).get("explicit"):
            bits.append(f"sp={self.tag('sp')}")
        if self.pct is not None:
            bits.append(f"pct={self.pct}")
        bits.append(f"adkim={self.adkim}")
        bits.append(f"aspf={self.aspf}")
        return " ".join(bits)


def _dmarc_records(found: Lookup) -> list[str]:
    return [r for r in found.records if _DMARC_RECORD_RE.match(r.strip())]


def inspect_dmarc(deps: Deps, domain: str) -> Dmarc:
    """Find the DMARC record for mail From `domain` (the domain, then its organizational domain)."""
    out = Dmarc(domain, org_domain(domain))
    names = [domain] if out.org == domain else [domain, out.org]
    for name in names:
        found = lookup(deps.resolver, f"_dmarc.{name}", "TXT")
        out.lookups.append(found)
        if found.failed:
            out.dns_error = f"_dmarc.{name}: {found.error}"
            return out
        records = _dmarc_records(found)
        if len(records) > 1:
            out.location, out.multiple = name, records
            return out
        if records:
            out.location, out.record = name, records[0].strip()
            break
    if not out.record:
        return out
    pct = _DMARC_PCT_RE.search(out.record)
    out.pct = pct.group(1).strip() if pct else None  # RFC 9989 dropped pct, so checkdmarc does not keep it
    report_resolver = make_resolver(deps.settings)
    report_resolver.lifetime = min(deps.settings.dns_timeout, DMARC_REPORT_LIFETIME)
    report_resolver.timeout = report_resolver.lifetime
    try:
        parsed = checkdmarc.dmarc.parse_dmarc_record(
            out.record,
            out.location,
            resolver=report_resolver,
            nameservers=list(report_resolver.nameservers),
            timeout=report_resolver.lifetime,
            retries=0,
            ignore_unrelated_records=True,
        )
    except checkdmarc.dmarc.DMARCError as exc:
        out.invalid = str(exc)
        return out
    out.tags = parsed.get("tags") or {}
    out.warnings = list(parsed.get("warnings") or [])
    return out


def _dmarc(deps: Deps, memo: RunMemo, domain: str) -> Dmarc:
    return memo.once(("dmarc", domain), lambda: inspect_dmarc(deps, domain))


# --- one region, all of it ----------------------------------------------------------------------------


@dataclass
class RegionAuth:
    """Everything that decides how SES mail From `domain` sent in `region` authenticates."""

    region: str | None
    domain: str
    identity: Identity
    dkim: Dkim
    mail_from: MailFrom
    spf: Spf | None  # of the custom MAIL FROM domain; None with the default MAIL FROM

    @property
    def dkim_aligned(self) -> bool:
        return self.dkim.d_domain != SES_SPF_DOMAIN

    def spf_ok(self) -> bool:
        return self.mail_from.in_use and self.spf is not None and self.spf.valid


def inspect_region(deps: Deps, memo: RunMemo, region: str | None, domain: str) -> RegionAuth:
    """The identity first (one API call), then its DKIM records, MAIL FROM MX and SPF at once."""
    ident = _identity(deps, memo, region, domain)
    mf_domain = ident.mail_from_domain
    jobs: dict[str, Callable[[], Any]] = {
        "dkim": lambda: memo.once(("dkim", region, domain), lambda: inspect_dkim(deps, memo, ident)),
        "mail_from": lambda: inspect_mail_from(deps, memo, ident),
    }
    if mf_domain:
        jobs["spf"] = lambda: _spf(deps, memo, mf_domain)
    done = _parallel(jobs)
    return RegionAuth(region, domain, ident, done["dkim"], done["mail_from"], done.get("spf"))


# --- judging: the same verdicts for both reports ------------------------------------------------------


@dataclass
class Issue:
    """One verdict about one part; several become one finding (`to_finding`)."""

    severity: Severity
    summary: str
    fix: str = ""
    unchecked: bool = False  # "could not check" rather than a real problem

    @property
    def is_problem(self) -> bool:
        return self.severity >= Severity.WARNING and not self.unchecked


def identity_issues(ident: Identity) -> list[Issue]:
    region = ident.region or "the configured region"
    if ident.error:
        return [Issue(Severity.WARNING, f"could not read the SES identity: {ident.error}", unchecked=True)]
    if not ident.found:
        return [
            Issue(
                Severity.ERROR,
                f"{ident.domain} is not an SES identity in {region} (nor is a parent domain): SES refuses to "
                "send from it unless each address is verified, and cannot DKIM-sign as the domain",
                f"Create and verify the domain identity in {region} (SES console > Verified identities). "
                + DOC_IDENTITY,
            )
        ]
    cover = f" (through the parent identity {ident.name})" if ident.inherited else ""
    if ident.verified and ident.status == "SUCCESS":
        return [Issue(Severity.OK, f"{ident.domain} is verified for sending in {region}{cover}")]
    err = ident.error_type
    why = f": {err} — {VERIFICATION_ERRORS.get(err, 'see the SES console')}" if err else ""
    sev = Severity.WARNING if ident.status in ("PENDING", "TEMPORARY_FAILURE") else Severity.ERROR
    if ident.status == "PENDING":
        what = "is waiting for verification (SES has not found the DNS records yet)"
    elif ident.status == "NOT_STARTED":
        what = "has not started verification"
    else:
        what = f"failed verification ({ident.status})"
    return [
        Issue(
            sev,
            f"identity {ident.name} in {region} {what}{why}{cover}; mail from {ident.domain} is not sent",
            "Publish the identity's DKIM CNAME records exactly as SES lists them, then wait for SES to "
            f"re-check (up to 72 hours). {DOC_VERIFY_TROUBLE}",
        )
    ]


def dkim_issues(dkim: Dkim) -> list[Issue]:
    ident = dkim.identity
    region = ident.region or "the configured region"
    if ident.error:
        return [Issue(Severity.WARNING, f"could not read DKIM settings: {ident.error}", unchecked=True)]
    if not ident.found:
        return [
            Issue(
                Severity.WARNING,
                f"no domain identity for {ident.domain} in {region}: SES signs its mail with "
                "d=amazonses.com only, which cannot align with the From domain",
                f"Verify the domain in SES with Easy DKIM. {DOC_DKIM}",
            )
        ]
    issues: list[Issue] = []
    fix_records = (
        f"Publish each CNAME exactly as the SES console lists it for {ident.name} in {region}; SES "
        f"re-checks within 72 hours. {DOC_DKIM}"
    )
    broken = dkim.broken_records
    if broken:
        names = "; ".join(r.describe() for r in broken)
        issues.append(
            Issue(
                Severity.ERROR,
                f"{len(broken)} of {len(dkim.records)} DKIM record(s) of {ident.name} are wrong: {names}",
                fix_records,
            )
        )
    unchecked = dkim.unchecked_records
    if unchecked:
        errors = "; ".join(sorted({r.found.error or "lookup failed" for r in unchecked}))
        names = unchecked[0].name if len(unchecked) == 1 else f"{len(unchecked)} DKIM records of {ident.name}"
        issues.append(Issue(Severity.WARNING, f"could not look up {names}: {errors}", unchecked=True))
    if not dkim.signing_enabled:
        issues.append(
            Issue(
                Severity.WARNING,
                f"DKIM signing is turned off for {ident.name} in {region}: mail is signed as amazonses.com",
                f"Enable DKIM signing on the identity (SES console > identity > Authentication). {DOC_DKIM}",
            )
        )
    elif dkim.status != "SUCCESS":
        sev = Severity.ERROR if dkim.status == "FAILED" else Severity.WARNING
        issues.append(
            Issue(
                sev,
                f"DKIM status of {ident.name} in {region} is {dkim.status}: SES does not sign with it yet",
                fix_records,
            )
        )
    elif not dkim.records:
        issues.append(Issue(Severity.WARNING, f"SES lists no DKIM tokens for {ident.name} in {region}"))
    if not issues:
        inherited = f" (parent identity of {ident.domain})" if ident.inherited else ""
        issues.append(
            Issue(
                Severity.OK,
                f"DKIM signs as d={ident.name}{inherited} in {region}; all {len(dkim.records)} record(s) correct",
            )
        )
    return issues


def mail_from_issues(mf: MailFrom) -> list[Issue]:
    ident = mf.identity
    region = ident.region or "the configured region"
    if ident.error or not ident.found:
        return []  # said by the identity/DKIM verdicts
    if not mf.domain:
        # SES's default: nothing to publish, nothing broken; what it costs (no SPF alignment) is said by
        # domain.spf and by the DMARC verdict when it matters.
        return [
            Issue(
                Severity.OK,
                f"default MAIL FROM (a subdomain of amazonses.com) in {region}: nothing to publish; SPF "
                f"cannot align with {ident.domain}",
            )
        ]
    issues: list[Issue] = []
    mx_fix = (
        f'Publish `{mf.domain} MX 10 {mf.expected_mx}` and `{mf.domain} TXT "v=spf1 include:amazonses.com '
        f'~all"`. {DOC_MAIL_FROM}'
    )
    rejecting = mf.behavior == "REJECT_MESSAGE"
    consequence = (
        "SES rejects sends (MailFromDomainNotVerified) because the identity is set to REJECT_MESSAGE"
        if rejecting
        else "SES falls back to amazonses.com, so SPF cannot align"
    )
    if mf.mx is not None and mf.mx.failed:
        issues.append(Issue(Severity.WARNING, f"could not look up MX of {mf.domain}: {mf.mx.error}", unchecked=True))
    elif mf.mx_ok is False and mf.mx is not None:
        found = ", ".join(mf.mx.records) if mf.mx.records else mf.mx.outcome.upper()
        sev = Severity.ERROR if rejecting else Severity.WARNING
        issues.append(
            Issue(
                sev,
                f"MAIL FROM domain {mf.domain} has no MX {mf.expected_mx} (found: {found}); when SES "
                f"notices, {consequence}",
                mx_fix,
            )
        )
    if mf.status != "SUCCESS":
        if mf.status == "PENDING":
            sev = Severity.WARNING
        else:
            sev = Severity.CRITICAL if rejecting else Severity.WARNING
        issues.append(Issue(sev, f"custom MAIL FROM {mf.domain} in {region} is {mf.status}: {consequence}", mx_fix))
    if not issues:
        issues.append(Issue(Severity.OK, f"custom MAIL FROM {mf.domain} in {region} is SUCCESS, MX {mf.expected_mx}"))
    return issues


def spf_issues(spf: Spf) -> list[Issue]:
    d = spf.domain
    fix = f'Publish exactly one TXT record at {d}: "v=spf1 include:amazonses.com ~all". {DOC_SPF}'
    if spf.dns_error:
        return [Issue(Severity.WARNING, f"could not look up the SPF of {d}: {spf.dns_error}", unchecked=True)]
    if spf.txt is not None and spf.txt.outcome == "nxdomain":
        return [Issue(Severity.ERROR, f"{d} does not exist in DNS, so it has no SPF record", fix)]
    if not spf.records:
        return [Issue(Severity.ERROR, f"{d} has no SPF record: SPF gives none for SES's mail", fix)]
    if len(spf.records) > 1:
        return [
            Issue(
                Severity.ERROR,
                f"{d} has {len(spf.records)} SPF records: receivers return permerror (RFC 7208 4.5)",
                f"Merge them into one record that includes amazonses.com. {DOC_SPF}",
            )
        ]
    issues: list[Issue] = []
    if spf.permerror:
        if spf.void_lookups is not None and spf.void_lookups > 2:
            issues.append(
                Issue(
                    Severity.WARNING,
                    f"SPF of {d} makes {spf.void_lookups} void DNS lookups (more than 2): receivers may "
                    "return permerror",
                    "Remove the include/a/mx terms that point at names without records. " + DOC_SPF,
                )
            )
        elif spf.dns_lookups is not None and spf.dns_lookups > 10:
            issues.append(
                Issue(
                    Severity.ERROR,
                    f"SPF of {d} needs {spf.dns_lookups} DNS lookups, over the limit of 10: receivers return permerror",
                    "Remove or flatten includes so the record needs at most 10 lookups. " + DOC_SPF,
                )
            )
        else:
            issues.append(Issue(Severity.ERROR, f"SPF of {d} is broken (permerror): {spf.permerror}", fix))
    if not spf.authorizes_ses and not spf.permerror:
        issues.append(Issue(Severity.ERROR, f"SPF of {d} does not include amazonses.com: SES's servers fail SPF", fix))
    if spf.all_result == "pass":
        issues.append(
            Issue(
                Severity.WARNING,
                f"SPF of {d} ends in +all: it authorizes every server on the internet, and filters distrust it",
                "End the record with ~all or -all. " + DOC_SPF,
            )
        )
    if spf.void_lookups is not None and spf.void_lookups == 2 and not spf.permerror:
        issues.append(
            Issue(
                Severity.INFO,
                f"SPF of {d} makes 2 void DNS lookups, the most receivers allow",
                "Remove terms that point at names without records. " + DOC_SPF,
            )
        )
    if not issues:
        issues.append(
            Issue(
                Severity.OK,
                f"SPF of {d} includes amazonses.com, {spf.dns_lookups} of 10 DNS lookups, "
                f"ends in {spf.all_result or 'neutral'}",
            )
        )
    return issues


def dmarc_issues(dmarc: Dmarc, regions: list[RegionAuth]) -> list[Issue]:
    """The DMARC record, and whether SES mail from each region passes it with alignment."""
    d = dmarc.domain
    fix_add = (
        f'Publish a TXT record at _dmarc.{dmarc.org}, e.g. "v=DMARC1; p=none; rua=mailto:dmarc@{dmarc.org}", '
        f"then tighten the policy once reports show SES mail aligned. {DOC_DMARC}"
    )
    if dmarc.dns_error:
        return [Issue(Severity.WARNING, f"could not look up DMARC: {dmarc.dns_error}", unchecked=True)]
    if dmarc.multiple:
        return [
            Issue(
                Severity.WARNING,
                f"_dmarc.{dmarc.location} has {len(dmarc.multiple)} DMARC records: receivers ignore them all",
                f"Keep exactly one DMARC record. {DOC_DMARC}",
            )
        ]
    if not dmarc.record:
        where = f"_dmarc.{d}" + (f" nor _dmarc.{dmarc.org}" if dmarc.org != d else "")
        return [
            Issue(
                Severity.WARNING,
                f"no DMARC record at {where}: Gmail and Yahoo require one from bulk senders, and mail "
                "without it is more likely to be filtered",
                fix_add,
            )
        ]
    if dmarc.invalid:
        return [
            Issue(
                Severity.WARNING,
                f"the DMARC record at _dmarc.{dmarc.location} is invalid, so receivers ignore it: {dmarc.invalid}",
                f"Fix the record's syntax. {DOC_DMARC}",
            )
        ]
    policy = dmarc.policy
    issues: list[Issue] = []
    for ra in regions:
        if ra.identity.error:
            issues.append(
                Issue(Severity.WARNING, f"could not tell DMARC alignment: {ra.identity.error}", unchecked=True)
            )
            continue
        where = f" in {ra.region}" if ra.region else ""
        via = aligned_via(ra, dmarc)
        if via:
            issues.append(Issue(Severity.OK, f"SES mail{where} passes DMARC aligned via {' and '.join(via)}"))
            continue
        reasons = [_why_dkim_fails(ra, d, dmarc.adkim), _why_spf_fails(ra, d, dmarc.aspf)]
        sev = {"reject": Severity.CRITICAL, "quarantine": Severity.ERROR}.get(policy, Severity.WARNING)
        effect = {
            "reject": "receivers reject it",
            "quarantine": "receivers put it in the spam folder",
        }.get(policy, "it fails DMARC (p=none: delivered, but filters count it against you)")
        issues.append(
            Issue(
                sev,
                f"DMARC p={policy} for {d} and no SES mail{where} passes with alignment "
                f"({'; '.join(reasons)}): "
                f"{effect}",
                _alignment_fix(ra, d, dmarc),
            )
        )
    if policy == "none" and not any(i.is_problem for i in issues):
        issues.append(
            Issue(
                Severity.INFO,
                f"DMARC policy for {d} is p=none: monitoring only, receivers do not act on failures",
                f"Move to p=quarantine, then p=reject, once reports show all your mail aligned. {DOC_DMARC}",
            )
        )
    if dmarc.pct not in (None, "100"):
        issues.append(Issue(Severity.INFO, f"DMARC pct={dmarc.pct}: the policy applies to part of the mail only"))
    if not dmarc.rua:
        issues.append(
            Issue(
                Severity.INFO,
                "the DMARC record has no rua=: nobody receives aggregate reports about failures",
                f"Add rua=mailto:dmarc@{dmarc.org}. {DOC_DMARC}",
            )
        )
    return issues


def aligned_via(ra: RegionAuth, dmarc: Dmarc) -> list[str]:
    """What makes SES mail from this region pass DMARC: DKIM and/or SPF that both pass and align."""
    via = []
    if ra.dkim.passes and aligned(ra.dkim.d_domain, dmarc.domain, dmarc.adkim):
        via.append(f"DKIM d={ra.dkim.d_domain}")
    if ra.spf_ok() and aligned(ra.mail_from.domain or "", dmarc.domain, dmarc.aspf):
        via.append(f"SPF {ra.mail_from.domain}")
    return via


def _why_dkim_fails(ra: RegionAuth, from_domain: str, adkim: str) -> str:
    dkim = ra.dkim
    if not ra.identity.found:
        return "DKIM: signed as amazonses.com (no domain identity)"
    if not dkim.signing_enabled:
        return "DKIM: signing is off, signed as amazonses.com"
    if dkim.status != "SUCCESS":
        return f"DKIM: status {dkim.status}"
    if dkim.broken_records:
        return f"DKIM: {len(dkim.broken_records)} CNAME record(s) missing or wrong"
    if not aligned(dkim.d_domain, from_domain, adkim):
        mode = "strict (adkim=s)" if adkim == "s" else "relaxed"
        return f"DKIM: d={dkim.d_domain} does not align with {from_domain} under {mode} alignment"
    return "DKIM: not verified"


def _why_spf_fails(ra: RegionAuth, from_domain: str, aspf: str) -> str:
    mf = ra.mail_from
    if not mf.domain:
        return "SPF: default MAIL FROM amazonses.com cannot align"
    if mf.status != "SUCCESS":
        return f"SPF: custom MAIL FROM {mf.domain} is {mf.status}, SES uses amazonses.com"
    if ra.spf is None or not ra.spf.valid:
        return f"SPF: the SPF record of {mf.domain} does not pass for SES"
    if not aligned(mf.domain, from_domain, aspf):
        mode = "strict (aspf=s)" if aspf == "s" else "relaxed"
        return f"SPF: {mf.domain} does not align with {from_domain} under {mode} alignment"
    return "SPF: not verified"


def _alignment_fix(ra: RegionAuth, from_domain: str, dmarc: Dmarc) -> str:
    if not ra.identity.found:
        return f"Verify {from_domain} (or {org_domain(from_domain)}) in SES with Easy DKIM. {DOC_DKIM}"
    if ra.dkim.passes and not aligned(ra.dkim.d_domain, from_domain, dmarc.adkim):
        return (
            f"Verify {from_domain} itself in SES with Easy DKIM (strict alignment needs d={from_domain}), or "
            f"relax the DMARC record to adkim=r. {DOC_DMARC}"
        )
    return (
        f"Make DKIM pass: publish the identity's DKIM CNAMEs and wait for status SUCCESS; a custom MAIL FROM "
        f"in the same organizational domain adds SPF alignment. {DOC_DKIM}"
    )


def _sentence(text: str) -> str:
    """Capitalize a summary unless it starts with a name (a domain or an address keeps its case)."""
    first = text.split(" ", 1)[0]
    return text if "." in first or "@" in first else text[:1].upper() + text[1:]


def to_finding(
    check_id: str,
    issues: list[Issue],
    evidence: list[str],
    data: dict[str, Any],
    ok_summary: str | None = None,
) -> Finding:
    """Many issues, one finding: the worst names the summary (or `ok_summary` when nothing is wrong);
    every problem's fix is kept, worst first; the rest goes to the evidence."""
    real = [i for i in issues if not i.unchecked]
    unchecked = [i for i in issues if i.unchecked]
    if unchecked and not any(i.is_problem for i in real):
        # A part could not be looked at and nothing else is wrong: an "all fine" would be a guess.
        finding = could_not_check(check_id, "; ".join(i.summary for i in unchecked))
        finding.evidence = [f"{i.severity.label}: {i.summary}" for i in real if i.severity > Severity.OK]
        finding.evidence += evidence
        finding.data = {**data, "could_not_check": True}
        return finding
    ranked = sorted(real or [Issue(Severity.OK, "nothing to report")], key=lambda i: -int(i.severity))
    worst = ranked[0]
    problems = [i for i in ranked if i.is_problem]
    if ok_summary and not problems:
        ranked = [Issue(worst.severity, ok_summary), *ranked]
        worst = ranked[0]
    summary = _sentence(worst.summary)
    if len(problems) > 1:
        summary += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    fixes: list[str] = []
    for i in problems or ranked:
        if i.fix and i.fix not in fixes:
            fixes.append(i.fix)
    unchecked_lines = [f"could not check: {i.summary}" for i in unchecked]
    # The other verdicts, minus the OK ones: those only restate the evidence below.
    others = [f"{i.severity.label}: {i.summary}" for i in ranked[1:] if i.severity > Severity.OK]
    return Finding(
        check=check_id,
        severity=worst.severity,
        summary=summary,
        evidence=others + unchecked_lines + evidence,
        fix=" ".join(fixes),
        data=data,
    )


# --- evidence and data --------------------------------------------------------------------------------


def _identity_evidence(ident: Identity) -> list[str]:
    if ident.error:
        return [f"GetEmailIdentity: {ident.error}"]
    if not ident.found:
        return [f"GetEmailIdentity {', '.join(parent_domains(ident.domain))}: NotFoundException"]
    line = f"identity {ident.name}: VerificationStatus={ident.status}, VerifiedForSendingStatus={ident.verified}"
    if ident.error_type:
        line += f", ErrorType={ident.error_type}"
    return [line]


def _dkim_evidence(dkim: Dkim) -> list[str]:
    if not dkim.identity.found:
        return []
    lines = [
        f"DKIM: SigningEnabled={dkim.signing_enabled}, Status={dkim.status}, origin={dkim.origin}, d={dkim.d_domain}"
    ]
    lines += [f"DKIM record {r.describe()}" for r in dkim.records]
    return lines


def _mail_from_evidence(mf: MailFrom) -> list[str]:
    if not mf.identity.found:
        return []
    if not mf.domain:
        return ["MAIL FROM: default (amazonses.com)"]
    lines = [f"MAIL FROM: {mf.domain}, status {mf.status}, BehaviorOnMxFailure={mf.behavior}"]
    if mf.mx is not None:
        lines.append(mf.mx.describe())
    return lines


def _spf_evidence(spf: Spf) -> list[str]:
    if spf.txt is None:
        return []
    lines = []
    if spf.records:
        lines += [f"SPF {spf.domain}: {r}" for r in spf.records]
    else:
        lines.append(spf.txt.describe() if spf.txt.outcome != "answer" else f"SPF {spf.domain}: no v=spf1 record")
    if spf.dns_lookups is not None:
        lines.append(f"SPF {spf.domain}: {spf.dns_lookups} DNS lookup(s), {spf.void_lookups} void")
    lines += [f"SPF note: {w}" for w in spf.warnings[:5]]
    return lines


def _dmarc_evidence(dmarc: Dmarc) -> list[str]:
    lines = [f.describe() for f in dmarc.lookups if not (dmarc.record and f.outcome == "answer")]
    if dmarc.record:
        lines.append(f"DMARC _dmarc.{dmarc.location}: {dmarc.record}")
        if not dmarc.invalid:
            lines.append(f"DMARC policy for {dmarc.domain}: {dmarc.describe_policy()} (applies: p={dmarc.policy})")
    lines += [f"DMARC note: {w}" for w in dmarc.warnings[:5]]
    return lines


def _spf_data(spf: Spf | None) -> dict[str, Any] | None:
    if spf is None:
        return None
    return {
        "domain": spf.domain,
        "records": spf.records,
        "dns_lookups": spf.dns_lookups,
        "void_lookups": spf.void_lookups,
        "all": spf.all_result,
        "includes_amazonses": spf.authorizes_ses,
        "permerror": spf.permerror,
        "dns_error": spf.dns_error,
    }


def _dmarc_data(dmarc: Dmarc) -> dict[str, Any]:
    return {
        "domain": dmarc.domain,
        "org_domain": dmarc.org,
        "location": dmarc.location,
        "record": dmarc.record,
        "policy": dmarc.policy if dmarc.usable else None,
        "p": dmarc.tag("p") if dmarc.usable else None,
        "sp": dmarc.tag("sp") if dmarc.usable else None,
        "pct": dmarc.pct,
        "adkim": dmarc.adkim if dmarc.usable else None,
        "aspf": dmarc.aspf if dmarc.usable else None,
        "rua": dmarc.rua if dmarc.usable else [],
        "invalid": dmarc.invalid,
        "multiple": len(dmarc.multiple) or None,
        "dns_error": dmarc.dns_error,
    }


def _region_data(ra: RegionAuth) -> dict[str, Any]:
    return {
        "region": ra.region,
        "identity": ra.identity.name,
        "verified": ra.identity.verified if ra.identity.found else None,
        "dkim": {
            "status": ra.dkim.status if ra.identity.found else None,
            "signing_enabled": ra.dkim.signing_enabled if ra.identity.found else None,
            "d": ra.dkim.d_domain,
            "passes": ra.dkim.passes,
            "records": [{"name": r.name, "expected": r.expected, "state": r.state} for r in ra.dkim.records],
        },
        "mail_from": {
            "domain": ra.mail_from.domain,
            "status": ra.mail_from.status,
            "behavior_on_mx_failure": ra.mail_from.behavior if ra.mail_from.domain else None,
            "mx_ok": ra.mail_from.mx_ok,
        },
    }


# --- the why suite ------------------------------------------------------------------------------------


@check("sender.authentication", per_region=True)
def sender_authentication(ctx: CheckContext) -> Finding:
    """What SES mail from the configured sender looks like to a receiver's SPF/DKIM/DMARC checks."""
    domain = ctx.settings.sender_domain
    if not domain:
        return Finding(
            "sender.authentication",
            Severity.INFO,
            "Sender authentication not checked: no sender is configured",
            fix="Set SESBOT_SENDER to the From address (or domain) your mail uses.",
        )
    memo = _memo(ctx)
    # DMARC does not depend on the identity: look it up while the identity and its records are read.
    done = _parallel(
        {
            "dmarc": lambda: _dmarc(ctx.deps, memo, domain),
            "region": lambda: inspect_region(ctx.deps, memo, ctx.region, domain),
        }
    )
    dmarc: Dmarc = done["dmarc"]
    ra: RegionAuth = done["region"]
    if ra.identity.error:
        # Without the identity, alignment is unknown; the DMARC record itself can still be judged.
        issues = [Issue(Severity.WARNING, f"could not read the SES identity: {ra.identity.error}", unchecked=True)]
        issues += dmarc_issues(dmarc, [])
    else:
        issues = dkim_issues(ra.dkim) + mail_from_issues(ra.mail_from)
        if ra.spf is not None and ra.mail_from.status == "SUCCESS":
            issues += spf_issues(ra.spf)
        issues += dmarc_issues(dmarc, [ra])
    # The identity's own verification belongs to sender.identity; here only what receivers see.
    evidence = (
        _identity_evidence(ra.identity)
        + _dkim_evidence(ra.dkim)
        + _mail_from_evidence(ra.mail_from)
        + (_spf_evidence(ra.spf) if ra.spf else [])
        + _dmarc_evidence(dmarc)
    )
    via = aligned_via(ra, dmarc) if dmarc.usable else []
    ok_summary = (
        f"Mail from {domain} passes DMARC ({dmarc.describe_policy()}) aligned via {' and '.join(via)}" if via else None
    )
    data = {"domain": domain, **_region_data(ra), "spf": _spf_data(ra.spf), "dmarc": _dmarc_data(dmarc)}
    return to_finding("sender.authentication", issues, evidence, data, ok_summary=ok_summary)


# --- the domain suite ---------------------------------------------------------------------------------


def _target_domain(ctx: CheckContext) -> str:
    return ctx.target.rpartition("@")[2].lower().rstrip(".")


def _regions(ctx: CheckContext) -> list[str | None]:
    return list(ctx.settings.regions) or [None]


def _all_regions(ctx: CheckContext, memo: RunMemo, domain: str) -> list[RegionAuth]:
    regions = _regions(ctx)
    done = _parallel({str(r): (lambda r=r: inspect_region(ctx.deps, memo, r, domain)) for r in regions})
    return [done[str(r)] for r in regions]


@check("domain.identity", per_region=True, suite="domain")
def domain_identity(ctx: CheckContext) -> Finding:
    """Is the domain (or a parent domain) a verified SES identity in this region?"""
    domain = _target_domain(ctx)
    ident = _identity(ctx.deps, _memo(ctx), ctx.region, domain)
    if ident.error:
        return could_not_check("domain.identity", f"GetEmailIdentity failed: {ident.error}", ctx.region)
    data = {
        "domain": domain,
        "identity": ident.name,
        "verification_status": ident.status if ident.found else None,
        "verified_for_sending": ident.verified if ident.found else None,
        "error_type": ident.error_type,
    }
    return to_finding("domain.identity", identity_issues(ident), _identity_evidence(ident), data)


@check("domain.dkim", per_region=True, suite="domain")
def domain_dkim(ctx: CheckContext) -> Finding:
    """Easy DKIM: signing on, status SUCCESS, and each token's CNAME pointing at SES."""
    domain = _target_domain(ctx)
    memo = _memo(ctx)
    ident = _identity(ctx.deps, memo, ctx.region, domain)
    if ident.error:
        return could_not_check("domain.dkim", f"GetEmailIdentity failed: {ident.error}", ctx.region)
    dkim = memo.once(("dkim", ctx.region, domain), lambda: inspect_dkim(ctx.deps, memo, ident))
    data = {
        "domain": domain,
        "identity": ident.name,
        "status": dkim.status if ident.found else None,
        "signing_enabled": dkim.signing_enabled if ident.found else None,
        "origin": dkim.origin if ident.found else None,
        "d": dkim.d_domain,
        "records": [
            {"name": r.name, "expected": r.expected, "state": r.state, "found": r.found.records} for r in dkim.records
        ],
    }
    return to_finding("domain.dkim", dkim_issues(dkim), _dkim_evidence(dkim), data)


@check("domain.mail_from", per_region=True, suite="domain")
def domain_mail_from(ctx: CheckContext) -> Finding | None:
    """Custom MAIL FROM: status, behaviour on MX failure, and MX feedback-smtp.<region>.amazonses.com."""
    domain = _target_domain(ctx)
    memo = _memo(ctx)
    ident = _identity(ctx.deps, memo, ctx.region, domain)
    if ident.error:
        return could_not_check("domain.mail_from", f"GetEmailIdentity failed: {ident.error}", ctx.region)
    if not ident.found:
        return None  # domain.identity says it; there is no MAIL FROM without an identity
    mf = inspect_mail_from(ctx.deps, memo, ident)
    data = {
        "domain": mf.domain,
        "status": mf.status,
        "behavior_on_mx_failure": mf.behavior if mf.domain else None,
        "expected_mx": mf.expected_mx if mf.domain else None,
        "mx": mf.mx.records if mf.mx else None,
        "mx_ok": mf.mx_ok,
    }
    return to_finding("domain.mail_from", mail_from_issues(mf), _mail_from_evidence(mf), data)


@check("domain.spf", suite="domain")
def domain_spf(ctx: CheckContext) -> Finding:
    """SPF of each region's MAIL FROM domain, or why SPF cannot align with the default MAIL FROM."""
    domain = _target_domain(ctx)
    memo = _memo(ctx)
    regions = _all_regions(ctx, memo, domain)
    unread = [ra for ra in regions if ra.identity.error]
    custom = sorted({ra.mail_from.domain for ra in regions if ra.mail_from.domain})
    issues: list[Issue] = []
    evidence: list[str] = []
    for ra in unread:
        issues.append(
            Issue(
                Severity.WARNING,
                f"could not read the identity in {ra.region}: {ra.identity.error}",
                unchecked=True,
            )
        )
    spfs = [_spf(ctx.deps, memo, d) for d in custom]
    for spf in spfs:
        issues += spf_issues(spf)
        evidence += _spf_evidence(spf)
    default_regions = [str(ra.region) for ra in regions if not ra.identity.error and not ra.mail_from.domain]
    if default_regions:
        issues.append(
            Issue(
                Severity.INFO,
                f"default MAIL FROM in {', '.join(default_regions)}: SES's own amazonses.com SPF applies and "
                f"passes, but cannot align with {domain}",
                f"For SPF alignment, set a custom MAIL FROM subdomain of {domain}. {DOC_MAIL_FROM}",
            )
        )
    data = {"domain": domain, "mail_from_domains": custom, "spf": [_spf_data(s) for s in spfs]}
    return to_finding("domain.spf", issues, evidence, data)


@check("domain.dmarc", suite="domain")
def domain_dmarc(ctx: CheckContext) -> Finding:
    """DMARC record and policy, and whether SES mail from each region aligns."""
    domain = _target_domain(ctx)
    memo = _memo(ctx)
    done = _parallel(
        {"dmarc": lambda: _dmarc(ctx.deps, memo, domain), "regions": lambda: _all_regions(ctx, memo, domain)}
    )
    dmarc: Dmarc = done["dmarc"]
    regions: list[RegionAuth] = done["regions"]
    issues = dmarc_issues(dmarc, regions)
    vias = [aligned_via(ra, dmarc) for ra in regions] if dmarc.usable else []
    ok_summary = None
    if vias and all(vias):
        ways = sorted({" and ".join(v) for v in vias})
        ok_summary = (
            f"DMARC {dmarc.describe_policy()} at _dmarc.{dmarc.location}; SES mail passes aligned via "
            + "; ".join(ways)
        )
    evidence = _dmarc_evidence(dmarc)
    for ra in regions:
        where = f"{ra.region}: " if ra.region else ""
        if not ra.identity.error:
            evidence.append(
                f"{where}DKIM d={ra.dkim.d_domain} ({'passes' if ra.dkim.passes else 'does not pass'}); "
                f"MAIL FROM {ra.mail_from.domain or 'amazonses.com (default)'}"
            )
    data = {"domain": domain, "dmarc": _dmarc_data(dmarc), "regions": [_region_data(ra) for ra in regions]}
    return to_finding("domain.dmarc", issues, evidence, data, ok_summary=ok_summary)


@check("domain.mx", suite="domain")
def domain_mx(ctx: CheckContext) -> Finding:
    """Can the domain itself receive mail (replies, bounces to it)? MX, null MX, or implicit MX."""
    domain = _target_domain(ctx)
    memo = _memo(ctx)
    mx = _dns(ctx.deps, memo, domain, "MX")
    evidence = [mx.describe()]
    data: dict[str, Any] = {"domain": domain, "mx": mx.records, "outcome": mx.outcome}
    if mx.failed:
        return could_not_check("domain.mx", f"MX lookup for {domain}: {mx.error}")
    if mx.outcome == "nxdomain":
        issues = [
            Issue(
                Severity.ERROR,
                f"{domain} does not exist in DNS: receivers reject mail from domains that do not exist",
                "Check the spelling, or register and publish the domain.",
            )
        ]
        return to_finding("domain.mx", issues, evidence, data)
    hosts = _mx_hosts(mx) if mx.outcome == "answer" else []
    if hosts and all(host in ("", ".") for _, host in hosts):
        issues = [
            Issue(
                Severity.WARNING,
                f"{domain} publishes a null MX (RFC 7505): it accepts no mail, so replies bounce, and "
                "receivers "
                "may reject or distrust mail from a domain that cannot receive any",
                f"Publish real MX records for {domain} if people reply to this mail; otherwise send from a "
                "domain that can receive mail.",
            )
        ]
        data["null_mx"] = True
        return to_finding("domain.mx", issues, evidence, data)
    if hosts:
        listed = ", ".join(f"{h} ({p})" for p, h in hosts)
        return to_finding("domain.mx", [Issue(Severity.OK, f"{domain} receives mail at {listed}")], evidence, data)
    a = _parallel(
        {"A": lambda: _dns(ctx.deps, memo, domain, "A"), "AAAA": lambda: _dns(ctx.deps, memo, domain, "AAAA")}
    )
    evidence += [a["A"].describe(), a["AAAA"].describe()]
    if a["A"].failed and a["AAAA"].failed:
        return could_not_check("domain.mx", f"address lookup for {domain}: {a['A'].error}")
    addresses = a["A"].records + a["AAAA"].records
    data["addresses"] = addresses
    if addresses:
        issues = [
            Issue(
                Severity.INFO,
                f"{domain} has no MX; mail to it goes to its address record ({', '.join(addresses[:3])})",
                f"Publish an MX record for {domain} if it should receive replies.",
            )
        ]
    else:
        issues = [
            Issue(
                Severity.WARNING,
                f"{domain} has no MX and no address record: it cannot receive mail, so replies bounce and "
                "some "
                "receivers distrust mail from it",
                f"Publish MX records for {domain}.",
            )
        ]
    return to_finding("domain.mx", issues, evidence, data)
