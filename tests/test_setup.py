"""`setup` inspects how SES events reach the bot, `setup --apply` fixes it, and `events.coverage` explains gaps.

Everything runs against the local AWS peer (moto plus our SESv2 layer): identities, configuration sets,
event destinations, SNS topics, SQS queues and their policies are real API objects there.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import bot.checks.coverage  # noqa: F401  (registers events.coverage)
import bot.commands.setup  # noqa: F401  (registers `setup`)
from bot.checks import REGISTRY
from bot.commands import CommandContext, execute, parse
from bot.deps import Deps
from bot.findings import Finding, Report, Severity
from bot.ingest import ingest_documents
from bot.runner import run_checks
from bot.setup import WANTED_TYPES
from bot.setup.model import Inspection, QueueState, TopicState
from bot.setup.permissions import BOT_ACTIONS
from bot.setup.plan import _RegionPlan, _route_step
from bot.setup.policy import Decision, Verdict
from bot.setup.report import _topic_problem
from tests.test_checks_validation import delivered

REGION = "us-east-1"
DOMAIN = "mail.example.com"
# The last step of every plan with a queue: SES's status events pushed to it (issue 13).
PUSH_STEP = (
    "push SES's sending-status and Advisor events to the bot's queue: EventBridge rule sesbot-ses-status "
    "(source aws.ses) with the queue as target and a queue policy that lets the rule send"
)


def run(deps: Deps, text: str, via: str = "cli") -> Report:
    result = execute(CommandContext(deps=deps, via=via), parse(text))
    assert isinstance(result, Report)
    return result


def finding(report: Report, check: str) -> Finding:
    found = [f for f in report.findings if f.check == check]
    assert len(found) == 1, [f.check for f in report.findings]
    return found[0]


def route_topic_to_queue(aws_peer, topic: str, queue: str, *, queue_policy: bool = True) -> tuple[str, str]:
    """An SNS topic that SES may publish to, with the queue subscribed (and allowed, unless told otherwise)."""
    sns, sqs = aws_peer.client("sns"), aws_peer.client("sqs")
    topic_arn = sns.create_topic(Name=topic)["TopicArn"]
    account = topic_arn.split(":")[4]
    ses_may_publish = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ses.amazonaws.com"},
                "Action": "SNS:Publish",
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"AWS:SourceAccount": account}},
            }
        ],
    }
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="Policy", AttributeValue=json.dumps(ses_may_publish))
    queue_url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if queue_policy:
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
                }
            ],
        }
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return topic_arn, queue_url


def app_configuration_set(aws_peer, topic_arn: str, types: list[str], *, default: bool = True) -> None:
    """The application's own configuration set `app` with one SNS destination; the sender's default if asked."""
    sesv2 = aws_peer.client("sesv2")
    sesv2.create_configuration_set(ConfigurationSetName="app")
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName="app",
        EventDestinationName="to-ops",
        EventDestination={"Enabled": True, "MatchingEventTypes": types, "SnsDestination": {"TopicArn": topic_arn}},
    )
    if default:
        sesv2.create_email_identity(EmailIdentity=DOMAIN, ConfigurationSetName="app")
    aws_peer.set_identity(DOMAIN)


def coverage(deps: Deps, recipient: str) -> list[Finding]:
    checks = [c for c in REGISTRY if c.id == "events.coverage"]
    report, _ = run_checks(deps, recipient, checks=checks)
    return [f for f in report.findings if f.check == "events.coverage"]


# --- setup: the inspection ---------------------------------------------------------------------------------------


def test_with_nothing_set_up_the_bot_sees_no_bounces_and_the_plan_lists_every_change(aws_peer, deps: Deps) -> None:
    aws_peer.set_identity(DOMAIN)

    report = run(deps, "setup")

    assert report.kind == "setup"
    queue = finding(report, "setup.queue")
    assert (queue.severity, queue.summary) == (
        Severity.ERROR,
        "SESBOT_SQS_QUEUE_URL is not set: the bot reads no queue, so it receives no events",
    )
    events = finding(report, "setup.events")
    assert (events.severity, events.summary) == (
        Severity.ERROR,
        f"The bot cannot see bounces or complaints in {REGION}",
    )
    assert events.data["coverage"]["DELIVERY_DELAY"] == {"scope": "none", "via": []}
    assert f"SES notifications of {DOMAIN}: none (no Bounce/Complaint/Delivery topic)" in events.evidence
    identity = finding(report, "setup.identity")
    assert identity.summary == f"{DOMAIN} has no default configuration set"
    plan = finding(report, "setup.plan")
    assert plan.severity == Severity.WARNING
    assert plan.evidence == [
        f"{REGION}: create SQS queue sesbot-events in {REGION}",
        f"{REGION}: create SNS topic sesbot-events",
        f"{REGION}: let SES publish to SNS topic sesbot-events (topic policy)",
        f"{REGION}: subscribe the bot's queue to SNS topic sesbot-events, with a queue policy that lets it send",
        f"{REGION}: create configuration set sesbot",
        f"{REGION}: make sesbot the default configuration set of {DOMAIN} (every send then publishes events)",
        f"{REGION}: add event destination sesbot on configuration set sesbot: {', '.join(WANTED_TYPES)} -> "
        "SNS topic sesbot-events",
        f"{REGION}: turn reputation metrics on for configuration set sesbot",
        f"{REGION}: {PUSH_STEP}",
    ]
    assert aws_peer.calls_to("CreateTopic") == []  # looking changes nothing


def test_a_default_set_without_delivery_delay_is_a_warning_that_names_what_is_missing(
    aws_peer, deps: Deps, settings
) -> None:
    topic_arn, queue_url = route_topic_to_queue(aws_peer, "ops-events", "bot-queue")
    app_configuration_set(aws_peer, topic_arn, ["BOUNCE", "COMPLAINT"])
    settings.sqs_queue_url = queue_url

    report = run(deps, "setup")

    events = finding(report, "setup.events")
    assert events.severity == Severity.WARNING
    assert events.summary == (
        f"The bot sees bounces and complaints in {REGION}, but not delivery delays, rendering failures or rejects "
        "(no DELIVERY_DELAY destination: mail still being retried is invisible)"
    )
    assert events.data["coverage"]["BOUNCE"] == {
        "scope": "all",
        "via": ["configuration set app (default) -> ops-events"],
    }
    assert finding(report, "setup.identity").summary == f"{DOMAIN} sends with configuration set app by default"
    assert finding(report, "setup.queue").severity == Severity.OK
    assert finding(report, "setup.reputation").summary == "Reputation metrics are off for configuration set app"
    # The topic that already reaches the bot carries the missing types; nothing is published twice.
    assert finding(report, "setup.plan").evidence == [
        f"{REGION}: add event destination sesbot on configuration set app: SEND, REJECT, DELIVERY, DELIVERY_DELAY, "
        "RENDERING_FAILURE -> SNS topic ops-events",
        f"{REGION}: turn reputation metrics on for configuration set app",
        f"{REGION}: {PUSH_STEP}",
    ]
    assert [f.check for f in report.problems] == ["setup.events", "setup.reputation", "setup.plan"]


def test_a_topic_the_bot_receives_over_https_counts_and_no_queue_is_planned(aws_peer, deps: Deps, settings) -> None:
    topic_arn = aws_peer.client("sns").create_topic(Name="ops-https")["TopicArn"]
    app_configuration_set(aws_peer, topic_arn, list(WANTED_TYPES))
    settings.sns_topic_arns = [topic_arn]

    report = run(deps, "setup")

    assert finding(report, "setup.events").severity == Severity.OK
    queue = finding(report, "setup.queue")
    assert (queue.severity, queue.summary) == (
        Severity.INFO,
        "SESBOT_SQS_QUEUE_URL is not set: the bot reads no queue (events come over HTTPS from SESBOT_SNS_TOPIC_ARNS)",
    )
    assert finding(report, "setup.plan").evidence == [f"{REGION}: turn reputation metrics on for configuration set app"]


def test_a_subscription_without_a_queue_policy_is_said_to_drop_every_message(aws_peer, deps: Deps, settings) -> None:
    topic_arn, queue_url = route_topic_to_queue(aws_peer, "ops-events", "bot-queue", queue_policy=False)
    app_configuration_set(aws_peer, topic_arn, list(WANTED_TYPES))
    settings.sqs_queue_url = queue_url

    report = run(deps, "setup")

    topics = finding(report, "setup.topics")
    assert topics.severity == Severity.ERROR
    assert topics.summary == "The bot's queue policy does not let SNS topic ops-events send to it"
    assert "SNS drops every message" in topics.fix
    assert finding(report, "setup.events").severity == Severity.ERROR
    # The plan mends the route of the topic in use rather than adding another.
    assert finding(report, "setup.plan").evidence[0] == (
        f"{REGION}: subscribe the bot's queue to SNS topic ops-events, with a queue policy that lets it send"
    )


def filter_the_subscription(aws_peer, topic_arn: str, policy: dict[str, Any], scope: str | None = None) -> str:
    """Give the topic's one subscription a filter policy (and a scope, if told); its ARN."""
    sns = aws_peer.client("sns")
    [sub] = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    arn = sub["SubscriptionArn"]
    if scope:
        sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicyScope", AttributeValue=scope)
    sns.set_subscription_attributes(
        SubscriptionArn=arn, AttributeName="FilterPolicy", AttributeValue=json.dumps(policy)
    )
    return arn


