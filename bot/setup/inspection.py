"""Inspection: how SES events reach the bot in one region, read-only, and its short-lived cache.

One job: fill in the `model` from AWS, changing nothing. What is inspected, per region:

* the sender identity that governs (the address identity when it exists, else the domain: SES applies the
  address's settings first), its SES v1 feedback notification topics (`GetIdentityNotificationAttributes`:
  Bounce/Complaint/Delivery) and its default configuration set (`GetEmailIdentity.ConfigurationSetName`);
* every configuration set (`ListConfigurationSets`): its event destinations
  (`GetConfigurationSetEventDestinations`: which `MatchingEventTypes`, enabled, which SNS topic) and whether
  reputation metrics are on (`GetConfigurationSet.ReputationOptions`);
* each SNS topic involved: whether it has a confirmed SQS subscription to the bot's queue
  (`ListSubscriptionsByTopic`), what the queue policy decides for it, what its own policy decides for SES
  publishing (`policy`); a topic in `SESBOT_SNS_TOPIC_ARNS` reaches the bot over HTTPS; for `setup`, the
  filter policy of each subscription that delivers to the bot (`GetSubscriptionAttributes`: `FilterPolicy`,
  `FilterPolicyScope`);
* the bot's queue (`SESBOT_SQS_QUEUE_URL`): exists, its ARN and policy;
* the bot's EventBridge rule in each region the bot watches (`inspect_status_rules`: `DescribeRule`,
  `ListTargetsByRule`): in the queue's region SES's sending-status and Advisor events pushed to the queue, and
  the queue policy letting the rule send; in each other region the same events forwarded, with a role, to the
  queue region's default event bus;
* with `permissions=True`, every read call the bot makes (`permissions.probe_permissions`).

`inspect_cached` is what the `events.coverage` check of `why` uses: the same inspection without the
permission probes, reused for `SESBOT_SETUP_CACHE_SECONDS` (default 300), kept in the store as well as in
memory so that a terminal run reuses what the bot (or the previous run) asked; `setup --apply` forgets it.

The calls fan out: the identities (address and domain at once) while the configuration sets are listed;
then every set's event destinations and options at once; then every topic's subscriptions and policy at once.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from bot.aws import describe_error, error_code
from bot.deps import Deps
from bot.setup.model import (
    QUEUE_NAME,
    STATUS_RULE_NAME,
    TOPIC_NAME,
    V1_TYPES,
    ConfigSetState,
    Destination,
    IdentityState,
    Inspection,
    QueueState,
    RuleState,
    TopicState,
    default_bus_arn,
    inspection_from_json,
    inspection_to_json,
    region_of_arn,
    region_of_queue,
    same_pattern,
)
from bot.setup.permissions import Calls, probe_permissions
from bot.setup.policy import (
    events_send_decision,
    queue_policy_decision,
    ses_publish_decision,
    ses_source_arn,
    strictest,
)

CACHE_KEY = "setup_inspections"  # in deps.extras: settings fingerprint -> Inspection
STORE_PREFIX = "setup.inspection."  # in the store's kv: + settings fingerprint -> {"at": epoch, "inspection"}
MAX_CONFIG_SETS = 50
MAX_PAGES = 10

_T = TypeVar("_T")
_R = TypeVar("_R")

_DESTINATION_KINDS = (
    ("CloudWatchDestination", "CloudWatch"),
    ("KinesisFirehoseDestination", "Firehose"),
    ("EventBridgeDestination", "EventBridge"),
    ("PinpointDestination", "Pinpoint"),
)


def inspect_status_rules(
    deps: Deps, queue: QueueState | None, permissions: dict[str, str] | None = None
) -> list[RuleState]:
    """The bot's EventBridge rule in each region the bot watches, the queue's region first: there it sends to the
    queue, elsewhere it forwards to the queue region's default event bus (EventBridge delivers to a queue of
    the rule's own region only). Empty when there is no queue to route to yet, or its region is not one the
    bot watches."""
    if queue is None or not queue.exists or not queue.arn or queue.region not in deps.settings.regions:
        return []
    calls = Calls(permissions if permissions is not None else {})
    bus = default_bus_arn(queue.arn)
    regions = [queue.region] + [r for r in deps.settings.regions if r != queue.region]
    return _parallel(lambda r: _inspect_rule(deps, r, queue, None if r == queue.region else bus, calls), regions)


def _inspect_rule(deps: Deps, region: str, queue: QueueState, forward_to: str | None, calls: Calls) -> RuleState:
    events = deps.aws.get("events", region)
    state = RuleState(region=region, forward_to=forward_to)
    rule, exc = calls(
        "events:DescribeRule", events.describe_rule, Name=STATUS_RULE_NAME, ok_codes=("ResourceNotFoundException",)
    )
    if exc is not None:
        if error_code(exc) == "ResourceNotFoundException":
            state.exists = False
        else:
            state.error = describe_error(exc)
        return state
    state.exists, state.arn = True, rule.get("Arn")
    state.pattern_ok = same_pattern(rule.get("EventPattern"))
    state.enabled = rule.get("State") == "ENABLED"
    targets, exc = calls("events:ListTargetsByRule", events.list_targets_by_rule, Rule=STATUS_RULE_NAME)
    if exc is not None:
        state.error = describe_error(exc)
        return state
    listed = targets.get("Targets") or []
    if forward_to is not None:  # a bus of another region takes events only with a role allowed to put them
        state.targets_queue = any(t.get("Arn") == forward_to and t.get("RoleArn") for t in listed)
        return state
    state.targets_queue = any(t.get("Arn") == queue.arn for t in listed)
    if state.arn and queue.arn:
        state.queue_allows = events_send_decision(queue.policy or {}, queue_arn=queue.arn, rule_arn=state.arn).allowed
    return state


def inspect_queue(
    deps: Deps, *, discover: bool = False, permissions: dict[str, str] | None = None
) -> QueueState | None:
    """The bot's queue: `SESBOT_SQS_QUEUE_URL`, or with `discover` a queue named `sesbot-events`."""
    settings = deps.settings
    default_region = settings.regions[0] if settings.regions else "us-east-1"
    calls = Calls(permissions if permissions is not None else {})
    url = settings.queue_url_for(deps.account)
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
        AttributeNames=["QueueArn", "Policy", "KmsMasterKeyId"],
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
    state.kms_key = values.get("KmsMasterKeyId") or None
    try:
        state.policy = json.loads(values["Policy"]) if values.get("Policy") else None
    except ValueError:
        state.policy = None
    return state


