"""Operations on inference schedulers: idempotent submit, waiting, lifecycle, and executions/results as tables.

Every function takes ``client=`` (a ``lookoutequipment`` client), ``s3=`` where it reads results, or
``session=``; otherwise boto3's defaults apply, so ``AWS_ENDPOINT_URL`` selects the embedded endpoint.
Refusals become the toolkit's typed errors (:mod:`lookout_nb.errors`) carrying the service's message.

>>> import lookout_nb as lnb
>>> result = lnb.submit(req)             # doctest: +SKIP
>>> lnb.executions(req.scheduler_name)   # doctest: +SKIP
>>> lnb.results(req.scheduler_name)      # doctest: +SKIP

``submit`` validates, creates once and waits for RUNNING; ``executions`` gives one row per run and ``results``
one row per scored timestamp with one column per sensor.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd

from ..contract import servicemodel, servicetime
from ..contract._aws import lookout_client, s3_client
from ..contract.request import FIELDS, SchedulerRequest
from ..contract.s3keys import s3_uri
from ..errors import AccessDenied, Problem, RequestInvalid, ResourceNotFound, SchedulerConflict, WaitTimeout
from . import _tables
from ._service import call, pages, utc, wire_time
from ._wait import WaitClock
from .models import describe_model, list_models

__all__ = [
    "Difference",
    "SchedulerInfo",
    "SubmitResult",
    "WaitClock",
    "delete",
    "describe",
    "describe_model",
    "differences",
    "events",
    "executions",
    "list_models",
    "list_schedulers",
    "request_from_scheduler",
    "results",
    "start",
    "stop",
    "submit",
    "updatable",
    "update",
    "wait_for_status",
]



@functools.cache
def updatable() -> tuple[str, ...]:
    """The Python fields UpdateInferenceScheduler can change, read from the service model's input shape.

    >>> updatable()
    ('upload_frequency', 'delay_offset_minutes', 'input_bucket', 'input_prefix', 'timezone_offset', \
'timestamp_format', 'delimiter', 'output_bucket', 'output_prefix', 'output_kms_key_id', 'role_arn')
    """
    members = servicemodel.input_shape("UpdateInferenceScheduler").members
    return tuple(name for name, path in FIELDS.items() if path[0] in members and name != "scheduler_name")


#: Values the service assumes when a member is left out: unset and default are not a difference.
_DEFAULTS = {
    "delay_offset_minutes": 0,
    "input_prefix": "",
    "output_prefix": "",
    "timezone_offset": "+00:00",
    "timestamp_format": "yyyyMMddHHmmss",
    "delimiter": "_",
}
#: Fields that cannot tell two schedulers apart (the name is the same by definition; the token is not returned).
_NOT_COMPARED = ("scheduler_name", "client_token")


# -- result objects ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Difference:
    """One field in which a request differs from an existing scheduler (``old`` is the scheduler's value)."""

    field: str
    path: str
    old: object
    new: object

    def __str__(self) -> str:
        return f"{self.field} ({self.path}): {self.old!r} -> {self.new!r}"


@dataclass(frozen=True)
class SubmitResult:
    """What :func:`submit` returns: the scheduler's name, ARN, status and the model's quality verdict."""

    name: str
    arn: str
    status: str
    model_quality: str | None = None
    request: SchedulerRequest | None = field(default=None, repr=False)
    note: str = ""

    def _repr_html_(self) -> str:
        rows = {"Name": self.name, "ARN": self.arn, "Status": self.status, "Model quality": self.model_quality}
        note = "it runs, and is billed, from now on; stop() pauses it" if self.status in ("PENDING", "RUNNING") else ""
        return _html_table("Inference scheduler submitted", rows, "; ".join(filter(None, [self.note, note])))


_STANDING_NOTE = ("PENDING until the service's clock moves: the embedded endpoint's manual clock moves only when you "
                  "advance it (endpoint.clock.advance)")


@dataclass(frozen=True)
class SchedulerInfo:
    """A described scheduler: its configuration as a :class:`SchedulerRequest` plus status and times.

    ``request.tags`` is None when the caller may not list the scheduler's tags.
    """

    request: SchedulerRequest
    name: str
    arn: str
    status: str
    model_arn: str | None = None
    created_at: pd.Timestamp | None = None
    updated_at: pd.Timestamp | None = None
    latest_result: str | None = None

    def _repr_html_(self) -> str:
        rows = {
            "Status": self.status,
            "Latest result": self.latest_result or "no run yet",
            "Created": self.created_at,
            "Updated": self.updated_at,
            "ARN": self.arn,
        }
        rows.update({".".join(path): getattr(self.request, name)
                     for name, path in FIELDS.items() if name not in _NOT_COMPARED})
        return _html_table(f"Inference scheduler {self.name}", rows)


def _html_table(title: str, rows: Mapping, note: str = "") -> str:
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
        f"<td>{html.escape('' if v is None else str(v))}</td></tr>"
        for k, v in rows.items()
    )
    foot = f"<p><i>{html.escape(note)}</i></p>" if note else ""
    return f"<div><b>{html.escape(title)}</b><table>{body}</table>{foot}</div>"


