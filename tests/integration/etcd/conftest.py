"""Fixtures of the etcd backup/restore tests: a real etcd as the static pod of a private control-plane root; and
``apiserver_root``: a private root whose kube-apiserver manifest names a local HTTPS /readyz (certificate for 127.0.0.1
from a test CA in <root>/etc/kubernetes/pki/ca.crt) that answers 500, what kube-apiserver answers while a readiness
check fails, to the first ``handler.not_ready_answers`` requests (2), then 200."""

from __future__ import annotations

import http.server
import ssl
import threading

import pytest
import yaml
from cryptography.x509.oid import ExtendedKeyUsageOID
from etcd_cluster import EtcdCluster
from etcd_node import EtcdNode, available, issue, write_pair

NOT_READY_ANSWERS = 2
HTTP_OK, HTTP_NOT_READY = 200, 500


def _need_etcd():
    if not available():
        pytest.fail(
            "Debian's etcd-server and etcd-client packages are needed (apt-get install etcd-server etcd-client)"
        )


@pytest.fixture
def etcd_node(tmp_path):
    _need_etcd()
    node = EtcdNode(tmp_path / "root").create()
    node.start_kubelet()
    yield node
    node.stop()


@pytest.fixture
def etcd_cluster(tmp_path):
    """Three control planes (cp-0..cp-2) whose etcd members form one real cluster, joined as kubeadm joins them."""
    _need_etcd()
    cluster = EtcdCluster(tmp_path / "cluster")
    try:
        yield cluster.create()
    finally:
        cluster.stop()


class _Readyz(http.server.BaseHTTPRequestHandler):
    not_ready_answers = NOT_READY_ANSWERS
    paths = ()

    def do_GET(self):
        self.paths.append(self.path)
        code = HTTP_OK if len(self.paths) > self.not_ready_answers else HTTP_NOT_READY
        body = b"ok" if code == HTTP_OK else b"[-]etcd failed: reason withheld\nreadyz check failed"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        return


@pytest.fixture
def apiserver_root(tmp_path):
    root = tmp_path / "root"
    pki = root / "etc" / "kubernetes" / "pki"
    pki.mkdir(parents=True)
    ca, ca_key = issue(None, None, "kubernetes", None)
    write_pair(pki, "ca", ca, ca_key)
    write_pair(pki, "apiserver", *issue(ca, ca_key, "kube-apiserver", [ExtendedKeyUsageOID.SERVER_AUTH], ip=True))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / "apiserver.crt", pki / "apiserver.key")
    handler = type("Readyz", (_Readyz,), {"paths": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "kube-apiserver", "namespace": "kube-system"},
        "spec": {
            "containers": [
                {
                    "name": "kube-apiserver",
                    "image": "registry.k8s.io/kube-apiserver:v1.37.1",
                    "command": [
                        "kube-apiserver",
                        "--advertise-address=127.0.0.1",
                        "--allow-privileged=true",
                        f"--secure-port={server.server_address[1]}",
                    ],
                }
            ]
        },
    }
    (root / "etc" / "kubernetes" / "manifests").mkdir()
    (root / "etc" / "kubernetes" / "manifests" / "kube-apiserver.yaml").write_text(yaml.safe_dump(manifest))
    yield root, handler
    server.shutdown()
