# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Push every image of an offline bundle (its OCI layout) to the user's registry.

An image ``<upstream host>/<path>:<tag>`` becomes ``<registry>[/<prefix>]/<path>:<tag>``
(registry.k8s.io/coredns/coredns -> registry.example:5000/coredns/coredns), so kubeadm's ``imageRepository``,
flannel's and metrics-server's registries each become one prefix. The credentials are tried on every repository
before the first blob is sent; what the registry already holds (HEAD) is not sent again.
"""

from __future__ import annotations

import json
import os

from ansible_collections.kubeforge.cluster.plugins.module_utils.registry import Registry, parse_reference
from ansible_collections.kubeforge.cluster.plugins.module_utils.registry_layout import Layout, push


def target_of(name: str, registry: str) -> tuple:
    """(host, repository, tag, full reference) of image ``name`` in ``registry`` (``host[:port][/prefix]``).

    registry.k8s.io/coredns/coredns becomes <registry>/coredns: with an imageRepository other than registry.k8s.io
    kubeadm asks for <imageRepository>/coredns:<tag> (kubernetes cmd/kubeadm/app/images/images.go, GetDNSImage: the
    extra /coredns path is added only for the default repository).
    """
    host, _slash, prefix = registry.partition("/")
    upstream, repo, tag, digest = parse_reference(name)
    if upstream == "registry.k8s.io" and repo == "coredns/coredns":
        repo = "coredns"
    repo = f"{prefix.strip('/')}/{repo}" if prefix.strip("/") else repo
    reference = tag or digest
    return host, repo, reference, f"{host}/{repo}{'@' if digest and not tag else ':'}{reference}"


def push_bundle(params: dict, check_mode: bool = False) -> dict:
    with open(os.path.join(params["path"], "manifest.json"), "rb") as handle:
        manifest = json.load(handle)
    layout = Layout(os.path.join(params["path"], "images"))
    host = params["registry"].partition("/")[0]
    auth = (params["username"], params.get("password")) if params.get("username") else None
    registry = Registry(host, auth, params.get("ca_file"), params.get("plain_http", False))
    targets = [(image["name"], *target_of(image["name"], params["registry"])) for image in manifest.get("images", [])]
    for _name, _host, repo, _ref, _full in targets:
        registry.check_access(repo, push=True)
    pushed = []
    for name, _host, repo, reference, full in targets:
        if push(registry, layout, name, (repo, reference), check_mode):
            pushed.append(full)
    return {"changed": bool(pushed), "pushed": pushed, "images": {name: full for name, _h, _r, _t, full in targets}}
