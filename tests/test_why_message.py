"""`why <message-id>`: one SES message, from the bot's history and from VDM's message insights, then each
recipient's verdict; against the local AWS and DNS peers, with SES's own notifications ingested.

The documents are the AWS Developer Guide's event-publishing examples (tests/data/ses-notifications/, from
../shared/corpus/) with the message id, recipients, times and diagnostic texts of each scenario.
"""

from __future__ import annotations

import copy
import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import bot.commands.why  # noqa: F401  (registers the command)
from bot.commands import CommandContext, Invocation, execute, parse
from bot.deps import Deps
from bot.findings import Answer, Report
from bot.ingest import ingest_documents
from bot.store import Store, iso
from bot.target import UsageError, parse_why_target
from peers.slack import post_signed, slash_command_body
from tests.conftest import SIGNING_SECRET
from tests.test_cli import sesbot

DATA = Path(__file__).parent / "data" / "ses-notifications"
MESSAGE_ID = "010001812a3b4c5d-6e7f8a9b-0c1d-2e3f-4a5b-6c7d8e9f0a1b-000000"
OTHER_ID = "0100018f00000000-11111111-2222-3333-4444-555555555555-000000"
SENDER = "news@mail.example.com"
JO = "jo@example.com"
SPAMHAUS = (
    "smtp; 554 5.7.1 Service unavailable; Client host [54.240.8.10] blocked using zen.spamhaus.org; "
    "https://www.spamhaus.org/query/ip/54.240.8.10"
)
UNKNOWN_USER = "smtp; 550 5.1.1 <jo@example.com>: Recipient address rejected: User unknown in virtual mailbox table"
VDM_LINE = (
    "Message insights need Virtual Deliverability Manager, which is off in us-east-1. Virtual Deliverability "
    "Manager turns this on: `aws sesv2 put-account-vdm-attributes --vdm-attributes VdmEnabled=ENABLED` "
    "(https://docs.aws.amazon.com/ses/latest/dg/vdm.html)"
)
ZONE = """
mail.example.com. IN MX 10 inbound-smtp.us-east-1.amazonaws.com.
mail.example.com. IN TXT "v=spf1 include:amazonses.com ~all"
_dmarc.mail.example.com. IN TXT "v=DMARC1; p=none"
inbound-smtp.us-east-1.amazonaws.com. IN A 203.0.113.10
example.com. IN MX 10 mx.example.com.
mx.example.com. IN A 203.0.113.20
example.org. IN MX 10 mx.example.org.
mx.example.org. IN A 203.0.113.21
"""


# -- SES documents: the guide's examples, re-addressed -------------------------------------------------


def example(name: str) -> dict[str, Any]:
    """One of the AWS Developer Guide's event-publishing examples, as SNS delivers it."""
    return json.loads((DATA / f"awsdocs-evt-sns-event-publishing-retrieving-sns-{name}.json").read_text())


def _mail(doc: dict[str, Any], message_id: str, recipients: list[str], at: datetime) -> dict[str, Any]:
    doc["mail"].update(
        messageId=message_id,
        timestamp=iso(at - timedelta(seconds=2)),
        source=SENDER,
        sourceArn="arn:aws:ses:us-east-1:123456789012:identity/mail.example.com",
        destination=recipients,
    )
    doc["mail"]["commonHeaders"] = {**doc["mail"].get("commonHeaders", {}), "messageId": message_id}
    return doc


def bounce_doc(message_id: str, recipients: list[str], diagnostic: str, at: datetime, status: str = "5.1.1") -> str:
    doc = _mail(example("bounce"), message_id, recipients, at)
    entry = doc["bounce"]["bouncedRecipients"][0]
    doc["bounce"].update(
        timestamp=iso(at),
        feedbackId=f"feedback-{message_id}-{iso(at)}",
        bouncedRecipients=[
            {**copy.deepcopy(entry), "emailAddress": r, "diagnosticCode": diagnostic, "status": status}
            for r in recipients
        ],
    )
    return json.dumps(doc)


def delivery_doc(message_id: str, recipients: list[str], at: datetime) -> str:
    doc = _mail(example("delivery"), message_id, recipients, at)
    doc["delivery"].update(timestamp=iso(at), recipients=recipients)
    return json.dumps(doc)


def ingest(deps: Deps, *docs: str) -> None:
    result = ingest_documents(deps.store, list(docs), origin="test")
    assert result.quarantined == 0


# -- the world -----------------------------------------------------------------------------------------