def inspect(
    deps: Deps,
    region: str,
    *,
    queue: QueueState | None = None,
    permissions: bool = False,
    queue_fn: Callable[[], QueueState | None] | None = None,
) -> Inspection:
    """Everything about how SES events reach the bot in one region (read-only). The bot's queue is `queue`, or
    what `queue_fn` finds, asked at the same time as the identities."""
    insp = Inspection(region=region, at=time.monotonic())
    calls = Calls(insp.permissions)
    insp.queue = queue
    # The identities, the configuration sets and the queue are asked at once. The sets wait only for the
    # identities' GetEmailIdentity (the sender's default set), not for their notification topics, so the
    # longest chain is three round trips: list (or identity) -> each set -> each topic.
    identities_read = threading.Event()

    def identities() -> None:
        try:
            _inspect_identities(deps, insp, calls, on_read=identities_read.set)
        finally:
            identities_read.set()

    def config_sets() -> list[ConfigSetState]:
        listed = _list_config_sets(deps, insp, calls)
        identities_read.wait()
        names = _config_set_names(insp, listed)
        return _parallel(lambda n: _inspect_config_set(deps, region, n, calls), names)

    jobs: list[Callable[[], Any]] = [identities, config_sets]
    if queue_fn is not None:
        jobs.append(queue_fn)
    done = _parallel(_run, jobs)
    if queue_fn is not None:
        insp.queue = queue = done[2]
    for config_set in done[1]:
        insp.config_sets[config_set.name] = config_set
    topic_arns = _topic_arns(deps, insp)
    used = set(topic_arns)
    if permissions:  # `setup` also looks for the topic an earlier `--apply` made, used or not
        found = _find_topic(deps, region, TOPIC_NAME)
        if found and found not in used:
            topic_arns.append(found)
    publishers = insp.publishers()

    def inspect_topic(arn: str) -> TopicState:
        return _inspect_topic(deps, region, arn, queue, calls, publishers.get(arn, []), filters=permissions)

    for topic in _parallel(inspect_topic, topic_arns):
        topic.used = topic.arn in used
        insp.topics[topic.arn] = topic
    if permissions:
        probe_permissions(deps, region, insp, calls)
    return insp


