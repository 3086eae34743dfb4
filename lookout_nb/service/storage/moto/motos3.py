"""moto's in-memory S3 backend as lookout_nb reads and writes it: buckets, objects, the backend's hooks.

moto keeps the S3 protocol; lookout_nb keeps the objects on disk (:mod:`..objects`): it reads an object's state after
a request (:func:`live`, :func:`describe`; a key's versions :mod:`.keyversions`, uploads :mod:`.multipart`) and puts
saved objects and versions back at start (:func:`restore`), directly in ``moto.s3.models.s3_backends``.
The runner reads and writes in-process too (:mod:`..inprocess`): :func:`names_after` lists a key range from a sorted
index of each bucket's names, :func:`put_as_http` writes an object as moto's PutObject handler does. Only this
package knows moto's internals (``FakeBucket.keys``, ``FakeKey`` attributes, the ``S3Backend`` methods
:mod:`..writethrough` hooks, the ``utcnow`` :mod:`..s3clock` replaces, the exception classes, the WSGI applications),
so a moto upgrade is checked here: :func:`missing` says which name of :data:`RELIED_ON` an installed moto lacks
(tests/service/test_moto.py checks it and the tested version range, :data:`TESTED`).

>>> backend = backend_of("123456789012", "aws")
>>> record = describe(backend, "lookout-demo", live(backend, "lookout-demo", "in/a.csv"))  # doctest: +SKIP
>>> record.etag, record.metadata["content-type"]                                          # doctest: +SKIP
('"0cc175b9c0f1b6a831c399e269772661"', 'text/csv')
"""

from __future__ import annotations

import base64
import bisect
import datetime
import functools
import io
import pickle
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # moto itself is imported when first used
    from moto.s3.models import FakeKey

#: moto's default account, the one every request with unknown credentials acts as.
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_PARTITION = "aws"
DEFAULT_REGION = "us-east-1"
#: The moto versions lookout_nb is tested with (the pin of pyproject.toml). 5.2.1 is; 5.2.6 is not: its response
#: serializer fails a request of notebook 04 (``KeyError: None`` from ``operation_model``, a traceback on the
#: kernel's stderr), found by the Binder check, which installs the newest allowed release.
TESTED = ">=5.0,<5.2.2"
#: Every name taken from moto (``module:attribute[.attribute]``); the private ones are the upgrade risk.
RELIED_ON = (
    "moto.s3.models:s3_backends", "moto.s3.models:FakeKey", "moto.s3.models:utcnow",
    "moto.s3.models:S3Backend.put_object", "moto.s3.models:S3Backend.delete_object",
    "moto.s3.models:S3Backend.put_object_tagging", "moto.s3.models:S3Backend.create_bucket",
    "moto.s3.models:S3Backend.delete_bucket", "moto.s3.models:S3Backend.get_bucket",
    "moto.s3.models:S3Backend.head_object", "moto.s3.models:FakeKey.value",
    "moto.s3.models:S3Backend.complete_multipart_upload", "moto.s3.models:S3Backend.upload_part",
    "moto.s3.models:MultipartChecksumBuilder",
    "moto.s3.models:S3_UPLOAD_PART_MIN_SIZE", "moto.s3.models:InvalidPart", "moto.s3.models:EntityTooSmall",
    "moto.s3.models:MalformedXML", "moto.s3.models:md5_hash", "moto.s3.models:notifications",
    "moto.s3.utils:_VersionedKeyStore.setlist", "moto.s3.utils:_VersionedKeyStore.__setitem__",
    "moto.s3.utils:_VersionedKeyStore.pop", "moto.s3.utils:metadata_from_headers",
    "moto.s3.models:FakeDeleteMarker", "moto.s3.models:FakeMultipart.set_part", "moto.s3.models:S3Backend.upload_part",
    "moto.s3.models:S3Backend.create_multipart_upload", "moto.s3.models:S3Backend.abort_multipart_upload",
    "moto.s3.exceptions:S3ClientError", "moto.s3.exceptions:MissingBucket", "moto.core.exceptions:ServiceException",
    "moto.moto_server.werkzeug_app:DomainDispatcherApplication", "moto.moto_server.werkzeug_app:create_backend_app",
    "moto.core.model_instances:model_data",
)
#: FakeKey attributes kept besides metadata and tags (None values are not kept).
_ATTRS = ("storage_class", "encryption", "kms_key_id", "website_redirect_location", "checksum_algorithm",
          "checksum_value", "checksum_type", "checksum_parts", "lock_mode", "lock_until", "lock_legal_status")
