"""DMARC for mail From a domain: finding the record that applies (the TXT lookups at ``_dmarc.<domain>``,
then at ``_dmarc.<organizational domain>``, a DNS failure told apart from no record), reading it to the
letter of RFC 7489, the policy that applies (p, or sp at the organizational domain), and the verdicts on
the record itself: missing, several, ignored, p=none, pct, no rua, and what receivers do with its flaws.

The record is read here rather than by checkdmarc, whose 6.x parser follows the DMARCbis drafts (RFC 9989)
and rejects a whole record for one bad tag. RFC 7489 has receivers do otherwise:

* a record whose version is not exactly ``v=DMARC1`` is ignored (6.3, 6.6.3 step 3);
* a tag with an invalid value, or an unknown tag, is discarded and the rest applies (6.3): ``fo=x`` or an
  ``rua`` URI without its ``mailto:`` scheme does not cost a ``p=reject`` its effect;
* an invalid or missing ``p`` (or an invalid ``sp``) with a valid ``rua`` reads as ``p=none``, and without
  one receivers apply no DMARC processing (6.6.3 step 6);
* reports go to an ``rua`` outside the organizational domain only if that domain publishes
  ``<policy domain>._report._dmarc.<its domain>`` TXT ``v=DMARC1`` (7.1): looked up through a short-lived
  copy of our resolver, so a slow third-party domain cannot eat the check's time.

A record with whitespace before ``v=DMARC1`` is debatable: the 6.4 grammar has none, and 6.6.3 step 3
discards records that do not start with ``v=``, so a receiver reading the RFC to the letter ignores it;
receivers that trim it apply it. It is judged as written (its policy applies, so a ``p=reject`` that
SES mail fails is still said loudly) and flagged as a warning. Whether SES mail passes it is
`alignment`'s."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.checks import RunMemo
from bot.checks.authentication.domains import org_domain
from bot.checks.authentication.issues import Issue
from bot.checks.authentication.lookup import Lookup, lookup
from bot.deps import Deps
from bot.dnsq import make_resolver
from bot.findings import Severity

DOC_DMARC = "https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dmarc.html"

DMARC_REPORT_LIFETIME = 1.5  # seconds per rua destination lookup: advisory, never worth a slow check

# RFC 7489 6.4: dmarc-version = "v" *WSP "=" *WSP %x44 %x4d %x41 %x52 %x43 %x31 (DMARC1, case-sensitive),
# then dmarc-sep (*WSP ";") or the end of the record.
_VERSION_RE = re.compile(r"[vV][ \t]*=[ \t]*DMARC1[ \t]*(?:;|$)")
_NEAR_VERSION_RE = re.compile(r"\s*v\s*=\s*dmarc1(?![0-9a-z])", re.IGNORECASE)  # v=dmarc1, "v=DMARC1 p=..."
_WSP = " \t"
_POLICIES = ("none", "quarantine", "reject")
_TAG_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_KEYWORD = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"  # RFC 5321 Keyword
_URI_RE = re.compile(r"([^:]*):(.*)", re.DOTALL)
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_URI_CHARS_RE = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@$&'()*+=]|%[0-9A-Fa-f]{2})+")  # RFC 3986, less , ; !
_MAILTO_RE = re.compile(
    r"[^@\s]+@([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+)"
)
_SIZE_RE = re.compile(r"[0-9]+[kmgtKMGT]?")


@dataclass
class Dmarc:
    """The DMARC policy that applies to mail From `domain`, as RFC 7489 receivers read it."""

    domain: str
    org: str
    lookups: list[Lookup] = field(default_factory=list)
    location: str | None = None  # the domain whose _dmarc record applies
    record: str | None = None
    multiple: list[str] = field(default_factory=list)
    invalid: str | None = None  # why receivers apply no DMARC processing with this record
    dns_error: str | None = None
    tags: dict[str, Any] = field(default_factory=dict)  # the valid tags: {"p": {"value": ..., "explicit": ...}}
    pct: str | None = None
    warnings: list[str] = field(default_factory=list)  # notes for the evidence
    leading_space: bool = False  # whitespace before v=DMARC1 (debatable: see the module's docstring)
    discarded: list[tuple[str, str]] = field(default_factory=list)  # (tag as written, why receivers drop it)
    p_fallback: str | None = None  # why receivers read p=none (6.6.3 step 6)
    non_mailto: list[str] = field(default_factory=list)  # rua URIs receivers need not support
    unauthorized: list[tuple[str, str, str]] = field(default_factory=list)  # (address, its domain, TXT name)
    report_lookups: list[Lookup] = field(default_factory=list)

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


def _dmarc_records(found: Lookup) -> tuple[list[str], list[str]]:
    """The DMARC records among a name's TXT records (6.6.3 step 3: those that start with v=DMARC1, here
    also with whitespace before it), and the near misses receivers discard (v=dmarc1, v=DMARC1 without ;)."""
    records, near = [], []
    for r in found.records:
        if _VERSION_RE.match(r.lstrip(_WSP)):
            records.append(r)
        elif _NEAR_VERSION_RE.match(r):
            near.append(r)
    return records, near


def _uri(text: str) -> tuple[dict[str, Any] | None, str]:
    """One RFC 7489 6.4 dmarc-uri (URI ["!" size]): its parts, or None and why receivers drop it."""
    uri, bang, size = text.partition("!")
    m = _URI_RE.fullmatch(uri)
    if not m or not _SCHEME_RE.fullmatch(m.group(1)):
        if "@" in uri and ":" not in uri:
            return None, f"not a URI: a report address is written mailto:{uri}"
        return None, "not a URI (it starts with a scheme such as mailto:)"
    if not _URI_CHARS_RE.fullmatch(m.group(2)):
        return None, "not a URI (a character that must be %-encoded, or a bad %-escape)"
    if bang and not _SIZE_RE.fullmatch(size):
        return None, "its size limit after ! is not a number with k, m, g or t"
    scheme = m.group(1).lower()
    if scheme == "mailto":
        address = m.group(2)
        if not _MAILTO_RE.fullmatch(address):
            return None, "not a mailto: address"
        return {"scheme": scheme, "address": address, "size_limit": size or None, "uri": text}, ""
    return {"scheme": scheme, "address": uri, "size_limit": size or None, "uri": text}, ""


def _tag_value(name: str, value: str) -> tuple[Any, str]:
    """A known tag's value per RFC 7489 6.4 (keywords are case-insensitive), or None and why it is invalid."""
    low = value.lower()
    if name in ("p", "sp"):
        return (low, "") if low in _POLICIES else (None, f"{name}={value} is not none, quarantine or reject")
    if name in ("adkim", "aspf"):
        return (low, "") if low in ("r", "s") else (None, f"{name} must be r or s")
    if name == "pct":
        ok = bool(re.fullmatch(r"[0-9]{1,3}", value)) and int(value) <= 100
        return (str(int(value)), "") if ok else (None, "pct must be a whole number from 0 to 100")
    if name == "ri":
        ok = bool(re.fullmatch(r"[0-9]+", value)) and int(value) < 2**32
        return (int(value), "") if ok else (None, "ri must be a number of seconds")
    if name == "fo":
        ok = bool(re.fullmatch(r"[01ds](?:[ \t]*:[ \t]*[01ds])*", low))
        return (re.split(r"[ \t]*:[ \t]*", low), "") if ok else (None, "fo must be 0, 1, d or s, joined by colons")
    if name == "rf":
        ok = bool(re.fullmatch(rf"{_KEYWORD}(?:[ \t]*:[ \t]*{_KEYWORD})*", value))
        return (
            (re.split(r"[ \t]*:[ \t]*", low), "") if ok else (None, "rf must be report format names joined by colons")
        )
    return None, "unknown tag"


