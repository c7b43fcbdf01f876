# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The offline-bundle modules as the common runner sees them: each module's options (stated once, documented in
plugins/modules/<name>.yml) and its logic ``logic(module) -> result`` (host modules: no Kubernetes API client).

bundle.py builds and verifies bundles, registry_push.py pushes their images; this file only maps module options
onto them.
"""

from __future__ import annotations

import os
from typing import Any

from ansible.module_utils.urls import open_url
from ansible_collections.kubeforge.cluster.plugins.module_utils.bundle import build, copy_tree, verify, write_tar
from ansible_collections.kubeforge.cluster.plugins.module_utils.registry_push import push_bundle

FETCH_ARG_SPEC = {
    "path": {"type": "path", "required": True},
    "architectures": {"type": "list", "elements": "str", "required": True},
    "files": {"type": "list", "elements": "dict", "default": []},
    "images": {"type": "list", "elements": "str", "default": []},
    "versions": {"type": "dict", "default": {}},
    "mirror_paths": {"type": "dict", "default": {}},
    "file_sources": {"type": "dict", "default": {}},
    "registry_endpoints": {"type": "dict", "default": {}},
    "ca_file": {"type": "path"},
    "tarball": {"type": "path"},
}

CHECK_ARG_SPEC = {
    "path": {"type": "path", "required": True},
    "images_archive": {"type": "path"},
    "files_archive": {"type": "path"},
    "files_dir": {"type": "path"},
}

PUSH_ARG_SPEC = {
    "path": {"type": "path", "required": True},
    "registry": {"type": "str", "required": True},
    "username": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "ca_file": {"type": "path"},
    "plain_http": {"type": "bool", "default": False},
}


def fetch(module: Any) -> dict:
    """Logic of kubeforge.cluster.bundle_fetch: build (or bring up to date) the bundle at ``path``."""
    return build(module.params["path"], module.params, open_url, check_mode=module.check_mode)


def check(module: Any) -> dict:
    """Logic of kubeforge.cluster.bundle_check: verify SHA256SUMS first, then write the archives or copy the files
    the options ask for (nothing in check mode)."""
    params = module.params
    changed, copied = False, []
    manifest = verify(params["path"])
    if not module.check_mode:
        for part in ("images", "files"):
            if params[f"{part}_archive"]:
                changed = write_tar(os.path.join(params["path"], part), params[f"{part}_archive"], "") or changed
        if params["files_dir"]:
            copied = copy_tree(os.path.join(params["path"], "files"), params["files_dir"])
    return {"changed": changed or bool(copied), "manifest": manifest, "copied": copied}


def push(module: Any) -> dict:
    """Logic of kubeforge.cluster.image_push: push the bundle's images to ``registry``."""
    return push_bundle(module.params, check_mode=module.check_mode)
