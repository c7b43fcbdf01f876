"""Benchmark (not a test): drain a node with N pods with three tools, on the API test server or on any cluster.

Tools, each run in the same way a user runs it (a fresh process), all limited to the benchmark's own pods
(label kubeforge-bench=drain, so a drain on your cluster never touches anything else):
  kubeforge   ansible-playbook, one task kubeforge.cluster.node state=drained ignore_daemonsets delete_emptydir_data
  kubectl     .venv/bin/kubectl drain NODE --ignore-daemonsets --delete-emptydir-data (the venv's pinned kubectl)
  k8s_drain   ansible-playbook, one task kubernetes.core.k8s_drain with the same options (wait_sleep 1)

Scenarios:
  plain       N Deployment pods and one DaemonSet pod on the node.
  pdb         the same plus a PodDisruptionBudget minAvailable=N that blocks every eviction until the benchmark
              starts N more pods of the budget on other nodes, --scale-after seconds (3) after the tool cordoned the
              node (every tool cordons, then evicts at once, so each has met the budget by then).

Target: by default every run gets a fresh private kubesim server (tests/apiserver) with nodes k8s-0 (drained) and
k8s-1, whose kubelet simulator keeps a deleted pod terminating for --stop-seconds (the pods' graceful
termination, the same for all tools). With --kubeconfig FILE the runs use that cluster: --node (default: the first
Ready, schedulable node without NoSchedule taints, when another one is left for the pods that move) is drained of the
benchmark's pods, which live in namespaces <--namespace-prefix>-drain-<n>; after each run the node is uncordoned and
the namespace deleted. There the pods' stop time is the real one of --image. Reports medians.

    .venv/bin/python benchmarks/drain/bench_drain.py [--pods 30] [--stop-seconds 20] [--repeat 3] [--json FILE]
        [--kubeconfig FILE --node NAME] [--namespace-prefix kf-bench] [--image registry.k8s.io/pause:3.10]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "tests" / "integration" / "node"))
target = importlib.import_module("target")
# tests/conftest.py puts kubesim (tests/apiserver) and the collection (.venv/collections) on sys.path
_SPEC = importlib.util.spec_from_file_location("kubeforge_tests_root", REPO / "tests" / "conftest.py")
_ROOT = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_ROOT)
node_cluster = importlib.import_module("node_cluster")
errors = importlib.import_module("ansible_collections.kubeforge.cluster.plugins.module_utils.errors")

TOOLS = ("kubeforge", "kubectl", "k8s_drain")
SCENARIOS = ("plain", "pdb")
SELECTOR = "kubeforge-bench=drain"
LABEL = dict([SELECTOR.split("=")])
PAUSE = "registry.k8s.io/pause:3.10"
MERGE = "application/merge-patch+json"
MIN_NODES = 2


def _playbook(workdir, task):
    path = workdir / "drain.yml"
    play = {"name": "drain", "hosts": "localhost", "gather_facts": False, "tasks": [task]}
    path.write_text(yaml.safe_dump([play], sort_keys=False))
    inventory = workdir / "inventory.ini"
    inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={VENV_BIN / 'python'}\n")
    return [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(path)]


def command(tool, kubeconfig, node, workdir):
    if tool == "kubectl":
        return [
            target.KUBECTL,
            "--kubeconfig",
            kubeconfig,
            "drain",
            node,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            f"--pod-selector={SELECTOR}",
        ]
    if tool == "kubeforge":
        options = {"name": node, "state": "drained", "ignore_daemonsets": True, "delete_emptydir_data": True}
        options.update(pod_selector=SELECTOR, kubeconfig=kubeconfig, timeout=600)
        return _playbook(workdir, {"name": "drain", "kubeforge.cluster.node": options})
    delete_options = {"ignore_daemonsets": True, "delete_emptydir_data": True, "wait_timeout": 600, "wait_sleep": 1}
    options = {"name": node, "kubeconfig": kubeconfig, "delete_options": delete_options, "pod_selectors": [SELECTOR]}
    return _playbook(workdir, {"name": "drain", "kubernetes.core.k8s_drain": options})


def _on_node(node, operator="In"):
    term = {"matchFields": [{"key": "metadata.name", "operator": operator, "values": [node]}]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}


def _template(labels, image, affinity):
    pod = {"affinity": affinity, "terminationGracePeriodSeconds": 30, "containers": [{"name": "app", "image": image}]}
    return {"metadata": {"labels": labels}, "spec": pod}


def _workload(kind, name, template, replicas=None):
    spec = {"selector": {"matchLabels": template["metadata"]["labels"]}, "template": template}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


class Run:
    """One drain: its namespace on the cluster, the node, the workloads; all through the collection's client."""

    def __init__(self, kubeconfig, node, namespace, args):
        self.kubeconfig, self.node, self.namespace, self.args = kubeconfig, node, namespace, args
        self.client = node_cluster.ApiClient.from_params({"kubeconfig": kubeconfig})

    def create(self, obj):
        group = obj["apiVersion"]
        prefix = f"/apis/{group}" if "/" in group else f"/api/{group}"
        plural = obj["kind"].lower() + "s" if obj["kind"] != "PodDisruptionBudget" else "poddisruptionbudgets"
        self.client.request("POST", f"{prefix}/namespaces/{self.namespace}/{plural}", body=obj)

    def prepare(self, scenario):
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.namespace}}
        self.client.request("POST", "/api/v1/namespaces", body=ns)
        deadline = time.monotonic() + 60
        while not self.client.list_all(f"/api/v1/namespaces/{self.namespace}/serviceaccounts")[0]:
            if time.monotonic() > deadline:
                raise SystemExit(f"namespace {self.namespace}: no default ServiceAccount after 60 s")
            time.sleep(0.2)  # a real cluster creates it asynchronously; pods need it
        pinned = _on_node(self.node)
        web = dict(LABEL, app="web", role="pinned")
        image = self.args.image
        self.create(_workload("Deployment", "web", _template(web, image, pinned), self.args.pods))
        self.create(_workload("DaemonSet", "agent", _template(dict(LABEL, app="agent"), image, pinned)))
        if scenario == "pdb":
            budget = {"minAvailable": self.args.pods, "selector": {"matchLabels": {"app": "web"}}}
            self.create(
                {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web"}, "spec": budget}
            )
        self.wait_running(self.args.pods + 1)

    def pods(self):
        query = {"fieldSelector": f"spec.nodeName={self.node}", "labelSelector": SELECTOR}
        return self.client.list_all(f"/api/v1/namespaces/{self.namespace}/pods", query)[0]

    def wait_running(self, count, timeout=300):
        deadline = time.monotonic() + timeout
        while True:
            ready = [p for p in self.pods() if _ready(p) and not p["metadata"].get("deletionTimestamp")]
            if len(ready) >= count:
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"{len(ready)} of {count} benchmark pods ready on {self.node} after {timeout} s")
            time.sleep(0.2)

    def cordoned(self):
        return bool((self.client.request("GET", f"/api/v1/nodes/{self.node}").get("spec") or {}).get("unschedulable"))

    def spare_pods(self):
        """N more pods of the budget on the other nodes (what a scale-up of the service would bring)."""
        spare = dict(LABEL, app="web", role="spare")
        template = _template(spare, self.args.image, _on_node(self.node, "NotIn"))
        self.create(_workload("Deployment", "web-spare", template, self.args.pods))

    def left(self):
        return [p for p in self.pods() if p["metadata"]["labels"].get("role") == "pinned"]

    def clean_up(self):
        self.client.request(
            "PATCH", f"/api/v1/nodes/{self.node}", body={"spec": {"unschedulable": None}}, content_type=MERGE
        )
        target.delete_namespaces(self.kubeconfig, [self.namespace])
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # the next run starts on an empty node
            try:
                self.client.request("GET", f"/api/v1/namespaces/{self.namespace}")
            except errors.KubeforgeError as exc:
                if exc.status == errors.HTTP_NOT_FOUND:
                    break
                raise
            time.sleep(0.5)
        self.client.close()


