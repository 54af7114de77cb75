"""The setup engine's data: what the inspection found in one region, and the steps of a plan.

One job: the shapes the other modules pass around (identities, configuration sets and their event
destinations, SNS topics, the bot's queue, which event types reach the bot) and the names `setup --apply`
gives what it creates. No AWS calls here: `inspection` fills these in, `plan` and `report` read them.

An event type is seen "for all mail" when it comes through the identity's notifications or its default
configuration set, and only "for some mail" when it comes through another configuration set (SES publishes
those only for sends that name the set). A type a subscription's filter policy drops on the way to the bot
(`filter_passes`, judged on what SES writes in the message body) is not seen through that topic.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.events import SES_PUSHED_TYPES
from bot.setup.policy import Decision, Verdict

TOPIC_NAME = "sesbot-events"
QUEUE_NAME = "sesbot-events"
CONFIG_SET_NAME = "sesbot"
DESTINATION_NAME = "sesbot"
STATUS_RULE_NAME = "sesbot-ses-status"  # the EventBridge rule sending SES's status events to the bot's queue
STATUS_TARGET_ID = "sesbot-queue"
# In every other region the bot watches, the rule of the same name forwards SES's status events to the queue
# region's default event bus (EventBridge delivers to a queue of the rule's own region only), with this role.
FORWARD_TARGET_ID = "sesbot-queue-region-bus"
FORWARD_ROLE_NAME = "sesbot-ses-status-forward"
FORWARD_POLICY_NAME = "sesbot-put-events"

# The event types the bot uses: problems become rows, sends and deliveries feed the counters.
WANTED_TYPES = ("SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "DELIVERY_DELAY", "RENDERING_FAILURE")
V1_TYPES = {"Bounce": "BOUNCE", "Complaint": "COMPLAINT", "Delivery": "DELIVERY"}
# What SES writes in the message body: `eventType` for event publishing (configuration sets), with these
# values for the bot's WANTED_TYPES, and `notificationType` (Bounce, Complaint, Delivery) for an identity's
# notifications. A filter policy on the message body can only be judged on these two keys.
EVENT_TYPE_VALUES = {
    "SEND": "Send",
    "REJECT": "Reject",
    "BOUNCE": "Bounce",
    "COMPLAINT": "Complaint",
    "DELIVERY": "Delivery",
    "DELIVERY_DELAY": "DeliveryDelay",
    "RENDERING_FAILURE": "Rendering Failure",
}
BODY_TYPE_KEYS = ("eventType", "notificationType")


def region_of_arn(arn: str, default: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[3] else default


def region_of_queue(url: str, default: str) -> str:
    m = re.search(r"(?:sqs\.)?([a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d)\.(?:queue\.)?amazonaws", url)
    return m.group(1) if m else default


def body_filter(sub: dict[str, str]) -> dict[str, list[str]] | None:
    """A subscription's filter policy (`TopicState.filters` entry) when the bot can judge it: on the message
    body, naming only `BODY_TYPE_KEYS`, with lists of exact values; else None."""
    if sub["scope"] != "MessageBody":
        return None
    try:
        policy = json.loads(sub["policy"])
    except ValueError:
        return None
    judgeable = (
        isinstance(policy, dict)
        and set(policy) <= set(BODY_TYPE_KEYS)
        and all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in policy.values())
    )
    return policy if judgeable else None


def filter_passes(sub: dict[str, str], key: str, value: str) -> bool | None:
    """Does a subscription's filter policy let SES's message with `key` = `value` in its body through? False for
    a policy on message attributes (SES describes its events in the body), None when the bot cannot judge it.
    SNS needs every key of a body policy to match, so a key the message lacks drops it."""
    if sub["scope"] != "MessageBody":
        return False
    policy = body_filter(sub)
    if policy is None:
        return None
    return all(k == key and value in values for k, values in policy.items())


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
    kms_key: str | None = None  # KmsMasterKeyId: SSE with a KMS key (None: none, or SSE-SQS)

    @property
    def sns_cannot_encrypt(self) -> bool:
        """Encrypted with the AWS-managed key, whose policy cannot let SNS use it: no topic can send to it."""
        return self.kms_key == "alias/aws/sqs"


@dataclass
class TopicState:
    arn: str
    exists: bool | None = None
    https: bool = False  # listed in SESBOT_SNS_TOPIC_ARNS: the bot's HTTPS endpoint is subscribed
    sqs_subscribed: bool = False
    pending: bool = False
    queue_policy: Decision | None = None  # what the bot's queue policy decides for this topic (None: no queue)
    ses_policy: Decision | None = None  # what the topic's policy decides for SES (None: it could not be read)
    used: bool = True  # False: found by name (sesbot-events) but no destination or notification uses it
    error: str | None = None
    kms_key: str | None = None  # KmsMasterKeyId: the topic's server-side encryption key, if any
    # The filter policies of the subscriptions that deliver to the bot (its queue, or for a topic of
    # SESBOT_SNS_TOPIC_ARNS its HTTP(S) subscriptions): {"subscription", "endpoint", "policy" (JSON), "scope"}.
    filters: list[dict[str, str]] = field(default_factory=list)
    filters_error: str | None = None  # sns:GetSubscriptionAttributes failed: the filter policies are unknown
    unfiltered: bool = False  # one of the subscriptions that deliver to the bot has no filter policy

    @property
    def ses_cannot_encrypt(self) -> bool:
        """Encrypted with the AWS-managed key, whose policy cannot let SES use it: SES cannot publish."""
        return self.kms_key == "alias/aws/sns"

    @property
    def queue_allows(self) -> bool:
        return self.queue_policy is not None and self.queue_policy.allowed

    @property
    def ses_may_publish(self) -> bool | None:
        """Whether the topic's policy lets SES publish; None when it could not be read or the bot cannot tell."""
        if self.ses_policy is None or self.ses_policy.verdict is Verdict.UNKNOWN:
            return None
        return self.ses_policy.allowed

    @property
    def reaches_bot(self) -> bool:
        return not self.ses_cannot_encrypt and (self.https or (self.sqs_subscribed and self.queue_allows))

    @property
    def name(self) -> str:
        return self.arn.rsplit(":", 1)[-1]

    def lets_through(self, key: str, value: str) -> bool:
        """Whether SES's message with `key` = `value` in its body gets past the filter policies of the
        subscriptions that deliver to the bot: one without a policy is enough, or one whose policy passes it
        (or that the bot cannot judge). Without filter policies read (none, or unreadable) it does."""
        if not self.filters or self.unfiltered:
            return True
        return any(filter_passes(sub, key, value) is not False for sub in self.filters)


