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
* SESv2 account extras: ``GetAccount`` always reports ``VdmAttributes`` (``DISABLED`` on a fresh account),
  ``PricingAttributes`` once a test set a plan, and ``SuppressionAttributes.ValidationAttributes`` (Auto
  Validation) once set; ``PutAccountVdmAttributes``.
* SESv2 configuration-set options: ``GetConfigurationSet`` also reports ``DeliveryOptions`` (``TlsPolicy``,
  ``SendingPoolName``) and ``SuppressionOptions`` set through `AwsPeer.set_config_set_options` or
  ``PutConfigurationSetDeliveryOptions`` / ``PutConfigurationSetSuppressionOptions``.
* SESv2 tenants: ``Create/Get/DeleteTenant``, ``ListTenants`` (Filter, paging),
  ``Create/DeleteTenantResourceAssociation``, ``ListTenantResources``, ``ListResourceTenants``; tenant
  suppression lists (``TenantName`` on ``Put/Get/DeleteSuppressedDestination`` and
  ``ListSuppressedDestinations``: a tenant's list and the account list never see each other's entries).
* SESv2 reputation entities: ``GetReputationEntity`` / ``ListReputationEntities`` (``SendingStatusAggregate``
  is DISABLED if either status is, else REINSTATED if either is, else ENABLED).
* SESv2 Virtual Deliverability Manager: ``GetMessageInsights``, ``ListRecommendations`` (Filter, paging);
  both answer ``BadRequestException`` while VDM is disabled. ``GetEmailAddressInsights`` (defaults for an
  address a test never set: valid, HIGH confidence, not a role/disposable/random address).
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
* CloudWatch ``GetMetricWidgetImage`` (moto: a 500): the request is checked against botocore's input shape and
  the widget JSON as CloudWatch checks it (`peers.cloudwatch_widget`), then drawn as a real PNG from the data
  points moto holds, with its horizontal annotations; every widget drawn is kept in `AwsPeer.widgets`.
* Sending while the account (or, in v2, the configuration set) is paused fails like SES does:
  v2 ``SendEmail``/``SendBulkEmail`` -> ``SendingPausedException``; v1 ``Send*Email`` ->
  ``AccountSendingPausedException``. Otherwise sends go to moto, which does not enforce the sandbox.

Shape fidelity: every SESv2 answer our layer builds (or edits from moto's) is checked against the operation's
output shape in botocore's model (`sesv2_shape_problems`: unknown members, wrong types, enum values, missing
required members). A mismatch is answered with a 500 ``PeerShapeError`` naming the problem, logged, and kept in
`AwsPeer.shape_problems`, so no test passes on an answer SES would not send. One exception, for tests of what
the bot makes of a value newer than botocore's list (SES adds enum values before botocore learns them):
`AwsPeer.allow_newer_values` names enum values the check (and the controls below) accept, until `reset`.

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
import contextlib
import copy
import fnmatch
import functools
import hashlib
import io
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape as xml_escape

from peers.base import LOOPBACK, LoopbackPeer

if TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer

DEFAULT_REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
#: The services `AwsPeer.client` builds clients for (the ones sesbot talks to).
AwsService = Literal["cloudwatch", "events", "iam", "ses", "sesv2", "sns", "sqs", "sts"]

_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
_SES_V1_XMLNS = "http://ses.amazonaws.com/doc/2010-12-01/"
_IAM_XMLNS = "https://iam.amazonaws.com/doc/2010-05-08/"
_CLOUDWATCH_XMLNS = "http://monitoring.amazonaws.com/doc/2010-08-01/"
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
_LOG = logging.getLogger(__name__)
_VDM_OFF = "Virtual Deliverability Manager is not enabled for this account. Enable VDM to use this operation."
_SENDING_STATUSES = ("ENABLED", "REINSTATED", "DISABLED")
_RESOURCE_TYPES = {"identity": "EMAIL_IDENTITY", "configuration-set": "CONFIGURATION_SET", "template": "EMAIL_TEMPLATE"}
_VERDICTS = ("LOW", "MEDIUM", "HIGH")


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
    account: str = "123456789012"  # the account moto files it under (an assumed role's own account)


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
        "VdmAttributes": {"VdmEnabled": "DISABLED"},
    }


@dataclass
class _RegionState:
    account: dict[str, Any] = field(default_factory=_fresh_account)
    suppressed: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower-cased address -> entry
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    dedicated_ips: list[dict[str, Any]] = field(default_factory=list)
    identities: dict[str, dict[str, Any]] = field(default_factory=dict)  # identity -> overrides
    config_sets: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> our extra state
    tenants: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> tenant (+ "Resources")
    tenant_suppressed: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # tenant -> list
    reputation: dict[str, dict[str, Any]] = field(default_factory=dict)  # entity reference -> entity
    message_insights: dict[str, dict[str, Any]] = field(default_factory=dict)  # message id -> insights
    recommendations: list[dict[str, Any]] = field(default_factory=list)
    email_insights: dict[str, dict[str, str]] = field(default_factory=dict)  # lower-cased address -> verdicts


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
        # Route on the raw path first: a label such as an ARN arrives with its "/" percent-encoded.
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
        raw_path = urlsplit(raw).path if raw else ""
        if raw_path.startswith("/v2/email"):
            operation, params = _resolve_sesv2(method, raw_path)
            params = {k: unquote(v) for k, v in params.items()}
        if operation is None:
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
    return AwsCall(service or "unknown", operation, region, method, path, _moto_account(environ)), params


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


def _wire(value: Any) -> Any:
    """``value`` with every datetime turned into epoch seconds (the rest-json timestamp), copied."""
    if isinstance(value, datetime):
        return _epoch(value if value.tzinfo else value.replace(tzinfo=UTC))
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    return value


# ------------------------------------------------------------------------------------ shape fidelity


@functools.cache
def _sesv2_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("sesv2")


@functools.cache
def _cloudwatch_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("cloudwatch")


