"""kubeforge.cluster.resource against the API test server: apply, no-op, update, SSA ownership, conflicts,
check mode, diff and redaction, prune, absent."""

from __future__ import annotations

from kube_objects import configmap, deployment

HTTP_OK = 200
HTTP_NOT_FOUND = 404
SECRET_VALUE = "my_password_4f9c2e"  # searched for in every output


def _get(apiserver, path):
    status, body = apiserver.request("GET", path)
    return body if status == HTTP_OK else None


def _task(definition, **options):
    return {"name": options.pop("name", "apply"), "kubeforge.cluster.resource": dict(definition=definition, **options)}


def test_cold_apply_noop_update_and_field_removal(playbook, apiserver, namespace):
    objects = [configmap("settings", namespace, color="blue", size="L"), deployment("hello-deploy", namespace)]
    updated = [configmap("settings", namespace, color="green"), objects[1]]
    run = playbook(
        [
            _task(objects, name="cold"),
            _task(objects, name="again"),
            _task(updated, name="update"),
            _task(updated, name="again after update"),
        ]
    )
    assert run.rc == 0, run.stdout
    cold, again, update, again2 = run.tasks
    assert cold.changed and [o["action"] for o in cold.result["objects"]] == ["created", "created"]
    assert not again.changed and {o["action"] for o in again.result["objects"]} == {"unchanged"}
    assert update.changed
    assert [o["action"] for o in update.result["objects"]] == ["configured", "unchanged"]
    assert not again2.changed
    live = _get(apiserver, f"/api/v1/namespaces/{namespace}/configmaps/settings")
    # `size` was set by this field manager and is no longer declared: server-side apply removed it.
    assert live["data"] == {"color": "green"}
    managers = {m["manager"] for m in live["metadata"]["managedFields"]}
    assert "kubeforge" in managers


def test_yaml_string_with_namespace_default_and_ordering(playbook, apiserver, namespace):
    manifest = f"""
apiVersion: v1
kind: ConfigMap
metadata:
  name: in-new-namespace
  namespace: {namespace}-extra
data:
  a: "1"
---
apiVersion: v1
kind: Namespace
metadata:
  name: {namespace}-extra
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: defaulted
"""
    run = playbook([_task(manifest, namespace=namespace)])
    assert run.rc == 0, run.stdout
    kinds = [(o["kind"], o["action"]) for o in run.last.result["objects"]]
    assert kinds[0] == ("Namespace", "created"), "Namespaces are applied first"
    assert _get(apiserver, f"/api/v1/namespaces/{namespace}-extra/configmaps/in-new-namespace")
    assert _get(apiserver, f"/api/v1/namespaces/{namespace}/configmaps/defaulted")
    run = playbook([_task(manifest, namespace=namespace, state="absent")])
    assert run.rc == 0 and run.last.changed, run.stdout


def test_conflict_names_manager_and_field_then_force(playbook, apiserver, namespace):
    path = f"/api/v1/namespaces/{namespace}/configmaps/shared?fieldManager=other-tool"
    status, _body = apiserver.request(
        "PATCH", path, configmap("shared", namespace, owner="other"), "application/apply-patch+yaml"
    )
    assert status in (HTTP_OK, 201)
    run = playbook([_task([configmap("shared", namespace, owner="kubeforge")])])
    assert run.rc != 0
    message = run.last.msg
    assert "ConfigMap/" in message and "shared" in message
    assert "other-tool" in message and ".data.owner" in message
    assert "force_conflicts" in message
    assert _get(apiserver, f"/api/v1/namespaces/{namespace}/configmaps/shared")["data"] == {"owner": "other"}
    run = playbook([_task([configmap("shared", namespace, owner="kubeforge")], force_conflicts=True)])
    assert run.rc == 0 and run.last.changed
    assert _get(apiserver, f"/api/v1/namespaces/{namespace}/configmaps/shared")["data"] == {"owner": "kubeforge"}


