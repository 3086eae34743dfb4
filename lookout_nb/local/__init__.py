"""The embedded endpoint: Amazon Lookout for Equipment and S3 on one local port, with a runner that really runs.

>>> import lookout_nb.local as local
>>> with local.start(port=0, clock="manual", demo=True) as ep:          # doctest: +SKIP
...     lookout, s3 = ep.lookout(), ep.s3()                            # boto3 clients pointed at ep.url
...     lookout.create_inference_scheduler(**local.demo.scheduler_kwargs("pump-5min"), ClientToken="t1")
...     ep.clock.advance(pd.Timedelta(minutes=10))                     # runs at 09:05 and 09:10
...     lookout.list_inference_executions(InferenceSchedulerName="pump-5min")["InferenceExecutionSummaries"]

Another process drives a served manual clock with ``RemoteClock(url).advance("PT10M")`` (HTTP, see
:mod:`lookout_nb.local.control`). Any boto3 client works too:
``boto3.client("lookoutequipment", endpoint_url=ep.url)``, or set the variables of ``ep.env()``
(``AWS_ENDPOINT_URL`` and dummy credentials) and use boto3's defaults unchanged.

Behaviour choices (where AWS documents nothing, this is the reading the endpoint takes):

- **Wake-ups and windows.** Boundaries are multiples of the upload frequency F from the top of the UTC hour; the
  run of boundary b wakes at b + DataDelayOffsetInMinutes, reads the window (b - F, b] (the offset delays the
  run, it does not move the window), and reports ScheduledStartTime = wake time, DataStartTime = b - F,
  DataEndTime = b.
- **First run.** A scheduler runs for boundaries strictly after the time it was created (or last started); a
  scheduler created at 09:02 with PT10M and a 5-minute offset first wakes at 09:15 for (09:00, 09:10].
- **Statuses.** Create and Start give PENDING, which becomes RUNNING as soon as the clock moves (real clocks: after
  ~2 s of real time); Stop gives STOPPING, then STOPPED the same way. Start needs STOPPED, Stop needs PENDING or
  RUNNING, Delete needs STOPPED (else ConflictException). Update is allowed in any status; the new settings apply
  from the next boundary after the update, except that a boundary already passed whose delayed wake-up has not come
  yet still runs, with the new settings (a new frequency also sets its window's length). A stopped scheduler makes
  no run, not even for a boundary whose wake-up falls after the stop.
- **Input search.** For each component of the model's schema, files named from one slot before the window start
  to one slot after its end (both included, names in local time = UTC + InputTimeZoneOffset; EPOCH names carry
  no offset) are read; unset naming members take yyyyMMddHHmmss, ``_`` and +00:00. Rows are UTC; only rows in
  (b - F, b] are scored. The first column is the timestamp whatever its name; the schema's sensor columns must
  all be present (a missing one FAILS the run naming the file and the column); other columns are ignored.
- **Scoring.** Rows are resampled to the model's TargetSamplingRate (mean per interval, labelled by the interval's
  end), gaps filled from neighbouring rows, and scored by the model's trained detector with
  :func:`lookout_nb.local.training.score`, the code its evaluation ran (:mod:`.detector`), so results.jsonl agrees
  with ModelMetrics. The detector's lookback rows before the window (23 rows: ``2 * 10 + 3``) come from the input
  files named for the earlier slots, as the runner last listed them (a slot never listed is listed once; parsed
  files are cached by ETag); missing ones give fewer rows, never a failure. An episode is flagged from its third row
  (3 rows held) until its 10-row average has passed. Diagnostics are present on every line, also when prediction
  is 0.
- **Results.** ``<output prefix><wake time as YYYY-MM-DDTHH:MM:SSZ>/results.jsonl``, one JSON object per row,
  newline-terminated; CustomerResultObject appears on SUCCESS only.
- **Lists.** ListInferenceSchedulers and ListModels are sorted by name; ListInferenceExecutions newest first;
  DataStartTimeAfter keeps DataStartTime >= the value, DataEndTimeBefore keeps DataEndTime <= the value. Pages
  hold 50 items unless MaxResults says otherwise; NextToken is opaque.
- **Events.** ListInferenceEvents groups anomalous rows at most one sampling interval apart into one event;
  EventStartTime/EventEndTime are the first and last anomalous row, EventDurationInSeconds their difference,
  Diagnostics the mean share of each sensor as a JSON string. An event is listed when it overlaps
  [IntervalStartTime, IntervalEndTime].
- **Idempotency.** The same ClientToken with the same request returns the existing scheduler; the same token
  with a different request, or an existing name with another token, is a ConflictException.
- **Validation.** Every input is checked with :func:`lookout_nb.servicemodel.check_input`, and
  Create/Update also with :meth:`lookout_nb.SchedulerRequest.problems` against the model's TargetSamplingRate;
  the ValidationException message lists every problem by field path. DataInputConfiguration must have an
  S3InputConfiguration (reported as ``DataInputConfiguration.S3InputConfiguration.Bucket: is required``).
- **Regions.** ARNs carry account 123456789012 and the region of the request's SigV4 credential scope;
  schedulers are kept per region, models are shared by all regions.
- **Persistence.** With ``state_dir``, see :mod:`lookout_nb.local.store`: models, tags, schedulers, executions,
  client tokens and the clock live in SQLite, each change committed before its call answers, so everything
  acknowledged survives kill -9; a failed write (disk full) is a 500 naming the cause and changes nothing; one
  endpoint per directory (:mod:`.owner`); a restart resumes the clock at its saved service time when that is
  later. A hand-edited record breaks one scheduler, not the state (:mod:`.restore`). S3 objects are written
  through to disk before each response (:mod:`lookout_nb.local.objects`).
- **Datasets, ingestion, labels.** See :mod:`.datasets` (a SUCCESS ingestion replaces a dataset's data; a
  FAILED one keeps it), :mod:`.ingest` (KeyPatterns, discarded files, quality counts) and :mod:`.labels`.
- **Models** (:mod:`.models`). CreateModel answers IN_PROGRESS and trains in a background thread
  (:func:`lookout_nb.local.training.train`: resampling, labels and OffCondition left out, training window learned,
  evaluation window scored into ModelMetrics); SUCCESS or FAILED with a FailedReason naming the window, sensor,
  label file or condition. Windows left out: training from the data's first row, evaluation to its last, split
  80/20 on the sampling grid (a given end of one window starts the other); TargetSamplingRate left out: the finest
  supported rate no finer than the rows' median spacing; DatasetSchema a subset of the dataset's sensors (left
  out: all). A dataset with no data, an unknown dataset or label group, or a schema that is not the service's JSON
  answer at once (ValidationException / ResourceNotFoundException). DeleteModel refuses while the model trains; a
  model that schedulers use may be deleted (as the service documents) and their runs then FAIL. A scheduler needs
  a SUCCESS model (ValidationException otherwise). ModelQuality: QUALITY_THRESHOLD_MET when every evaluation label
  is found, POOR_QUALITY_DETECTED when one is missed, CANNOT_DETERMINE_QUALITY without labels. Trained models
  persist in ``state.db``; one IN_PROGRESS when the endpoint stopped or was killed is FAILED at the next start.
  ``Endpoint.add_model(name, components, rate)`` trains a model on generated data through the same path.
- **Catch-up.** One move of the clock (a jump, or a restart after downtime) makes at most
  ``backend.CATCH_UP`` = 288 runs per scheduler, the latest ones; earlier due runs are skipped, logged and
  counted in ``skipped_runs`` of ``GET /_lookout-nb/clock``. Clock times stay within 1970-2262 (a 400 otherwise).
- **S3 and the demo.** S3 is moto's server, whose objects are shared by every endpoint of one Python process. A
  new endpoint with ``demo=True`` and no ``state_dir`` resets the demo bucket to exactly the demo history before
  its clock (two hours of 5-minute files; the feeder adds each next file once its slot has ended) and the demo's
  training and label files, so tests see the same bucket whatever ran before. Other buckets are left alone. The
  demo model ``pump-demo`` is trained at start, before the endpoint answers other clients, through the API: four
  days of training CSVs under ``s3://lookout-demo/training/``, dataset ``demo-pump-dataset``, an ingestion job,
  the daily episodes in ``labels/labels.csv``, CreateModel (the last day evaluates); a restart with a state_dir
  keeps the trained model.
- **Credentials.** ``start(credentials=(key, secret))`` (``lookout-nb serve --credentials KEY:SECRET`` or
  ``LOOKOUT_NB_CREDENTIALS``): every request must carry a SigV4 signature of that key (:mod:`.auth`), dated within
  15 minutes of the machine's wall clock (not the service clock); refusals are 403 in each protocol's own form.
  Without credentials any signature (or none) is accepted, so ``serve`` binds a non-loopback host only with
  credentials or ``--insecure``. Whatever the credentials, web pages are kept out (Host must name this machine,
  foreign origins are refused, no CORS grant unless ``cors_origin``/``--cors-origin``: :mod:`.guard`) and each
  request is bounded before it costs anything (:mod:`.limits`; ``docs/security.md``).
- **Failures the service does not document.** A file without one of the schema's sensor columns, a file that is
  not comma-separated CSV, unreadable timestamps, or an output bucket that cannot be written FAIL the run with a
  FailedReason naming the file, column or bucket.
"""

from __future__ import annotations

from . import demo
from .clock import MANUAL_START, ManualClock, RealClock
from .control import RemoteClock
from .endpoint import Endpoint, start

__all__ = ["MANUAL_START", "Endpoint", "ManualClock", "RealClock", "RemoteClock", "demo", "start"]
