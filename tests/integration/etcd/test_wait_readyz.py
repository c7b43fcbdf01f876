"""playbooks/tasks/wait_readyz.yml: after the static pods restart, wait for the API server's /readyz, not a pause.

A local HTTPS server (certificate for 127.0.0.1 from a test CA in <root>/etc/kubernetes/pki/ca.crt) answers /readyz
with 500 (what kube-apiserver answers while a readiness check fails) to the first requests, then 200; the kube-apiserver
manifest under the private root names it with --advertise-address and --secure-port, as kubeadm writes them.
"""

from __future__ import annotations

import http.server
import ssl
import threading
from pathlib import Path

import pytest
import yaml
from cryptography.x509.oid import ExtendedKeyUsageOID
from etcd_node import issue, write_pair

REPO = Path(__file__).resolve().parents[3]
TASKS = str(REPO / "playbooks" / "tasks" / "wait_readyz.yml")
NOT_READY_ANSWERS = 2
HTTP_OK, HTTP_NOT_READY = 200, 500


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


def test_waits_until_readyz_answers_200(ansible_playbook, apiserver_root):
    root, handler = apiserver_root

    run = ansible_playbook(
        [{"ansible.builtin.include_tasks": TASKS}],
        extra_vars={"etcd_kubernetes_dir": str(root / "etc" / "kubernetes"), "kubeforge_readyz_timeout": 60},
    )

    assert run.rc == 0, run.stdout
    assert handler.paths == ["/readyz"] * (NOT_READY_ANSWERS + 1), "the wait ended before /readyz answered 200"
    assert run.task("Wait for /readyz of the API server").result["status"] == HTTP_OK


def test_fails_when_readyz_never_answers_200(ansible_playbook, apiserver_root):
    root, handler = apiserver_root
    handler.not_ready_answers = 1000

    run = ansible_playbook(
        [{"ansible.builtin.include_tasks": TASKS}],
        extra_vars={"etcd_kubernetes_dir": str(root / "etc" / "kubernetes"), "kubeforge_readyz_timeout": 4},
    )

    assert run.rc != 0
    assert run.task("Wait for /readyz of the API server").result["status"] == HTTP_NOT_READY


def test_nothing_to_wait_for_without_an_apiserver_manifest(ansible_playbook, tmp_path):
    run = ansible_playbook(
        [{"ansible.builtin.include_tasks": TASKS}], extra_vars={"etcd_kubernetes_dir": str(tmp_path)}
    )

    assert run.rc == 0, run.stdout
    assert run.task("Wait for /readyz of the API server").result.get("skipped") is True
