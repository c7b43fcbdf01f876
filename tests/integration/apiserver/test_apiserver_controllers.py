"""Simulated control plane: workloads, scheduling, kubelet, graceful deletion, GC, endpoints, HPA, eviction."""

from __future__ import annotations

import time

import pytest
from kubesim.helpers import deployment, wait_for

HTTP_OK = 200
HTTP_CREATED = 201
HTTP_NOT_FOUND = 404
HTTP_TOO_MANY = 429
MERGE = "application/merge-patch+json"
NS = "default"
TWO, THREE, FOUR = 2, 3, 4
IGNORED = 99
DEFAULT_GRACE = 30


def pods(server, selector, ns=NS):
    _status, body = server.request("GET", f"/api/v1/namespaces/{ns}/pods?labelSelector={selector}")
    return body["items"]


def ready(pod):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


@pytest.fixture
def cluster(apiserver_factory):
    server = apiserver_factory("--pod-stop-seconds", "0.2")
    server.add_nodes(3, "worker")
    return server


def test_nodes_are_simulated_ready(cluster):
    _status, node = cluster.request("GET", "/api/v1/nodes/worker-0")
    status = node["status"]
    assert {c["type"]: c["status"] for c in status["conditions"]}["Ready"] == "True"
    assert status["capacity"]["cpu"] == "4"
    assert status["nodeInfo"]["kubeletVersion"] == "v1.37.0"
    assert any(a["type"] == "InternalIP" for a in status["addresses"])


def test_deployment_rollout_and_rollback(cluster):
    base = f"/apis/apps/v1/namespaces/{NS}/deployments"
    cluster.request("POST", base, deployment("web", 3))

    def rolled_out():
        _status, dep = cluster.request("GET", f"{base}/web")
        status = dep.get("status", {})
        done = status.get("updatedReplicas") == THREE and status.get("availableReplicas") == THREE
        return dep if done and status.get("observedGeneration") == dep["metadata"]["generation"] else None

    dep = wait_for(rolled_out)
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    _status, events = cluster.request(
        "GET",
        f"/api/v1/namespaces/{NS}/events?fieldSelector=involvedObject.name%3Dweb,involvedObject.kind%3DDeployment",
    )
    assert "ScalingReplicaSet" in {e["reason"] for e in events["items"]}
    conditions = {c["type"]: c for c in dep["status"]["conditions"]}
    assert conditions["Available"]["reason"] == "MinimumReplicasAvailable"
    assert conditions["Progressing"]["reason"] == "NewReplicaSetAvailable"
    _status, rs_list = cluster.request("GET", f"/apis/apps/v1/namespaces/{NS}/replicasets?labelSelector=app%3Dweb")
    (rs,) = rs_list["items"]
    pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{pod_hash}"
    assert rs["spec"]["selector"]["matchLabels"]["pod-template-hash"] == pod_hash
    assert rs["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    running = pods(cluster, "app%3Dweb")
    assert len(running) == THREE
    assert all(ready(p) and p["status"]["phase"] == "Running" and p["spec"]["nodeName"] for p in running)
    cluster.request(
        "PATCH",
        f"{base}/web",
        {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.26"}]}}}},
        "application/strategic-merge-patch+json",
    )
    dep = wait_for(rolled_out)
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    wait_for(lambda: len(pods(cluster, "app%3Dweb")) == THREE)
    assert {p["spec"]["containers"][0]["image"] for p in pods(cluster, "app%3Dweb")} == {"nginx:1.26"}
    # rollback = the old template again: the old ReplicaSet is reused with the next revision
    cluster.request(
        "PATCH",
        f"{base}/web",
        {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}}}},
        "application/strategic-merge-patch+json",
    )
    dep = wait_for(rolled_out)
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    _status, old = cluster.request("GET", f"/apis/apps/v1/namespaces/{NS}/replicasets/web-{pod_hash}")
    assert old["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert old["spec"]["replicas"] == THREE


def test_rolling_update_respects_max_unavailable(cluster):
    base = f"/apis/apps/v1/namespaces/{NS}/deployments"
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}
    cluster.request("POST", base, deployment("paced", 4, strategy=strategy, minReadySeconds=1))
    wait_for(lambda: cluster.request("GET", f"{base}/paced")[1].get("status", {}).get("availableReplicas") == FOUR)
    cluster.request("PATCH", f"{base}/paced", {"spec": {"template": {"metadata": {"labels": {"v": "2"}}}}}, MERGE)
    seen_total = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        _status, rs_list = cluster.request(
            "GET", f"/apis/apps/v1/namespaces/{NS}/replicasets?labelSelector=app%3Dpaced"
        )
        total = sum(rs["spec"]["replicas"] for rs in rs_list["items"])
        seen_total.append(total)
        _status, dep = cluster.request("GET", f"{base}/paced")
        if dep["status"].get("updatedReplicas") == FOUR and dep["status"].get("availableReplicas") == FOUR:
            break
        time.sleep(0.05)
    assert max(seen_total) <= FOUR  # maxSurge 0
    assert min(seen_total) >= THREE  # maxUnavailable 1
    assert dep["status"]["updatedReplicas"] == FOUR


