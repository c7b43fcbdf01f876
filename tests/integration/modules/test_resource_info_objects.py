"""resource_info's ``objects`` (several reads in one module run) and ``missing_kubeconfig`` against the API test
server, in both executions (in the action plugin and as a module, tests/integration/modules/conftest.py)."""

from __future__ import annotations

from kube_objects import deployment

DEAD_SERVER = "http://127.0.0.1:9"  # nothing listens: a request sent there would fail as "cannot reach"


def _apply(objects):
    return {"name": "setup", "kubeforge.cluster.resource": {"definition": objects}}


def test_several_objects_in_one_run_each_result_in_order(playbook, apiserver, namespace):
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": namespace}}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": namespace},
        "stringData": {"token": "objects-secret-value"},
    }
    objects = [
        {"kind": "ConfigMap", "name": "cm"},
        {"kind": "Namespace"},
        {"api_version": "apps/v1", "kind": "deploy", "name": "web"},
        {"kind": "ConfigMap", "name": "absent"},
        {"kind": "Secret", "name": "s"},
    ]
    run = playbook(
        [
            _apply([config, secret, deployment("web", namespace)]),
            {"name": "read", "kubeforge.cluster.resource_info": {"namespace": namespace, "objects": objects}},
        ]
    )

    assert run.rc == 0, run.stdout
    read = run.task("read").result
    assert not read["changed"]
    assert [entry["object"] for entry in read["objects"]] == [
        {"api_version": "v1", "kind": "ConfigMap", "namespace": namespace, "name": "cm"},
        {"api_version": "v1", "kind": "Namespace", "namespace": namespace, "name": None},
        {"api_version": "apps/v1", "kind": "deploy", "namespace": namespace, "name": "web"},
        {"api_version": "v1", "kind": "ConfigMap", "namespace": namespace, "name": "absent"},
        {"api_version": "v1", "kind": "Secret", "namespace": namespace, "name": "s"},
    ]
    found = [[(r["kind"], r["metadata"]["name"]) for r in entry["resources"]] for entry in read["objects"]]
    namespaces = sorted(n["metadata"]["name"] for n in apiserver.request("GET", "/api/v1/namespaces")[1]["items"])
    assert found[0] == [("ConfigMap", "cm")]
    assert sorted(name for _kind, name in found[1]) == namespaces  # a cluster-scoped kind, listed
    assert namespace in namespaces
    assert found[2] == [("Deployment", "web")]
    assert found[3] == []  # a missing object: empty, not a failure (as a single lookup by name)
    assert read["objects"][4]["resources"][0]["data"] == {"token": "<redacted>"}
    assert "objects-secret-value" not in run.output
    assert all(entry["api_found"] for entry in read["objects"])
    assert "managedFields" not in read["objects"][0]["resources"][0]["metadata"]
    assert "resources" not in read  # each entry's are in its result, once
    assert "kubeconfig_found" not in read


def test_a_bad_entry_is_refused_naming_it_and_the_field_before_any_request(playbook):
    cases = {
        "no kind": [{"kind": "Node"}, {"name": "coredns", "namespace": "kube-system"}],
        "empty name": [{"kind": "ConfigMap", "name": ""}],
        "unknown key": [{"kind": "ConfigMap", "source": "kubeadm"}],
    }
    tasks = [
        {"name": name, "ignore_errors": True, "kubeforge.cluster.resource_info": {"host": DEAD_SERVER, "objects": objs}}
        for name, objs in cases.items()
    ]
    tasks.append(
        {
            "name": "with wait",
            "ignore_errors": True,
            "kubeforge.cluster.resource_info": {"host": DEAD_SERVER, "objects": [{"kind": "Node"}], "wait": True},
        }
    )
    run = playbook(tasks)

    assert all(task.failed for task in run.tasks), run.tasks
    assert run.task("no kind").msg == (
        "objects[1] {'name': 'coredns', 'namespace': 'kube-system'}: kind is required; nothing was read"
    )
    assert run.task("empty name").msg == "objects[0] {'kind': 'ConfigMap', 'name': ''}: name is empty; nothing was read"
    assert "objects.source" in run.task("unknown key").msg
    assert run.task("with wait").msg.startswith("objects cannot be combined with wait:")
    assert "cannot reach" not in run.output


def test_an_unknown_kind_fails_naming_the_entry(playbook):
    objects = [{"kind": "Node"}, {"kind": "NoSuchKind", "name": "x"}]
    run = playbook([{"ignore_errors": True, "kubeforge.cluster.resource_info": {"objects": objects}}])

    assert run.last.failed
    assert run.last.msg.startswith("objects[1]: kind NoSuchKind is not served in apiVersion v1"), run.last.msg


def test_a_missing_kubeconfig_is_reported_only_when_asked(playbook, tmp_path):
    absent = str(tmp_path / "no-such-admin.conf")
    objects = [{"kind": "ConfigMap", "namespace": "kube-system", "name": "kubeadm-config"}, {"kind": "Node"}]
    run = playbook(
        [
            {
                "name": "report",
                "kubeforge.cluster.resource_info": {
                    "kubeconfig": absent,
                    "missing_kubeconfig": "report",
                    "objects": objects,
                },
            },
            {
                "name": "report single",
                "kubeforge.cluster.resource_info": {
                    "kubeconfig": absent,
                    "missing_kubeconfig": "report",
                    "kind": "Node",
                },
            },
            {
                "name": "fail",
                "ignore_errors": True,
                "kubeforge.cluster.resource_info": {"kubeconfig": absent, "objects": objects},
            },
            {
                "name": "present",
                "kubeforge.cluster.resource_info": {"missing_kubeconfig": "report", "kind": "Namespace"},
            },
        ]
    )

    report = run.task("report").result
    assert not report.get("failed") and report["kubeconfig_found"] is False
    assert [(entry["object"]["kind"], entry["resources"], entry["api_found"]) for entry in report["objects"]] == [
        ("ConfigMap", [], False),
        ("Node", [], False),
    ]
    single = run.task("report single").result
    assert (single["kubeconfig_found"], single["resources"], single["api_found"]) == (False, [], False)
    assert run.task("fail").failed
    assert run.task("fail").msg == f"kubeconfig file {absent} does not exist"
    present = run.task("present").result
    assert present["kubeconfig_found"] is True and present["resources"]


def test_missing_kubeconfig_report_needs_a_kubeconfig_path(playbook):
    run = playbook(
        [{"ignore_errors": True, "kubeforge.cluster.resource_info": {"missing_kubeconfig": "report", "kind": "Node"}}],
        kubeconfig=None,
    )

    assert run.last.failed
    assert "missing_kubeconfig is report but all of the following are missing: kubeconfig" in run.last.msg