def _read_record(out: Dmarc) -> None:
    """The tags of `out.record` as RFC 7489 receivers read them (6.3, 6.4, 6.6.3 step 6)."""
    record = out.record or ""
    body = record.lstrip(_WSP)
    out.leading_space = body != record
    rest = body.partition(";")[2]
    bad_policy: list[str] = []
    for raw in rest.split(";"):
        part = raw.strip(_WSP)
        if not part:
            continue
        name, eq, value = part.partition("=")
        name, value = name.strip(_WSP), value.strip(_WSP)
        key = name.lower()
        if not eq or not _TAG_NAME_RE.fullmatch(name):
            out.discarded.append((part, "not a tag=value pair"))
        elif key in out.tags or (key in ("p", "sp") and any(b.startswith(f"{key}=") for b in bad_policy)):
            out.discarded.append((part, "a repeated tag: receivers may read either value"))
        elif key in ("rua", "ruf"):
            uris = []
            for text in (u.strip(_WSP) for u in value.split(",")):
                uri, why = _uri(text)
                if uri is None:
                    out.discarded.append((f"{key}={text}", why))
                else:
                    uris.append(uri)
            if uris:
                out.tags[key] = {"value": uris, "explicit": True}
        elif key in ("p", "sp", "adkim", "aspf", "pct", "ri", "fo", "rf"):
            parsed, why = _tag_value(key, value)
            if parsed is not None:
                out.tags[key] = {"value": parsed, "explicit": True}
            elif key in ("p", "sp"):
                bad_policy.append(why)
            else:
                out.discarded.append((part, why))
        else:
            out.warnings.append(f"unknown tag {part} is ignored (RFC 7489 §6.3)")
    out.pct = out.tag("pct")
    if "p" in out.tags and not bad_policy:
        return
    # 6.6.3 step 6: no valid p, or an invalid sp.
    reason = " and ".join(bad_policy) if bad_policy else "it has no p= tag, which RFC 7489 requires"
    if out.tag("rua"):
        out.p_fallback = reason
        out.tags["p"] = {"value": "none", "explicit": False}
        out.tags.pop("sp", None)
    else:
        out.invalid = f"{reason}, and without a valid rua= receivers apply no DMARC processing (RFC 7489 §6.6.3)"