# -- submit --------------------------------------------------------------------------------------------------------
def submit(
    request: SchedulerRequest,
    client=None,
    session=None,
    wait: bool = True,
    timeout: float = 300,
    poll: float = 5,
    target_sampling_rate: str | None = None,
    clock: WaitClock | None = None,
) -> SubmitResult:
    """Create the scheduler of ``request`` once; the same request again returns the same scheduler.

    The request is validated first (:class:`RequestInvalid`, no call made). Its stable client token makes a
    repeated or retried submit idempotent. A different request under an existing name raises
    :class:`SchedulerConflict` listing the differing fields. With ``wait`` it returns once the scheduler is RUNNING
    (polling every ``poll`` seconds of ``clock``, a :class:`WaitClock`), or at once, still PENDING, when the
    service's clock stands still (the embedded endpoint's manual clock moves only when you advance it).

    Example
    -------
    >>> result = submit(req, client=client)          # doctest: +SKIP
    >>> result.status                                # doctest: +SKIP
    'RUNNING'
    """
    request.validate(target_sampling_rate)
    client = lookout_client(client, session)
    try:
        created = call(client, "create_inference_scheduler", **request.to_boto3())
    except SchedulerConflict as exc:
        raise _explained_conflict(request, client, exc) from exc
    result = SubmitResult(
        name=created["InferenceSchedulerName"],
        arn=created["InferenceSchedulerArn"],
        status=created["Status"],
        model_quality=created.get("ModelQuality"),
        request=request,
    )
    if wait and result.status == "PENDING":
        raw, standing = _waited(result.name, ("RUNNING",), timeout, poll, client, clock)
        result = SubmitResult(result.name, result.arn, raw["Status"], result.model_quality, request,
                              _STANDING_NOTE if standing else "")
    return result


def differences(existing: SchedulerRequest, new: SchedulerRequest) -> list[Difference]:
    """The fields in which ``new`` differs from ``existing`` (unset equals the service's default).

    >>> a = SchedulerRequest(upload_frequency="PT5M", delay_offset_minutes=None)
    >>> [str(d) for d in differences(a, a.replace(upload_frequency="PT10M", delay_offset_minutes=0))]
    ["upload_frequency (DataUploadFrequency): 'PT5M' -> 'PT10M'"]
    """
    found = []
    for name, path in FIELDS.items():
        old, new_value = getattr(existing, name), getattr(new, name)
        if name in _NOT_COMPARED or _same(name, old, new_value):
            continue
        found.append(Difference(name, ".".join(path), old, new_value))
    return found


def _same(name: str, old, new) -> bool:
    if name == "tags":
        return old is None or _tag_map(old) == _tag_map(new)  # None: tags unknown
    if name == "server_side_kms_key_id" and isinstance(old, str) and isinstance(new, str):
        return old == new or old.endswith(("/" + new, ":" + new))  # Describe returns the key's ARN
    default = _DEFAULTS.get(name)
    return old == new or ({old, new} <= {None, default} if name in _DEFAULTS else False)


