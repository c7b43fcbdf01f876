# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin base of the API modules: run the module's logic inside Ansible's worker on the controller.

A task whose host is the controller itself (``connection: local``, e.g. ``hosts: localhost`` or
``delegate_to: localhost``, the usual way to talk to a Kubernetes API) would otherwise pack the module with
AnsiballZ, write it to a temporary directory and start a new Python interpreter for every task and every loop
item. The logic is the same Python either way (``ModuleSpec`` in each module file), so here it runs in the
worker: arguments are validated by the module's own argument spec, ``no_log`` values and Secret values are
masked in the result exactly as AnsibleModule masks them, and the API client (with its keep-alive connections)
is reused across the items of a loop.

The module is sent to the host as usual when the host is remote, with ``become``, an ``environment``, ``async``,
or when the variable ``kubeforge_cluster_in_process`` is false.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import subprocess
from collections.abc import Mapping, Sequence, Set

from ansible.module_utils.common.arg_spec import ModuleArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.kubeforge.cluster.plugins.module_utils.args import AUTH_ARG_SPEC
from ansible_collections.kubeforge.cluster.plugins.module_utils.client import ApiClient
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.runner import run_logic

_MODULES_PACKAGE = "ansible_collections.kubeforge.cluster.plugins.modules"
_LOCAL_CONNECTIONS = ("local", "ansible.builtin.local", "ansible.legacy.local")
_SWITCH = "kubeforge_cluster_in_process"
_AUTH_OPTIONS = tuple(AUTH_ARG_SPEC)

# Clients of this worker process, by connection options: the items of one loop share keep-alive connections.
_CLIENTS = {}


def _close_clients():
    for client in _CLIENTS.values():
        client.close()
    _CLIENTS.clear()


atexit.register(_close_clients)


def _plain(value):
    """``value`` as the plain JSON-like types a module receives (no templating or vault wrappers)."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, bool) or value is None:
        return value
    for plain_type in (int, float, str):
        if isinstance(value, plain_type):
            return plain_type(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, (Sequence, Set)):
        return [_plain(item) for item in value]
    return str(value)  # vaulted values decrypt to their text, as they do on their way to a module


class _ControllerModule:
    """The part of AnsibleModule that the logic in module_utils uses."""

    def __init__(self, params, check_mode, diff, no_log_values):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.no_log_values = set(no_log_values)
        self.warnings = []

    def warn(self, warning):
        self.warnings.append(warning)

    @staticmethod
    def run_command(argv, environ_update=None):
        """AnsibleModule.run_command's contract, for exec credential plugins: ``(rc, stdout, stderr)``."""
        env = dict(os.environ, **(environ_update or {}))
        try:
            proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        except OSError as exc:
            return 127, "", str(exc)
        return proc.returncode, proc.stdout, proc.stderr


def _client_for(module):
    """The worker's client for the module's connection options (made on first use)."""
    options = {name: module.params.get(name) for name in _AUTH_OPTIONS}
    key = json.dumps([options, os.environ.get("KUBECONFIG")], sort_keys=True, default=str)
    client = _CLIENTS.get(key)
    if client is None:
        client = ApiClient.from_params(module.params, run_command=module.run_command)
        _CLIENTS[key] = client
    return client


def run_in_process(spec, name, args, check_mode, diff):
    """Validate ``args`` against the module ``spec`` and run its logic; return the module's result dict."""
    options = {key: value for key, value in spec.options.items() if key != "supports_check_mode"}
    validation = ModuleArgumentSpecValidator(**options).validate(_plain(args))
    no_log_values = validation._no_log_values
    if validation.errors.errors:
        msg = validation.errors.msg
        if isinstance(validation.errors.errors[0], UnsupportedError):
            msg = f"Unsupported parameters for ({name}) module: {msg}"
        return remove_values({"failed": True, "msg": msg}, no_log_values)
    module = _ControllerModule(validation.validated_parameters, check_mode, diff, no_log_values)
    try:
        result = run_logic(module, spec.logic, client_for=_client_for)
    except KubeforgeError as exc:
        result = dict(exc.to_result(), failed=True, msg=str(exc))
    if module.warnings:
        result["warnings"] = module.warnings
    return remove_values(result, module.no_log_values)


class ApiAction(ActionBase):
    """Runs an API module's logic on the controller when the task's host is the controller, else the module."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True  # async tasks run the module on the host, like ansible.builtin.normal does

    def module_args(self, task_vars):
        """The module's arguments (the resource action reads ``src`` and ``template`` here)."""
        del task_vars
        return dict(self._task.args)

    def _in_process(self, task_vars):
        connection = getattr(self._connection, "_load_name", None) or self._connection.transport
        return (
            connection in _LOCAL_CONNECTIONS
            and not self._play_context.become
            and not any(item != {} for item in self._task.environment or [])
            and not self._task.async_val
            and boolean(self._templar.template(task_vars.get(_SWITCH, True)), strict=False)
        )

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        args = self.module_args(task_vars)
        name = self._task.resolved_action or self._task.action
        if self._in_process(task_vars):
            spec = importlib.import_module(f"{_MODULES_PACKAGE}.{name.rsplit('.', 1)[-1]}").SPEC
            result.update(run_in_process(spec, name, args, bool(self._task.check_mode), bool(self._task.diff)))
        else:
            wrap_async = bool(self._task.async_val)
            result.update(self._execute_module(name, module_args=args, task_vars=task_vars, wrap_async=wrap_async))
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
