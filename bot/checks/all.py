"""Imports every check module, in report order: this order is the registry's order."""

import importlib

# Report order: account state first (it blocks everything), then the sender, then the recipient's own
# evidence, then DNS, then what the bot cannot see.
MODULES = (
    "bot.checks.account",
    "bot.checks.config_set",
    "bot.checks.tenant",
    "bot.checks.validation",
    "bot.checks.identity",
    "bot.checks.advisor",
    "bot.checks.recipient_address",
    "bot.checks.suppression",
    "bot.checks.recipient_history",
    "bot.checks.domain_history",
    "bot.checks.recipient_domain",
    "bot.checks.authentication",
    "bot.checks.compliance",
    "bot.checks.blocklist",
    "bot.checks.coverage",
)

for _name in MODULES:
    importlib.import_module(_name)
