"""An object's body kept in a file, not in memory: what moto's key holds once the body is on disk.

moto keeps each object's bytes in a buffer of its own (memory up to 5 MiB, then a temporary file with an open
descriptor). Once a body is on disk (a blob of :mod:`.objects`, or a spill file of a memory-only endpoint),
:func:`.moto.motos3.to_disk` swaps that buffer for a :class:`DiskBody`: the file is opened only while it is read, so
storing more objects costs neither memory nor descriptors. A read of the whole body checks its size and, when the
name is its SHA-256, its hash: a missing or damaged file raises :class:`DamagedObject` naming it (that object answers
an error; the others serve). If moto writes a new value into the buffer (it does not for stored keys), the buffer
turns into a memory one until the next save swaps it again.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "b"
>>> _ = path.write_bytes(b"hello")
>>> body = DiskBody(path, 5)
>>> body.seek(0), body.read(), body.read()
(0, b'hello', b'')
>>> path.write_bytes(b"hell")
4
>>> _ = body.seek(0); body.read()  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
lookout_nb.service.storage.diskbody.DamagedObject: the object file .../b holds 4 bytes, not the 5 it was saved with
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path

#: Bytes read at a time when a body is streamed.
CHUNK = 1024 * 1024


def bound_heap(threshold: int = 256 * 1024) -> bool:
    """Have glibc serve allocations of ``threshold`` bytes or more with mmap, so that request bodies go back to the
    system once freed instead of staying in a thread's heap (what made RSS creep with the data stored); False
    where this is not glibc. ``lookout-nb serve`` calls it once."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(-3, threshold))  # M_MMAP_THRESHOLD (also stops its dynamic growth)
    except (OSError, AttributeError):
        return False


class DamagedObject(OSError):
    """An object's file is missing or does not hold the bytes it was saved with; the message names the file."""


class DiskBody:
    """A read-only file-like view of ``path`` (``size`` bytes; ``sha256`` checked on a whole read when given).

    ``owned``: the file belongs to this body alone (a spill file) and is removed when moto disposes of the key.
    """

    def __init__(self, path, size: int, sha256: str | None = None, owned: bool = False):
        self.path = Path(path)
        self.size = size
        self.sha256 = sha256
        self.owned = owned
        self._pos = 0
        self._memory: io.BytesIO | None = None  # after moto wrote a new value into it
        self.closed = False

    @property
    def on_disk(self) -> bool:
        """True while the bytes are read from the file (not closed, no new value written into it)."""
        return self._memory is None and not self.closed

    # -- what moto's FakeKey calls ---------------------------------------------------------------------------
    def seek(self, pos: int, whence: int = 0) -> int:
        if self._memory is not None:
            return self._memory.seek(pos, whence)
        self._pos = pos if whence == 0 else (self._pos + pos if whence == 1 else self.size + pos)
        return self._pos

    def tell(self) -> int:
        return self._memory.tell() if self._memory is not None else self._pos

    def read(self, n: int = -1) -> bytes:
        if self.closed:
            raise ValueError("I/O operation on closed file.")  # as a disposed key's buffer answers
        if self._memory is not None:
            return self._memory.read(n)
        whole = self._pos == 0 and (n is None or n < 0 or n >= self.size)
        data = self._read_at(self._pos, self.size - self._pos if n is None or n < 0 else n)
        if whole:
            self.check(data)
        self._pos += len(data)
        return data

    def truncate(self, size: int | None = None) -> int:
        return self._buffer().truncate(size)

    def write(self, data) -> int:
        return self._buffer().write(data)

    def _buffer(self) -> io.BytesIO:
        """The body in memory, which replaces the file from the first change on (empty, as moto rewrites it)."""
        if self._memory is None:
            self._memory = io.BytesIO()
            self._release()
        return self._memory

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._release()

    def __del__(self) -> None:  # a file of its own goes with it (an upload part of a completed or dropped upload)
        if getattr(self, "owned", False):
            self._release()

    # -- streaming ---------------------------------------------------------------------------------------------
    def chunks(self, chunk: int = CHUNK):
        """The body in pieces of ``chunk`` bytes; the last piece is held back until the whole body is checked, so
        a damaged file ends the stream short (DamagedObject) and its wrong bytes are never all delivered."""
        if self._memory is not None:
            yield self._memory.getvalue()
            return
        digest = hashlib.sha256() if self.sha256 else None
        done, held = 0, None
        try:
            with open(self.path, "rb") as f:
                while piece := f.read(chunk):
                    done += len(piece)
                    if digest is not None:
                        digest.update(piece)
                    if held is not None:
                        yield held
                    held = piece
        except FileNotFoundError:
            raise self._damaged("is missing") from None
        if done != self.size:
            raise self._damaged(f"holds {done} bytes, not the {self.size} it was saved with")
        if digest is not None and digest.hexdigest() != self.sha256:
            raise self._damaged("does not hold the bytes it was saved with")
        if held is not None:
            yield held

    def check(self, data: bytes) -> None:
        """DamagedObject when ``data`` (the whole body as read) is not what was saved."""
        if len(data) != self.size:
            raise self._damaged(f"holds {len(data)} bytes, not the {self.size} it was saved with")
        if self.sha256 and hashlib.sha256(data).hexdigest() != self.sha256:
            raise self._damaged("does not hold the bytes it was saved with")

    def _read_at(self, pos: int, n: int) -> bytes:
        try:
            with open(self.path, "rb") as f:
                f.seek(pos)
                return f.read(max(n, 0))
        except FileNotFoundError:
            raise self._damaged("is missing") from None

    def _damaged(self, what: str) -> DamagedObject:
        return DamagedObject(f"the object file {self.path} {what}")

    def _release(self) -> None:
        if self.owned:
            try:
                os.unlink(self.path)
            except OSError:
                pass
            self.owned = False


def fsync_dir(path: Path) -> None:
    """Make the names in the folder ``path`` durable (a new or renamed file survives a power cut)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def link(source: Path, path: Path) -> bool:
    """Give the file ``source`` the name ``path`` too, by a hard link (no copy); False when it cannot be linked
    (another file system, ``source`` gone: copy the body instead). FileExistsError when ``path`` is taken.

    >>> folder = Path(tempfile.mkdtemp()); _ = (folder / "a").write_bytes(b"x")
    >>> link(folder / "a", folder / "b"), (folder / "b").read_bytes(), link(folder / "gone", folder / "c")
    (True, b'x', False)
    """
    try:
        os.link(source, path)
    except FileExistsError:
        raise
    except OSError:
        return False
    return True


def spool(pieces, folder: Path, durable: bool) -> tuple[str, Path]:
    """Write ``pieces`` (bytes) to a new temporary file in ``folder`` (fsynced when ``durable``), hashing them as
    they go (no whole body in memory); returns (SHA-256, the file). The file is removed on any error."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    digest = hashlib.sha256()
    try:
        for piece in pieces:
            digest.update(piece)
            view = memoryview(piece)
            while view:
                view = view[os.write(fd, view):]
        if durable:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise
    os.close(fd)
    return digest.hexdigest(), Path(tmp)
