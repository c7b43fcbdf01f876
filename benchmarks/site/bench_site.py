"""Benchmark (not a test): playbooks/site.yml when nothing has to change, against the Ansible floor.

For each collection tree given (--collection LABEL=PATH, default: this working tree as "this"), on the same hosts:
  noop    a second ``site.yml`` on a healthy cluster (must report changed=0 on every host)
  check   ``site.yml --check`` on the same cluster (must report changed=0: nothing drifted)
  floor   a generated playbook that shadows the no-op run task by task with tasks that do nothing: a task that ran a
          module on a host becomes ``ansible.builtin.ping`` there (the same number of loop items), a task that ran on
          the controller only (assert, set_fact, include_*, ...) becomes a quiet ``ansible.builtin.assert``, a task
          skipped everywhere stays a skipped task; same hosts, inventory, connection settings and forks. What
          site.yml costs above it is the roles' own work.
Each is a fresh ``ansible-playbook`` process (its start-up included), timed from start to exit; the task times and
the tasks per host come from the ansible.posix.json stdout callback (test tooling: the `ansible` package of
requirements/test.txt). ``--first-run`` runs site.yml once first (fresh hosts) and times that too; with the Molecule
hosts and several trees, each tree gets new hosts, builds the cluster and then runs its no-op/check/floor on it.

Hosts: any inventory (--inventory, repeatable; -e/--extra-vars passed on), or ``--molecule`` (default when no inventory
is given): the cluster scenario's hosts (extensions/molecule/cluster), created and prepared with
``molecule create``/``prepare`` before and removed with ``molecule cleanup``/``destroy`` afterwards, with the
scenario's settings (group_vars/all.yml) as extra vars. Run that under the Docker lock:

    flock /tmp/kubeforge-docker.lock .venv/bin/python benchmarks/site/bench_site.py --first-run \\
        --collection before=/tmp/kubeforge-main --collection after=. --runs 2 --json .cache/bench-site.json

Collections are measured alternately (before, after, before, after, ...) so both see the same load (with --first-run
on the Molecule hosts: one tree after the other, each on its own new hosts). A tree's own
ansible.cfg is used (ANSIBLE_CONFIG=<tree>/ansible.cfg); --env LABEL:NAME=VALUE adds an environment variable to one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SCENARIO = REPO / "extensions" / "molecule" / "cluster"
# Actions that run on the controller without a module on the host.
LOCAL_ACTIONS = {
    "add_host",
    "assert",
    "debug",
    "fail",
    "group_by",
    "import_role",
    "import_tasks",
    "include_role",
    "include_tasks",
    "include_vars",
    "meta",
    "set_fact",
    "set_stats",
    "validate_argument_spec",
}


def run_playbook(variant, playbook, inventories, extra, check=False):
    """Run one ansible-playbook as a user does; returns its wall time, exit code, load and parsed json output."""
    argv = [str(REPO / ".venv" / "bin" / "ansible-playbook"), str(playbook)]
    for inventory in inventories:
        argv += ["-i", inventory]
    for value in extra:
        argv += ["-e", value]
    if check:
        argv.append("--check")
    env = {name: value for name, value in dict(os.environ, **variant["env"]).items() if value is not None}
    load = os.getloadavg()[0]
    start = time.monotonic()
    proc = subprocess.run(argv, env=env, cwd=variant["root"], capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    try:
        data = json.loads(proc.stdout[proc.stdout.index("{") :])
    except ValueError:
        data = None
    return {
        "seconds": round(seconds, 1),
        "rc": proc.returncode,
        "load1": round(load, 2),
        "data": data,
        "stderr": proc.stderr[-3000:],
    }


def seconds_between(start, end):
    if not start or not end:
        return 0.0
    return round(
        (datetime.fromisoformat(end.rstrip("Z")) - datetime.fromisoformat(start.rstrip("Z"))).total_seconds(), 2
    )


def task_rows(data):
    """One row per task of a run: name, action, seconds (first start to last result), per host (skipped, items)."""
    rows = []
    for play in data["plays"]:
        for entry in play["tasks"]:
            task, hosts = entry["task"], entry["hosts"]
            actions = [result.get("action", "meta") for result in hosts.values()] or ["meta"]
            per_host = {
                host: {
                    "skipped": bool(result.get("skipped")),
                    "items": len(result["results"]) if isinstance(result.get("results"), list) else 1,
                }
                for host, result in hosts.items()
            }
            rows.append(
                {
                    "name": task["name"],
                    "path": task["path"],
                    "action": actions[0].rsplit(".", 1)[-1],
                    "hosts": per_host,
                    "seconds": seconds_between(task["duration"].get("start"), task["duration"].get("end")),
                }
            )
    return rows


def summary(rows, stats):
    """Tasks per host (run / skipped), module runs per host (loop items counted), changed per host, top tasks."""
    hosts = sorted(stats)
    per_host = {}
    for host in hosts:
        ran = [row for row in rows if host in row["hosts"] and not row["hosts"][host]["skipped"]]
        per_host[host] = {
            "tasks": len(ran),
            "skipped": sum(1 for row in rows if row["hosts"].get(host, {}).get("skipped")),
            "module_runs": sum(row["hosts"][host]["items"] for row in ran if row["action"] not in LOCAL_ACTIONS),
            "changed": stats[host]["changed"],
            "failed": stats[host]["failures"] + stats[host]["unreachable"],
        }
    top = sorted(rows, key=lambda row: row["seconds"], reverse=True)[:15]
    return {
        "task_starts": len(rows),
        "per_host": per_host,
        "top_tasks": [
            {"seconds": row["seconds"], "name": row["name"], "action": row["action"], "path": row["path"]}
            for row in top
        ],
    }


def floor_playbook(rows, hosts):
    """The no-op run's shadow: one task doing nothing per task of the run, on the hosts that ran it."""
    tasks = []
    for number, row in enumerate(rows):
        ran = sorted(host for host, result in row["hosts"].items() if not result["skipped"])
        items = max((row["hosts"][host]["items"] for host in ran), default=1)
        remote = row["action"] not in LOCAL_ACTIONS
        task = {"name": f"floor {number} ({row['action']})"}
        task.update(
            {"ansible.builtin.ping": {}} if remote else {"ansible.builtin.assert": {"that": True, "quiet": True}}
        )
        if not ran:
            task["when"] = False
        elif ran != hosts:
            task["when"] = f"inventory_hostname in {ran}"
        if items > 1:
            task["loop"] = f"{{{{ range({items}) | list }}}}"
        tasks.append(task)
    return [{"name": "Ansible floor", "hosts": ",".join(hosts), "gather_facts": False, "tasks": tasks}]


