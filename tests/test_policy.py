"""Resource-policy evaluation follows IAM's rules: a wrong "allowed" would hide why SES events are missing.

Pure functions, no peers: each test is one policy and one request (SNS delivering to the bot's queue, or SES
publishing to a topic), and the decision IAM would take for it.
"""

from __future__ import annotations

from typing import Any

from bot.setup.apply import queue_policy_statement, topic_policy_statement
from bot.setup.policy import (
    SNS_SERVICE,
    Decision,
    Request,
    Verdict,
    evaluate,
    queue_policy_decision,
    ses_publish_decision,
    ses_source_arn,
    strictest,
)

ACCOUNT = "123456789012"
OTHER = "210987654321"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:bot-queue"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:ops-events"
SET = f"arn:aws:ses:us-east-1:{ACCOUNT}:configuration-set/app"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def sns_may_send(**overrides: Any) -> dict[str, Any]:
    """The usual queue statement: SNS may send when the request comes from TOPIC."""
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": QUEUE,
        "Condition": {"ArnEquals": {"aws:SourceArn": TOPIC}},
    }
    statement.update(overrides)
    return {k: v for k, v in statement.items() if v is not None}


def to_queue(doc: Any, topic: str = TOPIC, queue: str = QUEUE) -> Decision:
    return queue_policy_decision(doc, queue_arn=queue, topic_arn=topic)


def verdict_to_queue(doc: Any, topic: str = TOPIC, queue: str = QUEUE) -> Verdict:
    return to_queue(doc, topic, queue).verdict


# --- Allow, Deny, and neither --------------------------------------------------------------------------------------


def test_a_matching_allow_allows() -> None:
    decision = to_queue(policy(sns_may_send(Sid="sns")))

    assert decision.verdict is Verdict.ALLOWED
    assert decision.reason == 'statement "sns" allows sns.amazonaws.com sqs:SendMessage'


def test_an_explicit_deny_beats_an_allow() -> None:
    deny = {"Sid": "NoSns", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": QUEUE}

    for doc in (policy(sns_may_send(), deny), policy(deny, sns_may_send())):
        decision = to_queue(doc)
        assert decision.verdict is Verdict.DENIED
        assert decision.reason == 'statement "NoSns" denies sns.amazonaws.com sqs:SendMessage'
        assert not decision.fixable_by_allow  # adding another Allow would not help


def test_without_a_matching_allow_the_request_is_implicitly_denied() -> None:
    decision = to_queue(policy(sns_may_send(Action="sqs:ReceiveMessage")))

    assert decision.verdict is Verdict.IMPLICIT_DENY
    assert decision.reason == "no statement allows sns.amazonaws.com sqs:SendMessage"
    assert decision.fixable_by_allow


def test_no_policy_or_an_empty_one_is_an_implicit_deny() -> None:
    assert verdict_to_queue(None) is Verdict.IMPLICIT_DENY
    assert verdict_to_queue(policy()) is Verdict.IMPLICIT_DENY
    assert verdict_to_queue({"Statement": sns_may_send()}) is Verdict.ALLOWED  # a lone statement needs no list


def test_a_deny_whose_condition_does_not_hold_denies_nothing() -> None:
    deny_other_topic = sns_may_send(Effect="Deny", Condition={"ArnEquals": {"aws:SourceArn": TOPIC + "-old"}})

    assert verdict_to_queue(policy(sns_may_send(), deny_other_topic)) is Verdict.ALLOWED


# --- Principal and NotPrincipal ------------------------------------------------------------------------------------


def test_star_and_aws_star_principals_match_a_service() -> None:
    assert verdict_to_queue(policy(sns_may_send(Principal="*"))) is Verdict.ALLOWED
    assert verdict_to_queue(policy(sns_may_send(Principal={"AWS": "*"}))) is Verdict.ALLOWED
    assert verdict_to_queue(policy(sns_may_send(Principal={"AWS": ["*"]}))) is Verdict.ALLOWED


def test_a_service_principal_matches_only_the_services_it_names() -> None:
    listed = {"Service": ["events.amazonaws.com", "sns.amazonaws.com"]}

    assert verdict_to_queue(policy(sns_may_send(Principal=listed))) is Verdict.ALLOWED
    assert verdict_to_queue(policy(sns_may_send(Principal={"Service": "s3.amazonaws.com"}))) is Verdict.IMPLICIT_DENY


def test_an_account_principal_does_not_match_a_service() -> None:
    owner = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}

    assert verdict_to_queue(policy(sns_may_send(Principal=owner))) is Verdict.IMPLICIT_DENY


