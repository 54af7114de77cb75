"""Imports every command module, in the order `help` lists them."""

import importlib

MODULES = (
    "bot.commands.why",  # first: the question the bot exists for
    "bot.commands.status",
    "bot.commands.incidents",
    "bot.commands.digest",
    "bot.commands.chart",
    "bot.commands.history",
    "bot.commands.explain",
    "bot.commands.domain",
    "bot.commands.compliance",
    "bot.commands.blocklist",
    "bot.commands.smtp",
    "bot.commands.template",
    "bot.commands.setup",
    "bot.commands.ingest",
    "bot.commands.sweep",
    "bot.commands.help",
)

for _name in MODULES:
    importlib.import_module(_name)
