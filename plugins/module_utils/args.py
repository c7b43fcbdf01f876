# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs shared by the API modules; each pairs one-to-one with a doc fragment."""

from __future__ import annotations

# Paired with the doc fragment kubeforge.cluster.auth (plugins/doc_fragments/auth.py).
AUTH_ARG_SPEC = {
    "kubeconfig": {"type": "raw"},
    "context": {"type": "str"},
    "host": {"type": "str"},
    "api_key": {"type": "str", "no_log": True},
    "ca_cert": {"type": "path"},
    "client_cert": {"type": "path"},
    "client_key": {"type": "path", "no_log": False},
    "validate_certs": {"type": "bool"},
    "request_timeout": {"type": "float", "default": 30.0},
}

# Paired with the doc fragment kubeforge.cluster.apply (plugins/doc_fragments/apply.py).
APPLY_ARG_SPEC = {
    "namespace": {"type": "str"},
    "field_manager": {"type": "str", "default": "kubeforge"},
    "force_conflicts": {"type": "bool", "default": False},
}

# Paired with the doc fragment kubeforge.cluster.wait (plugins/doc_fragments/wait.py).
WAIT_ARG_SPEC = {
    "wait": {"type": "bool", "default": False},
    "wait_timeout": {"type": "int", "default": 120},
    "wait_sleep": {"type": "float", "default": 1.0},
}

# The workload a verb acts on (kubeforge.cluster.scale, expose, autoscale).
TARGET_ARG_SPEC = {
    "name": {"type": "str", "required": True},
    "kind": {"type": "str", "default": "Deployment"},
    "api_version": {"type": "str", "default": "apps/v1"},
}

# Options of kubeforge.cluster.resource that the apply batch reads (documented in plugins/modules/resource.yml).
BATCH_ARG_SPEC = {
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "prune": {"type": "bool", "default": False},
    "apply_set": {"type": "str"},
    "delete_propagation": {"type": "str", "default": "Background", "choices": ["Background", "Foreground", "Orphan"]},
    "return_objects": {"type": "bool", "default": False},
    "workers": {"type": "int", "default": 8},
}


def spec_defaults(*specs: dict) -> dict:
    """``{option: default}`` of every option of ``specs`` (``None`` where the spec sets no default)."""
    return {name: option.get("default") for spec in specs for name, option in spec.items()}


def merge_specs(*specs: dict, **extra) -> dict:
    """One module's argument_spec: the shared specs plus the module's own options."""
    spec = {}
    for item in specs:
        spec.update(item)
    spec.update(extra)
    return spec
