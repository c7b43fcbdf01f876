"""Undo of a call's writes (plugins/module_utils/rollback.py) against a scripted client."""

from __future__ import annotations

import copy

from ansible_collections.kubeforge.cluster.plugins.module_utils import node, rollback
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError

PATH = "/api/v1/namespaces/ns/configmaps/cm"
FIELDS_BEFORE = {"f:data": {".": {}, "f:color": {}, "f:size": {}}, "f:metadata": {"f:labels": {"f:app": {}}}}
FIELDS_AFTER = {"f:data": {".": {}, "f:color": {}, "f:extra": {}}, "f:metadata": {"f:labels": {"f:app": {}}}}


def _cm(data, fields, rv, manager="kubeforge", others=()):
    managed = [{"manager": manager, "operation": "Apply", "fieldsV1": fields}, *others]
    meta = {"name": "cm", "namespace": "ns", "uid": "u1", "resourceVersion": rv, "labels": {"app": "a", "x": "y"}}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": dict(meta, managedFields=managed), "data": data}


BEFORE = _cm({"color": "blue", "size": "L", "theirs": "t"}, FIELDS_BEFORE, "5")
AFTER = _cm({"color": "green", "extra": "x", "theirs": "t"}, FIELDS_AFTER, "6")
BODY = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "ns"}}


class Client:
    """``request`` answers from a list of scripted (method, response-or-error) in order; records the calls."""

    def __init__(self, *script):
        self.script = list(script)
        self.calls = []

    def request(self, method, path, body=None, query=None, content_type=None):
        self.calls.append((method, path, copy.deepcopy(body), query, content_type))
        expected, answer = self.script.pop(0)
        assert expected == method
        if isinstance(answer, KubeforgeError):
            raise answer
        return copy.deepcopy(answer)


def test_extract_follows_fields_v1_keys_and_sets():
    pod = {
        "spec": {
            "containers": [{"name": "a", "image": "i", "ports": [{"containerPort": 80, "protocol": "TCP"}]}],
            "finalizers": ["x", "y"],
        }
    }
    fields = {
        "f:spec": {
            "f:containers": {'k:{"name":"a"}': {".": {}, "f:image": {}}},
            "f:finalizers": {'v:"y"': {}},
        }
    }
    assert rollback.extract(pod, fields) == {"spec": {"containers": [{"name": "a", "image": "i"}], "finalizers": ["y"]}}


def test_union_of_field_sets():
    assert rollback.union_fields({"f:a": {"f:b": {}}}, {"f:a": {"f:c": {}}, "f:d": {}}) == {
        "f:a": {"f:b": {}, "f:c": {}},
        "f:d": {},
    }


def test_changed_object_gets_the_previous_applied_configuration_with_a_resource_version_precondition():
    client = Client(("GET", AFTER), ("PATCH", AFTER))
    undo = rollback.Undo(client)
    undo.add_applied("ConfigMap/ns/cm", PATH, BEFORE, AFTER, BODY)
    undo.run()
    method, path, body, query, content_type = client.calls[-1]
    assert (method, path, content_type) == ("PATCH", PATH, rollback.APPLY_PATCH)
    assert query == {"fieldManager": "kubeforge", "force": "true"}
    # only what our manager owned before: `extra` is released, `theirs` and label `x` are not ours
    assert body["data"] == {"color": "blue", "size": "L"}
    assert body["metadata"] == {"name": "cm", "namespace": "ns", "labels": {"app": "a"}, "resourceVersion": "6"}
    assert undo.done == ["ConfigMap/ns/cm (restored)"] and not undo.left


def test_force_also_puts_back_fields_taken_from_other_managers():
    taken = {"f:data": {"f:theirs": {}}}
    before = _cm({"theirs": "t"}, {}, "5", others=[{"manager": "other", "operation": "Apply", "fieldsV1": taken}])
    after = _cm({"theirs": "mine"}, taken, "6")
    client = Client(("GET", after), ("PATCH", after))
    undo = rollback.Undo(client, force=True)
    undo.add_applied("ConfigMap/ns/cm", PATH, before, after, BODY)
    undo.run()
    assert client.calls[-1][2]["data"] == {"theirs": "t"}