def _check_report_destinations(deps: Deps, out: Dmarc) -> None:
    """RFC 7489 7.1: an rua address outside the policy's organizational domain gets reports only if its
    domain publishes ``<policy domain>._report._dmarc.<its domain>`` TXT ``v=DMARC1``."""
    outside = [
        (u["address"], u["address"].rpartition("@")[2].lower().rstrip("."))
        for u in out.tag("rua") or []
        if u.get("scheme") == "mailto"
    ]
    outside = [(a, host) for a, host in outside if org_domain(host) != org_domain(out.location or "")]
    out.non_mailto = [u["address"] for u in out.tag("rua") or [] if u.get("scheme") != "mailto"]
    if not outside:
        return
    report_resolver = make_resolver(deps.settings)
    report_resolver.lifetime = min(deps.settings.dns_timeout, DMARC_REPORT_LIFETIME)
    report_resolver.timeout = report_resolver.lifetime
    for address, host in outside:
        name = f"{out.location}._report._dmarc.{host}"
        found = lookup(report_resolver, name, "TXT")
        out.report_lookups.append(found)
        if found.failed:
            out.warnings.append(f"could not tell whether {host} accepts reports for {out.location}: {found.error}")
        elif not any(r.startswith("v=DMARC1") for r in found.records):
            out.unauthorized.append((address, host, name))


def inspect_dmarc(deps: Deps, domain: str) -> Dmarc:
    """Find the DMARC record for mail From `domain` (the domain, then its organizational domain)."""
    out = Dmarc(domain, org_domain(domain))
    names = [domain] if out.org == domain else [domain, out.org]
    near_misses: list[tuple[str, str]] = []
    for name in names:
        found = lookup(deps.resolver, f"_dmarc.{name}", "TXT")
        out.lookups.append(found)
        if found.failed:
            out.dns_error = f"_dmarc.{name}: {found.error}"
            return out
        records, near = _dmarc_records(found)
        near_misses += [(name, r) for r in near]
        if len(records) > 1:
            out.location, out.multiple = name, records
            return out
        if records:
            out.location, out.record = name, records[0]
            break
    for name, near_miss in near_misses:
        version = near_miss.partition(";")[0].strip()
        why = f"its version is {version}, and it must be exactly v=DMARC1 (RFC 7489 §6.3)"
        if out.record:
            out.warnings.append(f"_dmarc.{name} holds {near_miss!r}, which receivers discard: {why}")
        else:
            out.location, out.record, out.invalid = name, near_miss, why
            return out
    if not out.record:
        return out
    _read_record(out)
    if not out.invalid:
        _check_report_destinations(deps, out)
    return out