def _run(job: Callable[[], _R]) -> _R:
    return job()


def _parallel(fn: Callable[[_T], _R], items: list[_T]) -> list[_R]:
    """`fn` over `items`, at most 8 at a time (each makes one or a few AWS calls)."""
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(items))), thread_name_prefix="setup") as pool:
        return list(pool.map(fn, items))


def _inspect_identities(deps: Deps, insp: Inspection, calls: Calls, on_read: Callable[[], None] | None = None) -> None:
    """The sender's address and domain identities, and the v1 notification topics of those that exist;
    `on_read` is called once the identities themselves are in `insp` (before their topics are asked)."""
    settings, region = deps.settings, insp.region
    sesv2 = deps.aws.get("sesv2", region)
    names = [n for n in (settings.sender_address, settings.sender_domain) if n]
    answers = _parallel(lambda n: calls("ses:GetEmailIdentity", sesv2.get_email_identity, EmailIdentity=n), names)
    for name, (got, exc) in zip(names, answers, strict=True):
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
    if on_read is not None:
        on_read()
    existing = [i for i in insp.identities if i.exists]
    if not existing:
        return
    ses = deps.aws.get("ses", region)
    got, exc = calls(
        "ses:GetIdentityNotificationAttributes",
        ses.get_identity_notification_attributes,
        Identities=[i.name for i in existing],
    )
    if exc is not None:
        insp.errors.append(f"GetIdentityNotificationAttributes: {describe_error(exc)}")
        return
    attrs = got.get("NotificationAttributes", {})
    for ident in existing:
        a = attrs.get(ident.name, {})
        ident.topics = {k: a[f"{k}Topic"] for k in V1_TYPES if a.get(f"{k}Topic")}


def _list_config_sets(deps: Deps, insp: Inspection, calls: Calls) -> list[str]:
    """Every configuration set of the region (ListConfigurationSets, all pages up to MAX_PAGES)."""
    sesv2 = deps.aws.get("sesv2", insp.region)
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
    return names


def _config_set_names(insp: Inspection, names: list[str]) -> list[str]:
    """The configuration sets to inspect: the sender's default first, then the others, at most MAX_CONFIG_SETS."""
    names = list(names)
    default = insp.default_set
    if default and default not in names:
        names.insert(0, default)
    return ([default] if default else []) + [n for n in names if n != default][: MAX_CONFIG_SETS - 1]


def _inspect_config_set(deps: Deps, region: str, name: str, calls: Calls) -> ConfigSetState:
    sesv2 = deps.aws.get("sesv2", region)
    state = ConfigSetState(name)
    (got, exc), (options, options_exc) = _parallel(
        _run,
        [
            lambda: calls(
                "ses:GetConfigurationSetEventDestinations",
                sesv2.get_configuration_set_event_destinations,
                ConfigurationSetName=name,
            ),
            lambda: calls("ses:GetConfigurationSet", sesv2.get_configuration_set, ConfigurationSetName=name),
        ],
    )
    if exc is not None:
        state.error = describe_error(exc)
    else:
        state.destinations = [_destination(name, d) for d in got.get("EventDestinations", [])]
    if options_exc is None:
        state.reputation_metrics = bool((options.get("ReputationOptions") or {}).get("ReputationMetricsEnabled"))
    elif state.error is None:
        state.error = describe_error(options_exc)
    return state


