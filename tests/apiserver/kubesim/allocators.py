"""Service ClusterIP and NodePort allocation, with the dry-run behaviour of kube-apiserver's allocators.

Modelled on kubernetes/kubernetes from v1.25 (the real server of issue 19) to the current tree (kubesim reports
v1.37): the dry-run behaviour below reads the same in both. Sources:

- pkg/registry/core/service/storage/alloc.go: ``allocateCreate`` runs the allocators in the registry's
  BeginCreate hook, *before* the strategy's validation; ``allocateUpdate`` runs in BeginUpdate, after it.
  ``initNodePorts``/``updateNodePorts`` turn an allocator error into
  ``spec.ports[i].nodePort: Invalid value: <port>: <allocator error>``; ``allocIPs`` into
  ``spec.clusterIPs: Invalid value: [...]: failed to allocate IP <ip>: <allocator error>``.
- pkg/registry/core/service/portallocator/operation.go: in a dry-run, ``Allocate(port)`` only asks ``Has(port)``
  (already allocated -> ErrAllocated) and ``Has`` is false for a port outside the range, so a dry-run ACCEPTS an
  out-of-range node port that the real write rejects (observed on a 1.25 server: ``nodePort: 80`` passed the
  dry-run and failed the write). ``AllocateNext`` in a dry-run returns a dummy port: 32769, or one above the
  highest port of the operation (its search loop ``for port := lastPort + 1; port < 100`` never runs).
- pkg/registry/core/service/portallocator/allocator.go: ``ErrAllocated`` = "provided port is already allocated",
  ``ErrNotInRange`` = "provided port is not in the valid range. The range of valid ports is 30000-32767"
  (the default --service-node-port-range).
- pkg/registry/core/service/ipallocator/bitmap.go (``allocate(ip, dryRun)``) and, with the IPAddress-object
  allocator that replaces it (MultiCIDRServiceAllocator, GA in 1.33), ipallocator.go (``allocateService``):
  a dry-run checks the range but not whether the IP is free ("Don't bother to check whether the IP is actually
  free") - an IP taken by another Service fails only the write (``ErrAllocated`` = "provided IP is already
  allocated"; out of range: "the provided IP (<ip>) is not in the valid range. The range of valid IPs is <cidr>").
"""

from __future__ import annotations

import ipaddress
import random

from . import validation

NODE_PORT_RANGE = (30000, 32767)
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")  # kubeadm's default --service-cluster-ip-range
PORT_ALLOCATED = "provided port is already allocated"
PORT_NOT_IN_RANGE = "provided port is not in the valid range. The range of valid ports is {}-{}".format(
    *NODE_PORT_RANGE
)
IP_ALLOCATED = "provided IP is already allocated"
DRY_RUN_NODE_PORT = 32769
_FIRST_HOST = 10
_HOSTS_PER_OCTET = 254


def _node_port_types(spec):
    return spec.get("type") in ("NodePort", "LoadBalancer")


class Allocator:
    """ClusterIP and NodePort allocation from the live Service objects (the store is the allocation map)."""

    def __init__(self, store):
        self.store = store
        self._next_ip = _FIRST_HOST

    def used_ips(self, skip=None):
        return {
            (s.get("spec") or {}).get("clusterIP")
            for s in self.store.items("/services")
            if not skip or s["metadata"].get("uid") != skip
        }

    def cluster_ip(self):
        used = self.used_ips()
        while True:
            self._next_ip += 1
            ip = f"10.96.{self._next_ip // _HOSTS_PER_OCTET}.{self._next_ip % _HOSTS_PER_OCTET + 1}"
            if ip not in used:
                return ip

    def used_node_ports(self, skip=None):
        used = set()
        for svc in self.store.items("/services"):
            if skip and svc["metadata"].get("uid") == skip:
                continue
            used |= {p.get("nodePort") for p in (svc.get("spec") or {}).get("ports") or []}
        return used - {None}

    def allocate(self, obj, old, dry_run):
        """Causes (422) of allocating ``obj``'s node ports and ClusterIP; fills in missing node ports."""
        return self._node_ports(obj, old, dry_run) + self._cluster_ip(obj, old, dry_run)

    def _node_ports(self, obj, old, dry_run):
        spec = obj.get("spec") or {}
        if not _node_port_types(spec):
            return []
        uid = ((old or {}).get("metadata") or {}).get("uid")
        used = self.used_node_ports(skip=uid)
        kept = {p.get("nodePort") for p in ((old or {}).get("spec") or {}).get("ports") or []} - {None}
        by_service_port, causes = {}, []
        for n, port in enumerate(spec.get("ports") or []):
            wanted = port.get("nodePort")
            if wanted is None:
                wanted = by_service_port.get(port.get("port")) or self._next(used, dry_run, by_service_port)
                port["nodePort"] = wanted
            elif wanted not in kept and by_service_port.get(port.get("port")) != wanted:
                problem = self._check_port(wanted, used, dry_run)
                if problem:
                    causes.append(validation.invalid_value(f"spec.ports[{n}].nodePort", wanted, problem))
            used.add(wanted)
            by_service_port.setdefault(port.get("port"), wanted)
        return causes

    @staticmethod
    def _check_port(port, used, dry_run):
        if port in used:
            return PORT_ALLOCATED
        if not dry_run and not NODE_PORT_RANGE[0] <= port <= NODE_PORT_RANGE[1]:
            return PORT_NOT_IN_RANGE
        return None

    @staticmethod
    def _next(used, dry_run, this_operation):
        if dry_run:  # one above the highest port of this operation; 32769 when it has none
            return max(this_operation.values()) + 1 if this_operation else DRY_RUN_NODE_PORT
        low, high = NODE_PORT_RANGE
        while True:
            port = random.randint(low, high)
            if port not in used:
                return port

    def _cluster_ip(self, obj, old, dry_run):
        spec = obj.get("spec") or {}
        ip = spec.get("clusterIP")
        if old is not None or ip in (None, "None", "") or spec.get("type") == "ExternalName":
            return []
        try:
            in_range = ipaddress.ip_address(ip) in SERVICE_CIDR
        except ValueError:
            return []  # validation reports a malformed IP
        if not in_range:
            problem = f"the provided IP ({ip}) is not in the valid range. The range of valid IPs is {SERVICE_CIDR}"
        elif not dry_run and ip in self.used_ips():
            problem = IP_ALLOCATED
        else:
            return []
        return [validation.invalid_value("spec.clusterIPs", [ip], f"failed to allocate IP {ip}: {problem}")]
