"""Several AWS accounts (`SESBOT_ACCOUNTS`): each read through its own assumed role, on the AWS peer where
every account has its own SES state (moto files an assumed role's requests under the role's account)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.alerts import sweep
from bot.commands import CommandContext, execute, parse
from bot.deps import Deps
from bot.ingest import ingest_documents
from bot.settings import Account, Settings, SettingsError
from peers import scenario
from tests.conftest import CHANNEL, REGION, bounce_doc, slack_poster

PROD = "111111111111"
STAGING = "222222222222"


@pytest.fixture
def two_accounts(settings: Settings, aws_peer) -> Settings:
    """Two production accounts, `prod` and `staging`, each reached through its own role."""
    for account_id in (PROD, STAGING):
        with aws_peer.in_account(account_id):
            aws_peer.set_account(REGION, production_access=True)
    settings.accounts = [
        Account("prod", f"arn:aws:iam::{PROD}:role/sesbot-read"),
        Account("staging", f"arn:aws:iam::{STAGING}:role/sesbot-read"),
    ]
    return settings


def run(deps: Deps, line: str) -> dict:
    return execute(CommandContext(deps=deps), parse(line)).as_dict()


def test_accounts_are_read_from_names_and_role_arns_and_bad_entries_are_all_named():
    s = Settings.from_env({"SESBOT_ACCOUNTS": f"prod=arn:aws:iam::{PROD}:role/sesbot-read, home"})
    assert s.accounts == [Account("prod", f"arn:aws:iam::{PROD}:role/sesbot-read"), Account("home")]
    assert s.accounts[0].account_id == PROD
    with pytest.raises(SettingsError) as err:
        Settings.from_env({"SESBOT_ACCOUNTS": "prod=arn:aws:iam::1:user/x,prod,bad name=x"})
    text = str(err.value)
    assert "is not an IAM role ARN" in text and "the name should be letters" in text


def test_each_account_is_read_with_its_own_assumed_role(aws_peer, two_accounts, store):
    deps = Deps.build(two_accounts, store=store)
    arns = [view.aws.get("sts").get_caller_identity()["Arn"] for view in deps.accounts()]
    assert arns == [
        f"arn:aws:sts::{PROD}:assumed-role/sesbot-read/sesbot-prod",
        f"arn:aws:sts::{STAGING}:assumed-role/sesbot-read/sesbot-staging",
    ]
    assert len(aws_peer.calls_to("AssumeRole")) == 2


def test_a_diagnosis_names_the_account_where_the_cause_is(aws_peer, two_accounts, store):
    with aws_peer.in_account(STAGING):
        aws_peer.suppress("user@example.com", "BOUNCE", region=REGION)
    deps = Deps.build(two_accounts, store=store)
    answer = run(deps, "why user@example.com --json")
    suppressed = [f for f in answer["findings"] if f["check"] == "recipient.suppressed"]
    assert sorted((f["account"], f["severity"]) for f in suppressed) == [("prod", "ok"), ("staging", "critical")]
    text = execute(CommandContext(deps=deps), parse("why user@example.com")).findings  # type: ignore[union-attr]
    assert any(f.where == "staging · us-east-1" and f.is_problem for f in text if f.check == "recipient.suppressed")


def sender_published(aws_peer, dns_peer) -> None:
    """The scenario's DNS, and its sender domain verified in both accounts: nothing wrong but what a test adds."""
    scenario.setup_dns(dns_peer)
    for account_id in (PROD, STAGING):
        with aws_peer.in_account(account_id):
            aws_peer.set_identity(
                scenario.SENDER_DOMAIN, region=REGION, verified=True, dkim_tokens=list(scenario.DKIM_TOKENS)
            )


def test_several_targets_name_the_account_and_region_of_each_verdict(aws_peer, dns_peer, two_accounts, store):
    sender_published(aws_peer, dns_peer)
    with aws_peer.in_account(STAGING):
        aws_peer.suppress("user@example.com", "BOUNCE", region=REGION)
    deps = Deps.build(two_accounts, store=store)
    answer = execute(CommandContext(deps=deps), parse("why user@example.com ok@example.org"))
    heading, _ = answer.sections[0]  # type: ignore[union-attr]
    assert heading.startswith("user@example.com: critical — user@example.com is on the account suppression list")
    assert heading.endswith(f"never delivers it. (staging · {REGION})")


