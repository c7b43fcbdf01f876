"""site.yml's reachability preflight (playbooks/tasks/reachability.yml) against a local HTTP server.

Issue 14 A8/B12: the probes follow what the nodes will use (kube_packages' file mirror, containerd's registry mirror
endpoints) without cluster_preflight_sources; a file must answer 200 (redirects followed), a registry's /v2/ 200 or
401; a 404 is unreachable.
"""

from __future__ import annotations

import http.server

import pytest
from test_site_preflight import _assert_stopped_early, _inventory, _run

pytestmark = pytest.mark.slow

KUBEADM_SHA = "/files/release/v1.37.1/bin/linux/amd64/kubeadm.sha256"
# path -> (status, Location header)
ROUTES = {
    KUBEADM_SHA: (302, "/cdn/kubeadm.sha256"),  # dl.k8s.io redirects to its CDN
    "/cdn/kubeadm.sha256": (200, None),
    "/registry/v2/": (200, None),
    "/token-registry/v2/": (401, None),
    "/gone/release/v1.37.1/bin/linux/amd64/kubeadm.sha256": (302, "/cdn/missing"),
}


def _answer(handler):
    status, location = ROUTES.get(handler.path, (404, None))
    handler.send_response(status)
    if location:
        handler.send_header("Location", location)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


class _Handler(http.server.BaseHTTPRequestHandler):
    do_GET = _answer  # http.server calls do_<METHOD>

    def log_message(self, *_args):
        pass


@pytest.fixture(scope="module")
def server(local_http_server):
    with local_http_server(_Handler) as url:
        yield url


def _offline(base, files="files", registry="registry"):
    """An offline cluster: kube_packages from a file mirror, registry.k8s.io through a plain-HTTP containerd mirror."""
    return {
        "cluster_preflight_reachability": True,
        "kube_packages_install_method": "mirror",
        "kube_packages_mirror_url": f"{base}/{files}",
        "containerd_registry_mirrors": [{"registry": "registry.k8s.io", "endpoints": [f"{base}/{registry}"]}],
    }


def test_offline_mirrors_pass_without_restating_them(tmp_path, server):
    run = _run(_inventory(tmp_path, extra=_offline(server)), "--tags", "preflight")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{server}/registry/v2/" in run.stdout  # probed the mirror, not https://registry.k8s.io/v2/
    assert "https://registry.k8s.io" not in run.stdout


def test_check_mode_probes_too(tmp_path, server):
    """Issue 18: site.yml --check on a reachable mirror passes the preflight (uri was skipped in check mode, so
    every source counted as unreachable); an unreachable one still stops it."""
    run = _run(_inventory(tmp_path, extra=_offline(server)), "--tags", "preflight", "--check")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{server}/registry/v2/" in run.stdout
    run = _run(_inventory(tmp_path, extra=_offline(server, files="nothing-here")), "--tags", "preflight", "--check")
    _assert_stopped_early(run, "preflight: Kubernetes package source unreachable from kube-master", "answered 404")


def test_a_registry_asking_for_a_token_is_reachable(tmp_path, server):
    run = _run(_inventory(tmp_path, extra=_offline(server, registry="token-registry")), "--tags", "preflight")
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize(
    ("where", "phrases"),
    [
        (
            {"files": "nothing-here"},
            (
                "preflight: Kubernetes package source unreachable from kube-master",
                "/nothing-here/release/v1.37.1/bin/linux/amd64/kubeadm.sha256: answered 404, expected 200",
            ),
        ),
        ({"files": "gone"}, ("answered 404, expected 200",)),  # the redirect is followed to a missing file
        (
            {"registry": "not-a-registry"},
            (
                "preflight: image registry unreachable from kube-master",
                "/not-a-registry/v2/: answered 404, expected 200 or 401",
            ),
        ),
    ],
    ids=["missing-file", "redirect-to-missing-file", "404-is-not-a-registry"],
)
def test_what_does_not_answer_as_expected_is_unreachable(tmp_path, server, where, phrases):
    run = _run(_inventory(tmp_path, extra=_offline(server, **where)), "--tags", "preflight")
    _assert_stopped_early(run, *phrases, "Nothing was changed")