def test_scale_subresource(cluster):
    base = f"/apis/apps/v1/namespaces/{NS}/deployments"
    cluster.request("POST", base, deployment("sc", 1))
    status, scale = cluster.request("GET", f"{base}/sc/scale")
    assert status == HTTP_OK
    assert (scale["kind"], scale["apiVersion"], scale["spec"]["replicas"]) == ("Scale", "autoscaling/v1", 1)
    status, scale = cluster.request(
        "PATCH", f"{base}/sc/scale?fieldManager=scaler", {"spec": {"replicas": THREE}}, MERGE
    )
    assert status == HTTP_OK
    assert scale["spec"]["replicas"] == THREE
    _status, dep = cluster.request("GET", f"{base}/sc")
    assert dep["spec"]["replicas"] == THREE
    entry = next(e for e in dep["metadata"]["managedFields"] if e["manager"] == "scaler")
    assert entry["subresource"] == "scale"
    wait_for(lambda: len([p for p in pods(cluster, "app%3Dsc") if ready(p)]) == THREE)
    _status, scale = cluster.request("GET", f"{base}/sc/scale")
    assert scale["status"]["selector"] == "app=sc"
    rc = {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "rc"},
        "spec": {
            "replicas": 1,
            "template": {
                "metadata": {"labels": {"rc": "yes"}},
                "spec": {"containers": [{"name": "c", "image": "x:1"}]},
            },
        },
    }
    status, created = cluster.request("POST", f"/api/v1/namespaces/{NS}/replicationcontrollers", rc)
    assert created["spec"]["selector"] == {"rc": "yes"}
    status, _body = cluster.request(
        "PUT",
        f"/api/v1/namespaces/{NS}/replicationcontrollers/rc/scale",
        {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "rc"}, "spec": {"replicas": TWO}},
    )
    assert status == HTTP_OK
    wait_for(lambda: len(pods(cluster, "rc%3Dyes")) == TWO)


def test_status_subresource_is_separate(cluster):
    base = f"/apis/apps/v1/namespaces/{NS}/deployments"
    cluster.request("POST", base, deployment("st", 0))
    status, dep = cluster.request("PATCH", f"{base}/st", {"status": {"replicas": IGNORED}}, MERGE)
    assert dep.get("status", {}).get("replicas") != IGNORED
    status, dep = cluster.request(
        "PATCH", f"{base}/st/status", {"spec": {"replicas": 5}, "status": {"observedGeneration": 1}}, MERGE
    )
    assert status == HTTP_OK
    assert dep["spec"]["replicas"] == 0


