"""The bot's own permissions: which of the read calls it makes its credentials may make.

One job: record, per AWS action, whether a call was allowed (`Calls`, used by every inspection call), try the
read calls the inspection did not make with harmless requests (a name that does not exist: NotFound proves
the permission), and ask `iam:SimulatePrincipalPolicy` about the rest, those that cannot be tried without
side effects. `setup` reports the result as `setup.permissions`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.aws import describe_error, error_code
from bot.deps import Deps
from bot.setup.model import Inspection, QueueState

# Every AWS action the bot's read paths use. Most are tried during the inspection; the rest are tried with
# a harmless request (a name that does not exist: NotFound proves the permission) or, for those that
# cannot be tried without side effects, asked of iam:SimulatePrincipalPolicy.
BOT_ACTIONS = (
    "ses:GetAccount",
    "ses:GetEmailIdentity",
    "ses:GetSuppressedDestination",
    "ses:ListEmailTemplates",
    "ses:GetEmailTemplate",
    "ses:TestRenderEmailTemplate",
    "ses:GetDedicatedIps",
    "ses:ListConfigurationSets",
    "ses:GetConfigurationSet",
    "ses:GetConfigurationSetEventDestinations",
    "ses:GetIdentityNotificationAttributes",
    "ses:ListTenants",
    "ses:GetTenant",
    "ses:ListResourceTenants",
    "ses:GetReputationEntity",
    "ses:ListReputationEntities",
    "ses:GetMessageInsights",  # Virtual Deliverability Manager
    "ses:ListRecommendations",  # Virtual Deliverability Manager (the Advisor)
    "sns:ListSubscriptionsByTopic",
    "sns:GetTopicAttributes",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "cloudwatch:GetMetricData",
    "cloudwatch:ListMetrics",
    "cloudwatch:GetMetricWidgetImage",  # the rate chart in incident threads (SESBOT_CHARTS)
)
WRITE_ACTIONS = ("ses:DeleteSuppressedDestination",)  # only with SESBOT_ALLOW_WRITES
INSIGHTS_ACTIONS = ("ses:GetEmailAddressInsights",)  # only with SESBOT_EMAIL_INSIGHTS (charged per call)
PROBE_NAME = "sesbot-permission-check"


def wanted_actions(deps: Deps) -> tuple[str, ...]:
    """The actions the bot's credentials need: the read calls, email insights and the write calls when on."""
    return (
        BOT_ACTIONS
        + (INSIGHTS_ACTIONS if deps.settings.email_insights else ())
        + (WRITE_ACTIONS if deps.settings.allow_writes else ())
    )


def _denied(exc: BaseException) -> bool:
    code = error_code(exc) or ""
    return "AccessDenied" in code or code in ("AuthorizationError", "UnauthorizedOperation", "Forbidden")


class Calls:
    """Runs AWS calls, recording per action whether the credentials were allowed to make it."""

    def __init__(self, permissions: dict[str, str]):
        self.permissions = permissions

    def __call__(
        self, action: str, fn: Callable[..., Any], *args: Any, ok_codes: tuple[str, ...] = (), **kw: Any
    ) -> tuple[Any, BaseException | None]:
        """(result, None) or (None, exception); codes in `ok_codes` (NotFound...) still prove the permission."""
        try:
            result = fn(*args, **kw)
        except Exception as exc:
            if _denied(exc):
                self.permissions[action] = "denied"
            elif error_code(exc) in ok_codes or error_code(exc) == "NotFoundException":
                self.permissions.setdefault(action, "allowed")
            else:
                self.permissions.setdefault(action, f"error: {describe_error(exc)}")
            return None, exc
        if self.permissions.get(action) != "denied":  # denied once (say, for one resource) stays denied
            self.permissions[action] = "allowed"
        return result, None


def _caller(deps: Deps, region: str) -> tuple[str, str, str] | None:
    """(partition, account id, principal ARN) of the bot's credentials; sts:GetCallerIdentity needs no grant."""
    try:
        arn = deps.aws.get("sts", region).get_caller_identity()["Arn"]
    except Exception:
        return None
    parts = arn.split(":")
    return (parts[1], parts[4], arn) if len(parts) > 5 else None


def probe_permissions(deps: Deps, region: str, insp: Inspection, calls: Calls) -> None:
    """Try each read call the bot needs that the inspection did not make; simulate the rest."""
    _probe_ses(deps, region, insp, calls)
    _probe_cloudwatch(deps, region, calls)
    caller = _caller(deps, region)
    _probe_sns(deps, region, insp, calls, caller)
    queue = insp.queue
    _probe_sqs(deps, queue, calls)
    # sqs:ReceiveMessage is never tried: receiving would hide a message from the bot's own consumer.
    untried = [a for a in wanted_actions(deps) if a not in insp.permissions]
    if untried:
        for action, verdict in _simulate(deps, region, untried, queue, caller).items():
            insp.permissions[action] = verdict


