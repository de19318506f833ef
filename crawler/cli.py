"""The `nianbao` command.

Exit codes (README "Exit codes"), the worst that applies:
  0 done, every site's run whole
  1 nothing could be done: every site failed (a portal down, unreachable hosts)
  2 usage error: a bad option or argument, or a filter (--site, a site id) that names nothing
  3 bad site configuration: a site file is wrong (not worth retrying until it is fixed). Other
    sites still run: a bad file is reported in one line and skipped, the others are crawled and
    summarised, and the exit code is 3 (unless every site failed: 1)
  4 done with a hole: files owed or a run interrupted (the next run pays what is owed first)
  5 a site was being crawled by another process and was left to it
  6 environment/settings: the catalogue, the store, the browser, Redis or a port cannot be used
    (crawler/preflight.py checks them before any work starts)
  7 offline: every site failed only because its hosts do not resolve (no network or no DNS);
    `make run` reports it under the summary and ends without make's own error line
Expected failures end with one line each, never a traceback."""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from crawler import __version__, cli_help, counts, env, preflight
from crawler.cli_web import _open_catalogue  # one opening, with its preflight, for every command

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CONFIG, EXIT_INCOMPLETE, EXIT_BUSY = 0, 1, 2, 3, 4, 5
EXIT_SETTINGS = preflight.EXIT_SETTINGS   # 6
EXIT_OFFLINE = 7

cli_help.install()
app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="nianbao: find, archive and audit 政府信息公开工作年度报告. Exit codes: 0 done, "
                       "1 nothing could be done, 2 usage error, 3 bad site file (the others still run), "
                       "4 done with files owed, 5 site busy elsewhere, 6 environment/settings, 7 offline "
                       "(no host resolved).")
sites_app = typer.Typer(no_args_is_help=True, help="Site configurations.")
store_app = typer.Typer(no_args_is_help=True, help="Object store maintenance.")
app.add_typer(sites_app, name="sites")
app.add_typer(store_app, name="store")
warc_app = typer.Typer(no_args_is_help=True, help="WARC files of the archive.")
app.add_typer(warc_app, name="warc")

# Off a terminal (cron, CI, pipes) tables keep whole words rather than wrapping at 80 columns.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

StoreOpt = typer.Option(None, "--store", metavar="URL",
                        help="Object store URL (default: NIANBAO_STORE or ./data/objects)")
CatalogueOpt = typer.Option(None, "--catalogue", metavar="URL",
                            help="Catalogue URL, sqlite:///PATH or postgresql://... "
                                 "(default: NIANBAO_CATALOGUE or ./data/catalogue.sqlite)")
SitesDirOpt = typer.Option(None, "--sites-dir", metavar="DIR", help="Directory of site YAML files "
                           "(default: NIANBAO_SITES or ./sites)")
LogLevelOpt = typer.Option("WARNING", "--log-level", metavar="LEVEL",
                           help="Scrapy log level: DEBUG, INFO, WARNING, ERROR")


def _version(value: bool) -> None:
    if value:
        print(f"nianbao {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit")) -> None:
    pass


def _config_lines(problems) -> None:
    for file, key, msg in problems:
        err.print(f"[red]config error[/red] {file}: {key}: {msg}", highlight=False)


def _config_error(exc) -> None:
    _config_lines(exc.problems)
    raise typer.Exit(EXIT_CONFIG)


def _usage(message: str) -> None:
    """A usage error, as click reports its own: the command's usage line, the problem, exit 2."""
    # Typer carries its own copy of click: its UsageError is the one its main() turns into exit 2.
    from typer._click.exceptions import UsageError

    raise UsageError(message)


def _summary_errors(s) -> str:
    parts = []
    for kind, n in sorted(s.errors.items()):
        hosts = (getattr(s, "hosts", None) or {}).get(kind)
        parts.append(f"{kind}×{n}" + (f" ({', '.join(hosts)})" if hosts else ""))
    return ", ".join(parts) or "-"


