"""kubeforge.cluster.node against the API test server: drain semantics, PodDisruptionBudgets, idempotence.

The module's logic runs in this process (``cluster.run``) over real HTTPS to a private kubesim server whose kubelet
simulator keeps a deleted pod terminating for ``POD_STOP_SECONDS``; test_node_playbooks.py runs it through
ansible-playbook.
"""

from __future__ import annotations

import importlib
import threading
import time

import pytest
from node_cluster import NAMESPACE, SPARE, TARGET

KubeforgeError = importlib.import_module(
    "ansible_collections.kubeforge.cluster.plugins.module_utils.errors"
).KubeforgeError

SEED = {"ignore_daemonsets": True, "delete_emptydir_data": True}
WEB, PAIR, THIRTY = 3, 2, 30  # replica counts of the workloads
SCRATCH = [{"name": "scratch", "emptyDir": {}}]


def _names(pods):
    return sorted(p["metadata"]["name"] for p in pods)


def _drain(cluster, **params):
    return cluster.run(name=[TARGET], state="drained", **params)


def test_drain_skips_daemonset_and_mirror_pods_evicts_the_rest(cluster):
    cluster.start_on_target(
        lambda: cluster.deployment("web", WEB, volumes=SCRATCH),
        lambda: cluster.daemonset("agent"),
        lambda: cluster.mirror_pod("etcd"),
    )
    cluster.wait_running(WEB + 2)
    cluster.open_spare()
    web = {p["metadata"]["uid"] for p in cluster.pods() if p["metadata"]["name"].startswith("web-")}

    result = _drain(cluster, **SEED)

    entry = result["nodes"][0]
    assert result["changed"] is True and entry["unschedulable"] is True
    assert len(entry["evicted"]) == WEB and all(ref.startswith("default/web-") for ref in entry["evicted"])
    reasons = {s["pod"]: s["reason"] for s in entry["skipped"]}
    assert reasons[f"kube-system/etcd-{TARGET}"] == "mirror pod of a static pod (the kubelet owns it)"
    assert [r for r in reasons.values() if r == "managed by DaemonSet agent"]
    assert not web & cluster.pod_uids(), "an evicted pod is still on the node"
    left = cluster.pods()
    assert [p["metadata"]["name"] for p in left if p["metadata"]["name"].startswith("web-")] == []
    assert f"etcd-{TARGET}" in _names(left)
    assert cluster.node()["spec"]["unschedulable"] is True
    cluster.wait_running(WEB + 1, node=SPARE)  # the Deployment's replacements (and the agent) run on the spare


def test_drain_refuses_daemonset_emptydir_and_bare_pods_listing_them(cluster):
    cluster.start_on_target(
        lambda: cluster.deployment("cache", 1, volumes=SCRATCH),
        lambda: cluster.daemonset("agent"),
        lambda: cluster.bare_pod("lonely"),
    )
    cluster.wait_running(3)
    cluster.open_spare()
    before = cluster.pod_uids()

    with pytest.raises(KubeforgeError) as caught:
        _drain(cluster)

    error = caught.value
    assert error.reason == "DrainRefused"
    assert str(error).startswith(f"Node/{TARGET}: cannot drain: 3 pods cannot be removed")
    causes = {c["field"]: c["message"] for c in error.causes}
    assert causes["default/lonely"] == "is not managed by a controller, nothing would recreate it (set force)"
    assert [m for f, m in causes.items() if f.startswith("default/cache-") and "set delete_emptydir_data" in m]
    assert [m for f, m in causes.items() if f.startswith("default/agent-") and "set ignore_daemonsets" in m]
    assert cluster.pod_uids() == before, "a refused drain must not remove anything"
    assert cluster.node()["spec"]["unschedulable"] is True, "the node stays cordoned"


