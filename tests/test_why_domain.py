"""`why @domain`: "nobody at outlook.com gets our mail", from the domain's history (SES notifications
ingested through the real ingest path), its MX on the local DNS peer and the account on the local AWS peer."""

from __future__ import annotations

import json
import textwrap
import uuid
from datetime import timedelta

import pytest

import bot.commands.why  # noqa: F401  (registers the command)
from bot.checks.domain_history import event_isp, isp_of_host
from bot.commands import CommandContext, Invocation, execute, parse
from bot.deps import Deps
from bot.findings import Finding, Report
from bot.store import Store, iso
from peers.slack import post_signed, slash_command_body
from tests.conftest import SIGNING_SECRET
from tests.test_cli import sesbot
from tests.test_why_message import SPAMHAUS, ZONE, _mail, bounce_doc, delivery_doc, example, ingest

WINDOW = "Looked at the last 30 days of the bot's event history."
AUTH = (
    "smtp; 550 5.7.515 Access denied, sending domain mail.example.com does not meet the required authentication level."
)
UNKNOWN = "smtp; 550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302)."
DOMAINS = """
outlook.com. IN MX 10 outlook-com.olc.protection.outlook.com.
outlook-com.olc.protection.outlook.com. IN A 52.101.8.38
acme.example. IN MX 1 aspmx.l.google.com.
aspmx.l.google.com. IN A 142.250.27.26
nomail.example. IN MX 0 .
"""
SUITE = {
    "account.sending",
    "account.sandbox",
    "recipient_domain.blocklist",
    "recipient_domain.events",
    "recipient.domain",
}


def _id() -> str:
    return f"0100018f{uuid.uuid4().hex[:8]}-{uuid.uuid4()}-000000"


@pytest.fixture
def world(aws_peer, dns_peer, deps) -> Deps:
    aws_peer.set_account(production_access=True)
    aws_peer.set_identity("mail.example.com", verified=True)
    dns_peer.load_zone_text(textwrap.dedent(ZONE) + textwrap.dedent(DOMAINS))
    return deps


def bounces(deps: Deps, domain: str, texts: list[str], *, hours_ago: float = 2, status: str = "5.7.1") -> None:
    now = deps.now()
    ingest(
        deps,
        *(
            bounce_doc(_id(), [f"user{i}@{domain}"], text, now - timedelta(hours=hours_ago, minutes=i), status=status)
            for i, text in enumerate(texts)
        ),
    )


def ses_deferrals(deps: Deps, domain: str, n: int, *, hours_ago: float = 1) -> None:
    """SendingDeferral delays: SES itself holding the mail (no receiving server's words)."""
    docs = []
    for i in range(n):
        at = deps.now() - timedelta(hours=hours_ago, minutes=i)
        doc = _mail(example("delayed-delivery"), _id(), [f"held{i}@{domain}"], at)
        doc["deliveryDelay"].update(
            timestamp=iso(at),
            delayType="SendingDeferral",
            expirationTime=iso(at + timedelta(hours=10)),
            delayedRecipients=[{"emailAddress": f"held{i}@{domain}"}],
        )
        docs.append(json.dumps(doc))
    ingest(deps, *docs)


def deliveries(deps: Deps, domain: str, n: int, *, hours_ago: float = 3) -> None:
    now = deps.now()
    ingest(deps, *(delivery_doc(_id(), [f"ok{i}@{domain}"], now - timedelta(hours=hours_ago)) for i in range(n)))


def ask(deps: Deps, text: str, via: str = "cli") -> Report:
    report = execute(CommandContext(deps=deps, via=via, user_id="U1"), parse(text))
    assert isinstance(report, Report)
    return report


def finding(report: Report, check: str) -> Finding:
    [f] = [f for f in report.findings if f.check == check]
    return f


# -- the domain's history --------------------------------------------------------------------------------


