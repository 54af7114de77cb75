"""Resource-policy evaluation: what an SQS queue or SNS topic policy decides for one service's request.

One job: given a policy document and one request (a service principal doing one action on one resource,
with the condition keys that service sends), answer as IAM's policy evaluation logic would for a single
resource-based policy:

* an explicit `Deny` beats any `Allow`; without a matching `Allow` the request is implicitly denied;
* a statement matches when its `Principal` (or `NotPrincipal`), `Action` (or `NotAction`), `Resource`
  (or `NotResource`) and its whole `Condition` match;
* `*` (any run of characters) and `?` (exactly one) are wildcards in actions, resources and the `...Like` /
  `Arn...` condition operators; action names match case-insensitively, resource ARNs case-sensitively;
* conditions: every operator and every key must match (AND), the values of one key are alternatives (OR),
  and a negated operator (`StringNotEquals`...) matches when none of its values does; `...IfExists` and the
  negated operators match when the key is absent from the request;
* what the bot cannot evaluate (an operator it does not know, a condition key it cannot know the value of)
  makes the answer `UNKNOWN`, never `ALLOWED`: the bot says it cannot tell.

The requests the bot asks about are SNS delivering to the bot's queue (`queue_policy_decision`) and SES
publishing to a topic (`ses_publish_decision`). Pure functions: imports nothing else of the bot.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

SNS_SERVICE = "sns.amazonaws.com"
SES_SERVICE = "ses.amazonaws.com"
EVENTS_SERVICE = "events.amazonaws.com"

# The condition keys a service principal's request is known to carry or not (lower-case, as IAM compares
# key names case-insensitively). A key of this set missing from a request's context is absent from the
# request; a key outside it (aws:SourceVpce, aws:PrincipalOrgID, aws:SourceOwner...) is one the bot cannot
# know, and a condition on it makes the answer UNKNOWN.
MODELED_KEYS = frozenset(
    {
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:securetransport",
        "aws:principalisawsservice",
        "aws:principalservicename",
    }
)


class Verdict(enum.Enum):
    ALLOWED = "allowed"
    DENIED = "denied"  # an explicit Deny matches
    IMPLICIT_DENY = "implicitly denied"  # no Allow matches
    UNKNOWN = "cannot tell"


@dataclass(frozen=True)
class Decision:
    """What a policy decides for one request, and the statement (or absence of one) that decided it."""

    verdict: Verdict
    reason: str
    by_deny: bool = False  # DENIED, or UNKNOWN because a Deny statement may match

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOWED

    @property
    def fixable_by_allow(self) -> bool:
        """Whether adding an Allow statement the bot understands would make the request allowed."""
        return not self.allowed and not self.by_deny


@dataclass(frozen=True)
class Request:
    """A service principal (`sns.amazonaws.com`) doing `action` on `resource`.

    `context` holds the condition keys the request carries, lower-cased; a value of None means the key is
    carried but the bot does not know its value. `modeled` are the keys whose absence from `context` means
    absence from the request.
    """

    service: str
    action: str
    resource: str
    context: Mapping[str, str | None] = field(default_factory=dict)
    modeled: frozenset[str] = MODELED_KEYS

    @property
    def label(self) -> str:
        return f"{self.service} {self.action}"


def service_request(
    service: str, action: str, resource: str, *, source_arn: str | None, source_account: str | None
) -> Request:
    """The request an AWS service makes on behalf of a resource of yours (`aws:SourceArn`, `aws:SourceAccount`).

    AWS services call each other over TLS (`aws:SecureTransport` is true) as service principals
    (`aws:PrincipalIsAWSService`, `aws:PrincipalServiceName`).
    """
    return Request(
        service,
        action,
        resource,
        {
            "aws:sourcearn": source_arn,
            "aws:sourceaccount": source_account,
            "aws:securetransport": "true",
            "aws:principalisawsservice": "true",
            "aws:principalservicename": service,
        },
    )


def account_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else None


def ses_source_arn(topic_arn: str, region: str, resource: str) -> str:
    """The `aws:SourceArn` SES publishes with: its configuration set or identity (`configuration-set/name`,
    `identity/example.com`) in `region`; partition and account are taken from the topic (SES publishing to a
    topic of its own account)."""
    parts = topic_arn.split(":")
    partition = parts[1] if len(parts) > 5 else "aws"
    return f"arn:{partition}:ses:{region}:{account_of(topic_arn) or ''}:{resource}"


def queue_policy_decision(policy: Any, *, queue_arn: str, topic_arn: str) -> Decision:
    """What an SQS queue policy decides when SNS topic `topic_arn` delivers to the queue (`sqs:SendMessage`)."""
    request = service_request(
        SNS_SERVICE, "sqs:SendMessage", queue_arn, source_arn=topic_arn, source_account=account_of(topic_arn)
    )
    return evaluate(policy, request)


def events_send_decision(policy: Any, *, queue_arn: str, rule_arn: str) -> Decision:
    """What an SQS queue policy decides when EventBridge rule `rule_arn` sends to the queue (`sqs:SendMessage`)."""
    request = service_request(
        EVENTS_SERVICE, "sqs:SendMessage", queue_arn, source_arn=rule_arn, source_account=account_of(rule_arn)
    )
    return evaluate(policy, request)


def queue_policy_allows(policy: Any, *, queue_arn: str, topic_arn: str) -> bool:
    """Whether an SQS queue policy lets SNS topic `topic_arn` send messages to the queue."""
    return queue_policy_decision(policy, queue_arn=queue_arn, topic_arn=topic_arn).allowed


def ses_publish_decision(
    policy: Any, topic_arn: str, *, source_arn: str | None = None, source_account: str | None = None
) -> Decision:
    """What an SNS topic policy decides when SES publishes to it (`sns:Publish`).

    `source_arn` is the configuration set or identity SES publishes for (None: not known, so a condition on
    aws:SourceArn cannot be decided); `source_account` defaults to the topic's account.
    """
    request = service_request(
        SES_SERVICE,
        "sns:Publish",
        topic_arn,
        source_arn=source_arn,
        source_account=source_account or account_of(topic_arn),
    )
    return evaluate(policy, request)


def topic_policy_lets_ses_publish(policy: Any, topic_arn: str, *, source_arn: str | None = None) -> bool:
    """Whether an SNS topic policy grants ses.amazonaws.com sns:Publish (SES needs it for event publishing)."""
    return ses_publish_decision(policy, topic_arn, source_arn=source_arn).allowed


_SEVERITY = {Verdict.DENIED: 0, Verdict.IMPLICIT_DENY: 1, Verdict.UNKNOWN: 2, Verdict.ALLOWED: 3}


def strictest(decisions: Iterable[Decision]) -> Decision | None:
    """The decision that matters when several requests must all be allowed: a denial first, then "cannot tell"."""
    return min(decisions, key=lambda d: _SEVERITY[d.verdict], default=None)


# -- evaluation ---------------------------------------------------------------------------------------------------


def evaluate(policy: Any, request: Request) -> Decision:
    """What `policy` (a parsed policy document, or None) decides for `request`."""
    if not isinstance(policy, dict):
        return Decision(Verdict.IMPLICIT_DENY, f"there is no policy, so nothing allows {request.label}")
    allow = may_allow = may_deny = ""
    for index, st in enumerate(_as_list(policy.get("Statement")), 1):
        if not isinstance(st, dict) or st.get("Effect") not in ("Allow", "Deny") or not _targets(st, request):
            continue
        matches, why = _condition(st.get("Condition"), request)
        label = _label(st, index)
        if st["Effect"] == "Deny":
            if matches is True:
                return Decision(Verdict.DENIED, f"statement {label} denies {request.label}", by_deny=True)
            if matches is None and not may_deny:
                may_deny = f"statement {label} may deny {request.label}, but {why}"
        elif matches is True and not allow:
            allow = f"statement {label} allows {request.label}"
        elif matches is None and not may_allow:
            may_allow = f"statement {label} may allow {request.label}, but {why}"
    if allow and may_deny:
        return Decision(Verdict.UNKNOWN, may_deny, by_deny=True)
    if allow:
        return Decision(Verdict.ALLOWED, allow)
    if may_allow:  # whatever a Deny does, nothing else allows: only this statement could
        return Decision(Verdict.UNKNOWN, may_allow)
    return Decision(Verdict.IMPLICIT_DENY, f"no statement allows {request.label}")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _label(statement: dict[str, Any], index: int) -> str:
    sid = statement.get("Sid")
    return f'"{sid}"' if sid else f"#{index}"


@lru_cache(maxsize=512)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcards: `*` is any run of characters (none included), `?` exactly one; nothing else is special."""
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def arn_match(pattern: str, value: str) -> bool:
    """`ArnEquals`/`ArnLike`: each of the six colon-separated parts matched on its own, wildcards allowed.

    A shorter pattern (`arn:aws:ses:*`) is matched as a whole, its last `*` taking the remaining parts.
    """
    parts, got = pattern.split(":", 5), value.split(":", 5)
    if len(got) < 6:
        return False  # not an ARN
    if len(parts) < 6:
        return wildcard_match(pattern, value)
    return all(wildcard_match(p, g) for p, g in zip(parts, got, strict=True))


