"""AWS access: one boto3 session, one client per (service, region), built lazily and reused.

boto3 clients are thread-safe once built; sessions are not, so clients are created under a lock.
Nothing here touches the network until a client is used. `AWS_ENDPOINT_URL` (or the
`aws_endpoint_url` setting) points every client at another endpoint, as the tests and the demo do.

Other accounts (`SESBOT_ACCOUNTS`): `clients.for_account(account)` is a factory of the same kind whose
session holds the credentials of the account's role, assumed with STS from the default credentials the
first time a client signs a request, and assumed again before they expire (botocore's refreshable
credentials: 15 minutes ahead, on the clock the bot runs on).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import urlsplit

import boto3
import botocore.config
import botocore.credentials
import botocore.exceptions
import botocore.session

from bot.settings import REGION_RE, Account, Settings

if TYPE_CHECKING:
    from botocore.config import _RetryDict

# Retries, stated once: botocore's standard mode (exponential backoff with jitter, retry quota, throttling
# and transient errors only), ATTEMPTS tries in all including the first. A client tuned for one use (a
# probe that must not wait out retries) passes its own total.
RETRY_MODE: Final[Literal["standard"]] = "standard"
ATTEMPTS = 3
# How long an assumed role's credentials last; refreshed 15 minutes before the end (botocore's advisory
# window), so a sweep or a diagnosis never signs with credentials about to expire.
ASSUMED_ROLE_SECONDS = 3600


def retry_config(attempts: int = ATTEMPTS) -> _RetryDict:
    """botocore's `retries` setting for `attempts` tries in all."""
    return {"mode": RETRY_MODE, "total_max_attempts": attempts}


def _utcnow() -> datetime:
    return datetime.now(UTC)


class AwsClients:
    """Client factory: `clients.get("sesv2", "eu-west-1")`; `clients.for_account(a)` for another account."""

    def __init__(
        self,
        settings: Settings,
        session: boto3.session.Session | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ):
        self.settings = settings
        self._session = session or boto3.session.Session()
        self._clock = clock
        self._clients: dict[tuple[str, str, float | None, int | None], Any] = {}
        self._accounts: dict[str, AwsClients] = {}
        self._lock = threading.Lock()
        # Kept alongside the Config: botocore's Config exposes its options only as untyped attributes.
        self._read_timeout = max(1.0, settings.check_timeout)
        self._config = botocore.config.Config(
            connect_timeout=min(5.0, settings.check_timeout),
            read_timeout=self._read_timeout,
            retries=retry_config(),
        )

    def get(
        self,
        service: str,
        region: str | None = None,
        *,
        read_timeout: float | None = None,
        attempts: int | None = None,
    ) -> Any:
        """A client for `service` in `region` (default: the first configured region).

        `read_timeout` and `attempts` tune a client for one use (an SQS long poll needs a read timeout
        longer than its wait; a probe that must not wait out retries tries once); each tuning is its
        own cached client from the same session and credentials.
        """
        region = region or (self.settings.regions[0] if self.settings.regions else None)
        if not region:
            raise MissingRegion()
        key = (service, region, read_timeout, attempts)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                config = self._config
                if read_timeout is not None or attempts is not None:
                    config = config.merge(
                        botocore.config.Config(
                            read_timeout=read_timeout if read_timeout is not None else self._read_timeout,
                            retries=retry_config(attempts or ATTEMPTS),
                        )
                    )
                # The stubs overload `client` per Literal service name; ours is a runtime str and the
                # result is used untyped (Any) anyway, so call it through its dynamic signature.
                # endpoint_url=None is botocore's default: the service's own endpoint.
                make_client: Callable[..., Any] = self._session.client
                client = make_client(
                    service,
                    region_name=region,
                    config=config,
                    endpoint_url=self.settings.aws_endpoint_url or None,
                )
                self._clients[key] = client
            return client

    def for_account(self, account: Account | None) -> AwsClients:
        """The factory for `account`: this one for the default credentials, else one on its assumed role."""
        if account is None or not account.role_arn:
            return self
        with self._lock:
            clients = self._accounts.get(account.name)
            if clients is None:
                session = assumed_role_session(self, account)
                clients = self._accounts[account.name] = AwsClients(self.settings, session, clock=self._clock)
            return clients

    def credentials(self) -> Any:
        """The session's current credentials (botocore's object; refreshable for an assumed role)."""
        return self._session.get_credentials()


