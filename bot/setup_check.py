"""Event setup: can the bot see what SES reports, per region, and what would make it see everything?

One job: inspect (read-only) how SES events reach the bot, say what is missing as findings, and build and
apply the plan that fixes it. Used by `setup` (the report and `--apply`) and by the `events.coverage`
check of `why` (the same inspection, cached for a few minutes, without the permission probes).

What is inspected, per region:

* the sender identity that governs (the address identity when it exists, else the domain: SES applies the
  address's settings first), its SES v1 feedback notification topics (`GetIdentityNotificationAttributes`:
  Bounce/Complaint/Delivery) and its default configuration set (`GetEmailIdentity.ConfigurationSetName`);
* every configuration set (`ListConfigurationSets`): its event destinations
  (`GetConfigurationSetEventDestinations`: which `MatchingEventTypes`, enabled, which SNS topic) and whether
  reputation metrics are on (`GetConfigurationSet.ReputationOptions`);
* each SNS topic involved: whether it has a confirmed SQS subscription to the bot's queue
  (`ListSubscriptionsByTopic`), whether the queue policy lets it send, whether its own policy lets SES
  publish; a topic in `SESBOT_SNS_TOPIC_ARNS` reaches the bot over HTTPS;
* the bot's queue (`SESBOT_SQS_QUEUE_URL`): exists, its ARN and policy;
* with `permissions=True`, every read call the bot makes, tried once (AccessDenied is reported per action),
  and `iam:SimulatePrincipalPolicy` for the calls that cannot be tried without side effects.

An event type is seen "for all mail" when it comes through the identity's notifications or its default
configuration set, and only "for some mail" when it comes through another configuration set (SES publishes
those only for sends that name the set).
"""

from __future__ import annotations

import fnmatch
import json
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.aws import describe_error, error_code
from bot.deps import Deps
from bot.findings import Finding, Report, Severity

TOPIC_NAME = "sesbot-events"
QUEUE_NAME = "sesbot-events"
CONFIG_SET_NAME = "sesbot"
DESTINATION_NAME = "sesbot"

# The event types the bot uses: problems become rows, sends and deliveries feed the counters.
WANTED_TYPES = ("SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "DELIVERY_DELAY", "RENDERING_FAILURE")
TYPE_WORDS = {
    "BOUNCE": "bounces",
    "COMPLAINT": "complaints",
    "DELIVERY_DELAY": "delivery delays",
    "RENDERING_FAILURE": "rendering failures",
    "REJECT": "rejects",
    "DELIVERY": "deliveries",
    "SEND": "sends",
}
# How much it matters when the bot cannot see a type.
TYPE_SEVERITY = {
    "BOUNCE": Severity.ERROR,
    "COMPLAINT": Severity.ERROR,
    "DELIVERY_DELAY": Severity.WARNING,
    "RENDERING_FAILURE": Severity.WARNING,
    "REJECT": Severity.INFO,
    "DELIVERY": Severity.INFO,
    "SEND": Severity.INFO,
}
V1_TYPES = {"Bounce": "BOUNCE", "Complaint": "COMPLAINT", "Delivery": "DELIVERY"}

DOC_EVENTS = "https://docs.aws.amazon.com/ses/latest/dg/monitor-using-event-publishing.html"
DOC_SNS_DESTINATION = "https://docs.aws.amazon.com/ses/latest/dg/event-publishing-add-event-destination-sns.html"
DOC_SQS_SUBSCRIBE = "https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html"
DOC_REPUTATION = "https://docs.aws.amazon.com/ses/latest/dg/monitor-sending-activity.html"
DOC_DEFAULT_SET = "https://docs.aws.amazon.com/ses/latest/dg/managing-configuration-sets.html"

CACHE_SECONDS = 300
MAX_CONFIG_SETS = 50
MAX_PAGES = 10

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
    "sns:ListSubscriptionsByTopic",
    "sns:GetTopicAttributes",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "cloudwatch:GetMetricData",
    "cloudwatch:ListMetrics",
)
WRITE_ACTIONS = ("ses:DeleteSuppressedDestination",)  # only with SESBOT_ALLOW_WRITES
PROBE_NAME = "sesbot-permission-check"


# -- state ---------------------------------------------------------------------------------------------


@dataclass
class Destination:
    config_set: str
    name: str
    enabled: bool
    types: list[str]
    kind: str  # SNS, CloudWatch, Firehose, EventBridge, Pinpoint
    topic_arn: str | None = None


@dataclass
class ConfigSetState:
    name: str
    destinations: list[Destination] = field(default_factory=list)
    reputation_metrics: bool | None = None
    error: str | None = None


@dataclass
class IdentityState:
    name: str
    exists: bool
    verified: bool | None = None
    default_config_set: str | None = None
    topics: dict[str, str] = field(default_factory=dict)  # Bounce/Complaint/Delivery -> topic ARN
    error: str | None = None


@dataclass
class QueueState:
    url: str
    region: str
    configured: bool  # from SESBOT_SQS_QUEUE_URL (else discovered by name)
    exists: bool | None = None
    arn: str | None = None
    policy: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class TopicState:
    arn: str
    exists: bool | None = None
    https: bool = False  # listed in SESBOT_SNS_TOPIC_ARNS: the bot's HTTPS endpoint is subscribed
    sqs_subscribed: bool = False
    pending: bool = False
    queue_allows: bool = False
    ses_may_publish: bool | None = None
    used: bool = True  # False: found by name (sesbot-events) but no destination or notification uses it
    error: str | None = None

    @property
    def reaches_bot(self) -> bool:
        return self.https or (self.sqs_subscribed and self.queue_allows)

    @property
    def name(self) -> str:
        return self.arn.rsplit(":", 1)[-1]


@dataclass
class Coverage:
    """How one event type reaches the bot: for all mail, only for mail naming a set, or not at all."""

    type: str
    scope: str  # all, some, none
    via: list[str] = field(default_factory=list)


