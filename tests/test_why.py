"""The whole `why` diagnosis: every check at once on the demo world, peers that fail, and bad input.

The world is `peers.scenario` (the demo's): one recipient per cause, on the local AWS and DNS peers and
SES events ingested through the real ingest path.
"""

from __future__ import annotations

import importlib
import random
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

import bot.commands.why  # noqa: F401  (registers the command)
from bot.checks import Check, checks_for
from bot.commands import CommandContext, Invocation, execute, parse
from bot.deps import Deps
from bot.findings import Answer, Report
from bot.ingest import ingest_documents
from bot.runner import run_checks
from bot.target import UsageError
from peers import scenario
from tests.conftest import REGION, bounce_doc
from tests.test_checks_recipient_history import rendering_failure

MINE = {
    "account.sandbox",
    "account.sending",
    "account.quota",
    "sender.identity",
    "recipient.suppressed",
    "recipient.bounces",
    "recipient.blocklist",
    "recipient.complaints",
    "recipient.delays",
    "recipient.rejects",
    "recipient.rendering",
    "recipient.domain",
}
EXAMPLES = "`why user@example.com`, `why @example.com` or `why 010001812a3b4c5d-…-000000` (an SES message id)"
AWS_CHECKS = {"account.sandbox", "account.sending", "account.quota", "sender.identity", "recipient.suppressed"}
R = scenario.RECIPIENTS


@pytest.fixture
def why_checks() -> list[Check]:
    """The full `why` registry, every check module imported."""
    importlib.import_module("bot.checks.all")
    return checks_for("why")


@pytest.fixture
def world(aws_peer, dns_peer, deps) -> Deps:
    """The demo's account, DNS and event history, in production (each recipient has its own cause)."""
    now = datetime.now(UTC)
    scenario.setup_aws(aws_peer, now)
    scenario.setup_dns(dns_peer)
    scenario.go_to_production(aws_peer)
    result = ingest_documents(deps.store, scenario.events(now), origin="test")
    assert result.quarantined == 0
    return deps


def diagnose(deps: Deps, target: str, checks: list[Check]) -> Report:
    report, _ = run_checks(deps, target, checks=checks)
    return report


def my_problems(report: Report) -> list[tuple[str, str]]:
    return [(f.check, f.severity.label) for f in report.problems if f.check in MINE]


# -- the right verdict first -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recipient", "verdict", "problems"),
    [
        (
            R["suppressed"],
            "recipient.suppressed",
            [("recipient.suppressed", "critical"), ("recipient.bounces", "critical")],
        ),
        (R["hard_bounce"], "recipient.bounces", [("recipient.bounces", "critical")]),
        (
            R["blocklist"],
            "recipient.blocklist",
            [("recipient.blocklist", "error"), ("recipient.bounces", "warning")],
        ),
        (R["null_mx"], "recipient.domain", [("recipient.domain", "critical")]),
    ],
)
def test_each_demo_recipient_gets_its_own_cause_as_the_verdict(world, why_checks, recipient, verdict, problems):
    report = diagnose(world, recipient, why_checks)
    assert report.verdict is not None
    assert report.verdict.check == verdict
    assert my_problems(report) == problems


def test_a_healthy_recipient_has_no_problem_from_these_checks(world, why_checks):
    report = diagnose(world, R["healthy"], why_checks)
    assert my_problems(report) == []
    passed = {f.check for f in report.passed}
    assert MINE <= passed


def test_the_sandbox_is_the_verdict_until_production_access(aws_peer, world, why_checks):
    aws_peer.set_account(production_access=False, review_status="PENDING")
    report = diagnose(world, R["sandbox"], why_checks)
    assert (report.verdict.check, report.verdict.severity.label) == ("account.sandbox", "critical")
    assert my_problems(report) == [("account.sandbox", "critical")]


def test_the_json_shape_names_the_verdict(world, why_checks):
    out = diagnose(world, R["hard_bounce"], why_checks).as_dict()
    assert (out["target"], out["region"], out["verdict"]["check"]) == (
        R["hard_bounce"],
        "us-east-1",
        "recipient.bounces",
    )
    assert set(out["findings"][0]) >= {"check", "severity", "summary", "evidence", "fix"}


