"""Pod classification and the drain loop (plugins/module_utils/node.py) against the in-memory FakeClient."""

from __future__ import annotations

import pytest
from ansible_collections.kubeforge.cluster.plugins.module_utils import node as node_utils
from ansible_collections.kubeforge.cluster.plugins.module_utils import pods as pod_utils
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from node_fakes import FakeModule, make_pod

KUBECTL_SEED = {"ignore_daemonsets": True, "delete_emptydir_data": True}


def _classify(pods, existing_daemonsets=(), **options):
    return pod_utils.classify_pods(pods, options, lambda ns, name: (ns, name) in existing_daemonsets)


def _refs(pods):
    return [pod_utils.pod_ref(p) for p in pods]


def test_classify_like_kubectl_drain():
    pods = [
        make_pod("web-1"),
        make_pod("etcd-n1", owner="Node", annotations={pod_utils.MIRROR_ANNOTATION: "x"}),
        make_pod("proxy-1", owner="DaemonSet", owner_name="proxy", namespace="kube-system"),
        make_pod("cache-1", volumes=[{"name": "scratch", "emptyDir": {}}]),
        make_pod("bare", owner=None),
        make_pod("job-done", owner=None, phase="Succeeded"),
    ]
    plan = _classify(pods, {("kube-system", "proxy")}, **KUBECTL_SEED)
    assert _refs(plan.remove) == ["default/web-1", "default/cache-1", "default/job-done"]
    assert [s["pod"] for s in plan.skipped] == ["default/etcd-n1", "kube-system/proxy-1"]
    assert plan.errors == [
        {"pod": "default/bare", "reason": "is not managed by a controller, nothing would recreate it (set force)"}
    ]


def test_classify_refuses_daemonset_and_emptydir_without_options():
    pods = [
        make_pod("proxy-1", owner="DaemonSet", owner_name="proxy"),
        make_pod("cache-1", volumes=[{"name": "scratch", "emptyDir": {}}, {"name": "cfg", "configMap": {}}]),
        make_pod("bare-cache", owner=None, volumes=[{"name": "tmp", "emptyDir": {"medium": "Memory"}}]),
    ]
    plan = _classify(pods, {("default", "proxy")})
    reasons = {e["pod"]: e["reason"] for e in plan.errors}
    assert reasons["default/proxy-1"] == "managed by DaemonSet proxy (set ignore_daemonsets to skip it)"
    assert reasons["default/cache-1"] == "uses emptyDir volume(s) scratch whose data is lost (set delete_emptydir_data)"
    assert "tmp" in reasons["default/bare-cache"] and "set force" in reasons["default/bare-cache"]
    assert plan.remove == []


def test_classify_orphaned_daemonset_pod_needs_force():
    pod = make_pod("proxy-1", owner="DaemonSet", owner_name="gone")
    assert _classify([pod], ignore_daemonsets=True).errors[0]["pod"] == "default/proxy-1"
    forced = _classify([pod], ignore_daemonsets=True, force=True)
    assert _refs(forced.remove) == ["default/proxy-1"]
    assert forced.warnings == ["deleting pod default/proxy-1, which no controller will recreate"]


def test_classify_terminating_pods_are_waited_for_not_evicted():
    pod = make_pod("web-1")
    pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    plan = _classify([pod])
    assert plan.remove == [] and _refs(plan.terminating) == ["default/web-1"]


def _raise(error):
    """An eviction hook that always fails with ``error``."""

    def _hook(_pod):
        raise error

    return _hook


def _drainer(fake, clock, check_mode=False, **options):
    return node_utils.Drainer(fake, options, check_mode=check_mode, clock=clock, sleep=clock.sleep)


def test_drain_evicts_with_uid_precondition_and_waits_until_gone(fake, clock):
    fake.add_node("n1", unschedulable=True)
    pods = [fake.add_pod(f"web-{i}") for i in range(3)]
    fake.add_pod("other", node="n2")
    fake.stop_polls = 2
    result, changed = node_utils.drain_node(_drainer(fake, clock, grace_period=7), "n1")
    assert changed is True
    assert sorted(result["evicted"]) == ["default/web-0", "default/web-1", "default/web-2"]
    assert [p["metadata"]["name"] for p in fake.pods] == ["other"]
    evictions = [c[1] for c in fake.calls if c[0] == "POST"]
    assert sorted(evictions) == [f"/api/v1/namespaces/default/pods/web-{i}/eviction" for i in range(3)]
    assert clock.sleeps and all(s == DEFAULT_POLL for s in clock.sleeps)
    assert pods[0]["metadata"]["deletionTimestamp"]
    first = next(b for (m, _p, _q), b in zip(fake.calls, fake.bodies) if m == "POST")
    assert first == {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": "web-0", "namespace": "default"},
        "deleteOptions": {"preconditions": {"uid": pods[0]["metadata"]["uid"]}, "gracePeriodSeconds": 7},
    }


