"""How long a blocklist check takes: 15 lists x 5 IPs against the local DNS peer, 50 ms added per query.

Prints the wall time of the whole fan-out, the sequential sum of every query's time, a single query's
time and their ratio, and the bot's own CPU time. The target is a wall time under 3x a single query:
every A query is in flight at once, and the TXT reason is asked right after a listed answer.

The DNS peer runs in its own process by default: a real resolver does not share the bot's GIL, and the
pure-Python peer answering 75 queries at once would otherwise be measured together with the bot.
``--in-process`` runs it in this process instead (slower, noisier on a 2-core machine).

    .venv/bin/python benchmarks/blocklist.py [--lists 15] [--ips 5] [--delay 0.05] [--runs 7] [--in-process]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.checks.blocklist import lookup_targets  # noqa: E402
from bot.deps import Deps  # noqa: E402
from bot.settings import DnsServer, Settings  # noqa: E402
from bot.store import Store  # noqa: E402
from peers.dns import DnsPeer  # noqa: E402

# The peer's process: start, list one IP (so the TXT reason is measured too), add the delay, print the
# port, serve until stdin closes.
PEER_SCRIPT = """
import sys
from peers.dns import DnsPeer
zone, ip, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
peer = DnsPeer().start()
peer.list_ip(zone, ip, code="127.0.0.2", txt="listed for the benchmark")
peer.delay(delay)
print(peer.port, flush=True)
sys.stdin.read()
peer.stop()
"""


@contextlib.contextmanager
def dns_peer(zone: str, ip: str, delay: float, in_process: bool) -> Iterator[tuple[str, int]]:
    if in_process:
        with DnsPeer() as peer:
            peer.list_ip(zone, ip, code="127.0.0.2", txt="listed for the benchmark")
            peer.delay(delay)
            yield peer.host, peer.port
        return
    proc = subprocess.Popen(
        [sys.executable, "-c", PEER_SCRIPT, zone, ip, str(delay)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        yield "127.0.0.1", int(proc.stdout.readline())
    finally:
        proc.stdin.close()  # the peer stops when its stdin closes
        proc.wait(timeout=10)


def timed(fn) -> tuple[float, float, object]:
    """(wall ms, this process's CPU ms, result)"""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lists", type=int, default=15)
    ap.add_argument("--ips", type=int, default=5)
    ap.add_argument("--delay", type=float, default=0.05, help="seconds added to every DNS answer")
    ap.add_argument("--runs", type=int, default=7, help="repetitions; medians are printed")
    ap.add_argument("--in-process", action="store_true", help="run the DNS peer in this process")
    args = ap.parse_args()

    zones = [f"bl{i}.dnsbl.example" for i in range(args.lists)]
    ips = [f"198.51.100.{i + 1}" for i in range(args.ips)]
    with dns_peer(zones[0], ips[0], args.delay, args.in_process) as (host, port), tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({"SESBOT_DB": f"{tmp}/bench.db"})
        settings.dns_servers = [DnsServer(host, port)]
        settings.dns_timeout = 5.0
        deps = Deps.build(settings, store=Store(f"{tmp}/bench.db"))

        lookup_targets(deps, ips[:1], ip_zones=zones[:1], domain_zones=[])  # warm-up (imports, first loop)
        singles, walls, sums, cpus, ratios = [], [], [], [], []
        for _ in range(args.runs):
            single_ms, _, _ = timed(lambda: lookup_targets(deps, ips[1:2], ip_zones=zones[1:2], domain_zones=[]))
            wall_ms, cpu_ms, listings = timed(lambda: lookup_targets(deps, ips, ip_zones=zones, domain_zones=[]))
            singles.append(single_ms)
            walls.append(wall_ms)
            cpus.append(cpu_ms)
            sums.append(sum(li.ms for li in listings))
            ratios.append(wall_ms / single_ms)
        statuses = sorted({li.status for li in listings})
        listed = sum(li.status == "listed" for li in listings)

    n = args.lists * args.ips
    ratio = statistics.median(ratios)
    where = "in this process" if args.in_process else "in its own process"
    print(f"blocklist fan-out: {args.lists} lists x {args.ips} IPs = {n} A queries, +{args.delay * 1000:.0f} ms each")
    print(f"  DNS peer {where}; answers: {', '.join(statuses)} ({listed} listed, its TXT asked too)")
    print(f"  wall time          {statistics.median(walls):8.1f} ms  (median of {args.runs})")
    print(f"  sequential sum     {statistics.median(sums):8.1f} ms  (every query's own time, added up)")
    print(f"  single query       {statistics.median(singles):8.1f} ms")
    print(f"  wall / single      {ratio:8.2f} x  (target < 3x: {'met' if ratio < 3 else 'NOT met'})")
    print(f"  sum / wall         {statistics.median(sums) / statistics.median(walls):8.1f} x  (queries in flight)")
    print(f"  bot CPU time       {statistics.median(cpus):8.1f} ms  (this process, whole fan-out)")
    return 0 if ratio < 3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