def status_event_pattern() -> dict[str, Any]:
    """The EventBridge pattern of the bot's rule: SES's sending-status and Advisor events (`SES_PUSHED_TYPES`)."""
    return {"source": ["aws.ses"], "detail-type": list(SES_PUSHED_TYPES)}


def same_pattern(text: str | None) -> bool:
    """Is this rule's EventPattern (JSON text) the bot's, whatever the order of its values?"""
    try:
        pattern = json.loads(text or "{}")
    except ValueError:
        return False
    want = status_event_pattern()
    return (
        isinstance(pattern, dict)
        and set(pattern) == set(want)
        and all(isinstance(pattern[k], list) and sorted(map(str, pattern[k])) == sorted(want[k]) for k in want)
    )


def default_bus_arn(queue_arn: str) -> str:
    """The default event bus of the queue's region and account: where the rules of the other regions forward."""
    parts = queue_arn.split(":")
    return f"arn:{parts[1]}:events:{parts[3]}:{parts[4]}:event-bus/default"


@dataclass
class RuleState:
    """The bot's EventBridge rule (`STATUS_RULE_NAME`) in one region: SES's status events pushed to the queue as
    they happen, rather than seen at the next sweep. In the queue's region it sends to the queue; in another
    region (`forward_to` set) it forwards them to the queue region's default event bus, whose rule sends them on."""

    region: str
    arn: str | None = None
    exists: bool | None = None
    pattern_ok: bool = False  # it matches SES's sending-status and Advisor events
    enabled: bool = False
    targets_queue: bool = False  # the bot's queue (forwarding: the queue region's bus, with a role) is a target
    queue_allows: bool = False  # the queue policy lets the rule send (not asked of a forwarding rule)
    error: str | None = None
    forward_to: str | None = None  # another region's rule: the queue region's default event bus ARN

    @property
    def in_place(self) -> bool:
        delivered = self.queue_allows or self.forward_to is not None
        return bool(self.exists and self.pattern_ok and self.enabled and self.targets_queue and delivered)