def _ready(pod):
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _spare_mid_drain(run, delay, stop):
    """Once the tool has cordoned the node, wait ``delay`` seconds, then start the budget's spare pods."""
    while not stop.is_set():
        if run.cordoned():
            if not stop.wait(delay):
                run.spare_pods()
            return
        stop.wait(0.05)


def _failure_message(output):
    marker = '"msg": "'
    start = output.find(marker)
    return output[start + len(marker) :].split('"', 1)[0][:160] if start >= 0 else output.strip()[-160:]


def pick_node(kubeconfig):
    """The first Ready, schedulable node without NoSchedule/NoExecute taints, if another such node is left."""
    client = node_cluster.ApiClient.from_params({"kubeconfig": kubeconfig})
    nodes, _page = client.list_all("/api/v1/nodes")
    client.close()
    usable = [
        n["metadata"]["name"]
        for n in nodes
        if _ready_node(n)
        and not (n.get("spec") or {}).get("unschedulable")
        and not any(t.get("effect") in ("NoSchedule", "NoExecute") for t in (n.get("spec") or {}).get("taints") or [])
    ]
    if len(usable) < MIN_NODES:  # the pods of the drained node need somewhere to go
        raise SystemExit(f"--kubeconfig {kubeconfig}: needs two schedulable untainted nodes, found {usable}")
    return usable[0]


