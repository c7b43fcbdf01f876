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


def merge_specs(*specs, **extra):
    """One module's argument_spec: the shared specs plus the module's own options."""
    spec = {}
    for item in specs:
        spec.update(item)
    spec.update(extra)
    return spec