def test_a_problem_in_an_account_the_recipients_mail_never_came_from_is_not_the_cause(
    aws_peer, dns_peer, two_accounts, store
):
    sender_published(aws_peer, dns_peer)
    with aws_peer.in_account(STAGING):
        aws_peer.set_account(REGION, sending_enabled=False)
    ingest_documents(store, [blocklist_bounce(1, "kim@example.org", PROD, datetime.now(UTC))], origin="test")
    deps = Deps.build(two_accounts, store=store)
    report = execute(CommandContext(deps=deps), parse("why kim@example.org"))
    assert (report.verdict.check, report.verdict.account) == ("recipient.blocklist", None)  # type: ignore[union-attr]
    [paused] = [f for f in report.findings if f.check == "account.sending" and f.account == "staging"]  # type: ignore[union-attr]
    assert paused.severity.label == "info"
    assert paused.summary.endswith(
        "(In account staging: the mail to kim@example.org the bot has seen was sent from prod.)"
    )


def test_why_with_account_asks_only_that_account(aws_peer, two_accounts, store):
    deps = Deps.build(two_accounts, store=store)
    answer = run(deps, "why user@example.com --account prod --json")
    accounts = {f.get("account") for f in answer["findings"] if f.get("region")}
    assert accounts == {"prod"}
    with pytest.raises(Exception, match="no account named"):
        run(deps, "why user@example.com --account=qa")


def test_a_sweep_alerts_for_the_one_account_that_is_paused(aws_peer, two_accounts, store, clock, slack_peer):
    two_accounts.alert_channel = CHANNEL
    two_accounts.slack_api_url = slack_peer.base_url
    with aws_peer.in_account(PROD):
        aws_peer.set_account(REGION, sending_enabled=False)
    deps = Deps.build(two_accounts, store=store, clock=clock)
    result = sweep(deps, slack_poster(slack_peer))
    statuses = {(s.account, s.level) for s in result.signals if s.signal == "account_status"}
    assert statuses == {("prod", "paused"), ("staging", "ok")}
    posts = slack_peer.calls_to("chat.postMessage")
    assert len(posts) == 1
    assert "prod · us-east-1" in posts[0].params["text"]
    incidents = run(deps, "status --json")["open_incidents"]
    assert [(i["account"], i["signal"]) for i in incidents] == [("prod", "account_status")]
    assert json.dumps(run(deps, "status --json")["regions"]).count('"account"') == 2


def test_assumed_credentials_are_assumed_again_before_they_expire(aws_peer, two_accounts, store, clock):
    clock.now = datetime.now(UTC)  # STS (moto) dates the credentials from the real clock
    deps = Deps.build(two_accounts, store=store, clock=clock)
    prod = deps.accounts("prod")[0]
    prod.aws.get("sesv2").get_account()
    first = prod.aws.credentials().get_frozen_credentials().access_key
    prod.aws.get("sesv2").get_account()
    assert len(aws_peer.calls_to("AssumeRole")) == 1  # still fresh: reused
    clock.tick(minutes=50)  # the role lasts an hour: 10 minutes left, inside the 15-minute refresh window
    prod.aws.get("sesv2").get_account()
    assert len(aws_peer.calls_to("AssumeRole")) == 2
    assert prod.aws.credentials().get_frozen_credentials().access_key != first


def test_each_queue_is_read_with_the_credentials_of_the_account_in_its_url(two_accounts, store):
    from bot.sqs import queue_deps

    deps = Deps.build(two_accounts, store=store)
    assert queue_deps(deps, f"https://sqs.eu-west-1.amazonaws.com/{STAGING}/sesbot-events").account_name == "staging"
    assert queue_deps(deps, "https://sqs.eu-west-1.amazonaws.com/999999999999/sesbot-events").account is None
    assert Settings.from_env(
        {"SESBOT_SQS_QUEUE_URL": "https://a.example/1/q, https://b.example/2/q"}
    ).sqs_queue_urls == [
        "https://a.example/1/q",
        "https://b.example/2/q",
    ]


