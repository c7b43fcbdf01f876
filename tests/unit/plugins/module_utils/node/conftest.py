"""Fixtures of the node/drain unit tests; the fakes live in node_fakes.py."""

from __future__ import annotations

import pytest
from node_fakes import FakeClient, FakeClock


@pytest.fixture
def fake():
    return FakeClient()


@pytest.fixture
def clock():
    return FakeClock()