@dataclass
class Inspection:
    region: str
    identities: list[IdentityState] = field(default_factory=list)
    config_sets: dict[str, ConfigSetState] = field(default_factory=dict)
    config_sets_error: str | None = None
    topics: dict[str, TopicState] = field(default_factory=dict)
    queue: QueueState | None = None
    permissions: dict[str, str] = field(default_factory=dict)  # action -> allowed / denied / error: ...
    errors: list[str] = field(default_factory=list)
    at: float = 0.0

    @property
    def effective(self) -> IdentityState | None:
        """The identity whose settings SES applies: the address when it is an identity, else the domain."""
        return next((i for i in self.identities if i.exists), None)

    @property
    def default_set(self) -> str | None:
        eff = self.effective
        return eff.default_config_set if eff else None

    def coverage(self) -> dict[str, Coverage]:
        result = {t: Coverage(t, "none") for t in WANTED_TYPES}
        eff = self.effective
        if eff:
            for kind, arn in eff.topics.items():
                topic = self.topics.get(arn)
                wanted = V1_TYPES.get(kind)
                if wanted and topic and topic.reaches_bot:
                    result[wanted].scope = "all"
                    result[wanted].via.append(f"{kind} notifications of {eff.name} -> {topic.name}")
        for cs in self.config_sets.values():
            default = cs.name == self.default_set
            for d in cs.destinations:
                topic = self.topics.get(d.topic_arn or "")
                if not (d.enabled and topic and topic.reaches_bot):
                    continue
                for t in d.types:
                    if t not in result:
                        continue
                    cov = result[t]
                    if default:
                        cov.scope = "all"
                    elif cov.scope == "none":
                        cov.scope = "some"
                    cov.via.append(f"configuration set {cs.name}{' (default)' if default else ''} -> {topic.name}")
        return result


# -- helpers -----------------------------------------------------------------------------------------


def _denied(exc: BaseException) -> bool:
    code = error_code(exc) or ""
    return "AccessDenied" in code or code in ("AuthorizationError", "UnauthorizedOperation", "Forbidden")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def region_of_arn(arn: str, default: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[3] else default


def region_of_queue(url: str, default: str) -> str:
    m = re.search(r"(?:sqs\.)?([a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d)\.(?:queue\.)?amazonaws", url)
    return m.group(1) if m else default


def _principal_is(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        if "*" in _as_list(principal.get("AWS")) or "*" in _as_list(principal.get("Service")):
            return True
        return service in _as_list(principal.get("Service"))
    return False


def _action_covers(actions: Any, wanted: str) -> bool:
    return any(fnmatch.fnmatch(wanted.lower(), str(a).lower()) for a in _as_list(actions))


def _condition_matches(condition: Any, source_arn: str) -> bool:
    """Whether a policy condition lets requests from `source_arn` through (unknown keys: assumed yes)."""
    if not condition:
        return True
    account = source_arn.split(":")[4] if source_arn.count(":") >= 5 else ""
    for operator, pairs in condition.items():
        if not isinstance(pairs, dict):
            continue
        for key, values in pairs.items():
            key_l = key.lower()
            if key_l == "aws:sourcearn":
                if not any(fnmatch.fnmatch(source_arn, str(v)) for v in _as_list(values)):
                    return False
            elif key_l in ("aws:sourceaccount", "aws:sourceowner"):
                if account and account not in [str(v) for v in _as_list(values)]:
                    return False
            elif operator.lower().startswith("arn") and key_l.endswith("sourcearn"):
                return False
    return True


def queue_policy_allows(policy: dict[str, Any] | None, topic_arn: str) -> bool:
    """Whether an SQS queue policy lets SNS topic `topic_arn` send messages to the queue."""
    for st in _as_list((policy or {}).get("Statement")):
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        if not _action_covers(st.get("Action"), "sqs:SendMessage"):
            continue
        if not _principal_is(st.get("Principal"), "sns.amazonaws.com"):
            continue
        if _condition_matches(st.get("Condition"), topic_arn):
            return True
    return False


def topic_policy_lets_ses_publish(policy: dict[str, Any] | None) -> bool:
    """Whether an SNS topic policy grants ses.amazonaws.com sns:Publish (SES needs it for event publishing)."""
    for st in _as_list((policy or {}).get("Statement")):
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal")
        explicit = isinstance(principal, dict) and "ses.amazonaws.com" in _as_list(principal.get("Service"))
        if (explicit or principal == "*") and _action_covers(st.get("Action"), "sns:Publish"):
            return True
    return False


class _Calls:
    """Runs AWS calls, recording per action whether the credentials were allowed to make it."""

    def __init__(self, permissions: dict[str, str]):
        self.permissions = permissions

    def __call__(self, action: str, fn: Callable[..., Any], *args: Any, ok_codes: tuple[str, ...] = (), **kw: Any):
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


# -- inspection ----------------------------------------------------------------------------------------


def inspect_queue(
    deps: Deps, *, discover: bool = False, permissions: dict[str, str] | None = None
) -> QueueState | None:
    """The bot's queue: `SESBOT_SQS_QUEUE_URL`, or with `discover` a queue named `sesbot-events`."""
    settings = deps.settings
    default_region = settings.regions[0] if settings.regions else "us-east-1"
    calls = _Calls(permissions if permissions is not None else {})
    url = settings.sqs_queue_url
    configured = bool(url)
    if not url:
        if not discover:
            return None
        sqs = deps.aws.get("sqs", default_region)
        found, _ = calls("sqs:GetQueueUrl", sqs.get_queue_url, QueueName=QUEUE_NAME)
        if not found:
            return None
        url = found["QueueUrl"]
    region = region_of_queue(url, default_region)
    state = QueueState(url=url, region=region, configured=configured)
    sqs = deps.aws.get("sqs", region)
    attrs, exc = calls(
        "sqs:GetQueueAttributes",
        sqs.get_queue_attributes,
        QueueUrl=url,
        AttributeNames=["QueueArn", "Policy"],
        ok_codes=("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"),
    )
    if exc is not None:
        code = error_code(exc) or ""
        if "NonExistentQueue" in code or code == "QueueDoesNotExist":
            state.exists = False
        else:
            state.error = describe_error(exc)
        return state
    values = attrs.get("Attributes", {})
    state.exists = True
    state.arn = values.get("QueueArn")
    try:
        state.policy = json.loads(values["Policy"]) if values.get("Policy") else None
    except ValueError:
        state.policy = None
    return state


def _inspect_config_set(deps: Deps, region: str, name: str, calls: _Calls) -> ConfigSetState:
    sesv2 = deps.aws.get("sesv2", region)
    state = ConfigSetState(name)
    got, exc = calls(
        "ses:GetConfigurationSetEventDestinations",
        sesv2.get_configuration_set_event_destinations,
        ConfigurationSetName=name,
    )
    if exc is not None:
        state.error = describe_error(exc)
    else:
        for d in got.get("EventDestinations", []):
            kind, topic = "unknown", None
            if d.get("SnsDestination"):
                kind, topic = "SNS", d["SnsDestination"].get("TopicArn")
            elif d.get("CloudWatchDestination"):
                kind = "CloudWatch"
            elif d.get("KinesisFirehoseDestination"):
                kind = "Firehose"
            elif d.get("EventBridgeDestination"):
                kind = "EventBridge"
            elif d.get("PinpointDestination"):
                kind = "Pinpoint"
            state.destinations.append(
                Destination(
                    name, d.get("Name", ""), bool(d.get("Enabled")), list(d.get("MatchingEventTypes", [])), kind, topic
                )
            )
    got, exc = calls("ses:GetConfigurationSet", sesv2.get_configuration_set, ConfigurationSetName=name)
    if exc is None:
        state.reputation_metrics = bool((got.get("ReputationOptions") or {}).get("ReputationMetricsEnabled"))
    elif state.error is None:
        state.error = describe_error(exc)
    return state


def _inspect_topic(deps: Deps, region: str, arn: str, queue: QueueState | None, calls: _Calls) -> TopicState:
    state = TopicState(arn=arn, https=arn in (deps.settings.sns_topic_arns or []))
    sns = deps.aws.get("sns", region_of_arn(arn, region))
    token = None
    for _ in range(MAX_PAGES):
        kwargs = {"TopicArn": arn, **({"NextToken": token} if token else {})}
        page, exc = calls(
            "sns:ListSubscriptionsByTopic", sns.list_subscriptions_by_topic, ok_codes=("NotFound",), **kwargs
        )
        if exc is not None:
            if error_code(exc) in ("NotFound", "NotFoundException"):
                state.exists = False
            else:
                state.error = describe_error(exc)
            return state
        state.exists = True
        for sub in page.get("Subscriptions", []):
            if sub.get("Protocol") == "sqs" and queue and queue.arn and sub.get("Endpoint") == queue.arn:
                if sub.get("SubscriptionArn") == "PendingConfirmation":
                    state.pending = True
                else:
                    state.sqs_subscribed = True
        token = page.get("NextToken")
        if not token:
            break
    if queue and queue.arn:
        state.queue_allows = queue_policy_allows(queue.policy, arn)
    attrs, exc = calls("sns:GetTopicAttributes", sns.get_topic_attributes, TopicArn=arn)
    if exc is None:
        try:
            policy = json.loads(attrs.get("Attributes", {}).get("Policy") or "null")
        except ValueError:
            policy = None
        state.ses_may_publish = topic_policy_lets_ses_publish(policy)
    return state


def inspect(deps: Deps, region: str, *, queue: QueueState | None = None, permissions: bool = False) -> Inspection:
    """Everything about how SES events reach the bot in one region (read-only)."""
    insp = Inspection(region=region, at=time.monotonic())
    calls = _Calls(insp.permissions)
    settings = deps.settings
    sesv2 = deps.aws.get("sesv2", region)
    insp.queue = queue

    for name in [n for n in (settings.sender_address, settings.sender_domain) if n]:
        got, exc = calls("ses:GetEmailIdentity", sesv2.get_email_identity, EmailIdentity=name)
        if exc is not None:
            not_found = error_code(exc) == "NotFoundException"
            insp.identities.append(IdentityState(name, exists=False, error=None if not_found else describe_error(exc)))
            continue
        insp.identities.append(
            IdentityState(
                name,
                exists=True,
                verified=got.get("VerifiedForSendingStatus"),
                default_config_set=got.get("ConfigurationSetName"),
            )
        )
    existing = [i for i in insp.identities if i.exists]
    if existing:
        ses = deps.aws.get("ses", region)
        got, exc = calls(
            "ses:GetIdentityNotificationAttributes",
            ses.get_identity_notification_attributes,
            Identities=[i.name for i in existing],
        )
        if exc is not None:
            insp.errors.append(f"GetIdentityNotificationAttributes: {describe_error(exc)}")
        else:
            attrs = got.get("NotificationAttributes", {})
            for ident in existing:
                a = attrs.get(ident.name, {})
                ident.topics = {k: a[f"{k}Topic"] for k in V1_TYPES if a.get(f"{k}Topic")}

    names: list[str] = []
    token = None
    for _ in range(MAX_PAGES):
        page, exc = calls(
            "ses:ListConfigurationSets", sesv2.list_configuration_sets, **({"NextToken": token} if token else {})
        )
        if exc is not None:
            insp.config_sets_error = describe_error(exc)
            break
        names += page.get("ConfigurationSets", [])
        token = page.get("NextToken")
        if not token:
            break
    default = insp.default_set
    if default and default not in names:
        names.insert(0, default)
    names = ([default] if default else []) + [n for n in names if n != default][: MAX_CONFIG_SETS - 1]
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(names))), thread_name_prefix="setup") as pool:
        for state in pool.map(lambda n: _inspect_config_set(deps, region, n, calls), names):
            insp.config_sets[state.name] = state

    topic_arns: list[str] = []
    for ident in existing:
        topic_arns += ident.topics.values()
    for cs in insp.config_sets.values():
        topic_arns += [d.topic_arn for d in cs.destinations if d.topic_arn]
    topic_arns += [a for a in settings.sns_topic_arns or [] if region_of_arn(a, region) == region]
    topic_arns = list(dict.fromkeys(topic_arns))
    used = set(topic_arns)
    if permissions:  # `setup` also looks for the topic an earlier `--apply` made, used or not
        found = _find_topic(deps, region, TOPIC_NAME)
        if found and found not in used:
            topic_arns.append(found)
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(topic_arns))), thread_name_prefix="setup") as pool:
        for state in pool.map(lambda a: _inspect_topic(deps, region, a, queue, calls), topic_arns):
            state.used = state.arn in used
            insp.topics[state.arn] = state

    if permissions:
        _probe_permissions(deps, region, insp, calls)
    return insp


