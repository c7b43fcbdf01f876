"""The simulated controller-manager, scheduler and kubelets: one file per controller (see manager.py)."""

from .manager import Controllers

__all__ = ["Controllers"]
