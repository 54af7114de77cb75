"""Configuration sets: the sets this recipient's mail went through, and whether they stop or hold it back.

Which sets (`used_sets`, one answer per run and region): the `config_set` of the recipient's stored events
of the last 30 days (their `ses:configuration-set` tag), the sender identity's default set
(`GetEmailIdentity` -> `ConfigurationSetName`: the address identity's, else its domain's or a parent's),
and `SESBOT_CONFIGURATION_SET`. Every finding says where each set came from.

Two checks, per region:

- `config_set.sending`: a set that is paused (`SendingOptions.SendingEnabled` false), or whose reputation
  entity is `DISABLED` by SES (`AwsSesManagedStatus`, with its Cause), by the team
  (`CustomerManagedStatus`) or in its `SendingStatusAggregate`: SES sends nothing through it. A status the
  bot does not know is a warning that names it. A set that does not exist is a warning.
- `config_set.delivery`: `DeliveryOptions.TlsPolicy` `REQUIRE` (judged from here: the recipient's best MX
  with an address, or the domain itself when it has no MX, must offer STARTTLS and complete the TLS
  handshake, its certificate not verified, as SES does), a
  dedicated pool whose IPs are in warm-up (`GetDedicatedIps`), and suppression options that override the
  account's (`SuppressionOptions` against `GetAccount.SuppressionAttributes`), among them the set's own
  Auto Validation (`SuppressionOptions.ValidationOptions`: on, whatever the account's, SES drops
  recipients it judges below the threshold from mail sent through the set).

`config_set.sending` reports a set that cannot be read (missing, access denied, AWS failure);
`config_set.delivery` leaves such sets out rather than saying the same thing twice.

The reputation entity's ARN needs the account id: `sts:GetCallerIdentity`, asked once per run. SESv2 returns
no ARN for an identity or a set, and the stored events keep no `sourceArn`; GetCallerIdentity needs no IAM
permission and names the account whose credentials read the sets (the right one under an assumed role).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import dns.exception
import dns.resolver

from bot.aws import describe_error, error_code
from bot.checks import CheckContext, check
from bot.checks.account import account_unavailable, get_account, identity_status
from bot.checks.authentication.ses_identity import cached_identity
from bot.checks.availability import ACCESS_DENIED, absent, resource_arn
from bot.checks.recipient_domain import _is_ip, _lookup
from bot.checks.validation import (
    AUTO_VALIDATION_DOC,
    account_condition,
    recipient_delivery,
    threshold_evidence,
    validation_command,
    validation_condition,
)
from bot.event_accounts import sending_account
from bot.findings import Finding, Severity
from bot.history import domain_events, recipient_events
from bot.ses_status import judge_status
from bot.smtp_probe import PortResult, starttls_handshake
from bot.timefmt import when

LOOKBACK = timedelta(days=30)
EVENT_ROWS = 1000  # the newest events read for their configuration set tag

CONFIG_SET_DOC = "https://docs.aws.amazon.com/ses/latest/dg/using-configuration-sets.html"
REPUTATION_DOC = "https://docs.aws.amazon.com/ses/latest/dg/monitor-sending-activity.html"
# A reputation entity's SendingStatus (botocore's sesv2 model) -> what it does to the set's mail
# (`judge_status`); any other value is a WARNING that names it.
ENTITY_STATUS_SEVERITY = {"ENABLED": Severity.OK, "REINSTATED": Severity.OK, "DISABLED": Severity.CRITICAL}
TLS_DOC = "https://docs.aws.amazon.com/ses/latest/dg/security-protocols.html"
WARMUP_DOC = "https://docs.aws.amazon.com/ses/latest/dg/dedicated-ip-warming.html"
SUPPRESSION_DOC = "https://docs.aws.amazon.com/ses/latest/dg/sending-email-suppression-list.html"
PORT_25_DOC = "https://repost.aws/knowledge-center/ec2-port-25-throttle"

# Where a set came from, as the evidence says it (the events' phrase is built with counts).
FROM_IDENTITY = "the default configuration set of the sender identity {identity}"
FROM_SETTING = "SESBOT_CONFIGURATION_SET"

# Why a set that does not exist is named, and what to do, by where it came from.
MISSING_BY_SOURCE = {
    "events": (
        "the recipient's events name it, so it was deleted after that mail was sent",
        "Sends that still name it fail; point them at an existing set or create it again "
        "(`aws sesv2 create-configuration-set --configuration-set-name {name} --region {region}`).",
    ),
    "identity": (
        "it is the default set of the sender identity {identity}, which now points to nothing",
        "Set the identity's default to an existing set: `aws sesv2 put-email-identity-configuration-set-"
        "attributes --email-identity {identity} --configuration-set-name <set> --region {region}`.",
    ),
    "setting": (
        "SESBOT_CONFIGURATION_SET names it",
        "Correct SESBOT_CONFIGURATION_SET, or create the set in {region} "
        "(`aws sesv2 create-configuration-set --configuration-set-name {name} --region {region}`).",
    ),
}

# Large receivers, by the domain of the address: they throttle or defer mail from IPs they do not know.
BIG_RECEIVERS = {
    "gmail.com": "Gmail",
    "googlemail.com": "Gmail",
    "outlook.com": "Outlook.com",
    "hotmail.com": "Outlook.com",
    "hotmail.co.uk": "Outlook.com",
    "hotmail.fr": "Outlook.com",
    "live.com": "Outlook.com",
    "msn.com": "Outlook.com",
    "yahoo.com": "Yahoo",
    "yahoo.co.uk": "Yahoo",
    "yahoo.fr": "Yahoo",
    "ymail.com": "Yahoo",
    "aol.com": "AOL (Yahoo)",
    "icloud.com": "iCloud Mail",
    "me.com": "iCloud Mail",
    "mac.com": "iCloud Mail",
    "gmx.de": "GMX",
    "gmx.net": "GMX",
    "web.de": "WEB.DE",
    "comcast.net": "Comcast",
    "t-online.de": "T-Online",
    "orange.fr": "Orange",
    "mail.ru": "Mail.ru",
    "yandex.ru": "Yandex",
}

# What each suppression reason keeps away, and how bad losing it is when a set drops it.
SUPPRESSION_REASONS = {
    "BOUNCE": (Severity.WARNING, "addresses that hard-bounced get mail again, and their bounces keep counting"),
    "COMPLAINT": (Severity.INFO, "addresses that complained get mail again"),
}


# -- which sets --------------------------------------------------------------------------------------


@dataclass
class UsedSets:
    """The sets the recipient's mail went through in one region: name -> where it came from."""

    sets: dict[str, list[str]] = field(default_factory=dict)
    kinds: dict[str, list[str]] = field(default_factory=dict)  # name -> "events", "identity", "setting"
    looked: list[str] = field(default_factory=list)  # how each source was looked at, for "none found"
    identity: str | None = None  # the identity whose default set was read

    def add(self, name: str, kind: str, where: str) -> None:
        self.sets.setdefault(name, []).append(where)
        self.kinds.setdefault(name, []).append(kind)

    def source(self, name: str) -> str:
        return " and ".join(self.sets.get(name) or ["unknown"])


