"""Archiving one fetched file, and where that work runs.

`archive_item` is the work: the bytes into the object store, then, in one catalogue
transaction, the rows that name them (never a row before its object). It knows nothing of
Scrapy: it takes a `FileItem` and returns what it did.

`Archiver` is where it runs. By default in a process of its own (`NIANBAO_ARCHIVE_PROCESSES`,
1): hashing, fsync and SQL cost a few milliseconds of CPU per file, and in the crawl's own
process they would hold the interpreter lock the reactor needs to parse pages and keep
downloads flowing. In a second process they run on another core. One process serves every
site of a harvest, so a SQLite catalogue sees a single writer. `0` archives in threads of
the crawl's process instead (what a one-core machine would want).

Nothing is lost between the two: the pipeline waits for the archiving process to answer
for each file, errors come back as the same exceptions, and a crawl killed mid-run leaves
at most the files in flight unrecorded, which the resumed run fetches again.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pickle
import signal
import threading
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from crawler import analyses
from crawler.items import FileItem
from storage.catalogue import Catalogue
from storage.objects import StoreError, open_store, put_content

log = logging.getLogger(__name__)

# A batch sent to an archiving process: at most this many files, or this many bytes of them.
MAX_BATCH = 64
MAX_BATCH_BYTES = 16 * 1024 * 1024
# Files of a batch archived at once inside the process (their fsyncs overlap).
WORKER_THREADS = 8


class ArchiveError(Exception):
    """An item that cannot be archived as it is."""


@dataclass
class Outcome:
    """What archiving one file did: counters for the crawl's stats, and warnings to log."""
    stats: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n


def _publisher(publisher: dict | None) -> dict | None:
    """The attribution as the registry keeps it: names in the one normalised form (simplified,
    width-folded), since storage/ knows no character tables."""
    if not publisher:
        return None
    from crawler.chinese import normalise
    return {**publisher, **{k: normalise(publisher[k]) for k in ("name", "printed", "parent") if publisher.get(k)}}


def archive_item(store, catalogue: Catalogue, run_id: int, item: FileItem) -> Outcome:
    outcome = Outcome()
    if item.resumed:
        # Captured already by the run being resumed: only note the report as seen.
        if item.report is not None:
            catalogue.upsert_report(
                site_id=item.site_id, agency=item.report.agency, year=item.report.year,
                title=item.report.title, url=item.report.url, seen_at=item.fetched_at,
                publisher=_publisher(item.report.publisher))
        return outcome
    blob = None
    if item.unchanged and store.exists(item.unchanged["storage_key"]):
        # Revalidated with a 304: the archive already holds these bytes.
        key, sha, size = (item.unchanged["storage_key"], item.unchanged["sha256"], item.unchanged["size"])
    else:
        if item.unchanged and not item.body:
            raise ArchiveError(f"{item.url}: revalidated as unchanged but its archived object is gone; "
                               "it will be fetched in full next run")
        key, sha, size = _put(store, item)
        blob = dict(sha256=sha, size=size, storage_key=key, content_type=item.content_type)
    report = None
    if item.report is not None:
        report = dict(site_id=item.site_id, agency=item.report.agency, year=item.report.year,
                      title=item.report.title, url=item.report.url, seen_at=item.fetched_at,
                      publisher=_publisher(item.report.publisher))
    redirect_state = None
    if item.final_url != item.url:
        # Redirect targets (downfile.jsp -> /attach/...) are revalidated under their own URL.
        redirect_state = dict(url=item.final_url, site_id=item.site_id, etag=item.header("ETag"),
                              last_modified=item.header("Last-Modified"), sha256=sha,
                              last_status=item.status, last_fetched=item.fetched_at)
    # Blob, report, capture and URL state in one transaction: one commit per file, and
    # never a capture without its report, nor a report page without its files owed.
    capture_id, report_id = catalogue.archive(
        blob=blob, report=report, redirect_state=redirect_state, owes=item.owes, capture=dict(
            run_id=run_id, site_id=item.site_id, kind=item.kind,
            url=item.url, final_url=item.final_url, source_page=item.source_page, status=item.status,
            etag=item.header("ETag"), last_modified=item.header("Last-Modified"),
            content_type=item.content_type, filename=item.filename, fetched_at=item.fetched_at,
            sha256=sha, size=size, storage_key=key, rendered=item.rendered,
            browser_version=item.browser_version, is_report=item.is_report, headers=item.headers,
            warc_key=(item.warc or {}).get("key"), warc_offset=(item.warc or {}).get("offset"),
            warc_length=(item.warc or {}).get("length")))
    if item.analysis is not None:
        _keep_analysis(store, item, sha, outcome)
    for kind, (data, ctype) in item.derived.items():
        dkey, dsha, dsize = _put(store, item, data=data, content_type=ctype)
        catalogue.record_blob(sha256=dsha, size=dsize, storage_key=dkey, content_type=ctype)
        catalogue.add_capture(
            run_id=run_id, site_id=item.site_id, report_id=report_id, parent_id=capture_id,
            kind=kind, url=item.final_url, final_url=item.final_url, source_page=item.source_page,
            status=item.status, content_type=ctype, fetched_at=item.fetched_at, sha256=dsha,
            size=dsize, storage_key=dkey, rendered=True, browser_version=item.browser_version,
            is_report=False)
    outcome.count("nianbao/archived_files")
    outcome.count("nianbao/archived_bytes", size)
    return outcome


