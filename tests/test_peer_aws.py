"""The local AWS peer answers real boto3 clients over loopback like SES (and moto's other services) would."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from peers.aws import AwsPeer

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture(scope="module")
def aws_peer() -> Iterator[AwsPeer]:
    with AwsPeer() as peer:
        yield peer


@pytest.fixture(autouse=True)
def clean_peer(aws_peer: AwsPeer) -> Iterator[None]:
    aws_peer.reset()
    yield


@pytest.fixture
def client(aws_peer: AwsPeer) -> Callable[..., Any]:
    """boto3 clients pointed at the peer through endpoint_url, with dummy credentials and no retries."""

    def make(service: str, region: str = "us-east-1", config: Config = NO_RETRIES) -> Any:
        return boto3.client(
            service,
            endpoint_url=aws_peer.endpoint_url,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=config,
        )

    return make


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


# ------------------------------------------------------------------------------------------ account


def test_a_fresh_account_is_a_sandboxed_healthy_account_with_the_default_quota(
    client: Callable[..., Any],
) -> None:
    account = client("sesv2").get_account()

    assert account["ProductionAccessEnabled"] is False
    assert account["SendingEnabled"] is True
    assert account["EnforcementStatus"] == "HEALTHY"
    assert account["SendQuota"] == {"Max24HourSend": 200.0, "MaxSendRate": 1.0, "SentLast24Hours": 0.0}
    assert account["SuppressionAttributes"]["SuppressedReasons"] == ["BOUNCE", "COMPLAINT"]
    assert "Details" not in account


def test_account_state_set_by_a_test_is_what_get_account_returns(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    aws_peer.set_account(
        production_access=True,
        enforcement_status="PROBATION",
        max_24h=50000,
        max_rate=14,
        sent_last_24h=49000,
        review_status="GRANTED",
        suppressed_reasons=["BOUNCE"],
    )

    account = client("sesv2").get_account()

    assert account["ProductionAccessEnabled"] is True
    assert account["EnforcementStatus"] == "PROBATION"
    assert account["SendQuota"] == {"Max24HourSend": 50000.0, "MaxSendRate": 14.0, "SentLast24Hours": 49000.0}
    assert account["Details"]["ReviewDetails"]["Status"] == "GRANTED"
    assert account["SuppressionAttributes"]["SuppressedReasons"] == ["BOUNCE"]
    assert aws_peer.account()["SendQuota"]["SentLast24Hours"] == 49000.0


def test_v1_send_quota_and_sending_flag_agree_with_the_v2_account(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    aws_peer.set_account(max_24h=1000, max_rate=5, sent_last_24h=999, sending_enabled=False)
    ses = client("ses")

    assert ses.get_send_quota()["Max24HourSend"] == 1000.0
    assert ses.get_send_quota()["MaxSendRate"] == 5.0
    assert ses.get_send_quota()["SentLast24Hours"] == 999.0
    assert ses.get_account_sending_enabled()["Enabled"] is False


def test_pausing_sending_through_the_api_shows_everywhere_and_blocks_sends(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    sesv2, ses = client("sesv2"), client("ses")
    sesv2.create_email_identity(EmailIdentity="example.com")

    sesv2.put_account_sending_attributes(SendingEnabled=False)

    assert sesv2.get_account()["SendingEnabled"] is False
    assert ses.get_account_sending_enabled()["Enabled"] is False
    with pytest.raises(ClientError) as v2_send:
        sesv2.send_email(
            FromEmailAddress="ops@example.com",
            Destination={"ToAddresses": ["someone@example.net"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}},
        )
    assert error_code(v2_send) == "SendingPausedException"
    with pytest.raises(ClientError) as v1_send:
        ses.send_email(
            Source="ops@example.com",
            Destination={"ToAddresses": ["someone@example.net"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
        )
    assert error_code(v1_send) == "AccountSendingPausedException"

    ses.update_account_sending_enabled(Enabled=True)

    assert aws_peer.account()["SendingEnabled"] is True
    sent = sesv2.send_email(
        FromEmailAddress="ops@example.com",
        Destination={"ToAddresses": ["someone@example.net"]},
        Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}},
    )
    assert sent["MessageId"]


def test_requesting_production_access_leaves_a_pending_review_and_a_second_request_conflicts(
    client: Callable[..., Any],
) -> None:
    sesv2 = client("sesv2")
    request = {
        "MailType": "TRANSACTIONAL",
        "WebsiteURL": "https://example.com",
        "UseCaseDescription": "Password resets",
        "ProductionAccessEnabled": True,
    }

    sesv2.put_account_details(**request)

    account = sesv2.get_account()
    assert account["ProductionAccessEnabled"] is False
    assert account["Details"]["MailType"] == "TRANSACTIONAL"
    assert account["Details"]["ReviewDetails"]["Status"] == "PENDING"
    assert account["Details"]["ReviewDetails"]["CaseId"]
    with pytest.raises(ClientError) as again:
        sesv2.put_account_details(**request)
    assert error_code(again) == "ConflictException"


def test_account_state_is_kept_per_region(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    aws_peer.set_account("eu-west-1", production_access=True, max_24h=50000)
    aws_peer.suppress("gone@example.com", region="eu-west-1")
    client("sesv2", "eu-west-1").create_email_identity(EmailIdentity="example.eu")

    assert client("sesv2", "eu-west-1").get_account()["ProductionAccessEnabled"] is True
    assert client("sesv2", "us-east-1").get_account()["ProductionAccessEnabled"] is False
    assert client("ses", "us-east-1").get_send_quota()["Max24HourSend"] == 200.0
    with pytest.raises(ClientError) as not_here:
        client("sesv2", "us-east-1").get_suppressed_destination(EmailAddress="gone@example.com")
    assert error_code(not_here) == "NotFoundException"
    with pytest.raises(ClientError) as no_identity:
        client("sesv2", "us-east-1").get_email_identity(EmailIdentity="example.eu")
    assert error_code(no_identity) == "NotFoundException"


# -------------------------------------------------------------------------------------- suppression


def test_a_suppressed_address_can_be_read_listed_and_deleted_then_is_not_found(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    sesv2 = client("sesv2")
    when = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    aws_peer.suppress("bounced@example.com", "BOUNCE", last_update=when, message_id="m-1", feedback_id="f-1")
    sesv2.put_suppressed_destination(EmailAddress="angry@example.com", Reason="COMPLAINT")

    found = sesv2.get_suppressed_destination(EmailAddress="bounced@example.com")["SuppressedDestination"]
    assert found["Reason"] == "BOUNCE"
    assert found["LastUpdateTime"] == when
    assert found["Attributes"] == {"MessageId": "m-1", "FeedbackId": "f-1"}
    listed = sesv2.list_suppressed_destinations()["SuppressedDestinationSummaries"]
    assert {s["EmailAddress"]: s["Reason"] for s in listed} == {
        "bounced@example.com": "BOUNCE",
        "angry@example.com": "COMPLAINT",
    }

    sesv2.delete_suppressed_destination(EmailAddress="bounced@example.com")

    with pytest.raises(ClientError) as gone:
        sesv2.get_suppressed_destination(EmailAddress="bounced@example.com")
    assert error_code(gone) == "NotFoundException"
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as delete_again:
        sesv2.delete_suppressed_destination(EmailAddress="bounced@example.com")
    assert error_code(delete_again) == "NotFoundException"


def test_the_suppression_list_filters_by_reason_and_date_and_pages_with_next_token(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    sesv2 = client("sesv2")
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for day in range(5):
        aws_peer.suppress(f"b{day}@example.com", "BOUNCE", last_update=base + timedelta(days=day))
    aws_peer.suppress("c@example.com", "COMPLAINT", last_update=base + timedelta(days=2))

    complaints = sesv2.list_suppressed_destinations(Reasons=["COMPLAINT"])["SuppressedDestinationSummaries"]
    assert [s["EmailAddress"] for s in complaints] == ["c@example.com"]
    window = sesv2.list_suppressed_destinations(
        Reasons=["BOUNCE"], StartDate=base + timedelta(days=1), EndDate=base + timedelta(days=3)
    )["SuppressedDestinationSummaries"]
    assert sorted(s["EmailAddress"] for s in window) == ["b1@example.com", "b2@example.com", "b3@example.com"]

    seen, token, pages = [], None, 0
    while True:
        kwargs = {"PageSize": 2, **({"NextToken": token} if token else {})}
        page = sesv2.list_suppressed_destinations(**kwargs)
        seen += [s["EmailAddress"] for s in page["SuppressedDestinationSummaries"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 6

    with pytest.raises(ClientError) as bad_token:
        sesv2.list_suppressed_destinations(NextToken="not-a-token")
    assert error_code(bad_token) == "InvalidNextTokenException"


# ---------------------------------------------------------------------------------------- templates


def test_a_template_renders_its_placeholders_into_a_mime_message_with_a_subject(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    sesv2 = client("sesv2")
    sesv2.create_email_template(
        TemplateName="welcome",
        TemplateContent={
            "Subject": "Welcome, {{name}}!",
            "Text": "Hello {{ name }} from {{address.city}}",
            "Html": "<p>Hello {{name}}</p>",
        },
    )

    rendered = sesv2.test_render_email_template(
        TemplateName="welcome", TemplateData=json.dumps({"name": "Alice", "address": {"city": "Oslo"}})
    )["RenderedTemplate"]

    message = email.message_from_string(rendered, policy=email.policy.default)
    assert message["Subject"] == "Welcome, Alice!"
    assert message.get_body(("plain",)).get_content().strip() == "Hello Alice from Oslo"
    assert message.get_body(("html",)).get_content().strip() == "<p>Hello Alice</p>"


def test_rendering_without_a_variable_is_a_bad_request_naming_the_attribute(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    aws_peer.add_template("reset", "Reset for {{name}}", text="Code {{code}}")

    with pytest.raises(ClientError) as missing:
        client("sesv2").test_render_email_template(TemplateName="reset", TemplateData='{"name": "Bob"}')

    assert error_code(missing) == "BadRequestException"
    assert missing.value.response["Error"]["Message"] == "Attribute 'code' is not present in the rendering data."


def test_rendering_with_invalid_json_or_an_unknown_template_is_refused(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    aws_peer.add_template("reset", "Reset", text="Code {{code}}")
    sesv2 = client("sesv2")

    with pytest.raises(ClientError) as bad_json:
        sesv2.test_render_email_template(TemplateName="reset", TemplateData="{not json")
    with pytest.raises(ClientError) as unknown:
        sesv2.test_render_email_template(TemplateName="nope", TemplateData="{}")

    assert error_code(bad_json) == "BadRequestException"
    assert error_code(unknown) == "NotFoundException"


def test_templates_can_be_created_read_listed_updated_and_deleted(client: Callable[..., Any]) -> None:
    sesv2 = client("sesv2")
    sesv2.create_email_template(TemplateName="t1", TemplateContent={"Subject": "One", "Text": "1"})
    sesv2.create_email_template(TemplateName="t2", TemplateContent={"Subject": "Two", "Html": "<b>2</b>"})

    with pytest.raises(ClientError) as duplicate:
        sesv2.create_email_template(TemplateName="t1", TemplateContent={"Subject": "Again"})
    assert error_code(duplicate) == "AlreadyExistsException"
    assert sesv2.get_email_template(TemplateName="t2")["TemplateContent"] == {
        "Subject": "Two",
        "Html": "<b>2</b>",
    }
    assert [t["TemplateName"] for t in sesv2.list_email_templates()["TemplatesMetadata"]] == ["t1", "t2"]

    sesv2.update_email_template(TemplateName="t1", TemplateContent={"Subject": "Uno", "Text": "1"})
    sesv2.delete_email_template(TemplateName="t2")

    assert sesv2.get_email_template(TemplateName="t1")["TemplateContent"]["Subject"] == "Uno"
    assert [t["TemplateName"] for t in sesv2.list_email_templates()["TemplatesMetadata"]] == ["t1"]
    with pytest.raises(ClientError) as gone:
        sesv2.get_email_template(TemplateName="t2")
    assert error_code(gone) == "NotFoundException"


# --------------------------------------------------------------------------------------- identities


def test_an_identity_created_through_moto_reports_the_overrides_a_test_set(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    sesv2 = client("sesv2")
    sesv2.create_email_identity(EmailIdentity="example.com")

    aws_peer.set_identity("example.com", mail_from_domain="mail.example.com", behavior_on_mx_failure="REJECT_MESSAGE")

    identity = sesv2.get_email_identity(EmailIdentity="example.com")
    assert identity["IdentityType"] == "DOMAIN"
    assert identity["VerifiedForSendingStatus"] is True
    assert identity["VerificationStatus"] == "SUCCESS"
    assert identity["DkimAttributes"]["Status"] == "SUCCESS"
    assert identity["DkimAttributes"]["SigningEnabled"] is True
    tokens = identity["DkimAttributes"]["Tokens"]
    assert len(tokens) == 3
    assert all(len(t) == 32 and t.isalnum() for t in tokens)
    assert identity["MailFromAttributes"] == {
        "MailFromDomain": "mail.example.com",
        "MailFromDomainStatus": "SUCCESS",
        "BehaviorOnMxFailure": "REJECT_MESSAGE",
    }
    assert sesv2.list_email_identities()["EmailIdentities"] == [
        {
            "IdentityType": "DOMAIN",
            "IdentityName": "example.com",
            "SendingEnabled": True,
            "VerificationStatus": "SUCCESS",
        }
    ]


def test_easy_dkim_tokens_are_deterministic_and_can_be_chosen(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    first = aws_peer.set_identity("example.com")["DkimAttributes"]["Tokens"]
    again = aws_peer.set_identity("example.com")["DkimAttributes"]["Tokens"]
    aws_peer.set_identity("example.org", dkim_tokens=["tok1", "tok2", "tok3"], dkim_status="PENDING")

    assert first == again
    other = client("sesv2").get_email_identity(EmailIdentity="example.org")["DkimAttributes"]
    assert other["Tokens"] == ["tok1", "tok2", "tok3"]
    assert other["Status"] == "PENDING"


def test_set_identity_creates_a_missing_identity_and_can_report_a_failed_verification(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    aws_peer.set_identity(
        "ops@example.net",
        verified=False,
        verification_error="HOST_NOT_FOUND",
        dkim_status="FAILED",
        mail_from_domain="bounce.example.net",
        mail_from_status="FAILED",
    )
    sesv2 = client("sesv2")

    identity = sesv2.get_email_identity(EmailIdentity="ops@example.net")
    assert identity["IdentityType"] == "EMAIL_ADDRESS"
    assert identity["VerifiedForSendingStatus"] is False
    assert identity["VerificationStatus"] == "FAILED"
    assert identity["VerificationInfo"]["ErrorType"] == "HOST_NOT_FOUND"
    assert identity["DkimAttributes"]["Status"] == "FAILED"
    assert identity["MailFromAttributes"]["MailFromDomainStatus"] == "FAILED"
    [listed] = sesv2.list_email_identities()["EmailIdentities"]
    assert listed["SendingEnabled"] is False
    assert listed["VerificationStatus"] == "FAILED"
    assert client("ses").list_identities()["Identities"] == ["ops@example.net"]


def test_identities_without_overrides_are_reported_as_moto_has_them(client: Callable[..., Any]) -> None:
    sesv2 = client("sesv2")
    sesv2.create_email_identity(EmailIdentity="plain.example")

    identity = sesv2.get_email_identity(EmailIdentity="plain.example")

    assert identity["VerifiedForSendingStatus"] is False
    assert identity["DkimAttributes"]["Status"] == "NOT_STARTED"
    assert "MailFromAttributes" not in identity


def test_deleting_an_identity_drops_its_overrides(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    sesv2 = client("sesv2")
    aws_peer.set_identity("example.com")

    sesv2.delete_email_identity(EmailIdentity="example.com")

    with pytest.raises(ClientError) as gone:
        sesv2.get_email_identity(EmailIdentity="example.com")
    assert error_code(gone) == "NotFoundException"
    with pytest.raises(ClientError) as delete_again:
        sesv2.delete_email_identity(EmailIdentity="example.com")
    assert error_code(delete_again) == "NotFoundException"
    sesv2.create_email_identity(EmailIdentity="example.com")
    assert sesv2.get_email_identity(EmailIdentity="example.com")["VerifiedForSendingStatus"] is False


def test_set_identity_can_report_verified_dkim_keys_with_signing_turned_off(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    merged = aws_peer.set_identity("example.com", dkim_signing=False)

    dkim = client("sesv2").get_email_identity(EmailIdentity="example.com")["DkimAttributes"]

    assert dkim == {
        "SigningEnabled": False,
        "Status": "SUCCESS",
        "Tokens": merged["DkimAttributes"]["Tokens"],
        "SigningAttributesOrigin": "AWS_SES",
        "NextSigningKeyLength": "RSA_2048_BIT",
        "CurrentSigningKeyLength": "RSA_2048_BIT",
    }
    assert len(dkim["Tokens"]) == 3


def test_an_identity_default_configuration_set_can_be_set_read_back_and_cleared(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    sesv2 = client("sesv2")
    sesv2.create_configuration_set(ConfigurationSetName="app")
    aws_peer.set_identity("example.com")

    answer = sesv2.put_email_identity_configuration_set_attributes(
        EmailIdentity="example.com", ConfigurationSetName="app"
    )

    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sesv2.get_email_identity(EmailIdentity="example.com")["ConfigurationSetName"] == "app"
    assert sesv2.get_email_identity(EmailIdentity="example.com")["VerifiedForSendingStatus"] is True
    sesv2.put_email_identity_configuration_set_attributes(EmailIdentity="example.com")
    assert "ConfigurationSetName" not in sesv2.get_email_identity(EmailIdentity="example.com")
    sesv2.put_email_identity_configuration_set_attributes(EmailIdentity="example.com", ConfigurationSetName="app")
    sesv2.put_email_identity_configuration_set_attributes(EmailIdentity="example.com", ConfigurationSetName="")
    assert "ConfigurationSetName" not in sesv2.get_email_identity(EmailIdentity="example.com")


def test_a_default_configuration_set_for_an_identity_or_set_the_region_lacks_is_not_found(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    client("sesv2").create_configuration_set(ConfigurationSetName="app")
    aws_peer.set_identity("example.com")
    client("sesv2", "eu-west-1").create_configuration_set(ConfigurationSetName="app")

    with pytest.raises(ClientError) as other_region:
        client("sesv2", "eu-west-1").put_email_identity_configuration_set_attributes(
            EmailIdentity="example.com", ConfigurationSetName="app"
        )
    with pytest.raises(ClientError) as missing_set:
        client("sesv2").put_email_identity_configuration_set_attributes(
            EmailIdentity="example.com", ConfigurationSetName="nope"
        )

    for failed in (other_region, missing_set):
        assert error_code(failed) == "NotFoundException"
        assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "ConfigurationSetName" not in client("sesv2").get_email_identity(EmailIdentity="example.com")


# ---------------------------------------------------------------------------- v1 notification topics


def test_notification_topics_set_through_v1_are_returned_with_the_forwarding_and_header_flags(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    ses = client("ses")
    aws_peer.set_identity("example.com")
    aws_peer.set_identity("ops@example.com")
    bounces = "arn:aws:sns:us-east-1:123456789012:bounces"
    ses.set_identity_notification_topic(Identity="example.com", NotificationType="Bounce", SnsTopic=bounces)
    ses.set_identity_notification_topic(Identity="example.com", NotificationType="Complaint", SnsTopic=bounces)
    ses.set_identity_notification_topic(
        Identity="example.com", NotificationType="Delivery", SnsTopic="arn:aws:sns:us-east-1:123456789012:ok"
    )
    ses.set_identity_feedback_forwarding_enabled(Identity="example.com", ForwardingEnabled=False)
    ses.set_identity_headers_in_notifications_enabled(Identity="example.com", NotificationType="Bounce", Enabled=True)

    attributes = ses.get_identity_notification_attributes(Identities=["example.com", "ops@example.com"])

    assert attributes["NotificationAttributes"] == {
        "example.com": {
            "BounceTopic": bounces,
            "ComplaintTopic": bounces,
            "DeliveryTopic": "arn:aws:sns:us-east-1:123456789012:ok",
            "ForwardingEnabled": False,
            "HeadersInBounceNotificationsEnabled": True,
            "HeadersInComplaintNotificationsEnabled": False,
            "HeadersInDeliveryNotificationsEnabled": False,
        },
        "ops@example.com": {
            "ForwardingEnabled": True,
            "HeadersInBounceNotificationsEnabled": False,
            "HeadersInComplaintNotificationsEnabled": False,
            "HeadersInDeliveryNotificationsEnabled": False,
        },
    }


def test_identities_ses_does_not_have_are_absent_from_the_notification_attributes(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    aws_peer.set_identity("example.com", region="eu-west-1")
    ses = client("ses")

    attributes = ses.get_identity_notification_attributes(Identities=["example.com", "unknown.example"])

    assert attributes["NotificationAttributes"] == {}
    in_its_region = client("ses", "eu-west-1").get_identity_notification_attributes(Identities=["example.com"])
    assert list(in_its_region["NotificationAttributes"]) == ["example.com"]


# ------------------------------------------------------------------------------- configuration sets


def test_configuration_set_event_destinations_can_be_created_updated_listed_and_deleted(
    client: Callable[..., Any],
) -> None:
    sesv2 = client("sesv2")
    sesv2.create_configuration_set(ConfigurationSetName="transactional")
    topic = "arn:aws:sns:us-east-1:123456789012:ses-events"
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName="transactional",
        EventDestinationName="to-sns",
        EventDestination={
            "Enabled": True,
            "MatchingEventTypes": ["BOUNCE"],
            "SnsDestination": {"TopicArn": topic},
        },
    )

    with pytest.raises(ClientError) as duplicate:
        sesv2.create_configuration_set_event_destination(
            ConfigurationSetName="transactional",
            EventDestinationName="to-sns",
            EventDestination={"MatchingEventTypes": ["SEND"], "SnsDestination": {"TopicArn": topic}},
        )
    assert error_code(duplicate) == "AlreadyExistsException"
    sesv2.update_configuration_set_event_destination(
        ConfigurationSetName="transactional",
        EventDestinationName="to-sns",
        EventDestination={
            "Enabled": True,
            "MatchingEventTypes": ["BOUNCE", "DELIVERY_DELAY"],
            "SnsDestination": {"TopicArn": topic},
        },
    )
    listed = sesv2.get_configuration_set_event_destinations(ConfigurationSetName="transactional")
    assert listed["EventDestinations"] == [
        {
            "Name": "to-sns",
            "Enabled": True,
            "MatchingEventTypes": ["BOUNCE", "DELIVERY_DELAY"],
            "SnsDestination": {"TopicArn": topic},
        }
    ]

    sesv2.delete_configuration_set_event_destination(
        ConfigurationSetName="transactional", EventDestinationName="to-sns"
    )

    after = sesv2.get_configuration_set_event_destinations(ConfigurationSetName="transactional")
    assert after["EventDestinations"] == []
    with pytest.raises(ClientError) as no_destination:
        sesv2.delete_configuration_set_event_destination(
            ConfigurationSetName="transactional", EventDestinationName="to-sns"
        )
    assert error_code(no_destination) == "NotFoundException"
    with pytest.raises(ClientError) as no_set:
        sesv2.get_configuration_set_event_destinations(ConfigurationSetName="missing")
    assert error_code(no_set) == "NotFoundException"


def test_get_configuration_set_reports_sending_and_reputation_options(client: Callable[..., Any]) -> None:
    sesv2 = client("sesv2")
    sesv2.create_configuration_set(ConfigurationSetName="marketing")

    fresh = sesv2.get_configuration_set(ConfigurationSetName="marketing")
    sesv2.put_configuration_set_reputation_options(ConfigurationSetName="marketing", ReputationMetricsEnabled=True)
    sesv2.put_configuration_set_sending_options(ConfigurationSetName="marketing", SendingEnabled=False)
    changed = sesv2.get_configuration_set(ConfigurationSetName="marketing")

    assert fresh["SendingOptions"] == {"SendingEnabled": True}
    assert fresh["ReputationOptions"] == {"ReputationMetricsEnabled": False}
    assert changed["SendingOptions"] == {"SendingEnabled": False}
    assert changed["ReputationOptions"] == {"ReputationMetricsEnabled": True}
    with pytest.raises(ClientError) as missing:
        sesv2.put_configuration_set_reputation_options(ConfigurationSetName="missing", ReputationMetricsEnabled=True)
    assert error_code(missing) == "NotFoundException"


def test_a_deleted_configuration_set_forgets_its_options_and_cannot_be_deleted_twice(
    client: Callable[..., Any],
) -> None:
    sesv2 = client("sesv2")
    sesv2.create_configuration_set(ConfigurationSetName="old")
    sesv2.put_configuration_set_sending_options(ConfigurationSetName="old", SendingEnabled=False)

    sesv2.delete_configuration_set(ConfigurationSetName="old")

    with pytest.raises(ClientError) as twice:
        sesv2.delete_configuration_set(ConfigurationSetName="old")
    assert error_code(twice) == "NotFoundException"
    sesv2.create_configuration_set(ConfigurationSetName="old")
    assert sesv2.get_configuration_set(ConfigurationSetName="old")["SendingOptions"] == {"SendingEnabled": True}


def test_a_paused_configuration_set_refuses_v2_sends_through_it(client: Callable[..., Any]) -> None:
    sesv2 = client("sesv2")
    sesv2.create_email_identity(EmailIdentity="example.com")
    sesv2.create_configuration_set(ConfigurationSetName="paused")
    sesv2.put_configuration_set_sending_options(ConfigurationSetName="paused", SendingEnabled=False)
    message = {
        "FromEmailAddress": "ops@example.com",
        "Destination": {"ToAddresses": ["someone@example.net"]},
        "Content": {"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}},
    }

    with pytest.raises(ClientError) as paused:
        sesv2.send_email(ConfigurationSetName="paused", **message)

    assert error_code(paused) == "SendingPausedException"
    assert sesv2.send_email(**message)["MessageId"]


def test_dedicated_ips_set_by_a_test_are_what_get_dedicated_ips_returns(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    aws_peer.set_dedicated_ips(["192.0.2.10", "192.0.2.11"])
    aws_peer.set_dedicated_ips(["198.51.100.7"], "eu-west-1", pool_name="eu-pool", warmup_status="IN_PROGRESS")

    ips = client("sesv2").get_dedicated_ips()["DedicatedIps"]
    eu = client("sesv2", "eu-west-1").get_dedicated_ips(PoolName="eu-pool")["DedicatedIps"]

    assert [ip["Ip"] for ip in ips] == ["192.0.2.10", "192.0.2.11"]
    assert ips[0] == {
        "Ip": "192.0.2.10",
        "WarmupStatus": "DONE",
        "WarmupPercentage": 100,
        "PoolName": "ses-default-dedicated-pool",
    }
    assert eu == [{"Ip": "198.51.100.7", "WarmupStatus": "IN_PROGRESS", "WarmupPercentage": 100, "PoolName": "eu-pool"}]
    assert client("sesv2").get_dedicated_ip(Ip="192.0.2.11")["DedicatedIp"]["Ip"] == "192.0.2.11"


# ---------------------------------------------------------------------------------- error injection


def test_an_injected_error_surfaces_as_a_client_error_with_its_code_and_status(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    aws_peer.fail("GetAccount", "TooManyRequestsException", 429, count=None)

    with pytest.raises(ClientError) as throttled:
        client("sesv2").get_account()

    assert error_code(throttled) == "TooManyRequestsException"
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert client("sesv2").list_email_templates()["TemplatesMetadata"] == []


def test_an_error_injected_once_is_retried_away_by_botocore(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    aws_peer.fail("GetAccount", "ServiceUnavailable", 503, count=1)
    retrying = Config(retries={"mode": "standard", "total_max_attempts": 2})

    account = client("sesv2", config=retrying).get_account()

    assert account["SendingEnabled"] is True
    assert len(aws_peer.calls_to("sesv2:GetAccount")) == 2


def _v1_send(ses: Any) -> Any:
    ses.verify_email_identity(EmailAddress="a@example.com")
    return ses.send_email(
        Source="a@example.com",
        Destination={"ToAddresses": ["b@example.net"]},
        Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
    )


def _metric_data(cloudwatch: Any) -> Any:
    return cloudwatch.get_metric_data(
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
        StartTime=datetime(2024, 1, 1, tzinfo=UTC),
        EndTime=datetime(2024, 1, 2, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("service", "operation", "code", "status", "call"),
    [
        (
            "sesv2",
            "CreateEmailIdentity",
            "LimitExceededException",
            400,
            lambda c: c.create_email_identity(EmailIdentity="x.com"),
        ),
        ("ses", "SendEmail", "Throttling", 400, _v1_send),
        ("sns", "ListTopics", "InternalError", 500, lambda c: c.list_topics()),
        ("sqs", "ListQueues", "AWS.SimpleQueueService.Unavailable", 503, lambda c: c.list_queues()),
        ("cloudwatch", "GetMetricData", "InvalidParameterValue", 400, _metric_data),
    ],
    ids=["sesv2-rest-json", "ses-v1-query", "sns-query", "sqs-json", "cloudwatch-cbor"],
)
def test_errors_can_be_injected_into_operations_moto_answers_in_every_protocol(
    aws_peer: AwsPeer,
    client: Callable[..., Any],
    service: str,
    operation: str,
    code: str,
    status: int,
    call: Callable[[Any], Any],
) -> None:
    aws_peer.fail(operation, code, status, count=None, message="injected for the test")

    with pytest.raises(ClientError) as failed:
        call(client(service))

    assert error_code(failed) == code
    assert failed.value.response["Error"]["Message"] == "injected for the test"
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    aws_peer.clear_failures()
    call(client(service))


def test_a_path_prefix_or_star_failure_matches_every_operation_under_it(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    aws_peer.fail("/v2/email/suppression", "InternalFailure", 500, count=2)

    with pytest.raises(ClientError):
        client("sesv2").list_suppressed_destinations()
    with pytest.raises(ClientError):
        client("sesv2").get_suppressed_destination(EmailAddress="a@example.com")
    assert client("sesv2").list_suppressed_destinations()["SuppressedDestinationSummaries"] == []

    aws_peer.fail("*", "InternalFailure", 500, count=None)
    with pytest.raises(ClientError):
        client("sns").list_topics()


# ------------------------------------------------------------------------------------------ IAM, STS


def test_the_caller_identity_is_moto_default_user(client: Callable[..., Any]) -> None:
    caller = client("sts").get_caller_identity()

    assert (caller["Account"], caller["Arn"]) == ("123456789012", "arn:aws:sts::123456789012:user/moto")


def test_policy_simulation_allows_every_action_except_those_a_test_denies(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    iam = client("iam")
    queue = "arn:aws:sqs:us-east-1:123456789012:bot-queue"
    aws_peer.deny_actions(["ses:GetAccount", "SQS:*"])

    result = iam.simulate_principal_policy(
        PolicySourceArn="arn:aws:iam::123456789012:user/moto",
        ActionNames=["ses:GetAccount", "sqs:ReceiveMessage", "sns:Subscribe"],
        ResourceArns=[queue],
    )

    assert result["IsTruncated"] is False
    assert result["EvaluationResults"] == [
        {
            "EvalActionName": action,
            "EvalResourceName": queue,
            "EvalDecision": decision,
            "MatchedStatements": [],
            "MissingContextValues": [],
        }
        for action, decision in [
            ("ses:GetAccount", "implicitDeny"),
            ("sqs:ReceiveMessage", "implicitDeny"),
            ("sns:Subscribe", "allowed"),
        ]
    ]
    aws_peer.reset()
    again = iam.simulate_principal_policy(
        PolicySourceArn="arn:aws:iam::123456789012:role/bot", ActionNames=["ses:GetAccount"]
    )
    assert [(r["EvalResourceName"], r["EvalDecision"]) for r in again["EvaluationResults"]] == [("*", "allowed")]


def test_policy_simulation_refuses_a_source_that_is_no_arn_in_the_iam_error_shape(client: Callable[..., Any]) -> None:
    with pytest.raises(ClientError) as refused:
        client("iam").simulate_principal_policy(
            PolicySourceArn="user/moto-without-an-arn", ActionNames=["ses:GetAccount"]
        )

    assert error_code(refused) == "InvalidInput"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# ------------------------------------------------------------------------------- moto's own services


def test_moto_answers_the_sns_to_sqs_path_and_cloudwatch_metrics_through_the_peer(
    client: Callable[..., Any],
) -> None:
    sns, sqs, cloudwatch = client("sns"), client("sqs"), client("cloudwatch")
    topic = sns.create_topic(Name="ses-events")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="ses-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    sns.publish(TopicArn=topic, Message=json.dumps({"notificationType": "Bounce"}))
    cloudwatch.put_metric_data(Namespace="AWS/SES", MetricData=[{"MetricName": "Reputation.BounceRate", "Value": 0.03}])

    [message] = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    assert json.loads(message["Body"])["TopicArn"] == topic
    metrics = cloudwatch.list_metrics(Namespace="AWS/SES")["Metrics"]
    assert [m["MetricName"] for m in metrics] == ["Reputation.BounceRate"]


def test_boto3_reaches_the_peer_through_aws_endpoint_url_alone(
    aws_peer: AwsPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in aws_peer.environ("ap-southeast-2").items():
        monkeypatch.setenv(name, value)
    aws_peer.set_account("ap-southeast-2", production_access=True)

    account = boto3.client("sesv2").get_account()

    assert account["ProductionAccessEnabled"] is True
    assert aws_peer.calls[-1].region == "ap-southeast-2"


def test_requests_are_logged_with_service_operation_and_region(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    client("sesv2", "eu-central-1").get_account()
    client("ses", "eu-central-1").get_send_quota()

    calls = [(c.service, c.operation, c.region) for c in aws_peer.calls]

    assert calls == [("sesv2", "GetAccount", "eu-central-1"), ("ses", "GetSendQuota", "eu-central-1")]


# ------------------------------------------------------------------------------- serving behaviour


def test_a_delay_slows_every_request_but_concurrent_requests_are_served_in_parallel(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    sesv2 = client("sesv2")
    sesv2.get_account()  # connection and client set up outside the measurement
    aws_peer.set_delay(0.3)
    started = time.monotonic()
    sesv2.get_account()
    single = time.monotonic() - started

    threads = [threading.Thread(target=client("sesv2").get_account) for _ in range(4)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    parallel = time.monotonic() - started

    assert single >= 0.3  # the delay is a sleep: never shorter
    # Four requests in parallel take about as long as one (a ratio within one run; in turn they would take 4x).
    assert parallel < 2.5 * single


def test_wait_idle_returns_once_a_request_sleeping_out_the_delay_has_been_answered(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    sesv2 = client("sesv2")
    aws_peer.set_delay(2)
    answered: list[Any] = []
    thread = threading.Thread(target=lambda: answered.append(sesv2.get_account()))
    thread.start()
    try:
        for _ in range(200):  # bounded: wait until the request is asleep in the delay
            if aws_peer.calls_to("GetAccount"):
                break
            time.sleep(0.01)
        aws_peer.set_delay(0)  # too late for the request already sleeping
        assert not aws_peer.wait_idle(timeout=0)
        assert aws_peer.wait_idle()
    finally:
        thread.join()
        sesv2.close()  # and its kept-alive connection, with the peer's thread serving it
    assert len(answered) == 1


def test_reset_clears_our_state_and_moto_state(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    aws_peer.set_account(production_access=True)
    aws_peer.suppress("a@example.com")
    aws_peer.fail("GetAccount", count=None)
    client("sesv2").create_email_identity(EmailIdentity="example.com")

    aws_peer.reset()

    assert client("sesv2").get_account()["ProductionAccessEnabled"] is False
    assert client("sesv2").list_suppressed_destinations()["SuppressedDestinationSummaries"] == []
    assert client("sesv2").list_email_identities()["EmailIdentities"] == []


def test_a_stopped_peer_refuses_connections_even_from_a_client_that_used_it() -> None:
    with AwsPeer() as peer:
        port = peer.port
        sesv2 = peer.client("sesv2", config=NO_RETRIES)
        assert sesv2.get_account()["SendingEnabled"] is True

    with pytest.raises(EndpointConnectionError):
        sesv2.get_account()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    peer.stop()  # stopping twice is harmless
