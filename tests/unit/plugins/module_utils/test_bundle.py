"""bundle.py helpers: published checksum formats, URL rewrites, the rows of the artifact table, SHA256SUMS."""

from __future__ import annotations

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils import bundle
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError

SHA = "a" * 64
OTHER = "b" * 64


def test_published_checksum_formats():
    assert bundle.published_sha256(f"{SHA}\n", "kubeadm", "u") == SHA  # dl.k8s.io: a lone value
    text = f"{OTHER}  runc.arm64\n{SHA} *runc.amd64\n"  # GitHub sha256sum files, text and binary mode
    assert bundle.published_sha256(text, "runc.amd64", "u") == SHA
    with pytest.raises(KubeforgeError, match=r"published checksum u has no line for runc\.s390x"):
        bundle.published_sha256(text, "runc.s390x", "u")


def test_rewrite_takes_the_longest_prefix():
    sources = {"https://github.com": "http://proxy/gh", "https://github.com/containerd": "http://proxy/ctrd"}
    assert bundle.rewrite("https://github.com/containerd/x", sources) == "http://proxy/ctrd/x"
    assert bundle.rewrite("https://dl.k8s.io/x", sources) == "https://dl.k8s.io/x"


def test_rows_use_pins_of_their_own_version_only():
    spec = {
        "name": "runc",
        "version": "1.3.0",
        "url": "https://github.com/opencontainers/runc/releases/download/v1.3.0/runc.{arch}",
        "published": "https://github.com/opencontainers/runc/releases/download/v1.3.0/runc.sha256sum",
        "sha256": {"1.3.0": {"amd64": SHA}, "1.2.0": {"arm64": OTHER}},
    }
    rows = bundle.file_rows([spec], ["amd64", "arm64"])
    assert [(r["arch"], r["pinned"]) for r in rows] == [("amd64", SHA), ("arm64", "")]
    assert rows[0]["path"] == "files/opencontainers/runc/releases/download/v1.3.0/runc.amd64"
    assert rows[0]["checksum_file"] == "files/opencontainers/runc/releases/download/v1.3.0/runc.sha256sum"


def test_unknown_architectures_are_refused():
    with pytest.raises(KubeforgeError, match="architectures: unknown 'x86_64'"):
        bundle.check_architectures(["amd64", "x86_64"])


def test_verify_names_the_changed_file(tmp_path):
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "a").write_bytes(b"one")
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "SHA256SUMS").write_bytes(bundle.sums_text(str(tmp_path)))
    assert bundle.verify(str(tmp_path)) == {}
    (tmp_path / "files" / "a").write_bytes(b"One")
    with pytest.raises(KubeforgeError, match=r"files/a has sha256 .* SHA256SUMS says"):
        bundle.verify(str(tmp_path))
