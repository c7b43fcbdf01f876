"""Every module test runs twice: inside the action plugin on the controller (the default for a local host) and as
a module the way it runs on a remote host (``kubeforge_cluster_in_process=false``)."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["in-process", "module"])
def execution(request):
    return request.param


@pytest.fixture
def playbook(playbook, execution):
    """The integration ``playbook`` fixture, run in the ``execution`` mode of this test."""

    def _run(tasks, **options):
        options.setdefault("in_process", execution == "in-process")
        return playbook(tasks, **options)

    return _run