def events_to_the_bots_queue(aws_peer, settings, types: list[str]) -> str:
    """A configuration set publishing `types` to topic ops-events, subscribed by the bot's queue; the topic's ARN."""
    topic_arn, queue_url = route_topic_to_queue(aws_peer, "ops-events", "bot-queue")
    app_configuration_set(aws_peer, topic_arn, types)
    settings.sqs_queue_url = queue_url
    return topic_arn


def test_a_filter_policy_on_message_attributes_is_said_to_drop_every_ses_event(aws_peer, deps: Deps, settings) -> None:
    topic_arn = events_to_the_bots_queue(aws_peer, settings, list(WANTED_TYPES))
    sub_arn = filter_the_subscription(aws_peer, topic_arn, {"team": ["mail"]})  # scope: SNS's default

    report = run(deps, "setup")

    topics = finding(report, "setup.topics")
    assert topics.severity == Severity.ERROR
    assert topics.summary == (
        "The subscription of SNS topic ops-events to the bot's queue has a filter policy on message attributes: "
        "SNS delivers only messages whose attributes match it, and SES describes its events in the message body "
        "(eventType, notificationType), so no SES event reaches the bot"
    )
    assert topics.evidence == [sub_arn, "FilterPolicyScope: MessageAttributes", 'FilterPolicy: {"team": ["mail"]}']
    assert (
        f"aws sns set-subscription-attributes --subscription-arn {sub_arn} --attribute-name FilterPolicy "
        "--attribute-value '{}'"
    ) in topics.fix


