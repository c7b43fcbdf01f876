"""Apply benchmark: kubeforge.cluster.resource vs `kubectl apply --server-side` vs kubernetes.core.k8s.

Not a test. Starts one API test server (tests/apiserver/serve), or uses the cluster of --kubeconfig, runs every
scenario against it and writes the medians, ratios and peak RSS into the "## Apply" section of docs/benchmarks.md
(see benchmarks/target.py for the kubectl compared against and its validation mode).

kubeforge runs twice: as users run it against a Kubernetes API (`hosts: localhost`, the module's logic inside its
action plugin on the controller) and as a module (`kubeforge_cluster_in_process: false`, what a remote host gets).

    .venv/bin/python benchmarks/apply/bench.py [--runs 3] [--long-runs 1] [--skip-k8s] [--no-write]
        [--kubeconfig FILE] [--namespace-prefix kf-bench] [--objects 100] [--large-objects 1000]

Scenarios (objects: ConfigMaps, Secrets, Deployments and Services in equal parts; sizes as by default):
  one-task-100   100 objects in one task (cold: new namespace; no-op: the same again)
  loop-100       the same 100 objects as a loop of 100 items of one task (no-op)
  tasks-50       a playbook of 50 one-object tasks (no-op); kubectl: 50 `kubectl apply -f` of one file each
  one-task-1000  1,000 objects in one task (cold and no-op), kubeforge and kubectl
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
target = importlib.import_module("target")
VENV_BIN = REPO / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python")
DOC = REPO / "docs" / "benchmarks.md"
SECTION = "## Apply"
KINDS = ("ConfigMap", "Secret", "Deployment", "Service")
START_TIMEOUT = 30
KIB_PER_MIB = 1024
TARGET_ONE_TASK = 2.5
TARGET_MANY = 3
LINEAR_LIMIT = 10
RSS_LIMIT_MIB = 143  # 150 MB

# Runs the real interpreter as a child and appends the child's peak RSS (KiB) to $KUBEFORGE_BENCH_RSS.
RSS_WRAPPER = """#!{python}
import os, resource, subprocess, sys
rc = subprocess.call([{python!r}, *sys.argv[1:]])
with open(os.environ["KUBEFORGE_BENCH_RSS"], "a") as out:
    out.write("%d\\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)
"""


def objects(count, namespace):
    """``count`` objects, the four kinds in turn."""
    out = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        meta = {"name": f"{kind.lower()}-{i}", "namespace": namespace, "labels": {"bench": "apply"}}
        if kind == "ConfigMap":
            out.append(
                {"apiVersion": "v1", "kind": kind, "metadata": meta, "data": {"key": f"value-{i}", "pad": "x" * 200}}
            )
        elif kind == "Secret":
            out.append(
                {
                    "apiVersion": "v1",
                    "kind": kind,
                    "metadata": meta,
                    "type": "Opaque",
                    "stringData": {"password": f"pw-{i}-0d5e8a"},
                }
            )
        elif kind == "Deployment":
            labels = {"app": f"app-{i}"}
            out.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": kind,
                    "metadata": meta,
                    "spec": {
                        "replicas": 1,
                        "selector": {"matchLabels": labels},
                        "template": {
                            "metadata": {"labels": labels},
                            "spec": {
                                "containers": [{"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]
                            },
                        },
                    },
                }
            )
        else:
            out.append(
                {
                    "apiVersion": "v1",
                    "kind": kind,
                    "metadata": meta,
                    "spec": {"selector": {"app": f"app-{i - 1}"}, "ports": [{"port": 80, "targetPort": 80}]},
                }
            )
    return out


class Server:
    def __init__(self, workdir):
        self.kubeconfig = str(workdir / "kubeconfig")
        # Without the simulated controllers: on a real cluster they run in other processes on other machines,
        # here they would share the API server's interpreter and slow every request down as objects pile up.
        cmd = [
            PYTHON,
            str(REPO / "tests" / "apiserver" / "serve"),
            "--port",
            "0",
            "--kubeconfig",
            self.kubeconfig,
            "--no-controllers",
        ]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=str(REPO))
        ready = select.select([self.proc.stdout], [], [], START_TIMEOUT)[0]
        line = self.proc.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("ready "):
            self.stop()
            raise SystemExit(f"API test server did not start: {line!r}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


class Cluster:
    """A cluster someone else runs (--kubeconfig): nothing to start or stop."""

    def __init__(self, kubeconfig):
        self.kubeconfig = str(Path(kubeconfig).resolve())

    def stop(self):
        """Nothing to stop: the benchmark's namespaces are deleted by main()."""


class Bench:
    def __init__(self, workdir, server, prefix):
        self.dir = workdir
        self.server = server
        self.prefix = prefix
        self.created = []
        self.rss_file = workdir / "module-rss.txt"
        wrapper = workdir / "python-rss"
        wrapper.write_text(RSS_WRAPPER.format(python=PYTHON))
        wrapper.chmod(0o755)
        (workdir / "inventory.ini").write_text(
            f"localhost ansible_connection=local ansible_python_interpreter={wrapper}\n"
        )
        self.env = dict(
            os.environ,
            PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"),
            ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
            ANSIBLE_LOCAL_TEMP=str(workdir / "tmp"),
            KUBEFORGE_DISCOVERY_CACHE=str(workdir / "discovery"),
            KUBEFORGE_BENCH_RSS=str(self.rss_file),
            K8S_AUTH_KUBECONFIG=server.kubeconfig,
        )
        self.counter = 0

    def _timed(self, argv):
        """(seconds, peak RSS KiB of the process itself, stdout) of one command."""
        started = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M", *argv],
            env=self.env,
            cwd=str(self.dir),
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"failed: {' '.join(argv)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return elapsed, int(proc.stderr.strip().splitlines()[-1]), proc.stdout

    def namespace(self, label):
        self.counter += 1
        return f"{self.prefix}-{label}-{self.counter}"

    def create_namespace(self, name):
        path = self.write(
            f"{name}-namespace.yaml", [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}]
        )
        self.kubectl(["apply", "--server-side", "-f", str(path)])
        self.created.append(name)

    def kubectl(self, args):
        """The venv's pinned kubectl; `apply` with --validate=strict (benchmarks/target.py says why)."""
        if args[0] == "apply":
            args = [*args, target.KUBECTL_VALIDATE]
        argv = [
            target.KUBECTL,
            "--kubeconfig",
            self.server.kubeconfig,
            "--cache-dir",
            str(self.dir / "kubectl-cache"),
            *args,
        ]
        return self._timed(argv)

    def write(self, name, data):
        path = self.dir / name
        path.write_text(
            yaml.safe_dump_all(data)
            if isinstance(data, list) and name.endswith(".yaml")
            else yaml.safe_dump(data, sort_keys=False)
        )
        return path

    def playbook(self, tasks, name, play_vars=None):
        play = [{"hosts": "localhost", "gather_facts": False, "vars": play_vars or {}, "tasks": tasks}]
        path = self.write(name, play)
        self.rss_file.write_text("")
        elapsed, rss, stdout = self._timed([str(VENV_BIN / "ansible-playbook"), "-i", "inventory.ini", str(path)])
        data = json.loads(stdout[stdout.index("{") :])
        task_seconds = []
        for entry in data["plays"][0]["tasks"]:
            duration = entry["task"]["duration"]
            task_seconds.append(_iso(duration["end"]) - _iso(duration["start"]))
        module_rss = [int(x) for x in self.rss_file.read_text().split()]
        return {"total": elapsed, "tasks": task_seconds, "controller_rss": rss, "module_rss": max(module_rss or [0])}


