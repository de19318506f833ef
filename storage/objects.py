"""Object stores: where archived bytes live, chosen by URL.

Two backends implement one small protocol: a local directory and an S3 bucket
(SeaweedFS in tests, any S3 in production). Keys are relative, `/`-separated and
validated here once. Archived content is addressed by its SHA-256 (`content_key`).

Every call blocks; callers on an event loop run them in a thread.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Protocol, TypeVar, runtime_checkable
from urllib.parse import parse_qs, unquote, urlsplit

from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

__all__ = [
    "ObjectStore",
    "FilesystemStore",
    "S3Store",
    "StoreError",
    "StoreKeyError",
    "StoreURLError",
    "ObjectNotFound",
    "StoreUnavailable",
    "open_store",
    "content_key",
    "put_content",
    "validate_key",
]

# Bounded retries for transient failures: about 0.1 s, 0.2 s, 0.4 s ... capped at 5 s, jittered
# so that many workers hitting the same hiccup do not retry in lockstep.
RETRY_ATTEMPTS = 5
RETRY_WAIT = wait_random_exponential(multiplier=0.1, max=5)

# Above this a stream goes through boto3's managed (multipart) upload.
MULTIPART_THRESHOLD = 16 * 1024 * 1024

TEMP_PREFIX = ".tmp-"


class StoreError(Exception):
    """Base class for object store errors."""


class StoreKeyError(StoreError, ValueError):
    """A key that is not a safe relative `/`-separated path."""


class StoreURLError(StoreError, ValueError):
    """A store URL that names no known backend or lacks a required part."""


class ObjectNotFound(StoreError, LookupError):
    """The key does not exist in the store."""


class StoreUnavailable(StoreError):
    """A transient failure persisted through every retry."""


@runtime_checkable
class ObjectStore(Protocol):
    url: str

    def put(self, key: str, data: bytes | BinaryIO, *, content_type: str | None = None,
            durable: bool = True) -> None:
        """Store data at key, atomically. durable=False: a cache, which may skip flushing to disk."""

    def get(self, key: str) -> bytes: ...
    def open(self, key: str) -> BinaryIO: ...
    def exists(self, key: str) -> bool: ...
    def size(self, key: str) -> int | None: ...
    def delete(self, key: str) -> None: ...
    def keys(self, prefix: str = "") -> Iterator[str]: ...
    def uri(self, key: str) -> str: ...


# --- keys -------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def validate_key(key: str) -> str:
    """Return key unchanged if safe, else raise StoreKeyError saying why."""
    if not isinstance(key, str) or not key:
        raise StoreKeyError(f"object key must be a non-empty string, got {key!r}")
    if key.startswith("/"):
        raise StoreKeyError(f"object key {key!r} is absolute; keys are relative")
    if "\\" in key:
        raise StoreKeyError(f"object key {key!r} contains a backslash; use '/'")
    if _CONTROL.search(key):
        raise StoreKeyError(f"object key {key!r} contains a control character")
    for part in key.split("/"):
        if part in ("", ".", ".."):
            raise StoreKeyError(f"object key {key!r} has an empty, '.' or '..' segment")
        if part.startswith(TEMP_PREFIX):
            raise StoreKeyError(f"object key {key!r} uses the reserved prefix {TEMP_PREFIX!r}")
    return key


def content_key(sha256_hex: str) -> str:
    """The key for content with this SHA-256: sha256/ab/cd/<hex>."""
    if not isinstance(sha256_hex, str) or not _SHA256.fullmatch(sha256_hex):
        raise StoreKeyError(f"not a lowercase hex SHA-256: {sha256_hex!r}")
    return f"sha256/{sha256_hex[:2]}/{sha256_hex[2:4]}/{sha256_hex}"


def put_content(store: ObjectStore, data: bytes, *, content_type: str | None = None) -> tuple[str, str, int]:
    """Store data under its content key; (key, sha256, size). No write when already present."""
    sha = hashlib.sha256(data).hexdigest()
    key = content_key(sha)
    # Same key means same hash; the size check only guards against a truncated earlier write.
    if store.size(key) != len(data):
        store.put(key, data, content_type=content_type)
    return key, sha, len(data)


# --- retries ----------------------------------------------------------------------------

T = TypeVar("T")


def _retrying(call: Callable[[], T], *, transient: Callable[[BaseException], bool], what: str) -> T:
    """Run call, retrying transient failures a bounded number of times.

    Permanent failures (missing object, permission, bad request) propagate at once.
    """
    try:
        for attempt in Retrying(
            stop=stop_after_attempt(RETRY_ATTEMPTS),
            wait=RETRY_WAIT,
            retry=retry_if_exception(transient),
        ):
            with attempt:
                return call()
    except RetryError as exc:
        last = exc.last_attempt.exception()
        raise StoreUnavailable(f"{what}: still failing after {RETRY_ATTEMPTS} attempts: {last}") from last
    raise AssertionError("unreachable")  # pragma: no cover


def _rewindable(data: bytes | BinaryIO) -> "_Window":
    """A file object every retry can read again from the start."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return _Window(io.BytesIO(bytes(data)), 0)
    try:
        start = data.tell()
        data.seek(start)
        return _Window(data, start)
    except (AttributeError, OSError, io.UnsupportedOperation):
        spool = tempfile.SpooledTemporaryFile(max_size=MULTIPART_THRESHOLD)
        while chunk := data.read(1 << 20):
            spool.write(chunk)
        return _Window(spool, 0)


