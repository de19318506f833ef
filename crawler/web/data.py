"""What the pages and the API read, assembled from catalogue calls.

storage.catalogue owns the SQL; this module only combines its results. Where the
catalogue has no single-row lookup yet, the list is filtered here (see `capture`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from crawler import coverage as cov_rule


@dataclass
class Context:
    catalogue: object
    store: object
    token: str | None
    today: date | None = None
    sites_dir: str | None = None
    crawls: list = field(default_factory=list)   # Popen objects of crawls started from the UI


def capture(cat, capture_id: int):
    """One capture row, or None. Uses Catalogue.capture() when the catalogue has it."""
    getter = getattr(cat, "capture", None)
    if getter is not None:
        return getter(capture_id=capture_id)
    return next((c for c in cat.captures() if c.id == capture_id), None)


def children(cat, capture_id: int) -> list:
    return [c for c in cat.captures() if c.parent_id == capture_id]


def text_rendition(cat, cap):
    """The text capture of cap (cap itself when it is one), or None."""
    if cap.kind == "text":
        return cap
    texts = [c for c in children(cat, cap.id) if c.kind == "text"]
    return texts[-1] if texts else None


def coverage(ctx: Context, *, region: str | None = None, site_id: str | None = None):
    return cov_rule.from_catalogue(ctx.catalogue, today=ctx.today, region=region or None,
                                   site_id=site_id or None)


@dataclass
class YearEntry:
    year: int | None
    state: str | None
    reports: list = field(default_factory=list)   # (report, [captures])
    mark: object | None = None


def agency_timeline(ctx: Context, *, site_id: str, agency: str) -> tuple[object | None, list[YearEntry]]:
    """The agency's row of the matrix with its reports and their captures, newest year first."""
    cat = ctx.catalogue
    row = next((r for r in coverage(ctx, site_id=site_id).rows if r.agency == agency), None)
    reports = [r for r in cat.reports(site_id=site_id) if r.agency == agency]
    ids = {r.id for r in reports}
    caps: dict[int, list] = {}
    for c in cat.captures():
        if c.report_id in ids:
            caps.setdefault(c.report_id, []).append(c)
    marks = {m.year: m for m in cat.coverage_marks() if m.agency == agency}
    years = set(row.cells) if row else set()
    years |= {r.year for r in reports}
    entries = []
    for year in sorted(years, key=lambda y: (y is None, -(y or 0))):
        entries.append(YearEntry(
            year=year, state=row.cells.get(year) if row and year is not None else None,
            reports=[(r, caps.get(r.id, [])) for r in reports if r.year == year],
            mark=marks.get(year)))
    return row, entries


def report_dict(report, captures: list, publisher=None) -> dict:
    """publisher: the registry row report.publisher_id names (its canonical name and region)."""
    return {
        "id": report.id, "site_id": report.site_id, "agency": report.agency, "year": report.year,
        # Who published it (storage/publishers.py) beside the name as printed.
        "publisher_id": report.publisher_id, "publisher": publisher.name if publisher else None,
        "region_code": publisher.region_code if publisher else None,
        "printed": (report.attribution or {}).get("printed") or report.agency,
        "title": report.title, "url": report.url, "first_seen": report.first_seen,
        "last_seen": report.last_seen, "removed_at": report.removed_at,
        "captures": [{"id": c.id, "kind": c.kind, "parent_id": c.parent_id, "sha256": c.sha256,
                      "content_type": c.content_type, "fetched_at": c.fetched_at, "change": c.change}
                     for c in captures],
    }


def capture_dict(cap, kids: list) -> dict:
    d = cap.model_dump()
    d.pop("storage_key", None)   # an internal address; clients fetch bytes by id
    d["children"] = [{"id": c.id, "kind": c.kind, "content_type": c.content_type} for c in kids]
    d["raw_url"] = f"/api/captures/{cap.id}/raw"
    d["text_url"] = f"/api/captures/{cap.id}/text"
    return d
