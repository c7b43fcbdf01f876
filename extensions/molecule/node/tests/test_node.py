"""Testinfra checks of the node roles applied together: the pieces fit each other.

containerd is the 2.x release (`auto` for Kubernetes 1.37 on Debian 12/13), so its config is version 3.
"""

import tomllib

testinfra_hosts = ["ansible://nodes"]


def _runtime(host):
    return tomllib.loads(host.check_output("containerd config dump"))["plugins"]["io.containerd.cri.v1.runtime"]


def test_containerd_finds_the_cni_plugins(host):
    assert _runtime(host)["cni"]["bin_dirs"] == ["/opt/cni/bin"]
    assert host.file("/opt/cni/bin/bridge").exists


def test_kubelet_and_runtime_agree_on_systemd_cgroups(host):
    assert _runtime(host)["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is True
    assert host.service("containerd").is_running
    assert host.service("kubelet").is_enabled


def test_crictl_is_there_for_kubeadm(host):
    assert host.check_output("crictl --version") == "crictl version v1.37.0"
    assert host.file("/etc/crictl.yaml").contains("unix:///run/containerd/containerd.sock")
