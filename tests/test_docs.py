"""The docs follow the code: pytest itself runs every docstring example of the package, and the README's Design
section names every module of ``lookout_nb/``."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_plain_pytest_collects_the_docstring_examples_of_every_module(pytestconfig):
    assert "lookout_nb" in pytestconfig.getini("testpaths")
    assert pytestconfig.getoption("doctestmodules")
    assert "ELLIPSIS" in pytestconfig.getini("doctest_optionflags")


def design_layers() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    design = readme.split("## Design", 1)[1]
    return re.search(r"```\n(.*?)```", design, re.S).group(1)


def test_the_readme_design_names_every_module():
    listed = {line.split()[0] for line in design_layers().splitlines() if line[:1].strip()}  # not continuations
    package = ROOT / "lookout_nb"
    modules = {p.name for p in package.glob("*.py") if p.name != "__init__.py"}
    modules |= {p.name + "/" for p in package.iterdir() if (p / "__init__.py").exists()}
    assert sorted(modules - listed) == [], "add these to the README's Design layer list"
    assert sorted(listed - modules) == [], "the README's Design lists modules that do not exist"
