"""Email validation: does SES itself judge the recipient's address, and what does it make of it?

Two checks:

* `account.validation` (per region): Auto Validation (`GetAccount.SuppressionAttributes.ValidationAttributes`,
  read from the shared `GetAccount` answer, so no call of its own). When it is on, SES suppresses
  recipients it judges below a confidence threshold: the send is accepted, nothing bounces, nothing
  arrives. That is a cause to name when the history holds neither a bounce nor a delivery. A
  configuration set can override the account's setting for the mail sent through it
  (`SuppressionOptions.ValidationOptions`): `config_set.delivery` judges each set's own setting; this
  check names the sets of this mail that override the account's (the same `GetConfigurationSet` answers,
  read once per run), so an account with Auto Validation off does not claim nothing is held back when a
  set turns it on.
* `recipient.validation`: `GetEmailAddressInsights` for the address, which SES charges per call. Off
  unless `SESBOT_EMAIL_INSIGHTS=true`; asked once per diagnosis (in the first configured region: the
  verdict is about the address, not the region), never once per region.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.checks import CheckContext, check
from bot.checks.account import account_unavailable, get_account
from bot.checks.availability import absent, not_available
from bot.findings import Finding, Severity
from bot.history import last_delivery
from bot.store import iso
from bot.timefmt import when

AUTO_VALIDATION_DOC = "https://docs.aws.amazon.com/ses/latest/dg/email-validation-auto.html"
VALIDATION_API_DOC = "https://docs.aws.amazon.com/ses/latest/dg/email-validation-api.html"
LOOKBACK = timedelta(days=30)  # the same window as the history checks

# What each Auto Validation threshold lets through (the SESv2 API reference's words, shortened).
THRESHOLDS = {
    "MEDIUM": "SES sends only to addresses it judges of medium or high delivery likelihood",
    "HIGH": "SES sends only to addresses it judges of high delivery likelihood",
    "MANAGED": "SES chooses the threshold itself, from the account's sending patterns and reputation",
}

# -- account.validation ------------------------------------------------------------------------------


def validation_condition(validation: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """(ConditionThresholdEnabled, ConfidenceVerdictThreshold) from the account's `ValidationAttributes` or a
    configuration set's `ValidationOptions` (the same shape)."""
    condition = (validation or {}).get("ConditionThreshold") or {}
    threshold = (condition.get("OverallConfidenceThreshold") or {}).get("ConfidenceVerdictThreshold")
    return condition.get("ConditionThresholdEnabled"), threshold


def account_condition(account: dict[str, Any]) -> tuple[str | None, str | None]:
    """(ConditionThresholdEnabled, ConfidenceVerdictThreshold) from a GetAccount answer."""
    return validation_condition((account.get("SuppressionAttributes") or {}).get("ValidationAttributes"))


def threshold_evidence(threshold: str | None) -> str:
    """The evidence line naming the threshold and what it lets through."""
    level = threshold or "not reported"
    return f"ConfidenceVerdictThreshold: {level}" + (f" ({THRESHOLDS[threshold]})" if threshold in THRESHOLDS else "")


def _delivered_at(ctx: CheckContext) -> str | None:
    """When mail to the recipient was last delivered, if in the window; None if not (or no history)."""
    if "@" not in ctx.target:
        return None
    try:
        at = last_delivery(ctx.deps.store, ctx.target)
    except Exception:  # no readable history: the finding simply cannot lean on it
        return None
    return at if at is not None and at >= iso(ctx.deps.now() - LOOKBACK) else None


def recipient_delivery(ctx: CheckContext) -> tuple[str | None, list[str]]:
    """When mail to the recipient was last delivered in the window (None if not), and the evidence line
    saying so (none when the target is a domain)."""
    delivered = _delivered_at(ctx)
    recipient = ctx.target if "@" in ctx.target else None
    if not recipient:
        return delivered, []
    if delivered:
        return delivered, [f"Last delivery to {recipient}: {when(delivered, ctx.deps.now())}"]
    return None, [f"No delivery to {recipient} in the last {LOOKBACK.days} days of the bot's event history."]


def validation_command(
    region: str | None,
    threshold: str | None,
    reasons: list[str] | None,
    *,
    config_set: str | None = None,
    scope: str | None = None,
) -> str:
    """The commands that lower the threshold or turn Auto Validation off: the account's
    (`put-account-suppression-attributes`) or, with `config_set`, that set's own
    (`put-configuration-set-suppression-options`).

    Either call sets the suppression reasons (and a set's suppression scope) too, so the commands repeat the
    current ones.
    """
    if config_set:
        call = f"put-configuration-set-suppression-options --configuration-set-name {config_set}"
        flag = "--validation-options"
    else:
        call, flag = "put-account-suppression-attributes", "--validation-attributes"
    keep = f" --suppressed-reasons {' '.join(reasons)}" if reasons else ""
    if config_set and scope:
        keep += f" --suppression-scope {scope}"
    where = f" --region {region}" if region else ""
    off = f"`aws sesv2 {call}{keep} {flag} 'ConditionThreshold={{ConditionThresholdEnabled=DISABLED}}'{where}`"
    if threshold == "MEDIUM":
        return f"turn it off: {off}"
    lower = (
        f"`aws sesv2 {call}{keep} {flag} "
        "'ConditionThreshold={ConditionThresholdEnabled=ENABLED,"
        f"OverallConfidenceThreshold={{ConfidenceVerdictThreshold=MEDIUM}}}}'{where}`"
    )
    return f"lower the threshold to MEDIUM: {lower}, or turn it off: {off}"


