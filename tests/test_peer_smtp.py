"""The local SMTP peer behaves like SES's SMTP endpoint, and fails the ways a real endpoint fails."""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509

from peers.certs import WRONG_NAME, make_test_pki
from peers.smtp import AUTH_INVALID_REPLY, DEFAULT_BANNER, SmtpPeer
from tests.conftest import StartPeer

USER, PASSWORD = "AKIAIOSFODNN7EXAMPLE", "BPa55w0rdSmtpCredential"


def trusting(peer: SmtpPeer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=peer.ca_file)


def connect(peer: SmtpPeer, timeout: float = 5) -> smtplib.SMTP:
    return smtplib.SMTP(peer.host, peer.port, timeout=timeout)


# --- STARTTLS (587-style) -----------------------------------------------------------------------------------


def test_greeting_is_the_ses_banner(start_peer: StartPeer) -> None:
    peer = start_peer("starttls")
    client = smtplib.SMTP(timeout=5)
    try:
        code, message = client.connect(peer.host, peer.port)
    finally:
        client.close()
    assert code == 220
    assert message.decode() == DEFAULT_BANNER


def test_starttls_upgrades_to_tls_verified_against_the_peer_ca(start_peer: StartPeer) -> None:
    peer = start_peer("starttls")
    with connect(peer) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        code, _ = client.starttls(context=trusting(peer))
        assert code == 220
        assert client.sock.version() in {"TLSv1.2", "TLSv1.3"}
        assert client.sock.getpeercert()["subjectAltName"] == (
            ("IP Address", "127.0.0.1"),
            ("DNS", "localhost"),
        )


def test_starttls_mode_refuses_mail_before_tls(start_peer: StartPeer) -> None:
    peer = start_peer("starttls")
    with connect(peer) as client:
        client.ehlo()
        code, message = client.mail("sender@example.com")
    assert code == 530
    assert b"STARTTLS" in message


def test_auth_is_advertised_only_after_starttls(start_peer: StartPeer) -> None:
    peer = start_peer("starttls", auth={USER: PASSWORD})
    with connect(peer) as client:
        client.ehlo()
        assert not client.has_extn("auth")
        client.starttls(context=trusting(peer))
        client.ehlo()
        assert set(client.esmtp_features["auth"].split()) >= {"LOGIN", "PLAIN"}


def test_login_then_send_records_the_envelope(start_peer: StartPeer) -> None:
    peer = start_peer("starttls", auth={USER: PASSWORD})
    with connect(peer) as client:
        client.starttls(context=trusting(peer))
        assert client.login(USER, PASSWORD)[0] == 235
        refused = client.sendmail("sender@example.com", ["a@example.net", "b@example.net"], b"Subject: hi\r\n\r\nx\r\n")
    assert refused == {}
    (message,) = peer.messages
    assert message.mail_from == "sender@example.com"
    assert message.rcpt_tos == ("a@example.net", "b@example.net")
    assert b"Subject: hi" in message.data
    assert message.auth_user == USER


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_wrong_password_gets_535_authentication_credentials_invalid(start_peer: StartPeer, mechanism: str) -> None:
    peer = start_peer("starttls", auth={USER: PASSWORD})
    with connect(peer, timeout=2) as client:
        client.starttls(context=trusting(peer))
        client.ehlo()
        client.esmtp_features["auth"] = mechanism  # make smtplib use this mechanism
        with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
            client.login(USER, "wrong")
    assert (caught.value.smtp_code, caught.value.smtp_error.decode()) == (
        535,
        AUTH_INVALID_REPLY.removeprefix("535 "),
    )


def test_any_login_fails_when_no_credentials_are_configured(start_peer: StartPeer) -> None:
    peer = start_peer("starttls")
    with connect(peer, timeout=2) as client:
        client.starttls(context=trusting(peer))
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login(USER, PASSWORD)


