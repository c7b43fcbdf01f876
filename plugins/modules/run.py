#!/usr/bin/python
# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation: run.yml next to this file.

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeforge.cluster.plugins.module_utils.args import (
    APPLY_ARG_SPEC,
    AUTH_ARG_SPEC,
    WAIT_ARG_SPEC,
    merge_specs,
)
from ansible_collections.kubeforge.cluster.plugins.module_utils.verbs import RUN_ARGS, STATE_ARG, run_run
from ansible_collections.kubeforge.cluster.plugins.module_utils.runner import run_module


def main():
    module = AnsibleModule(
        argument_spec=merge_specs(AUTH_ARG_SPEC, APPLY_ARG_SPEC, WAIT_ARG_SPEC, STATE_ARG, RUN_ARGS),
        required_if=[("state", "present", ("image",))],
        supports_check_mode=True,
    )
    run_module(module, run_run)


if __name__ == "__main__":
    main()
