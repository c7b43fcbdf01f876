"""The kubeadm and kubelet doubles behave like kubeadm and the kubelet where the roles depend on them.

Each expectation cites kubeadm's behaviour (see tests/doubles/README.md for the sources): how --config is split
and decoded per API version, init/join preflight, certs check-expiration's table, upgrade apply's version policy,
and the kubelet's ports.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

DOUBLES = Path(__file__).resolve().parents[3] / "tests" / "doubles"

INIT = """---
# Ansible managed
apiVersion: kubeadm.k8s.io/{api}
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 192.168.50.10
  bindPort: 6443
nodeRegistration:
  name: kube-master
  kubeletExtraArgs:
{args}
---
apiVersion: kubeadm.k8s.io/{api}
kind: ClusterConfiguration
kubernetesVersion: v{version}
controlPlaneEndpoint: 192.168.50.10:6443
networking:
  podSubnet: 10.244.0.0/16
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
conntrack:
  maxPerCore: 0
"""
ARGS = {"v1beta4": "  - name: node-ip\n    value: 192.168.50.10", "v1beta3": "    node-ip: 192.168.50.10"}


class Double:
    def __init__(self, tmp_path, version="1.37.1", path=None):
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.root = tmp_path / "root"
        self.tmp = tmp_path
        self.version = version
        self.env = dict(
            os.environ, KUBEADM_DOUBLE_ROOT=str(self.root), KUBEADM_DOUBLE_VERSION=version, PATH=path or "/usr/bin:/bin"
        )

    def run(self, *args, name="kubeadm"):
        program = [sys.executable, str(DOUBLES / "kubeadm")] if name == "kubeadm" else [str(self.tmp / name)]
        return subprocess.run([*program, *args], capture_output=True, text=True, env=self.env, check=False)

    def config(self, text, name="config.yaml"):
        path = self.tmp / name
        path.write_text(text)
        return str(path)

    def init_config(self, api="v1beta4"):
        return self.config(INIT.format(api=api, version=self.version, args=ARGS[api]))

    def calls(self):
        lines = (self.root / "var/lib/kubeadm-double/calls.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines]


def test_init_reads_the_documents_and_records_what_kubeadm_was_given(tmp_path):
    double = Double(tmp_path)
    run = double.run("init", "--config", double.init_config(), "--skip-token-print")
    assert run.returncode == 0, run.stderr
    call = double.calls()[-1]
    assert call["advertise_address"] == "192.168.50.10"
    assert call["control_plane_endpoint"] == "192.168.50.10:6443"
    assert call["node_ip"] == "192.168.50.10"
    assert call["kube_proxy"]["conntrack"] == {"maxPerCore": 0}
    flags = (double.root / "var/lib/kubelet/kubeadm-flags.env").read_text()
    assert "--node-ip=192.168.50.10" in flags


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "# Ansible managed\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n",
            "invalid configuration for GroupVersionKind /, Kind=: kind and apiVersion is mandatory information",
        ),
        (
            "apiVersion: kubeadm.k8s.io/v1beta4\n",
            "invalid configuration for GroupVersionKind kubeadm.k8s.io/v1beta4, Kind=: kind and apiVersion is",
        ),
        (
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n---\napiVersion: kubeadm.k8s.io/v1beta4\n"
            "kind: InitConfiguration\n",
            'invalid configuration: kind "InitConfiguration" is specified twice in YAML file',
        ),
        (
            "apiVersion: kubeadm.k8s.io/v1beta2\nkind: InitConfiguration\n",
            'your configuration file uses an old API spec: "kubeadm.k8s.io/v1beta2"',
        ),
        (
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n"
            "    node-ip: 10.0.0.1\n",
            "json: cannot unmarshal object into Go struct field "
            "InitConfiguration.nodeRegistration.kubeletExtraArgs of type []v1beta4.Arg",
        ),
    ],
    ids=["lone-comment-document", "no-kind", "kind-twice", "removed-api", "v1beta3-map-in-v1beta4"],
)
def test_init_refuses_what_kubeadm_refuses(tmp_path, text, error):
    double = Double(tmp_path)
    run = double.run("init", "--config", double.config(text))
    assert run.returncode == 1
    assert error in run.stderr
    assert not (double.root / "etc/kubernetes/admin.conf").exists()


def test_unknown_fields_and_kinds_warn_in_init_and_fail_in_config_validate(tmp_path):
    double = Double(tmp_path)
    text = Path(double.init_config()).read_text().replace("  bindPort: 6443\n", "  bindPort: 6443\n  bindPorts: 1\n")
    text += "---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: Something\n"
    config = double.config(text)
    validate = double.run("config", "validate", "--config", config)
    assert validate.returncode == 1
    assert 'strict decoding error: unknown field "localAPIEndpoint.bindPorts"' in validate.stderr
    init = double.run("init", "--config", config, "--skip-token-print")
    assert init.returncode == 0, init.stderr
    assert 'unknown field "localAPIEndpoint.bindPorts"' in init.stderr
    assert "Ignored configuration document with GroupVersionKind" in init.stderr


def test_config_validate_refuses_an_unknown_kind(tmp_path):
    double = Double(tmp_path)
    run = double.run(
        "config",
        "validate",
        "--config",
        double.config(
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n---\napiVersion: kubeadm.k8s.io/v1beta4\n"
            "kind: Something\n"
        ),
    )
    assert run.returncode == 1
    assert (
        'unknown configuration APIs: []schema.GroupVersionKind{schema.GroupVersionKind{Group:"kubeadm.k8s.io", '
        'Version:"v1beta4", Kind:"Something"}}' in run.stderr
    )


@pytest.mark.parametrize(("version", "result"), [("1.30.9", "experimental API spec"), ("1.27.4", "is registered")])
def test_v1beta4_needs_kubeadm_1_31(tmp_path, version, result):
    double = Double(tmp_path, version)
    run = double.run("config", "validate", "--config", double.init_config("v1beta4"))
    assert run.returncode == 1
    assert result in run.stderr


def test_v1beta3_is_read_and_deprecated_from_1_31(tmp_path):
    assert (
        Double(tmp_path / "a", "1.30.9")
        .run("config", "validate", "--config", Double(tmp_path / "a", "1.30.9").init_config("v1beta3"))
        .returncode
        == 0
    )
    double = Double(tmp_path, "1.33.1")
    run = double.run("config", "validate", "--config", double.init_config("v1beta3"))
    assert run.returncode == 0
    assert 'uses a deprecated API spec: "kubeadm.k8s.io/v1beta3"' in run.stderr


def test_second_init_fails_kubeadms_preflight(tmp_path):
    double = Double(tmp_path)
    assert double.run("init", "--config", double.init_config()).returncode == 0
    run = double.run("init", "--config", double.init_config())
    assert run.returncode == 1
    assert "[preflight] Some fatal errors occurred:" in run.stderr
    assert (
        "[ERROR FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml]: "
        "/etc/kubernetes/manifests/kube-apiserver.yaml already exists"
    ) in run.stderr
    assert "[ERROR DirAvailable--var-lib-etcd]: /var/lib/etcd is not empty" in run.stderr
    assert "you can make a check non-fatal with `--ignore-preflight-errors=...`" in run.stderr


@pytest.mark.parametrize(("version", "fatal"), [("1.30.9", True), ("1.31.2", False)])
def test_crictl_is_required_before_1_31(tmp_path, version, fatal):
    double = Double(tmp_path, version)
    run = double.run("init", "--config", double.init_config("v1beta3" if fatal else "v1beta4"))
    assert ("[ERROR FileExisting-crictl]: crictl not found in system path" in run.stderr) is fatal
    assert (run.returncode == 1) is fatal
    if not fatal:
        assert "[WARNING FileExisting-crictl]: crictl not found in system path" in run.stdout


def test_crictl_in_path_or_ignored_passes(tmp_path):
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "crictl").write_text("#!/bin/sh\n")
    (tools / "crictl").chmod(0o755)
    double = Double(tmp_path, "1.30.9", path=f"{tools}:/usr/bin:/bin")
    assert double.run("init", "--config", double.init_config("v1beta3")).returncode == 0
    other = Double(tmp_path / "b", "1.30.9")
    run = other.run("init", "--config", other.init_config("v1beta3"), "--ignore-preflight-errors=FileExisting-crictl")
    assert run.returncode == 0, run.stderr
    assert "[WARNING FileExisting-crictl]" in run.stdout


def test_a_busy_api_server_port_fails_preflight_unless_ignored(tmp_path):
    busy = socket.socket()
    busy.bind(("", 0))  # a free port of this machine, held like a running API server would hold its bind port
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        double = Double(tmp_path)
        config = double.config(Path(double.init_config()).read_text().replace("bindPort: 6443", f"bindPort: {port}"))
        run = double.run("init", "--config", config)
        assert run.returncode == 1
        assert f"[ERROR Port-{port}]: Port {port} is in use" in run.stderr
        run = double.run("init", "--config", config, "--ignore-preflight-errors", f"Port-{port}")
        assert run.returncode == 0, run.stderr
        assert f"[WARNING Port-{port}]: Port {port} is in use" in run.stdout
    finally:
        busy.close()


def test_join_refuses_a_node_that_joined(tmp_path):
    double = Double(tmp_path)
    (double.root / "etc/kubernetes").mkdir(parents=True)
    (double.root / "etc/kubernetes/kubelet.conf").write_text("x")
    config = double.config(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n"
        "  bootstrapToken:\n    apiServerEndpoint: 192.168.50.10:6443\n"
        "    token: abcdef.0123456789abcdef\n    caCertHashes:\n    - sha256:%s\n" % ("0" * 64)
    )
    env = dict(double.env)
    run = subprocess.run(
        [sys.executable, str(DOUBLES / "kubeadm"), "join", "--config", config],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode in (1, 2)  # 2: the double refuses a token on its command line (none here)
    assert (
        "[ERROR FileAvailable--etc-kubernetes-kubelet.conf]: /etc/kubernetes/kubelet.conf already exists" in run.stderr
    )


def test_certs_check_expiration_prints_kubeadms_table(tmp_path):
    double = Double(tmp_path)
    assert double.run("init", "--config", double.init_config()).returncode == 0
    now = datetime.datetime.now(datetime.timezone.utc)
    pinned = {
        "apiserver": now - datetime.timedelta(hours=1),
        "admin.conf": now + datetime.timedelta(minutes=42, seconds=30),
        "etcd-server": now + datetime.timedelta(seconds=50),
        "front-proxy-client": now + datetime.timedelta(hours=5),
    }
    state = double.root / "var/lib/kubeadm-double/certs.json"
    state.write_text(json.dumps({"expires": {name: stamp.isoformat() for name, stamp in pinned.items()}}))
    run = double.run("certs", "check-expiration")
    assert run.returncode == 0, run.stderr
    rows = {line.split()[0]: line for line in run.stdout.splitlines() if line.strip()}
    header = next(line for line in run.stdout.splitlines() if line.startswith("CERTIFICATE "))
    assert re.match(r"^CERTIFICATE +EXPIRES +RESIDUAL TIME +CERTIFICATE AUTHORITY +EXTERNALLY MANAGED$", header)
    assert re.search(r"^apiserver +\w{3} \d\d, \d{4} \d\d:\d\d UTC +<invalid> +ca +no", rows["apiserver"])
    assert re.search(r" 42m +ca ", rows["admin.conf"])
    assert re.search(r" (4[0-9]|50)s +etcd-ca ", rows["etcd-server"])
    assert re.search(r" [45]h +front-proxy-ca ", rows["front-proxy-client"])
    assert re.search(r" 65d +ca ", rows["scheduler.conf"])
    assert re.search(r"^ca +\w{3} \d\d, \d{4} \d\d:\d\d UTC +9y +no", rows["ca"])
    assert double.run("certs", "renew", "all").returncode == 0
    assert "<invalid>" not in double.run("certs", "check-expiration").stdout


def test_upgrade_apply_follows_kubeadms_version_policy(tmp_path):
    double = Double(tmp_path, "1.37.1")
    config = double.config(INIT.format(api="v1beta4", version="1.36.4", args=ARGS["v1beta4"]))
    assert double.run("init", "--config", config).returncode == 0
    skip = double.run("upgrade", "apply", "v1.38.0", "--yes")
    assert skip.returncode == 1
    assert 'Specified version to upgrade to "v1.38.0" is higher than the kubeadm version "v1.37.1"' in skip.stderr
    older = Double(tmp_path, "1.39.0")
    older.root = double.root
    older.env["KUBEADM_DOUBLE_ROOT"] = str(double.root)
    jump = older.run("upgrade", "apply", "v1.38.2", "--yes")
    assert jump.returncode == 1
    assert "kubeadm can upgrade only 1 minor version at a time" in jump.stderr
    assert double.run("upgrade", "apply", "v1.37.1", "--yes").returncode == 0
    worker = Double(tmp_path / "worker", "1.37.1")
    run = worker.run("upgrade", "apply", "v1.37.1", "--yes")
    assert run.returncode == 1
    assert '"/etc/kubernetes/admin.conf"' in run.stderr


def _kubelet(tmp_path):
    binary = tmp_path / "kubelet"
    binary.write_text((DOUBLES / "kubelet").read_text().replace("@VERSION@", "1.37.1"))
    binary.chmod(0o755)
    return binary


def test_kubelet_exits_without_its_config_like_the_kubelet(tmp_path):
    kubelet = _kubelet(tmp_path)
    assert (
        subprocess.run([str(kubelet), "--version"], capture_output=True, text=True, check=True).stdout
        == "Kubernetes v1.37.1\n"
    )
    run = subprocess.run(
        [str(kubelet), "--config=%s" % (tmp_path / "missing.yaml")],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert run.returncode == 1
    assert "failed to load kubelet config file" in run.stderr


# Run in a network namespace of its own (root, util-linux unshare), so the kubelet's fixed ports neither collide
# with this machine's nor with the preflight of the other tests running at the same time.
KUBELET_DRIVER = """
import json, socket, subprocess, sys, time
kubelet = subprocess.Popen([sys.argv[1], "--config=" + sys.argv[2], "--node-ip=192.168.50.11"])
try:
    deadline, answer = time.time() + 20, b""
    while not answer:
        try:
            with socket.create_connection(("127.0.0.1", 10248), timeout=1) as conn:
                conn.sendall(b"GET /healthz HTTP/1.0\\r\\n\\r\\n")
                while chunk := conn.recv(1024):
                    answer += chunk
        except ConnectionRefusedError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    join = subprocess.run([sys.executable, sys.argv[3], "join", "--config", sys.argv[4]], capture_output=True,
                          text=True)
    print(json.dumps({"healthz": answer.decode(), "join": join.stderr}))