DEFAULT_POLL = node_utils.DRAIN_DEFAULTS["poll_interval"]
BUDGET = "The disruption budget db needs 1 healthy pods"
BUDGET_ERROR = KubeforgeError(
    "Cannot evict pod", status=429, causes=[{"reason": "DisruptionBudget", "message": BUDGET}]
)


def test_drain_retries_429_with_backoff_then_succeeds(fake, clock):
    fake.add_node("n1", unschedulable=True)
    fake.add_pod("web-0", labels={"app": "web"})
    fake.pdbs["default"] = [{"metadata": {"name": "web-pdb"}, "spec": {"selector": {"matchLabels": {"app": "web"}}}}]
    refusals = [3]

    def _hook(_pod):
        if refusals[0]:
            refusals[0] -= 1
            raise KubeforgeError("Cannot evict pod as it would violate the pod's disruption budget.", status=429)

    fake.evict_hook = _hook
    result, changed = node_utils.drain_node(_drainer(fake, clock), "n1")
    assert changed and result["evicted"] == ["default/web-0"]
    # three refusals then the accepted eviction; back-off doubles from 0.5 s
    assert [c[0] for c in fake.calls if c[0] == "POST"] == ["POST"] * 4
    assert clock.sleeps[:3] == [0.5, 1.0, 2.0]
    assert fake.map_workers == [16, 16, 16, 16], "retries go out in parallel like the first round"


def test_drain_retries_a_conflict_on_the_same_pod(fake, clock):
    fake.add_node("n1", unschedulable=True)
    fake.add_pod("web-0")
    conflicts = [1]

    def _hook(_pod):
        if conflicts[0]:
            conflicts[0] -= 1
            raise KubeforgeError("Operation cannot be fulfilled on poddisruptionbudgets", status=409)

    fake.evict_hook = _hook
    result, _changed = node_utils.drain_node(_drainer(fake, clock), "n1")
    assert result["evicted"] == ["default/web-0"]
    assert [c[0] for c in fake.calls if c[0] == "POST"] == ["POST", "POST"]


def test_drain_persistent_conflict_times_out_naming_it(fake, clock):
    fake.add_node("n1", unschedulable=True)
    fake.add_pod("web-0")
    fake.evict_hook = _raise(KubeforgeError("the object has been modified", status=409))
    with pytest.raises(KubeforgeError, match="timed out after 5s draining: 1 pod left") as caught:
        node_utils.drain_node(_drainer(fake, clock, timeout=5), "n1")
    cause = caught.value.causes[0]
    assert cause["reason"] == "Conflict"
    assert cause["message"] == "eviction conflict, retrying: the object has been modified"


def test_drain_times_out_naming_the_pdb_and_the_pods_left(fake, clock):
    fake.add_node("n1", unschedulable=True)
    fake.add_pod("web-0", labels={"app": "web"})
    fake.add_pod("db-0", labels={"app": "db"})
    fake.pdbs["default"] = [{"metadata": {"name": "web-pdb"}, "spec": {"selector": {"matchLabels": {"app": "web"}}}}]

    def _hook(pod):
        if pod["metadata"]["labels"]["app"] == "web":
            raise KubeforgeError(
                "Cannot evict pod as it would violate the pod's disruption budget.",
                status=429,
                causes=[
                    {"reason": "DisruptionBudget", "message": "The disruption budget web-pdb needs 1 healthy pods"}
                ],
            )

    fake.evict_hook = _hook
    fake.stop_polls = 10**6
    with pytest.raises(KubeforgeError) as caught:
        node_utils.drain_node(_drainer(fake, clock, timeout=20), "n1")
    error = caught.value
    assert error.ref == "Node/n1" and error.reason == "DrainFailed"
    assert str(error).startswith("Node/n1: timed out after 20s draining: 2 pods left, the node stays cordoned")
    causes = {c["field"]: c for c in error.causes}
    assert causes["default/web-0"]["message"] == (
        "eviction blocked by PodDisruptionBudget default/web-pdb: The disruption budget web-pdb needs 1 healthy pods"
    )
    assert causes["default/db-0"]["reason"] == "Terminating"
    timeout, max_backoff = 20, 2.0
    assert timeout <= clock.now - 1000.0 <= timeout + DEFAULT_POLL
    assert max(clock.sleeps) <= max_backoff


