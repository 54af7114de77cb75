"""Test PKI for the local TLS peers: a throwaway CA and a server certificate made with `cryptography`.

One job: write `ca.pem`, `server.pem` and `server.key` into a directory so a local SMTP peer can speak
TLS and a client can trust it through a CA file (never through the system store). Options make the
broken certificates a diagnosis has to recognise: expired, issued for the wrong name.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["DEFAULT_SERVER_NAMES", "WRONG_NAME", "TestPki", "make_test_pki"]

#: Names a default server certificate is valid for (IP SAN + DNS SAN).
DEFAULT_SERVER_NAMES: tuple[str, ...] = ("127.0.0.1", "localhost")
#: The only name in a `wrong_name=True` certificate.
WRONG_NAME = "wrong-host.example.invalid"


@dataclass(frozen=True)
class TestPki:
    """Paths of a CA and a server certificate/key, plus helpers building `ssl` contexts from them."""

    __test__ = False  # not a pytest test class, despite the name

    directory: Path
    ca_file: str
    cert_file: str
    key_file: str
    names: tuple[str, ...] = field(default=DEFAULT_SERVER_NAMES)
    expired: bool = False

    def server_context(self) -> ssl.SSLContext:
        """A TLS server context presenting the server certificate (TLS 1.2+)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """A verifying TLS client context that trusts only this PKI's CA."""
        return ssl.create_default_context(cafile=self.ca_file)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sesbot test peers"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _san(names: Iterable[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def make_test_pki(
    directory: str | os.PathLike[str],
    *,
    extra_names: Iterable[str] = (),
    expired: bool = False,
    wrong_name: bool = False,
) -> TestPki:
    """Create a self-signed CA and a server certificate signed by it, in `directory`.

    - The server certificate covers 127.0.0.1 (IP SAN) and localhost (DNS SAN) plus `extra_names`
      (e.g. ``email-smtp.us-east-1.amazonaws.com``).
    - `wrong_name=True`: the certificate names only ``wrong-host.example.invalid`` (hostname mismatch).
    - `expired=True`: the server certificate expired yesterday (the CA stays valid).

    Writes ``ca.pem``, ``server.pem`` (leaf then CA) and ``server.key`` (PKCS#8, mode 0600).
    EC P-256 keys keep this at a few milliseconds.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("sesbot test CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    names = (WRONG_NAME,) if wrong_name else tuple(dict.fromkeys([*DEFAULT_SERVER_NAMES, *extra_names]))
    if expired:
        not_before, not_after = now - dt.timedelta(days=30), now - dt.timedelta(days=1)
    else:
        not_before, not_after = now - dt.timedelta(hours=1), now + dt.timedelta(days=30)

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(_san(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    ca_file = out / "ca.pem"
    cert_file = out / "server.pem"
    key_file = out / "server.key"
    ca_file.write_bytes(ca_pem)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca_pem)
    _write_private(
        key_file,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    return TestPki(
        directory=out,
        ca_file=str(ca_file),
        cert_file=str(cert_file),
        key_file=str(key_file),
        names=names,
        expired=expired,
    )
