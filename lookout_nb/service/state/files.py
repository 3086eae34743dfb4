"""Named files the state keeps besides its records (the datasets' ingested data): one interface, two places.

A store's ``files`` (:attr:`.store.Store.files`, :attr:`.postgres.PgStore.files`) is a :class:`DataFiles`:

- :meth:`~DataFiles.create` ``(name)``: a context manager giving a writable binary stream; the file exists, whole
  and durably, only once the block ends without an error (nothing of it otherwise);
- :meth:`~DataFiles.open` ``(name)``: a readable, seekable binary stream of the file (a context manager too);
- :meth:`~DataFiles.remove`, :meth:`~DataFiles.exists`, :meth:`~DataFiles.where` (what messages name).

:class:`DiskFiles` keeps them in a folder (SQLite mode: ``<state_dir>/datasets/``), written to a temporary file,
fsynced and renamed into place; :class:`.pgfiles.PgFiles` keeps them in the PostgreSQL database as chunks, so every
serve process of one database reads what any of them wrote. The content is streamed in and out by both: no whole
file is ever held in memory.

>>> import tempfile
>>> files = DiskFiles(tempfile.mkdtemp())
>>> with files.create("a.bin") as out:
...     _ = out.write(b"hello")
>>> with files.open("a.bin") as f:
...     f.read()
b'hello'
>>> files.remove("a.bin"); files.exists("a.bin")
False
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol


class DataFiles(Protocol):
    """Where a store keeps its named files (see the module docstring)."""

    def create(self, name: str) -> contextlib.AbstractContextManager[BinaryIO]: ...

    def open(self, name: str) -> BinaryIO: ...

    def remove(self, name: str) -> None: ...

    def exists(self, name: str) -> bool: ...

    def where(self, name: str) -> str: ...


class DiskFiles:
    """Files of one folder (created when the first file is written)."""

    def __init__(self, folder):
        self.folder = Path(folder)

    def where(self, name: str) -> str:
        return str(self.folder / name)

    @contextlib.contextmanager
    def create(self, name: str) -> Iterator[BinaryIO]:
        """Write ``<folder>/<name>`` through a temporary file of the same folder: fsynced, renamed into place and the
        folder fsynced when the block ends; the temporary file removed when it fails."""
        if not self.folder.is_dir():
            self.folder.mkdir(parents=True, exist_ok=True)
            _fsync_folder(self.folder.parent)  # the new folder's entry, durable too
        path = self.folder / name
        tmp = path.with_name(f".{name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with open(tmp, "wb") as out:
                yield out
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
            _fsync_folder(self.folder)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def open(self, name: str) -> BinaryIO:
        """The file to read; ValueError naming it when it cannot be opened."""
        path = self.folder / name
        try:
            return open(path, "rb")
        except OSError as err:
            raise ValueError(f"its data file {path} cannot be read ({err.strerror or err})") from None

    def remove(self, name: str) -> None:
        """Remove a file (missing is fine)."""
        (self.folder / name).unlink(missing_ok=True)

    def exists(self, name: str) -> bool:
        return (self.folder / name).is_file()


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