def cached_dmarc(deps: Deps, memo: RunMemo, domain: str) -> Dmarc:
    """`inspect_dmarc`, once per run for `domain`."""
    return memo.once(("dmarc", domain), lambda: inspect_dmarc(deps, domain))


def record_issues(dmarc: Dmarc) -> list[Issue]:
    """Why no DMARC record applies (lookup failed, several, none, invalid); empty when one is usable."""
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
    return []


def policy_notes(dmarc: Dmarc, mail_fails: bool) -> list[Issue]:
    """What receivers make of a usable record's flaws (a p read as none, a space before v=DMARC1, tags
    they discard, report addresses they will not send to), then advice on its tags: p=none (unless SES
    mail fails it: that is said louder), a pct below 100, no rua."""
    issues: list[Issue] = []
    where = f"_dmarc.{dmarc.location}"
    if dmarc.p_fallback:
        reason = dmarc.p_fallback
        said = f"the DMARC record's {reason}" if reason.startswith(("p=", "sp=")) else "the DMARC record has no p= tag"
        issues.append(
            Issue(
                Severity.WARNING,
                f"{said}: with a valid rua=, receivers act as if p=none (RFC 7489 §6.6.3), so the policy you "
                "meant is not applied",
                f"Set p= to none, quarantine or reject in the record at {where}. {DOC_DMARC}",
            )
        )
    if dmarc.leading_space:
        issues.append(
            Issue(
                Severity.WARNING,
                f"the DMARC record at {where} starts with a space: RFC 7489's grammar (§6.4) has none before "
                "v=DMARC1, and receivers that read it to the letter discard the record (§6.6.3), while those "
                f"that trim it apply p={dmarc.tag('p', 'none')}",
                f"Remove the space before v=DMARC1 in the TXT record at {where}. {DOC_DMARC}",
            )
        )
    for written, why in dmarc.discarded:
        issues.append(
            Issue(
                Severity.INFO,
                f"receivers discard {written} ({why}) and apply the rest of the DMARC record (RFC 7489 §6.3)",
                f"Correct or remove {written} in the record at {where}. {DOC_DMARC}",
            )
        )
    for address, host, name in dmarc.unauthorized:
        issues.append(
            Issue(
                Severity.INFO,
                f"receivers will not send aggregate reports to {address}: {host} does not authorize them "
                f'(no TXT "v=DMARC1" at {name}, RFC 7489 §7.1)',
                f'Have {host} publish TXT "v=DMARC1" at {name}, or use an rua address in {dmarc.org}. {DOC_DMARC}',
            )
        )
    for uri in dmarc.non_mailto:
        issues.append(
            Issue(
                Severity.INFO,
                f"receivers need only support mailto: report addresses (RFC 7489 §6.3): most will not send "
                f"reports to {uri}",
            )
        )
    if dmarc.policy == "none" and not mail_fails and not dmarc.p_fallback:
        issues.append(
            Issue(
                Severity.INFO,
                f"DMARC policy for {dmarc.domain} is p=none: monitoring only, receivers do not act on failures",
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


def dmarc_evidence(dmarc: Dmarc) -> list[str]:
    """The _dmarc lookups, the record that applies and its policy, and checkdmarc's first notes."""
    lines = [f.describe() for f in dmarc.lookups if not (dmarc.record and f.outcome == "answer")]
    if dmarc.record:
        lines.append(f"DMARC _dmarc.{dmarc.location}: {dmarc.record}")
        if not dmarc.invalid:
            lines.append(f"DMARC policy for {dmarc.domain}: {dmarc.describe_policy()} (applies: p={dmarc.policy})")
    lines += [f.describe() for f in dmarc.report_lookups]
    lines += [f"DMARC note: {w}" for w in dmarc.warnings[:5]]
    return lines


def dmarc_data(dmarc: Dmarc) -> dict[str, Any]:
    """The DMARC part of a finding's JSON data."""
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
        "discarded": [written for written, _ in dmarc.discarded],
        "reports_not_authorized": [address for address, _, _ in dmarc.unauthorized],
        "multiple": len(dmarc.multiple) or None,
        "dns_error": dmarc.dns_error,
    }
