"""Fixtures of the etcd backup/restore tests: a real etcd as the static pod of a private control-plane root."""

from __future__ import annotations

import pytest
from etcd_cluster import EtcdCluster
from etcd_node import EtcdNode, available


def _need_etcd():
    if not available():
        pytest.fail(
            "Debian's etcd-server and etcd-client packages are needed (apt-get install etcd-server etcd-client)"
        )


@pytest.fixture
def etcd_node(tmp_path):
    _need_etcd()
    node = EtcdNode(tmp_path / "root").create()
    node.start_kubelet()
    yield node
    node.stop()


@pytest.fixture
def etcd_cluster(tmp_path):
    """Three control planes (cp-0..cp-2) whose etcd members form one real cluster, joined as kubeadm joins them."""
    _need_etcd()
    cluster = EtcdCluster(tmp_path / "cluster")
    try:
        yield cluster.create()
    finally:
        cluster.stop()