def test_scheduling_taints_selectors_and_pending(cluster):
    cluster.add_nodes(1, "gpu", labels={"gpu": "yes"}, taints=[{"key": "gpu", "value": "yes", "effect": "NoSchedule"}])
    base = f"/api/v1/namespaces/{NS}/pods"
    containers = [{"name": "c", "image": "x:1"}]
    cluster.request(
        "POST",
        base,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "nofit"},
            "spec": {"containers": containers, "nodeSelector": {"gpu": "yes"}},
        },
    )
    cluster.request(
        "POST",
        base,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "fits"},
            "spec": {
                "containers": containers,
                "nodeSelector": {"gpu": "yes"},
                "tolerations": [{"key": "gpu", "operator": "Equal", "value": "yes", "effect": "NoSchedule"}],
            },
        },
    )
    cluster.request(
        "POST",
        base,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "pinned"},
            "spec": {"containers": containers, "nodeName": "worker-2"},
        },
    )
    fits = wait_for(lambda: (p := cluster.request("GET", f"{base}/fits")[1])["status"]["phase"] == "Running" and p)
    assert fits["spec"]["nodeName"] == "gpu-0"
    pinned = wait_for(lambda: (p := cluster.request("GET", f"{base}/pinned")[1])["status"]["phase"] == "Running" and p)
    assert pinned["spec"]["nodeName"] == "worker-2"
    _status, nofit = cluster.request("GET", f"{base}/nofit")
    assert nofit["status"]["phase"] == "Pending"
    cond = next(c for c in nofit["status"]["conditions"] if c["type"] == "PodScheduled")
    assert (cond["status"], cond["reason"]) == ("False", "Unschedulable")
    assert cond["message"].startswith("0/4 nodes are available")
    _status, events = cluster.request(
        "GET", f"/api/v1/namespaces/{NS}/events?fieldSelector=involvedObject.name%3Dnofit"
    )
    assert [(e["type"], e["reason"]) for e in events["items"]] == [("Warning", "FailedScheduling")]
    _status, events = cluster.request("GET", f"/api/v1/namespaces/{NS}/events?fieldSelector=involvedObject.name%3Dfits")
    assert [e["reason"] for e in events["items"]] == ["Scheduled"]
    assert events["items"][0]["message"] == f"Successfully assigned {NS}/fits to gpu-0"


def test_cordon_keeps_new_pods_away(cluster):
    for name in ("worker-0", "worker-1"):
        cluster.request("PATCH", f"/api/v1/nodes/{name}", {"spec": {"unschedulable": True}}, MERGE)
    _status, node = cluster.request("GET", "/api/v1/nodes/worker-0")
    assert {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}.items() <= node["spec"]["taints"][
        0
    ].items()
    cluster.request("POST", f"/apis/apps/v1/namespaces/{NS}/deployments", deployment("spread", 3))
    wait_for(lambda: len([p for p in pods(cluster, "app%3Dspread") if p["spec"].get("nodeName")]) == THREE)
    assert {p["spec"]["nodeName"] for p in pods(cluster, "app%3Dspread")} == {"worker-2"}


def test_graceful_deletion(apiserver_factory):
    server = apiserver_factory("--pod-stop-seconds", "1")
    server.add_nodes(1)
    base = f"/api/v1/namespaces/{NS}/pods"
    server.request(
        "POST",
        base,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "g"},
            "spec": {"containers": [{"name": "c", "image": "x:1"}]},
        },
    )
    wait_for(lambda: server.request("GET", f"{base}/g")[1]["status"]["phase"] == "Running")
    status, body = server.request("DELETE", f"{base}/g")
    assert status == HTTP_OK
    assert body["kind"] == "Pod"
    assert body["metadata"]["deletionTimestamp"]
    assert body["metadata"]["deletionGracePeriodSeconds"] == DEFAULT_GRACE
    status, still = server.request("GET", f"{base}/g")
    assert status == HTTP_OK
    assert still["metadata"]["deletionTimestamp"]
    wait_for(lambda: server.request("GET", f"{base}/g")[0] == HTTP_NOT_FOUND, timeout=5)
    # grace period 0 removes at once
    server.request(
        "POST",
        base,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "now"},
            "spec": {"containers": [{"name": "c", "image": "x:1"}]},
        },
    )
    wait_for(lambda: server.request("GET", f"{base}/now")[1]["status"]["phase"] == "Running")
    status, body = server.request("DELETE", f"{base}/now", {"gracePeriodSeconds": 0})
    assert body["kind"] == "Status"
    assert server.request("GET", f"{base}/now")[0] == HTTP_NOT_FOUND


