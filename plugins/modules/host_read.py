#!/usr/bin/python
# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation: host_read.yml next to this file.

from __future__ import annotations

from ansible_collections.kubeforge.cluster.plugins.module_utils.host_readers import HOST_READ_ARG_SPEC, host_read
from ansible_collections.kubeforge.cluster.plugins.module_utils.runner import ModuleSpec

# What the module is: reads of the host (files, commands, the mirror's checksums), no Kubernetes API client.
SPEC = ModuleSpec(host_read, api=False, argument_spec=HOST_READ_ARG_SPEC)


def main():
    SPEC.main()


if __name__ == "__main__":
    main()