#: FakeBucket attributes that are its settings (versioning, lifecycle, policy, ACL, CORS, encryption, public
#: access block, ...): kept, with the bucket's tags, as one pickled mapping (moto's own objects, as moto holds them).
_BUCKET_SETTINGS = ("versioning_status", "rules", "policy", "website_configuration", "acl", "cors", "logging",
                    "accelerate_configuration", "payer", "public_access_block", "encryption", "object_lock_enabled",
                    "default_lock_mode", "default_lock_days", "default_lock_years", "ownership_rule")


@dataclass
class BucketRecord:
    """A bucket as kept on disk."""

    name: str
    account: str = DEFAULT_ACCOUNT
    partition: str = DEFAULT_PARTITION
    region: str = DEFAULT_REGION
    created: str | None = None  # ISO 8601, as moto's creation_date
    settings: bytes | None = None  # :func:`bucket_settings`


@dataclass
class ObjectRecord:
    """An object's state without its body: what a restart must give back exactly."""

    bucket: str
    key: str
    size: int
    etag: str  # quoted, as S3 answers it
    last_modified: str  # ISO 8601 of moto's datetime (naive UTC stays naive)
    metadata: dict = field(default_factory=dict)  # Content-Type, x-amz-meta-*, ...
    tags: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)


def backend_of(account: str = DEFAULT_ACCOUNT, partition: str = DEFAULT_PARTITION):
    """moto's S3 backend of one account and partition (created on first use)."""
    from moto.s3.models import s3_backends

    accounts = dict.get(s3_backends, account)  # the plain lookups first: moto's own take a lock and ~50 us
    backend = dict.get(accounts, partition) if accounts is not None else None
    return backend if backend is not None else s3_backends[account][partition]


def bucket_snapshot(backend, name: str) -> BucketRecord | None:
    """The bucket ``name`` of ``backend`` as a record, or None when it does not exist there."""
    bucket = backend.buckets.get(name)
    if bucket is None:
        return None
    created = getattr(bucket, "creation_date", None)
    return BucketRecord(name, backend.account_id, backend.partition, bucket.region_name,
                        created.isoformat() if created else None, bucket_settings(backend, bucket))


def bucket_settings(backend, bucket) -> bytes:
    """A bucket's settings and tags as bytes (a pickle of moto's own values; the state directory is the user's)."""
    values = {a: getattr(bucket, a) for a in _BUCKET_SETTINGS if hasattr(bucket, a)}
    values["tags"] = backend.tagger.get_tag_dict_for_resource(bucket.arn)
    return pickle.dumps(values, protocol=4)


def apply_bucket_settings(backend, bucket, settings: bytes | None) -> None:
    """Give ``bucket`` the settings and tags of :func:`bucket_settings` (None: leave it as it is)."""
    if not settings:
        return
    values = pickle.loads(settings)  # this store wrote it (the user's own state_dir)
    tags = values.pop("tags", {})
    for name, value in values.items():
        if name in _BUCKET_SETTINGS:
            setattr(bucket, name, value)
    backend.tagger.delete_all_tags_for_resource(bucket.arn)
    if tags:
        backend.tagger.tag_resource(bucket.arn, backend.tagger.convert_dict_to_tags_input(tags))


def live(backend, bucket_name: str, key_name: str):
    """The FakeKey moto serves for a key now, or None (no such key or bucket, or a delete marker)."""
    from moto.s3.models import FakeKey

    bucket = backend.buckets.get(bucket_name)
    key = bucket.keys.get(key_name) if bucket is not None else None
    return key if isinstance(key, FakeKey) and not key.disposed else None


def body_pieces(key, size: int = 1024 * 1024):
    """The bytes of a FakeKey in pieces of ``size`` (read under the key's lock; ValueError when a later write has
    replaced and disposed of it meanwhile)."""
    with key.lock:
        buffer = key._value_buffer
        buffer.seek(0)
        while piece := buffer.read(size):
            yield piece


