#!/usr/bin/python
# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation: bundle_check.yml next to this file.

from __future__ import annotations

from ansible_collections.kubeforge.cluster.plugins.module_utils.bundle_modules import CHECK_ARG_SPEC, check
from ansible_collections.kubeforge.cluster.plugins.module_utils.runner import ModuleSpec

# What the module is: a bundle verified on the host that holds it, no Kubernetes API client.
SPEC = ModuleSpec(check, api=False, argument_spec=CHECK_ARG_SPEC)


def main():
    SPEC.main()


if __name__ == "__main__":
    main()
