"""Global pytest fixtures: the kubesim Kubernetes API test server (see docs/apiserver.md)."""

from __future__ import annotations

import base64
import importlib
import os
import select
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "apiserver"))

KubeClient = importlib.import_module("kubesim.client").KubeClient
add_nodes = importlib.import_module("kubesim.helpers").add_nodes

SERVE = HERE / "apiserver" / "serve"
START_TIMEOUT = 20
STOP_TIMEOUT = 5
HTTP_CREATED = 201
HTTP_OK = 200
__all__ = ["ApiServer", "add_nodes"]


class ApiServer:
    """A running kubesim process."""

    context = "kubesim"
    token_context = "kubesim-token"
    contexts = ("kubesim", "kubesim-token")

    def __init__(self, workdir, options=()):
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        self.kubeconfig = str(workdir / "kubeconfig")
        self.ca_file = str(workdir / "ca.crt")
        cmd = [sys.executable, str(SERVE), "--port", "0", "--kubeconfig", self.kubeconfig, *options]
        with open(workdir / "server.log", "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, cwd=str(HERE.parent))
        self.pid = self.proc.pid
        self.url = self._wait_ready()
        with open(self.kubeconfig) as handle:
            config = yaml.safe_load(handle)
        Path(self.ca_file).write_bytes(base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]))
        self.token = next(u["user"]["token"] for u in config["users"] if "token" in u["user"])
        self.client = KubeClient(self.kubeconfig, self.token_context)

    def _wait_ready(self):
        ready, _, _ = select.select([self.proc.stdout], [], [], START_TIMEOUT)
        line = self.proc.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("ready "):
            self.stop()
            raise RuntimeError(f"kubesim did not start: {line!r}")
        return line.split(" ", 1)[1]

    def request(self, method, path, body=None, content_type="application/json", headers=None):
        """(status, JSON body) of one HTTPS request authenticated with the bearer token."""
        return self.client.request(method, path, body, content_type, headers)

    def add_nodes(self, n, prefix="node", labels=None, taints=None):
        return add_nodes(self, n, prefix, labels, taints)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if hasattr(self, "client"):
            self.client.close()
        self.proc.stdout.close()


@pytest.fixture(scope="session")
def apiserver(tmp_path_factory):
    """One kubesim server for the whole run (tests isolate themselves by namespace)."""
    server = ApiServer(tmp_path_factory.mktemp("kubesim"))
    yield server
    server.stop()


@pytest.fixture
def apiserver_factory(tmp_path_factory):
    """Start private servers: `apiserver_factory("--pod-stop-seconds", "1")`; all stopped after the test."""
    started = []

    def start(*options):
        server = ApiServer(tmp_path_factory.mktemp("kubesim-private"), options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def namespace(apiserver, request):
    """A fresh namespace on `apiserver` (deleted afterwards); returns its name."""
    base = "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:40].strip("-")
    name = f"{base}-{uuid.uuid4().hex[:6]}"
    status, body = apiserver.request(
        "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    )
    assert status == HTTP_CREATED, body
    yield name
    apiserver.request("DELETE", f"/api/v1/namespaces/{name}")


def pytest_report_header(config):
    del config
    return f"kubesim: {SERVE} (KUBECONFIG_REAL={os.environ.get('KUBECONFIG_REAL', '')})"
