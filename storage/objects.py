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
    "StoreIntegrityError",
    "open_store",
    "content_key",
    "put_content",
    "hash_object",
    "hash_stream",
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


class StoreIntegrityError(StoreError):
    """Bytes written do not read back as the SHA-256 they were written under."""


@runtime_checkable
class ObjectStore(Protocol):
    url: str

    def put(self, key: str, data: bytes | BinaryIO, *, content_type: str | None = None,
            durable: bool = True, sha256: str | None = None) -> None:
        """Store data at key, atomically. durable=False: a cache, which may skip flushing to disk.
        sha256: verify what was stored reads back with this hash (StoreIntegrityError if not)."""

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
    """Store data under its content key; (key, sha256, size).

    An object already at the key is trusted only once it hashes right: a disk that rots a
    byte, or a restore from a damaged backup, leaves same-size wrong bytes under the key, and
    a size check would keep them forever. Those are replaced. Every write is verified by the
    store (`put(..., sha256=)`), so a key never answers with bytes other than its hash.
    """
    sha = hashlib.sha256(data).hexdigest()
    key = content_key(sha)
    if store.size(key) == len(data):
        try:
            if hash_object(store, key)[0] == sha:
                return key, sha, len(data)      # present and verified: no write
        except ObjectNotFound:
            pass                                # deleted since size(): write it
    store.put(key, data, content_type=content_type, sha256=sha)
    return key, sha, len(data)


def hash_stream(f: BinaryIO) -> tuple[str, int]:
    """(sha256 hex, size) of a stream read to its end in 1 MiB blocks; closes it."""
    h, n = hashlib.sha256(), 0
    try:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            n += len(chunk)
    finally:
        f.close()
    return h.hexdigest(), n


def hash_object(store: ObjectStore, key: str) -> tuple[str, int]:
    """(sha256 hex, size) of a stored object, streamed."""
    return hash_stream(store.open(key))


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
            durable: bool = True, sha256: str | None = None) -> None:
        """sha256: the temp file is read back from disk and hashed before the rename, so a
        failed verification leaves whatever the key held before (and no temp file)."""
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
                    if durable or sha256 is not None:
                        os.fsync(out.fileno())
                if sha256 is not None:
                    _verify_file(tmp, sha256, what=f"{key!r} in {self.url}")
                os.replace(tmp, path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
                raise
            if durable:
                _fsync_dir(path.parent)

        # A mismatch is retried like a transient failure: the next write may land well.
        _retrying(write, transient=lambda e: _fs_transient(e) or isinstance(e, StoreIntegrityError),
                  what=f"put {self.uri(key)}")

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


def _verify_file(path: str, sha256: str, *, what: str) -> None:
    """Hash a written file as the disk holds it: after the fsync its pages are clean, so dropping
    them from the page cache makes the read come from the device (a network or FUSE mount, or a
    failing disk, can hand back other bytes than the ones written; the cache never would)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        got, size = hash_stream(os.fdopen(fd, "rb", closefd=False))
    finally:
        os.close(fd)
    if got != sha256:
        raise StoreIntegrityError(f"{what} reads back as sha256 {got} ({size} bytes), not {sha256}")


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


# --- choosing a backend -----------------------------------------------------------------


def _open_file(url: str, parts) -> FilesystemStore:
    if parts.netloc not in ("", "localhost"):
        raise StoreURLError(f"file store URL {url!r} names a host; use file:///absolute/path")
    if not parts.path:
        raise StoreURLError(f"file store URL {url!r} has no path")
    return FilesystemStore(unquote(parts.path))


def _open_s3(url: str, parts):
    from storage.s3store import S3Store

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


def __getattr__(name: str):
    # The S3 backend lives in storage/s3store.py (imported on first use: boto3 is slow to load).
    if name == "S3Store":
        from storage.s3store import S3Store
        return S3Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
