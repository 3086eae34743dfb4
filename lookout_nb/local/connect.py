"""Deprecated alias of :mod:`lookout_nb.service.connect` (kept for one release).

>>> from lookout_nb.local.connect import connect
>>> from lookout_nb.service import connect as module
>>> connect is module.connect
True
"""

from ..service.connect import RemoteEndpoint, answers, connect

__all__ = ["RemoteEndpoint", "answers", "connect"]
