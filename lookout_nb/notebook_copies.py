"""The notebooks shipped with lookout_nb, and the working copies ``lookout-nb demo`` serves from a folder you own.

An installed package carries them as ``lookout_nb/notebooks/`` (``setup.py`` copies the project's ``notebooks/``
into the wheel); a clone or an editable install has ``notebooks/`` next to the package. They are never opened in
place: :func:`copy_notebooks` copies them into a working folder and never overwrites a copy you edited. A small
record (``.lookout-nb-shipped.json``) holds what was copied, so an unedited copy is refreshed when the package
ships a newer notebook, and an edited one is kept.

>>> report = copy_notebooks("lookout-nb-notebooks")           # doctest: +SKIP
>>> report.copied, report.kept                                  # doctest: +SKIP
(['01_wizard.ipynb', '02_programmatic.ipynb', '03_timing_explained.ipynb', '04_troubleshooting.ipynb', \
'05_your_own_data.ipynb'], [])
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .errors import LookoutNbError

WIZARD_NOTEBOOK = "01_wizard.ipynb"
#: Where ``lookout-nb demo`` copies the notebooks unless told otherwise (relative to the current folder).
DEFAULT_FOLDER = Path("lookout-nb-notebooks")
#: The record of what was copied into a working folder: {notebook name: sha256 of the copy as written}.
RECORD = ".lookout-nb-shipped.json"


def shipped_notebooks() -> Path:
    """The folder of the notebooks that come with this lookout_nb (installed package first, then a clone's)."""
    package = Path(__file__).resolve().parent
    candidates = (package / "notebooks", package.parent / "notebooks")
    for folder in candidates:
        if (folder / WIZARD_NOTEBOOK).is_file():
            return folder
    raise LookoutNbError(f"no {WIZARD_NOTEBOOK} in {' or '.join(map(str, candidates))}: this lookout_nb was "
                         "installed without its notebooks; reinstall it from a wheel or a clone of the project")


@dataclass
class CopyReport:
    """What :func:`copy_notebooks` did, by notebook name: ``copied`` (new or refreshed), ``unchanged``, ``kept``."""

    folder: Path
    copied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: Copies that differ from what was copied there (you edited them): left as they are.
    kept: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for a banner: ``copied 01_wizard.ipynb, ...; kept your edited 02_programmatic.ipynb (...)``."""
        parts = []
        if self.copied:
            parts.append(f"copied {', '.join(self.copied)}")
        if self.unchanged:
            parts.append(f"{len(self.unchanged)} already there")
        if self.kept:
            parts.append(f"kept your edited {', '.join(self.kept)} (delete {'it' if len(self.kept) == 1 else 'them'}"
                         " to get the shipped version)")
        return "; ".join(parts) or "nothing to copy"


def copy_notebooks(folder=DEFAULT_FOLDER, source: Path | None = None) -> CopyReport:
    """Copy the shipped notebooks into ``folder`` (created if needed), never over a copy that was edited.

    A notebook is copied when ``folder`` lacks it, or when its copy is still exactly what an earlier call wrote
    and the shipped one changed since. Any other copy that differs from the shipped one is kept.
    Raises :class:`~lookout_nb.errors.LookoutNbError` naming the folder when it cannot be used.
    """
    source = shipped_notebooks() if source is None else Path(source)
    folder = Path(folder).expanduser().resolve()
    report = CopyReport(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        record = _read_record(folder)
        for notebook in sorted(source.glob("*.ipynb")):
            target = folder / notebook.name
            shipped = _digest(notebook)
            current = _digest(target) if target.exists() else None
            if current == shipped:
                report.unchanged.append(notebook.name)
            elif current is None or current == record.get(notebook.name):
                shutil.copyfile(notebook, target)
                report.copied.append(notebook.name)
            else:
                report.kept.append(notebook.name)
                continue
            record[notebook.name] = shipped
        (folder / RECORD).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    except OSError as err:
        raise LookoutNbError(f"cannot copy the notebooks into {folder}: {err.strerror or err}; choose a folder you "
                             "can write with --notebooks DIR") from err
    return report


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_record(folder: Path) -> dict:
    """The record of an earlier copy ({} when there is none or it is unreadable: every copy then counts as edited)."""
    try:
        record = json.loads((folder / RECORD).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(record, dict):
        return {}
    return {name: digest for name, digest in record.items() if isinstance(digest, str)}