def disk_body(key):
    """The :class:`.diskbody.DiskBody` a FakeKey's bytes are read from, or None (they are in moto's own buffer)."""
    from ..diskbody import DiskBody

    buffer = getattr(key, "_value_buffer", None)
    return buffer if isinstance(buffer, DiskBody) and buffer.on_disk else None


def get_checksum_headers(key) -> dict:
    """The checksum headers moto's GetObject sends with ``x-amz-checksum-mode: ENABLED`` (its HeadObject leaves
    the ``-<parts>`` of a composite checksum out), e.g. ``{"x-amz-checksum-crc32": "lh0bSQ==-2", ...}``."""
    if not key.checksum_algorithm:
        return {}
    value = key.checksum_value
    if key.checksum_type == "COMPOSITE":
        value = f"{value}-{key.checksum_parts}"
    headers = {f"x-amz-checksum-{key.checksum_algorithm.lower()}": value}
    if key.checksum_type:
        headers["x-amz-checksum-type"] = key.checksum_type
    return headers


def key_uri(key) -> str:
    """``s3://bucket/key`` of a FakeKey."""
    return f"s3://{key.bucket_name}/{key.name}"


def to_disk(key, disk) -> bool:
    """Make a FakeKey read its bytes from ``disk`` (a :class:`.diskbody.DiskBody` of the same bytes) and free its
    own buffer; False (nothing changed) when the key was disposed of meanwhile."""
    with key.lock:
        if key.disposed:
            return False
        old, key._value_buffer = key._value_buffer, disk
        key.contentsize = disk.size
    old.close()
    return True


def describe(backend, bucket_name: str, key) -> ObjectRecord:
    """A FakeKey's state without its body."""
    attrs = {a: getattr(key, a, None) for a in _ATTRS}
    if getattr(key, "acl", None) is not None:
        attrs["acl"] = base64.b64encode(pickle.dumps(key.acl, protocol=4)).decode()
    if key._version_id not in (None, "null"):
        attrs["version_id"] = key._version_id
    return ObjectRecord(
        bucket=bucket_name,
        key=key.name,
        size=key.size,
        etag=key.etag,
        last_modified=key.last_modified.isoformat(),
        metadata=dict(key.metadata),
        tags=backend.tagger.get_tag_dict_for_resource(key.arn),
        attrs={a: v for a, v in attrs.items() if v is not None},
    )


def current(backend, bucket_name: str, key_name: str):
    """The object moto serves for a key now (its identity tells whether a later request replaced it)."""
    bucket = backend.buckets.get(bucket_name)
    return bucket.keys.get(key_name) if bucket is not None else None


def restore_bucket(record: BucketRecord):
    """Make sure the bucket of ``record`` exists in its backend (kept as it is when it does); returns it."""
    backend = backend_of(record.account, record.partition)
    bucket = backend.buckets.get(record.name)
    if bucket is None:
        from moto.s3.models import s3_backends

        owner = s3_backends.bucket_accounts.get(record.name)
        if owner is not None:  # held by another account of this process: leave it to that account
            return backend_of(owner[1], owner[0]).buckets.get(record.name)
        bucket = backend.create_bucket(record.name, record.region)
        if record.created:
            bucket.creation_date = datetime.datetime.fromisoformat(record.created)
    apply_bucket_settings(backend, bucket, record.settings)
    return bucket


def restore(backend, record: ObjectRecord, body, older=()) -> None:
    """Put a saved object back (its bytes, or a :class:`..diskbody.DiskBody` read when asked) after ``older``, its
    earlier versions and delete markers (:func:`rebuilt`, :func:`.keyversions.marker`), with its ETag, version id,
    tags..."""
    place(backend, record.bucket, record.key, [*older, rebuilt(backend, record, body)])


def place(backend, bucket_name: str, key_name: str, entries: list) -> None:
    backend.get_bucket(bucket_name).keys.setlist(key_name, entries)  # a key's versions, oldest first


