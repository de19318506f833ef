"""`nianbao sites schema` and `nianbao sites add`: help for writing site files.

`sites add URL...` crawls each portal ad hoc (the path of `nianbao crawl --start-url`), reads
what the run found from the catalogue and its stats, and writes a site file saying it was
discovered, not checked by a person (crawler/discovery.py does the reading)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CONFIG = 0, 1, 2, 3

out = Console()
err = Console(stderr=True)


def schema() -> None:
    """Print the JSON Schema of site files (for editors: yaml-language-server, VS Code)."""
    from crawler.siteconfig import site_schema

    print(json.dumps(site_schema(), ensure_ascii=False, indent=2))


def add(
    urls: list[str] = typer.Argument(None, metavar="URL", help="Portal start URLs to discover (one or more)"),
    from_csv: Optional[Path] = typer.Option(None, "--from-csv", metavar="FILE",
                                            help="Portals from a CSV: url,agency,allow,id,kind,first_year "
                                                 "(header line; allow: hosts separated by spaces)"),
    agency: Optional[str] = typer.Option(None, "--agency", metavar="NAME",
                                         help="Agency of the URL (one URL only; default: the home page's title)"),
    allow: list[str] = typer.Option(None, "--allow", metavar="HOST",
                                    help="Allowed host for every URL given here, repeatable"),
    site_id: Optional[str] = typer.Option(None, "--id", metavar="ID", help="Site id (one URL only)"),
    kind: Optional[str] = typer.Option(None, "--kind", metavar="KIND",
                                       help="government | department (default: from the agency's name)"),
    first_year: Optional[int] = typer.Option(None, "--first-year", metavar="YEAR",
                                             help="First report year owed (default: the earliest found)"),
    out_dir: Path = typer.Option(Path("sites"), "--out-dir", metavar="DIR", help="Where the site files go"),
    force: bool = typer.Option(False, "--force", help="Overwrite a site file that exists"),
    proxy: Optional[str] = typer.Option(None, "--proxy", metavar="URL", help="HTTP proxy for every request"),
    max_pages: Optional[int] = typer.Option(None, "--max-pages", metavar="N", min=1,
                                            help="Page budget of each discovery crawl"),
    store: Optional[str] = typer.Option(None, "--store", metavar="URL",
                                        help="Object store URL (default: NIANBAO_STORE or ./data/objects)"),
    catalogue: Optional[str] = typer.Option(None, "--catalogue", metavar="URL",
                                            help="Catalogue URL (default: NIANBAO_CATALOGUE or ./data)"),
    log_level: str = typer.Option("WARNING", "--log-level", metavar="LEVEL", help="Scrapy's log level"),
):
    """Discover portals: crawl each ad hoc, report where its 年报 columns are, its CMS family, the
    departments of a directory platform, whether a browser was needed and the reports per year, and
    write a site file marked discovered, not checked by a person. The discovery crawl goes into the
    archive under the file's site id, so the next crawl of the file carries on from it. Exit 0 when
    every portal yielded reports, 1 when one yielded none (its file is still written), 2 bad input."""
    from crawler import env
    from crawler.siteconfig import ConfigError
    from crawler.sitediscovery import Portal, describe, fetch_agency, findings, read_csv, write_site_file

    portals = [Portal(url=u, agency=agency, allow=list(allow or []), site_id=site_id, kind=kind,
                      first_year=first_year) for u in urls or []]
    if (agency or site_id) and len(portals) != 1:
        err.print("--agency and --id name one portal: give one URL (or use --from-csv)")
        raise typer.Exit(EXIT_USAGE)
    if kind not in (None, "government", "department"):
        err.print(f"--kind: {kind!r} is not government or department")
        raise typer.Exit(EXIT_USAGE)
    if from_csv:
        try:
            portals += read_csv(from_csv)
        except (OSError, ValueError) as exc:
            err.print(f"--from-csv: {exc}", highlight=False)
            raise typer.Exit(EXIT_USAGE) from None
    if not portals:
        err.print("name portal URLs, or --from-csv FILE")
        raise typer.Exit(EXIT_USAGE)
    sites = []
    for p in portals:
        if not p.agency:
            p.agency = fetch_agency(p.url, proxy=proxy)
            if not p.agency:
                err.print(f"{p.url}: no agency given and its home page's title names none: "
                          "give --agency (or an agency column)", highlight=False)
                raise typer.Exit(EXIT_USAGE)
            err.print(f"{p.url}: agency {p.agency} (from the home page's title)", highlight=False)
        try:
            site = p.site()
        except ConfigError as exc:
            for file, key, msg in exc.problems:
                err.print(f"{p.url}: {key}: {msg}", highlight=False)
            raise typer.Exit(EXIT_USAGE) from None
        target = out_dir / f"{site.id}.yaml"
        if target.exists() and not force:
            err.print(f"{target} exists: not crawled again (--force overwrites it)", highlight=False)
            continue
        if max_pages:
            site = site.model_copy(update={"budget": site.budget.model_copy(update={"max_pages": max_pages})})
        sites.append(site)
    if not sites:
        raise typer.Exit(EXIT_OK)
    from crawler.cli import require_for_crawl
    require_for_crawl(sites, render=None, store=store, catalogue=catalogue)   # settings before any fetch
    from crawler.runner import run_sites
    from storage.catalogue import Catalogue

    catalogue_url = env.catalogue_url(catalogue)
    run_sites(sites, store=store, catalogue=catalogue_url, proxy=proxy, log_level=log_level)
    cat = Catalogue.open(catalogue_url)
    empty = 0
    for site in sites:
        found = findings(cat, site)
        for line in describe(found):
            out.print(line, highlight=False, soft_wrap=True)
        path = write_site_file(found, out_dir)
        out.print(f"  wrote {path} (verification: discovered, not checked by a person)", highlight=False,
                  soft_wrap=True)
        empty += not found.reports
    raise typer.Exit(EXIT_FAILED if empty else EXIT_OK)


def register(sites_app: typer.Typer) -> None:
    """Add this module's commands to `nianbao sites`."""
    sites_app.command("schema")(schema)
    sites_app.command("add")(add)
