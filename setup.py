"""Build hook: the wheel carries the project's ``notebooks/`` as ``lookout_nb/notebooks/``.

``notebooks/`` stays at the top of the repository (Binder and nbval use it there) and is the only copy in git;
``build_py`` copies its ``*.ipynb`` into the built package, so ``lookout-nb demo`` finds them in an installed
package (``lookout_nb.notebook_copies.shipped_notebooks``). Editable installs skip the copy: the package then
finds ``notebooks/`` next to itself. Everything else is declared in ``pyproject.toml``.

    $ pip wheel --no-deps -w dist .  &&  unzip -l dist/lookout_nb-*.whl | grep ipynb
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SOURCE = Path(__file__).resolve().parent / "notebooks"
TARGET = Path("lookout_nb", "notebooks")


class build_py_with_notebooks(build_py):
    """``build_py`` plus a copy of ``notebooks/*.ipynb`` into ``<build_lib>/lookout_nb/notebooks/``."""

    def run(self):
        super().run()
        if self.editable_mode:
            return
        notebooks = sorted(SOURCE.glob("*.ipynb"))
        if not notebooks:
            raise SystemExit(f"no notebooks in {SOURCE}: the wheel would ship a demo without them")
        self.mkpath(str(Path(self.build_lib, TARGET)))
        for notebook in notebooks:
            self.copy_file(str(notebook), str(Path(self.build_lib, TARGET, notebook.name)))

    def get_outputs(self, include_bytecode=1):
        if self.editable_mode:
            return super().get_outputs(include_bytecode)
        shipped = [str(Path(self.build_lib, TARGET, n.name)) for n in sorted(SOURCE.glob("*.ipynb"))]
        return super().get_outputs(include_bytecode) + shipped


setup(cmdclass={"build_py": build_py_with_notebooks})
