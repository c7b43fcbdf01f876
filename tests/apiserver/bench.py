"""Measure kubesim: start-up, 1,000 server-side applies (create, then no-op), list latency.

Run from the repo root: `.venv/bin/python tests/apiserver/bench.py [--objects 1000]`. Prints a Markdown table
(the figures in docs/apiserver.md come from it).
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ApiServer = importlib.import_module("kubesim.testing").ApiServer

APPLY = "application/apply-patch+yaml"


def _deployment(index):
    name = f"bench-{index:04d}"
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"bench": "yes"}},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]},
            },
        },
    }


def _apply_all(server, count, workers):
    def one(index):
        body = json.dumps(_deployment(index))  # JSON is YAML
        path = f"/apis/apps/v1/namespaces/default/deployments/bench-{index:04d}?fieldManager=bench"
        status, _body = server.request("PATCH", path, body, APPLY)
        return status

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        statuses = list(pool.map(one, range(count)))
    return time.perf_counter() - started, statuses


def _time(fn, repeat=5):
    samples = []
    for _index in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        server = ApiServer(tmp)
        startup = time.perf_counter() - started
        try:
            create, statuses = _apply_all(server, args.objects, args.workers)
            assert set(statuses) == {201}, set(statuses)
            noop, statuses = _apply_all(server, args.objects, args.workers)
            assert set(statuses) == {200}, set(statuses)
            path = "/apis/apps/v1/namespaces/default/deployments?labelSelector=bench%3Dyes"
            listing = _time(lambda: server.request("GET", path))
            _status, body = server.request("GET", path)
            assert len(body["items"]) == args.objects
            page = _time(lambda: server.request("GET", path + "&limit=100"))
            get = _time(lambda: server.request("GET", "/apis/apps/v1/namespaces/default/deployments/bench-0001"), 50)
        finally:
            server.stop()
    rows = [
        ("start-up to `ready` (incl. interpreter)", f"{startup:.2f} s"),
        (
            f"{args.objects} server-side applies, create ({args.workers} clients)",
            f"{create:.2f} s ({args.objects / create:.0f}/s)",
        ),
        (f"{args.objects} server-side applies, no-op", f"{noop:.2f} s ({args.objects / noop:.0f}/s)"),
        (f"list {args.objects} Deployments (one response)", f"{listing * 1000:.0f} ms"),
        ("list, first page of 100", f"{page * 1000:.0f} ms"),
        ("get one object", f"{get * 1000:.1f} ms"),
    ]
    print("| measure | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
