"""The cluster's certificates and kubeconfigs, made at ``cluster-up`` as kubeadm would make them.

One CA signs the API server's serving certificate, the kubelet's, and one client certificate per
component (its identity for RBAC: ``system:kube-scheduler``, ``system:node:<node>`` in group
``system:nodes``, ...). The service-account tokens are signed by a key pair of their own.
Nothing here leaves the state directory, which is git-ignored and mode 0700.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = dt.timedelta(days=365)


@dataclass(frozen=True)
class Identity:
    """A client certificate's subject: the user name and groups RBAC sees."""

    file: str
    user: str
    groups: tuple[str, ...] = ()


def admin_identity() -> Identity:
    return Identity("admin", "kubernetes-admin", ("system:masters",))


def component_identities(node: str) -> tuple[Identity, ...]:
    """Who each component is to the API server (default RBAC bindings cover the first four)."""
    return (
        Identity("controller-manager", "system:kube-controller-manager"),
        Identity("scheduler", "system:kube-scheduler"),
        Identity("kubelet", f"system:node:{node}", ("system:nodes",)),
        Identity("kube-proxy", "system:kube-proxy"),
        # Bound by the add-on manifests to the ClusterRoles their upstream manifests define.
        Identity("kube-router", "system:c360:kube-router"),
        Identity("local-path-provisioner", "system:c360:local-path-provisioner"),
        Identity("apiserver-kubelet-client", "kube-apiserver-kubelet-client"),
    )


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(common_name: str, organizations: tuple[str, ...] = ()) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    return x509.Name([*attributes, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(path: Path, data: bytes, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.touch(mode=mode)
    path.write_bytes(data)


class CertificateAuthority:
    """A CA kept as ``ca.crt``/``ca.key`` in the PKI folder; it signs everything else."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.cert_path = folder / "ca.crt"
        key_path = folder / "ca.key"
        if self.cert_path.exists() and key_path.exists():
            self.key = serialization.load_pem_private_key(key_path.read_bytes(), None)
            self.cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
            return
        self.key = _key()
        now = dt.datetime.now(dt.UTC)
        subject = _name("customer360-local-ca")
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + 10 * VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
            )
            .sign(self.key, hashes.SHA256())
        )
        _write(key_path, _pem_key(self.key))
        _write(self.cert_path, self.cert.public_bytes(serialization.Encoding.PEM), 0o644)

    def issue(
        self,
        file: str,
        common_name: str,
        organizations: tuple[str, ...] = (),
        *,
        server_names: tuple[str, ...] = (),
        server_ips: tuple[str, ...] = (),
        client: bool = True,
    ) -> tuple[Path, Path]:
        """Write ``<file>.crt``/``<file>.key``: a client and/or serving certificate; returns both paths."""
        cert_path, key_path = self.folder / f"{file}.crt", self.folder / f"{file}.key"
        if cert_path.exists() and key_path.exists():
            return cert_path, key_path
        key = _key()
        now = dt.datetime.now(dt.UTC)
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH] if client else []
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name, organizations))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if server_names or server_ips:
            usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
            alternatives: list[x509.GeneralName] = [x509.DNSName(name) for name in server_names]
            alternatives += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in server_ips]
            builder = builder.add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        _write(key_path, _pem_key(key))
        _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
        return cert_path, key_path

    def issue_client(self, identity: Identity) -> tuple[Path, Path]:
        return self.issue(identity.file, identity.user, identity.groups)


def service_account_keys(folder: Path) -> tuple[Path, Path]:
    """``sa.key``/``sa.pub``: the key pair that signs and verifies service-account tokens."""
    private, public = folder / "sa.key", folder / "sa.pub"
    if not private.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write(private, _pem_key(key))
        _write(
            public,
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            0o644,
        )
    return private, public


def write_kubeconfig(
    path: Path, *, context: str, server: str, ca: Path, cert: Path, key: Path, user: str
) -> Path:
    """A kubeconfig with one cluster, one user and one context, credentials embedded."""

    def encoded(file: Path) -> str:
        return base64.b64encode(file.read_bytes()).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": context, "cluster": {"server": server, "certificate-authority-data": encoded(ca)}}
        ],
        "users": [
            {
                "name": user,
                "user": {"client-certificate-data": encoded(cert), "client-key-data": encoded(key)},
            }
        ],
        "contexts": [{"name": context, "context": {"cluster": context, "user": user}}],
        "current-context": context,
    }
    _write(path, yaml.safe_dump(config, sort_keys=False).encode())
    return path