def test_a_removed_filter_policy_leaves_nothing_to_report(aws_peer, deps: Deps, settings) -> None:
    topic_arn = events_to_the_bots_queue(aws_peer, settings, list(WANTED_TYPES))
    filter_the_subscription(aws_peer, topic_arn, {"team": ["mail"]})
    filter_the_subscription(aws_peer, topic_arn, {})

    report = run(deps, "setup")

    assert [f.check for f in report.findings if f.check == "setup.topics"] == []


def test_a_message_body_filter_on_event_type_is_said_to_drop_the_types_it_does_not_list(
    aws_peer, deps: Deps, settings
) -> None:
    topic_arn = events_to_the_bots_queue(aws_peer, settings, ["BOUNCE", "COMPLAINT", "DELIVERY_DELAY"])
    filter_the_subscription(aws_peer, topic_arn, {"eventType": ["Bounce", "Complaint"]}, scope="MessageBody")

    report = run(deps, "setup")

    topics = finding(report, "setup.topics")
    assert topics.severity == Severity.WARNING
    assert topics.summary == (
        "The subscription of SNS topic ops-events to the bot's queue has a filter policy that drops SES's "
        "eventType DeliveryDelay"
    )
    assert topics.evidence[-1] == "lets through: eventType Bounce, eventType Complaint"


def test_event_types_a_filter_policy_drops_are_not_counted_as_reaching_the_bot(aws_peer, deps: Deps, settings) -> None:
    topic_arn = events_to_the_bots_queue(aws_peer, settings, list(WANTED_TYPES))
    filter_the_subscription(aws_peer, topic_arn, {"eventType": ["Bounce", "Complaint"]}, scope="MessageBody")

    events = finding(run(deps, "setup"), "setup.events")

    assert events.severity == Severity.WARNING
    assert events.summary == (
        f"The bot sees bounces and complaints in {REGION}, but not delivery delays, rendering failures or rejects "
        "(a subscription filter policy drops them: mail still being retried is invisible)"
    )
    assert events.data["coverage"]["BOUNCE"]["scope"] == "all"
    assert events.data["coverage"]["DELIVERY_DELAY"] == {"scope": "none", "via": []}
    assert (
        "DELIVERY_DELAY dropped by a subscription filter policy: configuration set app (default) -> ops-events"
    ) in events.evidence
    assert events.fix.startswith("A subscription filter policy drops SEND, REJECT, DELIVERY, DELIVERY_DELAY, ")


def test_a_filter_policy_on_message_attributes_leaves_the_bot_seeing_no_ses_event(
    aws_peer, deps: Deps, settings
) -> None:
    topic_arn = events_to_the_bots_queue(aws_peer, settings, list(WANTED_TYPES))
    filter_the_subscription(aws_peer, topic_arn, {"team": ["mail"]})

    events = finding(run(deps, "setup"), "setup.events")

    assert events.severity == Severity.ERROR
    assert events.summary == (
        f"The bot cannot see bounces or complaints in {REGION} (a subscription filter policy drops sends, rejects, "
        "bounces, complaints, deliveries, delivery delays and rendering failures)"
    )


