"""The `setup` answer: what the bot cannot see, why, and the plan that fixes it, as findings.

One job: the wording. `setup_report` runs the inspection of every region, the plan and, with `apply`, the
plan and a second inspection, and says it all as findings: `setup.queue`, `setup.identity`, `setup.events`,
`setup.topics` (the topics, and the filter policies of the subscriptions that deliver to the bot),
`setup.reputation`, `setup.permissions`, `setup.plan` and `setup.applied`.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from bot.deps import Deps
from bot.findings import Finding, Report, Severity
from bot.setup.apply import apply_plan
from bot.setup.inspection import inspect, inspect_queue, inspect_status_rules
from bot.setup.model import (
    EVENT_TYPE_VALUES,
    FORWARD_ROLE_NAME,
    QUEUE_NAME,
    STATUS_RULE_NAME,
    WANTED_TYPES,
    Inspection,
    QueueState,
    RuleState,
    Step,
    TopicState,
    body_filter,
    filter_passes,
)
from bot.setup.permissions import BOT_ACTIONS, wanted_actions
from bot.setup.plan import build_plan
from bot.setup.policy import Decision, Verdict

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
DOC_FILTER_SCOPE = "https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering-scope.html"


# -- what the inspection found ----------------------------------------------------------------------------


def words(types: list[str], conj: str = "or") -> str:
    names = [TYPE_WORDS.get(t, t.lower()) for t in types]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" {conj} " + names[-1]


def sources_evidence(insp: Inspection) -> list[str]:
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
    if topic.ses_cannot_encrypt:
        return "encrypted with alias/aws/sns, which SES cannot publish with"
    if topic.https:
        return "reaches the bot over HTTPS (SESBOT_SNS_TOPIC_ARNS)"
    if topic.sqs_subscribed and topic.queue_allows:
        return "reaches the bot's queue"
    if topic.pending:
        return "SQS subscription pending confirmation"
    if topic.sqs_subscribed and topic.queue_policy and topic.queue_policy.verdict is Verdict.DENIED:
        return "subscribed, but the queue policy denies it"
    if topic.sqs_subscribed and topic.queue_policy and topic.queue_policy.verdict is Verdict.UNKNOWN:
        return "subscribed, but the bot cannot tell whether the queue policy lets it send"
    if topic.sqs_subscribed:
        return "subscribed, but the queue policy does not let it send"
    return "does not reach the bot's queue"


def events_finding(insp: Inspection) -> Finding:
    """`setup.events`: which event types reach the bot in this region, for all mail or only some."""
    cov = insp.coverage()
    seen_all = [t for t in WANTED_TYPES if cov[t].scope == "all"]
    some = [t for t in WANTED_TYPES if cov[t].scope == "some"]
    none = [t for t in WANTED_TYPES if cov[t].scope == "none"]
    evidence = sources_evidence(insp)
    evidence.append("seen for all mail: " + (", ".join(seen_all) or "nothing"))
    if some:
        evidence.append("seen only for mail that names a configuration set: " + ", ".join(some))
    if none:
        evidence.append("not seen: " + ", ".join(none))
    filtered = [t for t in WANTED_TYPES if cov[t].filtered and cov[t].scope != "all"]
    for t in filtered:
        evidence.append(f"{t} dropped by a subscription filter policy: " + "; ".join(cov[t].filtered))
    severity = Severity.OK
    for t in none:
        severity = max(severity, TYPE_SEVERITY[t])
    for t in some:
        severity = max(severity, min(TYPE_SEVERITY[t], Severity.WARNING))
    important = ["BOUNCE", "COMPLAINT", "DELIVERY_DELAY", "RENDERING_FAILURE", "REJECT"]
    missing = [t for t in important if cov[t].scope == "none"]
    partial = [t for t in important if cov[t].scope == "some"]
    if "BOUNCE" in missing or "COMPLAINT" in missing:
        summary = f"The bot cannot see {words([t for t in missing if t in ('BOUNCE', 'COMPLAINT')])} in {insp.region}"
    elif missing:
        summary = f"The bot sees bounces and complaints in {insp.region}, but not {words(missing)}"
    elif partial:
        summary = f"The bot sees {words(partial, 'and')} in {insp.region} only for mail that names a configuration set"
    else:
        summary = f"The bot sees bounces, complaints, delivery delays, rejects and rendering failures in {insp.region}"
    if "DELIVERY_DELAY" in missing and not ("BOUNCE" in missing or "COMPLAINT" in missing):
        why = (
            "a subscription filter policy drops them"
            if "DELIVERY_DELAY" in filtered
            else "no DELIVERY_DELAY destination"
        )
        summary += f" ({why}: mail still being retried is invisible)"
    elif filtered and severity > Severity.OK:
        summary += f" (a subscription filter policy drops {words(filtered, 'and')})"
    fix = ""
    if severity >= Severity.WARNING:
        fix = (
            "Publish these event types to an SNS topic that reaches the bot: run `sesbot setup --apply` (it adds a "
            f"configuration set event destination with {', '.join(WANTED_TYPES)} and makes the set the sender's "
            f"default), or add the destination yourself. {DOC_SNS_DESTINATION}"
        )
        if filtered:
            fix = (
                f"A subscription filter policy drops {', '.join(filtered)} before it reaches the bot (`setup.topics` "
                f"names it and how to remove it; `--apply` never changes a filter policy). {fix}"
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
        ses_ok = topic.ses_policy is None or topic.ses_policy.allowed  # None: the topic's policy could not be read
        if not topic.used or topic.https or (topic.reaches_bot and ses_ok):
            continue
        problem = _topic_problem(insp, topic)
        if problem is not None:
            severity, summary, fix = problem
            out.append(Finding("setup.topics", severity, summary, [topic.arn], fix, region=insp.region))
    return out + filter_findings(insp)


def filter_findings(insp: Inspection) -> list[Finding]:
    """`setup.topics`: subscription filter policies that keep SES's events from the bot, and one line when they
    could not be read."""
    out = []
    unread = []
    for topic in insp.topics.values():
        if not topic.used:
            continue
        if topic.filters_error:
            unread.append(f"{topic.name}: {topic.filters_error}")
        carried = _carried(insp, topic)
        for sub in topic.filters:
            problem = _filter_problem(topic, sub, carried)
            if problem is not None:
                severity, summary, evidence, fix = problem
                out.append(Finding("setup.topics", severity, summary, evidence, fix, region=insp.region))
    if unread:
        out.append(
            Finding(
                "setup.topics",
                Severity.INFO,
                "Could not read the filter policies of the subscriptions that deliver to the bot: the check needs "
                "sns:GetSubscriptionAttributes",
                unread,
                region=insp.region,
            )
        )
    return out


def _carried(insp: Inspection, topic: TopicState) -> list[tuple[str, str]]:
    """What SES publishes to `topic`, as (body key, value): `eventType` of the destinations' types,
    `notificationType` of the identity's notifications; every type the bot wants when nothing known uses it."""
    carried: list[tuple[str, str]] = []
    eff = insp.effective
    if eff:
        carried += [("notificationType", kind) for kind, arn in eff.topics.items() if arn == topic.arn]
    for cs in insp.config_sets.values():
        for d in cs.destinations:
            if d.enabled and d.topic_arn == topic.arn:
                carried += [("eventType", EVENT_TYPE_VALUES[t]) for t in d.types if t in EVENT_TYPE_VALUES]
    if not carried:
        carried = [("eventType", v) for v in EVENT_TYPE_VALUES.values()]
        carried += [("notificationType", kind) for kind in V1_TYPES]
    return list(dict.fromkeys(carried))


