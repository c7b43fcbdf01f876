"""Node simulator (status of registered Nodes), scheduler and kubelet simulator."""

from __future__ import annotations

import copy
import time

from .api import now_iso
from .common import is_active, record_event, set_condition
from .quantity import quantity_value

STOP_ANNOTATION = "kubesim.kubeforge.io/stop-seconds"
NEVER_READY_ANNOTATION = "kubesim.kubeforge.io/ready"
EXIT_CODE_ANNOTATION = "kubesim.kubeforge.io/exit-code"
BAD_IMAGE_MARKER = "does-not-exist"  # images whose reference contains this cannot be pulled
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
_CAPACITY = {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi", "hugepages-2Mi": "0"}
_SCHEDULE_EFFECTS = ("NoSchedule", "NoExecute")
_UNSCHEDULABLE = {"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule"}
# kube-scheduler's words (pkg/scheduler): ErrNoNodesAvailable when the cluster has no node; otherwise a FitError,
# "0/N nodes are available: <count reason, sorted>. preemption: 0/N nodes are available: <count status>." where
# DefaultPreemption says a node whose filter failed unresolvably (taints, unschedulable, affinity) is "Preemption
# is not helpful for scheduling." and one short of resources has "No preemption victims found for incoming pod."
# (kubesim pods all have priority 0: nothing can be preempted).
NO_NODES = "no nodes available to schedule pods"
_RESOLVABLE = ("Insufficient ", "Too many pods")


def node_ready(node):
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def tolerates(tolerations, taint):
    for tol in tolerations or []:
        if tol.get("effect") and tol["effect"] != taint.get("effect"):
            continue
        if tol.get("operator") == "Exists" and (not tol.get("key") or tol["key"] == taint.get("key")):
            return True
        if tol.get("key") == taint.get("key") and tol.get("value", "") == taint.get("value", ""):
            return True
    return False


def _expr_match(expr, value_of):
    key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
    value = value_of(key)
    checks = {
        "In": lambda: value is not None and value in values,
        "NotIn": lambda: value is None or value not in values,
        "Exists": lambda: value is not None,
        "DoesNotExist": lambda: value is None,
        "Gt": lambda: value is not None and value.isdigit() and int(value) > int(values[0]),
        "Lt": lambda: value is not None and value.isdigit() and int(value) < int(values[0]),
    }
    return checks.get(op, lambda: False)()


def _term_match(term, node):
    labels = node["metadata"].get("labels") or {}
    fields = {"metadata.name": node["metadata"]["name"]}
    return all(_expr_match(e, labels.get) for e in term.get("matchExpressions") or []) and all(
        _expr_match(e, fields.get) for e in term.get("matchFields") or []
    )


def selects_node(spec, node):
    """nodeSelector and required node affinity."""
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    required = (
        ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
        or {}
    ).get("nodeSelectorTerms")
    return not required or any(_term_match(t, node) for t in required)


def untolerated_taint(spec, node):
    """The first NoSchedule/NoExecute taint of `node` the pod does not tolerate (None when all are)."""
    tolerations = spec.get("tolerations") or []
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") in _SCHEDULE_EFFECTS and not tolerates(tolerations, taint):
            return taint
    return None


def taints_tolerated(spec, node):
    tolerations = spec.get("tolerations") or []
    if (node.get("spec") or {}).get("unschedulable") and not tolerates(tolerations, _UNSCHEDULABLE):
        return False
    return untolerated_taint(spec, node) is None


def _requests(spec):
    total = {"cpu": 0, "memory": 0}
    for ctr in spec.get("containers") or []:
        requests = (ctr.get("resources") or {}).get("requests") or (ctr.get("resources") or {}).get("limits") or {}
        for name in total:
            if name in requests:
                total[name] += quantity_value(requests[name])
    return total


def _pull_error(image):
    """containerd's answer for a reference the registry does not have (CRI NotFound)."""
    name = image if "/" in image else f"library/{image}"
    first = name.split("/", 1)[0]
    if "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    return (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{name}": '
        f'failed to resolve reference "{name}": {name}: not found'
    )