# -- peers that fail ---------------------------------------------------------------------------------


def test_a_slow_aws_peer_gives_could_not_check_findings_and_the_history_still_answers(aws_peer, world, why_checks):
    world.settings.check_timeout = 0.5
    aws_peer.set_delay(1.5)
    try:
        report = diagnose(world, R["hard_bounce"], why_checks)
    finally:
        # The answer did not wait for the checks that overran their timeout: they are left to finish on their own
        # (bot/runner.py). Let the peer answer at once again and wait for them, so none outlives this test.
        aws_peer.set_delay(0)
        stragglers = [t for t in threading.enumerate() if t.name.startswith("check_")]
        deadline = time.monotonic() + 30  # a guard against a hang, not a time budget
        for t in stragglers:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
    assert [t.name for t in stragglers if t.is_alive()] == [], "checks of the answer are still running"
    assert aws_peer.wait_idle(), "the AWS peer is still answering a call of a check that timed out"
    unchecked = {f.check for f in report.findings if f.data.get("could_not_check")}
    assert AWS_CHECKS <= unchecked
    for f in report.findings:
        if f.check in AWS_CHECKS:
            assert f.summary == f"Could not check {f.check}: no answer within 0.5 s"
    # The verdict is a cause that was actually checked, not a check that could not run.
    assert (report.verdict.check, report.verdict.severity.label) == ("recipient.bounces", "critical")


def test_a_down_aws_endpoint_gives_could_not_check_findings(dns_peer, world, why_checks):
    world.settings.aws_endpoint_url = "http://127.0.0.1:9"  # nothing listens there
    world.settings.check_timeout = 1.0
    report = diagnose(world, R["null_mx"], why_checks)
    for f in report.findings:
        if f.check in AWS_CHECKS:
            assert f.data.get("could_not_check") is True
            assert f.summary.startswith(f"Could not check {f.check}: ")
    assert report.verdict.check == "recipient.domain"


def test_a_dns_timeout_is_the_resolvers_failure_not_the_domains(dns_peer, world, why_checks):
    dns_peer.fault("example.org", "timeout")
    report = diagnose(world, R["hard_bounce"], why_checks)
    [domain] = [f for f in report.findings if f.check == "recipient.domain"]
    assert domain.data == {"could_not_check": True}
    assert domain.summary.startswith("Could not check recipient.domain: DNS lookup failed: the resolver did not")
    assert report.verdict.check == "recipient.bounces"


# -- the command -------------------------------------------------------------------------------------


def ask(deps: Deps, text: str) -> Report | Answer:
    return execute(CommandContext(deps=deps, via="cli", user_id="U1"), parse(text))


def test_why_gives_the_report_and_stores_the_diagnosis(world, why_checks):
    report = ask(world, f"why {R['suppressed']}")
    assert isinstance(report, Report)
    assert report.verdict.check == "recipient.suppressed"
    rows = world.store.query("SELECT command, target, verdict_check, user_id FROM diagnoses")
    assert rows == [
        {
            "command": f"why {R['suppressed']}",
            "target": R["suppressed"],
            "verdict_check": "recipient.suppressed",
            "user_id": "U1",
        }
    ]


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"])
def test_an_invisible_character_in_the_address_is_removed_and_the_answer_says_so(world, why_checks, invisible):
    local, _, domain = R["suppressed"].partition("@")
    report = ask(world, f"why {local}{invisible}@{domain}")
    assert (report.target, report.verdict.check) == (R["suppressed"], "recipient.suppressed")
    [note] = [f for f in report.findings if f.check == "recipient.address"]
    code = f"U+{ord(invisible):04X}"
    assert note.evidence == [
        f"An invisible character {code} was removed (text copied from a web page or a mail client carries them)"
    ]
    assert f"an invisible character {code} was removed" in note.summary