def _destination(config_set: str, d: dict[str, Any]) -> Destination:
    kind, topic = "unknown", None
    if d.get("SnsDestination"):
        kind, topic = "SNS", d["SnsDestination"].get("TopicArn")
    else:
        kind = next((label for key, label in _DESTINATION_KINDS if d.get(key)), kind)
    return Destination(
        config_set, d.get("Name", ""), bool(d.get("Enabled")), list(d.get("MatchingEventTypes", [])), kind, topic
    )


def _topic_arns(deps: Deps, insp: Inspection) -> list[str]:
    """The topics SES publishes to (notifications, then destinations) and those of SESBOT_SNS_TOPIC_ARNS here."""
    topic_arns: list[str] = []
    for ident in insp.identities:
        if ident.exists:
            topic_arns += ident.topics.values()
    for cs in insp.config_sets.values():
        topic_arns += [d.topic_arn for d in cs.destinations if d.topic_arn]
    topic_arns += [a for a in deps.settings.sns_topic_arns or [] if region_of_arn(a, insp.region) == insp.region]
    return list(dict.fromkeys(topic_arns))


def _inspect_topic(
    deps: Deps,
    region: str,
    arn: str,
    queue: QueueState | None,
    calls: Calls,
    publishers: list[str],
    *,
    filters: bool = False,
) -> TopicState:
    state = TopicState(arn=arn, https=arn in (deps.settings.sns_topic_arns or []))
    sns = deps.aws.get("sns", region_of_arn(arn, region))
    # The topic's policy is read while its subscriptions are listed (one round trip, not two).
    jobs: list[Callable[[], Any]] = [
        lambda: calls("sns:GetTopicAttributes", sns.get_topic_attributes, TopicArn=arn, ok_codes=("NotFound",)),
        lambda: _topic_subscriptions(state, sns, arn, queue, calls, filters=filters),
    ]
    attrs, exc = _parallel(_run, jobs)[0]
    if state.exists is False or state.error:
        return state
    if queue and queue.arn:
        state.queue_policy = queue_policy_decision(queue.policy, queue_arn=queue.arn, topic_arn=arn)
    if exc is None:
        state.kms_key = attrs.get("Attributes", {}).get("KmsMasterKeyId") or None
        try:
            policy = json.loads(attrs.get("Attributes", {}).get("Policy") or "null")
        except ValueError:
            policy = None
        # SES must be let publish for each identity and configuration set that uses the topic.
        sources: list[str | None] = [ses_source_arn(arn, region, p) for p in publishers] or [None]
        state.ses_policy = strictest(ses_publish_decision(policy, arn, source_arn=s) for s in sources)
    return state


def _topic_subscriptions(
    state: TopicState, sns: Any, arn: str, queue: QueueState | None, calls: Calls, *, filters: bool = False
) -> None:
    """Is the topic there, and is the bot's queue subscribed to it (confirmed or pending)? With `filters`, the
    filter policies of the confirmed subscriptions that deliver to the bot."""
    delivering: list[dict[str, Any]] = []
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
            return
        state.exists = True
        for sub in page.get("Subscriptions", []):
            if sub.get("Protocol") == "sqs" and queue and queue.arn and sub.get("Endpoint") == queue.arn:
                if sub.get("SubscriptionArn") == "PendingConfirmation":
                    state.pending = True
                else:
                    state.sqs_subscribed = True
                    delivering.append(sub)
            elif state.https and sub.get("Protocol") in ("http", "https"):
                if sub.get("SubscriptionArn") != "PendingConfirmation":
                    delivering.append(sub)
        token = page.get("NextToken")
        if not token:
            break
    if filters:
        _subscription_filters(state, sns, delivering, calls)


