"""Expected coverage: which agency owes which year's report, and what the archive holds.

Deadlines (Regulation on Open Government Information, 2008 and as revised in 2019):
reports for years up to 2018 were due by 31 March of the next year; from the 2019 report on,
by 31 January for government departments and by 31 March for people's governments.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

FOUND, REMOVED, CHANGED, MISSING = "found", "removed", "changed", "missing"
NOT_YET_DUE, UNREACHABLE, NOT_APPLICABLE = "not_yet_due", "unreachable", "not_applicable"
# Found, but a file of it is not in the archive: still owed (the next run fetches it) or gone
# from the portal before it could be archived. Never shown as found: an archive must not say
# "found" over a hole.
INCOMPLETE = "incomplete"
STATES = (FOUND, CHANGED, INCOMPLETE, REMOVED, MISSING, UNREACHABLE, NOT_YET_DUE, NOT_APPLICABLE)


def deadline(year: int, kind: str) -> date:
    if year <= 2018 or kind == "government":
        return date(year + 1, 3, 31)
    return date(year + 1, 1, 31)


def agency_kind(agency: str, site) -> str:
    """Deadline kind of an agency found on a site.

    The site's own agency has the configured kind. Other agencies on the same site
    (a directory platform lists every department of a city) are people's governments
    only when their name says so; otherwise they are departments (局, 委员会, 办公室...).
    """
    if agency == site.agency:
        return site.kind
    return "government" if "人民政府" in agency and not agency.endswith("办公室") else "department"


def last_due_year(kind: str, today: date) -> int:
    year = today.year - 1
    while deadline(year, kind) >= today:
        year -= 1
    return year


@dataclass
class Row:
    agency: str
    site_id: str
    region: str | None
    kind: str
    cells: dict[int, str] = field(default_factory=dict)
    reports: dict[int, list[int]] = field(default_factory=dict)

    def count(self, state: str) -> int:
        return sum(1 for s in self.cells.values() if s == state)


@dataclass
class Coverage:
    years: list[int]
    rows: list[Row]

    def totals(self) -> dict[str, int]:
        return {s: sum(r.count(s) for r in self.rows) for s in STATES}

    def gaps(self) -> list[tuple[str, str, int, str]]:
        return [(r.site_id, r.agency, y, s) for r in self.rows for y, s in sorted(r.cells.items())
                if s in (MISSING, UNREACHABLE, REMOVED, INCOMPLETE)]


def compute(*, sites, reports, marks, last_outcomes: dict[str, str], today: date | None = None,
            region: str | None = None, site_id: str | None = None,
            changed_ids: set[int] | None = None, incomplete_ids: set[int] | None = None) -> Coverage:
    """Plain inputs (rows from the catalogue), so the rule is tested from tables.

    sites: objects with id, agency, kind, first_year, region_name, region_code
    reports: objects with site_id, agency, year, removed_at, versions, id
    marks: objects with agency, year (not-applicable cells set by an archivist)
    changed_ids: ids of reports whose bytes changed since first seen. Without it,
    `versions > 1` decides; but versions counts every file of a report (page and
    attachment), so from_catalogue passes the ids it reads from the captures.
    incomplete_ids: ids of reports with a file owed or gone (storage/owed.py); a year whose
    live reports are all incomplete is incomplete.
    """
    today = today or date.today()
    sites = [s for s in sites if (site_id is None or s.id == site_id) and
             (region is None or region in ((s.region_name or "") + (s.region_code or "")))]
    by_site = {s.id: s for s in sites}
    na = {(m.agency, m.year) for m in marks}
    rows: dict[tuple[str, str], Row] = {}
    for s in sites:
        rows[(s.id, s.agency)] = Row(agency=s.agency, site_id=s.id, region=s.region_name, kind=s.kind)
    for r in reports:
        site = by_site.get(r.site_id)
        if site is None:
            continue
        row = rows.setdefault((r.site_id, r.agency), Row(agency=r.agency, site_id=r.site_id,
                                                          region=site.region_name,
                                                          kind=agency_kind(r.agency, site)))
        row.reports.setdefault(r.year, []).append(r)
    first = min((s.first_year or 2008 for s in sites), default=2008)
    last = today.year
    years = list(range(first, last + 1))
    for (sid, agency), row in rows.items():
        site = by_site[sid]
        due_until = last_due_year(row.kind, today)
        for year in years:
            if year < (site.first_year or 2008):
                continue
            found = row.reports.get(year, [])
            live = [r for r in found if r.removed_at is None]
            if (agency, year) in na:
                state = NOT_APPLICABLE
            elif live and incomplete_ids and all(r.id in incomplete_ids for r in live):
                state = INCOMPLETE
            elif live:
                if changed_ids is None:
                    changed = any((r.versions or 1) > 1 for r in live)
                else:
                    changed = any(r.id in changed_ids for r in live)
                state = CHANGED if changed else FOUND
            elif found:
                state = REMOVED
            elif year > due_until:
                state = NOT_YET_DUE
            elif last_outcomes.get(sid) == "failed":
                state = UNREACHABLE
            else:
                state = MISSING
            row.cells[year] = state
    ordered = sorted(rows.values(), key=lambda r: (r.site_id, r.agency))
    return Coverage(years=years, rows=ordered)


def from_catalogue(catalogue, **kwargs) -> Coverage:
    sites = catalogue.sites()
    last_outcomes = {}
    for run in catalogue.runs(limit=10000):
        last_outcomes.setdefault(run.site_id, run.outcome)
    changed_ids = {c.report_id for c in catalogue.captures()
                   if c.is_report and c.report_id is not None and c.change == "changed"}
    return compute(sites=sites, reports=catalogue.reports(), marks=catalogue.coverage_marks(),
                   last_outcomes=last_outcomes, changed_ids=changed_ids,
                   incomplete_ids=set(catalogue.owed_reports()), **kwargs)
