"""Unit tests of the containerd_supported test plugin and of the containerd role's support tables."""

import pathlib
import re

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.kubeforge.cluster.plugins.test import containerd_supported as plugin

containerd_supported = plugin.containerd_supported

ROOT = pathlib.Path(__file__).resolve().parents[4]
ROLE_VARS = yaml.safe_load((ROOT / "roles" / "containerd" / "vars" / "main.yml").read_text())
SUPPORT = ROLE_VARS["containerd_kubernetes_support"]
PAUSE = ROLE_VARS["containerd_pause_versions"]


def test_registered_under_its_name():
    assert plugin.TestModule().tests()["containerd_supported"] is containerd_supported


@pytest.mark.parametrize(
    ("version", "expected"),
    [("1.7.24", True), ("1.7.23", False), ("1.7.24~ds1", True), ("v2.1.9", True), ("2.0.9", False), ("1.6.20", False)],
)
def test_line_and_minimum(version, expected):
    assert containerd_supported(version, {"1.7": "1.7.24", "2.1": "2.1.0"}) is expected


def test_bad_version_is_named():
    with pytest.raises(AnsibleFilterError, match=re.escape("version 'latest' is not a MAJOR.MINOR.PATCH")):
        containerd_supported("latest", {"1.7": "1.7.0"})


# The distributions' packages (docs/test-hosts.md: bookworm 1.6.20, trixie 1.7.24; sid 2.1.9) against the table.
@pytest.mark.parametrize(
    ("minor", "version", "expected"),
    [
        ("1.28", "1.6.20", True),
        ("1.31", "1.6.20", False),  # 1.6.34+ (containerd RELEASES.md)
        ("1.33", "1.7.24", True),
        ("1.34", "1.7.24", False),  # 1.7.28+
        ("1.35", "1.7.28", True),
        ("1.36", "1.7.28", False),  # containerd 1.x ends with Kubernetes 1.35
        ("1.37", "2.1.9", True),
        ("1.37", "2.1.4", False),  # 2.1.5+
        ("1.22", "2.1.9", False),  # kubelet 1.22 speaks CRI v1alpha2 only, which containerd 2.x removed
    ],
)
def test_support_table(minor, version, expected):
    assert containerd_supported(version, SUPPORT[minor]) is expected


def test_release_default_supports_the_default_kubernetes_version():
    defaults = yaml.safe_load((ROOT / "roles" / "containerd" / "defaults" / "main.yml").read_text())
    kube = yaml.safe_load((ROOT / "roles" / "kube_packages" / "defaults" / "main.yml").read_text())
    minor = ".".join(kube["kube_packages_kubernetes_version"].split(".")[:2])
    assert containerd_supported(defaults["containerd_release_version"], SUPPORT[minor])


def test_pause_tags_follow_kubeadm_constants():
    # cmd/kubeadm/app/constants/constants.go PauseVersion per release branch.
    assert (PAUSE["1.30"], PAUSE["1.31"], PAUSE["1.33"], PAUSE["1.34"], PAUSE["1.35"]) == (
        "3.9",
        "3.10",
        "3.10",
        "3.10.1",
        "3.10.1",
    )
    assert list(PAUSE) == list(SUPPORT), "both tables cover the same Kubernetes minors"


def test_artifact_table_lists_the_pause_tag_of_the_pinned_version():
    artifacts = (ROOT / "playbooks" / "vars" / "artifacts.yml").read_text()
    assert "containerd_pause_versions" in artifacts, "the artifact table derives the pause tag from the role's table"
