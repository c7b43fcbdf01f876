# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Logic of kubeforge.cluster.resource and the thin modules that build manifests and apply them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ansible_collections.kubeforge.cluster.plugins.module_utils.apply import apply_manifests
from ansible_collections.kubeforge.cluster.plugins.module_utils.args import BATCH_ARG_SPEC, merge_specs
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.manifests import flatten

if TYPE_CHECKING:
    from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient

RESOURCE_ARGS = merge_specs(
    BATCH_ARG_SPEC,
    definition={"type": "raw"},
    src={"type": "path"},
    template={"type": "path"},
)


def run_resource(module: Any, client: ApiClient) -> dict:
    """Logic of kubeforge.cluster.resource: apply or delete the objects of ``definition``."""
    params = module.params
    if params.get("src") or params.get("template"):
        raise KubeforgeError(
            "src and template are read on the controller by the kubeforge.cluster.resource action plugin; "
            "call the module by its name kubeforge.cluster.resource"
        )
    objects = flatten(params.get("definition"))
    if not objects:
        raise KubeforgeError("no objects to apply: definition, src or template is empty")
    return apply_manifests(module, client, objects)
