# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubeforge.cluster.host_read: its options and its logic, which runs the reader a role asks for."""

from __future__ import annotations

from typing import Any

from ansible_collections.kubeforge.cluster.plugins.module_utils import (
    read_cni_plugins,
    read_containerd,
    read_control_plane,
    read_host_prep,
    read_kube_packages_mirror,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError

READERS = {
    "host_prep": read_host_prep.read,
    "cni_plugins": read_cni_plugins.read,
    "containerd": read_containerd.read,
    "control_plane": read_control_plane.read,
    "kube_packages_mirror": read_kube_packages_mirror.read,
}

HOST_READ_ARG_SPEC = {
    "reader": {"type": "str", "required": True, "choices": list(READERS)},
    "query": {"type": "dict", "required": True},
}


def host_read(module: Any) -> dict:
    """Run the reader named by the module's ``reader`` option on its ``query``; ``state`` is what it read."""
    reader = module.params["reader"]
    try:
        state = READERS[reader](module, module.params["query"])
    except KeyError as exc:
        raise KubeforgeError(f"host_read {reader}: the query has no {exc.args[0]!r}") from exc
    except KubeforgeError as exc:
        raise KubeforgeError(f"host_read {reader}: {exc}") from exc
    return {"changed": False, "state": state}