def used_sets(ctx: CheckContext) -> UsedSets:
    """The configuration sets of this recipient's mail in the context's region, found once per run."""
    return ctx.memo.once(("config_set.used", ctx.region, ctx.target.lower()), lambda: _find_sets(ctx))


def _find_sets(ctx: CheckContext) -> UsedSets:
    found = UsedSets()
    _from_events(ctx, found)
    _from_identity(ctx, found)
    name = ctx.settings.configuration_set
    if name:
        found.add(name, "setting", FROM_SETTING)
        found.looked.append(f"SESBOT_CONFIGURATION_SET: {name}")
    else:
        found.looked.append("SESBOT_CONFIGURATION_SET: not set")
    return found


def _event_here(ctx: CheckContext, row: dict[str, Any], account_of: Callable[[str | None], str] | None) -> bool:
    """An event counts in its own account (`account_of`, with several accounts: a set another account used is
    not looked for in this one) and region; one whose region is unknown counts in the bot's default region."""
    if account_of is not None and account_of(row.get("account_id")) != ctx.deps.account_name:
        return False
    region = row.get("region")
    if region:
        return region == ctx.region
    regions = ctx.settings.regions
    return ctx.region == (regions[0] if regions else None)


def _from_events(ctx: CheckContext, found: UsedSets) -> None:
    since = ctx.deps.now() - LOOKBACK
    target = ctx.target.strip()
    if "@" in target:
        rows = recipient_events(ctx.deps.store, target, since=since, limit=EVENT_ROWS)
        whose = "the recipient's events"
    else:
        rows = domain_events(ctx.deps.store, ctx.recipient_domain, since=since, limit=EVENT_ROWS)
        whose = f"the events of {ctx.recipient_domain}"
    account_of = sending_account(ctx.settings) if ctx.settings.accounts else None
    rows = [r for r in rows if _event_here(ctx, r, account_of)]
    tagged: dict[str, list[dict[str, Any]]] = {}
    for row in rows:  # newest first
        if row.get("config_set"):
            tagged.setdefault(row["config_set"], []).append(row)
    for name, events in tagged.items():
        n = len(events)
        latest = when(events[0]["timestamp"], ctx.deps.now())
        found.add(
            name,
            "events",
            f"{whose} ({n} event{'s' if n != 1 else ''} in the last {LOOKBACK.days} days, latest {latest})",
        )
    if tagged:
        found.looked.append(f"{whose.capitalize()} in {ctx.region}: tagged with {', '.join(tagged)}")
    elif rows:
        found.looked.append(
            f"{whose.capitalize()} in {ctx.region}: {len(rows)} in the last {LOOKBACK.days} days, "
            "none tagged with a configuration set"
        )
    else:
        found.looked.append(f"{whose.capitalize()} in {ctx.region}: none stored in the last {LOOKBACK.days} days")


def _address_identity(ctx: CheckContext, address: str) -> dict[str, Any] | None:
    """`GetEmailIdentity` for the sender address, once per run and region (None: not an identity)."""
    return ctx.memo.once(("sesv2.GetEmailIdentity", ctx.region, address.lower()), lambda: identity_status(ctx, address))


def _from_identity(ctx: CheckContext, found: UsedSets) -> None:
    """The sender identity's default set: the address identity's when it exists and has one, else the
    domain's (or the nearest parent domain's, the identity SES sends the domain's mail under)."""
    address, domain = ctx.settings.sender_address, ctx.settings.sender_domain
    if not domain:
        found.looked.append("Sender identity: SESBOT_SENDER is not set")
        return
    notes: list[str] = []
    if address:
        try:
            response = _address_identity(ctx, address)
        except Exception as exc:
            response = None
            notes.append(f"{address}: could not read ({describe_error(exc)})")
        else:
            if response is None:
                notes.append(f"{address}: not an identity in {ctx.region}")
            elif response.get("ConfigurationSetName"):
                _take_default(found, address, response["ConfigurationSetName"])
                return
            else:
                notes.append(f"{address}: no default configuration set")
    ident = cached_identity(ctx.deps, ctx.memo, ctx.region, domain)
    if ident.error:
        notes.append(f"{domain}: could not read ({ident.error})")
    elif not ident.found or ident.name is None:
        notes.append(f"{domain}: not an identity in {ctx.region} (nor is a parent domain)")
    elif ident.response.get("ConfigurationSetName"):
        _take_default(found, ident.name, ident.response["ConfigurationSetName"])
        return
    else:
        notes.append(f"{ident.name}: no default configuration set")
    found.looked.append("Sender identity: " + "; ".join(notes))


def _take_default(found: UsedSets, identity: str, name: str) -> None:
    found.identity = identity
    found.add(name, "identity", FROM_IDENTITY.format(identity=identity))
    found.looked.append(f"Sender identity {identity}: default configuration set {name}")


