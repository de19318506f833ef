"""The WARC spool: where a WARC file is built before it is uploaded, and how the files of a
process that died are recovered.

Why a spool in the data directory: a WARC file grows for a whole crawl (up to 256 MB) before it is
uploaded, and captures in the catalogue name records in it (warc_key, warc_offset) from the
moment each is written. In the system temp directory such a file was lost with its process
(SIGKILL, a second Ctrl-C, a reboot clearing /tmp) and the catalogue pointed at keys that never
reached the store. Kept next to the archive, under a name that says which key it becomes, the
next process can finish the upload: the write-ahead-log pattern, the spool being the log.

Layout (`spool_dir_for`): one directory per object store, so a file can never be recovered into
the wrong store: `<root>/<store name>-<8 hex of the store's identity>/`, the root being the
directory beside a filesystem store (`data/objects` -> `data/spool/`) unless given (the crawler
passes `NIANBAO_SPOOL`, or the data directory for an S3 store: crawler/env.py). In it one file per
WARC, named by its store key %-encoded (`warc%2F<site>%2F<run>%2F<stamp>-00001.warc.gz`): the
key, hence site and run, is read back from the name alone, no sidecar to lose.

Ownership (the lock-file pattern of mail spools and package managers): the writing process holds
an flock on its open spool file. The kernel drops it when the process dies in any way, so a
file nobody holds a lock on belongs to a dead process, and a recovery never touches a live file.
A new file is created under a dot-name, locked, then linked to its real name, so that no
recovery can see it unlocked.
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable
from urllib.parse import parse_qs, quote, unquote, urlsplit

log = logging.getLogger(__name__)

__all__ = ["SpoolFile", "GroupSync", "RecoveryResult", "spool_dir_for", "spool_name", "key_from_spool_name",
           "complete_length", "recover_spool", "SPOOL_SUFFIX"]

SPOOL_SUFFIX = ".warc.gz"
_NEW_PREFIX = ".new-"          # a file being created: not yet locked, never recovered


# --- naming ------------------------------------------------------------------------------

def spool_name(key: str) -> str:
    """The spool file name of a store key: the key %-encoded, `/` included (reversible)."""
    return quote(key, safe="")


def key_from_spool_name(name: str) -> str | None:
    """The store key a spool file becomes; None for anything else found in a spool directory."""
    if name.startswith(".") or not name.endswith(SPOOL_SUFFIX):
        return None
    key = unquote(name)
    return key if key.startswith("warc/") and spool_name(key) == name else None


def spool_dir_for(store_url: str, root: str | os.PathLike[str] | None = None) -> Path:
    """The spool directory of the store at store_url (file:///..., /path, s3://bucket/prefix?...).

    root None: beside a filesystem store (its parent's `spool/`); a store elsewhere (S3) spools
    under ./data/spool, the default data directory, unless a root is given.
    """
    parts = urlsplit(store_url)
    if parts.scheme in ("", "file"):
        path = Path(unquote(parts.path) if parts.scheme else store_url).expanduser().resolve()
        identity, slug = str(path), path.name or "store"
        base = Path(root) if root is not None else path.parent / "spool"
    else:
        prefix = parts.path.strip("/")
        endpoint = (parse_qs(parts.query).get("endpoint") or [""])[0].rstrip("/")
        identity = f"{parts.scheme}://{parts.netloc}/{prefix}?{endpoint}"
        slug = "-".join(p for p in (parts.scheme, parts.netloc, prefix.replace("/", "-")) if p)
        base = Path(root) if root is not None else Path("data", "spool")
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:8]
    return Path(base).resolve() / f"{slug}-{digest}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- the writer's side -------------------------------------------------------------------

class SpoolFile:
    """A spool file being written, locked by this process until `release` or `discard`."""

    def __init__(self, spool_dir: str | os.PathLike[str], key: str):
        self.dir = Path(spool_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.key = key
        self.path = self.dir / spool_name(key)
        tmp = self.dir / f"{_NEW_PREFIX}{os.getpid()}-{id(self):x}"
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.link(tmp, self.path)            # fails if the name exists: never two owners
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        os.unlink(tmp)
        _fsync_dir(self.dir)                   # the name survives a power loss, like its records
        self.fh: BinaryIO = os.fdopen(fd, "w+b")

    def sync(self) -> None:
        self.fh.flush()
        os.fsync(self.fh.fileno())

    def release(self) -> None:
        """Close and unlock, leaving the file for a recovery (its upload failed)."""
        if not self.fh.closed:
            self.fh.close()

    def discard(self) -> None:
        """Uploaded: remove the file, then unlock."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        self.release()


class GroupSync:
    """Records made durable in groups: one thread fsyncs whatever has been written so far for
    every waiter at once, the group commit of database write-ahead logs. A fetch waits for its
    record's fsync (so a capture row never names a record a power loss would take back) while
    the crawl goes on, and twenty responses arriving together cost one fsync, not twenty.

    lock is the writer's: it guards current(), which gives (key, file object) of the file being
    written or None. A record in any other file is durable already (finished files are fsynced
    before their upload).
    """

    def __init__(self, lock: threading.Lock, current: Callable[[], "tuple[str, BinaryIO] | None"], *,
                 name: str = "warc-sync"):
        self._lock = lock
        self._wake = threading.Condition(lock)
        self._current = current
        self._synced: tuple[str, int] = ("", 0)           # (key, bytes on disk) of the current file
        self._waiters: list[tuple[str, int, Callable[[Exception | None], None]]] = []
        self._thread: threading.Thread | None = None
        self._closed = False
        self.name = name

    def _durable(self, key: str, end: int) -> bool:
        current = self._current()
        return current is None or current[0] != key or (self._synced[0] == key and self._synced[1] >= end)

    def when_durable(self, key: str, end: int, callback: Callable[[Exception | None], None]) -> None:
        """callback(None) once bytes [0, end) of key are on disk, callback(error) if the fsync failed."""
        with self._lock:
            if not self._durable(key, end):
                self._waiters.append((key, end, callback))
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, daemon=True, name=self.name)
                    self._thread.start()
                self._wake.notify()
                return
        callback(None)

    def wait(self, key: str, end: int) -> None:
        done = threading.Event()
        errors: list[Exception] = []
        self.when_durable(key, end, lambda error: (error and errors.append(error), done.set()))
        done.wait()
        if errors:
            raise errors[0]

    def close(self) -> None:
        """Called with the lock held, once the writer has no current file: every waiter is released."""
        self._closed = True
        self._wake.notify_all()

    def _loop(self) -> None:
        while True:
            with self._lock:
                while not self._waiters and not self._closed:
                    self._wake.wait()
                if not self._waiters:
                    self._thread = None
                    return
                current, fd, end = self._current(), None, 0
                if current is not None:
                    current[1].flush()
                    # A duplicate: the writer may close (roll) the file while this one syncs.
                    fd, end = os.dup(current[1].fileno()), current[1].tell()
            error = None
            if fd is not None:
                try:
                    os.fdatasync(fd)
                except OSError as exc:
                    error = exc
                finally:
                    os.close(fd)
            with self._lock:
                if current is not None and error is None:
                    self._synced = (current[0], end)
                ready = [w for w in self._waiters if error is not None or self._durable(w[0], w[1])]
                self._waiters = [w for w in self._waiters if w not in ready]
            for _, _, callback in ready:
                callback(error)


# --- recovery ----------------------------------------------------------------------------

def complete_length(fh: BinaryIO) -> int:
    """Bytes of fh up to the end of its last complete gzip member (one member per WARC record).

    A process killed mid-write leaves a torn last member (or, after a power loss, zeroes):
    everything from there on is cut. zlib checks each member's CRC and length at its end.
    Read in 64 KiB pieces, their inflated output dropped at once: deflate expands at most
    about 1000:1, so a member of zeroes costs at most some 64 MB at a time.
    """
    fh.seek(0)
    good = 0            # end of the last complete member
    fed = 0             # bytes of the current member consumed so far
    d = zlib.decompressobj(zlib.MAX_WBITS | 16)
    chunk = b""
    while True:
        if not chunk:
            chunk = fh.read(1 << 16)
            if not chunk:
                return good
        try:
            d.decompress(chunk)
        except zlib.error:
            return good
        if not d.eof:
            fed += len(chunk)
            chunk = b""
            continue
        rest = d.unused_data
        good += fed + len(chunk) - len(rest)
        fed = 0
        chunk = rest
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)


