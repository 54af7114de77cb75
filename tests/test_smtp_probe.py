"""The SMTP probe explains every way reaching SES's SMTP endpoint fails, against real local SMTP peers."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.commands import CommandContext, execute, parse
from bot.commands.smtp import parse_args
from bot.deps import Deps
from bot.findings import Finding, Severity
from bot.render_text import render
from bot.settings import Secret, Settings
from bot.smtp_probe import IMPLICIT, SES_ENDPOINTS, STARTTLS, Endpoint, ProbeResult, explain, probe
from bot.store import Store
from bot.target import UsageError
from peers.certs import WRONG_NAME, make_test_pki
from peers.smtp import AUTH_INVALID_REPLY, STARTTLS_454_REPLY
from tests.conftest import Scripted, StartPeer

USER, PASSWORD = "AKIAIOSFODNN7EXAMPLE", "BPa55w0rdSmtpCredentialForTheProbeTests1234"
TIMEOUT = 0.5  # the hang peer makes each timeout test wait this long


def run_probe(*endpoints: Endpoint, ca_file: str | None = None, **options: object) -> ProbeResult:
    return probe("127.0.0.1", list(endpoints), timeout=TIMEOUT, ca_file=ca_file, **options)  # type: ignore[arg-type]


def only(result: ProbeResult) -> Finding:
    findings = explain(result, "us-east-1")
    assert len(findings) == 1
    return findings[0]


def steps(finding: Finding) -> list[tuple[str, bool]]:
    return [(s["step"], s["ok"]) for s in finding.data["steps"]]


# --- working ports ---------------------------------------------------------------------------------


def test_starttls_port_works_and_shows_the_tls_version_the_certificate_and_each_step(
    start_peer: StartPeer,
) -> None:
    peer = start_peer("starttls")

    finding = only(run_probe(Endpoint(587, STARTTLS, peer.port), ca_file=peer.ca_file))

    assert finding.check == "smtp.587"
    assert finding.severity == Severity.OK
    assert finding.data["outcome"] == "ok"
    assert finding.data["tls_version"] in {"TLSv1.2", "TLSv1.3"}
    assert finding.data["tls_version"] in finding.summary
    assert steps(finding) == [
        ("connect", True),
        ("banner", True),
        ("ehlo", True),
        ("starttls", True),
        ("tls", True),
        ("ehlo-tls", True),
        ("quit", True),
    ]
    assert finding.data["banner"] == "220 email-smtp.amazonaws.com ESMTP SimpleEmailService-d-TESTPEER0"
    assert finding.data["certificate"]["names"] == ["localhost", "127.0.0.1"]
    assert finding.data["auth"] == "not_configured"
    assert any(line.startswith("AUTH not tried") for line in finding.evidence)
    assert all(isinstance(s["ms"], float) for s in finding.data["steps"])


def test_implicit_tls_port_works_with_tls_before_the_banner(start_peer: StartPeer) -> None:
    peer = start_peer("implicit")

    finding = only(run_probe(Endpoint(465, IMPLICIT, peer.port), ca_file=peer.ca_file))

    assert finding.check == "smtp.465"
    assert finding.severity == Severity.OK
    assert steps(finding) == [
        ("connect", True),
        ("tls", True),
        ("banner", True),
        ("ehlo", True),
        ("quit", True),
    ]
    assert finding.data["cipher"]


def test_a_slow_greeting_is_a_warning_even_when_the_port_works(start_peer: StartPeer) -> None:
    peer = start_peer("starttls")

    finding = only(run_probe(Endpoint(587, STARTTLS, peer.port), ca_file=peer.ca_file, slow_banner_s=0.0))

    assert finding.severity == Severity.WARNING
    assert finding.summary.startswith("Port 587 (STARTTLS): works, but the greeting took")
    assert finding.data["outcome"] == "ok"


# --- connection failures ---------------------------------------------------------------------------


def test_a_refused_connection_is_an_error_when_no_port_works(start_peer: StartPeer) -> None:
    peer = start_peer("refused")

    finding = only(run_probe(Endpoint(2587, STARTTLS, peer.port)))

    assert finding.severity == Severity.ERROR
    assert finding.summary == "Port 2587 (STARTTLS): connection refused"
    assert steps(finding) == [("connect", False)]
    assert finding.data["failed_step"] == "connect"


def test_when_the_first_address_does_not_connect_the_next_is_dialled_and_both_are_shown(
    start_peer: StartPeer,
) -> None:
    peer = start_peer("starttls")  # on 127.0.0.1 only: [::1] refuses, or has no route where IPv6 is off

    result = run_probe(
        Endpoint(587, STARTTLS, peer.port), ca_file=peer.ca_file, resolve=lambda host, port: ["::1", "127.0.0.1"]
    )
    finding = only(result)

    assert finding.severity == Severity.OK
    assert finding.data["address"] == f"127.0.0.1:{peer.port}"
    assert list(finding.data["dial_failures"]) == [f"[::1]:{peer.port}"]
    assert finding.evidence[0].startswith(f"dialled [::1]:{peer.port} (")
    assert finding.evidence[0].endswith(f"), then 127.0.0.1:{peer.port}")


def test_when_no_address_connects_the_advice_names_every_address_dialled(start_peer: StartPeer) -> None:
    peer = start_peer("refused")

    result = run_probe(Endpoint(2587, STARTTLS, peer.port), resolve=lambda host, port: ["127.0.0.2", "127.0.0.1"])
    finding = only(result)

    assert finding.summary == "Port 2587 (STARTTLS): connection refused"
    assert finding.data["dial_failures"] == {f"127.0.0.2:{peer.port}": "connection refused"}
    assert finding.fix.startswith(f"Nothing accepts connections on 127.0.0.2:{peer.port} or 127.0.0.1:{peer.port}:")


def test_a_server_that_never_greets_is_a_timeout_at_the_banner(start_peer: StartPeer) -> None:
    peer = start_peer("hang")

    finding = only(run_probe(Endpoint(587, STARTTLS, peer.port)))

    assert finding.severity == Severity.ERROR
    assert finding.summary == "Port 587 (STARTTLS): connected, but no greeting within 0.5 s"
    assert steps(finding) == [("connect", True), ("banner", False)]
    assert finding.data["outcome"] == "timeout"


def test_port_25_timing_out_while_587_works_is_blamed_on_ec2s_port_25_throttle(start_peer: StartPeer) -> None:
    good, hang = start_peer("starttls"), start_peer("hang")

    findings = explain(
        run_probe(Endpoint(587, STARTTLS, good.port), Endpoint(25, STARTTLS, hang.port), ca_file=good.ca_file)
    )

    assert [(f.check, f.severity) for f in findings] == [
        ("smtp.587", Severity.OK),
        ("smtp.25", Severity.WARNING),
    ]
    port_25 = findings[1]
    assert port_25.summary == "Port 25 timed out (banner) while port 587 works: EC2 throttles outbound port 25"
    assert "https://repost.aws/knowledge-center/ec2-port-25-throttle" in port_25.fix


def test_every_port_timing_out_points_at_a_firewall(start_peer: StartPeer) -> None:
    hangs = [start_peer("hang") for _ in range(3)]
    endpoints = [
        Endpoint(p, t, h.port)
        for (p, t), h in zip(((587, STARTTLS), (465, IMPLICIT), (25, STARTTLS)), hangs, strict=True)
    ]

    findings = explain(run_probe(*endpoints))

    assert [f.severity for f in findings] == [Severity.ERROR] * 3
    assert all("like every other SMTP port: a firewall blocks SMTP" in f.summary for f in findings)
    assert all("security group" in f.fix for f in findings)


def test_ports_are_probed_concurrently_so_three_timeouts_cost_about_one(start_peer: StartPeer) -> None:
    hangs = [start_peer("hang") for _ in range(3)]
    endpoints = [Endpoint(587 + i, STARTTLS, h.port) for i, h in enumerate(hangs)]

    result = run_probe(*endpoints)

    sum_of_ports = sum(p.total_ms for p in result.ports)
    # Each port waited its own timeout; together they took about the time of one, not three.
    assert all(p.outcome == "timeout" for p in result.ports)
    assert result.elapsed_ms < 0.6 * sum_of_ports


def test_a_failing_port_is_only_a_warning_when_another_port_works(start_peer: StartPeer) -> None:
    good, refused = start_peer("implicit"), start_peer("refused")

    findings = explain(
        run_probe(Endpoint(465, IMPLICIT, good.port), Endpoint(2587, STARTTLS, refused.port), ca_file=good.ca_file)
    )

    assert [(f.check, f.severity) for f in findings] == [
        ("smtp.465", Severity.OK),
        ("smtp.2587", Severity.WARNING),
    ]
    assert "Use port 465, which works from here" in findings[1].fix


def test_an_over_long_greeting_line_is_that_ports_finding_and_the_other_ports_are_still_reported(
    start_peer: StartPeer,
) -> None:
    good, long = start_peer("implicit"), start_peer("starttls", banner="x" * 9000)

    findings = explain(
        run_probe(Endpoint(465, IMPLICIT, good.port), Endpoint(587, STARTTLS, long.port), ca_file=good.ca_file)
    )

    assert [(f.check, f.severity) for f in findings] == [("smtp.465", Severity.OK), ("smtp.587", Severity.WARNING)]
    quoted = "220 " + "x" * 75 + "…"
    assert findings[1].summary == f"Port 587 (STARTTLS): over-long reply line at the banner step ({quoted})"
    assert "RFC 5321" in findings[1].fix and "Use port 465, which works from here" in findings[1].fix
    assert steps(findings[1]) == [("connect", True), ("banner", False)]


def test_an_over_long_ehlo_reply_line_is_quoted_escaped_and_cut(scripted: Scripted) -> None:
    port = scripted(b"220 hi\r\n", {"EHLO": b"250-hi\r\n250 \x1b[31m" + b"y" * 9000 + b"\r\n"})

    finding = only(run_probe(Endpoint(587, STARTTLS, port)))

    assert finding.data["outcome"] == "long_line"
    assert finding.data["reply"] == "250 \\x1b[31m" + "y" * 67 + "…"
    assert steps(finding) == [("connect", True), ("banner", True), ("ehlo", False)]


@pytest.mark.parametrize(
    ("greeting", "shown"),
    [
        (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 400 Bad Request"),
        (b"SSH-2.0-OpenSSH_9.6\r\n", "SSH-2.0-OpenSSH_9.6"),
        (b"\x1b]8;;http://evil\x07hi\r\n", "\\x1b]8;;http://evil\\x07hi"),
    ],
)
def test_a_greeting_that_is_not_smtp_is_said_to_be_no_smtp_server_quoting_its_first_line(
    scripted: Scripted, greeting: bytes, shown: str
) -> None:
    port = scripted(greeting)

    finding = only(run_probe(Endpoint(587, STARTTLS, port)))

    assert finding.summary == f"Port 587 (STARTTLS): not an SMTP server; it greeted with: {shown}"
    assert finding.fix.startswith(f"What listens on 127.0.0.1:{port} does not speak SMTP")
    assert finding.data["outcome"] == "not_smtp"
    assert steps(finding) == [("connect", True), ("banner", False)]


def test_an_ehlo_reply_that_is_not_smtp_is_quoted_as_it_came(scripted: Scripted) -> None:
    port = scripted(b"220 hi\r\n", {"EHLO": b"<html>nope</html>\r\n"})

    finding = only(run_probe(Endpoint(587, STARTTLS, port)))

    assert finding.summary == "Port 587 (STARTTLS): not an SMTP server; its ehlo reply was: <html>nope</html>"


def test_a_failure_the_probe_did_not_foresee_is_that_ports_finding_and_spares_the_others(
    start_peer: StartPeer,
) -> None:
    # A name with an empty label makes the TLS library raise UnicodeError, which no step expects.
    tls, refused = start_peer("implicit"), start_peer("refused")

    findings = explain(
        run_probe(Endpoint(465, IMPLICIT, tls.port), Endpoint(2587, STARTTLS, refused.port), server_name=".example")
    )

    assert findings[0].summary.startswith("Port 465 (TLS): the probe itself failed (UnicodeError: ")
    assert findings[1].summary == "Port 2587 (STARTTLS): connection refused"


# --- TLS failures ----------------------------------------------------------------------------------


def test_a_server_without_starttls_is_said_to_strip_it(start_peer: StartPeer) -> None:
    peer = start_peer("no_starttls")

    finding = only(run_probe(Endpoint(587, STARTTLS, peer.port)))

    assert finding.severity == Severity.ERROR
    assert finding.summary == "Port 587 (STARTTLS): STARTTLS is not offered"
    assert "strips STARTTLS" in finding.fix
    assert steps(finding) == [("connect", True), ("banner", True), ("ehlo", True), ("starttls", False)]


def test_a_454_answer_to_starttls_is_quoted(start_peer: StartPeer) -> None:
    peer = start_peer("starttls_454")

    finding = only(run_probe(Endpoint(587, STARTTLS, peer.port), ca_file=peer.ca_file))

    assert finding.severity == Severity.ERROR
    assert finding.summary == f"Port 587 (STARTTLS): STARTTLS refused: {STARTTLS_454_REPLY}"
    assert finding.data["reply"] == STARTTLS_454_REPLY
    assert finding.data["outcome"] == "starttls_refused"


def test_plaintext_on_an_implicit_tls_port_is_recognised(start_peer: StartPeer) -> None:
    peer = start_peer("no_starttls")

    finding = only(run_probe(Endpoint(465, IMPLICIT, peer.port)))

    assert finding.severity == Severity.ERROR
    assert finding.summary == "Port 465 (TLS): the server spoke plaintext where TLS was expected"
    assert finding.data["outcome"] == "tls_plaintext"
    assert steps(finding) == [("connect", True), ("tls", False)]


def test_a_certificate_from_an_unknown_ca_is_untrusted_and_its_issuer_is_shown(start_peer: StartPeer) -> None:
    peer = start_peer("starttls")

    finding = only(run_probe(Endpoint(587, STARTTLS, peer.port)))  # the system store, not the peer's CA

    assert finding.severity == Severity.ERROR
    assert finding.summary == "Port 587 (STARTTLS): the server's certificate is not trusted (issued by sesbot test CA)"
    assert finding.data["outcome"] == "cert_untrusted"
    assert finding.data["certificate"]["issuer"] == "sesbot test CA"
    assert "TLS interception" in finding.fix


def test_a_certificate_for_another_name_is_a_wrong_host(start_peer: StartPeer, tmp_path: Path) -> None:
    pki = make_test_pki(tmp_path / "wrong", wrong_name=True)
    peer = start_peer("starttls", pki=pki)

    finding = only(run_probe(Endpoint(587, STARTTLS, peer.port), ca_file=pki.ca_file))

    assert finding.severity == Severity.ERROR
    assert finding.summary == f"Port 587 (STARTTLS): the certificate is for {WRONG_NAME}, not 127.0.0.1"
    assert finding.data["outcome"] == "cert_name"
    assert finding.data["certificate"]["names"] == [WRONG_NAME]


def test_an_expired_certificate_says_when_it_expired(start_peer: StartPeer, tmp_path: Path) -> None:
    pki = make_test_pki(tmp_path / "expired", expired=True)
    peer = start_peer("implicit", pki=pki)

    result = run_probe(Endpoint(465, IMPLICIT, peer.port), ca_file=pki.ca_file)
    finding = only(result)

    expired_on = result.ports[0].cert.not_after
    assert finding.severity == Severity.ERROR
    assert finding.summary == f"Port 465 (TLS): the server's certificate expired on {expired_on:%Y-%m-%d}"
    assert finding.data["outcome"] == "cert_expired"
    assert "clock" in finding.fix


# --- AUTH ------------------------------------------------------------------------------------------


def test_valid_smtp_credentials_are_accepted(start_peer: StartPeer) -> None:
    peer = start_peer("starttls", auth={USER: PASSWORD})

    finding = only(
        run_probe(
            Endpoint(587, STARTTLS, peer.port),
            ca_file=peer.ca_file,
            username=Secret(USER),
            password=Secret(PASSWORD),
        )
    )

    assert finding.severity == Severity.OK
    assert finding.summary.endswith("AUTH accepted")
    assert finding.data["auth"] == "ok"
    assert ("auth", True) in steps(finding)


def test_refused_credentials_explain_that_smtp_credentials_are_not_iam_keys(start_peer: StartPeer) -> None:
    peer = start_peer("implicit", auth={USER: PASSWORD})

    finding = only(
        run_probe(
            Endpoint(465, IMPLICIT, peer.port),
            ca_file=peer.ca_file,
            username=Secret(USER),
            password=Secret("wrong"),
        )
    )

    assert finding.severity == Severity.ERROR
    assert finding.summary == f"Port 465 (TLS): TLS works, but the SMTP credentials were refused: {AUTH_INVALID_REPLY}"
    assert finding.fix.startswith(
        "SMTP credentials are not IAM access keys: generate SMTP credentials in the SES console"
    )
    assert finding.data["auth"] == "failed"


def test_a_password_shaped_like_an_iam_secret_key_is_pointed_out(start_peer: StartPeer) -> None:
    peer = start_peer("starttls", auth={USER: PASSWORD})
    iam_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    finding = only(
        run_probe(
            Endpoint(587, STARTTLS, peer.port),
            ca_file=peer.ca_file,
            username=Secret(USER),
            password=Secret(iam_secret),
        )
    )

    assert finding.fix.startswith("The configured SMTP password has 40 characters, the length of an IAM secret")


def test_credentials_are_never_sent_over_a_connection_whose_certificate_failed(start_peer: StartPeer) -> None:
    peer = start_peer("starttls", auth={USER: PASSWORD})

    finding = only(run_probe(Endpoint(587, STARTTLS, peer.port), username=Secret(USER), password=Secret(PASSWORD)))

    assert finding.data["outcome"] == "cert_untrusted"
    assert finding.data["auth"] == "skipped"
    assert peer.messages == []


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


def test_the_smtp_command_probes_the_given_port_of_the_configured_host(
    start_peer: StartPeer, smtp_deps: Callable[..., Deps]
) -> None:
    peer = start_peer("starttls")
    deps = smtp_deps(smtp_ca_file=peer.ca_file)

    report = execute(CommandContext(deps=deps, via="cli"), parse(f"smtp us-east-1 {peer.port}"))

    assert report.kind == "smtp"
    assert report.target == f"127.0.0.1:{peer.port}"
    assert report.region == "us-east-1"
    assert [(f.check, f.severity) for f in report.findings] == [(f"smtp.{peer.port}", Severity.OK)]
    assert report.verdict is None


def test_the_smtp_command_takes_port_slash_tls_for_implicit_tls_on_another_port(
    start_peer: StartPeer, smtp_deps: Callable[..., Deps]
) -> None:
    peer = start_peer("implicit")
    deps = smtp_deps(smtp_ca_file=peer.ca_file)

    report = execute(CommandContext(deps=deps, via="slack"), parse(f"smtp {peer.port}/tls"))

    assert report.findings[0].severity == Severity.OK
    assert report.findings[0].data["tls_mode"] == "implicit"
    assert report.target == f"127.0.0.1:{peer.port}/tls"  # the answer names the mode it was asked to use


def test_smtp_credentials_never_appear_in_the_answer_json_text_or_repr(
    start_peer: StartPeer, smtp_deps: Callable[..., Deps]
) -> None:
    good = start_peer("starttls", auth={USER: PASSWORD})
    bad = start_peer("implicit", auth={USER: "another-password"})
    forms = [
        USER,
        PASSWORD,
        base64.b64encode(USER.encode()).decode(),
        base64.b64encode(PASSWORD.encode()).decode(),
    ]
    forms.append(base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode())

    for peer, port in ((good, f"{good.port}"), (bad, f"{bad.port}/tls")):
        deps = smtp_deps(smtp_ca_file=peer.ca_file, smtp_username=Secret(USER), smtp_password=Secret(PASSWORD))
        report = execute(CommandContext(deps=deps, via="cli"), parse(f"smtp {port}"))
        outputs = [json.dumps(report.as_dict(), default=str), render(report), repr(report)]
        for output in outputs:
            for form in forms:
                assert form not in output
    assert [f.data["auth"] for f in report.findings] == ["failed"]


def test_the_smtp_command_defaults_to_the_five_ses_ports_and_the_first_region() -> None:
    assert parse_args([], "eu-west-1") == ("eu-west-1", list(SES_ENDPOINTS))
    assert parse_args(["2465", "ap-south-1"], None) == ("ap-south-1", [Endpoint(2465, IMPLICIT)])
    assert parse_args(["8025/starttls"], None) == (None, [Endpoint(8025, STARTTLS)])


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (
            ["nowhere"],
            "`nowhere` is neither a region (like eu-west-1) nor a port (like 587); usage: smtp [region] [port]",
        ),
        (["99999"], "`99999` is not a port number (1-65535)"),
        (["587", "465"], "give one port at most, or none to probe 587, 465, 25, 2587 and 2465"),
        (["eu-west-1", "us-east-1"], "give one region at most, like `smtp eu-west-1 587`"),
    ],
)
def test_bad_smtp_arguments_are_usage_errors_that_say_what_to_type(words: list[str], message: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_args(words, "us-east-1")
    assert str(err.value) == message


def test_a_host_that_cannot_be_resolved_is_one_dns_finding() -> None:
    # An empty label fails inside getaddrinfo's IDNA step, before any DNS query leaves the machine.
    result = probe("email-smtp..example", [Endpoint(587)], timeout=TIMEOUT)

    findings = explain(result, "us-east-1")

    assert [(f.check, f.severity) for f in findings] == [("smtp.dns", Severity.ERROR)]
    assert findings[0].summary.startswith("Cannot resolve email-smtp..example")
    assert result.ports == []


def test_a_temporary_auth_failure_is_not_reported_as_bad_credentials(
    start_peer: StartPeer, smtp_deps: Callable[..., Deps]
) -> None:
    peer = start_peer("starttls", auth={USER: PASSWORD}, auth_reply="454 4.7.0 Temporary authentication failure")
    deps = smtp_deps(smtp_ca_file=peer.ca_file, smtp_username=Secret(USER), smtp_password=Secret("not-it"))
    report = execute(CommandContext(deps=deps, via="cli"), parse(f"smtp {peer.port}"))
    (finding,) = report.findings
    assert finding.severity == Severity.WARNING
    assert "could not check the SMTP credentials just now: 454 4.7.0 Temporary authentication failure" in (
        finding.summary
    )
    assert "not IAM access keys" not in finding.fix and "RFC 4954" in finding.fix
    assert finding.data["auth"] == "unavailable"