# -- AWS reads, shared by both checks ------------------------------------------------------------------


def get_config_set(ctx: CheckContext, name: str) -> dict[str, Any]:
    """`GetConfigurationSet` for one set in the context's region, once per run (errors reach each caller)."""

    def fetch() -> dict[str, Any]:
        response = ctx.client("sesv2").get_configuration_set(ConfigurationSetName=name)
        response.pop("ResponseMetadata", None)
        return response

    return ctx.memo.once(("sesv2.GetConfigurationSet", ctx.region, name), fetch)


def config_set_arn(ctx: CheckContext, name: str) -> str:
    return resource_arn(ctx, "configuration-set", name)


def _reputation_entity(ctx: CheckContext, arn: str) -> dict[str, Any]:
    def fetch() -> dict[str, Any]:
        response = ctx.client("sesv2").get_reputation_entity(
            ReputationEntityType="RESOURCE", ReputationEntityReference=arn
        )
        return response.get("ReputationEntity") or {}

    return ctx.memo.once(("sesv2.GetReputationEntity", ctx.region, arn), fetch)


def _dedicated_ips(ctx: CheckContext, pool: str) -> list[dict[str, Any]]:
    def fetch() -> list[dict[str, Any]]:
        client = ctx.client("sesv2")
        ips: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"PoolName": pool, "PageSize": 100}
            if token:
                kwargs["NextToken"] = token
            page = client.get_dedicated_ips(**kwargs)
            ips += page.get("DedicatedIps") or []
            token = page.get("NextToken")
            if not token:
                return ips

    return ctx.memo.once(("sesv2.GetDedicatedIps", ctx.region, pool), fetch)


def _readable_sets(ctx: CheckContext, found: UsedSets) -> tuple[dict[str, dict[str, Any]], dict[str, BaseException]]:
    ok: dict[str, dict[str, Any]] = {}
    failed: dict[str, BaseException] = {}
    for name in found.sets:
        try:
            ok[name] = get_config_set(ctx, name)
        except Exception as exc:
            failed[name] = exc
    return ok, failed


def _none_found(ctx: CheckContext, found: UsedSets, tail: str) -> Finding:
    return ctx.finding(
        Severity.OK,
        f"No configuration set was found for mail to {ctx.target} in {ctx.region}{tail}.",
        evidence=["Looked at:", *(f"  {line}" for line in found.looked)],
        data={"sets": {}},
    )


def _names(names: list[str]) -> str:
    return ", ".join(names)


# -- config_set.sending --------------------------------------------------------------------------------


@check("config_set.sending", per_region=True)
def sending(ctx: CheckContext) -> list[Finding]:
    """A configuration set of this recipient's mail that is paused, auto-paused, or missing."""
    found = used_sets(ctx)
    if not found.sets:
        return [_none_found(ctx, found, "")]
    sets, failed = _readable_sets(ctx, found)
    findings: list[Finding] = []
    findings += _unreadable(ctx, found, failed)
    ok_lines: list[str] = []
    for name, cs in sets.items():
        problems, lines = _judge_sending(ctx, found, name, cs)
        findings += problems
        ok_lines += lines
    if not findings:
        findings.append(
            ctx.finding(
                Severity.OK,
                f"Sending is enabled for configuration set{'s' if len(sets) > 1 else ''} "
                f"{_names(list(sets))} in {ctx.region}.",
                evidence=ok_lines,
                data={"sets": {n: {"sources": found.kinds[n], "sending_enabled": True} for n in sets}},
            )
        )
    return findings


def _unreadable(ctx: CheckContext, found: UsedSets, failed: dict[str, BaseException]) -> list[Finding]:
    """Missing sets: one warning each. Access denied or AWS trouble: one line for all the sets it hid."""
    region = ctx.region
    findings: list[Finding] = []
    denied = [n for n, e in failed.items() if absent(e)]
    broken = [n for n, e in failed.items() if n not in denied and error_code(e) != "NotFoundException"]
    for name, exc in failed.items():
        if error_code(exc) != "NotFoundException":
            continue
        kind = found.kinds[name][0]
        why, fix = MISSING_BY_SOURCE[kind]
        words = {"name": name, "region": region, "identity": found.identity or ctx.settings.sender_domain}
        findings.append(
            ctx.finding(
                Severity.WARNING,
                f"The configuration set {name} does not exist in {region}: {why.format_map(words)}.",
                evidence=[f"{name}: from {found.source(name)}", f"GetConfigurationSet({name}): {describe_error(exc)}"],
                fix=fix.format_map(words) + f" ({CONFIG_SET_DOC})",
                data={"set": name, "exists": False, "sources": found.kinds[name]},
            )
        )
    if denied:
        exc = failed[denied[0]]
        fix = (
            "Allow `ses:GetConfigurationSet` for the bot's IAM role or user (see the README's IAM policy)."
            if error_code(exc) in ACCESS_DENIED
            else "This account or region does not offer GetConfigurationSet."
        )
        findings.append(
            ctx.finding(
                Severity.INFO,
                f"Whether configuration set{'s' if len(denied) > 1 else ''} {_names(denied)} "
                f"{'are' if len(denied) > 1 else 'is'} paused could not be read in {region}: "
                "the bot may not call GetConfigurationSet.",
                evidence=[*(f"{n}: from {found.source(n)}" for n in denied), describe_error(exc)],
                fix=fix,
                data={"available": False, "sets": denied},
            )
        )
    if broken:
        finding = account_unavailable(ctx.check_id, failed[broken[0]], region, "GetConfigurationSet")
        finding.evidence = [*(f"{n}: from {found.source(n)}" for n in broken), *finding.evidence]
        findings.append(finding)
    return findings


