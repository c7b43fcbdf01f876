# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The offline bundle: one directory with every file and image a cluster downloads, verified, listed and summed.

Layout (docs/offline.md)::

    files/<URL path>       each file at its upstream URL's path (release/v1.37.1/bin/linux/amd64/kubeadm,
                           containerd/containerd/releases/download/v2.1.4/...), with the checksum file the roles'
                           mirror method reads next to it (kubeadm.sha256, runc.sha256sum, ...): "<sha256>  <name>"
    images/                OCI image layout of every image (registry_layout.py)
    manifest.json          what, which version, where from, sha256 / digest, size
    SHA256SUMS             sha256 of every other file, as `sha256sum -c` reads it

A file is written only after its bytes matched the pinned sha256 or the published checksum; an image only after each
blob matched its digest. What the bundle already holds, as its manifest records it, is not fetched again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import tarfile
import urllib.parse
from collections.abc import Callable

from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.registry import Registry, parse_reference
from ansible_collections.kubeforge.cluster.plugins.module_utils.registry_layout import (
    Layout,
    canonical_json,
    pull,
    write_atomic,
)

# GOARCH names Kubernetes, containerd and the registries publish linux builds for.
ARCHITECTURES = ("amd64", "arm64", "arm", "ppc64le", "s390x", "riscv64")
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
CHUNK = 1 << 20


def file_sha256(path: str) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            sha.update(chunk)
    return sha.hexdigest()


def check_architectures(architectures: list) -> None:
    unknown = [arch for arch in architectures if arch not in ARCHITECTURES]
    if unknown or not architectures:
        raise KubeforgeError(
            f"architectures: unknown {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"choose from {', '.join(ARCHITECTURES)}. Nothing was downloaded."
        )


def rewrite(url: str, sources: dict) -> str:
    """``url`` with its longest prefix found in ``sources`` ({upstream prefix: replacement}) replaced."""
    for prefix in sorted(sources or {}, key=len, reverse=True):
        if url.startswith(prefix):
            return sources[prefix] + url[len(prefix) :]
    return url


def published_sha256(text: str, filename: str, url: str) -> str:
    """The sha256 of ``filename`` in a published checksum file: a lone value, or its "<sha256>  <name>" line."""
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if len(lines) == 1 and len(lines[0]) == 1:
        return lines[0][0].lower()
    for fields in lines:
        if len(fields) > 1 and fields[1].lstrip("*").lstrip("./") == filename:
            return fields[0].lower()
    raise KubeforgeError(f"published checksum {url} has no line for {filename}")


def file_rows(files: list, architectures: list) -> list:
    """One row per file of the artifact table and architecture."""
    rows = []
    for spec in files:
        for arch in architectures:
            url = spec["url"].replace("{arch}", arch)
            path = urllib.parse.urlsplit(url).path.lstrip("/")
            if not path or ".." in path.split("/"):
                raise KubeforgeError(f"files: {spec.get('name')}: URL {url} has no usable path")
            published = spec.get("published", "").replace("{arch}", arch)
            pins = (spec.get("sha256") or {}).get(str(spec.get("version")), {}) or {}
            rows.append(
                {
                    "name": spec["name"],
                    "version": str(spec.get("version", "")),
                    "arch": arch,
                    "source": url,
                    "path": "files/" + path,
                    "published": published,
                    "pinned": (pins.get(arch) or "").lower(),
                    "checksum_file": posixpath.join(
                        posixpath.dirname("files/" + path), posixpath.basename(urllib.parse.urlsplit(published).path)
                    )
                    if published
                    else "",
                }
            )
    return rows