def test_check_mode_predicts_without_writing(playbook, apiserver, namespace):
    path = f"/api/v1/namespaces/{namespace}/configmaps/checked"
    run = playbook([_task([configmap("checked", namespace, a="1")])], check=True)
    assert run.rc == 0 and run.last.changed
    assert run.last.result["objects"][0]["action"] == "created"
    assert _get(apiserver, path) is None
    playbook([_task([configmap("checked", namespace, a="1")])])
    before = _get(apiserver, path)
    run = playbook(
        [_task([configmap("checked", namespace, a="1")], name="noop"), _task([configmap("checked", namespace, a="2")])],
        check=True,
    )
    assert run.rc == 0
    assert not run.tasks[0].changed
    assert run.tasks[1].changed
    after = _get(apiserver, path)
    assert after["data"] == {"a": "1"}
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


def test_diff_shows_changes_and_redacts_secrets(playbook, namespace):
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "mysql-pass", "namespace": namespace},
        "stringData": {"password": SECRET_VALUE},
    }
    run = playbook(
        [
            _task([configmap("shown", namespace, color="blue"), secret]),
            _task([configmap("shown", namespace, color="red")]),
        ],
        diff=True,
    )
    assert run.rc == 0, run.stdout
    created, changed = run.tasks
    secret_diff = next(d for d in created.diff if d["after_header"].startswith("Secret/"))
    assert "<redacted" in secret_diff["after"]
    assert "managedFields" not in secret_diff["after"]
    (cm_diff,) = changed.diff
    assert "color: blue" in cm_diff["before"] and "color: red" in cm_diff["after"]
    assert "resourceVersion" not in cm_diff["after"]
    assert SECRET_VALUE not in run.output
    assert SECRET_VALUE.encode().hex() not in run.output


def test_prune_deletes_what_the_apply_set_no_longer_declares(playbook, apiserver, namespace):
    first = [configmap("keep", namespace, a="1"), configmap("drop", namespace, a="1")]
    options = {"apply_set": "app", "namespace": namespace, "prune": True}
    run = playbook(
        [
            _task(first, **options),
            _task(first[:1], name="pruning", **options),
            _task(first[:1], name="again", **options),
        ]
    )
    assert run.rc == 0, run.stdout
    applied, pruning, again = run.tasks
    assert applied.changed
    assert [(p["kind"], p["name"]) for p in pruning.result["pruned"]] == [("ConfigMap", "drop")]
    assert pruning.changed and not again.changed
    assert _get(apiserver, f"/api/v1/namespaces/{namespace}/configmaps/drop") is None
    keep = _get(apiserver, f"/api/v1/namespaces/{namespace}/configmaps/keep")
    assert keep["metadata"]["labels"]["applyset.kubernetes.io/part-of"] == pruning.result["apply_set"]["id"]
    parent = _get(apiserver, f"/api/v1/namespaces/{namespace}/secrets/app")
    assert parent["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"] == "ConfigMap"


def test_prune_leaves_objects_outside_the_apply_set(playbook, apiserver, namespace):
    apiserver.request("POST", f"/api/v1/namespaces/{namespace}/configmaps", configmap("foreign", namespace, a="1"))
    run = playbook([_task([configmap("mine", namespace)], apply_set="set2", namespace=namespace, prune=True)])
    assert run.rc == 0 and run.last.result["pruned"] == []
    assert _get(apiserver, f"/api/v1/namespaces/{namespace}/configmaps/foreign")


def test_absent_twice(playbook, apiserver, namespace):
    objects = [configmap("gone", namespace), deployment("gone-deploy", namespace)]
    playbook([_task(objects)])
    run = playbook(
        [_task(objects, state="absent", wait=True, wait_timeout=30), _task(objects, state="absent", name="again")]
    )
    assert run.rc == 0, run.stdout
    first, again = run.tasks
    assert first.changed and {o["action"] for o in first.result["objects"]} == {"deleted"}
    assert not again.changed and {o["action"] for o in again.result["objects"]} == {"absent"}
    assert _get(apiserver, f"/apis/apps/v1/namespaces/{namespace}/deployments/gone-deploy") is None