def _find_topic(deps: Deps, region: str, name: str) -> str | None:
    """The ARN of the SNS topic called `name` in `region`, if there is one (sns:ListTopics)."""
    sns = deps.aws.get("sns", region)
    token = None
    try:
        for _ in range(MAX_PAGES):
            page = sns.list_topics(**({"NextToken": token} if token else {}))
            for topic in page.get("Topics", []):
                if topic.get("TopicArn", "").rsplit(":", 1)[-1] == name:
                    return topic["TopicArn"]
            token = page.get("NextToken")
            if not token:
                return None
    except Exception:  # only a convenience: without it the plan creates the topic (CreateTopic is idempotent)
        return None
    return None


def _caller(deps: Deps, region: str) -> tuple[str, str, str] | None:
    """(partition, account id, principal ARN) of the bot's credentials; sts:GetCallerIdentity needs no grant."""
    try:
        arn = deps.aws.get("sts", region).get_caller_identity()["Arn"]
    except Exception:
        return None
    parts = arn.split(":")
    return (parts[1], parts[4], arn) if len(parts) > 5 else None


def _probe_permissions(deps: Deps, region: str, insp: Inspection, calls: _Calls) -> None:
    """Try each read call the bot needs that the inspection did not make; simulate the rest."""
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
    caller = _caller(deps, region)
    if caller and (
        "sns:ListSubscriptionsByTopic" not in insp.permissions or "sns:GetTopicAttributes" not in insp.permissions
    ):
        # A topic of our own account that does not exist: NotFound proves the permission.
        sns = deps.aws.get("sns", region)
        fake = f"arn:{caller[0]}:sns:{region}:{caller[1]}:{PROBE_NAME}"
        calls("sns:ListSubscriptionsByTopic", sns.list_subscriptions_by_topic, TopicArn=fake, ok_codes=("NotFound",))
        calls("sns:GetTopicAttributes", sns.get_topic_attributes, TopicArn=fake, ok_codes=("NotFound",))
    queue = insp.queue
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
    wanted = BOT_ACTIONS + (WRITE_ACTIONS if deps.settings.allow_writes else ())
    # sqs:ReceiveMessage is never tried: receiving would hide a message from the bot's own consumer.
    untried = [a for a in wanted if a not in insp.permissions]
    if untried:
        for action, verdict in _simulate(deps, region, untried, queue, caller).items():
            insp.permissions[action] = verdict


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