def test_garbage_collection_by_owner_references(cluster):
    base = f"/apis/apps/v1/namespaces/{NS}/deployments"
    cluster.request("POST", base, deployment("gc", 2))
    wait_for(lambda: len(pods(cluster, "app%3Dgc")) == TWO)
    cluster.request("DELETE", f"{base}/gc")
    wait_for(lambda: not pods(cluster, "app%3Dgc"))
    _status, rs_list = cluster.request("GET", f"/apis/apps/v1/namespaces/{NS}/replicasets?labelSelector=app%3Dgc")
    assert rs_list["items"] == []
    # orphan: the ReplicaSet stays, without its owner reference
    cluster.request("POST", base, deployment("orphan", 1))
    wait_for(lambda: len(pods(cluster, "app%3Dorphan")) == 1)
    status, body = cluster.request("DELETE", f"{base}/orphan", {"propagationPolicy": "Orphan"})
    assert status == HTTP_OK
    wait_for(lambda: cluster.request("GET", f"{base}/orphan")[0] == HTTP_NOT_FOUND)
    _status, rs_list = cluster.request("GET", f"/apis/apps/v1/namespaces/{NS}/replicasets?labelSelector=app%3Dorphan")
    assert len(rs_list["items"]) == 1
    assert not rs_list["items"][0]["metadata"].get("ownerReferences")
    # foreground: the owner waits for its dependents
    cluster.request("POST", base, deployment("fg", 1))
    wait_for(lambda: len(pods(cluster, "app%3Dfg")) == 1)
    status, body = cluster.request("DELETE", f"{base}/fg", {"propagationPolicy": "Foreground"})
    assert "foregroundDeletion" in body["metadata"]["finalizers"]
    wait_for(lambda: cluster.request("GET", f"{base}/fg")[0] == HTTP_NOT_FOUND)
    assert not pods(cluster, "app%3Dfg")


def test_daemonset_one_pod_per_schedulable_node(cluster):
    cluster.add_nodes(1, "tainted", taints=[{"key": "dedicated", "value": "x", "effect": "NoSchedule"}])
    ds = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent"},
        "spec": {
            "selector": {"matchLabels": {"ds": "agent"}},
            "template": {
                "metadata": {"labels": {"ds": "agent"}},
                "spec": {"containers": [{"name": "c", "image": "agent:1"}]},
            },
        },
    }
    cluster.request("POST", f"/apis/apps/v1/namespaces/{NS}/daemonsets", ds)

    def settled():
        _status, obj = cluster.request("GET", f"/apis/apps/v1/namespaces/{NS}/daemonsets/agent")
        return obj if obj.get("status", {}).get("numberReady") == THREE else None

    obj = wait_for(settled)
    assert obj["status"]["desiredNumberScheduled"] == THREE
    assert sorted(p["spec"]["nodeName"] for p in pods(cluster, "ds%3Dagent")) == ["worker-0", "worker-1", "worker-2"]
    cluster.add_nodes(1, "late")
    wait_for(lambda: len(pods(cluster, "ds%3Dagent")) == FOUR)


