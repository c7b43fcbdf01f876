# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Top of every API module: build the client, run the module's logic, turn KubeforgeError into fail_json."""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.kubeconfig import HAS_YAML


def run_module(module, logic):
    """Call ``logic(module, client)`` and exit with the dict it returns; fail cleanly on KubeforgeError."""
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    client = None
    try:
        client = ApiClient.from_params(module.params, run_command=module.run_command)
        result = logic(module, client)
    except KubeforgeError as exc:
        module.fail_json(msg=str(exc), **exc.to_result())
    finally:
        if client is not None:
            client.close()
    module.exit_json(**result)