def test_a_statement_without_principal_applies_to_no_one() -> None:
    assert verdict_to_queue(policy(sns_may_send(Principal=None))) is Verdict.IMPLICIT_DENY


def test_not_principal_excludes_the_named_service() -> None:
    deny_all_but_sns = {
        "Effect": "Deny",
        "NotPrincipal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": QUEUE,
    }
    deny_all_but_s3 = {**deny_all_but_sns, "NotPrincipal": {"Service": "s3.amazonaws.com"}}

    assert verdict_to_queue(policy(sns_may_send(), deny_all_but_sns)) is Verdict.ALLOWED
    assert verdict_to_queue(policy(sns_may_send(), deny_all_but_s3)) is Verdict.DENIED


# --- Action and NotAction, Resource and NotResource, wildcards ---------------------------------------------------


def test_not_action_covers_every_action_it_does_not_name() -> None:
    allow_all_but_delete = sns_may_send(Action=None, NotAction="sqs:DeleteMessage")
    allow_all_but_send = sns_may_send(Action=None, NotAction=["sqs:Send*"])

    assert verdict_to_queue(policy(allow_all_but_delete)) is Verdict.ALLOWED
    assert verdict_to_queue(policy(allow_all_but_send)) is Verdict.IMPLICIT_DENY


def test_star_matches_any_run_of_characters_including_none() -> None:
    for action in ("sqs:*", "*", "sqs:Send*", "sqs:*Message", "sqs:SendMessage*"):
        assert verdict_to_queue(policy(sns_may_send(Action=action))) is Verdict.ALLOWED, action
    assert verdict_to_queue(policy(sns_may_send(Action="sqs:Receive*"))) is Verdict.IMPLICIT_DENY


def test_question_mark_matches_exactly_one_character() -> None:
    assert verdict_to_queue(policy(sns_may_send(Action="sqs:SendMessag?"))) is Verdict.ALLOWED
    assert verdict_to_queue(policy(sns_may_send(Action="sqs:SendMessage?"))) is Verdict.IMPLICIT_DENY
    assert verdict_to_queue(policy(sns_may_send(Action="sqs:SendMess?"))) is Verdict.IMPLICIT_DENY
    resource = f"arn:aws:sqs:us-east-?:{ACCOUNT}:bot-queue"
    assert verdict_to_queue(policy(sns_may_send(Resource=resource))) is Verdict.ALLOWED
    assert verdict_to_queue(policy(sns_may_send(Resource=resource)), queue=QUEUE.replace("-1:", "-12:")) is (
        Verdict.IMPLICIT_DENY
    )


def test_brackets_are_not_wildcards_in_iam() -> None:
    assert verdict_to_queue(policy(sns_may_send(Action="sqs:[S]endMessage"))) is Verdict.IMPLICIT_DENY


def test_action_names_match_case_insensitively_but_resources_do_not() -> None:
    assert verdict_to_queue(policy(sns_may_send(Action="SQS:sendmessage"))) is Verdict.ALLOWED
    assert verdict_to_queue(policy(sns_may_send(Resource=QUEUE.upper()))) is Verdict.IMPLICIT_DENY
    assert verdict_to_queue(policy(sns_may_send(Resource=QUEUE.replace("bot-queue", "Bot-Queue")))) is (
        Verdict.IMPLICIT_DENY
    )