def test_reply_on_mail_answers_mail_from_with_the_given_reply(start_peer: StartPeer) -> None:
    throttled = "454 Throttling failure: Maximum sending rate exceeded."
    peer = start_peer("starttls", auth={USER: PASSWORD}, reply_on_mail=throttled)
    with connect(peer) as client:
        client.starttls(context=trusting(peer))
        client.login(USER, PASSWORD)
        with pytest.raises(smtplib.SMTPSenderRefused) as caught:
            client.sendmail("sender@example.com", ["a@example.net"], b"x")
    assert caught.value.smtp_code == 454
    assert caught.value.smtp_error == b"Throttling failure: Maximum sending rate exceeded."
    assert peer.messages == []


# --- implicit TLS (465-style) ----------------------------------------------------------------------


def test_implicit_tls_speaks_tls_from_the_first_byte_and_offers_auth(start_peer: StartPeer) -> None:
    peer = start_peer("implicit", auth={USER: PASSWORD})
    with smtplib.SMTP_SSL(peer.host, peer.port, timeout=5, context=trusting(peer)) as client:
        assert client.sock.version() in {"TLSv1.2", "TLSv1.3"}
        client.ehlo()
        assert not client.has_extn("starttls")
        assert "LOGIN" in client.esmtp_features["auth"]
        assert client.login(USER, PASSWORD)[0] == 235
        client.sendmail("sender@example.com", ["a@example.net"], b"Subject: 465\r\n\r\nx\r\n")
    assert [m.rcpt_tos for m in peer.messages] == [("a@example.net",)]


def test_plaintext_client_on_the_implicit_tls_port_gets_no_greeting(start_peer: StartPeer) -> None:
    peer = start_peer("implicit")
    with pytest.raises(smtplib.SMTPServerDisconnected):
        smtplib.SMTP(peer.host, peer.port, timeout=0.3)


# --- broken endpoints -----------------------------------------------------------------------------


def test_no_starttls_mode_does_not_advertise_starttls(start_peer: StartPeer) -> None:
    peer = start_peer("no_starttls")
    with connect(peer) as client:
        client.ehlo()
        assert not client.has_extn("starttls")
        with pytest.raises(smtplib.SMTPNotSupportedError):
            client.starttls(context=trusting(peer))


def test_starttls_454_mode_advertises_starttls_then_refuses_it(start_peer: StartPeer) -> None:
    peer = start_peer("starttls_454")
    with connect(peer) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        with pytest.raises(smtplib.SMTPResponseException) as caught:
            client.starttls(context=trusting(peer))
    assert caught.value.smtp_code == 454
    assert caught.value.smtp_error == b"4.7.0 TLS not available due to temporary reason"


def test_starttls_broken_mode_accepts_starttls_and_then_fails_every_handshake(start_peer: StartPeer) -> None:
    peer = start_peer("starttls_broken")
    unverified = ssl.create_default_context()
    unverified.check_hostname, unverified.verify_mode = False, ssl.CERT_NONE
    with connect(peer) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        with pytest.raises(ssl.SSLError):
            client.starttls(context=unverified)


def test_helo_only_mode_answers_ehlo_502_and_helo_250_without_extensions(start_peer: StartPeer) -> None:
    peer = start_peer("helo_only")
    with connect(peer) as client:
        assert client.ehlo() == (502, b"5.5.2 Command not recognized")
        assert client.helo()[0] == 250
        assert not client.has_extn("starttls")


def test_hanging_server_makes_smtplib_raise_server_disconnected_after_timeout(
    start_peer: StartPeer,
) -> None:
    peer = start_peer("hang")
    with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out") as caught:
        smtplib.SMTP(peer.host, peer.port, timeout=0.3)
    # The connection was made (a refused or timed-out connect raises before smtplib reads anything) and
    # then the wait for the banner ran out: the socket's own timeout, not the peer closing the connection.
    assert isinstance(caught.value.__context__, TimeoutError), repr(caught.value.__context__)


def test_refused_mode_port_refuses_connections(start_peer: StartPeer) -> None:
    peer = start_peer("refused")
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP(peer.host, peer.port, timeout=1)


