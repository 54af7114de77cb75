"""`sesbot demo`: the whole bot against local emulated peers, printing what the team would see in Slack.

No AWS or Slack credentials are used or needed: an emulated SES account (moto plus our SESv2 layer),
a DNS server with the demo's zones and a Slack Web API stand-in run on 127.0.0.1; the bot's real code
(the Bolt app behind the real HTTP server, the engine, the store, the alert sweep) runs against them.
Slash commands are sent signed, exactly as Slack sends them. The database is left in `.sesbot-demo/`
to look at afterwards (`sqlite3 .sesbot-demo/sesbot.db`).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from slack_sdk import WebClient

from bot.alerts import sweep
from bot.commands import CommandContext, execute, parse_argv
from bot.deps import Deps
from bot.findings import Report
from bot.ingest import ingest_documents
from bot.render_text import render
from bot.sqs import SqsConsumer
from handlers.app import build_app
from handlers.blocks import blocks_to_text
from handlers.poster import SlackPoster
from handlers.server import HttpServer, make_wsgi

# The local peers need the `demo` extra (moto, dnslib, aiosmtpd, websockets); said plainly when missing.
PEER_PACKAGES = ("moto", "dnslib", "aiosmtpd", "websockets")

DEMO_SIGNING_SECRET = "demo-signing-secret"
DEMO_BOT_TOKEN = "xoxb-demo-token"
ALERT_CHANNEL = "C0ALERTS"


class Screen:
    """Prints Slack messages for a terminal, in order."""

    def __init__(self, out: Any = None, width: int = 78):
        self.out = out or sys.stdout
        self.width = width

    def title(self, text: str) -> None:
        print(f"\n{'━' * self.width}\n{text}\n{'━' * self.width}", file=self.out)

    def note(self, text: str) -> None:
        print(f"  · {text}", file=self.out)

    def slack(self, who: str, msg: dict[str, Any]) -> None:
        print(f"\n┌─ {who}", file=self.out)
        for line in blocks_to_text(msg).splitlines():
            print(f"│ {line}", file=self.out)
        print("└─", file=self.out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sesbot demo", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=".sesbot-demo", help="where to keep the demo's database")
    args = parser.parse_args(argv or [])
    missing = [name for name in PEER_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        print(
            f"sesbot demo needs the local peers ({', '.join(missing)} missing): pip install -e '.[demo]'",
            file=sys.stderr,
        )
        return 2
    from peers.aws import AwsPeer
    from peers.dns import DnsPeer
    from peers.slack import SlackPeer
    from peers.smtp import SmtpPeer

    logging.basicConfig(level=logging.ERROR)
    for noisy in ("werkzeug", "moto", "botocore", "waitress", "slack_bolt", "slack_sdk"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    workdir = Path(args.dir)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    screen = Screen()
    screen.title("sesbot demo — an emulated SES account on this machine; nothing leaves 127.0.0.1")
    started = time.perf_counter()
    with (
        AwsPeer().start() as aws,
        DnsPeer().start() as dns,
        SlackPeer().start() as slack,
        SmtpPeer("starttls").start() as smtp,
    ):
        Demo(aws, dns, slack, smtp, workdir, screen).run()
    screen.note(f"demo finished in {time.perf_counter() - started:.1f} s; database: {workdir / 'sesbot.db'}")
    return 0


class Demo:
    def __init__(self, aws: Any, dns: Any, slack: Any, smtp: Any, workdir: Path, screen: Screen):
        import boto3

        from bot.aws import AwsClients
        from bot.settings import DnsServer, Secret, Settings
        from bot.store import Store
        from peers import scenario

        self.aws, self.dns, self.slack, self.smtp, self.screen, self.sc = aws, dns, slack, smtp, screen, scenario
        self.workdir = workdir
        self.now = datetime.now(UTC).replace(microsecond=0)
        settings = Settings.from_env(
            {
                "AWS_REGION": scenario.REGION,
                "SESBOT_SENDER": scenario.SENDER,
                "SESBOT_DB": str(workdir / "sesbot.db"),
                "SESBOT_ALERT_CHANNEL": ALERT_CHANNEL,
            }
        )
        settings.aws_endpoint_url = aws.endpoint_url
        settings.dns_servers = [DnsServer(dns.host, dns.port)]
        settings.dns_timeout = 2.0
        settings.slack_api_url = slack.base_url
        settings.slack_bot_token = Secret(DEMO_BOT_TOKEN)
        settings.slack_signing_secret = Secret(DEMO_SIGNING_SECRET)
        settings.diagnoses_per_minute = 60  # the demo asks many questions in a few seconds
        settings.smtp_host, settings.smtp_ca_file = smtp.host, smtp.ca_file  # stands in for email-smtp.<region>
        # Explicit demo credentials: whatever the shell has for real AWS is never used here.
        session = boto3.session.Session(aws_access_key_id="demo", aws_secret_access_key="demo-secret")
        self.deps = Deps(
            settings=settings,
            store=Store(settings.db_path),
            aws=AwsClients(settings, session),
            clock=lambda: self.now,
        )
        scenario.setup_dns(dns)
        scenario.setup_aws(aws, self.now)

    # -- the story -----------------------------------------------------------------------------------
    def run(self) -> None:
        self.screen.title("0. The operator connects SES's events to the bot: sesbot setup --apply")
        self.setup()
        self.ingest()
        client = WebClient(token=DEMO_BOT_TOKEN, base_url=self.slack.base_url)
        app = build_app(self.deps, client)
        with HttpServer(make_wsgi(app, self.deps)).start() as server:
            self.url = f"{server.url}/slack/events"
            self.screen.title("1. Someone asks what the bot can do")
            self.ask("help")
            self.screen.title('2. "new.customer@example.org never got our mail" — the account is in the sandbox')
            self.ask(f"why {self.sc.RECIPIENTS['sandbox']}")
            self.screen.note("AWS grants production access; from now on the sandbox is no longer the cause")
            self.sc.go_to_production(self.aws)
            self.screen.title("3. Four recipients, four different causes")
            for key in ("suppressed", "hard_bounce", "blocklist", "null_mx"):
                self.ask(f"why {self.sc.RECIPIENTS[key]}")
            self.screen.title("4. A recipient with nothing wrong")
            self.ask(f"why {self.sc.RECIPIENTS['healthy']}")
            self.screen.title(f"4b. Mail sent as the tenant {self.sc.TENANT}: SES disabled the tenant itself")
            self.ask(f"why {self.sc.RECIPIENTS['tenant']}")
            self.screen.title("4c. One message, by the MessageId SendEmail returned")
            self.ask(f"why {self.sc.HARD_BOUNCE_MESSAGE_ID}")
            self.screen.title('4d. "Nobody at blocked.example gets our mail": the whole domain')
            self.ask("why @blocked.example")
            self.screen.title("5. One question each")
            self.aws.add_template(
                "welcome", "Welcome, {{name}}", text="Hi {{name}}, your plan is {{plan}}.", region=self.sc.REGION
            )
            for text in (
                "explain 550 5.7.1 Service unavailable; client [198.51.100.23] blocked using b.barracudacentral.org",
                f"history {self.sc.RECIPIENTS['blocklist']}",
                f"domain {self.sc.SENDER_DOMAIN}",
                f"compliance {self.sc.SENDER_DOMAIN}",
                f"blocklist {self.sc.SENDING_IP}",
                'template welcome {"name": "Ana"}',
                f"smtp {self.smtp.port}",
                "status",
            ):
                self.ask(text)
            self.sweeps(client)
            self.screen.title("7. Afterwards, anyone can look back")
            self.ask("incidents")
            self.terminal(["incident", "1", "--markdown"])
            self.screen.title("8. The daily digest (SESBOT_DIGEST_AT=09:00 posts it in the alert channel)")
            self.ask("digest")

    def show_chat(self, seen: int) -> None:
        """What the bot posted or edited in Slack since the `seen`-th call."""
        for call in self.slack.calls[seen:]:
            if call.method not in ("chat.postMessage", "chat.update"):
                continue
            where = (
                "in the thread"
                if call.params.get("thread_ts")
                else ("edits the alert" if call.method == "chat.update" else f"#{ALERT_CHANNEL}")
            )
            self.screen.slack(f"sesbot {where}", call.params)

    def take_incident(self) -> None:
        """The team works the incident: bob takes it in the thread, a note from the terminal, a snooze."""
        from peers.slack import app_mention_body, post_signed

        rows = self.deps.store.query("SELECT id, channel, ts FROM incidents WHERE status = 'open' ORDER BY id")
        if not rows:
            return
        number, channel, thread = rows[0]["id"], rows[0]["channel"], rows[0]["ts"]
        self.screen.title(f"6b. The team takes incident #{number}: owner, a note, a snooze")

        def mention(text: str, user: str) -> None:
            seen = len(self.slack.calls)
            print(f"\n@{user} in the thread › @sesbot {text}", file=self.screen.out)
            body = app_mention_body(text, user=user, channel=channel, thread_ts=thread)
            post_signed(self.url, body, DEMO_SIGNING_SECRET)
            self.slack.wait_for("chat.postMessage", lambda c: self.slack.calls.index(c) >= seen, timeout=30)
            if text.split()[0] in ("assign", "snooze"):  # the parent's edit is delivered right after the reply
                self.slack.wait_for("chat.update", lambda c: self.slack.calls.index(c) >= seen, timeout=30)
            self.show_chat(seen)

        mention("assign me", "U0BOB")
        self.terminal(["incident", str(number), "note", "paused the newsletter send at 40% sent"])
        mention("snooze 1h", "U0BOB")
        self.screen.note("a worse level still posts while snoozed (it says so); the note reaches the thread")

    def terminal(self, argv: list[str]) -> None:
        """A command typed in the terminal (`sesbot ...`), as its user."""
        answer = execute(CommandContext(deps=self.deps, via="cli"), parse_argv(argv))
        print(f"\n$ sesbot {' '.join(argv)}", file=self.screen.out)
        for line in render(answer).splitlines():
            print(f"  {line}", file=self.screen.out)

    def setup(self) -> None:
        """`sesbot setup --apply`, as an operator would run it, then the queue it created is the bot's."""
        report = execute(CommandContext(deps=self.deps, via="cli"), parse_argv(["setup", "--apply"]))
        print("\n$ sesbot setup --apply", file=self.screen.out)
        for line in render(report).splitlines():
            print(f"  {line}", file=self.screen.out)
        findings = report.findings if isinstance(report, Report) else []
        urls = [f.data.get("queue_url") for f in findings if f.data.get("queue_url")]
        if urls:
            self.deps.settings.sqs_queue_url = urls[0]
            self.screen.note(f"SESBOT_SQS_QUEUE_URL={urls[0]}")

    def ingest(self) -> None:
        """Two days of traffic: the bulk from a Firehose-style export (`sesbot ingest`), the problem
        events the way they really arrive — published by SES to the SNS topic, delivered to the SQS
        queue, read by the bot's consumer."""
        events = self.sc.events(self.now)
        bulk = [e for e in events if e["eventType"] in ("Send", "Delivery")]
        problems = [e for e in events if e["eventType"] not in ("Send", "Delivery")]
        result = ingest_documents(self.deps.store, bulk, origin="demo-export")
        self.screen.note(f"sesbot ingest firehose-export.jsonl: {result.ingested} send and delivery events")
        sns = self.deps.aws.get("sns", self.sc.REGION)
        topics = [
            t["TopicArn"] for t in sns.list_topics().get("Topics", []) if t["TopicArn"].endswith(":sesbot-events")
        ]
        if not topics or not self.deps.settings.sqs_queue_url:
            ingest_documents(self.deps.store, problems, origin="demo")
            return
        for event in problems:
            sns.publish(TopicArn=topics[0], Message=json.dumps(event))
        consumer, stored = SqsConsumer(self.deps), 0
        for _ in range(10):
            got = consumer.poll_once(max_messages=10, wait_seconds=0)
            stored += got.ingested
            if stored >= len(problems):
                break
        self.screen.note(f"SES -> SNS -> SQS -> sesbot: {stored} bounce events read from the queue")

    def ask(self, text: str, user: str = "alice") -> None:
        from peers.slack import post_signed, slash_command_body

        name = f"r{time.perf_counter_ns()}"
        body = slash_command_body(text, user_name=user, response_url=self.slack.response_url(name))
        status, ack_text = post_signed(self.url, body, DEMO_SIGNING_SECRET)
        print(f"\n@{user} › /ses {text}", file=self.screen.out)
        if status != 200:
            self.screen.note(f"HTTP {status}")
            return
        ack = json.loads(ack_text) if ack_text.strip().startswith("{") else {"text": ack_text}
        if ack.get("blocks"):
            self.screen.slack("sesbot (only visible to you)", ack)
            return
        if ack.get("text"):
            self.screen.note(ack["text"].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
            if ack["text"].startswith(":no_entry:"):
                return
        msg = self.slack.wait_for_response(name, timeout=30)
        visible = "sesbot" if msg.get("response_type") == "in_channel" else "sesbot (only visible to you)"
        self.screen.slack(visible, msg)

    def sweeps(self, client: WebClient) -> None:
        cw = self.deps.aws.get("cloudwatch", self.sc.REGION)
        poster = SlackPoster(client)
        self.screen.title("6. The alert sweep watches the bounce rate (one sweep every 5 minutes)")
        sent = ingest_documents(self.deps.store, self.sc.newsletter(self.now), origin="demo-export")
        self.screen.note(f"the newsletter went out over the last 3 hours: {sent.ingested} send and delivery events")
        history = self.sc.bounce_rate_history()
        first_sweep = self.now + timedelta(minutes=5)
        for hours_ago, rate in history:
            cw.put_metric_data(
                Namespace="AWS/SES",
                MetricData=[
                    {
                        "MetricName": "Reputation.BounceRate",
                        "Value": rate,
                        "Timestamp": first_sweep - timedelta(hours=hours_ago),
                    }
                ],
            )
        rates = ", ".join(f"{rate:.1%}" for _, rate in history)
        self.screen.note(f"CloudWatch's hourly bounce rate since then: {rates} (the forecast's trend)")
        for i, rate in enumerate(self.sc.bounce_rate_series()):
            self.now += timedelta(minutes=5)
            cw.put_metric_data(
                Namespace="AWS/SES",
                MetricData=[{"MetricName": "Reputation.BounceRate", "Value": rate, "Timestamp": self.now}],
            )
            seen = len(self.slack.calls)
            result = sweep(self.deps, poster)
            self.screen.note(f"{self.now:%H:%M} sweep: bounce rate {rate:.1%}")
            self.show_chat(seen)
            for _ in result.charts:
                self.screen.note("the bounce and complaint rate chart (PNG) is uploaded into the incident thread")
            if i == 0:
                self.take_incident()
        uploads = self.slack.uploads
        if uploads:  # the picture the thread got, kept for a newcomer to open
            path = self.workdir / "incident-chart.png"
            path.write_bytes(uploads[-1].data or b"")
            self.screen.note(f"the incident's rate chart (as uploaded to its thread): {path}")
