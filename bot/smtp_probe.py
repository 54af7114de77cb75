"""SMTP probe: can this machine reach SES's SMTP endpoint, port by port, and where exactly does it fail?

One job: connect to `email-smtp.<region>.amazonaws.com` (or `SESBOT_SMTP_HOST`) on each SMTP port at
once (one thread per port) on the first of its addresses that takes the connection, walk the session the
way a mail client does — TCP connect, banner, EHLO, STARTTLS or implicit TLS, EHLO again, optionally
AUTH — time each step, and turn every failure into a finding that says what it means and what to do.
Nothing is ever sent: the probe stops before MAIL FROM. A STARTTLS port that never greets is tried once
more with TLS from the first byte (an implicit-TLS listener waits silently for the client's
ClientHello), and said to speak implicit TLS when it does.

    >>> result = probe("email-smtp.eu-west-1.amazonaws.com", SES_ENDPOINTS, timeout=5)  # doctest: +SKIP
    >>> [f.check for f in explain(result)]                                              # doctest: +SKIP
    ['smtp.587', 'smtp.465', 'smtp.25', 'smtp.2587', 'smtp.2465']

SMTP credentials are `Secret`s: they are revealed only inside the AUTH exchange, never put in a finding,
a step, an exception message or a log line, and any server text is scrubbed of them before it is kept.
"""

from __future__ import annotations

import base64
import ipaddress
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from bot.findings import Finding, Severity
from bot.render_text import clean
from bot.settings import Secret

STARTTLS = "starttls"
IMPLICIT = "implicit"

DOC_SMTP = "https://docs.aws.amazon.com/ses/latest/dg/smtp-connect.html"
DOC_CREDENTIALS = "https://docs.aws.amazon.com/ses/latest/dg/smtp-credentials.html"
DOC_PORT_25 = "https://repost.aws/knowledge-center/ec2-port-25-throttle"
DOC_TROUBLESHOOT = "https://docs.aws.amazon.com/ses/latest/dg/troubleshoot-smtp.html"

# OpenSSL X509_V_ERR_* codes worth naming (ssl.SSLCertVerificationError.verify_code).
_CERT_EXPIRED = {10}
_CERT_NOT_YET_VALID = {9}
_CERT_NAME = {62, 64}  # hostname mismatch, IP address mismatch
_CERT_UNTRUSTED = {2, 18, 19, 20, 21, 27}

# smtplib refuses a reply line longer than this (its _MAXLINE); RFC 5321 allows 512 octets.
_MAX_LINE = 8192
_QUOTED = 80  # characters of a line smtplib cannot use that a finding quotes


def ses_smtp_host(region: str) -> str:
    return f"email-smtp.{region}.amazonaws.com"


@dataclass(frozen=True)
class Endpoint:
    """One SMTP port to probe.

    `port` is the port as SES names it (the check id and the advice use it); `dial_port`, when set, is
    where the probe really connects — a tunnel or a local test peer standing in for that port.
    """

    port: int
    tls: str = STARTTLS  # STARTTLS or IMPLICIT
    dial_port: int | None = None

    @property
    def target_port(self) -> int:
        return self.dial_port or self.port

    @property
    def label(self) -> str:
        return f"{self.port} ({'STARTTLS' if self.tls == STARTTLS else 'TLS'})"


# SES's SMTP ports, in the order a person should try them.
SES_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(587, STARTTLS),
    Endpoint(465, IMPLICIT),
    Endpoint(25, STARTTLS),
    Endpoint(2587, STARTTLS),
    Endpoint(2465, IMPLICIT),
)
IMPLICIT_PORTS = frozenset({465, 2465})


def endpoint_for(port: int, tls: str | None = None) -> Endpoint:
    """The endpoint for a port typed by a person: SES's own mode for its ports, STARTTLS otherwise."""
    return Endpoint(port, tls or (IMPLICIT if port in IMPLICIT_PORTS else STARTTLS))


@dataclass
class Step:
    """One step of the session: what was done, how long it took, whether it worked, what was seen."""

    name: str  # connect, tls, banner, ehlo, helo, starttls, ehlo-tls, auth, quit
    ms: float
    ok: bool
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.name, "ms": round(self.ms, 1), "ok": self.ok, "detail": self.detail}


@dataclass
class CertInfo:
    """The server certificate, as far as a person needs it."""

    subject: str
    issuer: str
    names: list[str]
    not_before: datetime
    not_after: datetime

    def days_left(self, now: datetime) -> int:
        return (self.not_after - now).days

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "names": list(self.names),
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
        }


@dataclass
class PortResult:
    """What happened on one port. `outcome` is "ok" or the kind of failure (see `explain`)."""

    endpoint: Endpoint
    address: str
    outcome: str = "ok"
    failed_step: str | None = None
    steps: list[Step] = field(default_factory=list)
    banner: str | None = None
    extensions: list[str] = field(default_factory=list)
    tls_version: str | None = None
    cipher: str | None = None
    cert: CertInfo | None = None
    cert_error: str | None = None
    auth: str = "not_configured"  # ok, failed, not_offered, error, skipped, not_configured
    reply: str | None = None  # the server's words at the failing step (scrubbed)
    error: str | None = None  # the local error at the failing step (scrubbed)
    # A STARTTLS port that never greeted is tried once more with TLS from the first byte, on a fresh
    # connection (`_try_implicit_tls`); these are that session's steps. When the handshake works, the
    # outcome is "implicit_tls" and the TLS fields above (banner, version, certificate) are from it.
    tls_retry: list[Step] = field(default_factory=list)
    # The resolved addresses dialled before `address` that did not connect (host:port -> why), in order:
    # the probe tries them in turn, as an MTA does (`_dial`).
    dial_failures: dict[str, str] = field(default_factory=dict)

    @property
    def tls_ok(self) -> bool:
        """The transport works: TLS is up and the server answered EHLO inside it."""
        return any(s.name == "ehlo-tls" and s.ok for s in self.steps) or (
            self.endpoint.tls == IMPLICIT and any(s.name == "ehlo" and s.ok for s in self.steps)
        )

    @property
    def connected(self) -> bool:
        return any(s.name == "connect" and s.ok for s in self.steps)

    def ms(self, step: str) -> float | None:
        for s in self.steps:
            if s.name == step:
                return s.ms
        return None

    @property
    def total_ms(self) -> float:
        return sum(s.ms for s in self.steps) + sum(s.ms for s in self.tls_retry)

    def as_dict(self) -> dict[str, Any]:
        return {
            "port": self.endpoint.port,
            "tls_mode": self.endpoint.tls,
            "address": self.address,
            "outcome": self.outcome,
            "failed_step": self.failed_step,
            "steps": [s.as_dict() for s in self.steps],
            "banner": self.banner,
            "extensions": list(self.extensions),
            "tls_version": self.tls_version,
            "cipher": self.cipher,
            "certificate": self.cert.as_dict() if self.cert else None,
            "certificate_error": self.cert_error,
            "auth": self.auth,
            "reply": self.reply,
            "error": self.error,
            "tls_retry": [s.as_dict() for s in self.tls_retry],
            "dial_failures": dict(self.dial_failures),
            "total_ms": round(self.total_ms, 1),
        }


