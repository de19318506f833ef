"""The JSON API: the change feed for parsers, reports, capture metadata, bytes and text.

FastAPI serves its OpenAPI document at /openapi.json. State changes (coverage marks,
crawls) need the token; everything else is read-only.
"""
from __future__ import annotations

import os
import subprocess
import sys
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from crawler.coverage_format import as_dict
from crawler.web import data, inputs, security, stats
from crawler.web.app import stream_capture

router = APIRouter(prefix="/api", tags=["api"])
MAX_LIMIT = 1000   # inputs.PageLimit's bound, kept for importers


def _ctx(request: Request) -> data.Context:
    return request.app.state.ctx


def _capture_or_404(ctx, capture_id: int):
    cap = data.capture(ctx.catalogue, capture_id)
    if cap is None:
        raise HTTPException(404, f"no capture {capture_id}")
    return cap


@router.get("/changes", summary="Reports and files changed since a cursor")
def changes(request: Request, cursor: inputs.Cursor = 0, limit: inputs.PageLimit = 100):
    """Oldest first. Pass the returned `cursor` back to get the next page; an empty page means
    you are up to date. Ids commit in order, so nothing is skipped under concurrent writers.
    A report's `figures` change (its statistics read, or read differently by a new extractor
    version) carries `figures_url`."""
    rows, next_cursor = _ctx(request).catalogue.changes_since(cursor=cursor, limit=limit)
    for row in rows:   # a report's statistics were read or read differently (nianbao stats extract)
        if row["entity"] == "report" and row["action"] == "figures":
            row["figures_url"] = f"/api/reports/{row['entity_id']}/figures"
    return {"changes": rows, "cursor": next_cursor, "more": len(rows) == limit}


@router.get("/reports", summary="Reports with their captures")
def reports(request: Request, site: inputs.SiteFilter = None, year: inputs.OptionalYear = None,
            agency: inputs.AgencyFilter = None):
    cat = _ctx(request).catalogue
    inputs.known_site(cat, site)
    inputs.known_agency(cat, agency)
    rows = [r for r in cat.reports(site_id=site) if (year is None or r.year == year)
            and (agency is None or r.agency == agency)]
    ids = {r.id for r in rows}
    caps: dict[int, list] = {}
    for c in cat.captures():
        if c.report_id in ids:
            caps.setdefault(c.report_id, []).append(c)
    publishers = {p.id: p for p in cat.publishers(include_merged=True)}
    figures = cat.figure_summaries()
    rows = [data.report_dict(r, caps.get(r.id, []), publishers.get(r.publisher_id)) for r in rows]
    for row in rows:   # its statistics in short; None when no file of it was read (nianbao stats extract)
        got = figures.get(row["id"])
        row["figures"] = dict(got, url=f"/api/reports/{row['id']}/figures") if got else None
    return rows


@router.get("/reports/{report_id}/figures", summary="A report's statistics with provenance and checks")
def report_figures(request: Request, report_id: stats.ReportId):
    """Every figure of the report's current files (table, row, column, value, unit, as printed),
    where it was read (capture id, sha256, page or element path, extractor version), and each
    file's reading: format, layout, status, the checks (failed ones named on their cells too) and
    problems. `nianbao stats extract` makes them."""
    cat = _ctx(request).catalogue
    report = cat.report(report_id=report_id)
    if report is None:
        raise HTTPException(404, f"no report {report_id}")
    return stats.report_figures(cat, report)


@router.get("/captures/{capture_id}", summary="Capture metadata and provenance")
def capture_meta(request: Request, capture_id: inputs.CaptureId):
    ctx = _ctx(request)
    cap = _capture_or_404(ctx, capture_id)
    return data.capture_dict(cap, data.children(ctx.catalogue, cap.id))


@router.get("/captures/{capture_id}/raw", summary="The archived bytes")
def capture_raw(request: Request, capture_id: inputs.CaptureId):
    ctx = _ctx(request)
    return stream_capture(ctx, _capture_or_404(ctx, capture_id))


