#!/usr/bin/python
# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation: bundle_check.yml next to this file.

from __future__ import annotations

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeforge.cluster.plugins.module_utils.bundle import copy_tree, verify, write_tar
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError

ARGUMENT_SPEC = {
    "path": {"type": "path", "required": True},
    "images_archive": {"type": "path"},
    "files_archive": {"type": "path"},
    "files_dir": {"type": "path"},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    changed, copied = False, []
    try:
        manifest = verify(params["path"])
        if not module.check_mode:
            for part in ("images", "files"):
                if params[f"{part}_archive"]:
                    changed = write_tar(os.path.join(params["path"], part), params[f"{part}_archive"], "") or changed
            if params["files_dir"]:
                copied = copy_tree(os.path.join(params["path"], "files"), params["files_dir"])
    except KubeforgeError as exc:
        module.fail_json(msg=str(exc), **exc.to_result())
    module.exit_json(changed=changed or bool(copied), manifest=manifest, copied=copied)


if __name__ == "__main__":
    main()
