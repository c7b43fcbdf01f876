"""The kubeadm configuration the control_plane and worker roles render, checked by the kubeadm double's reading.

Each case runs the roles' own config tasks (tasks_from: config.yml: template + `kubeadm config validate`) with
ansible-playbook against local-connection hosts whose default route is on one
network (10.0.0.0/24, reported by a stand-in for the setup module) while the inventory chooses another
(192.168.50.0/24), as on a multi-NIC host. The kubeadm
double (tests/doubles/kubeadm) validates each file the way kubeadm does: `---` documents, apiVersion and kind in
each, strict fields and types per API version (v1beta3 for Kubernetes 1.30, v1beta4 for 1.37).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DOUBLE = ROOT / "tests" / "doubles" / "kubeadm"
CHOSEN = {"kube-master": "192.168.50.10", "kubenode-1": "192.168.50.11"}
DEFAULT_ROUTE = {"kube-master": "10.0.0.10", "kubenode-1": "10.0.0.11"}
TOKEN = "abcdef.0123456789abcdef"  # a fixed, made-up bootstrap token of the test
CA_HASH = "sha256:" + "0" * 64

pytestmark = pytest.mark.slow

# A module that reports the host's default route the way the setup module does (ansible_facts.default_ipv4).
FACTS_MODULE = """#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule

module = AnsibleModule(argument_spec={"address": {"type": "str", "required": True}})
route = {"address": module.params["address"], "interface": "eth0"}
module.exit_json(changed=False, ansible_facts={"default_ipv4": route})
"""


def _kubeadm(tmp_path, version):
    """The double as `kubeadm` of the given version (the mirror fills @VERSION@ the same way)."""
    binary = tmp_path / "bin" / ("kubeadm-" + version)
    binary.parent.mkdir(exist_ok=True)
    binary.write_text(DOUBLE.read_text().replace("@VERSION@", version))
    binary.chmod(0o755)
    return binary


def render(tmp_path, version="1.37.1", extra=None, chosen=True):
    """Run the config tasks of both roles; returns (run, {host: file text})."""
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    library = tmp_path / "library"
    library.mkdir(exist_ok=True)
    (library / "test_default_route.py").write_text(FACTS_MODULE)
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    master = dict(local, **({"control_plane_advertise_address": CHOSEN["kube-master"]} if chosen else {}))
    worker = dict(local, **({"worker_node_ip": CHOSEN["kubenode-1"]} if chosen else {}))
    inventory = {
        "all": {
            "children": {
                "control_plane": {"hosts": {"kube-master": master}},
                "workers": {"hosts": {"kubenode-1": worker}},
            }
        }
    }
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    kubeadm = _kubeadm(tmp_path, version)
    settings = {
        "control_plane_kubernetes_version": "v" + version,
        "control_plane_kubeadm_path": str(kubeadm),
        "control_plane_config_path": str(out / "kube-master.yaml"),
        "worker_kubeadm_path": str(kubeadm),
        "worker_join_config_path": str(out / "kubenode-1.yaml"),
        "worker_kubeadm_version": {"stdout": "v" + version},
        "worker_join": {"api_server_endpoint": "192.168.50.10:6443", "token": TOKEN, "ca_cert_hash": CA_HASH},
        **(extra or {}),
    }
    (tmp_path / "settings.yml").write_text(yaml.safe_dump(settings))
    facts = {"test_default_route": {"address": f"{{{{ {json.dumps(DEFAULT_ROUTE)}[inventory_hostname] }}}}"}}
    playbook = [
        {
            "name": "control plane",
            "hosts": "control_plane",
            "gather_facts": False,
            "tasks": [
                facts,
                {
                    "ansible.builtin.include_role": {
                        "name": "kubeforge.cluster.control_plane",
                        "tasks_from": "config.yml",
                    }
                },
            ],
        },
        {
            "name": "workers",
            "hosts": "workers",
            "gather_facts": False,
            "tasks": [
                facts,
                {"ansible.builtin.include_role": {"name": "kubeforge.cluster.worker", "tasks_from": "config.yml"}},
            ],
        },
    ]
    (tmp_path / "render.yml").write_text(yaml.safe_dump(playbook))
    env = dict(os.environ)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".venv" / "collections"))
    env.update(
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_LIBRARY=str(library),
        KUBEADM_DOUBLE_ROOT=str(tmp_path / "root"),
    )
    cmd = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i",
        str(tmp_path / "hosts.yml"),
        "-e",
        "@" + str(tmp_path / "settings.yml"),
        str(tmp_path / "render.yml"),
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=300, check=False)
    files = {path.stem: path.read_text() for path in out.glob("*.yaml")}
    return run, files


def documents(text):
    """kubeadm's split: `---` lines separate documents; each must have apiVersion and kind."""
    docs = [yaml.safe_load(chunk) for chunk in re.split(r"(?m)^---[ \t]*$", text) if chunk.strip()]
    for doc in docs:
        assert isinstance(doc, dict) and doc.get("apiVersion") and doc.get("kind"), text
    return {doc["kind"]: doc for doc in docs}