def _print_summaries(summaries) -> None:
    """The harvest summary. Its counts are crawler/counts.py's, from each run's catalogue row:
    the numbers `nianbao runs` prints for the same runs."""
    table = Table(title="Harvest summary", show_lines=False, caption="reports = new + changed + unchanged + "
                  "not due; `nianbao runs --help` defines every count")
    for col in ("site", "outcome", "pages", "reports", "new", "changed", "unchanged", "not due", "files",
                "owed", "errors"):
        table.add_column(col, overflow="fold")
    for s in summaries:
        colour = {"ok": "green", "partial": "yellow"}.get(s.outcome, "red")
        table.add_row(s.site_id, f"[{colour}]{s.outcome}[/{colour}]", str(s.pages), str(s.reports),
                      str(getattr(s, "new", 0)), str(getattr(s, "changed", 0)), str(getattr(s, "unchanged", 0)),
                      str(getattr(s, "not_due", 0)), str(s.files), f"[red]{s.owed}[/red]" if s.owed else "0",
                      _summary_errors(s))
    out.print(table)


# Failures that say the network, not the portal, is missing: every site failing only with these
# is "offline" (exit 7), which `make run` reports without make's own error line (Makefile). A
# refused connection or a timeout is a portal down as often as a network: it stays exit 1.
OFFLINE_KINDS = {"dns"}


def _exit_for(summaries, *, skipped: int = 0) -> int:
    """One code for a harvest of many sites: the worst of them, with "nothing could be done"
    only when no site did anything (7 when only for unresolvable hosts); a skipped bad site file
    makes it 3 otherwise."""
    if offline(summaries):
        return EXIT_OFFLINE
    if summaries and all(s.outcome in ("failed", "busy") or (s.pages == 0 and s.files == 0 and not s.owed)
                         for s in summaries) and not all(s.outcome == "busy" for s in summaries):
        return EXIT_FAILED
    if skipped:
        return EXIT_CONFIG
    if any(s.outcome == "busy" for s in summaries):
        return EXIT_BUSY
    if any(s.owed or s.outcome == "interrupted" for s in summaries):
        return EXIT_INCOMPLETE
    return EXIT_OK


def offline(summaries) -> bool:
    """Every site failed, and only for want of the network (unresolvable or unreachable hosts)."""
    return bool(summaries) and all(s.outcome == "failed" and s.errors and set(s.errors) <= OFFLINE_KINDS
                                   for s in summaries)


def with_max_pages(sites, max_pages: int | None):
    if not max_pages:
        return sites
    return [s.model_copy(update={"budget": s.budget.model_copy(update={"max_pages": max_pages})}) for s in sites]


def _report_skipped(bad) -> None:
    """One line per bad site file, saying it is skipped."""
    from crawler.siteconfig import describe

    for file, _stem, problems in bad:
        what = describe(problems)
        err.print(f"[red]config error[/red] {file}: {what} (skipped)", highlight=False)


def select_sites(site_ids: list[str] | None, *, all_sites: bool, due: bool, sites_dir: Path | None,
                 catalogue: str | None, max_pages: int | None = None, skipped: list | None = None) -> list:
    """The sites a command names: ids, --all, or --due. Bad site files are reported and left
    out (appended to `skipped`); a named site whose own file is bad is one of them. Exits with
    the right code on bad input."""
    from crawler.siteconfig import ConfigError, partition_sites

    try:
        sites, bad = partition_sites(env.sites_dir(str(sites_dir) if sites_dir else None))
    except ConfigError as exc:
        _config_error(exc)
    if site_ids:
        site_ids = list(dict.fromkeys(site_ids))          # a site named twice is crawled once
        known = {s.id: s for s in sites}
        bad_stems = {stem for _f, stem, _p in bad}
        missing = [i for i in site_ids if i not in known and i not in bad_stems]
        if missing:
            err.print(f"unknown site id(s): {', '.join(missing)}")
            raise typer.Exit(EXIT_USAGE)
        bad = [b for b in bad if b[1] in site_ids]     # other files' problems are not this crawl's
        sites = [known[i] for i in site_ids if i in known]
    elif not (all_sites or due):
        err.print("name site ids, or --all, --due, or --start-url")
        raise typer.Exit(EXIT_USAGE)
    if bad:
        _report_skipped(bad)
        if skipped is not None:
            skipped.extend(bad)
    if not sites:
        raise typer.Exit(EXIT_CONFIG)
    if due:
        from crawler.schedule import due_sites
        sites = due_sites(sites, catalogue_url=env.catalogue_url(catalogue))
        if not sites:
            out.print("no site is due")
            raise typer.Exit(EXIT_OK)
    return with_max_pages(sites, max_pages)