def put_account_rate(deps: Deps, account: str, value: float, at: datetime) -> None:
    """A bounce rate in `account`'s own CloudWatch (written with its assumed role, as SES would publish it)."""
    cw = deps.accounts(account)[0].aws.get("cloudwatch", REGION)
    cw.put_metric_data(
        Namespace="AWS/SES", MetricData=[{"MetricName": "Reputation.BounceRate", "Value": value, "Timestamp": at}]
    )


def test_the_home_shows_each_accounts_figures_and_chart_from_its_own_cloudwatch(
    aws_peer, two_accounts, store, clock, slack_peer
):
    from slack_sdk import WebClient

    from bot.dashboard import home_opened
    from bot.scheduler import run_sweep
    from handlers.home import refresher
    from handlers.home_charts import HomeCharts
    from tests.conftest import BOT_TOKEN

    deps = Deps.build(two_accounts, store=store, clock=clock)
    now = clock.tick()
    put_account_rate(deps, "prod", 0.02, now)
    put_account_rate(deps, "staging", 0.03, now)
    home_opened(store, "U0ALICE", now)
    client = WebClient(token=BOT_TOKEN, base_url=slack_peer.base_url)
    run_sweep(deps, None, after_sweep=refresher(deps, client, HomeCharts(deps, client)))
    blocks = slack_peer.home_of("U0ALICE")["blocks"]
    regions = [(i, b["text"]["text"]) for i, b in enumerate(blocks) if b["type"] == "section"][:2]
    for (i, text), (name, rate) in zip(regions, (("prod", "2%"), ("staging", "3%")), strict=True):
        assert text.startswith(f":warning: *{name} · {REGION}*\nProduction access"), text
        assert f"Bounce rate: {rate} (CloudWatch), elevated" in text
        image = blocks[i + 1]
        assert image["type"] == "image", "each account's chart is under its figures"
        assert f"bounce and complaint rate in {name} · {REGION}" in image["alt_text"]
        assert f"Bounce rate now {rate}" in image["alt_text"]
        assert image["title"]["text"] == f"Bounce and complaint rate in {name} · {REGION}, last 7 days"
    assert len(slack_peer.uploads) == 2


def test_an_incidents_chart_is_drawn_from_its_own_accounts_cloudwatch(aws_peer, two_accounts, store, clock, slack_peer):
    two_accounts.alert_channel = CHANNEL
    deps = Deps.build(two_accounts, store=store, clock=clock)
    put_account_rate(deps, "staging", 0.06, clock.tick())
    sweep(deps, slack_poster(slack_peer))
    upload = slack_peer.wait_for_upload()
    assert upload.title == f"Bounce and complaint rate in staging · {REGION}, last 7 days"
    assert "Bounce rate now 6% (review" in (upload.alt_txt or "")


def test_sesbot_chart_draws_the_account_named_and_asks_which_one_without_it(
    aws_peer, two_accounts, store, clock, tmp_path
):
    from bot.target import UsageError
    from tests.test_charts import png_size
    from tests.test_cli import sesbot

    deps = Deps.build(two_accounts, store=store, clock=clock)
    put_account_rate(deps, "staging", 0.06, datetime.now(UTC))
    out = tmp_path / "staging.png"
    env = {
        **aws_peer.environ(),
        "AWS_REGION": REGION,
        "SESBOT_DB": str(tmp_path / "db.sqlite"),
        "SESBOT_ACCOUNTS": ",".join(f"{a.name}={a.role_arn}" for a in two_accounts.accounts),
    }
    done = sesbot("chart", "--account", "staging", "--out", str(out), "--json", env=env)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["figures"]["account"], answer["drawn_by"]) == ("staging", "cloudwatch")
    assert "Bounce rate now 6%" in answer["alt_text"]
    assert png_size(out.read_bytes())[0] >= 600
    with pytest.raises(UsageError, match=r"which account\? name one with `--account` \(prod, staging\)"):
        run(deps, f"chart --out {tmp_path / 'x.png'}")
    with pytest.raises(UsageError, match="`--account` needs one of the accounts: prod, staging"):
        run(deps, "chart --account qa")


