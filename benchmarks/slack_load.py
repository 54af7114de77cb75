"""Slack's 3-second limit under load: many `/ses why` at once against the real bot server, every call slow.

Starts the demo's world on the local AWS and DNS peers, a Slack peer for the answers, and the bot itself
as `sesbot run` in its own process (the Bolt app behind waitress, the answer pool, the sweeps, the SQS
receivers), configured by environment variables as in production. Then every AWS request and DNS
answer gets slower (default +150 ms), some recipient domains never answer DNS at all (their diagnoses wait
out `SESBOT_DNS_TIMEOUT`), and `--requests` signed `/ses why <address>` arrive from `--senders` clients at
once, each with its own response_url. Prints the acknowledgement times (p50, p99, max), how many came
after Slack's 3 s (target 0), how many were refused as busy, and how many answers reached their
response_url (target: all), and the bot process's resident memory.

    .venv/bin/python benchmarks/slack_load.py [--requests 200] [--senders 20] [--delay 0.15]
"""

from __future__ import annotations

import argparse
import os

from world import bot_process, demo_world, slash_load

from peers import scenario
from peers.slack import SlackPeer

SILENT_DOMAINS = [f"silent{k}.example" for k in range(5)]  # DNS never answers for these


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="slash commands in all")
    parser.add_argument("--senders", type=int, default=20, help="clients sending at once")
    parser.add_argument("--delay", type=float, default=0.15, help="seconds added to every AWS and DNS call")
    parser.add_argument("--silent-every", type=int, default=4, help="every Nth address is at a silent domain")
    parser.add_argument(
        "--queue",
        type=int,
        default=None,
        help="SESBOT_ANSWER_QUEUE for the run (default: room for every request, so each one is answered)",
    )
    args = parser.parse_args()

    with demo_world() as world, SlackPeer() as slack:
        settings = world.deps.settings
        queue = args.requests if args.queue is None else args.queue
        addresses = list(scenario.RECIPIENTS.values())

        def recipient(i: int) -> str:
            if args.silent_every and i % args.silent_every == args.silent_every - 1:
                return f"someone{i}@{SILENT_DOMAINS[i % len(SILENT_DOMAINS)]}"
            return addresses[i % len(addresses)]

        with bot_process(world, slack, SESBOT_ANSWER_QUEUE=str(queue)) as bot:
            # Warm up without delay: imports, boto3 clients and the setup cache, as in a bot that has run.
            warm = slash_load(
                slack, bot.url, lambda i: addresses[i % len(addresses)], 2 * len(addresses), 2, name="warm"
            )
            assert warm.delivered == 2 * len(addresses), warm
            idle_mb, _ = bot.memory_mb()
            world.slow(args.delay)
            for domain in SILENT_DOMAINS:
                world.dns.fault(domain, "timeout", suffix=True)
            result = slash_load(slack, bot.url, recipient, args.requests, args.senders)
            after_mb, peak_mb = bot.memory_mb()

    silent = sum(1 for i in range(args.requests) if "@silent" in recipient(i))
    answered = args.requests - result.busy
    print(
        f"slack load: {args.requests} signed `/ses why` from {args.senders} clients at once to `sesbot run` "
        f"over HTTP, +{args.delay * 1000:.0f} ms per AWS request and DNS answer, {silent} addresses "
        f"at domains whose DNS never answers (SESBOT_DNS_TIMEOUT {settings.dns_timeout:g} s); "
        f"{settings.answer_workers} answer workers, queue {queue}; {os.cpu_count()} CPUs"
    )
    print(
        f"acknowledgements: p50 {result.median:.0f} ms, p99 {result.percentile(0.99):.0f} ms, "
        f"max {result.acks[-1]:.0f} ms; {result.late()} after Slack's 3 s (target 0: "
        f"{'met' if result.late() == 0 else 'NOT met'})"
    )
    print(
        f"answers: {result.delivered} of {answered} delivered to their response_url "
        f"({'all' if not result.undelivered else 'MISSING ' + ', '.join(result.undelivered[:10])}), "
        f"{result.busy} told busy; the last arrived {result.last_answer_s:.1f} s after the first command "
        f"({answered / result.last_answer_s:.1f} diagnoses/s)"
    )
    print(
        f"memory of the bot process (resident): {idle_mb:.0f} MB idle after the warm-up, {after_mb:.0f} MB after "
        f"the load, {peak_mb:.0f} MB at the peak"
    )


if __name__ == "__main__":
    main()
