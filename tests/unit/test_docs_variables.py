"""Every role variable the documentation names exists (issue 14 B12: docs/offline.md named kube_packages_repo_url).

A role variable is documented once, in the role's meta/argument_specs.yml; the role's constant tables live in its
vars/. A backticked name in the docs that starts with a role's prefix must be one of those.
"""

import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file())
DOCS = sorted([*ROOT.glob("docs/*.md"), ROOT / "README.md", *ROOT.glob("roles/*/README.md")])
NAME = re.compile(r"`(" + "|".join(sorted(ROLES, key=len, reverse=True)) + r")_([a-z0-9_]+)`")


def _known():
    names = set()
    for role in ROLES:
        specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
        for entry in specs.values():
            names.update(entry.get("options", {}))
        for path in (ROOT / "roles" / role / "vars").glob("*.yml"):
            names.update(yaml.safe_load(path.read_text()) or {})
    return names


def test_roles_found():
    assert {"containerd", "kube_packages", "cni_plugins"} <= set(ROLES)


def test_every_documented_variable_exists():
    known = _known()
    unknown = sorted(
        f"{doc.relative_to(ROOT)}: {prefix}_{rest}"
        for doc in DOCS
        for prefix, rest in NAME.findall(doc.read_text())
        if f"{prefix}_{rest}" not in known and f"{prefix}_{rest}" not in ROLES and not rest.endswith("_")
    )
    assert not unknown, "documented variables that no argument_specs (or vars/) defines:\n" + "\n".join(unknown)