def _judge_sending(
    ctx: CheckContext, found: UsedSets, name: str, cs: dict[str, Any]
) -> tuple[list[Finding], list[str]]:
    """(problem findings, the set's lines for the OK finding)."""
    region = ctx.region
    enabled = (cs.get("SendingOptions") or {}).get("SendingEnabled", True)
    reputation = cs.get("ReputationOptions") or {}
    evidence = [
        f"{name}: from {found.source(name)}",
        f"SendingOptions.SendingEnabled: {str(bool(enabled)).lower()}",
    ]
    if "ReputationMetricsEnabled" in reputation:
        evidence.append(
            f"ReputationOptions.ReputationMetricsEnabled: {str(reputation['ReputationMetricsEnabled']).lower()}"
        )
    if reputation.get("LastFreshStart"):
        evidence.append(f"ReputationOptions.LastFreshStart: {when(reputation['LastFreshStart'], ctx.deps.now())}")
    findings: list[Finding] = []
    if enabled is False:
        findings.append(
            ctx.finding(
                Severity.CRITICAL,
                f"The configuration set {name} is paused in {region} (SendingEnabled false): SES refuses every "
                "send through it (SendingPausedException).",
                evidence=list(evidence),
                fix=(
                    f"Resume it: `aws sesv2 put-configuration-set-sending-options --configuration-set-name {name} "
                    f"--sending-enabled --region {region}`. If a reputation alarm paused it, fix the bounce or "
                    f"complaint cause first, or it pauses again ({CONFIG_SET_DOC})."
                ),
                data={"set": name, "sending_enabled": False, "sources": found.kinds[name]},
            )
        )
    entity_problems, entity_line = _judge_entity(ctx, found, name, evidence)
    findings += entity_problems
    return findings, [*evidence, entity_line]


def _status_line(label: str, status: dict[str, Any], now: Any) -> str:
    line = f"{label}: {status.get('Status') or 'not reported'}"
    if status.get("LastUpdatedTimestamp"):
        line += f" since {when(status['LastUpdatedTimestamp'], now)}"
    return line


def _judge_entity(ctx: CheckContext, found: UsedSets, name: str, set_evidence: list[str]) -> tuple[list[Finding], str]:
    """The set's reputation entity: DISABLED by SES or by the team stops its mail. A missing entity (older
    accounts) or one the bot may not read says nothing but a line of evidence."""
    region = ctx.region
    try:
        arn = config_set_arn(ctx, name)
    except Exception as exc:
        return [], f"Reputation entity: not checked (the account id could not be read: {describe_error(exc)})"
    try:
        entity = _reputation_entity(ctx, arn)
    except Exception as exc:
        if error_code(exc) == "NotFoundException":
            return [], "Reputation entity: none (SES tracks no reputation entity for this set)"
        return [], f"Reputation entity: not checked ({describe_error(exc)})"
    now = ctx.deps.now()
    aws = entity.get("AwsSesManagedStatus") or {}
    customer = entity.get("CustomerManagedStatus") or {}
    evidence = [
        f"Reputation entity: {arn}",
        _status_line("AwsSesManagedStatus", aws, now),
    ]
    if aws.get("Cause"):
        evidence.append(f"AWS cause: {aws['Cause']}")
    evidence.append(_status_line("CustomerManagedStatus", customer, now))
    if customer.get("Cause"):
        evidence.append(f"Customer cause: {customer['Cause']}")
    evidence += [
        f"SendingStatusAggregate: {entity.get('SendingStatusAggregate') or 'not reported'}",
        f"ReputationManagementPolicy: {entity.get('ReputationManagementPolicy') or 'not reported'}",
        f"ReputationImpact: {entity.get('ReputationImpact') or 'not reported'}",
    ]
    data = {"set": name, "arn": arn, "sources": found.kinds[name], "entity": _plain(entity)}
    findings: list[Finding] = []
    if aws.get("Status") == "DISABLED":
        since = f" since {when(aws['LastUpdatedTimestamp'], now)}" if aws.get("LastUpdatedTimestamp") else ""
        findings.append(
            ctx.finding(
                Severity.CRITICAL,
                f"SES has paused the configuration set {name} in {region}{since} (reputation entity "
                "AwsSesManagedStatus DISABLED): no mail goes out through it.",
                evidence=[set_evidence[0], *evidence],
                fix=(
                    "Fix the cause SES names (the bounces or complaints of mail through this set; "
                    "`aws sesv2 list-recommendations` shows the reputation findings), then ask AWS to reinstate "
                    "the set by answering its notice or through AWS Support; the status turns REINSTATED when "
                    f"it does ({REPUTATION_DOC})."
                ),
                data={**data, "paused_by": "aws"},
            )
        )
    if customer.get("Status") == "DISABLED":
        findings.append(
            ctx.finding(
                Severity.CRITICAL,
                f"Someone on your team paused the configuration set {name} in {region} (reputation entity "
                "CustomerManagedStatus DISABLED): no mail goes out through it.",
                evidence=[set_evidence[0], *evidence],
                fix=(
                    "If the pause is no longer wanted, resume it: `aws sesv2 update-reputation-entity-customer-"
                    f"managed-status --reputation-entity-type RESOURCE --reputation-entity-reference {arn} "
                    f"--sending-status ENABLED --region {region}`."
                ),
                data={**data, "paused_by": "customer"},
            )
        )
    reported = {
        "AwsSesManagedStatus": aws.get("Status"),
        "CustomerManagedStatus": customer.get("Status"),
        "SendingStatusAggregate": entity.get("SendingStatusAggregate"),
    }
    if not findings and reported["SendingStatusAggregate"] == "DISABLED":
        findings.append(
            ctx.finding(
                Severity.CRITICAL,
                f"SES reports the configuration set {name} disabled in {region} (reputation entity "
                "SendingStatusAggregate DISABLED): no mail goes out through it.",
                evidence=[set_evidence[0], *evidence],
                fix=(
                    "Look at the set's reputation entity on the SES console's reputation page and at the AWS "
                    f"notices: `aws sesv2 get-reputation-entity --reputation-entity-type RESOURCE "
                    f"--reputation-entity-reference {arn} --region {region}` ({REPUTATION_DOC})."
                ),
                data={**data, "paused_by": "aggregate"},
            )
        )
    unknown = {field: s for field, s in reported.items() if s and judge_status(s, ENTITY_STATUS_SEVERITY, None) is None}
    if unknown:
        named = ", ".join(f"{field} {s}" for field, s in unknown.items())
        findings.append(
            ctx.finding(
                Severity.WARNING,
                f"The configuration set {name}'s reputation entity reports a sending status this bot does not "
                f"know in {region} ({named}): it may not send the mail through {name}.",
                evidence=[set_evidence[0], *evidence],
                fix=(
                    "Look at the set's reputation entity on the SES console's reputation page and at the AWS "
                    f"notices ({REPUTATION_DOC})."
                ),
                data={**data, "unknown_statuses": unknown},
            )
        )
    aggregate = entity.get("SendingStatusAggregate") or "not reported"
    return (
        findings,
        f"Reputation entity: {aggregate} (AWS {aws.get('Status') or '-'}, customer {customer.get('Status') or '-'})",
    )