def _http_url(value: str | None) -> str | None:
    """--start-url: an http(s) URL with a host, or a usage error."""
    if value is None:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise typer.BadParameter(f"{value!r} is not an http:// or https:// URL with a host")
    return value.strip()


RENDER_MODES = ("auto", "never", "always")


def require_for_crawl(sites, *, render: str | None, store: str | None, catalogue: str | None) -> None:
    """Preflight of a crawl (crawler/preflight.py): catalogue and store, and the browser when a
    site must render. A site that only may render (auto) crawls without one: a warning."""
    modes = {render or site.render for site in sites}
    browser = env.chromium_path()
    needs_browser = "always" in modes
    preflight.require(err, catalogue=env.catalogue_url(catalogue), store=env.store_url(store),
                      browser=browser if needs_browser else None)
    if "auto" in modes and preflight.problems(browser=browser):
        err.print(f"warning: browser (NIANBAO_CHROMIUM): {browser} not found: pages that need one "
                  "will not be rendered", highlight=False, markup=False)


@app.command(epilog="Counts in the summary: " + counts.legend())
def crawl(
    site_ids: list[str] = typer.Argument(None, metavar="SITE_ID", help="Site ids from the sites "
                                         "directory (a site named twice is crawled once)"),
    all_sites: bool = typer.Option(False, "--all", help="Every site in the sites directory"),
    due: bool = typer.Option(False, "--due", help="Only sites whose schedule is due"),
    sites_dir: Optional[Path] = SitesDirOpt,
    start_url: Optional[str] = typer.Option(None, "--start-url", metavar="URL", callback=_http_url,
                                            help="Ad hoc crawl from this http(s) URL, no site file needed"),
    agency: Optional[str] = typer.Option(None, "--agency", metavar="NAME", help="Agency of an ad hoc crawl"),
    allow: list[str] = typer.Option(None, "--allow", metavar="HOST", help="Allowed host (host, host:port "
                                    "or .domain) of an ad hoc crawl, repeatable (default: the start URL's)"),
    site_id: Optional[str] = typer.Option(None, "--id", metavar="ID", help="Site id of an ad hoc crawl "
                                          "(default: from the start URL's host and path)"),
    kind: str = typer.Option("department", "--kind", metavar="government|department",
                             help="Kind of an ad hoc site's agency (decides its report deadlines)"),
    first_year: Optional[int] = typer.Option(None, "--first-year", metavar="YEAR", min=2008, max=2100,
                                             help="First report year an ad hoc site owes (default 2008)"),
    render: Optional[str] = typer.Option(None, "--render", metavar="auto|never|always",
                                         help="When to draw pages in Chromium (overrides the site files)"),
    proxy: Optional[str] = typer.Option(None, "--proxy", metavar="URL", help="HTTP proxy for every request"),
    max_pages: Optional[int] = typer.Option(None, "--max-pages", min=1, metavar="N", help="Page budget per site"),
    max_bytes: Optional[int] = typer.Option(None, "--max-bytes", min=1, metavar="BYTES",
                                            help="Largest file to download"),
    revisit_all: bool = typer.Option(False, "--revisit-all",
                                     help="Revalidate every known report page and file, due or not"),
    store: Optional[str] = StoreOpt,
    catalogue: Optional[str] = CatalogueOpt,
    log_level: str = LogLevelOpt,
):
    """Harvest sites into the archive.

    Settings are checked before the first request (exit 6); a bad site file is reported and
    skipped, the other sites run (exit 3)."""
    from crawler.siteconfig import ConfigError, adhoc_site

    if render not in (None, *RENDER_MODES):
        _usage(f"--render: {render!r} is not one of auto, never, always")
    if site_id and not start_url:
        _usage("--id names the site of an ad hoc crawl: give --start-url too")
    skipped: list = []
    if start_url:
        if all_sites or due or site_ids:
            _usage("--start-url is an ad hoc crawl of one portal: it does not combine with "
                   "--all, --due or site ids")
        if not agency:
            _usage("--start-url needs --agency NAME")
        try:
            if kind not in ("government", "department"):
                _usage(f"--kind: {kind!r} is not government or department")
            sites = [adhoc_site(start_url=start_url, agency=agency, allow=allow or None, render=render or "auto",
                                site_id=site_id, kind=kind, first_year=first_year)]
        except ConfigError as exc:
            # The site is built from options: what is wrong is an option, not a file.
            _usage("; ".join(f"{'--allow' if key.startswith('allowed_hosts') else key}: {msg}"
                             for _f, key, msg in exc.problems))
        sites = with_max_pages(sites, max_pages)
    else:
        if agency or allow:
            _usage("--agency and --allow describe an ad hoc crawl: give --start-url too")
        sites = select_sites(site_ids, all_sites=all_sites, due=due, sites_dir=sites_dir,
                             catalogue=catalogue, max_pages=max_pages, skipped=skipped)
    require_for_crawl(sites, render=render, store=store, catalogue=catalogue)
    from crawler.runner import run_sites
    summaries = run_sites(sites, store=store, catalogue=catalogue, render=render, proxy=proxy,
                          max_bytes=max_bytes, log_level=log_level,
                          overrides={"NIANBAO_REVISIT_ALL": True} if revisit_all else None)
    _print_summaries(summaries)
    if skipped:
        err.print(f"{len(skipped)} site file(s) skipped: fix them and run again (exit {EXIT_CONFIG})")
    if offline(summaries):
        err.print("offline: no site's host resolved (no network or no DNS); nothing was fetched "
                  f"(exit {EXIT_OFFLINE})")
    raise typer.Exit(_exit_for(summaries, skipped=len(skipped)))


