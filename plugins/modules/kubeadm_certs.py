#!/usr/bin/python
# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation: kubeadm_certs.yml next to this file.

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.kubeadm import KubeadmCli
from ansible_collections.kubeforge.cluster.plugins.module_utils.kubeadm_certs import check_expiration

ARGUMENT_SPEC = {
    "kubeadm_path": {"type": "str", "default": "kubeadm"},
    "kubeconfig": {"type": "path", "default": "/etc/kubernetes/admin.conf"},
    "renew_days": {"type": "int", "default": 30},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        cli = KubeadmCli(module, module.params["kubeadm_path"], module.params["kubeconfig"])
        result = check_expiration(module, cli)
    except KubeforgeError as exc:
        module.fail_json(msg=str(exc), **exc.to_result())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
