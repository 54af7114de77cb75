"""Tenants: is the SES tenant this recipient's mail was sent as disabled, by SES or by the team?

One check, `tenant.status`. A tenant (SESv2, since 2025-11) groups identities, configuration sets and
templates; a send names its tenant. Each tenant is a *reputation entity* with two statuses: the one SES
manages (`AwsSesManagedStatus`, set by its reputation policy, with a `Cause`) and the one the customer
manages (`CustomerManagedStatus`). Either one `DISABLED` stops every message sent as that tenant while
the account itself is healthy -- `account.sending` says nothing is wrong.

The tenants the mail used (`tenants_used`, shared with `recipient.suppressed` through the run memo):

* the `ses:tenant-name` tag of the recipient's stored events (the last 30 days, this region);
* `SESBOT_TENANT`, the tenant the team sends as when a send names none;
* the tenants the sender identity (its domain, and its address) belongs to (`ListResourceTenants`).

When none of those names a tenant, `ListTenants` tells "this account has no tenants" (one quiet OK line)
from "it has some, none tied to this mail" (one info line). An account or region without tenants, or a
role that may not read them, is one `info` line (`not_available`), never a failed diagnosis; a role refused
`GetTenant` for some tenants only gets that `info` line for each of those, and the others are judged.

Resource ARNs come from `bot.checks.availability.resource_arn` (one `sts get-caller-identity` per run,
shared with the configuration-set checks).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.aws import describe_error, error_code
from bot.checks import CheckContext, check
from bot.checks.account import account_unavailable
from bot.checks.availability import absent, caller, not_available, resource_arn
from bot.findings import Finding, Severity
from bot.ses_status import judge_status
from bot.store import iso
from bot.timefmt import when

LOOKBACK = timedelta(days=30)
log = logging.getLogger(__name__)
MAX_PAGES = 10  # ListResourceTenants pages read per identity (100 tenants a page)
TENANT_DOC = "https://docs.aws.amazon.com/ses/latest/dg/tenants.html"
REPUTATION_DOC = "https://docs.aws.amazon.com/ses/latest/dg/reputation-management.html"
NO_TENANTS = (
    "Tenants are an SESv2 feature (since 2025-11) of the regions that offer them; nothing to enable "
    f"unless the team sends as tenants ({TENANT_DOC})."
)

# Where a tenant name came from, as evidence says it.
FROM_EVENTS = "events"
FROM_SETTING = "setting"
FROM_IDENTITY = "identity"

# What each status means for the mail, in the words of the SES API reference.
STATUS_MEANING = {
    "ENABLED": "sending is allowed",
    "REINSTATED": "sending is allowed again, even while reputation findings are still active",
    "DISABLED": "sending is prevented",
}
# How bad each SendingStatus of botocore's sesv2 model is (`judge_status`): any other value is a WARNING.
STATUS_SEVERITY = {"ENABLED": Severity.OK, "REINSTATED": Severity.WARNING, "DISABLED": Severity.CRITICAL}


# -- shared helpers -----------------------------------------------------------------------------------


@dataclass
class TenantsUsed:
    """The tenants this recipient's mail used in one region, and how each was found."""

    # tenant name -> where it came from (FROM_* -> a phrase for evidence), in the order found
    names: dict[str, dict[str, str]] = field(default_factory=dict)
    any_tenants: bool | None = None  # ListTenants had at least one (None: not asked, or it failed)
    unavailable: BaseException | None = None  # ListTenants refused or not offered here
    failed: BaseException | None = None  # ListTenants failed otherwise
    notes: list[str] = field(default_factory=list)  # lookups that failed along the way

    def add(self, name: str, source: str, phrase: str) -> None:
        self.names.setdefault(name, {}).setdefault(source, phrase)


def tenants_used(ctx: CheckContext) -> TenantsUsed:
    """The tenants the mail used in the context's region: one answer per region and run (never raises)."""
    return ctx.memo.once(("tenant.used", ctx.region), lambda: _tenants_used(ctx))