def test_endpoints_and_endpoint_slices(cluster):
    cluster.request("POST", f"/apis/apps/v1/namespaces/{NS}/deployments", deployment("ep", 2))
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "ep"},
        "spec": {"selector": {"app": "ep"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
    }
    cluster.request("POST", f"/api/v1/namespaces/{NS}/services", svc)

    def endpoints():
        status, body = cluster.request("GET", f"/api/v1/namespaces/{NS}/endpoints/ep")
        subsets = body.get("subsets") if status == HTTP_OK else None
        return body if subsets and len(subsets[0].get("addresses", [])) == TWO else None

    body = wait_for(endpoints)
    assert body["subsets"][0]["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    _status, slices = cluster.request(
        "GET",
        f"/apis/discovery.k8s.io/v1/namespaces/{NS}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dep",
    )
    (eps,) = slices["items"]
    assert eps["addressType"] == "IPv4"
    assert len(eps["endpoints"]) == TWO
    assert all(e["conditions"]["ready"] for e in eps["endpoints"])
    assert eps["metadata"]["ownerReferences"][0]["kind"] == "Service"


def test_hpa_reports_missing_metrics(cluster):
    cluster.request("POST", f"/apis/apps/v1/namespaces/{NS}/deployments", deployment("auto", 1))
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "auto"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "auto"},
            "minReplicas": 2,
            "maxReplicas": 5,
        },
    }
    cluster.request("POST", f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers", hpa)
    # below minReplicas: scaled up even without metrics
    wait_for(
        lambda: cluster.request("GET", f"/apis/apps/v1/namespaces/{NS}/deployments/auto")[1]["spec"]["replicas"] == TWO
    )

    def active_condition():
        _status, obj = cluster.request("GET", f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers/auto")
        conds = {c["type"]: c for c in obj.get("status", {}).get("conditions", [])}
        return conds if conds.get("ScalingActive", {}).get("reason") == "FailedGetResourceMetric" else None

    conds = wait_for(active_condition)
    assert conds["ScalingActive"]["status"] == "False"
    assert "metrics" in conds["ScalingActive"]["message"]
    assert conds["AbleToScale"]["status"] == "True"
    _status, v1 = cluster.request("GET", f"/apis/autoscaling/v1/namespaces/{NS}/horizontalpodautoscalers/auto")
    assert "ScalingActive" in v1["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/conditions"]


def _bare_pod(name, labels):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "x:1"}]},
    }


def _evict(server, name):
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": NS}}
    return server.request("POST", f"/api/v1/namespaces/{NS}/pods/{name}/eviction", eviction)


def test_eviction_honours_pod_disruption_budgets(cluster):
    for name in ("guarded-a", "guarded-b"):
        cluster.request("POST", f"/api/v1/namespaces/{NS}/pods", _bare_pod(name, {"app": "guarded"}))
    wait_for(lambda: len([p for p in pods(cluster, "app%3Dguarded") if ready(p)]) == TWO)
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "guard"},
        "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "guarded"}}},
    }
    pdb_path = f"/apis/policy/v1/namespaces/{NS}/poddisruptionbudgets"
    status, _body = cluster.request("POST", pdb_path, pdb)
    assert status == HTTP_CREATED
    wait_for(lambda: cluster.request("GET", f"{pdb_path}/guard")[1].get("status", {}).get("currentHealthy") == TWO)
    status, body = _evict(cluster, "guarded-a")
    assert status == HTTP_TOO_MANY
    assert body["reason"] == "TooManyRequests"
    assert body["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert body["details"]["causes"] == [
        {
            "reason": "DisruptionBudget",
            "message": "The disruption budget guard needs 2 healthy pods and has 2 currently",
        }
    ]
    cluster.request("PATCH", f"{pdb_path}/guard", {"spec": {"minAvailable": 1}}, MERGE)
    wait_for(lambda: cluster.request("GET", f"{pdb_path}/guard")[1]["status"].get("disruptionsAllowed") == 1)
    status, body = _evict(cluster, "guarded-a")
    assert status == HTTP_CREATED
    assert body["status"] == "Success"
    _status, evicted = cluster.request("GET", f"/api/v1/namespaces/{NS}/pods/guarded-a")
    assert evicted["metadata"].get("deletionTimestamp")
    # the budget is spent: nothing replaces the evicted pod
    status, body = _evict(cluster, "guarded-b")
    assert status == HTTP_TOO_MANY
    assert "needs 1 healthy pods and has 1 currently" in body["details"]["causes"][0]["message"]
    # a pod that is not Ready does not count, and pods without a budget go freely
    cluster.request("POST", f"/api/v1/namespaces/{NS}/pods", _bare_pod("free", {"app": "free"}))
    status, _body = _evict(cluster, "free")
    assert status == HTTP_CREATED
    status, body = _evict(cluster, "missing")
    assert status == HTTP_NOT_FOUND


