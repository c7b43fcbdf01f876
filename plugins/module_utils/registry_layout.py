# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Images on disk in the OCI image layout (opencontainers/image-spec image-layout.md), and their transfer.

``<root>/oci-layout`` ({"imageLayoutVersion": "1.0.0"}), ``<root>/index.json`` (one descriptor per image) and
``<root>/blobs/sha256/<hex>``. Each image descriptor carries ``io.containerd.image.name`` (the full reference, the
name ``ctr images import`` gives the image: containerd images/archive importer reads it before
``org.opencontainers.image.ref.name``) and ``org.opencontainers.image.ref.name`` (the tag, as the image spec asks).

``pull`` resolves a reference once, keeps the linux manifests of the chosen architectures (an index listing more
platforms is rewritten to list only those, because a registry refuses an index whose manifests it does not hold:
distribution's manifest list handler verifies every reference), and stores every blob after checking its digest.
``push`` sends an image of the layout to a registry: blobs it lacks, manifests by digest, then the tag.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.registry import (
    INDEX_TYPES,
    OCI_INDEX,
    Registry,
    check_digest,
    sha256_digest,
)

IMAGE_NAME = "io.containerd.image.name"
REF_NAME = "org.opencontainers.image.ref.name"


def write_atomic(path: str, data: bytes) -> bool:
    """Write ``data`` to ``path`` through a temporary file; returns False when the file already held it."""
    if os.path.isfile(path):
        with open(path, "rb") as current:
            if current.read() == data:
                return False
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path + ".part", "wb") as out:
        out.write(data)
    os.replace(path + ".part", path)
    return True