class NodeSimulator:
    """Fills in what a kubelet reports for every registered Node and keeps the unschedulable taint."""

    def __init__(self, ctl):
        self.ctl, self.api = ctl, ctl.api
        self._addresses = {}

    def reconcile(self, name):
        node = self.api.store.get("/nodes", "", name)
        if node is None or node["metadata"].get("deletionTimestamp"):
            if node is not None:
                self.api.finish("/nodes", node)
            return
        self._taint(node)
        node = self.api.store.get("/nodes", "", name)
        new = copy.deepcopy(node)
        status = new.setdefault("status", {})
        for key in ("capacity", "allocatable"):
            status.setdefault(key, dict(_CAPACITY))
        conditions = status.setdefault("conditions", [])
        if not conditions:
            for ctype, reason, msg in (
                ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ):
                set_condition(conditions, ctype, "False", reason, msg)
            set_condition(conditions, "Ready", "True", "KubeletReady", "kubelet is posting ready status")
            for cond in conditions:
                cond["lastHeartbeatTime"] = cond["lastTransitionTime"]
        ip = self._addresses.setdefault(name, f"172.18.{len(self._addresses) // 250}.{len(self._addresses) % 250 + 2}")
        status.setdefault("addresses", [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}])
        status.setdefault("daemonEndpoints", {"kubeletEndpoint": {"Port": 10250}})
        status.setdefault(
            "nodeInfo",
            {
                "machineID": name,
                "systemUUID": name,
                "bootID": name,
                "kernelVersion": "6.1.0-kubesim",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "containerRuntimeVersion": "containerd://2.1.0",
                "kubeletVersion": "v1.37.0",
                "kubeProxyVersion": "",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        )
        self.api.system_write("/nodes", new, "kubelet", "status")

    def _taint(self, node):
        spec = node.get("spec") or {}
        taints = list(spec.get("taints") or [])
        has = any(t.get("key") == UNSCHEDULABLE_TAINT for t in taints)
        if bool(spec.get("unschedulable")) == has:
            return
        new = copy.deepcopy(node)
        if has:
            taints = [t for t in taints if t.get("key") != UNSCHEDULABLE_TAINT]
        else:
            taints.append({"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule", "timeAdded": now_iso()})
        if taints:
            new["spec"]["taints"] = taints
        else:
            new["spec"].pop("taints", None)
        self.api.system_write("/nodes", new, "node-controller", "")


class Scheduler:
    def __init__(self, ctl):
        self.ctl, self.api = ctl, ctl.api

    def schedule_all(self):
        for pod in self.api.store.items("/pods"):
            if not (pod.get("spec") or {}).get("nodeName"):
                self.schedule(pod["metadata"]["namespace"], pod["metadata"]["name"])

    def _fits(self, pod, node, load):
        """None when `pod` fits `node`, else the reason of the first failing filter plugin (its words)."""
        spec = pod.get("spec") or {}
        tolerations = spec.get("tolerations") or []
        if (node.get("spec") or {}).get("unschedulable") and not tolerates(tolerations, _UNSCHEDULABLE):
            return "node(s) were unschedulable"  # NodeUnschedulable plugin
        taint = untolerated_taint(spec, node)
        if taint is None and (not node_ready(node) or node["metadata"].get("deletionTimestamp")):
            # the node lifecycle controller taints a NotReady node node.kubernetes.io/not-ready:NoSchedule
            taint = {"key": "node.kubernetes.io/not-ready", "value": ""}
        if taint is not None:
            return f"node(s) had untolerated taint {{{taint['key']}: {taint.get('value', '')}}}"  # TaintToleration
        if not selects_node(spec, node):
            return "node(s) didn't match Pod's node affinity/selector"  # NodeAffinity
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        used = load.get(node["metadata"]["name"], {"cpu": 0, "memory": 0, "pods": 0})
        want = _requests(spec)
        for name in ("cpu", "memory"):
            if name in allocatable and used[name] + want[name] > quantity_value(allocatable[name]):
                return f"Insufficient {name}"  # NodeResourcesFit
        if "pods" in allocatable and used["pods"] + 1 > quantity_value(allocatable["pods"]):
            return "Too many pods"
        return None

    @staticmethod
    def _fit_error(reasons, total):
        def histogram(counts):
            return ", ".join(sorted(f"{n} {why}" for why, n in counts.items()))

        preemption = {}
        for why, n in reasons.items():
            verdict = (
                "No preemption victims found for incoming pod."
                if why.startswith(_RESOLVABLE)
                else "Preemption is not helpful for scheduling."
            )
            preemption[verdict] = preemption.get(verdict, 0) + n
        return (
            f"0/{total} nodes are available: {histogram(reasons)}. "
            f"preemption: 0/{total} nodes are available: {histogram(preemption)}."
        )

    def _load(self):
        load = {}
        for pod in self.api.store.items("/pods"):
            node = (pod.get("spec") or {}).get("nodeName")
            if not node or not is_active(pod):
                continue
            entry = load.setdefault(node, {"cpu": 0, "memory": 0, "pods": 0})
            want = _requests(pod.get("spec") or {})
            entry["cpu"] += want["cpu"]
            entry["memory"] += want["memory"]
            entry["pods"] += 1
        return load

    def schedule(self, namespace, name):
        pod = self.api.store.get("/pods", namespace, name)
        if pod is None or (pod.get("spec") or {}).get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            return
        if (pod.get("spec") or {}).get("schedulerName", "default-scheduler") != "default-scheduler":
            return
        nodes = self.api.store.items("/nodes")
        load = self._load()
        reasons, fits = {}, []
        for node in nodes:
            why = self._fits(pod, node, load)
            if why:
                reasons[why] = reasons.get(why, 0) + 1
            else:
                fits.append(node["metadata"]["name"])
        if not fits:
            message = self._fit_error(reasons, len(nodes)) if nodes else NO_NODES
            current = next(
                (c for c in (pod.get("status") or {}).get("conditions") or [] if c.get("type") == "PodScheduled"), {}
            )
            if current.get("message") != message:
                record_event(self.api, pod, ("Warning", "FailedScheduling"), message, "default-scheduler")
            self._status(pod, "False", "Unschedulable", message)
            return
        target = min(fits, key=lambda n: (load.get(n, {}).get("pods", 0), n))
        new = copy.deepcopy(pod)
        new["spec"]["nodeName"] = target
        stored = self.api.system_write("/pods", new, "kube-scheduler", "")
        self._status(stored, "True", "", "")
        record_event(
            self.api,
            stored,
            ("Normal", "Scheduled"),
            f"Successfully assigned {namespace}/{name} to {target}",
            "default-scheduler",
        )

    def _status(self, pod, status, reason, message):
        new = copy.deepcopy(pod)
        conditions = new.setdefault("status", {}).setdefault("conditions", [])
        set_condition(conditions, "PodScheduled", status, reason, message)
        for cond in conditions:
            if cond["type"] == "PodScheduled" and not reason:
                cond.pop("reason", None)
                cond.pop("message", None)
        self.api.system_write("/pods", new, "kube-scheduler", "status")


class Kubelet:
    """Starts bound pods (Running/Ready after --ready-delay) and removes terminating pods after they stop."""

    def __init__(self, ctl, ready_delay, stop_seconds):
        self.ctl, self.api = ctl, ctl.api
        self.ready_delay, self.stop_seconds = ready_delay, stop_seconds
        self._due = {}
        self._ips = 0

    def _wait(self, uid, what, delay, item):
        key = (uid, what)
        if key not in self._due:
            self._due[key] = time.monotonic() + delay
            self.ctl.after(delay, item)
            return False
        if time.monotonic() < self._due[key]:
            self.ctl.after(self._due[key] - time.monotonic(), item)
            return False
        return True

    def reconcile(self, namespace, name):
        pod = self.api.store.get("/pods", namespace, name)
        if pod is None:
            return
        node_name = (pod.get("spec") or {}).get("nodeName")
        node = self.api.store.get("/nodes", "", node_name) if node_name else None
        item = ("kubelet", namespace, name)
        uid = pod["metadata"]["uid"]
        if pod["metadata"].get("deletionTimestamp"):
            self._terminate(pod, node, item)
            return
        if node is None:
            if node_name:
                self.api.system_delete("/pods", pod, grace=0)  # pod GC: bound to a node that is gone
            return
        phase = (pod.get("status") or {}).get("phase")
        if phase == "Pending" and self._wait(uid, "start", self.ready_delay, item):
            self._start(pod, node)
        elif phase == "Running" and self._exits(pod) and self._wait(uid, "complete", self.ready_delay, item):
            if (pod.get("spec") or {}).get("restartPolicy") in ("Never", "OnFailure"):
                self._complete(pod)
            else:
                self._crash_loop(pod)

    @staticmethod
    def _exit_code(pod):
        return int((pod["metadata"].get("annotations") or {}).get(EXIT_CODE_ANNOTATION, "0") or 0)

    def _exits(self, pod):
        """Run-to-completion pods finish; others only when told to crash (exit-code annotation)."""
        if (pod.get("spec") or {}).get("restartPolicy") in ("Never", "OnFailure"):
            return True
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        return self._exit_code(pod) != 0 and not any(s.get("restartCount") for s in statuses)

    def _terminate(self, pod, node, item):
        meta = pod["metadata"]
        grace = meta.get("deletionGracePeriodSeconds") or 0
        stop = self.stop_seconds
        if STOP_ANNOTATION in (meta.get("annotations") or {}):
            stop = float(meta["annotations"][STOP_ANNOTATION])
        delay = 0 if node is None else min(grace, stop)
        if not self._wait(meta["uid"], "stop", delay, item) or meta.get("finalizers"):
            return
        self.api.finish("/pods", pod)
        for what in ("start", "complete", "stop"):
            self._due.pop((meta["uid"], what), None)

    def _start(self, pod, node):
        new = copy.deepcopy(pod)
        now = now_iso()
        status = new.setdefault("status", {})
        self._ips += 1
        ip = f"10.244.{self._ips // 250}.{self._ips % 250 + 2}"
        host_ip = next(
            (a["address"] for a in (node.get("status") or {}).get("addresses") or [] if a.get("type") == "InternalIP"),
            "172.18.0.2",
        )
        ready = (pod["metadata"].get("annotations") or {}).get(NEVER_READY_ANNOTATION) != "false"
        status.update(
            phase="Running", podIP=ip, podIPs=[{"ip": ip}], hostIP=host_ip, hostIPs=[{"ip": host_ip}], startTime=now
        )
        conditions = status.setdefault("conditions", [])
        for ctype in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"):
            on = "True" if ctype not in ("Ready", "ContainersReady") or ready else "False"
            set_condition(conditions, ctype, on, "" if on == "True" else "ContainersNotReady", "")
            for cond in conditions:
                if cond["type"] == ctype and on == "True":
                    cond.pop("reason", None)
                    cond.pop("message", None)
        status["containerStatuses"] = [self._container(c, ready, now) for c in new["spec"].get("containers") or []]
        if any(BAD_IMAGE_MARKER in c.get("image", "") for c in new["spec"].get("containers") or []):
            self._image_pull_failure(new, pod)
        self.api.system_write("/pods", new, "kubelet", "status")

    def _image_pull_failure(self, pod, before):
        """An image that cannot be pulled, as the kubelet reports it after the first failed pull.

        kubelet pkg/kubelet/images/image_manager.go: the waiting reason becomes ImagePullBackOff with the message
        `Back-off pulling image "<image>": <the previous pull error>`, and a Warning event `Failed` says
        `Failed to pull image "<image>": <error>`; the error is the CRI's (containerd: NotFound, "not found").
        """
        status = pod["status"]
        status["phase"] = "Pending"
        for ctype in ("Ready", "ContainersReady"):
            set_condition(
                status["conditions"],
                ctype,
                "False",
                "ContainersNotReady",
                "containers with unready status: [" + " ".join(c["name"] for c in pod["spec"]["containers"]) + "]",
            )
        backing_off = {
            c["name"]
            for c in (before.get("status") or {}).get("containerStatuses") or []
            if (c.get("state") or {}).get("waiting", {}).get("reason") == "ImagePullBackOff"
        }
        for ctr in status["containerStatuses"]:
            if BAD_IMAGE_MARKER in ctr["image"]:
                error = _pull_error(ctr["image"])
                ctr.update(
                    ready=False,
                    started=False,
                    imageID="",
                    state={
                        "waiting": {
                            "reason": "ImagePullBackOff",
                            "message": f'Back-off pulling image "{ctr["image"]}": ErrImagePull: {error}',
                        }
                    },
                )
                ctr.pop("containerID")
                if ctr["name"] in backing_off:
                    continue  # reported once (a kubelet aggregates the repeats into the event's count)
                record_event(
                    self.api, pod, ("Warning", "Failed"), f'Failed to pull image "{ctr["image"]}": {error}', "kubelet"
                )

    def _crash_loop(self, pod):
        new = copy.deepcopy(pod)
        status = new["status"]
        now = now_iso()
        code = self._exit_code(pod)
        for ctr in status.get("containerStatuses") or []:
            started = ctr.get("state", {}).get("running", {}).get("startedAt", now)
            ctr.update(
                ready=False,
                started=False,
                restartCount=1,
                lastState={
                    "terminated": {
                        "exitCode": code,
                        "reason": "Error",
                        "startedAt": started,
                        "finishedAt": now,
                        "containerID": ctr.get("containerID"),
                    }
                },
                state={
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": f"back-off 10s restarting failed container={ctr['name']} "
                        f"pod={pod['metadata']['name']}",
                    }
                },
            )
        for ctype in ("Ready", "ContainersReady"):
            set_condition(
                status["conditions"],
                ctype,
                "False",
                "ContainersNotReady",
                "containers with unready status: [" + " ".join(c["name"] for c in new["spec"]["containers"]) + "]",
            )
        self.api.system_write("/pods", new, "kubelet", "status")

    @staticmethod
    def _container(ctr, ready, now):
        image = ctr.get("image", "")
        return {
            "name": ctr.get("name"),
            "image": image,
            "imageID": f"docker.io/library/{image}@sha256:" + "0" * 64,
            "containerID": "containerd://" + "1" * 64,
            "ready": ready,
            "started": True,
            "restartCount": 0,
            "state": {"running": {"startedAt": now}},
        }

    def _complete(self, pod):
        new = copy.deepcopy(pod)
        status = new["status"]
        code = self._exit_code(pod)
        status["phase"] = "Succeeded" if code == 0 else "Failed"
        now = now_iso()
        for ctr in status.get("containerStatuses") or []:
            started = ctr.get("state", {}).get("running", {}).get("startedAt", now)
            ctr.update(
                ready=False,
                started=False,
                state={
                    "terminated": {
                        "exitCode": code,
                        "reason": "Completed" if code == 0 else "Error",
                        "startedAt": started,
                        "finishedAt": now,
                        "containerID": ctr.get("containerID"),
                    }
                },
            )
        for ctype in ("Ready", "ContainersReady"):
            set_condition(status["conditions"], ctype, "False", "PodCompleted" if code == 0 else "PodFailed", "")
        self.api.system_write("/pods", new, "kubelet", "status")
