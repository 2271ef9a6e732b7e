"""The lab cluster's PKI (one CA) and kubeconfigs, made with `cryptography`."""
from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .settings import Settings

VALID = dt.timedelta(days=365)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _name(cn: str, orgs: tuple[str, ...] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _issue(ca_key, ca_cert, cn: str, orgs=(), dns=(), ips=(), server=False, client=True):
    key = _key()
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    usages = []
    if server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn, tuple(orgs)))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALID)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, content_commitment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    )
    sans = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def new_ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    ca_key = _key()
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_name = _name(cn)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALID)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, content_commitment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca_key, ca_cert


def generate(s: Settings) -> None:
    """Write CA, component certificates, SA key pair and kubeconfigs into the state dir."""
    pki = s.pki
    pki.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = new_ca("blink-lab-ca")
    _write_key(pki / "ca.key", ca_key)
    _write_cert(pki / "ca.crt", ca_cert)

    host = s.node_name
    api_dns = ["localhost", host, "kubernetes", "kubernetes.default", "kubernetes.default.svc",
               "kubernetes.default.svc.cluster.local"]
    api_ips = ["127.0.0.1", s.service_ip, s.gateway]
    certs: dict[str, dict[str, Any]] = {
        "apiserver": dict(cn="kube-apiserver", dns=api_dns, ips=api_ips, server=True, client=False),
        "apiserver-kubelet-client": dict(cn="kube-apiserver-kubelet-client", orgs=("system:masters",)),
        "admin": dict(cn="blink-lab-admin", orgs=("system:masters",)),
        # the identity the health-check suite should use: its requests are easy to find in the audit log
        "checker": dict(cn="blink-checker", orgs=("system:masters",)),
        "controller-manager": dict(cn="system:kube-controller-manager"),
        "scheduler": dict(cn="system:kube-scheduler"),
        "kubelet": dict(cn=f"system:node:{host}", orgs=("system:nodes",)),
        "kubelet-serving": dict(cn=f"system:node:{host}", orgs=("system:nodes",), dns=[host, "localhost"],
                                ips=[s.gateway, "127.0.0.1"], server=True, client=False),
        "kwok": dict(cn="blink-lab-kwok", orgs=("system:masters",), dns=["localhost"], ips=["127.0.0.1"],
                     server=True, client=True),
    }
    for name, spec in certs.items():
        key, cert = _issue(ca_key, ca_cert, spec["cn"], spec.get("orgs", ()), spec.get("dns", ()),
                           spec.get("ips", ()), spec.get("server", False), spec.get("client", True))
        _write_key(pki / f"{name}.key", key)
        _write_cert(pki / f"{name}.crt", cert)

    sa_key = _key()
    _write_key(pki / "sa.key", sa_key)
    (pki / "sa.pub").write_bytes(sa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

    server = f"https://127.0.0.1:{s.apiserver_port}"
    for name, user in [("admin", "admin"), ("checker", "checker"), ("controller-manager", "controller-manager"),
                       ("scheduler", "scheduler"), ("kubelet", "kubelet"), ("kwok", "kwok")]:
        path = s.admin_kubeconfig if name == "admin" else (
            s.checker_kubeconfig if name == "checker" else s.state / f"{name}.kubeconfig")
        write_kubeconfig(path, server, pki / "ca.crt", pki / f"{user}.crt", pki / f"{user}.key")


def write_kubeconfig(path: Path, server: str, ca: Path, cert: Path, key: Path) -> None:
    path.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: blink-lab
  cluster:
    server: {server}
    certificate-authority: {ca}
users:
- name: blink-lab
  user:
    client-certificate: {cert}
    client-key: {key}
contexts:
- name: blink-lab
  context:
    cluster: blink-lab
    user: blink-lab
current-context: blink-lab
preferences: {{}}
""")
    path.chmod(0o600)


STANDIN_FILES = ("ca.pem", "standin.pem", "standin.key", "inspect-ca.pem", "inspect.pem", "inspect.key")


def standin_certs(directory: Path, host: str, ip: str) -> Path:
    """The Blink stand-in's TLS material (the Docker lab and this cluster each have their own): the lab CA
    the runners trust (ca.pem), the stand-in's certificate for `host` and `ip` (standin.pem, with its CA),
    and a second CA playing a TLS-inspecting proxy that re-signs traffic (inspect-ca.pem, inspect.pem),
    which nothing trusts. Made once per directory."""
    if all((directory / f).exists() for f in STANDIN_FILES):
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    for ca_name, leaf, ca_file in (("Blink Lab CA", "standin", "ca.pem"),
                                   ("Blink Lab TLS-Inspecting Proxy CA", "inspect", "inspect-ca.pem")):
        ca_key, ca_cert = new_ca(ca_name)
        key, cert = _issue(ca_key, ca_cert, host, dns=(host,), ips=(ip,), server=True, client=False)
        _write_cert(directory / ca_file, ca_cert)
        (directory / f"{leaf}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM)
                                                + ca_cert.public_bytes(serialization.Encoding.PEM))
        _write_key(directory / f"{leaf}.key", key)
    (directory / "ca.pem").chmod(0o644)
    return directory
