"""The demo room: a synthetic pump (:mod:`.synth`) and the seeded demo of the endpoint (:mod:`.demo`: its bucket,
trained model and feeder), a client of the service like any other.

>>> from lookout_nb.service import demo
>>> demo.DEMO_MODEL
'pump-demo'
"""

from .demo import *  # noqa: F403 - the room's public names are those of demo.py (its __all__)
from .demo import __all__  # noqa: F401