def canonical_json(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()


class Layout:
    """An OCI image layout directory."""

    def __init__(self, root: str) -> None:
        self.root = root
        path = os.path.join(root, "index.json")
        self.index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                self.index = json.load(handle)

    def blob_path(self, digest: str) -> str:
        check_digest(digest, "blob")
        return os.path.join(self.root, "blobs", "sha256", digest.split(":", 1)[1])

    def has(self, digest: str) -> bool:
        return os.path.isfile(self.blob_path(digest))

    def read(self, digest: str) -> bytes:
        with open(self.blob_path(digest), "rb") as handle:
            data = handle.read()
        if sha256_digest(data) != digest:
            raise KubeforgeError(f"OCI layout {self.root}: blob {digest} does not match its digest")
        return data

    def put(self, data: bytes) -> str:
        digest = sha256_digest(data)
        write_atomic(self.blob_path(digest), data)
        return digest

    def image(self, name: str) -> dict | None:
        return next((d for d in self.index["manifests"] if d.get("annotations", {}).get(IMAGE_NAME) == name), None)

    def set_image(self, name: str, tag: str, descriptor: dict) -> None:
        annotations = {IMAGE_NAME: name, REF_NAME: tag} if tag else {IMAGE_NAME: name}
        entry = dict(descriptor, annotations=annotations)
        others = [d for d in self.index["manifests"] if d.get("annotations", {}).get(IMAGE_NAME) != name]
        self.index["manifests"] = sorted([*others, entry], key=lambda d: d["annotations"][IMAGE_NAME])

    def save(self) -> bool:
        """Write oci-layout and index.json; returns True when either changed."""
        layout = write_atomic(os.path.join(self.root, "oci-layout"), canonical_json({"imageLayoutVersion": "1.0.0"}))
        return write_atomic(os.path.join(self.root, "index.json"), canonical_json(self.index)) or layout

    def children(self, digest: str, media_type: str) -> list:
        """The manifests an image descriptor points at: itself, or the entries of its index (all must be present)."""
        if media_type not in INDEX_TYPES:
            return [(digest, media_type)]
        return [(d["digest"], d["mediaType"]) for d in json.loads(self.read(digest))["manifests"]]

    def blobs_of(self, digest: str, media_type: str) -> list | None:
        """Every digest an image needs (manifests, configs, layers), or None when one is missing."""
        needed = [digest]
        for child, _media in self.children(digest, media_type) if self.has(digest) else []:
            if not self.has(child):
                return None
            manifest = json.loads(self.read(child))
            needed += [child, manifest["config"]["digest"]] + [layer["digest"] for layer in manifest["layers"]]
        return needed if all(self.has(d) for d in needed) else None


def _platform_arch(platform):
    return platform.get("architecture") if (platform or {}).get("os") == "linux" else None


def _select(name, index, architectures):
    """The index entries for the chosen architectures, one per architecture, in the index's order."""
    by_arch = {}
    for entry in index.get("manifests", []):
        arch = _platform_arch(entry.get("platform"))
        if arch in architectures and arch not in by_arch:
            by_arch[arch] = entry
    missing = [arch for arch in architectures if arch not in by_arch]
    if missing:
        offered = sorted({_platform_arch(e.get("platform")) or "?" for e in index.get("manifests", [])})
        raise KubeforgeError(
            f"image {name}: no linux/{', linux/'.join(missing)} manifest (it offers {', '.join(offered)})"
        )
    return [entry for entry in index["manifests"] if entry in by_arch.values()]


def pull(registry: Registry, source: tuple, layout: Layout, name: str, architectures: list) -> dict:
    """Fetch ``source`` ((repository, tag or digest)) into ``layout`` as image ``name``; returns its manifest record."""
    repo, reference = source
    digest, media, body = registry.manifest(repo, reference)
    layout.put(body)
    top_media, top_body, manifests = media, body, [(digest, media, body)]
    if media in INDEX_TYPES:
        index = json.loads(body)
        chosen = _select(name, index, architectures)
        if len(chosen) != len(index["manifests"]):
            top_body = canonical_json(dict(index, manifests=chosen))
        manifests = [(e["digest"], e["mediaType"], registry.manifest(repo, e["digest"])[2]) for e in chosen]
    blobs = {}
    for child_digest, _media, child_body in manifests:
        layout.put(child_body)
        blobs[child_digest] = len(child_body)
        manifest = json.loads(child_body)
        for blob in [manifest["config"], *manifest["layers"]]:
            if not layout.has(blob["digest"]):
                registry.download_blob(repo, blob["digest"], layout.blob_path(blob["digest"]))
            blobs[blob["digest"]] = blob["size"]
        if media not in INDEX_TYPES:
            _check_platform(name, json.loads(layout.read(manifest["config"]["digest"])), architectures)
    bundle_digest = layout.put(top_body)
    blobs[bundle_digest] = len(top_body)
    tag = reference if not reference.startswith("sha256:") else None
    layout.set_image(name, tag, {"mediaType": top_media, "digest": bundle_digest, "size": len(top_body)})
    return {
        "name": name,
        "digest": digest,
        "bundle_digest": bundle_digest,
        "media_type": top_media,
        "architectures": list(architectures),
        "size": sum(blobs.values()),
        "blobs": dict(sorted(blobs.items())),
    }


def _check_platform(name, config, architectures):
    if config.get("os") != "linux" or config.get("architecture") not in architectures:
        raise KubeforgeError(
            f"image {name} is a single {config.get('os')}/{config.get('architecture')} image, not one of "
            f"linux/{', linux/'.join(architectures)}"
        )


def push(registry: Registry, layout: Layout, name: str, target: tuple, check_mode: bool = False) -> bool:
    """Send image ``name`` of ``layout`` to ``target`` ((repository, tag)); True when anything was (would be) sent."""
    repo, tag = target
    descriptor = layout.image(name)
    if descriptor is None:
        raise KubeforgeError(f"OCI layout {layout.root} holds no image {name}")
    digest, media = descriptor["digest"], descriptor["mediaType"]
    if registry.has_manifest(repo, tag, digest):
        return False
    if check_mode:
        return True
    for child, child_media in layout.children(digest, media):
        manifest = json.loads(layout.read(child))
        for blob in [manifest["config"]] + manifest["layers"]:
            registry.push_blob(repo, blob["digest"], layout.blob_path(blob["digest"]))
        if child != digest and not registry.has_manifest(repo, child, child):
            registry.put_manifest(repo, child, child_media, layout.read(child))
    registry.put_manifest(repo, tag, media, layout.read(digest))
    return True
