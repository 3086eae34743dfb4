"""Named files in the PostgreSQL database of the serve processes (:class:`.files.DataFiles` of a
:class:`.postgres.PgStore`): a dataset ingested through one process is read by any other, also after the first
one died.

A file is ``datachunks`` rows of :data:`CHUNK` bytes (the last one shorter), ``(name, seq)`` keyed, and one
``datafiles`` row (its size), all inserted by one transaction of the writer's own connection: the file exists,
whole, once that transaction commits, and nothing of a failed write stays. Reading is a seekable stream that
fetches the chunk under its position (one chunk in memory), in a REPEATABLE READ transaction, so a file removed
meanwhile (a dataset ingested again) is still read whole.

>>> files = PgFiles(store.connection, "postgresql://postgres@127.0.0.1:5432/lookout")   # doctest: +SKIP
>>> with files.create("pump.npz") as out:                                # doctest: +SKIP
...     out.write(b"...")
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from typing import BinaryIO

#: Bytes of one chunk row.
CHUNK = 1 << 20
SCHEMA = """
CREATE TABLE IF NOT EXISTS datafiles (name TEXT PRIMARY KEY, size BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS datachunks (name TEXT NOT NULL, seq INTEGER NOT NULL, data BYTEA NOT NULL,
    PRIMARY KEY (name, seq));
"""


class PgFiles:
    """Files kept in one PostgreSQL database (see the module docstring); each call uses its own connection."""

    def __init__(self, connect: Callable, where: str):
        """``connect()``: a new autocommit connection to the database (:meth:`.postgres.PgStore.connection`);
        ``where``: the database as messages name it (without a password)."""
        self.connect = connect
        self._where = where

    def _connect(self, autocommit: bool = True):
        db = self.connect()
        db.autocommit = autocommit
        return db

    def where(self, name: str) -> str:
        return f"{name} in the database {self._where}"

    @contextlib.contextmanager
    def create(self, name: str) -> Iterator[BinaryIO]:
        """A stream whose bytes become file ``name`` when the block ends (replacing one of the same name)."""
        db = self._connect(autocommit=False)
        try:
            db.execute("DELETE FROM datachunks WHERE name = %s", (name,))
            db.execute("DELETE FROM datafiles WHERE name = %s", (name,))
            out = _ChunkWriter(db, name)
            yield out  # type: ignore[misc]
            out.finish()
            db.execute("INSERT INTO datafiles VALUES (%s, %s)", (name, out.size))
            db.commit()
        except BaseException:
            db.rollback()
            raise
        finally:
            db.close()

    def open(self, name: str) -> BinaryIO:
        """The file to read (close it after use); ValueError naming it when there is none."""
        db = self._connect(autocommit=False)
        try:
            db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            row = db.execute("SELECT size FROM datafiles WHERE name = %s", (name,)).fetchone()
        except BaseException:
            db.close()
            raise
        if row is None:
            db.close()
            raise ValueError(f"its data file {self.where(name)} is missing")
        return io.BufferedReader(_ChunkReader(db, name, row[0]), CHUNK)

    def remove(self, name: str) -> None:
        """Remove file ``name`` (missing is fine)."""
        with self._connect() as db, db.transaction():
            db.execute("DELETE FROM datafiles WHERE name = %s", (name,))
            db.execute("DELETE FROM datachunks WHERE name = %s", (name,))

    def exists(self, name: str) -> bool:
        with self._connect() as db:
            return db.execute("SELECT 1 FROM datafiles WHERE name = %s", (name,)).fetchone() is not None


class _ChunkWriter(io.RawIOBase):
    """Bytes written become rows of :data:`CHUNK` bytes (not seekable: zipfile then writes data descriptors)."""

    def __init__(self, db, name: str):
        self.db, self.name = db, name
        self.size, self._seq, self._pending = 0, 0, bytearray()

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.size

    def write(self, data) -> int:
        n = len(data)
        self._pending += data
        self.size += n
        while len(self._pending) >= CHUNK:
            self._flush(bytes(self._pending[:CHUNK]))
            del self._pending[:CHUNK]
        return n

    def _flush(self, chunk: bytes) -> None:
        self.db.execute("INSERT INTO datachunks VALUES (%s, %s, %b)", (self.name, self._seq, chunk))  # binary
        self._seq += 1

    def finish(self) -> None:
        if self._pending:
            self._flush(bytes(self._pending))
            self._pending.clear()


class _ChunkReader(io.RawIOBase):
    """A seekable stream over a file's chunk rows (the chunk under the position kept)."""

    def __init__(self, db, name: str, size: int):
        self.db, self.name, self.size = db, name, size
        self.pos, self._seq, self._chunk = 0, -1, b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def readinto(self, buffer) -> int:
        if self.pos >= self.size:
            return 0
        seq, at = divmod(self.pos, CHUNK)
        if seq != self._seq:
            row = self.db.execute("SELECT data FROM datachunks WHERE name = %s AND seq = %s",
                                  (self.name, seq), binary=True).fetchone()
            if row is None:
                raise OSError(f"chunk {seq} of data file {self.name} is missing")
            self._seq, self._chunk = seq, bytes(row[0])
        n = min(len(buffer), len(self._chunk) - at)
        if n <= 0:
            raise OSError(f"chunk {seq} of data file {self.name} is shorter than the file's size says")
        buffer[:n] = self._chunk[at:at + n]
        self.pos += n
        return n

    def close(self) -> None:
        if not self.closed:
            try:
                self.db.close()
            finally:
                super().close()
