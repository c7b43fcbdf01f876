"""Conformance target: a private kubesim server with two nodes, or the real cluster in $KUBECONFIG_REAL."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

testing = importlib.import_module("kubesim.testing")
client = importlib.import_module("kubesim.client")

KUBECTL = str(Path(sys.executable).parent / "kubectl")
HTTP_CREATED = 201
HTTP_NOT_FOUND = 404


class RealCluster:
    """The cluster of $KUBECONFIG_REAL, with the same interface as the kubesim harness."""

    is_real = True

    def __init__(self, kubeconfig):
        self.kubeconfig = kubeconfig
        self.client = client.KubeClient(kubeconfig)
        self.url = self.client.url

    def request(self, method, path, body=None, content_type="application/json", headers=None):
        return self.client.request(method, path, body, content_type, headers)

    def stop(self):
        self.client.close()


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    real = os.environ.get("KUBECONFIG_REAL")
    if real:
        cluster = RealCluster(real)
    else:
        cluster = testing.ApiServer(tmp_path_factory.mktemp("conformance"), ("--pod-stop-seconds", "0.2"))
        cluster.is_real = False
        cluster.add_nodes(2, "conformance")
    yield cluster
    cluster.stop()


@pytest.fixture
def target_ns(target, request):
    name = f"conf-{request.node.name.split('[')[0][5:30].replace('_', '-').strip('-')}-{uuid.uuid4().hex[:5]}"
    status, body = target.request(
        "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    )
    assert status == HTTP_CREATED, body
    # a real cluster creates the default ServiceAccount asynchronously; pods need it
    deadline = time.monotonic() + 30
    while target.request("GET", f"/api/v1/namespaces/{name}/serviceaccounts/default")[0] == HTTP_NOT_FOUND:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    yield name
    target.request("DELETE", f"/api/v1/namespaces/{name}")


@pytest.fixture
def kubectl(target):
    """kubectl(*args, check=True, input=None) -> CompletedProcess (text) against the target."""

    def run(*args, check=True, stdin=None, timeout=120):
        proc = subprocess.run(
            [KUBECTL, "--kubeconfig", target.kubeconfig, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    return run
