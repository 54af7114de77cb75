"""SPF of a MAIL FROM domain: finding its record (a TXT lookup that tells a DNS failure from no record;
RFC 7208 4.5 picks the ``v=spf1`` ones), having checkdmarc parse it and count its DNS and void lookups
across include/redirect, asking whether it authorizes SES (an include or redirect of amazonses.com), and
the verdicts: present, exactly one, includes amazonses.com, at most 10 lookups, at most 2 void lookups,
no ``+all``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import checkdmarc.spf
import dns.exception
import dns.resolver

from bot.checks import RunMemo
from bot.checks.authentication.checkdmarc_dns import dns_options
from bot.checks.authentication.domains import SES_DOMAIN
from bot.checks.authentication.issues import Issue
from bot.checks.authentication.lookup import Lookup, dns_error_text, lookup
from bot.deps import Deps
from bot.findings import Severity

DOC_SPF = "https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-spf.html"


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
            if (mech.get("value") or "").lower() == SES_DOMAIN or _names_ses(mech.get("parsed")):
                return True
    redirect = parsed.get("redirect") or {}
    return (redirect.get("domain") or "").lower() == SES_DOMAIN or _names_ses(redirect.get("parsed"))


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
            **dns_options(resolver, deps.settings.dns_timeout),
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


def cached_spf(deps: Deps, memo: RunMemo, domain: str) -> Spf:
    """`inspect_spf`, once per run for `domain`."""
    return memo.once(("spf", domain), lambda: inspect_spf(deps, domain))


def spf_issues(spf: Spf) -> list[Issue]:
    """Would SES's servers pass this SPF record, and is the record sound?"""
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


def spf_evidence(spf: Spf) -> list[str]:
    """The SPF record(s) found, checkdmarc's lookup counts and its first notes."""
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


def spf_data(spf: Spf | None) -> dict[str, Any] | None:
    """The SPF part of a finding's JSON data (None without a custom MAIL FROM)."""
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