def _iso(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# kubeforge tools: in-process (the default on a local host) and as a module sent like to a remote host.
KUBEFORGE_TOOLS = {"kubeforge": {}, "kubeforge-module": {"kubeforge_cluster_in_process": False}}


def kubeforge_task(**args):
    return {"kubeforge.cluster.resource": dict(args, kubeconfig="{{ lookup('env', 'K8S_AUTH_KUBECONFIG') }}")}


def k8s_task(**args):
    return {"kubernetes.core.k8s": dict(args, apply=True, server_side_apply={"field_manager": "kubernetes-core"})}


def median(values):
    return statistics.median(values) if values else float("nan")


def one_task(bench, tool, count, runs):
    """Cold and no-op of ``count`` objects in one task; medians of ``runs`` fresh namespaces."""
    cold, noop, cold_task, noop_task, rss = [], [], [], [], []
    for _run in range(runs):
        ns = bench.namespace(f"{tool}-{count}")
        bench.create_namespace(ns)
        path = bench.write(f"{ns}.yaml", objects(count, ns))
        for bucket, task_bucket in ((cold, cold_task), (noop, noop_task)):
            if tool == "kubectl":
                elapsed, peak, _out = bench.kubectl(["apply", "--server-side", "-f", str(path)])
                bucket.append(elapsed)
                task_bucket.append(elapsed)
                rss.append(peak)
                continue
            task = kubeforge_task(src=str(path)) if tool in KUBEFORGE_TOOLS else k8s_task(src=str(path))
            result = bench.playbook([task], f"{ns}-play.yml", KUBEFORGE_TOOLS.get(tool))
            bucket.append(result["total"])
            task_bucket.append(result["tasks"][0])
            # In-process runs have no module process: the peak of ansible-playbook and its workers is the figure.
            rss.append(result["module_rss"] or result["controller_rss"])
    return {
        "cold": median(cold),
        "noop": median(noop),
        "cold_task": median(cold_task),
        "noop_task": median(noop_task),
        "rss_mib": max(rss) / KIB_PER_MIB,
    }


def loop_and_tasks(bench, tool, count, runs, shape):
    """No-op of ``count`` objects as a loop (shape=loop) or as that many tasks (shape=tasks)."""
    totals = []
    ns = bench.namespace(f"{tool}-{shape}")
    bench.create_namespace(ns)
    data = objects(count, ns)
    if tool == "kubectl":
        files = [bench.write(f"{ns}-{i}.yaml", [obj]) for i, obj in enumerate(data)]
        for _run in range(runs + 1):
            started = time.perf_counter()
            for path in files:
                bench.kubectl(["apply", "--server-side", "-f", str(path)])
            totals.append(time.perf_counter() - started)
        return {"noop": median(totals[1:])}
    make = kubeforge_task if tool in KUBEFORGE_TOOLS else k8s_task
    play_vars = dict(KUBEFORGE_TOOLS.get(tool, {}))
    if shape == "loop":
        tasks = [dict(make(definition="{{ item }}"), loop="{{ bench_objects }}")]
        play_vars["bench_objects"] = data
    else:
        tasks = [make(definition=obj) for obj in data]
    for _run in range(runs + 1):  # the first run creates the objects
        result = bench.playbook(tasks, f"{ns}-play.yml", play_vars)
        totals.append(result["total"])
    return {"noop": median(totals[1:])}


def floors(bench, args):
    """Ansible's own cost: a module that does nothing (ping) and an action plugin that does nothing (debug)."""
    out = {}
    nothing = (("floor", {"ansible.builtin.ping": {}}), ("floor_action", {"ansible.builtin.debug": {"msg": "x"}}))
    for key, task in nothing:
        out[key] = median([bench.playbook([task], f"{key}.yml")["tasks"][0] for _run in range(args.runs)])
        loop = [dict(task, loop=f"{{{{ range({args.objects}) | list }}}}")]
        for suffix, tasks in (("loop", loop), ("tasks", [task] * (args.objects // 2))):
            totals = [bench.playbook(tasks, f"{key}-{suffix}.yml")["total"] for _run in range(args.long_runs)]
            out[f"{key}_{suffix}"] = median(totals)
    return out


def _mib(value):
    return f"{value:.0f} MiB" if value is not None else "-"


def _verdict(ok):
    return "met" if ok else "NOT met"


def _sizes(args):
    """(objects, tasks, large objects) of this run; 100, 50 and 1,000 unless --objects/--large-objects."""
    objects = getattr(args, "objects", 100)
    return objects, objects // 2, getattr(args, "large_objects", 1000)


def _targets(kf, kc, k8s, args):
    """The issue's targets, each with the measured numbers and whether this run meets it."""
    n, half, big = _sizes(args)
    lines = ["Targets of the issue, on this run (kubeforge as run against an API from the controller):", ""]
    noop = kf["100"]["noop_task"]
    lines.append(
        f"- no-op of {n} objects, task duration no slower than kubectl's whole process: {noop:.2f} s vs "
        f"{kc['100']['noop']:.2f} s - {_verdict(noop <= kc['100']['noop'])}"
    )
    if k8s:
        other = k8s["100"]["noop_task"]
        lines.append(
            f"- the same at least 2.5x faster than kubernetes.core.k8s's task: {other / noop:.1f}x - "
            f"{_verdict(other / noop >= TARGET_ONE_TASK)}"
        )
        for key, label in (("loop", f"{n}-item loop"), ("tasks", f"{half}-task playbook")):
            factor = k8s[key]["noop"] / kf[key]["noop"]
            lines.append(f"- {label} at least 3x faster end to end: {factor:.1f}x - {_verdict(factor >= TARGET_MANY)}")
    growth = kf["1000"]["noop_task"] / noop
    rss = kf["1000"]["rss_mib"]
    ok = growth <= LINEAR_LIMIT and rss < RSS_LIMIT_MIB
    lines.append(
        f"- {big:,} objects in linear time ({growth:.1f}x the time of {n} for {big / n:.0f}x the objects) with peak "
        "RSS < 150 MB "
        f"({rss:.0f} MiB, ansible-playbook and its workers) - {_verdict(ok)}"
    )
    return lines


def _above_floor(r, args):
    """Per-item cost above Ansible's own cost of doing nothing (ping for modules, debug for action plugins)."""
    n, half, _big = _sizes(args)
    lines = ["", "Above Ansible's own cost of doing nothing (the floor rows), per item:", ""]
    runs = (("kubeforge", "floor_action"), ("kubeforge-module", "floor"), ("k8s", "floor"))
    for key, count, label in (("loop", n, "loop item"), ("tasks", half, "task")):
        parts = []
        for tool, floor in runs:
            if r.get(tool) and r.get(f"{floor}_{key}"):
                extra = (r[tool][key]["noop"] - r[f"{floor}_{key}"]) / count
                parts.append(f"{tool} +{extra * 1000:.0f} ms")
        lines.append(f"- per {label}: " + ", ".join(parts))
    return lines


def _cell(value):
    return f"{value:.2f} s" if value is not None and not math.isnan(value) else "-"


def _ratio(other, ours):
    ok = other and ours and not math.isnan(other) and not math.isnan(ours)
    return f"{other / ours:.1f}x" if ok else "-"


def _rows(r, args):
    kf, km, kc, k8s = r["kubeforge"], r.get("kubeforge-module", {}), r["kubectl"], r.get("k8s", {})
    n, half, big = _sizes(args)

    def get(tool, scenario, key):
        return tool.get(scenario, {}).get(key)

    return [
        (f"{n} objects, one task, cold (task)", "100", "cold_task", "cold"),
        (f"{n} objects, one task, no-op (task)", "100", "noop_task", "noop"),
        (f"{n} objects, one task, no-op (total)", "100", "noop", "noop"),
        (f"{n}-item loop, no-op (total)", "loop", "noop", None),
        (f"{half} one-object tasks, no-op (total)", "tasks", "noop", "noop"),
        (f"{big:,} objects, one task, cold (task)", "1000", "cold_task", "cold"),
        (f"{big:,} objects, one task, no-op (task)", "1000", "noop_task", "noop"),
    ], lambda scenario, key, kc_key: (
        get(kf, scenario, key),
        get(km, scenario, key),
        get(kc, scenario, kc_key) if kc_key else None,
        get(k8s, scenario, key),
    )


def render(results, args):
    r = results
    k8s = r.get("k8s", {})
    lines = [
        SECTION,
        "",
        getattr(args, "target", None) or "Target: a private API test server (tests/apiserver).",
        "",
        "Measured by `benchmarks/apply/bench.py` against the target above (one for the",
        f"whole run) on this machine; medians of {args.runs} runs for one-task scenarios and of {args.long_runs} for",
        "the loop and the tasks. *Task* = the task's own duration (start to end as the ansible.posix.json callback",
        "records it, like profile_tasks); *total* = the whole `ansible-playbook` or `kubectl` process. A private",
        "test server runs without its simulated controllers (`--no-controllers`): only the API path is measured.",
        "Objects are ConfigMaps, Secrets, Deployments and Services in equal parts. *kubeforge* is the collection as",
        "run against",
        "an API from the controller (`hosts: localhost`: the module's logic runs inside its action plugin);",
        "*kubeforge module* is the same task with `kubeforge_cluster_in_process: false`, i.e. what a remote host",
        "gets (AnsiballZ, one interpreter per task or loop item), the way kubernetes.core.k8s always runs.",
        "",
        "| Scenario | kubeforge | kubeforge module | kubectl --server-side | kubernetes.core.k8s "
        "| k8s / kubeforge | k8s / kf module | kubectl / kubeforge |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    rows, values = _rows(r, args)
    n, half, big = _sizes(args)
    for name, scenario, key, kc_key in rows:
        ours, module, kubectl, k8s_time = values(scenario, key, kc_key)
        lines.append(
            f"| {name} | {_cell(ours)} | {_cell(module)} | {_cell(kubectl)} | {_cell(k8s_time)} | "
            f"{_ratio(k8s_time, ours)} | {_ratio(k8s_time, module)} | {_ratio(kubectl, ours)} |"
        )
    floors = (
        ("floor", "`ansible.builtin.ping`, one task (a module doing nothing, task)"),
        ("floor_loop", f"`ansible.builtin.ping`, {n}-item loop (total)"),
        ("floor_tasks", f"`ansible.builtin.ping`, {half} tasks (total)"),
        ("floor_action", "`ansible.builtin.debug`, one task (an action plugin doing nothing, task)"),
        ("floor_action_loop", f"`ansible.builtin.debug`, {n}-item loop (total)"),
        ("floor_action_tasks", f"`ansible.builtin.debug`, {half} tasks (total)"),
    )
    for key, label in floors:
        if r.get(key):
            lines.append(f"| {label} | {r[key]:.2f} s | - | - | - | - | - | - |")
    kf, kc = r["kubeforge"], r["kubectl"]
    km = r.get("kubeforge-module", {})
    lines += [
        "",
        "Ratios are *other tool's time / kubeforge's time* (above 1 = kubeforge faster).",
        "Machine load average (1 min) at start / end of the run: "
        f"{getattr(args, 'load', None) or r.get('load', 'not recorded')} (2 cores).",
        "",
        *_targets(kf, kc, k8s, args),
        *_above_floor(r, args),
        "",
        "Peak RSS: kubeforge = ansible-playbook and its workers (the logic runs in a worker); kubeforge module and",
        "kubernetes.core.k8s = the module's interpreter (wrapped to read it); kubectl = its process.",
        "",
        "| Peak RSS | kubeforge | kubeforge module | kubectl | kubernetes.core.k8s module |",
        "| --- | --- | --- | --- | --- |",
        f"| {n} objects | {_mib(kf['100']['rss_mib'])} | {_mib(km.get('100', {}).get('rss_mib'))} | "
        f"{_mib(kc['100']['rss_mib'])} | {_mib(k8s.get('100', {}).get('rss_mib'))} |",
        f"| {big:,} objects | {_mib(kf['1000']['rss_mib'])} | {_mib(km.get('1000', {}).get('rss_mib'))} | "
        f"{_mib(kc['1000']['rss_mib'])} | - |",
        "",
        f"Linearity: {big:,} vs {n} objects no-op task time = "
        f"{kf['1000']['noop_task'] / kf['100']['noop_task']:.1f}x "
        f"(cold {kf['1000']['cold_task'] / kf['100']['cold_task']:.1f}x) for {big / n:.0f}x the objects.",
        "",
        "Reference on a real Kubernetes 1.25 on a machine of this kind (issue text): kubectl SSA no-op of 100 objects",
        "0.25-0.30 s; kubernetes.core.k8s no-op of 100 in one task 1.2-1.4 s (playbook), 100-item loop 39 s,",
        "50 one-object tasks 20.3 s (kubectl, 50 files one by one: 3.0 s).",
        "",
    ]
    return "\n".join(lines)


def write_doc(text):
    current = DOC.read_text() if DOC.exists() else "# Benchmarks\n\n"
    if SECTION in current:
        start = current.index(SECTION)
        rest = current[start + len(SECTION) :]
        following = rest.find("\n## ")
        current = current[:start] + text + (rest[following + 1 :] if following >= 0 else "")
    else:
        current = current.rstrip("\n") + "\n\n" + text
    DOC.write_text(current.rstrip("\n") + "\n")


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs of the one-task scenarios (median)")
    parser.add_argument("--long-runs", type=int, default=1, help="no-op runs of the loop and 50-task scenarios")
    parser.add_argument("--skip-k8s", action="store_true", help="leave out kubernetes.core.k8s (slow)")
    parser.add_argument(
        "--no-write", action="store_true", help="print the section instead of writing docs/ (always with --kubeconfig)"
    )
    parser.add_argument("--from-log", help="render from the per-tool JSON lines this script printed earlier")
    parser.add_argument("--objects", type=int, default=100, help="objects of the one-task and loop scenarios")
    parser.add_argument("--large-objects", type=int, default=1000, help="objects of the large one-task scenario")
    target.add_arguments(parser)
    return parser.parse_args()


def run_all(bench, args):
    """Every scenario for every tool; prints each tool's figures as one JSON line (for --from-log)."""
    results = floors(bench, args)
    print(json.dumps(results), flush=True)
    for tool in [*KUBEFORGE_TOOLS, "kubectl"] + ([] if args.skip_k8s else ["k8s"]):
        print(f"{tool}: {args.objects} objects in one task", flush=True)
        results[tool] = {"100": one_task(bench, tool, args.objects, args.runs)}
        if tool != "kubectl":
            print(f"{tool}: {args.objects}-item loop", flush=True)
            results[tool]["loop"] = loop_and_tasks(bench, tool, args.objects, args.long_runs, "loop")
        print(f"{tool}: {args.objects // 2} tasks", flush=True)
        results[tool]["tasks"] = loop_and_tasks(bench, tool, args.objects // 2, args.long_runs, "tasks")
        if tool != "k8s":
            print(f"{tool}: {args.large_objects} objects in one task", flush=True)
            results[tool]["1000"] = one_task(bench, tool, args.large_objects, 1)
        print(json.dumps(results[tool]), flush=True)
    return results


def main():
    args = _arguments()
    if args.from_log:
        loaded = [json.loads(line) for line in Path(args.from_log).read_text().splitlines() if line.startswith("{")]
        tools = (*KUBEFORGE_TOOLS, "kubectl", "k8s")
        results = dict(zip(tools, (d for d in loaded if "floor" not in d)))
        results.update(next((d for d in loaded if "floor" in d), {}))
        text = render(results, args)
        print(text)
        if not args.no_write:
            write_doc(text)
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the API test server on the way out
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="kubeforge-bench-") as tmp:
        workdir = Path(tmp)
        server = Cluster(args.kubeconfig) if args.kubeconfig else Server(workdir)
        bench = Bench(workdir, server, args.namespace_prefix)
        probe = bench.write("probe.yaml", [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "probe"}}])
        name = f"the cluster of {args.kubeconfig}" if args.kubeconfig else "a private API test server (tests/apiserver)"
        args.target = target.describe(server.kubeconfig, probe, name)
        print(args.target, flush=True)
        try:
            results = run_all(bench, args)
        finally:
            target.delete_namespaces(server.kubeconfig, bench.created if args.kubeconfig else [])
            server.stop()
    args.load = f"{load_start:.1f} / {os.getloadavg()[0]:.1f}"
    text = render(results, args)
    print(text)
    if not args.no_write and not args.kubeconfig:  # docs/ holds the test server's figures; yours are printed
        write_doc(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
