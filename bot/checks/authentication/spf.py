"""SPF of a MAIL FROM domain: finding its record (a TXT lookup that tells a DNS failure from no record;
RFC 7208 4.5 picks the ``v=spf1`` ones), judging its syntax to the letter of RFC 7208 (section 12's
grammar, checked term by term across the whole record, since receivers "detect errors anywhere" (4.6):
text after ``all``, a control or non-ASCII character between terms, a second ``redirect=`` or ``exp=``
are permerrors), having checkdmarc parse it and count its DNS and void lookups across include/redirect
(the records it reaches judged by the same grammar), asking whether it authorizes SES (an include or
redirect of amazonses.com), and the verdicts: present, exactly one, well-formed, includes amazonses.com,
at most 10 lookups, at most 2 void lookups, no ``+all``. A broken record's verdict says what receivers do
with it: permerror, so SPF never passes for SES's mail and DMARC counts SPF as failed."""

from __future__ import annotations

import ipaddress
import re
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
from bot.checks.authentication.spf_prefetch import prefetched
from bot.deps import Deps
from bot.findings import Severity

DOC_SPF = "https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-spf.html"
# What receivers do with a record that gives permerror (RFC 7208 2.6.7; RFC 7489 4.2: only a pass counts).
RECEIVERS_ON_PERMERROR = (
    "Receivers return permerror for it: SPF does not pass for SES's mail, and DMARC counts SPF as failed, so "
    "only an aligned DKIM signature can pass DMARC"
)


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


# --- RFC 7208 section 12, term by term -----------------------------------------------------------------

_MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
_LOOKUP_MECHANISMS = ("include", "a", "mx", "ptr", "exists")  # and redirect=: the terms RFC 7208 4.6.4 counts
_MODIFIER_RE = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*)=(.*)", re.DOTALL)  # name "=" macro-string
_MECHANISM_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_MACRO_EXPAND_RE = re.compile(r"%\{([A-Za-z])(\d*)([rR]?)([.\-+,/_=]*)\}|%[%_-]")
_MACRO_LETTERS = "slodiphv"  # and c, r, t: only in an explanation's text (7.1)
_TOPLABEL_RE = re.compile(r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9]")
_QNUM = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_IP4_RE = re.compile(rf"{_QNUM}\.{_QNUM}\.{_QNUM}\.{_QNUM}")
_IP4_CIDR, _IP6_CIDR = r"0|[1-9][0-9]?", r"0|[1-9][0-9]{0,2}"
_DUAL_CIDR_RE = re.compile(rf"(?:/({_IP4_CIDR}))?(?://({_IP6_CIDR}))?")
_DUAL_CIDR_SUFFIX_RE = re.compile(rf"(?:/(?:{_IP4_CIDR}))?(?://(?:{_IP6_CIDR}))?$")


def _show(text: str) -> str:
    """A term as it can be printed: control and non-ASCII characters as \\xNN of their UTF-8 bytes."""
    return "".join(c if 0x20 < ord(c) < 0x7F else "".join(f"\\x{b:02x}" for b in c.encode()) for c in text)


def _macro_string(text: str) -> tuple[str | None, bool]:
    """RFC 7208 7.1 macro-string: (why it is not one, or None; whether it ends in a macro-expand)."""
    i, ends_in_macro = 0, False
    while i < len(text):
        if text[i] != "%":
            i, ends_in_macro = i + 1, False
            continue
        m = _MACRO_EXPAND_RE.match(text, i)
        if m is None:
            return (
                f"`{_show(text[i : i + 4])}` is not a macro (a % starts %{{...}}, %%, %_ or %-, RFC 7208 §7.1)",
                False,
            )
        letter, digits = (m.group(1) or "").lower(), m.group(2)
        if m.group(1) and letter not in _MACRO_LETTERS:
            where = "only in an explanation's text" if letter in "crt" else "not a macro letter"
            return f"`{m.group(0)}`: {letter} is {where} (RFC 7208 §7.1)", False
        if digits and int(digits) == 0:
            return f"`{m.group(0)}`: the number of labels must not be zero (RFC 7208 §7.3)", False
        i, ends_in_macro = m.end(), True
    return None, ends_in_macro


def _domain_spec(spec: str, term: str) -> str | None:
    """RFC 7208 7.1 domain-spec = macro-string domain-end: why `spec` is not one, or None."""
    if not spec:
        return f"`{term}` names no domain (RFC 7208 §12)"
    error, ends_in_macro = _macro_string(spec)
    if error:
        return error
    if ends_in_macro:
        return None
    _, dot, last = (spec[:-1] if spec.endswith(".") else spec).rpartition(".")
    if not dot or not _TOPLABEL_RE.fullmatch(last):
        return (
            f"`{term}`: a domain must end in a dot and a top-level label (not all digits, no leading or trailing "
            "dash), or in a macro (RFC 7208 §7.1)"
        )
    return None


