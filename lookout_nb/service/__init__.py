"""The embedded endpoint: Amazon Lookout for Equipment and S3 on one local port, with a runner that really runs.

>>> import lookout_nb.service as local
>>> with local.start(port=0, clock="manual", demo=True) as ep:          # doctest: +SKIP
...     lookout, s3 = ep.lookout(), ep.s3()                            # boto3 clients pointed at ep.url
...     lookout.create_inference_scheduler(**local.demo.scheduler_kwargs("pump-5min"), ClientToken="t1")
...     ep.clock.advance(pd.Timedelta(minutes=10))                     # runs at 09:05 and 09:10
...     lookout.list_inference_executions(InferenceSchedulerName="pump-5min")["InferenceExecutionSummaries"]

Another process drives a served manual clock with ``RemoteClock(url).advance("PT10M")`` (HTTP, see
:mod:`lookout_nb.service.http.control`). Any boto3 client works too:
``boto3.client("lookoutequipment", endpoint_url=ep.url)``, or set the variables of ``ep.env()``
(``AWS_ENDPOINT_URL`` and dummy credentials) and use boto3's defaults unchanged.

The behaviour where AWS documents nothing (wake-ups and windows, statuses, input search, scoring, datasets,
labels, models, persistence, credentials), the operations answered and the flags of ``lookout-nb serve`` are in
one place: ``docs/endpoint.md``.

The rooms: ``http/`` (one port: routing, SigV4, the start-up gate, the JSON protocol, the clock API), ``api/``
(resources and their rules: services composed on one core), ``runner/`` (due runs), ``learning/`` (ingestion,
training, the detector: numpy/pandas only), ``work/`` (where runs and trainings execute), ``storage/`` (S3 objects
on moto, written through; the one place that knows moto's internals), ``state/`` (state.db and the owner lock),
``demo/`` (the synthetic pump and its feeder); ``endpoint.py`` wires them. What each may import is checked by
``lint-imports`` (``[tool.importlinter]`` in pyproject.toml).
"""

from __future__ import annotations

from . import demo
from .clock import MANUAL_START, ManualClock, RealClock
from .endpoint import Endpoint, start
from .http.control import RemoteClock

__all__ = ["MANUAL_START", "Endpoint", "ManualClock", "RealClock", "RemoteClock", "demo", "start"]
