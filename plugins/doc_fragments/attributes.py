# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Modules that change objects: check mode runs the server's dry-run, diff mode shows before/after.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Runs in check mode with the API server's dry-run, so the predicted C(changed) matches a real run.
    support: full
  diff_mode:
    description:
      - Returns before and after of each object with C(managedFields) and server noise removed.
      - Secret values are redacted.
    support: full
  action_group:
    description: Use C(group/kubeforge.cluster.k8s) in C(module_defaults) to set the connection options of this module.
    support: full
    membership:
      - kubeforge.cluster.k8s
"""

    # Read-only modules.
    INFO = r"""
attributes:
  check_mode:
    description: Reads only; runs the same in check mode.
    support: full
  diff_mode:
    description: Reads only; there is nothing to diff.
    support: none
  action_group:
    description: Use C(group/kubeforge.cluster.k8s) in C(module_defaults) to set the connection options of this module.
    support: full
    membership:
      - kubeforge.cluster.k8s
"""

    # Every API module: it has an action plugin that may run its logic on the controller (plugin_utils/inprocess.py).
    ACTION = r"""
attributes:
  action:
    description:
      - Has an action plugin. When the task's host is the controller (connection plugin V(local), for example
        C(hosts=localhost) or C(delegate_to=localhost)) the module's logic runs inside it, with no module process
        per task or loop item; otherwise, and with C(become), C(environment) or C(async), the module is sent to
        the host. Set the variable C(kubeforge_cluster_in_process=false) to always send it.
    support: full
"""
