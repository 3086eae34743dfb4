"""The running endpoint: server + backend + clock + runner (+ demo feeder, and the store of a state_dir).

>>> from lookout_nb.service import start
>>> with start(port=0, clock="manual", demo=True) as ep:      # doctest: +SKIP
...     lookout = ep.lookout()
...     lookout.describe_model(ModelName="pump-demo")["Status"]
'SUCCESS'
"""

from __future__ import annotations

import functools
import logging
import threading

import pandas as pd

from ..errors import InvalidArgument
from .api import restore
from .api.backend import Backend
from .api.sync import SharedLock, apply
from .clock import ManualClock, RealClock, make_clock
from .demo import demo as demo_module
from .http.auth import OwnClients, Verifier, credentials_of
from .http.control import ClockApp
from .http.guard import Guard, origins_of
from .http.protocol import LookoutApp
from .http.ready import Gate
from .http.server import Dispatcher, Server
from .learning.ingest import S3Reader
from .runner import remote
from .runner.remote import S3Spec
from .runner.runner import Outcome, Runner
from .runner.takeover import Takeover
from .state import state
from .state.clockshare import shared_clock
from .state.owner import Owner
from .state.postgres import PgStore
from .state.store import Store
from .storage import externals3
from .storage.inprocess import InProcessS3
from .storage.objects import ObjectStore, spill_store
from .storage.s3clock import StampedWrites
from .work.dask import DaskWork

log = logging.getLogger(__name__)

#: The credentials and region the endpoint's own clients use when it has none of its own (then any work).
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
REGION = "us-east-1"
#: Runs claimed at once by a serve process on a shared database or a Dask cluster (the others claim the rest).
BATCH = 50


_CLIENT_LOCK = threading.Lock()  # creating clients from one session is not thread-safe


@functools.lru_cache(maxsize=1)
def _session():
    """One boto3 session for every endpoint's clients, so the service models are loaded once per process."""
    import boto3

    return boto3.session.Session(**CREDENTIALS, region_name=REGION)