def publish_domain(aws_peer, dns_peer, account_id: str, domain: str, mail_from: str | None) -> None:
    """`domain` as an SES identity of `account_id` (Easy DKIM, the MAIL FROM given), and its DNS."""
    with aws_peer.in_account(account_id):
        answer = aws_peer.set_identity(domain, region=REGION, mail_from_domain=mail_from)
    for token in answer["DkimAttributes"]["Tokens"]:
        dns_peer.add(f"{token}._domainkey.{domain}", "CNAME", f"{token}.dkim.amazonses.com.")
    if mail_from:
        dns_peer.add(mail_from, "MX", f"10 feedback-smtp.{REGION}.amazonses.com.")
        dns_peer.add(mail_from, "TXT", "v=spf1 include:amazonses.com ~all")
    dns_peer.add("amazonses.com", "TXT", "v=spf1 ip4:199.255.192.0/22 -all")
    dns_peer.add(f"_dmarc.{domain}", "TXT", "v=DMARC1; p=reject")
    dns_peer.add(domain, "MX", f"10 inbound-smtp.{REGION}.amazonaws.com.")


def test_the_domain_suite_reads_the_identity_in_every_account(aws_peer, dns_peer, two_accounts, store):
    publish_domain(aws_peer, dns_peer, PROD, "example.org", mail_from="bounce.example.org")
    publish_domain(aws_peer, dns_peer, STAGING, "example.org", mail_from=None)
    deps = Deps.build(two_accounts, store=store)
    findings = {f["check"]: f for f in run(deps, "domain example.org --json")["findings"]}
    dmarc = findings["domain.dmarc"]
    assert [(r["account"], r["mail_from"]["domain"]) for r in dmarc["data"]["regions"]] == [
        ("prod", "bounce.example.org"),
        ("staging", None),
    ]
    assert "staging · us-east-1: DKIM d=example.org (passes); MAIL FROM amazonses.com (default)" in dmarc["evidence"]
    assert findings["domain.spf"]["summary"].startswith("Default MAIL FROM in staging · us-east-1: ")
    asked = {c.account for c in aws_peer.calls_to("GetEmailIdentity")}
    assert asked == {PROD, STAGING}


def test_the_compliance_complaint_rate_is_read_in_every_account(aws_peer, dns_peer, two_accounts, store):
    publish_domain(aws_peer, dns_peer, PROD, "example.org", mail_from="bounce.example.org")
    with aws_peer.in_account(STAGING):
        aws_peer.client("cloudwatch", REGION).put_metric_data(
            Namespace="AWS/SES",
            MetricData=[{"MetricName": "Reputation.ComplaintRate", "Value": 0.004, "Timestamp": datetime.now(UTC)}],
        )
    deps = Deps.build(two_accounts, store=store)
    findings = {f["check"]: f for f in run(deps, "compliance example.org --json")["findings"]}
    complaints = findings["compliance.complaints"]
    assert complaints["severity"] in ("error", "critical")
    assert "CloudWatch in staging · us-east-1: Reputation.ComplaintRate 0.400%" in " ".join(complaints["evidence"])
    assert "prod · us-east-1" not in " ".join(complaints["evidence"])  # no figure there: nothing to say
    assert {c.account for c in aws_peer.calls_to("GetMetricData")} == {PROD, STAGING}


