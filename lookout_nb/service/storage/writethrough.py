"""Write-through S3: moto answers a request, the object store saves what it changed, then the answer goes out.

:class:`DurableS3` wraps moto's S3 WSGI application. While it handles a PUT, POST or DELETE, small hooks on
moto's backend methods note which buckets and keys the request touched: ``create_bucket``, ``delete_bucket``,
``put_object`` (also reached by CopyObject, CompleteMultipartUpload and browser POST uploads),
``delete_object`` (also reached by DeleteObjects), ``put_object_tagging``, and the multipart uploads' methods
(create, upload part, upload part copy, abort, complete: :mod:`.keep.uploads`). Once moto has built its answer,
and before a byte of it is sent, :meth:`.objects.ObjectStore.sync` saves the current state of those buckets and
keys (read after the whole request, so metadata and tags set after ``put_object`` are included).

Why hooks and not parsing the request: the hooks learn exactly what moto changed, whatever the addressing
(path or virtual host), the operation (a copy, a multipart completion, a batch delete) or moto's URL rules; they
only record names, do nothing outside a request of a lookout_nb endpoint, and read moto's state through
:mod:`.moto`. What can break with a moto upgrade is the method names and their argument names (checked when
the hooks are installed) and the attributes in :mod:`.moto`.

When the disk refuses (full, read-only), the request answers S3's ``500 InternalError`` naming the cause,
moto is given back the saved state of what the request changed, and no file is left behind. The hooks also
refuse what S3 refuses: a bucket name outside S3's rules (:mod:`.bucketnames`) gets ``400
InvalidBucketName`` at CreateBucket, and at any write to a bucket of such a name that does not exist.

>>> app = DurableS3(moto_s3_app, ObjectStore(state_dir).open())   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import logging
import uuid
from xml.sax.saxutils import escape

from .bucketnames import bucket_name_problem
from .diskbody import DamagedObject
from .keep import uploads
from .moto import arriving, motos3, multipart, untracked
from .objects import PersistError
from .streaming import streamed_get, wanted

log = logging.getLogger(__name__)

#: Methods that change S3 state.
MUTATING = frozenset({"PUT", "POST", "DELETE"})

_current: contextvars.ContextVar = contextvars.ContextVar("lookout_nb_s3_changes", default=None)


class Changes:
    """The buckets and keys one request changed, each with the object moto held after the change."""

    def __init__(self):
        self.buckets: dict = {}
        self.keys: dict = {}
        self.parts: dict = {}  # (backend, bucket, upload id, part number or None for the upload itself)

    def __bool__(self) -> bool:
        return bool(self.buckets or self.keys or self.parts)

    def note_bucket(self, backend, name) -> None:
        self.buckets[(id(backend), name)] = (backend, name, backend.buckets.get(name))

    def note_key(self, backend, bucket, key) -> None:
        self.keys[(id(backend), bucket, key)] = (backend, bucket, key, motos3.current(backend, bucket, key))

    def note_part(self, backend, bucket, upload_id, number=None) -> None:
        if upload_id is not None:
            self.parts[(id(backend), bucket, upload_id, number)] = (backend, bucket, upload_id, number)


# -- the hooks on moto's backend -------------------------------------------------------------------------------
def _hook(method, note):
    """Wrap a backend method: inside a tracked request, ``note(changes, backend, arguments)`` after the call."""
    names = list(inspect.signature(method).parameters)  # positional names, in order (these take no *args)

    @functools.wraps(method)
    def hooked(self, *args, **kwargs):
        changes = _current.get()
        if changes is None:
            return method(self, *args, **kwargs)
        arguments = {**dict(zip(names, (self, *args))), **kwargs}  # as signature.bind would name them, cheaper
        try:
            arguments["returned"] = method(self, *args, **kwargs)
            return arguments["returned"]
        finally:
            note(changes, self, arguments)

    hooked.__lookout_nb_hook__ = True
    return hooked


def _check_new_bucket(method):
    """create_bucket refuses a name S3 refuses, before moto creates anything."""

    @functools.wraps(method)
    def checked(self, bucket_name, *args, **kwargs):
        if _current.get() is not None:
            problem = bucket_name_problem(bucket_name)
            if problem:
                raise motos3.invalid_bucket_name(bucket_name, problem)
        return method(self, bucket_name, *args, **kwargs)

    return checked


def _check_missing_bucket(method):
    """get_bucket of a missing bucket whose name S3 refuses: InvalidBucketName (S3's answer), not NoSuchBucket."""
    missing_bucket = motos3.missing_bucket()

    @functools.wraps(method)
    def checked(self, bucket_name, *args, **kwargs):
        try:
            return method(self, bucket_name, *args, **kwargs)
        except missing_bucket:
            problem = bucket_name_problem(bucket_name) if _current.get() is not None else None
            if problem:
                raise motos3.invalid_bucket_name(bucket_name, problem) from None
            raise

    return checked


def _note_named_key(c, backend, a):
    c.note_key(backend, a["bucket_name"], a["key_name"])


def _note_bucket(c, backend, a):
    c.note_bucket(backend, a["bucket_name"])


#: The backend methods that change a bucket's settings (saved with the bucket) or an object's ACL, lock or tags.
_BUCKET_SETTERS = (
    "put_bucket_versioning", "put_bucket_tagging", "delete_bucket_tagging", "put_bucket_policy", "delete_bucket_policy",
    "put_bucket_cors", "delete_bucket_cors", "put_bucket_lifecycle", "delete_bucket_lifecycle", "put_bucket_encryption",
    "delete_bucket_encryption", "put_bucket_acl", "put_public_access_block", "delete_public_access_block",
    "put_bucket_website", "delete_bucket_website", "put_bucket_logging", "put_bucket_accelerate_configuration",
    "put_bucket_ownership_controls", "delete_bucket_ownership_controls", "put_object_lock_configuration",
)
_KEY_SETTERS = ("put_object_acl", "delete_object_tagging", "put_object_retention", "put_object_legal_hold")

#: backend method -> (the arguments it must take, what to note after it ran)
_NOTES = {
    "put_object": (("bucket_name", "key_name"), _note_named_key),
    "delete_object": (("bucket_name", "key_name"), _note_named_key),
    "put_object_tagging": (("key",), lambda c, backend, a: c.note_key(backend, a["key"].bucket_name, a["key"].name)),
    "create_bucket": (("bucket_name",), lambda c, backend, a: c.note_bucket(backend, a["bucket_name"])),
    "delete_bucket": (("bucket_name",), _note_bucket),
    **{name: (("bucket_name",), _note_bucket) for name in _BUCKET_SETTERS},
    **{name: (("bucket_name", "key_name"), _note_named_key) for name in _KEY_SETTERS},
    "create_multipart_upload": (("bucket_name",), lambda c, backend, a: c.note_part(
        backend, a["bucket_name"], getattr(a.get("returned"), "id", None))),
    "upload_part": (("bucket_name", "multipart_id", "part_id"), lambda c, backend, a: c.note_part(
        backend, a["bucket_name"], a["multipart_id"], a["part_id"])),
    "upload_part_copy": (("dest_bucket_name", "multipart_id", "part_id"), lambda c, backend, a: c.note_part(
        backend, a["dest_bucket_name"], a["multipart_id"], a["part_id"])),
    **{name: (("bucket_name", "multipart_id"), lambda c, backend, a: c.note_part(
        backend, a["bucket_name"], a["multipart_id"])) for name in ("abort_multipart_upload",
                                                                   "complete_multipart_upload")},
}


@functools.lru_cache(maxsize=1)
def install_hooks() -> None:
    """Hook moto's S3 backend class (once per process); a RuntimeError names what a moto upgrade changed."""
    S3Backend = motos3.backend_class()
    multipart.install_multipart_on_disk()  # first: its completion is hooked
    motos3.install_listed_copy()
    untracked.install()
    for name, (arguments, note) in _NOTES.items():
        method = getattr(S3Backend, name, None)
        missing = [a for a in arguments if method is None or a not in inspect.signature(method).parameters]
        if missing:
            raise RuntimeError(f"moto's S3Backend.{name} no longer takes {', '.join(missing)}; "
                               "lookout_nb.service.storage.writethrough needs updating")
        if getattr(method, "__lookout_nb_hook__", False):
            continue
        if name == "create_bucket":
            method = _check_new_bucket(method)
        setattr(S3Backend, name, _hook(method, note))
    S3Backend.get_bucket = _check_missing_bucket(S3Backend.get_bucket)
    arriving.install_put_on_disk()  # after the hooks: it calls the hooked put_object and upload_part


# -- the WSGI wrapper ------------------------------------------------------------------------------------------
def s3_error(start_response, status: str, code: str, message: str) -> list[bytes]:
    """An S3 XML error response."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<RequestId>{uuid.uuid4().hex}</RequestId></Error>"
    ).encode()
    start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


@contextlib.contextmanager
def recording():
    """Note what moto's backend changes inside the block (also the bucket-name checks apply); yields Changes."""
    changes = Changes()
    token = _current.set(changes)
    try:
        yield changes
    finally:
        _current.reset(token)


def save(store, changes: Changes) -> None:
    """Save ``changes`` into ``store``; when the disk refuses, give moto back the saved state of what they
    changed (unless a later change replaced it) and raise :class:`.objects.PersistError`."""
    if store is None or not changes:
        return
    keys = [(b, bucket, key) for b, bucket, key, _ in changes.keys.values()]
    buckets = [(b, name) for b, name, _ in changes.buckets.values()]
    try:
        store.sync(buckets=buckets, keys=keys, parts=list(changes.parts.values()))
    except PersistError as err:
        log.error("lookout_nb.service: %s", err)
        _give_back(store, changes)
        raise


def _give_back(store, changes: Changes) -> None:
    try:
        for backend, bucket, key, after in changes.keys.values():
            if motos3.current(backend, bucket, key) is after:
                store.restore_key(backend, bucket, key)
        for backend, name, after in changes.buckets.values():
            if backend.buckets.get(name) is after:
                store.restore_bucket(backend, name)
        for backend, bucket, upload_id in {(b, bucket, u) for b, bucket, u, _ in changes.parts.values()}:
            uploads.give_back(store, backend, bucket, upload_id)
    except Exception:
        log.exception("lookout_nb.service: could not give moto back the saved state after a failed save")


@contextlib.contextmanager
def durable(store):
    """Writes made in-process, straight into moto's backend (not through HTTP), saved like a request's: at the
    end of the block, or :class:`.objects.PersistError` (and moto given back the saved state).

    >>> with durable(endpoint.objects):                                    # doctest: +SKIP
    ...     motos3.backend_of().put_object("lookout-demo", "out/results.jsonl", body)
    """
    with recording() as changes:
        try:
            yield changes
        except BaseException:
            _save_quietly(store, changes)
            raise
    save(store, changes)


def _save_quietly(store, changes: Changes) -> None:
    """After a failure inside moto (which may have changed memory already): keep the disk in step if it can."""
    try:
        save(store, changes)
    except PersistError:
        pass


class DurableS3:
    """WSGI: moto's S3 application whose acknowledged changes are on disk first (``store=None``: memory only,
    still refusing the bucket names S3 refuses)."""

    def __init__(self, app, store=None):
        install_hooks()
        self.app = app
        self.store = store

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") not in MUTATING:
            streamed = streamed_get(self.app, environ, start_response, s3_error) if wanted(environ) else None
            return streamed if streamed is not None else self._read(environ, start_response)
        if self.store is not None and not self.store.is_open:
            return s3_error(start_response, "503 Service Unavailable", "ServiceUnavailable",
                            "The endpoint is starting (its saved objects are not loaded yet); retry in a moment")
        answer, body = [], []

        def capture(status, headers, exc_info=None):
            answer[:] = [status, headers]
            return body.append

        with recording() as changes:
            try:
                result = self.app(environ, capture)
                try:
                    body.extend(result)
                finally:
                    getattr(result, "close", lambda: None)()
            except BaseException:
                _save_quietly(self.store, changes)
                raise
        try:
            save(self.store, changes)
        except PersistError as err:
            return s3_error(start_response, "500 Internal Server Error", "InternalError",
                            f"The embedded endpoint did not make this change: {err}")
        start_response(*answer)
        return body

    def _read(self, environ, start_response):
        """A request moto answers itself; a damaged object file it reads answers S3's 500 naming the file."""
        try:
            if self.store is not None and uploads.is_listing(environ):  # each upload's Initiated, as saved
                return uploads.stamped_listing(self.app, environ, start_response, self.store)
            return self.app(environ, start_response)
        except DamagedObject as err:
            return s3_error(start_response, "500 Internal Server Error", "InternalError",
                            f"An object file cannot be read: {err}; the other objects serve (lookout-nb fsck lists "
                            "every damaged one)")