def _filter_problem(
    topic: TopicState, sub: dict[str, str], carried: list[tuple[str, str]]
) -> tuple[Severity, str, list[str], str] | None:
    """Whether a subscription's filter policy keeps SES's events from the bot: (severity, summary, evidence, fix)."""
    target = "the bot's queue" if sub["endpoint"].startswith("arn:") else f"HTTPS endpoint {sub['endpoint']}"
    evidence = [sub["subscription"], f"FilterPolicyScope: {sub['scope']}", f"FilterPolicy: {sub['policy']}"]
    remove = (
        f"`aws sns set-subscription-attributes --subscription-arn {sub['subscription']} --attribute-name "
        "FilterPolicy --attribute-value '{}'` removes it (an empty policy lets every message through)"
    )
    where = f"The subscription of SNS topic {topic.name} to {target}"
    if sub["scope"] != "MessageBody":
        summary = (
            f"{where} has a filter policy on message attributes: SNS delivers only messages whose attributes match "
            "it, and SES describes its events in the message body (eventType, notificationType), so no SES event "
            "reaches the bot"
        )
        fix = f"Remove the filter policy: {remove}. {DOC_FILTER_SCOPE}"
        return Severity.ERROR, summary, evidence, fix
    if body_filter(sub) is None:
        summary = f"{where} has a filter policy on the message body the bot cannot judge: check it lets SES's events"
        fix = f"Make sure it matches SES's `eventType` / `notificationType` values, or remove it: {remove}."
        return Severity.WARNING, summary, evidence, f"{fix} {DOC_FILTER_SCOPE}"
    passed = [f"{k} {v}" for k, v in carried if filter_passes(sub, k, v)]
    dropped = [f"{k} {v}" for k, v in carried if not filter_passes(sub, k, v)]
    if not dropped:
        return None
    summary = f"{where} has a filter policy that drops SES's {', '.join(dropped)}"
    evidence.append("lets through: " + (", ".join(passed) or "nothing SES publishes to the topic"))
    fix = f"Add the missing values to the policy, or remove it: {remove}. {DOC_FILTER_SCOPE}"
    return (Severity.WARNING if passed else Severity.ERROR), summary, evidence, fix