def test_a_statement_about_another_resource_does_not_apply() -> None:
    other = f"arn:aws:sqs:us-east-1:{ACCOUNT}:other-queue"

    assert verdict_to_queue(policy(sns_may_send(Resource=other))) is Verdict.IMPLICIT_DENY
    assert verdict_to_queue(policy(sns_may_send(Resource=f"arn:aws:sqs:*:{ACCOUNT}:*"))) is Verdict.ALLOWED


def test_not_resource_excludes_the_named_resource() -> None:
    deny_elsewhere = {"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "NotResource": QUEUE}
    allow_elsewhere = sns_may_send(Resource=None, NotResource=f"arn:aws:sqs:*:{ACCOUNT}:bot-*")

    assert verdict_to_queue(policy(sns_may_send(), deny_elsewhere)) is Verdict.ALLOWED
    assert verdict_to_queue(policy(allow_elsewhere)) is Verdict.IMPLICIT_DENY


# --- conditions ----------------------------------------------------------------------------------------------------


def test_arn_conditions_let_only_the_named_topic_send() -> None:
    doc = policy(sns_may_send(Condition={"ArnLike": {"aws:SourceArn": TOPIC}}))

    assert verdict_to_queue(doc) is Verdict.ALLOWED
    assert verdict_to_queue(doc, topic=TOPIC + "-2") is Verdict.IMPLICIT_DENY
    assert verdict_to_queue(doc, topic=TOPIC.replace(ACCOUNT, OTHER)) is Verdict.IMPLICIT_DENY


def test_arn_equals_and_arn_like_both_accept_wildcards_per_arn_part() -> None:
    any_region = f"arn:aws:sns:*:{ACCOUNT}:ops-*"
    for operator in ("ArnEquals", "ArnLike"):
        doc = policy(sns_may_send(Condition={operator: {"aws:SourceArn": any_region}}))
        assert verdict_to_queue(doc, topic=f"arn:aws:sns:eu-west-1:{ACCOUNT}:ops-x") is Verdict.ALLOWED
        assert verdict_to_queue(doc, topic=f"arn:aws:sns:eu-west-1:{OTHER}:ops-x") is Verdict.IMPLICIT_DENY
    prefix = policy(sns_may_send(Condition={"ArnLike": {"aws:SourceArn": "arn:aws:sns:*"}}))
    assert verdict_to_queue(prefix) is Verdict.ALLOWED


def test_string_equals_takes_a_star_literally_and_string_like_does_not() -> None:
    equals = policy(sns_may_send(Condition={"StringEquals": {"aws:SourceArn": "arn:aws:sns:*"}}))
    like = policy(sns_may_send(Condition={"StringLike": {"aws:SourceArn": "arn:aws:sns:*"}}))

    assert verdict_to_queue(equals) is Verdict.IMPLICIT_DENY
    assert verdict_to_queue(like) is Verdict.ALLOWED


def test_several_values_of_one_key_are_alternatives() -> None:
    doc = policy(sns_may_send(Condition={"ArnEquals": {"aws:SourceArn": [TOPIC + "-old", TOPIC]}}))

    assert verdict_to_queue(doc) is Verdict.ALLOWED
    assert verdict_to_queue(doc, topic=TOPIC + "-new") is Verdict.IMPLICIT_DENY


def test_several_keys_and_operators_must_all_match() -> None:
    both = {"ArnEquals": {"aws:SourceArn": TOPIC}, "StringEquals": {"aws:SourceAccount": ACCOUNT}}
    wrong_account = {"ArnEquals": {"aws:SourceArn": TOPIC}, "StringEquals": {"aws:SourceAccount": OTHER}}
    one_operator = {"StringEquals": {"aws:SourceArn": TOPIC, "aws:SourceAccount": OTHER}}

    assert verdict_to_queue(policy(sns_may_send(Condition=both))) is Verdict.ALLOWED
    assert verdict_to_queue(policy(sns_may_send(Condition=wrong_account))) is Verdict.IMPLICIT_DENY
    assert verdict_to_queue(policy(sns_may_send(Condition=one_operator))) is Verdict.IMPLICIT_DENY


def test_a_negated_operator_matches_only_when_no_value_does() -> None:
    deny_others = sns_may_send(Effect="Deny", Condition={"ArnNotEquals": {"aws:SourceArn": [TOPIC, TOPIC + "-2"]}})
    doc = policy(sns_may_send(Condition=None), deny_others)

    assert verdict_to_queue(doc) is Verdict.ALLOWED
    assert verdict_to_queue(doc, topic=TOPIC + "-2") is Verdict.ALLOWED
    assert verdict_to_queue(doc, topic=TOPIC + "-3") is Verdict.DENIED


def test_condition_key_names_are_case_insensitive_values_are_not() -> None:
    assert verdict_to_queue(policy(sns_may_send(Condition={"ArnEquals": {"AWS:SOURCEARN": TOPIC}}))) is (
        Verdict.ALLOWED
    )
    assert verdict_to_queue(policy(sns_may_send(Condition={"ArnEquals": {"aws:SourceArn": TOPIC.upper()}}))) is (
        Verdict.IMPLICIT_DENY
    )
    ignore_case = {"StringEqualsIgnoreCase": {"aws:SourceArn": TOPIC.upper()}}
    assert verdict_to_queue(policy(sns_may_send(Condition=ignore_case))) is Verdict.ALLOWED


def test_if_exists_matches_when_the_key_is_absent_and_checks_it_when_present() -> None:
    without_source = Request(SNS_SERVICE, "sqs:SendMessage", QUEUE, {"aws:sourceaccount": ACCOUNT})
    if_exists = policy(sns_may_send(Condition={"ArnEqualsIfExists": {"aws:SourceArn": TOPIC}}))
    plain = policy(sns_may_send())

    assert evaluate(if_exists, without_source).verdict is Verdict.ALLOWED
    assert evaluate(plain, without_source).verdict is Verdict.IMPLICIT_DENY
    assert verdict_to_queue(if_exists) is Verdict.ALLOWED
    assert verdict_to_queue(if_exists, topic=TOPIC + "-2") is Verdict.IMPLICIT_DENY


def test_a_negated_operator_matches_an_absent_key() -> None:
    without_source = Request(SNS_SERVICE, "sqs:SendMessage", QUEUE, {})
    deny = sns_may_send(Effect="Deny", Condition={"ArnNotEquals": {"aws:SourceArn": TOPIC}})

    assert evaluate(policy(sns_may_send(Condition=None), deny), without_source).verdict is Verdict.DENIED


def test_null_checks_whether_a_key_is_present() -> None:
    must_have_source = policy(sns_may_send(Condition={"Null": {"aws:SourceArn": "false"}}))
    must_not = policy(sns_may_send(Condition={"Null": {"aws:SourceArn": "true"}}))

    assert verdict_to_queue(must_have_source) is Verdict.ALLOWED
    assert verdict_to_queue(must_not) is Verdict.IMPLICIT_DENY


def test_an_unknown_condition_operator_means_cannot_tell_not_allowed() -> None:
    doc = policy(sns_may_send(Sid="odd", Condition={"NumericLessThan": {"aws:SourceArn": "3"}}))

    decision = to_queue(doc)

    assert decision.verdict is Verdict.UNKNOWN
    assert decision.reason == (
        'statement "odd" may allow sns.amazonaws.com sqs:SendMessage, but the bot does not evaluate condition '
        "operator NumericLessThan"
    )
    assert decision.fixable_by_allow  # a statement the bot understands would settle it


def test_set_operators_are_not_guessed_either() -> None:
    doc = policy(sns_may_send(Condition={"ForAnyValue:StringEquals": {"aws:SourceArn": [TOPIC]}}))

    assert verdict_to_queue(doc) is Verdict.UNKNOWN


def test_a_condition_key_the_bot_cannot_know_means_cannot_tell() -> None:
    doc = policy(sns_may_send(Condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c"}}))

    decision = to_queue(doc)

    assert decision.verdict is Verdict.UNKNOWN
    assert "aws:SourceVpce" in decision.reason


def test_a_deny_the_bot_cannot_evaluate_makes_an_allow_uncertain() -> None:
    deny = {
        "Sid": "OnlyFromVpc",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sqs:*",
        "Resource": QUEUE,
        "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c"}},
    }

    decision = to_queue(policy(sns_may_send(), deny))

    assert decision.verdict is Verdict.UNKNOWN
    assert decision.reason.startswith('statement "OnlyFromVpc" may deny sns.amazonaws.com sqs:SendMessage, but')
    assert not decision.fixable_by_allow
    # Without any Allow the answer is no, whatever that Deny does.
    assert verdict_to_queue(policy(deny)) is Verdict.IMPLICIT_DENY


def test_a_false_condition_decides_even_beside_one_the_bot_cannot_evaluate() -> None:
    condition = {"NumericLessThan": {"aws:SourceArn": "3"}, "ArnEquals": {"aws:SourceArn": TOPIC + "-old"}}

    assert verdict_to_queue(policy(sns_may_send(Condition=condition))) is Verdict.IMPLICIT_DENY


# --- whole policies, as the consoles and SNS write them ----------------------------------------------------------


def test_the_policy_the_sqs_console_writes_for_an_sns_subscription_lets_that_topic_send() -> None:
    doc = {
        "Version": "2012-10-17",
        "Id": f"{QUEUE}/SQSDefaultPolicy",
        "Statement": [
            {
                "Sid": "__owner_statement",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "SQS:*",
                "Resource": QUEUE,
            },
            {
                "Sid": f"topic-subscription-{TOPIC}",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "SQS:SendMessage",
                "Resource": QUEUE,
                "Condition": {"ArnLike": {"aws:SourceArn": TOPIC}},
            },
        ],
    }

    assert to_queue(doc).reason == f'statement "topic-subscription-{TOPIC}" allows sns.amazonaws.com sqs:SendMessage'
    assert verdict_to_queue(doc, topic=f"arn:aws:sns:us-east-1:{ACCOUNT}:someone-else") is Verdict.IMPLICIT_DENY


def test_a_queue_that_requires_tls_still_lets_sns_deliver() -> None:
    deny_plain_http = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sqs:*",
        "Resource": QUEUE,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }

    assert verdict_to_queue(policy(sns_may_send(), deny_plain_http)) is Verdict.ALLOWED


