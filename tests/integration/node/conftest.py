"""Fixtures of the node/drain integration tests (helpers in node_cluster.py)."""

from __future__ import annotations

import pytest
from node_cluster import POD_STOP_SECONDS, Cluster, run_playbook


@pytest.fixture
def cluster(apiserver_factory):
    server = apiserver_factory("--pod-stop-seconds", POD_STOP_SECONDS)
    cluster = Cluster(server)
    yield cluster
    cluster.client.close()


@pytest.fixture
def run_node_playbook(tmp_path):
    """``run_node_playbook(cluster, "drain.yml", limit="k8s-0", extra_vars={...}, check=False)``."""

    def _run(cluster, playbook, **options):
        return run_playbook(tmp_path, cluster, playbook, **options)

    return _run