def _principal_matches(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if "*" in [str(p) for p in _as_list(principal.get("AWS"))]:  # {"AWS": "*"} is everyone, as "*" is
        return True
    services = [str(s) for s in _as_list(principal.get("Service"))]
    return "*" in services or service in services


def _any_action(patterns: Any, action: str) -> bool:
    return any(wildcard_match(str(p), action, ignore_case=True) for p in _as_list(patterns))


def _any_resource(patterns: Any, resource: str) -> bool:
    return any(wildcard_match(str(p), resource) for p in _as_list(patterns))


def _targets(st: dict[str, Any], request: Request) -> bool:
    """Whether a statement's principal, action and resource elements (or their Not- forms) cover the request."""
    if "Principal" in st:
        principal = _principal_matches(st["Principal"], request.service)
    elif "NotPrincipal" in st:
        principal = not _principal_matches(st["NotPrincipal"], request.service)
    else:
        return False  # a resource policy statement names who it is about
    if "Action" in st:
        action = _any_action(st["Action"], request.action)
    elif "NotAction" in st:
        action = not _any_action(st["NotAction"], request.action)
    else:
        return False
    if "Resource" in st:
        resource = _any_resource(st["Resource"], request.resource)
    elif "NotResource" in st:
        resource = not _any_resource(st["NotResource"], request.resource)
    else:
        resource = True  # a queue or topic policy is about its own resource
    return principal and action and resource


# -- conditions ---------------------------------------------------------------------------------------------------


def _equals(pattern: str, value: str) -> bool:
    return pattern == value


def _equals_ignore_case(pattern: str, value: str) -> bool:
    return pattern.lower() == value.lower()


def _like(pattern: str, value: str) -> bool:
    return wildcard_match(pattern, value)


# operator (lower-case, without IfExists) -> (how one policy value matches the request's value, negated)
_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "stringequals": (_equals, False),
    "stringnotequals": (_equals, True),
    "stringequalsignorecase": (_equals_ignore_case, False),
    "stringnotequalsignorecase": (_equals_ignore_case, True),
    "stringlike": (_like, False),
    "stringnotlike": (_like, True),
    "arnequals": (arn_match, False),
    "arnlike": (arn_match, False),
    "arnnotequals": (arn_match, True),
    "arnnotlike": (arn_match, True),
    "bool": (_equals_ignore_case, False),
}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _condition(condition: Any, request: Request) -> tuple[bool | None, str]:
    """(True, "") or (False, "") when the bot can tell whether the condition holds, else (None, why not)."""
    if not condition:
        return True, ""
    if not isinstance(condition, dict):
        return None, "its Condition is not an object"
    unknown = ""
    for operator, pairs in condition.items():
        matches, why = _operator(str(operator), pairs, request)
        if matches is False:
            return False, ""  # one false block decides, whatever the bot cannot tell about the others
        if matches is None and not unknown:
            unknown = why
    return (None, unknown) if unknown else (True, "")


