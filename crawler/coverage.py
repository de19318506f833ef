"""Expected coverage: which publisher owes which year's report, and what the archive holds.

One row per registry publisher (storage/publishers.py), never one per spelling, ordered and
totalled by region (province, prefecture, county); the seeded governments with nothing in the
archive are listed apart, as "no site".

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


# A publisher's kind (storage/publishers.py) -> the deadline it answers to; "other" and rows
# without a publisher fall back to what the name says (agency_kind).
DEADLINE_KIND = {"province_government": "government", "prefecture_government": "government",
                 "county_government": "government", "township_government": "government",
                 "department": "department", "subdistrict_office": "department",
                 "zone_committee": "department"}
# The seed's governments: listed as "no site" when nothing in the archive is theirs.
SEEDED_KINDS = ("province_government", "prefecture_government", "county_government")
NO_SITE = "no site"
LEVELS = ("province", "prefecture", "county")


@dataclass
class Row:
    agency: str                  # the publisher's canonical name (one row per publisher)
    site_id: str | None          # the first site it was found on; None: no site in the archive
    region: str | None
    kind: str                    # deadline kind: government | department
    cells: dict[int, str] = field(default_factory=dict)
    reports: dict[int, list[int]] = field(default_factory=dict)
    publisher_id: int | None = None
    region_code: str | None = None
    publisher_kind: str | None = None
    sites: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)    # every name its reports and sites were filed under

    def count(self, state: str) -> int:
        return sum(1 for s in self.cells.values() if s == state)


def region_levels(code: str | None) -> dict[str, str]:
    """The province, prefecture and county codes a region code sits in (320281 -> 320000,
    320200, 320281); a province's own code has no prefecture, a prefecture's no county."""
    code = (code or "")[:6]
    if len(code) != 6 or not code.isdigit():
        return {}
    out = {"province": code[:2] + "0000"}
    if code[2:4] != "00":
        out["prefecture"] = code[:4] + "00"
    if code[4:] != "00":
        out["county"] = code
    return out


@dataclass
class Group:
    level: str          # province | prefecture | county
    code: str
    name: str
    rows: int = 0       # publishers with a row (found on a site)
    no_site: int = 0    # seeded governments with nothing in the archive
    totals: dict[str, int] = field(default_factory=dict)


@dataclass
class Coverage:
    years: list[int]
    rows: list[Row]
    no_site: list[Row] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        return {s: sum(r.count(s) for r in self.rows) for s in STATES}

    def gaps(self) -> list[tuple[str, str, int, str]]:
        return [(r.site_id, r.agency, y, s) for r in self.rows for y, s in sorted(r.cells.items())
                if s in (MISSING, UNREACHABLE, REMOVED, INCOMPLETE)]

    def groups(self) -> list[Group]:
        """Totals per province, prefecture and county, in code order (rows without a region
        code count in no group)."""
        from crawler.publishers.divisions import by_code

        names = by_code()
        groups: dict[tuple[str, str], Group] = {}
        for row in [*self.rows, *self.no_site]:
            for level, code in region_levels(row.region_code).items():
                g = groups.get((level, code))
                if g is None:
                    d = names.get(code)
                    g = groups[(level, code)] = Group(level=level, code=code, name=d.name if d else code,
                                                      totals={s: 0 for s in STATES})
                if row.site_id is None:
                    g.no_site += 1
                    continue
                g.rows += 1
                for state in STATES:
                    g.totals[state] += row.count(state)
        return sorted(groups.values(), key=lambda g: (g.code, LEVELS.index(g.level)))


def _in_region(region: str | None, codes: list[str | None], names: list[str | None]) -> bool:
    if region is None:
        return True
    if region.isdigit():
        from storage.publishers import region_prefix
        prefix = region_prefix(region)
        return any(c and c.startswith(prefix) for c in codes)
    return any(region in (n or "") + (c or "") for n, c in zip(names, codes))


def compute(*, sites, reports, marks, last_outcomes: dict[str, str], today: date | None = None,
            region: str | None = None, site_id: str | None = None,
            changed_ids: set[int] | None = None, incomplete_ids: set[int] | None = None,
            publishers=None) -> Coverage:
    """Plain inputs (rows from the catalogue), so the rule is tested from tables.

    sites: objects with id, agency, kind, first_year, region_name, region_code (publisher_id)
    reports: objects with site_id, agency, year, removed_at, versions, id (publisher_id)
    marks: objects with agency, year (not-applicable cells set by an archivist)
    publishers: objects with id, name, kind, region_code, created_year, abolished_year: one row
    per publisher, whatever names its reports were printed under; without one (reports archived
    before the registry) one row per agency name. A seeded government with neither site nor
    report is listed in `no_site`.
    changed_ids: ids of reports whose bytes changed since first seen. Without it,
    `versions > 1` decides; but versions counts every file of a report (page and
    attachment), so from_catalogue passes the ids it reads from the captures.
    incomplete_ids: ids of reports with a file owed or gone (storage/owed.py); a year whose
    live reports are all incomplete is incomplete.
    region: a code (320000: the province and everything in it) or a name (substring).
    """
    today = today or date.today()
    pubs = {p.id: p for p in publishers or ()}
    all_sites = {s.id: s for s in sites}
    na = {(m.agency, m.year) for m in marks}
    rows: dict[tuple, Row] = {}

    def row_for(pid, agency, site):
        p = pubs.get(pid)
        key = ("p", p.id) if p else ("a", agency)
        row = rows.get(key)
        if row is None:
            kind = (DEADLINE_KIND.get(p.kind) if p else None) or agency_kind(p.name if p else agency, site)
            row = rows[key] = Row(agency=p.name if p else agency, site_id=site.id, region=site.region_name,
                                  kind=kind, publisher_id=p.id if p else None,
                                  region_code=(p.region_code if p else None) or site.region_code,
                                  publisher_kind=p.kind if p else None)
        if site.id not in row.sites:
            row.sites.append(site.id)
        row.names.add(agency)
        return row

    for s in all_sites.values():
        row_for(getattr(s, "publisher_id", None), s.agency, s)
    for r in reports:
        site = all_sites.get(r.site_id)
        if site is not None:
            row_for(getattr(r, "publisher_id", None), r.agency, site).reports.setdefault(r.year, []).append(r)
    kept = {}
    for key, row in rows.items():
        row_sites = [all_sites[i] for i in row.sites]
        if site_id is not None and site_id not in row.sites:
            continue
        if not _in_region(region, [row.region_code] + [s.region_code for s in row_sites],
                          [row.region] + [s.region_name for s in row_sites]):
            continue
        kept[key] = row
    first = min((all_sites[i].first_year or 2008 for row in kept.values() for i in row.sites), default=2008)
    last = today.year
    years = list(range(first, last + 1))
    for row in kept.values():
        p = pubs.get(row.publisher_id)
        row_first = min(all_sites[i].first_year or 2008 for i in row.sites)
        due_until = last_due_year(row.kind, today)
        failed = all(last_outcomes.get(i) == "failed" for i in row.sites)
        for year in years:
            if year < row_first:
                continue
            found = row.reports.get(year, [])
            live = [r for r in found if r.removed_at is None]
            if any((n, year) in na for n in row.names | {row.agency}) or (
                    p and not live and ((p.created_year and year < p.created_year)
                                        or (p.abolished_year and year > p.abolished_year))):
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
            elif failed:
                state = UNREACHABLE
            else:
                state = MISSING
            row.cells[year] = state
    order = {k: i for i, k in enumerate(DEADLINE_KIND)}

    def sort_key(row):
        return (row.region_code or "~", order.get(row.publisher_kind, 99), row.agency, row.site_id or "")

    covered = {row.publisher_id for row in rows.values()}
    no_site = [] if site_id is not None else [
        Row(agency=p.name, site_id=None, region=None, kind=DEADLINE_KIND[p.kind], publisher_id=p.id,
            region_code=p.region_code, publisher_kind=p.kind)
        for p in pubs.values()
        if p.kind in SEEDED_KINDS and p.id not in covered and getattr(p, "merged_into_id", None) is None
        and _in_region(region, [p.region_code], [None])]
    return Coverage(years=years, rows=sorted(kept.values(), key=sort_key), no_site=sorted(no_site, key=sort_key))


def from_catalogue(catalogue, **kwargs) -> Coverage:
    sites = catalogue.sites()
    last_outcomes = {}
    for run in catalogue.runs(limit=10000):
        last_outcomes.setdefault(run.site_id, run.outcome)
    changed_ids = {c.report_id for c in catalogue.captures()
                   if c.is_report and c.report_id is not None and c.change == "changed"}
    return compute(sites=sites, reports=catalogue.reports(), marks=catalogue.coverage_marks(),
                   last_outcomes=last_outcomes, changed_ids=changed_ids, publishers=catalogue.publishers(),
                   incomplete_ids=set(catalogue.owed_reports()), **kwargs)
