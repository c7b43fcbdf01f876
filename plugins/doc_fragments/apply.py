# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Paired with APPLY_ARG_SPEC in plugins/module_utils/args.py.
    DOCUMENTATION = r"""
options:
  namespace:
    description:
      - Namespace of namespaced objects that do not set C(metadata.namespace).
      - Defaults to the kubeconfig context's namespace, then C(default).
    type: str
  field_manager:
    description:
      - Field manager name used for server-side apply. Fields this manager set before and no longer declares
        are removed from the object.
    type: str
    default: kubeforge
  force_conflicts:
    description:
      - Take ownership of fields another field manager owns instead of failing with the conflict.
    type: bool
    default: false
"""