def _tenants_used(ctx: CheckContext) -> TenantsUsed:
    used = TenantsUsed()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tenant-sts") as pool:
        if ctx.settings.sender_domain:
            # The identity ARNs need the account id: ask for it while the history and ListTenants answer.
            pool.submit(_quietly, caller, ctx)
        return _collect(ctx, used)


def _quietly(fn: Any, ctx: CheckContext) -> None:
    try:
        fn(ctx)
    except Exception as exc:  # whoever uses the memoised answer reports the failure
        log.debug("prefetch %s failed: %s", getattr(fn, "__name__", fn), describe_error(exc))


def _collect(ctx: CheckContext, used: TenantsUsed) -> TenantsUsed:
    _from_events(ctx, used)
    if ctx.settings.tenant:
        used.add(ctx.settings.tenant, FROM_SETTING, "SESBOT_TENANT names it")
    if not used.names:
        # Nothing local names a tenant: ask whether the account has any before looking up memberships.
        try:
            page = ctx.client("sesv2").list_tenants(PageSize=1)
        except Exception as exc:
            if absent(exc):
                used.unavailable = exc
            else:
                used.failed = exc
            return used
        used.any_tenants = bool(page.get("Tenants"))
        if not used.any_tenants:
            return used
    _from_identities(ctx, used)
    return used


def _from_events(ctx: CheckContext, used: TenantsUsed) -> None:
    since = iso(ctx.deps.now() - LOOKBACK)
    rows = ctx.deps.store.query(
        "SELECT tenant, count(*) AS n, max(timestamp) AS last FROM events "
        "WHERE recipient = ? AND timestamp >= ? AND tenant IS NOT NULL AND (region = ? OR region IS NULL) "
        "GROUP BY tenant ORDER BY last DESC",
        [ctx.target.strip().lower(), since, ctx.region],
    )
    now = ctx.deps.now()
    for row in rows:
        n = row["n"]
        used.add(
            row["tenant"],
            FROM_EVENTS,
            f"the ses:tenant-name tag of {n} stored event{'' if n == 1 else 's'} to {ctx.target.lower()} "
            f"(latest {when(row['last'], now)})",
        )


def _from_identities(ctx: CheckContext, used: TenantsUsed) -> None:
    identities = [i for i in (ctx.settings.sender_domain, ctx.settings.sender_address) if i]
    if not identities:
        return
    try:
        arns = [resource_arn(ctx, "identity", identity) for identity in identities]
    except Exception as exc:
        used.notes.append(f"The sender identity's tenants could not be looked up: {describe_error(exc)}")
        return
    client = ctx.client("sesv2")

    def memberships(identity: str, arn: str) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        token: str | None = None
        try:
            for _ in range(MAX_PAGES):
                kwargs: dict[str, Any] = {"ResourceArn": arn, "PageSize": 100}
                if token:
                    kwargs["NextToken"] = token
                page = client.list_resource_tenants(**kwargs)
                found += [(identity, e["TenantName"]) for e in page.get("ResourceTenants") or [] if e.get("TenantName")]
                token = page.get("NextToken")
                if not token:
                    break
        except Exception as exc:
            if error_code(exc) != "NotFoundException":
                used.notes.append(f"ListResourceTenants({arn}) failed: {describe_error(exc)}")
        return found

    # The address and its domain are asked at the same time.
    with ThreadPoolExecutor(max_workers=len(identities), thread_name_prefix="tenant-of") as pool:
        for found in pool.map(memberships, identities, arns):
            for identity, name in found:
                used.add(name, FROM_IDENTITY, f"the sender identity {identity} belongs to it")


def get_tenant(ctx: CheckContext, name: str) -> dict[str, Any]:
    """`GetTenant` for one tenant in the context's region, once per run (shared with the suppression
    check, which reads its SuppressionAttributes); errors reach each caller as the botocore exception."""
    return ctx.memo.once(
        ("sesv2.GetTenant", ctx.region, name),
        lambda: ctx.client("sesv2").get_tenant(TenantName=name)["Tenant"],
    )


