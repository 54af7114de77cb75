"""Settings: every problem listed at once, defaults as documented, secrets never shown."""

from __future__ import annotations

import pytest

from bot.settings import DnsServer, Settings, SettingsError


def test_defaults_are_the_documented_ones():
    s = Settings.from_env({})
    assert (s.db_path, s.port, s.regions, s.retention_days, s.sweep_minutes, s.redact) == (
        "./sesbot.db",
        3000,
        [],
        90,
        5,
        "none",
    )
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.rate_levels[2] == ("review", 0.05, 0.001)
    assert s.rate_levels[4] == ("suspension", 0.10, 0.005)


def test_every_malformed_variable_is_listed_in_one_message():
    env = {
        "PORT": "eighty",
        "AWS_REGION": "moon-1",
        "SESBOT_SENDER": "not an address",
        "SESBOT_DNS_SERVERS": "10.0.0.1:99999",
        "SESBOT_RETENTION_DAYS": "0",
        "SLACK_API_URL": "ftp://x",
    }
    with pytest.raises(SettingsError) as err:
        Settings.from_env(env)
    names = [p.split("=")[0].split(" ")[0] for p in err.value.problems]
    assert names == [
        "SLACK_API_URL",
        "PORT",
        "AWS_REGION",
        "SESBOT_SENDER",
        "SESBOT_DNS_SERVERS",
        "SESBOT_RETENTION_DAYS",
    ]
    assert str(err.value).startswith("sesbot cannot start; fix these settings")


def test_regions_default_to_the_aws_region_and_can_be_several():
    assert Settings.from_env({"AWS_DEFAULT_REGION": "eu-west-1"}).regions == ["eu-west-1"]
    s = Settings.from_env({"AWS_REGION": "eu-west-1", "SESBOT_REGIONS": "us-east-1, eu-central-1"})
    assert s.regions == ["us-east-1", "eu-central-1"]


def test_dns_servers_take_host_and_port():
    s = Settings.from_env({"SESBOT_DNS_SERVERS": "127.0.0.1:5353, 10.1.1.1, [::1]:53"})
    assert s.dns_servers == [DnsServer("127.0.0.1", 5353), DnsServer("10.1.1.1", 53), DnsServer("::1", 53)]


def test_sender_may_be_an_address_or_a_domain():
    assert Settings.from_env({"SESBOT_SENDER": "news@Mail.Example.com"}).sender_domain == "mail.example.com"
    assert Settings.from_env({"SESBOT_SENDER": "mail.example.com"}).sender_address is None


def test_run_needs_slack_settings_and_lists_them_all():
    with pytest.raises(SettingsError) as err:
        Settings.from_env({}).require_slack()
    assert [p.split(" ")[0] for p in err.value.problems] == ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "AWS_REGION"]


def test_socket_mode_needs_no_signing_secret():
    s = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "AWS_REGION": "us-east-1"})
    s.require_slack()
    assert s.socket_mode


def test_secrets_do_not_show_in_repr():
    s = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-very-secret", "SLACK_SIGNING_SECRET": "sign-secret-123"})
    assert "xoxb-very-secret" not in repr(s)
    assert "sign-secret-123" not in repr(s)
    assert "xoxb-very-secret" in s.secrets()


def test_rate_levels_are_configurable_and_checked():
    s = Settings.from_env({"SESBOT_BOUNCE_LEVELS": "1,3,5,7,9"})
    assert [b for _, b, _ in s.rate_levels] == pytest.approx([0.01, 0.03, 0.05, 0.07, 0.09])
    with pytest.raises(SettingsError):
        Settings.from_env({"SESBOT_COMPLAINT_LEVELS": "5,4,3,2,1"})


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("SESBOT_ALERT_CHANNEL", "#alerts", "is not a Slack channel id"),
        ("SESBOT_ALLOWED_CHANNELS", "C0OPS,#general", "malformed entries: #general (expected Slack channel ids"),
        ("SESBOT_ADMINS", "U0ADMIN,bob", "malformed entries: bob (expected Slack user ids"),
        ("SESBOT_ALLOWED_USERS", "alice", "malformed entries: alice"),
        ("SESBOT_ALLOWED_GROUPS", "oncall", "malformed entries: oncall (expected Slack user-group ids"),
        ("SESBOT_TEAM_ID", "myteam", "is not a Slack workspace id"),
        ("SESBOT_BOUNCE_LEVELS", "nan,nan,nan,nan,nan", "should be percentages from above 0 to 100"),
        ("SESBOT_COMPLAINT_LEVELS", "1,2,3,4,inf", "should be percentages from above 0 to 100"),
        ("SESBOT_BLOCKLISTS", "zen.spamhaus.org,not a domain!!", "not a domain!! (expected DNS zone"),
        ("SESBOT_DOMAIN_BLOCKLISTS", "dbl.spamhaus.org,-bad-.org", "-bad-.org (expected DNS zone"),
        ("SESBOT_DNS_SERVERS", "127.0.0.1,localhost:5353", "entry 'localhost:5353' is not IP[:port]"),
        ("SESBOT_DNS_SERVERS", "resolver.internal", "entry 'resolver.internal' is not IP[:port]"),
        ("SESBOT_DNS_SERVERS", "10.0.0.300", "entry '10.0.0.300' is not IP[:port]"),
        ("SESBOT_DNS_SERVERS", "[resolver]:53", "entry '[resolver]:53' is not IP[:port]"),
    ],
)
def test_a_setting_of_the_wrong_form_is_refused_saying_what_it_should_be(name, value, problem):
    with pytest.raises(SettingsError) as err:
        Settings.from_env({name: value})
    assert problem in str(err.value)


def test_a_path_setting_must_be_the_kind_of_path_it_names(tmp_path):
    with pytest.raises(SettingsError) as err:
        Settings.from_env({"SESBOT_SMTP_CA_FILE": str(tmp_path), "SESBOT_SNS_CERT_DIR": str(tmp_path / "x.pem")})
    assert "SESBOT_SMTP_CA_FILE" in str(err.value) and "is not a file" in str(err.value)


def test_a_region_botocore_does_not_know_is_accepted_and_named_where_its_endpoint_cannot_be_reached():
    import boto3
    import botocore
    from botocore.exceptions import EndpointConnectionError

    from bot.aws import describe_error

    assert Settings.from_env({"AWS_REGION": "eu-west-4"}).regions == ["eu-west-4"]  # a newer region must work
    said = []
    for region in ("eu-west-4", "eu-west-1"):
        # The endpoint botocore itself builds for the region (no network is touched building a client).
        url = boto3.client("sesv2", region_name=region).meta.endpoint_url
        said.append(describe_error(EndpointConnectionError(endpoint_url=f"{url}/v2/email/account")))
    assert said == [
        "cannot reach the AWS API endpoint (network or AWS_ENDPOINT_URL); "
        f"eu-west-4 is not a region this botocore ({botocore.__version__}) knows: check the name",
        "cannot reach the AWS API endpoint (network or AWS_ENDPOINT_URL)",
    ]