def inspect_cached(deps: Deps, region: str) -> Inspection:
    """`inspect` without permission probes, reused for `CACHE_SECONDS` (the `why` suite runs it often)."""
    cache: dict[str, Inspection] = deps.extras.setdefault("setup_inspections", {})
    hit = cache.get(region)
    if hit is not None and time.monotonic() - hit.at < CACHE_SECONDS:
        return hit
    insp = inspect(deps, region, queue=inspect_queue(deps))
    cache[region] = insp
    return insp


# -- findings ------------------------------------------------------------------------------------------


def _words(types: list[str], conj: str = "or") -> str:
    names = [TYPE_WORDS.get(t, t.lower()) for t in types]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" {conj} " + names[-1]


def _sources_evidence(insp: Inspection) -> list[str]:
    lines = []
    eff = insp.effective
    if eff:
        if eff.topics:
            for kind, arn in eff.topics.items():
                lines.append(f"SES notifications of {eff.name}: {kind} -> {arn} ({_topic_status(insp, arn)})")
        else:
            lines.append(f"SES notifications of {eff.name}: none (no Bounce/Complaint/Delivery topic)")
    if insp.config_sets_error:
        lines.append(f"configuration sets: could not list ({insp.config_sets_error})")
    elif not insp.config_sets:
        lines.append("configuration sets: none")
    for cs in insp.config_sets.values():
        tag = " (default for the sender)" if cs.name == insp.default_set else ""
        if cs.error:
            lines.append(f"configuration set {cs.name}{tag}: could not read ({cs.error})")
        elif not cs.destinations:
            lines.append(f"configuration set {cs.name}{tag}: no event destinations")
        for d in cs.destinations:
            target = d.topic_arn if d.kind == "SNS" else f"{d.kind} (the bot cannot read it)"
            state = "" if d.enabled else ", DISABLED"
            status = f" ({_topic_status(insp, d.topic_arn)})" if d.topic_arn else ""
            lines.append(
                f"configuration set {cs.name}{tag}: destination {d.name}{state}: "
                f"{', '.join(d.types)} -> {target}{status}"
            )
    return lines


def _topic_status(insp: Inspection, arn: str | None) -> str:
    topic = insp.topics.get(arn or "")
    if topic is None:
        return "not inspected"
    if topic.exists is False:
        return "topic does not exist"
    if topic.error:
        return f"could not inspect: {topic.error}"
    if topic.https:
        return "reaches the bot over HTTPS (SESBOT_SNS_TOPIC_ARNS)"
    if topic.sqs_subscribed and topic.queue_allows:
        return "reaches the bot's queue"
    if topic.pending:
        return "SQS subscription pending confirmation"
    if topic.sqs_subscribed:
        return "subscribed, but the queue policy does not let it send"
    return "does not reach the bot's queue"


def events_finding(insp: Inspection) -> Finding:
    """`setup.events`: which event types reach the bot in this region, for all mail or only some."""
    cov = insp.coverage()
    seen_all = [t for t in WANTED_TYPES if cov[t].scope == "all"]
    some = [t for t in WANTED_TYPES if cov[t].scope == "some"]
    none = [t for t in WANTED_TYPES if cov[t].scope == "none"]
    evidence = _sources_evidence(insp)
    evidence.append("seen for all mail: " + (", ".join(seen_all) or "nothing"))
    if some:
        evidence.append("seen only for mail that names a configuration set: " + ", ".join(some))
    if none:
        evidence.append("not seen: " + ", ".join(none))
    severity = Severity.OK
    for t in none:
        severity = max(severity, TYPE_SEVERITY[t])
    for t in some:
        severity = max(severity, min(TYPE_SEVERITY[t], Severity.WARNING))
    important = ["BOUNCE", "COMPLAINT", "DELIVERY_DELAY", "RENDERING_FAILURE", "REJECT"]
    missing = [t for t in important if cov[t].scope == "none"]
    partial = [t for t in important if cov[t].scope == "some"]
    if "BOUNCE" in missing or "COMPLAINT" in missing:
        summary = f"The bot cannot see {_words([t for t in missing if t in ('BOUNCE', 'COMPLAINT')])} in {insp.region}"
    elif missing:
        summary = f"The bot sees bounces and complaints in {insp.region}, but not {_words(missing)}"
    elif partial:
        summary = f"The bot sees {_words(partial, 'and')} in {insp.region} only for mail that names a configuration set"
    else:
        summary = f"The bot sees bounces, complaints, delivery delays, rejects and rendering failures in {insp.region}"
    if "DELIVERY_DELAY" in missing and not ("BOUNCE" in missing or "COMPLAINT" in missing):
        summary += " (no DELIVERY_DELAY destination: mail still being retried is invisible)"
    fix = ""
    if severity >= Severity.WARNING:
        fix = (
            "Publish these event types to an SNS topic that reaches the bot: run `sesbot setup --apply` (it adds a "
            f"configuration set event destination with {', '.join(WANTED_TYPES)} and makes the set the sender's "
            f"default), or add the destination yourself. {DOC_SNS_DESTINATION}"
        )
    data = {t: {"scope": c.scope, "via": c.via} for t, c in cov.items()}
    return Finding("setup.events", severity, summary, evidence, fix, region=insp.region, data={"coverage": data})


