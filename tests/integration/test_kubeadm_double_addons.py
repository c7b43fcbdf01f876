"""The kubeadm double's addon phases against kubesim: `init` creates kube-system's DaemonSet kube-proxy and
Deployment coredns (with their ServiceAccounts), as kubeadm's `addon/kube-proxy` and `addon/coredns` phases do,
and leaves out what InitConfiguration's skipPhases names. site.yml's final wait depends on these objects."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

HTTP_OK = 200
HTTP_NOT_FOUND = 404
COREDNS_REPLICAS = 2  # kubeadm constants.CoreDNSReplicas
DOUBLE = Path(__file__).resolve().parents[2] / "tests" / "doubles" / "kubeadm"
PROXY = "/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy"
COREDNS = "/apis/apps/v1/namespaces/kube-system/deployments/coredns"
# InitConfiguration (skipPhases optional), ClusterConfiguration with an image mirror, KubeletConfiguration.
DOCUMENTS = [
    {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "InitConfiguration",
        "localAPIEndpoint": {"advertiseAddress": "10.0.0.10"},
        "nodeRegistration": {"name": "kube-master"},
    },
    {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "ClusterConfiguration",
        "kubernetesVersion": "v1.37.1",
        "imageRepository": "mirror.example:5000",
        "networking": {"podSubnet": "10.244.0.0/16"},
    },
    {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration", "cgroupDriver": "systemd"},
]


def _init(tmp_path, server, skip=()):
    root = tmp_path / "root"
    (root / "etc" / "kubeadm-double").mkdir(parents=True)
    (root / "etc" / "kubeadm-double" / "apiserver.kubeconfig").write_text(Path(server.kubeconfig).read_text())
    config = tmp_path / "kubeadm.yaml"
    documents = copy.deepcopy(DOCUMENTS)
    if skip:
        documents[0]["skipPhases"] = list(skip)
    config.write_text(yaml.safe_dump_all(documents, explicit_start=True, sort_keys=False))
    env = dict(os.environ, KUBEADM_DOUBLE_ROOT=str(root), KUBEADM_DOUBLE_VERSION="1.37.1")
    argv = [sys.executable, str(DOUBLE), "init", "--config", str(config), "--skip-token-print"]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture
def server(apiserver_factory):
    return apiserver_factory()


def test_init_creates_kube_proxy_and_coredns(tmp_path, server):
    _init(tmp_path, server)
    status, proxy = server.request("GET", PROXY)
    assert status == HTTP_OK
    assert proxy["spec"]["template"]["spec"]["containers"][0]["image"] == "mirror.example:5000/kube-proxy:v1.37.1"
    status, coredns = server.request("GET", COREDNS)
    assert status == HTTP_OK
    assert coredns["spec"]["replicas"] == COREDNS_REPLICAS
    for account in ("kube-proxy", "coredns"):
        assert server.request("GET", f"/api/v1/namespaces/kube-system/serviceaccounts/{account}")[0] == HTTP_OK


def test_skipped_phase_creates_nothing(tmp_path, server):
    _init(tmp_path, server, skip=["addon/kube-proxy"])
    assert server.request("GET", PROXY)[0] == HTTP_NOT_FOUND
    assert server.request("GET", COREDNS)[0] == HTTP_OK
