# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Paired with AUTH_ARG_SPEC in plugins/module_utils/args.py.
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file, or the kubeconfig itself as a dictionary.
      - When unset, the first file of the E(KUBECONFIG) environment variable is used, then C(~/.kube/config),
        then the in-cluster service account (E(KUBERNETES_SERVICE_HOST) and the mounted token and CA).
      - Contexts, inline or file client certificates and keys, inline or file CA, bearer tokens, C(tokenFile)
        and C(exec) credential plugins are supported. C(insecure-skip-tls-verify) is honoured only when the
        kubeconfig sets it.
    type: raw
  context:
    description:
      - Name of the kubeconfig context to use. Defaults to the kubeconfig's C(current-context).
    type: str
  host:
    description:
      - URL of the API server, for example C(https://192.168.1.8:6443). Overrides the kubeconfig's server.
    type: str
  api_key:
    description:
      - Bearer token used to authenticate. Overrides the kubeconfig's credentials. Never logged.
    type: str
  ca_cert:
    description:
      - Path to the CA certificate file that signed the API server's certificate.
    type: path
  client_cert:
    description:
      - Path to a client certificate file for TLS client authentication.
    type: path
  client_key:
    description:
      - Path to the private key file of O(client_cert).
    type: path
  validate_certs:
    description:
      - Whether to verify the API server's certificate. When unset, verification is on unless the kubeconfig
        cluster sets C(insecure-skip-tls-verify).
    type: bool
  request_timeout:
    description:
      - Seconds to wait for one API request (connect and response) before retrying or failing.
    type: float
    default: 30.0
"""