finally:
    kubelet.terminate()
    kubelet.wait(timeout=10)
"""


def test_a_running_kubelet_holds_10250_and_answers_healthz(tmp_path):
    if os.geteuid() != 0 or subprocess.run(["unshare", "-n", "true"], check=False).returncode != 0:
        pytest.skip("needs a network namespace (root and unshare)")
    config = tmp_path / "config.yaml"
    config.write_text("kind: KubeletConfiguration\n")
    double = Double(tmp_path)
    join = double.config(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n"
        "    apiServerEndpoint: 192.168.50.10:6443\n    token: abcdef.0123456789abcdef\n    caCertHashes:\n"
        "    - sha256:%s\n" % ("0" * 64)
    )
    driver = tmp_path / "driver.py"
    driver.write_text(KUBELET_DRIVER)
    run = subprocess.run(
        [
            "unshare",
            "-n",
            "sh",
            "-c",
            'ip link set lo up && exec "$0" "$@"',
            sys.executable,
            str(driver),
            str(_kubelet(tmp_path)),
            str(config),
            str(DOUBLES / "kubeadm"),
            join,
        ],
        capture_output=True,
        text=True,
        env=double.env,
        check=False,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["healthz"].startswith("HTTP/1.0 200") and result["healthz"].endswith("\r\n\r\nok")
    assert "[ERROR Port-10250]: Port 10250 is in use" in result["join"]