def test_implicit_tls_client_against_a_plaintext_server_fails_with_wrong_version_number(
    start_peer: StartPeer,
) -> None:
    peer = start_peer("no_starttls")  # the "plaintext server on a TLS port" case
    with pytest.raises(ssl.SSLError) as caught:
        smtplib.SMTP_SSL(peer.host, peer.port, timeout=2, context=trusting(peer))
    assert caught.value.reason == "WRONG_VERSION_NUMBER"


def test_certificate_from_an_unknown_ca_fails_verification_with_system_trust(start_peer: StartPeer) -> None:
    peer = start_peer("starttls")
    with connect(peer) as client, pytest.raises(ssl.SSLCertVerificationError):
        client.starttls(context=ssl.create_default_context())


def test_certificate_for_another_name_fails_the_hostname_check(start_peer: StartPeer, tmp_path: Path) -> None:
    peer = start_peer("implicit", pki=make_test_pki(tmp_path, wrong_name=True))
    with pytest.raises(ssl.SSLCertVerificationError) as caught:
        smtplib.SMTP_SSL(peer.host, peer.port, timeout=2, context=trusting(peer))
    assert "mismatch" in caught.value.verify_message.lower()


def test_expired_certificate_fails_verification(start_peer: StartPeer, tmp_path: Path) -> None:
    peer = start_peer("starttls", pki=make_test_pki(tmp_path, expired=True))
    with connect(peer) as client, pytest.raises(ssl.SSLCertVerificationError) as caught:
        client.starttls(context=trusting(peer))
    assert "expired" in caught.value.verify_message


def test_extra_names_let_a_client_verify_the_ses_host_name(start_peer: StartPeer, tmp_path: Path) -> None:
    ses_host = "email-smtp.us-east-1.amazonaws.com"
    peer = start_peer("implicit", pki=make_test_pki(tmp_path, extra_names=[ses_host]))
    with (
        socket.create_connection((peer.host, peer.port), timeout=2) as raw,
        trusting(peer).wrap_socket(raw, server_hostname=ses_host) as tls,
    ):
        assert tls.recv(1024).startswith(b"220 ")


# --- lifecycle and PKI -------------------------------------------------------------------------------------


def test_stopped_peer_frees_its_port_and_removes_its_temporary_pki() -> None:
    with SmtpPeer("starttls") as peer:
        port, ca_dir = peer.port, Path(peer.ca_file).parent
        assert Path(peer.ca_file).is_file()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((peer.host, port), timeout=1)
    assert not ca_dir.exists()


def test_every_mode_starts_on_its_own_ephemeral_port(start_peer: StartPeer) -> None:
    modes = ("starttls", "implicit", "no_starttls", "starttls_454", "starttls_broken", "helo_only", "hang")
    ports = {start_peer(mode).port for mode in modes}
    assert len(ports) == 7 and 0 not in ports


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError):
        SmtpPeer("ssl3")  # type: ignore[arg-type]


def test_make_test_pki_writes_ca_certificate_and_private_key(tmp_path: Path) -> None:
    pki = make_test_pki(tmp_path / "pki", extra_names=["email-smtp.eu-west-1.amazonaws.com"])
    assert {p.name for p in (tmp_path / "pki").iterdir()} == {"ca.pem", "server.pem", "server.key"}
    assert stat.S_IMODE(os.stat(pki.key_file).st_mode) == 0o600
    leaf = x509.load_pem_x509_certificates(Path(pki.cert_file).read_bytes())[0]
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "email-smtp.eu-west-1.amazonaws.com"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert isinstance(pki.server_context(), ssl.SSLContext)


def test_wrong_name_pki_names_only_the_wrong_host(tmp_path: Path) -> None:
    pki = make_test_pki(tmp_path, wrong_name=True)
    leaf = x509.load_pem_x509_certificates(Path(pki.cert_file).read_bytes())[0]
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [WRONG_NAME]
    assert san.get_values_for_type(x509.IPAddress) == []


def test_peer_can_be_started_again_after_stop() -> None:
    peer = SmtpPeer("starttls")
    for _ in range(2):
        with peer:
            with connect(peer) as client:
                client.starttls(context=trusting(peer))
                assert client.noop()[0] == 250
