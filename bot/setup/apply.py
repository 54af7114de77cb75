"""Carrying out a plan (`setup --apply`): the AWS changes each step makes, and running the steps in order.

One job: make the changes. Each action is a function of the values the plan bound (region, names...) and of
`ctx`, the values earlier steps produced (`queue_url`, `queue_arn`, `queue_region`, `topic:<region>`; a step
may leave a `follow_up` for the person). Every action checks again what it is about to change, so a plan
applied twice (or over a half-applied one) changes nothing the second time. A policy the bot cannot
improve by adding an Allow (an explicit Deny, or a Deny it cannot evaluate) is left as it is and said so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from bot.aws import describe_error, error_code
from bot.deps import Deps
from bot.setup.inspection import forget_cached
from bot.setup.model import (
    CONFIG_SET_NAME,
    DESTINATION_NAME,
    FORWARD_POLICY_NAME,
    FORWARD_ROLE_NAME,
    FORWARD_TARGET_ID,
    STATUS_RULE_NAME,
    STATUS_TARGET_ID,
    TOPIC_NAME,
    QueueState,
    Step,
    default_bus_arn,
    same_pattern,
    status_event_pattern,
)
from bot.setup.policy import (
    events_send_decision,
    queue_policy_decision,
    ses_publish_decision,
    ses_source_arn,
    strictest,
)

_EMPTY_POLICY = '{"Version": "2012-10-17", "Statement": []}'
TOPIC_STATEMENT_SID = "sesbot-ses-publish"


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
    forget_cached(deps)  # what `why` cached is stale now
    return steps


# -- the statements the bot adds -----------------------------------------------------------------------------------


def _send_statement(sid: str, service: str, queue_arn: str, source_arn: str) -> dict[str, Any]:
    """A queue policy statement letting AWS service `service` send to the queue, only on behalf of `source_arn`."""
    return {
        "Sid": sid[:100],
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}},
    }


def queue_policy_statement(queue_arn: str, topic_arn: str) -> dict[str, Any]:
    """The queue policy statement that lets SNS topic `topic_arn` send to the queue."""
    sid = f"sesbot-{topic_arn.split(':')[3]}-{topic_arn.rsplit(':', 1)[-1]}"
    return _send_statement(sid, "sns.amazonaws.com", queue_arn, topic_arn)


def rule_policy_statement(queue_arn: str, rule_arn: str) -> dict[str, Any]:
    """The queue policy statement that lets EventBridge rule `rule_arn` (and only it) send to the queue."""
    sid = f"sesbot-events-{rule_arn.split(':')[3]}-{rule_arn.rsplit('/', 1)[-1]}"
    return _send_statement(sid, "events.amazonaws.com", queue_arn, rule_arn)


def topic_policy_statement(topic_arn: str, source_arns: list[str]) -> dict[str, Any]:
    """The topic policy statement that lets SES of the topic's account publish to it, only on behalf of
    `source_arns` (its configuration sets and identities: `ses_source_arn`), as AWS recommends against the
    confused deputy problem."""
    account = topic_arn.split(":")[4]
    return {
        "Sid": TOPIC_STATEMENT_SID,
        "Effect": "Allow",
        "Principal": {"Service": "ses.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": account},
            "ArnLike": {"AWS:SourceArn": source_arns[0] if len(source_arns) == 1 else source_arns},
        },
    }


# -- the actions ---------------------------------------------------------------------------------------------------


def topic_arn(deps: Deps, region: str, existing: str | None, ctx: dict[str, Any]) -> str:
    """The ARN of the region's topic: `existing`, else the one CreateTopic makes (once per apply).

    CreateTopic returns the existing topic's ARN when the name is taken: safe to call again.
    """
    key = f"topic:{region}"
    if key not in ctx:
        ctx[key] = existing if existing else deps.aws.get("sns", region).create_topic(Name=TOPIC_NAME)["TopicArn"]
    return str(ctx[key])


def create_topic(deps: Deps, region: str, ctx: dict[str, Any]) -> str:
    return f"topic {topic_arn(deps, region, None, ctx)}"


def allow_ses(deps: Deps, region: str, existing: str | None, publishers: list[str], ctx: dict[str, Any]) -> str:
    """Add the statement that lets SES publish to the topic for each of `publishers` (`configuration-set/name`,
    `identity/name`), unless the policy already lets it; the bot's own statement (an older one, scoped by
    account only, included) is replaced rather than doubled."""
    sns = deps.aws.get("sns", region)
    arn = topic_arn(deps, region, existing, ctx)
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    policy = json.loads(attrs.get("Policy") or _EMPTY_POLICY)
    sources = [ses_source_arn(arn, region, p) for p in publishers]
    decision = strictest(ses_publish_decision(policy, arn, source_arn=s) for s in sources)
    if decision is None or decision.allowed:
        return "SES may already publish"
    if not decision.fixable_by_allow:
        raise RuntimeError(f"the topic policy was left as it is: {decision.reason}; an Allow cannot override it")
    statements = [
        s for s in policy.get("Statement") or [] if not (isinstance(s, dict) and s.get("Sid") == TOPIC_STATEMENT_SID)
    ]
    policy["Statement"] = statements + [topic_policy_statement(arn, sources)]
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(policy))
    return "the topic policy lets ses.amazonaws.com publish for " + ", ".join(publishers)


def queue_values(queue: QueueState | None, home: str, ctx: dict[str, Any]) -> tuple[str, str, str]:
    """(URL, ARN, region) of the bot's queue: the one a step just created, else the inspected one."""
    url = ctx.get("queue_url") or (queue.url if queue else None)
    arn = ctx.get("queue_arn") or (queue.arn if queue else None)
    if not url or not arn:
        raise RuntimeError("there is no queue to subscribe (create it first)")
    return url, arn, ctx.get("queue_region") or (queue.region if queue else home)


