"""Commands for archivists and parsers: coverage, the web UI, the heatmap image, text renditions."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
FORMATS = ("table", "csv", "json", "md")

out = Console()
err = Console(stderr=True)

CatalogueOpt = typer.Option(None, "--catalogue", metavar="URL", help="Catalogue URL (default: NIANBAO_CATALOGUE or ./data)")
StoreOpt = typer.Option(None, "--store", metavar="URL", help="Object store URL (default: NIANBAO_STORE or ./data/objects)")


def _open_catalogue(url: str | None):
    """The catalogue after its preflight check (crawler/preflight.py): unusable is one line, exit 6."""
    from crawler import env, preflight
    from storage.catalogue import Catalogue

    url = env.catalogue_url(url)
    preflight.require(err, catalogue=url)
    return Catalogue.open(url)


def _open_store(url: str | None):
    from crawler import env
    from crawler.preflight import EXIT_SETTINGS
    from storage.objects import StoreError, open_store

    try:
        return open_store(env.store_url(url))
    except StoreError as exc:
        err.print(f"settings error: store (--store / NIANBAO_STORE): {exc}", highlight=False)
        raise typer.Exit(EXIT_SETTINGS) from None


def _parse_day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"--today: {value!r} is not a date like 2026-04-01")
        raise typer.Exit(EXIT_USAGE) from None


def coverage(
    fmt: str = typer.Option("table", "--format", metavar="table|csv|json|md", help="Output format"),
    region: Optional[str] = typer.Option(None, "--region", metavar="CODE|NAME", help="Region code (320000: Jiangsu and all in it) "
                                         "or name (substring)"),
    site: Optional[str] = typer.Option(None, "--site", metavar="ID", help="One site id"),
    image: Optional[Path] = typer.Option(None, "--image", metavar="FILE", help="Write an SVG heatmap (.svg, or .png with cairosvg)"),
    today: Optional[str] = typer.Option(None, "--today", metavar="YYYY-MM-DD", help="Judge deadlines as of this date (YYYY-MM-DD)"),
    catalogue: Optional[str] = CatalogueOpt,
):
    """The publisher × year matrix.

    Counts are of publisher × year cells: found + changed + incomplete + removed are the cells
    with a report (README "Counts"). One row per publisher, by region; totals per level, the governments with no site, and the list of gaps."""
    from crawler import coverage_format as fmt_mod
    from crawler.coverage import from_catalogue

    if fmt not in FORMATS:
        err.print(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
        raise typer.Exit(EXIT_USAGE)
    day = _parse_day(today)
    cat = _open_catalogue(catalogue)
    if site is not None and site not in {s.id for s in cat.sites()}:
        # A filter naming nothing is a usage error (2), not an empty matrix.
        err.print(f"--site: no site {site!r} in the catalogue", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE)
    cov = from_catalogue(cat, today=day, region=region, site_id=site)
    if region is not None and not cov.rows and not cov.no_site:
        err.print(f"--region: {region!r} matches no publisher (a region code such as 320000, or part of a name)",
                  highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE)
    if image:
        from crawler import heatmap
        try:
            heatmap.write(cov, image)
        except (RuntimeError, OSError) as exc:
            err.print(f"--image: {exc}", highlight=False)
            raise typer.Exit(EXIT_FAILED) from None
        err.print(f"wrote {image} ({len(cov.rows)} publishers × {len(cov.years)} years, "
                  f"{len(cov.no_site)} with no site)")
        return
    if fmt == "table":
        out.print(fmt_mod.rich_table(cov))
        totals = cov.totals()
        out.print("totals: " + ", ".join(f"{k} {v}" for k, v in totals.items()), highlight=False)
        if region:    # nationwide, a line per county would bury the matrix
            for line in fmt_mod.level_lines(cov):
                out.print(line, highlight=False)
        if cov.no_site:
            out.print(f"no site ({len(cov.no_site)}): governments with nothing in the archive")
            if region:
                for row in cov.no_site:
                    out.print(f"  {row.region_code} {row.agency}: no site", highlight=False)
            else:
                out.print("  (list them by region: --region 320000)")
        gaps = cov.gaps()
        if gaps:
            out.print(f"gaps ({len(gaps)}):")
            for site_id, agency, year, state in gaps:
                out.print(f"  {site_id} {agency} {year}: {state}", highlight=False)
        return
    text = {"csv": fmt_mod.as_csv, "json": fmt_mod.as_json, "md": fmt_mod.as_markdown}[fmt](cov)
    typer.echo(text, nl=not text.endswith("\n"))


def mark_na(
    agency: str = typer.Argument(..., help="Agency name exactly as in the coverage matrix"),
    year: int = typer.Argument(..., help="Report year"),
    who: str = typer.Option(..., "--who", help="Who decided"),
    why: str = typer.Option(..., "--why", help="Why no report is owed (created later, merged, abolished...)"),
    clear: bool = typer.Option(False, "--clear", help="Remove the mark instead"),
    catalogue: Optional[str] = CatalogueOpt,
):
    """Mark an agency's year not applicable (the operator owns the machine: no token here)."""
    if not 1990 <= year <= 2100:
        err.print(f"year {year} is out of range")
        raise typer.Exit(EXIT_USAGE)
    cat = _open_catalogue(catalogue)
    known = {s.agency for s in cat.sites()} | {r.agency for r in cat.reports()}
    if agency not in known:
        # Marks are keyed by name: a typo would silently mark nothing.
        err.print(f"unknown agency {agency!r} (not a site's agency nor found in any report)")
        raise typer.Exit(EXIT_USAGE)
    if not clear:
        from fastapi import HTTPException

        from crawler.web.inputs import known_cell
        try:
            known_cell(cat, agency, year)
        except HTTPException as exc:
            err.print(exc.detail, highlight=False)
            raise typer.Exit(EXIT_USAGE) from None
    if clear:
        removed = cat.clear_coverage_mark(agency=agency, year=year)
        out.print(f"{'cleared' if removed else 'no mark for'} {agency} {year}")
        return
    cat.set_coverage_mark(agency=agency, year=year, who=who, why=why)
    out.print(f"marked {agency} {year} not applicable ({who}: {why})", highlight=False)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", metavar="ADDRESS", help="Address to listen on"),
    port: int = typer.Option(8000, "--port", min=1, max=65535, metavar="PORT", help="Port to listen on"),
    catalogue: Optional[str] = CatalogueOpt,
    store: Optional[str] = StoreOpt,
    sites_dir: Optional[Path] = typer.Option(None, "--sites-dir", help="Sites for crawls started from the API"),
):
    """Web UI and JSON API. Read-only unless NIANBAO_TOKEN is set."""
    import uvicorn

    from crawler import env, preflight
    from crawler.web import create_app

    # A busy port is found before "serving" is printed: one line, exit 6 (not 3, a site file's).
    preflight.require(err, catalogue=env.catalogue_url(catalogue), port=(host, port))
    app = create_app(catalogue=_open_catalogue(catalogue), store=_open_store(store),
                     sites_dir=str(sites_dir) if sites_dir else None)
    mode = "token required for changes" if env.api_token() else "read-only (no NIANBAO_TOKEN)"
    err.print(f"serving http://{host}:{port}/ ({mode}); API at /docs and /openapi.json")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def texts(
    run: Optional[int] = typer.Option(None, "--run", help="Only files of this crawl run"),
    catalogue: Optional[str] = CatalogueOpt,
    store: Optional[str] = StoreOpt,
):
    """Make the missing plain-text renditions of archived report files (idempotent)."""
    from crawler.renditions import RenditionStats, render_texts

    stats = RenditionStats()
    render_texts(_open_catalogue(catalogue), _open_store(store), run_id=run, stats=stats)
    out.print(f"text renditions: {stats.made} made, {stats.already} already there, "
              f"{stats.reused} linked to the text of the same bytes, "
              f"{stats.unreadable} without extractable text, {stats.missing} with bytes missing")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `nianbao` app."""
    app.command("coverage")(coverage)
    app.command("mark-na")(mark_na)
    app.command("serve")(serve)
    app.command("texts")(texts)