def test_a_message_body_filter_on_event_type_drops_the_identity_notifications(aws_peer, deps: Deps, settings) -> None:
    topic_arn, queue_url = route_topic_to_queue(aws_peer, "ops-events", "bot-queue")
    aws_peer.set_identity(DOMAIN)
    aws_peer.client("sesv2").create_email_identity(EmailIdentity=DOMAIN)
    ses = aws_peer.client("ses")
    for kind in ("Bounce", "Complaint"):
        ses.set_identity_notification_topic(Identity=DOMAIN, NotificationType=kind, SnsTopic=topic_arn)
    settings.sqs_queue_url = queue_url
    filter_the_subscription(aws_peer, topic_arn, {"eventType": ["Bounce", "Complaint"]}, scope="MessageBody")

    report = run(deps, "setup")

    topics = finding(report, "setup.topics")
    assert topics.severity == Severity.ERROR  # notifications carry notificationType: nothing passes
    assert topics.summary.endswith("drops SES's notificationType Bounce, notificationType Complaint")
    assert topics.evidence[-1] == "lets through: nothing SES publishes to the topic"


def test_a_message_body_filter_on_other_keys_is_shown_as_one_the_bot_cannot_judge(
    aws_peer, deps: Deps, settings
) -> None:
    topic_arn = events_to_the_bots_queue(aws_peer, settings, list(WANTED_TYPES))
    filter_the_subscription(aws_peer, topic_arn, {"mail": {"source": [{"prefix": "app@"}]}}, scope="MessageBody")

    report = run(deps, "setup")

    topics = finding(report, "setup.topics")
    assert topics.severity == Severity.WARNING
    assert "the bot cannot judge" in topics.summary
    assert topics.evidence[1:] == [
        "FilterPolicyScope: MessageBody",
        'FilterPolicy: {"mail": {"source": [{"prefix": "app@"}]}}',
    ]


def test_a_denied_filter_policy_read_is_one_information_line_and_the_rest_of_setup_stands(
    aws_peer, deps: Deps, settings
) -> None:
    events_to_the_bots_queue(aws_peer, settings, list(WANTED_TYPES))
    aws_peer.fail("GetSubscriptionAttributes", code="AuthorizationError", status=403, count=None)

    report = run(deps, "setup")

    topics = finding(report, "setup.topics")
    assert topics.severity == Severity.INFO
    assert topics.summary == (
        "Could not read the filter policies of the subscriptions that deliver to the bot: the check needs "
        "sns:GetSubscriptionAttributes"
    )
    assert finding(report, "setup.events").severity == Severity.OK
    assert finding(report, "setup.permissions").severity == Severity.OK


def test_a_denied_read_call_is_reported_as_a_missing_permission(aws_peer, deps: Deps) -> None:
    aws_peer.set_identity(DOMAIN)
    aws_peer.fail("GetAccount", code="AccessDeniedException", status=403, count=None)
    aws_peer.fail("ListEmailTemplates", code="AccessDeniedException", status=403, count=None)

    permissions = finding(run(deps, "setup"), "setup.permissions")

    assert permissions.severity == Severity.ERROR
    assert permissions.summary == ("The bot's credentials lack 2 permissions: ses:GetAccount, ses:ListEmailTemplates")
    assert permissions.data["denied"] == ["ses:GetAccount", "ses:ListEmailTemplates"]
    assert "ses:GetEmailIdentity: allowed" in permissions.evidence


def test_permissions_that_cannot_be_tried_are_said_to_be_unverified_not_granted(aws_peer, deps: Deps) -> None:
    aws_peer.set_identity(DOMAIN)
    # The bot may not simulate its own policy, and receiving from the queue would hide a message from the bot.
    aws_peer.fail("iam:SimulatePrincipalPolicy", code="AccessDenied", status=403, count=None)

    permissions = finding(run(deps, "setup"), "setup.permissions")

    assert "sqs:ReceiveMessage" in permissions.data["unverified"]
    assert permissions.data["actions"].get("sqs:ReceiveMessage", "").startswith("could not verify")
    assert permissions.severity == Severity.INFO


def test_a_permission_the_policy_simulation_denies_is_reported_as_missing(aws_peer, deps: Deps) -> None:
    aws_peer.set_identity(DOMAIN)
    aws_peer.deny_actions(["sqs:ReceiveMessage"])

    permissions = finding(run(deps, "setup"), "setup.permissions")

    assert permissions.data["actions"]["sqs:ReceiveMessage"] == "denied"
    assert permissions.severity >= Severity.WARNING


# --- setup --apply ---------------------------------------------------------------------------------------------------