def route(
    deps: Deps, region: str, existing: str | None, queue: QueueState | None, home: str, ctx: dict[str, Any]
) -> str:
    """Let the topic send to the bot's queue (queue policy) and subscribe the queue, each only when missing."""
    arn = topic_arn(deps, region, existing, ctx)
    url, qarn, qregion = queue_values(queue, home, ctx)
    done = _allow_sender(
        deps, qregion, url, lambda p: queue_policy_decision(p, queue_arn=qarn, topic_arn=arn),
        queue_policy_statement(qarn, arn), "the topic",
    )  # fmt: skip
    sns = deps.aws.get("sns", region)
    subs = sns.list_subscriptions_by_topic(TopicArn=arn).get("Subscriptions", [])
    if not any(s.get("Protocol") == "sqs" and s.get("Endpoint") == qarn for s in subs):
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)
        done.append("the queue is subscribed")
    return ", ".join(done) or "already in place"


def create_config_set(deps: Deps, region: str, ctx: dict[str, Any]) -> str:
    sesv2 = deps.aws.get("sesv2", region)
    try:
        sesv2.create_configuration_set(ConfigurationSetName=CONFIG_SET_NAME)
    except Exception as exc:
        if error_code(exc) != "AlreadyExistsException":
            raise
        return f"configuration set {CONFIG_SET_NAME} already exists"
    return f"created configuration set {CONFIG_SET_NAME}"


def set_default_config_set(deps: Deps, region: str, identity: str, ctx: dict[str, Any]) -> str:
    deps.aws.get("sesv2", region).put_email_identity_configuration_set_attributes(
        EmailIdentity=identity, ConfigurationSetName=CONFIG_SET_NAME
    )
    return f"{identity} now sends with {CONFIG_SET_NAME} by default"


def put_destination(
    deps: Deps, region: str, set_name: str, types: list[str], existing: str | None, ctx: dict[str, Any]
) -> str:
    """Create the bot's event destination on `set_name`, or update it when it is there already."""
    sesv2 = deps.aws.get("sesv2", region)
    definition = {
        "Enabled": True,
        "MatchingEventTypes": types,
        "SnsDestination": {"TopicArn": topic_arn(deps, region, existing, ctx)},
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


def reputation_metrics_on(deps: Deps, region: str, set_name: str, ctx: dict[str, Any]) -> str:
    deps.aws.get("sesv2", region).put_configuration_set_reputation_options(
        ConfigurationSetName=set_name, ReputationMetricsEnabled=True
    )
    return "reputation metrics on"


def create_queue(deps: Deps, name: str, qregion: str, ctx: dict[str, Any]) -> str:
    sqs = deps.aws.get("sqs", qregion)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    ctx.update(queue_url=url, queue_arn=arn, queue_region=qregion)
    if not deps.settings.queue_url_for(deps.account):
        more = " (add it to the list: one queue per account)" if deps.settings.sqs_queue_urls else ""
        ctx["follow_up"] = f"set SESBOT_SQS_QUEUE_URL={url}{more} and restart the bot"
    return f"created {url}"


def _put_rule(events: Any, done: list[str]) -> str:
    """The rule `STATUS_RULE_NAME` on the default bus of `events`'s region with the bot's pattern, enabled: put
    only when missing or different; its ARN."""
    try:
        rule: dict[str, Any] | None = events.describe_rule(Name=STATUS_RULE_NAME)
    except Exception as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        rule = None
    if rule is not None and same_pattern(rule.get("EventPattern")) and rule.get("State") == "ENABLED":
        return str(rule["Arn"])
    rule_arn = events.put_rule(
        Name=STATUS_RULE_NAME,
        EventPattern=json.dumps(status_event_pattern()),
        State="ENABLED",
        Description="sesbot: SES sending status and VDM Advisor events to the bot's queue",
    )["RuleArn"]
    done.append("rule created" if rule is None else "rule pattern set")
    return str(rule_arn)


def _put_target(events: Any, target: dict[str, str], done: list[str], what: str) -> None:
    """`target` on the rule, unless one with its ARN (and, for a bus, a role) is there already."""
    targets = events.list_targets_by_rule(Rule=STATUS_RULE_NAME).get("Targets") or []
    if any(t.get("Arn") == target["Arn"] and (t.get("RoleArn") or "RoleArn" not in target) for t in targets):
        return
    answer = events.put_targets(Rule=STATUS_RULE_NAME, Targets=[target])
    if answer.get("FailedEntryCount"):
        raise RuntimeError(f"EventBridge refused {what} as target: {answer.get('FailedEntries')}")
    done.append(f"{what} is its target")


def put_status_rule(deps: Deps, queue: QueueState | None, home: str, ctx: dict[str, Any]) -> str:
    """The EventBridge rule that pushes SES's sending-status and Advisor events to the bot's queue: the rule
    (`PutRule` on the default bus), the queue as its target (`PutTargets`), and the queue policy statement that
    lets the rule send; each only when missing."""
    url, qarn, qregion = queue_values(queue, home, ctx)
    events = deps.aws.get("events", qregion)
    done: list[str] = []
    rule_arn = _put_rule(events, done)
    _put_target(events, {"Id": STATUS_TARGET_ID, "Arn": qarn}, done, "the queue")
    done += _allow_sender(
        deps, qregion, url, lambda p: events_send_decision(p, queue_arn=qarn, rule_arn=rule_arn),
        rule_policy_statement(qarn, rule_arn), "the rule",
    )  # fmt: skip
    return ", ".join(done) or "already in place"


def forward_role_policies(bus_arn: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(trust policy, permissions policy) of `FORWARD_ROLE_NAME`: EventBridge of the bus's account may assume
    it, and it may put events on the bus (the queue region's default event bus) only."""
    account = bus_arn.split(":")[4]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }
    permissions = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus_arn}],
    }
    return trust, permissions


