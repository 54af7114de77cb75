"""A local stand-in for the AWS APIs sesbot talks to: moto in-process plus our own SES account layer.

`AwsPeer` serves one WSGI application on 127.0.0.1 (ephemeral port, threaded werkzeug server). Each request
goes through a thin layer of ours first, then, unless that layer answers it, on to moto's own server app
(`DomainDispatcherApplication(create_backend_app)`), so the code under test only ever sees an endpoint URL,
exactly as with AWS.

Our layer answers what moto 5.2.5 lacks or gets wrong, from state the test controls, per region (the region
is read from the SigV4 credential scope of each request):

* SESv2 account: ``GetAccount``, ``PutAccountSendingAttributes``, ``PutAccountDetails`` (production-access
  request -> ``Details.ReviewDetails.Status`` ``PENDING``), ``PutAccountSuppressionAttributes``.
* SESv2 suppression list: ``Put/Get/DeleteSuppressedDestination``, ``ListSuppressedDestinations`` (Reasons,
  StartDate/EndDate, PageSize/NextToken).
* SESv2 templates: ``Create/Get/Update/Delete/ListEmailTemplate(s)``, ``TestRenderEmailTemplate`` (``{{var}}``
  and ``{{a.b}}`` placeholders; block helpers such as ``{{#if}}`` are left as they are).
* SESv2 configuration sets: ``Create/Get/Update/DeleteConfigurationSetEventDestination(s)``,
  ``PutConfigurationSetReputationOptions``, ``PutConfigurationSetSendingOptions``; ``GetConfigurationSet`` is
  forwarded to moto and corrected (moto reports ``SendingEnabled`` false by default, nests it when given,
  and ignores the options above).
* SESv2 ``GetDedicatedIps`` / ``GetDedicatedIp`` from IPs a test sets.
* SESv2 ``GetEmailIdentity`` / ``ListEmailIdentities`` are forwarded to moto and overlaid with what a test
  set through `AwsPeer.set_identity` (moto alone reports ``VerificationStatus`` SUCCESS but
  ``VerifiedForSendingStatus`` false, DKIM ``NOT_STARTED`` without tokens, and no MAIL FROM attributes).
* SESv2 ``PutEmailIdentityConfigurationSetAttributes`` (moto has no route for it): sets or clears the
  identity's default configuration set on moto's own identity object, so moto's ``GetEmailIdentity`` reports
  it as ``ConfigurationSetName``.
* SESv2 ``DeleteEmailIdentity`` / ``DeleteConfigurationSet`` of something missing -> ``NotFoundException``
  (moto answers 200 and a 500 ``KeyError``); deleting drops the overrides and options kept here.
* SES v1 ``GetSendQuota``, ``GetAccountSendingEnabled``, ``UpdateAccountSendingEnabled`` from the same account
  state, so v1 and v2 agree.
* SES v1 ``GetIdentityNotificationAttributes`` from what moto stored through ``SetIdentityNotificationTopic``
  and ``SetIdentityFeedbackForwardingEnabled`` (moto keeps the topics but never returns them), plus
  ``SetIdentityHeadersInNotificationsEnabled`` (missing from moto). Identities moto does not have are left
  out of the map, as SES leaves out identities that are not verified.
* IAM ``SimulatePrincipalPolicy`` (moto: a 500): every action is ``allowed`` for any principal, except those a
  test named in `AwsPeer.deny_actions` (``implicitDeny``). No policy is evaluated. ``sts GetCallerIdentity``
  is moto's (``arn:aws:sts::123456789012:user/moto`` for the dummy credentials).
* Sending while the account (or, in v2, the configuration set) is paused fails like SES does:
  v2 ``SendEmail``/``SendBulkEmail`` -> ``SendingPausedException``; v1 ``Send*Email`` ->
  ``AccountSendingPausedException``. Otherwise sends go to moto, which does not enforce the sandbox.

Everything else (SESv2 identities, configuration sets, ``SendEmail``; SES v1; SNS; SQS; CloudWatch; ...) is
moto's. Moto's state lives in module globals, so it is shared by every peer in the process (and `reset`
clears it for all of them); our layer's state belongs to the peer. ``SentLast24Hours`` is what the test set,
not a count of sends. SESv2 templates live here, apart from moto's SES v1 templates; SES v1 identity calls
(``GetIdentityVerificationAttributes``...) do not see `set_identity` overrides.

Error injection (`AwsPeer.fail`) matches an operation by name for SESv2 (every operation in the botocore
model, ours and moto's), for query-protocol services such as SES v1 and SNS (``Action``), for JSON-protocol
services such as SQS (``X-Amz-Target``) and for CloudWatch's rpc-v2-cbor protocol (path); anything else can
be matched with a path prefix (an ``operation`` starting with ``/``) or ``"*"``. The error is encoded in the
protocol of the request, so botocore raises a ``ClientError`` with that code. Mind botocore's retries: a
throttling or 5xx error injected once is retried away unless the client sets ``max_attempts=1``.
"""

from __future__ import annotations

import base64
import copy
import fnmatch
import functools
import hashlib
import io
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs
from xml.sax.saxutils import escape as xml_escape

from peers.base import LOOPBACK, LoopbackPeer

if TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer

DEFAULT_REGION = "us-east-1"
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
#: The services `AwsPeer.client` builds clients for (the ones sesbot talks to).
AwsService = Literal["cloudwatch", "events", "iam", "ses", "sesv2", "sns", "sqs", "sts"]

_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
_SES_V1_XMLNS = "http://ses.amazonaws.com/doc/2010-12-01/"
_IAM_XMLNS = "https://iam.amazonaws.com/doc/2010-05-08/"
_ACCESS_KEY = re.compile(r"Credential=([^/,\s]+)/")
_NOTIFICATION_TYPES = ("Bounce", "Complaint", "Delivery")
_EVENT_TYPES = {
    "SEND",
    "REJECT",
    "BOUNCE",
    "COMPLAINT",
    "DELIVERY",
    "OPEN",
    "CLICK",
    "RENDERING_FAILURE",
    "DELIVERY_DELAY",
    "SUBSCRIPTION",
}
_PLACEHOLDER = re.compile(r"\{\{\{?\s*([A-Za-z_][\w.-]*)\s*\}?\}\}")
_V1_SENDS = {"SendEmail", "SendRawEmail", "SendTemplatedEmail", "SendBulkTemplatedEmail"}
_V2_SENDS = {"SendEmail", "SendBulkEmail"}


