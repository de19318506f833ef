"""Server-rendered HTML pages: coverage heatmap, agency timeline, capture provenance, runs."""
from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from crawler import heatmap
from crawler.coverage import STATES
from crawler.web import data, inputs, security, stats
from crawler.web.app import HERE, stream_capture

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals.update(colours=heatmap.STATE_COLOURS, labels=heatmap.STATE_LABELS, states=STATES)
templates.env.filters["ts"] = lambda d: d.strftime("%Y-%m-%d %H:%M:%S UTC") if d else ""
templates.env.filters["agency_url"] = lambda row: "/agency?" + urlencode({"site": row[0], "name": row[1]})


def _ctx(request: Request) -> data.Context:
    return request.app.state.ctx


def _page(request: Request, template: str, **context) -> HTMLResponse:
    ctx = _ctx(request)
    return templates.TemplateResponse(request, template, {"writable": bool(ctx.token), **context})


@router.get("/", response_class=HTMLResponse)
def heatmap_page(request: Request, region: inputs.RegionFilter = "", site: inputs.SiteFilter = "",
                 figure: Annotated[str, Query(max_length=stats.CELL_MAX)] = ""):
    """figure: a cell ("table3/一、本年新收/总计"): each year's cell shows that figure of its
    reports and is shaded by it (light to dark blue, by value / the largest shown); a year whose
    reports have no such figure keeps its state's colour."""
    ctx = _ctx(request)
    inputs.known_site(ctx.catalogue, site)
    region, site = region or "", site or ""
    cov = data.coverage(ctx, region=region, site_id=site)
    sites = ctx.catalogue.sites()
    shaded = stats.shaded_cells(ctx.catalogue, cov, figure) if figure else {}
    return _page(request, "coverage.html", cov=cov, totals=cov.totals(), gaps=cov.gaps(), sites=sites,
                 region=region, site=site, svg_query=urlencode({"region": region, "site": site, **({"figure": figure} if figure else {})}),
                 figure=figure, shaded=shaded)


@router.get("/coverage.svg")
def heatmap_svg(request: Request, region: inputs.RegionFilter = "", site: inputs.SiteFilter = "",
                figure: Annotated[str, Query(max_length=stats.CELL_MAX)] = ""):
    ctx = _ctx(request)
    cov = data.coverage(ctx, region=region, site_id=inputs.known_site(ctx.catalogue, site))
    if figure:
        return Response(heatmap.svg(cov, shade=stats.shaded_cells(ctx.catalogue, cov, figure), figure=figure,
                                    title=f"政府信息公开工作年度报告: {figure}"), media_type="image/svg+xml")
    return Response(heatmap.svg(cov), media_type="image/svg+xml")


@router.get("/agency", response_class=HTMLResponse)
def agency_page(request: Request, site: Annotated[str, Query(max_length=inputs.SITE_MAX)],
                name: Annotated[str, Query(max_length=inputs.AGENCY_MAX)]):
    ctx = _ctx(request)
    row, entries = data.agency_timeline(ctx, site_id=site, agency=name)
    if row is None and not any(e.reports for e in entries):
        raise HTTPException(404, f"no agency {name!r} on site {site!r}")
    return _page(request, "agency.html", site=site, agency=name, row=row, entries=entries)


@router.get("/captures/{capture_id}", response_class=HTMLResponse)
def capture_page(request: Request, capture_id: inputs.CaptureId):
    ctx = _ctx(request)
    cap = data.capture(ctx.catalogue, capture_id)
    if cap is None:
        raise HTTPException(404, f"no capture {capture_id}")
    kids = data.children(ctx.catalogue, cap.id)
    parent = data.capture(ctx.catalogue, cap.parent_id) if cap.parent_id else None
    report = next((r for r in ctx.catalogue.reports(site_id=cap.site_id) if r.id == cap.report_id), None)
    run = next((r for r in ctx.catalogue.runs(site_id=cap.site_id, limit=10000) if r.id == cap.run_id), None)
    screenshot = next((k for k in kids if k.kind == "screenshot"), None)
    return _page(request, "capture.html", cap=cap, kids=kids, parent=parent, report=report, run=run,
                 screenshot=screenshot, name=security.download_name(cap),
                 headers=sorted((cap.headers or {}).items()))


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report_page(request: Request, report_id: stats.ReportId):
    """A report's statistics laid out as its tables, beside links to the files they were read
    from; cells in a failed check marked."""
    ctx = _ctx(request)
    report = ctx.catalogue.report(report_id=report_id)
    if report is None:
        raise HTTPException(404, f"no report {report_id}")
    got = stats.report_figures(ctx.catalogue, report)
    caps = [c for c in ctx.catalogue.captures(report_id=report.id) if c.parent_id is None]
    return _page(request, "report.html", report=report, readings=got["readings"], captures=caps,
                 tables=stats.figure_tables(got["figures"]),
                 text_figures=[f for f in got["figures"] if f["source"] == "text"])


@router.get("/captures/{capture_id}/raw")
def capture_raw(request: Request, capture_id: inputs.CaptureId, inline: bool = False):
    ctx = _ctx(request)
    cap = data.capture(ctx.catalogue, capture_id)
    if cap is None:
        raise HTTPException(404, f"no capture {capture_id}")
    return stream_capture(ctx, cap, inline=inline)


@router.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request, site: inputs.SiteFilter = "", limit: inputs.PageLimit = 100):
    cat = _ctx(request).catalogue
    site = site or ""
    runs = cat.runs(site_id=inputs.known_site(cat, site), limit=limit)
    from crawler import counts

    # The counts of `nianbao runs` and the harvest summary, by the same names (crawler/counts.py).
    return _page(request, "runs.html", runs=runs, site=site, counts_legend=counts.COUNTS, run_counts=counts.run_counts,
                 stats_json=lambda r: json.dumps(r.stats or {}, ensure_ascii=False, indent=1, sort_keys=True))


@router.post("/marks")
async def mark_form(request: Request):
    """HTML form post (urlencoded; parsed here so no multipart package is needed)."""
    body = inputs.form_body(await request.body())
    form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    security.require_token(request, form.get("token"))
    # The bounds the JSON API applies (api.MarkIn), from the same module.
    year = inputs.year(form.get("year"))
    agency = inputs.text(form, "agency", max_len=inputs.AGENCY_MAX)
    who = inputs.text(form, "who", max_len=inputs.WHO_MAX)
    why = inputs.text(form, "why", max_len=inputs.WHY_MAX)
    site = inputs.text(form, "site", max_len=inputs.SITE_MAX, required=False)
    ctx = _ctx(request)
    # Catalogue calls block: off the event loop, as the plain-def routes are.
    await run_in_threadpool(inputs.known_site, ctx.catalogue, site, status=422)
    if form.get("clear"):
        await run_in_threadpool(ctx.catalogue.clear_coverage_mark, agency=agency, year=year)
    else:
        await run_in_threadpool(inputs.known_agency, ctx.catalogue, agency, status=422)
        await run_in_threadpool(inputs.known_cell, ctx.catalogue, agency, year, today=ctx.today)
        await run_in_threadpool(ctx.catalogue.set_coverage_mark, agency=agency, year=year, who=who,
                                why=why)
    back = "/agency?" + urlencode({"site": site, "name": agency}) if site else "/"
    return RedirectResponse(back, status_code=303)
