"""playbooks/bundle.yml and bundle_import.yml end to end against the real distribution server (Debian's
docker-registry) and a local file server standing in for dl.k8s.io and GitHub releases.

One stand-in "upstream" registry holds test images under the names the cluster needs; a second docker-registry,
behind htpasswd Basic auth, is the user's registry on the disconnected side.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils.registry import Registry, parse_reference
from standins import REPO, StandIns
from standins import Registry as RegistryServer

_spec = importlib.util.spec_from_file_location("integration_runner", Path(__file__).parents[1] / "conftest.py")
runner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runner)

BUNDLE = REPO / "playbooks" / "bundle.yml"
IMPORT = REPO / "playbooks" / "bundle_import.yml"
ARCHES = ["amd64", "arm64"]
USER, PASSWORD = "pusher", "s3cret-test-password"


@pytest.fixture(scope="module")
def standins(tmp_path_factory):
    servers = StandIns(tmp_path_factory.mktemp("standins"), architectures=ARCHES)
    yield servers
    servers.stop()


@pytest.fixture(scope="module")
def built(standins, tmp_path_factory):
    """A bundle built once for the module: (bundle dir, first run, second run)."""
    work = tmp_path_factory.mktemp("bundle")
    bundle = work / "kubeforge-bundle"
    extra = dict(standins.extra_vars(bundle, ARCHES), bundle_tarball=str(work / "bundle.tar"))
    first = runner.run_playbook(BUNDLE, work, extra_vars=extra)
    before = len(standins.upstream_requests())
    second = runner.run_playbook(BUNDLE, work, extra_vars=extra)
    return bundle, first, second, standins.upstream_requests()[before:]


@pytest.fixture(scope="module")
def user_registry(tmp_path_factory):
    server = RegistryServer(tmp_path_factory.mktemp("user-registry"), users={USER: PASSWORD})
    yield server
    server.stop()


def _manifest(bundle):
    return json.loads((bundle / "manifest.json").read_text())


def test_bundle_holds_every_file_and_image_verified(built, standins):
    bundle, first, _second, _requests = built
    assert first.rc == 0, first.stdout
    manifest = _manifest(bundle)
    assert {(f["name"], f["arch"]) for f in manifest["files"]} == {
        (f["name"], arch) for f in standins.files for arch in ARCHES
    }
    kubeadm = next(f for f in manifest["files"] if f["name"] == "kubeadm" and f["arch"] == "arm64")
    assert kubeadm["path"] == "files/release/v1.37.1/bin/linux/arm64/kubeadm"
    assert (bundle / "files/release/v1.37.1/bin/linux/arm64/kubeadm.sha256").read_text().split()[0] == kubeadm["sha256"]
    assert kubeadm["checked_against"].endswith("/kubeadm.sha256")
    runc_sums = (bundle / "files/opencontainers/runc/releases/download/v1.3.0/runc.sha256sum").read_text()
    assert "runc.amd64" in runc_sums and "runc.arm64" in runc_sums
    assert sorted(i["name"] for i in manifest["images"]) == sorted(standins.images)
    for image in manifest["images"]:
        assert image["digest"] == standins.digests[image["name"]]  # the upstream digest, resolved once
        assert image["bundle_digest"] != image["digest"]  # s390x dropped: a new index of amd64 + arm64
    index = json.loads((bundle / "images" / "index.json").read_text())
    assert len(index["manifests"]) == len(standins.images)
    sums = (bundle / "SHA256SUMS").read_text()
    assert "  manifest.json\n" in sums and "  images/index.json\n" in sums
    assert (bundle.parent / "bundle.tar").stat().st_size > manifest["size"]


def test_bundle_size_is_computed_from_the_manifest(built):
    bundle, first, _second, _requests = built
    manifest = _manifest(bundle)
    blobs = {digest: size for image in manifest["images"] for digest, size in image["blobs"].items()}
    total = sum(f["size"] for f in manifest["files"]) + sum(blobs.values())
    on_disk = sum(p.stat().st_size for p in (bundle / "images/blobs/sha256").iterdir())
    assert sum(blobs.values()) <= on_disk  # the layout also keeps each upstream index as fetched
    assert manifest["size"] == total
    assert f"bundle {bundle}: {total} bytes" in first.task("Show the bundle").msg


def test_second_bundle_run_downloads_nothing(built):
    _bundle, first, second, requests = built
    assert len(first.task("Download and verify every file and image").result["fetched"]) > 0
    assert second.rc == 0, second.stdout
    assert not second.task("Download and verify every file and image").changed
    assert requests == []  # neither stand-in saw a single request


def test_unknown_architecture_is_refused_before_anything(standins, ansible_playbook, tmp_path):
    bundle = tmp_path / "b"
    run = ansible_playbook(BUNDLE, extra_vars=standins.extra_vars(bundle, ["amd64", "x86"]))
    assert run.rc != 0
    assert "architectures: unknown 'x86'" in run.stdout
    assert not bundle.exists()


def test_a_file_that_differs_from_its_pin_is_not_written(standins, ansible_playbook, tmp_path):
    extra = standins.extra_vars(tmp_path / "b", ["amd64"])
    version = standins.files[0]["version"]  # kubeadm, v1.37.1
    extra["artifacts_files"] = [dict(extra["artifacts_files"][0], sha256={version: {"amd64": "0" * 64}})]
    run = ansible_playbook(BUNDLE, extra_vars=extra)
    assert run.rc != 0
    assert "differs from the pinned " + "0" * 64 in run.stdout
    assert not (tmp_path / "b/files/release/v1.37.1/bin/linux/amd64/kubeadm").exists()


def _copy(bundle, tmp_path):
    copy = tmp_path / "kubeforge-bundle"
    shutil.copytree(bundle, copy)
    return copy


def _import_vars(bundle, registry, tmp_path, **extra):
    return dict(
        {
            "bundle_dir": str(bundle),
            "bundle_import_registry": f"{registry.host}/mirror",
            "bundle_import_registry_plain_http": True,
            "bundle_import_registry_username": USER,
            "bundle_import_registry_password": PASSWORD,
            "bundle_import_file_dir": str(tmp_path / "www"),
            "bundle_import_file_url": "http://files.example/k8s",
            "bundle_import_vars_file": str(tmp_path / "site-vars.yml"),
        },
        **extra,
    )


def test_import_pushes_to_the_registry_and_a_second_run_changes_nothing(
    built, user_registry, ansible_playbook, tmp_path
):
    bundle = _copy(built[0], tmp_path)
    extra = _import_vars(bundle, user_registry, tmp_path)
    first = ansible_playbook(IMPORT, extra_vars=extra)
    assert first.rc == 0, first.stdout
    assert first.task("Push the images to the registry").changed
    client = Registry(user_registry.host, (USER, PASSWORD), plain_http=True)
    for image in _manifest(bundle)["images"]:
        _host, repo, tag, _digest = parse_reference(image["name"])
        repo = "coredns" if repo == "coredns/coredns" else repo  # kubeadm's name with a custom imageRepository
        digest, _media, _body = client.manifest(f"mirror/{repo}", tag)
        assert digest == image["bundle_digest"]
    assert (tmp_path / "www/release/v1.37.1/bin/linux/amd64/kubelet.sha256").is_file()
    site = (tmp_path / "site-vars.yml").read_text()
    assert f"control_plane_image_repository: {user_registry.host}/mirror" in site
    assert "kube_packages_mirror_url: http://files.example/k8s\n" in site
    assert "containerd_release_mirror: http://files.example/k8s/containerd/containerd/releases/download" in site
    assert f"containerd_sandbox_image: {user_registry.host}/mirror/pause:" in site
    assert PASSWORD not in first.output
    pushes = [r for r in user_registry.requests() if r.startswith(("PUT", "POST", "PATCH"))]

    second = ansible_playbook(IMPORT, extra_vars=extra)
    assert second.rc == 0, second.stdout
    assert [t.name for t in second.tasks if t.changed] == []
    assert [r for r in user_registry.requests() if r.startswith(("PUT", "POST", "PATCH"))] == pushes


@pytest.mark.parametrize("what", ["file", "blob"])
def test_one_flipped_byte_refuses_the_bundle_before_anything_is_pushed(
    built, user_registry, ansible_playbook, tmp_path, what
):
    bundle = _copy(built[0], tmp_path)
    manifest = _manifest(bundle)
    if what == "file":
        rel = next(f["path"] for f in manifest["files"] if f["name"] == "kubelet")
    else:
        rel = "images/blobs/sha256/" + manifest["images"][0]["bundle_digest"].split(":", 1)[1]
    data = bytearray((bundle / rel).read_bytes())
    data[len(data) // 2] ^= 0x01
    (bundle / rel).write_bytes(bytes(data))
    before = list(user_registry.requests())
    run = ansible_playbook(IMPORT, extra_vars=_import_vars(bundle, user_registry, tmp_path))
    assert run.rc != 0
    assert f"{rel} has sha256" in run.stdout and "the bundle is refused" in run.stdout
    assert user_registry.requests() == before
    assert not (tmp_path / "www").exists()


def test_a_bundle_missing_files_is_refused_naming_them(built, user_registry, ansible_playbook, tmp_path):
    bundle = _copy(built[0], tmp_path)
    rel = next(f["path"] for f in _manifest(bundle)["files"] if f["name"] == "kubectl")
    (bundle / rel).unlink()
    run = ansible_playbook(IMPORT, extra_vars=_import_vars(bundle, user_registry, tmp_path))
    assert run.rc != 0
    assert f"is missing 1 file(s) listed in SHA256SUMS: {rel}" in run.stdout
    assert not (tmp_path / "www").exists()


def test_refused_credentials_stop_before_anything_is_pushed(built, user_registry, ansible_playbook, tmp_path):
    bundle = _copy(built[0], tmp_path)
    before = list(user_registry.requests())
    extra = _import_vars(bundle, user_registry, tmp_path, bundle_import_registry_password="wrong-password")
    run = ansible_playbook(IMPORT, extra_vars=extra)
    assert run.rc != 0
    assert f"registry {user_registry.host} refused the credentials of '{USER}'" in run.stdout
    assert not [r for r in user_registry.requests()[len(before) :] if not r.startswith("HEAD")]
    assert not (tmp_path / "www").exists()
    assert "wrong-password" not in run.output


@pytest.fixture
def containerd(tmp_path):
    """A private instance of Debian's containerd (CRI off) on its own socket; ctr finds it via CONTAINERD_ADDRESS.

    The sockets live in a short directory of their own: a unix socket path holds at most 104 bytes here and
    containerd also listens on ``<address>.ttrpc``, so under pytest's tmp_path (``/tmp/pytest-of-root/pytest-NNN/
    popen-gwN/<test name>/...``) it failed with "unix socket path too long (> 104)" once the run counter had three
    digits. A containerd that exits fails the fixture at once, with its last log lines."""
    root = tmp_path / "containerd"
    root.mkdir()
    sockets = Path(tempfile.mkdtemp(prefix="kf-ctrd-"))
    socket = sockets / "c.sock"
    config = root / "config.toml"
    config.write_text(
        f'version = 2\nroot = "{root}/root"\nstate = "{root}/state"\n'
        f'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "{socket}"\n'
    )
    log_path = root / "log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(["/usr/bin/containerd", "--config", str(config)], stdout=log, stderr=log)
    env = {"CONTAINERD_ADDRESS": str(socket), "CONTAINERD_SNAPSHOTTER": "native"}
    try:
        for _attempt in range(100):
            if proc.poll() is not None:
                pytest.fail("containerd exited: " + " | ".join(log_path.read_text().splitlines()[-3:]))
            version = ["ctr", "--connect-timeout", "2s", "version"]
            if subprocess.run(version, env=dict(os.environ, **env), capture_output=True, check=False).returncode == 0:
                break
            time.sleep(0.1)
        else:
            pytest.fail("containerd did not answer ctr version: " + " | ".join(log_path.read_text().splitlines()[-3:]))
        yield env
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(sockets, ignore_errors=True)


def test_import_into_containerd_without_a_registry(built, containerd, ansible_playbook, tmp_path):
    """Mode (b) on localhost as the only node, against the real containerd 1.6 and its ctr."""
    bundle = _copy(built[0], tmp_path)
    extra = {
        "bundle_dir": str(bundle),
        "bundle_import_node_dir": str(tmp_path / "node"),
        "bundle_import_vars_file": str(tmp_path / "site-vars.yml"),
    }
    first = ansible_playbook(IMPORT, extra_vars=extra, groups=["nodes"], env=containerd)
    assert first.rc == 0, first.stdout
    assert first.task("Import the images containerd lacks").changed
    listing = subprocess.run(
        ["ctr", "-n", "k8s.io", "images", "ls"],
        env=dict(os.environ, **containerd),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for image in _manifest(bundle)["images"]:
        assert re.search(rf"^{re.escape(image['name'])}\s+\S+\s+{image['bundle_digest']}\s", listing, re.M), listing
    assert (tmp_path / "node/files/release/v1.37.1/bin/linux/arm64/kubeadm").is_file()
    site = (tmp_path / "site-vars.yml").read_text()
    assert f"kube_packages_mirror_url: file://{tmp_path}/node/files\n" in site
    assert "containerd_sandbox_image: registry.k8s.io/pause:" in site

    second = ansible_playbook(IMPORT, extra_vars=extra, groups=["nodes"], env=containerd)
    assert second.rc == 0, second.stdout
    assert [t.name for t in second.tasks if t.changed] == []


def test_check_mode_reports_what_would_be_fetched_and_writes_nothing(built, standins, ansible_playbook, tmp_path):
    fresh = ansible_playbook(BUNDLE, extra_vars=standins.extra_vars(tmp_path / "new", ARCHES), check=True)
    assert fresh.rc == 0, fresh.stdout
    assert fresh.task("Download and verify every file and image").changed
    assert not (tmp_path / "new").exists()
    complete = ansible_playbook(BUNDLE, extra_vars=standins.extra_vars(built[0], ARCHES), check=True)
    assert complete.rc == 0, complete.stdout
    assert complete.task("Download and verify every file and image").result["fetched"] == []


def test_defaults_built_from_other_variables_follow_the_inventory(standins, ansible_playbook, tmp_path):
    """kube_packages_crictl_version is a default templated from kube_packages_kubernetes_version: the bundle takes it
    from the value the inventory (here -e) sets, as the role would."""
    extra = dict(standins.extra_vars(tmp_path / "new", ["amd64"]), kube_packages_kubernetes_version="1.36.2")
    run = ansible_playbook(BUNDLE, extra_vars=extra, check=True)
    assert run.rc == 0, run.stdout
    crictl = [u for u in run.task("Download and verify every file and image").result["fetched"] if "crictl" in u]
    assert crictl == [
        "https://github.com/kubernetes-sigs/cri-tools/releases/download/v1.36.0/crictl-v1.36.0-linux-amd64.tar.gz"
    ]
