"""Catalogue tables. Schema changes go through Alembic (storage/migrations), never create_all.

Timestamps are timezone-aware UTC everywhere, SQLite included (see UTCDateTime).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

# Closed vocabularies, checked by the catalogue before writing.
SITE_KINDS = ("government", "department")
RUN_OUTCOMES = ("running", "ok", "partial", "failed", "interrupted")
CAPTURE_KINDS = ("page", "attachment", "dom", "screenshot", "text")
CHANGES = ("new", "changed", "unchanged")
COVERAGE_STATES = ("not_applicable",)
OWED_KINDS = ("file", "page")
# owed: not yet archived, the next run fetches it first; gone: the server answered for good
# (404, 410, refused by robots or scope) so nothing more can be archived from that URL.
OWED_STATES = ("owed", "gone")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class NaiveDatetimeError(ValueError):
    """A datetime without tzinfo: we cannot know which zone it meant."""


class UTCDateTime(TypeDecorator):
    """Stores UTC, returns aware UTC datetimes, on PostgreSQL and on SQLite alike.

    SQLite has no time zones, so values go in as naive UTC and come back tagged UTC.
    A naive datetime going in is refused: guessing its zone is how archives get
    off-by-eight-hours timestamps.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(f"naive datetime {value.isoformat()} given; pass a timezone-aware one")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


def _json(**kw: Any) -> Any:
    return Field(default_factory=dict, sa_type=sa.JSON, **kw)


class Site(SQLModel, table=True):
    __tablename__ = "site"

    id: str = Field(primary_key=True, max_length=200)
    agency: str
    region_name: Optional[str] = None
    region_code: Optional[str] = Field(default=None, max_length=32)
    kind: str = Field(default="department", max_length=16)
    first_year: Optional[int] = None
    config_hash: Optional[str] = Field(default=None, max_length=64)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)
    publisher_id: Optional[int] = Field(default=None, foreign_key="publisher.id")   # its own agency


class CrawlRun(SQLModel, table=True):
    __tablename__ = "crawl_run"

    id: Optional[int] = Field(default=None, primary_key=True)
    site_id: str = Field(foreign_key="site.id", index=True)
    started_at: datetime = _ts(default_factory=utcnow)
    finished_at: Optional[datetime] = _ts(default=None)
    config_hash: Optional[str] = Field(default=None, max_length=64)
    software_version: Optional[str] = Field(default=None, max_length=64)
    outcome: str = Field(default="running", max_length=16)
    pages: int = 0
    bytes: int = Field(default=0, sa_type=sa.BigInteger)
    new_reports: int = 0
    changed_reports: int = 0
    unchanged_reports: int = 0
    removed_reports: int = 0
    errors: dict = _json()
    stats: dict = _json()


