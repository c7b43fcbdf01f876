"""Defaulting shared by several kinds (pod specs, pod templates, rolling update strategies). Each kind's own
defaults are in its file under kinds/; kinds.apply_defaults runs them."""

from __future__ import annotations

_TCP = "TCP"


def _image_pull_policy(image):
    tail = (image or "").rsplit("/", 1)[-1]
    if "@" in tail:
        return "IfNotPresent"
    if ":" not in tail or tail.rsplit(":", 1)[1] == "latest":
        return "Always"
    return "IfNotPresent"


def _ports(ports):
    for port in ports or []:
        port.setdefault("protocol", _TCP)


def container(ctr):
    if "image" in ctr:
        ctr.setdefault("imagePullPolicy", _image_pull_policy(ctr["image"]))
    ctr.setdefault("terminationMessagePath", "/dev/termination-log")
    ctr.setdefault("terminationMessagePolicy", "File")
    ctr.setdefault("resources", {})
    _ports(ctr.get("ports"))
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        if isinstance(ctr.get(probe), dict):
            _probe(ctr[probe])


def _probe(probe):
    for key, value in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1), ("failureThreshold", 3)):
        probe.setdefault(key, value)
    for action in ("httpGet", "tcpSocket"):
        if isinstance(probe.get(action), dict) and action == "httpGet":
            probe[action].setdefault("scheme", "HTTP")
            probe[action].setdefault("path", "/")


def pod_spec(spec):
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    for key in ("containers", "initContainers"):
        for ctr in spec.get(key) or []:
            if isinstance(ctr, dict):
                container(ctr)
    for toleration in spec.get("tolerations") or []:
        if isinstance(toleration, dict) and toleration.get("operator") is None and "key" in toleration:
            toleration["operator"] = "Equal"


def template(spec):
    tpl = spec.get("template")
    if isinstance(tpl, dict):
        tpl.setdefault("metadata", {})
        if isinstance(tpl.get("spec"), dict):
            pod_spec(tpl["spec"])


def rolling_update(spec, key):
    strategy = spec.setdefault(key, {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        return rolling
    return None