def test_drain_replacement_with_same_name_is_not_the_old_pod(fake, clock):
    fake.add_node("n1", unschedulable=True)
    old = fake.add_pod("db-0", owner="StatefulSet")
    old_uid = old["metadata"]["uid"]

    def _hook(pod):
        # the StatefulSet controller recreated db-0 (new uid) on the same node before the eviction arrived
        fake.pods.remove(pod)
        fake.add_pod("db-0", owner="StatefulSet")
        raise KubeforgeError(f"Precondition failed: UID in precondition: {old_uid}", status=409)

    fake.evict_hook = _hook
    result, _changed = node_utils.drain_node(_drainer(fake, clock), "n1")
    assert result["evicted"] == ["default/db-0"]
    assert [p["metadata"]["uid"] for p in fake.pods] != [old_uid]


def test_drain_pod_gone_before_eviction_counts_as_removed(fake, clock):
    fake.add_node("n1", unschedulable=True)
    fake.add_pod("web-0")
    fake.evict_hook = _raise(KubeforgeError("pods not found", status=404))
    result, _changed = node_utils.drain_node(_drainer(fake, clock), "n1")
    assert result["evicted"] == ["default/web-0"]


def test_drain_other_eviction_error_fails_at_once(fake, clock):
    fake.add_node("n1", unschedulable=True)
    fake.add_pod("web-0")

    def _hook(_pod):
        raise KubeforgeError("This pod has more than one PodDisruptionBudget", status=500)

    fake.evict_hook = _hook
    with pytest.raises(KubeforgeError, match="could not remove every pod: 1 pod left") as caught:
        node_utils.drain_node(_drainer(fake, clock), "n1")
    assert caught.value.causes[0]["message"] == "This pod has more than one PodDisruptionBudget"
    assert clock.sleeps == []


def test_drain_disable_eviction_deletes(fake, clock):
    fake.add_node("n1", unschedulable=True)
    fake.add_pod("web-0")
    fake.evict_hook = _raise(AssertionError("no eviction expected"))
    result, _changed = node_utils.drain_node(_drainer(fake, clock, disable_eviction=True), "n1")
    assert result["evicted"] == ["default/web-0"]
    assert [c[0] for c in fake.writes()] == ["DELETE"]


def test_drain_refuses_before_removing_anything(fake, clock):
    fake.add_node("n1", unschedulable=True)
    fake.add_pod("web-0")
    fake.add_pod("bare", owner=None)
    with pytest.raises(KubeforgeError, match=r"cannot drain: 1 pod cannot be removed") as caught:
        node_utils.drain_node(_drainer(fake, clock), "n1")
    assert caught.value.causes[0]["field"] == "default/bare"
    assert fake.writes() == []


def test_drain_check_mode_lists_dry_runs_and_changes_nothing(fake, clock):
    fake.add_node("n1", unschedulable=True)
    fake.add_pod("web-0")
    fake.add_pod("db-0", labels={"app": "db"})
    fake.evict_hook = lambda pod: pod["metadata"]["name"] == "db-0" and _raise(BUDGET_ERROR)(pod)
    result, changed = node_utils.drain_node(_drainer(fake, clock, check_mode=True), "n1")
    assert changed is True and result["evicted"] == ["default/web-0", "default/db-0"]
    assert result["blocked"] == [
        {"pod": "default/db-0", "reason": f"eviction refused with 429 Too Many Requests: {BUDGET}"}
    ]
    assert all(body["deleteOptions"]["dryRun"] == ["All"] for body in fake.bodies if body)
    assert [p for p in fake.pods if p["metadata"].get("deletionTimestamp")] == []


def test_drain_check_mode_with_disable_eviction_sends_nothing(fake, clock):
    fake.add_node("n1", unschedulable=True)
    fake.add_pod("web-0")
    result, _changed = node_utils.drain_node(_drainer(fake, clock, check_mode=True, disable_eviction=True), "n1")
    assert result["blocked"] == [] and fake.writes() == []