def test_bare_pod_is_deleted_only_with_force(cluster):
    cluster.start_on_target(lambda: cluster.bare_pod("lonely"))
    cluster.wait_running(1)
    with pytest.raises(KubeforgeError, match="set force"):
        _drain(cluster)
    assert _names(cluster.pods()) == ["lonely"]

    result = _drain(cluster, force=True)

    assert result["nodes"][0]["evicted"] == ["default/lonely"]
    assert cluster.pods() == []


def _scale_when_blocked(cluster, seen):
    """After the drain has been refused for a while, record what is still on the node and scale web up."""
    time.sleep(1.5)
    seen.append(_names(cluster.pods()))
    cluster.scale("web", PAIR + 1)


def test_pdb_blocks_until_the_workload_is_scaled_up(cluster):
    cluster.start_on_target(lambda: cluster.deployment("web", PAIR), lambda: cluster.pdb("web", "web", PAIR))
    cluster.wait_running(PAIR)
    cluster.open_spare()
    seen = []
    scaler = threading.Thread(target=_scale_when_blocked, args=(cluster, seen))
    scaler.start()
    try:
        result = _drain(cluster, timeout=60)
    finally:
        scaler.join()

    assert len(seen[0]) == PAIR, "the PodDisruptionBudget should have blocked every eviction before the scale-up"
    assert len(result["nodes"][0]["evicted"]) == PAIR
    assert cluster.pods() == []
    cluster.wait_running(PAIR + 1, node=SPARE)


def test_pdb_that_never_yields_times_out_with_the_node_cordoned(cluster):
    cluster.start_on_target(lambda: cluster.deployment("web", PAIR), lambda: cluster.pdb("web", "web", PAIR))
    cluster.wait_running(PAIR)
    cluster.open_spare()
    before = cluster.pod_uids()

    with pytest.raises(KubeforgeError) as caught:
        _drain(cluster, timeout=3)

    error = caught.value
    assert str(error).startswith(f"Node/{TARGET}: timed out after 3s draining: 2 pods left, the node stays cordoned")
    assert len(error.causes) == PAIR
    for cause in error.causes:
        assert cause["message"].startswith("eviction blocked by PodDisruptionBudget default/web: ")
        assert "needs 2 healthy pods" in cause["message"]
    assert cluster.pod_uids() == before
    assert cluster.node()["spec"]["unschedulable"] is True


def test_disable_eviction_deletes_despite_the_pdb(cluster):
    cluster.start_on_target(lambda: cluster.deployment("web", PAIR), lambda: cluster.pdb("web", "web", PAIR))
    cluster.wait_running(PAIR)
    cluster.open_spare()
    result = _drain(cluster, disable_eviction=True, timeout=30)
    assert len(result["nodes"][0]["evicted"]) == PAIR
    assert cluster.pods() == []


def test_thirty_pods_on_one_node(cluster):
    cluster.start_on_target(lambda: cluster.deployment("web", THIRTY), lambda: cluster.daemonset("agent"))
    cluster.wait_running(THIRTY + 1)
    cluster.open_spare()

    result = _drain(cluster, **SEED)

    assert len(result["nodes"][0]["evicted"]) == THIRTY
    assert [p["metadata"]["name"] for p in cluster.pods() if not p["metadata"]["name"].startswith("agent-")] == []


def test_pod_selector_limits_the_drain(cluster):
    cluster.start_on_target(lambda: cluster.deployment("web", PAIR), lambda: cluster.deployment("db", 1))
    cluster.wait_running(PAIR + 1)
    cluster.open_spare()
    result = _drain(cluster, pod_selector="app=web")
    assert len(result["nodes"][0]["evicted"]) == PAIR
    assert [p["metadata"]["labels"]["app"] for p in cluster.pods()] == ["db"]