def identity_finding(deps: Deps, insp: Inspection) -> Finding:
    """`setup.identity`: which identity governs, and whether it has a default configuration set."""
    region = insp.region
    if not deps.settings.sender:
        return Finding(
            "setup.identity",
            Severity.WARNING,
            "SESBOT_SENDER is not set: the bot cannot tell which identity's notifications apply",
            [],
            "Set SESBOT_SENDER to the From address (or domain) your application sends from.",
            region=region,
        )
    eff = insp.effective
    evidence = [
        f"{i.name}: " + ("identity" if i.exists else f"not an identity here{f' ({i.error})' if i.error else ''}")
        for i in insp.identities
    ]
    if eff is None:
        return Finding(
            "setup.identity",
            Severity.WARNING,
            f"{deps.settings.sender} has no SES identity in {region}: nothing there to attach notifications to",
            evidence,
            f"Verify the sending domain in {region} first (see `why`'s sender.identity check).",
            region=region,
        )
    data = {"identity": eff.name, "default_configuration_set": eff.default_config_set}
    if eff.default_config_set:
        return Finding(
            "setup.identity",
            Severity.OK,
            f"{eff.name} sends with configuration set {eff.default_config_set} by default",
            evidence,
            region=region,
            data=data,
        )
    with_dest = [cs.name for cs in insp.config_sets.values() if cs.destinations]
    severity = Severity.WARNING if with_dest else Severity.INFO
    return Finding(
        "setup.identity",
        severity,
        f"{eff.name} has no default configuration set"
        + (": its events are published only for sends that name a set" if with_dest else ""),
        evidence + ([f"configuration sets with event destinations: {', '.join(with_dest)}"] if with_dest else []),
        "Make the configuration set with the event destination the identity's default "
        f"(`sesbot setup --apply` does), so every send publishes events. {DOC_DEFAULT_SET}",
        region=region,
        data=data,
    )


def topics_findings(insp: Inspection) -> list[Finding]:
    """`setup.topics`: each SNS topic SES publishes to that does not reach the bot, and why."""
    out = []
    for topic in insp.topics.values():
        if not topic.used or topic.https or (topic.reaches_bot and topic.ses_may_publish is not False):
            continue
        queue = insp.queue
        if topic.exists is False:
            summary, fix = f"SNS topic {topic.name} does not exist", "Point the destination at an existing topic."
        elif topic.error:
            summary, fix = f"Could not inspect SNS topic {topic.name}: {topic.error}", "Check sns permissions."
        elif queue is None:
            summary = f"SNS topic {topic.name} reaches no queue the bot reads: SESBOT_SQS_QUEUE_URL is not set"
            fix = "Set SESBOT_SQS_QUEUE_URL to the queue subscribed to this topic (or run `sesbot setup --apply`)."
        elif topic.pending:
            summary = f"The SQS subscription of SNS topic {topic.name} is pending confirmation"
            fix = f"Confirm the subscription (cross-account subscriptions need it). {DOC_SQS_SUBSCRIBE}"
        elif not topic.sqs_subscribed:
            summary = f"SNS topic {topic.name} has no subscription to the bot's queue"
            fix = (
                f"Subscribe the queue {queue.arn or queue.url} to the topic (`sesbot setup --apply` does). "
                f"{DOC_SQS_SUBSCRIBE}"
            )
        elif not topic.queue_allows:
            summary = f"The bot's queue policy does not let SNS topic {topic.name} send to it"
            fix = (
                "Add a queue policy statement allowing sns.amazonaws.com sqs:SendMessage with aws:SourceArn = "
                f"{topic.arn} (`sesbot setup --apply` does); without it SNS drops every message. {DOC_SQS_SUBSCRIBE}"
            )
        else:
            summary = f"SNS topic {topic.name}'s policy does not let SES publish to it"
            fix = (
                "Add a topic policy statement allowing ses.amazonaws.com sns:Publish (the SES console adds it; "
                f"`sesbot setup --apply` does too). {DOC_SNS_DESTINATION}"
            )
            out.append(Finding("setup.topics", Severity.WARNING, summary, [topic.arn], fix, region=insp.region))
            continue
        out.append(Finding("setup.topics", Severity.ERROR, summary, [topic.arn], fix, region=insp.region))
    return out


def reputation_finding(insp: Inspection) -> Finding:
    """`setup.reputation`: reputation metrics on the sender's default configuration set."""
    name = insp.default_set
    cs = insp.config_sets.get(name or "")
    if not name or cs is None:
        return Finding(
            "setup.reputation",
            Severity.INFO,
            f"No default configuration set in {insp.region}: reputation metrics are account-wide only",
            [],
            f"With a configuration set, turn reputation metrics on to see its bounce/complaint rates. {DOC_REPUTATION}",
            region=insp.region,
        )
    if cs.reputation_metrics:
        return Finding(
            "setup.reputation",
            Severity.OK,
            f"Reputation metrics are on for configuration set {name}",
            region=insp.region,
        )
    return Finding(
        "setup.reputation",
        Severity.WARNING,
        f"Reputation metrics are off for configuration set {name}",
        ["GetConfigurationSet: ReputationOptions.ReputationMetricsEnabled = false"],
        "Turn them on (`sesbot setup --apply` does) so CloudWatch reports this set's bounce and complaint rates "
        f"(metric dimension ses:configuration-set). {DOC_REPUTATION}",
        region=insp.region,
    )


def queue_finding(deps: Deps, queue: QueueState | None) -> Finding:
    """`setup.queue`: the queue the bot reads events from."""
    settings = deps.settings
    if queue is None or not queue.configured:
        https = bool(settings.sns_topic_arns)
        if queue is not None:  # discovered by name, but the bot does not read it until told to
            return Finding(
                "setup.queue",
                Severity.WARNING,
                f"SESBOT_SQS_QUEUE_URL is not set, but queue {QUEUE_NAME} exists: the bot does not read it",
                [f"found {queue.url}"],
                f"Set SESBOT_SQS_QUEUE_URL={queue.url} and restart the bot.",
                data={"queue_url": queue.url},
            )
        return Finding(
            "setup.queue",
            Severity.INFO if https else Severity.ERROR,
            "SESBOT_SQS_QUEUE_URL is not set: the bot reads no queue"
            + (" (events come over HTTPS from SESBOT_SNS_TOPIC_ARNS)" if https else ", so it receives no events"),
            [],
            "" if https else "Run `sesbot setup --apply` to create a queue, then set SESBOT_SQS_QUEUE_URL to it.",
            data={"queue_url": None},
        )
    if queue.exists is False:
        return Finding(
            "setup.queue",
            Severity.ERROR,
            "The queue in SESBOT_SQS_QUEUE_URL does not exist",
            [queue.url],
            "Fix SESBOT_SQS_QUEUE_URL, or run `sesbot setup --apply` to create the queue.",
            data={"queue_url": queue.url},
        )
    if queue.error:
        return Finding(
            "setup.queue",
            Severity.WARNING,
            f"Could not inspect the bot's queue: {queue.error}",
            [queue.url],
            "Grant the bot sqs:GetQueueAttributes on its queue.",
        )
    return Finding(
        "setup.queue",
        Severity.OK,
        f"The bot reads queue {queue.arn}",
        [queue.url],
        data={"queue_url": queue.url, "queue_arn": queue.arn},
    )


