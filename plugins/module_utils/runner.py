# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Top of every API module: build the client, run the module's logic, turn KubeforgeError into fail_json.

The same two pieces serve the module on a managed host (``run_module``) and the action plugins that run the
module's logic on the controller (plugins/plugin_utils/inprocess.py): ``ModuleSpec`` says what a module is
(its AnsibleModule options and its logic) and ``run_logic`` runs that logic with a client.
"""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.kubeconfig import HAS_YAML


class ModuleSpec:
    """An API module: ``logic(module, client) -> result`` plus the keyword arguments of its AnsibleModule."""

    def __init__(self, logic, **options):
        self.logic = logic
        self.options = dict(options, supports_check_mode=True)


def run_logic(module, logic, client=None):
    """Return ``logic(module, client)``; without ``client``, build one from the module's options and close it after."""
    if not HAS_YAML:
        raise KubeforgeError(missing_required_lib("PyYAML"))
    own_client = client is None
    if own_client:
        client = ApiClient.from_params(module.params, run_command=module.run_command)
    try:
        return logic(module, client)
    finally:
        if own_client:
            client.close()


def run_module(module, logic):
    """Call ``logic(module, client)`` and exit with the dict it returns; fail cleanly on KubeforgeError."""
    try:
        result = run_logic(module, logic)
    except KubeforgeError as exc:
        module.fail_json(msg=str(exc), **exc.to_result())
    module.exit_json(**result)
