#!/usr/bin/python
# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.kubeforge.cluster.plugins.module_utils.args import AUTH_ARG_SPEC, merge_specs
from ansible_collections.kubeforge.cluster.plugins.module_utils.node import NODE_ARG_SPEC, run_node
from ansible_collections.kubeforge.cluster.plugins.module_utils.runner import ModuleSpec

# What the module is; its action plugin may run the same logic on the controller (plugin_utils/inprocess.py).
SPEC = ModuleSpec(
    run_node,
    argument_spec=merge_specs(AUTH_ARG_SPEC, NODE_ARG_SPEC),
    mutually_exclusive=[("name", "label_selector"), ("name", "all_nodes")],
    required_one_of=[("name", "label_selector", "all_nodes")],
)


def main():
    SPEC.main()


if __name__ == "__main__":
    main()