@sites_app.command("validate")
def sites_validate(path: Optional[Path] = typer.Argument(None, metavar="PATH",
                                                        help="A site file or a directory (default: ./sites)")):
    """Check site files; every problem names the file, the key and what is wrong."""
    from crawler.siteconfig import ConfigError, load_sites

    try:
        sites = load_sites(path or env.sites_dir())
    except ConfigError as exc:
        _config_error(exc)
    for s in sites:
        out.print(f"ok {s.id}: {s.agency} ({len(s.start_urls)} start URL(s), render {s.render})")


@sites_app.command("list")
def sites_list(sites_dir: Optional[Path] = SitesDirOpt):
    """List configured sites (a bad site file is one line and exit 3; the others are listed)."""
    from crawler.siteconfig import ConfigError, partition_sites

    try:
        sites, bad = partition_sites(sites_dir or env.sites_dir())
    except ConfigError as exc:
        _config_error(exc)
    _report_skipped(bad)
    table = Table()
    for col in ("id", "agency", "region", "verified", "schedule"):
        table.add_column(col)
    for s in sites:
        table.add_row(s.id, s.agency, s.region.name if s.region else "-",
                      "yes" if s.verification.verified else "no", s.schedule or "-")
    out.print(table)
    if bad:
        raise typer.Exit(EXIT_CONFIG)


@app.command()
def export(
    fmt: str = typer.Option("jsonl", "--format", metavar="jsonl|csv", help="Row format"),
    output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FILE", help="File to write (default stdout)"),
    store: Optional[str] = StoreOpt,
    catalogue: Optional[str] = CatalogueOpt,
):
    """One row per archived object, with provenance.

    Every run's files (kind page or attachment: what `runs` and the summary count as files)
    and what was derived from them (kind dom, screenshot, text). A report's rows have
    is_report true."""
    from storage.objects import StoreError, open_store

    if fmt not in ("jsonl", "csv"):
        _usage(f"--format: {fmt!r} is not jsonl or csv")
    cat = _open_catalogue(catalogue)
    try:
        st = open_store(env.store_url(store))
    except StoreError as exc:
        err.print(f"settings error: store (--store / NIANBAO_STORE): {exc}", highlight=False, markup=False)
        raise typer.Exit(EXIT_SETTINGS)
    rows = cat.export_rows()
    for row in rows:
        row["storage_uri"] = st.uri(row.pop("storage_key")) if "storage_key" in row else row.get("storage_uri")
    fh = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if fmt == "jsonl":
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        else:
            fields = list(rows[0].keys()) if rows else ["url"]
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            for row in rows:
                writer.writerow(row)
    finally:
        if output:
            fh.close()
    if output:
        err.print(f"wrote {len(rows)} rows to {output}")


