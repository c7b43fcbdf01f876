"""What issue 16 asked of module_utils, kept true: every public function has type hints, no file over 400 lines,
no class over 200 lines (a newcomer can hold each in their head)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

MODULE_UTILS = Path(__file__).resolve().parents[4] / "plugins" / "module_utils"
FILES = sorted(p for p in MODULE_UTILS.glob("*.py") if p.name != "__init__.py")
MAX_FILE_LINES = 400
MAX_CLASS_LINES = 200


def _public_functions(tree):
    """(qualified name, node) of module-level functions and methods of module-level classes not starting with _."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            yield node.name, node
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and (item.name == "__init__" or not item.name.startswith("_")):
                    yield f"{node.name}.{item.name}", item


def _unhinted(function):
    args = function.args
    # Named parameters and the return; *args/**options pass through to a typed callee.
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    missing = [a.arg for a in params if a.annotation is None and a.arg not in ("self", "cls")]
    if function.returns is None:
        missing.append("return")
    return missing


def test_there_are_files_to_check():
    assert "apply.py" in {p.name for p in FILES}, f"no module_utils found in {MODULE_UTILS}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_public_functions_have_type_hints(path):
    tree = ast.parse(path.read_text())
    missing = {name: gaps for name, node in _public_functions(tree) if (gaps := _unhinted(node))}
    assert missing == {}, f"{path.name}: public functions without type hints"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_files_and_classes_stay_small(path):
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_FILE_LINES, f"{path.name} is over {MAX_FILE_LINES} lines"
    big = {
        node.name: node.end_lineno - node.lineno + 1
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES
    }
    assert big == {}, f"{path.name}: classes over {MAX_CLASS_LINES} lines"
