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
    "import lookout_nb.contract.timing, lookout_nb.contract.filematch": HEAVY,
    "import lookout_nb.calls.scheduler": HEAVY,
    "import lookout_nb.plot": HEAVY,
}
#: Known exceptions: what breaks a rule, why, and what removes it (delete the entry then).
WAIVED = {
    "lookout_nb/service/storage/moto/motos3.py imports _VersionedKeyStore from moto.s3.utils":
    "moto has no public name for a bucket's key store, whose changes the sorted key index hooks (storage/moto/ is the "
    "one package that knows moto's internals); delete when moto makes it public or the index no longer hooks it",
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


# -- the rooms (issue 19) --------------------------------------------------------------------------------------
MAX_FOLDER_MODULES = 15
#: Folders that may hold more modules, and why (delete the entry when that changes).
CROWDED: dict[str, str] = {}


def test_no_folder_holds_more_than_15_modules():
    crowded = {rel(folder): n for folder in [PACKAGE, *(p for p in PACKAGE.rglob("*") if p.is_dir())]
               if (n := len(list(folder.glob("*.py")))) > MAX_FOLDER_MODULES}
    assert {f: n for f, n in crowded.items() if f not in CROWDED} == {}
    assert [f for f in CROWDED if f not in crowded] == [], "a folder is no longer crowded: delete it from CROWDED"


def test_the_import_contracts_hold():
    """``lint-imports`` checks the contracts of ``[tool.importlinter]`` in pyproject.toml: the service's rooms import
    downwards, learning stays numpy/pandas, the toolkit never imports the service, moto only in storage.moto."""
    run = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
                          "lint_imports_command()", "--no-cache"],
                         capture_output=True, text=True, cwd=PACKAGE.parent, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_binder_installs_every_dependency_the_package_declares():
    """binder/postBuild installs the package with --no-deps: binder/requirements.txt must list every runtime and
    demo dependency of pyproject.toml, with the same bounds (a new one missing there broke the Binder check)."""
    import tomllib

    project = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["project"]
    declared = {r.split("#")[0].strip() for r in project["dependencies"] + project["optional-dependencies"]["demo"]}
    lines = (PACKAGE.parent / "binder" / "requirements.txt").read_text().splitlines()
    binder = {line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()}
    assert sorted(declared - binder) == []


def test_type_checkers_see_every_lazy_public_name_where_it_is_served():
    """``lookout_nb.__init__`` serves some names lazily (``_LAZY``); its ``if TYPE_CHECKING:`` block imports the
    same names from the same modules, so editors and mypy know ``lnb.submit`` and the rest."""
    import ast

    import lookout_nb

    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    [block] = [n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING"]
    seen = {alias.name: node.module for node in block.body if isinstance(node, ast.ImportFrom)
            for alias in node.names}
    assert seen == dict(lookout_nb._LAZY)


def test_the_toolkit_contract_names_every_top_level_module():
    """A new top-level module is covered by the "toolkit never imports the service" contract."""
    import tomllib

    contracts = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    [toolkit] = [c for c in contracts if c["id"] == "toolkit-without-service"]
    top = {f"lookout_nb.{p.stem if p.is_file() else p.name}" for p in PACKAGE.iterdir()
           if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())}
    allowed = {"lookout_nb.cli", "lookout_nb.local", "lookout_nb.service"}
    assert sorted(top - allowed) == sorted(toolkit["source_modules"])


def imports_of(path: Path) -> set[str]:
    """The lookout_nb modules a module imports, at any depth (inside functions too), but for ``if TYPE_CHECKING:``
    blocks (annotations only, never run)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()

    def visit(node):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("lookout_nb"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            if base.startswith("lookout_nb"):
                found.add(base)
                found.update(f"{base}.{a.name}" for a in node.names)  # a submodule, when it is one
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def test_no_import_cycle_counting_imports_inside_functions():
    graph = {}
    for path in modules():
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        graph[name] = imports_of(path)
    graph = {m: {i for i in imported if i in graph and i != m} for m, imported in graph.items()}
    # a module's package __init__ runs first: importing a.b imports a, not a cycle of a.b's own
    cycles, state = [], {}

    def walk(m, stack):
        state[m] = "open"
        for i in sorted(graph[m]):
            if m.startswith(i + "."):
                continue
            if state.get(i) == "open":
                cycles.append(" -> ".join(stack[stack.index(i):] + [i]))
            elif i not in state:
                walk(i, stack + [i])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            walk(m, [m])
    assert cycles == []