def sesv2_shape_problems(operation: str, payload: Any, newer_values: Collection[str] = ()) -> list[str]:
    """What is wrong with ``payload`` as the JSON body of a SESv2 ``operation`` answer; [] if nothing.

    Checked against the operation's output shape in botocore's model: member names, types (a timestamp is
    epoch seconds, as rest-json sends it), enum values (or one of ``newer_values``) and required members.
    """
    from botocore.model import OperationNotFoundError

    try:
        shape = _sesv2_model().operation_model(operation).output_shape
    except OperationNotFoundError:
        return [f"{operation} is not a SESv2 operation"]
    if shape is None:
        return [] if not payload else [f"{operation} has no output, but the answer is {payload!r}"]
    problems: list[str] = []
    _check_shape(shape, payload, operation, problems, newer_values)
    return problems


def _check_shape(shape: Any, value: Any, where: str, problems: list[str], newer: Collection[str] = ()) -> None:
    kind = shape.type_name
    if shape.metadata.get("document"):
        return
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append(f"{where}: expected a {shape.name} structure, got {type(value).__name__} {value!r}")
            return
        members = shape.members
        for name, member_value in value.items():
            member = members.get(name)
            if member is None:
                problems.append(f"{where}: {name!r} is not a member of {shape.name}")
            elif member.serialization.get("location"):
                problems.append(f"{where}.{name}: belongs in the {member.serialization['location']}, not the body")
            elif member_value is None:
                problems.append(f"{where}.{name}: null (leave the member out instead)")
            else:
                _check_shape(member, member_value, f"{where}.{name}", problems, newer)
        for name in shape.required_members:
            if name not in value and not members[name].serialization.get("location"):
                problems.append(f"{where}: required member {name!r} of {shape.name} is missing")
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{where}: expected a list ({shape.name}), got {type(value).__name__} {value!r}")
            return
        for i, item in enumerate(value):
            _check_shape(shape.member, item, f"{where}[{i}]", problems, newer)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(f"{where}: expected a map ({shape.name}), got {type(value).__name__} {value!r}")
            return
        for key, item in value.items():
            _check_shape(shape.key, key, f"{where} key", problems, newer)
            _check_shape(shape.value, item, f"{where}[{key!r}]", problems, newer)
    elif kind == "string":
        if not isinstance(value, str):
            problems.append(f"{where}: expected a string ({shape.name}), got {type(value).__name__} {value!r}")
        elif shape.enum and value not in shape.enum and value not in newer:
            problems.append(f"{where}: {value!r} is not one of {shape.name} {list(shape.enum)}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{where}: expected an {kind} ({shape.name}), got {type(value).__name__} {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{where}: expected a boolean ({shape.name}), got {type(value).__name__} {value!r}")
    elif kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{where}: expected a {kind} ({shape.name}), got {type(value).__name__} {value!r}")
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{where}: expected epoch seconds ({shape.name}), got {type(value).__name__} {value!r}")
    elif kind == "blob":
        if not isinstance(value, str):
            problems.append(f"{where}: expected base64 text ({shape.name}), got {type(value).__name__}")


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


# ------------------------------------------------------------------------------------ tenants and VDM


def _validation(threshold: str) -> dict[str, Any]:
    """Auto Validation attributes/options for ``threshold`` ("MEDIUM"|"HIGH"|"MANAGED"; "" for off)."""
    if not threshold:
        return {"ConditionThreshold": {"ConditionThresholdEnabled": "DISABLED"}}
    if threshold not in ("MEDIUM", "HIGH", "MANAGED"):
        raise ValueError(f"validation threshold must be MEDIUM, HIGH, MANAGED or empty, not {threshold!r}")
    return {
        "ConditionThreshold": {
            "ConditionThresholdEnabled": "ENABLED",
            "OverallConfidenceThreshold": {"ConfidenceVerdictThreshold": threshold},
        }
    }


def _tenant_id(region: str, name: str) -> str:
    return "tn-" + hashlib.sha256(f"{region}/{name}".encode()).hexdigest()[:17]


def _new_tenant(
    region: str, name: str, suppression: dict[str, Any] | None, tags: dict[str, str] | None
) -> dict[str, Any]:
    tenant_id = _tenant_id(region, name)
    tenant: dict[str, Any] = {
        "TenantName": name,
        "TenantId": tenant_id,
        "TenantArn": f"arn:aws:ses:{region}:{ACCOUNT_ID}:tenant/{name}/{tenant_id}",
        "CreatedTimestamp": datetime.now(UTC),
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        "SendingStatus": "ENABLED",
        "Resources": {},  # resource ARN -> when it was associated
    }
    if suppression is not None:
        tenant["SuppressionAttributes"] = suppression
    return tenant


