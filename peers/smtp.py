"""Local SMTP peer: one loopback SMTP endpoint behaving like SES's SMTP interface, or failing like it.

One job: run a single SMTP server (or a deliberately broken endpoint) on 127.0.0.1 with an ephemeral
port in a background thread, so tests and `sesbot demo` can exercise SMTP connectivity diagnosis.

Modes:

- ``"starttls"`` (587-style): STARTTLS advertised and required before anything else; AUTH after TLS.
- ``"implicit"`` (465-style): TLS from the first byte; AUTH advertised inside TLS.
- ``"no_starttls"``: plaintext only, STARTTLS not advertised (AUTH offered in plaintext if configured).
  Pointing an implicit-TLS client (``smtplib.SMTP_SSL``) at this mode is the "plaintext server on a
  TLS port" case: the handshake fails with ``ssl.SSLError`` ``WRONG_VERSION_NUMBER``.
- ``"starttls_454"``: STARTTLS advertised, answered ``454 4.7.0 TLS not available due to temporary
  reason``.
- ``"starttls_broken"``: STARTTLS advertised and answered ``220``, but the server has no certificate to
  present (a broken TLS setup), so every handshake fails: the server drops the connection mid-handshake
  (the client sees ``ssl.SSLError``, ``UNEXPECTED_EOF_WHILE_READING``).
- ``"helo_only"``: speaks no ESMTP: EHLO is answered ``502 5.5.2 Command not recognized`` and HELO works
  (RFC 5321 section 4.1.4's fallback), so there are no extensions and no STARTTLS.
- ``"hang"``: accepts TCP connections and never sends a banner (raw socket thread, not aiosmtpd).
- ``"refused"``: a port nothing listens on (bound, then closed): connecting is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import selectors
import shutil
import socket
import ssl
import tempfile
import threading
import weakref
from dataclasses import dataclass
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session, syntax

from peers.base import LoopbackPeer
from peers.certs import TestPki, make_test_pki

__all__ = [
    "AUTH_INVALID_REPLY",
    "DEFAULT_BANNER",
    "MODES",
    "EHLO_502_REPLY",
    "STARTTLS_454_REPLY",
    "ReceivedMessage",
    "SmtpMode",
    "SmtpPeer",
]

SmtpMode = Literal[
    "starttls", "implicit", "no_starttls", "starttls_454", "starttls_broken", "helo_only", "hang", "refused"
]
MODES: tuple[str, ...] = (
    "starttls",
    "implicit",
    "no_starttls",
    "starttls_454",
    "starttls_broken",
    "helo_only",
    "hang",
    "refused",
)

#: Greeting SES's SMTP endpoint sends (first word is the host name, the rest the ident).
DEFAULT_BANNER = "email-smtp.amazonaws.com ESMTP SimpleEmailService-d-TESTPEER0"
#: What SES answers to a wrong SMTP password.
AUTH_INVALID_REPLY = "535 Authentication Credentials Invalid"
STARTTLS_454_REPLY = "454 4.7.0 TLS not available due to temporary reason"
EHLO_502_REPLY = "502 5.5.2 Command not recognized"

_TLS_MODES = {"starttls", "implicit", "starttls_454", "starttls_broken"}


@dataclass(frozen=True)
class ReceivedMessage:
    """One envelope accepted by the peer (after DATA)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    auth_user: str | None = None