def test_the_blocklist_command_checks_the_dedicated_ips_of_every_account(aws_peer, dns_peer, two_accounts, store):
    two_accounts.ip_blocklists = ("zen.spamhaus.org",)
    two_accounts.domain_blocklists = ()
    with aws_peer.in_account(PROD):
        aws_peer.set_dedicated_ips(["198.51.100.7"], region=REGION)
    dns_peer.list_ip("zen.spamhaus.org", "198.51.100.7", code="127.0.0.3", txt=None)
    deps = Deps.build(two_accounts, store=store)
    findings = run(deps, "blocklist --json")["findings"]
    listed = [f for f in findings if f["check"] == "blocklist.listed"]
    assert [f["data"]["target"] for f in listed] == ["198.51.100.7"]
    assert "dedicated IP in prod · us-east-1" in json.dumps(listed[0], ensure_ascii=False)
    notes = [(f["account"], f["summary"]) for f in findings if f["check"] == "blocklist.dedicated_ips"]
    assert notes == [
        ("staging", "No dedicated IPs in staging · us-east-1: SES sends from shared IPs, whose listings AWS handles")
    ]


def blocklist_bounce(n: int, recipient: str, account_id: str, at: datetime) -> str:
    """A blocklist bounce of mail sent from `account_id`."""
    text = f"smtp; 554 5.7.1 Client host [54.240.8.{n}] blocked using zen.spamhaus.org"
    doc = json.loads(bounce_doc(n, recipient, text, at))
    doc["mail"]["sendingAccountId"] = account_id
    doc["mail"]["sourceArn"] = f"arn:aws:ses:{REGION}:{account_id}:identity/mail.example.com"
    return json.dumps(doc)


def alerting(settings: Settings, store, clock, slack_peer):
    """Deps alerting to the Slack peer, and its poster, after a first quiet sweep."""
    settings.alert_channel = CHANNEL
    settings.slack_api_url = slack_peer.base_url
    deps = Deps.build(settings, store=store, clock=clock)
    poster = slack_poster(slack_peer)
    sweep(deps, poster)
    return deps, poster


def test_blocklist_bounces_alert_for_the_account_that_sent_the_mail(aws_peer, two_accounts, store, clock, slack_peer):
    deps, poster = alerting(two_accounts, store, clock, slack_peer)
    at = clock.tick()
    ingest_documents(store, [blocklist_bounce(1, "a@gmail.com", STAGING, at)], origin="test", now=at)
    clock.tick()
    result = sweep(deps, poster)
    levels = {(s.account, s.level) for s in result.signals if s.signal == "blocklist"}
    assert levels == {("prod", "ok"), ("staging", "listed")}
    (post,) = slack_peer.calls_to("chat.postMessage")
    assert "staging · us-east-1" in post.params["text"]
    incidents = run(deps, "status --json")["open_incidents"]
    assert [(i["account"], i["signal"]) for i in incidents] == [("staging", "blocklist")]


def test_show_bounces_lists_only_the_events_of_the_incidents_account(aws_peer, two_accounts, store, clock, slack_peer):
    from bot.incidents import incident_bounces_answer, open_incidents

    deps, poster = alerting(two_accounts, store, clock, slack_peer)
    at = clock.tick()
    docs = [blocklist_bounce(1, "a@gmail.com", STAGING, at), blocklist_bounce(2, "b@gmail.com", PROD, at)]
    ingest_documents(store, docs, origin="test", now=at)
    clock.tick()
    sweep(deps, poster)
    by_account = {i.account: i for i in open_incidents(store) if i.signal == "blocklist"}
    assert sorted(by_account) == ["prod", "staging"]
    (lines,) = [lines for _, lines in incident_bounces_answer(deps, by_account["staging"]).sections]
    assert len(lines) == 1 and "a@gmail.com" in lines[0]


def test_ses_address_insights_are_asked_once_however_many_accounts(aws_peer, two_accounts, store):
    two_accounts.email_insights = True  # each GetEmailAddressInsights call is charged
    deps = Deps.build(two_accounts, store=store)
    answer = run(deps, "why user@example.com --json")
    asked = [f for f in answer["findings"] if f["check"] == "recipient.validation"]
    assert [f["account"] for f in asked] == ["prod"]
    assert len(aws_peer.calls_to("GetEmailAddressInsights")) == 1