def _config(service: str = ""):
    from botocore.config import Config

    return Config(
        s3={"addressing_style": "path"},
        **({"signature_version": "s3v4"} if service == "s3" else {}),  # SigV4 presigned URLs too
        retries={"max_attempts": 2, "mode": "standard"},
        # no CRC32 of every body on a loopback connection (checksums still go with requests that require them)
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


class Endpoint:
    """A running embedded endpoint: ``.url``, ``.clock``, ``.backend``, ``.lookout()``, ``.s3()``, ``.stop()``."""

    def __init__(self, host="127.0.0.1", port=0, clock="manual", demo=True, state_dir=None, speed=None, feed=None,
                 admin=False, credentials=None, cors_origin=None, s3_endpoint_url=None, db=None, dask_scheduler=None,
                 retention=None):
        credentials = credentials_of(credentials)  # a bad value fails before anything is bound
        cors_origins = origins_of(cors_origin)
        #: The user's S3 (a URL, or ``"aws"``) that holds every object, or None: the endpoint's own S3.
        self.s3_endpoint_url = s3_endpoint_url
        if s3_endpoint_url is not None:
            externals3.endpoint_url(s3_endpoint_url)  # a bad value fails before anything is bound
        self.owner: Owner | None = None
        self.store: Store | PgStore | None = None
        self.objects: ObjectStore | None = None
        try:
            if state_dir is not None:  # before binding anything: a bad or busy directory fails first, named
                state_dir = state.prepare(state_dir)
                self.owner = Owner(state_dir)
                self.store = Store(state_dir) if db is None else None
                if s3_endpoint_url is None:
                    self.objects = ObjectStore(state_dir)  # S3 written through to disk
            if db is not None:  # the state of every serve process on one PostgreSQL database
                self.store = PgStore(db)  # the datasets' data files are kept in the database too
                self.clock = shared_clock(clock, speed, self.store)
            else:
                self.clock = _resumed(clock, speed, self.store)
            self.dask_scheduler, self.db = dask_scheduler, db
            self.takeover: Takeover | None = None
            self.backend = Backend(self.clock)
            self.backend.core.retention = retention_of(retention)
            self.state_dir = state_dir
            self.demo = demo
            self._feed = demo if feed is None else feed
            #: What every request must be signed with (``(key, secret)``), or None: no verification.
            self.credentials = credentials
            self._own = OwnClients()  # the own clients pass the start-up gate and may stamp demo files in the past
            verifier = Verifier(*credentials) if credentials else None
            no_s3 = externals3.NoS3(s3_endpoint_url) if s3_endpoint_url is not None else None
            # where the embedded S3's bodies go: state_dir, or (memory-only) a temporary folder of this process
            self._bodies = self.objects if self.objects is not None or no_s3 is not None else spill_store()
            dispatcher = Dispatcher(LookoutApp(self.backend), s3_app=no_s3,
                                    control_app=ClockApp(self.clock, status=self.status),
                                    clock=self.clock, own=self._own, objects=self._bodies, admin=admin,
                                    verifier=verifier)
            self.gate = Gate(dispatcher, self._own)
            #: The origins of web pages allowed to call the endpoint (``--cors-origin``); none by default.
            self.cors_origins = cors_origins
            self.server = Server(Guard(self.gate, host, cors_origins), host, port, clock=self.clock)
        except BaseException:
            self._close_state()
            raise
        self.url = self.server.url
        if self.owner is not None:
            self.owner.announce(self.url)
        self.runner: Runner | None = None
        self.feeder: demo_module.Feeder | None = None
        self._clients: dict = {}
        self._running = False
        self._stopping = threading.Event()  # set by stop(): runs not started yet end FAILED at once
        self.problems: list[str] = []  # records of the state_dir that could not be restored

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def start(self) -> Endpoint:
        """Serve, restore the state, seed the demo, and let the clock drive the runner."""
        self.server.start()
        self._running = True
        try:
            external = self.s3_endpoint_url is not None
            s3 = self.s3()
            # the one reader of objects: the runner and the ingestion and training jobs read the same way, from the
            # user's S3 (boto3) or from the endpoint's own (in-process: moto's backend, written through; no HTTP)
            reader = s3 if external else InProcessS3(self.clock, self._bodies)
            # the user's S3 stamps LastModified with its real time: its listing tells what is there at a wake-up
            self.runner = Runner(reader, workers=4 if external else 1, service_stamps=not external)
            self.backend.core.data_reader = S3Reader(reader)
            self.backend.versions.writer = reader  # where ModelDiagnosticsOutputConfiguration files are written
            if self.state_dir is not None and self.objects is not None:
                self.objects.open().load()  # only now that this process owns state_dir
            damaged = self.objects.damaged if self.state_dir is not None and self.objects is not None else []
            if isinstance(self.store, PgStore):
                self._share(self.store)
                self.problems = damaged + self.problems
            elif self.store is not None:
                self.problems = damaged + restore.load(self.backend, self.store)
            if self.dask_scheduler is not None:  # the workers reach the user's S3, or this endpoint's over HTTP
                self.backend.core.work = DaskWork(self.dask_scheduler, functools.partial(remote.execute, self._spec()),
                                                  remote.failed)
            if self.demo:  # the user's S3 is never emptied and keeps its own LastModified (real time)
                feeder = demo_module.seed(self, fresh=self.state_dir is None and not external and self.db is None,
                                          writes=None if external else StampedWrites(s3))
                assert feeder is not None  # seed() returns a Feeder whatever its target
                # the files of each new slot are written in-process too, stamped with the slot's end
                self.feeder = None
                if self._feed:
                    self.feeder = demo_module.Feeder(reader, feeder.written_until, writes=None if external else reader)
            self.clock.attach(self)
            self.moved(self.clock.now())
            self.clock.start()
            self.gate.open()
        except BaseException:
            self.stop()
            raise
        return self

    def _spec(self) -> S3Spec:
        """Where a Dask worker's runs read and write: the user's S3 with the worker's own credential chain, or this
        endpoint's S3 over HTTP with its credentials."""
        if self.s3_endpoint_url is not None:
            return S3Spec(externals3.endpoint_url(self.s3_endpoint_url), None, None)
        credentials = self._client_credentials()
        return S3Spec(self.url, credentials["aws_access_key_id"], credentials["aws_secret_access_key"], REGION)

    def _share(self, store: PgStore) -> None:
        """Load the shared ``store``'s state under the lock of every process, then share the core's lock with them
        and beat this process's heartbeat (taking over the runs of processes that died)."""
        store.enter()
        try:
            self.problems = restore.load(self.backend, store)
        finally:
            store.leave()
        self.backend.core.lock = SharedLock(store, functools.partial(apply, self.backend))
        store.announce(self.url)
        self.takeover = Takeover(self.backend, store, self._execute).start()

    def stop(self) -> None:
        """Stop the clock and stop serving.

        The models, schedulers, executions and the clock are already in ``state_dir`` (each change is committed
        before its call answers). After a start that failed before the saved state was loaded, nothing is saved.
        """
        was_running, self._running = self._running, False
        try:
            if was_running:
                self._stopping.set()
                self.clock.stop()
        finally:  # also for an endpoint never started: the constructor bound the port
            self.gate.open()  # requests held during a failed start get their (failing) answers
            if self.takeover is not None:
                self.takeover.stop()
            self.backend.stop_jobs()
            if self.runner is not None:
                self.runner.close()
            self.server.stop()
            self._close_state()

    def _close_state(self) -> None:
        if self.objects is not None:
            self.objects.close()
        if self.store is not None:
            self.store.close()
        backend = getattr(self, "backend", None)
        if backend is not None and backend.core.store.temporary_dir is not None:  # no state_dir: its temporary store
            backend.core.store.close()
        if self.owner is not None:
            self.owner.release()

    def status(self) -> dict:
        """What the clock control reports besides the time: runs skipped by the catch-up limit, broken records."""
        return {"skipped_runs": self.backend.schedulers.skipped_runs, "not_restored": list(self.problems)}

    def __enter__(self) -> Endpoint:
        """``with Endpoint(...) as ep:`` starts it (unless it runs already) and stops it at the end."""
        return self if self._running else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- the clock's driver ------------------------------------------------------------------------------------
    def next_due(self, until: pd.Timestamp):
        """The next wake-up time <= ``until`` (the clock asks this)."""
        return self.backend.next_due(until)

    def fire(self, now: pd.Timestamp) -> None:
        """Feed the demo input files up to ``now``, then execute every run due by ``now`` (the clock calls this)."""
        if self.feeder is not None:
            try:
                self.feeder.fire(now)
            except Exception:  # e.g. the demo bucket was deleted: the runs then fail on their own, with a reason
                log.warning("lookout_nb.service: the demo feeder could not write its input files", exc_info=True)
        self.backend.retraining.claim_due(now)  # retrainings run in the background, through the executor
        batch = BATCH if self.db is not None or self.dask_scheduler is not None else None
        while True:  # several serve processes: claims of a batch each, so they share the due runs
            runs = self.backend.schedulers.claim_due(now, limit=batch)
            outcomes = self.backend.core.work.run_all(self._execute, runs)  # the executor (work/) decides where
            if runs:  # every results object is written by now: record the ends in one transaction
                self.backend.schedulers.finish_all([(run, vars(outcome)) for run, outcome in zip(runs, outcomes)])
            if batch is None or len(runs) < batch:
                return

    def catch_up(self, until: pd.Timestamp) -> None:
        """Before the clock moves to ``until``: skip due runs beyond the catch-up limit, and demo files beyond the
        feeder's window (the clock calls this)."""
        if self.feeder is not None:
            self.feeder.catch_up(until)
        self.backend.schedulers.catch_up(until)

    def moved(self, mark: pd.Timestamp) -> None:
        """Save the clock's service time ``mark`` (the clock calls this)."""
        if self.store is not None:
            self.store.save_clock(mark)

    def _execute(self, run) -> Outcome:
        """Run one inference; a bug of the runner FAILS the execution (and is logged) instead of stalling it."""
        if self._stopping.is_set():
            return Outcome("FAILED", failed_reason="The endpoint stopped before this run started")
        try:
            # start() makes the runner before anything can call this (the clock, a takeover, the executor)
            assert self.runner is not None
            return self.runner.execute(run)
        except Exception as err:
            log.exception("lookout_nb.service: the run of %s for %s failed", run.scheduler_name, run.boundary)
            return Outcome("FAILED",
                           failed_reason=f"Internal error of the embedded endpoint: {type(err).__name__}: {err}")

    # -- clients -----------------------------------------------------------------------------------------------
    def _client_credentials(self) -> dict:
        if self.credentials is None:
            return dict(CREDENTIALS)
        return {"aws_access_key_id": self.credentials[0], "aws_secret_access_key": self.credentials[1]}

    def env(self) -> dict:
        """Environment variables that point boto3 (or the AWS CLI, or :class:`.RemoteClock`) at this endpoint,
        with its credentials when it has some. With the user's S3 (``s3_endpoint_url``), S3 clients go there
        (``AWS_ENDPOINT_URL_S3``; none for AWS S3 itself) and, without ``credentials``, the user's own credential
        chain is left in place (the endpoint accepts any)."""
        credentials = self._client_credentials()
        variables = {"AWS_ENDPOINT_URL": self.url}
        if self.s3_endpoint_url is not None:
            url = externals3.endpoint_url(self.s3_endpoint_url)
            variables.update({"AWS_ENDPOINT_URL_S3": url} if url else {})
            if self.credentials is None:
                return variables
        return {**variables, "AWS_ACCESS_KEY_ID": credentials["aws_access_key_id"],
                "AWS_SECRET_ACCESS_KEY": credentials["aws_secret_access_key"], "AWS_DEFAULT_REGION": REGION}

    def remote_clock(self):
        """This endpoint's clock over HTTP, signed with its credentials (what another process would use)."""
        from .http.control import RemoteClock

        return RemoteClock(self.url, credentials=self.credentials)

    def client(self, service: str, region: str = REGION):
        """A boto3 client of ``service`` pointed at this endpoint (cached; boto3 clients are thread-safe)."""
        key = (service, region)
        with _CLIENT_LOCK:
            if service == "s3" and self.s3_endpoint_url is not None:
                if key not in self._clients:  # the user's S3, with the user's credential chain and settings
                    self._clients[key] = externals3.client(self.s3_endpoint_url)
                return self._clients[key]
            if key not in self._clients:
                self._clients[key] = _session().client(
                    service, region_name=region, endpoint_url=self.url, config=_config(service),
                    **self._client_credentials(),
                )
                self._own.mark(self._clients[key])
            return self._clients[key]

    def lookout(self, region: str = REGION):
        """A boto3 ``lookoutequipment`` client for this endpoint."""
        return self.client("lookoutequipment", region)

    def s3(self, region: str = REGION):
        """A boto3 ``s3`` client for this endpoint's S3 (path-style addressing), or for the user's S3 when it was
        started with ``s3_endpoint_url`` (the user's settings and credential chain, :mod:`.storage.externals3`)."""
        return self.client("s3", region)

    def add_model(self, name: str, components, sampling_rate: str = "PT1M"):
        """Train a model (status SUCCESS) of any machine on generated data through the endpoint's CreateModel path,
        e.g. ``ep.add_model("fan", {"fan": ["Speed"]}, "PT15M")`` (see
        :func:`lookout_nb.service.demo.add_trained_model`)."""
        return demo_module.add_trained_model(self, name, components, sampling_rate)

    def advance(self, delta) -> pd.Timestamp:
        """Shortcut for ``endpoint.clock.advance(delta)`` (manual clock only)."""
        return self.clock.advance(delta)

    def __repr__(self) -> str:
        return f"<lookout_nb.service.Endpoint {self.url} clock={self.clock!r}>"


def retention_of(value) -> pd.Timedelta | None:
    """The execution retention of ``start(retention=...)``: None, or a positive duration (``"30D"``, ISO ``"P30D"``);
    InvalidArgument naming the value otherwise.

    >>> retention_of("P30D"), retention_of(None)
    (Timedelta('30 days 00:00:00'), None)
    """
    if value is None:
        return None
    try:
        delta = pd.Timedelta(value)
        if delta is pd.NaT or delta <= pd.Timedelta(0):
            raise ValueError("not above 0")
    except (TypeError, ValueError):
        raise InvalidArgument(f"retention {value!r} is not a duration above 0: pass e.g. '30D' or 'P30D' (30 days), "
                              "or None to keep every execution") from None
    return delta


def _resumed(clock, speed, store: Store | None):
    """The clock of ``start(clock=..., speed=...)``, starting at the service time saved in ``store`` when that is
    later than where it would start (a clock never goes back). A clock object passed in is used as it is."""
    made = make_clock(clock, speed=speed)
    saved = store.clock_mark if store is not None else None
    if saved is None or isinstance(clock, (ManualClock, RealClock)) or made.now() >= saved:
        return made
    return make_clock(clock, speed=speed, start=saved)


def start(
    port: int = 0,
    host: str = "127.0.0.1",
    clock="manual",
    demo: bool = True,
    state_dir=None,
    speed: float | None = None,
    feed: bool | None = None,
    admin: bool = False,
    credentials=None,
    cors_origin=None,
    db: str | None = None,
    dask_scheduler: str | None = None,
    s3_endpoint_url=None,
    retention=None,
) -> Endpoint:
    """Start an embedded endpoint and return its handle (also a context manager that stops it).

    ``clock``: ``"manual"`` (starts at 2026-01-05T09:00:00Z, moves with ``endpoint.clock.advance``), ``"real"``
    (``speed`` times real time, from now) or a speed factor such as ``60.0``. ``demo``: seed the demo model and
    input files; ``feed`` (default: ``demo``): keep writing demo input files as the clock advances.
    ``state_dir``: keep models, schedulers, executions, the clock and S3 objects across restarts (see
    :mod:`lookout_nb.service.state.store`); one endpoint per directory. ``admin``: serve moto's admin routes
    (``/moto-api/``, which can read or empty every bucket), for tests only; off by default (403).
    ``credentials``: ``(access_key, secret_key)`` or ``"KEY:SECRET"``: every request (S3, the Lookout API, the clock
    control) must then carry a valid SigV4 signature of that key (:mod:`lookout_nb.service.http.auth`); the endpoint's
    own clients (``client()``, ``env()``) use it. None (default): any credentials are accepted.
    ``cors_origin``: the origin (or origins) of a web page allowed to call the endpoint, e.g.
    ``"http://localhost:8888"``; by default no page may (:mod:`lookout_nb.service.http.guard`). Whatever the options,
    the Host header must name this machine or ``host``, and each request is bounded (``docs/security.md``).
    ``s3_endpoint_url``: the user's S3 (a URL, or ``"aws"`` for AWS S3 with the default credential chain) holds every
    object the endpoint reads and writes; it then serves the Lookout API only (:mod:`.storage.externals3`).
    Default: the ``LOOKOUT_NB_S3_ENDPOINT_URL`` variable when set, else the endpoint's own S3.
    ``db``: ``postgresql://...``: keep the state in PostgreSQL, shared by every endpoint started on it (one service,
    see docs/endpoint.md, "Several serve processes"). ``dask_scheduler``: ``tcp://host:port``: execute scheduled
    runs and trainings as tasks of that Dask cluster. ``retention``: a duration (``"30D"``, ``"P30D"``): ended
    executions whose data ended longer ago (service time) are no longer listed and are deleted from the store as
    runs end; None (default) keeps every execution (in the store: executions are never held in memory).

    >>> ep = start(port=0, clock="manual", demo=True)   # doctest: +SKIP
    >>> ep.clock.advance(pd.Timedelta(minutes=10))      # doctest: +SKIP
    >>> ep.stop()                                       # doctest: +SKIP
    """
    return Endpoint(host=host, port=port, clock=clock, demo=demo, state_dir=state_dir, speed=speed, feed=feed,
                    admin=admin, credentials=credentials, cors_origin=cors_origin,
                    s3_endpoint_url=s3_endpoint_url or externals3.from_environment(), db=db,
                    dask_scheduler=dask_scheduler, retention=retention).start()