def test_an_address_whose_local_part_is_not_ascii_is_one_ses_cannot_send_to(world, why_checks):
    report = ask(world, "why jöhn@example.com")
    assert (report.target, report.verdict.check, report.verdict.severity.label) == (
        "jöhn@example.com",
        "recipient.address",
        "critical",
    )
    assert "not 7-bit ASCII" in report.verdict.summary
    assert report.verdict.evidence[0] == "In the local part: ö U+00F6 (not ASCII)"
    assert report.verdict.fix.endswith("https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_Destination.html")


def test_an_internationalised_domain_is_no_problem_for_the_address_check(world, why_checks):
    report = ask(world, "why jane@bücher.de")
    assert [f for f in report.findings if f.check == "recipient.address"] == []


def test_slack_mailto_formatting_is_understood(world, why_checks):
    report = ask(world, f"why <mailto:{R['hard_bounce']}|{R['hard_bounce']}>")
    assert (report.target, report.verdict.check) == (R["hard_bounce"], "recipient.bounces")


def test_several_addresses_are_diagnosed_together_one_section_each(world, why_checks):
    answer = ask(world, f"why {R['null_mx']} {R['hard_bounce']}, {R['null_mx']}")
    assert isinstance(answer, Answer)
    assert [r["target"] for r in answer.data["reports"]] == [R["null_mx"], R["hard_bounce"]]
    assert [r["verdict"]["check"] for r in answer.data["reports"]] == ["recipient.domain", "recipient.bounces"]
    assert [heading.split(": ", 1)[0] for heading, _ in answer.sections] == [R["null_mx"], R["hard_bounce"]]
    assert answer.sections[0][0].startswith(f"{R['null_mx']}: critical — nomail.example publishes a null MX")
    assert answer.severity.label == "critical"
    stored = world.store.query("SELECT target, verdict_check FROM diagnoses ORDER BY id")
    assert sorted((r["target"], r["verdict_check"]) for r in stored) == [
        (R["hard_bounce"], "recipient.bounces"),
        (R["null_mx"], "recipient.domain"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], f"give an email address, @domain or SES message id, like {EXAMPLES}"),
        (["not-an-address"], f"`not-an-address` is not an email address, @domain or SES message id; try {EXAMPLES}"),
        (["a@b"], f"`a@b` is not an email address, @domain or SES message id; try {EXAMPLES}"),
        (["x" * 5000 + "@example.com"], "that is 5012 characters, too long for an email address (max 254)"),
        (
            ["a@example.com", "b@example.com", "c@example.com", "d@example.com"],
            "that is 4 addresses; `why` diagnoses up to 3 at a time",
        ),
    ],
)
def test_bad_input_gets_a_one_line_usage_error(deps, args, message):
    inv = Invocation("why", args, " ".join(args))
    with pytest.raises(UsageError) as err:
        execute(CommandContext(deps=deps, via="slack"), inv)
    assert str(err.value) == message
    assert deps.store.query("SELECT count(*) AS n FROM diagnoses") == [{"n": 0}]


def test_an_oversized_command_line_is_refused_before_anything_runs():
    with pytest.raises(UsageError, match="limit is 4000"):
        parse("why " + "a" * 5000 + "@example.com")


# -- what the account does not have ------------------------------------------------------------------


def test_capabilities_the_account_lacks_are_one_info_line_each_and_the_rest_of_the_report_stays(
    aws_peer, world, why_checks
):
    aws_peer.set_account(vdm_enabled=False)
    for operation in ("ListTenants", "ListResourceTenants", "GetTenant"):
        aws_peer.fail(operation, code="AccessDeniedException", status=403, count=None)
    report = diagnose(world, R["healthy"], why_checks)
    absent = {f.check: f for f in report.findings if f.data.get("available") is False}
    assert sorted(absent) == ["sender.advisor", "tenant.status"]
    for f in absent.values():
        assert f.severity.label == "info"
        assert [g.check for g in report.findings].count(f.check) == 1
        assert f.summary.endswith("is not available on this account in us-east-1.")
        assert f.fix
    assert "Virtual Deliverability Manager" in absent["sender.advisor"].fix
    assert "ses:ListTenants" in absent["tenant.status"].fix
    assert my_problems(report) == []
    assert MINE <= {f.check for f in report.passed}


