"""Imports every command module, in the order `help` lists them."""

import bot.commands.why  # noqa: F401  (first: the question the bot exists for)
import bot.commands.status  # noqa: F401
import bot.commands.incidents  # noqa: F401
import bot.commands.history  # noqa: F401
import bot.commands.explain  # noqa: F401
import bot.commands.domain  # noqa: F401
import bot.commands.blocklist  # noqa: F401
import bot.commands.smtp  # noqa: F401
import bot.commands.template  # noqa: F401
import bot.commands.setup  # noqa: F401
import bot.commands.ingest  # noqa: F401
import bot.commands.sweep  # noqa: F401
import bot.commands.help  # noqa: F401