def _tag_map(tags) -> dict:
    if isinstance(tags, Mapping):
        return dict(tags)
    return {t.get("Key"): t.get("Value") for t in tags or () if isinstance(t, Mapping)}


def _explained_conflict(request: SchedulerRequest, client, exc: SchedulerConflict) -> SchedulerConflict:
    """A conflict that says how the existing scheduler differs from the request (read from Describe)."""
    name = request.scheduler_name or ""
    try:
        existing = request_from_scheduler(name, client=client)
    except ResourceNotFound:
        return exc  # the conflict is about the token, not the name: the service's message says so
    diffs = differences(existing, request)
    if not diffs:
        message = (
            f"inference scheduler {name!r} already exists with the same visible configuration, but was created by a "
            f"different request (another client token, or tags the caller may not read). Use describe({name!r}) to "
            f"work with it, or choose another scheduler_name. The service said: {exc}"
        )
    else:
        listed = "\n".join(f"- {d}" for d in diffs)
        fixed = [d.field for d in diffs if d.field not in updatable()]
        advice = (
            f"{', '.join(fixed)} cannot be updated: choose another scheduler_name, or stop and delete the existing one"
            if fixed
            else f"choose another scheduler_name, or change the existing one with update({name!r}, ...)"
        )
        message = (
            f"inference scheduler {name!r} already exists with a different configuration "
            f"(existing -> requested):\n{listed}\n{advice}"
        )
    return SchedulerConflict(message, differences=diffs, operation="CreateInferenceScheduler")


# -- describe and wait -----------------------------------------------------------------------------------------------
def describe(name: str, client=None, session=None) -> SchedulerInfo:
    """The scheduler's configuration (as a SchedulerRequest), status, ARN, times and latest result.

    Example
    -------
    >>> info = describe("pump-5min")                  # doctest: +SKIP
    >>> info.status, info.request.upload_frequency    # doctest: +SKIP
    ('RUNNING', 'PT5M')
    """
    client = lookout_client(client, session)
    raw = call(client, "describe_inference_scheduler", InferenceSchedulerName=name)
    return _info(raw, _tags(client, raw["InferenceSchedulerArn"]))


def _info(raw: Mapping, tags) -> SchedulerInfo:
    """A SchedulerInfo from a DescribeInferenceScheduler response."""
    members = {k: raw[k] for k in FIELDS_TOP if k in raw}
    request = SchedulerRequest.from_boto3(members).replace(tags=tags, client_token=None)
    return SchedulerInfo(
        request=request,
        name=raw["InferenceSchedulerName"],
        arn=raw["InferenceSchedulerArn"],
        status=raw["Status"],
        model_arn=raw.get("ModelArn"),
        created_at=utc(raw.get("CreatedAt")),
        updated_at=utc(raw.get("UpdatedAt")),
        latest_result=raw.get("LatestInferenceResult"),
    )


FIELDS_TOP = tuple(dict.fromkeys(path[0] for path in FIELDS.values()))


def _tags(client, arn: str):
    """The scheduler's tags as the API's list, or None when the caller may not read them."""
    try:
        return call(client, "list_tags_for_resource", ResourceArn=arn).get("Tags", [])
    except AccessDenied:
        return None


def request_from_scheduler(name: str, client=None, session=None) -> SchedulerRequest:
    """The request that would recreate ``name`` (tags included, client token cleared), to clone or edit.

    Example
    -------
    >>> clone = request_from_scheduler("pump-5min")   # doctest: +SKIP
    >>> submit(clone.replace(scheduler_name="pump-10min", upload_frequency="PT10M"))  # doctest: +SKIP
    """
    return describe(name, client=client, session=session).request


