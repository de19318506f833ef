"""What a discovery crawl of a portal found, and the site file written from it (`nianbao sites add`).

The crawl itself is the ad hoc crawl (`nianbao crawl --start-url`); this module only reads what
it left in the catalogue (reports, their captures' source pages, the run's stats) and turns it
into a report for a person and a site file that says it was discovered, not checked.
"""
from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import get_args

import yaml

from crawler.siteconfig import CmsFamily, SiteConfig, adhoc_site

CSV_COLUMNS = ("url", "agency", "allow", "id", "kind", "first_year")


@dataclass
class Portal:
    """One portal to discover: a start URL and what the operator knows of it."""
    url: str
    agency: str | None = None
    allow: list[str] = field(default_factory=list)
    site_id: str | None = None
    kind: str | None = None
    first_year: int | None = None

    def site(self) -> SiteConfig:
        # Without a kind, the name decides (as coverage.agency_kind does for names on a site).
        kind = self.kind or ("government" if "人民政府" in self.agency and not self.agency.endswith("办公室")
                             else "department")
        return adhoc_site(start_url=self.url, agency=self.agency, allow=self.allow or None, kind=kind,
                          site_id=self.site_id, first_year=self.first_year)


def read_csv(path: Path) -> list[Portal]:
    """Portals from a CSV with a header: url (required), agency, allow (hosts separated by spaces or
    semicolons), id, kind, first_year. Raises ValueError naming the line of a bad row."""
    portals = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "url" not in reader.fieldnames:
            raise ValueError(f"{path}: the first line must name the columns, url first ({', '.join(CSV_COLUMNS)})")
        unknown = [c for c in reader.fieldnames if c not in CSV_COLUMNS]
        if unknown:
            raise ValueError(f"{path}: unknown column(s) {', '.join(unknown)}; known: {', '.join(CSV_COLUMNS)}")
        for n, row in enumerate(reader, start=2):
            url = (row.get("url") or "").strip()
            if not url:
                continue
            year = (row.get("first_year") or "").strip()
            if year and not year.isdigit():
                raise ValueError(f"{path}: line {n}: first_year {year!r} is not a year")
            portals.append(Portal(url=url, agency=(row.get("agency") or "").strip() or None,
                                  allow=[h for h in re.split(r"[\s;]+", row.get("allow") or "") if h],
                                  site_id=(row.get("id") or "").strip() or None,
                                  kind=(row.get("kind") or "").strip() or None,
                                  first_year=int(year) if year else None))
    return portals


_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.S | re.I)
_CHARSET = re.compile(rb"charset=[\"']?([A-Za-z0-9_-]+)", re.I)
_SUFFIX = re.compile(r"(门户网站|门户网|官方网站|政府网站|政务网|网站|首页|欢迎您?)$")


def agency_from_title(html: bytes, content_type: str = "") -> str | None:
    """The agency a portal's home page names in its <title>: 「XX市人民政府门户网站」 -> XX市人民政府,
    the part before a separator when there are several (「首页 - XX局」 takes the one naming a body)."""
    m = _TITLE.search(html)
    if not m:
        return None
    charset = (_CHARSET.search(content_type.encode()) or _CHARSET.search(html[:4096]))
    encoding = charset.group(1).decode() if charset else "utf-8"
    try:
        title = m.group(1).decode(encoding, "replace")
    except LookupError:
        title = m.group(1).decode("utf-8", "replace")
    parts = [p.strip() for p in re.split(r"[-_|—–·]+|\s{2,}", title) if p.strip()]
    for part in parts:
        name = _SUFFIX.sub("", part).strip()
        if re.search(r"(人民政府|局|委员会|委|办公室|办|厅|院|中心|政府)$", name):
            return name
    return None


def fetch_agency(url: str, *, proxy: str | None = None, timeout: float = 20) -> str | None:
    """The agency named by the portal's home page title, or None (no network, no title)."""
    import urllib.request

    handlers = [urllib.request.ProxyHandler({"http": proxy, "https": proxy} if proxy else {})]
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(urllib.request.Request(url, headers={"User-Agent": "nianbao sites add"}),
                         timeout=timeout) as resp:
            return agency_from_title(resp.read(512 * 1024), resp.headers.get("Content-Type", ""))
    except (OSError, ValueError):
        return None


@dataclass
class Findings:
    site: SiteConfig
    outcome: str
    pages: int
    years: Counter                        # report year -> reports
    columns: list[tuple[str, int]]        # (page that listed reports, how many), most first
    families: Counter                     # CMS family -> pages recognised as it
    browser_pages: int                    # pages drawn in Chromium
    challenges: int                       # JS challenges met (solved in the browser)
    widened: dict[str, int]               # widening stage -> requests
    departments: list[tuple[str, int]]    # other publishers' names found, with their reports
    reports: int = 0

    @property
    def family(self) -> str | None:
        return self.families.most_common(1)[0][0] if self.families else None

    @property
    def browser_needed(self) -> bool:
        return bool(self.browser_pages or self.challenges)