def test_src_directory_and_template_are_read_on_the_controller(playbook, apiserver, namespace, tmp_path):
    manifests = tmp_path / "manifests"
    (manifests / "nested").mkdir(parents=True)
    (manifests / "a.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: from-src-a, namespace: {namespace}}}\n"
    )
    (manifests / "nested" / "b.yml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: from-src-b, namespace: {namespace}}}\n"
    )
    (manifests / "README.txt").write_text("not a manifest")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "cm.yaml.j2").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: templated\n"
        "  namespace: {{ ns }}\ndata:\n  color: {{ color }}\n"
    )
    run = playbook(
        [
            {"kubeforge.cluster.resource": {"src": str(manifests)}},
            {"kubeforge.cluster.resource": {"template": "cm.yaml.j2"}},
        ],
        extra_vars={"ns": namespace, "color": "teal"},
    )
    assert run.rc == 0, run.stdout
    assert [o["name"] for o in run.tasks[0].result["objects"]] == ["from-src-a", "from-src-b"]
    assert _get(apiserver, f"/api/v1/namespaces/{namespace}/configmaps/templated")["data"] == {"color": "teal"}


def test_objects_in_a_new_namespace_check_mode_and_rollback(playbook, apiserver, namespace):
    new_ns = f"{namespace}-rb"
    batch = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": new_ns}},
        configmap("fine", new_ns, a="1"),
        deployment("broken", new_ns, replicas="many"),
    ]
    check = playbook([_task(batch[:2])], check=True)
    assert check.rc == 0 and [o["action"] for o in check.last.result["objects"]] == ["created", "created"]
    assert _get(apiserver, f"/api/v1/namespaces/{new_ns}") is None
    run = playbook([_task(batch)])
    assert run.rc != 0
    assert "broken" in run.last.msg and "spec.replicas" in run.last.msg
    assert f"rolled back: Namespace/{new_ns} (deleted)" in run.last.msg
    gone = _get(apiserver, f"/api/v1/namespaces/{new_ns}")
    assert gone is None or gone["metadata"].get("deletionTimestamp")
    assert _get(apiserver, f"/api/v1/namespaces/{new_ns}/configmaps/fine") is None


def test_big_batches_read_by_list_are_no_op_in_check_mode(playbook, namespace):
    many = [configmap(f"many-{i}", namespace, n=str(i)) for i in range(12)]  # enough to be read with one LIST
    run = playbook([_task(many)])
    assert run.rc == 0 and run.last.changed
    check = playbook([_task(many)], check=True)
    assert check.rc == 0 and not check.last.changed, check.last.result["objects"]


def test_apply_set_parent_in_a_namespace_the_batch_creates(playbook, apiserver, namespace):
    new_ns = f"{namespace}-set"
    batch = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": new_ns}},
        configmap("member", new_ns, a="1"),
    ]
    options = {"apply_set": "app", "namespace": new_ns, "prune": True}
    check = playbook([_task(batch, **options)], check=True)
    assert check.rc == 0 and check.last.changed, check.stdout
    assert _get(apiserver, f"/api/v1/namespaces/{new_ns}") is None
    run = playbook([_task(batch, **options), _task(batch, name="again", **options)])
    assert run.rc == 0, run.stdout
    applied, again = run.tasks
    assert [o["action"] for o in applied.result["objects"]] == ["created", "created"]
    assert applied.result["apply_set"]["namespace"] == new_ns
    assert not again.changed, again.result
    parent = _get(apiserver, f"/api/v1/namespaces/{new_ns}/secrets/app")
    assert parent["metadata"]["labels"]["applyset.kubernetes.io/id"] == applied.result["apply_set"]["id"]
    assert parent["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"] == "ConfigMap,Namespace"
    member = _get(apiserver, f"/api/v1/namespaces/{new_ns}/configmaps/member")
    assert member["metadata"]["labels"]["applyset.kubernetes.io/part-of"] == applied.result["apply_set"]["id"]
