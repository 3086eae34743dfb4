"""Preview a scheduler's S3 input before submitting: list, detect the naming, sample, and say what will fail.

``preview_input`` lists the input prefix (at most ``max_keys`` keys), parses every name with the configured
naming (and detects the naming the files really use), reads the model's schema when a Lookout client is at hand,
reads the first ``sample_bytes`` of the newest file of each component with a ranged GET, and reports every known
mistake as a :class:`Finding` with a stable ``code``, a ``level`` and a message that says how to fix it.

>>> pv = preview_input(req, s3=s3)                                                 # doctest: +SKIP
>>> [(f.code, f.level) for f in pv.findings]                                       # doctest: +SKIP
[('rows-look-local', 'error')]
>>> pv.keys.columns.tolist()                                                       # doctest: +SKIP
['key', 'size', 'last_modified', 'component', 'time_local', 'time_utc', 'matches']

The rules are the service's (README, "Behaviour choices of the embedded endpoint"): the run for the slot starting
``s`` covers rows in ``(s, s + F]`` (UTC), wakes at ``s + F + DataDelayOffsetInMinutes``, and searches file names
(local time) from ``s - F`` to ``s + 2F``; every component of the schema needs a file there, on time, else the run
fails; rows are UTC whatever the file names' offset. The slot checks are ``lookout_nb.contract.timing.plan_schedule``
and ``lookout_nb.contract.filematch.match_files`` on the listing.

One job per private module, each check a function from what it judges to a list of findings:

- ``_target``: where to look (bucket, prefix, the request's settings); ``_model``: what the files must hold
  (DescribeModel's schema and sampling rate);
- ``_listing``: ListObjectsV2 and S3 errors; ``no-files``, ``listing-truncated``, ``empty-file``;
- ``_names``: the naming used and detected, the table of keys; ``naming-*``, ``name-mismatch``,
  ``unknown-component``;
- ``_slots``: the recent runs matched against the listing; ``gap``, ``missing-component``, ``late-files``,
  ``clock-skew``, ``frequency-too-fine``;
- ``_samples``: ranged GETs read by :mod:`lookout_nb.contract.inputfiles`; the reader's codes and the row-time checks;
- ``_findings`` (:class:`Finding`, the codes), ``_text`` (how messages quote), ``_result``
  (:class:`InputPreview`), ``_render`` (its HTML); ``_preview_input`` calls the checks and builds the result once.
"""

from ._findings import CODES, LEVELS, Finding
from ._preview_input import preview_input
from ._result import InputPreview

__all__ = ["CODES", "LEVELS", "Finding", "InputPreview", "preview_input"]