def _topic_problem(insp: Inspection, topic: TopicState) -> tuple[Severity, str, str] | None:
    """Why `topic` does not bring SES's events to the bot: (severity, summary, fix), or None when it does."""
    queue = insp.queue
    if topic.exists is False:
        return Severity.ERROR, f"SNS topic {topic.name} does not exist", "Point the destination at an existing topic."
    if topic.error:
        return Severity.ERROR, f"Could not inspect SNS topic {topic.name}: {topic.error}", "Check sns permissions."
    if topic.ses_cannot_encrypt:
        summary = (
            f"SNS topic {topic.name} is encrypted with the AWS-managed key alias/aws/sns, which SES cannot use: "
            "SES cannot publish to it"
        )
        fix = (
            "Use a customer managed KMS key whose key policy lets ses.amazonaws.com kms:GenerateDataKey and "
            "kms:Decrypt, or turn the topic's encryption off. "
            "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html"
        )
        return Severity.ERROR, summary, fix
    if queue is None:
        summary = f"SNS topic {topic.name} reaches no queue the bot reads: SESBOT_SQS_QUEUE_URL is not set"
        fix = "Set SESBOT_SQS_QUEUE_URL to the queue subscribed to this topic (or run `sesbot setup --apply`)."
        return Severity.ERROR, summary, fix
    if topic.pending:
        summary = f"The SQS subscription of SNS topic {topic.name} is pending confirmation"
        return (
            Severity.ERROR,
            summary,
            "Confirm it in the topic's account: SNS sent a SubscriptionConfirmation to the bot's queue, which the "
            "bot keeps in its quarantine table (its Token and SubscribeURL); run `aws sns confirm-subscription "
            f"--topic-arn {topic.arn} --token <Token>`, or subscribe the queue from the topic's account, which "
            f"needs no confirmation. {DOC_SQS_SUBSCRIBE}",
        )
    if not topic.sqs_subscribed:
        summary = f"SNS topic {topic.name} has no subscription to the bot's queue"
        fix = (
            f"Subscribe the queue {queue.arn or queue.url} to the topic (`sesbot setup --apply` does). "
            f"{DOC_SQS_SUBSCRIBE}"
        )
        return Severity.ERROR, summary, fix
    if not topic.queue_allows:
        return _queue_policy_problem(topic)
    return _ses_policy_problem(topic)


def _undecided_fix(decision: Decision, policy: str, statement: str, doc: str) -> str:
    """The fix when the bot cannot tell what a `policy` ("queue", "topic") decides for `statement`."""
    if decision.fixable_by_allow:
        return f"Add a {policy} policy statement allowing {statement} (`sesbot setup --apply` does). {doc}"
    return f"Check that statement by hand: it must not deny {statement}. {doc}"


