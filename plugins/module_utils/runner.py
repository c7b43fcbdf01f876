# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Top of every API module: build the client, run the module's logic, turn KubeforgeError into fail_json.

The same two pieces serve the module on a managed host (``run_module``) and the action plugins that run the
module's logic on the controller (plugins/plugin_utils/inprocess.py): ``ModuleSpec`` says what a module is
(its AnsibleModule options and its logic) and ``run_logic`` runs that logic with a client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.kubeconfig import HAS_YAML, reports_missing_kubeconfig


class ModuleSpec:
    """A module: its logic plus the keyword arguments of its AnsibleModule.

    ``logic(module, client) -> result`` for a module that talks to the Kubernetes API (``api=True``: its action
    plugin may run it on the controller), ``logic(module) -> result`` for one that runs a command on the host.
    """

    def __init__(self, logic: Callable, api: bool = True, **options) -> None:
        self.logic = logic
        self.api = api
        self.options = dict(options, supports_check_mode=True)

    def main(self) -> None:
        """The module's ``main()``: build the AnsibleModule from this spec and run it (see run_module)."""
        run_module(AnsibleModule(**self.options), self.logic, api=self.api)


def run_logic(module: Any, logic: Callable, client_for: Callable | None = None) -> dict:
    """Return ``logic(module, client)``.

    ``client_for(module)`` gives the client (the action plugin's, kept across tasks); without it one is built from
    the module's options and closed after. A module whose option ``missing_kubeconfig`` is ``report`` and whose
    ``kubeconfig`` file does not exist gets ``client=None`` (no cluster to ask), before PyYAML or a client is needed:
    a host that has no cluster yet may not have PyYAML either.
    """
    if reports_missing_kubeconfig(module.params):
        return logic(module, None)
    if not HAS_YAML:
        raise KubeforgeError(missing_required_lib("PyYAML"))
    if client_for is not None:
        return logic(module, client_for(module))
    client = ApiClient.from_params(module.params, run_command=module.run_command)
    try:
        return logic(module, client)
    finally:
        client.close()


def run_module(module: Any, logic: Callable, api: bool = True) -> None:
    """Call ``logic(module, client)`` (``logic(module)`` without ``api``) and exit with the dict it returns; fail
    cleanly on KubeforgeError."""
    try:
        result = run_logic(module, logic) if api else logic(module)
    except KubeforgeError as exc:
        module.fail_json(msg=str(exc), **exc.to_result())
    module.exit_json(**result)