def test_apply_completes_an_existing_default_set_then_setup_reports_nothing_missing(
    aws_peer, deps: Deps, settings
) -> None:
    topic_arn, queue_url = route_topic_to_queue(aws_peer, "ops-events", "bot-queue")
    app_configuration_set(aws_peer, topic_arn, ["BOUNCE", "COMPLAINT"])
    settings.sqs_queue_url = queue_url

    applied = run(deps, "setup --apply")

    done = finding(applied, "setup.applied")
    assert (done.severity, done.summary) == (Severity.INFO, "Applied 3 changes"), done.evidence
    assert [s["what"] for s in done.data["steps"]] == [
        "add event destination sesbot on configuration set app: SEND, REJECT, DELIVERY, DELIVERY_DELAY, "
        "RENDERING_FAILURE -> SNS topic ops-events",
        "turn reputation metrics on for configuration set app",
        PUSH_STEP,
    ]
    assert applied.problems == []
    again = run(deps, "setup")
    assert again.problems == []
    assert finding(again, "setup.plan").summary == "Nothing to set up: every change `setup --apply` makes is in place"
    assert finding(again, "setup.events").summary == (
        f"The bot sees bounces, complaints, delivery delays, rejects and rendering failures in {REGION}"
    )
    destinations = aws_peer.client("sesv2").get_configuration_set_event_destinations(ConfigurationSetName="app")
    assert {
        d["Name"]: (d["MatchingEventTypes"], d["SnsDestination"]["TopicArn"]) for d in destinations["EventDestinations"]
    } == {
        "to-ops": (["BOUNCE", "COMPLAINT"], topic_arn),
        "sesbot": (["SEND", "REJECT", "DELIVERY", "DELIVERY_DELAY", "RENDERING_FAILURE"], topic_arn),
    }


def test_apply_from_nothing_then_setting_the_queue_url_leaves_nothing_missing(aws_peer, deps: Deps, settings) -> None:
    aws_peer.set_identity(DOMAIN)

    applied = run(deps, "setup --apply")

    done = finding(applied, "setup.applied")
    steps = done.data["steps"]
    assert [s["status"] for s in steps] == ["done"] * len(steps), steps
    assert done.summary.startswith("Applied 9 changes; now set SESBOT_SQS_QUEUE_URL=http://")
    queue = finding(applied, "setup.queue")
    assert queue.summary.startswith("SESBOT_SQS_QUEUE_URL is not set, but queue sesbot-events exists")
    settings.sqs_queue_url = queue.data["queue_url"]
    again = run(deps, "setup")
    assert again.problems == [], [(f.check, f.summary) for f in again.problems]
    identity = aws_peer.client("sesv2").get_email_identity(EmailIdentity=DOMAIN)
    assert identity["ConfigurationSetName"] == "sesbot"
    third = run(deps, "setup --apply")
    assert [f.check for f in third.findings if f.check == "setup.applied"] == []  # nothing to do


def test_apply_lets_ses_publish_to_the_topic_only_for_the_configuration_set_it_publishes_from(
    aws_peer, deps: Deps
) -> None:
    aws_peer.set_identity(DOMAIN)

    run(deps, "setup --apply")

    sns = aws_peer.client("sns")
    [topic_arn] = [t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":sesbot-events")]
    account = topic_arn.split(":")[4]
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Policy"])
    [statement] = [s for s in policy["Statement"] if s.get("Sid") == "sesbot-ses-publish"]
    assert statement["Condition"] == {
        "StringEquals": {"AWS:SourceAccount": account},
        "ArnLike": {"AWS:SourceArn": f"arn:aws:ses:{REGION}:{account}:configuration-set/sesbot"},
    }


def test_a_topic_policy_scoped_by_account_only_as_older_versions_wrote_it_is_still_accepted(
    aws_peer, deps: Deps, settings
) -> None:
    events_to_the_bots_queue(aws_peer, settings, list(WANTED_TYPES))  # its topic policy: AWS:SourceAccount only

    report = run(deps, "setup")

    assert [f.summary for f in report.findings if f.check == "setup.topics"] == []
    assert not any("let SES publish" in step for step in finding(report, "setup.plan").evidence)


def test_in_slack_setup_apply_only_shows_the_plan(aws_peer, deps: Deps) -> None:
    aws_peer.set_identity(DOMAIN)

    report = run(deps, "setup --apply", via="slack")

    assert [f.check for f in report.findings if f.check == "setup.applied"] == []
    assert finding(report, "setup.plan").fix.startswith("Changes are made only from a terminal")
    assert aws_peer.calls_to("CreateTopic") == []
    assert aws_peer.calls_to("CreateQueue") == []


# --- events.coverage (the why suite) ----------------------------------------------------------------------------


def test_coverage_says_the_bot_reads_no_queue_when_nothing_is_set_up(aws_peer, deps: Deps) -> None:
    aws_peer.set_identity(DOMAIN)

    [found] = coverage(deps, "someone@example.net")

    assert found.severity == Severity.WARNING
    assert found.summary == (
        "No events recorded for someone@example.net: the bot reads no event queue (SESBOT_SQS_QUEUE_URL is not "
        "set), so it cannot see bounces, complaints or delays"
    )
    assert "sesbot setup --apply" in found.fix


