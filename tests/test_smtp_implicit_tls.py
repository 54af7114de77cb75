"""A STARTTLS port that never greets is tried with implicit TLS, against real local SMTP peers: an
implicit-TLS listener waits silently for the client's ClientHello, so "no greeting" alone misleads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.commands import CommandContext, execute, help_answer, parse
from bot.deps import Deps
from bot.findings import Finding, Severity
from bot.render_text import render
from bot.settings import Secret, Settings
from bot.smtp_probe import STARTTLS, Endpoint, ProbeResult, explain, probe
from bot.store import Store
from peers.smtp import DEFAULT_BANNER
from tests.conftest import StartPeer

USER, PASSWORD = "AKIAIOSFODNN7EXAMPLE", "BPa55w0rdSmtpCredentialForTheProbeTests1234"
TIMEOUT = 0.5  # each silent plaintext greeting waits this long before TLS is tried


def run_probe(*endpoints: Endpoint, ca_file: str | None = None, **options: object) -> ProbeResult:
    return probe("127.0.0.1", list(endpoints), timeout=TIMEOUT, ca_file=ca_file, **options)  # type: ignore[arg-type]


def only(result: ProbeResult) -> Finding:
    findings = explain(result, "us-east-1")
    assert len(findings) == 1
    return findings[0]


def steps(found: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(s["step"], s["ok"]) for s in found]


# --- the probe -------------------------------------------------------------------------------------


def test_a_silent_port_that_speaks_implicit_tls_is_said_to_with_its_tls_version_certificate_and_banner(
    start_peer: StartPeer,
) -> None:
    peer = start_peer("implicit")

    result = run_probe(Endpoint(587, STARTTLS, peer.port), ca_file=peer.ca_file)
    finding = only(result)

    cert = result.ports[0].cert
    assert cert is not None
    version = finding.data["tls_version"]
    assert version in {"TLSv1.2", "TLSv1.3"}
    assert finding.severity == Severity.WARNING
    assert finding.data["outcome"] == "implicit_tls"
    assert (
        finding.summary
        == f"Port 587 (STARTTLS): no greeting within 0.5 s, but this port speaks implicit TLS ({version})"
    )
    assert f"Over TLS it greeted: 220 {DEFAULT_BANNER}." in finding.fix
    assert (
        f"Its certificate: {cert.subject}, issued by sesbot test CA, valid until {cert.not_after:%Y-%m-%d}."
        in finding.fix
    )
    assert "Probe it as `smtp 587/tls`" in finding.fix
    assert finding.data["banner"] == f"220 {DEFAULT_BANNER}"
    assert finding.data["certificate"]["issuer"] == "sesbot test CA"
    assert finding.data["certificate_error"] is None
    assert steps(finding.data["steps"]) == [("connect", True), ("banner", False)]
    assert steps(finding.data["tls_retry"]) == [
        ("connect", True),
        ("tls", True),
        ("banner", True),
        ("ehlo", True),
        ("quit", True),
    ]
    assert "then TLS from the first byte, on a fresh connection (implicit TLS):" in finding.evidence
    assert any(line.startswith(f"certificate: {cert.subject}, issued by sesbot test CA") for line in finding.evidence)


def test_an_implicit_tls_port_whose_certificate_this_host_does_not_trust_is_still_found(start_peer: StartPeer) -> None:
    peer = start_peer("implicit")

    finding = only(run_probe(Endpoint(2525, STARTTLS, peer.port)))  # the system store, not the peer's CA

    assert finding.data["outcome"] == "implicit_tls"
    assert finding.summary.startswith(
        "Port 2525 (STARTTLS): no greeting within 0.5 s, but this port speaks implicit TLS"
    )
    assert finding.data["certificate"]["issuer"] == "sesbot test CA"
    assert finding.data["certificate_error"]
    assert f"This host does not accept that certificate ({finding.data['certificate_error']})" in finding.fix
    assert steps(finding.data["tls_retry"]) == [("connect", True), ("tls", False)]


def test_the_implicit_tls_try_never_sends_the_smtp_credentials(start_peer: StartPeer) -> None:
    peer = start_peer("implicit", auth={USER: PASSWORD})

    finding = only(
        run_probe(
            Endpoint(587, STARTTLS, peer.port),
            ca_file=peer.ca_file,
            username=Secret(USER),
            password=Secret(PASSWORD),
        )
    )

    assert finding.data["outcome"] == "implicit_tls"
    assert finding.data["auth"] == "skipped"
    assert "auth" not in [s["step"] for s in finding.data["tls_retry"]]


def test_a_port_silent_to_tls_too_keeps_the_no_greeting_answer_and_says_tls_was_tried(start_peer: StartPeer) -> None:
    peer = start_peer("hang")

    finding = only(run_probe(Endpoint(587, STARTTLS, peer.port)))

    assert finding.severity == Severity.ERROR
    assert finding.data["outcome"] == "timeout"
    assert finding.summary == "Port 587 (STARTTLS): connected, but no greeting within 0.5 s"
    assert "A TLS handshake on a fresh connection got nowhere either" in finding.fix
    assert steps(finding.data["tls_retry"]) == [("connect", True), ("tls", False)]
    assert finding.data["tls_version"] is None and finding.data["certificate"] is None


@pytest.mark.parametrize("mode", ["starttls", "no_starttls"])
def test_a_port_that_greets_in_plaintext_is_never_tried_with_implicit_tls(start_peer: StartPeer, mode: str) -> None:
    peer = start_peer(mode)

    finding = only(run_probe(Endpoint(587, STARTTLS, peer.port), ca_file=peer.ca_file))

    assert finding.data["outcome"] in {"ok", "no_starttls"}
    assert finding.data["tls_retry"] == []


# --- the command -----------------------------------------------------------------------------------


@pytest.fixture
def smtp_deps(tmp_path: Path) -> Iterator[Callable[..., Deps]]:
    stores: list[Store] = []

    def make(**overrides: object) -> Deps:
        settings = Settings.from_env({"AWS_REGION": "us-east-1", "SESBOT_DB": str(tmp_path / "sesbot.db")})
        settings.smtp_host = "127.0.0.1"
        settings.smtp_timeout = TIMEOUT
        for key, value in overrides.items():
            setattr(settings, key, value)
        store = Store(settings.db_path)
        stores.append(store)
        return Deps.build(settings, store=store)

    yield make
    for store in stores:
        store.close()


def test_smtp_on_an_implicit_tls_port_without_slash_tls_finds_implicit_tls_and_the_advice_works(
    start_peer: StartPeer, smtp_deps: Callable[..., Deps]
) -> None:
    peer = start_peer("implicit")
    deps = smtp_deps(smtp_ca_file=peer.ca_file)

    report = execute(CommandContext(deps=deps, via="slack"), parse(f"smtp {peer.port}"))

    (finding,) = report.findings
    text = render(report)
    assert finding.data["outcome"] == "implicit_tls"
    assert f"this port speaks implicit TLS ({finding.data['tls_version']})" in text
    assert "issued by sesbot test CA" in text
    assert f"`smtp {peer.port}/tls`" in text

    followed = execute(CommandContext(deps=deps, via="slack"), parse(f"smtp {peer.port}/tls"))

    assert [(f.data["outcome"], f.severity) for f in followed.findings] == [("ok", Severity.OK)]


@pytest.mark.parametrize(("via", "prefix"), [("cli", "sesbot "), ("slack", "/ses ")])
def test_help_says_that_port_slash_tls_probes_implicit_tls_on_any_port(via: str, prefix: str) -> None:
    answer = help_answer(via, prefix)

    (line,) = [line for line in answer.sections[0][1] if line.startswith(f"{prefix}smtp ")]
    assert line.startswith(f"{prefix}smtp [region] [port[/tls]] — ")
    assert "PORT/tls for implicit TLS (TLS from the first byte) on any port" in line
