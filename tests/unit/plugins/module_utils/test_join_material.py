"""kubeforge.cluster.kubeadm_token's runner against the kubeadm contract double (tests/doubles/kubeadm).

The double runs as a real process (openssl for its CA) in a private root directory, so these tests check the
module's command-line contract with kubeadm: token reuse, creation only when needed, the CA hash, upload-certs,
check mode, and that no secret is ever put on a command line.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils import kubeadm
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError

DOUBLE = Path(__file__).resolve().parents[4] / "tests" / "doubles" / "kubeadm"
SECRET_REFUSED = 2  # the double's exit code for a secret on its command line


INIT_CONFIG = """---
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 10.0.0.10
nodeRegistration:
  name: kube-master
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.37.1
controlPlaneEndpoint: kube-master:6443
networking:
  podSubnet: 10.244.0.0/16
  serviceSubnet: 10.96.0.0/12
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
"""


class _Module:
    """The part of AnsibleModule the runner uses, running commands for real with the double's environment."""

    def __init__(self, env, check_mode=False, **params):
        self.env = env
        self.check_mode = check_mode
        self.params = {
            "kubeadm_path": str(DOUBLE),
            "kubeconfig": str(Path(env["KUBEADM_DOUBLE_ROOT"]) / "etc/kubernetes/admin.conf"),
            "ca_cert": str(Path(env["KUBEADM_DOUBLE_ROOT"]) / "etc/kubernetes/pki/ca.crt"),
            "ttl": "2h",
            "min_ttl": "30m",
            "description": "kubeforge.cluster join token",
            "upload_certs": False,
            **params,
        }

    def get_bin_path(self, name, required=False):
        del required
        return name if os.path.isabs(name) else None

    def run_command(self, cmd):
        proc = subprocess.run([sys.executable, *cmd], capture_output=True, text=True, env=self.env, check=False)
        return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def cluster(tmp_path):
    env = dict(os.environ, KUBEADM_DOUBLE_ROOT=str(tmp_path / "root"), KUBEADM_DOUBLE_VERSION="1.37.1")
    config = tmp_path / "kubeadm.yaml"
    config.write_text(INIT_CONFIG)
    init = _double(env, "init", "--config", str(config), "--skip-token-print", "--skip-certificate-key-print")
    assert init.returncode == 0, init.stderr
    assert not re.search(r"[a-z0-9]{6}\.[a-z0-9]{16}", init.stdout)
    return env


def _double(env, *args):
    return subprocess.run([sys.executable, str(DOUBLE), *args], capture_output=True, text=True, env=env, check=False)


def _calls(env):
    log = Path(env["KUBEADM_DOUBLE_ROOT"]) / "var/lib/kubeadm-double/calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()]


def _tokens(env):
    listing = _double(env, "token", "list", "-o", "json").stdout
    return [t["token"] for t in kubeadm.parse_token_list(listing)]


def test_reuses_the_token_kubeadm_init_created(cluster):
    result = kubeadm.join_material(_Module(cluster))
    assert result["changed"] is False and result["created"] is False
    assert _tokens(cluster) == [result["token"]]
    assert result["api_server_endpoint"] == "kube-master:6443"
    openssl = _double(cluster, "token", "create", "--print-join-command").stdout
    assert result["ca_cert_hash"] == re.search(r"(sha256:[0-9a-f]{64})", openssl).group(1)
    assert not [c for c in _calls(cluster) if c["argv"][1:3] == ["token", "create"] and "--ttl" in c["argv"]]