class Fetcher:
    """Downloads for one bundle run: files through ``sources`` rewrites, images through ``endpoints``."""

    def __init__(self, root: str, params: dict, open_url: Callable) -> None:
        self.root = root
        self.sources = params.get("file_sources") or {}
        self.endpoints = params.get("registry_endpoints") or {}
        self.ca_file = params.get("ca_file")
        self.open_url = open_url
        self.checksums = {}
        self.registries = {}
        self.fetched = []

    def _get(self, url):
        try:
            return self.open_url(rewrite(url, self.sources), timeout=120)
        except Exception as exc:  # the URL layer raises several types; the message names the URL
            raise KubeforgeError(f"download of {url} failed: {exc}") from None

    def expected(self, row: dict) -> tuple:
        if row["pinned"]:
            return row["pinned"], "pinned"
        if not row["published"]:
            raise KubeforgeError(f"files: {row['name']} {row['arch']}: no pinned sha256 and no published checksum URL")
        if row["published"] not in self.checksums:
            with self._get(row["published"]) as response:
                self.checksums[row["published"]] = response.read().decode("utf-8", "replace")
        filename = posixpath.basename(row["path"])
        return published_sha256(self.checksums[row["published"]], filename, row["published"]), row["published"]

    def file(self, row: dict) -> dict:
        """Download ``row`` into the bundle, verified before it is renamed into place; returns its record."""
        sha, origin = self.expected(row)
        dest = os.path.join(self.root, row["path"])
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with self._get(row["source"]) as response, open(dest + ".part", "wb") as out:
            for chunk in iter(lambda: response.read(CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha:
            os.unlink(dest + ".part")
            raise KubeforgeError(
                f"{row['name']} {row['arch']} ({row['source']}): sha256 {digest.hexdigest()} differs from the "
                f"{'pinned' if origin == 'pinned' else 'published'} {sha}; the file was not written"
            )
        os.replace(dest + ".part", dest)
        self.fetched.append(row["source"])
        return self.record(row, sha, size, origin)

    @staticmethod
    def record(row: dict, sha: str, size: int, origin: str) -> dict:
        keys = ("name", "version", "arch", "source", "path", "checksum_file")
        return dict({k: row[k] for k in keys}, sha256=sha, size=size, checked_against=origin)

    def registry(self, host: str) -> Registry:
        if host not in self.registries:
            endpoint = urllib.parse.urlsplit(self.endpoints.get(host) or f"https://{host}")
            self.registries[host] = Registry(
                endpoint.netloc, ca_file=self.ca_file, plain_http=endpoint.scheme == "http"
            )
        return self.registries[host]

    def image(self, name: str, layout: Layout, architectures: list) -> dict:
        host, repo, tag, digest = parse_reference(name)
        record = pull(self.registry(host), (repo, digest or tag), layout, name, architectures)
        self.fetched.append(name)
        return dict(record, source=name)


def _load(path):
    if not os.path.isfile(path):
        return {}
    with open(path, "rb") as handle:
        return json.load(handle)


def _file_current(root, row, previous):
    """The previous record of ``row`` when the bundle's copy still matches it (and the pin): nothing to fetch."""
    if not previous or (row["pinned"] and previous["sha256"] != row["pinned"]):
        return None
    path = os.path.join(root, row["path"])
    return previous if os.path.isfile(path) and file_sha256(path) == previous["sha256"] else None


def _image_current(layout, name, architectures, previous):
    descriptor = layout.image(name)
    if not previous or not descriptor or previous.get("architectures") != list(architectures):
        return None
    if descriptor["digest"] != previous["bundle_digest"]:
        return None
    return previous if layout.blobs_of(descriptor["digest"], descriptor["mediaType"]) else None


def _checksum_files(records):
    """Content of each checksum file the roles read next to the files: "<sha256>  <name>" per file."""
    out = {}
    for record in records:
        if record["checksum_file"]:
            out.setdefault(record["checksum_file"], set()).add(
                f"{record['sha256']}  {posixpath.basename(record['path'])}"
            )
    return {path: ("\n".join(sorted(lines)) + "\n").encode() for path, lines in out.items()}


def sums_text(root: str) -> str:
    """SHA256SUMS of every file under ``root`` but itself, sorted by path."""
    lines = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if rel != SUMS and not rel.endswith(".part"):
                lines.append(f"{file_sha256(path)}  {rel}")
    return ("\n".join(sorted(lines, key=lambda line: line.split("  ", 1)[1])) + "\n").encode()


def plan(root: str, params: dict) -> tuple:
    """What a run would fetch: (file rows, image names) not yet in the bundle."""
    architectures = params["architectures"]
    check_architectures(architectures)
    manifest = _load(os.path.join(root, MANIFEST))
    old_files = {(f["source"], f["arch"]): f for f in manifest.get("files", [])}
    old_images = {i["name"]: i for i in manifest.get("images", [])}
    layout = Layout(os.path.join(root, "images"))
    rows = file_rows(params["files"], architectures)
    files = [(row, _file_current(root, row, old_files.get((row["source"], row["arch"])))) for row in rows]
    images = [(name, _image_current(layout, name, architectures, old_images.get(name))) for name in params["images"]]
    return layout, files, images


def build(root: str, params: dict, open_url: Callable, check_mode: bool = False) -> dict:
    """Bring the bundle at ``root`` up to date; returns the module result."""
    layout, files, images = plan(root, params)
    missing = [row["source"] for row, current in files if not current] + [n for n, current in images if not current]
    if check_mode:
        return {"changed": bool(missing), "fetched": missing}
    fetcher = Fetcher(root, params, open_url)
    records = [current or fetcher.file(row) for row, current in files]
    image_records = [current or fetcher.image(name, layout, params["architectures"]) for name, current in images]
    changed = layout.save()
    for path, content in _checksum_files(records).items():
        changed = write_atomic(os.path.join(root, path), content) or changed
    manifest = {
        "kubeforge_bundle": 1,
        "architectures": list(params["architectures"]),
        "versions": params.get("versions") or {},
        "mirror_paths": params.get("mirror_paths") or {},
        "files": records,
        "images": image_records,
        "size": bundle_size(records, image_records),
    }
    changed = write_atomic(os.path.join(root, MANIFEST), canonical_json(manifest)) or changed
    changed = write_atomic(os.path.join(root, SUMS), sums_text(root)) or changed
    if params.get("tarball"):
        changed = write_tar(root, params["tarball"], os.path.basename(os.path.normpath(root))) or changed
    return {"changed": changed or bool(fetcher.fetched), "fetched": fetcher.fetched, "size": manifest["size"]}


def bundle_size(file_records: list, image_records: list) -> int:
    """Bytes of the bundle's files and image blobs (a layer shared by several images counted once)."""
    blobs = {}
    for image in image_records:
        blobs.update(image["blobs"])
    return sum(record["size"] for record in file_records) + sum(blobs.values())


def write_tar(root: str, dest: str, prefix: str) -> bool:
    """A reproducible tarball of ``root`` (sorted names, zero times and owners); written only when it differs."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for folder, dirs, names in os.walk(root):
            dirs.sort()
            for name in sorted(names):
                path = os.path.join(folder, name)
                info = tar.gettarinfo(path, arcname=posixpath.join(prefix, os.path.relpath(path, root)).strip("/"))
                info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
                info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
                with open(path, "rb") as handle:
                    tar.addfile(info, handle)
    return write_atomic(dest, buffer.getvalue())


def verify(root: str) -> dict:
    """Check every file of the bundle against SHA256SUMS and the manifest against the files; returns the manifest.

    Raises, naming the files, when SHA256SUMS is missing, a listed file is missing or differs, or the manifest names
    a file or image blob SHA256SUMS does not cover. Reads only: nothing is changed.
    """
    sums_path = os.path.join(root, SUMS)
    if not os.path.isfile(sums_path):
        raise KubeforgeError(f"bundle {root}: no {SUMS} (not a directory written by bundle.yml, or not all of it)")
    with open(sums_path, encoding="utf-8") as handle:
        entries = [line.rstrip("\n").split("  ", 1) for line in handle if line.strip()]
    bad = [e for e in entries if len(e) != len(("sha", "path")) or e[1].startswith("/") or ".." in e[1].split("/")]
    if bad:
        raise KubeforgeError(f"bundle {root}: {SUMS} has unusable lines: {bad[:3]}")
    listed = {path: sha for sha, path in entries}
    missing = [path for path in listed if not os.path.isfile(os.path.join(root, path))]
    if missing:
        raise KubeforgeError(
            f"bundle {root} is missing {len(missing)} file(s) listed in {SUMS}: {', '.join(missing[:10])}"
        )
    for path, sha in listed.items():
        found = file_sha256(os.path.join(root, path))
        if found != sha:
            raise KubeforgeError(f"bundle {root}: {path} has sha256 {found}, {SUMS} says {sha}; the bundle is refused")
    if MANIFEST not in listed:
        raise KubeforgeError(f"bundle {root}: {MANIFEST} is not listed in {SUMS}")
    manifest = _load(os.path.join(root, MANIFEST))
    needed = [f["path"] for f in manifest.get("files", [])]
    layout = Layout(os.path.join(root, "images"))
    for image in manifest.get("images", []):
        descriptor = layout.image(image["name"])
        blobs = layout.blobs_of(descriptor["digest"], descriptor["mediaType"]) if descriptor else None
        if blobs is None:
            raise KubeforgeError(f"bundle {root}: image {image['name']} is incomplete in images/ (a blob is missing)")
        needed += ["images/blobs/sha256/" + digest.split(":", 1)[1] for digest in blobs]
    unlisted = sorted({path for path in needed if path not in listed})
    if unlisted:
        raise KubeforgeError(f"bundle {root}: {', '.join(unlisted[:10])} not covered by {SUMS}")
    return manifest


def copy_tree(root: str, dest: str) -> list:
    """Copy the files under ``root`` to ``dest``, writing only those that are missing or differ; returns them."""
    copied = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            source = os.path.join(folder, name)
            rel = os.path.relpath(source, root)
            target = os.path.join(dest, rel)
            if os.path.isfile(target) and file_sha256(target) == file_sha256(source):
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(source, "rb") as src, open(target + ".part", "wb") as out:
                for chunk in iter(lambda: src.read(CHUNK), b""):
                    out.write(chunk)
            os.chmod(target + ".part", 0o755 if os.access(source, os.X_OK) else 0o644)
            os.replace(target + ".part", target)
            copied.append(rel.replace(os.sep, "/"))
    return copied
