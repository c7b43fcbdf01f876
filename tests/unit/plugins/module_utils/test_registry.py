"""The OCI distribution client (registry.py) and the OCI layout transfer (registry_layout.py) against an in-memory
registry with a token service (fake_registry.py)."""

from __future__ import annotations

import json

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils import registry as reg
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.registry_layout import Layout, pull, push
from fake_registry import FakeRegistry, digest_of

REPO = "kube-apiserver"
ARCHES = ("amd64", "arm64", "s390x")


@pytest.fixture
def fake(fake_server):
    def _start(**options):
        return FakeRegistry(fake_server, **options)

    return _start


def seed(server, repo=REPO, tag="v1.37.1", media=reg.OCI_INDEX):
    """An index of one manifest per architecture, each with a config and a layer; returns the index digest."""
    entries = []
    for arch in ARCHES:
        config = server.add_blob(repo, json.dumps({"architecture": arch, "os": "linux"}).encode())
        layer = server.add_blob(repo, f"layer of {arch}".encode())
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": reg.OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 40},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": 14}],
            }
        ).encode()
        digest = server.add_manifest(repo, None, reg.OCI_MANIFEST, manifest)
        entries.append(
            {
                "mediaType": reg.OCI_MANIFEST,
                "digest": digest,
                "size": len(manifest),
                "platform": {"os": "linux", "architecture": arch},
            }
        )
    index = json.dumps({"schemaVersion": 2, "mediaType": media, "manifests": entries}).encode()
    return server.add_manifest(repo, tag, media, index)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("registry.k8s.io/pause:3.10.1", ("registry.k8s.io", "pause", "3.10.1", None)),
        ("registry.k8s.io/coredns/coredns:v1.12.1", ("registry.k8s.io", "coredns/coredns", "v1.12.1", None)),
        ("busybox", ("docker.io", "library/busybox", "latest", None)),
        ("calico/node:v3.30.0", ("docker.io", "calico/node", "v3.30.0", None)),
        ("localhost:5000/a/b@sha256:" + "a" * 64, ("localhost:5000", "a/b", None, "sha256:" + "a" * 64)),
    ],
)
def test_parse_reference(ref, expected):
    assert reg.parse_reference(ref) == expected


def test_parse_reference_refuses_bad_names():
    with pytest.raises(KubeforgeError, match="invalid repository name"):
        reg.parse_reference("registry.k8s.io/Pause:3")
    with pytest.raises(KubeforgeError, match="not a sha256 digest"):
        reg.parse_reference("registry.k8s.io/pause@sha256:abc")


def test_anonymous_token_flow_asks_once_per_scope(fake):
    server = fake()
    digest = seed(server)
    client = reg.Registry(server.host, plain_http=True)
    got, media, _body = client.manifest(REPO, "v1.37.1")
    assert (got, media) == (digest, reg.OCI_INDEX)
    client.manifest(REPO, "v1.37.1")
    token_requests = [r for r in server.requests if r[1].startswith("/token")]
    assert len(token_requests) == 1
    assert "scope=repository%3Akube-apiserver%3Apull" in token_requests[0][1]
    assert token_requests[0][2] is None  # anonymous: no credentials sent to the token service


def test_refused_credentials_name_the_user(fake):
    server = fake(users={"alice": "right"})
    client = reg.Registry(server.host, ("alice", "wrong"), plain_http=True)
    with pytest.raises(KubeforgeError, match=f"registry {server.host} refused the credentials of 'alice'"):
        client.check_access(REPO, push=True)


def test_a_manifest_that_does_not_hash_to_its_digest_is_refused(fake):
    server = fake()
    digest = seed(server)
    server.corrupt.add(digest)
    with pytest.raises(KubeforgeError, match="arrived with digest"):
        reg.Registry(server.host, plain_http=True).manifest(REPO, "v1.37.1")