def test_job_and_statefulset(cluster):
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "once"},
        "spec": {
            "completions": 2,
            "parallelism": 1,
            "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox:1"}]}},
        },
    }
    status, created = cluster.request("POST", f"/apis/batch/v1/namespaces/{NS}/jobs", job)
    assert status == HTTP_CREATED
    assert (
        created["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"] == created["metadata"]["uid"]
    )

    def complete():
        _status, obj = cluster.request("GET", f"/apis/batch/v1/namespaces/{NS}/jobs/once")
        conds = {c["type"]: c["status"] for c in obj.get("status", {}).get("conditions", [])}
        return obj if conds.get("Complete") == "True" else None

    obj = wait_for(complete)
    assert obj["status"]["succeeded"] == TWO
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 2,
            "serviceName": "db",
            "selector": {"matchLabels": {"sts": "db"}},
            "template": {
                "metadata": {"labels": {"sts": "db"}},
                "spec": {"containers": [{"name": "c", "image": "db:1"}]},
            },
        },
    }
    cluster.request("POST", f"/apis/apps/v1/namespaces/{NS}/statefulsets", sts)
    wait_for(
        lambda: (
            cluster.request("GET", f"/apis/apps/v1/namespaces/{NS}/statefulsets/db")[1]
            .get("status", {})
            .get("readyReplicas")
            == TWO
        )
    )
    assert sorted(p["metadata"]["name"] for p in pods(cluster, "sts%3Ddb")) == ["db-0", "db-1"]


def test_kubesim_pod_annotations(apiserver_factory):
    server = apiserver_factory("--pod-stop-seconds", "0")
    server.add_nodes(1)
    base = f"/api/v1/namespaces/{NS}/pods"
    annotations = {"kubesim.kubeforge.io/ready": "false", "kubesim.kubeforge.io/stop-seconds": "1"}
    server.request(
        "POST",
        base,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "slow", "annotations": annotations},
            "spec": {"containers": [{"name": "c", "image": "x:1"}]},
        },
    )
    pod = wait_for(lambda: (p := server.request("GET", f"{base}/slow")[1])["status"]["phase"] == "Running" and p)
    assert not ready(pod)
    server.request("DELETE", f"{base}/slow")
    time.sleep(0.5)
    assert server.request("GET", f"{base}/slow")[0] == HTTP_OK  # still stopping: annotation beats the 0 s flag
    wait_for(lambda: server.request("GET", f"{base}/slow")[0] == HTTP_NOT_FOUND, timeout=5)


def test_simulated_failures(cluster):
    base = f"/api/v1/namespaces/{NS}/pods"
    cluster.request(
        "POST",
        base,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "pull"},
            "spec": {"containers": [{"name": "c", "image": "nginx:does-not-exist"}]},
        },
    )
    cluster.request(
        "POST",
        base,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "crash", "annotations": {"kubesim.kubeforge.io/exit-code": "2"}},
            "spec": {"containers": [{"name": "c", "image": "x:1"}]},
        },
    )

    def waiting(name, reason):
        _status, pod = cluster.request("GET", f"{base}/{name}")
        statuses = pod["status"].get("containerStatuses") or [{}]
        return pod if statuses[0].get("state", {}).get("waiting", {}).get("reason") == reason else None

    pod = wait_for(lambda: waiting("pull", "ImagePullBackOff"))
    assert pod["status"]["phase"] == "Pending"
    assert not ready(pod)
    pod = wait_for(lambda: waiting("crash", "CrashLoopBackOff"))
    assert pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"] == TWO
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 1
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "fails"},
        "spec": {
            "backoffLimit": 1,
            "template": {
                "metadata": {"annotations": {"kubesim.kubeforge.io/exit-code": "1"}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox:1"}]},
            },
        },
    }
    cluster.request("POST", f"/apis/batch/v1/namespaces/{NS}/jobs", job)

    def failed():
        _status, obj = cluster.request("GET", f"/apis/batch/v1/namespaces/{NS}/jobs/fails")
        conds = {c["type"]: c for c in obj.get("status", {}).get("conditions", [])}
        return conds if conds.get("Failed", {}).get("status") == "True" else None

    conds = wait_for(failed)
    assert conds["Failed"]["reason"] == "BackoffLimitExceeded"
    _status, obj = cluster.request("GET", f"/apis/batch/v1/namespaces/{NS}/jobs/fails")
    assert obj["status"]["failed"] == TWO