def findings(catalogue, site: SiteConfig) -> Findings:
    """What the catalogue holds of the site's latest run."""
    runs = catalogue.runs(site_id=site.id, limit=1)
    stats = (runs[0].stats or {}) if runs else {}
    reports = [r for r in catalogue.reports(site_id=site.id) if r.removed_at is None]
    by_url = {r.url: r for r in reports}
    columns: Counter = Counter()
    for cap in catalogue.captures(run_id=runs[0].id) if runs else ():
        if cap.url in by_url and cap.source_page:
            columns[cap.source_page] += 1
            by_url.pop(cap.url)       # one listing per report
    families = Counter({k.split("/", 2)[2]: v for k, v in stats.items()
                        if k.startswith("nianbao/family/") and isinstance(v, int)})
    widened = {k.split("/")[2]: v for k, v in stats.items()
               if re.fullmatch(r"nianbao/widen/[^/]+/requests", k) and isinstance(v, int)}
    others = Counter(r.agency for r in reports if r.agency != site.agency)
    return Findings(site=site, outcome=runs[0].outcome if runs else "not run", pages=stats.get("nianbao/pages", 0),
                    years=Counter(r.year for r in reports if r.year), columns=columns.most_common(),
                    families=families, browser_pages=stats.get("nianbao/render/pages", 0) or 0,
                    challenges=sum(v for k, v in stats.items() if k.startswith("nianbao/challenge/")
                                   and k != "nianbao/challenge/unsolved" and isinstance(v, int)),
                    widened=widened,
                    departments=others.most_common(), reports=len(reports))


def describe(f: Findings) -> list[str]:
    """Lines for a person: where the 年报 columns are, the CMS, the browser, reports per year."""
    lines = [f"{f.site.id}: {f.site.agency} <{f.site.start_urls[0]}>",
             f"  run {f.outcome}: {f.pages} pages, {f.reports} report(s)"
             + (f", {min(f.years)}–{max(f.years)}" if f.years else "")]
    if f.years:
        lines.append("  reports per year: " + ", ".join(f"{y} {n}" for y, n in sorted(f.years.items())))
    if f.columns:
        lines.append("  年报 columns (pages that listed reports):")
        lines.extend(f"    {n:>3}  {url}" for url, n in f.columns[:10])
        if len(f.columns) > 10:
            lines.append(f"    ... and {len(f.columns) - 10} more")
    else:
        lines.append("  年报 columns: none found")
    lines.append(f"  CMS family: {f.family or 'not recognised'}"
                 + (f" ({', '.join(f'{k} {v}' for k, v in f.families.most_common())} page(s))" if f.families else ""))
    browser = [f"{f.browser_pages} page(s) rendered"] if f.browser_pages else []
    browser += [f"{f.challenges} JS challenge(s) solved"] if f.challenges else []
    lines.append("  browser: " + ("needed: " + ", ".join(browser) if browser else "not needed"))
    if any(f.widened.values()):
        lines.append("  widened: " + ", ".join(f"{k} {v} request(s)" for k, v in f.widened.items()))
    if f.departments:
        lines.append(f"  directory platform: {len(f.departments)} other publisher(s): "
                     + ", ".join(f"{name} ({n})" for name, n in f.departments[:12])
                     + (" ..." if len(f.departments) > 12 else ""))
    return lines


def site_file(f: Findings, *, today: date | None = None) -> dict:
    """The site file's content: the ad hoc site as crawled, what was learnt, and its verification."""
    today = today or date.today()
    data = f.site.model_dump(mode="json", exclude_defaults=True)
    data.setdefault("kind", f.site.kind)
    data["allowed_hosts"] = list(f.site.allowed_hosts)
    data["render"] = f.site.render
    guessed = bool(f.years) and "first_year" not in data and min(f.years) > 2008
    if guessed:
        data["first_year"] = min(f.years)
    hints = {}
    if f.family in get_args(CmsFamily):
        hints["cms"] = f.family
    if f.departments:
        hints["directory"] = True
    if hints:
        data["hints"] = hints
    note = (f"discovered by `nianbao sites add`: {f.reports} report(s)"
            + (f" {min(f.years)}-{max(f.years)}" if f.years else "")
            + ("; first_year is the earliest found, earlier reports may exist elsewhere" if guessed else "")
            + "; not checked by a person")
    data["verification"] = {"verified": False, "discovered": today.isoformat(), "note": note}
    return data


def write_site_file(f: Findings, directory: Path, *, today: date | None = None) -> Path:
    data = site_file(f, today=today)
    SiteConfig.model_validate(data)          # what is written loads
    head = [f"# {f.site.agency}: written by `nianbao sites add` on {(today or date.today()).isoformat()}.",
            "# Discovered, not checked by a person: check it against the portal, then set verification.verified.",
            *(f"# {line}" for line in describe(f)[1:])]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{data['id']}.yaml"
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=200)
    path.write_text("\n".join(head) + "\n" + body, encoding="utf-8")
    return path
