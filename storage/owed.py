"""What the archive owes: files (and report pages) a run meant to archive and did not.

A report page archived while its file was not (the archiving process killed while it held the
file, the store's disk full, a Ctrl-C with the file still in the frontier) used to be a silent
hole: on the next run the page is "not due" (crawler/revisit.py), so its links are not read and
the file is never asked for again. Now every such file is a row here, written the moment the
run knows it is owed (a failed archive, a failed download, the frontier left at close), and the
capture that finally archives it deletes the row in the same transaction as the capture itself.
The next run of the site asks for owed URLs first, whatever the revisit schedule says; a run
that ends with anything owed is not "ok".

A URL the server answered for good (404, 410, refused by robots.txt or out of scope) is "gone":
nothing more can be archived from it, so it is no longer owed, but it stays on record so the
report it belonged to shows as incomplete.

A mixin of storage.catalogue.Catalogue: every statement still runs in the catalogue's module
family, one transaction per method, retried as a whole.
"""
from __future__ import annotations

from typing import Any, Iterable

import sqlalchemy as sa
from sqlmodel import Session, col

from storage.models import OWED_KINDS, OWED_STATES, Capture, OwedFile, Report, UrlState, utcnow

# Longest reason kept (an exception's words, never a body).
MAX_REASON = 200


def _reason(text: str | None) -> str:
    text = " ".join(str(text or "pending").split())
    return text[:MAX_REASON]