def rebuilt(backend, record: ObjectRecord, body):
    """The FakeKey of a saved object version, not yet placed in its bucket (see :func:`restore`)."""
    from moto.s3.models import FakeKey

    attrs = record.attrs
    disk = None if isinstance(body, (bytes, bytearray)) else body
    versioned = backend.get_bucket(record.bucket).is_versioned
    key = FakeKey(record.key, b"" if disk is not None else body, backend.account_id, backend.region_name,
                  storage=attrs.get("storage_class"), etag=record.etag.strip('"'), is_versioned=versioned,
                  version_id=attrs.get("version_id") or (str(uuid.uuid4()) if versioned else "null"),
                  bucket_name=record.bucket, encryption=attrs.get("encryption"), kms_key_id=attrs.get("kms_key_id"),
                  checksum_value=attrs.get("checksum_value"))
    if disk is not None:
        to_disk(key, disk)
    key.set_metadata(dict(record.metadata))
    key.last_modified = datetime.datetime.fromisoformat(record.last_modified)
    key.website_redirect_location = attrs.get("website_redirect_location")
    key.checksum_algorithm = attrs.get("checksum_algorithm")
    for name in ("checksum_type", "checksum_parts", "lock_mode", "lock_until", "lock_legal_status"):
        if attrs.get(name) is not None:
            setattr(key, name, attrs[name])
    if attrs.get("acl"):
        key.acl = pickle.loads(base64.b64decode(attrs["acl"]))  # this store's own record
    backend.tagger.delete_all_tags_for_resource(key.arn)
    if record.tags:
        backend.tagger.tag_resource(key.arn, backend.tagger.convert_dict_to_tags_input(record.tags))
    return key


def _listed_copy(key, memo):
    """``FakeKey.__deepcopy__`` (ListObjectVersions copies every version, so every body): the listed fields only."""
    key.etag  # noqa: B018 - computed (and kept) now when it was not: the copy has no bytes to compute it from
    copied = object.__new__(type(key))
    copied.__dict__.update(key.__dict__)
    copied._value_buffer, copied.multipart, copied.lock = io.BytesIO(), None, threading.Lock()
    return copied


@functools.lru_cache(maxsize=1)
def install_listed_copy() -> None:
    """Give moto's FakeKey :func:`_listed_copy` as its ``__deepcopy__`` (once; moto deep-copies keys nowhere else)."""
    from moto.s3.models import FakeKey

    FakeKey.__deepcopy__ = _listed_copy  # type: ignore[attr-defined]


def remove(backend, bucket_name: str, key_name: str) -> None:
    """Remove a key and its versions from ``backend`` (nothing happens when it is not there)."""
    bucket = backend.buckets.get(bucket_name)
    if bucket is not None and dict.__contains__(bucket.keys, key_name):
        bucket.keys.pop(key_name)


def remove_bucket(backend, name: str) -> None:
    """Remove an empty bucket from ``backend`` (a bucket that holds keys is kept)."""
    bucket = backend.buckets.get(name)
    if bucket is not None and not bucket.keys:
        backend.delete_bucket(name)


def put_as_http(backend, bucket_name: str, key_name: str, value: bytes, content_type: str | None = None):
    """Write an object as moto's handler of a plain ``PutObject`` (no ACL, tagging or lock headers) does: storage
    class STANDARD, the bucket's default lock and ACL, ``Content-Type`` as metadata, an empty tag set. Returns the
    FakeKey (its ``etag`` is what the HTTP response would carry)."""
    from moto.s3.utils import metadata_from_headers

    bucket = backend.get_bucket(bucket_name)
    lock_mode = lock_until = None
    if bucket.object_lock_enabled and bucket.has_default_lock:
        lock_until, lock_mode = bucket.default_retention(), bucket.default_lock_mode
    key = backend.put_object(bucket_name, key_name, value, storage="STANDARD", lock_mode=lock_mode,
                             lock_until=lock_until)
    key.set_metadata(metadata_from_headers({"Content-Type": content_type} if content_type else {}))
    key.set_acl(bucket.acl)
    key.website_redirect_location = None
    backend.put_object_tagging(key, {})
    return key


# -- a sorted index of each bucket's key names -------------------------------------------------------------------
_INDEX = "_lookout_nb_sorted_names"
_index_lock = threading.Lock()


