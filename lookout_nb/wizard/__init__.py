"""The widget wizard: from a trained model to a running, monitored inference scheduler.

>>> from lookout_nb.wizard import Wizard
>>> wizard = Wizard(client=lookout, s3=s3)     # doctest: +SKIP
>>> wizard                                      # shows the steps in the notebook   # doctest: +SKIP

Modules: one per step (``model``, ``schedule``, ``inputs``, ``output``, ``access`` with ``tags``, ``review``,
``submit`` with ``conflict`` and its Update action, ``monitor`` with ``history``, the time range it reads, and
``pace``), the bound form ``fields``, the worker ``tasks`` (progress and errors), ``render``
(tables, code, pictures as widget values), ``state`` (JSON save/load) and ``backend`` (the one door to the
toolkit's service modules).
"""

from .wizard import Wizard

__all__ = ["Wizard"]
