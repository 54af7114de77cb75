"""The plan: what `setup --apply` would change so that every wanted event type reaches the bot, as data.

One job: from the inspections, decide the steps, in the order they must be made, each with the action
(`apply`) and the values it needs bound. Per region, the bot's event destination goes on the sender's
default configuration set (else on one named `sesbot`) and publishes only what no routed destination of
the set publishes yet, so no event reaches the bot twice; the topic is the one the destination already
uses, one named `sesbot-events`, or one that reaches the bot. The queue, shared by every region, goes first.

Building the plan makes no AWS call.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from bot.deps import Deps
from bot.setup import apply
from bot.setup.model import (
    CONFIG_SET_NAME,
    DESTINATION_NAME,
    FORWARD_ROLE_NAME,
    QUEUE_NAME,
    STATUS_RULE_NAME,
    TOPIC_NAME,
    WANTED_TYPES,
    ConfigSetState,
    Destination,
    IdentityState,
    Inspection,
    QueueState,
    RuleState,
    Step,
    TopicState,
)


def build_plan(
    deps: Deps, inspections: list[Inspection], queue: QueueState | None, rules: list[RuleState] | None = None
) -> list[Step]:
    """The changes that make every wanted event type reach the bot, in the order they must be made.

    Every step checks again at apply time what it is about to change, so a plan applied twice (or over a
    half-applied one) changes nothing the second time.
    """
    settings = deps.settings
    home = settings.regions[0] if settings.regions else "us-east-1"
    steps: list[Step] = []
    for insp in inspections:
        steps += _region_steps(deps, _RegionPlan.of(insp), queue, home)
    queue_step = _queue_step(deps, queue, home, steps)
    if queue_step is not None:
        steps.insert(0, queue_step)
    steps += _status_rule_steps(deps, queue, rules or [], home, queue_step is not None)
    return steps


def _status_rule_steps(
    deps: Deps, queue: QueueState | None, rules: list[RuleState], home: str, queue_planned: bool
) -> list[Step]:
    """SES's sending-status and Advisor events pushed to the queue (EventBridge): the rule in the queue's region,
    and in each other region the bot watches one forwarding them to the queue region's default event bus.

    Last: they need the queue. Planned when the queue exists (or is planned) in a region the bot watches, for
    each region whose rule, target or queue policy statement is missing.
    """
    region = queue.region if queue else home
    regions = deps.settings.regions
    if region not in regions or not (queue_planned or (queue is not None and queue.exists)):
        return []
    in_place = {r.region for r in rules if r.in_place}
    steps = []
    if region not in in_place:
        steps.append(
            Step(
                region,
                "push SES's sending-status and Advisor events to the bot's queue: EventBridge rule "
                f"{STATUS_RULE_NAME} (source aws.ses) with the queue as target and a queue policy that lets the "
                "rule send",
                partial(apply.put_status_rule, deps, queue, home),
            )
        )
    for other in regions:
        if other != region and other not in in_place:
            steps.append(
                Step(
                    other,
                    f"forward SES's sending-status and Advisor events of {other} to the queue's region: EventBridge "
                    f"rule {STATUS_RULE_NAME} (source aws.ses) with the default event bus of {region} as target, "
                    f"put through IAM role {FORWARD_ROLE_NAME}",
                    partial(apply.put_forward_rule, deps, other, queue, home),
                )
            )
    return steps


@dataclass
class _RegionPlan:
    """What one region's steps are decided from."""

    insp: Inspection
    set_name: str  # the configuration set the bot's destination goes on
    cs: ConfigSetState | None  # that set, when it exists
    ours: Destination | None  # the bot's destination on it, when there is one
    topic: TopicState | None  # the topic the destination publishes to (None: one is created)
    missing: list[str]  # the wanted types no routed destination of the set publishes
    topic_used: bool  # the set publishes (or will) to `topic`

    @classmethod
    def of(cls, insp: Inspection) -> _RegionPlan:
        set_name = insp.default_set or CONFIG_SET_NAME
        cs = insp.config_sets.get(set_name)
        ours = next((d for d in cs.destinations if d.name == DESTINATION_NAME), None) if cs else None
        topic = _choose_topic(insp, ours)
        enabled = [d for d in cs.destinations if d.enabled] if cs else []

        def routed(arn: str | None) -> bool:
            # A destination counts when its topic reaches the bot, or is the topic this plan routes to the bot.
            t = insp.topics.get(arn or "")
            return t is not None and (t.reaches_bot or (topic is not None and t is topic))

        covered = {t for d in enabled if routed(d.topic_arn) for t in d.types}
        missing = [t for t in WANTED_TYPES if t not in covered]
        topic_used = bool(missing) or any(topic is not None and d.topic_arn == topic.arn for d in enabled)
        return cls(insp, set_name, cs, ours, topic, missing, topic_used)

    @property
    def region(self) -> str:
        return self.insp.region

    @property
    def effective(self) -> IdentityState | None:
        return self.insp.effective

    @property
    def topic_arn(self) -> str | None:
        return self.topic.arn if self.topic else None

    @property
    def topic_name(self) -> str:
        return self.topic.name if self.topic else TOPIC_NAME

    @property
    def needs_destination(self) -> bool:
        return bool(self.missing)

    @property
    def publishers(self) -> list[str]:
        """What SES publishes to the topic for once the plan is made: the identities and configuration sets
        that use it, and the set the bot's destination goes on (the topic policy names each)."""
        using = self.insp.publishers().get(self.topic_arn or "", [])
        ours = [f"configuration-set/{self.set_name}"] if self.needs_destination else []
        return list(dict.fromkeys([*using, *ours]))


