"""Runs and trainings as Dask tasks on a cluster's workers (``lookout-nb serve --dask-scheduler tcp://host:port``).

The serve process keeps the state and claims the due runs; each run is one task, ``task(run, model)`` (a module-level
function the workers import: :func:`lookout_nb.service.runner.remote.execute`, which reads and writes the run's
S3 itself), and each model training is one task (:meth:`DaskWork.call`). Background jobs (ingestions, the thread
waiting for a training) stay threads of the serve process, as with :class:`.InProcess`.

A worker that dies mid-task: the scheduler gives the task to another worker (Dask's own retry, up to
``distributed.scheduler.allowed-failures`` times, then ``KilledWorker``); a task that still cannot complete
ends FAILED with the reason (:data:`LOST`), never silently lost.

>>> work = DaskWork("tcp://127.0.0.1:8786", task=execute)      # doctest: +SKIP
>>> work.run_all(None, runs)                                   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable

from .inprocess import InProcess

#: The FailedReason of a run whose task could not complete on the cluster.
LOST = "The Dask task of this run could not complete ({why}); its worker may have died"
#: How many times a task is tried again on another worker after an error of its own (a worker's death is
#: retried by the scheduler itself).
RETRIES = 1

log = logging.getLogger(__name__)


class DaskWork(InProcess):
    """The executor on a Dask cluster: :meth:`run_all` submits one task per run, :meth:`call` one per training."""

    def __init__(self, address: str, task: Callable, failed: Callable[[str], object], timeout: float = 30):
        """``task(run)`` executes one run on a worker and returns its outcome; ``failed(reason)`` is the outcome
        of a run whose task could not complete."""
        super().__init__()
        try:
            from distributed import Client
        except ImportError:
            raise RuntimeError("--dask-scheduler needs Dask: pip install 'lookout-nb[dask]'") from None
        self.address = address
        self.task = task
        self.failed = failed
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise RuntimeError(f"cannot reach the Dask scheduler {address}: {err}; start one (dask scheduler) or "
                               "check --dask-scheduler") from None
        #: How many runs went to the cluster, and how many of those ended as :data:`LOST`.
        self.submitted = 0
        self.lost = 0

    def run_all(self, execute: Callable, runs: Iterable) -> list:
        """Every run as a task of the cluster (``execute``, the in-process way, is not used); the outcomes in the
        order of ``runs``."""
        runs = list(runs)
        if not runs:
            return []
        # each model goes to the cluster once per batch, not with every run (its trained detector is the bulk)
        models = {id(run.model): run.model for run in runs if getattr(run, "model", None) is not None}
        sent = {key: self.client.scatter(model, hash=False) for key, model in models.items()}
        futures = [self.client.submit(self.task, _without_model(run), sent.get(id(getattr(run, "model", None))),
                                      pure=False, retries=RETRIES) for run in runs]
        self.submitted += len(futures)
        outcomes = []
        for future in futures:
            try:
                outcomes.append(future.result())
            except Exception as err:  # noqa: BLE001 - KilledWorker, a lost connection, a worker's error: FAILED
                self.lost += 1
                log.warning("lookout_nb.service: a run's Dask task failed: %s: %s", type(err).__name__, err)
                outcomes.append(self.failed(LOST.format(why=f"{type(err).__name__}: {err}"[:500])))
        return outcomes

    def call(self, fn: Callable, *args, **kwargs):
        """``fn(*args, **kwargs)`` as one task of the cluster (a model training), waiting for its result."""
        return self.client.submit(fn, *args, pure=False, retries=RETRIES, **kwargs).result()

    def stop(self, timeout: float = 30.0) -> None:
        super().stop(timeout)
        try:
            self.client.close(timeout=timeout)
        except Exception:  # noqa: BLE001 - closing: the cluster may be gone already
            pass


def _without_model(run):
    """``run`` without its model (sent once per batch instead); a run that is no dataclass goes as it is."""
    if dataclasses.is_dataclass(run) and getattr(run, "model", None) is not None:
        return dataclasses.replace(run, model=None)
    return run