@dataclass
class Coverage:
    """How one event type reaches the bot: for all mail, only for mail naming a set, or not at all."""

    type: str
    scope: str  # all, some, none
    via: list[str] = field(default_factory=list)
    filtered: list[str] = field(default_factory=list)  # routes whose subscription filter policy drops the type


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

    def publishers(self) -> dict[str, list[str]]:
        """Topic ARN -> what SES publishes to it for (`identity/name`, `configuration-set/name`): its
        aws:SourceArn (`policy.ses_source_arn`)."""
        out: dict[str, list[str]] = {}
        for ident in self.identities:
            if ident.exists:
                for arn in ident.topics.values():
                    out.setdefault(arn, []).append(f"identity/{ident.name}")
        for cs in self.config_sets.values():
            for d in cs.destinations:
                if d.enabled and d.topic_arn:
                    out.setdefault(d.topic_arn, []).append(f"configuration-set/{cs.name}")
        return out

    def coverage(self) -> dict[str, Coverage]:
        result = {t: Coverage(t, "none") for t in WANTED_TYPES}
        eff = self.effective
        if eff:
            for kind, arn in eff.topics.items():
                topic = self.topics.get(arn)
                wanted = V1_TYPES.get(kind)
                if not (wanted and topic and topic.reaches_bot):
                    continue
                route = f"{kind} notifications of {eff.name} -> {topic.name}"
                if not topic.lets_through("notificationType", kind):
                    result[wanted].filtered.append(route)
                    continue
                result[wanted].scope = "all"
                result[wanted].via.append(route)
        for cs in self.config_sets.values():
            default = cs.name == self.default_set
            for d in cs.destinations:
                topic = self.topics.get(d.topic_arn or "")
                if not (d.enabled and topic and topic.reaches_bot):
                    continue
                route = f"configuration set {cs.name}{' (default)' if default else ''} -> {topic.name}"
                for t in d.types:
                    if t not in result:
                        continue
                    cov = result[t]
                    if not topic.lets_through("eventType", EVENT_TYPE_VALUES[t]):
                        cov.filtered.append(route)
                        continue
                    if default:
                        cov.scope = "all"
                    elif cov.scope == "none":
                        cov.scope = "some"
                    cov.via.append(route)
        return result


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


# -- as JSON, for the inspection cache in the store -------------------------------------------------------


def inspection_to_json(insp: Inspection) -> dict[str, Any]:
    """The inspection as plain JSON values (`inspection_from_json` reads it back)."""
    out = asdict(insp)
    for topic in out["topics"].values():
        for key in ("queue_policy", "ses_policy"):
            if topic[key] is not None:
                topic[key]["verdict"] = topic[key]["verdict"].value
    return out


def _decision(d: dict[str, Any] | None) -> Decision | None:
    return None if d is None else Decision(Verdict(d["verdict"]), d["reason"], bool(d.get("by_deny")))


def inspection_from_json(d: dict[str, Any]) -> Inspection:
    """An `Inspection` from `inspection_to_json`'s output; raises (KeyError, TypeError, ValueError) if malformed."""
    topics = {}
    for arn, t in d["topics"].items():
        t = dict(t)
        t["queue_policy"], t["ses_policy"] = _decision(t["queue_policy"]), _decision(t["ses_policy"])
        topics[arn] = TopicState(**t)
    return Inspection(
        region=d["region"],
        identities=[IdentityState(**i) for i in d["identities"]],
        config_sets={
            name: ConfigSetState(
                name=c["name"],
                destinations=[Destination(**x) for x in c["destinations"]],
                reputation_metrics=c["reputation_metrics"],
                error=c["error"],
            )
            for name, c in d["config_sets"].items()
        },
        config_sets_error=d["config_sets_error"],
        topics=topics,
        queue=QueueState(**d["queue"]) if d["queue"] else None,
        permissions=dict(d["permissions"]),
        errors=list(d["errors"]),
        at=float(d["at"]),
    )