def test_drain_pod_selector_limits_the_pods(fake, clock):
    fake.add_node("n1", unschedulable=True)
    fake.add_pod("web-0", labels={"app": "web"})
    fake.add_pod("db-0", labels={"app": "db"})
    result, _changed = node_utils.drain_node(_drainer(fake, clock, pod_selector="app=web"), "n1")
    assert result["evicted"] == ["default/web-0"]
    assert [p["metadata"]["name"] for p in fake.pods] == ["db-0"]


def _params(**overrides):
    params = {
        "name": ["n1"],
        "label_selector": None,
        "all_nodes": None,
        "state": "present",
        "labels": None,
        "taints": None,
        "wait_ready": False,
        **node_utils.DRAIN_DEFAULTS,
        "poll_interval": 0.001,
    }
    params.update(overrides)
    return params


def test_run_node_drain_then_idempotent(fake):
    fake.add_node("n1")
    fake.add_pod("web-0")
    fake.add_pod("proxy", owner="DaemonSet", owner_name="proxy")
    fake.daemonsets.add(("default", "proxy"))
    module = FakeModule(_params(state="drained", **KUBECTL_SEED), diff=True)
    result = node_utils.run_node(module, fake)
    assert result["changed"] is True
    entry = result["nodes"][0]
    assert entry["unschedulable"] is True and entry["evicted"] == ["default/web-0"]
    assert entry["skipped"] == [{"pod": "default/proxy", "reason": "managed by DaemonSet proxy"}]
    assert result["diff"]["before"]["nodes"]["n1"]["unschedulable"] is False
    assert result["diff"]["after"]["nodes"]["n1"]["unschedulable"] is True
    again = node_utils.run_node(FakeModule(_params(state="drained", **KUBECTL_SEED)), fake)
    assert again["changed"] is False and again["nodes"][0]["evicted"] == []


def test_run_node_check_mode_changes_nothing(fake):
    fake.add_node("n1")
    fake.add_pod("web-0")
    result = node_utils.run_node(FakeModule(_params(state="drained"), check_mode=True), fake)
    assert result["changed"] is True and result["nodes"][0]["evicted"] == ["default/web-0"]
    assert all(q.get("dryRun") == "All" for _m, _p, q in fake.writes())
    assert "unschedulable" not in fake.nodes["n1"]["spec"] and len(fake.pods) == 1


def test_run_node_refused_drain_leaves_node_cordoned(fake):
    fake.add_node("n1")
    fake.add_pod("bare", owner=None)
    with pytest.raises(KubeforgeError, match="cannot drain"):
        node_utils.run_node(FakeModule(_params(state="drained")), fake)
    assert fake.nodes["n1"]["spec"]["unschedulable"] is True


def test_run_node_cordons_every_node_before_draining_the_first(fake):
    fake.add_node("n1")
    fake.add_node("n2")
    fake.add_pod("web-0")
    order = []
    fake.evict_hook = lambda pod: order.append(fake.nodes["n2"]["spec"].get("unschedulable"))
    node_utils.run_node(FakeModule(_params(name=["n1", "n2"], state="drained")), fake)
    assert order == [True]


def test_run_node_uncordon_waits_ready_and_is_idempotent(fake):
    fake.add_node("n1", unschedulable=True)
    result = node_utils.run_node(FakeModule(_params(state="uncordoned", wait_ready=True)), fake)
    assert result["changed"] is True and result["nodes"][0]["unschedulable"] is False
    assert node_utils.run_node(FakeModule(_params(state="uncordoned")), fake)["changed"] is False
    assert node_utils.run_node(FakeModule(_params(state="cordoned")), fake)["changed"] is True
    assert node_utils.run_node(FakeModule(_params(state="cordoned")), fake)["changed"] is False


def test_run_node_remove_master_taint_on_all_nodes(fake):
    fake.add_node("master", taints=[{"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}])
    fake.add_node("worker")
    params = _params(name=None, all_nodes=True, taints=[{"key": "node-role.kubernetes.io/master", "state": "absent"}])
    result = node_utils.run_node(FakeModule(params), fake)
    assert [(n["name"], n["changed"]) for n in result["nodes"]] == [("master", True), ("worker", False)]
    assert "taints" not in fake.nodes["master"]["spec"]
    assert node_utils.run_node(FakeModule(params), fake)["changed"] is False
