"""The notebooks, executed the way Jupyter runs them: every cell that draws shows its picture.

Each notebook in ``notebooks/`` runs in a real ipykernel started by nbclient (as JupyterLab, Notebook 7 and Voila
start one), importing this checkout (``PYTHONPATH``), with the kernel's own default matplotlib backend (the inline
one: ``MPLBACKEND`` is removed from the kernel's environment). A cell that draws is tagged ``draws``; the tag is
cross-checked against the source (a call of a ``lookout_nb.plot`` function or of pyplot), so a drawing cell
cannot lose its tag unnoticed, and an untagged cell that outputs a picture fails too.

A cell that draws must show exactly its picture as ``image/png``: not ``<Figure size ...>`` text (a forced
non-interactive backend), not the same picture twice (a trailing ``ax.figure`` beside the inline backend's own
display), not an ``<Axes ...>`` repr beside it. nbval runs the same notebooks with ``--nbval-lax`` for the outputs
of cells tagged ``nbval-check-output`` (cell metadata, so users see no test marker in the code); a drawing cell must
not hide behind the tag ``nbval-ignore-output``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import urllib.request
from pathlib import Path

import nbformat
import pytest

import lookout_nb.calls.evaluation
import lookout_nb.plot
from browser_support import voila

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
DRAWS = "draws"
#: Calls that draw: the public plot functions of lookout_nb.plot and lookout_nb.calls.evaluation, pyplot, and an Axes'
#: own plot methods.
PLOTTERS = sorted({name for module in (lookout_nb.plot, lookout_nb.calls.evaluation) for name in dir(module)
                   if name.startswith("plot_")})
DRAWING = re.compile(r"\b(?:" + "|".join(PLOTTERS) + r")\s*\("
                     r"|\bplt\.\w+\s*\(|\bax\w*\.(?:plot|bar|scatter|hist|imshow)\s*\(")
#: Ways a notebook can force a backend, which keeps pictures out of JupyterLab, Notebook 7 and Voila.
FORCED_BACKEND = re.compile(r"matplotlib\.use\s*\(|^\s*%matplotlib\b|MPLBACKEND|\bplt\.switch_backend\s*\(", re.M)
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_LOOKOUTEQUIPMENT")
#: The text a matplotlib object shows when there is no picture of it, or beside one.
STAND_IN = re.compile(r"^(?:<Figure size \d+x\d+|<Axes[: ]|ResultAxes\(|\[?<matplotlib\.)")


def code_cells(path: Path):
    """(index, cell) of every code cell of the notebook at ``path``."""
    nb = nbformat.read(path, as_version=4)
    return [(i, cell) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]


def tags_of(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def tagged(cell) -> bool:
    return DRAWS in tags_of(cell)


#: nbval's cell tags (its comment markers ``# NBVAL_...`` would show in the code users read).
NBVAL_TAGS = {"nbval-check-output", "nbval-ignore-output", "nbval-skip", "nbval-raises-exception"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_test_markers_are_cell_tags_not_code_users_read(path):
    shown = [where(path, i, c) for i, c in code_cells(path) if re.search(r"^\s*#\s*NBVAL_", c.source, re.M)]
    assert not shown, f"move these nbval markers to the cell's tags ({', '.join(sorted(NBVAL_TAGS))}): {shown}"
    unknown = [(where(path, i, c), t) for i, c in code_cells(path) for t in tags_of(c)
               if t.startswith("nbval") and t not in NBVAL_TAGS]
    assert not unknown, f"nbval does not know these tags: {unknown}"


def test_the_notebooks_still_check_outputs_under_nbval():
    checked = {p.name: sum("nbval-check-output" in tags_of(c) for _, c in code_cells(p)) for p in NOTEBOOKS}
    assert all(checked[name] for name in checked if not name.startswith("01_")), checked


def where(path: Path, index: int, cell) -> str:
    first = cell.source.strip().splitlines()[-1] if cell.source.strip() else ""
    return f"{path.name} cell {index} ({first[:60]!r})"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_notebook_forces_a_matplotlib_backend(path):
    forced = [where(path, i, c) for i, c in code_cells(path) if FORCED_BACKEND.search(c.source)]
    assert not forced, f"these cells choose a backend; leave it to the kernel (inline): {forced}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_cells_that_draw_are_tagged_and_not_hidden_from_nbval(path):
    untagged = [where(path, i, c) for i, c in code_cells(path) if DRAWING.search(c.source) and not tagged(c)]
    stray = [where(path, i, c) for i, c in code_cells(path) if tagged(c) and not DRAWING.search(c.source)]
    hidden = [where(path, i, c) for i, c in code_cells(path)
              if (tagged(c) or DRAWING.search(c.source)) and "nbval-ignore-output" in tags_of(c)]
    assert not untagged, f"cells that draw need the tag {DRAWS!r}: {untagged}"
    assert not stray, f"cells tagged {DRAWS!r} call no plot function ({', '.join(PLOTTERS)}, plt.*): {stray}"
    assert not hidden, f"cells that draw must not ignore their output under nbval: {hidden}"


def picture_problems(path: Path, index: int, cell) -> list[str]:
    """What is wrong with the outputs of one executed code cell (nothing: [])."""
    pngs = [o["data"]["image/png"] for o in cell.outputs if "image/png" in o.get("data", {})]
    texts = [o["data"].get("text/plain", "") for o in cell.outputs
             if o.get("data") and "image/png" not in o["data"] and not set(o["data"]) & {"text/html", "image/svg+xml"}]
    draws = tagged(cell) or bool(DRAWING.search(cell.source))
    problems = []
    if draws and not pngs:
        problems.append(f"{where(path, index, cell)} draws but has no image/png output; it shows "
                        f"{[t[:40] for t in texts] or 'nothing'}")
    if len(set(pngs)) < len(pngs):
        problems.append(f"{where(path, index, cell)} shows the same picture {len(pngs)} times")
    stand_ins = [t[:40] for t in texts if STAND_IN.match(t)]
    if stand_ins:
        problems.append(f"{where(path, index, cell)} prints {stand_ins} as text (end the line with ';' or "
                        "assign the Axes)")
    if pngs and not tagged(cell):
        problems.append(f"{where(path, index, cell)} outputs a picture without the tag {DRAWS!r}")
    return problems


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """``executed(path)``: the notebook run once in a fresh ipykernel, as JupyterLab would run it (cached).

    The kernel imports this checkout (``PYTHONPATH``) and picks its own backend (no ``MPLBACKEND``); no
    ``AWS_ENDPOINT_URL``, so the notebooks start their own embedded endpoint as they do for a new user.
    """
    from nbclient import NotebookClient

    done: dict = {}

    def run(path: Path):
        if path not in done:
            nb = nbformat.read(path, as_version=4)
            with pytest.MonkeyPatch.context() as env:
                env.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
                for name in ("MPLBACKEND", *ENDPOINT_VARIABLES):
                    env.delenv(name, raising=False)
                folder = str(tmp_path_factory.mktemp(path.stem))
                NotebookClient(nb, timeout=300, kernel_name="python3",
                               resources={"metadata": {"path": folder}}).execute()
            done[path] = nb
        return done[path]

    return run


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_notebook_shows_every_picture(path, executed):
    nb = executed(path)
    problems = [p for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
                for p in picture_problems(path, i, cell)]
    assert not problems, "\n".join(problems)


def first_error(nb, call: str) -> str:
    """The first ``[error]`` line printed by the cell whose source holds ``call``."""
    cell = next(c for c in nb.cells if call in c.source)
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    return next(line for line in text.splitlines() if "[error]" in line)


def test_troubleshooting_offers_the_right_time_zone_fix_first(executed):
    """Names in UTC: the offset is wrong, not the rows; rows in local time: the rows are wrong, not the offset."""
    nb = executed(ROOT / "notebooks" / "04_troubleshooting.ipynb")
    names_utc = first_error(nb, 'make_mistake("utc_names"')
    assert "Set InputTimeZoneOffset to +00:00" in names_utc and "Write row timestamps" not in names_utc, names_utc
    rows_local = first_error(nb, 'make_mistake("local_time_rows"')
    assert "Write row timestamps in UTC" in rows_local and "+00:00" not in rows_local, rows_local


def test_the_notebooks_with_pictures_still_draw():
    """02 draws plan versus actual and the results, 03 the timing picture (the README's table says so)."""
    drawing = {p.name: sum(tagged(c) for _, c in code_cells(p)) for p in NOTEBOOKS}
    assert drawing["02_programmatic.ipynb"] >= 2 and drawing["03_timing_explained.ipynb"] >= 1, drawing


def test_voila_shows_the_pictures(tmp_path):
    """Voila runs 03 (no endpoint needed) in its own kernel and its page carries the picture as a PNG."""
    if importlib.util.find_spec("voila") is None:
        if os.environ.get("CI"):
            pytest.fail("voila is missing (pip install voila); CI is set, so this test must run", pytrace=False)
        pytest.skip("needs voila (pip install voila)")
    path = ROOT / "notebooks" / "03_timing_explained.ipynb"
    shutil.copy(path, tmp_path / path.name)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    env.pop("MPLBACKEND", None)
    with voila(tmp_path, env, tmp_path / "voila.log") as base, \
            urllib.request.urlopen(f"{base}/voila/render/{path.name}", timeout=300) as r:
            page = r.read().decode()
    drawing = sum(tagged(c) for _, c in code_cells(path))
    assert page.count("iVBORw0KGgo") >= drawing >= 1, "Voila's page has no PNG picture for the cells that draw"