def _queue_policy_problem(topic: TopicState) -> tuple[Severity, str, str]:
    decision = topic.queue_policy
    statement = f"sns.amazonaws.com sqs:SendMessage with aws:SourceArn = {topic.arn}"
    if decision is not None and decision.verdict is Verdict.DENIED:
        summary = f"The bot's queue policy denies SNS topic {topic.name}: {decision.reason}"
        fix = (
            "Remove or narrow that Deny statement: an explicit Deny beats every Allow, so `sesbot setup --apply` "
            f"leaves the policy as it is; until then SNS drops every message. {DOC_SQS_SUBSCRIBE}"
        )
        return Severity.ERROR, summary, fix
    if decision is not None and decision.verdict is Verdict.UNKNOWN:
        summary = (
            f"The bot cannot tell whether its queue policy lets SNS topic {topic.name} send to it: {decision.reason}"
        )
        return Severity.WARNING, summary, _undecided_fix(decision, "queue", statement, DOC_SQS_SUBSCRIBE)
    summary = f"The bot's queue policy does not let SNS topic {topic.name} send to it"
    fix = (
        "Add a queue policy statement allowing sns.amazonaws.com sqs:SendMessage with aws:SourceArn = "
        f"{topic.arn} (`sesbot setup --apply` does); without it SNS drops every message. {DOC_SQS_SUBSCRIBE}"
    )
    return Severity.ERROR, summary, fix