def _plain(value: Any) -> Any:
    """JSON-safe copy of an AWS answer (datetimes as ISO text)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# -- config_set.delivery -------------------------------------------------------------------------------


@check("config_set.delivery", per_region=True)
def delivery(ctx: CheckContext) -> list[Finding] | None:
    """TLS required, IPs in warm-up, suppression overridden: what a set does to this recipient's mail."""
    found = used_sets(ctx)
    if not found.sets:
        return [_none_found(ctx, found, ", so no delivery options apply")]
    sets, _failed = _readable_sets(ctx, found)  # config_set.sending reports the sets that cannot be read
    if not sets:
        return None
    findings: list[Finding] = []
    lines: list[str] = []
    for name, cs in sets.items():
        delivery_options = cs.get("DeliveryOptions") or {}
        suppression = cs.get("SuppressionOptions")
        head = f"{name}: from {found.source(name)}"
        lines.append(head)
        lines.append(
            f"  TlsPolicy {delivery_options.get('TlsPolicy') or 'OPTIONAL'}, "
            f"pool {delivery_options.get('SendingPoolName') or 'shared'}, "
            f"suppression {'own settings' if suppression else 'the account settings'}"
        )
        if delivery_options.get("TlsPolicy") == "REQUIRE":
            findings.append(_judge_tls(ctx, name, head))
        if delivery_options.get("SendingPoolName"):
            findings += _judge_pool(ctx, name, delivery_options["SendingPoolName"], head)
        if suppression:
            findings += _judge_suppression(ctx, name, suppression, head)
    if not findings:
        findings.append(
            ctx.finding(
                Severity.OK,
                f"The delivery options of configuration set{'s' if len(sets) > 1 else ''} {_names(list(sets))} "
                f"in {ctx.region} hold nothing back: TLS optional, no IPs in warm-up, the account's suppression.",
                evidence=lines,
                data={"sets": list(sets)},
            )
        )
    return findings


# (a) TlsPolicy REQUIRE: does the recipient's MX offer STARTTLS?


@dataclass
class TlsJudgement:
    """What the recipient's best MX said about STARTTLS: "offered" (and the handshake worked), "not_offered",
    "handshake_failed" (offered, but no TLS session could be set up; why says how it failed) or "unknown"
    (with why)."""

    outcome: str
    evidence: list[str]
    where: str = ""  # host (address):port
    why: str = ""


def _judge_starttls(ctx: CheckContext) -> TlsJudgement:
    """Asked once per run and domain: the MX answer is the same whichever region sends."""
    key = ("config_set.starttls", ctx.recipient_domain, ctx.settings.mx_port)
    return ctx.memo.once(key, lambda: _ask_mx(ctx, ctx.recipient_domain, ctx.settings.mx_port))


def _ask_mx(ctx: CheckContext, domain: str, port: int) -> TlsJudgement:
    """Probe the first MX host, by preference, that has an address, as SES picks it; a domain without MX
    records is its own mail host (implicit MX, RFC 5321 section 5.1)."""
    resolver = ctx.deps.resolver
    try:
        answer = resolver.resolve(domain, "MX", search=False)
    except dns.resolver.NXDOMAIN:
        return TlsJudgement("unknown", [f"MX {domain}: no records"], why=f"{domain} has no MX record")
    except dns.resolver.NoAnswer:
        hosts, implicit = [domain], True
        evidence = [f"MX {domain}: no records, so mail goes to {domain} itself (implicit MX, RFC 5321 5.1)"]
    except dns.exception.DNSException as exc:
        return TlsJudgement(
            "unknown", [f"MX {domain}: {type(exc).__name__}"], why=f"the MX lookup failed ({type(exc).__name__})"
        )
    else:
        records = sorted(answer, key=lambda r: (r.preference, str(r.exchange)))
        hosts, implicit = [str(r.exchange).rstrip(".").lower() for r in records], False
        shown_mx = [f"{r.preference} {h}" for r, h in zip(records, hosts, strict=True)]
        evidence = [f"MX {domain}: " + ", ".join(shown_mx[:5])]
        if hosts == [""]:  # a null MX next to other MX records is a misconfiguration: they are tried
            return TlsJudgement("unknown", evidence, why=f"{domain} publishes a null MX (it accepts no mail)")
    host, address, why = _first_with_address(resolver, [h for h in hosts if h], evidence)
    if address is None:
        return TlsJudgement("unknown", evidence, why=f"{domain} has no MX record and no address" if implicit else why)
    shown = f"[{address}]" if ":" in address else address
    where = f"{host} ({shown}):{port}"
    timeout = min(ctx.settings.smtp_timeout, max(0.5, ctx.settings.check_timeout / 3))
    session = starttls_handshake(address, port, server_name=host, timeout=timeout)
    return _judge_session(session, evidence, host, where, timeout)