def _forward_role(deps: Deps, region: str, bus_arn: str, done: list[str]) -> str:
    """The ARN of the role the other regions' rules forward with; created, or its policy set, when missing."""
    iam = deps.aws.get("iam", region)
    trust, permissions = forward_role_policies(bus_arn)
    try:
        role_arn = str(iam.get_role(RoleName=FORWARD_ROLE_NAME)["Role"]["Arn"])
    except Exception as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        role_arn = str(
            iam.create_role(
                RoleName=FORWARD_ROLE_NAME,
                AssumeRolePolicyDocument=json.dumps(trust),
                Description="sesbot: EventBridge forwards SES status events to the bot's queue region",
            )["Role"]["Arn"]
        )
        done.append(f"IAM role {FORWARD_ROLE_NAME} created")
    try:
        current = iam.get_role_policy(RoleName=FORWARD_ROLE_NAME, PolicyName=FORWARD_POLICY_NAME)["PolicyDocument"]
    except Exception as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        current = None
    if isinstance(current, str):
        current = json.loads(unquote(current))
    if current != permissions:
        iam.put_role_policy(
            RoleName=FORWARD_ROLE_NAME, PolicyName=FORWARD_POLICY_NAME, PolicyDocument=json.dumps(permissions)
        )
        done.append(f"it may put events on {bus_arn}")
    return role_arn


def put_forward_rule(deps: Deps, region: str, queue: QueueState | None, home: str, ctx: dict[str, Any]) -> str:
    """In `region` (not the queue's), the rule that forwards SES's sending-status and Advisor events to the queue
    region's default event bus, where the queue region's rule sends them to the queue: the role it forwards
    with, the rule, and the bus as its target; each only when missing."""
    _, qarn, _ = queue_values(queue, home, ctx)
    bus = default_bus_arn(qarn)
    done: list[str] = []
    role_arn = _forward_role(deps, region, bus, done)
    events = deps.aws.get("events", region)
    _put_rule(events, done)
    _put_target(events, {"Id": FORWARD_TARGET_ID, "Arn": bus, "RoleArn": role_arn}, done, f"event bus {bus}")
    return ", ".join(done) or "already in place"


def _allow_sender(
    deps: Deps, qregion: str, url: str, judge: Callable[[dict[str, Any]], Any], statement: dict[str, Any], who: str
) -> list[str]:
    """Add `statement` to the queue's policy when `judge` (the policy evaluation) says an allow would let `who`
    send; a policy that denies it is left as it is, and said."""
    sqs = deps.aws.get("sqs", qregion)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {})
    policy = json.loads(attrs.get("Policy") or _EMPTY_POLICY)
    decision = judge(policy)
    if decision.fixable_by_allow:
        policy.setdefault("Statement", []).append(statement)
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
        return [f"the queue policy lets {who} send"]
    if not decision.allowed:
        return [f"the queue policy was left as it is ({decision.reason})"]
    return []
