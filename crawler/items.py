"""What the spider hands to the pipelines: one fetched file and what it is."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ReportRef:
    """The report a file belongs to. `url` is the report's identity (canonical article URL)."""
    agency: str
    year: int
    title: str
    url: str
    # Who published it, as attribution resolved it (crawler/publishers/): {"name": canonical,
    # "kind", "region_code", "parent": canonical name or None, "printed": the name as the page
    # wrote it, "source": the evidence used ("page_field", "breadcrumb", "title", "body",
    # "site"), "evidence": [{"source", "text"}...], "conflict": str or None}. None: the site's.
    publisher: dict | None = field(default=None, compare=False, hash=False)


@dataclass(repr=False)
class FileItem:
    site_id: str
    url: str                    # the URL requested
    final_url: str              # after redirects
    source_page: str | None     # the page that linked to it
    status: int
    headers: dict[str, str]
    body: bytes
    content_type: str | None
    filename: str | None
    fetched_at: datetime
    kind: str = "page"          # page | attachment
    report: ReportRef | None = None
    rendered: bool = False
    browser_version: str | None = None
    # Derived objects captured alongside (rendered DOM, screenshot): kind -> (bytes, content type)
    derived: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    # Where the exchange sits in the run's WARC files: {"key", "offset", "length", "revisit"}
    warc: dict | None = None
    # A 304 on revalidation: the archived object it still is ({"sha256", "size", "storage_key"})
    unchanged: dict | None = None
    # Served from the archive because the run being resumed captured it before it died
    resumed: bool = False
    # What the spider made of this page (crawler.analyses), kept so a recrawl need not parse it
    analysis: bytes | None = None
    # Files this page asks for (spiders/debts.py entries), owed in the page's own archive
    # transaction until each is archived in turn: a report page is never on record without them
    owes: list[dict] = field(default_factory=list)

    def __repr__(self) -> str:
        # Logged by Scrapy whenever an item is scraped, dropped or fails: what and where, never the bytes.
        report = f" report={self.report.year}" if self.report is not None else ""
        return (f"<FileItem {self.kind} {self.status} {self.url} site={self.site_id} "
                f"type={self.content_type} bytes={len(self.body or b'')}{report}>")

    def header(self, name: str) -> str | None:
        """A response header by name, in any case: Scrapy title-cases names ("Etag")."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    @property
    def is_report(self) -> bool:
        return self.report is not None