def _resource_type(arn: str) -> str:
    """``EMAIL_IDENTITY``, ``CONFIGURATION_SET`` or ``EMAIL_TEMPLATE`` for a resource ARN."""
    parts = arn.split(":", 5)
    kind = parts[5].split("/", 1)[0] if len(parts) == 6 and parts[0] == "arn" else ""
    if kind not in _RESOURCE_TYPES:
        raise ValueError(f"not an identity, configuration set or template ARN: {arn!r}")
    return _RESOURCE_TYPES[kind]


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
        self._regions: dict[tuple[str, str], _RegionState] = {}  # (account, region)
        self._failures: list[_Failure] = []
        self._hooks: list[tuple[_Failure, Callable[[AwsCall], None]]] = []  # `on_request`
        self._delay = 0.0
        self._answering = 0  # requests being answered now (one sleeping out the delay included)
        self._idle = threading.Condition(self._lock)
        self._calls: list[AwsCall] = []
        self._case_ids = 0
        self._denied_actions: list[str] = []  # IAM action patterns SimulatePrincipalPolicy denies
        self._shape_problems: list[str] = []  # answers of ours that botocore's model refused
        self._newer_values: set[str] = set()  # enum values accepted beyond botocore's lists (`allow_newer_values`)
        self._widgets: list[dict[str, Any]] = []  # every MetricWidget GetMetricWidgetImage was asked to draw
        self._server: BaseWSGIServer | None = None
        self._moto: Any = None
        # The account our layer's state is read and written for: a request's own (from its access key),
        # or the one a test chose with `in_account` for the test controls; per thread.
        self._local = threading.local()

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
        """A boto3 client for ``service_name`` pointed at this peer with dummy credentials; made inside
        ``in_account``, its requests reach that account's state (moto's and ours)."""
        import boto3

        options: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "region_name": region,
            **DUMMY_CREDENTIALS,
        }
        options.update(kwargs)
        client = boto3.client(service_name, **options)
        account = getattr(self._local, "account", None)
        if account:

            def in_that_account(request: Any, **_: Any) -> None:
                request.headers["X-Moto-Account-Id"] = account

            client.meta.events.register("before-sign", in_that_account)
        return client

    # --------------------------------------------------------------------------------- test controls

    @contextlib.contextmanager
    def in_account(self, account_id: str) -> Iterator[None]:
        """Test controls inside this block set the state of ``account_id`` (default: moto's account).

        Each account has its own SES state in every region, as in AWS; a request reaches the state of the
        account its credentials belong to (an assumed role's credentials: the role's account).
        """
        previous = getattr(self._local, "account", None)
        self._local.account = account_id
        try:
            yield
        finally:
            self._local.account = previous

    def _state(self, region: str) -> _RegionState:
        account = getattr(self._local, "account", None) or ACCOUNT_ID
        with self._lock:
            state = self._regions.get((account, region))
            if state is None:
                state = self._regions[(account, region)] = _RegionState()
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
        vdm_enabled: bool | None = None,
        plan: str | None = None,
        auto_validation: str | None = None,
    ) -> None:
        """Change the account state of ``region``; None leaves a field unchanged.

        ``vdm_enabled`` is ``VdmAttributes.VdmEnabled`` (a fresh account: DISABLED); ``plan`` is
        ``PricingAttributes.CurrentPlan`` (NONE|ESSENTIALS|PRO|ENTERPRISE; absent until set);
        ``auto_validation`` ("MEDIUM"|"HIGH"|"MANAGED", or "" for off) is the Auto Validation threshold in
        ``SuppressionAttributes.ValidationAttributes``.
        """
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
            if vdm_enabled is not None:
                account["VdmAttributes"]["VdmEnabled"] = "ENABLED" if vdm_enabled else "DISABLED"
            if plan is not None:
                account["PricingAttributes"] = {"CurrentPlan": plan}
            if auto_validation is not None:
                account["SuppressionAttributes"]["ValidationAttributes"] = _validation(auto_validation)

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
        tenant: str | None = None,
    ) -> None:
        """Put ``email`` on the account suppression list of ``region``, or on ``tenant``'s list."""
        when = last_update or datetime.now(UTC)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        attributes: dict[str, str] = {}
        if message_id:
            attributes["MessageId"] = message_id
        if feedback_id:
            attributes["FeedbackId"] = feedback_id
        with self._lock:
            state = self._state(region)
            target = state.tenant_suppressed.setdefault(tenant, {}) if tenant else state.suppressed
            target[email.lower()] = {
                "EmailAddress": email,
                "Reason": reason,
                "LastUpdateTime": when,
                "Attributes": attributes,
            }

    def suppressed(self, region: str = DEFAULT_REGION) -> dict[str, str]:
        """Address -> reason for everything on the suppression list of ``region``."""
        with self._lock:
            return {e["EmailAddress"]: e["Reason"] for e in self._state(region).suppressed.values()}

    def arn(self, kind: str, name: str, region: str = DEFAULT_REGION) -> str:
        """``arn:aws:ses:{region}:123456789012:{kind}/{name}`` (kind: identity, configuration-set, template)."""
        return f"arn:aws:ses:{region}:{ACCOUNT_ID}:{kind}/{name}"

    def set_config_set_options(
        self,
        name: str,
        *,
        tls_policy: str | None = None,
        sending_pool: str | None = None,
        suppressed_reasons: list[str] | None = None,
        suppression_scope: str | None = None,
        validation_threshold: str | None = None,
        region: str = DEFAULT_REGION,
    ) -> None:
        """What ``GetConfigurationSet`` reports in ``DeliveryOptions`` and ``SuppressionOptions`` for ``name``.

        The set must exist in moto. ``suppressed_reasons=[]`` means the set suppresses nothing;
        ``validation_threshold`` ("MEDIUM"|"HIGH"|"MANAGED", "" for off) is ``ValidationOptions``. None leaves
        an option as it is.
        """
        if self._moto is None:
            raise RuntimeError("AwsPeer is not started")
        try:
            extra = self._require_config_set(region, name)
        except _ApiError as exc:
            raise ValueError(f"configuration set {name!r} does not exist in {region}") from exc
        with self._lock:
            delivery = extra.setdefault("DeliveryOptions", {})
            if tls_policy is not None:
                delivery["TlsPolicy"] = tls_policy
            if sending_pool is not None:
                delivery["SendingPoolName"] = sending_pool
            if suppressed_reasons is not None or suppression_scope is not None or validation_threshold is not None:
                suppression = extra.setdefault("SuppressionOptions", {})
                if suppressed_reasons is not None:
                    suppression["SuppressedReasons"] = list(suppressed_reasons)
                if suppression_scope is not None:
                    suppression["SuppressionScope"] = suppression_scope
                if validation_threshold is not None:
                    suppression["ValidationOptions"] = _validation(validation_threshold)

    def add_tenant(
        self,
        name: str,
        *,
        sending_status: str = "ENABLED",
        resources: Iterable[str] = (),
        suppressed_reasons: list[str] | None = None,
        suppression_scope: str | None = None,
        tags: dict[str, str] | None = None,
        region: str = DEFAULT_REGION,
    ) -> str:
        """Create (or replace) tenant ``name`` in ``region`` with ``resources`` (ARNs); returns its TenantArn."""
        self._sending_status("sending_status", sending_status)
        suppression: dict[str, Any] | None = None
        if suppressed_reasons is not None or suppression_scope is not None:
            suppression = {}
            if suppressed_reasons is not None:
                suppression["SuppressedReasons"] = list(suppressed_reasons)
            if suppression_scope is not None:
                suppression["SuppressionScope"] = suppression_scope
        with self._lock:
            tenant = _new_tenant(region, name, suppression, tags)
            tenant["SendingStatus"] = sending_status
            now = datetime.now(UTC)
            tenant["Resources"] = {arn: now for arn in resources}
            for arn in tenant["Resources"]:
                _resource_type(arn)
            self._refuse_bad_shape("GetTenant", {"Tenant": _tenant_view(tenant)})
            self._state(region).tenants[name] = tenant
            return str(tenant["TenantArn"])

    def set_reputation_entity(
        self,
        reference: str,
        *,
        aws_status: str = "ENABLED",
        aws_cause: str | None = None,
        customer_status: str = "ENABLED",
        customer_cause: str | None = None,
        policy: str = "arn:aws:ses:::reputation-policy/standard",
        impact: str = "LOW",
        updated: datetime | None = None,
        aggregate: str | None = None,
        region: str = DEFAULT_REGION,
    ) -> None:
        """Create (or replace) the reputation entity of resource ARN ``reference`` in ``region``.

        ``SendingStatusAggregate`` is worked out from the two statuses unless ``aggregate`` says it.
        """
        given = {"aws_status": aws_status, "customer_status": customer_status, "aggregate": aggregate}
        for name, status in given.items():
            if status is not None:
                self._sending_status(name, status)
        when = updated or datetime.now(UTC)

        def record(status: str, cause: str | None) -> dict[str, Any]:
            out: dict[str, Any] = {"Status": status, "LastUpdatedTimestamp": when}
            if cause is not None:
                out["Cause"] = cause
            return out

        statuses = (aws_status, customer_status)
        if aggregate is None:
            aggregate = (
                "DISABLED" if "DISABLED" in statuses else "REINSTATED" if "REINSTATED" in statuses else "ENABLED"
            )
        entity = {
            "ReputationEntityReference": reference,
            "ReputationEntityType": "RESOURCE",
            "ReputationManagementPolicy": policy,
            "CustomerManagedStatus": record(customer_status, customer_cause),
            "AwsSesManagedStatus": record(aws_status, aws_cause),
            "SendingStatusAggregate": aggregate,
            "ReputationImpact": impact,
        }
        self._refuse_bad_shape("GetReputationEntity", {"ReputationEntity": entity})
        with self._lock:
            self._state(region).reputation[reference] = entity

    def add_message_insights(
        self,
        message_id: str,
        *,
        from_address: str,
        subject: str,
        insights: list[dict[str, Any]],
        tags: list[dict[str, str]] | None = None,
        region: str = DEFAULT_REGION,
    ) -> None:
        """What ``GetMessageInsights(MessageId=message_id)`` answers; ``insights`` in botocore's shape."""
        entry: dict[str, Any] = {
            "MessageId": message_id,
            "FromEmailAddress": from_address,
            "Subject": subject,
            "EmailTags": copy.deepcopy(list(tags or [])),
            "Insights": copy.deepcopy(list(insights)),
        }
        self._refuse_bad_shape("GetMessageInsights", entry)
        with self._lock:
            self._state(region).message_insights[message_id] = entry

    def add_recommendation(
        self,
        resource_arn: str,
        rec_type: str,
        *,
        status: str = "OPEN",
        impact: str = "HIGH",
        description: str = "...",
        created: datetime | None = None,
        updated: datetime | None = None,
        region: str = DEFAULT_REGION,
    ) -> None:
        """Add a VDM recommendation (``Type`` ``rec_type``: DKIM, DMARC, SPF, BIMI, COMPLAINT...) for a resource."""
        when = created or datetime.now(UTC)
        recommendation = {
            "ResourceArn": resource_arn,
            "Type": rec_type,
            "Description": description,
            "Status": status,
            "CreatedTimestamp": when,
            "LastUpdatedTimestamp": updated or when,
            "Impact": impact,
        }
        self._refuse_bad_shape("ListRecommendations", {"Recommendations": [recommendation]})
        with self._lock:
            self._state(region).recommendations.append(recommendation)

    def set_email_insights(
        self,
        email: str,
        *,
        is_valid: str = "HIGH",
        syntax: str = "HIGH",
        dns: str = "HIGH",
        mailbox_exists: str = "HIGH",
        role: str = "LOW",
        disposable: str = "LOW",
        random_input: str = "LOW",
        region: str = DEFAULT_REGION,
    ) -> None:
        """What ``GetEmailAddressInsights`` answers for ``email`` (confidence verdicts LOW|MEDIUM|HIGH)."""
        verdicts = {
            "IsValid": is_valid,
            "HasValidSyntax": syntax,
            "HasValidDnsRecords": dns,
            "MailboxExists": mailbox_exists,
            "IsRoleAddress": role,
            "IsDisposable": disposable,
            "IsRandomInput": random_input,
        }
        bad = {k: v for k, v in verdicts.items() if v not in _VERDICTS}
        if bad:
            raise ValueError(f"verdicts must be one of {_VERDICTS}: {bad}")
        with self._lock:
            self._state(region).email_insights[email.lower()] = verdicts

    def allow_newer_values(self, *values: str) -> None:
        """Accept ``values`` wherever botocore's model lists an enum, until `reset`: a status or impact SES may
        answer before botocore knows it (``add_tenant(sending_status="SUSPENDED")``, a recommendation's
        ``impact="MEDIUM"``), for tests of what the bot makes of a value it does not know."""
        with self._lock:
            self._newer_values.update(values)

    def _sending_status(self, name: str, status: str) -> None:
        if status not in _SENDING_STATUSES and status not in self._newer_values:
            raise ValueError(f"{name} must be one of {_SENDING_STATUSES} (or `allow_newer_values`)")

    def _refuse_bad_shape(self, operation: str, payload: dict[str, Any]) -> None:
        problems = sesv2_shape_problems(operation, _wire(payload), self._newer_values)
        if problems:
            raise ValueError(f"not what SES would answer for {operation}: " + "; ".join(problems))

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
        signing_key_length: str = "RSA_2048_BIT",
    ) -> dict[str, Any]:
        """Create ``identity`` in moto if needed and override what Get/ListEmailIdentities report for it.

        ``verification_status`` defaults to SUCCESS when verified, FAILED with a ``verification_error``,
        PENDING otherwise. Domains get three deterministic Easy DKIM tokens unless ``dkim_tokens`` is given.
        ``DkimAttributes.SigningEnabled`` is ``dkim_signing`` (always false while DKIM is ``NOT_STARTED``), so
        a test can report verified DKIM keys that the owner turned off. ``signing_key_length`` is the
        ``CurrentSigningKeyLength`` (``RSA_1024_BIT`` or ``RSA_2048_BIT``, as the service model allows).
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
            "NextSigningKeyLength": signing_key_length,
            "CurrentSigningKeyLength": signing_key_length,
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

    def on_request(self, operation: str, hook: Callable[[AwsCall], None]) -> None:
        """Call ``hook(call)`` while answering each request for ``operation`` (as `fail` names it), before the
        answer, until `reset`: to look at what the client holds while it waits on AWS."""
        with self._lock:
            self._hooks.append((_Failure(operation, "", 0, "", None), hook))

    def clear_failures(self) -> None:
        """Forget every injected error."""
        with self._lock:
            self._failures.clear()

    def set_delay(self, seconds: float) -> None:
        """Add ``seconds`` of latency to every AWS request (not to /moto-api)."""
        with self._lock:
            self._delay = max(0.0, float(seconds))

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no request is being answered, a delayed one included (its client may be long gone: a
        request still sleeping out the delay would otherwise be answered from a later test's state). False if
        one still is after ``timeout`` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._answering == 0, timeout)

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
            self._hooks.clear()
            self._calls.clear()
            self._denied_actions.clear()
            self._shape_problems.clear()
            self._newer_values.clear()
            self._widgets.clear()
            self._delay = 0.0
        if self._moto is not None:
            self._moto_call("POST", "/moto-api/reset", DEFAULT_REGION)

    # --------------------------------------------------------------------------------- WSGI entry

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self._lock:
            self._answering += 1
        try:
            body = self._buffer(environ)
            path = _path_info(environ)
            if path.startswith("/moto-api") or path == "/favicon.ico":
                return self._moto(environ, start_response)
            call, path_params = _classify(environ, body, path)
            with self.in_account(call.account):
                return self._answer(environ, start_response, body, call, path_params)
        finally:
            with self._idle:
                self._answering -= 1
                self._idle.notify_all()

    def _answer(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        body: bytes,
        call: AwsCall,
        path_params: dict[str, str],
    ) -> Iterable[bytes]:
        with self._lock:
            delay = self._delay
            self._calls.append(call)
            failure = self._take_failure(call)
            hooks = [hook for probe, hook in self._hooks if probe.matches(call)]
        for hook in hooks:
            hook(call)
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
            if call.service == "monitoring" and call.operation == "GetMetricWidgetImage":
                return self._metric_widget_image(request, start_response)
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
        """An in-process request to moto, signed (well enough for moto) for ``region``, in the account of
        ``in_account`` if one is chosen."""
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
        account = getattr(self._local, "account", None)
        if account:  # inside `in_account`: moto's state of that account, as for the account's own requests
            headers.append(("X-Moto-Account-Id", account))
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

    # ---------------------------------------------------------------------- CloudWatch widget images

    @property
    def widgets(self) -> list[dict[str, Any]]:
        """Every ``MetricWidget`` (decoded JSON) that ``GetMetricWidgetImage`` drew since the last `reset`."""
        with self._lock:
            return copy.deepcopy(self._widgets)

    def _metric_widget_image(self, request: _Request, start_response: Callable[..., Any]) -> Iterable[bytes]:
        """``GetMetricWidgetImage``: the request checked against botocore's input shape and the widget as
        CloudWatch checks it, drawn as a real PNG from moto's own data points, the answer checked against the
        output shape. JSON protocol (botocore's choice for CloudWatch) and query protocol."""
        from peers.cloudwatch_widget import WidgetError, parse_widget, recorded, render_widget

        op = "GetMetricWidgetImage"
        as_json = bool(request.environ.get("HTTP_X_AMZ_TARGET"))
        params: dict[str, Any] = request.json() if as_json else request.form()
        params.pop("Action", None)
        params.pop("Version", None)
        model = _cloudwatch_model().operation_model(op)
        problems: list[str] = []
        _check_shape(model.input_shape, params, op, problems)
        if problems:
            raise _ApiError("ValidationError", "; ".join(problems))
        if params.get("OutputFormat", "png") != "png":
            raise _ApiError("InvalidParameterValue", f"Unsupported OutputFormat {params['OutputFormat']!r}: png only")
        try:
            widget = parse_widget(params["MetricWidget"])
        except WidgetError as exc:
            raise _ApiError("InvalidParameterInput", str(exc)) from exc
        region = widget.get("region") or request.call.region
        points = [self._moto_metric_points(region, m, widget["_start"], widget["_end"]) for m in widget["_metrics"]]
        png = render_widget(widget, points)
        payload = {"MetricWidgetImage": base64.b64encode(png).decode()}
        problems = []
        _check_shape(model.output_shape, payload, op, problems)
        if problems:  # pragma: no cover - a bug in this peer
            message = f"peers.aws answered {op} with a shape CloudWatch would not send: " + "; ".join(problems)
            with self._lock:
                self._shape_problems.append(message)
            raise _ApiError("PeerShapeError", message, 500)
        with self._lock:
            self._widgets.append(recorded(widget))
        if as_json:
            return self._json(start_response, payload)
        return self._xml(start_response, op, payload, _CLOUDWATCH_XMLNS)

    def _moto_metric_points(
        self, region: str, metric: dict[str, Any], start: datetime, end: datetime
    ) -> list[tuple[datetime, float]]:
        """One widget metric's points from moto's CloudWatch (an in-process ``GetMetricData``, not recorded)."""
        from werkzeug.test import EnvironBuilder

        query = {
            "Id": "m0",
            "MetricStat": {
                "Metric": {
                    "Namespace": metric["namespace"],
                    "MetricName": metric["name"],
                    "Dimensions": metric["dimensions"],
                },
                "Period": metric["period"],
                "Stat": metric["stat"],
            },
            "ReturnData": True,
        }
        payload = {
            "MetricDataQueries": [query],
            "StartTime": _epoch(start),
            "EndTime": _epoch(end),
            "ScanBy": "TimestampAscending",
        }
        builder = EnvironBuilder(
            path="/",
            method="POST",
            headers=[
                (
                    "Authorization",
                    f"AWS4-HMAC-SHA256 Credential=testing/20240101/{region}/monitoring/aws4_request, "
                    "SignedHeaders=host, Signature=0",
                ),
                ("X-Amz-Target", "GraniteServiceVersion20100801.GetMetricData"),
            ],
            data=json.dumps(payload).encode(),
            content_type="application/x-amz-json-1.0",
            base_url=self.endpoint_url,
        )
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        status, _, data = self._capture(environ)
        if status != 200:
            raise _ApiError("InternalFailure", f"moto could not read {metric['name']}: HTTP {status}", 500)
        out = []
        for result in json.loads(data).get("MetricDataResults", []):
            for ts, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                when = datetime.fromtimestamp(ts, UTC) if isinstance(ts, int | float) else _parse_time(ts, "Timestamp")
                if when is not None:
                    out.append((when, float(value)))
        return sorted(out)

    # --------------------------------------------------------------------------------------- SESv2

    def _sesv2(self, request: _Request, start_response: Callable[..., Any]) -> Iterable[bytes]:
        op = request.call.operation
        region = request.call.region
        params = request.path_params
        if op in _V2_SENDS:
            self._check_v2_send_allowed(request)
        elif op == "GetEmailIdentity":
            identity = params["EmailIdentity"]
            return self._forward_and_edit(
                request, start_response, lambda p: self._checked(op, self._merge_identity(region, identity, p))
            )
        elif op == "ListEmailIdentities":
            return self._forward_and_edit(
                request, start_response, lambda p: self._checked(op, self._merge_identity_list(region, p))
            )
        elif op == "DeleteEmailIdentity":  # moto answers 200 for a missing identity
            identity = params["EmailIdentity"]
            if self._moto_call("GET", f"/v2/email/identities/{identity}", region)[0] == 404:
                raise _ApiError("NotFoundException", f"Email identity {identity} does not exist.", 404)
            return self._forward_and_edit(
                request, start_response, None, lambda: self._drop(region, "identities", identity)
            )
        elif op == "GetConfigurationSet":
            name = params["ConfigurationSetName"]
            return self._forward_and_edit(
                request, start_response, lambda p: self._checked(op, self._merge_config_set(region, name, p))
            )
        elif op == "DeleteConfigurationSet":  # moto answers 500 (KeyError) for a missing set
            name = params["ConfigurationSetName"]
            self._require_config_set(region, name)
            return self._forward_and_edit(
                request, start_response, None, lambda: self._drop(region, "config_sets", name)
            )
        handler = _SESV2_HANDLERS.get(op or "")
        if handler is None:
            return self._moto(request.environ, start_response)
        payload = self._checked(op or "", handler(self, self._state(region), request))
        return self._json(start_response, payload)

    def _checked(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """``payload`` if it fits ``operation``'s output shape in botocore's model; else a loud 500."""
        problems = sesv2_shape_problems(operation, payload, self._newer_values)
        if problems:
            message = f"peers.aws answered {operation} with a shape SES would not send: " + "; ".join(problems)
            _LOG.error("%s", message)
            with self._lock:
                self._shape_problems.append(message)
            raise _ApiError("PeerShapeError", message, 500)
        return payload

    @property
    def shape_problems(self) -> list[str]:
        """Every answer of ours that failed the shape check since the last `reset` (a copy)."""
        with self._lock:
            return list(self._shape_problems)

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
        if override is None:  # moto sends nulls (Tags, ConfigurationSetName) where SES leaves members out
            return {k: v for k, v in payload.items() if v is not None}
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
        # moto sends {} for options nobody set; SES sends TlsPolicy OPTIONAL and leaves the rest out.
        if not (payload.get("TrackingOptions") or {}).get("CustomRedirectDomain"):
            merged.pop("TrackingOptions", None)
        delivery = {"TlsPolicy": "OPTIONAL", **(payload.get("DeliveryOptions") or {})}
        delivery.update(extra.get("DeliveryOptions") or {})
        merged["DeliveryOptions"] = delivery
        suppression = dict(payload.get("SuppressionOptions") or {})
        suppression.update(extra.get("SuppressionOptions") or {})
        if suppression or "SuppressionOptions" in extra:
            merged["SuppressionOptions"] = suppression
        else:
            merged.pop("SuppressionOptions", None)
        for name in ("VdmOptions", "ArchivingOptions", "MessageSecurityOptions"):
            if not payload.get(name):
                merged.pop(name, None)
        return {k: v for k, v in merged.items() if v is not None}

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
    body = req.json()
    reasons = body.get("SuppressedReasons") or []
    bad = [r for r in reasons if r not in ("BOUNCE", "COMPLAINT")]
    if bad:
        raise _ApiError("BadRequestException", f"Invalid suppression reasons: {bad}")
    validation = body.get("ValidationAttributes")
    with peer._lock:
        state.account["SuppressionAttributes"]["SuppressedReasons"] = list(reasons)
        if isinstance(validation, dict):
            state.account["SuppressionAttributes"]["ValidationAttributes"] = copy.deepcopy(validation)
    return {}


@_sesv2("PutAccountVdmAttributes")
def _put_account_vdm(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    attributes = req.json().get("VdmAttributes")
    if not isinstance(attributes, dict) or attributes.get("VdmEnabled") not in ("ENABLED", "DISABLED"):
        raise _ApiError("BadRequestException", "VdmAttributes.VdmEnabled must be ENABLED or DISABLED.")
    with peer._lock:
        state.account["VdmAttributes"] = copy.deepcopy(attributes)
    return {}


def _suppressed_entry(entry: dict[str, Any], summary: bool, tenant: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "EmailAddress": entry["EmailAddress"],
        "Reason": entry["Reason"],
        "LastUpdateTime": _epoch(entry["LastUpdateTime"]),
    }
    if not summary and entry["Attributes"]:
        out["Attributes"] = dict(entry["Attributes"])
    if not summary and tenant:
        out["TenantName"] = tenant
    return out


def _suppression_list(state: _RegionState, tenant: str | None) -> dict[str, dict[str, Any]]:
    """The account suppression list, or ``tenant``'s (which must exist); call with the lock held."""
    if not tenant:
        return state.suppressed
    if tenant not in state.tenants and tenant not in state.tenant_suppressed:
        raise _ApiError("NotFoundException", f"Tenant {tenant} does not exist.", 404)
    return state.tenant_suppressed.setdefault(tenant, {})


def _not_suppressed(email: str, tenant: str | None) -> _ApiError:
    where = f"the suppression list of tenant {tenant}" if tenant else "your suppression list"
    return _ApiError("NotFoundException", f"Email address {email} does not exist on {where}.", 404)


@_sesv2("PutSuppressedDestination")
def _put_suppressed(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    body = req.json()
    email, reason, tenant = body.get("EmailAddress") or "", body.get("Reason"), body.get("TenantName") or None
    if "@" not in email:
        raise _ApiError("BadRequestException", f"Invalid email address: {email}")
    if reason not in ("BOUNCE", "COMPLAINT"):
        raise _ApiError("BadRequestException", f"Invalid reason: {reason}")
    with peer._lock:
        _suppression_list(state, tenant)
        peer.suppress(email, reason, req.call.region, tenant=tenant)
    return {}


@_sesv2("GetSuppressedDestination")
def _get_suppressed(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    email, tenant = req.path_params["EmailAddress"], req.q("TenantName") or None
    with peer._lock:
        entries = state.tenant_suppressed.get(tenant, {}) if tenant else state.suppressed
        entry = entries.get(email.lower())
        if entry is None:
            raise _not_suppressed(email, tenant)
        return {"SuppressedDestination": _suppressed_entry(entry, summary=False, tenant=tenant)}


@_sesv2("DeleteSuppressedDestination")
def _delete_suppressed(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    email, tenant = req.path_params["EmailAddress"], req.q("TenantName") or None
    with peer._lock:
        entries = state.tenant_suppressed.get(tenant, {}) if tenant else state.suppressed
        if entries.pop(email.lower(), None) is None:
            raise _not_suppressed(email, tenant)
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
            for e in _suppression_list(state, req.q("TenantName") or None).values()
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


# ------------------------------------------------------------------------------------------- tenants


def _filters(body: dict[str, Any], allowed: Iterable[str]) -> dict[str, str]:
    raw = body.get("Filter") or {}
    if not isinstance(raw, dict):
        raise _ApiError("BadRequestException", "Filter must be a map.")
    allowed = set(allowed)
    bad = sorted(k for k in raw if k not in allowed)
    if bad:
        raise _ApiError("BadRequestException", f"Invalid filter keys: {bad}")
    return {str(k): str(v) for k, v in raw.items()}


def _listed(result: dict[str, Any], token: str | None) -> dict[str, Any]:
    if token:
        result["NextToken"] = token
    return result


def _tenant(state: _RegionState, name: str) -> dict[str, Any]:
    tenant = state.tenants.get(name)
    if tenant is None:
        raise _ApiError("NotFoundException", f"Tenant {name} does not exist.", 404)
    return tenant


def _tenant_view(tenant: dict[str, Any]) -> dict[str, Any]:
    return _wire({k: v for k, v in tenant.items() if k != "Resources"})


def _required(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise _ApiError("BadRequestException", f"{name} is required.")
    return value


@_sesv2("CreateTenant")
def _create_tenant(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    body = req.json()
    name = _required(body, "TenantName")
    suppression = body.get("SuppressionAttributes")
    tags = {t.get("Key", ""): t.get("Value", "") for t in body.get("Tags") or [] if isinstance(t, dict)}
    with peer._lock:
        if name in state.tenants:
            raise _ApiError("AlreadyExistsException", f"Tenant {name} already exists.")
        tenant = _new_tenant(req.call.region, name, suppression if isinstance(suppression, dict) else None, tags)
        state.tenants[name] = tenant
        return _tenant_view(tenant)


@_sesv2("GetTenant")
def _get_tenant(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    name = _required(req.json(), "TenantName")
    with peer._lock:
        return {"Tenant": _tenant_view(_tenant(state, name))}


@_sesv2("DeleteTenant")
def _delete_tenant(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    name = _required(req.json(), "TenantName")
    with peer._lock:
        _tenant(state, name)
        del state.tenants[name]
        state.tenant_suppressed.pop(name, None)
    return {}


@_sesv2("ListTenants")
def _list_tenants(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    body = req.json()
    filters = _filters(body, ("TENANT_NAME_CONTAINS", "SENDING_STATUS"))
    size = _page_size(body.get("PageSize"), 100, 100)
    offset = _decode_token(body.get("NextToken"))
    contains, status = filters.get("TENANT_NAME_CONTAINS"), filters.get("SENDING_STATUS")
    with peer._lock:
        tenants = [
            t
            for t in state.tenants.values()
            if (contains is None or contains.lower() in t["TenantName"].lower())
            and (status is None or t["SendingStatus"] == status)
        ]
        tenants.sort(key=lambda t: (t["CreatedTimestamp"], t["TenantName"]))
        page, token = _paginate(tenants, offset, size)
        keys = ("TenantName", "TenantId", "TenantArn", "CreatedTimestamp", "SendingStatus")
        return _listed({"Tenants": [_wire({k: t[k] for k in keys}) for t in page]}, token)


@_sesv2("CreateTenantResourceAssociation")
def _associate_tenant_resource(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    body = req.json()
    name, arn = _required(body, "TenantName"), _required(body, "ResourceArn")
    try:
        _resource_type(arn)
    except ValueError as exc:
        raise _ApiError("BadRequestException", str(exc)) from exc
    with peer._lock:
        tenant = _tenant(state, name)
        if arn in tenant["Resources"]:
            raise _ApiError("AlreadyExistsException", f"Resource {arn} is already associated with tenant {name}.")
        tenant["Resources"][arn] = datetime.now(UTC)
    return {}


@_sesv2("DeleteTenantResourceAssociation")
def _dissociate_tenant_resource(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    body = req.json()
    name, arn = _required(body, "TenantName"), _required(body, "ResourceArn")
    with peer._lock:
        if _tenant(state, name)["Resources"].pop(arn, None) is None:
            raise _ApiError("NotFoundException", f"Resource {arn} is not associated with tenant {name}.", 404)
    return {}


@_sesv2("ListTenantResources")
def _list_tenant_resources(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    body = req.json()
    name = _required(body, "TenantName")
    wanted = _filters(body, ("RESOURCE_TYPE",)).get("RESOURCE_TYPE")
    size = _page_size(body.get("PageSize"), 100, 100)
    offset = _decode_token(body.get("NextToken"))
    with peer._lock:
        resources = sorted(_tenant(state, name)["Resources"].items(), key=lambda r: (r[1], r[0]))
    listed = [
        {"ResourceType": _resource_type(arn), "ResourceArn": arn}
        for arn, _ in resources
        if wanted is None or _resource_type(arn) == wanted
    ]
    page, token = _paginate(listed, offset, size)
    return _listed({"TenantResources": page}, token)


@_sesv2("ListResourceTenants")
def _list_resource_tenants(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    body = req.json()
    arn = _required(body, "ResourceArn")
    size = _page_size(body.get("PageSize"), 100, 100)
    offset = _decode_token(body.get("NextToken"))
    with peer._lock:
        found = [
            {
                "TenantName": t["TenantName"],
                "TenantId": t["TenantId"],
                "ResourceArn": arn,
                "AssociatedTimestamp": t["Resources"][arn],
            }
            for t in state.tenants.values()
            if arn in t["Resources"]
        ]
    found.sort(key=lambda r: (r["AssociatedTimestamp"], r["TenantName"]))
    page, token = _paginate(found, offset, size)
    return _listed({"ResourceTenants": _wire(page)}, token)


# ------------------------------------------------------------------------------- reputation entities


@_sesv2("GetReputationEntity")
def _get_reputation_entity(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    kind, reference = req.path_params["ReputationEntityType"], req.path_params["ReputationEntityReference"]
    if kind != "RESOURCE":
        raise _ApiError("BadRequestException", f"Invalid ReputationEntityType: {kind}")
    with peer._lock:
        entity = state.reputation.get(reference)
        if entity is None:
            raise _ApiError("NotFoundException", f"Reputation entity {reference} does not exist.", 404)
        return {"ReputationEntity": _wire(entity)}


@_sesv2("ListReputationEntities")
def _list_reputation_entities(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    body = req.json()
    filters = _filters(body, ("ENTITY_TYPE", "REPUTATION_IMPACT", "SENDING_STATUS", "ENTITY_REFERENCE_PREFIX"))
    size = _page_size(body.get("PageSize"), 100, 100)
    offset = _decode_token(body.get("NextToken"))

    def wanted(entity: dict[str, Any]) -> bool:
        return (
            filters.get("ENTITY_TYPE", entity["ReputationEntityType"]) == entity["ReputationEntityType"]
            and filters.get("REPUTATION_IMPACT", entity["ReputationImpact"]) == entity["ReputationImpact"]
            and filters.get("SENDING_STATUS", entity["SendingStatusAggregate"]) == entity["SendingStatusAggregate"]
            and entity["ReputationEntityReference"].startswith(filters.get("ENTITY_REFERENCE_PREFIX", ""))
        )

    with peer._lock:
        entities = sorted(
            (e for e in state.reputation.values() if wanted(e)), key=lambda e: e["ReputationEntityReference"]
        )
        page, token = _paginate(entities, offset, size)
        return _listed({"ReputationEntities": _wire(page)}, token)


# ------------------------------------------------------------------------- Virtual Deliverability Manager


def _require_vdm(state: _RegionState) -> None:
    if state.account["VdmAttributes"].get("VdmEnabled") != "ENABLED":
        raise _ApiError("BadRequestException", _VDM_OFF)


@_sesv2("GetMessageInsights")
def _get_message_insights(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    message_id = req.path_params["MessageId"]
    with peer._lock:
        _require_vdm(state)
        entry = state.message_insights.get(message_id)
        if entry is None:
            raise _ApiError("NotFoundException", f"Message {message_id} does not exist.", 404)
        return _wire(entry)


@_sesv2("ListRecommendations")
def _list_recommendations(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    body = req.json()
    filters = _filters(body, ("TYPE", "IMPACT", "STATUS", "RESOURCE_ARN"))
    size = _page_size(body.get("PageSize"), 100, 100)
    offset = _decode_token(body.get("NextToken"))
    fields = {"TYPE": "Type", "IMPACT": "Impact", "STATUS": "Status", "RESOURCE_ARN": "ResourceArn"}
    with peer._lock:
        _require_vdm(state)
        found = [r for r in state.recommendations if all(r[fields[k]] == v for k, v in filters.items())]
        found.sort(key=lambda r: (-r["CreatedTimestamp"].timestamp(), r["ResourceArn"], r["Type"]))
        page, token = _paginate(found, offset, size)
        return _listed({"Recommendations": _wire(page)}, token)


_DEFAULT_EMAIL_INSIGHTS = {
    "IsValid": "HIGH",
    "HasValidSyntax": "HIGH",
    "HasValidDnsRecords": "HIGH",
    "MailboxExists": "HIGH",
    "IsRoleAddress": "LOW",
    "IsDisposable": "LOW",
    "IsRandomInput": "LOW",
}


@_sesv2("GetEmailAddressInsights")
def _get_email_address_insights(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    email = _required(req.json(), "EmailAddress")
    with peer._lock:
        verdicts = dict(state.email_insights.get(email.lower(), _DEFAULT_EMAIL_INSIGHTS))
    evaluations = {k: {"ConfidenceVerdict": v} for k, v in verdicts.items() if k != "IsValid"}
    return {"MailboxValidation": {"IsValid": {"ConfidenceVerdict": verdicts["IsValid"]}, "Evaluations": evaluations}}


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


@_sesv2("PutConfigurationSetDeliveryOptions")
def _put_delivery_options(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    body = req.json()
    if body.get("TlsPolicy") not in (None, "REQUIRE", "OPTIONAL"):
        raise _ApiError("BadRequestException", f"Invalid TlsPolicy: {body['TlsPolicy']}")
    extra = peer._require_config_set(req.call.region, req.path_params["ConfigurationSetName"])
    keys = ("TlsPolicy", "SendingPoolName", "MaxDeliverySeconds", "SharedPoolDeliveryMode")
    with peer._lock:
        extra["DeliveryOptions"] = {k: body[k] for k in keys if body.get(k) is not None}
    return {}


@_sesv2("PutConfigurationSetSuppressionOptions")
def _put_suppression_options(peer: AwsPeer, state: _RegionState, req: _Request) -> dict[str, Any]:
    body = req.json()
    reasons = body.get("SuppressedReasons")
    if reasons is not None and any(r not in ("BOUNCE", "COMPLAINT") for r in reasons):
        raise _ApiError("BadRequestException", f"Invalid suppression reasons: {reasons}")
    extra = peer._require_config_set(req.call.region, req.path_params["ConfigurationSetName"])
    keys = ("SuppressedReasons", "SuppressionScope", "ValidationOptions")
    with peer._lock:
        extra["SuppressionOptions"] = {k: copy.deepcopy(body[k]) for k in keys if body.get(k) is not None}
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


__all__ = ["ACCOUNT_ID", "DEFAULT_REGION", "AwsCall", "AwsPeer", "render_template", "sesv2_shape_problems"]

if __name__ == "__main__":  # pragma: no cover - manual use: python -m peers.aws
    AwsPeer().serve_until_interrupted(lambda peer: f"AWS peer at {peer.endpoint_url}")
