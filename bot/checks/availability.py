"""What an account has: Virtual Deliverability Manager, tenants, a plan. A capability that is absent is one
`info` line naming what enables it, never a failed diagnosis.

`vdm_enabled` reads the shared `GetAccount` answer (`VdmAttributes.VdmEnabled`); `absent` tells an AWS
error that means "this account does not have that" (access denied, VDM off, an operation the region or
plan lacks) from a real failure; `not_available` is the finding for it.
"""

from __future__ import annotations

from typing import Any

from bot.aws import describe_error, error_code
from bot.checks import CheckContext
from bot.checks.account import get_account
from bot.findings import Finding, Severity

VDM_DOC = "https://docs.aws.amazon.com/ses/latest/dg/vdm.html"
VDM_ENABLE = (
    "Virtual Deliverability Manager turns this on: `aws sesv2 put-account-vdm-attributes "
    f"--vdm-attributes VdmEnabled=ENABLED` ({VDM_DOC})"
)
ACCESS_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")
# Codes SES answers when an operation exists but this account, region or plan does not offer it.
NOT_OFFERED = ("BadRequestException", "UnknownOperationException", "InvalidAction")


def account(ctx: CheckContext) -> dict[str, Any] | None:
    """The shared `GetAccount` answer, or None when it failed (the account checks report that)."""
    try:
        return get_account(ctx)
    except Exception:
        return None


def vdm_enabled(ctx: CheckContext) -> bool | None:
    """True/False from `GetAccount.VdmAttributes.VdmEnabled`; None when the account could not be read."""
    acct = account(ctx)
    if acct is None:
        return None
    return ((acct.get("VdmAttributes") or {}).get("VdmEnabled") or "DISABLED") == "ENABLED"


def plan(ctx: CheckContext) -> str | None:
    """`GetAccount.PricingAttributes.CurrentPlan` (NONE, ESSENTIALS, PRO, ENTERPRISE), when reported."""
    acct = account(ctx)
    return ((acct or {}).get("PricingAttributes") or {}).get("CurrentPlan")


def caller(ctx: CheckContext) -> dict[str, Any]:
    """`sts:GetCallerIdentity`, once per run (the same in every region): the account id and partition of
    the bot's credentials, for resource ARNs SESv2 does not return. It needs no IAM permission; errors reach
    each caller as the botocore exception."""
    return ctx.memo.once(("sts.GetCallerIdentity",), lambda: ctx.client("sts").get_caller_identity())


def resource_arn(ctx: CheckContext, kind: str, name: str) -> str:
    """`arn:{partition}:ses:{region}:{account}:{kind}/{name}` (kind: identity, configuration-set, template)."""
    who = caller(ctx)
    partition = (who.get("Arn") or "arn:aws:").split(":")[1] or "aws"
    return f"arn:{partition}:ses:{ctx.region}:{who['Account']}:{kind}/{name}"


def absent(exc: BaseException) -> bool:
    """Does this AWS error mean "not available to this account" rather than "something broke"?"""
    return error_code(exc) in ACCESS_DENIED + NOT_OFFERED


def not_available(ctx: CheckContext, what: str, enable: str, exc: BaseException | None = None) -> Finding:
    """One info line: `what` is not available here; `enable` names the setting, plan or permission."""
    evidence = []
    if exc is not None:
        evidence.append(describe_error(exc))
        if error_code(exc) in ACCESS_DENIED:
            op = getattr(exc, "operation_name", "") or "the call"
            enable = f"Allow `ses:{op}` for the bot's IAM role or user (see the README's IAM policy)."
    current = plan(ctx)
    if current:
        evidence.append(f"Plan: {current}")
    return ctx.finding(
        Severity.INFO,
        f"{what} is not available on this account in {ctx.region}.",
        evidence=evidence,
        fix=enable,
        data={"available": False},
    )