def test_an_organisation_guard_that_exempts_aws_services_lets_sns_deliver() -> None:
    org_only = {
        "Sid": "OrgOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sqs:*",
        "Resource": QUEUE,
        "Condition": {
            "StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"},
            "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
        },
    }

    assert verdict_to_queue(policy(sns_may_send(), org_only)) is Verdict.ALLOWED


def test_the_default_topic_policy_leaves_ses_publishing_uncertain() -> None:
    # What SNS writes on CreateTopic: everyone of the owner account, by aws:SourceOwner, which SES may not send.
    default = {
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [
            {
                "Sid": "__default_statement_ID",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "SNS:GetTopicAttributes",
                    "SNS:SetTopicAttributes",
                    "SNS:AddPermission",
                    "SNS:RemovePermission",
                    "SNS:DeleteTopic",
                    "SNS:Subscribe",
                    "SNS:ListSubscriptionsByTopic",
                    "SNS:Publish",
                ],
                "Resource": TOPIC,
                "Condition": {"StringEquals": {"AWS:SourceOwner": ACCOUNT}},
            }
        ],
    }

    decision = ses_publish_decision(default, TOPIC, source_arn=SET)

    assert decision.verdict is Verdict.UNKNOWN
    assert decision.fixable_by_allow  # `setup --apply` adds its own statement


