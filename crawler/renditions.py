"""Plain-text renditions of archived report files, for parsers and full-text search.

A rendition is a derived object: its bytes (UTF-8 text) go in the store under their
sha256 like any other, and a Capture row of kind "text" points at the file capture it
came from (parent_id). Making them is idempotent: a file capture that already has a
text child is skipped, so the function can run after every crawl or from cron. Bytes
already rendered under another capture (a recrawl's unchanged capture, the same PDF at two
URLs) are not read again: the new capture is linked to the text made before.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from crawler.textract import extract_text
from storage.objects import ObjectNotFound, put_content

log = logging.getLogger(__name__)

TEXT_KIND = "text"
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
# Primary captures worth a rendition; dom/screenshot/text are derived already.
SOURCE_KINDS = ("page", "attachment")


@dataclass
class RenditionStats:
    made: int = 0
    already: int = 0
    reused: int = 0       # same bytes rendered before: linked to that text, not extracted again
    unreadable: int = 0   # extract_text found no text (opaque DOC, scanned PDF...)
    missing: int = 0      # the file's bytes are not in the store (see `nianbao store fsck`)


def needs_rendition(capture) -> bool:
    return capture.parent_id is None and capture.kind in SOURCE_KINDS and bool(capture.is_report)


def render_texts(catalogue, store, *, run_id: int | None = None, stats: RenditionStats | None = None,
                 known: tuple[set[int], dict] | None = None) -> int:
    """Make the missing text renditions (of one crawl run's captures, or of all); how many were made.
    `known` is catalogue.text_renditions(), when the caller renders several runs in a row."""
    stats = stats if stats is not None else RenditionStats()
    # Children of a run's captures carry the same run_id (the pipeline writes them so, and so do we),
    # but an earlier rendition may come from a later `nianbao texts`: look at every text capture.
    done, by_source = known if known is not None else catalogue.text_renditions()
    for cap in catalogue.captures(run_id=run_id):
        if not needs_rendition(cap):
            continue
        if cap.id in done:
            stats.already += 1
            continue
        earlier = by_source.get(cap.sha256)
        if earlier is not None:
            _link_text(catalogue, cap, earlier.sha256, earlier.size, earlier.storage_key)
            stats.reused += 1
            continue
        try:
            data = store.get(cap.storage_key)
        except ObjectNotFound:
            stats.missing += 1
            log.warning("capture %s: bytes missing from the store (%s)", cap.id, cap.storage_key)
            continue
        text = extract_text(data, content_type=cap.content_type, filename=cap.filename, url=cap.final_url or cap.url)
        if not text:
            stats.unreadable += 1
            continue
        body = text.encode("utf-8")
        key, sha, size = put_content(store, body, content_type=TEXT_CONTENT_TYPE)
        catalogue.record_blob(sha256=sha, size=size, storage_key=key, content_type=TEXT_CONTENT_TYPE)
        text_id = _link_text(catalogue, cap, sha, size, key)
        by_source[cap.sha256] = catalogue.capture(capture_id=text_id)
        stats.made += 1
    return stats.made


def _link_text(catalogue, cap, sha: str, size: int, key: str) -> int:
    return catalogue.add_capture(
        run_id=cap.run_id, site_id=cap.site_id, report_id=cap.report_id, parent_id=cap.id,
        kind=TEXT_KIND, url=cap.url, final_url=cap.final_url, source_page=cap.source_page,
        status=cap.status, content_type=TEXT_CONTENT_TYPE, filename=_text_name(cap.filename),
        sha256=sha, size=size, storage_key=key, rendered=False, is_report=False)


def _text_name(filename: str | None) -> str | None:
    if not filename:
        return None
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    return stem + ".txt"


def render_runs(catalogue_url: str, store_url: str, run_ids) -> int:
    """End-of-crawl hook: renditions for the given runs' files. Never raises: a crawl that archived
    its files is a good crawl even when text extraction fails; `nianbao texts` catches up later."""
    from storage.catalogue import Catalogue
    from storage.objects import open_store

    made = 0
    try:
        with Catalogue.open(catalogue_url) as cat:
            store = open_store(store_url)
            known = cat.text_renditions()      # once for all runs: updated as texts are made
            for run_id in sorted({r for r in run_ids if r is not None}):
                made += render_texts(cat, store, run_id=run_id, known=known)
    except Exception as exc:  # noqa: BLE001 - see docstring
        log.warning("text renditions after the crawl failed (%s); run `nianbao texts`", exc)
    return made