def _choose_topic(insp: Inspection, ours: Destination | None) -> TopicState | None:
    """The topic for the bot's destination: the one it already uses, ours by name, or one that reaches the bot."""
    if ours and ours.topic_arn and ours.topic_arn in insp.topics and insp.topics[ours.topic_arn].exists is not False:
        return insp.topics[ours.topic_arn]
    usable = [t for t in insp.topics.values() if t.exists and not t.error and not t.https]
    named = [t for t in usable if t.name == TOPIC_NAME]
    reaching = [t for t in usable if t.used and t.reaches_bot]
    routable = [t for t in usable if t.used]
    return next(iter(named + reaching + routable), None)


def _region_steps(deps: Deps, r: _RegionPlan, queue: QueueState | None, home: str) -> list[Step]:
    candidates = (
        _topic_step(deps, r),
        _ses_policy_step(deps, r),
        _route_step(deps, r, queue, home),
        _config_set_step(deps, r),
        _default_set_step(deps, r),
        _destination_step(deps, r),
        _reputation_step(deps, r),
    )
    return [s for s in candidates if s is not None]


def _topic_step(deps: Deps, r: _RegionPlan) -> Step | None:
    if not (r.needs_destination and r.topic is None):
        return None
    return Step(r.region, f"create SNS topic {TOPIC_NAME}", partial(apply.create_topic, deps, r.region))


def _ses_policy_step(deps: Deps, r: _RegionPlan) -> Step | None:
    # A policy an Allow cannot fix (an explicit Deny...) is left to a person: `setup.topics` says which statement.
    fixable = r.topic is None or (r.topic.ses_policy is not None and r.topic.ses_policy.fixable_by_allow)
    if not (r.topic_used and fixable):
        return None
    return Step(
        r.region,
        f"let SES publish to SNS topic {r.topic_name} (topic policy)",
        partial(apply.allow_ses, deps, r.region, r.topic_arn, r.publishers),
    )


def _route_step(deps: Deps, r: _RegionPlan, queue: QueueState | None, home: str) -> Step | None:
    topic = r.topic
    policy = topic.queue_policy if topic else None
    blocked = policy is not None and not policy.allowed and not policy.fixable_by_allow  # a Deny: left to a person
    if not r.topic_used or (topic is not None and topic.sqs_subscribed and (topic.queue_allows or blocked)):
        return None
    if topic is not None and topic.pending and (topic.queue_allows or blocked):
        return None  # subscribing again confirms nothing: `setup.topics` says how to confirm it
    what = f"subscribe the bot's queue to SNS topic {r.topic_name}"
    return Step(
        r.region,
        what if blocked else f"{what}, with a queue policy that lets it send",
        partial(apply.route, deps, r.region, r.topic_arn, queue, home),
        needs_queue=True,
    )


def _config_set_step(deps: Deps, r: _RegionPlan) -> Step | None:
    if r.cs is not None:
        return None
    return Step(
        r.region, f"create configuration set {CONFIG_SET_NAME}", partial(apply.create_config_set, deps, r.region)
    )


def _default_set_step(deps: Deps, r: _RegionPlan) -> Step | None:
    eff = r.effective
    if eff is None or eff.default_config_set:
        return None
    return Step(
        r.region,
        f"make {CONFIG_SET_NAME} the default configuration set of {eff.name} (every send then publishes events)",
        partial(apply.set_default_config_set, deps, r.region, eff.name),
    )


def _destination_step(deps: Deps, r: _RegionPlan) -> Step | None:
    if not r.needs_destination:
        return None
    # Only what no routed destination of the set publishes yet: no event reaches the bot twice.
    have = list(r.ours.types) if r.ours else []
    types = [t for t in WANTED_TYPES if t in have or t in r.missing] + [t for t in have if t not in WANTED_TYPES]
    verb = "update" if r.ours else "add"
    return Step(
        r.region,
        f"{verb} event destination {DESTINATION_NAME} on configuration set {r.set_name}: "
        f"{', '.join(types)} -> SNS topic {r.topic_name}",
        partial(apply.put_destination, deps, r.region, r.set_name, types, r.topic_arn),
    )


def _reputation_step(deps: Deps, r: _RegionPlan) -> Step | None:
    if r.cs is not None and r.cs.reputation_metrics:
        return None
    return Step(
        r.region,
        f"turn reputation metrics on for configuration set {r.set_name}",
        partial(apply.reputation_metrics_on, deps, r.region, r.set_name),
    )


def _queue_step(deps: Deps, queue: QueueState | None, home: str, steps: list[Step]) -> Step | None:
    """The queue, shared by every region: needed only when a topic must be routed to it."""
    if not ((queue is None or queue.exists is False) and any(s.needs_queue for s in steps)):
        return None
    name = queue.url.rstrip("/").rsplit("/", 1)[-1] if queue else QUEUE_NAME
    qregion = queue.region if queue else home
    return Step(qregion, f"create SQS queue {name} in {qregion}", partial(apply.create_queue, deps, name, qregion))