@dataclass
class ProbeResult:
    """The whole probe: the host, its addresses, and one `PortResult` per endpoint (in order)."""

    host: str
    server_name: str
    addresses: list[str]
    resolve_ms: float
    resolve_error: str | None
    ports: list[PortResult]
    timeout: float
    slow_banner_s: float
    credentials_configured: bool
    checked_at: datetime
    password_hint: str | None = None
    elapsed_ms: float = 0.0  # wall time of the whole probe (the ports run at once)


@dataclass(frozen=True)
class _Options:
    server_name: str
    timeout: float
    ca_file: str | None
    username: Secret | None
    password: Secret | None
    ehlo_name: str
    helo_fallback: bool = False  # EHLO refused with a 5xx: try HELO (RFC 5321 4.1.4), as an MTA does


class _Failed(Exception):
    """Ends a session at the step that failed; `outcome` names the failure."""

    def __init__(self, outcome: str, *, reply: str | None = None, error: str | None = None):
        super().__init__(outcome)
        self.outcome = outcome
        self.reply = reply
        self.error = error


def _scrubber(opts: _Options):  # noqa: ANN202 - a closure
    """A function that removes every form of the credentials from a text a server or library produced."""
    secrets: list[str] = []
    for value in (opts.username, opts.password):
        if value:
            raw = value.reveal()
            secrets += [raw, base64.b64encode(raw.encode()).decode()]
    if opts.username and opts.password:
        plain = f"\0{opts.username.reveal()}\0{opts.password.reveal()}".encode()
        secrets.append(base64.b64encode(plain).decode())
    secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def scrub(text: object) -> str:
        out = str(text)
        for s in secrets:
            out = out.replace(s, "***")
        return out[:300]

    return scrub


def _reply_text(code: int, msg: bytes | str) -> str:
    text = msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
    return f"{code} {' '.join(text.split())}".strip()


def _quote(line: bytes) -> str:
    """A line as a finding may quote it: decoded, control characters made visible, cut."""
    return clean(line.decode("utf-8", "replace").rstrip("\r\n"), _QUOTED)


class _Lines:
    """The session's socket file for smtplib, keeping the last line read: smtplib drops a line it
    cannot use (one over `_MAX_LINE`) and mangles one without a reply code, and the probe quotes it."""

    def __init__(self, sock: socket.socket) -> None:
        self._file = sock.makefile("rb")
        self.last = b""

    def readline(self, limit: int = -1) -> bytes:
        self.last = self._file.readline(limit)
        return self.last

    def close(self) -> None:
        self._file.close()


