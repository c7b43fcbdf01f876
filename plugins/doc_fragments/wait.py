# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Paired with WAIT_ARG_SPEC in plugins/module_utils/args.py.
    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Wait until each object is ready (or gone, when deleting) before returning.
      - Readiness per kind - Deployment rolled out (observed generation, updated and available replicas),
        ReplicaSet and ReplicationController ready replicas, Pod C(Ready), Job C(Complete), DaemonSet and
        StatefulSet rolled out, Service endpoints present (and a load balancer ingress for C(LoadBalancer)),
        HorizontalPodAutoscaler with its C(ScalingActive) condition known, APIService with C(Available=True)
        (an aggregated API such as metrics-server's answers), CustomResourceDefinition C(Established), Namespace
        C(Active). Other kinds are ready once they exist.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait in total when O(wait=true). On timeout the task fails and names what is not ready yet.
    type: int
    default: 120
  wait_sleep:
    description:
      - Seconds between two readiness checks.
    type: float
    default: 1.0
"""