class Report(SQLModel, table=True):
    __tablename__ = "report"
    __table_args__ = (sa.UniqueConstraint("site_id", "url", name="uq_report_site_url"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    site_id: str = Field(foreign_key="site.id", index=True)
    agency: str
    year: Optional[int] = Field(default=None, index=True)
    title: Optional[str] = None
    url: str
    first_seen: datetime = _ts(default_factory=utcnow)
    last_seen: datetime = _ts(default_factory=utcnow)
    removed_at: Optional[datetime] = _ts(default=None)
    versions: int = 1
    # Who published it (storage/publishers.py) and the evidence that said so, with any conflict.
    publisher_id: Optional[int] = Field(default=None, foreign_key="publisher.id", index=True)
    attribution: Optional[dict] = Field(default=None, sa_type=sa.JSON)


class Blob(SQLModel, table=True):
    __tablename__ = "blob"

    sha256: str = Field(primary_key=True, max_length=64)
    size: int = Field(sa_type=sa.BigInteger)
    storage_key: str
    content_type: Optional[str] = None
    created_at: datetime = _ts(default_factory=utcnow)


class Capture(SQLModel, table=True):
    __tablename__ = "capture"

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: Optional[int] = Field(default=None, foreign_key="crawl_run.id", index=True)
    site_id: str = Field(foreign_key="site.id", index=True)
    report_id: Optional[int] = Field(default=None, foreign_key="report.id", index=True)
    parent_id: Optional[int] = Field(default=None, foreign_key="capture.id")
    kind: str = Field(default="page", max_length=16)
    url: str = Field(index=True)  # previous capture of a URL decides new/changed/unchanged
    final_url: Optional[str] = None
    source_page: Optional[str] = None
    status: Optional[int] = None
    etag: Optional[str] = None
    last_modified: Optional[str] = None
    content_type: Optional[str] = None
    filename: Optional[str] = None
    fetched_at: datetime = _ts(default_factory=utcnow)
    sha256: str = Field(foreign_key="blob.sha256", index=True, max_length=64)
    size: int = Field(sa_type=sa.BigInteger)
    storage_key: str
    rendered: bool = False
    browser_version: Optional[str] = None
    is_report: bool = False
    change: Optional[str] = Field(default=None, max_length=16)
    warc_key: Optional[str] = None
    warc_offset: Optional[int] = Field(default=None, sa_type=sa.BigInteger)
    warc_length: Optional[int] = Field(default=None, sa_type=sa.BigInteger)
    headers: dict = _json()


class UrlState(SQLModel, table=True):
    __tablename__ = "url_state"

    url: str = Field(primary_key=True)
    site_id: Optional[str] = Field(default=None, index=True)
    etag: Optional[str] = None
    last_modified: Optional[str] = None
    sha256: Optional[str] = Field(default=None, max_length=64)
    last_status: Optional[int] = None
    last_fetched: Optional[datetime] = _ts(default=None)
    missing_since: Optional[datetime] = _ts(default=None)
    report_id: Optional[int] = None
    # Revalidations in a row that found the same bytes (crawler/revisit.py spaces them out).
    unchanged_checks: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Change(SQLModel, table=True):
    """An append-only feed of what changed, read by cursor (changes_since)."""

    __tablename__ = "change"

    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = _ts(default_factory=utcnow)
    entity: str = Field(max_length=16)
    entity_id: int
    action: str = Field(max_length=32)


class CoverageMark(SQLModel, table=True):
    """A human's statement that an (agency, year) cell needs no report."""

    __tablename__ = "coverage_mark"
    __table_args__ = (sa.UniqueConstraint("agency", "year", name="uq_coverage_mark_agency_year"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    agency: str
    year: int
    state: str = Field(default="not_applicable", max_length=32)
    who: Optional[str] = None
    why: Optional[str] = None
    created_at: datetime = _ts(default_factory=utcnow)


class OwedFile(SQLModel, table=True):
    """A file (or report page) a run meant to archive and did not: the debt the next run pays
    first, whatever the revisit schedule says. Settled by the capture that archives it, in
    the same transaction (storage/owed.py)."""

    __tablename__ = "owed_file"
    __table_args__ = (sa.UniqueConstraint("site_id", "url", name="uq_owed_file_site_url"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    site_id: str = Field(foreign_key="site.id", index=True)
    url: str
    kind: str = Field(default="file", max_length=16)
    report_id: Optional[int] = Field(default=None, foreign_key="report.id")
    source_page: Optional[str] = None
    state: str = Field(default="owed", max_length=16)
    reason: str = Field(default="pending", max_length=200)
    attempts: int = 0
    run_id: Optional[int] = None        # the run that last owed it
    meta: dict = _json()                # what the request needs again (a vague link's context)
    first_owed: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class SiteLease(SQLModel, table=True):
    """One run per site at a time, across processes and machines: whoever holds an unexpired
    lease (renewed by its heartbeat) crawls the site; storage/leases.py."""

    __tablename__ = "site_lease"

    site_id: str = Field(primary_key=True, max_length=200)
    owner: str = Field(max_length=200)  # host:pid
    run_id: Optional[int] = None
    acquired_at: datetime = _ts(default_factory=utcnow)
    expires_at: datetime = _ts(default_factory=utcnow)


# Who publishes reports (storage/publishers.py). Kinds of publisher, and where an alias was seen.
PUBLISHER_KINDS = ("province_government", "prefecture_government", "county_government",
                   "township_government", "department", "subdistrict_office", "zone_committee", "other")
ALIAS_SOURCES = ("title", "page_field", "breadcrumb", "site_file", "archivist", "seed", "body")
PUBLISHER_ACTIONS = ("merge", "split_alias", "add_alias", "created", "abolished", "undo")


class Publisher(SQLModel, table=True):
    """One body that publishes reports, whatever the spellings it is printed under: a people's
    government (seeded from GB/T 2260), a department, a 街道办事处, a 管委会."""

    __tablename__ = "publisher"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)         # canonical: 江阴市住房和城乡建设局
    kind: str = Field(default="other", max_length=32)
    region_code: Optional[str] = Field(default=None, max_length=12, index=True)   # GB/T 2260
    parent_id: Optional[int] = Field(default=None, foreign_key="publisher.id", index=True)
    created_year: Optional[int] = None
    abolished_year: Optional[int] = None
    merged_into_id: Optional[int] = Field(default=None, foreign_key="publisher.id")
    created_at: datetime = _ts(default_factory=utcnow)


class PublisherAlias(SQLModel, table=True):
    """A name a publisher was printed under (normalised, simplified), where it was seen."""

    __tablename__ = "publisher_alias"
    __table_args__ = (sa.UniqueConstraint("alias", "publisher_id", "site_id", name="uq_publisher_alias"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    publisher_id: int = Field(foreign_key="publisher.id", index=True)
    alias: str = Field(max_length=200, index=True)
    source: str = Field(max_length=16)
    site_id: Optional[str] = Field(default=None, foreign_key="site.id")
    example_url: Optional[str] = None
    evidence: Optional[str] = None          # the text that showed it (发布机构：县住建局)
    first_seen: datetime = _ts(default_factory=utcnow)


class PublisherAction(SQLModel, table=True):
    """An archivist's change to the registry, with enough in `payload` to undo it."""

    __tablename__ = "publisher_action"

    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = _ts(default_factory=utcnow)
    who: str = Field(max_length=200)
    why: str
    action: str = Field(max_length=16)
    payload: dict = _json()
    undone_by: Optional[int] = None        # the id of the undo action


# Statistics read out of report files (storage/figures.py; the reading itself is figures/, which
# knows nothing of the catalogue). What an extraction concluded for one file:
# ok: figures, every check passed; failed_checks: figures as printed, a check broken;
# no_tables: nothing to read (a page that only links its PDF, a scan); error: the extractor failed.
EXTRACTION_STATUSES = ("ok", "failed_checks", "no_tables", "error")
FIGURE_SOURCES = ("table", "text")


class FigureExtraction(SQLModel, table=True):
    """One extractor version's reading of one archived file: its format, layout, checks and
    problems. The newest row of a capture is what the archive holds; a file already read by the
    running version is not read again, a file with no tables included."""

    __tablename__ = "figure_extraction"
    __table_args__ = (sa.UniqueConstraint("capture_id", "extractor_version", name="uq_figure_extraction"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    # A capture forgotten (its bytes lost: Catalogue.drop_objects) takes its readings with it.
    capture_id: int = Field(foreign_key="capture.id", index=True, ondelete="CASCADE")
    report_id: int = Field(foreign_key="report.id", index=True)
    sha256: str = Field(max_length=64, index=True)
    extractor_version: str = Field(max_length=32)
    format: Optional[str] = Field(default=None, max_length=16)
    layout: Optional[str] = Field(default=None, max_length=32)
    status: str = Field(max_length=16)
    figures: int = 0                         # how many figure rows this reading holds
    failed_checks: int = 0
    checks: list = Field(default_factory=list, sa_type=sa.JSON)     # [{name, ok, expected, actual, cells}]
    problems: list = Field(default_factory=list, sa_type=sa.JSON)   # [str]
    # The version whose figure rows hold this reading's figures: a newer version that read the
    # same figures writes none, and says so here.
    figures_version: Optional[str] = Field(default=None, max_length=32)
    extracted_at: datetime = _ts(default_factory=utcnow)


class ReportFigure(SQLModel, table=True):
    """One cell of a report's statistics (or a figure stated in its text), as printed, with where
    it was read: the capture, its bytes' sha256, the page (PDF) or element path (HTML, DOCX)."""

    __tablename__ = "report_figure"

    id: Optional[int] = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    capture_id: int = Field(foreign_key="capture.id", index=True, ondelete="CASCADE")
    sha256: str = Field(max_length=64)
    table: str = Field(max_length=32)        # table2 | table3 | table4 | text
    row: str
    column: str
    value: Optional[float] = None
    unit: str = Field(default="", max_length=16)
    printed: str = ""
    page: Optional[int] = None
    path: Optional[str] = None
    source: str = Field(default="table", max_length=8)
    evidence: str = ""
    extractor_version: str = Field(max_length=32)
    extracted_at: datetime = _ts(default_factory=utcnow)
