"""playbooks/artifacts.yml: the listing, pins keyed by version, and the check of pins against published checksums
(served here by a local HTTP server standing in for dl.k8s.io / GitHub releases)."""

from __future__ import annotations

import functools
import http.server
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "playbooks" / "artifacts.yml"
GOOD = "a" * 64
OTHER = "b" * 64


@pytest.fixture
def published(tmp_path, local_http_server):
    """A local server publishing tool-amd64.sha256 (one value) and all.sha256sum (one line per file)."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "tool-amd64.sha256").write_text(f"{GOOD}\n")
    (root / "all.sha256sum").write_text(f"{OTHER}  tool.arm64\n{GOOD}  tool.amd64\n")
    with local_http_server(functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))) as url:
        yield url


def _files(base, pins):
    return [
        {
            "name": "tool",
            "version": "v1",
            "url": "https://files.example/tool-{arch}",
            "published": f"{base}/tool-{{arch}}.sha256",
            "sha256": pins,
        },
        {
            "name": "multi",
            "version": "v1",
            "url": "https://files.example/tool.{arch}",
            "published": f"{base}/all.sha256sum",
            "sha256": pins,
        },
    ]


def _lines(run):
    return next(t for t in run.tasks if t.name == "Show what to mirror").result["msg"]


def test_listing_offline_uses_pins_of_the_current_version_only(ansible_playbook, published):
    pins = {"v1": {"amd64": GOOD}, "v0": {"arm64": OTHER}}
    run = ansible_playbook(
        PLAYBOOK,
        extra_vars={"artifacts_files": _files(published, pins), "artifacts_architectures": ["amd64", "arm64"]},
    )
    assert run.rc == 0, run.stdout
    lines = _lines(run)
    assert f"file  https://files.example/tool-amd64  sha256={GOOD}" in lines
    assert "file  https://files.example/tool-arm64  sha256=published checksum" in lines  # the v0 pin is not used
    assert any(line.startswith("image registry.k8s.io/kube-apiserver:") for line in lines)


def _fetch(ansible_playbook, published, pin):
    """Run the playbook fetching the published checksums, with ``pin`` as the amd64 pin of version v1."""
    extra = {"artifacts_files": _files(published, {"v1": {"amd64": pin}}), "artifacts_architectures": ["amd64"]}
    return ansible_playbook(PLAYBOOK, extra_vars=dict(extra, artifacts_fetch_checksums=True))


def test_fetched_checksums_fill_the_table_and_match_pins(ansible_playbook, published):
    run = _fetch(ansible_playbook, published, GOOD)
    assert run.rc == 0, run.stdout
    assert f"file  https://files.example/tool.amd64  sha256={GOOD}" in _lines(run)


def test_a_pin_that_differs_from_the_published_checksum_fails(ansible_playbook, published):
    run = _fetch(ansible_playbook, published, OTHER)
    assert run.rc != 0
    assert f"tool amd64: pinned sha256 {OTHER}" in run.stdout and f"differs from the published {GOOD}" in run.stdout


def test_default_table_lists_crictl_and_the_pause_tag_of_the_pinned_version(ansible_playbook):
    """crictl (issue 14 A2) per architecture, and the pause tag from the containerd role's table (B8)."""
    run = ansible_playbook(PLAYBOOK, extra_vars={"control_plane_kubernetes_version": "v1.33.2"})
    assert run.rc == 0, run.stdout
    lines = _lines(run)
    base = "https://github.com/kubernetes-sigs/cri-tools/releases/download/v1.37.0/crictl-v1.37.0-linux"
    assert any(line.startswith(f"file  {base}-amd64.tar.gz  ") for line in lines), lines
    assert any(line.startswith(f"file  {base}-arm64.tar.gz  ") for line in lines), lines
    # kubeadm 1.33's PauseVersion is 3.10 (cmd/kubeadm/app/constants/constants.go).
    assert "image registry.k8s.io/pause:3.10" in lines
    pinned = ansible_playbook(PLAYBOOK, extra_vars={"kube_packages_kubernetes_version": "1.35.1"})
    assert pinned.rc == 0, pinned.stdout
    assert any("crictl-v1.35.0-linux-amd64.tar.gz  sha256=2e141e5b" in line for line in _lines(pinned))
    assert "image registry.k8s.io/pause:3.10.1" in _lines(pinned)
