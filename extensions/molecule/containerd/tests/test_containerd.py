"""Testinfra checks of kubeforge.cluster.containerd: real containerd (Debian 1.6/1.7 packages, sid's 2.1.9 as the
release tarball) parses the rendered config and runs a real container.

After side_effect.yml: kube-master and kubenode-2 run the 2.x release (config version 3), kubenode-1 Debian trixie's
1.7 (config version 2).
"""

import re
from typing import NamedTuple

import tomllib

testinfra_hosts = ["ansible://nodes"]

NAMESPACE = "kubeforge-test"
IMAGE = "docker.io/kubeforge/busybox:test"
RELEASE = "2.1.9"
LAYOUT_2X = 3  # config version of containerd 2.x
UPGRADED = "kubenode-2"  # side_effect.yml upgraded it from Debian's 1.6.20 for Kubernetes 1.37


class Expected(NamedTuple):
    line: str  # containerd release line
    config_version: int
    sandbox: str  # pause tag: kubeadm's PauseVersion of the host's Kubernetes minor (1.37 -> 3.10.1, 1.33 -> 3.10)


EXPECTED = {
    "kube-master": Expected("2.1", 3, "kf-mirror:5000/k8s/pause:3.10.1"),  # the offline image repository
    "kubenode-1": Expected("1.7", 2, "registry.k8s.io/pause:3.10"),
    "kubenode-2": Expected("2.1", 3, "registry.k8s.io/pause:3.10.1"),
}


def _expected(host):
    return EXPECTED[host.backend.get_hostname()]


def _dump(host):
    """containerd's effective config: what containerd itself parsed from the rendered file."""
    return tomllib.loads(host.check_output("containerd config dump"))


def test_service_running_and_enabled(host):
    service = host.service("containerd")
    assert service.is_running
    assert service.is_enabled


def test_installed_version_is_the_chosen_one(host):
    line = _expected(host).line
    version = re.search(r" v?(\d+\.\d+\.\d+)", host.check_output("containerd --version")).group(1)
    assert version.startswith(line + ".")
    if line == "2.1":
        assert version == RELEASE
        assert host.file("/usr/local/sbin/runc").is_file


def test_rendered_file_is_data_for_the_installed_layout(host):
    config_version = _expected(host).config_version
    rendered = tomllib.loads(host.file("/etc/containerd/config.toml").content_string)
    assert rendered["version"] == config_version
    if host.backend.get_hostname() != UPGRADED:  # side_effect.yml re-applied it without the override
        assert rendered["debug"]["level"] == "info", "containerd_config_overrides merged over the whole config"


def test_cri_settings_land_where_the_installed_version_reads_them(host):
    config_version, sandbox = _expected(host).config_version, _expected(host).sandbox
    plugins = _dump(host)["plugins"]
    if config_version == LAYOUT_2X:
        runtime = plugins["io.containerd.cri.v1.runtime"]
        images = plugins["io.containerd.cri.v1.images"]
        assert images["pinned_images"]["sandbox"] == sandbox
        assert images["registry"]["config_path"] == "/etc/containerd/certs.d"
        assert runtime["cni"]["bin_dirs"] == ["/opt/cni/bin"]
    else:
        runtime = plugins["io.containerd.grpc.v1.cri"]
        assert runtime["sandbox_image"] == sandbox
        assert runtime["registry"]["config_path"] == "/etc/containerd/certs.d"
        assert runtime["cni"]["bin_dir"] == "/opt/cni/bin"
    assert runtime["restrict_oom_score_adj"] is True
    if host.backend.get_hostname() != UPGRADED:  # side_effect.yml re-applied it with restrict_oom_score_adj only
        assert runtime["device_ownership_from_security_context"] is True
    assert runtime["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is True


def test_registry_mirror_and_crictl(host):
    hosts_toml = host.file("/etc/containerd/certs.d/docker.io/hosts.toml").content_string
    assert 'server = "https://registry-1.docker.io"' in hosts_toml
    assert '[host."http://kf-mirror:5000"]' in hosts_toml
    assert 'ca = "/etc/containerd/certs.d/docker.io/ca.crt"' in hosts_toml
    assert host.file("/etc/containerd/certs.d/docker.io/ca.crt").contains("BEGIN CERTIFICATE")
    crictl = host.file("/etc/crictl.yaml").content_string
    assert "runtime-endpoint: unix:///run/containerd/containerd.sock" in crictl


def test_ctr_runs_a_container_from_a_local_image(host):
    host.check_output(f"ctr -n {NAMESPACE} images import /root/busybox-image.tar")
    assert IMAGE in host.check_output(f"ctr -n {NAMESPACE} images ls -q")
    command = "echo hello from $(hostname)"
    out = host.check_output(f"ctr -n {NAMESPACE} run --rm {IMAGE} kubeforge-verify /bin/sh -c '{command}'")
    assert out.strip() == f"hello from {host.check_output('hostname')}"