def _subscription_filters(state: TopicState, sns: Any, subs: list[dict[str, Any]], calls: Calls) -> None:
    """The filter policy (and its scope) of each subscription in `subs` that has one."""
    for sub in subs:
        got, exc = calls(
            "sns:GetSubscriptionAttributes", sns.get_subscription_attributes, SubscriptionArn=sub["SubscriptionArn"]
        )
        if exc is not None:
            state.filters_error = describe_error(exc)
            return
        attrs = got.get("Attributes", {})
        policy = (attrs.get("FilterPolicy") or "").strip()
        if not policy or policy == "{}":  # `{}` is how SNS's filter policy is removed
            state.unfiltered = True
        else:
            state.filters.append(
                {
                    "subscription": sub["SubscriptionArn"],
                    "endpoint": sub.get("Endpoint", ""),
                    "policy": policy,
                    "scope": attrs.get("FilterPolicyScope") or "MessageAttributes",  # SNS's default
                }
            )


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


def _fingerprint(deps: Deps, region: str) -> str:
    """What the inspection depends on besides AWS: a cached one made under other settings, or in another
    account (`SESBOT_ACCOUNTS`: each account has its own configuration sets and topics), is not reused."""
    s = deps.settings
    queue = s.queue_url_for(deps.account) or ""
    parts = [region, s.sender or "", queue, ",".join(s.sns_topic_arns or []), s.aws_endpoint_url or ""]
    if deps.account is not None:
        parts += [deps.account.name, deps.account.role_arn or ""]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def inspect_cached(deps: Deps, region: str) -> Inspection:
    """`inspect` without permission probes, reused for `SESBOT_SETUP_CACHE_SECONDS` (the `why` suite runs it
    often): from this process's memory, else from the store (so a terminal run reuses the bot's), else asked
    again and kept in both. 0 seconds turns the cache off."""
    ttl = deps.settings.setup_cache_seconds
    key = _fingerprint(deps, region)
    cache: dict[str, Inspection] = deps.extras.setdefault(CACHE_KEY, {})
    hit = cache.get(key)
    if ttl and hit is not None and time.monotonic() - hit.at < ttl:
        return hit
    now = deps.now().timestamp()
    if ttl:
        stored = _stored(deps, key, now, ttl)
        if stored is not None:
            stored.at = time.monotonic() - (now - stored.at)
            cache[key] = stored
            return stored
    insp = inspect(deps, region, queue_fn=lambda: inspect_queue(deps))
    if ttl:
        cache[key] = insp
        _store(deps, key, insp, now)
    return insp


def _stored(deps: Deps, key: str, now: float, ttl: float) -> Inspection | None:
    """The stored inspection under `key` if it is younger than `ttl` (its `at` in epoch seconds), else None."""
    value = deps.store.kv_get(STORE_PREFIX + key)
    if value is None:
        return None
    try:
        if not 0 <= now - float(value["at"]) < ttl:
            return None
        insp = inspection_from_json(value["inspection"])
    except (KeyError, TypeError, ValueError):  # an older shape, or damage: ask AWS again
        return None
    insp.at = float(value["at"])
    return insp


def _store(deps: Deps, key: str, insp: Inspection, now: float) -> None:
    deps.store.kv_set(STORE_PREFIX + key, {"at": now, "inspection": inspection_to_json(insp)})


def forget_cached(deps: Deps) -> None:
    """Drop what `inspect_cached` kept, in memory and in the store: after `setup --apply` it is stale."""
    deps.extras.pop(CACHE_KEY, None)
    with deps.store.transaction() as db:
        db.conn.execute("DELETE FROM kv WHERE key LIKE ?", [STORE_PREFIX + "%"])