def _parse_cert(der: bytes | None) -> CertInfo | None:
    if not der:
        return None
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None

    def cn(name: x509.Name) -> str:
        attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME) or name.get_attributes_for_oid(
            NameOID.ORGANIZATION_NAME
        )
        return str(attrs[0].value) if attrs else name.rfc4514_string()

    names: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(n) for n in san.get_values_for_type(x509.DNSName)]
        names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    return CertInfo(
        subject=cn(cert.subject),
        issuer=cn(cert.issuer),
        names=names,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def _classify_ssl_error(exc: ssl.SSLError) -> tuple[str, str]:
    """(outcome, one-line reason) for a failed TLS handshake."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = getattr(exc, "verify_code", None)
        message = getattr(exc, "verify_message", None) or str(exc)
        if code in _CERT_EXPIRED:
            return "cert_expired", message
        if code in _CERT_NOT_YET_VALID:
            return "cert_not_yet_valid", message
        if code in _CERT_NAME:
            return "cert_name", message
        return "cert_untrusted", message
    reason = (getattr(exc, "reason", None) or "").upper()
    text = str(exc)
    # A plaintext greeting read as a TLS record: "220 ..." is not a TLS version or a sane record length.
    if reason in (
        "WRONG_VERSION_NUMBER",
        "HTTP_REQUEST",
        "PACKET_LENGTH_TOO_LONG",
        "RECORD_LAYER_FAILURE",
    ) or ("WRONG_VERSION_NUMBER" in text.upper()):
        return "tls_plaintext", reason or text
    return "tls_failed", reason or text


class _Session:
    """One SMTP session on one endpoint, step by step; each step appends a `Step` to `result.steps`."""

    def __init__(self, address: str, endpoint: Endpoint, opts: _Options, context: ssl.SSLContext):
        self.address = address
        self.endpoint = endpoint
        self.opts = opts
        self.context = context
        self.scrub = _scrubber(opts)
        self.result = PortResult(endpoint=endpoint, address=self._where())
        self.smtp = smtplib.SMTP(local_hostname=opts.ehlo_name, timeout=opts.timeout)
        self.lines: _Lines | None = None

    def _read_from(self, sock: socket.socket) -> None:
        self.smtp.sock = sock
        self.lines = self.smtp.file = _Lines(sock)

    @property
    def _overlong_line(self) -> bool:
        return self.lines is not None and len(self.lines.last) > _MAX_LINE

    def _overlong(self, step: str, started: float) -> _Failed:
        """The failure for a reply line smtplib would not read (over `_MAX_LINE`), quoting its start."""
        shown = _quote(self.lines.last if self.lines else b"")
        self._step(step, started, False, f"reply line over {_MAX_LINE} bytes: {shown}")
        return _Failed("long_line", reply=shown)

    def _not_smtp(self, step: str, started: float) -> _Failed:
        """The failure for a reply without an SMTP code (smtplib's -1), quoting the line as it came."""
        shown = _quote(self.lines.last if self.lines else b"")
        self._step(step, started, False, f"not SMTP: {shown}")
        return _Failed("not_smtp", reply=shown)

    def _where(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.endpoint.target_port}"

    def _step(self, name: str, started: float, ok: bool, detail: str = "") -> None:
        ms = (time.perf_counter() - started) * 1000
        self.result.steps.append(Step(name, ms, ok, self.scrub(detail) if detail else ""))

    # -- the session -----------------------------------------------------------------------------------
    def run(self, *, stop_after_tls: bool = False) -> PortResult:
        try:
            self._connect()
            if self.endpoint.tls == IMPLICIT:
                self._tls()
                self._banner()
                self._ehlo("ehlo")
            else:
                self._banner()
                self._ehlo("ehlo")
                self._starttls()
                self._tls()
                if not stop_after_tls:
                    self._ehlo("ehlo-tls")
            if not stop_after_tls:
                self._auth()
                self._quit()
        except _Failed as failed:
            self.result.outcome = failed.outcome
            self.result.failed_step = self.result.steps[-1].name if self.result.steps else None
            self.result.reply = self.scrub(failed.reply) if failed.reply else None
            self.result.error = self.scrub(failed.error) if failed.error else None
        finally:
            self._close()
        return self.result

    def _connect(self) -> None:
        started = time.perf_counter()
        try:
            sock = socket.create_connection((self.address, self.endpoint.target_port), timeout=self.opts.timeout)
        except ConnectionRefusedError:
            self._step("connect", started, False, "connection refused")
            raise _Failed("refused", error="connection refused") from None
        except TimeoutError:
            self._step("connect", started, False, f"no answer within {self.opts.timeout:g} s")
            raise _Failed("timeout", error="TCP connect timed out") from None
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            self._step("connect", started, False, why)
            raise _Failed("unreachable", error=why) from None
        self._read_from(sock)
        self._step("connect", started, True, self.result.address)

    def _tls(self) -> None:
        plain = self.smtp.sock
        assert plain is not None, "_connect() comes first"
        started = time.perf_counter()
        try:
            tls_sock = self.context.wrap_socket(plain, server_hostname=self.opts.server_name)
        except ssl.SSLError as exc:
            outcome, reason = _classify_ssl_error(exc)
            self._step("tls", started, False, reason)
            raise _Failed(outcome, error=reason) from None
        except TimeoutError:
            self._step("tls", started, False, f"handshake not finished within {self.opts.timeout:g} s")
            raise _Failed("timeout", error="TLS handshake timed out") from None
        except OSError as exc:  # reset or closed mid-handshake
            why = exc.strerror or str(exc) or type(exc).__name__
            self._step("tls", started, False, f"connection closed during the handshake ({why})")
            raise _Failed("tls_failed", error=f"connection closed during the handshake ({why})") from None
        self._read_from(tls_sock)
        cipher = tls_sock.cipher()
        self.result.tls_version = tls_sock.version()
        self.result.cipher = f"{cipher[0]} ({cipher[2]} bits)" if cipher else None
        self.result.cert = _parse_cert(tls_sock.getpeercert(binary_form=True))
        self._step("tls", started, True, f"{self.result.tls_version} {self.result.cipher or ''}".strip())

    def _read_reply(self, step: str, started: float) -> tuple[int, str]:
        try:
            code, msg = self.smtp.getreply()
        except smtplib.SMTPServerDisconnected as exc:
            if isinstance(exc.__context__, TimeoutError):
                self._step(step, started, False, f"no answer within {self.opts.timeout:g} s")
                raise _Failed("timeout", error=f"no {step} within {self.opts.timeout:g} s") from None
            self._step(step, started, False, "the server closed the connection")
            raise _Failed("closed", error="the server closed the connection") from None
        except ssl.SSLError as exc:
            self._step(step, started, False, str(exc))
            raise _Failed("tls_failed", error=str(exc)) from None
        except smtplib.SMTPResponseException:  # getreply's only one: a line over _MAX_LINE
            raise self._overlong(step, started) from None
        if code == -1:
            raise self._not_smtp(step, started)
        return code, _reply_text(code, msg)

    def _banner(self) -> None:
        started = time.perf_counter()
        code, text = self._read_reply("banner", started)
        self.result.banner = self.scrub(text)
        if code != 220:
            self._step("banner", started, False, text)
            raise _Failed("rejected", reply=text)
        self._step("banner", started, True, text)

    def _ehlo(self, step: str) -> None:
        started = time.perf_counter()
        try:
            code, msg = self.smtp.ehlo()
        except smtplib.SMTPServerDisconnected as exc:
            timed_out = isinstance(exc.__context__, TimeoutError)
            self._step(step, started, False, "no answer" if timed_out else "the server closed the connection")
            raise _Failed("timeout" if timed_out else "closed", error=str(exc)) from None
        except smtplib.SMTPResponseException:  # getreply's only one: a line over _MAX_LINE
            raise self._overlong(step, started) from None
        if code == -1:
            raise self._not_smtp(step, started)
        text = _reply_text(code, msg)
        if code != 250:
            self._step(step, started, False, text)
            if self.opts.helo_fallback and step == "ehlo" and 500 <= code < 600:
                self._helo()
                return
            raise _Failed("rejected", reply=text)
        features = sorted(k.upper() for k in self.smtp.esmtp_features)
        auth = self.smtp.esmtp_features.get("auth", "").strip()
        shown = [f"AUTH {auth}" if f == "AUTH" and auth else f for f in features]
        self.result.extensions = shown
        self._step(step, started, True, ", ".join(shown) or "no extensions")

    def _helo(self) -> None:
        """A server that refuses EHLO may still speak SMTP without extensions: HELO, then no STARTTLS."""
        started = time.perf_counter()
        try:
            code, msg = self.smtp.helo()
        except smtplib.SMTPServerDisconnected as exc:
            timed_out = isinstance(exc.__context__, TimeoutError)
            self._step("helo", started, False, "no answer" if timed_out else "the server closed the connection")
            raise _Failed("timeout" if timed_out else "closed", error=str(exc)) from None
        text = _reply_text(code, msg)
        self._step("helo", started, code == 250, text)
        if code != 250:
            raise _Failed("rejected", reply=text)

    def _starttls(self) -> None:
        started = time.perf_counter()
        if not self.smtp.has_extn("starttls"):
            self._step("starttls", started, False, "STARTTLS is not offered")
            raise _Failed("no_starttls", error="STARTTLS is not among the EHLO extensions")
        try:
            self.smtp.putcmd("STARTTLS")
        except (smtplib.SMTPServerDisconnected, OSError):
            self._step("starttls", started, False, "the server closed the connection")
            raise _Failed("closed", error="the server closed the connection") from None
        code, text = self._read_reply("starttls", started)
        if code != 220:
            self._step("starttls", started, False, text)
            raise _Failed("starttls_refused", reply=text)
        self._step("starttls", started, True, text)
        # A new EHLO is required after TLS; forget what was said in plaintext.
        self.smtp.helo_resp = self.smtp.ehlo_resp = None
        self.smtp.esmtp_features = {}
        self.smtp.does_esmtp = False

    def _auth(self) -> None:
        if not (self.opts.username and self.opts.password):
            self.result.auth = "not_configured"
            return
        started = time.perf_counter()
        advertised = self.smtp.esmtp_features.get("auth", "").upper().split()
        if not self.smtp.has_extn("auth"):
            self.result.auth = "not_offered"
            self._step("auth", started, False, "AUTH is not offered")
            raise _Failed("auth_not_offered", error="AUTH is not among the EHLO extensions after TLS")
        method = "PLAIN" if "PLAIN" in advertised or not advertised else "LOGIN"
        self.smtp.user, self.smtp.password = self.opts.username.reveal(), self.opts.password.reveal()
        try:
            authobject = self.smtp.auth_plain if method == "PLAIN" else self.smtp.auth_login
            code, msg = self.smtp.auth(method, authobject, initial_response_ok=True)
        except smtplib.SMTPAuthenticationError as exc:
            text = self.scrub(_reply_text(exc.smtp_code, exc.smtp_error))
            # smtplib raises this for every reply but 235 and 503; a 4xx (454 "Temporary authentication
            # failure", RFC 4954 section 6) judged nothing: only a 5xx (535) refuses the credentials.
            temporary = 400 <= exc.smtp_code < 500
            self.result.auth = "unavailable" if temporary else "failed"
            self._step("auth", started, False, text)
            raise _Failed("auth_temporary" if temporary else "auth_failed", reply=text) from None
        except (smtplib.SMTPException, OSError) as exc:
            # Never the exception's text verbatim: it could quote what was sent.
            self.result.auth = "error"
            if self._overlong_line:
                raise self._overlong("auth", started) from None
            why = "no answer" if isinstance(exc.__context__, TimeoutError) else type(exc).__name__
            self._step("auth", started, False, why)
            raise _Failed("auth_error", error=why) from None
        finally:
            self.smtp.user = self.smtp.password = ""
        self.result.auth = "ok"
        self._step("auth", started, True, f"{method}: {_reply_text(code, msg)}")

    def _quit(self) -> None:
        started = time.perf_counter()
        try:
            self.smtp.putcmd("QUIT")
            code, msg = self.smtp.getreply()
            self._step("quit", started, True, _reply_text(code, msg))
        except (smtplib.SMTPException, OSError):
            self._step("quit", started, True, "closed without a reply")

    def _close(self) -> None:
        try:
            self.smtp.close()
        except OSError:
            pass


def _context(ca_file: str | None, verify: bool = True) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _peek_cert(address: str, endpoint: Endpoint, opts: _Options) -> PortResult:
    """A handshake without verification (and without AUTH), for the certificate a verified one rejected."""
    unverified = _Options(opts.server_name, opts.timeout, None, None, None, opts.ehlo_name)
    return _Session(address, endpoint, unverified, _context(None, verify=False)).run(stop_after_tls=True)


def starttls_handshake(address: str, port: int, *, server_name: str, timeout: float) -> PortResult:
    """Can a TLS session be set up with this mail server, as a sending MTA sets one up? Connect, banner,
    EHLO (HELO when EHLO is refused: no STARTTLS then), STARTTLS and the handshake, nothing after (no AUTH,
    no mail). The certificate is read but not verified: an MTA's STARTTLS, SES's among them, does not
    require a trusted one."""
    opts = _Options(server_name, timeout, None, None, None, "localhost", helo_fallback=True)
    return _Session(address, Endpoint(port, STARTTLS), opts, _context(None, verify=False)).run(stop_after_tls=True)


def _try_implicit_tls(address: str, result: PortResult, opts: _Options) -> None:
    """A STARTTLS port that gave no greeting: does it wait for a TLS ClientHello (implicit TLS)?

    One more session on a fresh connection, TLS from the first byte, never with credentials (the
    person asked for STARTTLS; `PORT/tls` probes AUTH). Its steps go to `result.tls_retry`. When the
    server completes the handshake — or presents a certificate this host does not accept, which is TLS
    too — the outcome becomes "implicit_tls" with the version, certificate and banner seen over TLS.
    """
    ep = result.endpoint
    implicit = Endpoint(ep.port, IMPLICIT, ep.dial_port)
    anonymous = _Options(opts.server_name, opts.timeout, opts.ca_file, None, None, opts.ehlo_name)
    attempt = _Session(address, implicit, anonymous, _context(opts.ca_file)).run()
    result.tls_retry = attempt.steps
    seen = attempt
    if attempt.outcome.startswith("cert_"):
        seen = _peek_cert(address, implicit, opts)
        result.cert_error = attempt.error
    elif not any(s.name == "tls" and s.ok for s in attempt.steps):
        return  # no TLS either: the answer stays "no greeting"
    result.outcome = "implicit_tls"
    result.tls_version, result.cipher, result.cert = seen.tls_version, seen.cipher, seen.cert
    result.banner, result.extensions = seen.banner, seen.extensions


def _dial(addresses: Sequence[str], endpoint: Endpoint, opts: _Options) -> tuple[str, PortResult]:
    """(address, session) on the first address that takes the TCP connection, trying them in turn as an
    MTA does; when none does, the last one's. After a connect timeout the rest of that address family is
    skipped: a firewall that drops the port drops it for each of them, and each would cost a timeout."""
    tried: list[tuple[str, PortResult]] = []
    timed_out: set[bool] = set()  # the families (IPv6 or not) whose connect timed out
    for address in addresses:
        ipv6 = ":" in address
        if ipv6 in timed_out:
            continue
        result = _Session(address, endpoint, opts, _context(opts.ca_file)).run()
        tried.append((address, result))
        if result.connected:
            break
        if result.outcome == "timeout":
            timed_out.add(ipv6)
    address, result = tried[-1]
    result.dial_failures = {r.address: r.error or r.outcome for _, r in tried[:-1]}
    return address, result


def probe_endpoint(addresses: Sequence[str], endpoint: Endpoint, opts: _Options) -> PortResult:
    """One port: the session on the first address that connects (`_dial`), and on a certificate failure a
    second, unverified handshake to show the cert; a STARTTLS port that stays silent is tried with implicit
    TLS (`_try_implicit_tls`)."""
    address, result = _dial(addresses, endpoint, opts)
    if result.outcome.startswith("cert_"):
        # The verified handshake does not hand over the certificate it rejected; fetch it without
        # verification (and without AUTH: credentials never go over an unverified channel).
        result.cert = _peek_cert(address, endpoint, opts).cert
        result.auth = "skipped" if opts.username and opts.password else "not_configured"
    elif result.outcome == "timeout" and result.failed_step == "banner" and endpoint.tls == STARTTLS:
        _try_implicit_tls(address, result, opts)
    if result.outcome != "ok" and result.auth == "not_configured" and opts.username and opts.password:
        result.auth = "skipped"
    return result


def _probe_port(addresses: Sequence[str], endpoint: Endpoint, opts: _Options) -> PortResult:
    """`probe_endpoint`, and whatever it did not foresee is this port's finding, never the other ports' loss."""
    try:
        return probe_endpoint(addresses, endpoint, opts)
    except Exception as exc:  # one port's surprise must not end the whole probe
        result = PortResult(endpoint=endpoint, address=addresses[0], outcome="probe_error")
        result.error = _scrubber(opts)(f"{type(exc).__name__}: {exc}")
        return result


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def probe(
    host: str,
    endpoints: Sequence[Endpoint] = SES_ENDPOINTS,
    *,
    server_name: str | None = None,
    timeout: float = 5.0,
    ca_file: str | None = None,
    username: Secret | None = None,
    password: Secret | None = None,
    slow_banner_s: float | None = None,
    ehlo_name: str = "localhost",
    resolve: Callable[[str, int], Sequence[str]] = _resolve,
) -> ProbeResult:
    """Resolve `host` once, then probe every endpoint concurrently (one thread per port), each on the first
    of the addresses that takes the connection.

    `resolve` gives a host's addresses in the order to dial them (default: getaddrinfo's). `server_name` is
    the name the certificate must carry (default: `host`); `ca_file` replaces the system trust store.
    `slow_banner_s` (default: half the timeout, at most 2 s) marks a slow greeting.
    """
    server_name = server_name or host
    slow = slow_banner_s if slow_banner_s is not None else min(2.0, timeout / 2)
    opts = _Options(server_name, timeout, ca_file, username, password, ehlo_name)
    checked_at = datetime.now(UTC)
    started = time.perf_counter()
    try:
        addresses = list(resolve(host, endpoints[0].target_port if endpoints else 587))
        resolve_error = None
    except (socket.gaierror, UnicodeError, OSError) as exc:
        addresses, resolve_error = [], (getattr(exc, "strerror", None) or str(exc))
    resolve_ms = (time.perf_counter() - started) * 1000
    ports: list[PortResult] = []
    if addresses:
        with ThreadPoolExecutor(max_workers=max(1, len(endpoints)), thread_name_prefix="smtp-probe") as pool:
            ports = list(pool.map(lambda ep: _probe_port(addresses, ep, opts), endpoints))
    return ProbeResult(
        host=host,
        server_name=server_name,
        addresses=addresses,
        resolve_ms=resolve_ms,
        resolve_error=resolve_error,
        ports=ports,
        timeout=timeout,
        slow_banner_s=slow,
        credentials_configured=bool(username and password),
        checked_at=checked_at,
        password_hint=password_hint(password),
        elapsed_ms=(time.perf_counter() - started) * 1000,
    )


# -- explanation ---------------------------------------------------------------------------------------


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _step_line(s: Step) -> str:
    detail = f": {s.detail}" if s.detail else ""
    return f"{s.name} {'ok' if s.ok else 'FAILED'} in {s.ms:.0f} ms{detail}"


def _evidence(result: ProbeResult, port: PortResult) -> list[str]:
    lines = []
    if result.addresses:
        more = f" (+{len(result.addresses) - 1} more)" if len(result.addresses) > 1 else ""
        resolved = "" if _is_ip(result.host) else f"{result.host} -> {result.addresses[0]}{more}, "
        missed = "".join(f"{where} ({why}), then " for where, why in port.dial_failures.items())
        lines.append(f"{resolved}dialled {missed}{port.address}")
    for s in port.steps:
        lines.append(_step_line(s))
    if port.tls_retry:
        lines.append("then TLS from the first byte, on a fresh connection (implicit TLS):")
        lines += [f"  {_step_line(s)}" for s in port.tls_retry]
    if port.cert:
        c = port.cert
        names = ", ".join(c.names[:6]) + (" ..." if len(c.names) > 6 else "")
        days = c.days_left(result.checked_at)
        left = f"{days} days left" if days >= 0 else f"expired {-days} days ago"
        lines.append(
            f"certificate: {c.subject}, issued by {c.issuer}, valid {c.not_before:%Y-%m-%d} to "
            f"{c.not_after:%Y-%m-%d} ({left}), names: {names or 'none'}"
        )
    if port.tls_ok:
        if port.auth == "not_configured":
            lines.append("AUTH not tried: set SESBOT_SMTP_USERNAME and SESBOT_SMTP_PASSWORD to test credentials")
    return lines


def _ok_ports(result: ProbeResult) -> list[int]:
    return [p.endpoint.port for p in result.ports if p.tls_ok]


def _connect_fix(result: ProbeResult, port: PortResult) -> str:
    working = [p for p in _ok_ports(result) if p != port.endpoint.port]
    if not working:
        return ""
    return f"Use port {working[0]}, which works from here, or open port {port.endpoint.port} in the firewall."


@dataclass
class _Facts:
    """What the explanation rules read about one port; the templates name these fields (``{ep.label}``...)."""

    result: ProbeResult
    port: PortResult
    ep: Endpoint
    host: str  # the name the certificate must carry
    timeout: str  # "5 s"
    step: str  # the failing step, "connect" when none is recorded
    others_work: list[int]  # other ports whose TLS works, in probe order
    banner_ms: float
    cert_names: str  # the first four names on the certificate
    detail: str  # the local error (or the outcome) without a final full stop
    dialled: str  # every host:port the probe dialled for this port: "[::1]:587 or 192.0.2.1:587"

    @classmethod
    def of(cls, result: ProbeResult, port: PortResult) -> _Facts:
        cert = port.cert
        return cls(
            result=result,
            port=port,
            ep=port.endpoint,
            host=result.server_name,
            timeout=f"{result.timeout:g} s",
            step=port.failed_step or "connect",
            others_work=[p for p in _ok_ports(result) if p != port.endpoint.port],
            banner_ms=port.ms("banner") or 0.0,
            cert_names=", ".join(cert.names[:4]) if cert else "",
            detail=(port.error or port.outcome).rstrip("."),
            dialled=" or ".join([*port.dial_failures, port.address]),
        )


_Test = Callable[[_Facts], object]

# Optional pieces of wording, by the name the templates use: (present when, wording, wording otherwise).
_PIECES: dict[str, tuple[_Test, str, str]] = {
    "reply": (lambda f: f.port.reply, ": {port.reply}", ""),
    "cert_valid": (lambda f: f.port.cert, ", certificate valid for {host} until {port.cert.not_after:%Y-%m-%d}", ""),
    "auth_accepted": (lambda f: f.port.auth == "ok", ", AUTH accepted", ""),
    "port_25_limit": (lambda f: f.ep.port == 25, ", or EC2's port-25 limit", ""),
    "plaintext_wait": (
        lambda f: f.ep.tls == STARTTLS,
        " If the client speaks plaintext to an implicit-TLS port, both sides wait like this.",
        "",
    ),
    "tls_tried": (
        lambda f: f.port.tls_retry,
        " A TLS handshake on a fresh connection got nowhere either, so it is not an implicit-TLS port.",
        "",
    ),
    "version": (lambda f: f.port.tls_version, " ({port.tls_version})", ""),
    "tls_banner": (lambda f: f.port.banner, " Over TLS it greeted: {port.banner}.", ""),
    "cert_seen": (
        lambda f: f.port.cert,
        " Its certificate: {port.cert.subject}, issued by {port.cert.issuer}, valid until "
        "{port.cert.not_after:%Y-%m-%d}.",
        "",
    ),
    "cert_refused": (
        lambda f: f.port.cert_error,
        " This host does not accept that certificate ({port.cert_error}); the `/tls` probe says why.",
        "",
    ),
    "expired_on": (lambda f: f.port.cert, " on {port.cert.not_after:%Y-%m-%d}", ""),
    "issued_by": (lambda f: f.port.cert, " (issued by {port.cert.issuer})", ""),
    "names": (lambda f: f.cert_names, "{cert_names}", "other names"),
    "hint": (lambda f: f.result.password_hint, "{result.password_hint} ", ""),
    "it_said": (lambda f: f.step == "banner", "it greeted with", "its {port.failed_step} reply was"),
}


@dataclass(frozen=True)
class _Rule:
    """One explanation: which probe outcome it matches, and what it says.

    A rule matches when every condition it sets holds: `outcome` (None: any), `port` (the SES port),
    `step` (the failing step, "connect" when none is recorded) and `when`. `summary` and `fix` are
    `str.format` templates over the `_Facts` fields, the `_PIECES`, ``{doc}`` (`doc`, the page the advice
    comes from) and ``{alternative}``: the advice to use another port that works from here, or when none
    does, `otherwise`. `severity` None: WARNING while another port works, ERROR when none does.
    """

    outcome: str | None
    summary: str
    fix: str
    severity: Severity | None = None
    port: int | None = None
    step: str | None = None
    when: _Test | None = None
    otherwise: str | None = None
    doc: str = ""

    def matches(self, facts: _Facts) -> bool:
        return (
            self.outcome in (None, facts.port.outcome)
            and self.port in (None, facts.ep.port)
            and self.step in (None, facts.step)
            and (self.when is None or bool(self.when(facts)))
        )


# First match wins; the last rule matches every outcome.
_RULES: tuple[_Rule, ...] = (
    _Rule(
        "ok",
        "Port {ep.label}: works, but the greeting took {banner_ms:.0f} ms",
        "SES greets within a fraction of a second. A slow banner usually means something in between "
        "(an SMTP proxy or antivirus scanner) or a network path with heavy loss; clients with short "
        "timeouts will give up. Check the path, or connect directly. {doc}",
        Severity.WARNING,
        when=lambda f: f.banner_ms > f.result.slow_banner_s * 1000,
        doc=DOC_TROUBLESHOOT,
    ),
    _Rule(
        "ok",
        "Port {ep.label}: works, but the certificate expires on {port.cert.not_after:%Y-%m-%d}",
        "SES renews its certificates well ahead; a certificate this close to expiry suggests something "
        "other than SES answers (a proxy). Check what sits between this host and SES.",
        Severity.WARNING,
        when=lambda f: f.port.cert and f.port.cert.days_left(f.result.checked_at) < 7,
    ),
    _Rule(
        "ok",
        "Port {ep.label}: works in {port.total_ms:.0f} ms, {port.tls_version}{cert_valid}{auth_accepted}",
        "",
        Severity.OK,
    ),
    _Rule(
        "refused",
        "Port {ep.label}: connection refused",
        "Nothing accepts connections on {dialled}: a firewall rejects it, or the host is not "
        "SES's SMTP endpoint (which listens on 25, 465, 587, 2465 and 2587). {alternative} {doc}",
        otherwise="Check SESBOT_SMTP_HOST and the firewall between here and SES.",
        doc=DOC_SMTP,
    ),
    _Rule(
        "timeout",
        "Port 25 timed out ({step}) while port {others_work[0]} works: EC2 throttles outbound port 25",
        "Amazon EC2 (and Lambda) block or throttle outbound port 25 by default. Use port 587 or 2587 "
        "(STARTTLS) or 465/2465 (TLS) instead, or ask AWS to remove the limit: {doc}",
        Severity.WARNING,
        port=25,
        when=lambda f: f.others_work,
        doc=DOC_PORT_25,
    ),
    _Rule(
        "timeout",
        "Port {ep.label} timed out ({step}), like every other SMTP port: a firewall blocks SMTP",
        "No SMTP port answers within {timeout}: an outbound firewall or egress rule (security group, "
        "network ACL, host firewall, corporate proxy) drops traffic to {host}. Allow outbound TCP to "
        "it on 587 (or 2587, 465, 2465). {doc}",
        Severity.ERROR,
        when=lambda f: len(f.result.ports) > 1 and all(p.outcome == "timeout" for p in f.result.ports),
        doc=DOC_TROUBLESHOOT,
    ),
    _Rule(
        "timeout",
        "Port {ep.label}: TCP connect timed out after {timeout}",
        "A firewall or egress rule drops traffic to port {ep.port}. {alternative}",
        step="connect",
        otherwise="Allow outbound TCP to {host} on port {ep.port}.",
    ),
    _Rule(
        "timeout",
        "Port {ep.label}: connected, but no greeting within {timeout}",
        "Something in between accepted the connection but does not pass SMTP on (a transparent proxy, an "
        "antivirus scanner, or an egress filter{port_25_limit}).{plaintext_wait}{tls_tried} {alternative}",
        step="banner",
        otherwise="{doc}",
        doc=DOC_TROUBLESHOOT,
    ),
    _Rule(
        "timeout",
        "Port {ep.label}: no answer within {timeout} at the {step} step",
        "The connection stalled mid-session: a proxy or firewall in between interferes with SMTP. {alternative}",
        otherwise="{doc}",
        doc=DOC_TROUBLESHOOT,
    ),
    _Rule(
        "implicit_tls",
        "Port {ep.label}: no greeting within {timeout}, but this port speaks implicit TLS{version}",
        "The server stays silent until the client starts TLS: port {ep.port} is an implicit-TLS (SMTPS) "
        "port, not a STARTTLS one.{tls_banner}{cert_seen}{cert_refused} Probe it as `smtp {ep.port}/tls`, "
        'and set the mail client to TLS from the first byte (SMTPS, "SSL/TLS"), not STARTTLS. {doc}',
        Severity.WARNING,
        doc=DOC_SMTP,
    ),
    _Rule(
        "unreachable",
        "Port {ep.label}: cannot connect ({port.error})",
        "There is no route to the SMTP endpoint from this host (no internet access, no NAT gateway, or a "
        "blocked subnet). {alternative}",
        otherwise="{doc}",
        doc=DOC_TROUBLESHOOT,
    ),
    _Rule(
        "closed",
        "Port {ep.label}: the server closed the connection at the {port.failed_step} step",
        "SES closes connections it will not serve (too many concurrent connections, or a client that stays "
        "silent). If this repeats, something in between cuts SMTP sessions. {alternative}",
        otherwise="{doc}",
        doc=DOC_TROUBLESHOOT,
    ),
    _Rule(
        "not_smtp",
        "Port {ep.label}: not an SMTP server; {it_said}: {port.reply}",
        "What listens on {port.address} does not speak SMTP (a web server, SSH, or some other service): the "
        "host or the port is wrong, or a port mapping points elsewhere. SES's SMTP endpoint is "
        "email-smtp.<region>.amazonaws.com on 25, 465, 587, 2465 and 2587. {alternative}",
        otherwise="Check SESBOT_SMTP_HOST and the port. {doc}",
        doc=DOC_SMTP,
    ),
    _Rule(
        "rejected",
        "Port {ep.label}: refused at {port.failed_step}{reply}",
        "The server refused the session. 421 means too many concurrent SMTP connections: reuse connections "
        "or send fewer at once.",
        when=lambda f: (f.port.reply or "").startswith("421"),
    ),
    _Rule(
        "rejected",
        "Port {ep.label}: refused at {port.failed_step}{reply}",
        "The server refused the session. {doc}",
        doc=DOC_TROUBLESHOOT,
    ),
    _Rule(
        "long_line",
        "Port {ep.label}: over-long reply line at the {port.failed_step} step ({port.reply})",
        "The server sent a reply line of more than 8192 bytes, which mail clients refuse to read; SMTP allows "
        "512 (RFC 5321 section 4.5.3.1.5), and SES keeps to it. Whatever answers here is not SES's SMTP "
        "endpoint, or something in between garbles the session. {alternative}",
        otherwise="Check SESBOT_SMTP_HOST and what sits between this host and SES. {doc}",
        doc=DOC_TROUBLESHOOT,
    ),
    _Rule(
        "no_starttls",
        "Port {ep.label}: STARTTLS is not offered",
        "SES always offers STARTTLS and refuses mail without TLS. Either this is not SES, or something in "
        "between (an SMTP proxy, an antivirus scanner, a firewall doing 'SMTP fixup') strips STARTTLS from "
        "the EHLO reply. Connect directly, or use implicit TLS on 465/2465. {doc}",
        Severity.ERROR,
        doc=DOC_SMTP,
    ),
    _Rule(
        "starttls_refused",
        "Port {ep.label}: STARTTLS refused{reply}",
        "SES requires TLS, so nothing can be sent over this connection. 454 is a temporary refusal: retry "
        "in a moment; if it persists, something in between interferes with TLS. {alternative}",
        otherwise="Try implicit TLS on 465 or 2465. {doc}",
        doc=DOC_SMTP,
    ),
    _Rule(
        "tls_plaintext",
        "Port {ep.label}: the server spoke plaintext where TLS was expected",
        "Port {ep.port} starts with a TLS handshake, but the server sent plain text (an SMTP greeting): "
        "this is a plaintext/STARTTLS service, not SES's implicit-TLS port — a proxy, a port mapping or a "
        "wrong host. Use STARTTLS on 587, or point the client at SES's real endpoint. {doc}",
        doc=DOC_SMTP,
    ),
    _Rule(
        "cert_expired",
        "Port {ep.label}: the server's certificate expired{expired_on}",
        "SES renews its certificates well ahead, so an expired one means something else answers (a "
        "proxy or a stale endpoint), or this machine's clock is wrong (check NTP). Detail: {detail}.",
        Severity.ERROR,
    ),
    _Rule(
        "cert_not_yet_valid",
        "Port {ep.label}: the server's certificate is not valid yet",
        "This machine's clock is probably wrong: fix NTP. Otherwise something other than SES answers. "
        "Detail: {detail}.",
        Severity.ERROR,
    ),
    _Rule(
        "cert_name",
        "Port {ep.label}: the certificate is for {names}, not {host}",
        "The server is not {host}: a DNS override, /etc/hosts, or a proxy answers instead. If "
        "SESBOT_SMTP_HOST is an alias, use the name on SES's certificate "
        "(email-smtp.<region>.amazonaws.com). Detail: {detail}.",
        Severity.ERROR,
    ),
    _Rule(
        "cert_untrusted",
        "Port {ep.label}: the server's certificate is not trusted{issued_by}",
        "SES's certificates chain to public CAs. An untrusted one means TLS interception (a proxy or "
        "antivirus presenting its own certificate) or an outdated CA bundle here: update the CA store "
        "(ca-certificates), or set SESBOT_SMTP_CA_FILE to the proxy's CA if the interception is intended. "
        "Detail: {detail}.",
        Severity.ERROR,
    ),
    _Rule(
        "tls_failed",
        "Port {ep.label}: TLS handshake failed ({port.error})",
        "SES accepts TLS 1.2 and 1.3. An old TLS library, a FIPS-only cipher policy, or something in "
        "between breaks the handshake. {alternative}",
        otherwise="{doc}",
        doc=DOC_SMTP,
    ),
    _Rule(
        "auth_failed",
        "Port {ep.label}: TLS works, but the SMTP credentials were refused{reply}",
        "{hint}SMTP credentials are not IAM access keys: generate SMTP credentials in the SES console "
        "(SMTP settings, Create SMTP credentials), or derive the SMTP password from an IAM secret key for "
        "this region — the password is region-specific, so credentials made for another region fail the "
        "same way. Put them in SESBOT_SMTP_USERNAME / SESBOT_SMTP_PASSWORD. {doc}",
        Severity.ERROR,
        doc=DOC_CREDENTIALS,
    ),
    _Rule(
        "auth_temporary",
        "Port {ep.label}: TLS works, but the server could not check the SMTP credentials just now{reply}",
        "A 4xx reply to AUTH is a temporary failure (RFC 4954 section 6), not a verdict on the credentials: "
        "try again in a few minutes; if it lasts, look at the AWS Health Dashboard for SES in this region. {doc}",
        Severity.WARNING,
        doc=DOC_TROUBLESHOOT,
    ),
    _Rule(
        "auth_not_offered",
        "Port {ep.label}: TLS works, but the server offers no AUTH",
        "SES offers AUTH PLAIN and LOGIN after TLS; a server that does not is not SES (or a proxy hides it). {doc}",
        Severity.ERROR,
        doc=DOC_SMTP,
    ),
    _Rule(
        "auth_error",
        "Port {ep.label}: AUTH did not complete ({port.error})",
        "The server dropped or stalled the AUTH exchange. Retry; if it repeats, check for a proxy in between. {doc}",
        Severity.ERROR,
        doc=DOC_TROUBLESHOOT,
    ),
    _Rule(
        "probe_error",
        "Port {ep.label}: the probe itself failed ({port.error})",
        "This is a fault in sesbot's probe, not an answer from the server; the other ports' answers stand. "
        "Run the check again, and report it if it repeats.",
    ),
    _Rule(None, "Port {ep.label}: failed at {port.failed_step} ({port.outcome})", "{doc}", doc=DOC_TROUBLESHOOT),
)


def _explain_port(result: ProbeResult, port: PortResult, region: str | None) -> Finding:
    """The finding of the first rule in `_RULES` that matches this port."""
    facts = _Facts.of(result, port)
    rule = next(r for r in _RULES if r.matches(facts))
    words: dict[str, object] = dict(vars(facts), doc=rule.doc)
    for name, (present, wording, otherwise) in _PIECES.items():
        words[name] = (wording if present(facts) else otherwise).format_map(words)
    if rule.otherwise is not None:
        words["alternative"] = _connect_fix(result, port) or rule.otherwise.format_map(words)
    severity = rule.severity
    if severity is None:
        severity = Severity.WARNING if facts.others_work else Severity.ERROR
    return Finding(
        f"smtp.{port.endpoint.port}",
        severity,
        rule.summary.format_map(words),
        _evidence(result, port),
        rule.fix.format_map(words),
        region=region,
        data=port.as_dict(),
    )


def explain(result: ProbeResult, region: str | None = None) -> list[Finding]:
    """One finding per port (check id `smtp.<port>`), each failure said in words, with a fix."""
    if result.resolve_error or not result.addresses:
        return [
            Finding(
                "smtp.dns",
                Severity.ERROR,
                f"Cannot resolve {result.host}: {result.resolve_error or 'no addresses'}",
                [f"getaddrinfo({result.host}) failed after {result.resolve_ms:.0f} ms"],
                "This host cannot look up SES's SMTP endpoint: check its DNS resolver "
                "(/etc/resolv.conf, VPC DNS) "
                "and SESBOT_SMTP_HOST. " + DOC_SMTP,
                region=region,
                data={"host": result.host, "error": result.resolve_error},
            )
        ]
    return [_explain_port(result, port, region) for port in result.ports]


def password_hint(password: Secret | None) -> str | None:
    """A hint when the configured SMTP password has the shape of an IAM secret access key (40 characters)."""
    if password is None:
        return None
    raw = password.reveal()
    if len(raw) == 40 and not raw.startswith("B"):
        return (
            "The configured SMTP password has 40 characters, the length of an IAM secret access key; an SES "
            "SMTP password has 44 and starts with 'B'."
        )
    return None
