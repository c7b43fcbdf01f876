# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What kube_packages' mirror method would change, read in one pass (kubeforge.cluster.host_read, reader
kube_packages_mirror; roles/kube_packages/tasks/main.yml).

Query: {"release_url", "components", "cache_dir", "bin_dir", "crictl_url" (or null), "paths", "units"}.
Returns per binary the mirror's published SHA-256 (its .sha256 file, read as get_url reads a checksum URL), the cached
and the installed copy's SHA-256, mode and owner; for crictl the same for its tarball plus the SHA-256 of the crictl
inside it; the state of each of ``paths``; ``systemctl is-enabled`` of each of ``units``. Reads only; an unreachable
mirror is reported (the download task then fails with the error get_url gives).
"""

from __future__ import annotations

import os
import stat
import tarfile
from typing import Any

from ansible.module_utils.urls import ConnectionError as UrlError
from ansible.module_utils.urls import open_url
from ansible_collections.kubeforge.cluster.plugins.module_utils.bundle import published_sha256
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.host_read import (
    command,
    digest,
    file_digest,
    owner_group,
    path_info,
)

KINDS = {stat.S_IFREG: "file", stat.S_IFDIR: "directory", stat.S_IFLNK: "link"}
FETCH_TIMEOUT = 30  # seconds for the checksum file of each download


def state(path: str) -> dict | None:
    """type, mode, owner, group and (regular files) SHA-256 of a path, None when absent (links not followed)."""
    info = path_info(path)
    if info is None:
        return None
    owner, group = owner_group(info)
    kind = KINDS.get(stat.S_IFMT(info.st_mode), "other")
    mode = f"{stat.S_IMODE(info.st_mode):04o}"
    checksum = file_digest(path) if kind == "file" else None
    return {"type": kind, "mode": mode, "owner": owner, "group": group, "sha256": checksum}


def published(url: str) -> tuple:
    """(checksum, error) from the .sha256 URL of ``url``, read as get_url reads a checksum URL (bundle.published_sha256:
    a file of one word is the checksum, otherwise the line ``<checksum> [*]<name>`` naming the file); anything else is
    an error (get_url fails too)."""
    try:
        with open_url(url + ".sha256", timeout=FETCH_TIMEOUT) as response:
            text = response.read().decode("utf-8", "replace")
    except (OSError, ValueError, UrlError) as exc:
        return None, f"{url}.sha256: {exc}"
    name = url.rsplit("/", 1)[-1]
    try:
        return published_sha256(text, name, url + ".sha256"), None
    except KubeforgeError:
        return None, f"{url}.sha256: no checksum for {name}"


def member_digest(tarball: str, member: str) -> str | None:
    """SHA-256 of one member (by base name) of a tar.gz, None when the tarball or the member is missing."""
    try:
        with tarfile.open(tarball) as archive:
            for entry in archive:
                if entry.isfile() and os.path.basename(entry.name) == member:
                    return digest(archive.extractfile(entry))
    except (OSError, tarfile.TarError):
        return None
    return None


def download(url: str, cached: str, installed: str) -> dict:
    checksum, error = published(url)
    return {"published": checksum, "error": error, "cached": state(cached), "installed": state(installed)}


def unit_enabled(module: Any, unit: str) -> str:
    """``systemctl is-enabled`` of a unit, its output (both streams); the reason when systemctl cannot run (the enable
    task then runs and reports what systemd says)."""
    _rc, out, err = command(module, ["systemctl", "is-enabled", unit])
    return (out + err).strip()


def read(module: Any, query: dict) -> dict:
    cache, bin_dir = query["cache_dir"], query["bin_dir"]
    binaries = {
        name: download(f"{query['release_url']}/{name}", os.path.join(cache, name), os.path.join(bin_dir, name))
        for name in query["components"]
    }
    crictl = None
    if query["crictl_url"]:
        tarball = os.path.join(cache, query["crictl_url"].rsplit("/", 1)[-1])
        crictl = download(query["crictl_url"], tarball, os.path.join(bin_dir, "crictl"))
        crictl["member"] = member_digest(tarball, "crictl")
        crictl["unpacked"] = state(os.path.join(cache, "crictl"))
    return {
        "binaries": binaries,
        "crictl": crictl,
        "paths": {path: state(path) for path in query["paths"]},
        "units": {unit: unit_enabled(module, unit) for unit in query["units"]},
    }