def test_the_ses_console_topic_policy_lets_only_the_named_configuration_set_publish() -> None:
    doc = policy(
        {
            "Sid": "stmt1700000000000",
            "Effect": "Allow",
            "Principal": {"Service": "ses.amazonaws.com"},
            "Action": "SNS:Publish",
            "Resource": TOPIC,
            "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT, "AWS:SourceArn": SET}},
        }
    )

    assert ses_publish_decision(doc, TOPIC, source_arn=SET).verdict is Verdict.ALLOWED
    assert ses_publish_decision(doc, TOPIC, source_arn=SET + "-2").verdict is Verdict.IMPLICIT_DENY
    assert ses_publish_decision(doc, TOPIC, source_arn=SET, source_account=OTHER).verdict is Verdict.IMPLICIT_DENY
    assert ses_publish_decision(doc, TOPIC).verdict is Verdict.UNKNOWN  # which set publishes is not known


def test_sns_may_not_publish_what_only_ses_is_let_publish() -> None:
    doc = policy({"Effect": "Allow", "Principal": {"Service": "ses.amazonaws.com"}, "Action": "sns:publish"})

    assert ses_publish_decision(doc, TOPIC, source_arn=SET).verdict is Verdict.ALLOWED
    assert verdict_to_queue(policy({**doc["Statement"][0], "Action": "sqs:SendMessage"})) is Verdict.IMPLICIT_DENY


