"""What the kubelet writes into a pod's container statuses: running, image pull back-off, crash loop, terminated."""

from __future__ import annotations

import copy

from ..api import now_iso
from ..common import record_event, set_condition
from ..nodes import BAD_IMAGE_MARKER, EXIT_CODE_ANNOTATION, pull_error


class ContainerStates:
    """Mixed into Kubelet."""

    @staticmethod
    def _exit_code(pod):
        return int((pod["metadata"].get("annotations") or {}).get(EXIT_CODE_ANNOTATION, "0") or 0)

    def _image_pull_failure(self, pod, before):
        """An image that cannot be pulled, as the kubelet reports it after the first failed pull.

        kubelet pkg/kubelet/images/image_manager.go: the waiting reason becomes ImagePullBackOff with the message
        `Back-off pulling image "<image>": <the previous pull error>`, and a Warning event `Failed` says
        `Failed to pull image "<image>": <error>`; the error is the CRI's (containerd: NotFound, "not found").
        """
        status = pod["status"]
        status["phase"] = "Pending"
        _containers_not_ready(status, pod)
        backing_off = {
            c["name"]
            for c in (before.get("status") or {}).get("containerStatuses") or []
            if (c.get("state") or {}).get("waiting", {}).get("reason") == "ImagePullBackOff"
        }
        for ctr in status["containerStatuses"]:
            if BAD_IMAGE_MARKER in ctr["image"]:
                error = pull_error(ctr["image"])
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
        _containers_not_ready(status, new)
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


def _containers_not_ready(status, pod):
    """Ready and ContainersReady False (ContainersNotReady), naming the pod's containers, as the kubelet says."""
    names = " ".join(c["name"] for c in pod["spec"]["containers"])
    for ctype in ("Ready", "ContainersReady"):
        set_condition(
            status["conditions"], ctype, "False", "ContainersNotReady", f"containers with unready status: [{names}]"
        )
