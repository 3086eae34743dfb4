"""The widget wizard: from a trained model to a running, monitored inference scheduler.

>>> from lookout_nb.wizard import Wizard
>>> wizard = Wizard(client=lookout, s3=s3)     # doctest: +SKIP
>>> wizard                                      # shows the steps in the notebook   # doctest: +SKIP

Modules: one per step in :mod:`.steps` (``model``, ``schedule``, ``inputs``, ``output``, ``access`` with ``tags``,
``review``, ``submit``, ``monitor``); beside them ``conflict`` (the Submit step's Update action), ``history`` (the
time range the Monitor reads), ``pace``, the bound form ``fields``, the worker ``tasks`` (progress and errors),
``render`` (tables, code, pictures as widget values), ``state`` (JSON save/load) and ``backend`` (the one door to
the toolkit's calls).
"""

from .wizard import Wizard

__all__ = ["Wizard"]
