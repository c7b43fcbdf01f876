"""Testinfra checks of kubeforge.cluster.kube_packages, repository method (kubenode-1), and of cni_plugins after it.

The test mirror serves a signed apt repository laid out like pkgs.k8s.io (extensions/molecule/shared/files/
pkgs-repo.sh): apt verifies it with the key the role downloaded from the repository, installs the pinned packages and
their dependencies (kubelet -> kubernetes-cni, kubeadm -> cri-tools), as on a real host.
"""

testinfra_hosts = ["ansible://kubenode-1"]

REPO = "http://kf-mirror:8080/pkgs/core:/stable:/v1.37/deb/"
VERSION = "1.37.1"


def test_source_rendered_and_signed(host):
    source = host.file("/etc/apt/sources.list.d/kubernetes.sources").content_string
    assert f"URIs: {REPO}\n" in source
    assert "Signed-By: /etc/apt/keyrings/kubernetes-apt-keyring.asc\n" in source
    assert host.file("/etc/apt/keyrings/kubernetes-apt-keyring.asc").contains("BEGIN PGP PUBLIC KEY BLOCK")
    # apt accepted the repository's signature: its InRelease is in the lists.
    lists = host.check_output("ls /var/lib/apt/lists").split()
    assert any(name.startswith("kf-mirror") and name.endswith("v1.37_deb_InRelease") for name in lists), lists


def test_pinned_packages_installed_and_held(host):
    for package in ("kubelet", "kubeadm", "kubectl"):
        assert host.package(package).is_installed
        assert host.package(package).version == f"{VERSION}-1.1"
    held = host.check_output("apt-mark showhold").split()
    assert sorted(held) == ["kubeadm", "kubectl", "kubelet"]
    assert host.check_output("kubeadm version -o short") == f"v{VERSION}"
    assert f"Client Version: v{VERSION}" in host.check_output("kubectl version --client")
    assert host.service("kubelet").is_enabled


def test_dependencies_came_with_them(host):
    assert host.package("kubernetes-cni").is_installed
    assert host.package("cri-tools").is_installed
    assert host.check_output("crictl --version") == "crictl version v1.37.0"


def test_kubernetes_cni_files_kept_and_missing_plugins_linked(host):
    """Issue 14 B1: kubernetes-cni's regular files stay; cni_plugins links only what is missing."""
    owned = set(host.check_output("dpkg -L kubernetes-cni | grep '^/opt/cni/bin/.'").split())
    assert "/opt/cni/bin/bridge" in owned
    for path in owned:
        plugin = host.file(path)
        assert plugin.is_file and not plugin.is_symlink, path
    for name in host.check_output("ls /usr/lib/cni").split():
        plugin = host.file(f"/opt/cni/bin/{name}")
        assert plugin.exists, name
        assert plugin.is_symlink == (plugin.path not in owned), name
    out = host.check_output("CNI_COMMAND=VERSION /opt/cni/bin/bridge </dev/null")
    assert '"supportedVersions"' in out