def _ip(value: str, version: int, term: str) -> str | None:
    address, slash, cidr = value.partition("/")
    if slash and not re.fullmatch(_IP4_CIDR if version == 4 else _IP6_CIDR, cidr):
        return f"`{term}`: /{cidr} is not a prefix length (RFC 7208 §5.6)"
    if slash and int(cidr) > (32 if version == 4 else 128):
        return f"`{term}`: /{cidr} is longer than {32 if version == 4 else 128} bits (RFC 7208 §5.6)"
    if version == 4:
        return None if _IP4_RE.fullmatch(address) else f"{value} is not a valid IPv4 value."
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return f"{value} is not a valid IPv6 value."
    return None if "%" not in address else f"{value} is not a valid IPv6 value."


def _directive(term: str) -> str | None:
    """One directive: [qualifier] mechanism (RFC 7208 §12)."""
    body = term[1:] if term[0] in "+-?~" else term
    m = _MECHANISM_NAME_RE.match(body)
    name = m.group(0).lower() if m else ""
    if name not in _MECHANISMS:
        return (
            f"`{_show(term)}` is not an SPF mechanism or modifier; receivers check the whole record, even after "
            "all (RFC 7208 §4.6, §4.6.1)"
        )
    arg = body[len(name) :]
    if name == "all":
        return None if not arg else f"`{term}`: all takes nothing after it (RFC 7208 §5.1)"
    if name in ("include", "exists"):
        return _domain_spec(arg[1:], term) if arg.startswith(":") else f"`{term}`: {name} needs :domain (RFC 7208 §5)"
    if name in ("ip4", "ip6"):
        if not arg.startswith(":") or len(arg) < 2:
            return f"`{term}`: {name} needs :address (RFC 7208 §5.6)"
        return _ip(arg[1:], 4 if name == "ip4" else 6, term)
    if name == "ptr":
        if not arg:
            return None
        return _domain_spec(arg[1:], term) if arg.startswith(":") else f"`{term}` is not ptr[:domain] (RFC 7208 §5.5)"
    # a and mx: [":" domain-spec] [dual-cidr-length]
    spec, cidr = "", arg
    if arg.startswith(":"):
        suffix = _DUAL_CIDR_SUFFIX_RE.search(arg[1:])
        cut = suffix.start() if suffix else len(arg) - 1
        spec, cidr = arg[1 : 1 + cut], arg[1 + cut :]
        if error := _domain_spec(spec, term):
            return error
    dual = _DUAL_CIDR_RE.fullmatch(cidr)
    if dual is None:
        return f"`{term}`: {cidr} is not a prefix length, /n for IPv4 and //n for IPv6 (RFC 7208 §5.3)"
    if dual.group(1) and int(dual.group(1)) > 32:
        return f"`{term}`: /{dual.group(1)} is longer than 32 bits (RFC 7208 §5.3)"
    if dual.group(2) and int(dual.group(2)) > 128:
        return f"`{term}`: //{dual.group(2)} is longer than 128 bits (RFC 7208 §5.3)"
    return None


def rfc7208_error(record: str) -> str | None:
    """Why `record` (one that starts with v=spf1) breaks RFC 7208's grammar, or None: every term is checked,
    wherever it stands, as receivers must (4.6); terms are separated by spaces only (4.6.1)."""
    terms = [t for t in record.split(" ") if t][1:]  # 1*SP between terms; the first is v=spf1
    seen: dict[str, int] = {}
    for term in terms:
        bad = next((c for c in term if not 0x20 < ord(c) < 0x7F), None)
        if bad is not None:
            if ord(bad) > 0x7F:
                return f"`{_show(term)}` holds a non-ASCII character: SPF records are US-ASCII (RFC 7208 §3.1)"
            return f"`{_show(term)}` holds a control character: terms are separated by spaces only (RFC 7208 §4.6.1)"
        modifier = _MODIFIER_RE.fullmatch(term)
        if modifier is None:
            error = _directive(term)
        elif modifier.group(1).lower() in ("redirect", "exp"):
            name = modifier.group(1).lower()
            seen[name] = seen.get(name, 0) + 1
            error = _domain_spec(modifier.group(2), term)
        else:
            error = _macro_string(modifier.group(2))[0]  # unknown modifiers are ignored, if well-formed (6)
        if error:
            return error
    for name, count in seen.items():
        if count > 1:
            return f"{name}= appears {count} times, and may appear once (RFC 7208 §6)"
    return None