class _Window:
    """A seekable stream whose 'start' is where the caller left it, so retries rewind there."""

    def __init__(self, raw: BinaryIO, start: int):
        self.raw, self.start = raw, start

    def read(self, n: int = -1) -> bytes:
        return self.raw.read(n)

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 0:
            return self.raw.seek(self.start + offset) - self.start
        return self.raw.seek(offset, whence) - self.start

    def tell(self) -> int:
        return self.raw.tell() - self.start

    def length(self) -> int:
        here = self.raw.tell()
        end = self.raw.seek(0, os.SEEK_END)
        self.raw.seek(here)
        return end - self.start

    def close(self) -> None:
        """Not ours to close: boto3 closes what it uploads, and the caller still owns the stream."""


# --- filesystem -------------------------------------------------------------------------

# Filesystem errors worth a second try; everything else (ENOENT, EACCES, ENOSPC...) is permanent.
_FS_TRANSIENT = {errno.EAGAIN, errno.EINTR, errno.EBUSY, errno.ETIMEDOUT, errno.ESTALE}


def _fs_transient(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in _FS_TRANSIENT


class FilesystemStore:
    """Objects as files under root. A put is atomic: temp file, fsync, rename."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).expanduser().resolve()
        self.url = self.root.as_uri()

    def __repr__(self) -> str:
        return f"FilesystemStore({str(self.root)!r})"

    def check(self) -> None:
        """Fail fast, before a crawl, when objects could not be written here."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"object store {self.root} cannot be created: {exc.strerror or exc}") from None
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StoreUnavailable(f"object store {self.root} is not writable")

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def put(self, key: str, data: bytes | BinaryIO, *, content_type: str | None = None,
            durable: bool = True) -> None:
        path = self._path(key)
        body = _rewindable(data)

        def write() -> None:
            body.seek(0)
            path.parent.mkdir(parents=True, exist_ok=True)
            # Same directory as the target, so os.replace is a rename on one filesystem.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX)
            try:
                with os.fdopen(fd, "wb") as out:
                    while chunk := body.read(1 << 20):
                        out.write(chunk)
                    out.flush()
                    if durable:
                        os.fsync(out.fileno())
                os.replace(tmp, path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
                raise
            if durable:
                _fsync_dir(path.parent)

        _retrying(write, transient=_fs_transient, what=f"put {self.uri(key)}")

    def get(self, key: str) -> bytes:
        with self.open(key) as f:
            return f.read()

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return _retrying(lambda: open(path, "rb"), transient=_fs_transient, what=f"open {self.uri(key)}")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(f"no object {key!r} in {self.url}") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int | None:
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return st.st_size if path.is_file() else None

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass

    def keys(self, prefix: str = "") -> Iterator[str]:
        if not self.root.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            for name in sorted(filenames):
                if name.startswith(TEMP_PREFIX):
                    continue  # an in-flight or abandoned write, never an object
                key = name if rel_dir == "." else f"{rel_dir}/{name}"
                if key.startswith(prefix):
                    yield key

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()


def _fsync_dir(path: Path) -> None:
    """Persist the rename itself; not every platform lets a directory be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- S3 ---------------------------------------------------------------------------------

_S3_THROTTLE = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
    "SlowDown", "RequestLimitExceeded", "TooManyRequestsException", "RequestTimeout",
    "InternalError", "ServiceUnavailable",
}


def _s3_transient(exc: BaseException) -> bool:
    from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError, HTTPClientError

    if isinstance(exc, (BotoConnectionError, HTTPClientError)):
        return True  # refused, reset, timed out: the server may be back in a moment
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return status >= 500 or status == 429 or err.get("Code") in _S3_THROTTLE
    return False


def _s3_missing(exc: BaseException) -> bool:
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return False
    code = exc.response.get("Error", {}).get("Code")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in ("404", "NoSuchKey", "NotFound") or status == 404


class S3Store:
    """Objects in an S3 bucket under a key prefix. An S3 PUT is atomic by itself."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        client=None,
        create_bucket: bool = False,
    ):
        if not bucket:
            raise StoreURLError("S3 store needs a bucket name")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            validate_key(self.prefix)
        self.endpoint_url = endpoint_url
        self.region = region
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region,
                # One attempt per call: the retry policy is ours (_retrying), not botocore's,
                # so that it is the same for both backends and bounded in one place.
                config=Config(
                    retries={"total_max_attempts": 1, "mode": "standard"},
                    s3={"addressing_style": "path"} if endpoint_url else None,
                    connect_timeout=10,
                    read_timeout=60,
                ),
            )
        self.client = client
        query = "&".join(
            f"{k}={v}" for k, v in (("endpoint", endpoint_url), ("region", region)) if v
        )
        self.url = f"s3://{bucket}/{self.prefix}" + (f"?{query}" if query else "")
        if create_bucket:
            self.ensure_bucket()

    def __repr__(self) -> str:
        return f"S3Store({self.url!r})"

    def _key(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        return _retrying(fn, transient=_s3_transient, what=f"{what} in {self.url}")

    def check(self) -> None:
        """Fail fast, before a crawl, when the bucket cannot be reached."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._call("head bucket", lambda: self.client.head_bucket(Bucket=self.bucket))
        except ClientError as exc:
            raise StoreUnavailable(f"bucket {self.bucket!r}: {exc.response.get('Error', {}).get('Code', exc)}") from None
        except BotoCoreError as exc:
            raise StoreUnavailable(f"bucket {self.bucket!r}: {exc}") from None

    def ensure_bucket(self) -> None:
        """Create the bucket unless it exists already."""
        from botocore.exceptions import ClientError

        try:
            self._call("head bucket", lambda: self.client.head_bucket(Bucket=self.bucket))
            return
        except ClientError as exc:
            if not _s3_missing(exc):
                raise
        try:
            self._call("create bucket", lambda: self.client.create_bucket(Bucket=self.bucket))
        except ClientError as exc:
            # Another worker created it between our HEAD and our CREATE.
            if exc.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    def put(self, key: str, data: bytes | BinaryIO, *, content_type: str | None = None,
            durable: bool = True) -> None:
        full = self._key(key)     # S3 acknowledges a PUT once it is stored: always durable
        body = _rewindable(data)
        extra = {"ContentType": content_type} if content_type else {}

        def upload() -> None:
            body.seek(0)
            if body.length() < MULTIPART_THRESHOLD:
                self.client.put_object(Bucket=self.bucket, Key=full, Body=body.read(), **extra)
            else:
                from boto3.s3.transfer import TransferConfig

                self.client.upload_fileobj(
                    body, self.bucket, full, ExtraArgs=extra or None,
                    Config=TransferConfig(multipart_threshold=MULTIPART_THRESHOLD),
                )

        self._call(f"put {key!r}", upload)

    def get(self, key: str) -> bytes:
        def read() -> bytes:
            return self._get_object(key)["Body"].read()

        return self._call(f"get {key!r}", read)

    def open(self, key: str) -> BinaryIO:
        return self._call(f"open {key!r}", lambda: self._get_object(key)["Body"])

    def _get_object(self, key: str) -> dict:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            if _s3_missing(exc):
                raise ObjectNotFound(f"no object {key!r} in {self.url}") from None
            raise

    def size(self, key: str) -> int | None:
        full = self._key(key)

        def head() -> int | None:
            try:
                return self.client.head_object(Bucket=self.bucket, Key=full)["ContentLength"]
            except Exception as exc:
                if _s3_missing(exc):
                    return None
                raise

        return self._call(f"head {key!r}", head)

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def delete(self, key: str) -> None:
        full = self._key(key)
        self._call(f"delete {key!r}", lambda: self.client.delete_object(Bucket=self.bucket, Key=full))

    def keys(self, prefix: str = "") -> Iterator[str]:
        base = f"{self.prefix}/" if self.prefix else ""
        token: str | None = None
        while True:
            kwargs = {"Bucket": self.bucket, "Prefix": base + prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("list", lambda: self.client.list_objects_v2(**kwargs))
            for obj in page.get("Contents", []):
                yield obj["Key"][len(base):]
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"


# --- choosing a backend -----------------------------------------------------------------


def _open_file(url: str, parts) -> FilesystemStore:
    if parts.netloc not in ("", "localhost"):
        raise StoreURLError(f"file store URL {url!r} names a host; use file:///absolute/path")
    if not parts.path:
        raise StoreURLError(f"file store URL {url!r} has no path")
    return FilesystemStore(unquote(parts.path))


def _open_s3(url: str, parts) -> S3Store:
    if not parts.netloc:
        raise StoreURLError(f"S3 store URL {url!r} has no bucket; use s3://bucket/prefix")
    query = parse_qs(parts.query)
    known = {"endpoint", "region", "create"}
    if unknown := set(query) - known:
        raise StoreURLError(f"S3 store URL {url!r} has unknown parameters {sorted(unknown)}; known: {sorted(known)}")
    endpoint = query.get("endpoint", [None])[-1]
    if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
        raise StoreURLError(f"S3 store URL {url!r}: endpoint must be http(s)://host:port")
    create = query.get("create", ["false"])[-1].lower() in ("1", "true", "yes")
    prefix = unquote(parts.path).strip("/")
    try:
        return S3Store(
            parts.netloc, prefix, endpoint_url=endpoint, region=query.get("region", [None])[-1],
            create_bucket=create,
        )
    except StoreKeyError as exc:
        raise StoreURLError(f"S3 store URL {url!r} has a bad prefix: {exc}") from None


# Scheme -> opener. A bare path (no scheme) is a directory.
OPENERS: dict[str, Callable[[str, object], ObjectStore]] = {
    "file": _open_file,
    "s3": _open_s3,
}


def open_store(url: str) -> ObjectStore:
    """Open the store a URL names: file:///abs/path, a bare path, or s3://bucket/prefix?endpoint=..&region=.."""
    if not isinstance(url, str) or not url.strip():
        raise StoreURLError(f"store URL must be a non-empty string, got {url!r}")
    parts = urlsplit(url)
    if parts.scheme == "":
        return FilesystemStore(url)
    opener = OPENERS.get(parts.scheme)
    if opener is None:
        raise StoreURLError(f"unknown store URL scheme {parts.scheme!r} in {url!r}; use one of {sorted(OPENERS)} or a path")
    return opener(url, parts)
