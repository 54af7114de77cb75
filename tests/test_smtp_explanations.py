"""The SMTP probe's explanation table: first match wins, the last rule catches everything, every template formats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.findings import Severity
from bot.smtp_probe import (
    _RULES,
    DOC_PORT_25,
    DOC_TROUBLESHOOT,
    IMPLICIT,
    STARTTLS,
    CertInfo,
    Endpoint,
    PortResult,
    ProbeResult,
    Step,
    _Facts,
    _Rule,
    explain,
)

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
CERT = CertInfo("proxy", "Proxy CA", ["proxy.local"], NOW - timedelta(days=10), NOW + timedelta(days=300))


def port_result(outcome: str, port: int = 587, *, failed_step: str | None = "connect", **fields: object) -> PortResult:
    tls = IMPLICIT if port in (465, 2465) else STARTTLS
    return PortResult(Endpoint(port, tls), f"127.0.0.1:{port}", outcome, failed_step, **fields)  # type: ignore[arg-type]


def works(port: int = 465) -> PortResult:
    return port_result("ok", port, failed_step=None, steps=[Step("connect", 1.0, True), Step("ehlo", 1.0, True)])


def probe_result(*ports: PortResult, hint: str | None = None) -> ProbeResult:
    return ProbeResult("127.0.0.1", "email-smtp.test", ["127.0.0.1"], 0.1, None, list(ports), 5.0, 2.0, True, NOW, hint)


def test_only_the_last_rule_matches_any_outcome_and_an_unknown_outcome_gets_it() -> None:
    assert [r.outcome is None for r in _RULES] == [False] * (len(_RULES) - 1) + [True]

    (finding,) = explain(probe_result(port_result("mystery", failed_step="ehlo")))

    assert finding.summary == "Port 587 (STARTTLS): failed at ehlo (mystery)"
    assert finding.fix == DOC_TROUBLESHOOT
    assert finding.severity == Severity.ERROR


@pytest.mark.parametrize("rule", _RULES, ids=lambda r: f"{r.outcome}-{r.step or r.port or ''}")
def test_every_template_formats_for_a_port_that_fails_its_way(rule: _Rule) -> None:
    port = port_result(rule.outcome or "mystery", 25, failed_step=rule.step or "banner", cert=CERT, reply="421 busy")
    (finding, _) = explain(probe_result(port, works()))

    assert finding.summary.startswith("Port 25")
    assert "{" not in finding.summary + finding.fix


def test_a_timeout_on_port_25_while_another_port_works_is_blamed_on_ec2() -> None:
    findings = explain(probe_result(port_result("timeout", 25), works(465)))

    assert findings[0].severity == Severity.WARNING
    assert findings[0].summary == ("Port 25 timed out (connect) while port 465 works: EC2 throttles outbound port 25")
    assert findings[0].fix.endswith(DOC_PORT_25)


def test_rules_that_offer_a_working_port_do_so_and_fall_back_otherwise() -> None:
    alone = _Facts.of(probe_result(port_result("refused")), port_result("refused"))
    assert alone.others_work == []

    (refused,) = explain(probe_result(port_result("refused")))
    assert "Check SESBOT_SMTP_HOST and the firewall between here and SES." in refused.fix
    assert refused.severity == Severity.ERROR

    with_other, _ = explain(probe_result(port_result("refused"), works(465)))
    assert "Use port 465, which works from here, or open port 587 in the firewall." in with_other.fix
    assert with_other.severity == Severity.WARNING


def test_the_password_hint_leads_the_auth_advice() -> None:
    (finding,) = explain(
        probe_result(port_result("auth_failed", failed_step="auth", reply="535 no"), hint="Looks like an IAM key.")
    )

    assert finding.summary == "Port 587 (STARTTLS): TLS works, but the SMTP credentials were refused: 535 no"
    assert finding.fix.startswith("Looks like an IAM key. SMTP credentials are not IAM access keys")
