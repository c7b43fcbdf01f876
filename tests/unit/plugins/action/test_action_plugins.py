"""One action plugin file: the API modules that pass their arguments unchanged share it through symlinks."""

from __future__ import annotations

import os
import pathlib

ACTION = pathlib.Path(__file__).resolve().parents[4] / "plugins" / "action"
SHARED = "resource_info.py"
# resource's own plugin reads src/template on the controller: the one action plugin with more to do.
OWN_FILES = {"resource.py", SHARED}


def test_every_other_action_plugin_is_a_relative_symlink_to_the_shared_one():
    names = sorted(path.name for path in ACTION.glob("*.py"))
    linked = [name for name in names if name not in OWN_FILES]
    assert linked, names
    for name in linked:
        path = ACTION / name
        assert path.is_symlink(), f"plugins/action/{name} should be a symlink to {SHARED}"
        assert os.readlink(path) == SHARED, f"plugins/action/{name} -> {os.readlink(path)}"
    assert not (ACTION / SHARED).is_symlink()
    assert "class ActionModule(ApiAction)" in (ACTION / SHARED).read_text()