def _probe_ses(deps: Deps, region: str, insp: Inspection, calls: Calls) -> None:
    sesv2 = deps.aws.get("sesv2", region)
    calls("ses:GetAccount", sesv2.get_account)
    calls("ses:GetSuppressedDestination", sesv2.get_suppressed_destination, EmailAddress=f"{PROBE_NAME}@example.com")
    calls("ses:ListEmailTemplates", sesv2.list_email_templates, PageSize=1)
    calls("ses:GetEmailTemplate", sesv2.get_email_template, TemplateName=PROBE_NAME)
    calls("ses:TestRenderEmailTemplate", sesv2.test_render_email_template, TemplateName=PROBE_NAME, TemplateData="{}")
    calls("ses:GetDedicatedIps", sesv2.get_dedicated_ips, PageSize=1)
    if "ses:GetEmailIdentity" not in insp.permissions:
        calls("ses:GetEmailIdentity", sesv2.get_email_identity, EmailIdentity=f"{PROBE_NAME}.example.com")
    if "ses:GetIdentityNotificationAttributes" not in insp.permissions:
        ses = deps.aws.get("ses", region)
        calls(
            "ses:GetIdentityNotificationAttributes",
            ses.get_identity_notification_attributes,
            Identities=[f"{PROBE_NAME}.example.com"],
        )


def _probe_cloudwatch(deps: Deps, region: str, calls: Calls) -> None:
    now = datetime.now(UTC)
    cloudwatch = deps.aws.get("cloudwatch", region)
    calls(
        "cloudwatch:GetMetricData",
        cloudwatch.get_metric_data,
        MetricDataQueries=[
            {
                "Id": "bounce",
                "MetricStat": {
                    "Metric": {"Namespace": "AWS/SES", "MetricName": "Reputation.BounceRate"},
                    "Period": 3600,
                    "Stat": "Average",
                },
            }
        ],
        StartTime=now - timedelta(hours=1),
        EndTime=now,
    )
    calls("cloudwatch:ListMetrics", cloudwatch.list_metrics, Namespace="AWS/SES", MetricName="Reputation.BounceRate")


def _probe_sns(deps: Deps, region: str, insp: Inspection, calls: Calls, caller: tuple[str, str, str] | None) -> None:
    if caller and (
        "sns:ListSubscriptionsByTopic" not in insp.permissions or "sns:GetTopicAttributes" not in insp.permissions
    ):
        # A topic of our own account that does not exist: NotFound proves the permission.
        sns = deps.aws.get("sns", region)
        fake = f"arn:{caller[0]}:sns:{region}:{caller[1]}:{PROBE_NAME}"
        calls("sns:ListSubscriptionsByTopic", sns.list_subscriptions_by_topic, TopicArn=fake, ok_codes=("NotFound",))
        calls("sns:GetTopicAttributes", sns.get_topic_attributes, TopicArn=fake, ok_codes=("NotFound",))


def _probe_sqs(deps: Deps, queue: QueueState | None, calls: Calls) -> None:
    if queue and queue.exists:
        sqs = deps.aws.get("sqs", queue.region)
        # An invalid receipt handle deletes nothing; ReceiptHandleIsInvalid proves the permission.
        calls(
            "sqs:DeleteMessage",
            sqs.delete_message,
            QueueUrl=queue.url,
            ReceiptHandle=PROBE_NAME,
            ok_codes=("ReceiptHandleIsInvalid", "InvalidParameterValue"),
        )


def _iam_client(deps: Deps, region: str) -> Any:
    """An IAM client that tries once: an unsupported or denied simulation must not wait out retries."""
    return deps.aws.get("iam", region, attempts=1)


def _simulate(
    deps: Deps, region: str, actions: list[str], queue: QueueState | None, caller: tuple[str, str, str] | None
) -> dict[str, str]:
    """iam:SimulatePrincipalPolicy for actions that cannot be tried; "could not verify: why" when it fails."""
    iam = _iam_client(deps, region)
    try:
        if caller is None:
            raise ValueError("the caller identity is unknown")
        arn = caller[2]
        m = re.match(r"^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/", arn)
        source = f"arn:{m.group(1)}:iam::{m.group(2)}:role/{m.group(3)}" if m else arn
        if source.endswith(":root"):
            raise ValueError("the root user cannot be simulated")
        resources = [queue.arn] if queue and queue.arn else ["*"]
        result = iam.simulate_principal_policy(PolicySourceArn=source, ActionNames=actions, ResourceArns=resources)
    except Exception as exc:
        why = describe_error(exc) if error_code(exc) else type(exc).__name__
        return {a: f"could not verify (iam:SimulatePrincipalPolicy: {why})" for a in actions}
    out = {}
    for r in result.get("EvaluationResults", []):
        out[r["EvalActionName"]] = "allowed" if r.get("EvalDecision") == "allowed" else "denied"
    return {a: out.get(a, "could not verify") for a in actions}