def variant_from(spec, envs, workdir):
    label, root = spec.split("=", 1) if "=" in spec else (spec, "")
    root_path = Path(root or REPO).resolve()
    link_dir = Path(workdir) / label / "ansible_collections" / "kubeforge"
    link_dir.mkdir(parents=True)
    (link_dir / "cluster").symlink_to(root_path)
    env = {
        "ANSIBLE_CONFIG": str(root_path / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(Path(workdir) / label),
        "ANSIBLE_ROLES_PATH": str(root_path / "roles"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_CALLBACKS_ENABLED": None,
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_NOCOLOR": "1",
    }
    for item in envs:
        owner, assignment = item.split(":", 1) if ":" in item else (item, "")
        if owner == label:
            name, value = assignment.split("=", 1) if "=" in assignment else (assignment, "")
            env[name] = value
    return {"label": label, "root": str(root_path), "env": env}


def molecule(*args):
    env = dict(os.environ, PATH=f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}")
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"),
        ANSIBLE_ROLES_PATH=str(REPO / "roles"),
        ANSIBLE_HOME=str(REPO / ".cache" / "ansible"),
        XDG_CACHE_HOME=str(REPO / ".cache" / "xdg"),
        ANSIBLE_ASYNC_DIR=str(REPO / ".cache" / "ansible" / "async"),
        KUBECACHEDIR=str(REPO / ".cache" / "kube"),
    )
    print("+ molecule", *args, flush=True)
    return subprocess.run(["molecule", *args, "-s", "cluster"], cwd=REPO, env=env, check=False).returncode


def molecule_inventory():
    found = sorted((REPO / ".cache" / "ansible" / "tmp").glob("molecule.*.cluster/inventory"))
    if not found:
        sys.exit("bench_site: no inventory of the cluster scenario under .cache/ansible/tmp (molecule create failed?)")
    return str(found[-1])


def fresh_hosts():
    """The cluster scenario's hosts, new: destroy first (containers of the same names left by an interrupted run
    would make create fail), create, prepare; returns the inventory."""
    if molecule("destroy") or molecule("create") or molecule("prepare"):
        sys.exit("bench_site: molecule create/prepare failed")
    return [molecule_inventory()]


def measure(variant, name, inventories, extra, check=False):
    # each tree's own site.yml (its playbook-relative task files belong to it too)
    result = run_playbook(variant, Path(variant["root"]) / "playbooks" / "site.yml", inventories, extra, check=check)
    return report(variant, name, result)


def report(variant, name, result):
    data = result.pop("data")
    if data is None:
        print(
            f"{variant['label']:>8} {name:<6} FAILED rc={result['rc']} (no json output)\n{result['stderr']}", flush=True
        )
        return dict(result, ok=False)
    rows = task_rows(data)
    result.update(summary(rows, data["stats"]), rows=rows)
    changed = sum(host["changed"] for host in result["per_host"].values())
    failed = sum(host["failed"] for host in result["per_host"].values())
    result["ok"] = result["rc"] == 0 and failed == 0
    tasks = ", ".join(f"{host} {info['tasks']}/{info['module_runs']}" for host, info in result["per_host"].items())
    print(
        f"{variant['label']:>8} {name:<6} {result['seconds']:6.1f} s  rc={result['rc']} changed={changed} "
        f"load={result['load1']}  tasks/module runs per host: {tasks}",
        flush=True,
    )
    return result


def run_floor(variant, noop, inventories, workdir):
    hosts = sorted(noop["per_host"])
    path = Path(workdir) / f"floor-{variant['label']}.yml"
    path.write_text(yaml.safe_dump(floor_playbook(noop["rows"], hosts), sort_keys=False))
    return report(variant, "floor", run_playbook(variant, path, inventories, []))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", action="append", default=[], help="LABEL=PATH of a collection tree (repeat)")
    parser.add_argument("--env", action="append", default=[], help="LABEL:NAME=VALUE, an environment variable")
    parser.add_argument("-i", "--inventory", action="append", default=[], help="inventory (default: --molecule)")
    parser.add_argument("-e", "--extra-vars", action="append", default=[], help="passed to ansible-playbook")
    parser.add_argument("--molecule", action="store_true", help="create, use and destroy the cluster scenario's hosts")
    parser.add_argument(
        "--first-run",
        action="store_true",
        help="run site.yml once first on fresh hosts (with --molecule: each tree on its own new hosts)",
    )
    parser.add_argument("--runs", type=int, default=1, help="no-op/check/floor rounds per collection (default 1)")
    parser.add_argument("--modes", default="noop,check,floor", help="which of noop,check,floor to run (floor: noop)")
    parser.add_argument("--keep", action="store_true", help="--molecule: leave the hosts (molecule destroy later)")
    parser.add_argument("--json", help="write every number (and each run's task list) to this file")
    args = parser.parse_args()
    use_molecule = args.molecule or not args.inventory
    extra = args.extra_vars or ([f"@{SCENARIO / 'group_vars' / 'all.yml'}"] if use_molecule else [])
    with tempfile.TemporaryDirectory(prefix="kubeforge-bench-site-") as workdir:
        variants = [variant_from(spec, args.env, workdir) for spec in args.collection or ["this="]]
        try:
            if args.first_run and use_molecule and len(variants) > 1:
                # every tree builds the cluster from fresh hosts, then measures its no-op/check/floor on it
                results = {"inventories": [], "extra_vars": extra, "runs": {}, "first_run": None, "first_runs": []}
                for variant in variants:
                    inventories = fresh_hosts()
                    part = benchmark(args, [variant], inventories, extra, workdir)
                    results["inventories"] = inventories
                    results["first_runs"].append(part["first_run"])
                    results["runs"].update(part["runs"])
            else:
                inventories = args.inventory or (fresh_hosts() if use_molecule else [])
                results = benchmark(args, variants, inventories, extra, workdir)
        finally:
            if use_molecule and not args.keep:
                molecule("cleanup")
                molecule("destroy")
    print_summary(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0 if all(run.get("ok") for runs in results["runs"].values() for run in runs) else 1


def benchmark(args, variants, inventories, extra, workdir):
    results = {"inventories": inventories, "extra_vars": extra, "runs": {}, "first_run": None}
    if args.first_run:
        results["first_run"] = measure(variants[0], "first", inventories, extra)
        results["first_run"]["label"] = variants[0]["label"]
    for _round in range(args.runs):
        for variant in variants:
            runs = {}
            if "noop" in args.modes or "floor" in args.modes:
                runs["noop"] = measure(variant, "noop", inventories, extra)
            if "check" in args.modes:
                runs["check"] = measure(variant, "check", inventories, extra, check=True)
            if "floor" in args.modes:
                noop = runs["noop"]
                runs["floor"] = run_floor(variant, noop, inventories, workdir) if noop.get("rows") else {"ok": False}
            for name, run in runs.items():
                results["runs"].setdefault(f"{variant['label']}/{name}", []).append(run)
    return results


def print_summary(results):
    print("\n=== median wall seconds (ratio to the same tree's floor)")
    labels = sorted({key.split("/")[0] for key in results["runs"]})
    for label in labels:
        floor = median(results["runs"].get(f"{label}/floor", []))
        for name in ("noop", "check", "floor"):
            value = median(results["runs"].get(f"{label}/{name}", []))
            ratio = f"{value / floor:.2f}x" if value and floor else "-"
            print(f"{label:>8} {name:<6} {value or 0:6.1f} s  {ratio}")
    for first in results.get("first_runs") or [results.get("first_run")]:
        if first:
            print(f"{first['label']:>8} first  {first['seconds']:6.1f} s  rc={first['rc']}")
    print("\n=== rows for docs/benchmarks.md")
    print("\n".join(table_rows(results)))


def table_rows(results):
    """docs/benchmarks.md's table: one row per run (first run, then noop/check/floor of each tree in run order)."""
    rows = [
        "| run | tree | wall s | load | tasks per host | module runs per host | changed | ratio to floor |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    firsts = (
        results.get("first_runs") or [results["first_run"]]
        if results.get("first_run") or results.get("first_runs")
        else []
    )
    runs = [("first run (fresh hosts)", first.get("label", ""), first) for first in firsts if first]
    for key, values in results["runs"].items():
        label, name = key.split("/")
        runs += [(name, label, run) for run in values]
    for name, label, run in runs:
        floor = median(results["runs"].get(f"{label}/floor", []))
        per_host = {host: info for host, info in run.get("per_host", {}).items() if host != "localhost"}
        tasks = " / ".join(f"{host} {info['tasks']}" for host, info in per_host.items())
        modules = " / ".join(f"{info['module_runs']}" for info in per_host.values())
        changed = sum(info["changed"] for info in per_host.values())
        wall = (
            f"{run['seconds']}" if run.get("ok") or name == "first run (fresh hosts)" else f"failed ({run['seconds']})"
        )
        ratio = f"{run['seconds'] / floor:.2f}x" if floor and run.get("ok") and "first" not in name else "-"
        rows.append(f"| {name} | {label} | {wall} | {run['load1']} | {tasks} | {modules} | {changed} | {ratio} |")
    return rows


def median(runs):
    values = [run["seconds"] for run in runs if run.get("ok")]
    return statistics.median(values) if values else None


if __name__ == "__main__":
    sys.exit(main())
