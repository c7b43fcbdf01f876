#!/usr/bin/python
# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation: bundle_fetch.yml next to this file.

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url
from ansible_collections.kubeforge.cluster.plugins.module_utils.bundle import build
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError

ARGUMENT_SPEC = {
    "path": {"type": "path", "required": True},
    "architectures": {"type": "list", "elements": "str", "required": True},
    "files": {"type": "list", "elements": "dict", "default": []},
    "images": {"type": "list", "elements": "str", "default": []},
    "versions": {"type": "dict", "default": {}},
    "mirror_paths": {"type": "dict", "default": {}},
    "file_sources": {"type": "dict", "default": {}},
    "registry_endpoints": {"type": "dict", "default": {}},
    "ca_file": {"type": "path"},
    "tarball": {"type": "path"},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = build(module.params["path"], module.params, open_url, check_mode=module.check_mode)
    except KubeforgeError as exc:
        module.fail_json(msg=str(exc), **exc.to_result())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
