"""A local certificate authority and a server certificate for 127.0.0.1 and localhost.

nginx serves the server certificate; a browser or a test that wants to verify it
trusts ``ca.pem`` (the way mkcert or trustme do it), everyone else ignores the warning.
Both are reused while they are valid, so a browser that was told to trust the CA once
keeps trusting the cluster across restarts.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_FOR = datetime.timedelta(days=365)
# Renew a little before the end, so a long-running cluster never serves an expired certificate.
RENEW_BEFORE = datetime.timedelta(days=7)
HOST_NAMES = ("localhost",)
HOST_ADDRESSES = ("127.0.0.1",)


@dataclass(frozen=True)
class CertificateFiles:
    """Where the certificate files live; ``certificate`` carries the chain nginx sends."""

    directory: Path

    @property
    def authority(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def certificate(self) -> Path:
        return self.directory / "cert.pem"

    @property
    def private_key(self) -> Path:
        return self.directory / "key.pem"

    def still_valid(self) -> bool:
        if not (self.authority.exists() and self.certificate.exists() and self.private_key.exists()):
            return False
        try:
            certificate = x509.load_pem_x509_certificate(self.certificate.read_bytes())
        except ValueError:
            return False
        return certificate.not_valid_after_utc - RENEW_BEFORE > datetime.datetime.now(datetime.timezone.utc)


def ensure_certificate(directory: Path) -> CertificateFiles:
    """Create the CA and the server certificate under ``directory`` unless valid ones are there."""
    files = CertificateFiles(Path(directory))
    if files.still_valid():
        return files
    files.directory.mkdir(parents=True, exist_ok=True)
    authority_key = ec.generate_private_key(ec.SECP256R1())
    authority = _authority_certificate(authority_key)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _server_certificate(server_key, authority, authority_key)
    files.authority.write_bytes(authority.public_bytes(serialization.Encoding.PEM))
    files.certificate.write_bytes(
        server.public_bytes(serialization.Encoding.PEM) + authority.public_bytes(serialization.Encoding.PEM)
    )
    _write_private(files.private_key, server_key)
    return files


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)


def _validity() -> tuple[datetime.datetime, datetime.datetime]:
    # Back-dated an hour: a clock that is slightly behind must not see a future certificate.
    now = datetime.datetime.now(datetime.timezone.utc)
    return now - datetime.timedelta(hours=1), now + VALID_FOR


def _authority_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sessiondemo"),
            x509.NameAttribute(NameOID.COMMON_NAME, "sessiondemo local CA"),
        ]
    )
    not_before, not_after = _validity()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _server_certificate(
    key: ec.EllipticCurvePrivateKey, authority: x509.Certificate, authority_key: ec.EllipticCurvePrivateKey
) -> x509.Certificate:
    names: list[x509.GeneralName] = [x509.DNSName(host) for host in HOST_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(address)) for address in HOST_ADDRESSES]
    not_before, not_after = _validity()
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(authority.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(authority_key.public_key()), critical=False)
        .sign(authority_key, hashes.SHA256())
    )