# OS errors of the store's disk by what they mean for the archive (errno names).
_DISK_ERRORS = {"ENOSPC": "disk_full", "EDQUOT": "disk_full", "EACCES": "store_permission",
                "EPERM": "store_permission", "EROFS": "store_read_only", "EIO": "store_io"}


class StoreWriteError(ArchiveError):
    """The store's disk refused the write (full, read-only, permissions): the file is owed."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind

    def __reduce__(self):
        return (StoreWriteError, (self.kind, str(self)))


def _put(store, item: FileItem, *, data: bytes | None = None, content_type: str | None = None):
    """put_content, with the disk's own failures (a full disk, a read-only mount) named by
    kind in one line instead of a traceback; nothing is half-written (objects are written to
    a temporary name and renamed), and the file is owed to the next run."""
    import errno

    try:
        return put_content(store, item.body if data is None else data,
                           content_type=item.content_type if data is None else content_type)
    except OSError as exc:
        name = errno.errorcode.get(exc.errno or 0, "EIO")
        kind = _DISK_ERRORS.get(name, "store_os_error")
        raise StoreWriteError(kind, f"{item.url}: the store could not write it ({kind}: "
                                    f"{exc.strerror or exc})") from None


def _keep_analysis(store, item: FileItem, sha: str, outcome: Outcome) -> None:
    """Store what the spider made of the page, for the next revalidation. A cache: a
    failure here costs the next run one parse, so it is counted and reported, not raised."""
    key = analyses.analysis_key(sha, item.final_url, item.content_type)
    try:
        store.put(key, item.analysis, content_type="application/json", durable=False)
        outcome.count("nianbao/analyses_kept")
    except (StoreError, OSError) as exc:     # OSError: the store's disk full, say
        outcome.warnings.append(f"{item.site_id}: analysis of {item.final_url} not kept: {exc}")
        outcome.count("nianbao/analyses_not_kept")


# --- where it runs -----------------------------------------------------------------------

class Archiver:
    """Runs archive_item for the pipelines of one crawl process, in threads or in worker
    processes. Shared by every site of a harvest: `acquire` and `release` count its users."""

    _shared: dict[int, "Archiver"] = {}
    _shared_lock = threading.Lock()

    def __init__(self, processes: int):
        self.processes = processes
        self.users = 0
        self._executor: Executor | None = None
        self._lock = threading.Lock()
        self._waiting: list = []          # (urls, (run_id, item), future), oldest first
        self._in_flight = 0
        self._tasks: set[asyncio.Task] = set()
        self._warmed = False

    @classmethod
    def acquire(cls, processes: int) -> "Archiver":
        with cls._shared_lock:
            archiver = cls._shared.setdefault(processes, cls(processes))
            archiver.users += 1
            return archiver

    def release(self) -> None:
        with self._shared_lock:
            self.users -= 1
            if self.users > 0:
                return
            self._shared.pop(self.processes, None)
        self.close()

    def _pool(self) -> Executor | None:
        if self.processes <= 0:
            return None       # the event loop's own thread pool
        with self._lock:
            if self._executor is None:
                # spawn, not fork: the crawl process runs threads (reactor, thread pools).
                self._executor = ProcessPoolExecutor(
                    max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_worker_init, initargs=(os.getpid(),))
            return self._executor

    async def run(self, store_url: str, catalogue_url: str, run_id: int, item: FileItem) -> Outcome:
        """archive_item(item) where this archiver runs it; its exceptions are raised here."""
        if self.processes <= 0:
            return await asyncio.to_thread(_archive_here, store_url, catalogue_url, run_id, item)
        future = asyncio.get_running_loop().create_future()
        self._waiting.append(((store_url, catalogue_url), (run_id, item), future))
        self._send()
        return await future

    def _send(self) -> None:
        """Hand the files waiting to the worker processes, a batch per open slot: files that
        arrive while a batch is out go in the next one, so a busy crawl archives in batches
        and a quiet one file by file, without waiting on a timer."""
        while self._waiting and self._in_flight < self.processes + 1:
            first = self._waiting[0][0]
            batch, rest, size = [], [], 0
            for entry in self._waiting:
                if entry[0] == first and len(batch) < MAX_BATCH and size < MAX_BATCH_BYTES:
                    batch.append(entry)
                    size += len(entry[1][1].body or b"")
                else:
                    rest.append(entry)
            self._waiting = rest
            self._in_flight += 1
            # The loop keeps only weak references to tasks: hold each until it is done.
            task = asyncio.ensure_future(self._run_batch(first, batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run_batch(self, urls: tuple[str, str], batch: list) -> None:
        loop = asyncio.get_running_loop()
        jobs = [job for _urls, job, _future in batch]
        try:
            pool = self._pool()
            try:
                sent = loop.run_in_executor(pool, _archive_batch_in_worker, *urls, jobs)
            except BrokenProcessPool:
                # The process died after the last batch (killed, out of memory): nothing of this
                # one was sent, so start another process for it.
                self._forget_pool(pool)
                log.warning("archiving process died; starting another")
                pool = self._pool()
                sent = loop.run_in_executor(pool, _archive_batch_in_worker, *urls, jobs)
            try:
                results = await sent
            except BrokenProcessPool:
                # It died with these files in hand: some may be recorded, some not. Sending them
                # again could record one twice, so they fail (the run is then incomplete and
                # its next run fetches them again); the next batch gets a new process.
                self._forget_pool(pool)
                results = [ArchiveError("the archiving process died while archiving it; "
                                        "it will be fetched again next run")] * len(jobs)
        except BaseException as exc:      # cancelled, or a batch that could not be sent
            results = [exc] * len(jobs)
        finally:
            self._in_flight -= 1
        for (_urls, _job, future), result in zip(batch, results):
            if future.done():
                continue
            if isinstance(result, asyncio.CancelledError):
                future.cancel()
            elif isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
        self._send()

    def _forget_pool(self, pool: Executor | None) -> None:
        with self._lock:
            if pool is None or self._executor is not pool:
                return        # already replaced by another batch that met the same death
            self._executor, self._warmed = None, False
        pool.shutdown(wait=False)

    def warm(self, store_url: str, catalogue_url: str) -> None:
        """Start the worker process and open the store and catalogue there, without waiting:
        a failure there is the first file's to report."""
        pool = self._pool()
        if pool is not None and not self._warmed:
            self._warmed = True
            pool.submit(_warm, store_url, catalogue_url).add_done_callback(lambda f: f.exception())

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)


