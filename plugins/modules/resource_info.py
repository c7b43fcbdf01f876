#!/usr/bin/python
# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation: resource_info.yml next to this file.

from __future__ import annotations

from ansible_collections.kubeforge.cluster.plugins.module_utils import args
from ansible_collections.kubeforge.cluster.plugins.module_utils.info import INFO_ARGS, INFO_RULES, run_info
from ansible_collections.kubeforge.cluster.plugins.module_utils.runner import ModuleSpec

# What the module is; its action plugin may run the same logic on the controller (plugin_utils/inprocess.py).
SPEC = ModuleSpec(
    run_info,
    argument_spec=args.merge_specs(args.AUTH_ARG_SPEC, args.WAIT_ARG_SPEC, INFO_ARGS),
    **INFO_RULES,
)


def main():
    SPEC.main()


if __name__ == "__main__":
    main()