def get_reputation_entity(ctx: CheckContext, arn: str) -> dict[str, Any]:
    return ctx.memo.once(
        ("sesv2.GetReputationEntity", ctx.region, arn),
        lambda: ctx.client("sesv2").get_reputation_entity(
            ReputationEntityType="RESOURCE", ReputationEntityReference=arn
        )["ReputationEntity"],
    )


def tenant_entity(ctx: CheckContext, name: str) -> dict[str, Any] | None:
    """The tenant's reputation entity, found by its ARN prefix (`tenant/<name>/`) with
    `ListReputationEntities`, so it is asked at the same time as `GetTenant` instead of after it (the
    tenant's ARN holds an id only GetTenant knows). None: the tenant has no reputation entity."""

    def fetch() -> dict[str, Any] | None:
        prefix = resource_arn(ctx, "tenant", name) + "/"
        page = ctx.client("sesv2").list_reputation_entities(
            Filter={"ENTITY_TYPE": "RESOURCE", "ENTITY_REFERENCE_PREFIX": prefix}, PageSize=10
        )
        for entity in page.get("ReputationEntities") or []:
            if (entity.get("ReputationEntityReference") or "").startswith(prefix):
                return dict(entity)
        return None

    return ctx.memo.once(("sesv2.ListReputationEntities", ctx.region, "tenant", name), fetch)


def _entity(ctx: CheckContext, name: str, arn: str, evidence: list[str]) -> dict[str, Any] | None:
    """The tenant's reputation entity: by prefix (asked alongside GetTenant), else `GetReputationEntity`."""
    try:
        return tenant_entity(ctx, name)
    except Exception as exc:  # the listing is refused or failed: ask for the one entity by its ARN
        evidence.append(f"ListReputationEntities failed ({describe_error(exc)}); asked GetReputationEntity")
    try:
        return get_reputation_entity(ctx, arn)
    except Exception as exc:
        if error_code(exc) == "NotFoundException":
            evidence.append(f"GetReputationEntity({arn}): NotFoundException (no reputation entity)")
        else:
            evidence.append(f"GetReputationEntity({arn}) failed: {describe_error(exc)}")
        return None


def sources_line(name: str, sources: dict[str, str]) -> str:
    return f"Tenant {name}: used because " + "; ".join(sources.values())


# -- tenant.status ------------------------------------------------------------------------------------


def _status_line(label: str, record: dict[str, Any] | None, now: datetime) -> str:
    if not record:
        return f"{label}: not reported"
    status = record.get("Status") or "not reported"
    line = f"{label}: {status}"
    if record.get("LastUpdatedTimestamp"):
        line += f" since {when(record['LastUpdatedTimestamp'], now)}"
    if record.get("Cause"):
        line += f"; Cause: {record['Cause']}"
    return line


def _since(record: dict[str, Any] | None) -> str | None:
    value = (record or {}).get("LastUpdatedTimestamp")
    return value.isoformat() if isinstance(value, datetime) else value