def permissions_finding(inspections: list[Inspection], actions: tuple[str, ...] = BOT_ACTIONS) -> Finding:
    """`setup.permissions`: the read calls the bot's credentials may not make."""
    merged: dict[str, str] = {}
    for insp in inspections:
        for action, verdict in insp.permissions.items():
            if action not in actions:
                continue
            before = merged.get(action)
            # Denied anywhere wins; allowed beats "could not verify" and errors.
            if before is None or verdict == "denied" or (verdict == "allowed" and before != "denied"):
                merged[action] = verdict
    denied = sorted(a for a, v in merged.items() if v == "denied")
    unverified = sorted(a for a in actions if a not in merged or merged[a] not in ("allowed", "denied"))
    evidence = [f"{a}: {merged.get(a, 'not tried')}" for a in actions]
    data = {"denied": denied, "unverified": unverified, "actions": merged}
    if denied:
        return Finding(
            "setup.permissions",
            Severity.ERROR,
            f"The bot's credentials lack {len(denied)} permission{'s' if len(denied) != 1 else ''}: "
            f"{', '.join(denied)}",
            evidence,
            "Add these actions to the bot's IAM policy (see README, IAM policy); the checks that need them answer "
            "'could not check' until then.",
            data=data,
        )
    if unverified:
        return Finding(
            "setup.permissions",
            Severity.INFO,
            f"The bot's credentials allow every read call tried; {len(unverified)} could not be verified",
            evidence,
            "Make sure the IAM policy also grants: " + ", ".join(unverified),
            data=data,
        )
    return Finding(
        "setup.permissions", Severity.OK, "The bot's credentials allow every call it makes", evidence, data=data
    )


# -- the plan ----------------------------------------------------------------------------------------------


@dataclass
class Step:
    """One change of the plan; `run` gets the values earlier steps produced (queue URL, topic ARN...)."""

    region: str
    what: str
    run: Callable[[dict[str, Any]], str]
    status: str = "planned"  # planned, done, failed
    detail: str = ""
    needs_queue: bool = False  # it routes a topic to the bot's queue
    follow_up: str = ""  # what a person must do after this step (set a variable...)

    def as_dict(self) -> dict[str, Any]:
        return {"region": self.region, "what": self.what, "status": self.status, "detail": self.detail}


def _queue_policy_statement(queue_arn: str, topic_arn: str) -> dict[str, Any]:
    return {
        "Sid": f"sesbot-{topic_arn.split(':')[3]}-{topic_arn.rsplit(':', 1)[-1]}"[:100],
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
    }