def _set_overrides(ctx: CheckContext) -> list[tuple[str, str, str | None]]:
    """(set, ConditionThresholdEnabled, threshold) for each readable set of this mail with its own
    `ValidationOptions`: the sets `config_set.delivery` judges, from the same answers (read once per run)."""
    # config_set imports this module's wording, so its readers are imported here rather than at the top.
    from bot.checks.config_set import get_config_set, used_sets

    try:
        names = list(used_sets(ctx).sets)
    except Exception:  # the configuration-set checks report what they could not read
        return []
    found: list[tuple[str, str, str | None]] = []
    for name in names:
        try:
            options = (get_config_set(ctx, name).get("SuppressionOptions") or {}).get("ValidationOptions")
        except Exception:  # config_set.sending reports a set that cannot be read
            options = None
        enabled, threshold = validation_condition(options)
        if enabled in ("ENABLED", "DISABLED"):
            found.append((name, enabled, threshold))
    return found


def _override_line(name: str, enabled: str, threshold: str | None) -> str:
    if enabled == "ENABLED":
        return (
            f"Configuration set {name}: its own Auto Validation is on (threshold {threshold or 'not reported'}) "
            "for mail sent through it (config_set.delivery)"
        )
    return f"Configuration set {name}: its own Auto Validation is off for mail sent through it (config_set.delivery)"


@check("account.validation", per_region=True)
def auto_validation(ctx: CheckContext) -> Finding | None:
    """Auto Validation on (WARNING; INFO when the recipient had mail delivered lately) or off (OK; INFO when a
    set of this mail turns it on for its own mail, which `config_set.delivery` judges).

    An unreadable account is the account checks' finding; this one says nothing then.
    """
    region = ctx.region
    try:
        account = get_account(ctx)
    except Exception:
        return None
    enabled, threshold = account_condition(account)
    overrides = _set_overrides(ctx)
    if enabled != "ENABLED":
        off_line = (
            f"ConditionThresholdEnabled: {enabled}"
            if enabled
            else "SuppressionAttributes.ValidationAttributes: not reported (Auto Validation off)"
        )
        on = [(name, level) for name, state, level in overrides if state == "ENABLED"]
        if on:
            sets = ", ".join(f"{name} (threshold {level or 'not reported'})" for name, level in on)
            several = len(on) > 1
            return ctx.finding(
                Severity.INFO,
                f"Auto Validation is off for the account in {region}, but the configuration "
                f"set{'s' if several else ''} {sets} turn{'' if several else 's'} it on for the mail sent through "
                f"{'them' if several else 'it'}: SES holds back recipients of that mail it judges below the "
                "threshold (config_set.delivery reports it).",
                evidence=[off_line, *(_override_line(*o) for o in overrides)],
                data={"auto_validation": False, "set_auto_validation": {name: level for name, level in on}},
            )
        return ctx.finding(
            Severity.OK,
            f"Auto Validation is off in {region}: SES does not hold back recipients on its own judgement.",
            evidence=[off_line],
            data={"auto_validation": False},
        )

    level = threshold or "not reported"
    evidence = [
        "ConditionThresholdEnabled: ENABLED",
        threshold_evidence(threshold),
        "SES accepts the send and returns a MessageId, then does not deliver to a recipient it judges "
        "below the threshold.",
        *(_override_line(*o) for o in overrides),
    ]
    delivered, delivery_lines = recipient_delivery(ctx)
    evidence += delivery_lines
    recipient = ctx.target if "@" in ctx.target else None
    reasons = (account.get("SuppressionAttributes") or {}).get("SuppressedReasons")
    fix = (
        f"If SES holds back addresses you know are good, {validation_command(region, threshold, reasons)} "
        f"({AUTO_VALIDATION_DOC})"
    )
    data = {"auto_validation": True, "threshold": threshold, "delivered_recently": bool(delivered)}
    summary = (
        f"Auto Validation is on in {region} (threshold {level}): SES itself suppresses recipients it judges "
        "below that confidence, so mail can be sent, never bounce and never be delivered"
    )
    if delivered:
        return ctx.finding(
            Severity.INFO,
            summary + f"; mail to {recipient} was delivered lately, so it is not held back.",
            evidence=evidence,
            fix=fix,
            data=data,
        )
    return ctx.finding(Severity.WARNING, summary + ".", evidence=evidence, fix=fix, data=data)


