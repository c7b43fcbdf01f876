# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Logic of kubeforge.cluster.resource and the thin modules that build manifests and apply them."""

from __future__ import annotations

from ansible_collections.kubeforge.cluster.plugins.module_utils.apply import run_batch
from ansible_collections.kubeforge.cluster.plugins.module_utils.args import BATCH_ARG_SPEC, merge_specs
from ansible_collections.kubeforge.cluster.plugins.module_utils.discovery import Discovery
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.manifests import flatten, secret_values

RESOURCE_ARGS = merge_specs(
    BATCH_ARG_SPEC,
    definition={"type": "raw"},
    src={"type": "path"},
    template={"type": "path"},
)

_BATCH_OPTIONS = (
    "state",
    "namespace",
    "field_manager",
    "force_conflicts",
    "apply_set",
    "prune",
    "wait",
    "wait_timeout",
    "wait_sleep",
    "delete_propagation",
    "return_objects",
    "workers",
)


def protect_secrets(module, objects):
    """Register the values of Secret manifests as no_log values, so no output ever shows them."""
    for obj in objects:
        module.no_log_values.update(secret_values(obj))


def apply_manifests(module, client, objects, **overrides):
    """Apply or delete ``objects`` with the module's options (the one apply path of every module)."""
    protect_secrets(module, objects)
    options = {name: module.params.get(name) for name in _BATCH_OPTIONS}
    options.update(overrides)
    options["check_mode"] = module.check_mode
    options["diff"] = module._diff
    return run_batch(client, Discovery(client), objects, options)


def run_resource(module, client):
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