class _Handler:
    """aiosmtpd handler: records messages, optionally rejects MAIL FROM with a canned reply."""

    def __init__(self, peer: SmtpPeer) -> None:
        self._peer = peer

    async def handle_MAIL(  # noqa: N802 (aiosmtpd hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if self._peer.reply_on_mail:
            return self._peer.reply_on_mail
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        auth = session.auth_data
        user = auth.login.decode("utf-8", "replace") if isinstance(auth, LoginPassword) else None
        msg = ReceivedMessage(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            data=bytes(content),
            auth_user=user,
        )
        with self._peer._lock:
            self._peer.messages.append(msg)
        return "250 Ok"


class _Starttls454SMTP(SMTP):
    """Advertises STARTTLS (a tls_context is set) but refuses it with a temporary 454."""

    @syntax("STARTTLS", when="tls_context")
    async def smtp_STARTTLS(self, arg: str) -> None:  # noqa: N802 (aiosmtpd command name)
        await self.push(STARTTLS_454_REPLY)


class _HeloOnlySMTP(SMTP):
    """Speaks no ESMTP: EHLO gets a 502, HELO works."""

    @syntax("EHLO hostname")
    async def smtp_EHLO(self, hostname: str) -> None:  # noqa: N802 (aiosmtpd command name)
        await self.push(EHLO_502_REPLY)


class _PeerController(Controller):
    """Controller that accepts port 0 and uses a chosen SMTP class.

    Trap: aiosmtpd's Controller connects to ``self.port`` after binding to make the server build its
    SMTP instance; with port 0 that connection fails. Reading the real port from the bound socket
    before that first connection fixes it without a bind-close-rebind race.
    """

    def __init__(self, handler: Any, *, smtp_class: type[SMTP] = SMTP, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._smtp_class = smtp_class

    def factory(self) -> SMTP:
        return self._smtp_class(self.handler, **self.SMTP_kwargs)

    def _trigger_server(self) -> None:
        if self.port == 0 and isinstance(self.server, asyncio.Server):
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class _HangServer:
    """Accepts TCP connections and holds them open without ever writing a byte."""

    def __init__(self, host: str) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(64)
        self._sock.setblocking(False)
        self.port: int = self._sock.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"smtp-hang-{self.port}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._sock, selectors.EVENT_READ)
        try:
            while not self._stop.is_set():
                for _key, _ in sel.select(timeout=0.05):
                    try:
                        conn, _addr = self._sock.accept()
                    except (BlockingIOError, OSError):
                        continue
                    self._conns.append(conn)  # read nothing, write nothing
        finally:
            sel.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for conn in self._conns:
            conn.close()
        self._conns.clear()
        self._sock.close()


def _closed_port(host: str) -> int:
    """A port that was free a moment ago and now has no listener (connect -> ECONNREFUSED)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class SmtpPeer(LoopbackPeer):
    """A loopback SMTP endpoint in one of `MODES`, started in a background thread.

    >>> with SmtpPeer("starttls", auth={"AKIA...": "secret"}) as peer:
    ...     smtp = smtplib.SMTP(peer.host, peer.port, timeout=5)
    ...     smtp.starttls(context=ssl.create_default_context(cafile=peer.ca_file))
    """

    def __init__(
        self,
        mode: SmtpMode = "starttls",
        *,
        auth: dict[str, str] | None = None,
        banner: str = DEFAULT_BANNER,
        pki: TestPki | None = None,
        reply_on_mail: str | None = None,
        auth_reply: str = AUTH_INVALID_REPLY,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown SMTP peer mode {mode!r}; expected one of {MODES}")
        super().__init__()
        self.mode: str = mode
        self.auth: dict[str, str] | None = dict(auth) if auth is not None else None
        self.banner = banner
        self.reply_on_mail = reply_on_mail
        self.auth_reply = auth_reply  # what a failed AUTH is answered (SES: 535; a server in trouble: 454)
        self.messages: list[ReceivedMessage] = []
        self._lock = threading.Lock()
        # Without `pki`, the peer owns a fresh one in a temporary directory, removed by stop() (or when
        # the peer is garbage-collected unstarted) and made again by a later start().
        self._own_pki = pki is None
        self._tmpdir: str | None = None
        self._cleanup_pki: weakref.finalize | None = None
        self.pki: TestPki = pki if pki is not None else self._new_pki()
        self._controller: _PeerController | None = None
        self._hang: _HangServer | None = None

    # -- public properties -------------------------------------------------------------------------
    @property
    def ca_file(self) -> str:
        """CA certificate (PEM) that verifies this peer's server certificate."""
        return self.pki.ca_file

    @property
    def url(self) -> str:
        """``smtp://127.0.0.1:PORT``; ``smtps://`` in implicit mode (TLS from the first byte)."""
        return f"{'smtps' if self.mode == 'implicit' else 'smtp'}://{self.host}:{self.port}"

    @property
    def uses_tls(self) -> bool:
        return self.mode in _TLS_MODES

    # -- lifecycle -----------------------------------------------------------------------------------
    def _serve(self) -> int:
        if self._own_pki and self._tmpdir is None:
            self.pki = self._new_pki()
        if self.mode == "refused":
            return _closed_port(self.host)
        if self.mode == "hang":
            self._hang = _HangServer(self.host)
            self._hang.start()
            return self._hang.port
        controller = self._make_controller()
        try:
            controller.start()
        except BaseException:
            with contextlib.suppress(Exception):
                controller.stop(no_assert=True)
            raise
        self._controller = controller
        return int(controller.port)

    def _shutdown(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._hang is not None:
            self._hang.stop()
            self._hang = None

    def stop(self) -> None:
        """Stop serving, release the port and remove a PKI of the peer's own; safe to call twice."""
        super().stop()
        if self._cleanup_pki is not None:
            self._cleanup_pki()  # runs at most once
            self._cleanup_pki = None
            self._tmpdir = None

    def __repr__(self) -> str:
        return f"SmtpPeer(mode={self.mode!r}, {self.host}:{self._port or 0})"

    # -- internals -------------------------------------------------------------------------------------
    def _new_pki(self) -> TestPki:
        self._tmpdir = tempfile.mkdtemp(prefix="sesbot-smtp-pki-")
        self._cleanup_pki = weakref.finalize(self, shutil.rmtree, self._tmpdir, True)
        return make_test_pki(self._tmpdir)

    def _authenticator(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        # Trap: AuthResult(success=False) defaults to handled=True, meaning "I already replied",
        # and the client then waits forever. handled=False + message makes aiosmtpd send the 535.
        if isinstance(auth_data, LoginPassword) and self.auth is not None:
            user = auth_data.login.decode("utf-8", "replace")
            password = auth_data.password.decode("utf-8", "replace")
            if user in self.auth and self.auth[user] == password:
                return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False, message=self.auth_reply)

    def _make_controller(self) -> _PeerController:
        hostname, _, ident = self.banner.partition(" ")
        kwargs: dict[str, Any] = {
            "hostname": self.host,
            "port": 0,
            "server_hostname": hostname or "localhost",
            "ident": ident or None,
            "ready_timeout": 5.0,
            # AUTH LOGIN/PLAIN always advertised, as by SES; without `auth` every login gets the 535.
            "authenticator": self._authenticator,
        }
        smtp_class: type[SMTP] = SMTP
        if self.mode == "starttls":
            kwargs.update(tls_context=self.pki.server_context(), require_starttls=True, auth_require_tls=True)
        elif self.mode == "implicit":
            # Trap: with ssl_context (implicit TLS) aiosmtpd's SMTP object does not know the transport
            # is already TLS, so AUTH is advertised only with auth_require_tls=False.
            kwargs.update(ssl_context=self.pki.server_context(), auth_require_tls=False)
        elif self.mode == "no_starttls":
            kwargs.update(auth_require_tls=False)
        elif self.mode == "starttls_454":
            kwargs.update(tls_context=self.pki.server_context(), auth_require_tls=True)
            smtp_class = _Starttls454SMTP
        elif self.mode == "helo_only":
            kwargs.update(auth_require_tls=False)
            smtp_class = _HeloOnlySMTP
        elif self.mode == "starttls_broken":
            # A server context without a certificate: STARTTLS is offered and accepted, no handshake works.
            kwargs.update(tls_context=ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), auth_require_tls=True)
        return _PeerController(_Handler(self), smtp_class=smtp_class, **kwargs)
