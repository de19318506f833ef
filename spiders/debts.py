"""The files a run means to archive, until each is archived, owed or gone (storage/owed.py).

Every file request the spider sends is *wanted*. Its answer settles it one of three ways:
archived (the capture's own transaction deletes any debt), failed for good (404, 410, robots,
scope: recorded as gone), or failed otherwise (a timeout, a 5xx after retries, an archive that
failed: owed). What is still wanted when the run ends (a Ctrl-C with files in the frontier, a
store that never came back) is owed too. The pipeline writes what this collects to the
catalogue every few seconds and at close; a report page's own files are owed in the page's
archive transaction already (FileItem.owes), so a SIGKILL between the two loses nothing the
resumed run would not find again.

The next run asks for owed URLs first (`requests`), whatever the revisit schedule says.
"""
from __future__ import annotations

import threading
from typing import Any

from crawler.items import FileItem, ReportRef

# Answers that end a URL's debt: nothing more can be archived from it. "oversized" is the
# archive's own refusal (a file past DOWNLOAD_MAXSIZE, a gzip bomb): asking again under the same
# limit gets the same answer, so it is on record as gone rather than owed run after run.
GONE_KINDS = frozenset({"http_404", "http_410", "robots_disallowed", "off_scope", "oversized"})


def report_meta(report: ReportRef | None) -> dict | None:
    if report is None:
        return None
    return {"agency": report.agency, "year": report.year, "title": report.title, "url": report.url,
            "publisher": report.publisher}


def entry_for(url: str, *, kind: str, report: ReportRef | None, source: str | None,
              judge: dict | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if report is not None:
        # The report a direct file link *is* has no row until the file is archived: keep it here.
        meta["report"] = report_meta(report)
    if judge:
        meta["judge"] = judge
    return {"url": url, "kind": kind, "report_url": report.url if report else None,
            "source_page": source, "meta": meta}


class Debts:
    def __init__(self):
        self._lock = threading.Lock()
        self.wanted: dict[str, dict] = {}
        self._pending: dict[str, dict] = {}
        # Answered once already: a file linked from two pages is requested twice and the second
        # request dropped as a duplicate, so wanting it again would wait for an answer never sent.
        self._settled: set[str] = set()

    # -- what the spider tells it ------------------------------------------------------------
    def want(self, url: str, *, report: ReportRef | None, source: str | None, judge: dict | None = None) -> None:
        with self._lock:
            if url in self._settled:
                return
            self.wanted.setdefault(url, entry_for(url, kind="file", report=report, source=source, judge=judge))

    def answered(self, url: str) -> None:
        """A response reached the spider: from here the pipeline settles it."""
        with self._lock:
            self.wanted.pop(url, None)
            self._settled.add(url)

    def failed(self, url: str, kind: str) -> None:
        with self._lock:
            entry = self.wanted.pop(url, None)
            self._settled.add(url)
            if entry is None:
                return
            gone = kind in GONE_KINDS
            self._pending[url] = dict(entry, state="gone" if gone else "owed", reason=kind, attempts=1)

    def not_archived(self, item: FileItem, reason: str) -> None:
        """The pipeline could not archive a fetched file (store down or full, process killed)."""
        kind = "page" if item.kind == "page" else "file"
        entry = entry_for(item.url, kind=kind, report=item.report, source=item.source_page)
        with self._lock:
            self.wanted.pop(item.url, None)
            self._pending[item.url] = dict(entry, reason=reason, attempts=1)

    def end(self, reason: str) -> None:
        """The run is over: whatever is still wanted was never answered."""
        with self._lock:
            for url, entry in self.wanted.items():
                self._pending.setdefault(url, dict(entry, reason=f"not fetched: the run ended ({reason})"))
            self.wanted.clear()

    def take(self) -> list[dict]:
        """What to write now (the caller writes it, or gives it back with `give_back`)."""
        with self._lock:
            out, self._pending = list(self._pending.values()), {}
            return out

    def give_back(self, entries: list[dict]) -> None:
        with self._lock:
            for e in entries:
                self._pending.setdefault(e["url"], e)


def report_of(row: dict) -> ReportRef | None:
    """The report an owed row belongs to: its catalogue row, else what the request knew."""
    kept = (row.get("meta") or {}).get("report") or {}
    known = row.get("report") or kept
    if not known or known.get("year") is None:
        return None
    # The attribution made when the file was first asked for: the owed request has no page to read.
    return ReportRef(agency=known["agency"], year=int(known["year"]), title=known.get("title") or "",
                     url=known["url"], publisher=kept.get("publisher"))


__all__ = ["Debts", "GONE_KINDS", "entry_for", "report_of", "report_meta"]
