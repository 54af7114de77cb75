"""The AWS peer answers SES tenants, reputation entities, VDM and validation calls as SES's model says."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from peers.aws import AwsPeer, sesv2_shape_problems

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
WHEN = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def aws_peer() -> Iterator[AwsPeer]:
    with AwsPeer() as peer:
        yield peer


@pytest.fixture(autouse=True)
def clean_peer(aws_peer: AwsPeer) -> Iterator[None]:
    aws_peer.reset()
    yield
    assert aws_peer.shape_problems == []


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


def bounce_insight(destination: str, when: datetime = WHEN) -> dict[str, Any]:
    return {
        "Destination": destination,
        "Isp": "Gmail",
        "Events": [
            {"Timestamp": when - timedelta(seconds=5), "Type": "SEND"},
            {
                "Timestamp": when,
                "Type": "BOUNCE",
                "Details": {
                    "Bounce": {
                        "BounceType": "PERMANENT",
                        "BounceSubType": "General",
                        "DiagnosticCode": "smtp; 550 5.1.1 user unknown",
                    }
                },
            },
        ],
    }


# ------------------------------------------------------------------------------------- shape fidelity


def test_the_shape_check_accepts_what_ses_would_send() -> None:
    payload = {
        "Tenant": {
            "TenantName": "acme",
            "TenantId": "tn-1",
            "CreatedTimestamp": 1767225600.0,
            "SendingStatus": "REINSTATED",
            "SuppressionAttributes": {"SuppressedReasons": ["BOUNCE"], "SuppressionScope": "TENANT"},
        }
    }

    assert sesv2_shape_problems("GetTenant", payload) == []


def test_the_shape_check_refuses_unknown_members_wrong_types_bad_enums_and_missing_required_members() -> None:
    payload = {
        "Tenant": {"TenantName": 7, "SendingStatus": "PAUSED", "CreatedTimestamp": "yesterday", "Colour": "red"},
        "SuppressedDestination": {},
    }

    problems = sesv2_shape_problems("GetTenant", payload)
    text = "\n".join(problems)

    assert "GetTenant.Tenant.TenantName: expected a string" in text
    assert "'PAUSED' is not one of SendingStatus" in text
    assert "GetTenant.Tenant.CreatedTimestamp: expected epoch seconds" in text
    assert "'Colour' is not a member of Tenant" in text
    assert "'SuppressedDestination' is not a member of GetTenantResponse" in text
    assert sesv2_shape_problems("GetSuppressedDestination", {"SuppressedDestination": {"EmailAddress": "a@b"}}) == [
        "GetSuppressedDestination.SuppressedDestination: required member 'Reason' of SuppressedDestination is missing",
        "GetSuppressedDestination.SuppressedDestination: required member 'LastUpdateTime' of SuppressedDestination "
        "is missing",
    ]


def test_the_shape_check_refuses_nulls_booleans_for_numbers_and_lists_for_structures() -> None:
    problems = sesv2_shape_problems(
        "GetAccount",
        {"SendingEnabled": None, "SendQuota": {"Max24HourSend": True}, "VdmAttributes": ["ENABLED"]},
    )

    assert problems == [
        "GetAccount.SendingEnabled: null (leave the member out instead)",
        "GetAccount.SendQuota.Max24HourSend: expected a double (Max24HourSend), got bool True",
        "GetAccount.VdmAttributes: expected a VdmAttributes structure, got list ['ENABLED']",
    ]


def test_test_controls_refuse_data_ses_would_never_answer_with(aws_peer: AwsPeer) -> None:
    with pytest.raises(ValueError, match="not one of EventType"):
        aws_peer.add_message_insights(
            "m-1", from_address="a@example.com", subject="s", insights=[{"Events": [{"Type": "BOUNCED"}]}]
        )
    with pytest.raises(ValueError, match="not one of RecommendationType"):
        aws_peer.add_recommendation(aws_peer.arn("identity", "example.com"), "DKIM_SIGNING")
    with pytest.raises(ValueError, match="not one of RecommendationImpact"):
        aws_peer.set_reputation_entity(aws_peer.arn("identity", "example.com"), impact="MEDIUM")


def test_values_newer_than_botocore_are_answered_once_a_test_allows_them_until_reset(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    with pytest.raises(ValueError, match="sending_status must be one of"):
        aws_peer.add_tenant("acme", sending_status="SUSPENDED")
    aws_peer.allow_newer_values("SUSPENDED")
    arn = aws_peer.add_tenant("acme", sending_status="SUSPENDED")
    aws_peer.set_reputation_entity(arn, aws_status="SUSPENDED", aggregate="SUSPENDED")

    sesv2 = client("sesv2")
    tenant = sesv2.get_tenant(TenantName="acme")["Tenant"]
    entity = sesv2.get_reputation_entity(ReputationEntityType="RESOURCE", ReputationEntityReference=arn)

    assert tenant["SendingStatus"] == "SUSPENDED"
    assert entity["ReputationEntity"]["SendingStatusAggregate"] == "SUSPENDED"
    aws_peer.reset()
    with pytest.raises(ValueError, match="sending_status must be one of"):
        aws_peer.add_tenant("acme", sending_status="SUSPENDED")


# -------------------------------------------------------------------------------------------- account


def test_a_fresh_account_reports_vdm_disabled_and_no_plan_or_auto_validation(client: Callable[..., Any]) -> None:
    account = client("sesv2").get_account()

    assert account["VdmAttributes"] == {"VdmEnabled": "DISABLED"}
    assert "PricingAttributes" not in account
    assert "ValidationAttributes" not in account["SuppressionAttributes"]


def test_vdm_plan_and_auto_validation_set_by_a_test_are_what_get_account_returns(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    aws_peer.set_account(vdm_enabled=True, plan="ESSENTIALS", auto_validation="MANAGED")

    account = client("sesv2").get_account()

    assert account["VdmAttributes"]["VdmEnabled"] == "ENABLED"
    assert account["PricingAttributes"] == {"CurrentPlan": "ESSENTIALS"}
    assert account["SuppressionAttributes"]["ValidationAttributes"] == {
        "ConditionThreshold": {
            "ConditionThresholdEnabled": "ENABLED",
            "OverallConfidenceThreshold": {"ConfidenceVerdictThreshold": "MANAGED"},
        }
    }


def test_auto_validation_set_to_empty_is_reported_disabled(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    aws_peer.set_account(auto_validation="")

    attributes = client("sesv2").get_account()["SuppressionAttributes"]["ValidationAttributes"]

    assert attributes == {"ConditionThreshold": {"ConditionThresholdEnabled": "DISABLED"}}


def test_put_account_vdm_attributes_turns_vdm_on(client: Callable[..., Any]) -> None:
    sesv2 = client("sesv2")

    sesv2.put_account_vdm_attributes(VdmAttributes={"VdmEnabled": "ENABLED"})

    assert sesv2.get_account()["VdmAttributes"]["VdmEnabled"] == "ENABLED"


# ---------------------------------------------------------------------------------- configuration sets


def test_configuration_set_options_set_by_a_test_are_what_get_configuration_set_returns(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    sesv2 = client("sesv2")
    sesv2.create_configuration_set(ConfigurationSetName="marketing")

    aws_peer.set_config_set_options(
        "marketing",
        tls_policy="REQUIRE",
        sending_pool="warm-pool",
        suppressed_reasons=[],
        suppression_scope="TENANT",
        validation_threshold="HIGH",
    )
    found = sesv2.get_configuration_set(ConfigurationSetName="marketing")

    assert found["DeliveryOptions"] == {"TlsPolicy": "REQUIRE", "SendingPoolName": "warm-pool"}
    assert found["SuppressionOptions"]["SuppressedReasons"] == []
    assert found["SuppressionOptions"]["SuppressionScope"] == "TENANT"
    threshold = found["SuppressionOptions"]["ValidationOptions"]["ConditionThreshold"]
    assert threshold["OverallConfidenceThreshold"] == {"ConfidenceVerdictThreshold": "HIGH"}


def test_a_configuration_set_nobody_configured_delivers_with_optional_tls_and_no_suppression_options(
    client: Callable[..., Any],
) -> None:
    sesv2 = client("sesv2")
    sesv2.create_configuration_set(ConfigurationSetName="plain")

    found = sesv2.get_configuration_set(ConfigurationSetName="plain")

    assert found["DeliveryOptions"] == {"TlsPolicy": "OPTIONAL"}
    assert "SuppressionOptions" not in found
    assert "TrackingOptions" not in found


def test_the_put_configuration_set_option_calls_are_reported_back(client: Callable[..., Any]) -> None:
    sesv2 = client("sesv2")
    sesv2.create_configuration_set(ConfigurationSetName="tx")

    sesv2.put_configuration_set_delivery_options(ConfigurationSetName="tx", TlsPolicy="REQUIRE")
    sesv2.put_configuration_set_suppression_options(ConfigurationSetName="tx", SuppressedReasons=["COMPLAINT"])
    found = sesv2.get_configuration_set(ConfigurationSetName="tx")

    assert found["DeliveryOptions"] == {"TlsPolicy": "REQUIRE"}
    assert found["SuppressionOptions"] == {"SuppressedReasons": ["COMPLAINT"]}


def test_options_for_a_configuration_set_that_does_not_exist_are_refused(aws_peer: AwsPeer) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        aws_peer.set_config_set_options("missing", tls_policy="REQUIRE")


# -------------------------------------------------------------------------------------------- tenants


def test_a_tenant_added_by_a_test_is_what_get_tenant_returns(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    arn = aws_peer.add_tenant(
        "acme", sending_status="DISABLED", suppressed_reasons=["BOUNCE"], suppression_scope="TENANT"
    )

    tenant = client("sesv2").get_tenant(TenantName="acme")["Tenant"]

    assert tenant["TenantArn"] == arn
    assert arn.startswith("arn:aws:ses:us-east-1:123456789012:tenant/acme/")
    assert tenant["TenantId"] == arn.rsplit("/", 1)[1]
    assert tenant["SendingStatus"] == "DISABLED"
    assert tenant["SuppressionAttributes"] == {"SuppressedReasons": ["BOUNCE"], "SuppressionScope": "TENANT"}
    assert isinstance(tenant["CreatedTimestamp"], datetime)


def test_an_unknown_tenant_is_not_found(client: Callable[..., Any]) -> None:
    with pytest.raises(ClientError) as exc:
        client("sesv2").get_tenant(TenantName="nobody")

    assert error_code(exc) == "NotFoundException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_list_tenants_pages_through_every_tenant_in_creation_order(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    for name in ("t1", "t2", "t3"):
        aws_peer.add_tenant(name)
    sesv2 = client("sesv2")

    first = sesv2.list_tenants(PageSize=2)
    second = sesv2.list_tenants(PageSize=2, NextToken=first["NextToken"])

    assert [t["TenantName"] for t in first["Tenants"]] == ["t1", "t2"]
    assert [t["TenantName"] for t in second["Tenants"]] == ["t3"]
    assert "NextToken" not in second


def test_list_tenants_filters_by_name_and_sending_status(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    aws_peer.add_tenant("acme-eu")
    aws_peer.add_tenant("acme-us", sending_status="DISABLED")
    aws_peer.add_tenant("globex", sending_status="DISABLED")
    sesv2 = client("sesv2")

    by_name = sesv2.list_tenants(Filter={"TENANT_NAME_CONTAINS": "ACME"})["Tenants"]
    disabled = sesv2.list_tenants(Filter={"SENDING_STATUS": "DISABLED"})["Tenants"]

    assert [t["TenantName"] for t in by_name] == ["acme-eu", "acme-us"]
    assert [t["TenantName"] for t in disabled] == ["acme-us", "globex"]


def test_tenant_resources_are_listed_both_ways(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    config_set = aws_peer.arn("configuration-set", "marketing")
    identity = aws_peer.arn("identity", "example.com")
    aws_peer.add_tenant("acme", resources=[identity, config_set])
    aws_peer.add_tenant("globex", resources=[identity])
    sesv2 = client("sesv2")

    resources = sesv2.list_tenant_resources(TenantName="acme")["TenantResources"]
    only_sets = sesv2.list_tenant_resources(TenantName="acme", Filter={"RESOURCE_TYPE": "CONFIGURATION_SET"})
    owners = sesv2.list_resource_tenants(ResourceArn=identity)["ResourceTenants"]

    assert {(r["ResourceType"], r["ResourceArn"]) for r in resources} == {
        ("EMAIL_IDENTITY", identity),
        ("CONFIGURATION_SET", config_set),
    }
    assert only_sets["TenantResources"] == [{"ResourceType": "CONFIGURATION_SET", "ResourceArn": config_set}]
    assert sorted(t["TenantName"] for t in owners) == ["acme", "globex"]
    assert all(t["ResourceArn"] == identity for t in owners)
    assert sesv2.list_resource_tenants(ResourceArn=config_set)["ResourceTenants"][0]["TenantName"] == "acme"


def test_listing_the_resources_of_an_unknown_tenant_is_not_found(client: Callable[..., Any]) -> None:
    with pytest.raises(ClientError) as exc:
        client("sesv2").list_tenant_resources(TenantName="nobody")

    assert error_code(exc) == "NotFoundException"


def test_tenants_can_be_created_associated_and_deleted_through_the_api(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    sesv2 = client("sesv2")
    template = aws_peer.arn("template", "welcome")

    created = sesv2.create_tenant(TenantName="initech", Tags=[{"Key": "team", "Value": "mail"}])
    sesv2.create_tenant_resource_association(TenantName="initech", ResourceArn=template)
    listed = sesv2.list_tenant_resources(TenantName="initech")["TenantResources"]
    sesv2.delete_tenant(TenantName="initech")

    assert created["TenantName"] == "initech"
    assert created["Tags"] == [{"Key": "team", "Value": "mail"}]
    assert listed == [{"ResourceType": "EMAIL_TEMPLATE", "ResourceArn": template}]
    with pytest.raises(ClientError) as exc:
        sesv2.get_tenant(TenantName="initech")
    assert error_code(exc) == "NotFoundException"


def test_creating_a_tenant_twice_is_refused(client: Callable[..., Any]) -> None:
    sesv2 = client("sesv2")
    sesv2.create_tenant(TenantName="acme")

    with pytest.raises(ClientError) as exc:
        sesv2.create_tenant(TenantName="acme")

    assert error_code(exc) == "AlreadyExistsException"


# --------------------------------------------------------------------------------- tenant suppression


def test_a_tenant_suppression_is_found_with_its_tenant_name_and_not_on_the_account_list(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    aws_peer.add_tenant("acme")
    aws_peer.suppress("gone@example.com", "COMPLAINT", tenant="acme", last_update=WHEN)
    sesv2 = client("sesv2")

    found = sesv2.get_suppressed_destination(EmailAddress="gone@example.com", TenantName="acme")
    listed = sesv2.list_suppressed_destinations(TenantName="acme")["SuppressedDestinationSummaries"]

    assert found["SuppressedDestination"]["TenantName"] == "acme"
    assert found["SuppressedDestination"]["Reason"] == "COMPLAINT"
    assert found["SuppressedDestination"]["LastUpdateTime"] == WHEN
    assert [e["EmailAddress"] for e in listed] == ["gone@example.com"]
    with pytest.raises(ClientError) as exc:
        sesv2.get_suppressed_destination(EmailAddress="gone@example.com")
    assert error_code(exc) == "NotFoundException"
    assert sesv2.list_suppressed_destinations()["SuppressedDestinationSummaries"] == []


def test_an_account_suppression_is_not_on_a_tenant_list(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    aws_peer.add_tenant("acme")
    aws_peer.suppress("gone@example.com")
    sesv2 = client("sesv2")

    with pytest.raises(ClientError) as exc:
        sesv2.get_suppressed_destination(EmailAddress="gone@example.com", TenantName="acme")

    assert error_code(exc) == "NotFoundException"
    assert sesv2.list_suppressed_destinations(TenantName="acme")["SuppressedDestinationSummaries"] == []
    account_entry = sesv2.get_suppressed_destination(EmailAddress="gone@example.com")["SuppressedDestination"]
    assert "TenantName" not in account_entry


def test_tenant_suppressions_can_be_put_and_deleted_through_the_api(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    aws_peer.add_tenant("acme")
    sesv2 = client("sesv2")

    sesv2.put_suppressed_destination(EmailAddress="x@example.com", Reason="BOUNCE", TenantName="acme")
    before = sesv2.get_suppressed_destination(EmailAddress="x@example.com", TenantName="acme")
    sesv2.delete_suppressed_destination(EmailAddress="x@example.com", TenantName="acme")

    assert before["SuppressedDestination"]["Reason"] == "BOUNCE"
    assert aws_peer.suppressed() == {}
    with pytest.raises(ClientError) as exc:
        sesv2.get_suppressed_destination(EmailAddress="x@example.com", TenantName="acme")
    assert error_code(exc) == "NotFoundException"


def test_putting_a_suppression_on_an_unknown_tenant_is_not_found(client: Callable[..., Any]) -> None:
    with pytest.raises(ClientError) as exc:
        client("sesv2").put_suppressed_destination(EmailAddress="x@example.com", Reason="BOUNCE", TenantName="none")

    assert error_code(exc) == "NotFoundException"


# ---------------------------------------------------------------------------------- reputation entities


@pytest.mark.parametrize(
    ("aws_status", "customer_status", "aggregate"),
    [
        ("ENABLED", "ENABLED", "ENABLED"),
        ("DISABLED", "ENABLED", "DISABLED"),
        ("ENABLED", "DISABLED", "DISABLED"),
        ("REINSTATED", "DISABLED", "DISABLED"),
        ("REINSTATED", "ENABLED", "REINSTATED"),
        ("ENABLED", "REINSTATED", "REINSTATED"),
    ],
)
def test_the_aggregate_sending_status_is_disabled_if_either_is_else_reinstated_if_either_is(
    aws_peer: AwsPeer, client: Callable[..., Any], aws_status: str, customer_status: str, aggregate: str
) -> None:
    reference = aws_peer.arn("configuration-set", "marketing")
    aws_peer.set_reputation_entity(reference, aws_status=aws_status, customer_status=customer_status)

    entity = client("sesv2").get_reputation_entity(
        ReputationEntityType="RESOURCE", ReputationEntityReference=reference
    )["ReputationEntity"]

    assert entity["SendingStatusAggregate"] == aggregate


def test_a_reputation_entity_reports_both_statuses_with_their_causes(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    tenant = aws_peer.add_tenant("acme")
    aws_peer.set_reputation_entity(
        tenant, aws_status="DISABLED", aws_cause="High bounce rate", impact="HIGH", updated=WHEN
    )

    entity = client("sesv2").get_reputation_entity(ReputationEntityType="RESOURCE", ReputationEntityReference=tenant)[
        "ReputationEntity"
    ]

    assert entity["ReputationEntityReference"] == tenant
    assert entity["ReputationEntityType"] == "RESOURCE"
    assert entity["ReputationManagementPolicy"] == "arn:aws:ses:::reputation-policy/standard"
    assert entity["AwsSesManagedStatus"] == {
        "Status": "DISABLED",
        "Cause": "High bounce rate",
        "LastUpdatedTimestamp": WHEN,
    }
    assert entity["CustomerManagedStatus"] == {"Status": "ENABLED", "LastUpdatedTimestamp": WHEN}
    assert entity["ReputationImpact"] == "HIGH"


def test_an_unknown_reputation_entity_is_not_found(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    with pytest.raises(ClientError) as exc:
        client("sesv2").get_reputation_entity(
            ReputationEntityType="RESOURCE", ReputationEntityReference=aws_peer.arn("identity", "example.com")
        )

    assert error_code(exc) == "NotFoundException"


def test_list_reputation_entities_filters_and_pages(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    identity = aws_peer.arn("identity", "example.com")
    config_set = aws_peer.arn("configuration-set", "marketing")
    template = aws_peer.arn("template", "welcome")
    aws_peer.set_reputation_entity(identity, aws_status="DISABLED", impact="HIGH")
    aws_peer.set_reputation_entity(config_set, customer_status="DISABLED")
    aws_peer.set_reputation_entity(template)
    sesv2 = client("sesv2")

    disabled = sesv2.list_reputation_entities(Filter={"SENDING_STATUS": "DISABLED"})["ReputationEntities"]
    high = sesv2.list_reputation_entities(Filter={"REPUTATION_IMPACT": "HIGH"})["ReputationEntities"]
    prefixed = sesv2.list_reputation_entities(Filter={"ENTITY_REFERENCE_PREFIX": identity[:-4]})
    first = sesv2.list_reputation_entities(PageSize=2)
    second = sesv2.list_reputation_entities(PageSize=2, NextToken=first["NextToken"])

    assert sorted(e["ReputationEntityReference"] for e in disabled) == sorted([identity, config_set])
    assert [e["ReputationEntityReference"] for e in high] == [identity]
    assert [e["ReputationEntityReference"] for e in prefixed["ReputationEntities"]] == [identity]
    refs = [e["ReputationEntityReference"] for e in first["ReputationEntities"] + second["ReputationEntities"]]
    assert sorted(refs) == sorted([identity, config_set, template])
    assert "NextToken" not in second


# ------------------------------------------------------------------------------------------------- VDM


def test_message_insights_need_vdm(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    aws_peer.add_message_insights(
        "m-1", from_address="a@example.com", subject="Hi", insights=[bounce_insight("b@example.org")]
    )

    with pytest.raises(ClientError) as exc:
        client("sesv2").get_message_insights(MessageId="m-1")

    assert error_code(exc) == "BadRequestException"
    assert "Virtual Deliverability Manager is not enabled" in exc.value.response["Error"]["Message"]


def test_message_insights_added_by_a_test_are_what_get_message_insights_returns(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    aws_peer.set_account(vdm_enabled=True)
    aws_peer.add_message_insights(
        "m-1",
        from_address="a@example.com",
        subject="Your receipt",
        insights=[bounce_insight("b@example.org")],
        tags=[{"Name": "campaign", "Value": "receipts"}],
    )

    found = client("sesv2").get_message_insights(MessageId="m-1")

    assert found["MessageId"] == "m-1"
    assert found["FromEmailAddress"] == "a@example.com"
    assert found["Subject"] == "Your receipt"
    assert found["EmailTags"] == [{"Name": "campaign", "Value": "receipts"}]
    (insight,) = found["Insights"]
    assert insight["Destination"] == "b@example.org"
    assert insight["Isp"] == "Gmail"
    assert [e["Type"] for e in insight["Events"]] == ["SEND", "BOUNCE"]
    assert insight["Events"][1]["Timestamp"] == WHEN
    assert insight["Events"][1]["Details"]["Bounce"]["DiagnosticCode"] == "smtp; 550 5.1.1 user unknown"


def test_insights_for_an_unknown_message_are_not_found(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    aws_peer.set_account(vdm_enabled=True)

    with pytest.raises(ClientError) as exc:
        client("sesv2").get_message_insights(MessageId="never-sent")

    assert error_code(exc) == "NotFoundException"


def test_recommendations_need_vdm(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    aws_peer.add_recommendation(aws_peer.arn("identity", "example.com"), "DMARC")

    with pytest.raises(ClientError) as exc:
        client("sesv2").list_recommendations()

    assert error_code(exc) == "BadRequestException"


def test_list_recommendations_filters_and_pages_newest_first(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    aws_peer.set_account(vdm_enabled=True)
    identity = aws_peer.arn("identity", "example.com")
    other = aws_peer.arn("identity", "example.org")
    aws_peer.add_recommendation(identity, "DMARC", description="No DMARC record", created=WHEN)
    aws_peer.add_recommendation(identity, "SPF", status="FIXED", impact="LOW", created=WHEN + timedelta(hours=1))
    aws_peer.add_recommendation(other, "DKIM", created=WHEN + timedelta(hours=2))
    sesv2 = client("sesv2")

    first = sesv2.list_recommendations(PageSize=2)
    second = sesv2.list_recommendations(PageSize=2, NextToken=first["NextToken"])
    open_for_identity = sesv2.list_recommendations(Filter={"RESOURCE_ARN": identity, "STATUS": "OPEN"})

    assert [r["Type"] for r in first["Recommendations"]] == ["DKIM", "SPF"]
    assert [r["Type"] for r in second["Recommendations"]] == ["DMARC"]
    assert "NextToken" not in second
    (dmarc,) = open_for_identity["Recommendations"]
    assert dmarc == {
        "ResourceArn": identity,
        "Type": "DMARC",
        "Description": "No DMARC record",
        "Status": "OPEN",
        "CreatedTimestamp": WHEN,
        "LastUpdatedTimestamp": WHEN,
        "Impact": "HIGH",
    }
    assert [r["Type"] for r in sesv2.list_recommendations(Filter={"IMPACT": "LOW"})["Recommendations"]] == ["SPF"]
    assert [r["Type"] for r in sesv2.list_recommendations(Filter={"TYPE": "DKIM"})["Recommendations"]] == ["DKIM"]


def test_an_unknown_recommendation_filter_is_a_bad_request(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    aws_peer.set_account(vdm_enabled=True)

    with pytest.raises(ClientError) as exc:
        client("sesv2").list_recommendations(Filter={"COLOUR": "red"})

    assert error_code(exc) == "BadRequestException"


# ----------------------------------------------------------------------------------- email validation


def test_an_address_nobody_set_looks_valid_with_high_confidence(client: Callable[..., Any]) -> None:
    validation = client("sesv2").get_email_address_insights(EmailAddress="someone@example.com")["MailboxValidation"]

    assert validation["IsValid"] == {"ConfidenceVerdict": "HIGH"}
    assert {k: v["ConfidenceVerdict"] for k, v in validation["Evaluations"].items()} == {
        "HasValidSyntax": "HIGH",
        "HasValidDnsRecords": "HIGH",
        "MailboxExists": "HIGH",
        "IsRoleAddress": "LOW",
        "IsDisposable": "LOW",
        "IsRandomInput": "LOW",
    }


def test_email_insights_set_by_a_test_are_what_get_email_address_insights_returns(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    aws_peer.set_email_insights("Info@Example.com", is_valid="LOW", mailbox_exists="LOW", role="HIGH")

    validation = client("sesv2").get_email_address_insights(EmailAddress="info@example.com")["MailboxValidation"]

    assert validation["IsValid"]["ConfidenceVerdict"] == "LOW"
    assert validation["Evaluations"]["MailboxExists"]["ConfidenceVerdict"] == "LOW"
    assert validation["Evaluations"]["IsRoleAddress"]["ConfidenceVerdict"] == "HIGH"


# ------------------------------------------------------------------------------ regions, reset, errors


def test_tenants_entities_and_insights_belong_to_their_region(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    tenant = aws_peer.add_tenant("acme", region="eu-west-1")
    aws_peer.set_reputation_entity(tenant, aws_status="DISABLED", region="eu-west-1")
    aws_peer.set_account(vdm_enabled=True, region="eu-west-1")
    aws_peer.add_recommendation(tenant, "BOUNCE", region="eu-west-1")
    home, away = client("sesv2"), client("sesv2", "eu-west-1")

    assert home.list_tenants()["Tenants"] == []
    assert [t["TenantName"] for t in away.list_tenants()["Tenants"]] == ["acme"]
    assert home.list_reputation_entities()["ReputationEntities"] == []
    assert home.get_account()["VdmAttributes"]["VdmEnabled"] == "DISABLED"
    assert len(away.list_recommendations()["Recommendations"]) == 1
    assert tenant.startswith("arn:aws:ses:eu-west-1:")


def test_reset_forgets_tenants_entities_insights_and_recommendations(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    tenant = aws_peer.add_tenant("acme")
    aws_peer.suppress("gone@example.com", tenant="acme")
    aws_peer.set_reputation_entity(tenant)
    aws_peer.set_account(vdm_enabled=True, plan="PRO")
    aws_peer.add_message_insights("m-1", from_address="a@example.com", subject="s", insights=[])
    aws_peer.add_recommendation(tenant, "DKIM")
    aws_peer.set_email_insights("a@example.com", is_valid="LOW")

    aws_peer.reset()
    aws_peer.set_account(vdm_enabled=True)
    sesv2 = client("sesv2")

    assert sesv2.list_tenants()["Tenants"] == []
    assert sesv2.list_reputation_entities()["ReputationEntities"] == []
    assert sesv2.list_recommendations()["Recommendations"] == []
    assert "PricingAttributes" not in sesv2.get_account()
    with pytest.raises(ClientError) as exc:
        sesv2.get_message_insights(MessageId="m-1")
    assert error_code(exc) == "NotFoundException"
    validation = sesv2.get_email_address_insights(EmailAddress="a@example.com")["MailboxValidation"]
    assert validation["IsValid"]["ConfidenceVerdict"] == "HIGH"


def test_errors_can_be_injected_into_the_new_operations(aws_peer: AwsPeer, client: Callable[..., Any]) -> None:
    aws_peer.fail("ListTenants", code="AccessDeniedException", status=403)

    with pytest.raises(ClientError) as exc:
        client("sesv2").list_tenants()

    assert error_code(exc) == "AccessDeniedException"
    assert len(aws_peer.calls_to("ListTenants")) == 1


def test_an_answer_that_does_not_fit_the_model_is_a_loud_server_error(
    aws_peer: AwsPeer, client: Callable[..., Any]
) -> None:
    # SES would refuse the scope; our layer stores it, and the shape check refuses to answer with it.
    with pytest.raises(ClientError) as exc:
        client("sesv2").create_tenant(TenantName="odd", SuppressionAttributes={"SuppressionScope": "GLOBAL"})

    problems = aws_peer.shape_problems
    aws_peer.reset()
    assert error_code(exc) == "PeerShapeError"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "CreateTenant.SuppressionAttributes.SuppressionScope: 'GLOBAL' is not one of" in str(exc.value)
    assert len(problems) == 1


def test_a_tenant_with_a_status_ses_does_not_have_is_refused(aws_peer: AwsPeer) -> None:
    with pytest.raises(ValueError, match="sending_status"):
        aws_peer.add_tenant("acme", sending_status="PAUSED")
    with pytest.raises(ValueError, match="not one of SuppressionListScope"):
        aws_peer.add_tenant("acme", suppression_scope="GLOBAL")