@app.command(epilog="Counts: " + counts.legend())
def runs(limit: int = typer.Option(20, "--limit", min=1, metavar="N", help="How many runs, newest first"),
         site: Optional[str] = typer.Option(None, "--site", metavar="ID", help="Only this site's runs"),
         fmt: str = typer.Option("table", "--format", metavar="table|json", help="Output format"),
         catalogue: Optional[str] = CatalogueOpt):
    """Recent crawl runs with their counts and errors.

    The same counts, from the same rows, as the summary a crawl prints (reports = new +
    changed + unchanged + not due)."""
    if fmt not in ("table", "json"):
        _usage(f"--format: {fmt!r} is not table or json")
    cat = _open_catalogue(catalogue)
    if site is not None:
        _known_site(cat, site)
    rows = []
    for r in cat.runs(site_id=site, limit=limit):
        c = counts.run_counts(r)
        rows.append({"id": r.id, "site_id": r.site_id, "started_at": r.started_at.isoformat(),
                     "finished_at": r.finished_at.isoformat() if r.finished_at else None, "outcome": r.outcome,
                     "pages": c["pages"], "bytes": r.bytes or 0, "reports": c["reports"], "new": c["new"],
                     "changed": c["changed"], "unchanged": c["unchanged"], "not_due": c["not_due"],
                     "not_read": c["not_read"], "removed": c["removed"], "files": c["files"], "owed": c["owed"], "errors": r.errors or {}})
    if fmt == "json":
        out.print_json(json.dumps(rows, ensure_ascii=False))
        return
    table = Table(title="Crawl runs", caption="reports = new + changed + unchanged + not due (--help defines each)")
    for col in ("id", "site", "started", "outcome", "pages", "bytes", "reports", "new", "changed", "unchanged",
                "not due", "not read", "removed", "files", "owed", "errors"):
        table.add_column(col, overflow="fold")
    for r in rows:
        errors = ", ".join(f"{k}×{v}" for k, v in sorted(r["errors"].items())) or "-"
        table.add_row(str(r["id"]), r["site_id"], r["started_at"][:16].replace("T", " "), r["outcome"],
                      *(str(r[k]) for k in ("pages", "bytes", "reports", "new", "changed", "unchanged", "not_due",
                                            "not_read", "removed", "files", "owed")), errors)
    out.print(table)


def _known_site(cat, site: str) -> None:
    """A --site filter naming no site of the catalogue is a usage error (2), not an empty table."""
    known = sorted(s.id for s in cat.sites())
    if site not in known:
        hint = f" (known: {', '.join(known[:8])}{', ...' if len(known) > 8 else ''})" if known else \
            " (the catalogue has no sites yet)"
        err.print(f"--site: no site {site!r} in the catalogue{hint}", highlight=False, markup=False)
        raise typer.Exit(EXIT_USAGE)


@app.command()
def owed(site: Optional[str] = typer.Option(None, "--site", metavar="ID", help="Only this site's files"),
         state: str = typer.Option("owed", "--state", metavar="owed|gone",
                                   help="owed (the next run fetches them first) or gone (the portal lost them)"),
         fmt: str = typer.Option("table", "--format", metavar="table|json", help="Output format"),
         catalogue: Optional[str] = CatalogueOpt):
    """Files a run meant to archive and did not: owed to the next run, or gone from the portal.

    Exit 0 when nothing is owed, 4 when something is."""
    if fmt not in ("table", "json"):
        err.print(f"--format: {fmt!r} is not table or json")
        raise typer.Exit(EXIT_USAGE)
    if state not in ("owed", "gone"):
        err.print(f"--state: {state!r} is not owed or gone")
        raise typer.Exit(EXIT_USAGE)
    cat = _open_catalogue(catalogue)
    if site is not None:
        _known_site(cat, site)
    rows = [{"site_id": o["site_id"], "url": o["url"], "kind": o["kind"], "reason": o["reason"],
             "attempts": o["attempts"], "first_owed": o["first_owed"].isoformat(),
             "report": (o["report"] or (o["meta"] or {}).get("report") or {}).get("url"),
             "year": (o["report"] or (o["meta"] or {}).get("report") or {}).get("year")}
            for o in cat.owed(site_id=site, state=state)]
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        for r in rows:    # plain lines: URLs stay whole and greppable
            print(f"{r['site_id']}\t{r['year'] or '-'}\t{r['url']}\t{r['reason']} (attempts {r['attempts']})")
        print(f"{len(rows)} {state}" + (f" for {site}" if site else ""))
    raise typer.Exit(EXIT_INCOMPLETE if rows and state == "owed" else EXIT_OK)