@pytest.fixture
def world(aws_peer, dns_peer, deps) -> Deps:
    """An account in production with a verified sender domain; recipients' domains that receive mail."""
    aws_peer.set_account(production_access=True)
    aws_peer.set_identity("mail.example.com", verified=True)
    dns_peer.load_zone_text(textwrap.dedent(ZONE))
    return deps


def ask(deps: Deps, text: str, via: str = "cli") -> Report | Answer:
    return execute(CommandContext(deps=deps, via=via, user_id="U1"), parse(text))


def spamhaus_insights(now: datetime, recipient: str = JO) -> list[dict[str, Any]]:
    return [
        {
            "Destination": recipient,
            "Isp": "Gmail",
            "Events": [
                {"Timestamp": now - timedelta(minutes=10, seconds=2), "Type": "SEND"},
                {
                    "Timestamp": now - timedelta(minutes=10),
                    "Type": "BOUNCE",
                    "Details": {
                        "Bounce": {"BounceType": "PERMANENT", "BounceSubType": "General", "DiagnosticCode": SPAMHAUS}
                    },
                },
            ],
        }
    ]


def message_lines(answer: Answer) -> list[str]:
    heading, lines = answer.sections[0]
    assert heading == "Message"
    return lines


# -- from the history alone -------------------------------------------------------------------------------


def test_a_message_id_is_diagnosed_from_the_history_alone_with_one_line_saying_vdm_is_off(aws_peer, world):
    now = world.now()
    ingest(world, bounce_doc(MESSAGE_ID, [JO], UNKNOWN_USER, now - timedelta(hours=2)))

    answer = ask(world, f"why {MESSAGE_ID}")

    assert isinstance(answer, Answer)
    assert (answer.kind, answer.severity.label) == ("why", "critical")
    assert answer.title == f"Message {MESSAGE_ID}: 1 recipient, sent in us-east-1"
    lines = message_lines(answer)
    assert lines[:4] == [
        f"From: {SENDER}",
        "Tags: ses:configuration-set=ConfigSet",
        "Known from: 1 event in the bot's history",
        f"Recipients: {JO}",
    ]
    [timeline] = [line for line in lines if "Bounce" in line]
    assert timeline.endswith(f'{JO}: Bounce Permanent/General, unknown_user, status 5.1.1: "{UNKNOWN_USER}"')
    assert lines.count(VDM_LINE) == 1
    assert aws_peer.calls_to("GetMessageInsights") == []  # VDM off: the rate-limited call is not made

    heading, fix = answer.sections[1]
    assert heading.startswith(f"{JO}: critical — {JO} hard-bounced ")
    assert [r.verdict.check for r in answer.reports] == ["recipient.bounces"]
    message = answer.data["message"]
    assert (message["found"], message["insights"]["status"], message["history"]) == (
        True,
        "vdm_disabled",
        {"events": 1, "window_days": 90},
    )
    assert [e["category"] for e in message["events"]] == ["unknown_user"]
    # the stored event says which rule decided its category, and how sure
    assert [(e["rule"], e["confidence"]) for e in message["events"]] == [("unknown-user", "high")]
    assert [r["target"] for r in answer.data["reports"]] == [JO]
    stored = world.store.query("SELECT command, target, verdict_check FROM diagnoses")
    assert stored == [{"command": f"why {MESSAGE_ID}", "target": JO, "verdict_check": "recipient.bounces"}]


def test_the_timeline_shows_a_complaints_subtype(world):
    at = world.now() - timedelta(hours=1)
    doc = _mail(example("complaint"), MESSAGE_ID, [JO], at)
    doc["complaint"].update(
        timestamp=iso(at),
        feedbackId="feedback-suppressed",
        complainedRecipients=[{"emailAddress": JO}],
        complaintSubType="OnAccountSuppressionList",
    )
    doc["complaint"].pop("complaintFeedbackType", None)
    ingest(world, json.dumps(doc))

    answer = ask(world, f"why {MESSAGE_ID}")

    [timeline] = [line for line in message_lines(answer) if "Complaint" in line]
    assert timeline.endswith(f"{JO}: Complaint, subtype OnAccountSuppressionList")
    assert [e.get("complaint_subtype") for e in answer.data["message"]["events"]] == ["OnAccountSuppressionList"]


