"""Logging: one format, and a filter that blanks every configured secret before a line is written."""

from __future__ import annotations

import logging
import sys

from bot.settings import Settings

# The logger a Bolt app is built with: without one, Bolt makes this one itself and sets it to the root's level
# when the app is built, past the cap below.
BOLT_APP_LOGGER = "slack_bolt.App"


class RedactSecrets(logging.Filter):
    """Replaces secret values wherever they appear in a record's final message."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        msg = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        text = record.exc_text or ""
        changed = False
        for s in self.secrets:
            if s in msg:
                msg, changed = msg.replace(s, "***"), True
            if s in text:
                text = text.replace(s, "***")
                record.exc_text = text
        if changed:
            record.msg, record.args = msg, None
        return True


# Lines Bolt and slack_sdk log that say nothing to an operator, or what sesbot says itself in one line.
BOLT_NOISE = (
    # Bolt warns that SLACK_BOT_TOKEN is unused whenever a client is passed, which sesbot always does (the
    # client carries the same token and the configured API URL).
    "As you gave `client` as well",
    # A refused SLACK_APP_TOKEN, with the whole API answer: at start `sesbot run` says it in one line, and a
    # reconnect that fails later is logged again by the client's monitor.
    "Failed to retrieve WSS URL",
)


class DropBoltClientNotice(logging.Filter):
    """Drops Bolt's and slack_sdk's `BOLT_NOISE`."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(BOLT_NOISE)


def setup_logging(settings: Settings, stream=None) -> None:  # noqa: ANN001
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(settings.secrets()))
    handler.addFilter(DropBoltClientNotice())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # Libraries that would otherwise log request bodies or be chatty at INFO. `slack_bolt.App` by name: it is
    # the Bolt app's own logger (Socket Mode logs every envelope there at DEBUG, with its verification token,
    # response_url and text), and the app is built with it (`handlers.app`), so Bolt copies this level onto
    # the loggers of its middleware and listeners instead of the root's.
    for name in ("botocore", "boto3", "urllib3", "slack_sdk", "slack_bolt", BOLT_APP_LOGGER, "apscheduler", "waitress"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(settings.log_level)))
    # A denied AssumeRole: botocore logs its whole traceback as a warning; the bot says it in one line.
    logging.getLogger("botocore.credentials").setLevel(logging.ERROR)