def validate(tmp_path, version, text):
    """`kubeadm config validate` of the double on a file."""
    path = tmp_path / "check.yaml"
    path.write_text(text)
    env = dict(os.environ, KUBEADM_DOUBLE_ROOT=str(tmp_path / "root"))
    return subprocess.run(
        [str(_kubeadm(tmp_path, version)), "config", "validate", "--config", str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@pytest.mark.parametrize(("version", "api"), [("1.37.1", "v1beta4"), ("1.30.9", "v1beta3")])
def test_rendered_files_are_valid_kubeadm_configuration(tmp_path, version, api):
    run, files = render(tmp_path, version)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Validate the kubeadm configuration with kubeadm" in run.stdout
    init = documents(files["kube-master"])
    assert list(init) == ["InitConfiguration", "ClusterConfiguration", "KubeletConfiguration", "KubeProxyConfiguration"]
    assert init["InitConfiguration"]["apiVersion"] == "kubeadm.k8s.io/" + api
    join = documents(files["kubenode-1"])
    assert join["JoinConfiguration"]["apiVersion"] == "kubeadm.k8s.io/" + api
    for text in files.values():
        check = validate(tmp_path, version, text)
        assert check.returncode == 0 and check.stdout.strip() == "ok", check.stderr


def test_a_lone_comment_document_is_refused_like_kubeadm(tmp_path):
    """The old template wrote `# managed` and then `---`: kubeadm's first document had no apiVersion/kind."""
    check = validate(
        tmp_path, "1.37.1", "# Ansible managed\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
    )
    assert check.returncode == 1
    assert (
        "invalid configuration for GroupVersionKind /, Kind=: kind and apiVersion is mandatory information that "
        "must be specified"
    ) in check.stderr


def test_multi_nic_uses_the_chosen_address_not_the_default_route(tmp_path):
    run, files = render(tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    init = documents(files["kube-master"])
    cluster = init["ClusterConfiguration"]
    assert cluster["controlPlaneEndpoint"] == "192.168.50.10:6443"
    assert "192.168.50.10" in cluster["apiServer"]["certSANs"]
    assert init["InitConfiguration"]["localAPIEndpoint"]["advertiseAddress"] == "192.168.50.10"
    assert init["InitConfiguration"]["nodeRegistration"]["kubeletExtraArgs"] == [
        {"name": "node-ip", "value": "192.168.50.10"}
    ]
    join = documents(files["kubenode-1"])["JoinConfiguration"]
    assert join["nodeRegistration"]["kubeletExtraArgs"] == [{"name": "node-ip", "value": "192.168.50.11"}]
    assert "10.0.0." not in files["kube-master"] + files["kubenode-1"]


def test_without_a_chosen_address_the_default_route_is_used(tmp_path):
    run, files = render(tmp_path, chosen=False)
    assert run.returncode == 0, run.stdout + run.stderr
    init = documents(files["kube-master"])
    assert init["ClusterConfiguration"]["controlPlaneEndpoint"] == "10.0.0.10:6443"
    assert documents(files["kubenode-1"])["JoinConfiguration"]["nodeRegistration"]["kubeletExtraArgs"] == [
        {"name": "node-ip", "value": "10.0.0.11"}
    ]


def test_v1beta3_renders_extra_args_as_a_map(tmp_path):
    run, files = render(tmp_path, "1.30.9", {"control_plane_kubelet_extra_args": {"v": 4}})
    assert run.returncode == 0, run.stdout + run.stderr
    registration = documents(files["kube-master"])["InitConfiguration"]["nodeRegistration"]
    assert registration["kubeletExtraArgs"] == {"node-ip": "192.168.50.10", "v": "4"}


def test_overrides_are_merged_into_every_document(tmp_path):
    extra = {
        "control_plane_init_config": {"nodeRegistration": {"imagePullPolicy": "Never"}},
        "control_plane_cluster_config": {
            "apiServer": {"extraArgs": [{"name": "audit-log-maxage", "value": "7"}]},
            "networking": {"dnsDomain": "example.internal"},
        },
        "control_plane_kubelet_config": {"failSwapOn": False},
        "control_plane_kube_proxy_config": {"conntrack": {"maxPerCore": 0}},
        "control_plane_skip_phases": ["addon/kube-proxy"],
        "worker_skip_phases": ["preflight"],
        "worker_join_config": {"nodeRegistration": {"imagePullPolicy": "Never"}},
    }
    run, files = render(tmp_path, extra=extra)
    assert run.returncode == 0, run.stdout + run.stderr
    init = documents(files["kube-master"])
    assert init["InitConfiguration"]["skipPhases"] == ["addon/kube-proxy"]
    assert init["InitConfiguration"]["nodeRegistration"]["imagePullPolicy"] == "Never"
    assert init["InitConfiguration"]["nodeRegistration"]["name"] == "kube-master"  # merged, not replaced
    assert init["ClusterConfiguration"]["apiServer"]["extraArgs"] == [{"name": "audit-log-maxage", "value": "7"}]
    assert init["ClusterConfiguration"]["networking"]["podSubnet"] == "10.244.0.0/16"
    assert init["ClusterConfiguration"]["networking"]["dnsDomain"] == "example.internal"
    assert init["KubeletConfiguration"] == {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "cgroupDriver": "systemd",
        "failSwapOn": False,
    }
    assert init["KubeProxyConfiguration"]["conntrack"] == {"maxPerCore": 0}
    join = documents(files["kubenode-1"])["JoinConfiguration"]
    assert join["skipPhases"] == ["preflight"]
    assert join["nodeRegistration"]["imagePullPolicy"] == "Never"
    assert join["discovery"]["bootstrapToken"]["apiServerEndpoint"] == "192.168.50.10:6443"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"control_plane_cluster_config": {"apiServer": {"extraArg": [{"name": "v", "value": "2"}]}}},
            'strict decoding error: unknown field "apiServer.extraArg"',
        ),
        (
            {"control_plane_kube_proxy_config": {"conntrack": {"maxPerCores": 0}}},
            'strict decoding error: unknown field "conntrack.maxPerCores"',
        ),
        (
            {"control_plane_cluster_config": {"apiServer": {"extraArgs": {"v": "2"}}}},
            "json: cannot unmarshal object into Go struct field ClusterConfiguration.apiServer.extraArgs of type "
            "[]v1beta4.Arg",
        ),
        (
            {"worker_join_config": {"discovery": {"timeout": "5m"}}},
            'strict decoding error: unknown field "discovery.timeout"',
        ),
    ],
    ids=["unknown-cluster-field", "unknown-kube-proxy-field", "v1beta3-map-in-v1beta4", "v1beta3-only-join-field"],
)
def test_a_mistyped_override_stops_before_kubeadm_runs(tmp_path, extra, message):
    run, _files = render(tmp_path, extra=extra)
    assert run.returncode != 0
    assert message in run.stdout.replace('\\"', '"'), run.stdout


