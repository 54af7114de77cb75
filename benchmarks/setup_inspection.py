"""How long the setup inspection (`events.coverage` of `why`, and `setup`) takes when every AWS call is slow.

Starts the local AWS peer with a realistic account (the sender's identity with a default configuration set,
its SNS event destination, a second set, the topic subscribed to the bot's queue), adds a delay to every AWS
request, and inspects the region several times with the cache off. Prints the median wall time, the AWS
calls made, and the wall time in round trips (wall / delay): the length of the longest chain of dependent
calls. Then the same with the cache on, as a second process sees it (from the store).

    .venv/bin/python benchmarks/setup_inspection.py [--delay 0.3] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from world import publish_events

from bot.deps import Deps
from bot.settings import Settings
from bot.setup import inspect, inspect_cached, inspect_queue
from bot.store import Store
from peers.aws import AwsPeer

REGION = "us-east-1"
DOMAIN = "mail.example.com"


def account(aws: AwsPeer) -> str:
    """The realistic account; returns the bot's queue URL."""
    url = publish_events(aws, REGION)
    sesv2 = aws.client("sesv2", REGION)
    sesv2.create_email_identity(EmailIdentity=DOMAIN, ConfigurationSetName="app")
    aws.set_identity(DOMAIN, region=REGION, mail_from_domain=f"bounce.{DOMAIN}")
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.3, help="seconds added to every AWS request")
    parser.add_argument("--runs", type=int, default=3, help="inspections measured")
    args = parser.parse_args()
    with AwsPeer() as aws, tempfile.TemporaryDirectory() as tmp:
        url = account(aws)
        settings = Settings.from_env({"AWS_REGION": REGION, "SESBOT_SENDER": f"news@{DOMAIN}"})
        settings.aws_endpoint_url, settings.sqs_queue_url = aws.endpoint_url, url
        store = Store(str(Path(tmp) / "bench.db"))
        deps = Deps.build(settings, store=store)
        inspect(deps, REGION, queue=inspect_queue(deps))  # warm up: clients and imports
        aws.set_delay(args.delay)
        walls, calls = [], 0
        for _ in range(args.runs):
            before = len(aws.calls)
            start = time.perf_counter()
            inspect(deps, REGION, queue_fn=lambda: inspect_queue(deps))
            walls.append(time.perf_counter() - start)
            calls = len(aws.calls) - before
        wall = statistics.median(walls)
        print(f"setup inspection, +{args.delay * 1000:.0f} ms per AWS request, median of {args.runs}:")
        print(f"  uncached : {wall * 1000:7.0f} ms for {calls} AWS calls = {wall / args.delay:.1f} round trips")
        inspect_cached(deps, REGION)  # fills the store
        later = Deps.build(settings, store=store)  # a new process: nothing in memory
        start = time.perf_counter()
        inspect_cached(later, REGION)
        print(f"  cached   : {(time.perf_counter() - start) * 1000:7.0f} ms (a second process, from the store)")
        store.close()


if __name__ == "__main__":
    main()