# Store and catalogue per (store URL, catalogue URL), opened once per process.
_opened: dict[tuple[str, str], tuple] = {}
_opened_lock = threading.Lock()
_parent_pid: int | None = None
_threads: ThreadPoolExecutor | None = None


def _open(store_url: str, catalogue_url: str) -> tuple:
    with _opened_lock:
        pair = _opened.get((store_url, catalogue_url))
        if pair is None:
            pair = _opened[(store_url, catalogue_url)] = (open_store(store_url), Catalogue.shared(catalogue_url))
        return pair


def _archive_here(store_url: str, catalogue_url: str, run_id: int, item: FileItem) -> Outcome:
    return archive_item(*_open(store_url, catalogue_url), run_id, item)


def _warm(store_url: str, catalogue_url: str) -> None:
    _open(store_url, catalogue_url)


def _archive_batch_in_worker(store_url: str, catalogue_url: str, jobs: list) -> list:
    """archive_item for each (run_id, item), at once in threads: their store writes wait on
    fsync in parallel and their catalogue rows share transactions. Outcome or exception each."""
    if _parent_pid is not None and os.getppid() != _parent_pid:
        os._exit(0)       # the crawl that sent these is gone: record nothing more for it
    store, catalogue = _open(store_url, catalogue_url)

    def one(job):
        try:
            return archive_item(store, catalogue, *job)
        except Exception as exc:
            return _sendable(exc)

    global _threads
    if _threads is None:
        _threads = ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="archive")
    return list(_threads.map(one, jobs))


def _sendable(exc: Exception) -> Exception:
    """The exception itself if it crosses a process boundary intact, else its words."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return ArchiveError(f"{type(exc).__name__}: {exc}")


def _worker_init(parent_pid: int) -> None:
    global _parent_pid
    _parent_pid = parent_pid
    # Ctrl-C and SIGTERM are for the crawl process, which shuts down gracefully and then
    # closes this one; a worker that died with them would lose the files in flight.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    import gc
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s [archiver] %(levelname)s: %(message)s")
    _die_with_parent()
    if os.getppid() != parent_pid:
        os._exit(0)       # the crawl died before we could ask to die with it
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="watch-parent").start()


def _die_with_parent() -> None:
    """On Linux, ask the kernel to kill this process the moment the crawl process dies (a
    SIGKILLed crawl must not have files recorded after it, while its resumed run reads what the
    dead one captured). Elsewhere the watch thread below notices within a second."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _watch_parent(parent_pid: int) -> None:
    """A worker outlives a crawl killed with SIGKILL unless it notices: exit within a second."""
    import time

    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(0)


def merge_stats(stats, outcome: Outcome) -> None:
    for key, n in outcome.stats.items():
        stats.inc_value(key, n)


__all__ = ["ArchiveError", "Archiver", "Outcome", "StoreWriteError", "archive_item", "merge_stats"]