class OwedLedger:
    """The owed_file statements of the catalogue (mixed into Catalogue)."""

    def owe(self, *, site_id: str, entries: Iterable[dict[str, Any]], run_id: int | None = None) -> int:
        """Record entries (url, kind, report_url, source_page, reason, meta, state) of site_id:
        state "owed" (the default) or "gone" (the server answered for good). A URL on record
        already keeps its first date and counts one more attempt; one that was gone is owed
        again when a later run fails to fetch it otherwise. Returns how many rows were written."""
        entries = [dict(e) for e in entries]
        for e in entries:
            if e.get("kind", "file") not in OWED_KINDS:
                raise ValueError(f"owed kind {e.get('kind')!r} is not one of {OWED_KINDS}")
            if e.get("state", "owed") not in OWED_STATES:
                raise ValueError(f"owed state {e.get('state')!r} is not one of {OWED_STATES}")
        if not entries:
            return 0

        def fn(s: Session) -> int:
            return self._owe(s, site_id=site_id, entries=entries, run_id=run_id)

        return self._write("owe", fn)

    def _owe(self, s: Session, *, site_id: str, entries: list[dict], run_id: int | None,
             skip_archived: bool = False) -> int:
        report_urls = sorted({e["report_url"] for e in entries if e.get("report_url")})
        report_ids: dict[str, int] = {}
        for i in range(0, len(report_urls), 500):
            report_ids.update({url: rid for rid, url in s.execute(sa.select(Report.id, Report.url).where(
                Report.site_id == site_id, col(Report.url).in_(report_urls[i:i + 500])))})
        urls = sorted({e["url"] for e in entries})
        if skip_archived:
            # A page's files archived already: by this run (a file can be fetched before its
            # page's row commits) or an earlier one (a file not due for revalidation).
            done = set(s.scalars(sa.select(UrlState.url).where(col(UrlState.url).in_(urls),
                                                               col(UrlState.sha256).is_not(None))))
            entries = [e for e in entries if e["url"] not in done]
            if not entries:
                return 0
        now = utcnow()
        rows = {}
        for e in entries:
            rows[e["url"]] = dict(
                site_id=site_id, url=e["url"], kind=e.get("kind", "file"),
                report_id=e.get("report_id") or report_ids.get(e.get("report_url") or ""), source_page=e.get("source_page"),
                state=e.get("state", "owed"), reason=_reason(e.get("reason")), attempts=int(e.get("attempts", 0)),
                run_id=run_id, meta=dict(e.get("meta") or {}), first_owed=now, updated_at=now)
        stmt = self._insert(OwedFile.__table__)
        excluded = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=["site_id", "url"],
            set_=dict(state=excluded.state, reason=excluded.reason, run_id=excluded.run_id,
                      updated_at=excluded.updated_at,
                      attempts=OwedFile.__table__.c.attempts + excluded.attempts,
                      report_id=sa.func.coalesce(excluded.report_id, OwedFile.__table__.c.report_id),
                      source_page=sa.func.coalesce(excluded.source_page, OwedFile.__table__.c.source_page)))
        s.connection().execute(stmt, list(rows.values()))
        return len(rows)

    def _settle(self, s: Session, *, site_id: str, urls: Iterable[str]) -> None:
        """Archived: owed no more (called inside the capture's own transaction)."""
        urls = [u for u in dict.fromkeys(urls) if u]
        stmt = self._statement("settle_owed", lambda: sa.delete(OwedFile.__table__).where(
            OwedFile.__table__.c.site_id == sa.bindparam("s_site"),
            OwedFile.__table__.c.url == sa.bindparam("s_url")))
        s.connection().execute(stmt, [dict(s_site=site_id, s_url=u) for u in urls])

    def settle(self, *, site_id: str, urls: Iterable[str]) -> None:
        urls = list(urls)
        if urls:
            self._write("settle", lambda s: self._settle(s, site_id=site_id, urls=urls))

    def owed(self, *, site_id: str | None = None, state: str = "owed") -> list[dict[str, Any]]:
        """Owed rows (oldest first) with the report each belongs to, as dicts."""
        if state not in OWED_STATES:
            raise ValueError(f"owed state {state!r} is not one of {OWED_STATES}")

        def fn(s: Session) -> list[dict]:
            stmt = (sa.select(OwedFile, Report).join(Report, OwedFile.report_id == Report.id, isouter=True)
                    .where(OwedFile.state == state).order_by(OwedFile.id))
            if site_id is not None:
                stmt = stmt.where(OwedFile.site_id == site_id)
            out = []
            for owed, report in s.execute(stmt).all():
                row = owed.model_dump()
                row["report"] = None if report is None else dict(
                    url=report.url, agency=report.agency, year=report.year, title=report.title)
                out.append(row)
            return out

        return self._read("owed", fn)

    def owed_count(self, *, site_id: str) -> int:
        return self._read("owed_count", lambda s: s.scalar(
            sa.select(sa.func.count()).select_from(OwedFile)
            .where(OwedFile.site_id == site_id, OwedFile.state == "owed")) or 0)

    def owed_reports(self) -> dict[int, str]:
        """report id -> state of its worst debt ("owed" before "gone"): reports not whole."""
        def fn(s: Session) -> dict[int, str]:
            out: dict[int, str] = {}
            for rid, state in s.execute(sa.select(OwedFile.report_id, OwedFile.state)
                                        .where(col(OwedFile.report_id).is_not(None))):
                if out.get(rid) != "owed":
                    out[rid] = state
            return out

        return self._read("owed_reports", fn)

    def owe_again(self, *, storage_key: str, reason: str) -> int:
        """The object at storage_key is lost or corrupt (fsck): every URL whose capture it
        holds is owed again, and its URL state forgets the bytes, so the next run fetches it in
        full (no conditional request a server could answer 304). Returns URLs owed."""
        def fn(s: Session) -> int:
            rows = s.execute(sa.select(Capture.site_id, Capture.url, Capture.kind, Capture.report_id,
                                       Capture.source_page, Capture.final_url)
                             .where(Capture.storage_key == storage_key,
                                    col(Capture.kind).in_(("page", "attachment")))).all()
            by_site: dict[str, list[dict]] = {}
            for site_id, url, kind, report_id, source, final_url in rows:
                by_site.setdefault(site_id, []).append(dict(
                    url=url, kind="page" if kind == "page" else "file", report_id=report_id,
                    source_page=source, reason=reason, final_url=final_url))
            n = 0
            for site_id, entries in by_site.items():
                n += self._owe(s, site_id=site_id, entries=entries, run_id=None)
                urls = sorted({u for e in entries for u in (e["url"], e["final_url"]) if u})
                s.execute(sa.update(UrlState).where(col(UrlState.url).in_(urls))
                          .values(sha256=None, etag=None, last_modified=None, unchanged_checks=0))
            return n

        return self._write("owe_again", fn)


__all__ = ["OwedLedger", "MAX_REASON"]
