"""Benchmark (not a test): drain a node with N pods with three tools against the API test server.

Tools, each run in the same way a user runs it (a fresh process):
  kubeforge   ansible-playbook, one task kubeforge.cluster.node state=drained ignore_daemonsets delete_emptydir_data
  kubectl     .venv/bin/kubectl drain NODE --ignore-daemonsets --delete-emptydir-data
  k8s_drain   ansible-playbook, one task kubernetes.core.k8s_drain with the same options (wait_sleep 1)

Scenarios:
  plain       N Deployment pods and one DaemonSet pod on the node.
  pdb         the same plus a PodDisruptionBudget minAvailable=N that blocks every eviction until the benchmark
              scales the Deployment to 2N, --scale-after seconds (3) after the tool cordoned the node (every tool
              cordons, then evicts at once, so each has met the budget by then, whatever its start-up time).

Every run gets a fresh private kubesim server (tests/apiserver) whose kubelet simulator keeps a deleted pod
terminating for --stop-seconds (the pods' graceful termination, the same for all tools). Reports medians.

    .venv/bin/python benchmarks/drain/bench_drain.py [--pods 30] [--stop-seconds 20] [--repeat 3] [--json FILE]
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
sys.path.insert(0, str(REPO / "tests" / "integration" / "node"))
node_cluster = importlib.import_module("node_cluster")
_SPEC = importlib.util.spec_from_file_location("kubeforge_tests_root", REPO / "tests" / "conftest.py")
_ROOT = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_ROOT)

TARGET = node_cluster.TARGET
TOOLS = ("kubeforge", "kubectl", "k8s_drain")
SCENARIOS = ("plain", "pdb")


def _playbook(workdir, task):
    path = workdir / "drain.yml"
    play = {"name": "drain", "hosts": "localhost", "gather_facts": False, "tasks": [task]}
    path.write_text(yaml.safe_dump([play], sort_keys=False))
    inventory = workdir / "inventory.ini"
    inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={VENV_BIN / 'python'}\n")
    return [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(path)]


def command(tool, kubeconfig, workdir):
    if tool == "kubectl":
        return [
            str(VENV_BIN / "kubectl"),
            "--kubeconfig",
            kubeconfig,
            "drain",
            TARGET,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
        ]
    if tool == "kubeforge":
        options = {"name": TARGET, "state": "drained", "ignore_daemonsets": True, "delete_emptydir_data": True}
        task = {"name": "drain", "kubeforge.cluster.node": dict(options, kubeconfig=kubeconfig, timeout=600)}
        return _playbook(workdir, task)
    delete_options = {"ignore_daemonsets": True, "delete_emptydir_data": True, "wait_timeout": 600, "wait_sleep": 1}
    task = {
        "name": "drain",
        "kubernetes.core.k8s_drain": {"name": TARGET, "kubeconfig": kubeconfig, "delete_options": delete_options},
    }
    return _playbook(workdir, task)


def prepare(server, pods, scenario):
    cluster = node_cluster.Cluster(server)
    creators = [lambda: cluster.deployment("web", pods), lambda: cluster.daemonset("agent")]
    if scenario == "pdb":
        creators.append(lambda: cluster.pdb("web", "web", pods))
    cluster.start_on_target(*creators)
    cluster.wait_running(pods + 1, timeout=120)
    cluster.open_spare()
    return cluster


def _scale_mid_drain(cluster, replicas, delay, stop):
    """Once the tool has cordoned the node, wait ``delay`` seconds, then scale web to ``replicas``."""
    while not stop.is_set():
        if cluster.node()["spec"].get("unschedulable"):
            if not stop.wait(delay):
                cluster.scale("web", replicas)
            return
        stop.wait(0.05)


def _failure_message(output):
    marker = '"msg": "'
    start = output.find(marker)
    return output[start + len(marker) :].split('"', 1)[0][:160] if start >= 0 else output.strip()[-160:]


def one_run(tool, scenario, args):
    with tempfile.TemporaryDirectory(prefix="bench-drain-") as tmp:
        workdir = Path(tmp)
        server = _ROOT.ApiServer(workdir / "server", ["--pod-stop-seconds", str(args.stop_seconds)])
        try:
            cluster = prepare(server, args.pods, scenario)
            env = node_cluster._SHARED.ansible_env(workdir)
            stop, scaler = threading.Event(), None
            if scenario == "pdb":
                scaler = threading.Thread(
                    target=_scale_mid_drain, args=(cluster, 2 * args.pods, args.scale_after, stop)
                )
            start = time.monotonic()
            if scaler:
                scaler.start()
            proc = subprocess.run(
                command(tool, server.kubeconfig, workdir),
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
                cwd=str(workdir),
            )
            elapsed = time.monotonic() - start
            if scaler:
                stop.set()
                scaler.join()
            left = [p for p in cluster.pods() if p["metadata"]["labels"].get("app") == "web"]
            cluster.client.close()
        finally:
            server.stop()
    ok = proc.returncode == 0 and not left
    run = {"tool": tool, "scenario": scenario, "seconds": round(elapsed, 2), "ok": ok, "rc": proc.returncode}
    if proc.returncode:
        run["error"] = _failure_message(proc.stdout + proc.stderr)
    return run


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
    lines = [
        f"{args.pods} pods + 1 DaemonSet pod, pod stop time {args.stop_seconds} s, {args.repeat} runs each, medians",
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=30)
    parser.add_argument("--stop-seconds", type=float, default=20.0)
    parser.add_argument("--scale-after", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--json", help="also write every run to this file")
    args = parser.parse_args()
    runs = []
    for repetition in range(1, args.repeat + 1):
        for scenario in args.scenarios.split(","):
            for tool in args.tools.split(","):
                run = dict(one_run(tool, scenario, args), repetition=repetition)
                print(json.dumps(run), flush=True)
                runs.append(run)
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=2))
    print(render(summarize(runs), args))


if __name__ == "__main__":
    main()