def test_a_message_with_more_than_three_recipients_diagnoses_three_and_names_the_rest(world):
    now = world.now()
    people = [f"p{i}@example.org" for i in range(5)]
    ingest(world, bounce_doc(MESSAGE_ID, people, "smtp; 550 5.1.1 user unknown", now - timedelta(hours=1)))

    answer = ask(world, f"why {MESSAGE_ID}")

    assert [r.target for r in answer.reports] == people[:3]
    assert [h.split(":")[0] for h, _ in answer.sections[1:]] == people[:3]
    assert (
        "2 more recipients not diagnosed here (at most 3 at a time): p3@example.org, p4@example.org; "
        "ask `why p3@example.org`." in message_lines(answer)
    )
    assert (answer.data["message"]["diagnosed"], answer.data["message"]["more_recipients"]) == (people[:3], 2)


# -- with Virtual Deliverability Manager ------------------------------------------------------------------


def test_with_vdm_on_the_insights_give_the_isp_subject_and_the_bounce_classified_as_a_blocklist(aws_peer, world):
    now = world.now()
    aws_peer.set_account(vdm_enabled=True)
    aws_peer.add_message_insights(
        MESSAGE_ID,
        from_address=SENDER,
        subject="Your weekly digest",
        tags=[{"Name": "campaign", "Value": "weekly"}],
        insights=spamhaus_insights(now),
    )
    # SES also published the bounce: the history's copy and VDM's are one event in the timeline.
    ingest(world, bounce_doc(MESSAGE_ID, [JO], SPAMHAUS, now - timedelta(minutes=10), status="5.7.1"))

    answer = ask(world, f"why {MESSAGE_ID}")

    lines = message_lines(answer)
    assert lines[:5] == [
        f"From: {SENDER}",
        "Subject: Your weekly digest",
        "Tags: campaign=weekly, ses:configuration-set=ConfigSet",
        "Known from: message insights in us-east-1 and 1 event in the bot's history",
        f"Recipients: {JO} (Gmail)",
    ]
    events = answer.data["message"]["events"]
    assert [(e["type"], e["sources"]) for e in events] == [("Send", ["insights"]), ("Bounce", ["insights", "history"])]
    bounce = events[1]
    assert (bounce["isp"], bounce["category"], bounce["blocklist"], bounce["bounce_type"]) == (
        "Gmail",
        "ip_blocklist",
        "zen.spamhaus.org",
        "Permanent",
    )
    assert bounce["sending_ip"] == "54.240.8.10"  # the history's detail, merged in
    assert (bounce["rule"], bounce["confidence"]) == ("named-ip-list", "high")
    [line] = [x for x in lines if "Bounce" in x]
    assert f"{JO} (Gmail): Bounce Permanent/General, ip_blocklist (zen.spamhaus.org), status 5.7.1:" in line
    assert not any("Virtual Deliverability Manager" in x for x in lines)
    assert len(aws_peer.calls_to("GetMessageInsights")) == 1
    assert answer.data["message"]["insights"]["status"] == "found"
    assert answer.data["message"]["recipients"] == [{"address": JO, "isp": "Gmail"}]
    assert answer.reports[0].verdict.check == "recipient.blocklist"


def test_a_delivered_message_only_vdm_knows_shows_its_whole_timeline(aws_peer, world):
    now = world.now()
    aws_peer.set_account(vdm_enabled=True)
    insights = [
        {
            "Destination": "kim@example.org",
            "Isp": "Yahoo",
            "Events": [
                {"Timestamp": now - timedelta(hours=3, seconds=1), "Type": "SEND"},
                {"Timestamp": now - timedelta(hours=3), "Type": "DELIVERY"},
                {"Timestamp": now - timedelta(hours=2), "Type": "OPEN"},
            ],
        }
    ]
    aws_peer.add_message_insights(MESSAGE_ID, from_address=SENDER, subject="Hello", insights=insights)

    answer = ask(world, f"why {MESSAGE_ID}")

    events = answer.data["message"]["events"]
    assert [(e["type"], e["recipient"], e["isp"]) for e in events] == [
        ("Send", "kim@example.org", "Yahoo"),
        ("Delivery", "kim@example.org", "Yahoo"),
        ("Open", "kim@example.org", "Yahoo"),
    ]
    assert answer.data["message"]["history"]["events"] == 0
    assert [r.target for r in answer.reports] == ["kim@example.org"]


