"""Imports every command module, in the order `help` lists them."""

import bot.commands.help  # noqa: F401
