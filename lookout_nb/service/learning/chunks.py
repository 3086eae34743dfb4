"""A CSV file read in pieces of bounded size, so that ingesting a file of any size holds only a piece of its text.

:func:`pieces` cuts the bytes of one file (given as blocks, as an S3 body streams them) after a line end that is
outside quotes, at about :data:`PIECE_BYTES`; every piece after the first starts with the file's header line, so
each one reads alone as the file would (:func:`lookout_nb.contract.inputfiles.read_input`). A piece holding only
blank lines is skipped. ``Piece.lines_before`` is the number of non-blank lines of the file before the piece's
rows, less the header repeated in front of them: a line number read in a piece plus it is the file's.

>>> [(p.text, p.lines_before) for p in pieces([b"Time,Flow\\n1,2\\n3,", b"4\\n5,6\\n"], size=8)]
[(b'Time,Flow\\n1,2\\n', 0), (b'Time,Flow\\n3,4\\n5,6\\n', 1)]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

#: The size a piece of a file is cut at (its rows; the header is repeated in front of each piece).
PIECE_BYTES = 4 * 2**20
#: Text that may make a line blank (found: count the lines one by one).
_UNUSUAL = (b"\n\n", b"\n ", b"\n\t", b"\r", b"\x0b", b"\x0c")


@dataclass(frozen=True)
class Piece:
    """The text of one piece (the header line first) and the file's non-blank lines before its rows, less one."""

    text: bytes
    lines_before: int


def pieces(blocks: Iterable[bytes], size: int = PIECE_BYTES) -> Iterator[Piece]:
    """The pieces of a file given as ``blocks`` of bytes (see the module docstring)."""
    header, buffer, before = None, bytearray(), 0
    for block in blocks:
        buffer += block
        while len(buffer) >= size:
            cut = _cut(buffer, size, 0 if header is not None else buffer.find(b"\n") + 1)
            if cut < 0:
                break  # one line longer than a piece (or an open quote): read on
            piece, buffer = bytes(buffer[:cut]), buffer[cut:]
            header, out, before = _emit(header, piece, before)
            if out is not None:
                yield out
    if buffer or header is None:
        _, out, _ = _emit(header, bytes(buffer), before, last=True)
        if out is not None:
            yield out


def _emit(header: bytes | None, piece: bytes, before: int, last: bool = False) -> tuple[bytes, Piece | None, int]:
    """``(header, the piece to read or None, lines before the next one)``; the first piece gives the header. The
    ``last`` piece's lines are not counted (no piece follows: a one-piece file is never counted)."""
    after = before if last else before + _lines(piece)
    if header is None:
        end = piece.find(b"\n")
        header = piece if end < 0 else piece[: end + 1]
        return header, Piece(piece, 0), after
    if not piece.strip():
        return header, None, before
    return header, Piece(header + piece, before - 1), after


def _cut(buffer: bytearray, size: int, least: int) -> int:
    """The end of the last whole line within ``size`` bytes outside quotes (else of the first one after), after
    ``least`` bytes (the first piece holds a row besides its header), or -1 when the buffer holds no such end."""
    if buffer.find(b"\n") < 0:
        return -1
    cut = buffer.rfind(b"\n", 0, size) + 1
    if cut <= least:
        cut = buffer.find(b"\n", max(size, least)) + 1
    while cut > 0 and buffer.count(b'"', 0, cut) % 2:  # inside a quoted field: the line goes on
        cut = buffer.find(b"\n", cut) + 1
    return cut if cut > 0 else -1


def _lines(text: bytes) -> int:
    """The non-blank lines of ``text`` (as read_input counts them)."""
    count = text.count(b"\n") + (not text.endswith(b"\n") and bool(text))
    if text[:1].isspace() or any(u in text for u in _UNUSUAL):  # rare: count exactly
        count = sum(1 for line in text.splitlines() if line.strip())
    return count