def _first_with_address(
    resolver: dns.resolver.Resolver, hosts: list[str], evidence: list[str]
) -> tuple[str, str | None, str]:
    """The first host name that has an address, as SES tries them: (host, address, ""); the hosts passed
    over (IP literals among them) go to the evidence. None found: ("", None, why)."""
    failed = literal = ""
    for host in hosts:
        if _is_ip(host):  # unusable, as recipient.domain says: an MX must name a host (RFC 5321 5.1)
            evidence.append(f"MX host {host}: an IP address, not a host name")
            literal = literal or host
            continue
        address, error = _address_of(resolver, host)
        if address is not None:
            return host, address, ""
        evidence.append(
            f"Address of {host}: " + (f"could not be looked up ({error})" if error else "no A or AAAA record")
        )
        failed = failed or (host if error else "")
    if failed:
        return "", None, f"the address of the MX host {failed} could not be looked up"
    if literal and len(hosts) == 1:
        return "", None, f"the MX host {literal} is an IP address, not a host name"
    return "", None, (f"the best MX host {hosts[0]} has no address" if len(hosts) == 1 else "no MX host has an address")


def _judge_session(session: PortResult, evidence: list[str], host: str, where: str, timeout: float) -> TlsJudgement:
    """The MX's answer, step by step: STARTTLS offered and the handshake done, not offered, or failed."""
    step = session.failed_step
    last = session.steps[-1] if session.steps else None
    if session.outcome == "not_smtp" and step == "banner":  # an HTTP or SSH greeting, in the probe's words
        said = f"it greeted with: {session.reply}"
        evidence.append(f"Connected to {where}; {said}")
        return TlsJudgement("unknown", evidence, where, f"{host} is not an SMTP server; {said}")
    if step == "connect" or (step == "banner" and session.outcome != "rejected"):
        if session.outcome == "refused":
            return TlsJudgement("unknown", evidence, where, f"connecting to {where} was refused")
        if session.outcome == "timeout":
            return TlsJudgement("unknown", evidence, where, f"{where} did not answer within {timeout:g} s")
        why = session.error or session.outcome
        return TlsJudgement("unknown", evidence, where, f"could not connect to {where} ({why})")
    evidence.append(f"Connected to {where}; banner: {session.banner}")
    if session.outcome == "not_smtp" and step:  # a later reply without an SMTP code (smtp_probe's not_smtp)
        said = f"its {step.upper()} reply was: {session.reply}"
        evidence.append(f"{step.upper()}: {session.reply}")
        return TlsJudgement("unknown", evidence, where, f"{host} is not an SMTP server; {said}")
    if step == "banner":
        return TlsJudgement("unknown", evidence, where, f"{host} refused the session ({session.banner})")
    if step == "ehlo":
        if session.outcome == "rejected":
            evidence.append(f"EHLO: {session.reply}")
            return TlsJudgement("unknown", evidence, where, f"{host} refused EHLO ({session.reply})")
        return TlsJudgement("unknown", evidence, where, f"{host} did not answer EHLO ({last.detail if last else ''})")
    helo = next((s for s in session.steps if s.name == "helo"), None)
    if helo is not None:
        ehlo = next(s for s in session.steps if s.name == "ehlo")
        evidence.append(f"EHLO: {ehlo.detail}; HELO: {helo.detail}")
        if not helo.ok:
            return TlsJudgement("unknown", evidence, where, f"{host} refused EHLO and HELO ({helo.detail})")
        evidence.append("No ESMTP (EHLO refused, HELO accepted): no extensions, so no STARTTLS")
    else:
        evidence.append(f"EHLO advertised: {', '.join(session.extensions) or 'no extensions'}")
    if session.outcome == "no_starttls":
        return TlsJudgement("not_offered", evidence, where)
    starttls = next((s for s in session.steps if s.name == "starttls"), None)
    if starttls is not None:
        evidence.append(f"STARTTLS: {starttls.detail}")
    if session.outcome == "timeout":
        return TlsJudgement("unknown", evidence, where, f"{host} did not finish STARTTLS within {timeout:g} s")
    if session.outcome == "starttls_refused":
        return TlsJudgement("handshake_failed", evidence, where, f"STARTTLS was answered {session.reply}")
    if session.outcome != "ok":
        why = session.error or session.reply or session.outcome
        evidence.append(f"TLS handshake failed: {why}")
        return TlsJudgement("handshake_failed", evidence, where, why)
    evidence.append(f"TLS handshake: {session.tls_version} {session.cipher or ''}".rstrip())
    if session.cert:
        c = session.cert
        evidence.append(
            f"Certificate: {c.subject}, issued by {c.issuer}, valid to {c.not_after:%Y-%m-%d}, names: "
            f"{', '.join(c.names[:6]) or 'none'} (not verified: SES does not require a trusted certificate "
            "for STARTTLS)"
        )
    return TlsJudgement("offered", evidence, where)


def _address_of(resolver: dns.resolver.Resolver, host: str) -> tuple[str | None, str]:
    """The host's first A (else AAAA) address; else None and, when a lookup failed, why (else "")."""
    error = ""
    for rtype in ("A", "AAAA"):
        found = _lookup(resolver, host, rtype)
        if found.values:
            return str(found.values[0]), ""
        if found.outcome == "failed":
            error = error or found.error
    return None, error


