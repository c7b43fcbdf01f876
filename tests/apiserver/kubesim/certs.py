"""Throw-away PKI (EC P-256, generated at start-up) and the kubeconfig pointing at the server."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import os
import secrets
import tempfile
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CLIENT_CN = "kubesim-admin"


def _name(cn, org=None):
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _cert(subject, key, issuer, issuer_key, extensions):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
    )
    # Key identifiers as real PKIs (and kubeadm) set them: Python 3.13's default TLS context (VERIFY_X509_STRICT)
    # rejects a chain whose certificates lack the authority key identifier.
    extensions = [
        *extensions,
        (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False),
    ]
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem_key(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pem_cert(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


class Pki:
    """CA, server and client certificates written to a private directory."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="kubesim-pki-"))
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _cert(
            _name("kubesim-ca"),
            ca_key,
            _name("kubesim-ca"),
            ca_key,
            [
                (x509.BasicConstraints(ca=True, path_length=None), True),
                (
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
                    True,
                ),
            ],
        )
        server_key = ec.generate_private_key(ec.SECP256R1())
        server = _cert(
            _name("kube-apiserver"),
            server_key,
            ca.subject,
            ca_key,
            [
                (
                    x509.SubjectAlternativeName(
                        [
                            x509.DNSName("localhost"),
                            x509.DNSName("kubernetes"),
                            x509.DNSName("kubernetes.default.svc"),
                            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                        ]
                    ),
                    False,
                ),
                (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
            ],
        )
        client_key = ec.generate_private_key(ec.SECP256R1())
        client = _cert(
            _name(CLIENT_CN, "system:masters"),
            client_key,
            ca.subject,
            ca_key,
            [(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)],
        )
        self.ca_pem = _pem_cert(ca)
        self.client_cert_pem, self.client_key_pem = _pem_cert(client), _pem_key(client_key)
        self.token = secrets.token_urlsafe(24)
        self.ca_file = self._write("ca.crt", self.ca_pem)
        self.server_cert = self._write("server.crt", _pem_cert(server))
        self.server_key = self._write("server.key", _pem_key(server_key))
        self.client_cert = self._write("client.crt", self.client_cert_pem)
        self.client_key = self._write("client.key", self.client_key_pem)

    def _write(self, name, data):
        path = self.dir / name
        path.write_bytes(data)
        os.chmod(path, 0o600)
        return str(path)

    def kubeconfig(self, url):
        def b64(data):
            return base64.b64encode(data).decode()

        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "kubesim", "cluster": {"server": url, "certificate-authority-data": b64(self.ca_pem)}}
            ],
            "users": [
                {
                    "name": "kubesim-admin",
                    "user": {
                        "client-certificate-data": b64(self.client_cert_pem),
                        "client-key-data": b64(self.client_key_pem),
                    },
                },
                {"name": "kubesim-token", "user": {"token": self.token}},
            ],
            "contexts": [
                {"name": "kubesim", "context": {"cluster": "kubesim", "user": "kubesim-admin", "namespace": "default"}},
                {
                    "name": "kubesim-token",
                    "context": {"cluster": "kubesim", "user": "kubesim-token", "namespace": "default"},
                },
            ],
            "current-context": "kubesim",
            "preferences": {},
        }

    def write_kubeconfig(self, path, url):
        Path(path).write_text(yaml.safe_dump(self.kubeconfig(url), sort_keys=False))
        os.chmod(path, 0o600)