def test_coverage_names_the_missing_delivery_delay_destination(aws_peer, deps: Deps, settings) -> None:
    topic_arn, queue_url = route_topic_to_queue(aws_peer, "ops-events", "bot-queue")
    app_configuration_set(aws_peer, topic_arn, ["BOUNCE", "COMPLAINT"])
    settings.sqs_queue_url = queue_url

    [found] = coverage(deps, "someone@example.net")

    assert found.severity == Severity.WARNING
    assert "no DELIVERY_DELAY events" in found.summary
    assert found.fix.startswith("Add DELIVERY_DELAY to the configuration set's event destination")


def test_coverage_warns_when_events_come_only_from_a_set_the_sender_does_not_use_by_default(
    aws_peer, deps: Deps, settings
) -> None:
    topic_arn, queue_url = route_topic_to_queue(aws_peer, "ops-events", "bot-queue")
    app_configuration_set(aws_peer, topic_arn, list(WANTED_TYPES), default=False)
    settings.sqs_queue_url = queue_url

    [found] = coverage(deps, "someone@example.net")

    assert found.severity == Severity.WARNING
    assert found.summary == (
        f"No events recorded for someone@example.net; in {REGION} the bot sees bounces, complaints and delivery "
        "delays only for mail that names a configuration set"
    )


def test_coverage_is_information_when_the_bot_sees_everything(aws_peer, deps: Deps, settings) -> None:
    events_to_the_bots_queue(aws_peer, settings, list(WANTED_TYPES))

    [found] = coverage(deps, "someone@example.net")

    assert found.severity == Severity.INFO
    assert found.summary.startswith(
        f"No events recorded for someone@example.net: the bot sees bounces, complaints and delays in {REGION}, so SES "
        "has reported no problem with mail to this address (the history holds no events at all yet"
    )


def test_coverage_says_nothing_when_the_history_has_events_for_the_recipient(aws_peer, deps: Deps) -> None:
    doc: dict[str, Any] = {
        "eventType": "Bounce",
        "mail": {
            "timestamp": "2026-11-01T10:00:00.000Z",
            "messageId": "m-1",
            "source": f"news@{DOMAIN}",
            "destination": ["someone@example.net"],
        },
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "feedbackId": "f-1",
            "timestamp": "2026-11-01T10:00:01.000Z",
            "bouncedRecipients": [{"emailAddress": "someone@example.net", "diagnosticCode": "550 5.1.1 no such user"}],
        },
    }
    ingest_documents(deps.store, [doc], "test")

    assert coverage(deps, "someone@example.net") == []
    assert aws_peer.calls == []  # the history answered: no AWS call at all


def test_coverage_says_nothing_when_the_history_has_a_delivery_to_the_recipient(aws_peer, deps: Deps) -> None:
    delivered(deps, "good@example.net", deps.now() - timedelta(hours=2))

    assert coverage(deps, "good@example.net") == []
    assert aws_peer.calls == []


def test_coverage_turns_an_unreadable_setup_into_could_not_check(aws_peer, deps: Deps) -> None:
    aws_peer.fail("ListConfigurationSets", code="AccessDeniedException", status=403, count=None)
    aws_peer.fail("GetEmailIdentity", code="AccessDeniedException", status=403, count=None)

    [found] = coverage(deps, "someone@example.net")

    assert found.data["could_not_check"] is True
    assert found.summary.startswith(
        f"No events recorded for someone@example.net, and the bot could not inspect its event setup in {REGION}"
    )


def test_legacy_bounce_and_complaint_notifications_count_for_all_mail(aws_peer, deps: Deps, settings) -> None:
    topic_arn, queue_url = route_topic_to_queue(aws_peer, "legacy", "bot-queue")
    aws_peer.set_identity(DOMAIN)
    ses = aws_peer.client("ses")
    for kind in ("Bounce", "Complaint"):
        ses.set_identity_notification_topic(Identity=DOMAIN, NotificationType=kind, SnsTopic=topic_arn)
    settings.sqs_queue_url = queue_url
    attributes = ses.get_identity_notification_attributes(Identities=[DOMAIN])["NotificationAttributes"][DOMAIN]
    assert attributes["BounceTopic"] == attributes["ComplaintTopic"] == topic_arn  # the peer returns what moto keeps

    events = finding(run(deps, "setup"), "setup.events")

    assert events.data["coverage"]["BOUNCE"]["scope"] == "all"
    assert events.data["coverage"]["COMPLAINT"]["via"] == [f"Complaint notifications of {DOMAIN} -> legacy"]


# --- SES's status events pushed through EventBridge (issue 13) ---------------------------------------------------


