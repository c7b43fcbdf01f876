#!/usr/bin/python
# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation: bundle_fetch.yml next to this file.

from __future__ import annotations

from ansible_collections.kubeforge.cluster.plugins.module_utils.bundle_modules import FETCH_ARG_SPEC, fetch
from ansible_collections.kubeforge.cluster.plugins.module_utils.runner import ModuleSpec

# What the module is: files and images fetched on the host that runs it, no Kubernetes API client.
SPEC = ModuleSpec(fetch, api=False, argument_spec=FETCH_ARG_SPEC)


def main():
    SPEC.main()


if __name__ == "__main__":
    main()