@check("tenant.status", per_region=True)
def status(ctx: CheckContext) -> Finding | list[Finding]:
    """The tenant the mail was sent as, disabled or reinstated (by SES or by the team)."""
    cid, region = ctx.check_id, ctx.region
    used = tenants_used(ctx)
    if used.unavailable is not None:
        return not_available(ctx, "Tenant sending status", NO_TENANTS, used.unavailable)
    if used.failed is not None:
        return account_unavailable(cid, used.failed, region, "ListTenants")
    if not used.names:
        if used.any_tenants:
            return ctx.finding(
                Severity.INFO,
                f"The account has tenants in {region}, but none is tied to this mail.",
                evidence=[
                    "No ses:tenant-name tag in the recipient's stored events of the last "
                    f"{LOOKBACK.days} days; SESBOT_TENANT is not set; the sender identity belongs to no tenant.",
                    *used.notes,
                ],
                fix="If the team sends as a tenant, set SESBOT_TENANT to its name so `why` checks it.",
                data={"tenants": []},
            )
        return ctx.finding(
            Severity.OK,
            f"No tenants in {region}: no mail is sent as a tenant there.",
            evidence=["ListTenants: none"],
            data={"tenants": []},
        )
    findings: list[Finding] = []
    # Each tenant and its reputation entity are asked at the same time (both shared through the memo).
    with ThreadPoolExecutor(max_workers=2 * len(used.names), thread_name_prefix="tenant") as pool:
        for name in used.names:
            pool.submit(_quietly, lambda c, n=name: get_tenant(c, n), ctx)
            pool.submit(_quietly, lambda c, n=name: tenant_entity(c, n), ctx)
    refused: dict[str, BaseException] = {}  # tenant -> GetTenant refused (access denied, not offered)
    for name, sources in used.names.items():
        try:
            tenant = get_tenant(ctx, name)
        except Exception as exc:
            if absent(exc):
                refused[name] = exc
                continue
            if error_code(exc) == "NotFoundException":
                findings.append(_missing(ctx, name, sources))
                continue
            findings.append(account_unavailable(cid, exc, region, "GetTenant"))
            continue
        findings.append(_tenant_finding(ctx, name, sources, tenant, used.notes))
    if refused and len(refused) == len(used.names):  # none could be read: tenants are not available here
        return not_available(ctx, "Tenant sending status", NO_TENANTS, next(iter(refused.values())))
    # Only some refused (an IAM policy naming some tenant ARNs): the others' findings stand.
    for name, denial in refused.items():
        unread = not_available(ctx, "Tenant sending status", NO_TENANTS, denial)
        unread.summary = f"Could not read tenant {name} in {region}: {describe_error(denial)}"
        unread.evidence = [sources_line(name, used.names[name]), *unread.evidence]
        unread.data = {"tenant": name, "available": False}
        findings.append(unread)
    return findings


def _missing(ctx: CheckContext, name: str, sources: dict[str, str]) -> Finding:
    setting = FROM_SETTING in sources
    return ctx.finding(
        Severity.WARNING if setting else Severity.INFO,
        f"Tenant {name} does not exist in {ctx.region}"
        + (": SESBOT_TENANT names a tenant SES does not know there." if setting else " (any more)."),
        evidence=[sources_line(name, sources), f"GetTenant({name}): NotFoundException"],
        fix=(
            f"Check the name against `aws sesv2 list-tenants --region {ctx.region}`"
            + (" and correct SESBOT_TENANT." if setting else ".")
        ),
        data={"tenant": name, "exists": False},
    )


