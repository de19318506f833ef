"""The catalogue: every SQL statement nianbao runs lives in this module.

Methods take keyword arguments only and return plain model objects (detached) or
dicts. Each method is one transaction, retried as a whole when the database is
locked or briefly unreachable (see storage.db).
"""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage import db
from storage.db import CatalogueError, CatalogueUnavailable, CatalogueURLError
from storage.figures import FigureArchive
from storage.groupcommit import GroupCommit
from storage.leases import Leases
from storage.owed import OwedLedger
from storage.publisher_actions import PublisherActions
from storage.publishers import PublisherRegistry
from storage.models import (
    CAPTURE_KINDS,
    CHANGES,
    COVERAGE_STATES,
    RUN_OUTCOMES,
    SITE_KINDS,
    Blob,
    Capture,
    Change,
    CoverageMark,
    CrawlRun,
    Publisher,
    Report,
    Site,
    UrlState,
    utcnow,
)

__all__ = [
    "Catalogue",
    "CatalogueError",
    "CatalogueUnavailable",
    "CatalogueURLError",
    "CatalogueValueError",
    "UnknownRecord",
]

# Any constant will do; it only has to be the same for every writer of the change feed.
CHANGE_FEED_LOCK = 0x6E69616E  # "nian"

CAPTURE_FIELDS = frozenset(Capture.model_fields) - {"id"}
URL_STATE_FIELDS = frozenset(UrlState.model_fields) - {"url"}


_SHARED: dict[str, "Catalogue"] = {}
_SHARED_LOCK = threading.Lock()


class CatalogueValueError(CatalogueError, ValueError):
    """An argument outside its allowed values."""


class UnknownRecord(CatalogueError, LookupError):
    """A referenced row (run, site...) does not exist."""


class _Increment:
    def __repr__(self) -> str:
        return "INCREMENT"


# A url_state field given this value is counted up in place (a new row starts it at 0).
INCREMENT = _Increment()


def _checks_after(change: str | None):
    """url_state.unchanged_checks after a capture: one more for the same bytes, else from 0."""
    return INCREMENT if change == "unchanged" else 0


def _with_defaults(model, fields: dict[str, Any]) -> dict[str, Any]:
    """Every column of model's table but the key, from fields or the model's defaults (what
    constructing the model would fill in, at a fraction of its cost on the per-file path)."""
    values = {}
    for name, info in model.model_fields.items():
        if name in fields:
            values[name] = fields[name]
        elif info.default_factory is not None:
            values[name] = info.default_factory()
        elif not info.is_required():
            values[name] = info.default
    values.pop("id", None)
    return values


def _one_of(name: str, value: Any, allowed: Iterable[str]) -> None:
    if value not in allowed:
        raise CatalogueValueError(f"{name}={value!r} is not one of {sorted(allowed)}")


def _jsonable(value: Any) -> dict:
    """Stats hold datetimes and the like; store what JSON can hold, as text otherwise."""
    return json.loads(json.dumps(value or {}, default=str))


