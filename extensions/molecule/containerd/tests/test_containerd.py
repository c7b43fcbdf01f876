"""Testinfra checks of kubeforge.cluster.containerd: real Debian containerd running a real container."""

import re

testinfra_hosts = ["ansible://nodes"]

NAMESPACE = "kubeforge-test"
IMAGE = "docker.io/kubeforge/busybox:test"
# containerd 1.x reads config version 2, containerd 2.x version 3.
CONFIG_VERSION_OF_MAJOR = {1: 2, 2: 3}


def _major(host):
    version = host.check_output("containerd --version")
    return int(re.search(r" v?(\d+)\.\d+\.\d+", version).group(1))


def test_service_running_and_enabled(host):
    service = host.service("containerd")
    assert service.is_running
    assert service.is_enabled


def test_config_layout_matches_major_version(host):
    config = host.file("/etc/containerd/config.toml").content_string
    expected = CONFIG_VERSION_OF_MAJOR[min(_major(host), 2)]
    assert f"\nversion = {expected}\n" in config
    # containerd itself parsed the file: the effective config carries the rendered values.
    dump = host.check_output("containerd config dump")
    assert "SystemdCgroup = true" in dump
    assert "registry.k8s.io/pause:3.10" in dump
    assert 'config_path = "/etc/containerd/certs.d"' in dump


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