def _reached_records(parsed: dict[str, Any] | None, depth: int = 0) -> list[tuple[str, str, str]]:
    """The records checkdmarc followed: (how it was reached, its domain, the record), nested first-come."""
    out: list[tuple[str, str, str]] = []
    if not parsed or depth > 10:
        return out
    for mech in parsed.get("mechanisms") or []:
        if mech.get("mechanism") == "include" and mech.get("record"):
            out.append((f"include:{mech.get('value')}", str(mech.get("value")), str(mech["record"])))
            out += _reached_records(mech.get("parsed"), depth + 1)
    redirect = parsed.get("redirect") or {}
    if redirect.get("record"):
        out.append((f"redirect={redirect.get('domain')}", str(redirect.get("domain")), str(redirect["record"])))
        out += _reached_records(redirect.get("parsed"), depth + 1)
    return out


def _is_ses(name: str | None) -> bool:
    """Whether an include/redirect target is amazonses.com: in any case, with or without the trailing dot of
    a fully qualified name (RFC 7208 7.1's domain-end allows one)."""
    return (name or "").lower().removesuffix(".") == SES_DOMAIN


def _names_ses(parsed: dict[str, Any] | None) -> bool:
    """Whether SES's servers are authorized: include/redirect of amazonses.com, directly or nested."""
    if not parsed:
        return False
    for mech in parsed.get("mechanisms") or []:
        if mech.get("mechanism") == "include" and mech.get("action") == "pass":
            if _is_ses(mech.get("value")) or _names_ses(mech.get("parsed")):
                return True
    redirect = parsed.get("redirect") or {}
    return _is_ses(redirect.get("domain")) or _names_ses(redirect.get("parsed"))


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


def _spf_records(txt: list[str]) -> list[str]:
    """RFC 7208 4.5: the TXT records that begin with exactly "v=spf1" (in any case) and a space or the end."""
    return [r for r in txt if r.lower() == "v=spf1" or r.lower().startswith("v=spf1 ")]


def _dns_lookup_terms(resolver: dns.resolver.Resolver, record: str, most: int = 100) -> int:
    """RFC 7208 4.6.4's count of the terms that query DNS when `record` is evaluated (include, a, mx, ptr,
    exists and redirect, with those of the records an include or redirect names; counted until past
    `most`). checkdmarc stops counting where the void-lookup limit stops it, yet past 10 lookups every
    receiver returns permerror, and the void limit is only a SHOULD."""
    count, pending = 0, [record]
    while pending and count <= most:
        terms = [t.lower() for t in pending.pop().split(" ") if t][1:]
        ends = next((i for i, t in enumerate(terms) if re.fullmatch(r"[+?~-]?all", t)), len(terms))
        for i, term in enumerate(terms):
            modifier = _MODIFIER_RE.fullmatch(term)
            mechanism = _MECHANISM_NAME_RE.match(term.lstrip("+?~-"))
            if modifier:  # redirect= is ignored beside all (6.1); exp= and the others look nothing up
                if modifier.group(1) != "redirect" or ends < len(terms):
                    continue
                target = modifier.group(2)
            elif i < ends and mechanism and mechanism.group(0) in _LOOKUP_MECHANISMS:  # none after all
                target = term.partition(":")[2] if mechanism.group(0) == "include" else ""
            else:
                continue
            count += 1
            if target and "%" not in target:  # a name a macro builds cannot be followed here
                found = _spf_records(lookup(resolver, target, "TXT").records)
                pending += found if len(found) == 1 else []
    return count


def _record_names_ses(record: str) -> bool:
    """Whether the record itself (not what it includes) authorizes SES: include:amazonses.com before any
    all, or redirect=amazonses.com in a record without all (6.1)."""
    terms = [t.lower() for t in record.split(" ") if t][1:]
    is_all = [bool(re.fullmatch(r"[+?~-]?all", t)) for t in terms]
    for term, ends in zip(terms, is_all, strict=True):
        if ends:
            break
        mechanism, _, target = term.removeprefix("+").partition(":")
        if mechanism == "include" and _is_ses(target):
            return True
    redirects = [target for name, _, target in (t.partition("=") for t in terms) if name == "redirect"]
    return not any(is_all) and any(_is_ses(target) for target in redirects)


def _too_many_mx(parsed: dict[str, Any] | None) -> str | None:
    """RFC 7208 4.6.4: an mx mechanism whose name has more than 10 MX records is a permerror."""
    for mech in (parsed or {}).get("mechanisms") or []:
        hosts = mech.get("hosts") or []
        if mech.get("mechanism") == "mx" and len(hosts) > 10:
            return (
                f"mx:{mech.get('value')} has {len(hosts)} MX records, and an mx mechanism may look up the addresses "
                "of 10 at most (RFC 7208 §4.6.4)"
            )
    return None


