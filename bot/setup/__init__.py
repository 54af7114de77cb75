"""The `setup` engine: can the bot see what SES reports, per region, and what would make it see everything?

Used by `setup` (the report and `--apply`, `bot.commands.setup`) and by the `events.coverage` check of `why`
(`bot.checks.coverage`: the same inspection, cached for a few minutes, without the permission probes).
One concern a module, each importing only those before it:

* `policy`: resource-policy evaluation (does a queue or topic policy let SNS or SES do one thing), pure;
* `model`: the data: what was inspected in a region, the event coverage it gives, the steps of a plan;
* `permissions`: which read calls the bot's credentials may make (tried, or simulated);
* `inspection`: read-only inspection of identities, configuration sets, topics and the queue, and its cache;
* `apply`: the AWS changes of each step, and running a plan (`setup --apply`);
* `plan`: what to change, as steps, from the inspections;
* `report`: the `setup.*` findings and `setup_report`, the `setup` answer;
* `coverage`: the `events.coverage` finding of `why`.

The package belongs to the engine: it may import `bot.*` (deps, aws, findings), never `handlers` (Slack,
HTTP) or `bot.commands`, which import it.
"""

from __future__ import annotations

from bot.setup.coverage import coverage_finding
from bot.setup.inspection import inspect, inspect_cached, inspect_queue
from bot.setup.model import WANTED_TYPES, Inspection
from bot.setup.report import setup_report

__all__ = [
    "WANTED_TYPES",
    "Inspection",
    "coverage_finding",
    "inspect",
    "inspect_cached",
    "inspect_queue",
    "setup_report",
]
