"""Unit tests of the not_ready filter (system_workloads.yml waits only for what its lookup did not find ready)."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.kubeforge.cluster.plugins.filter.not_ready import FilterModule, not_ready


def _daemonset(desired, available, generation=1, observed=1):
    status = {
        "desiredNumberScheduled": desired,
        "updatedNumberScheduled": desired,
        "numberAvailable": available,
        "observedGeneration": observed,
    }
    meta = {"name": "kube-proxy", "namespace": "kube-system", "generation": generation}
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta, "status": status}


def _result(name, *objects):
    return {"item": {"name": name}, "resources": list(objects)}


def test_registered_under_its_name():
    assert FilterModule().filters()["not_ready"] is not_ready


def test_ready_objects_are_dropped_and_the_rest_kept_in_order():
    results = [
        _result("ready", _daemonset(2, 2)),
        _result("unavailable", _daemonset(2, 1)),
        _result("missing"),
        _result("old-generation", _daemonset(2, 2, generation=3, observed=2)),
    ]
    assert [item["name"] for item in not_ready(results)] == ["unavailable", "missing", "old-generation"]


def test_a_deployment_past_its_deadline_counts_as_not_ready():
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "coredns", "generation": 1},
        "spec": {"replicas": 1},
        "status": {
            "observedGeneration": 1,
            "conditions": [{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}],
        },
    }
    assert not_ready([_result("coredns", deployment)]) == [{"name": "coredns"}]


def test_a_kind_whose_readiness_needs_the_api_counts_as_not_ready():
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "n"}}
    service["spec"] = {"selector": {"app": "s"}}
    assert not_ready([_result("s", service)]) == [{"name": "s"}]


def test_anything_but_loop_results_is_refused():
    with pytest.raises(AnsibleFilterError, match="not_ready: expects the results"):
        not_ready([{"resources": []}])


def test_with_items_the_entries_of_that_list_are_returned():
    """resource_info's ``objects`` results carry no loop ``item``: the list they answer gives back each entry,
    with every key the play keeps (the failure messages name ``source``)."""
    workloads = [{"name": "ready", "source": "kubeadm"}, {"name": "missing", "source": "cni"}]
    objects = [{"object": {"name": "ready"}, "resources": [_daemonset(2, 2)]}, {"object": {}, "resources": []}]
    assert not_ready(objects, workloads) == [{"name": "missing", "source": "cni"}]


def test_items_of_another_length_are_refused():
    with pytest.raises(AnsibleFilterError, match="not_ready: 1 results for 2 items"):
        not_ready([{"resources": []}], [{"name": "a"}, {"name": "b"}])