def test_a_configuration_set_one_account_used_is_looked_for_only_in_that_account(aws_peer, two_accounts, store, clock):
    from tests.test_checks_config_set import bounce_with_tag

    with aws_peer.in_account(STAGING):
        aws_peer.client("sesv2", REGION).create_configuration_set(ConfigurationSetName="staging-news")
    doc = bounce_with_tag("user@example.com", "staging-news", clock.tick())
    doc["mail"]["sendingAccountId"] = STAGING
    ingest_documents(store, [json.dumps(doc)], origin="test", now=clock.now)
    deps = Deps.build(two_accounts, store=store, clock=clock)
    answer = run(deps, "why user@example.com --json")
    sending = {f["account"]: f for f in answer["findings"] if f["check"] == "config_set.sending"}
    assert "does not exist" not in sending["prod"]["summary"], sending["prod"]["summary"]
    assert "staging-news" in json.dumps(sending["staging"]) and sending["staging"]["severity"] == "ok"


def test_a_message_id_is_looked_up_in_every_account_and_found_in_the_one_that_sent_it(aws_peer, two_accounts, store):
    message_id = "010001812a3b4c5d-6e7f8a9b-0c1d-2e3f-4a5b-6c7d8e9f0a1b-000000"
    sent = datetime.now(UTC)
    with aws_peer.in_account(STAGING):
        aws_peer.set_account(REGION, production_access=True, vdm_enabled=True)
        events = [{"Timestamp": sent, "Type": "SEND"}, {"Timestamp": sent, "Type": "DELIVERY"}]
        aws_peer.add_message_insights(
            message_id, from_address="news@mail.example.com", subject="Hi", insights=[
                {"Destination": "kim@example.org", "Isp": "Yahoo", "Events": events}
            ]
        )  # fmt: skip
    with aws_peer.in_account(PROD):
        aws_peer.set_account(REGION, production_access=True, vdm_enabled=True)
    deps = Deps.build(two_accounts, store=store)
    answer = execute(CommandContext(deps=deps), parse(f"why {message_id}"))
    assert answer.title.endswith(f"sent in staging · {REGION}"), answer.title
    insights = answer.as_dict()["message"]["insights"]
    assert (insights["status"], insights["account"]) == ("found", "staging")
    asked = sorted((r["account"], r["status"]) for r in insights["regions"])
    assert asked == [("prod", "not_found"), ("staging", "found")]


def test_the_recipients_of_a_message_are_judged_in_the_account_whose_insights_know_it(aws_peer, two_accounts, store):
    message_id = "010001812a3b4c5d-6e7f8a9b-0c1d-2e3f-4a5b-6c7d8e9f0a1b-000000"
    sent = datetime.now(UTC)
    for account_id in (PROD, STAGING):
        with aws_peer.in_account(account_id):
            aws_peer.set_account(REGION, production_access=True, vdm_enabled=True)
    with aws_peer.in_account(STAGING):
        events = [{"Timestamp": sent, "Type": "SEND"}, {"Timestamp": sent, "Type": "DELIVERY"}]
        aws_peer.add_message_insights(
            message_id, from_address="news@mail.example.com", subject="Hi", insights=[
                {"Destination": "kim@example.org", "Isp": "Yahoo", "Events": events}
            ]
        )  # fmt: skip
    with aws_peer.in_account(PROD):
        aws_peer.suppress("kim@example.org", "BOUNCE", region=REGION)  # prod did not send this message
    deps = Deps.build(two_accounts, store=store)

    answer = run(deps, f"why {message_id} --json")

    [report] = answer["reports"]
    assert {f.get("account") for f in report["findings"] if f.get("region")} == {"staging"}
    assert report["verdict"] is None or report["verdict"]["check"] != "recipient.suppressed"
    assert answer["message"]["account"] == "staging"


