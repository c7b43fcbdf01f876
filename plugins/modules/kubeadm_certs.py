#!/usr/bin/python
# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation: kubeadm_certs.yml next to this file.

from __future__ import annotations

from ansible_collections.kubeforge.cluster.plugins.module_utils.kubeadm_certs import CERTS_ARG_SPEC, certs_report
from ansible_collections.kubeforge.cluster.plugins.module_utils.runner import ModuleSpec

# What the module is: a command on the host (kubeadm), no Kubernetes API client.
SPEC = ModuleSpec(certs_report, api=False, argument_spec=CERTS_ARG_SPEC)


def main():
    SPEC.main()


if __name__ == "__main__":
    main()