def test_a_message_the_history_knows_and_vdm_does_not_says_so_in_one_line(aws_peer, world):
    aws_peer.set_account(vdm_enabled=True)
    ingest(world, bounce_doc(MESSAGE_ID, [JO], UNKNOWN_USER, world.now() - timedelta(hours=2)))

    answer = ask(world, f"why {MESSAGE_ID}")

    lines = message_lines(answer)
    assert "Message insights: not found in us-east-1." in lines
    assert not any("Virtual Deliverability Manager" in x for x in lines)
    assert answer.data["message"]["insights"]["status"] == "not_found"
    assert [r.verdict.check for r in answer.reports] == ["recipient.bounces"]


def test_access_denied_on_message_insights_is_one_info_line_and_the_history_still_answers(aws_peer, world):
    now = world.now()
    aws_peer.set_account(vdm_enabled=True)
    aws_peer.fail("GetMessageInsights", code="AccessDeniedException", status=403)
    ingest(world, bounce_doc(MESSAGE_ID, [JO], UNKNOWN_USER, now - timedelta(hours=2)))

    answer = ask(world, f"why {MESSAGE_ID}")

    lines = message_lines(answer)
    denied = [x for x in lines if "access denied" in x]
    assert denied == [
        "Message insights could not be read in us-east-1: access denied. Allow `ses:GetMessageInsights` for "
        "the bot's IAM role or user (see the README's IAM policy)."
    ]
    assert answer.data["message"]["insights"]["status"] == "access_denied"
    assert [r.verdict.check for r in answer.reports] == ["recipient.bounces"]


# -- ids known nowhere, the SMTP form, other regions -------------------------------------------------------


def test_an_unknown_message_id_says_where_it_looked_and_what_to_check(aws_peer, world):
    aws_peer.set_account(vdm_enabled=True)

    answer = ask(world, f"why {OTHER_ID}")

    assert isinstance(answer, Answer)
    assert (answer.title, answer.severity.label, answer.reports) == (f"Message {OTHER_ID}: not found", "info", [])
    assert answer.sections[0] == (
        "Where I looked",
        [
            "Event history: no event with this id in the last 90 days (the history keeps bounces, complaints, "
            "delays, rejects and rendering failures; a delivered message leaves none).",
            "us-east-1: GetMessageInsights: not found",
        ],
    )
    heading, check = answer.sections[1]
    assert heading == "What to check"
    assert [line.split(":")[0] for line in check] == ["The id", "The region", "Event publishing"]
    assert "SESBOT_REGIONS" in check[1] and "`sesbot setup`" in check[2]
    assert answer.data == {
        "message": answer.data["message"],
        "reports": [],
    }
    assert answer.data["message"]["found"] is False
    assert world.store.query("SELECT count(*) AS n FROM diagnoses") == [{"n": 0}]


def test_an_unknown_id_with_vdm_off_names_vdm_in_one_line(world):
    answer = ask(world, f"why {OTHER_ID}")
    looked = answer.sections[0][1]
    assert looked[1:] == [VDM_LINE]


def test_the_smtp_form_of_a_message_id_finds_the_same_message(world):
    now = world.now()
    ingest(world, bounce_doc(MESSAGE_ID, [JO], UNKNOWN_USER, now - timedelta(hours=2)))

    for typed in (
        f"<{MESSAGE_ID}@email.amazonses.com>",
        f"<mailto:{MESSAGE_ID}@email.amazonses.com|{MESSAGE_ID}@email.amazonses.com>",
    ):
        answer = execute(CommandContext(deps=world, via="slack"), Invocation("why", [typed], typed))
        assert answer.data["message"]["message_id"] == MESSAGE_ID
        assert [r.target for r in answer.reports] == [JO]


def test_the_region_an_smtp_form_id_names_is_asked_even_when_the_bot_watches_another(aws_peer, world):
    now = world.now()
    aws_peer.set_account(region="eu-west-1", vdm_enabled=True)
    aws_peer.add_message_insights(
        MESSAGE_ID, from_address=SENDER, subject="Bonjour", insights=spamhaus_insights(now), region="eu-west-1"
    )

    answer = ask(world, f"why <{MESSAGE_ID}@eu-west-1.amazonses.com>")

    assert answer.title == f"Message {MESSAGE_ID}: 1 recipient, sent in eu-west-1"
    assert [(c.region, c.operation) for c in aws_peer.calls_to("GetMessageInsights")] == [
        ("eu-west-1", "GetMessageInsights")
    ]
    regions = answer.data["message"]["insights"]["regions"]
    assert regions == [
        {"region": "eu-west-1", "status": "found"},
        {"region": "us-east-1", "status": "vdm_disabled", "detail": "VdmAttributes.VdmEnabled: DISABLED"},
    ]