def test_an_override_may_not_change_apiversion_or_kind(tmp_path):
    env = dict(os.environ)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".venv" / "collections"))
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "ansible.builtin.include_role": {
                        "name": "kubeforge.cluster.control_plane",
                        "tasks_from": "validate.yml",
                    }
                }
            ],
        }
    ]
    (tmp_path / "p.yml").write_text(yaml.safe_dump(play))
    (tmp_path / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "all": {
                    "children": {
                        "control_plane": {
                            "hosts": {
                                "localhost": {
                                    "ansible_connection": "local",
                                    "ansible_python_interpreter": sys.executable,
                                }
                            }
                        }
                    }
                }
            }
        )
    )
    cmd = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i",
        str(tmp_path / "hosts.yml"),
        "-e",
        json.dumps({"control_plane_kube_proxy_config": {"kind": "Other"}}),
        str(tmp_path / "p.yml"),
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=120, check=False)
    assert run.returncode != 0
    assert "control_plane_kube_proxy_config: an override dict changes" in run.stdout, run.stdout


def test_workers_follow_the_shared_control_plane_settings(tmp_path):
    """One place for values the cluster shares: the worker role's defaults follow control_plane_* when set."""
    run, files = render(tmp_path, extra={"control_plane_cri_socket": "unix:///run/crio/crio.sock"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert documents(files["kube-master"])["InitConfiguration"]["nodeRegistration"]["criSocket"] == (
        "unix:///run/crio/crio.sock"
    )
    join = documents(files["kubenode-1"])["JoinConfiguration"]
    assert join["nodeRegistration"]["criSocket"] == "unix:///run/crio/crio.sock"
