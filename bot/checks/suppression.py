"""Suppression list: is the recipient on the account's suppression list in this region, or on the own
list of a tenant its mail was sent as?

One check, `recipient.suppressed`. A suppressed address is a top cause of "the mail never arrived":
SES accepts the send, returns a MessageId, never delivers it, and reports a
`Permanent/OnAccountSuppressionList` bounce that nobody reads.

Tenants (see `bot.checks.tenant`) can keep their own suppression lists (`TenantName` on
`GetSuppressedDestination`; `SuppressionScope` TENANT on the tenant says its own list is the one that
applies), so "not on the account list" no longer means "not suppressed": each tenant the mail used
(`tenants_used`, shared with `tenant.status`) has its list read too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.aws import describe_error, error_code
from bot.checks import CheckContext, check
from bot.checks.account import account_unavailable, get_account
from bot.checks.config_set import get_config_set, used_sets
from bot.checks.recipient_history import BLOCKLIST_CATEGORIES, BOUNCE, _category, _recipient_rows, _window
from bot.checks.tenant import get_tenant, sources_line, tenants_used
from bot.findings import Finding, Severity
from bot.history import last_delivery
from bot.timefmt import iso, parse_ts, when

CHECK = "recipient.suppressed"
SUPPRESSION_DOC = "https://docs.aws.amazon.com/ses/latest/dg/sending-email-suppression-list.html"
TENANT_DOC = "https://docs.aws.amazon.com/ses/latest/dg/sending-email-suppression-list-tenant-level-manage.html"
# The scope SES gives a tenant whose SuppressionAttributes name none (botocore's TenantSuppressionAttributes).
DEFAULT_TENANT_SCOPE = "ACCOUNT"


def _lookup(ctx: CheckContext, address: str, tenant: str | None = None) -> dict[str, Any] | None:
    kwargs = {"EmailAddress": address} if tenant is None else {"EmailAddress": address, "TenantName": tenant}
    try:
        return ctx.client("sesv2").get_suppressed_destination(**kwargs)["SuppressedDestination"]
    except Exception as exc:
        if error_code(exc) == "NotFoundException":
            return None
        raise


def _lookup_any_case(ctx: CheckContext, address: str, tenant: str | None = None) -> dict[str, Any] | None:
    entry = _lookup(ctx, address, tenant)
    # The list matches addresses as SES stored them; a differently-cased local part is worth a look.
    if entry is None and address != address.lower():
        entry = _lookup(ctx, address.lower(), tenant)
    return entry


def _blocklist_bounce(ctx: CheckContext) -> dict[str, Any] | None:
    """The recipient's latest hard bounce (the one that put a BOUNCE entry there) when its text names a
    blocklist, else None: then the listing is the cause and the entry its consequence (recipient.blocklist
    owns the bounce, as README's ranking says), and removing the entry before delisting only bounces again."""
    since, _ = _window(ctx)
    for row in _recipient_rows(ctx, BOUNCE, since):
        if (row.get("bounce_type") or "").lower() != "permanent" or _category(row) == "suppressed":
            continue  # SES's own drops of the suppressed address say nothing of why it was put there
        return row if _category(row) in BLOCKLIST_CATEGORIES else None
    return None


# Who still gets mail when an entry does not stop it, by the entry's reason.
STILL_REACHES = {"COMPLAINT": "someone who complained", "BOUNCE": "an address that hard-bounced"}


def _not_blocking(ctx: CheckContext, reason: str, updated: Any) -> tuple[str, list[str], list[str]] | None:
    """Why the account entry stops none of the recipient's mail, its evidence and the sets that skip it; None
    when it does stop it. Every set the mail uses (`used_sets`) has its own SuppressedReasons without
    `reason`, or mail to the address was delivered after the entry's LastUpdateTime."""
    found = used_sets(ctx)
    lines: list[str] = []
    for name in found.sets:
        try:
            options = get_config_set(ctx, name).get("SuppressionOptions") or {}
        except Exception:  # config_set.sending reports an unreadable set; it may well apply the entry
            return _delivered_since(ctx, updated)
        own = options.get("SuppressedReasons")
        if own is None or reason in own:  # the account's reasons, or its own with this one
            return _delivered_since(ctx, updated)
        lines.append(
            f"Configuration set {name} (from {found.source(name)}): SuppressionOptions.SuppressedReasons "
            f"{', '.join(own) or 'none'}, so {reason} entries stop none of its mail"
        )
    if not lines:
        return _delivered_since(ctx, updated)
    names = list(found.sets)
    sets = f"set {names[0]} does" if len(names) == 1 else f"sets {', '.join(names)} do"
    return f"{sets} not apply it", lines, names


def _delivered_since(ctx: CheckContext, updated: Any) -> tuple[str, list[str], list[str]] | None:
    listed = parse_ts(updated)
    delivered = last_delivery(ctx.deps.store, ctx.target)
    if listed is None or delivered is None or delivered <= iso(listed):
        return None
    at = when(delivered, ctx.deps.now())
    return f"mail to it was delivered {at}, after it was listed", [f"Last delivery to {ctx.target}: {at}"], []


def _suppressed_reasons(ctx: CheckContext) -> list[str] | None:
    """The reasons the account list collects, from the shared GetAccount answer; None if unknown."""
    try:
        account = get_account(ctx)
    except Exception:  # the account checks report that failure; here it only loses a note
        return None
    attrs = account.get("SuppressionAttributes")
    if attrs is None:
        return None
    return list(attrs.get("SuppressedReasons") or [])


@check(CHECK, per_region=True)
def suppressed(ctx: CheckContext) -> Finding | list[Finding]:
    region, address = ctx.region, ctx.target
    try:
        entry = _lookup_any_case(ctx, address)
    except Exception as exc:
        return account_unavailable(CHECK, exc, region, "GetSuppressedDestination")
    tenants = _tenant_lists(ctx, address)
    hits = [t for t in tenants if t.entry is not None]

    reasons = _suppressed_reasons(ctx)
    reasons_line = (
        None
        if reasons is None
        else (
            f"Account suppression list collects: {', '.join(reasons)}"
            if reasons
            else "Account suppression list collects nothing (SuppressedReasons is empty)"
        )
    )

    if entry is None:
        evidence = [f"GetSuppressedDestination({address}): NotFoundException"]
        if reasons_line:
            evidence.append(reasons_line)
        summary = f"{address} is not on the account suppression list in {region}."
        fix = ""
        if reasons == []:
            # Without the list, SES keeps sending to addresses that hard-bounce; they count toward the
            # bounce rate that decides reviews and pauses.
            summary += " (The account-level suppression list is turned off.)"
            fix = (
                "Consider turning it on: `aws sesv2 put-account-suppression-attributes "
                f"--suppressed-reasons BOUNCE COMPLAINT --region {region}` ({SUPPRESSION_DOC})"
            )
        if hits:
            # The account list is clean; the finding is the tenant list that has the address.
            return [_tenant_finding(ctx, t, account_clean=True) for t in hits]
        if tenants:
            names = ", ".join(t.name for t in tenants)
            summary += f" It is not on the suppression list of tenant{'s' if len(tenants) > 1 else ''} {names} either."
            for t in tenants:
                evidence += t.lines
                if t.scope == "TENANT":
                    evidence.append(_scope_line(t))
        return Finding(CHECK, Severity.OK, summary, evidence=evidence, fix=fix, data={"suppressed": False})

    now = ctx.deps.now()
    reason = entry.get("Reason") or "unknown"
    attrs = entry.get("Attributes") or {}
    stored = entry.get("EmailAddress") or address
    evidence = [
        f"Reason: {reason}",
        f"On the list since: {when(entry.get('LastUpdateTime'), now)}",
    ]
    if attrs.get("MessageId"):
        evidence.append(f"Put there by message: {attrs['MessageId']}")
    if attrs.get("FeedbackId"):
        evidence.append(f"Feedback ID: {attrs['FeedbackId']}")
    if reasons_line:
        evidence.append(reasons_line)
    updated = entry.get("LastUpdateTime")
    lets_through = _not_blocking(ctx, reason, updated)
    if lets_through:
        evidence += lets_through[1]
    else:
        evidence.append(
            "SES accepts sends to this address, returns a MessageId, and never delivers them; each one is "
            "reported as a Permanent/OnAccountSuppressionList bounce."
        )
    remove = f"`aws sesv2 delete-suppressed-destination --email-address {stored} --region {region}`"
    if reason == "COMPLAINT":
        cause = "after they marked a message as spam"
        fix = (
            f"Only if {stored} has asked to get your mail again, remove it: {remove}. Sending to people who "
            f"complained raises the complaint rate AWS reviews accounts on. ({SUPPRESSION_DOC})"
        )
    else:
        cause = "after a hard bounce" if reason == "BOUNCE" else f"(reason {reason})"
        fix = (
            f"Make sure the address is valid now (ask the person; check the recipient.bounces history), then "
            f"remove it: {remove}. ({SUPPRESSION_DOC})"
        )
    listed = _blocklist_bounce(ctx) if reason == "BOUNCE" else None
    if listed is not None:
        cause = "after a hard bounce naming a blocklist (recipient.blocklist has the cause)"
        fix = (
            f"Clear the listing first (see recipient.blocklist), then remove the address from the suppression "
            f"list: {remove}. Removed while the listing stands, it only bounces again. ({SUPPRESSION_DOC})"
        )
    for t in tenants:
        if t.scope == "TENANT":
            evidence.append(
                f"Tenant {t.name} uses its own suppression list (SuppressionScope TENANT): mail sent as "
                f"{t.name} is checked against that list, not this one."
            )
    # Every tenant the mail is sent as keeps its own list: this entry stops none of that mail.
    own_lists = bool(tenants) and all(t.scope == "TENANT" for t in tenants)
    if own_lists:
        names = ", ".join(t.name for t in tenants)
        severity = Severity.WARNING
        summary = (
            f"{stored} is on the account suppression list in {region} {cause}, but mail sent as {names} is "
            "checked against the tenant's own list (SuppressionScope TENANT): this entry stops only mail sent "
            "without a tenant."
        )
    elif lets_through:
        # The entry is real but stops none of the mail: what reaches the address is the news, not a block.
        severity = Severity.WARNING
        why, _, skipping = lets_through
        summary = (
            f"{stored} is on the account suppression list in {region} for {reason}, but {why}: mail still "
            f"reaches {STILL_REACHES.get(reason, 'it')}."
        )
        if skipping:
            fix = (
                f"If {stored} should get no mail, make configuration set {', '.join(skipping)} suppress {reason} "
                f"again (config_set.delivery gives the command). ({SUPPRESSION_DOC})"
            )
    else:
        # A blocklist bounce put it there: the listing is the cause and ranks first (critical), this entry next.
        severity = Severity.CRITICAL if listed is None else Severity.ERROR
        summary = (
            f"{stored} is on the account suppression list in {region} {cause}: SES accepts mail to it "
            "but never delivers it."
        )
    account_finding = Finding(
        CHECK,
        severity,
        summary,
        evidence=evidence,
        fix=fix,
        data={
            "suppressed": True,
            "reason": reason,
            "last_update": updated.isoformat() if isinstance(updated, datetime) else updated,
            "message_id": attrs.get("MessageId"),
            "feedback_id": attrs.get("FeedbackId"),
        },
    )
    if not hits:
        return account_finding
    return [account_finding] + [_tenant_finding(ctx, t, account_clean=False) for t in hits]


# -- the tenants' own lists ---------------------------------------------------------------------------


@dataclass
class TenantList:
    """One tenant's suppression list, as read for the recipient."""

    name: str
    sources: dict[str, str]
    entry: dict[str, Any] | None = None
    scope: str | None = None  # GetTenant SuppressionAttributes.SuppressionScope
    reasons: list[str] | None = None  # GetTenant SuppressionAttributes.SuppressedReasons
    lines: list[str] = field(default_factory=list)  # evidence: what was read
    settings_read: bool = False  # GetTenant answered, so an unset scope is SES's default

    @property
    def effective_scope(self) -> str | None:
        """The scope SES applies: the reported one, else `DEFAULT_TENANT_SCOPE`; None when GetTenant failed."""
        return self.scope or (DEFAULT_TENANT_SCOPE if self.settings_read else None)


def _tenant_lists(ctx: CheckContext, address: str) -> list[TenantList]:
    """The recipient looked up on the list of each tenant the mail used; failures are evidence lines."""
    out: list[TenantList] = []
    for name, sources in tenants_used(ctx).names.items():
        t = TenantList(name, sources)
        try:
            t.entry = _lookup_any_case(ctx, address, name)
            if t.entry is None:
                t.lines.append(f"GetSuppressedDestination({address}, TenantName={name}): NotFoundException")
        except Exception as exc:
            t.lines.append(f"Tenant {name}'s suppression list could not be read: {describe_error(exc)}")
        try:
            attrs = get_tenant(ctx, name).get("SuppressionAttributes") or {}
            t.scope = attrs.get("SuppressionScope")
            t.settings_read = True
            if "SuppressedReasons" in attrs:
                t.reasons = list(attrs.get("SuppressedReasons") or [])
        except Exception as exc:
            t.lines.append(f"Tenant {name}'s suppression settings could not be read: {describe_error(exc)}")
        out.append(t)
    return out


def _scope_line(t: TenantList) -> str:
    if t.scope == "TENANT":
        return (
            f"Tenant {t.name}: SuppressionScope TENANT: the tenant uses its own suppression list, so this list, "
            f"not the account's, is the one that applies to mail sent as {t.name}"
        )
    if t.effective_scope == "ACCOUNT":
        scope = "ACCOUNT" if t.scope else "not reported, so SES's default ACCOUNT"
        return (
            f"Tenant {t.name}: SuppressionScope {scope}: the tenant uses the account-level suppression list, "
            "so this entry stops none of its mail while the scope stays ACCOUNT"
        )
    return f"Tenant {t.name}: SuppressionScope {t.scope or 'not read'}"


def _tenant_finding(ctx: CheckContext, t: TenantList, *, account_clean: bool) -> Finding:
    entry = t.entry or {}
    region, address, now = ctx.region, ctx.target, ctx.deps.now()
    reason = entry.get("Reason") or "unknown"
    attrs = entry.get("Attributes") or {}
    stored = entry.get("EmailAddress") or address
    evidence = [sources_line(t.name, t.sources)]
    if account_clean:
        evidence.append(f"GetSuppressedDestination({address}): NotFoundException")
    evidence += [
        f"GetSuppressedDestination({address}, TenantName={t.name}): on tenant {t.name}'s list",
        f"Reason: {reason}",
        f"On tenant {t.name}'s list since: {when(entry.get('LastUpdateTime'), now)}",
    ]
    if attrs.get("MessageId"):
        evidence.append(f"Put there by message: {attrs['MessageId']}")
    if attrs.get("FeedbackId"):
        evidence.append(f"Feedback ID: {attrs['FeedbackId']}")
    evidence.append(_scope_line(t))
    if t.reasons is not None:
        evidence.append(
            f"Tenant {t.name}'s suppression list collects: {', '.join(t.reasons)}"
            if t.reasons
            else f"Tenant {t.name}'s suppression list collects nothing (SuppressedReasons is empty)"
        )
    evidence += t.lines
    remove = (
        f"`aws sesv2 delete-suppressed-destination --email-address {stored} --tenant-name {t.name} --region {region}`"
    )
    if reason == "COMPLAINT":
        cause = "after they marked a message as spam"
        fix = (
            f"Only if {stored} has asked to get your mail again, remove it from tenant {t.name}'s list: {remove}. "
            f"Sending to people who complained raises the complaint rate AWS reviews accounts on. ({TENANT_DOC})"
        )
    else:
        cause = "after a hard bounce" if reason == "BOUNCE" else f"(reason {reason})"
        fix = (
            "Make sure the address is valid now (ask the person; check the recipient.bounces history), then "
            f"remove it from tenant {t.name}'s list: {remove}. ({TENANT_DOC})"
        )
    where = (
        f"{stored} is not on the account suppression list in {region}, but on tenant {t.name}'s list {cause}"
        if account_clean
        else f"{stored} is also on tenant {t.name}'s suppression list in {region} {cause}"
    )
    updated = entry.get("LastUpdateTime")
    data = {
        "suppressed": True,
        "tenant": t.name,
        "scope": t.scope,
        "reason": reason,
        "last_update": updated.isoformat() if isinstance(updated, datetime) else updated,
        "message_id": attrs.get("MessageId"),
        "feedback_id": attrs.get("FeedbackId"),
    }
    if t.effective_scope == "ACCOUNT":
        return Finding(
            CHECK,
            Severity.WARNING,
            f"{where}; the tenant uses the account list (SuppressionScope ACCOUNT), so that entry stops none "
            "of its mail today.",
            evidence=evidence,
            fix=f"Remove the stale entry before the tenant switches to its own list: {remove}. ({TENANT_DOC})",
            data=data,
        )
    return Finding(
        CHECK,
        Severity.CRITICAL,
        f"{where}: SES accepts mail sent as {t.name} to it but never delivers it.",
        evidence=evidence,
        fix=fix,
        data=data,
    )
