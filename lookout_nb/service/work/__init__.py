"""Where runs and trainings execute: the executor seam of the service.

:class:`InProcess` (the default) runs background jobs (data ingestions, model trainings) in daemon threads of
this process and the due runs on the clock's own thread, one after the other. Another executor (Dask workers, a
process pool) offers the same calls: ``background``, ``run_all``, ``call``, ``stopping``, ``stop``;
:class:`.dask.DaskWork` runs them as tasks of a Dask cluster (imported from ``work.dask`` when asked for).

>>> work = InProcess()
>>> work.run_all(lambda n: n * 2, [1, 2, 3])
[2, 4, 6]
"""

from .inprocess import InProcess

__all__ = ["InProcess"]
