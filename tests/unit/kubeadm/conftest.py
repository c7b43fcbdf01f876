"""Make ``ansible_collections.kubeforge.cluster`` importable: `make setup` links the tree under .venv/collections."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[3]
for _entry in [*os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep), str(_ROOT / ".venv" / "collections")]:
    if _entry and (Path(_entry) / "ansible_collections" / "kubeforge" / "cluster").is_dir() and _entry not in sys.path:
        sys.path.insert(0, _entry)