def test_pull_keeps_the_chosen_platforms_and_rewrites_the_index(fake, tmp_path):
    server = fake()
    digest = seed(server)
    layout = Layout(str(tmp_path / "oci"))
    record = pull(
        reg.Registry(server.host, plain_http=True),
        (REPO, "v1.37.1"),
        layout,
        "r/kube-apiserver:v1.37.1",
        ["amd64", "arm64"],
    )
    assert record["digest"] == digest and record["bundle_digest"] != digest
    index = json.loads(layout.read(record["bundle_digest"]))
    assert [m["platform"]["architecture"] for m in index["manifests"]] == ["amd64", "arm64"]
    assert layout.has(digest)  # the upstream index is kept as fetched
    assert layout.blobs_of(record["bundle_digest"], reg.OCI_INDEX) is not None
    layout.save()
    saved = json.loads((tmp_path / "oci" / "index.json").read_text())["manifests"][0]
    assert saved["annotations"] == {
        "io.containerd.image.name": "r/kube-apiserver:v1.37.1",
        "org.opencontainers.image.ref.name": "v1.37.1",
    }


def test_pull_of_an_architecture_the_image_lacks_names_what_it_offers(fake, tmp_path):
    server = fake()
    seed(server)
    with pytest.raises(KubeforgeError, match=r"no linux/riscv64 manifest \(it offers amd64, arm64, s390x\)"):
        pull(reg.Registry(server.host, plain_http=True), (REPO, "v1.37.1"), Layout(str(tmp_path)), "x", ["riscv64"])


def test_a_corrupt_blob_is_not_written(fake, tmp_path):
    server = fake()
    seed(server)
    layer = next(d for (_r, d), data in server.blobs.items() if data == b"layer of amd64")
    server.corrupt.add(layer)
    layout = Layout(str(tmp_path))
    with pytest.raises(KubeforgeError, match=f"blob {REPO}@{layer} arrived with digest"):
        pull(reg.Registry(server.host, plain_http=True), (REPO, "v1.37.1"), layout, "x", ["amd64"])
    assert not layout.has(layer)
    assert not list((tmp_path / "blobs" / "sha256").glob("*.part"))


def test_blob_redirects_do_not_carry_the_registry_token(fake, tmp_path):
    server, storage = fake(), fake()
    seed(server)
    server.redirect = storage.url
    for (repo, digest), data in list(server.blobs.items()):
        storage.blobs[(repo, digest)] = data
    storage.server.handler = lambda method, path, headers, body: (200, {}, server.blobs[(REPO, path.rsplit("/", 1)[1])])
    pull(reg.Registry(server.host, plain_http=True), (REPO, "v1.37.1"), Layout(str(tmp_path)), "x", ["amd64"])
    assert storage.requests and all(auth is None for _m, _p, auth in storage.requests)


def test_tls_with_a_custom_ca(fake, pki, tmp_path):
    server = fake(ssl_context=pki.server_context())
    seed(server)
    assert reg.Registry(server.host, ca_file=str(pki.files["ca.crt"])).manifest(REPO, "v1.37.1")
    with pytest.raises(KubeforgeError, match="CERTIFICATE_VERIFY_FAILED"):
        reg.Registry(server.host).manifest(REPO, "v1.37.1")


@pytest.mark.parametrize("media", [reg.OCI_INDEX, reg.DOCKER_LIST])
def test_push_sends_children_first_and_a_second_push_sends_nothing(fake, tmp_path, media):
    upstream, target = fake(), fake(users={"pusher": "pw"})
    seed(upstream, media=media)
    layout = Layout(str(tmp_path))
    record = pull(reg.Registry(upstream.host, plain_http=True), (REPO, "v1.37.1"), layout, "x:v1.37.1", ["amd64"])
    client = reg.Registry(target.host, ("pusher", "pw"), plain_http=True)
    assert push(client, layout, "x:v1.37.1", ("mirror/kube-apiserver", "v1.37.1")) is True
    assert client.manifest("mirror/kube-apiserver", "v1.37.1")[0] == record["bundle_digest"]
    before = len(target.requests)
    assert push(client, layout, "x:v1.37.1", ("mirror/kube-apiserver", "v1.37.1")) is False
    assert {m for m, _p, _a in target.requests[before:]} == {"HEAD"}


def test_push_of_an_upload_with_the_wrong_digest_fails(fake, tmp_path):
    target = fake(users={"pusher": "pw"})
    client = reg.Registry(target.host, ("pusher", "pw"), plain_http=True)
    path = tmp_path / "blob"
    path.write_bytes(b"data")
    with pytest.raises(KubeforgeError, match="DIGEST_INVALID"):
        client.push_blob(REPO, digest_of(b"other"), str(path))