def test_the_recipients_of_a_message_only_the_history_knows_are_judged_in_the_account_that_sent_it(
    aws_peer, two_accounts, store
):
    message_id = "010001812a3b4c5d-6e7f8a9b-0c1d-2e3f-4a5b-6c7d8e9f0a1b-000000"
    bounce = json.loads(blocklist_bounce(1, "kim@example.org", STAGING, datetime.now(UTC)))
    bounce["mail"]["messageId"] = message_id
    ingest_documents(store, [json.dumps(bounce)], origin="test")
    with aws_peer.in_account(PROD):
        aws_peer.suppress("kim@example.org", "BOUNCE", region=REGION)
    deps = Deps.build(two_accounts, store=store)

    answer = execute(CommandContext(deps=deps), parse(f"why {message_id}"))

    assert answer.title.endswith(f"sent in staging · {REGION}"), answer.title
    [report] = answer.reports
    assert {f.account for f in report.findings if f.region} == {"staging"}
    assert "recipient.suppressed" not in [f.check for f in report.problems]


def test_a_template_is_rendered_in_each_account_and_one_missing_is_named_with_its_account(
    aws_peer, two_accounts, store
):
    with aws_peer.in_account(STAGING):
        aws_peer.client("sesv2", REGION).create_email_template(
            TemplateName="welcome",
            TemplateContent={"Subject": "Hi {{name}}", "Text": "Hello {{name}}", "Html": "<p>{{name}}</p>"},
        )
    deps = Deps.build(two_accounts, store=store)
    findings = run(deps, 'template welcome {"name": "Ana"} --json')["findings"]
    rendered = {f["account"]: f["severity"] for f in findings if f.get("account")}
    assert rendered["staging"] == "ok" and rendered["prod"] != "ok"


def test_the_setup_inspection_cache_keeps_each_accounts_own(aws_peer, two_accounts, store):
    from bot.setup import inspect_cached

    with aws_peer.in_account(STAGING):
        aws_peer.client("sesv2", REGION).create_configuration_set(ConfigurationSetName="staging-only")
    prod, staging = Deps.build(two_accounts, store=store).accounts()
    assert "staging-only" not in inspect_cached(prod, REGION).config_sets
    assert "staging-only" in inspect_cached(staging, REGION).config_sets


def test_setup_inspects_each_account_and_applies_in_the_one_named(aws_peer, two_accounts, store):
    two_accounts.sqs_queue_urls = []
    two_accounts.sqs_queue_url = None
    deps = Deps.build(two_accounts, store=store)
    plan = run(deps, "setup --json")
    assert {f["account"] for f in plan["findings"]} == {"prod", "staging"}
    with pytest.raises(Exception, match="one account at a time: add `--account NAME` \\(prod, staging\\)"):
        run(deps, "setup --apply")
    run(deps, "setup --apply --account staging")
    queues = {}
    for account_id in (PROD, STAGING):
        with aws_peer.in_account(account_id):
            queues[account_id] = aws_peer.client("sqs", REGION).list_queues().get("QueueUrls", [])
    assert queues[PROD] == [] and len(queues[STAGING]) == 1
    assert f"/{STAGING}/" in queues[STAGING][0]


def test_with_several_accounts_the_forecast_counts_sends_from_cloudwatch(
    aws_peer, two_accounts, store, clock, slack_peer
):
    from tests.test_forecast import RISING

    deps, poster = alerting(two_accounts, store, clock, slack_peer)
    cw = deps.accounts("staging")[0].aws.get("cloudwatch", REGION)
    for hours_ago, value in zip(range(5, -1, -1), RISING, strict=True):
        at = clock.now - timedelta(hours=hours_ago)
        data = [
            {"MetricName": "Reputation.BounceRate", "Value": value, "Timestamp": at},
            {"MetricName": "Send", "Value": 150, "Timestamp": at},  # 900 sends in the 6 hours, as SES counts them
        ]
        cw.put_metric_data(Namespace="AWS/SES", MetricData=data)
    clock.tick()
    sweep(deps, poster)
    (parent,) = [c for c in slack_peer.calls_to("chat.postMessage") if not c.params.get("thread_ts")]
    shown = json.dumps(parent.params["blocks"], ensure_ascii=False)
    assert "Bounce rate 4.5% in staging · us-east-1" in shown
    assert "the review level (5%) in about" in shown, shown