def _judge_tls(ctx: CheckContext, name: str, head: str) -> Finding:
    region, domain = ctx.region, ctx.recipient_domain
    judged = _judge_starttls(ctx)
    evidence = [head, "DeliveryOptions.TlsPolicy: REQUIRE", *judged.evidence]
    data = {"set": name, "tls_policy": "REQUIRE", "starttls": judged.outcome, "mx": judged.where or None}
    to_optional = (
        f"`aws sesv2 put-configuration-set-delivery-options --configuration-set-name {name} --tls-policy OPTIONAL "
        f"--region {region}`"
    )
    if judged.outcome == "not_offered":
        return ctx.finding(
            Severity.CRITICAL,
            f"The configuration set {name} in {region} requires TLS and {domain}'s MX ({judged.where}) does not "
            "offer STARTTLS: SES will never deliver to it while the set requires TLS.",
            evidence=evidence,
            fix=f"Set the TLS policy to OPTIONAL ({to_optional}), or send this recipient's mail through another "
            f"set ({TLS_DOC}).",
            data=data,
        )
    if judged.outcome == "handshake_failed":
        return ctx.finding(
            Severity.CRITICAL,
            f"The configuration set {name} in {region} requires TLS and {domain}'s MX ({judged.where}) offers "
            f"STARTTLS, but the TLS handshake fails ({judged.why}): SES will never deliver to it while the set "
            "requires TLS.",
            evidence=evidence,
            fix=f"Set the TLS policy to OPTIONAL ({to_optional}), or send this recipient's mail through another "
            f"set; the domain's owner should fix the mail server's TLS setup ({TLS_DOC}).",
            data=data,
        )
    if judged.outcome == "offered":
        return ctx.finding(
            Severity.OK,
            f"The configuration set {name} in {region} requires TLS, and {domain}'s MX offers STARTTLS "
            f"(judged from here: {judged.where}, EHLO advertised STARTTLS and the TLS handshake worked).",
            evidence=evidence,
            data=data,
        )
    return ctx.finding(
        Severity.INFO,
        f"The configuration set {name} in {region} requires TLS; whether {domain}'s MX offers STARTTLS could not "
        f"be judged from here: {judged.why}.",
        evidence=[
            *evidence,
            "Outbound port 25 is often blocked (EC2, home and office networks), which stops this probe but not SES.",
        ],
        fix=(
            f"From a host that can reach port 25, check that the MX lists STARTTLS after EHLO "
            f"(`openssl s_client -starttls smtp -connect <mx>:25`); if it does not, set the TLS policy to "
            f"OPTIONAL ({to_optional}). SESBOT_MX_PORT sets the port this probe uses ({PORT_25_DOC})."
        ),
        data=data,
    )


# (b) a dedicated pool whose IPs are warming up


def _judge_pool(ctx: CheckContext, name: str, pool: str, head: str) -> list[Finding]:
    region = ctx.region
    try:
        ips = _dedicated_ips(ctx, pool)
    except Exception as exc:
        if absent(exc):
            return [
                ctx.finding(
                    Severity.INFO,
                    f"The warm-up of the dedicated pool {pool} (configuration set {name}) could not be read in "
                    f"{region}.",
                    evidence=[head, f"DeliveryOptions.SendingPoolName: {pool}", describe_error(exc)],
                    fix="Allow `ses:GetDedicatedIps` for the bot's IAM role or user (see the README's IAM policy).",
                    data={"available": False, "set": name, "pool": pool},
                )
            ]
        finding = account_unavailable(ctx.check_id, exc, region, "GetDedicatedIps")
        finding.evidence = [head, *finding.evidence]
        return [finding]
    warming = [ip for ip in ips if ip.get("WarmupStatus") == "IN_PROGRESS"]
    if not warming:
        return []
    shares = ", ".join(f"{ip.get('Ip')} at {ip.get('WarmupPercentage', '?')}%" for ip in warming)
    receiver = BIG_RECEIVERS.get(ctx.recipient_domain)
    big = f" {ctx.recipient_domain} ({receiver}) is such a large receiver." if receiver else ""
    evidence = [
        head,
        f"DeliveryOptions.SendingPoolName: {pool}",
        *(
            f"{ip.get('Ip')}: WarmupStatus {ip.get('WarmupStatus')}, WarmupPercentage {ip.get('WarmupPercentage', '?')}"
            for ip in ips
        ),
        "Warm-up: SES sends only that share of the pool's volume over these IPs and the rest over shared IPs; "
        "large receivers (Gmail, Outlook.com, Yahoo) throttle or defer mail from IPs they do not know yet, "
        "seen as 4.7.x deferrals (DeliveryDelay events)." + big,
    ]
    return [
        ctx.finding(
            Severity.WARNING,
            f"The configuration set {name} in {region} sends from the dedicated pool {pool}, whose IPs are still "
            f"warming up ({shares}): "
            + (
                f"{receiver} may throttle or defer mail to {ctx.recipient_domain} from them (4.7.x deferrals)."
                if receiver
                else "large receivers may throttle or defer mail from them (4.7.x deferrals)."
            ),
            evidence=evidence,
            fix=(
                "Let the warm-up finish (SES moves more volume onto the IPs day by day) and keep the volume to "
                "large receivers steady; to send this mail now, use a set on the shared pool or a warmed-up pool "
                f"({WARMUP_DOC})."
            ),
            data={"set": name, "pool": pool, "warming": [_plain(ip) for ip in warming], "big_receiver": receiver},
        )
    ]


# (c) suppression options overriding the account's


def _judge_suppression(ctx: CheckContext, name: str, options: dict[str, Any], head: str) -> list[Finding]:
    region = ctx.region
    findings: list[Finding] = []
    scope = options.get("SuppressionScope")
    reasons = options.get("SuppressedReasons")
    if reasons is not None:
        findings += _compare_reasons(ctx, name, sorted(set(reasons)), head, _kept_options(options))
    if options.get("ValidationOptions"):
        findings += _judge_validation(ctx, name, options, head)
    if scope == "TENANT":
        findings.append(
            ctx.finding(
                Severity.INFO,
                f"The configuration set {name} in {region} keeps suppressed addresses per tenant "
                "(SuppressionScope TENANT): the tenant's suppression list applies to its mail.",
                evidence=[head, "SuppressionOptions.SuppressionScope: TENANT"],
                fix=f"Look for {ctx.target} on the tenant's list (recipient.suppressed does). ({SUPPRESSION_DOC})",
                data={"set": name, "suppression_scope": "TENANT"},
            )
        )
    return findings


