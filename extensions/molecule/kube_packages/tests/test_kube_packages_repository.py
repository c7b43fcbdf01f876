"""Testinfra checks of kubeforge.cluster.kube_packages, repository method (kubenode-1).

pkgs.k8s.io is unreachable from this test machine, so the scenario sets the test-only switch
kube_packages_repository_skip_install: the keyring and deb822 source are real and apt must parse them, but no
package is installed. The key is a labelled test double served by the test mirror.
"""

testinfra_hosts = ["ansible://kubenode-1"]

REPO = "https://pkgs.k8s.io/core:/stable:/v1.37/deb/"


def test_source_rendered(host):
    source = host.file("/etc/apt/sources.list.d/kubernetes.sources").content_string
    assert f"URIs: {REPO}\n" in source
    assert "Signed-By: /etc/apt/keyrings/kubernetes-apt-keyring.asc\n" in source
    assert host.file("/etc/apt/keyrings/kubernetes-apt-keyring.asc").contains("BEGIN PGP PUBLIC KEY BLOCK")


def test_apt_sees_the_source(host):
    # --print-uris lists what `apt-get update` would fetch, without fetching: apt parsed the deb822 source.
    uris = [line.split()[0].strip("'") for line in host.check_output("apt-get update --print-uris").splitlines()]
    assert f"{REPO}InRelease" in uris


def test_switch_installed_nothing(host):
    for package in ("kubelet", "kubeadm", "kubectl"):
        assert not host.package(package).is_installed