def _ses_policy_problem(topic: TopicState) -> tuple[Severity, str, str] | None:
    decision = topic.ses_policy
    if decision is None or decision.allowed:
        return None
    if decision.verdict is Verdict.DENIED:
        summary = f"SNS topic {topic.name}'s policy denies SES publishing: {decision.reason}"
        fix = (
            "Remove or narrow that Deny statement: an explicit Deny beats every Allow, so `sesbot setup --apply` "
            f"leaves the policy as it is. {DOC_SNS_DESTINATION}"
        )
        return Severity.WARNING, summary, fix
    if decision.verdict is Verdict.UNKNOWN:
        summary = (
            f"The bot cannot tell whether SNS topic {topic.name}'s policy lets SES publish to it: {decision.reason}"
        )
        fix = _undecided_fix(decision, "topic", "ses.amazonaws.com sns:Publish", DOC_SNS_DESTINATION)
        return Severity.WARNING, summary, fix
    summary = f"SNS topic {topic.name}'s policy does not let SES publish to it"
    fix = (
        "Add a topic policy statement allowing ses.amazonaws.com sns:Publish (the SES console adds it; "
        f"`sesbot setup --apply` does too). {DOC_SNS_DESTINATION}"
    )
    return Severity.WARNING, summary, fix


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
    if queue.sns_cannot_encrypt:
        return Finding(
            "setup.queue",
            Severity.ERROR,
            f"The bot's queue is encrypted with the AWS-managed key {queue.kms_key}, which SNS cannot use: "
            "no message from an SNS topic reaches it",
            [queue.url, f"KmsMasterKeyId: {queue.kms_key}"],
            "Use SQS-managed encryption (SSE-SQS) instead, or a customer managed KMS key whose key policy lets "
            "sns.amazonaws.com kms:GenerateDataKey and kms:Decrypt. "
            "https://docs.aws.amazon.com/sns/latest/dg/sns-enable-encryption-for-topic-sqs-queue-subscriptions.html",
            data={"queue_url": queue.url, "queue_arn": queue.arn, "kms_key": queue.kms_key},
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


# -- the plan and what --apply did -------------------------------------------------------------------------


def _inspect_all(deps: Deps) -> tuple[QueueState | None, list[Inspection], list[RuleState]]:
    queue_permissions: dict[str, str] = {}
    queue = inspect_queue(deps, discover=True, permissions=queue_permissions)
    regions = deps.settings.regions
    with ThreadPoolExecutor(max_workers=max(1, len(regions)), thread_name_prefix="setup-region") as pool:
        inspections = list(pool.map(lambda r: inspect(deps, r, queue=queue, permissions=True), regions))
        rules = inspect_status_rules(deps, queue)
    if inspections:
        for action, verdict in queue_permissions.items():
            inspections[0].permissions.setdefault(action, verdict)
    return queue, inspections, rules


def status_rule_findings(rules: list[RuleState]) -> list[Finding]:
    """`setup.push`, one per region the bot watches (the queue's first): do SES's sending-status and Advisor
    events of that region reach the bot as they happen? One finding without a region when there is no rule to
    look at (no queue yet, or the queue in a region the bot does not watch)."""
    if not rules:
        return [_push_finding(None, f"there is no EventBridge rule {STATUS_RULE_NAME}", None)]
    home = rules[0]
    out = []
    for rule in rules:
        if rule.forward_to is None:
            route = f"EventBridge rule {STATUS_RULE_NAME} in {rule.region} -> the queue"
        else:
            route = (
                f"EventBridge rule {STATUS_RULE_NAME} in {rule.region} -> the default event bus of {home.region} "
                f"-> rule {STATUS_RULE_NAME} there -> the queue"
            )
        if rule.in_place and home.in_place:
            summary = f"SES's sending-status and Advisor events reach the bot as they happen ({route})"
            out.append(Finding("setup.push", Severity.OK, summary, region=rule.region))
            continue
        out.append(_push_finding(rule, _push_gap(rule, home), home.region))
    return out


def _push_gap(rule: RuleState, home: RuleState) -> str:
    """Why `rule`'s region's status events do not reach the queue as they happen."""
    if rule.error:
        return f"the rule could not be read ({rule.error})"
    if not rule.exists:
        return f"there is no EventBridge rule {STATUS_RULE_NAME} in {rule.region}"
    if not (rule.pattern_ok and rule.enabled):
        return f"EventBridge rule {STATUS_RULE_NAME} is disabled or does not match SES's status events"
    if rule.forward_to is not None and not rule.targets_queue:
        return (
            f"EventBridge rule {STATUS_RULE_NAME} does not forward them to the default event bus of {home.region} "
            "(with a role)"
        )
    if not rule.targets_queue:
        return f"EventBridge rule {STATUS_RULE_NAME} does not send to the bot's queue"
    if rule.forward_to is not None:
        return f"they are forwarded to {home.region}, whose rule does not put them on the queue"
    return "the queue policy does not let the rule send"


def _push_finding(rule: RuleState | None, why: str, queue_region: str | None) -> Finding:
    if rule is not None and rule.forward_to is not None:
        fix = (
            f"Run `sesbot setup --apply`: in {rule.region} it creates rule {STATUS_RULE_NAME} forwarding them to the "
            f"default event bus of {queue_region} (EventBridge delivers to a queue of the rule's own region only), "
            f"with IAM role {FORWARD_ROLE_NAME} to put them there."
        )
    else:
        fix = "Run `sesbot setup --apply` to create the rule (it needs the bot's queue in a region the bot watches)."
    return Finding(
        "setup.push",
        Severity.INFO,  # polling still sees it, one sweep later: nothing is missed
        f"SES's sending-status and Advisor events are seen at the next sweep, not as they happen: {why}",
        fix=fix,
        region=rule.region if rule else None,
    )


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
    findings.append(permissions_finding(inspections, wanted_actions(deps)))
    return findings


def setup_report(deps: Deps, *, apply: bool = False, via: str = "cli") -> Report:
    """The `setup` answer: what the bot cannot see, the plan that fixes it, and with `apply` the plan done."""
    started = time.perf_counter()
    queue, inspections, rules = _inspect_all(deps)
    steps = build_plan(deps, inspections, queue, rules)
    findings: list[Finding] = []
    if apply and steps:
        findings.append(_applied_finding(apply_plan(deps, steps)))
        queue, inspections, rules = _inspect_all(deps)
        steps = build_plan(deps, inspections, queue, rules)
    findings += _findings(deps, queue, inspections)
    findings += status_rule_findings(rules)
    findings.append(_plan_finding(steps, via, applying=apply))
    return Report(
        target=", ".join(deps.settings.regions),
        findings=findings,
        kind="setup",
        region=",".join(deps.settings.regions) or None,
        elapsed_ms=int((time.perf_counter() - started) * 1000),
    )
