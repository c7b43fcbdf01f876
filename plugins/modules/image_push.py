#!/usr/bin/python
# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation: image_push.yml next to this file.

from __future__ import annotations

from ansible_collections.kubeforge.cluster.plugins.module_utils.bundle_modules import PUSH_ARG_SPEC, push
from ansible_collections.kubeforge.cluster.plugins.module_utils.runner import ModuleSpec

# What the module is: a bundle's images pushed to a registry from the host that holds it, no Kubernetes API client.
SPEC = ModuleSpec(push, api=False, argument_spec=PUSH_ARG_SPEC)


def main():
    SPEC.main()


if __name__ == "__main__":
    main()