def test_bounces_at_a_domain_are_counted_by_category_and_isp_against_its_deliveries(world):
    bounces(world, "outlook.com", [AUTH, AUTH, AUTH, UNKNOWN])
    deliveries(world, "outlook.com", 2)

    report = ask(world, "why @outlook.com")

    assert (report.target, report.kind) == ("@outlook.com", "why")
    assert {f.check for f in report.findings} == SUITE
    events = finding(report, "recipient_domain.events")
    assert report.verdict is events
    assert events.severity.label == "error"
    assert events.summary == (
        "Only 33% of mail to @outlook.com was delivered in 30 days: 4 problem events (Bounce ×4), "
        "mostly authentication."
    )
    assert events.evidence[:4] == [
        "By type: Bounce ×4",
        "By category: authentication ×3, unknown_user ×1",
        "By receiving ISP: Microsoft ×4; the domain's ISP is Microsoft "
        "(from MX outlook-com.olc.protection.outlook.com)",
        "Counted: 0 sends, 2 deliveries; delivery rate 33% of deliveries + bounces (no Send events published)",
    ]
    assert events.evidence[-1] == WINDOW
    assert (events.data["by_category"], events.data["deliveries"], events.data["bounces"]) == (
        {"authentication": 3, "unknown_user": 1},
        2,
        4,
    )
    mx = finding(report, "recipient.domain")
    assert (mx.severity.label, mx.summary) == (
        "ok",
        "outlook.com receives mail: MX outlook-com.olc.protection.outlook.com (10).",
    )
    assert finding(report, "recipient_domain.blocklist").severity.label == "ok"
    stored = world.store.query("SELECT target, verdict_check FROM diagnoses")
    assert stored == [{"target": "@outlook.com", "verdict_check": "recipient_domain.events"}]


def test_nothing_delivered_to_a_domain_is_an_error_naming_the_main_refusal(world):
    bounces(world, "outlook.com", [AUTH, AUTH])

    events = finding(ask(world, "why @outlook.com"), "recipient_domain.events")

    assert events.severity.label == "error"
    assert events.summary == (
        "Nothing was delivered to @outlook.com in 30 days: 2 problem events (Bounce ×2), mostly authentication."
    )
    assert events.evidence[-2].startswith("Main refusal: authentication — ")


def test_unknown_users_at_a_domain_are_the_addresses_problem_not_the_domains(world):
    bounces(world, "outlook.com", [UNKNOWN, UNKNOWN, UNKNOWN], status="5.5.0")

    events = finding(ask(world, "why @outlook.com"), "recipient_domain.events")

    assert events.severity.label == "warning"
    assert events.summary.endswith("— a problem of the addresses, not of the domain.")
    assert "`why <address>`" in events.fix


def test_a_blocklist_bounce_at_the_domain_is_the_verdict_with_the_list_the_ip_and_the_delisting_link(world):
    bounces(world, "outlook.com", [SPAMHAUS, SPAMHAUS, UNKNOWN])
    deliveries(world, "outlook.com", 1, hours_ago=5)

    report = ask(world, "why @outlook.com")

    verdict = report.verdict
    assert (verdict.check, verdict.severity.label) == ("recipient_domain.blocklist", "error")
    assert verdict.summary.startswith("Mail to @outlook.com was refused ")
    assert verdict.summary.endswith("because the sending IP 54.240.8.10 is on zen.spamhaus.org (2 bounces in 30 days).")
    assert verdict.evidence[0].startswith(
        "zen.spamhaus.org (ip_blocklist), sending IP 54.240.8.10: 2 bounces to 2 addresses, latest "
    )
    assert "https://check.spamhaus.org/" in verdict.fix
    assert verdict.data["lists"][0]["count"] == 2
    # The history check sees the same refusals and leaves the verdict to the more specific cause.
    events = finding(report, "recipient_domain.events")
    assert events.severity.label == "warning"
    assert events.fix == "See recipient_domain.blocklist: the named list, the sending IP and how to delist."


def test_every_blocklist_bounce_of_the_window_is_counted_however_many_newer_bounces_there_are(world):
    bounces(world, "outlook.com", [SPAMHAUS] * 1200, hours_ago=48)
    bounces(world, "outlook.com", [UNKNOWN] * 1000, status="5.1.1")

    f = finding(ask(world, "why @outlook.com"), "recipient_domain.blocklist")

    assert f.severity.label == "error"
    assert f.summary.endswith("because the sending IP 54.240.8.10 is on zen.spamhaus.org (1200 bounces in 30 days).")
    assert f.evidence[0].startswith(
        "zen.spamhaus.org (ip_blocklist), sending IP 54.240.8.10: 1200 bounces to 1200 addresses, latest "
    )
    assert f.data["lists"][0]["count"] == 1200


def test_a_blocklist_bounce_older_than_a_delivery_to_the_domain_is_a_warning(world):
    bounces(world, "outlook.com", [SPAMHAUS], hours_ago=30)
    deliveries(world, "outlook.com", 3, hours_ago=2)

    f = finding(ask(world, "why @outlook.com"), "recipient_domain.blocklist")

    assert f.severity.label == "warning"
    assert f.summary.endswith("; mail to it has been delivered since.")