class _ApiError(Exception):
    """An AWS error for our layer to answer with, in the protocol of the request."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class AwsCall:
    """One request the peer received: ``service`` is the SigV4 service, ``sesv2`` for SESv2 paths."""

    service: str
    operation: str | None
    region: str
    method: str
    path: str


@dataclass
class _Failure:
    operation: str
    code: str
    status: int
    message: str
    remaining: int | None

    def matches(self, call: AwsCall) -> bool:
        wanted = self.operation
        if wanted == "*":
            return True
        if wanted.startswith("/"):
            return call.path.startswith(wanted)
        service, _, name = wanted.rpartition(":")
        if service and service != call.service:
            return False
        return name == call.operation


def _fresh_account() -> dict[str, Any]:
    return {
        "DedicatedIpAutoWarmupEnabled": False,
        "EnforcementStatus": "HEALTHY",
        "ProductionAccessEnabled": False,
        "SendQuota": {"Max24HourSend": 200.0, "MaxSendRate": 1.0, "SentLast24Hours": 0.0},
        "SendingEnabled": True,
        "SuppressionAttributes": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
    }


@dataclass
class _RegionState:
    account: dict[str, Any] = field(default_factory=_fresh_account)
    suppressed: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower-cased address -> entry
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    dedicated_ips: list[dict[str, Any]] = field(default_factory=list)
    identities: dict[str, dict[str, Any]] = field(default_factory=dict)  # identity -> overrides
    config_sets: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> our extra state


@dataclass
class _Request:
    environ: dict[str, Any]
    body: bytes
    call: AwsCall
    path_params: dict[str, str]
    query: dict[str, list[str]]

    def json(self) -> dict[str, Any]:
        if not self.body:
            return {}
        try:
            data = json.loads(self.body)
        except ValueError as exc:
            raise _ApiError("SerializationException", "Request body is not valid JSON.") from exc
        return data if isinstance(data, dict) else {}

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


# --------------------------------------------------------------------------------------------- routing


@functools.cache
def _sesv2_routes() -> list[tuple[str, re.Pattern[str], str]]:
    """(method, path regex, operation) for every SESv2 operation in botocore's model, most literal first."""
    from botocore.loaders import create_loader

    model = create_loader().load_service_model("sesv2", "service-2")
    routes: list[tuple[int, str, re.Pattern[str], str]] = []
    for name, op in model["operations"].items():
        uri = op["http"]["requestUri"].split("?", 1)[0]
        pattern = ""
        for part in re.split(r"(\{[^}]+\})", uri):
            if part.startswith("{"):
                label = part[1:-1]
                if label.endswith("+"):
                    pattern += f"(?P<{label[:-1]}>.+)"
                else:
                    pattern += f"(?P<{label}>[^/]+)"
            else:
                pattern += re.escape(part)
        literal = len(re.sub(r"\{[^}]+\}", "", uri))
        routes.append((literal, op["http"]["method"], re.compile(f"^{pattern}/?$"), name))
    # botocore before 1.43.105 listed identities with GET /v2/email/identities.
    routes.append((len("/v2/email/identities"), "GET", re.compile(r"^/v2/email/identities/?$"), "ListEmailIdentities"))
    routes.sort(key=lambda r: -r[0])
    return [(method, regex, name) for _, method, regex, name in routes]


def _resolve_sesv2(method: str, path: str) -> tuple[str | None, dict[str, str]]:
    for route_method, regex, name in _sesv2_routes():
        if route_method != method:
            continue
        match = regex.match(path)
        if match:
            return name, match.groupdict()
    return None, {}


def _region_and_service(environ: dict[str, Any]) -> tuple[str, str]:
    match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not match:
        credential = parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential", [""])[0]
        match = _SCOPE.search(f"Credential={credential}")
    if match:
        return match.group(1), match.group(2)
    return DEFAULT_REGION, ""


def _path_info(environ: dict[str, Any]) -> str:
    path = environ.get("PATH_INFO", "") or "/"
    try:  # PEP 3333: the decoded path arrives as latin-1 characters standing for bytes
        return path.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return path


def _classify(environ: dict[str, Any], body: bytes, path: str) -> tuple[AwsCall, dict[str, str]]:
    region, service = _region_and_service(environ)
    method = environ.get("REQUEST_METHOD", "GET").upper()
    operation: str | None = None
    params: dict[str, str] = {}
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if path.startswith("/v2/email"):
        service = "sesv2"
        operation, params = _resolve_sesv2(method, path)
    elif target:
        operation = target.rsplit(".", 1)[-1]
    elif "/operation/" in path and path.startswith("/service/"):
        operation = path.rsplit("/operation/", 1)[-1].strip("/") or None
    elif environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        operation = action[0] if action else None
    elif method == "GET":
        action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
        operation = action[0] if action else None
    return AwsCall(service or "unknown", operation, region, method, path), params


# ------------------------------------------------------------------------------------ wire encodings


def _cbor_head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    if n < 0x100:
        return bytes([major << 5 | 24, n])
    if n < 0x10000:
        return bytes([major << 5 | 25]) + n.to_bytes(2, "big")
    return bytes([major << 5 | 26]) + n.to_bytes(4, "big")


def _cbor_text_map(data: dict[str, str]) -> bytes:
    out = _cbor_head(5, len(data))
    for key, value in data.items():
        for text in (key, value):
            raw = text.encode("utf-8")
            out += _cbor_head(3, len(raw)) + raw
    return out


def _epoch(value: datetime) -> float:
    return round(value.timestamp(), 3)