def test_the_statements_setup_apply_writes_are_understood() -> None:
    assert verdict_to_queue(policy(queue_policy_statement(QUEUE, TOPIC))) is Verdict.ALLOWED
    assert verdict_to_queue(policy(queue_policy_statement(QUEUE, TOPIC)), topic=TOPIC + "-2") is (Verdict.IMPLICIT_DENY)
    written = policy(topic_policy_statement(TOPIC, [SET, f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/example.com"]))
    assert ses_publish_decision(written, TOPIC, source_arn=SET).allowed
    assert ses_publish_decision(
        written, TOPIC, source_arn=f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/example.com"
    ).allowed


def test_the_topic_statement_setup_apply_writes_lets_only_the_sets_and_identities_it_names_publish() -> None:
    statement = topic_policy_statement(TOPIC, [SET])

    assert statement["Condition"] == {
        "StringEquals": {"AWS:SourceAccount": ACCOUNT},
        "ArnLike": {"AWS:SourceArn": SET},
    }
    assert ses_publish_decision(policy(statement), TOPIC, source_arn=SET + "-2").verdict is Verdict.IMPLICIT_DENY
    assert ses_publish_decision(policy(statement), TOPIC, source_arn=SET, source_account=OTHER).verdict is (
        Verdict.IMPLICIT_DENY
    )


def test_the_account_only_topic_statement_older_versions_wrote_still_lets_ses_publish() -> None:
    older = {
        "Sid": "sesbot-ses-publish",
        "Effect": "Allow",
        "Principal": {"Service": "ses.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": TOPIC,
        "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT}},
    }

    assert ses_publish_decision(policy(older), TOPIC, source_arn=SET).allowed


def test_the_ses_source_arn_names_the_configuration_set_in_the_sending_region() -> None:
    assert ses_source_arn(TOPIC, "eu-west-1", "configuration-set/app") == (
        f"arn:aws:ses:eu-west-1:{ACCOUNT}:configuration-set/app"
    )


def test_the_strictest_of_several_decisions_is_a_denial_then_cannot_tell() -> None:
    allowed = Decision(Verdict.ALLOWED, "a")
    unknown = Decision(Verdict.UNKNOWN, "u")
    implicit = Decision(Verdict.IMPLICIT_DENY, "i")

    assert strictest([allowed, unknown]) is unknown
    assert strictest([unknown, implicit, allowed]) is implicit
    assert strictest([allowed]) is allowed
    assert strictest([]) is None