def test_ses_deferring_sending_is_not_counted_as_the_domains_refusal(world):
    ses_deferrals(world, "outlook.com", 3)
    bounces(world, "outlook.com", [AUTH])
    deliveries(world, "outlook.com", 2)

    events = finding(ask(world, "why @outlook.com"), "recipient_domain.events")

    assert events.data["by_category"] == {"authentication": 1}
    assert events.data["ses_deferred"] == 3
    assert "mostly authentication" in events.summary
    assert "3 deferred by SES itself, not refused" in events.summary
    assert any(line.startswith("Main refusal: authentication") for line in events.evidence)
    [deferred] = [line for line in events.evidence if line.startswith("SES deferred sending: ")]
    assert deferred.startswith("SES deferred sending: 3 SendingDeferral delays, the latest ")
    assert deferred.endswith(" — SES itself is holding the mail, not @outlook.com refusing it")


def test_ses_deferrals_alone_name_no_refusal_of_the_domain(world):
    ses_deferrals(world, "outlook.com", 2)

    events = finding(ask(world, "why @outlook.com"), "recipient_domain.events")

    assert not any(line.startswith("Main refusal") for line in events.evidence)
    assert "mostly" not in events.summary
    assert events.data["by_category"] == {}
    assert events.fix.startswith("Usually temporary; if it persists, check the account's sending status")


def test_mail_delivered_in_the_first_hour_of_the_window_is_counted_with_its_bounces(
    aws_peer, dns_peer, settings, store, clock
):
    world = Deps.build(settings, store=store, clock=clock)
    dns_peer.load_zone_text(textwrap.dedent(ZONE) + textwrap.dedent(DOMAINS))
    clock.tick(50)  # at HH:50: the window starts at HH:50 thirty days ago, the counters' hour at HH:00
    at = clock.now - timedelta(days=30) + timedelta(minutes=5)
    ingest(world, *(delivery_doc(_id(), [f"ok{i}@outlook.com"], at) for i in range(8)))
    ingest(world, *(bounce_doc(_id(), [f"user{i}@outlook.com"], UNKNOWN, at, status="5.5.0") for i in range(2)))

    events = finding(ask(world, "why @outlook.com"), "recipient_domain.events")

    assert (events.data["deliveries"], events.data["bounces"]) == (8, 2)
    assert not events.summary.startswith("Nothing was delivered")


def test_a_domain_with_only_deliveries_passes(world):
    deliveries(world, "outlook.com", 2)

    report = ask(world, "why @outlook.com")

    events = finding(report, "recipient_domain.events")
    assert (events.severity.label, events.summary) == (
        "ok",
        "2 deliveries to @outlook.com and no bounce, complaint or delay in 30 days.",
    )
    assert report.verdict is None


# -- its MX, its ISP, the account ------------------------------------------------------------------------


def test_a_domain_with_a_null_mx_is_the_verdict_and_an_empty_history_is_one_info_line(world):
    report = ask(world, "why @nomail.example")

    assert (report.verdict.check, report.verdict.severity.label) == ("recipient.domain", "critical")
    events = finding(report, "recipient_domain.events")
    assert (events.severity.label, events.summary) == (
        "info",
        "The bot has no events for @nomail.example in the last 30 days.",
    )
    assert "`sesbot setup`" in events.fix


def test_a_custom_domain_hosted_by_google_is_attributed_to_google_by_its_mx(world):
    bounces(world, "acme.example", [UNKNOWN])

    events = finding(ask(world, "why @acme.example"), "recipient_domain.events")

    assert events.data["isp"] == "Google"
    assert events.data["by_isp"] == {"Google": 1}
    assert "the domain's ISP is Google (from MX aspmx.l.google.com)" in events.evidence[2]


@pytest.mark.parametrize(
    ("host", "isp"),
    [
        ("gmail-smtp-in.l.google.com", "Google"),
        ("outlook-com.olc.protection.outlook.com", "Microsoft"),
        ("mta7.am0.yahoodns.net", "Yahoo"),
        ("mx01.mail.icloud.com", "Apple"),
        ("mx0a-001.pphosted.com.", "Proofpoint"),
        ("notgoogle.com", None),
        ("mx.example.com", None),
        (None, None),
    ],
)
def test_receiving_isps_are_read_from_host_name_suffixes(host, isp):
    assert isp_of_host(host) == isp