@app.command()
def fsck(repair: bool = typer.Option(False, "--repair", help="Quarantine corrupt objects and owe their "
                                     "files to the next crawl; owe missing ones; adopt orphans"),
         fmt: str = typer.Option("text", "--format", metavar="text|json", help="Output format"),
         store: Optional[str] = StoreOpt, catalogue: Optional[str] = CatalogueOpt):
    """Check the catalogue against the object store.

    Missing objects, orphans, hash mismatches, and every capture's WARC record. One line per problem, then a summary. Exit 0 when nothing
    is wrong after this run (--repair included), 1 when something remains."""
    from storage.maintenance import fsck as run_fsck
    from storage.objects import StoreError, open_store

    if fmt not in ("text", "json"):
        err.print(f"--format: {fmt!r} is not text or json")
        raise typer.Exit(EXIT_USAGE)
    from storage.warcspool import recover_spool

    cat = _open_catalogue(catalogue)
    try:
        opened = open_store(env.store_url(store))
        # WARC files a dead crawl left in the spool are uploaded first (files a live crawl holds
        # are left alone): otherwise their captures would read as pointing at nothing.
        recover_spool(opened, env.warc_spool_dir(opened.url))
        report = run_fsck(cat, opened, repair=repair)
    except StoreError as exc:
        err.print(f"store: {exc}", highlight=False)
        raise typer.Exit(EXIT_FAILED)
    if fmt == "json":
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        # Plain print: keys and URLs must stay whole and greppable, never wrapped or highlighted.
        for line in report.lines():
            print(line)
        print(report.summary())
    # What remains decides, with --repair too: a cron job must not read "repaired" as "fine"
    # while a corrupt object, a lost WARC file or a file nothing will fetch again is still there.
    raise typer.Exit(EXIT_FAILED if report.remaining else EXIT_OK)


@warc_app.command("export")
def warc_export(
    site: str = typer.Option(..., "--site", metavar="ID", help="Site id"),
    run: Optional[int] = typer.Option(None, "--run", metavar="RUN_ID", help="One crawl run (default: every run of the site)"),
    output: Path = typer.Option(..., "-o", "--output", metavar="FILE", help="The .wacz file to write"),
    store: Optional[str] = StoreOpt,
    catalogue: Optional[str] = CatalogueOpt,
):
    """Package a site's (or one run's) WARC files as WACZ, for replay tools such as pywb.
    Refused (exit 1) when a capture of theirs names a WARC file the store does not hold: a
    package that silently lacks records would pass for the whole archive."""
    from storage.objects import StoreError, open_store
    from storage.wacz import WaczError, export_wacz, warc_keys
    from storage.warcspool import recover_spool

    cat = _open_catalogue(catalogue)
    try:
        st = open_store(env.store_url(store))
        recover_spool(st, env.warc_spool_dir(st.url))      # what a dead crawl left, uploaded first
        keys = warc_keys(st, site_id=site, run_id=run)
    except StoreError as exc:
        err.print(f"store: {exc}")
        raise typer.Exit(EXIT_FAILED)
    run_ids = [run] if run is not None else [r.id for r in cat.runs(site_id=site, limit=100_000)]
    named = {c.warc_key for rid in run_ids for c in cat.captures(run_id=rid) if c.warc_key}
    absent = sorted(named - set(keys))
    if absent:
        err.print(f"warc export: {len(absent)} WARC file(s) named by captures are not in the store "
                  f"(first: {absent[0]}); run `nianbao fsck` to see which captures", highlight=False)
        raise typer.Exit(EXIT_FAILED)
    if not keys:
        err.print(f"no WARC files for site {site!r}" + (f" run {run}" if run is not None else ""))
        raise typer.Exit(EXIT_FAILED)
    title = f"nianbao {site}" + (f" run {run}" if run is not None else "")
    try:
        export_wacz(st, keys=keys, output=output, title=title)
    except (WaczError, StoreError, OSError) as exc:
        err.print(f"warc export: {exc}")
        raise typer.Exit(EXIT_FAILED)
    out.print(f"wrote {output} ({len(keys)} WARC file(s))")