def test_with_two_regions_a_recipient_is_judged_in_the_region_the_messages_events_went_through(aws_peer, world):
    world.settings.regions = ["us-east-1", "eu-west-1"]
    aws_peer.set_account(region="eu-west-1", production_access=True)
    aws_peer.set_identity("mail.example.com", verified=True, region="eu-west-1")
    aws_peer.suppress(JO, "BOUNCE", region="eu-west-1")  # a region this message (sourceArn: us-east-1) never used
    ingest(world, bounce_doc(MESSAGE_ID, [JO], "smtp; 452 4.2.2 mailbox full", world.now(), status="4.2.2"))

    by_address = ask(world, f"why {JO}")
    answer = ask(world, f"why {MESSAGE_ID}")

    [report] = answer.reports
    assert (report.verdict.check, report.verdict.region) == (by_address.verdict.check, by_address.verdict.region)
    assert report.verdict.check == "recipient.bounces"
    suppressed = next(f for f in report.findings if f.check == "recipient.suppressed" and f.region == "eu-west-1")
    assert suppressed.severity.label == "info"
    assert suppressed.summary.endswith("(In eu-west-1: this message went through us-east-1.)")


def test_with_two_regions_a_recipient_is_judged_in_the_region_whose_insights_know_the_message(aws_peer, world):
    world.settings.regions = ["us-east-1", "eu-west-1"]
    now = world.now()
    aws_peer.set_account(region="eu-west-1", production_access=True, vdm_enabled=True)
    aws_peer.set_identity("mail.example.com", verified=True, region="eu-west-1")
    aws_peer.add_message_insights(
        MESSAGE_ID, from_address=SENDER, subject="Bonjour", insights=spamhaus_insights(now), region="eu-west-1"
    )
    aws_peer.suppress(JO, "BOUNCE", region="us-east-1")  # the message was sent from eu-west-1

    answer = ask(world, f"why {MESSAGE_ID}")

    assert answer.title == f"Message {MESSAGE_ID}: 1 recipient, sent in eu-west-1"
    [report] = answer.reports
    suppressed = next(f for f in report.findings if f.check == "recipient.suppressed" and f.region == "us-east-1")
    assert suppressed.severity.label == "info"
    assert suppressed.summary.endswith("(In us-east-1: this message went through eu-west-1.)")
    assert report.verdict is None or report.verdict.region != "us-east-1"


@pytest.mark.parametrize(
    ("typed", "kind", "value"),
    [
        (MESSAGE_ID, "message", MESSAGE_ID),
        (MESSAGE_ID.upper(), "message", MESSAGE_ID),
        (f"<{MESSAGE_ID}@us-west-2.amazonses.com>", "message", MESSAGE_ID),
        (
            "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
            "message",
            "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
        ),
        (f"{MESSAGE_ID}@example.com", "email", f"{MESSAGE_ID}@example.com"),
        ("Jo@Example.COM", "email", "Jo@example.com"),
        ("@Outlook.com", "domain", "@outlook.com"),
        ("@<http://outlook.com|outlook.com>", "domain", "@outlook.com"),
        # As Slack sends them: `<`, `>` and `&` escaped, and an address it recognised made a link.
        (f"&lt;{MESSAGE_ID}@email.amazonses.com&gt;", "message", MESSAGE_ID),
        (
            f"&lt;<mailto:{MESSAGE_ID}@eu-west-1.amazonses.com|{MESSAGE_ID}@eu-west-1.amazonses.com>&gt;",
            "message",
            MESSAGE_ID,
        ),
        ("&lt;Jo@Example.COM&gt;", "email", "Jo@example.com"),
        ("jo&amp;ann@example.com", "email", "jo&ann@example.com"),
    ],
)
def test_why_targets_are_read_as_an_address_a_domain_or_a_message_id(typed, kind, value):
    target = parse_why_target(typed)
    assert (target.kind, target.value) == (kind, value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [],
            "give an email address, @domain or SES message id, like `why user@example.com`, `why @example.com` "
            "or `why 010001812a3b4c5d-…-000000` (an SES message id)",
        ),
        (
            ["0100018f-not-an-id"],
            "`0100018f-not-an-id` is not an email address, @domain or SES message id; try `why user@example.com`, "
            "`why @example.com` or `why 010001812a3b4c5d-…-000000` (an SES message id)",
        ),
        (
            [MESSAGE_ID, "a@example.com", "@example.org", "b@example.com"],
            "that is 4 targets; `why` diagnoses up to 3 at a time",
        ),
    ],
)
def test_bad_why_input_is_one_line_naming_the_three_forms(deps, args, message):
    inv = Invocation("why", args, " ".join(args))
    with pytest.raises(UsageError) as err:
        execute(CommandContext(deps=deps, via="slack"), inv)
    assert str(err.value) == message
    assert "\n" not in message