def test_a_later_change_by_someone_else_is_left_alone_and_reported():
    theirs = copy.deepcopy(AFTER)
    theirs["data"]["color"] = "red"
    theirs["metadata"]["resourceVersion"] = "7"
    client = Client(("GET", theirs))
    undo = rollback.Undo(client)
    undo.add_applied("ConfigMap/ns/cm", PATH, BEFORE, AFTER, BODY)
    undo.run()
    assert [c[0] for c in client.calls] == ["GET"], "nothing is written over their change"
    assert undo.left == [
        "ConfigMap/ns/cm: changed by someone else after this call's write, left as they wrote it (resourceVersion 7)"
    ]


def test_a_conflict_reads_again_and_retries_with_the_new_resource_version():
    status_only = copy.deepcopy(AFTER)
    status_only["metadata"]["resourceVersion"] = "8"  # a controller wrote something we do not own
    conflict = KubeforgeError("the object has been modified", status=409, reason="Conflict")
    client = Client(("GET", AFTER), ("PATCH", conflict), ("GET", status_only), ("PATCH", status_only))
    undo = rollback.Undo(client)
    undo.add_applied("ConfigMap/ns/cm", PATH, BEFORE, AFTER, BODY)
    undo.run()
    assert client.calls[-1][2]["metadata"]["resourceVersion"] == "8"
    assert undo.done == ["ConfigMap/ns/cm (restored)"]


def test_created_objects_are_deleted_with_a_uid_precondition_and_failures_named():
    gone = KubeforgeError("not found", status=404)
    replaced = KubeforgeError("Precondition failed: UID", status=409)
    client = Client(("DELETE", {}), ("DELETE", gone), ("DELETE", replaced))
    undo = rollback.Undo(client)
    for name in ("c", "b", "a"):
        undo.add_created(f"ConfigMap/ns/{name}", f"{PATH}-{name}", AFTER)
    undo.run()
    assert client.calls[0][2] == {"preconditions": {"uid": "u1"}, "propagationPolicy": "Background"}
    assert [c[1] for c in client.calls] == [f"{PATH}-a", f"{PATH}-b", f"{PATH}-c"], "last written, first undone"
    assert undo.done == ["ConfigMap/ns/a (deleted)", "ConfigMap/ns/b (created, already deleted by someone else)"]
    assert undo.left == ["ConfigMap/ns/c: replaced by someone else's object of the same name, left in place"]
    error = undo.annotate(KubeforgeError("Service/ns/np: invalid."))
    assert error.msg.startswith("Service/ns/np: invalid; rolled back: ConfigMap/ns/a (deleted)")
    assert "ROLLBACK INCOMPLETE, left behind: ConfigMap/ns/c: replaced" in error.msg
    assert error.partial["changed"] is True


def test_changed_object_deleted_meanwhile_is_reported_absent():
    client = Client(("GET", KubeforgeError("not found", status=404)))
    undo = rollback.Undo(client)
    undo.add_applied("ConfigMap/ns/cm", PATH, BEFORE, AFTER, BODY)
    undo.run()
    assert undo.left == ["ConfigMap/ns/cm: deleted by someone else after this call changed it, left absent"]


def test_node_restore_keeps_the_taints_the_node_controller_manages():
    user = {"key": "dedicated", "value": "batch", "effect": "NoSchedule"}
    system = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
    before = {"metadata": {"name": "n", "labels": {"a": "1"}}, "spec": {}}
    after = {
        "metadata": {"name": "n", "labels": {"a": "1", "tier": "x"}},
        "spec": {"unschedulable": True, "taints": [user]},
    }
    current = copy.deepcopy(after)
    current["spec"]["taints"].append(system)
    restore, view = node.restore_patch(before, after)
    assert view(current) == view(after), "the controller's taint is not someone else's change"
    assert restore(current) == {
        "spec": {"unschedulable": None, "taints": [system]},
        "metadata": {"labels": {"tier": None}},
    }