def _topic_policy_statement(topic_arn: str) -> dict[str, Any]:
    account = topic_arn.split(":")[4]
    return {
        "Sid": "sesbot-ses-publish",
        "Effect": "Allow",
        "Principal": {"Service": "ses.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {"StringEquals": {"AWS:SourceAccount": account}},
    }


def _choose_topic(insp: Inspection, ours: Destination | None) -> TopicState | None:
    """The topic for the bot's destination: the one it already uses, ours by name, or one that reaches the bot."""
    if ours and ours.topic_arn and ours.topic_arn in insp.topics and insp.topics[ours.topic_arn].exists is not False:
        return insp.topics[ours.topic_arn]
    usable = [t for t in insp.topics.values() if t.exists and not t.error and not t.https]
    named = [t for t in usable if t.name == TOPIC_NAME]
    reaching = [t for t in usable if t.used and t.reaches_bot]
    routable = [t for t in usable if t.used]
    return next(iter(named + reaching + routable), None)


def build_plan(deps: Deps, inspections: list[Inspection], queue: QueueState | None) -> list[Step]:
    """The changes that make every wanted event type reach the bot, in the order they must be made.

    Every step checks again at apply time what it is about to change, so a plan applied twice (or over a
    half-applied one) changes nothing the second time.
    """
    settings = deps.settings
    steps: list[Step] = []
    home = settings.regions[0] if settings.regions else "us-east-1"

    def queue_values(ctx: dict[str, Any]) -> tuple[str, str, str]:
        url = ctx.get("queue_url") or (queue.url if queue else None)
        arn = ctx.get("queue_arn") or (queue.arn if queue else None)
        if not url or not arn:
            raise RuntimeError("there is no queue to subscribe (create it first)")
        return url, arn, ctx.get("queue_region") or (queue.region if queue else home)

    for insp in inspections:
        region = insp.region
        eff = insp.effective
        # The destination goes on the sender's default configuration set, else on ours.
        set_name = insp.default_set or CONFIG_SET_NAME
        cs = insp.config_sets.get(set_name)
        ours = next((d for d in cs.destinations if d.name == DESTINATION_NAME), None) if cs else None
        topic = _choose_topic(insp, ours)
        topic_name = topic.name if topic else TOPIC_NAME
        enabled = [d for d in cs.destinations if d.enabled] if cs else []

        def routed(arn: str | None, topic: TopicState | None = topic, insp: Inspection = insp) -> bool:
            # A destination counts when its topic reaches the bot, or is the topic this plan routes to the bot.
            t = insp.topics.get(arn or "")
            return bool(t) and (t.reaches_bot or (topic is not None and t is topic))

        covered = {t for d in enabled if routed(d.topic_arn) for t in d.types}
        missing = [t for t in WANTED_TYPES if t not in covered]
        needs_destination = bool(missing)
        topic_used = needs_destination or any(topic is not None and d.topic_arn == topic.arn for d in enabled)
        needs_route = topic_used and (topic is None or not (topic.sqs_subscribed and topic.queue_allows))
        needs_ses_policy = topic_used and (topic is None or topic.ses_may_publish is False)

        def topic_arn(ctx: dict[str, Any], region: str = region, topic: TopicState | None = topic) -> str:
            # CreateTopic returns the existing topic's ARN when the name is taken: safe to call again.
            key = f"topic:{region}"
            if key not in ctx:
                ctx[key] = topic.arn if topic else deps.aws.get("sns", region).create_topic(Name=TOPIC_NAME)["TopicArn"]
            return ctx[key]

        if needs_destination and topic is None:
            steps.append(Step(region, f"create SNS topic {TOPIC_NAME}", lambda ctx, f=topic_arn: f"topic {f(ctx)}"))
        if needs_ses_policy:

            def allow_ses(ctx: dict[str, Any], region: str = region, topic_arn: Callable = topic_arn) -> str:
                sns = deps.aws.get("sns", region)
                arn = topic_arn(ctx)
                attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
                policy = json.loads(attrs.get("Policy") or '{"Version": "2012-10-17", "Statement": []}')
                if topic_policy_lets_ses_publish(policy):
                    return "SES may already publish"
                policy.setdefault("Statement", []).append(_topic_policy_statement(arn))
                sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(policy))
                return "the topic policy lets ses.amazonaws.com publish"

            steps.append(Step(region, f"let SES publish to SNS topic {topic_name} (topic policy)", allow_ses))
        if needs_route:

            def route(ctx: dict[str, Any], region: str = region, topic_arn: Callable = topic_arn) -> str:
                arn = topic_arn(ctx)
                url, qarn, qregion = queue_values(ctx)
                sqs = deps.aws.get("sqs", qregion)
                attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {})
                policy = json.loads(attrs.get("Policy") or '{"Version": "2012-10-17", "Statement": []}')
                done = []
                if not queue_policy_allows(policy, arn):
                    policy.setdefault("Statement", []).append(_queue_policy_statement(qarn, arn))
                    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
                    done.append("the queue policy lets the topic send")
                sns = deps.aws.get("sns", region)
                subs = sns.list_subscriptions_by_topic(TopicArn=arn).get("Subscriptions", [])
                if not any(s.get("Protocol") == "sqs" and s.get("Endpoint") == qarn for s in subs):
                    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)
                    done.append("the queue is subscribed")
                return ", ".join(done) or "already in place"

            steps.append(
                Step(
                    region,
                    f"subscribe the bot's queue to SNS topic {topic_name}, with a queue policy that lets it send",
                    route,
                    needs_queue=True,
                )
            )
        if cs is None:

            def create_set(ctx: dict[str, Any], region: str = region) -> str:
                sesv2 = deps.aws.get("sesv2", region)
                try:
                    sesv2.create_configuration_set(ConfigurationSetName=CONFIG_SET_NAME)
                except Exception as exc:
                    if error_code(exc) != "AlreadyExistsException":
                        raise
                    return f"configuration set {CONFIG_SET_NAME} already exists"
                return f"created configuration set {CONFIG_SET_NAME}"

            steps.append(Step(region, f"create configuration set {CONFIG_SET_NAME}", create_set))
        if eff is not None and not eff.default_config_set:

            def set_default(ctx: dict[str, Any], region: str = region, identity: str = eff.name) -> str:
                deps.aws.get("sesv2", region).put_email_identity_configuration_set_attributes(
                    EmailIdentity=identity, ConfigurationSetName=CONFIG_SET_NAME
                )
                return f"{identity} now sends with {CONFIG_SET_NAME} by default"

            steps.append(
                Step(
                    region,
                    f"make {CONFIG_SET_NAME} the default configuration set of {eff.name} (every send "
                    "then publishes events)",
                    set_default,
                )
            )
        if needs_destination:
            # Only what no routed destination of the set publishes yet: no event reaches the bot twice.
            have = list(ours.types) if ours else []
            types = [t for t in WANTED_TYPES if t in have or t in missing] + [t for t in have if t not in WANTED_TYPES]

            def put_destination(
                ctx: dict[str, Any],
                region: str = region,
                set_name: str = set_name,
                types: list[str] = types,
                topic_arn: Callable = topic_arn,
            ) -> str:
                sesv2 = deps.aws.get("sesv2", region)
                definition = {
                    "Enabled": True,
                    "MatchingEventTypes": types,
                    "SnsDestination": {"TopicArn": topic_arn(ctx)},
                }
                args = {
                    "ConfigurationSetName": set_name,
                    "EventDestinationName": DESTINATION_NAME,
                    "EventDestination": definition,
                }
                try:
                    sesv2.create_configuration_set_event_destination(**args)
                    return f"created destination {DESTINATION_NAME} on {set_name}"
                except Exception as exc:
                    if error_code(exc) != "AlreadyExistsException":
                        raise
                sesv2.update_configuration_set_event_destination(**args)
                return f"updated destination {DESTINATION_NAME} on {set_name}"

            verb = "update" if ours else "add"
            steps.append(
                Step(
                    region,
                    f"{verb} event destination {DESTINATION_NAME} on configuration set {set_name}: "
                    f"{', '.join(types)} -> SNS topic {topic_name}",
                    put_destination,
                )
            )
        if cs is None or not cs.reputation_metrics:

            def reputation(ctx: dict[str, Any], region: str = region, name: str = set_name) -> str:
                deps.aws.get("sesv2", region).put_configuration_set_reputation_options(
                    ConfigurationSetName=name, ReputationMetricsEnabled=True
                )
                return "reputation metrics on"

            steps.append(Step(region, f"turn reputation metrics on for configuration set {set_name}", reputation))
    # The queue, shared by every region, goes first; it is needed only when a topic must be routed to it.
    if (queue is None or queue.exists is False) and any(s.needs_queue for s in steps):
        name = queue.url.rstrip("/").rsplit("/", 1)[-1] if queue else QUEUE_NAME
        qregion = queue.region if queue else home

        def create_queue(ctx: dict[str, Any], name: str = name, qregion: str = qregion) -> str:
            sqs = deps.aws.get("sqs", qregion)
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            ctx.update(queue_url=url, queue_arn=arn, queue_region=qregion)
            if not settings.sqs_queue_url:
                ctx["follow_up"] = f"set SESBOT_SQS_QUEUE_URL={url} and restart the bot"
            return f"created {url}"

        steps.insert(0, Step(qregion, f"create SQS queue {name} in {qregion}", create_queue))

    return steps


def apply_plan(deps: Deps, steps: list[Step]) -> list[Step]:
    """Run the steps in order. A failed step does not stop the others: each says for itself what went wrong."""
    ctx: dict[str, Any] = {}
    for step in steps:
        try:
            step.detail = step.run(ctx)
            step.status = "done"
            step.follow_up = ctx.pop("follow_up", "")
        except Exception as exc:
            step.status = "failed"
            step.detail = " ".join(describe_error(exc).split())[:200]
    deps.extras.pop("setup_inspections", None)  # what `why` cached is stale now
    return steps


# -- the reports -----------------------------------------------------------------------------------------


def _inspect_all(deps: Deps) -> tuple[QueueState | None, list[Inspection]]:
    queue_permissions: dict[str, str] = {}
    queue = inspect_queue(deps, discover=True, permissions=queue_permissions)
    regions = deps.settings.regions
    with ThreadPoolExecutor(max_workers=max(1, len(regions)), thread_name_prefix="setup-region") as pool:
        inspections = list(pool.map(lambda r: inspect(deps, r, queue=queue, permissions=True), regions))
    if inspections:
        for action, verdict in queue_permissions.items():
            inspections[0].permissions.setdefault(action, verdict)
    return queue, inspections


