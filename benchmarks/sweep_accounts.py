"""How long one sweep takes with many accounts and regions, every AWS call slow.

Starts the AWS peer with N accounts (`SESBOT_ACCOUNTS`, each reached through its own role, each with its
own SES state in every region, a bounce-rate figure in CloudWatch), adds `--delay` (default 100 ms, an
AWS API call from another continent) to every AWS request, and times `bot.alerts.sweep` (no Slack: the
levels are recorded, nothing is posted) for each accounts x regions pair, median of `--runs`. The roles
are assumed in a warm-up sweep (credentials last an hour and are reused).

Prints, per pair: the sweep's wall time, the AWS calls it made, and how many accounts x regions one sweep
interval (`SESBOT_SWEEP_MINUTES`, default 5) would hold at that pace.

    .venv/bin/python benchmarks/sweep_accounts.py [--delay 0.1] [--accounts 1,5,10,20] [--regions 1,3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from world import ROOT  # noqa: F401  (no real AWS in this process)

from bot.alerts import sweep
from bot.deps import Deps
from bot.settings import Account, Settings
from bot.store import Store
from peers.aws import AwsPeer

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1"]


def account_id(i: int) -> str:
    return f"{100000000000 + i:012d}"


def prepare(aws: AwsPeer, accounts: int, regions: list[str]) -> None:
    """Each account in production in each region, with one bounce-rate figure in CloudWatch."""
    now = datetime.now(UTC)
    for i in range(accounts):
        with aws.in_account(account_id(i)):
            for region in regions:
                aws.set_account(region, production_access=True)
                aws.client("cloudwatch", region).put_metric_data(
                    Namespace="AWS/SES",
                    MetricData=[{"MetricName": "Reputation.BounceRate", "Value": 0.01, "Timestamp": now}],
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.1, help="seconds added to every AWS request")
    parser.add_argument("--accounts", default="1,5,10,20", help="account counts, comma-separated")
    parser.add_argument("--regions", default="1,3", help=f"region counts (up to {len(REGIONS)}), comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="sweeps measured per pair")
    args = parser.parse_args()
    account_counts = [int(n) for n in args.accounts.split(",")]
    region_counts = [int(n) for n in args.regions.split(",")]

    with AwsPeer() as aws, tempfile.TemporaryDirectory() as tmp:
        prepare(aws, max(account_counts), REGIONS[: max(region_counts)])
        settings = Settings.from_env({"AWS_REGION": REGIONS[0]})
        interval = settings.sweep_minutes * 60
        print(
            f"sweep: +{args.delay * 1000:.0f} ms per AWS request, median of {args.runs} sweeps, levels recorded "
            f"(nothing posted); one sweep interval is {settings.sweep_minutes} min"
        )
        print()
        header = f"{'accounts':>8} {'regions':>7} {'scopes':>6} {'wall s':>7} {'AWS calls':>9}  per interval"
        print(header)
        print("-" * len(header))
        for n_accounts in account_counts:
            for n_regions in region_counts:
                aws.set_delay(0)
                s = Settings.from_env({"AWS_REGION": REGIONS[0]})
                s.regions = REGIONS[:n_regions]
                s.aws_endpoint_url = aws.endpoint_url
                s.accounts = [
                    Account(f"a{i}", f"arn:aws:iam::{account_id(i)}:role/sesbot-read") for i in range(n_accounts)
                ]
                store = Store(str(Path(tmp) / f"sweep-{n_accounts}-{n_regions}.db"))
                deps = Deps.build(s, store=store)
                sweep(deps, None)  # warm-up: roles assumed, clients built
                aws.set_delay(args.delay)
                walls, calls = [], 0
                for _ in range(args.runs):
                    before = len(aws.calls)
                    start = time.perf_counter()
                    sweep(deps, None)
                    walls.append(time.perf_counter() - start)
                    calls = len(aws.calls) - before
                wall = statistics.median(walls)
                scopes = n_accounts * n_regions
                fits = int(scopes * interval / wall)
                print(f"{n_accounts:>8} {n_regions:>7} {scopes:>6} {wall:>7.2f} {calls:>9}  ~{fits:,}")
                store.close()


if __name__ == "__main__":
    main()