def _ready_node(node):
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _private_server(workdir, args):
    server = _ROOT.ApiServer(workdir / "server", ["--pod-stop-seconds", str(args.stop_seconds)])
    server.add_nodes(2, prefix="k8s")
    return server, server.kubeconfig, "k8s-0"


def one_run(tool, scenario, args, number):
    with tempfile.TemporaryDirectory(prefix="bench-drain-") as tmp:
        workdir = Path(tmp)
        server = None
        if args.kubeconfig:
            kubeconfig, node = args.kubeconfig, args.node
        else:
            server, kubeconfig, node = _private_server(workdir, args)
        run = Run(kubeconfig, node, f"{args.namespace_prefix}-drain-{number}", args)
        try:
            run.prepare(scenario)
            env = node_cluster._SHARED.ansible_env(workdir)
            stop, spare = threading.Event(), None
            if scenario == "pdb":
                spare = threading.Thread(target=_spare_mid_drain, args=(run, args.scale_after, stop))
            start = time.monotonic()
            if spare:
                spare.start()
            proc = subprocess.run(
                command(tool, kubeconfig, node, workdir),
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
                cwd=str(workdir),
            )
            elapsed = time.monotonic() - start
            if spare:
                stop.set()
                spare.join()
            left = run.left()
        finally:
            if server:
                run.client.close()
                server.stop()
            else:
                run.clean_up()
    ok = proc.returncode == 0 and not left
    result = {"tool": tool, "scenario": scenario, "seconds": round(elapsed, 2), "ok": ok, "rc": proc.returncode}
    if proc.returncode:
        result["error"] = _failure_message(proc.stdout + proc.stderr)
    return result


def summarize(runs):
    table = {}
    for scenario in SCENARIOS:
        for tool in TOOLS:
            mine = [r for r in runs if r["tool"] == tool and r["scenario"] == scenario]
            if not mine:
                continue
            table[(scenario, tool)] = {
                "median": statistics.median(r["seconds"] for r in mine),
                "ok": sum(r["ok"] for r in mine),
                "runs": len(mine),
                "all": [r["seconds"] for r in mine],
            }
    return table


def render(table, args):
    stop = f"pod stop time {args.stop_seconds} s" if not args.kubeconfig else f"pods of {args.image}"
    lines = [
        args.target,
        "",
        f"{args.pods} pods + 1 DaemonSet pod on {args.node}, {stop}, {args.repeat} runs each, medians",
        "",
        "| scenario | tool | median s | drained | ratio to kubectl | runs (s) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for (scenario, tool), row in table.items():
        base = table.get((scenario, "kubectl"))
        complete = base and base["ok"] == base["runs"] and row["ok"] == row["runs"]
        ratio = f"{row['median'] / base['median']:.2f}x" if complete else "n/a (failed runs)"
        runs = ", ".join(f"{s:.1f}" for s in row["all"])
        drained = f"{row['ok']}/{row['runs']}"
        lines.append(f"| {scenario} | {tool} | {row['median']:.1f} | {drained} | {ratio} | {runs} |")
    return "\n".join(lines)


def _describe(args):
    """The target line: which cluster and which kubectl (drain does no validation; the version is what counts)."""
    if args.kubeconfig:
        client, server = target.versions(args.kubeconfig)
        return f"Target: the cluster of {args.kubeconfig} (server {server}), node {args.node}; kubectl {client}."
    client = target.client_version()
    return f"Target: a fresh private API test server (tests/apiserver) per run; kubectl {target.KUBECTL} {client}."


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=30)
    parser.add_argument("--stop-seconds", type=float, default=20.0, help="pod stop time of the private test server")
    parser.add_argument("--scale-after", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--node", help="with --kubeconfig: the node to drain (default: picked, see above)")
    parser.add_argument("--image", default=PAUSE, help="image of the benchmark's pods")
    parser.add_argument("--json", help="also write every run to this file")
    target.add_arguments(parser)
    args = parser.parse_args()
    if args.kubeconfig:
        args.kubeconfig = str(Path(args.kubeconfig).resolve())
        args.node = args.node or pick_node(args.kubeconfig)
    else:
        args.node = "k8s-0"
    args.target = _describe(args)
    print(args.target, flush=True)
    runs = []
    for repetition in range(1, args.repeat + 1):
        for scenario in args.scenarios.split(","):
            for tool in args.tools.split(","):
                run = dict(one_run(tool, scenario, args, len(runs) + 1), repetition=repetition)
                print(json.dumps(run), flush=True)
                runs.append(run)
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=2))
    print(render(summarize(runs), args))


if __name__ == "__main__":
    main()
