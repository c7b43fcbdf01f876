# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of kubeforge.cluster.expose: runs its logic on the controller when the host is the controller."""

from __future__ import annotations

from ansible_collections.kubeforge.cluster.plugins.plugin_utils.inprocess import ApiAction


class ActionModule(ApiAction):
    """kubeforge.cluster.expose"""