def test_creates_a_token_only_when_none_stays_valid_long_enough(cluster):
    first = kubeadm.join_material(_Module(cluster, ttl="48h", min_ttl="25h"))
    assert first["changed"] is True and first["created"] is True
    assert first["token"] in _tokens(cluster)
    again = kubeadm.join_material(_Module(cluster, ttl="48h", min_ttl="25h"))
    assert again["changed"] is False and again["token"] == first["token"]
    creates = [c for c in _calls(cluster) if c["argv"][1:3] == ["token", "create"]]
    assert len(creates) == 1
    assert creates[0]["argv"][3:] == [
        "--ttl",
        "48h",
        "--description",
        "kubeforge.cluster join token",
        "--usages",
        "authentication,signing",
        "--groups",
        "system:bootstrappers:kubeadm:default-node-token",
        "--kubeconfig",
        _Module(cluster).params["kubeconfig"],
    ]


def test_check_mode_reports_a_creation_without_creating(cluster):
    before = _tokens(cluster)
    result = kubeadm.join_material(_Module(cluster, check_mode=True, ttl="48h", min_ttl="25h"))
    assert result["changed"] is True and result["created"] is True
    assert "token" not in result
    assert _tokens(cluster) == before


def test_upload_certs_returns_the_certificate_key(cluster):
    result = kubeadm.join_material(_Module(cluster, upload_certs=True))
    assert result["changed"] is True
    assert re.match(r"^[0-9a-f]{64}$", result["certificate_key"])
    recorded = [c for c in _calls(cluster) if c["argv"][1:4] == ["init", "phase", "upload-certs"]]
    assert recorded[-1]["certificate_key_fingerprint"] == _fingerprint(result["certificate_key"])


def test_bad_durations_and_failures_are_clear_and_hold_no_secret(cluster):
    with pytest.raises(KubeforgeError, match="ttl: 1h must be longer than min_ttl 2h"):
        kubeadm.join_material(_Module(cluster, ttl="1h", min_ttl="2h"))
    env = dict(cluster, KUBEADM_DOUBLE_ROOT=cluster["KUBEADM_DOUBLE_ROOT"] + "-missing")
    with pytest.raises(KubeforgeError, match="kubeconfig: cannot read"):
        kubeadm.join_material(_Module(env, kubeconfig=_Module(cluster).params["kubeconfig"] + ".gone"))


def test_the_double_refuses_secrets_on_its_command_line(cluster):
    token = _tokens(cluster)[0]
    refused = _double(cluster, "join", "kube-master:6443", "--token", token)
    assert refused.returncode == SECRET_REFUSED
    assert _calls(cluster)[-1]["secret_on_command_line"] is True
    assert token not in json.dumps(_calls(cluster))


def test_join_through_a_config_file_then_refuse_a_second_join(cluster, tmp_path):
    join_material = kubeadm.join_material(_Module(cluster))
    worker = dict(cluster, KUBEADM_DOUBLE_ROOT=str(tmp_path / "worker"))
    ca = Path(worker["KUBEADM_DOUBLE_ROOT"]) / "etc/kubeadm-double/cluster-ca.crt"  # what discovery finds
    ca.parent.mkdir(parents=True)
    shutil.copy(_Module(cluster).params["ca_cert"], ca)
    config = tmp_path / "join.yaml"
    config.write_text(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n"
        f"    apiServerEndpoint: {join_material['api_server_endpoint']}\n    token: {join_material['token']}\n"
        f"    caCertHashes:\n    - {join_material['ca_cert_hash']}\nnodeRegistration:\n  name: kubenode-1\n"
    )
    config.chmod(0o600)
    joined = _double(worker, "join", "--config", str(config))
    assert joined.returncode == 0, joined.stderr
    assert (Path(worker["KUBEADM_DOUBLE_ROOT"]) / "etc/kubernetes/kubelet.conf").exists()
    record = _calls(worker)[-1]
    assert record["token_fingerprint"] == _fingerprint(join_material["token"]) and record["config_mode"] == "0o600"
    again = _double(worker, "join", "--config", str(config))
    assert again.returncode == 1 and "kubelet.conf already exists" in again.stderr


def _fingerprint(secret):
    return hashlib.sha256(secret.encode()).hexdigest()[:16]