def test_check_mode_lists_and_changes_nothing(cluster):
    cluster.start_on_target(lambda: cluster.deployment("web", PAIR))
    cluster.wait_running(PAIR)
    cluster.open_spare()
    before = cluster.pod_uids()
    version = cluster.node()["metadata"]["resourceVersion"]

    result = cluster.run(check_mode=True, diff=True, name=[TARGET], state="drained")

    entry = result["nodes"][0]
    assert result["changed"] is True and entry["unschedulable"] is True and len(entry["evicted"]) == PAIR
    assert result["diff"]["after"]["nodes"][TARGET]["unschedulable"] is True
    assert entry["blocked"] == []
    node = cluster.node()
    assert node["metadata"]["resourceVersion"] == version and not node["spec"].get("unschedulable")
    assert cluster.pod_uids() == before
    assert [p["metadata"]["name"] for p in cluster.pods() if p["metadata"].get("deletionTimestamp")] == []


def test_check_mode_names_the_budget_that_would_refuse(cluster):
    cluster.start_on_target(lambda: cluster.deployment("web", PAIR), lambda: cluster.pdb("web", "web", PAIR))
    cluster.wait_running(PAIR)
    budget = cluster.call("GET", f"/apis/policy/v1/namespaces/{NAMESPACE}/poddisruptionbudgets/web")
    before = cluster.pod_uids()

    result = cluster.run(check_mode=True, name=[TARGET], state="drained")

    blocked = result["nodes"][0]["blocked"]
    assert len(blocked) == PAIR
    assert all(b["reason"].startswith("eviction blocked by PodDisruptionBudget default/web: ") for b in blocked)
    assert cluster.pod_uids() == before and not cluster.node()["spec"].get("unschedulable")
    after = cluster.call("GET", f"/apis/policy/v1/namespaces/{NAMESPACE}/poddisruptionbudgets/web")
    assert after["metadata"]["resourceVersion"] == budget["metadata"]["resourceVersion"]


def test_cordon_drain_uncordon_are_idempotent(cluster):
    assert cluster.run(name=[TARGET], state="cordoned")["changed"] is True
    assert cluster.run(name=[TARGET], state="cordoned")["changed"] is False
    version = cluster.node()["metadata"]["resourceVersion"]
    empty = cluster.run(name=[TARGET], state="drained")
    assert empty["changed"] is False and empty["nodes"][0]["evicted"] == []
    assert cluster.node()["metadata"]["resourceVersion"] == version
    assert cluster.run(name=[TARGET], state="uncordoned", wait_ready=True)["changed"] is True
    assert cluster.run(name=[TARGET], state="uncordoned")["changed"] is False
    assert not cluster.node()["spec"].get("unschedulable")


def test_remove_the_master_taint_from_all_nodes(cluster):
    taints = [
        {"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"},
        {"key": "keep", "value": "me", "effect": "PreferNoSchedule"},
    ]
    cluster.call("PATCH", f"/api/v1/nodes/{TARGET}", {"spec": {"taints": taints}}, "application/merge-patch+json")
    remove = [{"key": "node-role.kubernetes.io/master", "state": "absent"}]

    result = cluster.run(all_nodes=True, taints=remove, labels={"node-role.kubernetes.io/worker": ""})

    assert [(n["name"], n["changed"]) for n in result["nodes"]] == [(TARGET, True), (SPARE, True)]
    assert cluster.node()["spec"]["taints"] == [taints[1]]
    assert cluster.node(SPARE)["metadata"]["labels"]["node-role.kubernetes.io/worker"] == ""
    again = cluster.run(all_nodes=True, taints=remove, labels={"node-role.kubernetes.io/worker": ""})
    assert again["changed"] is False


def test_unknown_node_and_bad_taint_are_named(cluster):
    with pytest.raises(KubeforgeError, match="Node/k8s9: node not found"):
        cluster.run(name=["k8s9"], state="cordoned")
    with pytest.raises(KubeforgeError, match=r"taints\[0\]\.effect is required to add taint gpu"):
        cluster.run(name=[TARGET], taints=[{"key": "gpu", "value": "x", "effect": None, "state": "present"}])