def wait_for_status(name: str, status, timeout: float = 300, poll: float = 5, client=None, session=None,
                    clock: WaitClock | None = None) -> SchedulerInfo:
    """Poll Describe until the scheduler's status is ``status`` (or one of several); raise WaitTimeout otherwise.

    ``timeout`` and ``poll`` are seconds of ``clock`` (a :class:`WaitClock`; this process's by default). A service
    whose clock stands still (the embedded endpoint's manual clock) changes no status: WaitTimeout comes at once.

    Example
    -------
    >>> wait_for_status("pump-5min", "STOPPED", timeout=120)   # doctest: +SKIP
    """
    wanted = (status,) if isinstance(status, str) else tuple(status)
    statuses = servicemodel.enum("InferenceSchedulerStatus")
    unknown = [s for s in wanted if s not in statuses]
    if unknown:
        raise ValueError(f"unknown status {', '.join(unknown)}; a scheduler is one of {', '.join(statuses)}")
    return _wait_info(name, wanted, timeout, poll, lookout_client(client, session), clock)


def _wait_info(name: str, wanted: tuple, timeout, poll, client, clock, standing_ok: bool = False) -> SchedulerInfo:
    """:func:`wait_for_status`'s wait; ``standing_ok`` returns the current status while the clock stands still."""
    raw, standing = _waited(name, wanted, timeout, poll, client, clock)
    if raw["Status"] not in wanted and not (standing and standing_ok):
        why = "while the service's clock stands still" if standing else f"after {timeout:g} s"
        raise WaitTimeout(
            f"inference scheduler {name!r} is still {raw['Status']} {why} "
            f"(waiting for {' or '.join(wanted)}){_manual_clock_hint(raw)}",
            last_status=raw["Status"],
        )
    return _info(raw, _tags(client, raw["InferenceSchedulerArn"]))


def _waited(name: str, wanted: tuple, timeout: float, poll: float, client, clock) -> tuple[dict, bool]:
    """Describe until the status is one of ``wanted``, ``timeout`` passes or the service's clock stands still.

    Returns the last answer and whether the clock stood still: two answers a pause apart that carry the same
    precise service time (only the embedded endpoint sends one; a running clock never repeats a microsecond).
    The first pauses are short (0.25 s, doubling up to ``poll``), so a standing clock costs a quarter second.
    """
    clock = clock or WaitClock()
    deadline = clock.monotonic() + timeout
    interval, seen = min(poll, 0.25), None
    while True:
        raw = call(client, "describe_inference_scheduler", InferenceSchedulerName=name)
        now = _precise_now(raw)
        if raw["Status"] in wanted or (now is not None and now == seen):
            return raw, raw["Status"] not in wanted
        remaining = deadline - clock.monotonic()
        if remaining <= 0:
            return raw, False
        seen = now
        clock.sleep(min(interval, remaining))
        interval = min(poll, interval * 2)


def _precise_now(raw: Mapping) -> pd.Timestamp | None:
    """The service time of an answer when it carries the embedded endpoint's precise header, else None."""
    headers = {str(k).lower(): v for k, v in ((raw.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}).items()}
    return servicetime.from_headers(headers) if servicetime.PRECISE_HEADER in headers else None