def inspect_spf(deps: Deps, domain: str) -> Spf:
    """Find the SPF record of `domain`, judge its grammar, and let checkdmarc parse and count it."""
    resolver = deps.resolver
    out = Spf(domain)
    out.txt = lookup(resolver, domain, "TXT")
    if out.txt.failed:
        out.dns_error = out.txt.error
        return out
    # RFC 7208 4.5: records that begin with exactly "v=spf1" followed by a space or the end.
    out.records = _spf_records(out.txt.records)
    if len(out.records) != 1:
        return out  # none, or several (permerror): said by the findings
    out.record = out.records[0]
    # Errors anywhere in the record are permerrors (4.6), before any lookup: receivers need not look further.
    out.permerror = rfc7208_error(out.record)
    if out.permerror:
        return out
    walker = prefetched(resolver, out.record)  # the includes, a level at a time, all of a level at once
    try:
        result = checkdmarc.spf.parse_spf_record(
            "v=spf1" + out.record[6:],  # the version is case-insensitive (4.5); checkdmarc wants it lower-case
            domain,
            ignore_too_many_lookups=True,
            **dns_options(walker, deps.settings.dns_timeout),
        )
    except (checkdmarc.spf.SPFTooManyDNSLookups, checkdmarc.spf.SPFTooManyVoidDNSLookups) as exc:
        # checkdmarc raises the void-lookup limit even with ignore_too_many_lookups (from inside an
        # except clause), so the counts come from the exception; the parse is lost with it. It stops
        # counting DNS lookups there, so they are counted from the records.
        out.permerror = str(exc)
        out.dns_lookups = (exc.data or {}).get("dns_lookups")
        out.void_lookups = (exc.data or {}).get("void_dns_lookups")
        out.warnings = list(exc.warnings or [])
        if out.dns_lookups is None:
            out.dns_lookups = _dns_lookup_terms(walker, out.record)
            if out.dns_lookups > 10:  # a permerror at every receiver; the void limit's note stays as evidence
                out.warnings.insert(0, out.permerror)
                out.permerror = f"the record needs {out.dns_lookups} DNS lookups, over 10 (RFC 7208 §4.6.4)"
        return out
    except checkdmarc.spf.SPFError as exc:
        cause = _dns_cause(exc)
        out.warnings = list(getattr(exc, "warnings", []) or [])
        if cause is not None:
            out.dns_error = f"{dns_error_text(cause, resolver.lifetime)} while following {exc.args[0]!s:.120}"
        elif isinstance(exc, checkdmarc.spf.SPFSyntaxError) and str(exc).startswith(f"{domain}: "):
            # The record passed RFC 7208's grammar above, so this is checkdmarc's stricter reading of the
            # record itself (not of one it includes): no permerror; what it names is judged from the record.
            out.warnings.insert(0, f"checkdmarc could not parse the record ({exc}); RFC 7208 allows it")
            out.authorizes_ses = _record_names_ses(out.record)
        else:
            out.permerror = str(exc)
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
    # The records it reached are judged by the same grammar: an include's permerror is the record's (5.2).
    for how, name, record in _reached_records(out.parsed):
        if error := rfc7208_error(record):
            out.permerror = f"in the record of {name} ({how}), {error}"
            return out
    out.permerror = _too_many_mx(out.parsed)
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
                f"{RECEIVERS_ON_PERMERROR}. Merge them into one record that includes amazonses.com. {DOC_SPF}",
            )
        ]
    issues: list[Issue] = []
    permerror_fix = f"{RECEIVERS_ON_PERMERROR}. {fix}"
    if spf.permerror:
        if spf.dns_lookups is not None and spf.dns_lookups > 10:  # every receiver; the void limit is a SHOULD
            issues.append(
                Issue(
                    Severity.ERROR,
                    f"SPF of {d} needs {spf.dns_lookups} DNS lookups, over the limit of 10: receivers return permerror",
                    f"{RECEIVERS_ON_PERMERROR}. Remove or flatten includes so the record needs at most 10 "
                    f"lookups. {DOC_SPF}",
                )
            )
        elif spf.void_lookups is not None and spf.void_lookups > 2:
            issues.append(
                Issue(
                    Severity.WARNING,
                    f"SPF of {d} makes {spf.void_lookups} void DNS lookups (more than 2): receivers may "
                    "return permerror",
                    "Receivers that apply the limit (RFC 7208 4.6.4 says they should) return permerror: SPF does "
                    "not pass for SES's mail, and DMARC counts SPF as failed. Remove the include/a/mx terms that "
                    f"point at names without records. {DOC_SPF}",
                )
            )
        else:
            issues.append(Issue(Severity.ERROR, f"SPF of {d} is broken (permerror): {spf.permerror}", permerror_fix))
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
        counted = f", {spf.dns_lookups} of 10 DNS lookups" if spf.dns_lookups is not None else ""
        ends = f", ends in {spf.all_result or 'neutral'}" if spf.parsed is not None else ""
        issues.append(Issue(Severity.OK, f"SPF of {d} includes amazonses.com{counted}{ends}"))
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
