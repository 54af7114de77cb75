"""How long a full `why` diagnosis takes when every AWS and DNS call is slow.

Starts the local AWS and DNS peers with the demo's world (`peers.scenario`, in production), adds a delay
to every AWS request and every DNS answer, and runs the whole `why` suite on each demo recipient several
times. Prints, per recipient (median of the runs): the wall time of the diagnosis, the sum of its checks'
times, the slowest single check, and wall / slowest. Target: wall within 1.3x of the slowest check
(the checks run at once, so the answer takes about as long as the slowest of them).

    .venv/bin/python benchmarks/why.py [--delay 0.1] [--runs 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Never a real AWS account: dummy credentials, no profile, no instance metadata.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing-secret-key",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
)
for _var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
    os.environ.pop(_var, None)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.checks import checks_for  # noqa: E402
from bot.deps import Deps  # noqa: E402
from bot.ingest import ingest_documents  # noqa: E402
from bot.runner import run_checks  # noqa: E402
from bot.settings import DnsServer, Settings  # noqa: E402
from bot.store import Store  # noqa: E402
from peers import scenario  # noqa: E402
from peers.aws import AwsPeer  # noqa: E402
from peers.dns import DnsPeer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.1, help="seconds added to every AWS and DNS call")
    parser.add_argument("--runs", type=int, default=5, help="diagnoses per recipient")
    parser.add_argument("--load", type=int, default=200, help="slash commands sent at once for the load figure")
    args = parser.parse_args()

    checks = checks_for("why")
    with AwsPeer() as aws, DnsPeer() as dns, tempfile.TemporaryDirectory() as tmp:
        now = datetime.now(UTC)
        scenario.setup_aws(aws, now)
        scenario.setup_dns(dns)
        scenario.go_to_production(aws)

        settings = Settings.from_env({"AWS_REGION": scenario.REGION, "SESBOT_SENDER": scenario.SENDER})
        settings.aws_endpoint_url = aws.endpoint_url
        settings.dns_servers = [DnsServer(dns.host, dns.port)]
        settings.dns_timeout = max(2.0, 10 * args.delay)
        settings.check_timeout = max(8.0, 40 * args.delay)
        store = Store(str(Path(tmp) / "bench.db"))
        deps = Deps.build(settings, store=store)
        ingest_documents(store, scenario.events(now), origin="benchmark")

        # Warm up without delay: boto3 clients, imports and caches are built once per process.
        run_checks(deps, scenario.RECIPIENTS["healthy"], checks=checks)
        aws.set_delay(args.delay)
        dns.delay(args.delay)

        print(f"why benchmark: {len(checks)} checks, +{args.delay * 1000:.0f} ms per AWS request and DNS answer,")
        print(f"median of {args.runs} runs per recipient (local peers, {os.cpu_count()} CPUs)")
        print()
        header = (
            f"{'recipient':<26} {'verdict':<22} {'wall ms':>8} {'sum ms':>8} {'slowest ms':>10}  ratio  slowest check"
        )
        print(header)
        print("-" * len(header))
        ratios = []
        for label, recipient in scenario.RECIPIENTS.items():
            walls, sums, slowest, names, verdict = [], [], [], [], None
            for _ in range(args.runs):
                start = time.perf_counter()
                report, timings = run_checks(deps, recipient, checks=checks)
                walls.append((time.perf_counter() - start) * 1000)
                sums.append(sum(t.ms for t in timings))
                top = max(timings, key=lambda t: t.ms)
                slowest.append(top.ms)
                names.append(top.check)
                verdict = report.verdict.check if report.verdict else "-"
            wall, total, slow = statistics.median(walls), statistics.median(sums), statistics.median(slowest)
            ratio = wall / slow if slow else float("nan")
            ratios.append(ratio)
            top_name = max(set(names), key=names.count)
            print(
                f"{recipient:<26} {verdict:<22} {wall:8.0f} {total:8.0f} {slow:10.0f}  {ratio:5.2f}  {top_name}"
                f"  ({label})"
            )
        worst = max(ratios)
        print()
        print(f"worst wall/slowest ratio: {worst:.2f} (target <= 1.30: {'met' if worst <= 1.3 else 'NOT met'})")
        ack_benchmark(deps, args.runs * 4)
        ack_load_benchmark(deps, args.load)
        store.close()


SECRET = "bench-signing-secret"


@contextlib.contextmanager
def slack_app(deps: Deps) -> Iterator[tuple[Any, str]]:
    """The real Bolt app over HTTP, talking to a Slack peer: yields (the peer, the app's events URL)."""
    from slack_sdk import WebClient

    from bot.settings import Secret
    from handlers.app import build_app
    from handlers.server import HttpServer, make_wsgi
    from peers.slack import SlackPeer

    with SlackPeer() as slack:
        deps.settings.slack_signing_secret = Secret(SECRET)
        deps.settings.diagnoses_per_minute = 10_000
        app = build_app(deps, WebClient(token="xoxb-bench", base_url=slack.base_url))
        with HttpServer(make_wsgi(app, deps)) as server:
            yield slack, f"{server.url}/slack/events"


def ack_benchmark(deps: Deps, n: int) -> None:
    """Signed `/ses why` over HTTP to the real app: time to Slack's acknowledgement, and to the report."""
    from peers.slack import post_signed, slash_command_body

    with slack_app(deps) as (slack, url):
        acks, answers = [], []
        for i in range(n):
            name = f"r{i}"
            body = slash_command_body(f"why {scenario.RECIPIENTS['blocklist']}", response_url=slack.response_url(name))
            start = time.perf_counter()
            status, _ = post_signed(url, body, SECRET)
            acks.append((time.perf_counter() - start) * 1000)
            slack.wait_for_response(name, timeout=60)
            answers.append((time.perf_counter() - start) * 1000)
            assert status == 200
    ack, p95 = statistics.median(acks), sorted(acks)[int(0.95 * (len(acks) - 1))]
    print()
    print(
        f"slash command over HTTP ({n} runs): ack median {ack:.1f} ms, p95 {p95:.1f} ms "
        f"(target < 100 ms: {'met' if p95 < 100 else 'NOT met'}); full report at the response_url "
        f"median {statistics.median(answers):.0f} ms"
    )


def ack_load_benchmark(deps: Deps, n: int, senders: int = 20) -> None:
    """`n` slash commands from `senders` threads at once, every call still slow: how many acknowledgements
    missed Slack's 3 s (a diagnosis must never hold the thread that acknowledges), and how long the last
    answer took."""
    from concurrent.futures import ThreadPoolExecutor

    from peers.slack import post_signed, slash_command_body

    deps.settings.answer_queue = n  # measure the acknowledgements, not the "busy" refusals
    with slack_app(deps) as (slack, url):

        def one(i: int) -> float:
            body = slash_command_body(
                f"why {scenario.RECIPIENTS['blocklist']}",
                user_id=f"U0LOAD{i:04d}",
                response_url=slack.response_url(f"load{i}"),
            )
            start = time.perf_counter()
            status, _ = post_signed(url, body, SECRET, timeout=60)
            assert status == 200
            return (time.perf_counter() - start) * 1000

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=senders) as pool:
            acks = sorted(pool.map(one, range(n)))
        for i in range(n):
            slack.wait_for_response(f"load{i}", timeout=600)
        last = time.perf_counter() - start
    late = sum(1 for a in acks if a > 3000)
    print(
        f"{n} slash commands from {senders} senders at once: ack median {statistics.median(acks):.0f} ms, "
        f"p99 {acks[int(0.99 * (n - 1))]:.0f} ms, {late} after Slack's 3 s (target 0); "
        f"all {n} answered within {last:.1f} s ({deps.settings.answer_workers} answer workers)"
    )


if __name__ == "__main__":
    main()
