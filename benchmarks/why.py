"""How long a full `why` diagnosis takes when every AWS and DNS call is slow.

Starts the local AWS and DNS peers with the demo's world (`peers.scenario`, in production), adds a delay
to every AWS request and every DNS answer, and runs the whole `why` suite on each demo recipient several
times. Prints, per recipient (median of the runs): the wall time of the diagnosis, the sum of its checks'
times, the slowest single check, and wall / slowest. Target: wall within 1.3x of the slowest check
(the checks run at once, so the answer takes about as long as the slowest of them).

Then the same diagnosis as a person at a terminal gets it: `sesbot why` as a fresh process (imports,
settings, clients, the store opened from scratch), its wall time with the delay minus its wall time
without, once with the setup inspection's cache cold (as after `setup --apply` or 5 minutes of quiet) and
once warm (the bot or an earlier run left it in the store). Target: <= 1.0 s. Last, a signed `/ses why`
over HTTP, one at a time: the acknowledgement and the full answer (the load figures are
`benchmarks/slack_load.py`).

    .venv/bin/python benchmarks/why.py [--delay 0.3] [--runs 5] [--process-runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from world import ROOT, SECRET, World, demo_world, slack_app

from bot.checks import checks_for
from bot.runner import run_checks
from bot.setup.inspection import forget_cached
from peers import scenario

TERMINAL_RECIPIENT = "first.time@example.com"  # no history: `events.coverage` inspects the setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.1, help="seconds added to every AWS and DNS call")
    parser.add_argument("--runs", type=int, default=5, help="diagnoses per recipient")
    parser.add_argument("--process-runs", type=int, default=3, help="terminal processes per figure")
    args = parser.parse_args()

    checks = checks_for("why")
    with demo_world(dns_timeout=max(2.0, 10 * args.delay), check_timeout=max(8.0, 40 * args.delay)) as world:
        deps = world.deps
        # Warm up without delay: boto3 clients, imports and caches are built once per process.
        run_checks(deps, scenario.RECIPIENTS["healthy"], checks=checks)
        world.slow(args.delay)

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
        terminal_benchmark(world, args.delay, args.process_runs)
        world.slow(args.delay)
        ack_benchmark(world, args.runs * 4)


def terminal_run(world: World, recipient: str) -> float:
    """Seconds from starting `python -m sesbot why <recipient>` to its exit, pointed at the world."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "sesbot", "why", recipient],
        cwd=ROOT,
        env=world.environ(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1, 2):  # a diagnosis that found a problem exits non-zero on purpose
        raise RuntimeError(f"sesbot why failed ({proc.returncode}): {proc.stderr[-500:]}")
    return wall


def terminal_benchmark(world: World, delay: float, runs: int) -> None:
    """`sesbot why` as a fresh process: wall with the delay minus wall without, cache cold and warm.

    The address has no history, so `events.coverage` needs the setup inspection (a recipient with history
    never asks for it, and the cache makes no difference to it). Runs with and without the delay take
    turns, and the median of the differences is printed, so a busy machine moves both alike."""
    recipient = TERMINAL_RECIPIENT

    def one(cold: bool, slow: bool) -> float:
        world.fast()
        if slow:
            world.slow(delay)
        if cold:
            forget_cached(world.deps)
        else:
            terminal_run(world, recipient)  # leaves the inspection in the store, as the bot or a run before
        return terminal_run(world, recipient)

    print()
    print(f"`sesbot why {recipient}` as a fresh terminal process (median of {runs} pairs):")
    for cold in (True, False):
        pairs = [(one(cold, False), one(cold, True)) for _ in range(runs)]
        base = statistics.median(p[0] for p in pairs)
        slow = statistics.median(p[1] for p in pairs)
        extra = statistics.median(p[1] - p[0] for p in pairs)
        state = "cold (not in the store)" if cold else "warm (in the store from an earlier run)"
        print(
            f"  setup cache {state:<40} {base:5.2f} s without delay, {slow:5.2f} s with +{delay * 1000:.0f} ms: "
            f"{extra:+.2f} s (target <= 1.0 s: {'met' if extra <= 1.0 else 'NOT met'})"
        )
    world.fast()


def ack_benchmark(world: World, n: int) -> None:
    """Signed `/ses why` over HTTP to the real app: time to Slack's acknowledgement, and to the report."""
    from peers.slack import post_signed, slash_command_body

    with slack_app(world.deps) as (slack, url):
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


if __name__ == "__main__":
    main()
