"""A throwaway certificate authority and a serving certificate, so the official client verifies TLS.

Made with `cryptography` when it is installed, else with the `openssl` command line tool.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DNS_NAMES = [
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
]


@dataclass(frozen=True)
class Certificates:
    ca_cert: Path
    cert: Path
    key: Path

    def ca_pem(self) -> str:
        return self.ca_cert.read_text()


def _name(common_name: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _ca(now: datetime.datetime) -> tuple[Any, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    usage = x509.KeyUsage(
        digital_signature=True,
        key_cert_sign=True,
        crl_sign=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        encipher_only=False,
        decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("gefyra-sandbox-ca"))
        .issuer_name(_name("gefyra-sandbox-ca"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _alt_names(hosts: list[str]) -> Any:
    from cryptography import x509

    names: list[x509.GeneralName] = [x509.DNSName(n) for n in DNS_NAMES]
    for host in ["127.0.0.1", *hosts]:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(list(dict.fromkeys(names)))


def generate(directory: Path, hosts: list[str], backend: str = "auto") -> Certificates:
    """A fresh CA (valid one year) and a server certificate for localhost, 127.0.0.1 and `hosts`."""
    directory.mkdir(parents=True, exist_ok=True)
    if backend == "auto":
        try:
            import cryptography  # noqa: F401
        except ImportError:
            backend = "openssl"
    if backend == "openssl":
        return _generate_with_openssl(directory, hosts)
    return _generate_with_cryptography(directory, hosts)


def _generate_with_cryptography(directory: Path, hosts: list[str]) -> Certificates:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, ca_cert = _ca(now)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("kube-apiserver"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(_alt_names(hosts), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = Certificates(directory / "ca.crt", directory / "apiserver.crt", directory / "apiserver.key")
    paths.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_private(paths.key, private)
    return paths


def _generate_with_openssl(directory: Path, hosts: list[str]) -> Certificates:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("TLS for the sandbox needs the `cryptography` package or the `openssl` tool")
    paths = Certificates(directory / "ca.crt", directory / "apiserver.crt", directory / "apiserver.key")
    ca_key, csr, ext = directory / "ca.key", directory / "apiserver.csr", directory / "apiserver.ext"
    alt = []
    for host in [*DNS_NAMES, "127.0.0.1", *hosts]:
        try:
            alt.append(f"IP:{ipaddress.ip_address(host)}")
        except ValueError:
            alt.append(f"DNS:{host}")
    ext.write_text(
        f"subjectAltName={','.join(dict.fromkeys(alt))}\nextendedKeyUsage=serverAuth\n"
        "basicConstraints=critical,CA:FALSE\n"
    )
    old_umask = os.umask(0o077)  # keys are created readable by the owner only
    try:
        run = [
            ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", ca_key],
            [
                "req",
                "-x509",
                "-new",
                "-key",
                ca_key,
                "-subj",
                "/CN=gefyra-sandbox-ca",
                "-days",
                "365",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-out",
                paths.ca_cert,
            ],
            ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", paths.key],
            ["req", "-new", "-key", paths.key, "-subj", "/CN=kube-apiserver", "-out", csr],
            [
                "x509",
                "-req",
                "-in",
                csr,
                "-CA",
                paths.ca_cert,
                "-CAkey",
                ca_key,
                "-CAcreateserial",
                "-days",
                "365",
                "-extfile",
                ext,
                "-out",
                paths.cert,
            ],
        ]
        for args in run:
            subprocess.run([openssl, *map(str, args)], check=True, capture_output=True)
    finally:
        os.umask(old_umask)
        for leftover in (ca_key, csr, ext, directory / "ca.srl"):
            leftover.unlink(missing_ok=True)  # the CA key is not needed once the one certificate is signed
    return paths
