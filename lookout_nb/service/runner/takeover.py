"""The heartbeat of a serve process on a shared store, and the takeover of what dead processes left in progress.

Every :data:`~..state.claims.BEAT` seconds a thread beats this process's heartbeat and takes over the claims of
processes whose heartbeat stopped (:class:`~..state.claims.Heartbeat`): their runs in progress are executed again
here (by the executor: in-process or on Dask) and their ends recorded; their trainings, retrainings and ingestion
jobs are started again. Each is so taken over at most ``LEASE + BEAT`` seconds (12 s) after the dead
process's last heartbeat.

>>> takeover = Takeover(backend, store, execute).start()     # doctest: +SKIP
>>> takeover.stop()                                          # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading

from ..api.sync import taken_runs
from ..state.claims import BEAT, Heartbeat

log = logging.getLogger(__name__)


class Takeover:
    """The heartbeat thread of one serve process (see the module docstring)."""

    def __init__(self, backend, store, execute, beat: float = BEAT):
        self.backend = backend
        self.heartbeat = Heartbeat(store)
        self.execute = execute
        self.every = beat
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: How many runs and trainings this process took over.
        self.taken = 0

    def start(self) -> Takeover:
        self._thread = threading.Thread(target=self._loop, name="lookout-nb-heartbeat", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.heartbeat.beat()
                claims = self.heartbeat.take_over()
                if claims:
                    self.taken += len(claims)
                    self.backend.core.work.background("takeover", self.resume, claims)
            except Exception:  # keep beating: a database that is briefly unreachable must not end it
                log.warning("lookout_nb.service: the heartbeat could not reach the database", exc_info=True)

    def resume(self, claims) -> None:
        """Execute again the runs of ``claims`` and record their ends; start their trainings, retrainings and
        ingestion jobs again."""
        core = self.backend.core
        with core.lock:
            runs = taken_runs(self.backend, claims)
        for kind, region, name in claims:
            if kind == "model":
                self.backend.models.resume_training(name)
            elif kind == "modelversion":  # a retraining: trained again from its version's windows
                self.backend.retraining.resume(name)
            elif kind == "ingestion":  # an ingestion job: its files read again
                self.backend.datasets.resume_ingestion(region, name)
        if runs:
            outcomes = core.work.run_all(self.execute, runs)
            self.backend.schedulers.finish_all([(run, vars(outcome)) for run, outcome in zip(runs, outcomes)])

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.heartbeat.close()