def _manual_clock_hint(raw: Mapping) -> str:
    """Advice for the embedded endpoint (it stamps its answers with its clock), where a manual clock may stand."""
    headers = (raw.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    if servicetime.PRECISE_HEADER not in {k.lower() for k in headers}:
        return ""
    return ("; on the embedded endpoint's manual clock a status changes only when the clock moves: advance it "
            "(endpoint.clock.advance) or call with wait=False")


# -- lifecycle -------------------------------------------------------------------------------------------------------
def start(name: str, wait: bool = True, timeout: float = 300, poll: float = 5, client=None, session=None,
          clock: WaitClock | None = None) -> SchedulerInfo:
    """Start a STOPPED scheduler (billing resumes); with ``wait``, return once it is RUNNING.

    Example
    -------
    >>> start("pump-5min").status                      # doctest: +SKIP
    'RUNNING'
    """
    client = lookout_client(client, session)
    call(client, "start_inference_scheduler", InferenceSchedulerName=name)
    return _settled(name, "RUNNING", wait, timeout, poll, client, clock)


def stop(name: str, wait: bool = True, timeout: float = 300, poll: float = 5, client=None, session=None,
         clock: WaitClock | None = None) -> SchedulerInfo:
    """Stop a PENDING or RUNNING scheduler; with ``wait``, return once it is STOPPED.

    Example
    -------
    >>> stop("pump-5min").status                       # doctest: +SKIP
    'STOPPED'
    """
    client = lookout_client(client, session)
    call(client, "stop_inference_scheduler", InferenceSchedulerName=name)
    return _settled(name, "STOPPED", wait, timeout, poll, client, clock)


def _settled(name, status, wait, timeout, poll, client, clock) -> SchedulerInfo:
    """Wait for ``status``, or return the current one at once while the service's clock stands still."""
    if wait:
        return _wait_info(name, (status,), timeout, poll, client, clock, standing_ok=True)
    return describe(name, client=client)


def update(name: str, client=None, session=None, **changes) -> SchedulerInfo:
    """Change some fields of an existing scheduler, by SchedulerRequest field name, validated before the call.

    Only the fields in :func:`updatable` can change (frequency, delay, input and output configuration, role);
    ``model_name``, ``scheduler_name``, ``server_side_kms_key_id``, ``tags`` and ``client_token`` cannot: create a
    new scheduler from :func:`request_from_scheduler` instead.

    Example
    -------
    >>> update("pump-5min", upload_frequency="PT10M", input_prefix="v2/").request.upload_frequency  # doctest: +SKIP
    'PT10M'
    """
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise TypeError(f"update() got unknown field(s) {', '.join(unknown)}; fields are {', '.join(FIELDS)}")
    fixed = [k for k in changes if k not in updatable()]
    if fixed:
        raise RequestInvalid([Problem(".".join(FIELDS[k]), _not_updatable(k, name)) for k in fixed])
    client = lookout_client(client, session)
    current = _info(call(client, "describe_inference_scheduler", InferenceSchedulerName=name), None).request
    merged = current.replace(**changes).validate()
    members = merged.to_boto3(token=False)
    touched = dict.fromkeys(FIELDS[k][0] for k in changes)
    params = {top: members[top] for top in touched if top in members}
    try:
        call(client, "update_inference_scheduler", InferenceSchedulerName=name, **params)
    except SchedulerConflict as exc:
        raise SchedulerConflict(
            f"{exc} -- the service may refuse to update a running scheduler: stop({name!r}), update, "
            f"then start({name!r})",
            operation=exc.operation,
        ) from exc
    return describe(name, client=client)


def _not_updatable(field_name: str, name: str) -> str:
    return (
        f"cannot be updated: UpdateInferenceScheduler only changes {', '.join(updatable())}; to change {field_name}, "
        f"submit request_from_scheduler({name!r}).replace({field_name}=...) under a new scheduler_name"
    )


def delete(name: str, stop_first: bool = False, timeout: float = 300, poll: float = 5, client=None, session=None,
           clock: WaitClock | None = None) -> None:
    """Delete a STOPPED scheduler (its results stay in S3); with ``stop_first``, stop it and wait first.

    A running scheduler raises :class:`SchedulerConflict` unless ``stop_first`` is given.

    Example
    -------
    >>> delete("pump-5min", stop_first=True)           # doctest: +SKIP
    """
    client = lookout_client(client, session)
    if stop_first:
        status = call(client, "describe_inference_scheduler", InferenceSchedulerName=name)["Status"]
        if status in ("PENDING", "RUNNING"):
            call(client, "stop_inference_scheduler", InferenceSchedulerName=name)
        if status != "STOPPED":
            wait_for_status(name, "STOPPED", timeout=timeout, poll=poll, client=client, clock=clock)
    try:
        call(client, "delete_inference_scheduler", InferenceSchedulerName=name)
    except SchedulerConflict as exc:
        raise SchedulerConflict(
            f"{exc} -- stop it first: stop({name!r}) and then delete({name!r}), or delete({name!r}, stop_first=True)",
            operation=exc.operation,
        ) from exc


# -- tables ----------------------------------------------------------------------------------------------------------
def list_schedulers(name_prefix: str | None = None, model_name: str | None = None, status: str | None = None,
                    client=None, session=None) -> pd.DataFrame:
    """Every scheduler (all pages), one row each: ``name, model_name, status, upload_frequency,
    delay_offset_minutes, latest_result, arn, model_arn``.

    Example
    -------
    >>> list_schedulers(status="RUNNING")[["name", "upload_frequency"]]   # doctest: +SKIP
    """
    client = lookout_client(client, session)
    items = pages(client, "list_inference_schedulers", "InferenceSchedulerSummaries",
                  InferenceSchedulerNameBeginsWith=name_prefix, ModelName=model_name, Status=status)
    return _tables.schedulers_frame(items)


def executions(name: str, start=None, end=None, status: str | None = None, client=None, session=None) -> pd.DataFrame:
    """The scheduler's runs (all pages), oldest first (every table of the toolkit is in time order; the wizard's
    Monitor shows the newest first): ``scheduled_start, data_start, data_end, status,
    failed_reason, result_bucket, result_key`` (times tz-aware UTC).

    ``start`` keeps runs whose data window starts at or after it, ``end`` those whose window ends by it
    (naive times are UTC); ``status`` is IN_PROGRESS, SUCCESS or FAILED.

    Example
    -------
    >>> executions("pump-5min", status="FAILED")["failed_reason"].tolist()   # doctest: +SKIP
    """
    client = lookout_client(client, session)
    items = pages(client, "list_inference_executions", "InferenceExecutionSummaries", InferenceSchedulerName=name,
                  DataStartTimeAfter=wire_time(start), DataEndTimeBefore=wire_time(end), Status=status)
    return _tables.executions_frame(items)


def results(name: str, start=None, end=None, s3=None, client=None, session=None, max_workers: int = 8) -> pd.DataFrame:
    """Every scored row of the scheduler's successful runs, read from their ``results.jsonl`` (JSON only), oldest
    first (every table of the toolkit is in time order).

    Columns: ``timestamp`` (tz-aware UTC), ``prediction`` (1 = anomaly), ``prediction_reason``, ``anomaly_score``
    (NaN when the model does not report one), ``scheduled_start`` of the run, then one column per sensor named
    ``component\\sensor`` with its share of the diagnostics (NaN when a row has none). ``start``/``end`` select
    runs as in :func:`executions`.

    Example
    -------
    >>> res = results("pump-5min")                     # doctest: +SKIP
    >>> res.loc[res.prediction == 1, "timestamp"]     # doctest: +SKIP
    """
    runs = executions(name, start=start, end=end, status="SUCCESS", client=client, session=session)
    runs = runs.dropna(subset=["result_bucket", "result_key"])
    s3 = s3_client(s3, session)
    locations = list(zip(runs.result_bucket, runs.result_key))
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(locations) or 1))) as pool:
        texts = list(pool.map(lambda loc: _read_text(s3, *loc), locations))
    sources = [s3_uri(b, k) for b, k in locations]
    return _tables.results_frame(zip(runs.scheduled_start, texts), sources)


def _read_text(s3, bucket: str, key: str) -> str:
    body = call(s3, "get_object", Bucket=bucket, Key=key)["Body"]
    with body:
        return body.read().decode("utf-8")


def events(name: str, start, end, client=None, session=None) -> pd.DataFrame:
    """Anomalous events overlapping ``start`` to ``end`` (both needed; naive times are UTC; all pages), oldest
    first: ``event_start, event_end, duration_seconds, diagnostics`` (JSON-decoded), then one column per sensor
    ``component\\sensor``.

    Example
    -------
    >>> events("pump-5min", "2026-01-05", "2026-01-06")   # doctest: +SKIP
    """
    client = lookout_client(client, session)
    items = pages(client, "list_inference_events", "InferenceEventSummaries", InferenceSchedulerName=name,
                  IntervalStartTime=wire_time(start), IntervalEndTime=wire_time(end))
    return _tables.events_frame(items)
