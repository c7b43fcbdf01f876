"""ControllerRevisions: the history the DaemonSet and StatefulSet controllers keep of their pod templates."""

from __future__ import annotations

import pytest
from kubesim.helpers import wait_for

HTTP_CREATED = 201
HTTP_OK = 200
STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
HASH = "controller-revision-hash"


def workload(kind, name, image):
    labels = {"app": name}
    spec = {
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": image}]}},
    }
    if kind == "StatefulSet":
        spec.update(replicas=1, serviceName=name, podManagementPolicy="Parallel")
    meta = {"name": name, "annotations": {"kubernetes.io/change-cause": f"create {image}"}}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}


def revisions(server, namespace, name):
    """{revision: ControllerRevision} of the workload's history (selected like kubectl: label selector)."""
    _status, body = server.request(
        "GET", f"/apis/apps/v1/namespaces/{namespace}/controllerrevisions?labelSelector=app%3D{name}"
    )
    return {cr["revision"]: cr for cr in body["items"]}


def history_is(server, namespace, name, expected):
    """Wait until the revisions are ``expected`` ({revision: image}); return them."""

    def settled():
        found = revisions(server, namespace, name)
        images = {n: cr["data"]["spec"]["template"]["spec"]["containers"][0]["image"] for n, cr in found.items()}
        return found if images == expected else None

    settled.__name__ = f"revisions {expected}"
    return wait_for(settled)


def set_image(server, path, image):
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": image}]}}}}
    status, body = server.request("PATCH", path, patch, STRATEGIC)
    assert status == HTTP_OK, body
    return body


@pytest.mark.parametrize(("kind", "plural"), [("DaemonSet", "daemonsets"), ("StatefulSet", "statefulsets")])
def test_template_changes_are_recorded_as_controller_revisions(apiserver, namespace, kind, plural):
    base = f"/apis/apps/v1/namespaces/{namespace}/{plural}"
    status, live = apiserver.request("POST", base, workload(kind, "hist", "app:1"))
    assert status == HTTP_CREATED, live
    first = history_is(apiserver, namespace, "hist", {1: "app:1"})[1]
    meta = first["metadata"]
    owner = meta["ownerReferences"][0]
    assert (owner["kind"], owner["uid"], owner["controller"]) == (kind, live["metadata"]["uid"], True)
    assert meta["name"] == f"hist-{meta['labels'][HASH]}" and meta["labels"]["app"] == "hist"
    assert meta["annotations"]["kubernetes.io/change-cause"] == "create app:1"
    assert first["data"] == {"spec": {"template": {**live["spec"]["template"], "$patch": "replace"}}}

    set_image(apiserver, f"{base}/hist", "app:2")
    second = history_is(apiserver, namespace, "hist", {1: "app:1", 2: "app:2"})[2]
    assert second["metadata"]["name"] != meta["name"]
    if kind == "StatefulSet":
        wait_for(
            lambda: (
                apiserver.request("GET", f"{base}/hist")[1]["status"]["updateRevision"] == second["metadata"]["name"]
            )
        )

    # Rolling back the way kubectl does (the revision's data as a strategic merge patch) renumbers that revision.
    status, back = apiserver.request("PATCH", f"{base}/hist", first["data"], STRATEGIC)
    assert status == HTTP_OK and back["spec"]["template"] == live["spec"]["template"]
    third = history_is(apiserver, namespace, "hist", {2: "app:2", 3: "app:1"})[3]
    assert third["metadata"]["uid"] == meta["uid"]

    # Only spec.revisionHistoryLimit old revisions stay next to the current one.
    apiserver.request("PATCH", f"{base}/hist", {"spec": {"revisionHistoryLimit": 1}}, MERGE)
    set_image(apiserver, f"{base}/hist", "app:4")
    history_is(apiserver, namespace, "hist", {3: "app:1", 4: "app:4"})

    # A deleted current revision is written again.
    current = revisions(apiserver, namespace, "hist")[4]["metadata"]
    apiserver.request("DELETE", f"/apis/apps/v1/namespaces/{namespace}/controllerrevisions/{current['name']}")

    def recreated():
        found = revisions(apiserver, namespace, "hist").get(4)
        return found and found["metadata"]["uid"] != current["uid"]

    wait_for(recreated)
    assert sorted(revisions(apiserver, namespace, "hist")) == [3, 4]