class Catalogue(OwedLedger, Leases, PublisherRegistry, PublisherActions, FigureArchive):
    def __init__(self, url: str):
        self.engine = db.make_engine(url)
        self.url = db.safe_url(self.engine)
        # Statements of the per-file write path, built once: SQLAlchemy then only binds values.
        self._statements: dict[Any, Any] = {}
        self._archiving = GroupCommit(self._archive_many, shared_failure=(CatalogueUnavailable,))

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, create: bool | None = None) -> "Catalogue":
        """Open url and bring its schema to the latest migration (unless migrate=False).

        `create` is the name docs/design.md uses for the same switch.
        """
        cat = cls(url)
        if migrate if create is None else create:
            cat.migrate()
        return cat

    @classmethod
    def shared(cls, url: str) -> "Catalogue":
        """One opened catalogue per URL in this process. The sites of a harvest (a crawler
        each) share its engine, connection pool, prepared statements and group commit instead
        of opening one each at start-up. Never closed by its users."""
        with _SHARED_LOCK:
            cat = _SHARED.get(url)
        if cat is None:
            opened = cls.open(url)
            with _SHARED_LOCK:
                cat = _SHARED.setdefault(url, opened)
            if cat is not opened:
                opened.close()      # another thread opened it first
        return cat

    def migrate(self) -> None:
        db.with_retries(self.engine, "migrations", lambda: db.upgrade(self.engine))

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Catalogue":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Catalogue({self.url!r})"

    # --- plumbing --------------------------------------------------------------------

    def _write(self, what: str, fn):
        return self._run(what, fn, write=True)

    def _read(self, what: str, fn):
        return self._run(what, fn, write=False)

    def _run(self, what: str, fn, *, write: bool):
        def attempt():
            with db.session(self.engine, write=write) as s:
                return fn(s)

        try:
            return db.with_retries(self.engine, what, attempt)
        except sa.exc.StatementError as exc:
            # A value our column types refused (a naive datetime...): say so, not SQLAlchemy's wrapper.
            if isinstance(exc.orig, ValueError) and not isinstance(exc, sa.exc.DBAPIError):
                raise CatalogueValueError(f"{what}: {exc.orig}") from None
            raise

    def _insert(self, table):
        """INSERT with ON CONFLICT support for this dialect."""
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            return postgresql.insert(table)
        if dialect == "sqlite":
            return sqlite.insert(table)
        raise CatalogueURLError(f"catalogue dialect {dialect!r} is not supported (sqlite, postgresql)")

    def _statement(self, key: Any, build):
        stmt = self._statements.get(key)
        if stmt is None:
            stmt = self._statements[key] = build()
        return stmt

    def _add_changes(self, s: Session, entity: str, ids_actions: list[tuple[int, str]]) -> None:
        """Append to the change feed. Must be the last write of its transaction.

        The feed is read by id cursor. On PostgreSQL, ids come from a sequence at insert
        time but become visible at commit, so a reader could see id 7 before id 6 commits
        and then skip 6 forever. Holding one advisory lock from here to commit makes ids
        commit in order. (SQLite writers are serialised already by BEGIN IMMEDIATE.)
        """
        if not ids_actions:
            return
        if self.engine.dialect.name == "postgresql":
            s.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHANGE_FEED_LOCK})
        at = utcnow()
        stmt = self._statement("change", lambda: sa.insert(Change.__table__))
        s.connection().execute(stmt, [dict(at=at, entity=entity, entity_id=entity_id, action=action)
                                      for entity_id, action in ids_actions])

    # --- sites and runs --------------------------------------------------------------

    def upsert_site(self, *, site_id: str, agency: str, region_name: str | None = None,
                    region_code: str | None = None, kind: str = "department",
                    first_year: int | None = None, config_hash: str | None = None) -> None:
        _one_of("kind", kind, SITE_KINDS)
        values = dict(agency=agency, region_name=region_name, region_code=region_code, kind=kind,
                      first_year=first_year, config_hash=config_hash)

        def fn(s: Session) -> None:
            now = utcnow()
            stmt = self._insert(Site).values(id=site_id, created_at=now, updated_at=now, **values)
            s.execute(stmt.on_conflict_do_update(index_elements=["id"],
                                                 set_={**values, "updated_at": now}))
            # Its own agency is a registry publisher (storage/publishers.py).
            self._site_publisher(s, site_id=site_id, agency=agency, kind=kind, code=region_code)

        self._write("upsert_site", fn)

    def sites(self) -> list[Site]:
        return self._read("sites", lambda s: list(s.exec(select(Site).order_by(Site.id))))

    def start_run(self, *, site_id: str, config_hash: str | None, software_version: str | None) -> int:
        def fn(s: Session) -> int:
            if s.get(Site, site_id) is None:
                raise UnknownRecord(f"no site {site_id!r}; upsert_site first")
            run = CrawlRun(site_id=site_id, config_hash=config_hash, software_version=software_version)
            s.add(run)
            s.flush()
            return run.id

        return self._write("start_run", fn)

    def finish_run(self, *, run_id: int, outcome: str, stats: dict | None = None,
                   errors: dict[str, int] | None = None, pages: int | None = None,
                   bytes: int | None = None, new_reports: int | None = None,
                   changed_reports: int | None = None, unchanged_reports: int | None = None,
                   removed_reports: int | None = None) -> CrawlRun:
        """Close a run. Report counts not given are counted from the run's captures."""
        _one_of("outcome", outcome, RUN_OUTCOMES)

        def fn(s: Session) -> CrawlRun:
            run = s.get(CrawlRun, run_id)
            if run is None:
                raise UnknownRecord(f"no crawl run {run_id}")
            # One verdict per report: changed if any of its files changed, else new if any is
            # new, else unchanged.
            rank = {"unchanged": 0, "new": 1, "changed": 2}
            per_report: dict[int, str] = {}
            for rid, change in s.execute(
                    sa.select(Capture.report_id, Capture.change)
                    .where(Capture.run_id == run_id, Capture.is_report, col(Capture.report_id).is_not(None))).all():
                if change in rank and rank[change] >= rank.get(per_report.get(rid, "unchanged"), 0):
                    per_report[rid] = change
            counted: dict[str, int] = {}
            for change in per_report.values():
                counted[change] = counted.get(change, 0) + 1
            removed = s.scalar(sa.select(sa.func.count()).select_from(Report).where(
                Report.site_id == run.site_id, col(Report.removed_at) >= run.started_at))
            run.finished_at = utcnow()
            run.outcome = outcome
            run.stats = _jsonable(stats)
            run.errors = _jsonable(errors)
            run.pages = pages if pages is not None else run.pages
            run.bytes = bytes if bytes is not None else run.bytes
            run.new_reports = new_reports if new_reports is not None else counted.get("new", 0)
            run.changed_reports = changed_reports if changed_reports is not None else counted.get("changed", 0)
            run.unchanged_reports = (unchanged_reports if unchanged_reports is not None
                                     else counted.get("unchanged", 0))
            run.removed_reports = removed_reports if removed_reports is not None else removed
            s.add(run)
            s.flush()
            return run

        return self._write("finish_run", fn)

    def running_run(self, *, site_id: str) -> CrawlRun | None:
        """The newest run of a site still marked running: after a crash, the one to resume."""
        stmt = (select(CrawlRun).where(CrawlRun.site_id == site_id, CrawlRun.outcome == "running")
                .order_by(col(CrawlRun.id).desc()).limit(1))
        return self._read("running_run", lambda s: s.exec(stmt).first())

    def interrupt_stale_runs(self, *, site_id: str, keep: int | None = None) -> int:
        """Runs of a site still marked running (their process died) become interrupted."""
        def fn(s: Session) -> int:
            stmt = sa.update(CrawlRun).where(CrawlRun.site_id == site_id, CrawlRun.outcome == "running")
            if keep is not None:
                stmt = stmt.where(CrawlRun.id != keep)
            result = s.execute(stmt.values(outcome="interrupted", finished_at=utcnow()))
            return result.rowcount or 0

        return self._write("interrupt_stale_runs", fn)

    def runs(self, *, site_id: str | None = None, limit: int = 50) -> list[CrawlRun]:
        """Most recent first."""
        stmt = select(CrawlRun).order_by(col(CrawlRun.id).desc()).limit(limit)
        if site_id is not None:
            stmt = stmt.where(CrawlRun.site_id == site_id)
        return self._read("runs", lambda s: list(s.exec(stmt)))

    # --- blobs, reports, captures ----------------------------------------------------

    def record_blob(self, *, sha256: str, size: int, storage_key: str, content_type: str | None = None) -> None:
        """Register stored bytes. Idempotent, also when two workers race on the same bytes."""
        self._write("record_blob", lambda s: self._record_blob(s, sha256=sha256, size=size, storage_key=storage_key,
                                                               content_type=content_type))

    def _record_blob(self, s: Session, *, sha256: str, size: int, storage_key: str,
                     content_type: str | None = None) -> None:
        stmt = self._statement("blob", lambda: self._insert(Blob.__table__)
                               .on_conflict_do_nothing(index_elements=["sha256"]))
        s.connection().execute(stmt, dict(sha256=sha256, size=size, storage_key=storage_key,
                                          content_type=content_type, created_at=utcnow()))

    def archive(self, *, capture: dict[str, Any], blob: dict[str, Any] | None = None,
                report: dict[str, Any] | None = None,
                redirect_state: dict[str, Any] | None = None,
                owes: list[dict[str, Any]] | None = None) -> tuple[int, int | None]:
        """What the crawler records for one fetched file, in one transaction: the blob (new
        bytes), the report it belongs to, the capture, the URL state of a redirect target, the
        capture's URLs settled if they were owed, and `owes`, the files this page asks for
        (storage/owed.py). Returns (capture_id, report_id). All or nothing: no capture without
        its report row, no report page without its files owed until they are archived too.
        Files archived by several threads at once share that transaction (group commit)."""
        fields = self._capture_fields(dict(capture))
        # Threads archiving at once share a transaction (storage/groupcommit.py).
        return self._archiving.submit((fields, blob, report, redirect_state, owes))

    def _archive_many(self, jobs) -> list[tuple[int, int | None]]:
        def fn(s: Session) -> list[tuple[int, int | None]]:
            return [self._archive_one(s, *job) for job in jobs]

        return self._write("archive", fn)

    def _archive_one(self, s: Session, fields: dict[str, Any], blob: dict[str, Any] | None,
                     report: dict[str, Any] | None, redirect_state: dict[str, Any] | None,
                     owes: list[dict[str, Any]] | None = None) -> tuple[int, int | None]:
        fields = dict(fields)     # a retried transaction starts from the caller's values
        if blob is not None:
            self._record_blob(s, **blob)
        report_id = fields.get("report_id")
        if report is not None:
            report = dict(report)
            publisher = report.pop("publisher", None)
            report_id, _created = self._upsert_report(s, **report)
            self._attribute(s, report_id=report_id, site_id=report["site_id"], url=report["url"],
                            publisher=publisher, agency=report["agency"])
            fields["report_id"] = report_id
        capture_id, change = self._add_capture(s, fields)
        self._settle(s, site_id=fields["site_id"], urls=(fields["url"], fields.get("final_url")))
        if owes:
            self._owe(s, site_id=fields["site_id"], run_id=fields.get("run_id"), skip_archived=True,
                      entries=[dict(e, report_id=e.get("report_id") or report_id) for e in owes])
        if redirect_state is not None:
            self._upsert_url_state(s, redirect_state["url"],
                                   {k: v for k, v in redirect_state.items() if k != "url"}
                                   | {"report_id": report_id, "unchanged_checks": _checks_after(change)})
        return capture_id, report_id

    def blobs(self) -> list[Blob]:
        return self._read("blobs", lambda s: list(s.exec(select(Blob).order_by(Blob.sha256))))

    def upsert_report(self, *, site_id: str, agency: str, year: int | None, title: str | None,
                      url: str, seen_at: datetime | None = None, publisher: dict | None = None) -> tuple[int, bool]:
        """(report_id, created). Identity is (site_id, canonical url); seeing it again revives it.
        publisher: the attribution (crawler.items.ReportRef.publisher); None is the site's own."""
        def fn(s: Session) -> tuple[int, bool]:
            got = self._upsert_report(s, site_id=site_id, agency=agency, year=year, title=title, url=url,
                                      seen_at=seen_at)
            self._attribute(s, report_id=got[0], site_id=site_id, url=url, publisher=publisher,
                            agency=agency)
            return got

        return self._write("upsert_report", fn)

    def _upsert_report(self, s: Session, *, site_id: str, agency: str, year: int | None, title: str | None,
                       url: str, seen_at: datetime | None = None) -> tuple[int, bool]:
        seen_at = seen_at or utcnow()
        conn = s.connection()
        table = Report.__table__
        # Insert-or-nothing, then update: portable, and race-free because the losing
        # INSERT waits for the winner's commit and then finds its row.
        ins = self._statement("report_insert", lambda: self._insert(table)
                              .on_conflict_do_nothing(index_elements=["site_id", "url"]).returning(table.c.id))
        new_id = conn.execute(ins, dict(site_id=site_id, agency=agency, year=year, title=title, url=url,
                                        first_seen=seen_at, last_seen=seen_at, versions=1)).scalar()
        if new_id is not None:
            self._add_changes(s, "report", [(new_id, "created")])
            return new_id, True
        find = self._statement("report_find", lambda: sa.select(
            table.c.id, table.c.title, table.c.last_seen, table.c.removed_at)
            .where(table.c.site_id == sa.bindparam("b_site"), table.c.url == sa.bindparam("b_url"))
            .with_for_update())
        report_id, old_title, last_seen, removed_at = conn.execute(find, dict(b_site=site_id, b_url=url)).one()
        update = self._statement("report_update", lambda: sa.update(table)
                                 .where(table.c.id == sa.bindparam("b_id"))
                                 .values(agency=sa.bindparam("b_agency"), year=sa.bindparam("b_year"),
                                         title=sa.bindparam("b_title"), last_seen=sa.bindparam("b_seen"),
                                         removed_at=None))
        conn.execute(update, dict(b_id=report_id, b_agency=agency, b_year=year, b_title=title or old_title,
                                  b_seen=max(last_seen, seen_at)))
        if removed_at is not None:
            self._add_changes(s, "report", [(report_id, "restored")])
        return report_id, False

    def reports(self, *, site_id: str | None = None) -> list[Report]:
        stmt = select(Report).order_by(Report.site_id, Report.year, Report.id)
        if site_id is not None:
            stmt = stmt.where(Report.site_id == site_id)
        return self._read("reports", lambda s: list(s.exec(stmt)))

    def add_capture(self, **fields: Any) -> int:
        """Record one archived object (written after its blob). Returns the capture id.

        `change` is decided here unless given: the previous capture of the same URL and
        kind with the same bytes means "unchanged", other bytes "changed", none "new".
        A primary capture (no parent) also refreshes the URL's conditional-request state.
        """
        fields = self._capture_fields(fields)
        return self._write("add_capture", lambda s: self._add_capture(s, fields)[0])

    @staticmethod
    def _capture_fields(fields: dict[str, Any]) -> dict[str, Any]:
        if unknown := set(fields) - CAPTURE_FIELDS:
            raise CatalogueValueError(f"add_capture: unknown fields {sorted(unknown)}")
        if missing := {"site_id", "url", "sha256", "size", "storage_key"} - set(fields):
            raise CatalogueValueError(f"add_capture: missing fields {sorted(missing)}")
        _one_of("kind", fields.setdefault("kind", "page"), CAPTURE_KINDS)
        if fields.get("change") is not None:
            _one_of("change", fields["change"], CHANGES)
        fields["headers"] = _jsonable(fields.get("headers"))
        return fields

    def _add_capture(self, s: Session, fields: dict[str, Any]) -> tuple[int, str]:
        """(capture id, change). Core statements built once: this runs for every file archived."""
        conn = s.connection()
        table = Capture.__table__
        values = _with_defaults(Capture, fields)
        change = values["change"]
        if change is None:
            previous = conn.execute(self._statement("capture_previous", lambda: sa.select(table.c.sha256)
                                    .where(table.c.url == sa.bindparam("b_url"), table.c.kind == sa.bindparam("b_kind"))
                                    .order_by(table.c.id.desc()).limit(1)),
                                    dict(b_url=values["url"], b_kind=values["kind"])).scalar()
            change = values["change"] = ("new" if previous is None
                                         else "unchanged" if previous == values["sha256"] else "changed")
        capture_id = conn.execute(self._statement("capture_insert", lambda: sa.insert(table).returning(table.c.id)),
                                  values).scalar_one()
        # A version is new bytes at a URL the report already had; its first files are version 1.
        if values["report_id"] is not None and values["is_report"] and change == "changed":
            conn.execute(self._statement("report_version", lambda: sa.update(Report.__table__)
                                         .where(Report.__table__.c.id == sa.bindparam("b_id"))
                                         .values(versions=Report.__table__.c.versions + 1)),
                         dict(b_id=values["report_id"]))
        if values["parent_id"] is None:
            self._upsert_url_state(s, values["url"], dict(
                site_id=values["site_id"], etag=values["etag"], last_modified=values["last_modified"],
                sha256=values["sha256"], last_status=values["status"], last_fetched=values["fetched_at"],
                missing_since=None, report_id=values["report_id"],
                unchanged_checks=_checks_after(change)))
        self._add_changes(s, "capture", [(capture_id, change)])
        return capture_id, change

    def capture(self, *, capture_id: int) -> Capture | None:
        return self._read("capture", lambda s: s.get(Capture, capture_id))

    def captures(self, *, report_id: int | None = None, run_id: int | None = None) -> list[Capture]:
        stmt = select(Capture).order_by(Capture.id)
        if report_id is not None:
            stmt = stmt.where(Capture.report_id == report_id)
        if run_id is not None:
            stmt = stmt.where(Capture.run_id == run_id)
        return self._read("captures", lambda s: list(s.exec(stmt)))

    def text_renditions(self) -> tuple[set[int], dict[str, Capture]]:
        """(ids of captures that have a text child, source sha256 -> one text capture made from
        those bytes): what a rendition pass can skip or reuse without reading a file again."""
        parent = sa.orm.aliased(Capture)
        stmt = (select(Capture, parent.sha256).join(parent, parent.id == Capture.parent_id)
                .where(Capture.kind == "text").order_by(Capture.id))

        def fn(s: Session):
            done, by_source = set(), {}
            for text, source_sha in s.exec(stmt):
                done.add(text.parent_id)
                by_source.setdefault(source_sha, text)
            return done, by_source

        return self._read("text_renditions", fn)

    def mark_seen(self, *, site_id: str, urls: Iterable[str], at: datetime | None = None) -> int:
        """Reports of site_id at these urls were seen (still listed) at `at`; how many rows."""
        urls = sorted(set(urls))
        at = at or utcnow()

        def fn(s: Session) -> int:
            done = 0
            for i in range(0, len(urls), 500):
                done += s.execute(sa.update(Report).where(Report.site_id == site_id,
                                                          col(Report.url).in_(urls[i:i + 500]),
                                                          Report.last_seen < at)
                                  .values(last_seen=at)).rowcount or 0
            return done

        return self._write("mark_seen", fn) if urls else 0

    def mark_missing(self, *, site_id: str, seen_urls: Iterable[str], at: datetime | None = None,
                     known_before: datetime | None = None, reachable=None) -> list[int]:
        """Reports of site_id whose url is not in seen_urls are marked removed at `at`; their ids.

        known_before: only reports first seen before then (a run's start): a report first seen
        by the same run that judges absence was seen, whatever its URL spelling in seen_urls.
        reachable(url): only reports the site's own walk could reach (its hosts and scope)."""
        seen = set(seen_urls)
        at = at or utcnow()

        def fn(s: Session) -> list[int]:
            stmt = sa.select(Report.id, Report.url).where(
                Report.site_id == site_id, col(Report.removed_at).is_(None))
            if known_before is not None:
                stmt = stmt.where(Report.first_seen < known_before)
            live = s.execute(stmt).all()
            gone = [(rid, url) for rid, url in live
                    if url not in seen and (reachable is None or reachable(url))]
            if not gone:
                return []
            ids = [rid for rid, _ in gone]
            s.execute(sa.update(Report).where(col(Report.id).in_(ids)).values(removed_at=at))
            s.execute(sa.update(UrlState).where(col(UrlState.url).in_([u for _, u in gone]),
                                                col(UrlState.missing_since).is_(None))
                      .values(missing_since=at))
            self._add_changes(s, "report", [(rid, "removed") for rid in ids])
            return ids

        return self._write("mark_missing", fn)

    def report_sources(self, *, site_id: str) -> dict[str, set[str]]:
        """Live reports of a site -> the pages their captures were found on (source_page)."""
        stmt = (sa.select(Report.url, Capture.source_page).join(Capture, Capture.report_id == Report.id)
                .where(Report.site_id == site_id, col(Report.removed_at).is_(None),
                       col(Capture.source_page).is_not(None)))

        def fn(s: Session) -> dict[str, set[str]]:
            out: dict[str, set[str]] = {}
            for url, source in s.execute(stmt):
                out.setdefault(url, set()).add(source)
            return out

        return self._read("report_sources", fn)

    # --- conditional requests --------------------------------------------------------

    def get_url_state(self, *, url: str) -> UrlState | None:
        return self._read("get_url_state", lambda s: s.get(UrlState, url))

    url_state = get_url_state  # the name docs/design.md uses

    def url_states(self, *, site_id: str) -> dict[str, tuple[UrlState, Blob | None]]:
        """Every known URL of a site with the blob it last held, for conditional requests."""
        stmt = (select(UrlState, Blob).join(Blob, Blob.sha256 == UrlState.sha256, isouter=True)
                .where(UrlState.site_id == site_id))
        return self._read("url_states", lambda s: {st.url: (st, blob) for st, blob in s.exec(stmt)})

    def set_url_state(self, *, url: str, **fields: Any) -> None:
        """Insert or update; fields not given keep their stored value."""
        if unknown := set(fields) - URL_STATE_FIELDS:
            raise CatalogueValueError(f"set_url_state: unknown fields {sorted(unknown)}")
        self._write("set_url_state", lambda s: self._upsert_url_state(s, url, fields))

    def _upsert_url_state(self, s: Session, url: str, fields: dict) -> None:
        """Insert or update url_state; a field given INCREMENT is counted up in place (0 in a new row)."""
        plain = tuple(sorted(k for k, v in fields.items() if v is not INCREMENT))
        counted = tuple(sorted(set(fields) - set(plain)))

        def build():
            table = UrlState.__table__
            stmt = self._insert(table)
            if not fields:
                return stmt.on_conflict_do_nothing(index_elements=["url"])
            return stmt.on_conflict_do_update(
                index_elements=["url"],
                set_={**{k: stmt.excluded[k] for k in plain}, **{k: table.c[k] + 1 for k in counted}})

        stmt = self._statement(("url_state", plain, counted), build)
        s.connection().execute(stmt, {"url": url, **{k: fields[k] for k in plain}, **{k: 0 for k in counted}})

    # --- feeds and exports -----------------------------------------------------------

    def changes_since(self, *, cursor: int, limit: int = 100) -> tuple[list[dict], int]:
        """Changes with id > cursor, oldest first, and the cursor to pass next time."""
        if limit <= 0:
            raise CatalogueValueError(f"limit must be positive, got {limit}")
        stmt = select(Change).where(Change.id > cursor).order_by(Change.id).limit(limit)

        def fn(s: Session) -> tuple[list[dict], int]:
            rows = [c.model_dump() for c in s.exec(stmt)]
            self._with_publishers(s, rows)
            return rows, (rows[-1]["id"] if rows else cursor)

        return self._read("changes_since", fn)

    @staticmethod
    def _with_publishers(s: Session, rows: list[dict]) -> None:
        """Each change of a report or of a report's file names its publisher (id, canonical
        name, region code) beside the name as printed: a parser following the feed needs no
        second request to know whose report changed."""
        capture_ids = [r["entity_id"] for r in rows if r["entity"] == "capture"]
        report_of = {cid: rid for cid, rid in s.execute(
            sa.select(Capture.id, Capture.report_id).where(col(Capture.id).in_(capture_ids)))} if capture_ids else {}
        report_ids = {r["entity_id"] for r in rows if r["entity"] == "report"} | {
            rid for rid in report_of.values() if rid is not None}
        found = {}
        if report_ids:
            for rep, pub in s.execute(sa.select(Report, Publisher)
                                      .outerjoin(Publisher, Publisher.id == Report.publisher_id)
                                      .where(col(Report.id).in_(report_ids))):
                found[rep.id] = {"publisher_id": pub.id if pub else None, "publisher": pub.name if pub else None,
                                 "region_code": pub.region_code if pub else None,
                                 "printed": (rep.attribution or {}).get("printed") or rep.agency}
        empty = {"publisher_id": None, "publisher": None, "region_code": None, "printed": None}
        for r in rows:
            rid = r["entity_id"] if r["entity"] == "report" else report_of.get(r["entity_id"])
            r.update(found.get(rid, empty))

    def export_rows(self, *, store=None) -> list[dict]:
        """One dict per archived object, with its provenance.

        storage_key is always there; storage_uri only when a store is given to resolve it.
        """
        stmt = (
            sa.select(Capture, Report, Site)
            .join(Site, Site.id == Capture.site_id)
            .outerjoin(Report, Report.id == Capture.report_id)
            .order_by(Capture.id)
        )

        def fn(s: Session) -> list[dict]:
            rows = []
            publishers = {p.id: p for p in s.exec(select(Publisher))}
            for cap, rep, site in s.execute(stmt).all():
                pub = publishers.get((rep.publisher_id if rep else None) or site.publisher_id)
                rows.append({
                    "url": cap.url, "final_url": cap.final_url, "source_page": cap.source_page,
                    "kind": cap.kind, "sha256": cap.sha256, "size": cap.size,
                    "content_type": cap.content_type, "filename": cap.filename,
                    "storage_key": cap.storage_key,
                    "storage_uri": store.uri(cap.storage_key) if store is not None else None,
                    "agency": rep.agency if rep else site.agency,
                    "year": rep.year if rep else None, "title": rep.title if rep else None,
                    "site_id": cap.site_id, "fetched_at": cap.fetched_at.isoformat(),
                    "crawl_run_id": cap.run_id, "rendered": cap.rendered, "is_report": cap.is_report,
                    "change": cap.change, "capture_id": cap.id, "parent_id": cap.parent_id,
                    # Who published it (storage/publishers.py) beside the name as printed.
                    "publisher_id": pub.id if pub else None, "publisher": pub.name if pub else None,
                    "region_code": pub.region_code if pub else site.region_code,
                    "printed": ((rep.attribution or {}).get("printed") if rep else None)
                    or (rep.agency if rep else site.agency),
                })
            return rows

        return self._read("export_rows", fn)

    # --- coverage --------------------------------------------------------------------

    def set_coverage_mark(self, *, agency: str, year: int, state: str = "not_applicable",
                          who: str | None = None, why: str | None = None) -> None:
        _one_of("state", state, COVERAGE_STATES)
        values = dict(state=state, who=who, why=why, created_at=utcnow())
        stmt = self._insert(CoverageMark).values(agency=agency, year=year, **values)
        self._write("set_coverage_mark", lambda s: s.execute(
            stmt.on_conflict_do_update(index_elements=["agency", "year"], set_=values)))

    def clear_coverage_mark(self, *, agency: str, year: int) -> bool:
        def fn(s: Session) -> bool:
            result = s.execute(sa.delete(CoverageMark).where(CoverageMark.agency == agency,
                                                             CoverageMark.year == year))
            return result.rowcount > 0

        return self._write("clear_coverage_mark", fn)

    def coverage_marks(self) -> list[CoverageMark]:
        return self._read("coverage_marks", lambda s: list(
            s.exec(select(CoverageMark).order_by(CoverageMark.agency, CoverageMark.year))))

    # --- maintenance (used by storage.maintenance) -----------------------------------

    def storage_keys_in_use(self) -> dict[str, str]:
        """storage_key -> sha256, over blobs and captures alike."""
        def fn(s: Session) -> dict[str, str]:
            keys = dict(s.execute(sa.select(Blob.storage_key, Blob.sha256)).all())
            keys.update(s.execute(sa.select(Capture.storage_key, Capture.sha256).distinct()).all())
            return keys

        return self._read("storage_keys_in_use", fn)

    def drop_objects(self, *, storage_keys: Iterable[str]) -> int:
        """Forget captures and blobs stored under these keys; the number of captures dropped.

        Derived captures (dom, text...) of a dropped capture lose their parent link rather
        than disappear: their own bytes may be fine.
        """
        keys = sorted(set(storage_keys))

        def fn(s: Session) -> int:
            if not keys:
                return 0
            ids = list(s.scalars(sa.select(Capture.id).where(col(Capture.storage_key).in_(keys))))
            if ids:
                s.execute(sa.update(Capture).where(col(Capture.parent_id).in_(ids)).values(parent_id=None))
                s.execute(sa.delete(Capture).where(col(Capture.id).in_(ids)))
            s.execute(sa.delete(Blob).where(col(Blob.storage_key).in_(keys)))
            if ids:
                self._add_changes(s, "capture", [(i, "dropped") for i in ids])
            return len(ids)

        return self._write("drop_objects", fn)
