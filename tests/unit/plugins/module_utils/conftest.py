"""Local fakes for the client layer: a tiny HTTP(S) server scripted per test, and a throw-away CA."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import json
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class FakeServer:
    """Answers requests with a handler ``fn(method, path, headers, body) -> (status, headers, body)``.

    Records every request as ``(method, path, headers, body, connection id)``.
    """

    def __init__(self, handler, ssl_context=None):
        self.handler = handler
        self.requests = []
        fake = self

        class _Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                return

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fake.requests.append((self.command, self.path, dict(self.headers), body, id(self.connection)))
                status, headers, payload = fake.handler(self.command, self.path, self.headers, body)
                if not isinstance(payload, bytes):
                    payload = json.dumps(payload).encode()
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                if "Content-Type" not in (headers or {}):
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = _serve

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
        scheme = "https" if ssl_context else "http"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake_server():
    servers = []

    def _start(handler, ssl_context=None):
        server = FakeServer(handler, ssl_context)
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.close()


# A name in the server certificate other than the address clients connect to (kubeconfig tls-server-name).
TLS_SERVER_NAME = "kube-apiserver.internal"


def _cert(subject, issuer, keys, is_ca, san=None):
    key, issuer_key = keys
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


class Pki:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files."""

    def __init__(self, directory, name="kubeforge-test-ca"):
        self.dir = directory
        self.tls_server_name = TLS_SERVER_NAME
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _cert(name, name, (ca_key, ca_key), True)
        server_key = ec.generate_private_key(ec.SECP256R1())
        san = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName(TLS_SERVER_NAME)]
        server = _cert("kube-apiserver", name, (server_key, ca_key), False, san)
        client_key = ec.generate_private_key(ec.SECP256R1())
        client = _cert("kubernetes-admin", name, (client_key, ca_key), False)
        self.ca_pem = ca.public_bytes(serialization.Encoding.PEM)
        self.files = {}
        for label, data in {
            "ca.crt": self.ca_pem,
            "server.crt": server.public_bytes(serialization.Encoding.PEM),
            "server.key": _key_pem(server_key),
            "client.crt": client.public_bytes(serialization.Encoding.PEM),
            "client.key": _key_pem(client_key),
        }.items():
            path = directory / label
            path.write_bytes(data)
            self.files[label] = path

    def server_context(self, require_client_cert=False):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.files["server.crt"], self.files["server.key"])
        if require_client_cert:
            context.load_verify_locations(self.files["ca.crt"])
            context.verify_mode = ssl.CERT_REQUIRED
        return context


def _key_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def other_pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("other-pki"), name="some-other-ca")
