"""Deprecated alias of :mod:`lookout_nb.service`, the embedded endpoint (kept for one release; import from
``lookout_nb.service`` instead).

>>> import lookout_nb.local, lookout_nb.service
>>> lookout_nb.local.start is lookout_nb.service.start
True
"""

from ..service import MANUAL_START, Endpoint, ManualClock, RealClock, RemoteClock, demo, start

__all__ = ["MANUAL_START", "Endpoint", "ManualClock", "RealClock", "RemoteClock", "demo", "start"]
