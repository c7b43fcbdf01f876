"""Testinfra checks of kubeforge.cluster.host_prep on the nodes."""

testinfra_hosts = ["ansible://nodes"]

SYSCTLS = {
    "net.ipv4.ip_forward": "1",
    "net.bridge.bridge-nf-call-iptables": "1",
    "net.bridge.bridge-nf-call-ip6tables": "1",
}
# Proof that a module is in the running kernel: /sys/module/NAME, or (built in, no parameters) its sysctls.
MODULE_EVIDENCE = {"overlay": "/sys/module/overlay", "br_netfilter": "/proc/sys/net/bridge"}
PACKAGES = ["conntrack", "socat", "iptables", "ebtables", "ethtool", "ipset", "ca-certificates"]


def test_sysctls_live_and_persisted(host):
    live = dict(line.split(" = ", 1) for line in host.check_output("sysctl " + " ".join(SYSCTLS)).splitlines())
    assert live == SYSCTLS
    persisted = host.file("/etc/sysctl.d/99-kubeforge.conf").content_string.splitlines()
    assert {f"{key}={value}" for key, value in SYSCTLS.items()} <= set(persisted)


def test_kernel_modules_present_and_persisted(host):
    persisted = host.file("/etc/modules-load.d/kubeforge.conf").content_string.splitlines()
    for module, evidence in MODULE_EVIDENCE.items():
        assert module in persisted
        assert host.file(evidence).is_directory, module


def test_packages_installed(host):
    status = host.check_output("dpkg-query -W -f '${Package} ${db:Status-Status}\\n' " + " ".join(PACKAGES))
    assert sorted(status.splitlines()) == sorted(f"{package} installed" for package in PACKAGES)


def test_no_swap(host):
    assert len(host.file("/proc/swaps").content_string.splitlines()) == 1


def test_etc_hosts_lists_every_node(host):
    hosts = host.file("/etc/hosts").content_string
    block = hosts.split("# BEGIN kubeforge.cluster.host_prep inventory nodes")[1].split("# END")[0]
    names = {line.split()[1] for line in block.strip().splitlines()}
    assert names == {"kube-master", "kubenode-1", "kubenode-2"}
    assert host.run("getent hosts kubenode-2").rc == 0