def _index_change(store, name: str, present: bool) -> None:
    """Keep the sorted names of ``store`` (if it has been built) in step with one added or removed name.

    The index is looked up under the lock: one being built (:func:`names_after`) while a name is added either
    already holds the name or is found here once built."""
    with _index_lock:
        names = store.__dict__.get(_INDEX)
        if names is None:
            return
        i = bisect.bisect_left(names, name)
        found = i < len(names) and names[i] == name
        if present and not found:
            names.insert(i, name)
        elif not present and found:
            del names[i]


@functools.lru_cache(maxsize=1)
def install_index() -> None:
    """Hook the three ways moto changes a bucket's names (``setlist``, item assignment, ``pop`` of its key store)
    so that an index, once built, follows them (once per process)."""
    from moto.s3.utils import _VersionedKeyStore as Store

    setlist, setitem, pop = Store.setlist, Store.__setitem__, Store.pop

    def hooked_setlist(self, key, list_):
        setlist(self, key, list_)
        _index_change(self, key, True)

    def hooked_setitem(self, key, value):
        setitem(self, key, value)
        _index_change(self, key, True)

    def hooked_pop(self, key):
        try:
            return pop(self, key)
        finally:
            _index_change(self, key, dict.__contains__(self, key))

    # deliberate: moto's key store keeps the sorted name index current (this module alone touches moto's internals)
    Store.setlist, Store.__setitem__, Store.pop = (  # type: ignore[method-assign]
        hooked_setlist, hooked_setitem, hooked_pop)


def names_after(bucket, prefix: str, after: str, limit: int) -> list[FakeKey]:
    """Up to ``limit`` live FakeKeys of ``bucket`` whose names start with ``prefix`` and sort after ``after``, in
    name order (what ListObjectsV2 with Prefix and StartAfter lists), found by bisection in a sorted index."""
    from moto.s3.models import FakeKey

    install_index()
    store, found = bucket.keys, list[FakeKey]()
    with _index_lock:
        names = store.__dict__.get(_INDEX)
        if names is None:
            names = store.__dict__[_INDEX] = sorted(dict.keys(store))
        i = bisect.bisect_right(names, after) if after >= prefix else bisect.bisect_left(names, prefix)
        while i < len(names) and len(found) < limit and names[i].startswith(prefix):
            versions = dict.get(store, names[i])
            key = versions[-1] if versions else None
            if isinstance(key, FakeKey) and not key.disposed:
                found.append(key)
            i += 1
    return found


# -- the rest of what the service takes from moto ------------------------------------------------------------------
def moto_apps():
    """moto's S3 application and its full dispatcher (for ``/moto-api/``, e.g. ``POST /moto-api/reset``)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return create_backend_app("s3"), DomainDispatcherApplication(create_backend_app)


def set_utcnow(now) -> None:
    """Make moto's S3 take ``now()`` (naive UTC) as the time it stamps objects with (:mod:`.s3clock`)."""
    import moto.s3.models

    moto.s3.models.utcnow = now


def backend_class():
    """moto's S3 backend class, whose methods :mod:`.writethrough` hooks."""
    from moto.s3.models import S3Backend

    return S3Backend


def invalid_bucket_name(name, problem: str):
    """moto's own S3 error, so it is answered as S3 does: 400, code InvalidBucketName, an XML body."""
    from moto.s3.exceptions import S3ClientError

    error = S3ClientError("InvalidBucketName", f"The specified bucket is not valid: the name {name!r} {problem}")
    # moto serializes extra attributes set on a ServiceException (as its own bucket errors set bucket_name)
    error.bucket_name = name  # type: ignore[attr-defined]
    return error


def missing_bucket():
    """The exception class moto raises for a bucket that does not exist (NoSuchBucket)."""
    from moto.s3.exceptions import MissingBucket

    return MissingBucket


def service_exception():
    """The base class of moto's errors (``.code``, ``.message``)."""
    from moto.core.exceptions import ServiceException

    return ServiceException


def missing() -> list[str]:
    """The names of :data:`RELIED_ON` the installed moto lacks ([] when every one is there).

    >>> missing()
    []
    """
    import importlib

    absent = []
    for name in RELIED_ON:
        module, _, path = name.partition(":")
        try:
            value = importlib.import_module(module)
            for part in path.split("."):
                value = getattr(value, part)
        except (ImportError, AttributeError):
            absent.append(name)
    return absent
