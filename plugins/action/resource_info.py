# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of the API modules whose task arguments go to the module as they are.

This one file serves resource_info, rollout, scale, secret, expose, autoscale, run and node: the other names are
symbolic links to it, and ``ApiAction`` finds the module to run from the task's action. It runs the module's logic
on the controller when the host is the controller (plugins/plugin_utils/inprocess.py).
"""

from __future__ import annotations

from ansible_collections.kubeforge.cluster.plugins.plugin_utils.inprocess import ApiAction


class ActionModule(ApiAction):
    """The module named by the task, run through ApiAction."""