def test_apply_routes_ses_status_events_to_the_queue_with_a_rule_scoped_policy_and_a_second_apply_changes_nothing(
    aws_peer, deps: Deps, settings
) -> None:
    topic_arn, queue_url = route_topic_to_queue(aws_peer, "ops-events", "bot-queue")
    app_configuration_set(aws_peer, topic_arn, list(WANTED_TYPES))
    aws_peer.client("sesv2").put_configuration_set_reputation_options(
        ConfigurationSetName="app", ReputationMetricsEnabled=True
    )
    settings.sqs_queue_url = queue_url
    before = run(deps, "setup")
    assert finding(before, "setup.plan").evidence == [f"{REGION}: {PUSH_STEP}"]  # shown before it is made
    assert finding(before, "setup.push").summary.startswith("SES's sending-status and Advisor events are seen at")
    assert aws_peer.calls_to("PutRule") == []

    applied = run(deps, "setup --apply")

    assert finding(applied, "setup.applied").summary == "Applied 1 change"
    assert finding(applied, "setup.push").severity == Severity.OK
    events = aws_peer.client("events")
    rule = events.describe_rule(Name="sesbot-ses-status")
    assert json.loads(rule["EventPattern"]) == {
        "source": ["aws.ses"],
        "detail-type": [
            "Sending Status Enabled",
            "Sending Status Disabled",
            "Advisor Recommendation Status Open",
            "Advisor Recommendation Status Resolved",
        ],
    }
    assert rule["State"] == "ENABLED" and rule.get("EventBusName", "default") == "default"
    sqs = aws_peer.client("sqs")
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert [t["Arn"] for t in events.list_targets_by_rule(Rule="sesbot-ses-status")["Targets"]] == [queue_arn]
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    [statement] = [s for s in policy["Statement"] if s.get("Principal") == {"Service": "events.amazonaws.com"}]
    assert statement["Action"] == "sqs:SendMessage" and statement["Resource"] == queue_arn
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": rule["Arn"]}}

    calls = len(aws_peer.calls_to("PutRule")), len(aws_peer.calls_to("PutTargets"))
    again = run(deps, "setup --apply")
    assert [f.check for f in again.findings if f.check == "setup.applied"] == []  # nothing to do
    assert (len(aws_peer.calls_to("PutRule")), len(aws_peer.calls_to("PutTargets"))) == calls == (1, 1)
    assert again.problems == []


def test_a_rule_that_lost_its_target_is_given_the_queue_again(aws_peer, deps: Deps, settings) -> None:
    events_to_the_bots_queue(aws_peer, settings, list(WANTED_TYPES))
    run(deps, "setup --apply")
    events = aws_peer.client("events")
    events.remove_targets(Rule="sesbot-ses-status", Ids=["sesbot-queue"])

    report = run(deps, "setup")
    assert "does not send to the bot's queue" in finding(report, "setup.push").summary
    run(deps, "setup --apply")
    assert len(events.list_targets_by_rule(Rule="sesbot-ses-status")["Targets"]) == 1
    assert len(aws_peer.calls_to("PutRule")) == 1  # the rule itself was right: not put again


def test_each_other_watched_region_is_reported_and_given_a_rule_forwarding_to_the_queues_region(
    aws_peer, deps: Deps, settings
) -> None:
    other = "eu-west-1"
    events_to_the_bots_queue(aws_peer, settings, list(WANTED_TYPES))
    settings.regions = [REGION, other]
    forward = (
        f"forward SES's sending-status and Advisor events of {other} to the queue's region: EventBridge rule "
        f"sesbot-ses-status (source aws.ses) with the default event bus of {REGION} as target, put through IAM "
        "role sesbot-ses-status-forward"
    )

    before = run(deps, "setup")

    push = [f for f in before.findings if f.check == "setup.push"]
    assert [(f.region, f.severity) for f in push] == [(REGION, Severity.INFO), (other, Severity.INFO)]
    assert push[1].summary.endswith(f"there is no EventBridge rule sesbot-ses-status in {other}")
    assert finding(before, "setup.plan").evidence[-2:] == [f"{REGION}: {PUSH_STEP}", f"{other}: {forward}"]

    applied = run(deps, "setup --apply")

    push = [f for f in applied.findings if f.check == "setup.push"]
    assert [(f.region, f.severity) for f in push] == [(REGION, Severity.OK), (other, Severity.OK)], push
    assert push[1].summary == (
        "SES's sending-status and Advisor events reach the bot as they happen (EventBridge rule sesbot-ses-status "
        f"in {other} -> the default event bus of {REGION} -> rule sesbot-ses-status there -> the queue)"
    )
    events = aws_peer.client("events", other)
    rule = events.describe_rule(Name="sesbot-ses-status")
    assert json.loads(rule["EventPattern"])["source"] == ["aws.ses"] and rule["State"] == "ENABLED"
    [target] = events.list_targets_by_rule(Rule="sesbot-ses-status")["Targets"]
    account = rule["Arn"].split(":")[4]
    assert target["Arn"] == f"arn:aws:events:{REGION}:{account}:event-bus/default"
    iam = aws_peer.client("iam")
    assert target["RoleArn"] == iam.get_role(RoleName="sesbot-ses-status-forward")["Role"]["Arn"]
    document = iam.get_role_policy(RoleName="sesbot-ses-status-forward", PolicyName="sesbot-put-events")
    assert document["PolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Action": "events:PutEvents", "Resource": target["Arn"]}
    ]
    calls = len(aws_peer.calls_to("PutRule")), len(aws_peer.calls_to("PutTargets"))
    run(deps, "setup --apply")
    assert (len(aws_peer.calls_to("PutRule")), len(aws_peer.calls_to("PutTargets"))) == calls == (2, 2)


