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
                    stats: ExtractStats | None = None) -> ExtractStats:
    """Read every archived report file not yet read by this extractor version (all: every one)."""
    stats = stats if stats is not None else ExtractStats()
    if version is None or extract is None:
        default_version, default_extract = extractor()
        version, extract = version or default_version, extract or default_extract
    for cap, year in catalogue.extraction_todo(version=version, since=since, all=all, site_id=site_id):
        if cap.size is not None and cap.size > MAX_FILE_BYTES:
            stats.errors += 1
            _record(catalogue, stats, cap, version, error=f"file of {cap.size} bytes not read (over {MAX_FILE_BYTES})")
            continue
        try:
            data = store.get(cap.storage_key)
        except (ObjectNotFound, StoreError, OSError) as exc:
            stats.missing += 1
            log.warning("capture %s: bytes not readable from the store (%s): %s", cap.id, cap.storage_key, exc)
            continue
        if hashlib.sha256(data).hexdigest() != cap.sha256:
            stats.missing += 1
            log.warning("capture %s: the bytes at %s are not %s; not read (nianbao fsck --repair)",
                        cap.id, cap.storage_key, cap.sha256)
            continue
        stats.read += 1
        started = time.perf_counter()
        result = extract(data, content_type=cap.content_type, filename=cap.filename, year=year)
        spent = stats.seconds.setdefault(result.format, [0, 0.0])
        spent[0] += 1
        spent[1] = round(spent[1] + time.perf_counter() - started, 4)
        # figures.extract never raises: a reader that crashed says so among its problems.
        failed = next((p for p in result.problems if str(p).startswith("extractor failed")), None)
        got = _record(catalogue, stats, cap, version, result=result, error=failed)
        if got == "error":
            stats.errors += 1
        if got == "no_tables":
            stats.no_tables += 1
        elif got == "failed_checks":
            stats.failed_checks += 1
    return stats


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
