#!/usr/bin/python
# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.kubeadm import join_material

DOCUMENTATION = r"""
module: kubeadm_token
short_description: Join material for kubeadm join - a reused or new bootstrap token, the CA hash, a certificate key
version_added: 0.1.0
description:
  - Runs on a control-plane node that has C(kubeadm) and the admin kubeconfig.
  - Lists the bootstrap tokens with C(kubeadm token list) and reuses a join token (usages C(authentication) and
    C(signing), group C(system:bootstrappers:kubeadm:default-node-token)) that stays valid for at least O(min_ttl).
    Only when there is none does it create one with C(kubeadm token create) (kubeadm generates it; no token is passed
    on a command line).
  - Computes the C(sha256:) hash of the cluster CA's public key, the value of
    C(discovery.bootstrapToken.caCertHashes) in a JoinConfiguration.
  - With O(upload_certs=true) uploads the control-plane certificates with
    C(kubeadm init phase upload-certs --upload-certs) and returns the certificate key for control-plane joins.
  - The result holds secrets. Register it in a task with C(no_log: true) and pass it on only through files with
    mode C(0600) (a JoinConfiguration), never on a command line.
author:
  - kubeforge maintainers
options:
  kubeadm_path:
    description: Name or path of the C(kubeadm) binary.
    type: str
    default: kubeadm
  kubeconfig:
    description: Admin kubeconfig kubeadm talks to the cluster with; its server URL is the returned join endpoint.
    type: path
    default: /etc/kubernetes/admin.conf
  ca_cert:
    description: The cluster CA certificate (PEM).
    type: path
    default: /etc/kubernetes/pki/ca.crt
  ttl:
    description: Lifetime of a new token, a Go duration such as C(24h) or C(2h30m); C(0) never expires.
    type: str
    default: 24h
  min_ttl:
    description: An existing token is reused only when it stays valid at least this long (a Go duration).
    type: str
    default: 1h
  description:
    description: Description of a new token, shown by C(kubeadm token list).
    type: str
    default: kubeforge.cluster join token
  upload_certs:
    description:
      - Upload the control-plane certificates (encrypted, kept by the cluster for two hours) and return the key
        that decrypts them, needed to join further control-plane nodes.
      - Always reports C(changed) since every upload makes a new key.
    type: bool
    default: false
attributes:
  check_mode:
    description: Lists and hashes only; reports C(changed) when a token would be created or certificates uploaded.
    support: full
  diff_mode:
    description: Nothing to diff; tokens are secrets.
    support: none
notes:
  - The C(kubeforge.cluster.worker) and C(kubeforge.cluster.control_plane) roles call this module once per run, only
    when a node still has to join.
seealso:
  - name: kubeadm token
    description: The kubeadm command this module wraps.
    link: https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-token/
"""

EXAMPLES = r"""
- name: Get join material from the first control plane
  kubeforge.cluster.kubeadm_token:
  delegate_to: "{{ groups['control_plane'][0] }}"
  run_once: true
  no_log: true
  register: join

- name: Join material for a control-plane node (certificate key included)
  kubeforge.cluster.kubeadm_token:
    upload_certs: true
    min_ttl: 2h
  no_log: true
  register: cp_join
"""

RETURN = r"""
api_server_endpoint:
  description: C(host:port) of the API server from the kubeconfig's server URL (the controlPlaneEndpoint).
  returned: always
  type: str
  sample: 192.168.1.8:6443
ca_cert_hash:
  description: Hash of the CA public key for C(discovery.bootstrapToken.caCertHashes).
  returned: always
  type: str
  sample: sha256:a905fc15814645e8a1cb3a18234feea5206263db820889d0b773cc1cd7751a0e
token:
  description: The bootstrap token C(id.secret). A secret. Not returned in check mode when a token would be created.
  returned: success
  type: str
  sample: abcdef.0123456789abcdef
token_id:
  description: The public part of the token.
  returned: success
  type: str
  sample: abcdef
created:
  description: Whether a new token was (or in check mode would be) created instead of reusing one.
  returned: always
  type: bool
expires:
  description: Expiry time of the token (ISO 8601), null for a token that never expires.
  returned: success
  type: str
  sample: "2026-11-25T09:00:00+00:00"
certificate_key:
  description: Key of the uploaded control-plane certificates. A secret. Not returned in check mode.
  returned: when upload_certs is true
  type: str
"""


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