def _parse_time(value: str | None, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _ApiError("BadRequestException", f"Invalid value for {name}: {value}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _page_size(raw: str | int | None, default: int, maximum: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        size = int(raw)
    except (TypeError, ValueError) as exc:
        raise _ApiError("BadRequestException", f"Invalid PageSize: {raw}") from exc
    if not 1 <= size <= maximum:
        raise _ApiError("BadRequestException", f"PageSize must be between 1 and {maximum}.")
    return size


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_token(token: str | None, invalid_code: str = "BadRequestException") -> int:
    if not token:
        return 0
    try:
        offset = int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
    except (ValueError, KeyError, TypeError) as exc:
        raise _ApiError(invalid_code, "The NextToken is not valid.") from exc
    if offset < 0:
        raise _ApiError(invalid_code, "The NextToken is not valid.")
    return offset


def _paginate(items: list[Any], offset: int, size: int) -> tuple[list[Any], str | None]:
    page = items[offset : offset + size]
    more = offset + size < len(items)
    return page, (_encode_token(offset + size) if more else None)


class _XmlMap(dict[str, Any]):
    """A query-protocol map: serialized as ``<entry><key>..</key><value>..</value></entry>``."""


def _xml_fields(value: Any) -> str:
    """The query-protocol XML body of ``value``: dicts are structures, lists ``<member>``s, `_XmlMap` maps."""
    if isinstance(value, _XmlMap):
        return "".join(
            f"<entry><key>{xml_escape(str(k))}</key><value>{_xml_fields(v)}</value></entry>" for k, v in value.items()
        )
    if isinstance(value, dict):
        return "".join(f"<{k}>{_xml_fields(v)}</{k}>" for k, v in value.items() if v is not None)
    if isinstance(value, list | tuple):
        return "".join(f"<member>{_xml_fields(v)}</member>" for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return xml_escape(str(value))


def _form_members(form: dict[str, str], name: str) -> list[str]:
    """The query-protocol list ``name`` (``name.member.1``, ``name.member.2``...) in order."""
    prefix = f"{name}.member."
    indexed = [
        (int(k[len(prefix) :]), v) for k, v in form.items() if k.startswith(prefix) and k[len(prefix) :].isdigit()
    ]
    return [v for _, v in sorted(indexed)]


def _moto_account(environ: dict[str, Any]) -> str:
    """The account moto files this request under, decided the way moto's own responses decide it."""
    import os

    from moto.iam.models import get_account_id_from

    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return str(environ["HTTP_X_MOTO_ACCOUNT_ID"])
    match = _ACCESS_KEY.search(environ.get("HTTP_AUTHORIZATION", ""))
    return get_account_id_from(match.group(1) if match else "")


def _ses_backend(req: _Request) -> Any:
    """moto's SES backend (v1 and v2 share it) for the account and region of ``req``."""
    from moto.ses.models import ses_backends

    return ses_backends[_moto_account(req.environ)][req.call.region]


def _moto_identity(backend: Any, identity: str) -> tuple[str, Any] | None:
    """(name, moto identity object) of ``identity`` in ``backend``; domains match whatever their case."""
    identities = backend.email_identities
    if identity in identities:
        return identity, identities[identity]
    for name, found in list(identities.items()):
        if name.lower() == identity.lower():
            return name, found
    return None


def _dkim_tokens(identity: str) -> list[str]:
    return [hashlib.sha256(f"{identity.lower()}/{i}".encode()).hexdigest()[:32] for i in range(3)]


# --------------------------------------------------------------------------------------- templates


def _lookup(data: Any, dotted: str) -> tuple[bool, Any]:
    value = data
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return False, None
    return True, value


def _render_part(text: str, data: dict[str, Any]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in ("else", "this") or name.startswith(("#", "/")):
            return match.group(0)
        found, value = _lookup(data, name)
        if not found:
            raise _ApiError("BadRequestException", f"Attribute '{name}' is not present in the rendering data.")
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dict | list):
            return json.dumps(value)
        return str(value)

    return _PLACEHOLDER.sub(substitute, text)


def render_template(content: dict[str, str | None], template_data: str) -> str:
    """Render a SESv2 template content (Subject/Text/Html) with JSON data to a MIME message, like SES."""
    try:
        data = json.loads(template_data)
    except (TypeError, ValueError) as exc:
        raise _ApiError("BadRequestException", "Template rendering data is invalid") from exc
    if not isinstance(data, dict):
        raise _ApiError("BadRequestException", "Template rendering data is invalid")
    subject = _render_part(content.get("Subject") or "", data)
    text_part, html_part = content.get("Text"), content.get("Html")
    text = _render_part(text_part, data) if text_part else None
    html = _render_part(html_part, data) if html_part else None

    def cte(part: str) -> str:
        return "7bit" if part.isascii() else "quoted-printable"

    message = EmailMessage()
    message["Subject"] = subject
    if text is not None and html is not None:
        message.set_content(text, cte=cte(text))
        message.add_alternative(html, subtype="html", cte=cte(html))
    elif html is not None:
        message.set_content(html, subtype="html", cte=cte(html))
    else:
        message.set_content(text or "", cte=cte(text or ""))
    return message.as_string()


# -------------------------------------------------------------------------------------------- the peer

Handler = Callable[["AwsPeer", _RegionState, _Request], dict[str, Any]]
_SESV2_HANDLERS: dict[str, Handler] = {}
_SESV1_HANDLERS: dict[str, Handler] = {}
_IAM_HANDLERS: dict[str, Handler] = {}


def _sesv2(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        _SESV2_HANDLERS[name] = func
        return func

    return register


def _sesv1(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        _SESV1_HANDLERS[name] = func
        return func

    return register


def _iam(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        _IAM_HANDLERS[name] = func
        return func

    return register


class AwsPeer(LoopbackPeer):
    """moto plus our SES account layer on 127.0.0.1 (ephemeral port); see the module docstring."""

    def __init__(self, *, host: str = LOOPBACK, port: int = 0) -> None:
        super().__init__(host)
        self._requested_port = port
        self._lock = threading.RLock()
        self._regions: dict[str, _RegionState] = {}
        self._failures: list[_Failure] = []
        self._delay = 0.0
        self._calls: list[AwsCall] = []
        self._case_ids = 0
        self._denied_actions: list[str] = []  # IAM action patterns SimulatePrincipalPolicy denies
        self._server: BaseWSGIServer | None = None
        self._moto: Any = None

    # ----------------------------------------------------------------------------------- lifecycle

    def _serve(self) -> int:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        class QuietHandler(MotoRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                pass

        self._moto = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(self.host, self._requested_port, self, threaded=True, request_handler=QuietHandler)
        self._serve_forever(self._server, "aws-peer")
        return int(self._server.server_port)

    def _shutdown(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    @property
    def endpoint_url(self) -> str:
        """What boto3 takes as ``endpoint_url`` (or ``AWS_ENDPOINT_URL``): ``http://127.0.0.1:PORT``."""
        return self.url

    def environ(self, region: str = DEFAULT_REGION) -> dict[str, str]:
        """Environment variables that point boto3 at this peer with dummy credentials."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": region,
        }

    def client(self, service_name: AwsService, region: str = DEFAULT_REGION, **kwargs: Any) -> Any:
        """A boto3 client for ``service_name`` pointed at this peer with dummy credentials."""
        import boto3

        options: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "region_name": region,
            **DUMMY_CREDENTIALS,
        }
        options.update(kwargs)
        return boto3.client(service_name, **options)

    # --------------------------------------------------------------------------------- test controls

    def _state(self, region: str) -> _RegionState:
        with self._lock:
            state = self._regions.get(region)
            if state is None:
                state = self._regions[region] = _RegionState()
            return state

    def set_account(
        self,
        region: str = DEFAULT_REGION,
        *,
        production_access: bool | None = None,
        sending_enabled: bool | None = None,
        enforcement_status: str | None = None,
        max_24h: float | None = None,
        max_rate: float | None = None,
        sent_last_24h: float | None = None,
        review_status: str | None = None,
        suppressed_reasons: list[str] | None = None,
    ) -> None:
        """Change the account state of ``region``; None leaves a field unchanged."""
        with self._lock:
            account = self._state(region).account
            if production_access is not None:
                account["ProductionAccessEnabled"] = bool(production_access)
            if sending_enabled is not None:
                account["SendingEnabled"] = bool(sending_enabled)
            if enforcement_status is not None:
                account["EnforcementStatus"] = enforcement_status
            quota = account["SendQuota"]
            if max_24h is not None:
                quota["Max24HourSend"] = float(max_24h)
            if max_rate is not None:
                quota["MaxSendRate"] = float(max_rate)
            if sent_last_24h is not None:
                quota["SentLast24Hours"] = float(sent_last_24h)
            if review_status is not None:
                details = account.setdefault("Details", {})
                review = details.setdefault("ReviewDetails", {"CaseId": self._next_case_id()})
                review["Status"] = review_status
            if suppressed_reasons is not None:
                account["SuppressionAttributes"]["SuppressedReasons"] = list(suppressed_reasons)

    def account(self, region: str = DEFAULT_REGION) -> dict[str, Any]:
        """The current ``GetAccount``-shaped state of ``region`` (a copy)."""
        with self._lock:
            return copy.deepcopy(self._state(region).account)

    def suppress(
        self,
        email: str,
        reason: str = "BOUNCE",
        region: str = DEFAULT_REGION,
        *,
        last_update: datetime | None = None,
        message_id: str | None = None,
        feedback_id: str | None = None,
    ) -> None:
        """Put ``email`` on the account suppression list of ``region``."""
        when = last_update or datetime.now(UTC)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        attributes: dict[str, str] = {}
        if message_id:
            attributes["MessageId"] = message_id
        if feedback_id:
            attributes["FeedbackId"] = feedback_id
        with self._lock:
            self._state(region).suppressed[email.lower()] = {
                "EmailAddress": email,
                "Reason": reason,
                "LastUpdateTime": when,
                "Attributes": attributes,
            }

    def suppressed(self, region: str = DEFAULT_REGION) -> dict[str, str]:
        """Address -> reason for everything on the suppression list of ``region``."""
        with self._lock:
            return {e["EmailAddress"]: e["Reason"] for e in self._state(region).suppressed.values()}

    def set_dedicated_ips(
        self,
        ips: list[str],
        region: str = DEFAULT_REGION,
        *,
        pool_name: str = "ses-default-dedicated-pool",
        warmup_status: str = "DONE",
        warmup_percentage: int = 100,
    ) -> None:
        """Replace the dedicated IPs ``GetDedicatedIps`` reports in ``region``."""
        entries = [
            {
                "Ip": ip,
                "WarmupStatus": warmup_status,
                "WarmupPercentage": warmup_percentage,
                "PoolName": pool_name,
            }
            for ip in ips
        ]
        with self._lock:
            self._state(region).dedicated_ips = entries

    def add_template(
        self,
        name: str,
        subject: str,
        html: str | None = None,
        text: str | None = None,
        region: str = DEFAULT_REGION,
    ) -> None:
        """Create (or replace) the SESv2 email template ``name`` in ``region``."""
        content = {"Subject": subject}
        if html is not None:
            content["Html"] = html
        if text is not None:
            content["Text"] = text
        with self._lock:
            self._state(region).templates[name] = {
                "TemplateName": name,
                "TemplateContent": content,
                "Tags": [],
                "CreatedTimestamp": datetime.now(UTC),
            }

    def set_identity(
        self,
        identity: str,
        region: str = DEFAULT_REGION,
        *,
        verified: bool = True,
        dkim_status: str = "SUCCESS",
        dkim_signing: bool = True,
        dkim_tokens: list[str] | None = None,
        mail_from_domain: str | None = None,
        mail_from_status: str | None = None,
        behavior_on_mx_failure: str = "USE_DEFAULT_VALUE",
        verification_error: str | None = None,
        verification_status: str | None = None,
    ) -> dict[str, Any]:
        """Create ``identity`` in moto if needed and override what Get/ListEmailIdentities report for it.

        ``verification_status`` defaults to SUCCESS when verified, FAILED with a ``verification_error``,
        PENDING otherwise. Domains get three deterministic Easy DKIM tokens unless ``dkim_tokens`` is given.
        ``DkimAttributes.SigningEnabled`` is ``dkim_signing`` (always false while DKIM is ``NOT_STARTED``), so
        a test can report verified DKIM keys that the owner turned off.
        A MAIL FROM domain reports ``mail_from_status`` (default SUCCESS). Returns the merged
        ``GetEmailIdentity`` answer.
        """
        status, _, data = self._moto_call("GET", f"/v2/email/identities/{identity}", region)
        if status == 404:
            status, _, data = self._moto_call("POST", "/v2/email/identities", region, {"EmailIdentity": identity})
        if status != 200:
            raise RuntimeError(f"moto could not create identity {identity!r}: {status} {data[:200]!r}")
        if verification_status is None:
            verification_status = "SUCCESS" if verified else ("FAILED" if verification_error else "PENDING")
        is_domain = "@" not in identity
        dkim: dict[str, Any] = {
            "SigningEnabled": bool(dkim_signing) and dkim_status != "NOT_STARTED",
            "Status": dkim_status,
            "SigningAttributesOrigin": "AWS_SES",
            "NextSigningKeyLength": "RSA_2048_BIT",
            "CurrentSigningKeyLength": "RSA_2048_BIT",
        }
        if dkim_tokens is not None or is_domain:
            dkim["Tokens"] = list(dkim_tokens) if dkim_tokens is not None else _dkim_tokens(identity)
        override: dict[str, Any] = {
            "VerifiedForSendingStatus": bool(verified),
            "VerificationStatus": verification_status,
            "DkimAttributes": dkim,
        }
        if verification_error:
            override["VerificationInfo"] = {
                "ErrorType": verification_error,
                "LastCheckedTimestamp": _epoch(datetime.now(UTC)),
            }
        elif verified:
            override["VerificationInfo"] = {
                "LastCheckedTimestamp": _epoch(datetime.now(UTC)),
                "LastSuccessTimestamp": _epoch(datetime.now(UTC)),
            }
        if mail_from_domain:
            override["MailFromAttributes"] = {
                "MailFromDomain": mail_from_domain,
                "MailFromDomainStatus": mail_from_status or "SUCCESS",
                "BehaviorOnMxFailure": behavior_on_mx_failure,
            }
        with self._lock:
            self._state(region).identities[identity] = override
        _, _, data = self._moto_call("GET", f"/v2/email/identities/{identity}", region)
        return self._merge_identity(region, identity, json.loads(data))

    def deny_actions(self, actions: Iterable[str]) -> None:
        """Make IAM ``SimulatePrincipalPolicy`` answer ``implicitDeny`` for ``actions`` (added to earlier ones).

        An entry is an IAM action (``ses:GetAccount``) or a pattern with ``*`` (``sqs:*``), compared without
        case as IAM does. Every other action simulates as ``allowed``; `reset` forgets the list.
        """
        with self._lock:
            self._denied_actions.extend(a.strip() for a in actions if a.strip())

    def _simulated_decision(self, action: str) -> str:
        with self._lock:
            patterns = list(self._denied_actions)
        denied = any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)
        return "implicitDeny" if denied else "allowed"

    def fail(
        self,
        operation: str,
        code: str = "ServiceUnavailable",
        status: int = 503,
        count: int | None = 1,
        *,
        message: str | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests (None: all of them) with an AWS error.

        ``operation`` is an operation name (``GetAccount``, ``SendEmail``, ``Publish``...), optionally
        qualified by service (``sesv2:SendEmail``, ``ses:SendEmail``, ``sqs:ReceiveMessage``), a path prefix
        starting with ``/``, or ``"*"``.
        """
        if count is not None and count < 1:
            raise ValueError("count must be at least 1, or None for every request")
        with self._lock:
            self._failures.append(_Failure(operation, code, status, message or f"{code} (injected)", count))

    def clear_failures(self) -> None:
        """Forget every injected error."""
        with self._lock:
            self._failures.clear()

    def set_delay(self, seconds: float) -> None:
        """Add ``seconds`` of latency to every AWS request (not to /moto-api)."""
        with self._lock:
            self._delay = max(0.0, float(seconds))

    @property
    def calls(self) -> list[AwsCall]:
        """Every AWS request received so far (a copy), oldest first."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, operation: str) -> list[AwsCall]:
        """The requests for ``operation`` (optionally ``service:Operation``)."""
        probe = _Failure(operation, "", 0, "", None)
        return [c for c in self.calls if probe.matches(c)]

    def reset(self) -> None:
        """Clear our state, injected errors, delay and call log, and reset moto (process-wide)."""
        with self._lock:
            self._regions.clear()
            self._failures.clear()
            self._calls.clear()
            self._denied_actions.clear()
            self._delay = 0.0
        if self._moto is not None:
            self._moto_call("POST", "/moto-api/reset", DEFAULT_REGION)

    # --------------------------------------------------------------------------------- WSGI entry

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = self._buffer(environ)
        path = _path_info(environ)
        if path.startswith("/moto-api") or path == "/favicon.ico":
            return self._moto(environ, start_response)
        call, path_params = _classify(environ, body, path)
        with self._lock:
            delay = self._delay
            self._calls.append(call)
            failure = self._take_failure(call)
        if delay:
            time.sleep(delay)
        if failure is not None:
            return self._error(environ, call, start_response, failure.code, failure.message, failure.status)
        request = _Request(environ, body, call, path_params, parse_qs(environ.get("QUERY_STRING", "")))
        try:
            if call.service == "sesv2":
                return self._sesv2(request, start_response)
            if call.service in ("ses", "email") and call.operation:
                return self._sesv1(request, start_response)
            iam_handler = _IAM_HANDLERS.get(call.operation or "") if call.service == "iam" else None
            if iam_handler is not None:
                result = iam_handler(self, self._state(call.region), request)
                return self._xml(start_response, call.operation or "", result, _IAM_XMLNS)
        except _ApiError as err:
            return self._error(environ, call, start_response, err.code, err.message, err.status)
        return self._moto(environ, start_response)

    def _take_failure(self, call: AwsCall) -> _Failure | None:
        for failure in self._failures:
            if failure.matches(call):
                if failure.remaining is not None:
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._failures.remove(failure)
                return failure
        return None

    @staticmethod
    def _buffer(environ: dict[str, Any]) -> bytes:
        """Read the whole body so moto never waits on the socket (it would, for 60 s)."""
        stream = environ.get("wsgi.input")
        body = b""
        if stream is not None:
            if environ.get("wsgi.input_terminated"):
                body = stream.read()
            else:
                try:
                    length = int(environ.get("CONTENT_LENGTH") or 0)
                except ValueError:
                    length = 0
                body = stream.read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return body

    # ------------------------------------------------------------------------------------ responses

    @staticmethod
    def _request_id() -> str:
        return str(uuid.uuid4())

    def _json(self, start_response: Callable[..., Any], payload: dict[str, Any], status: int = 200) -> list[bytes]:
        data = json.dumps(payload).encode()
        start_response(
            f"{status} {'OK' if status == 200 else 'Error'}",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(data))),
                ("x-amzn-RequestId", self._request_id()),
            ],
        )
        return [data]

    def _xml(
        self,
        start_response: Callable[..., Any],
        action: str,
        result: dict[str, Any],
        xmlns: str = _SES_V1_XMLNS,
    ) -> list[bytes]:
        """A query-protocol answer: ``result`` (see `_xml_fields`) inside ``<{action}Result>``."""
        fields = _xml_fields(result)
        # Always wrapped: botocore looks for the wrapper of any operation with an output, even an empty one.
        wrapped = f"<{action}Result>{fields}</{action}Result>"
        xml = (
            f'<{action}Response xmlns="{xmlns}">{wrapped}'
            f"<ResponseMetadata><RequestId>{self._request_id()}</RequestId></ResponseMetadata>"
            f"</{action}Response>"
        ).encode()
        start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(xml)))])
        return [xml]

    def _error(
        self,
        environ: dict[str, Any],
        call: AwsCall,
        start_response: Callable[..., Any],
        code: str,
        message: str,
        status: int,
    ) -> list[bytes]:
        request_id = self._request_id()
        headers = [("x-amzn-RequestId", request_id)]
        if call.service == "sesv2" or environ.get("CONTENT_TYPE", "").startswith("application/json"):
            data = json.dumps({"__type": code, "message": message}).encode()
            headers += [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
        elif "rpc-v2-cbor" in environ.get("HTTP_SMITHY_PROTOCOL", ""):
            data = _cbor_text_map({"__type": code, "message": message})
            headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
        elif environ.get("HTTP_X_AMZ_TARGET"):
            data = json.dumps({"__type": code, "message": message}).encode()
            headers += [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-ErrorType", code)]
        else:
            kind = "Sender" if status < 500 else "Receiver"
            data = (
                f"<ErrorResponse><Error><Type>{kind}</Type><Code>{xml_escape(code)}</Code>"
                f"<Message>{xml_escape(message)}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>"
            ).encode()
            headers += [("Content-Type", "text/xml")]
        headers.append(("Content-Length", str(len(data))))
        start_response(f"{status} Error", headers)
        return [data]

    # ---------------------------------------------------------------------------------------- moto

    def _moto_call(
        self, method: str, path: str, region: str, payload: dict[str, Any] | None = None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """An in-process request to moto, signed (well enough for moto) for ``region``."""
        from werkzeug.test import EnvironBuilder

        if self._moto is None:
            raise RuntimeError("AwsPeer is not started")
        headers = [
            (
                "Authorization",
                f"AWS4-HMAC-SHA256 Credential=testing/20240101/{region}/ses/aws4_request, "
                "SignedHeaders=host, Signature=0",
            ),
        ]
        data = json.dumps(payload).encode() if payload is not None else b""
        builder = EnvironBuilder(
            path=path,
            method=method,
            headers=headers,
            data=data,
            content_type="application/json",
            base_url=self.endpoint_url,
        )
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        return self._capture(environ)

    def _capture(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        from werkzeug.test import run_wsgi_app

        app_iter, status, headers = run_wsgi_app(self._moto, environ, buffered=True)
        try:
            data = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close:
                close()
        return int(status.split(" ", 1)[0]), list(headers.items()), data

    def _forward_and_edit(
        self,
        request: _Request,
        start_response: Callable[..., Any],
        edit: Callable[[dict[str, Any]], dict[str, Any]] | None,
        on_success: Callable[[], None] | None = None,
    ) -> list[bytes]:
        """Forward to moto; on 200, let ``edit`` rewrite the JSON answer and run ``on_success``."""
        status, headers, data = self._capture(request.environ)
        if status == 200:
            if on_success is not None:
                on_success()
            if edit is not None:
                try:
                    payload = json.loads(data) if data else {}
                except ValueError:
                    payload = None
                if isinstance(payload, dict):
                    data = json.dumps(edit(payload)).encode()
        kept = [(k, v) for k, v in headers if k.lower() != "content-length"]
        kept.append(("Content-Length", str(len(data))))
        start_response(f"{status} {'OK' if status == 200 else 'Error'}", kept)
        return [data]

    # --------------------------------------------------------------------------------------- SESv2

    def _sesv2(self, request: _Request, start_response: Callable[..., Any]) -> Iterable[bytes]:
        op = request.call.operation
        region = request.call.region
        params = request.path_params
        if op in _V2_SENDS:
            self._check_v2_send_allowed(request)
        elif op == "GetEmailIdentity":
            identity = params["EmailIdentity"]
            return self._forward_and_edit(request, start_response, lambda p: self._merge_identity(region, identity, p))
        elif op == "ListEmailIdentities":
            return self._forward_and_edit(request, start_response, lambda p: self._merge_identity_list(region, p))
        elif op == "DeleteEmailIdentity":  # moto answers 200 for a missing identity
            identity = params["EmailIdentity"]
            if self._moto_call("GET", f"/v2/email/identities/{identity}", region)[0] == 404:
                raise _ApiError("NotFoundException", f"Email identity {identity} does not exist.", 404)
            return self._forward_and_edit(
                request, start_response, None, lambda: self._drop(region, "identities", identity)
            )
        elif op == "GetConfigurationSet":
            name = params["ConfigurationSetName"]
            return self._forward_and_edit(request, start_response, lambda p: self._merge_config_set(region, name, p))
        elif op == "DeleteConfigurationSet":  # moto answers 500 (KeyError) for a missing set
            name = params["ConfigurationSetName"]
            self._require_config_set(region, name)
            return self._forward_and_edit(
                request, start_response, None, lambda: self._drop(region, "config_sets", name)
            )
        handler = _SESV2_HANDLERS.get(op or "")
        if handler is None:
            return self._moto(request.environ, start_response)
        return self._json(start_response, handler(self, self._state(region), request))

    def _sesv1(self, request: _Request, start_response: Callable[..., Any]) -> Iterable[bytes]:
        op = request.call.operation or ""
        if op in _V1_SENDS:
            with self._lock:
                enabled = self._state(request.call.region).account["SendingEnabled"]
            if not enabled:
                raise _ApiError("AccountSendingPausedException", "Email sending is disabled for your account.")
        handler = _SESV1_HANDLERS.get(op)
        if handler is None:
            return self._moto(request.environ, start_response)
        return self._xml(start_response, op, handler(self, self._state(request.call.region), request))

    def _check_v2_send_allowed(self, request: _Request) -> None:
        with self._lock:
            state = self._state(request.call.region)
            if not state.account["SendingEnabled"]:
                raise _ApiError("SendingPausedException", "Sending is paused for this account.")
            try:
                config_set = json.loads(request.body or b"{}").get("ConfigurationSetName")
            except ValueError:
                config_set = None
            extra = state.config_sets.get(config_set or "", {})
            if extra.get("SendingEnabled") is False:
                raise _ApiError(
                    "SendingPausedException",
                    f"Sending is paused for configuration set {config_set}.",
                )

    def _drop(self, region: str, attribute: str, key: str) -> None:
        with self._lock:
            getattr(self._state(region), attribute).pop(key, None)

    def _identity_override(self, region: str, identity: str) -> dict[str, Any] | None:
        with self._lock:
            overrides = self._state(region).identities
            found = overrides.get(identity) or overrides.get(identity.lower())
            return copy.deepcopy(found) if found else None

    def _merge_identity(self, region: str, identity: str, payload: dict[str, Any]) -> dict[str, Any]:
        override = self._identity_override(region, identity)
        if override is None:
            return payload
        merged = dict(payload)
        merged.update(override)
        if payload.get("DkimAttributes"):
            dkim = dict(payload["DkimAttributes"])
            dkim.pop("LastKeyGenerationTimestamp", None)
            dkim.update(override["DkimAttributes"])
            merged["DkimAttributes"] = dkim
        return {k: v for k, v in merged.items() if v is not None}

    def _merge_identity_list(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        entries = []
        for entry in payload.get("EmailIdentities") or []:
            override = self._identity_override(region, entry.get("IdentityName", ""))
            if override is not None:
                entry = dict(entry)
                entry["VerificationStatus"] = override["VerificationStatus"]
                entry["SendingEnabled"] = override["VerifiedForSendingStatus"]
            entries.append(entry)
        result = dict(payload, EmailIdentities=entries)
        return {k: v for k, v in result.items() if v is not None}

    def _merge_config_set(self, region: str, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            extra = copy.deepcopy(self._state(region).config_sets.get(name, {}))
        merged = dict(payload)
        sending = (payload.get("SendingOptions") or {}).get("SendingEnabled")
        if isinstance(sending, dict):  # moto nests the SendingOptions it was given
            sending = sending.get("SendingEnabled", True)
        if sending is None or sending == {}:
            sending = True
        if "SendingEnabled" in extra:
            sending = extra["SendingEnabled"]
        merged["SendingOptions"] = {"SendingEnabled": bool(sending)}
        reputation = dict(payload.get("ReputationOptions") or {})
        reputation.setdefault("ReputationMetricsEnabled", False)
        if "ReputationMetricsEnabled" in extra:
            reputation["ReputationMetricsEnabled"] = extra["ReputationMetricsEnabled"]
        merged["ReputationOptions"] = reputation
        return merged

    def _require_config_set(self, region: str, name: str) -> dict[str, Any]:
        """Our extra state for configuration set ``name``, which must exist in moto."""
        status, _, _ = self._moto_call("GET", f"/v2/email/configuration-sets/{name}", region)
        if status == 404:
            raise _ApiError("NotFoundException", f"Configuration set <{name}> does not exist.", 404)
        with self._lock:
            return self._state(region).config_sets.setdefault(name, {"EventDestinations": {}})

    def _next_case_id(self) -> str:
        with self._lock:
            self._case_ids += 1
            return f"{1000000000 + self._case_ids}"


# ------------------------------------------------------------------------------------ SESv2 handlers


@_sesv2("GetAccount")
def _get_account(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    with peer._lock:
        return copy.deepcopy(state.account)


@_sesv2("PutAccountSendingAttributes")
def _put_account_sending(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    enabled = req.json().get("SendingEnabled", False)
    with peer._lock:
        state.account["SendingEnabled"] = bool(enabled)
    return {}


@_sesv2("PutAccountDetails")
def _put_account_details(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    body = req.json()
    for required in ("MailType", "WebsiteURL"):
        if not body.get(required):
            raise _ApiError("BadRequestException", f"{required} is required.")
    if body["MailType"] not in ("MARKETING", "TRANSACTIONAL"):
        raise _ApiError("BadRequestException", f"Invalid MailType: {body['MailType']}")
    with peer._lock:
        previous = state.account.get("Details", {}).get("ReviewDetails", {})
        if previous.get("Status") == "PENDING":
            raise _ApiError("ConflictException", "A review of your account details is already in progress.", 409)
        details: dict[str, Any] = {
            k: body[k]
            for k in (
                "MailType",
                "WebsiteURL",
                "ContactLanguage",
                "UseCaseDescription",
                "AdditionalContactEmailAddresses",
            )
            if k in body
        }
        if body.get("ProductionAccessEnabled"):
            details["ReviewDetails"] = {"Status": "PENDING", "CaseId": peer._next_case_id()}
        elif previous:
            details["ReviewDetails"] = previous
        state.account["Details"] = details
    return {}


@_sesv2("PutAccountSuppressionAttributes")
def _put_account_suppression(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    reasons = req.json().get("SuppressedReasons") or []
    bad = [r for r in reasons if r not in ("BOUNCE", "COMPLAINT")]
    if bad:
        raise _ApiError("BadRequestException", f"Invalid suppression reasons: {bad}")
    with peer._lock:
        state.account["SuppressionAttributes"]["SuppressedReasons"] = list(reasons)
    return {}


def _suppressed_entry(entry: dict[str, Any], summary: bool) -> dict[str, Any]:
    out = {
        "EmailAddress": entry["EmailAddress"],
        "Reason": entry["Reason"],
        "LastUpdateTime": _epoch(entry["LastUpdateTime"]),
    }
    if not summary and entry["Attributes"]:
        out["Attributes"] = dict(entry["Attributes"])
    return out


@_sesv2("PutSuppressedDestination")
def _put_suppressed(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    body = req.json()
    email, reason = body.get("EmailAddress") or "", body.get("Reason")
    if "@" not in email:
        raise _ApiError("BadRequestException", f"Invalid email address: {email}")
    if reason not in ("BOUNCE", "COMPLAINT"):
        raise _ApiError("BadRequestException", f"Invalid reason: {reason}")
    peer.suppress(email, reason, req.call.region)
    return {}


@_sesv2("GetSuppressedDestination")
def _get_suppressed(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    email = req.path_params["EmailAddress"]
    with peer._lock:
        entry = state.suppressed.get(email.lower())
        if entry is None:
            raise _ApiError("NotFoundException", f"Email address {email} does not exist on your suppression list.", 404)
        return {"SuppressedDestination": _suppressed_entry(entry, summary=False)}


@_sesv2("DeleteSuppressedDestination")
def _delete_suppressed(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    email = req.path_params["EmailAddress"]
    with peer._lock:
        if state.suppressed.pop(email.lower(), None) is None:
            raise _ApiError("NotFoundException", f"Email address {email} does not exist on your suppression list.", 404)
    return {}


@_sesv2("ListSuppressedDestinations")
def _list_suppressed(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    reasons = req.query.get("Reason") or []
    bad = [r for r in reasons if r not in ("BOUNCE", "COMPLAINT")]
    if bad:
        raise _ApiError("BadRequestException", f"Invalid reasons: {bad}")
    start = _parse_time(req.q("StartDate"), "StartDate")
    end = _parse_time(req.q("EndDate"), "EndDate")
    size = _page_size(req.q("PageSize"), 100, 1000)
    offset = _decode_token(req.q("NextToken"), "InvalidNextTokenException")
    with peer._lock:
        entries = [
            e
            for e in state.suppressed.values()
            if (not reasons or e["Reason"] in reasons)
            and (start is None or e["LastUpdateTime"] >= start)
            and (end is None or e["LastUpdateTime"] <= end)
        ]
        entries.sort(key=lambda e: (-e["LastUpdateTime"].timestamp(), e["EmailAddress"].lower()))
        page, token = _paginate(entries, offset, size)
        result: dict[str, Any] = {"SuppressedDestinationSummaries": [_suppressed_entry(e, True) for e in page]}
    if token:
        result["NextToken"] = token
    return result


def _template_content(body: dict[str, Any]) -> dict[str, str]:
    content = body.get("TemplateContent")
    if not isinstance(content, dict):
        raise _ApiError("BadRequestException", "TemplateContent is required.")
    return {k: content[k] for k in ("Subject", "Text", "Html") if content.get(k) is not None}


@_sesv2("CreateEmailTemplate")
def _create_template(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    body = req.json()
    name = body.get("TemplateName") or ""
    if not name:
        raise _ApiError("BadRequestException", "TemplateName is required.")
    content = _template_content(body)
    with peer._lock:
        if name in state.templates:
            raise _ApiError("AlreadyExistsException", f"Template {name} already exists.")
        state.templates[name] = {
            "TemplateName": name,
            "TemplateContent": content,
            "Tags": list(body.get("Tags") or []),
            "CreatedTimestamp": datetime.now(UTC),
        }
    return {}


def _template(state: _RegionState, name: str) -> dict[str, Any]:
    template = state.templates.get(name)
    if template is None:
        raise _ApiError("NotFoundException", f"Template {name} does not exist.", 404)
    return template


@_sesv2("GetEmailTemplate")
def _get_template(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    with peer._lock:
        template = _template(state, req.path_params["TemplateName"])
        return {
            "TemplateName": template["TemplateName"],
            "TemplateContent": dict(template["TemplateContent"]),
            "Tags": list(template["Tags"]),
        }


@_sesv2("UpdateEmailTemplate")
def _update_template(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    content = _template_content(req.json())
    with peer._lock:
        _template(state, req.path_params["TemplateName"])["TemplateContent"] = content
    return {}


@_sesv2("DeleteEmailTemplate")
def _delete_template(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    name = req.path_params["TemplateName"]
    with peer._lock:
        _template(state, name)
        del state.templates[name]
    return {}


@_sesv2("ListEmailTemplates")
def _list_templates(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    size = _page_size(req.q("PageSize"), 100, 100)
    offset = _decode_token(req.q("NextToken"))
    with peer._lock:
        templates = sorted(state.templates.values(), key=lambda t: (t["CreatedTimestamp"], t["TemplateName"]))
        page, token = _paginate(templates, offset, size)
        result: dict[str, Any] = {
            "TemplatesMetadata": [
                {"TemplateName": t["TemplateName"], "CreatedTimestamp": _epoch(t["CreatedTimestamp"])} for t in page
            ]
        }
    if token:
        result["NextToken"] = token
    return result


@_sesv2("TestRenderEmailTemplate")
def _test_render(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    body = req.json()
    with peer._lock:
        content = dict(_template(state, req.path_params["TemplateName"])["TemplateContent"])
    if "TemplateData" not in body:
        raise _ApiError("BadRequestException", "TemplateData is required.")
    return {"RenderedTemplate": render_template(content, body["TemplateData"])}


def _event_destination(definition: Any) -> dict[str, Any]:
    if not isinstance(definition, dict):
        raise _ApiError("BadRequestException", "EventDestination is required.")
    types = definition.get("MatchingEventTypes") or []
    bad = [t for t in types if t not in _EVENT_TYPES]
    if bad:
        raise _ApiError("BadRequestException", f"Invalid event types: {bad}")
    if not types:
        raise _ApiError("BadRequestException", "MatchingEventTypes must not be empty.")
    result = dict(definition)
    result.setdefault("Enabled", False)
    return result


@_sesv2("CreateConfigurationSetEventDestination")
def _create_event_destination(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    body = req.json()
    name = body.get("EventDestinationName") or ""
    if not name:
        raise _ApiError("BadRequestException", "EventDestinationName is required.")
    definition = _event_destination(body.get("EventDestination"))
    extra = peer._require_config_set(req.call.region, req.path_params["ConfigurationSetName"])
    with peer._lock:
        destinations = extra.setdefault("EventDestinations", {})
        if name in destinations:
            raise _ApiError("AlreadyExistsException", f"Event destination {name} already exists.")
        destinations[name] = definition
    return {}


@_sesv2("GetConfigurationSetEventDestinations")
def _get_event_destinations(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    extra = peer._require_config_set(req.call.region, req.path_params["ConfigurationSetName"])
    with peer._lock:
        destinations = copy.deepcopy(extra.get("EventDestinations", {}))
    return {"EventDestinations": [{"Name": name, **d} for name, d in destinations.items()]}


def _existing_destination(extra: dict[str, Any], name: str, config_set: str) -> dict[str, Any]:
    destinations = extra.setdefault("EventDestinations", {})
    if name not in destinations:
        raise _ApiError(
            "NotFoundException",
            f"Event destination {name} does not exist in configuration set {config_set}.",
            404,
        )
    return destinations


@_sesv2("UpdateConfigurationSetEventDestination")
def _update_event_destination(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    config_set, name = req.path_params["ConfigurationSetName"], req.path_params["EventDestinationName"]
    definition = _event_destination(req.json().get("EventDestination"))
    extra = peer._require_config_set(req.call.region, config_set)
    with peer._lock:
        _existing_destination(extra, name, config_set)[name] = definition
    return {}


@_sesv2("DeleteConfigurationSetEventDestination")
def _delete_event_destination(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    config_set, name = req.path_params["ConfigurationSetName"], req.path_params["EventDestinationName"]
    extra = peer._require_config_set(req.call.region, config_set)
    with peer._lock:
        del _existing_destination(extra, name, config_set)[name]
    return {}


@_sesv2("PutConfigurationSetReputationOptions")
def _put_reputation_options(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    enabled = bool(req.json().get("ReputationMetricsEnabled", False))
    extra = peer._require_config_set(req.call.region, req.path_params["ConfigurationSetName"])
    with peer._lock:
        extra["ReputationMetricsEnabled"] = enabled
    return {}


@_sesv2("PutConfigurationSetSendingOptions")
def _put_sending_options(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    enabled = bool(req.json().get("SendingEnabled", False))
    extra = peer._require_config_set(req.call.region, req.path_params["ConfigurationSetName"])
    with peer._lock:
        extra["SendingEnabled"] = enabled
    return {}


@_sesv2("GetDedicatedIps")
def _get_dedicated_ips(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    pool = req.q("PoolName")
    size = _page_size(req.q("PageSize"), 100, 1000)
    offset = _decode_token(req.q("NextToken"))
    with peer._lock:
        ips = [dict(ip) for ip in state.dedicated_ips if pool is None or ip["PoolName"] == pool]
    page, token = _paginate(ips, offset, size)
    result: dict[str, Any] = {"DedicatedIps": page}
    if token:
        result["NextToken"] = token
    return result


@_sesv2("GetDedicatedIp")
def _get_dedicated_ip(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    wanted = req.path_params["IP"]
    with peer._lock:
        for ip in state.dedicated_ips:
            if ip["Ip"] == wanted:
                return {"DedicatedIp": dict(ip)}
    raise _ApiError("NotFoundException", f"Dedicated IP {wanted} does not exist.", 404)


@_sesv2("PutEmailIdentityConfigurationSetAttributes")
def _put_identity_config_set(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    identity = req.path_params["EmailIdentity"]
    name = req.json().get("ConfigurationSetName") or None  # absent or empty: no default set any more
    backend = _ses_backend(req)
    found = _moto_identity(backend, identity)
    if found is None:
        raise _ApiError("NotFoundException", f"Email identity {identity} does not exist.", 404)
    if name is not None and name not in backend.config_sets:
        raise _ApiError("NotFoundException", f"Configuration set <{name}> does not exist.", 404)
    # moto's GetEmailIdentity reports this attribute of its own identity object.
    found[1].configuration_set_name = name
    return {}


# -------------------------------------------------------------------------------------- SES v1 handlers


@_sesv1("GetSendQuota")
def _v1_get_send_quota(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    with peer._lock:
        quota = dict(state.account["SendQuota"])
    return {
        "Max24HourSend": quota["Max24HourSend"],
        "MaxSendRate": quota["MaxSendRate"],
        "SentLast24Hours": quota["SentLast24Hours"],
    }


@_sesv1("GetAccountSendingEnabled")
def _v1_get_sending_enabled(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    with peer._lock:
        return {"Enabled": "true" if state.account["SendingEnabled"] else "false"}


@_sesv1("UpdateAccountSendingEnabled")
def _v1_update_sending_enabled(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    enabled = req.form().get("Enabled", "false").lower() == "true"
    with peer._lock:
        state.account["SendingEnabled"] = enabled
    return {}


def _headers_key(notification_type: str) -> str:
    # Kept beside moto's own entries in its per-identity notification dict, so moto's reset clears them too.
    return f"headers_in_{notification_type.lower()}_notifications_enabled"


@_sesv1("GetIdentityNotificationAttributes")
def _v1_get_notification_attributes(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    backend = _ses_backend(req)
    attributes = _XmlMap()
    for identity in _form_members(req.form(), "Identities"):
        found = _moto_identity(backend, identity)
        if found is None:  # SES leaves out identities it does not have
            continue
        stored = dict(backend.sns_topics.get(found[0]) or backend.sns_topics.get(identity) or {})
        entry: dict[str, Any] = {}
        for kind in _NOTIFICATION_TYPES:
            if stored.get(kind):
                entry[f"{kind}Topic"] = stored[kind]
        entry["ForwardingEnabled"] = bool(stored.get("feedback_forwarding_enabled", True))
        for kind in _NOTIFICATION_TYPES:
            entry[f"HeadersIn{kind}NotificationsEnabled"] = bool(stored.get(_headers_key(kind), False))
        attributes[identity] = entry
    return {"NotificationAttributes": attributes}


@_sesv1("SetIdentityHeadersInNotificationsEnabled")
def _v1_set_headers_in_notifications(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    form = req.form()
    identity, kind = form.get("Identity", ""), form.get("NotificationType", "")
    if kind not in _NOTIFICATION_TYPES:
        raise _ApiError("InvalidParameterValue", f"Invalid notification type: {kind}")
    backend = _ses_backend(req)
    found = _moto_identity(backend, identity)
    name = found[0] if found else identity
    backend.sns_topics.setdefault(name, {})[_headers_key(kind)] = form.get("Enabled", "").lower() == "true"
    return {}


# ------------------------------------------------------------------------------------------ IAM handlers


@_iam("SimulatePrincipalPolicy")
def _iam_simulate_principal_policy(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    form = req.form()
    source = form.get("PolicySourceArn", "")
    if not source.startswith("arn:"):
        raise _ApiError("InvalidInput", f"Invalid ARN: {source!r}")
    actions = _form_members(form, "ActionNames")
    if not actions:
        raise _ApiError("InvalidInput", "ActionNames must not be empty.")
    resources = _form_members(form, "ResourceArns") or ["*"]
    # One result per action, as IAM now answers; it names the resource only when there is one.
    resource = resources[0] if len(resources) == 1 else "*"
    results = [
        {
            "EvalActionName": action,
            "EvalResourceName": resource,
            "EvalDecision": peer._simulated_decision(action),
            "MatchedStatements": [],
            "MissingContextValues": [],
        }
        for action in actions
    ]
    return {"EvaluationResults": results, "IsTruncated": False}


__all__ = ["DEFAULT_REGION", "AwsCall", "AwsPeer", "render_template"]

if __name__ == "__main__":  # pragma: no cover - manual use: python -m peers.aws
    AwsPeer().serve_until_interrupted(lambda peer: f"AWS peer at {peer.endpoint_url}")
