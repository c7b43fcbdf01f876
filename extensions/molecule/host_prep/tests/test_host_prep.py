"""Testinfra checks of kubeforge.cluster.host_prep on the nodes."""

import pytest

testinfra_hosts = ["ansible://nodes"]

SYSCTLS = {
    "net.ipv4.ip_forward": 1,
    "net.bridge.bridge-nf-call-iptables": 1,
    "net.bridge.bridge-nf-call-ip6tables": 1,
}


@pytest.mark.parametrize(("key", "value"), sorted(SYSCTLS.items()))
def test_sysctl_live_and_persisted(host, key, value):
    assert host.sysctl(key) == value
    assert f"{key}={value}" in host.file("/etc/sysctl.d/99-kubeforge.conf").content_string.splitlines()


@pytest.mark.parametrize("module", ["overlay", "br_netfilter"])
def test_kernel_module_present_and_persisted(host, module):
    assert host.file(f"/sys/module/{module}").is_directory
    assert module in host.file("/etc/modules-load.d/kubeforge.conf").content_string.splitlines()


@pytest.mark.parametrize("package", ["conntrack", "socat", "iptables", "ebtables", "ethtool", "ipset", "ca-certificates"])
def test_package_installed(host, package):
    assert host.package(package).is_installed


def test_no_swap(host):
    assert len(host.file("/proc/swaps").content_string.splitlines()) == 1


def test_etc_hosts_lists_every_node(host):
    hosts = host.file("/etc/hosts").content_string
    block = hosts.split("# BEGIN kubeforge.cluster.host_prep inventory nodes")[1].split("# END")[0]
    names = {line.split()[1] for line in block.strip().splitlines()}
    assert names == {"kube-master", "kubenode-1", "kubenode-2"}
    assert host.run("getent hosts kubenode-2").rc == 0