def test_a_hard_bounce_naming_spamhaus_puts_the_blocklist_cause_first_in_the_whole_diagnosis(world, why_checks):
    text = (
        "smtp; 554 5.7.1 Service unavailable; Client host [198.51.100.23] blocked using zen.spamhaus.org; "
        "https://www.spamhaus.org/query/ip/198.51.100.23"
    )
    doc = scenario.bounce(
        datetime.now(UTC),
        "buyer@example.com",
        kind="Permanent",
        sub="General",
        status="5.7.1",
        diagnostic=text,
        rng=random.Random(3),
    )
    assert ingest_documents(world.store, [doc], origin="test").ingested == 1
    report = diagnose(world, "buyer@example.com", why_checks)
    assert report.verdict is not None
    assert (report.verdict.check, report.verdict.severity.label) == ("recipient.blocklist", "critical")
    assert "zen.spamhaus.org" in report.verdict.summary and "198.51.100.23" in report.verdict.summary
    assert "https://check.spamhaus.org/" in report.verdict.fix
    # The bounce is the blocklist's evidence, not a second verdict beside it.
    assert [f.severity.label for f in report.findings if f.check == "recipient.bounces"] == ["info"]


def test_an_address_a_blocklist_bounce_suppressed_gets_the_listing_as_the_verdict_and_the_entry_after_it(
    aws_peer, world, why_checks
):
    now = datetime.now(UTC)
    text = "smtp; 554 5.7.1 Service unavailable; Client host [198.51.100.23] blocked using zen.spamhaus.org"
    doc = scenario.bounce(
        now, "buyer@example.com", kind="Permanent", sub="General", status="5.7.1", diagnostic=text, rng=random.Random(3)
    )
    ingest_documents(world.store, [doc], origin="test")
    aws_peer.suppress("buyer@example.com", "BOUNCE", last_update=now)
    report = diagnose(world, "buyer@example.com", why_checks)
    assert report.verdict is not None and report.verdict.check == "recipient.blocklist"
    [suppressed] = [f for f in report.problems if f.check == "recipient.suppressed"]
    assert suppressed.fix.startswith("Clear the listing first")


def test_a_send_that_never_left_ses_comes_before_an_account_under_review_where_mail_still_goes_out(
    aws_peer, world, why_checks
):
    aws_peer.set_account(enforcement_status="PROBATION")
    recipient = R["healthy"]
    failed = rendering_failure(recipient, datetime.now(UTC) - timedelta(minutes=5), "WelcomeEmail", "first_name")
    ingest_documents(world.store, [failed], origin="test")
    report = diagnose(world, recipient, why_checks)
    assert (report.verdict.check, report.verdict.severity.label) == ("recipient.rendering", "critical")
    assert ("account.sending", "error") in [(f.check, f.severity.label) for f in report.problems]


def test_with_two_regions_a_problem_in_the_region_the_mail_did_not_use_is_told_for_information(
    aws_peer, deps, dns_peer, why_checks
):
    deps.settings.regions = [REGION, "eu-west-1"]
    scenario.setup_dns(dns_peer)
    aws_peer.set_account(region=REGION, production_access=True)
    aws_peer.set_identity("mail.example.com", region=REGION, verified=True)
    aws_peer.set_account(region="eu-west-1", production_access=False)  # eu-west-1 is in the sandbox
    aws_peer.set_identity("mail.example.com", region="eu-west-1", verified=True)
    gone = "ok@example.com"
    bounce = bounce_doc(1, gone, "smtp; 550 5.1.1 <ok@example.com>: user unknown", datetime.now(UTC))
    ingest_documents(deps.store, [bounce], origin="test")  # its sourceArn: us-east-1

    report = ask(deps, f"why {gone}")
    assert isinstance(report, Report)
    assert report.verdict.check == "recipient.bounces"
    sandbox = next(f for f in report.findings if f.check == "account.sandbox" and f.region == "eu-west-1")
    assert sandbox.severity.label == "info"
    assert sandbox.summary.endswith(f"(In eu-west-1: the mail to {gone} the bot has seen went through {REGION}.)")