# -- mixed lists, the terminal ----------------------------------------------------------------------------


def test_a_mixed_list_gives_one_section_per_target_and_the_message_facts(world):
    now = world.now()
    ingest(world, bounce_doc(MESSAGE_ID, [JO], UNKNOWN_USER, now - timedelta(hours=2)))

    answer = ask(world, f"why {MESSAGE_ID} ok@example.org @example.org")

    assert isinstance(answer, Answer)
    headings = [h for h, _ in answer.sections]
    assert headings[0] == f"Message {MESSAGE_ID}: 1 recipient, sent in us-east-1"
    assert [h.split(":")[0] for h in headings[1:]] == [JO, "ok@example.org", "@example.org"]
    assert [r["target"] for r in answer.data["reports"]] == [JO, "ok@example.org", "@example.org"]
    assert [m["message_id"] for m in answer.data["messages"]] == [MESSAGE_ID]


def test_the_terminal_prints_the_message_and_the_reports_as_json(aws_peer, dns_peer, tmp_path):
    aws_peer.set_account(production_access=True)
    db = tmp_path / "s.db"
    store = Store(str(db))
    now = datetime.now(UTC)
    ingest_documents(store, [bounce_doc(MESSAGE_ID, [JO], UNKNOWN_USER, now - timedelta(hours=2))], origin="test")
    store.close()

    env = {
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": aws_peer.endpoint_url,
        "SESBOT_DB": str(db),
        "SESBOT_DNS_SERVERS": f"{dns_peer.host}:{dns_peer.port}",
        "SESBOT_DNS_TIMEOUT": "0.3",
    }
    out = sesbot("why", MESSAGE_ID, "--json", env=env)

    assert out.returncode == 0, out.stderr
    printed = json.loads(out.stdout)
    assert set(printed) == {"message", "reports"}
    assert printed["message"]["message_id"] == MESSAGE_ID
    assert [r["target"] for r in printed["reports"]] == [JO]
    assert printed["reports"][0]["verdict"]["check"] == "recipient.bounces"

    text = sesbot("why", MESSAGE_ID, env=env)
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[:3] == [f"Message {MESSAGE_ID}: 1 recipient, sent in us-east-1", "", "Message:"]


def test_ses_why_with_a_message_id_in_slack_answers_with_the_message_and_its_recipients(world, bot_server, slack_peer):
    ingest(world, bounce_doc(MESSAGE_ID, [JO], UNKNOWN_USER, world.now() - timedelta(hours=2)))
    body = slash_command_body(f"why {MESSAGE_ID}", response_url=slack_peer.response_url("msg"))

    status, _ = post_signed(bot_server.events_url, body, SIGNING_SECRET)

    assert status == 200
    answer = json.dumps(slack_peer.wait_for_response("msg", timeout=30), ensure_ascii=False)
    assert f"Message {MESSAGE_ID}: 1 recipient, sent in us-east-1" in answer
    assert "Bounce Permanent/General, unknown_user" in answer
    assert f"{JO}: critical" in answer


@pytest.mark.parametrize("into", [6, 12], ids=["in the local part", "in the domain"])
def test_a_redacted_timeline_shows_no_part_of_an_address_its_quote_is_cut_inside(
    world, bot_server_factory, slack_peer, into
):
    head = "smtp; 550 5.1.1 "
    said = head + "z" * (199 - into - len(head) - 6) + " rcpt <jo.doe.smith@example.com> unknown"
    ingest(world, bounce_doc(MESSAGE_ID, [JO], said, world.now() - timedelta(hours=2)))
    server = bot_server_factory(redact="local")
    body = slash_command_body(f"why {MESSAGE_ID}", response_url=slack_peer.response_url("msg"))
    post_signed(server.events_url, body, SIGNING_SECRET)
    answer = json.dumps(slack_peer.wait_for_response("msg", timeout=30), ensure_ascii=False)
    assert 'zzz rcpt &lt;…\\"' in answer
    assert "o.doe" not in answer