def _kept_options(options: dict[str, Any]) -> str:
    """The flags that keep a set's scope and Auto Validation as they are: PutConfigurationSetSuppressionOptions
    sets every suppression option at once, so a command giving only the reasons would drop them."""
    keep = f" --suppression-scope {options['SuppressionScope']}" if options.get("SuppressionScope") else ""
    enabled, threshold = validation_condition(options.get("ValidationOptions"))
    if enabled == "ENABLED" and threshold:
        keep += (
            " --validation-options 'ConditionThreshold={ConditionThresholdEnabled=ENABLED,"
            f"OverallConfidenceThreshold={{ConfidenceVerdictThreshold={threshold}}}}}'"
        )
    elif enabled:
        keep += f" --validation-options 'ConditionThreshold={{ConditionThresholdEnabled={enabled}}}'"
    return keep


def _compare_reasons(ctx: CheckContext, name: str, reasons: list[str], head: str, keep: str = "") -> list[Finding]:
    region = ctx.region
    try:
        account = get_account(ctx)
    except Exception:
        account = None  # the account checks report that
    evidence = [head, f"SuppressionOptions.SuppressedReasons: {', '.join(reasons) or 'none'}"]
    if account is None:
        if reasons:
            return []
        return [
            ctx.finding(
                Severity.INFO,
                f"The configuration set {name} in {region} suppresses nothing (its own SuppressedReasons is "
                "empty), whatever the account list collects.",
                evidence=[*evidence, "Account suppression settings: could not be read"],
                data={"set": name, "suppressed_reasons": reasons},
            )
        ]
    account_reasons = sorted(set((account.get("SuppressionAttributes") or {}).get("SuppressedReasons") or []))
    evidence.append(f"Account SuppressionAttributes.SuppressedReasons: {', '.join(account_reasons) or 'none'}")
    dropped = [r for r in account_reasons if r not in reasons]
    added = [r for r in reasons if r not in account_reasons]
    data = {"set": name, "suppressed_reasons": reasons, "account_suppressed_reasons": account_reasons}
    findings: list[Finding] = []
    if dropped:
        severity = max(SUPPRESSION_REASONS.get(r, (Severity.INFO, ""))[0] for r in dropped)
        what = "; ".join(
            SUPPRESSION_REASONS.get(r, (Severity.INFO, f"{r} addresses get mail again"))[1] for r in dropped
        )
        lead = "suppresses nothing" if not reasons else f"suppresses only {', '.join(reasons)}"
        findings.append(
            ctx.finding(
                severity,
                f"The configuration set {name} in {region} {lead} while the account suppresses "
                f"{', '.join(account_reasons)}: {what}.",
                evidence=evidence,
                fix=(
                    "Give the set the account's reasons back: `aws sesv2 put-configuration-set-suppression-options "
                    f"--configuration-set-name {name} --suppressed-reasons {' '.join(account_reasons)}{keep} "
                    f"--region {region}` ({SUPPRESSION_DOC})."
                ),
                data={**data, "dropped": dropped},
            )
        )
    if added:
        findings.append(
            ctx.finding(
                Severity.INFO,
                f"The configuration set {name} in {region} suppresses more than the account "
                f"({', '.join(added)} too): addresses on the list for that reason get no mail through it.",
                evidence=evidence,
                data={**data, "added": added},
            )
        )
    return findings


def _judge_validation(ctx: CheckContext, name: str, options: dict[str, Any], head: str) -> list[Finding]:
    """The set's own Auto Validation, which overrides the account's for mail sent through the set: on is a
    WARNING (INFO when the recipient had mail delivered lately), as `account.validation` judges the
    account's; off while the account's is on is INFO."""
    region = ctx.region
    enabled, threshold = validation_condition(options.get("ValidationOptions"))
    try:
        account_enabled, account_threshold = account_condition(get_account(ctx))
        account_line = (
            f"Account Auto Validation: on (threshold {account_threshold or 'not reported'})"
            if account_enabled == "ENABLED"
            else "Account Auto Validation: off"
        )
    except Exception:
        account_enabled, account_threshold = None, None  # the account checks report that
        account_line = "Account Auto Validation: could not be read"
    data: dict[str, Any] = {
        "set": name,
        "auto_validation": enabled == "ENABLED",
        "threshold": threshold,
        "account_auto_validation": None if account_enabled is None else account_enabled == "ENABLED",
    }
    if enabled == "DISABLED":
        if account_enabled != "ENABLED":
            return []
        return [
            ctx.finding(
                Severity.INFO,
                f"The configuration set {name} in {region} turns Auto Validation off for the mail sent through it "
                f"(its own ValidationOptions DISABLED), overriding the account's (threshold "
                f"{account_threshold or 'not reported'}): SES does not hold back recipients of that mail on its "
                "own judgement.",
                evidence=[
                    head,
                    "SuppressionOptions.ValidationOptions.ConditionThresholdEnabled: DISABLED",
                    account_line,
                ],
                data=data,
            )
        ]
    if enabled != "ENABLED":
        return []
    level = threshold or "not reported"
    delivered, delivery_lines = recipient_delivery(ctx)
    evidence = [
        head,
        "SuppressionOptions.ValidationOptions.ConditionThresholdEnabled: ENABLED",
        threshold_evidence(threshold),
        account_line,
        "A set's Auto Validation overrides the account's for the mail sent through it: SES accepts the send "
        "and returns a MessageId, then does not deliver to a recipient it judges below the threshold.",
        *delivery_lines,
    ]
    command = validation_command(
        region, threshold, options.get("SuppressedReasons"), config_set=name, scope=options.get("SuppressionScope")
    )
    summary = (
        f"The configuration set {name} in {region} has its own Auto Validation on (threshold {level}), whatever "
        "the account's: SES itself suppresses recipients it judges below that confidence in the mail sent "
        "through it, so that mail can be sent, never bounce and never be delivered"
    )
    finding = ctx.finding(
        Severity.INFO if delivered else Severity.WARNING,
        summary + (f"; mail to {ctx.target} was delivered lately, so it is not held back." if delivered else "."),
        evidence=evidence,
        fix=f"If SES holds back addresses you know are good, {command} ({AUTO_VALIDATION_DOC})",
        data={**data, "delivered_recently": bool(delivered)},
    )
    return [finding]