@router.get("/captures/{capture_id}/text", summary="Plain-text rendition")
def capture_text(request: Request, capture_id: inputs.CaptureId):
    ctx = _ctx(request)
    cap = _capture_or_404(ctx, capture_id)
    text = data.text_rendition(ctx.catalogue, cap)
    if text is None:
        raise HTTPException(404, f"capture {capture_id} has no text rendition (run `nianbao texts`)")
    return stream_capture(ctx, text, inline=True)


@router.get("/coverage", summary="The agency x year matrix")
def coverage(request: Request, region: inputs.RegionFilter = None, site: inputs.SiteFilter = None):
    ctx = _ctx(request)
    cov = data.coverage(ctx, region=region, site_id=inputs.known_site(ctx.catalogue, site))
    # One row per publisher: cells carry publisher_id and region_code; no_site lists the seeded
    # governments with nothing in the archive; groups the totals per province, prefecture, county.
    return as_dict(cov)


class MarkIn(BaseModel):
    # The bounds of crawler/web/inputs.py, which the HTML form applies too.
    agency: str = Field(min_length=1, max_length=inputs.AGENCY_MAX)
    year: int = Field(ge=inputs.YEAR_MIN, le=inputs.YEAR_MAX)
    who: str = Field(min_length=1, max_length=inputs.WHO_MAX)
    why: str = Field(min_length=1, max_length=inputs.WHY_MAX)


@router.post("/marks", summary="Mark an (agency, year) cell not applicable (token)")
def mark_na(request: Request, mark: MarkIn):
    security.require_token(request)
    inputs.known_agency(_ctx(request).catalogue, mark.agency, status=422)
    inputs.known_cell(_ctx(request).catalogue, mark.agency, mark.year, today=_ctx(request).today)
    _ctx(request).catalogue.set_coverage_mark(agency=mark.agency, year=mark.year, who=mark.who, why=mark.why)
    return {"ok": True, **mark.model_dump()}


@router.delete("/marks", summary="Remove a not-applicable mark (token)")
def unmark(request: Request, agency: inputs.Agency, year: inputs.Year):
    security.require_token(request)
    removed = _ctx(request).catalogue.clear_coverage_mark(agency=agency, year=year)
    if not removed:
        raise HTTPException(404, f"no mark for {agency} {year}")
    return {"ok": True}


class CrawlIn(BaseModel):
    sites: list[Annotated[str, Field(min_length=1, max_length=inputs.SITE_MAX)]] = Field(min_length=1,
                                                                                        max_length=100)


@router.post("/crawl", status_code=202, summary="Start a crawl of configured sites (token)")
def crawl(request: Request, body: CrawlIn):
    security.require_token(request)
    ctx = _ctx(request)
    from crawler import env
    from crawler.siteconfig import ConfigError, load_sites

    try:
        known = {s.id for s in load_sites(env.sites_dir(ctx.sites_dir))}
    except ConfigError as exc:
        raise HTTPException(409, f"site configuration has {len(exc.problems)} problem(s)") from None
    unknown = [s for s in body.sites if s not in known]
    if unknown:
        raise HTTPException(404, f"unknown site id(s): {', '.join(unknown)}")
    # Site ids were checked against the configuration; the argument list goes to exec, no shell.
    # The catalogue URL travels in the environment: it may hold a password, argv is world-readable.
    args = [sys.executable, "-m", "crawler.cli", "crawl", *body.sites, "--store", ctx.store.url]
    if ctx.sites_dir:
        args += ["--sites-dir", str(ctx.sites_dir)]
    child_env = {**os.environ,
                 "NIANBAO_CATALOGUE": ctx.catalogue.engine.url.render_as_string(hide_password=False)}
    ctx.crawls[:] = [p for p in ctx.crawls if p.poll() is None]   # reap finished ones
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=child_env)
    ctx.crawls.append(proc)
    return {"started": body.sites, "pid": proc.pid}