def _tenant_finding(
    ctx: CheckContext, name: str, sources: dict[str, str], tenant: dict[str, Any], notes: list[str]
) -> Finding:
    region, now = ctx.region, ctx.deps.now()
    arn = tenant.get("TenantArn")
    sending = tenant.get("SendingStatus")
    evidence = [sources_line(name, sources), f"GetTenant SendingStatus: {sending or 'not reported'}"]
    entity = _entity(ctx, name, arn, evidence) if arn else None
    if arn and entity is None and not any("GetReputationEntity" in line for line in evidence):
        evidence.append(f"{arn}: no reputation entity (ListReputationEntities)")
    aws = (entity or {}).get("AwsSesManagedStatus") or {}
    customer = (entity or {}).get("CustomerManagedStatus") or {}
    aggregate = (entity or {}).get("SendingStatusAggregate")
    policy = (entity or {}).get("ReputationManagementPolicy")
    if entity is not None:
        evidence += [
            f"SendingStatusAggregate: {aggregate or 'not reported'}",
            _status_line("AwsSesManagedStatus", aws, now),
            _status_line("CustomerManagedStatus", customer, now),
            f"ReputationManagementPolicy: {policy or 'not reported'}",
        ]
        if entity.get("ReputationImpact"):
            evidence.append(f"ReputationImpact: {entity['ReputationImpact']}")
    evidence += notes
    reported = {
        "SendingStatus": sending,
        "SendingStatusAggregate": aggregate,
        "AwsSesManagedStatus": aws.get("Status"),
        "CustomerManagedStatus": customer.get("Status"),
    }
    statuses = {s for s in reported.values() if s}
    unknown = {field: s for field, s in reported.items() if s and judge_status(s, STATUS_SEVERITY, None) is None}
    data = {
        "tenant": name,
        "arn": arn,
        "sending_status": sending,
        "aggregate": aggregate,
        "aws_status": aws.get("Status"),
        "aws_cause": aws.get("Cause"),
        "aws_since": _since(aws),
        "customer_status": customer.get("Status"),
        "customer_cause": customer.get("Cause"),
        "customer_since": _since(customer),
        "policy": policy,
        "sources": list(sources),
    }
    enable = (
        "`aws sesv2 update-reputation-entity-customer-managed-status --reputation-entity-type RESOURCE "
        f"--reputation-entity-reference {arn} --sending-status ENABLED --region {region}`"
    )
    if "DISABLED" in statuses:
        by_aws = aws.get("Status") == "DISABLED"
        by_customer = customer.get("Status") == "DISABLED"
        if by_aws and by_customer:
            who = "by SES (AwsSesManagedStatus) and by the team (CustomerManagedStatus)"
        elif by_aws:
            who = "by SES (AwsSesManagedStatus DISABLED)"
        elif by_customer:
            who = "by the team (CustomerManagedStatus DISABLED)"
        else:
            who = "(SendingStatus DISABLED)" if sending == "DISABLED" else "(SendingStatusAggregate DISABLED)"
        fixes = []
        if by_aws or not by_customer:
            fixes.append(
                "Fix what the Cause names (the bounces or complaints of this tenant's mail; the Advisor's "
                f"open findings: `aws sesv2 list-recommendations --filter RESOURCE_ARN={arn} --region {region}`), "
                "then ask AWS to re-enable it through a support case from the SES console's reputation page, "
                f"or wait for its reputation policy ({policy or 'not reported'}) to re-enable it once the "
                "findings are resolved; the team's own status cannot override SES's."
            )
        if by_customer:
            fixes.append(f"The team disabled it: when it should send again, {enable}.")
        return ctx.finding(
            Severity.CRITICAL,
            f"Tenant {name} is disabled {who} in {region}: SES sends none of the mail sent as {name}.",
            evidence=evidence,
            fix=" ".join(fixes) + f" ({REPUTATION_DOC})",
            data=data,
        )
    if unknown:
        named = ", ".join(f"{field} {s}" for field, s in unknown.items())
        return ctx.finding(
            Severity.WARNING,
            f"Tenant {name} reports a sending status this bot does not know in {region} ({named}): "
            f"it may not send the mail sent as {name}.",
            evidence=[
                *evidence,
                f"Known statuses: {'; '.join(f'{k}: {v}' for k, v in STATUS_MEANING.items())}.",
            ],
            fix=(
                f"Look at tenant {name} on the SES console's reputation page and at the AWS notices; "
                f"`aws sesv2 get-tenant --tenant-name {name} --region {region}` ({REPUTATION_DOC})"
            ),
            data=data,
        )
    if "REINSTATED" in statuses:
        return ctx.finding(
            Severity.WARNING,
            f"Tenant {name} is reinstated in {region}: it sends again, on probation, while its reputation "
            "findings may still be active.",
            evidence=[
                *evidence,
                f"REINSTATED: {STATUS_MEANING['REINSTATED']}; if the bounces or complaints that caused them "
                "continue, its reputation policy can disable it again.",
            ],
            fix=(
                "Resolve the tenant's open reputation findings before they disable it again: "
                f"`aws sesv2 list-recommendations --filter RESOURCE_ARN={arn} --region {region}` "
                f"({REPUTATION_DOC})"
            ),
            data=data,
        )
    return ctx.finding(
        Severity.OK,
        f"Tenant {name} is enabled in {region}.",
        evidence=evidence,
        data=data,
    )
