#!/usr/bin/python
# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation: kubeadm_token.yml next to this file.

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.kubeadm import join_material

ARGUMENT_SPEC = {
    "kubeadm_path": {"type": "str", "default": "kubeadm"},
    "kubeconfig": {"type": "path", "default": "/etc/kubernetes/admin.conf"},
    "ca_cert": {"type": "path", "default": "/etc/kubernetes/pki/ca.crt"},
    "ttl": {"type": "str", "default": "24h"},
    "min_ttl": {"type": "str", "default": "1h"},
    "description": {"type": "str", "default": "kubeforge.cluster join token"},
    "upload_certs": {"type": "bool", "default": False},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = join_material(module)
    except KubeforgeError as exc:
        module.fail_json(msg=str(exc), **exc.to_result())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
