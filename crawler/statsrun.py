"""Statistics of the archive: each archived report file read by figures/ and kept in the catalogue.

figures/ is a pure reader (bytes in, tables and checks out) and the catalogue keeps plain rows
(storage/figures.py); this module is where the two meet, as crawler/renditions.py is for text.
It reads a file's bytes from the object store (checked against the capture's sha256 first: a
figure's provenance names those bytes), reads them with `figures.extract(..., year=report.year)`
and records the reading. Idempotent: a file already read by the running extractor version is
not read again (one with no tables included). A new extractor version reads every file again,
but writes figures, and says "figures" in the change feed, only where the reading differs.

Not run by the crawl itself: reading a thousand PDFs is minutes of CPU a harvest should not wait
for, and an extractor bug must never turn a good harvest into a failed one. Run
`nianbao stats extract` after `nianbao crawl` (cron, the Makefile); `extract_runs` is the
never-raising hook for whoever wants it at the end of a crawl.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime

from storage.objects import ObjectNotFound, StoreError

log = logging.getLogger(__name__)

# Beyond this a file is not read (a scanned yearbook of hundreds of MB has no text layer to read).
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass
class ExtractStats:
    read: int = 0             # files handed to the extractor
    extracted: int = 0        # readings new or different from the one on record: written
    unchanged: int = 0        # a new version that read the same figures and checks: nothing rewritten
    failed_checks: int = 0    # of the files read, those whose printed numbers break a check
    no_tables: int = 0        # of the files read, those with nothing to read
    errors: int = 0           # the extractor gave up, or the file is too large
    missing: int = 0          # bytes not in the store, or not the bytes catalogued (see nianbao fsck)
    problems: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)   # format -> [files, seconds in the extractor]

    def as_dict(self) -> dict:
        return asdict(self)


def extractor():
    """(version, extract) of the installed figures package."""
    import figures

    return figures.EXTRACTOR_VERSION, figures.extract


def _plain(obj) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(obj).items()}


def extract_archive(catalogue, store, *, since: datetime | None = None, all: bool = False,
                    site_id: str | None = None, version: str | None = None, extract=None,
                    stats: ExtractStats | None = None, jobs: int = 1) -> ExtractStats:
    """Read every archived report file not yet read by this extractor version (all: every one).
    jobs > 1: that many processes read files at once (reading is CPU; the catalogue is written
    here, one transaction per file, in the order the readings come back)."""
    stats = stats if stats is not None else ExtractStats()
    if version is None or extract is None:
        default_version, default_extract = extractor()
        version, extract = version or default_version, extract or default_extract
    todo = []
    for cap, year in catalogue.extraction_todo(version=version, since=since, all=all, site_id=site_id):
        if cap.size is not None and cap.size > MAX_FILE_BYTES:
            stats.errors += 1
            _record(catalogue, stats, cap, version, error=f"file of {cap.size} bytes not read (over {MAX_FILE_BYTES})")
        else:
            todo.append((cap, year))
    caps = {cap.id: cap for cap, _ in todo}
    jobs_in = [(cap.id, cap.storage_key, cap.sha256, cap.content_type, cap.filename, year) for cap, year in todo]
    if jobs > 1 and len(jobs_in) > 1:
        import multiprocessing

        # fork: the workers inherit the extractor as configured here, nothing is pickled but files' results.
        with multiprocessing.get_context("fork").Pool(min(jobs, len(jobs_in)), initializer=_worker_init,
                                                      initargs=(store.url, extract)) as pool:
            for got in pool.imap_unordered(_worker_read, jobs_in):
                _take(catalogue, stats, caps[got[0]], version, got)
    else:
        for job in jobs_in:
            _take(catalogue, stats, caps[job[0]], version, _read(store, extract, job))
    return stats


def _read(store, extract, job) -> tuple:
    """(capture id, "read", Extraction, seconds) or (capture id, "missing", why, 0)."""
    cap_id, key, sha, content_type, filename, year = job
    try:
        data = store.get(key)
    except (ObjectNotFound, StoreError, OSError) as exc:
        return cap_id, "missing", f"bytes not readable from the store ({key}): {exc}", 0.0
    if hashlib.sha256(data).hexdigest() != sha:
        return cap_id, "missing", f"the bytes at {key} are not {sha}; not read (nianbao fsck --repair)", 0.0
    started = time.perf_counter()
    result = extract(data, content_type=content_type, filename=filename, year=year)
    return cap_id, "read", result, time.perf_counter() - started


_WORKER: dict = {}


def _worker_init(store_url: str, extract) -> None:
    from storage.objects import open_store

    _WORKER["store"], _WORKER["extract"] = open_store(store_url), extract


def _worker_read(job) -> tuple:
    return _read(_WORKER["store"], _WORKER["extract"], job)


def _take(catalogue, stats: ExtractStats, cap, version: str, got: tuple) -> None:
    """Count and record one file's reading."""
    _cap_id, what, result, seconds = got
    if what == "missing":
        stats.missing += 1
        log.warning("capture %s: %s", cap.id, result)
        return
    stats.read += 1
    spent = stats.seconds.setdefault(result.format, [0, 0.0])
    spent[0] += 1
    spent[1] = round(spent[1] + seconds, 4)
    # figures.extract never raises: a reader that crashed says so among its problems.
    failed = next((p for p in result.problems if str(p).startswith("extractor failed")), None)
    status = _record(catalogue, stats, cap, version, result=result, error=failed)
    if status == "error":
        stats.errors += 1
    elif status == "no_tables":
        stats.no_tables += 1
    elif status == "failed_checks":
        stats.failed_checks += 1


def _record(catalogue, stats: ExtractStats, cap, version: str, *, result=None, error: str | None = None) -> str:
    """Record one reading; its status."""
    figures = [_plain(f) for f in result.figures] if result is not None else []
    checks = [_plain(c) for c in result.checks] if result is not None else []
    problems = [p for p in result.problems if p != error] if result is not None else []
    for p in problems:
        kind = str(p).split(":", 1)[0][:60]
        stats.problems[kind] = stats.problems.get(kind, 0) + 1
    outcome = catalogue.record_extraction(
        capture_id=cap.id, version=version, format=result.format if result is not None else None,
        layout=result.layout if result is not None else None, figures=figures, checks=checks,
        problems=problems, error=error)
    if outcome == "extracted":
        stats.extracted += 1
    else:
        stats.unchanged += 1
    if error:
        return "error"
    if not figures:
        return "no_tables"
    return "failed_checks" if any(not c["ok"] for c in checks) else "ok"


def extract_runs(catalogue_url: str, store_url: str, *, site_id: str | None = None) -> ExtractStats | None:
    """End-of-crawl hook: read what is new. Never raises (a harvest that archived its files is a
    good harvest whatever the extractor does); `nianbao stats extract` catches up later."""
    from storage.catalogue import Catalogue
    from storage.objects import open_store

    try:
        with Catalogue.open(catalogue_url) as cat:
            return extract_archive(cat, open_store(store_url), site_id=site_id)
    except Exception as exc:  # noqa: BLE001 - see docstring
        log.warning("statistics after the crawl failed (%s); run `nianbao stats extract`", exc)
        return None