def readme_read_policy() -> dict[str, list[str]]:
    """The statements of README's least-privilege read policy, by Sid."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("Least-privilege IAM policy for the bot's role or user (read-only):", 1)[1]
    policy = json.loads(block.split("```json", 1)[1].split("```", 1)[0])
    return {s["Sid"]: s["Action"] for s in policy["Statement"]}


def test_the_readme_read_policy_grants_every_read_call_the_bot_checks_it_has_and_what_setup_itself_calls():
    statements = readme_read_policy()
    assert set(statements["SesbotRead"]) == set(BOT_ACTIONS)
    # `setup` finds the queue (sqs:GetQueueUrl) and the SES topics (sns:ListTopics) by name, reads the filter
    # policies of the subscriptions to the bot (sns:GetSubscriptionAttributes), and asks IAM about the one call
    # it cannot try harmlessly (sqs:ReceiveMessage).
    assert set(statements["SesbotSetupRead"]) == {"sqs:GetQueueUrl", "sns:ListTopics", "sns:GetSubscriptionAttributes"}
    assert statements["SesbotCheckItsOwnPermissions"] == ["iam:SimulatePrincipalPolicy"]
    source = "".join(
        (Path(__file__).resolve().parent.parent / "bot" / "setup" / name).read_text(encoding="utf-8")
        for name in ("inspection.py", "permissions.py")
    )
    assert "get_queue_url" in source and "list_topics" in source and "simulate_principal_policy" in source
    assert "get_subscription_attributes" in source


def test_a_pending_subscription_is_not_planned_as_a_new_subscribe_but_told_how_to_confirm(deps):
    arn = "arn:aws:sns:us-east-1:222222222222:ops-events"  # another account's topic
    queue = QueueState(
        url="https://sqs.us-east-1.amazonaws.com/111111111111/sesbot-events",
        region="us-east-1",
        configured=True,
        exists=True,
        arn="arn:aws:sqs:us-east-1:111111111111:sesbot-events",
    )
    topic = TopicState(arn=arn, exists=True, pending=True, queue_policy=Decision(Verdict.ALLOWED, "allowed"))
    insp = Inspection(region="us-east-1", topics={arn: topic}, queue=queue)
    plan = _RegionPlan(insp, "sesbot", None, None, topic, [], True)
    assert _route_step(deps, plan, queue, "us-east-1") is None  # subscribing again would confirm nothing
    severity, summary, fix = _topic_problem(insp, topic)
    assert summary == "The SQS subscription of SNS topic ops-events is pending confirmation"
    assert f"aws sns confirm-subscription --topic-arn {arn} --token <Token>" in fix


def test_a_queue_encrypted_with_the_aws_managed_key_is_said_to_get_nothing_from_sns(aws_peer, deps):
    sqs = aws_peer.client("sqs")
    url = sqs.create_queue(QueueName="sesbot-events", Attributes={"KmsMasterKeyId": "alias/aws/sqs"})["QueueUrl"]
    deps.settings.sqs_queue_url = url
    f = finding(run(deps, "setup"), "setup.queue")
    assert f.severity == Severity.ERROR
    assert "encrypted with the AWS-managed key alias/aws/sqs, which SNS cannot use" in f.summary
    assert "SSE-SQS" in f.fix


def test_a_topic_encrypted_with_the_aws_managed_key_is_said_to_get_nothing_from_ses(aws_peer, deps, settings):
    topic_arn, queue_url = route_topic_to_queue(aws_peer, "ops-events", "bot-queue")
    aws_peer.client("sns").set_topic_attributes(
        TopicArn=topic_arn, AttributeName="KmsMasterKeyId", AttributeValue="alias/aws/sns"
    )
    app_configuration_set(aws_peer, topic_arn, list(WANTED_TYPES))
    settings.sqs_queue_url = queue_url

    report = run(deps, "setup")

    topics = finding(report, "setup.topics")
    assert topics.severity == Severity.ERROR
    assert topics.summary == (
        "SNS topic ops-events is encrypted with the AWS-managed key alias/aws/sns, which SES cannot use: SES "
        "cannot publish to it"
    )
    assert finding(report, "setup.events").severity == Severity.ERROR  # no event reaches the bot
