"""Command line: `serve --port PORT --kubeconfig FILE` prints `ready https://127.0.0.1:PORT` once listening."""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import signal
import sys
import threading
import time

from .bootstrap import bootstrap
from .certs import Pki
from .server import make_server

_PARENT_POLL = 0.5


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="serve", description="Kubernetes API test server (kubesim).")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--kubeconfig", required=True, help="where to write the kubeconfig")
    parser.add_argument(
        "--pod-stop-seconds",
        type=float,
        default=0.2,
        help="how long simulated containers take to stop after a graceful delete",
    )
    parser.add_argument("--ready-delay", type=float, default=0.1, help="seconds from binding a pod to Ready")
    parser.add_argument(
        "--event-log-size",
        type=int,
        default=0,
        help="watch/continue history kept (default 20000 events); small values test 410 Gone",
    )
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when the parent process goes away (test harnesses: no stray servers)",
    )
    parser.add_argument(
        "--feature-gates",
        default="",
        help="kube-apiserver style gates; only WatchList=false is modelled (a server without streaming lists)",
    )
    parser.add_argument("--no-controllers", action="store_true", help="run the API only (no controllers)")
    return parser.parse_args(argv)


def _watch_parent(parent, stop):
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL)
    stop(None, None)


def _outage(server, controllers, down):
    for running in controllers:
        (running.paused.set if down else running.paused.clear)()
    (server.go_down if down else server.come_back)()


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    pki = Pki()
    gates = dict(g.split("=", 1) for g in args.feature_gates.split(",") if "=" in g)
    options = {**vars(args), "ca_pem": pki.ca_pem.decode(), "watch_list": gates.get("WatchList", "true") != "false"}
    server, api = make_server(args.port, pki, options)
    url = f"https://127.0.0.1:{server.server_address[1]}"
    pki.write_kubeconfig(args.kubeconfig, url)
    if args.event_log_size:
        api.store.log_size = args.event_log_size
    bootstrap(api)
    controllers = []

    def _stop(signum, frame):
        del signum, frame
        server.stopping.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    # SIGUSR1 stops the API server, SIGUSR2 starts it again on the same port with the same store (etcd keeps the
    # data across a kube-apiserver restart); meanwhile the controllers and kubelets cannot write (paused).
    signal.signal(signal.SIGUSR1, lambda *_: _outage(server, controllers, True))
    signal.signal(signal.SIGUSR2, lambda *_: _outage(server, controllers, False))
    if args.exit_with_parent:
        threading.Thread(target=_watch_parent, args=(os.getppid(), _stop), daemon=True).start()
    print(f"ready {url}", flush=True)
    if not args.no_controllers:
        # Imported after `ready` to start faster; start() catches up with anything already stored.
        controllers.append(importlib.import_module("kubesim.controllers").Controllers(api, args))
        controllers[0].start()
    try:
        server.serve()
    finally:
        for running in controllers:
            running.stop()
        server.server_close()
        shutil.rmtree(pki.dir, ignore_errors=True)
    return 0