@app.command()
def schedule(
    sites_dir: Optional[Path] = SitesDirOpt,
    concurrency: int = typer.Option(2, "--concurrency", min=1, metavar="N", help="Crawls running at once"),
    interval: float = typer.Option(60.0, "--interval", min=0.1, metavar="SECONDS", help="Seconds between checks"),
    once: bool = typer.Option(False, "--once", help="One pass: start what is due, wait for it, exit"),
    enqueue: bool = typer.Option(False, "--enqueue", help="Enqueue due sites on the Redis frontier for "
                                 "`nianbao worker`s instead of crawling here"),
    redis: Optional[str] = typer.Option(None, "--redis", metavar="URL", help="Redis URL (default NIANBAO_REDIS)"),
    store: Optional[str] = StoreOpt,
    catalogue: Optional[str] = CatalogueOpt,
):
    """Long-lived scheduler: start each site's crawl when its cron schedule is due (in the site's
    `timezone`, default Asia/Shanghai). A site file broken while it runs is skipped, with a warning."""
    from crawler.schedule import Scheduler
    from crawler.siteconfig import ConfigError, load_sites

    directory = str(env.sites_dir(str(sites_dir) if sites_dir else None))
    try:
        load_sites(directory)
    except ConfigError as exc:
        _config_error(exc)
    preflight.require(err, catalogue=env.catalogue_url(catalogue), store=env.store_url(store),
                      redis=env.redis_url(redis) if enqueue else None)
    frontier = None
    if enqueue:
        from crawler.cli_scale import _frontier
        from crawler.distributed import DEFAULT_PREFIX
        frontier = _frontier(redis, DEFAULT_PREFIX)
    scheduler = Scheduler(sites_dir=directory, catalogue_url=env.catalogue_url(catalogue),
                          store_url=env.store_url(store), concurrency=concurrency, interval=interval,
                          frontier=frontier)
    if once:
        started = scheduler.tick()
        out.print(f"started: {', '.join(started) or 'nothing due'}")
        scheduler.wait()
        return
    out.print(f"scheduling {directory} every {interval:g}s, at most {concurrency} crawl(s) at once")
    scheduler.run_forever()


@app.command()
def demo(size: str = typer.Option("tiny", "--size", metavar="tiny|small", help="How many simulated portals"),
         data: Path = typer.Option(Path("data/demo"), "--data", metavar="DIR", help="Where the demo archive goes"),
         log_level: str = LogLevelOpt):
    """Serve the bundled simulated portals on loopback, harvest them, print coverage. Offline."""
    from crawler.demo import run_demo

    raise typer.Exit(run_demo(size=size, data=data, log_level=log_level, console=out))


def _register_command_groups() -> None:
    from crawler import cli_publishers, cli_scale, cli_sites, cli_stats, cli_web

    cli_web.register(app)
    cli_scale.register(app)
    cli_publishers.register(app)
    cli_stats.register(app)
    cli_sites.register(sites_app)


_register_command_groups()


def main() -> None:
    from storage.catalogue import CatalogueError
    from storage.objects import StoreError

    try:
        app()
    except env.EnvError as exc:
        # A variable read when a command builds its settings (crawl, demo, worker alike).
        err.print(str(exc))
        sys.exit(EXIT_USAGE)
    except (CatalogueError, StoreError) as exc:
        # Past the preflight (the database or the disk went away mid-command): one line still.
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        kind = "catalogue" if isinstance(exc, CatalogueError) else "store"
        err.print(f"settings error: {kind}: {first}", highlight=False, markup=False)
        sys.exit(EXIT_SETTINGS)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
