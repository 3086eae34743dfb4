"""``preview_input``: list, detect, sample and check, then build the :class:`InputPreview` once from what was found.

Each check is a function from what it judges to a list of findings (``_listing``, ``_names``, ``_slots``,
``_samples``); this module only gathers their inputs, calls them in a fixed order and sorts the findings by level.
"""

from __future__ import annotations

from ..contract import _aws, servicetime
from ..contract.naming import to_utc
from ._findings import by_severity
from ._listing import Listing, list_input, listing_findings, s3_finding
from ._model import Expected, read_expected
from ._names import component_findings, detect, effective_naming, keys_table, naming_findings, naming_invalid_findings
from ._result import InputPreview
from ._samples import WindowRules, read_samples
from ._slots import (
    clock_findings,
    frequency_findings,
    infer_frequency,
    late_findings,
    match_recent,
    plan_request,
    recent_slots,
    slot_findings,
)
from ._target import Target, read_target


def preview_input(
    request_or_location,
    s3=None,
    client=None,
    session=None,
    *,
    components=None,
    max_keys: int = 10_000,
    sample_bytes: int = 65536,
    sample_files: int = 1,
    recent: int = 12,
    now=None,
    target_sampling_rate: str | None = None,
    progress: bool = True,
) -> InputPreview:
    """List, detect, sample and check the input files of a scheduler; never raises for S3 or service errors.

    ``request_or_location`` is a :class:`SchedulerRequest`, ``"s3://bucket/prefix/"`` or ``(bucket, prefix)``.
    With a Lookout ``client`` (or a request naming a model, when a client can be made) the model's schema gives
    the components and columns; ``components`` gives them otherwise. Slot checks (``gap``, ``missing-component``)
    cover the ``recent`` slots up to the last run woken by ``now``: by default the time of the S3 service that
    holds the files (:func:`lookout_nb.contract.servicetime.now`; the embedded endpoint's clock there, the real time on
    AWS), so lateness compares LastModified with the same clock; ``now="newest"`` judges the slots up to the
    newest file instead (old sample data, files copied from elsewhere).

    Example
    -------
    >>> pv = preview_input("s3://my-input/in/", s3=s3, progress=False)             # doctest: +SKIP
    >>> pv.detected.timestamp_format, pv.ok                                        # doctest: +SKIP
    ('yyyyMMddHHmmss', True)
    """
    target = read_target(request_or_location)
    by_newest = isinstance(now, str) and now == "newest"
    now = None if now is None or by_newest else to_utc(now, name="now")  # before any call: a bad `now` fails fast
    expected = read_expected(target.model_name, client, session, components=components,
                             target_sampling_rate=target_sampling_rate)
    try:
        s3 = _aws.s3_client(s3, session)
    except Exception as exc:  # noqa: BLE001 - e.g. a malformed endpoint URL or profile
        listing = Listing(failure=s3_finding(exc, target.bucket, target.prefix))
    else:
        listing = list_input(s3, target.bucket, target.prefix, max_keys=max_keys, progress=progress)
    if listing.failure is not None:
        return InputPreview(target.bucket, target.prefix, frequency=target.frequency, delay=target.delay,
                            model_name=target.model_name, components=expected.components, columns=expected.columns,
                            target_sampling_rate=expected.rate, list_calls=listing.calls,
                            findings=by_severity([*expected.findings, listing.failure]))
    if now is None and not by_newest:
        now = servicetime.now(s3)
    return _judge(s3, target, expected, listing, now=now, recent=recent, sample_bytes=sample_bytes,
                  sample_files=sample_files)


def _judge(s3, target: Target, expected: Expected, listing: Listing, *, now, recent: int, sample_bytes: int,
           sample_files: int) -> InputPreview:
    """Every check on a listing (one S3 answered), then the preview built from what they found."""
    assert listing.table is not None, "judged only when S3 answered the listing"
    detected = detect(listing.table["key"], expected.components)
    naming = effective_naming(target.request, detected)
    keys = keys_table(listing.table, naming)
    frequency = target.frequency if target.frequency is not None else infer_frequency(keys)
    given = target.request is not None  # else the delay (0) and the names' offset (+00:00) are assumed
    request = plan_request(keys, naming=naming, frequency=frequency, delay=target.delay, prefix=target.prefix)
    plan, match = match_recent(keys, request, components=expected.components, now=now, delay=target.delay,
                               frequency=frequency, recent=recent)
    samples = read_samples(s3, target.bucket, keys, sample_bytes=sample_bytes, sample_files=sample_files,
                           columns=expected.columns, rules=WindowRules(frequency, naming, given, now))
    findings = [
        *expected.findings,
        *naming_invalid_findings(target.request),
        *listing_findings(keys, target.bucket, target.prefix, truncated=listing.truncated, calls=listing.calls),
        *naming_findings(keys, naming, detected, request_given=given, prefix=target.prefix),
        *component_findings(keys, expected.components),
        *slot_findings(plan, match, keys=keys, prefix=target.prefix, frequency=frequency, truncated=listing.truncated),
        *clock_findings(keys, now),
        *late_findings(match, delay=target.delay, offset_configured=given),
        *frequency_findings(target.request, frequency, expected.rate),
        *samples.findings,
    ]
    return InputPreview(
        target.bucket, target.prefix, naming=naming, frequency=frequency, delay=target.delay, keys=keys,
        detected=detected, samples=samples.tables, sampled_keys=samples.keys, sample_reads=samples.reads,
        findings=by_severity(findings), listing_truncated=listing.truncated, list_calls=listing.calls,
        bytes_read=samples.bytes_read, model_name=target.model_name, components=expected.components,
        columns=expected.columns, target_sampling_rate=expected.rate, offset_configured=given, now=now, plan=plan,
        match=match, recent_slots=recent_slots(match),
    )
