"""Settings: every environment variable the bot reads, validated in one place.

`Settings.from_env()` collects *every* missing or malformed variable and raises one `SettingsError`
that lists them all, so a person fixes their configuration in one round, never from a traceback.

    >>> s = Settings.from_env({"AWS_REGION": "eu-west-1", "SESBOT_SENDER": "mail.example.com"})
    >>> s.regions, s.sender_domain
    (['eu-west-1'], 'mail.example.com')
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, overload

from bot.slack_ids import CHANNEL_ID_RE, GROUP_ID_RE, TEAM_ID_RE, USER_ID_RE, USER_OR_GROUP_ID_RE

CHANNEL_ID_WORDS = "a Slack channel id (like C0123ABCD: the channel's details show it; not its #name)"
USER_IDS = "Slack user ids like U0123ABCD, not names"
ZONE_NAMES = "DNS zone names like zen.spamhaus.org"

SLACK_DEFAULT_API_URL = "https://slack.com/api/"

REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
EMAIL_RE = re.compile(r"^[^@\s<>|\x00-\x1f\x7f]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z0-9-]{2,63}$")
#: An IAM role ARN; group 1 is the account id.
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
ACCOUNT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}\.?$")

# Levels for the rate alerts, lowest first: (level name, bounce rate, complaint rate), as fractions.
DEFAULT_RATE_LEVELS: tuple[tuple[str, float, float], ...] = (
    ("elevated", 0.02, 0.0005),
    ("near_review", 0.04, 0.0008),
    ("review", 0.05, 0.001),
    ("near_suspension", 0.08, 0.004),
    ("suspension", 0.10, 0.005),
)

DEFAULT_IP_BLOCKLISTS = (
    "zen.spamhaus.org",
    "b.barracudacentral.org",
    "bl.spamcop.net",
    "psbl.surriel.com",
    "bl.mailspike.net",
    "spam.spamrats.com",
    "ubl.lashback.com",
)
DEFAULT_DOMAIN_BLOCKLISTS = ("dbl.spamhaus.org", "multi.surbl.org", "multi.uribl.com")


class SettingsError(Exception):
    """Configuration problems, all of them, as one readable message."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"sesbot cannot start; fix these settings (see README, Configuration):\n{lines}")


class Secret(str):
    """A string that never shows itself in repr/logs; use `.reveal()` where the value is really needed."""

    def __repr__(self) -> str:
        return "Secret('***')"

    def reveal(self) -> str:
        return str.__str__(self)


@dataclass(frozen=True)
class DnsServer:
    host: str
    port: int = 53

    def __str__(self) -> str:
        return self.host if self.port == 53 else f"{self.host}:{self.port}"


def queue_account_id(queue_url: str) -> str:
    """The AWS account id in an SQS queue URL's path (`https://sqs.<region>.amazonaws.com/<id>/<name>`)."""
    parts = queue_url.rstrip("/").split("/")
    return parts[-2] if len(parts) >= 2 else ""


@dataclass(frozen=True)
class Account:
    """One AWS account the bot watches: a name people use, and the role assumed to read it.

    `role_arn` None means the bot's own (default) credentials, under this name.
    """

    name: str
    role_arn: str | None = None

    @property
    def account_id(self) -> str | None:
        m = ROLE_ARN_RE.match(self.role_arn or "")
        return m.group(1) if m else None