def _operator(operator: str, pairs: Any, request: Request) -> tuple[bool | None, str]:
    name = operator.lower()
    if_exists = name.endswith("ifexists")
    base = name[: -len("ifexists")] if if_exists else name
    if ":" in base or (base not in _OPERATORS and base != "null"):
        return None, f"the bot does not evaluate condition operator {operator}"
    if not isinstance(pairs, dict):
        return None, f"its {operator} condition is not an object"
    unknown = ""
    for key, values in pairs.items():
        matches, why = _key(base, if_exists, str(key), [_text(v) for v in _as_list(values)], request)
        if matches is False:
            return False, ""
        if matches is None and not unknown:
            unknown = why
    return (None, unknown) if unknown else (True, "")


def _key(base: str, if_exists: bool, key: str, values: list[str], request: Request) -> tuple[bool | None, str]:
    """One key of one operator: any value matches (OR), for a negated operator none does."""
    name = key.lower()
    if name not in request.context and name not in request.modeled:
        return None, f"the bot cannot know condition key {key} for {request.service}"
    present = name in request.context
    if base == "null":  # "true": the key must be absent; "false": present
        return any((v.lower() == "true") != present for v in values), ""
    match, negated = _OPERATORS[base]
    if not present:
        return if_exists or negated, ""
    value = request.context[name]
    if value is None:
        return None, f"the bot does not know the value of {key} for {request.service}"
    hit = any(match(v, value) for v in values)
    return (not hit) if negated else hit, ""
