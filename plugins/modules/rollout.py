#!/usr/bin/python
# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation: rollout.yml next to this file.

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeforge.cluster.plugins.module_utils import args
from ansible_collections.kubeforge.cluster.plugins.module_utils.runner import run_module
from ansible_collections.kubeforge.cluster.plugins.module_utils.workloads import ROLLOUT_ARGS, run_rollout


def main():
    spec = args.merge_specs(args.AUTH_ARG_SPEC, args.WAIT_ARG_SPEC, ROLLOUT_ARGS)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    run_module(module, run_rollout)


if __name__ == "__main__":
    main()