def test_a_bounce_text_naming_a_microsoft_host_is_microsofts_whatever_the_domain(world):
    row = {"diagnostic": "550 5.7.1 blocked [BN8NAM12FT033.eop-nam12.prod.protection.outlook.com]", "remote_mta": None}
    assert event_isp(row, "not identified") == "Microsoft"
    assert event_isp({"diagnostic": "550 5.1.1 user unknown"}, "not identified") == "not identified"


def test_the_sandbox_is_asked_about_the_bare_domain(aws_peer, world):
    aws_peer.set_account(production_access=False)

    report = ask(world, "why @outlook.com")

    assert (report.verdict.check, report.verdict.severity.label) == ("account.sandbox", "critical")
    assert report.verdict.summary.startswith(
        "The account is in the sandbox in us-east-1 and outlook.com is not a verified identity"
    )


def test_paused_sending_is_the_verdict_for_a_domain_too(aws_peer, world):
    aws_peer.set_account(sending_enabled=False)
    bounces(world, "outlook.com", [AUTH])

    report = ask(world, "why @outlook.com")

    assert (report.verdict.check, report.verdict.severity.label) == ("account.sending", "critical")


def test_with_two_regions_paused_sending_in_a_region_the_domains_mail_did_not_use_is_for_information(aws_peer, world):
    world.settings.regions = ["us-east-1", "eu-west-1"]
    aws_peer.set_account(region="eu-west-1", production_access=True, sending_enabled=False)
    aws_peer.set_identity("mail.example.com", verified=True, region="eu-west-1")
    bounces(world, "outlook.com", [SPAMHAUS])  # sourceArn: us-east-1

    report = ask(world, "why @outlook.com")

    assert report.verdict.check == "recipient_domain.blocklist"
    [paused] = [f for f in report.findings if f.check == "account.sending" and f.region == "eu-west-1"]
    assert paused.severity.label == "info"
    assert paused.summary.endswith("(In eu-west-1: the mail to @outlook.com the bot has seen went through us-east-1.)")


# -- Slack and the terminal ------------------------------------------------------------------------------


def test_slack_text_for_a_domain_is_understood(world):
    bounces(world, "outlook.com", [AUTH])
    typed = "@<http://outlook.com|outlook.com>"

    report = execute(CommandContext(deps=world, via="slack"), Invocation("why", [typed], typed))

    assert isinstance(report, Report)
    assert report.target == "@outlook.com"


def test_the_terminal_prints_the_domain_report_as_json(aws_peer, dns_peer, tmp_path):
    aws_peer.set_account(production_access=True)
    dns_peer.load_zone_text(textwrap.dedent(DOMAINS))
    db = tmp_path / "s.db"
    Store(str(db)).close()
    env = {
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": aws_peer.endpoint_url,
        "SESBOT_DB": str(db),
        "SESBOT_DNS_SERVERS": f"{dns_peer.host}:{dns_peer.port}",
        "SESBOT_DNS_TIMEOUT": "0.3",
    }

    out = sesbot("why", "@nomail.example", "--json", env=env)

    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert set(report) == {"target", "kind", "region", "verdict", "findings", "elapsed_ms"}
    assert (report["target"], report["kind"], report["verdict"]["check"]) == (
        "@nomail.example",
        "why",
        "recipient.domain",
    )
    assert {f["check"] for f in report["findings"]} == SUITE


@pytest.mark.parametrize("arg", ["@", "@not_a_domain", "@@outlook.com"])
def test_a_bad_domain_is_one_line_and_exit_code_2(arg, tmp_path):
    out = sesbot("why", arg, env={"AWS_REGION": "us-east-1", "SESBOT_DB": str(tmp_path / "s.db")})
    assert (out.returncode, out.stdout) == (2, "")
    [line] = out.stderr.splitlines()
    assert line.startswith("sesbot: `")
    assert "is not an email address, @domain or SES message id" in line


def test_ses_why_at_domain_in_slack_answers_with_the_domains_diagnosis(world, bot_server, slack_peer):
    bounces(world, "outlook.com", [SPAMHAUS])
    body = slash_command_body("why @outlook.com", response_url=slack_peer.response_url("dom"))

    status, _ = post_signed(bot_server.events_url, body, SIGNING_SECRET)

    assert status == 200
    answer = slack_peer.wait_for_response("dom", timeout=30)
    assert answer["blocks"][0]["text"]["text"] == "Diagnosis: @outlook.com"
    assert "`recipient_domain.blocklist`" in json.dumps(answer["blocks"])
