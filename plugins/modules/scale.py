#!/usr/bin/python
# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation: scale.yml next to this file.

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeforge.cluster.plugins.module_utils.args import AUTH_ARG_SPEC, WAIT_ARG_SPEC, merge_specs
from ansible_collections.kubeforge.cluster.plugins.module_utils.workloads import SCALE_ARGS, run_scale
from ansible_collections.kubeforge.cluster.plugins.module_utils.runner import run_module


def main():
    module = AnsibleModule(
        argument_spec=merge_specs(AUTH_ARG_SPEC, WAIT_ARG_SPEC, SCALE_ARGS),
        supports_check_mode=True,
    )
    run_module(module, run_scale)


if __name__ == "__main__":
    main()