@dataclass
class RecoveryResult:
    uploaded: list[str] = field(default_factory=list)      # keys now in the store
    cut: dict[str, int] = field(default_factory=dict)      # key -> torn bytes cut from its end
    already: list[str] = field(default_factory=list)       # in the store already: spool removed
    empty: list[str] = field(default_factory=list)         # not one complete record: removed
    busy: list[str] = field(default_factory=list)          # held by a live process: left alone
    failed: dict[str, str] = field(default_factory=dict)   # key -> one-line error; file kept

    def __bool__(self) -> bool:
        return bool(self.uploaded or self.already or self.empty or self.failed)


def recover_spool(store, spool_dir: str | os.PathLike[str]) -> RecoveryResult:
    """Upload every WARC file a dead process left in spool_dir to its key, then remove it.

    Files a live process holds (its flock) are left alone. A torn last record is cut at the last
    complete one: a catalogue row only ever names a record that was fsynced before the row was
    written (crawler/warcmiddleware.py), so every named record survives. A failed upload (store
    down) keeps the file for the next recovery and is reported as one line, never raised.
    """
    result = RecoveryResult()
    directory = Path(spool_dir)
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return result
    for name in names:
        key = key_from_spool_name(name)
        if key is None:
            continue
        try:
            _recover_one(store, directory / name, key, result)
        except Exception as exc:      # the store down, a bad key, a disk error: keep the file
            result.failed[key] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    for key, error in result.failed.items():
        log.error("WARC %s not recovered, kept in %s for the next start: %s", key, directory, error)
    if result.uploaded or result.already:
        log.warning("recovered %d WARC file(s) left by a stopped crawl in %s (%d torn record(s) cut)",
                    len(result.uploaded) + len(result.already), directory, len(result.cut))
    return result


def _recover_one(store, path: Path, key: str, result: RecoveryResult) -> None:
    try:
        fh = open(path, "r+b")
    except FileNotFoundError:
        return                        # recovered by someone else meanwhile
    with fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            result.busy.append(key)   # a live writer (or another recovery) owns it
            return
        try:
            if os.fstat(fh.fileno()).st_ino != os.stat(path).st_ino:
                return                # removed (and maybe recreated) while we waited
        except FileNotFoundError:
            return
        size = os.fstat(fh.fileno()).st_size
        good = complete_length(fh)
        if good == 0:
            os.unlink(path)
            result.empty.append(key)
            return
        if good < size:
            fh.truncate(good)
            fh.flush()
            os.fsync(fh.fileno())
            result.cut[key] = size - good
        stored = store.size(key)
        if stored is not None and stored >= good:
            # The writer's own upload went through; it died before removing its copy.
            os.unlink(path)
            result.already.append(key)
            return
        fh.seek(0)
        store.put(key, fh, content_type="application/warc")
        os.unlink(path)
        result.uploaded.append(key)
