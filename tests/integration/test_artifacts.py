"""playbooks/artifacts.yml: the listing, pins keyed by version, and the check of pins against published checksums
(served here by a local HTTP server standing in for dl.k8s.io / GitHub releases)."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "playbooks" / "artifacts.yml"
GOOD = "a" * 64
OTHER = "b" * 64


@pytest.fixture
def published(tmp_path):
    """A local server publishing tool-amd64.sha256 (one value) and all.sha256sum (one line per file)."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "tool-amd64.sha256").write_text(f"{GOOD}\n")
    (root / "all.sha256sum").write_text(f"{OTHER}  tool.arm64\n{GOOD}  tool.amd64\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


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