def _plan_finding(steps: list[Step], via: str, applying: bool) -> Finding:
    if not steps:
        return Finding(
            "setup.plan",
            Severity.OK,
            "Nothing to set up: every change `setup --apply` makes is in place",
            data={"steps": []},
        )
    evidence = [f"{s.region}: {s.what}" for s in steps]
    if via == "cli":
        fix = "Run `sesbot setup --apply` to make these changes (it shows what it did; a second run changes nothing)."
    else:
        fix = "Changes are made only from a terminal: run `sesbot setup --apply` where the bot's AWS credentials are."
    summary = f"{len(steps)} change{'s' if len(steps) != 1 else ''} would let the bot see everything"
    if applying:
        summary = f"{len(steps)} change{'s' if len(steps) != 1 else ''} still missing after --apply"
    # A warning, not information: something is missing, and the front ends show a warning's evidence (the steps).
    return Finding("setup.plan", Severity.WARNING, summary, evidence, fix, data={"steps": [s.as_dict() for s in steps]})


def _applied_finding(steps: list[Step]) -> Finding:
    failed = [s for s in steps if s.status == "failed"]
    evidence = [f"{s.status}: {s.region}: {s.what}" + (f" — {s.detail}" if s.detail else "") for s in steps]
    data = {"steps": [s.as_dict() for s in steps]}
    if failed:
        first = failed[0]
        return Finding(
            "setup.applied",
            Severity.ERROR,
            f"{len(failed)} of {len(steps)} changes failed; the first: {first.what} ({first.detail})",
            evidence,
            "Fix the cause (often a missing IAM permission for the change itself) and run `sesbot setup --apply` "
            "again: it redoes only what is still missing.",
            data=data,
        )
    done = sum(1 for s in steps if s.status == "done")
    summary = f"Applied {done} change{'s' if done != 1 else ''}"
    follow_ups = [s.follow_up for s in steps if s.follow_up]
    if follow_ups:
        summary += "; now " + "; ".join(follow_ups)
    return Finding("setup.applied", Severity.INFO, summary, evidence, data=data)


def _findings(deps: Deps, queue: QueueState | None, inspections: list[Inspection]) -> list[Finding]:
    findings = [queue_finding(deps, queue)]
    for insp in inspections:
        findings.append(identity_finding(deps, insp))
        findings.append(events_finding(insp))
        findings += topics_findings(insp)
        findings.append(reputation_finding(insp))
    findings.append(
        permissions_finding(inspections, BOT_ACTIONS + (WRITE_ACTIONS if deps.settings.allow_writes else ()))
    )
    return findings


def setup_report(deps: Deps, *, apply: bool = False, via: str = "cli") -> Report:
    """The `setup` answer: what the bot cannot see, the plan that fixes it, and with `apply` the plan done."""
    started = time.perf_counter()
    queue, inspections = _inspect_all(deps)
    steps = build_plan(deps, inspections, queue)
    findings: list[Finding] = []
    if apply and steps:
        findings.append(_applied_finding(apply_plan(deps, steps)))
        queue, inspections = _inspect_all(deps)
        steps = build_plan(deps, inspections, queue)
    findings += _findings(deps, queue, inspections)
    findings.append(_plan_finding(steps, via, applying=apply))
    return Report(
        target=", ".join(deps.settings.regions),
        findings=findings,
        kind="setup",
        region=",".join(deps.settings.regions) or None,
        elapsed_ms=int((time.perf_counter() - started) * 1000),
    )


def coverage_finding(insp: Inspection, recipient: str, store_has_events: bool) -> Finding:
    """`events.coverage`: the history has nothing for `recipient`; what the bot cannot see, and how to fix it."""
    check, region = "events.coverage", insp.region
    problems = [i.error for i in insp.identities if i.error] + insp.errors
    problems += [insp.config_sets_error] if insp.config_sets_error else []
    cov = insp.coverage()
    evidence = _sources_evidence(insp)
    data = {"coverage": {t: {"scope": c.scope, "via": c.via} for t, c in cov.items()}}
    head = f"No events recorded for {recipient}"
    missing = [t for t in ("BOUNCE", "COMPLAINT") if cov[t].scope == "none"]
    partial = [t for t in ("BOUNCE", "COMPLAINT", "DELIVERY_DELAY") if cov[t].scope == "some"]
    fix = (
        "Publish bounce, complaint, delivery-delay, reject and rendering-failure events to the bot: "
        f"`sesbot setup --apply` (then set SESBOT_SQS_QUEUE_URL if it says so). {DOC_EVENTS}"
    )
    if problems and (missing or cov["DELIVERY_DELAY"].scope == "none"):
        return Finding(
            check,
            Severity.WARNING,
            f"{head}, and the bot could not inspect its event setup in {region}: {problems[0]}",
            evidence,
            "Grant the bot read access to SES (see `sesbot setup`), then ask again.",
            region=region,
            data={**data, "could_not_check": True},
        )
    if insp.queue is None and not any(t.https for t in insp.topics.values()):
        return Finding(
            check,
            Severity.WARNING,
            f"{head}: the bot reads no event queue (SESBOT_SQS_QUEUE_URL is not set), so it cannot see bounces, "
            "complaints or delays",
            evidence,
            fix,
            region=region,
            data=data,
        )
    if missing:
        return Finding(
            check,
            Severity.WARNING,
            f"{head}, but the bot cannot see {_words(missing)} in {region}: a bounce to this address would not show",
            evidence,
            fix,
            region=region,
            data=data,
        )
    if cov["DELIVERY_DELAY"].scope == "none":
        return Finding(
            check,
            Severity.WARNING,
            f"{head}; the bot sees bounces and complaints in {region} but no DELIVERY_DELAY events: mail SES is "
            "still retrying (greylisting, a full mailbox, a blocked IP) stays invisible until it bounces, up to "
            "14 hours later",
            evidence,
            "Add DELIVERY_DELAY to the configuration set's event destination (`sesbot setup --apply` does). "
            + DOC_SNS_DESTINATION,
            region=region,
            data=data,
        )
    if partial:
        return Finding(
            check,
            Severity.WARNING,
            f"{head}; in {region} the bot sees {_words(partial, 'and')} only for mail that names a configuration set",
            evidence,
            "Make that configuration set the sender identity's default (`sesbot setup --apply` does), or make sure "
            f"the sending code names it. {DOC_DEFAULT_SET}",
            region=region,
            data=data,
        )
    caveat = (
        ""
        if store_has_events
        else " (the history holds no events at all yet: if mail has been going out for a while, check that the "
        "bot's queue consumer runs)"
    )
    return Finding(
        check,
        Severity.INFO,
        f"{head}: the bot sees bounces, complaints and delays in {region}, so SES has reported no problem with mail "
        f"to this address{caveat}",
        evidence,
        "If mail still did not arrive, it was delivered: look in the recipient's spam folder and at their own filters.",
        region=region,
        data=data,
    )