# -- recipient.validation ----------------------------------------------------------------------------

COST_NOTE = "GetEmailAddressInsights is charged per call (asked because SESBOT_EMAIL_INSIGHTS=true)."

# Each verdict SES returns, in the order the evidence lists them, with what it judges.
VERDICTS = (
    ("IsValid", "overall validity"),
    ("HasValidSyntax", "the address follows the RFC syntax"),
    ("HasValidDnsRecords", "the domain exists and is set up to receive mail"),
    ("MailboxExists", "the mailbox exists and can receive mail"),
    ("IsRoleAddress", "a role address such as admin@ or info@"),
    ("IsDisposable", "a disposable or temporary address"),
    ("IsRandomInput", "looks like random text"),
)

# (verdict, confidence) -> severity and what it means, worst first: the first that applies is the summary
# (every verdict stays in the evidence).
JUDGEMENTS = (
    ("IsValid", "LOW", Severity.ERROR, "SES judges {address} unlikely to exist"),
    ("MailboxExists", "LOW", Severity.ERROR, "SES judges {address} unlikely to exist: no such mailbox"),
    ("IsDisposable", "HIGH", Severity.WARNING, "SES judges {address} a disposable address"),
    ("IsRandomInput", "HIGH", Severity.WARNING, "SES judges {address} random input, not a real address"),
    ("IsRoleAddress", "HIGH", Severity.INFO, "SES judges {address} a role address, which usually engages less"),
)


def _verdicts(answer: dict[str, Any]) -> dict[str, str]:
    """Each verdict's confidence (LOW/MEDIUM/HIGH) from a GetEmailAddressInsights answer."""
    mailbox = answer.get("MailboxValidation") or {}
    found = {"IsValid": (mailbox.get("IsValid") or {}).get("ConfidenceVerdict")}
    for name, verdict in (mailbox.get("Evaluations") or {}).items():
        found[name] = (verdict or {}).get("ConfidenceVerdict")
    return {name: value for name, value in found.items() if value}


def _first_scope(ctx: CheckContext) -> bool:
    """Asked once per diagnosis (each call is charged): in the first account's first region. SES judges the
    address itself, the same from any account or region."""
    regions = ctx.settings.regions
    first_account = ctx.deps.accounts()[0].account_name
    return ctx.region == (regions[0] if regions else None) and ctx.deps.account_name == first_account


@check("recipient.validation", per_region=True)
def address_insights(ctx: CheckContext) -> Finding | None:
    """SES's own judgement of the address (`GetEmailAddressInsights`), only when turned on: it costs money."""
    region, address = ctx.region, ctx.target
    if "@" not in address or not _first_scope(ctx):
        return None
    if not ctx.settings.email_insights:
        return ctx.finding(
            Severity.INFO,
            f"SES's email address insights for {address} were not asked in {region}: they cost money per "
            "call; SESBOT_EMAIL_INSIGHTS=true turns them on.",
            fix=f"Set SESBOT_EMAIL_INSIGHTS=true to have `why` ask GetEmailAddressInsights ({VALIDATION_API_DOC})",
            data={"asked": False},
        )
    try:
        answer = ctx.memo.once(
            ("sesv2.GetEmailAddressInsights", region, address),
            lambda: ctx.client("sesv2").get_email_address_insights(EmailAddress=address),
        )
    except Exception as exc:
        if absent(exc):
            return not_available(
                ctx,
                "SES email address insights (GetEmailAddressInsights)",
                "The Email Validation API must be offered in this region and on the account's plan: "
                + VALIDATION_API_DOC,
                exc,
            )
        return account_unavailable(ctx.check_id, exc, region, "GetEmailAddressInsights")

    verdicts = _verdicts(answer)
    described = dict(VERDICTS)
    evidence = [f"{name}: {verdicts[name]} ({described[name]})" for name, _ in VERDICTS if name in verdicts] + [
        f"{name}: {value}" for name, value in verdicts.items() if name not in described
    ]
    evidence.append(COST_NOTE)
    data: dict[str, Any] = {"asked": True, "verdicts": verdicts}
    for name, confidence, severity, meaning in JUDGEMENTS:
        if verdicts.get(name) == confidence:
            fix = (
                "Check the address with the person (a typo is the usual cause) before sending to it again: "
                "mail to an address that does not exist hard-bounces and counts toward the bounce rate."
                if severity == Severity.ERROR
                else ""
            )
            return ctx.finding(
                severity,
                f"{meaning.format(address=address)} ({name} {confidence}, asked in {region}).",
                evidence=evidence,
                fix=fix,
                data=data,
            )
    return ctx.finding(
        Severity.OK,
        f"SES judges {address} a valid mailbox (asked in {region}).",
        evidence=evidence,
        data=data,
    )