@dataclass
class Settings:
    """The bot's whole configuration. Build with `from_env`; tests build it from a dict."""

    slack_bot_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_app_token: Secret | None = None
    slack_api_url: str = SLACK_DEFAULT_API_URL
    slack_team_id: str | None = None
    port: int = 3000
    http_threads: int = 8  # waitress threads (HTTP mode)
    http_connections: int = 1000  # open connections waitress accepts (HTTP mode)
    host: str = "0.0.0.0"
    aws_region: str | None = None
    regions: list[str] = field(default_factory=list)
    aws_endpoint_url: str | None = None
    accounts: list[Account] = field(default_factory=list)  # empty: the default credentials' account only
    db_path: str = "./sesbot.db"
    sender: str | None = None
    configuration_set: str | None = None  # the set the team sends through when a send names none
    tenant: str | None = None  # the SES tenant the team sends as when a send names none
    transactional_sets: frozenset[str] = frozenset()  # configuration sets exempt from one-click unsubscribe
    email_insights: bool = False  # GetEmailAddressInsights in `why` (charged per call)
    mx_port: int = 25  # the port `config_set.delivery` asks the recipient's MX for STARTTLS on
    dns_servers: list[DnsServer] = field(default_factory=list)
    dns_timeout: float = 3.0
    alert_channel: str | None = None
    sqs_queue_url: str | None = None  # the first of sqs_queue_urls
    sqs_queue_urls: list[str] = field(default_factory=list)  # one per account/region where events arrive
    sqs_workers: int = 2  # receivers long-polling the queue at once
    sns_topic_arns: list[str] = field(default_factory=list)
    retention_days: int = 90
    sweep_minutes: int = 5
    recovery_sweeps: int = 2
    charts: bool = True  # a rate chart in the incident thread on open and on each level change
    ack_reminder_minutes: int = 30  # an unacknowledged incident gets one reminder after this long (0: none)
    oncall: str | None = None  # a Slack user or user-group id the reminder mentions
    forecast_min_sends: int = 500  # fewer sends than this in the forecast window: no forecast in rate alerts
    digest_at: tuple[int, int] | None = None  # (hour, minute) UTC of the daily digest; None: no digest
    rate_levels: tuple[tuple[str, float, float], ...] = DEFAULT_RATE_LEVELS
    check_timeout: float = 8.0
    setup_cache_seconds: int = 300  # how long events.coverage reuses the setup inspection (0: never)
    answer_workers: int = 8  # answers to people computed at once (handlers.work)
    answer_queue: int = 20  # answers that may wait for a worker; beyond, "busy, try again"
    ip_blocklists: tuple[str, ...] = DEFAULT_IP_BLOCKLISTS
    domain_blocklists: tuple[str, ...] = DEFAULT_DOMAIN_BLOCKLISTS
    smtp_host: str | None = None
    smtp_ca_file: str | None = None
    smtp_username: Secret | None = None
    smtp_password: Secret | None = None
    smtp_timeout: float = 5.0
    allowed_users: frozenset[str] = frozenset()
    allowed_groups: frozenset[str] = frozenset()
    allowed_channels: frozenset[str] = frozenset()
    admins: frozenset[str] = frozenset()
    allow_writes: bool = False
    redact: str = "none"
    diagnoses_per_minute: int = 5
    sns_cert_dir: str | None = None
    sns_max_age_seconds: int = 3600
    log_level: str = "INFO"

    # -- derived -----------------------------------------------------------------------------------
    @property
    def sender_domain(self) -> str | None:
        if not self.sender:
            return None
        return self.sender.rsplit("@", 1)[-1].lower().rstrip(".")

    @property
    def sender_address(self) -> str | None:
        return self.sender if self.sender and "@" in self.sender else None

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    def queue_url_for(self, account: Account | None) -> str | None:
        """The queue of `SESBOT_SQS_QUEUE_URL` that `account` delivers its events to: the URL whose path holds
        the account's id (`https://sqs.<region>.amazonaws.com/<id>/<name>`); for the default credentials (None,
        or a name without a role) the first URL that holds no configured account's id."""
        urls = self.sqs_queue_urls or ([self.sqs_queue_url] if self.sqs_queue_url else [])
        owner = queue_account_id
        wanted = account.account_id if account is not None else None
        if wanted:
            return next((u for u in urls if owner(u) == wanted), None)
        known = {a.account_id for a in self.accounts if a.account_id}
        return next((u for u in urls if owner(u) not in known), None)

    def secrets(self) -> list[str]:
        """Every secret value configured, for redaction and for the tests that grep for leaks."""
        values = [self.slack_bot_token, self.slack_signing_secret, self.slack_app_token, self.smtp_password]
        values += [Secret(os.environ.get(k, "")) for k in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")]
        return [v.reveal() for v in values if v]

    def require_slack(self) -> None:
        """Raise `SettingsError` listing what `sesbot run` needs and lacks."""
        problems = []
        if not self.slack_bot_token:
            problems.append("SLACK_BOT_TOKEN is not set (the bot token, xoxb-...)")
        elif not self.slack_bot_token.startswith("xoxb-"):
            problems.append("SLACK_BOT_TOKEN does not look like a bot token (it should start with xoxb-)")
        if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
            problems.append("SLACK_APP_TOKEN does not look like an app-level token (it should start with xapp-)")
        if not self.slack_app_token and not self.slack_signing_secret:
            problems.append("SLACK_SIGNING_SECRET is not set (needed in HTTP mode, i.e. without SLACK_APP_TOKEN)")
        if not self.regions:
            problems.append("AWS_REGION (or AWS_DEFAULT_REGION, or SESBOT_REGIONS) is not set")
        if problems:
            raise SettingsError(problems)

    # -- parsing -----------------------------------------------------------------------------------
    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read and validate the environment; raise `SettingsError` listing every problem."""
        env = os.environ if env is None else env
        p = _Parser(env)
        s = cls(
            slack_bot_token=p.secret("SLACK_BOT_TOKEN"),
            slack_signing_secret=p.secret("SLACK_SIGNING_SECRET"),
            slack_app_token=p.secret("SLACK_APP_TOKEN"),
            slack_api_url=p.url("SLACK_API_URL", SLACK_DEFAULT_API_URL),
            slack_team_id=p.matching("SESBOT_TEAM_ID", TEAM_ID_RE, "a Slack workspace id (like T0123ABCD)"),
            port=p.integer("PORT", 3000, lo=1, hi=65535),
            http_threads=p.integer("SESBOT_HTTP_THREADS", 8, lo=1, hi=256),
            http_connections=p.integer("SESBOT_HTTP_CONNECTIONS", 1000, lo=10, hi=100000),
            host=p.text("SESBOT_HOST") or "0.0.0.0",
            aws_region=p.region("AWS_REGION") or p.region("AWS_DEFAULT_REGION"),
            aws_endpoint_url=p.url("AWS_ENDPOINT_URL", None),
            accounts=p.accounts("SESBOT_ACCOUNTS"),
            db_path=p.text("SESBOT_DB") or "./sesbot.db",
            sender=p.sender("SESBOT_SENDER"),
            configuration_set=p.name("SESBOT_CONFIGURATION_SET"),
            tenant=p.name("SESBOT_TENANT"),
            transactional_sets=frozenset(p.words("SESBOT_TRANSACTIONAL_SETS")),
            email_insights=p.flag("SESBOT_EMAIL_INSIGHTS", False),
            mx_port=p.integer("SESBOT_MX_PORT", 25, lo=1, hi=65535),
            dns_servers=p.dns_servers("SESBOT_DNS_SERVERS"),
            dns_timeout=p.number("SESBOT_DNS_TIMEOUT", 3.0, lo=0.1, hi=60),
            alert_channel=p.matching("SESBOT_ALERT_CHANNEL", CHANNEL_ID_RE, CHANNEL_ID_WORDS),
            sqs_queue_urls=p.urls("SESBOT_SQS_QUEUE_URL"),
            sqs_workers=p.integer("SESBOT_SQS_WORKERS", 2, lo=1, hi=32),
            sns_topic_arns=p.words("SESBOT_SNS_TOPIC_ARNS", pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$"),
            retention_days=p.integer("SESBOT_RETENTION_DAYS", 90, lo=1, hi=3650),
            sweep_minutes=p.integer("SESBOT_SWEEP_MINUTES", 5, lo=1, hi=1440),
            recovery_sweeps=p.integer("SESBOT_RECOVERY_SWEEPS", 2, lo=1, hi=100),
            charts=p.flag("SESBOT_CHARTS", True),
            ack_reminder_minutes=p.integer("SESBOT_ACK_REMINDER_MINUTES", 30, lo=0, hi=10080),
            oncall=p.slack_id("SESBOT_ONCALL"),
            forecast_min_sends=p.integer("SESBOT_FORECAST_MIN_SENDS", 500, lo=0, hi=1_000_000_000),
            digest_at=p.clock_time("SESBOT_DIGEST_AT"),
            rate_levels=p.rate_levels(),
            check_timeout=p.number("SESBOT_CHECK_TIMEOUT", 8.0, lo=0.1, hi=120),
            setup_cache_seconds=p.integer("SESBOT_SETUP_CACHE_SECONDS", 300, lo=0, hi=86400),
            answer_workers=p.integer("SESBOT_ANSWER_WORKERS", 8, lo=1, hi=256),
            answer_queue=p.integer("SESBOT_ANSWER_QUEUE", 20, lo=0, hi=10000),
            ip_blocklists=tuple(p.words("SESBOT_BLOCKLISTS", DOMAIN_RE.pattern, ZONE_NAMES)) or DEFAULT_IP_BLOCKLISTS,
            domain_blocklists=(
                tuple(p.words("SESBOT_DOMAIN_BLOCKLISTS", DOMAIN_RE.pattern, ZONE_NAMES)) or DEFAULT_DOMAIN_BLOCKLISTS
            ),
            smtp_host=p.text("SESBOT_SMTP_HOST"),
            smtp_ca_file=p.path("SESBOT_SMTP_CA_FILE", kind="file"),
            smtp_username=p.secret("SESBOT_SMTP_USERNAME"),
            smtp_password=p.secret("SESBOT_SMTP_PASSWORD"),
            smtp_timeout=p.number("SESBOT_SMTP_TIMEOUT", 5.0, lo=0.1, hi=120),
            allowed_users=frozenset(p.words("SESBOT_ALLOWED_USERS", USER_ID_RE.pattern, USER_IDS)),
            allowed_groups=frozenset(
                p.words("SESBOT_ALLOWED_GROUPS", GROUP_ID_RE.pattern, "Slack user-group ids like S0123ABCD")
            ),
            allowed_channels=frozenset(
                p.words(
                    "SESBOT_ALLOWED_CHANNELS", CHANNEL_ID_RE.pattern, "Slack channel ids like C0123ABCD, not #names"
                )
            ),
            admins=frozenset(p.words("SESBOT_ADMINS", USER_ID_RE.pattern, USER_IDS)),
            allow_writes=p.flag("SESBOT_ALLOW_WRITES", False),
            redact=p.choice("SESBOT_REDACT", "none", ("none", "local")),
            diagnoses_per_minute=p.integer("SESBOT_DIAGNOSES_PER_MINUTE", 5, lo=1, hi=1000),
            sns_cert_dir=p.path("SESBOT_SNS_CERT_DIR", kind="dir"),
            sns_max_age_seconds=p.integer("SESBOT_SNS_MAX_AGE_SECONDS", 3600, lo=60, hi=86400),
            log_level=p.choice("SESBOT_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"), upper=True),
        )
        regions = p.words("SESBOT_REGIONS", pattern=REGION_RE.pattern)
        s.regions = regions or ([s.aws_region] if s.aws_region else [])
        s.sqs_queue_url = s.sqs_queue_urls[0] if s.sqs_queue_urls else None
        for k, v in overrides.items():
            setattr(s, k, v)
        if p.problems:
            raise SettingsError(p.problems)
        return s


class _Parser:
    """Reads variables and records every problem instead of stopping at the first."""

    def __init__(self, env: Mapping[str, str]):
        self.env = env
        self.problems: list[str] = []

    def raw(self, name: str) -> str | None:
        v = self.env.get(name)
        if v is None:
            return None
        v = v.strip()
        return v or None

    def text(self, name: str) -> str | None:
        return self.raw(name)

    def secret(self, name: str) -> Secret | None:
        v = self.raw(name)
        return Secret(v) if v else None

    def integer(self, name: str, default: int, lo: int, hi: int) -> int:
        v = self.raw(name)
        if v is None:
            return default
        try:
            n = int(v)
        except ValueError:
            self.problems.append(f"{name}={v[:40]!r} is not a whole number")
            return default
        if not lo <= n <= hi:
            self.problems.append(f"{name}={n} is out of range ({lo}..{hi})")
            return default
        return n

    def number(self, name: str, default: float, lo: float, hi: float) -> float:
        v = self.raw(name)
        if v is None:
            return default
        try:
            n = float(v)
        except ValueError:
            self.problems.append(f"{name}={v[:40]!r} is not a number")
            return default
        if not lo <= n <= hi:
            self.problems.append(f"{name}={n} is out of range ({lo}..{hi})")
            return default
        return n

    def flag(self, name: str, default: bool) -> bool:
        v = self.raw(name)
        if v is None:
            return default
        if v.lower() in ("1", "true", "yes", "on"):
            return True
        if v.lower() in ("0", "false", "no", "off"):
            return False
        self.problems.append(f"{name}={v[:40]!r} should be true or false")
        return default

    def choice(self, name: str, default: str, choices: tuple[str, ...], upper: bool = False) -> str:
        v = self.raw(name)
        if v is None:
            return default
        v = v.upper() if upper else v.lower()
        if v not in choices:
            self.problems.append(f"{name}={v[:40]!r} should be one of: {', '.join(choices)}")
            return default
        return v

    @overload
    def url(self, name: str, default: str) -> str: ...
    @overload
    def url(self, name: str, default: None) -> str | None: ...
    def url(self, name: str, default: str | None) -> str | None:
        v = self.raw(name)
        if v is None:
            return default
        if not re.match(r"^https?://[^\s/]+", v):
            self.problems.append(f"{name}={v[:60]!r} is not an http(s) URL")
            return default
        return v

    def urls(self, name: str) -> list[str]:
        """Comma-separated http(s) URLs."""
        urls = self.words(name)
        bad = [u for u in urls if not re.match(r"^https?://[^\s/]+", u)]
        if bad:
            self.problems.append(f"{name} has entries that are not http(s) URLs: {', '.join(b[:60] for b in bad)}")
        return [u for u in urls if u not in bad]

    def accounts(self, name: str) -> list[Account]:
        """`prod=arn:aws:iam::111111111111:role/sesbot-read,staging=...`; a bare name is the default credentials."""
        out: list[Account] = []
        for item in self.words(name):
            label, _, arn = (part.strip() for part in item.partition("="))
            if not ACCOUNT_NAME_RE.match(label):
                self.problems.append(
                    f"{name} entry {item[:60]!r}: the name should be letters, digits, - and _ (up to 32)"
                )
            elif arn and not ROLE_ARN_RE.match(arn):
                self.problems.append(
                    f"{name} entry {label!r}: {arn[:80]!r} is not an IAM role ARN (arn:aws:iam::123456789012:role/name)"
                )
            elif any(a.name.lower() == label.lower() for a in out):
                self.problems.append(f"{name} names the account {label!r} twice")
            else:
                out.append(Account(label, arn or None))
        return out

    def path(self, name: str, kind: str | None = None) -> str | None:
        """A path that exists; `kind` "file" or "dir": and is one."""
        v = self.raw(name)
        if v is not None and not os.path.exists(v):
            self.problems.append(f"{name}={v!r} does not exist")
            return None
        if v is not None and kind == "file" and not os.path.isfile(v):
            self.problems.append(f"{name}={v!r} is not a file")
            return None
        if v is not None and kind == "dir" and not os.path.isdir(v):
            self.problems.append(f"{name}={v!r} is not a directory")
            return None
        return v

    def matching(self, name: str, pattern: re.Pattern[str], what: str) -> str | None:
        """A value of one form (a Slack id ...); a problem saying `what` it should be otherwise."""
        v = self.raw(name)
        if v is not None and not pattern.match(v):
            self.problems.append(f"{name}={v[:60]!r} is not {what}")
            return None
        return v

    def region(self, name: str) -> str | None:
        v = self.raw(name)
        if v is not None and not REGION_RE.match(v):
            self.problems.append(f"{name}={v[:40]!r} is not an AWS region name (like us-east-1)")
            return None
        return v

    def words(self, name: str, pattern: str | None = None, expected: str | None = None) -> list[str]:
        """A comma-separated list; with `pattern`, entries that do not match it are problems (`expected`: what
        they should be)."""
        v = self.raw(name)
        if v is None:
            return []
        items = [i.strip() for i in v.split(",") if i.strip()]
        if pattern:
            bad = [i for i in items if not re.match(pattern, i)]
            if bad:
                tail = f" (expected {expected})" if expected else ""
                self.problems.append(f"{name} has malformed entries: {', '.join(b[:60] for b in bad)}{tail}")
                items = [i for i in items if i not in bad]
        return items

    def name(self, name: str) -> str | None:
        """An SES resource name (configuration set, tenant): letters, digits, `-` and `_`, up to 64."""
        v = self.raw(name)
        if v is not None and not re.match(r"^[A-Za-z0-9_-]{1,64}$", v):
            self.problems.append(f"{name}={v[:60]!r} is not an SES name (letters, digits, - and _, up to 64)")
            return None
        return v

    def clock_time(self, name: str) -> tuple[int, int] | None:
        """A time of day, `HH:MM` (24-hour, UTC), as (hour, minute); None when unset or `off`."""
        v = self.raw(name)
        if v is None or v.lower() == "off":
            return None
        m = re.match(r"^([01]?\d|2[0-3]):([0-5]\d)$", v)
        if not m:
            self.problems.append(f"{name}={v[:40]!r} is not a time of day (like 09:00, UTC)")
            return None
        return int(m.group(1)), int(m.group(2))

    def slack_id(self, name: str) -> str | None:
        """A Slack user (U.../W...) or user-group (S...) id."""
        return self.matching(name, USER_OR_GROUP_ID_RE, "a Slack user or group id (like U0123ABCD or S0123ABCD)")

    def sender(self, name: str) -> str | None:
        v = self.raw(name)
        if v is None:
            return None
        if not (EMAIL_RE.match(v) or DOMAIN_RE.match(v)):
            self.problems.append(f"{name}={v[:60]!r} is neither an email address nor a domain")
            return None
        return v

    def dns_servers(self, name: str) -> list[DnsServer]:
        """`IP[:port]` entries (`[v6]:port` for IPv6 with a port): the resolver library takes addresses only, so a
        host name would make every lookup time out."""
        out = []
        not_ip = "is not IP[:port] (an IP address like 10.0.0.2, 10.0.0.2:5353 or [::1]:5353, not a host name)"
        for item in self.words(name):
            host, port = item, 53
            if item.startswith("["):  # [v6]:port
                m = re.match(r"^\[([0-9a-fA-F:.]+)\](?::(\d+))?$", item)
                if not m:
                    self.problems.append(f"{name} entry {item!r} {not_ip}")
                    continue
                host, port = m.group(1), int(m.group(2) or 53)
            elif item.count(":") == 1:
                host, _, p = item.partition(":")
                if not p.isdigit() or not 0 < int(p) < 65536:
                    self.problems.append(f"{name} entry {item!r} has a bad port")
                    continue
                port = int(p)
            try:
                ipaddress.ip_address(host)
            except ValueError:
                self.problems.append(f"{name} entry {item[:60]!r} {not_ip}")
                continue
            out.append(DnsServer(host, port))
        return out

    def rate_levels(self) -> tuple[tuple[str, float, float], ...]:
        """SESBOT_BOUNCE_LEVELS / SESBOT_COMPLAINT_LEVELS: five comma-separated percentages, low to high."""
        names = [n for n, _, _ in DEFAULT_RATE_LEVELS]
        bounce = [b for _, b, _ in DEFAULT_RATE_LEVELS]
        complaint = [c for _, _, c in DEFAULT_RATE_LEVELS]
        for var, target in (("SESBOT_BOUNCE_LEVELS", bounce), ("SESBOT_COMPLAINT_LEVELS", complaint)):
            v = self.raw(var)
            if v is None:
                continue
            try:
                values = [float(x.strip().rstrip("%")) / 100 for x in v.split(",")]
            except ValueError:
                self.problems.append(f"{var}={v[:60]!r} should be five percentages like 2,4,5,8,10")
                continue
            if not all(math.isfinite(x) and 0 < x <= 1 for x in values):  # nan, inf: no alert could ever fire
                self.problems.append(f"{var}={v[:60]!r} should be percentages from above 0 to 100")
                continue
            if len(values) != len(names) or values != sorted(values) or values[0] <= 0:
                self.problems.append(f"{var}={v[:60]!r} should be five rising percentages ({', '.join(names)})")
                continue
            target[:] = values
        return tuple(zip(names, bounce, complaint, strict=True))
