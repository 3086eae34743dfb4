"""The house rules that keep lookout_nb in order (issue 12): light imports, small modules and functions, and no
private name imported from another public module. Each rule reads the source as it is; a known exception is
listed in ``WAIVED`` with the reason and the change that removes it, and a waiver that no longer applies fails.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lookout_nb"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
HEAVY = ("matplotlib", "ipywidgets", "boto3", "botocore")
#: What importing each module (and touching a lazy name) must not load: the heavier libraries load on first use.
LIGHT = {
    "import lookout_nb": HEAVY,
    "import lookout_nb; lookout_nb.plan_schedule; lookout_nb.match_files": HEAVY,
    "import lookout_nb.timing, lookout_nb.filematch": HEAVY,
    "import lookout_nb.scheduler": HEAVY,
    "import lookout_nb.plot": HEAVY,
}
#: Known exceptions: what breaks a rule, why, and what removes it (delete the entry then).
WAIVED = {
    "lookout_nb/service/storage/motos3.py imports _VersionedKeyStore from moto.s3.utils":
    "moto has no public name for a bucket's key store, whose changes the sorted key index hooks (motos3 is the one "
    "module that knows moto's internals); delete when moto makes it public or the index no longer hooks it",
}


@pytest.mark.parametrize("statement", list(LIGHT))
def test_importing_loads_no_heavy_library(statement):
    code = f"import sys; {statement}; print([m for m in {LIGHT[statement]!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", statement


def modules():
    return sorted(PACKAGE.rglob("*.py"))


def rel(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def is_private_module(module: str) -> bool:
    """Whether ``from <module> import ...`` names a private module: one of its parts starts with ``_``."""
    return any(part.startswith("_") and not part.startswith("__") for part in module.split(".") if part)


def breaches() -> list[str]:
    found = []
    for path in modules():
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_MODULE_LINES:
            found.append(f"{rel(path)} has more than {MAX_MODULE_LINES} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                if node.end_lineno - first + 1 > MAX_FUNCTION_LINES:
                    found.append(f"{rel(path)}: {node.name} has more than {MAX_FUNCTION_LINES} lines")
            elif isinstance(node, ast.ImportFrom) and not is_private_module(node.module or ""):
                here = path.parent
                for _ in range(max(node.level - 1, 0)):
                    here = here.parent
                for alias in node.names:
                    name = alias.name
                    sub = here.joinpath(*(node.module or "").split("."), name)
                    if name.startswith("_") and not name.startswith("__") and not (
                            node.level and (sub.with_suffix(".py").exists() or sub.is_dir())):  # a private module
                        found.append(f"{rel(path)} imports {name} from {'.' * node.level}{node.module or ''}")
    return found


def test_modules_are_small_functions_short_and_privates_private():
    found = breaches()
    assert [b for b in found if b not in WAIVED] == []
    assert [w for w in WAIVED if w not in found] == [], "a waiver no longer applies: delete it from WAIVED"
