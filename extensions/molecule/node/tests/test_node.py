"""Testinfra checks of the node roles applied together: the pieces fit each other."""

testinfra_hosts = ["ansible://nodes"]


def test_containerd_finds_the_cni_plugins(host):
    dump = host.check_output("containerd config dump")
    assert 'bin_dir = "/opt/cni/bin"' in dump
    assert host.file("/opt/cni/bin/bridge").exists


def test_kubelet_and_runtime_agree_on_systemd_cgroups(host):
    assert "SystemdCgroup = true" in host.check_output("containerd config dump")
    assert host.service("containerd").is_running
    assert host.service("kubelet").is_enabled