def assumed_role_session(base: AwsClients, account: Account) -> boto3.session.Session:
    """A session whose credentials are `account`'s role, assumed through `base`'s STS when first needed."""
    role_arn = account.role_arn or ""

    def assume() -> dict[str, str]:
        answer = base.get("sts").assume_role(
            RoleArn=role_arn, RoleSessionName=f"sesbot-{account.name}", DurationSeconds=ASSUMED_ROLE_SECONDS
        )
        creds = answer["Credentials"]
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": creds["Expiration"].astimezone(UTC).isoformat(),
        }

    credentials = botocore.credentials.DeferredRefreshableCredentials(
        refresh_using=assume, method="sts-assume-role", time_fetcher=base._clock
    )
    core = botocore.session.Session()
    # botocore has no public setter for a session's credentials object; this is the attribute its own
    # credential resolver fills, and a refreshable object set here is refreshed by every client.
    core._credentials = credentials  # type: ignore[attr-defined]
    return boto3.session.Session(botocore_session=core)


class MissingRegion(Exception):
    def __str__(self) -> str:
        return "no AWS region is configured: set AWS_REGION (or SESBOT_REGIONS)"


@functools.cache
def known_regions() -> frozenset[str]:
    """Every region botocore's endpoint data lists, in every partition (empty when it cannot be read)."""
    try:
        data = botocore.session.get_session().get_data("endpoints")
    except Exception:  # noqa: BLE001 - a hint, never a failure
        return frozenset()
    return frozenset(region for partition in data.get("partitions", []) for region in partition.get("regions", {}))


def unknown_region_hint(endpoint_url: str) -> str:
    """The hint `; REGION is not a region this botocore (VERSION) knows: check the name` when the endpoint's host
    names a region botocore's data does not list, else "". Such a region is never refused (a region newer than
    the installed botocore must keep working): it is only named where its endpoint cannot be reached."""
    host = urlsplit(endpoint_url).hostname or ""
    region = next((label for label in host.split(".") if REGION_RE.match(label)), None)
    known = known_regions()
    if region is None or not known or region in known:
        return ""
    return f"; {region} is not a region this botocore ({botocore.__version__}) knows: check the name"


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError (`NotFoundException`, ...), else None."""
    if isinstance(exc, botocore.exceptions.ClientError):
        return exc.response.get("Error", {}).get("Code")
    return None


def describe_error(exc: BaseException) -> str:
    """One line for a person: what went wrong talking to AWS, without credentials or stack."""
    if isinstance(exc, botocore.exceptions.ClientError):
        err = exc.response.get("Error", {})
        code = err.get("Code") or "Error"
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            op = getattr(exc, "operation_name", "")
            return f"AWS refused {op} (AccessDenied): grant the bot's role that permission (see README, IAM policy)"
        msg = (err.get("Message") or "").strip()
        return f"{code}: {msg}"[:300] if msg else code
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or use a role"
    if isinstance(exc, botocore.exceptions.EndpointConnectionError | botocore.exceptions.ConnectTimeoutError):
        hint = unknown_region_hint(str(exc.kwargs.get("endpoint_url", "")))
        return f"cannot reach the AWS API endpoint (network or AWS_ENDPOINT_URL){hint}"
    if isinstance(exc, botocore.exceptions.ReadTimeoutError):
        return "the AWS API did not answer in time"
    if isinstance(exc, MissingRegion):
        return str(exc)
    return f"{type(exc).__name__}: {str(exc)[:200]}"
