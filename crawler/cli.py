"""The `nianbao` command. Exit codes: 0 done, 1 nothing could be done, 2 usage error, 3 bad
site configuration (not worth retrying until the file is fixed), 4 done with a hole: files
owed or a run interrupted (the next run pays what is owed first), 5 a site was being crawled
by another process and was left to it."""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from crawler import env

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CONFIG, EXIT_INCOMPLETE, EXIT_BUSY = 0, 1, 2, 3, 4, 5

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="nianbao: find, archive and audit 政府信息公开工作年度报告.")
sites_app = typer.Typer(no_args_is_help=True, help="Site configurations.")
store_app = typer.Typer(no_args_is_help=True, help="Object store maintenance.")
app.add_typer(sites_app, name="sites")
app.add_typer(store_app, name="store")
warc_app = typer.Typer(no_args_is_help=True, help="WARC files of the archive.")
app.add_typer(warc_app, name="warc")

# Off a terminal (cron, CI, pipes) tables keep whole words rather than wrapping at 80 columns.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

StoreOpt = typer.Option(None, "--store", help="Object store URL (default: NIANBAO_STORE or ./data/objects)")
CatalogueOpt = typer.Option(None, "--catalogue", help="Catalogue URL (default: NIANBAO_CATALOGUE or ./data)")


def _config_error(exc) -> None:
    for file, key, msg in exc.problems:
        err.print(f"[red]config error[/red] {file}: {key}: {msg}", highlight=False)
    raise typer.Exit(EXIT_CONFIG)


def _print_summaries(summaries) -> None:
    table = Table(title="Harvest summary", show_lines=False)
    for col in ("site", "outcome", "pages", "reports", "files", "owed", "errors"):
        table.add_column(col)
    for s in summaries:
        errors = ", ".join(f"{k}×{v}" for k, v in sorted(s.errors.items())) or "-"
        colour = {"ok": "green", "partial": "yellow"}.get(s.outcome, "red")
        table.add_row(s.site_id, f"[{colour}]{s.outcome}[/{colour}]", str(s.pages), str(s.reports),
                      str(s.files), f"[red]{s.owed}[/red]" if s.owed else "0", errors)
    out.print(table)


def _exit_for(summaries) -> int:
    """One code for a harvest of many sites: the worst of them, with "nothing could be done"
    only when no site did anything."""
    if summaries and all(s.outcome in ("failed", "busy") or (s.pages == 0 and s.files == 0 and not s.owed)
                         for s in summaries) and not all(s.outcome == "busy" for s in summaries):
        return EXIT_FAILED
    if any(s.outcome == "busy" for s in summaries):
        return EXIT_BUSY
    if any(s.owed or s.outcome == "interrupted" for s in summaries):
        return EXIT_INCOMPLETE
    return EXIT_OK


def with_max_pages(sites, max_pages: int | None):
    if not max_pages:
        return sites
    return [s.model_copy(update={"budget": s.budget.model_copy(update={"max_pages": max_pages})}) for s in sites]


def select_sites(site_ids: list[str] | None, *, all_sites: bool, due: bool, sites_dir: Path | None,
                 catalogue: str | None, max_pages: int | None = None) -> list:
    """The sites a command names: ids, --all, or --due. Exits with the right code on bad input."""
    from crawler.siteconfig import ConfigError, load_sites

    try:
        sites = load_sites(env.sites_dir(str(sites_dir) if sites_dir else None))
    except ConfigError as exc:
        _config_error(exc)
    if site_ids:
        known = {s.id: s for s in sites}
        missing = [i for i in site_ids if i not in known]
        if missing:
            err.print(f"unknown site id(s): {', '.join(missing)}")
            raise typer.Exit(EXIT_USAGE)
        sites = [known[i] for i in site_ids]
    elif not (all_sites or due):
        err.print("name site ids, or --all, --due, or --start-url")
        raise typer.Exit(EXIT_USAGE)
    if due:
        from crawler.schedule import due_sites
        sites = due_sites(sites, catalogue_url=env.catalogue_url(catalogue))
        if not sites:
            out.print("no site is due")
            raise typer.Exit(EXIT_OK)
    return with_max_pages(sites, max_pages)


@app.command()
def crawl(
    site_ids: list[str] = typer.Argument(None, help="Site ids from the sites directory"),
    all_sites: bool = typer.Option(False, "--all", help="Every site in the sites directory"),
    due: bool = typer.Option(False, "--due", help="Only sites whose schedule is due"),
    sites_dir: Optional[Path] = typer.Option(None, "--sites-dir", help="Directory of site YAML files"),
    start_url: Optional[str] = typer.Option(None, "--start-url", help="Ad hoc crawl from this URL"),
    agency: Optional[str] = typer.Option(None, "--agency", help="Agency of an ad hoc crawl"),
    allow: list[str] = typer.Option(None, "--allow", help="Allowed host (host or host:port), repeatable"),
    site_id: Optional[str] = typer.Option(None, "--id", help="Site id of an ad hoc crawl "
                                          "(default: from the start URL's host and path)"),
    kind: str = typer.Option("department", "--kind", metavar="KIND",
                             help="government | department: the ad hoc site's kind (decides report deadlines)"),
    first_year: Optional[int] = typer.Option(None, "--first-year", metavar="YEAR",
                                             help="First report year the ad hoc site owes (default 2008)"),
    render: Optional[str] = typer.Option(None, "--render", help="auto | never | always (overrides sites)"),
    proxy: Optional[str] = typer.Option(None, "--proxy", help="HTTP proxy for every request"),
    max_pages: Optional[int] = typer.Option(None, "--max-pages", help="Page budget per site"),
    max_bytes: Optional[int] = typer.Option(None, "--max-bytes", help="Largest file to download"),
    revisit_all: bool = typer.Option(False, "--revisit-all",
                                     help="Revalidate every known report page and file, due or not"),
    store: Optional[str] = StoreOpt,
    catalogue: Optional[str] = CatalogueOpt,
    log_level: str = typer.Option("WARNING", "--log-level"),
):
    """Harvest sites into the archive."""
    from crawler.siteconfig import ConfigError, adhoc_site

    if render not in (None, "auto", "never", "always"):
        err.print(f"--render: {render!r} is not one of auto, never, always")
        raise typer.Exit(EXIT_USAGE)
    if site_id and not start_url:
        err.print("--id names the site of an ad hoc crawl: give --start-url too")
        raise typer.Exit(EXIT_USAGE)
    if start_url:
        if not agency:
            err.print("--start-url needs --agency NAME")
            raise typer.Exit(EXIT_USAGE)
        if kind not in ("government", "department"):
            err.print(f"--kind: {kind!r} is not government or department")
            raise typer.Exit(EXIT_USAGE)
        try:
            sites = [adhoc_site(start_url=start_url, agency=agency, allow=allow or None, render=render or "auto",
                                site_id=site_id, kind=kind, first_year=first_year)]
        except ConfigError as exc:
            _config_error(exc)
        sites = with_max_pages(sites, max_pages)
    else:
        sites = select_sites(site_ids, all_sites=all_sites, due=due, sites_dir=sites_dir,
                             catalogue=catalogue, max_pages=max_pages)
    from crawler.runner import run_sites
    summaries = run_sites(sites, store=store, catalogue=catalogue, render=render, proxy=proxy,
                          max_bytes=max_bytes, log_level=log_level,
                          overrides={"NIANBAO_REVISIT_ALL": True} if revisit_all else None)
    _print_summaries(summaries)
    raise typer.Exit(_exit_for(summaries))


@sites_app.command("validate")
def sites_validate(path: Optional[Path] = typer.Argument(None, help="A site file or a directory")):
    """Check site files; every problem names the file, the key and what is wrong."""
    from crawler.siteconfig import ConfigError, load_sites

    try:
        sites = load_sites(path or env.sites_dir())
    except ConfigError as exc:
        _config_error(exc)
    for s in sites:
        out.print(f"ok {s.id}: {s.agency} ({len(s.start_urls)} start URL(s), render {s.render})")


@sites_app.command("list")
def sites_list(sites_dir: Optional[Path] = typer.Option(None, "--sites-dir")):
    """List configured sites."""
    from crawler.siteconfig import ConfigError, load_sites

    try:
        sites = load_sites(sites_dir or env.sites_dir())
    except ConfigError as exc:
        _config_error(exc)
    table = Table()
    for col in ("id", "agency", "region", "verified", "schedule"):
        table.add_column(col)
    for s in sites:
        table.add_row(s.id, s.agency, s.region.name if s.region else "-",
                      "yes" if s.verification.verified else "no", s.schedule or "-")
    out.print(table)


@app.command()
def export(
    fmt: str = typer.Option("jsonl", "--format", help="jsonl | csv"),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="File to write (default stdout)"),
    store: Optional[str] = StoreOpt,
    catalogue: Optional[str] = CatalogueOpt,
):
    """One row per archived file, with provenance."""
    from storage.objects import open_store

    if fmt not in ("jsonl", "csv"):
        err.print(f"--format: {fmt!r} is not jsonl or csv")
        raise typer.Exit(EXIT_USAGE)
    cat = _open_catalogue(catalogue)
    st = open_store(env.store_url(store))
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


@app.command()
def runs(limit: int = typer.Option(20, "--limit"), site: Optional[str] = typer.Option(None, "--site"),
         fmt: str = typer.Option("table", "--format", help="table | json"),
         catalogue: Optional[str] = CatalogueOpt):
    """Recent crawl runs with their counts and errors."""
    if fmt not in ("table", "json"):
        err.print(f"--format: {fmt!r} is not table or json")
        raise typer.Exit(EXIT_USAGE)
    cat = _open_catalogue(catalogue)
    rows = [{"id": r.id, "site_id": r.site_id, "started_at": r.started_at.isoformat(),
             "finished_at": r.finished_at.isoformat() if r.finished_at else None, "outcome": r.outcome,
             "pages": r.pages or 0, "bytes": r.bytes or 0, "new": r.new_reports or 0,
             "changed": r.changed_reports or 0, "unchanged": r.unchanged_reports or 0,
             "removed": r.removed_reports or 0,
             # listed, but not revalidated on this run (crawler/revisit.py)
             "not_due": (r.stats or {}).get("nianbao/revisit/reports_not_due", 0),
             # files meant to be archived and not, when the run ended (storage/owed.py)
             "owed": (r.stats or {}).get("nianbao/owed", 0),
             "errors": r.errors or {}}
            for r in cat.runs(site_id=site, limit=limit)]
    if fmt == "json":
        out.print_json(json.dumps(rows, ensure_ascii=False))
        return
    table = Table(title="Crawl runs")
    for col in ("id", "site", "started", "outcome", "pages", "bytes", "new", "changed", "unchanged",
                "not due", "removed", "owed", "errors"):
        table.add_column(col, overflow="fold")
    for r in rows:
        errors = ", ".join(f"{k}×{v}" for k, v in sorted(r["errors"].items())) or "-"
        table.add_row(str(r["id"]), r["site_id"], r["started_at"][:16].replace("T", " "), r["outcome"],
                      str(r["pages"]), str(r["bytes"]), str(r["new"]), str(r["changed"]),
                      str(r["unchanged"]), str(r["not_due"]), str(r["removed"]), str(r["owed"]), errors)
    out.print(table)


@app.command()
def owed(site: Optional[str] = typer.Option(None, "--site"),
         state: str = typer.Option("owed", "--state", help="owed (the next run fetches them first) | gone"),
         fmt: str = typer.Option("table", "--format", help="table | json"),
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


def _open_catalogue(catalogue: str | None):
    """The catalogue, or a one-line error and exit 1 when it cannot be opened."""
    from storage.catalogue import Catalogue, CatalogueError

    try:
        return Catalogue.open(env.catalogue_url(catalogue))
    except CatalogueError as exc:
        err.print(f"catalogue: {exc}")
        raise typer.Exit(EXIT_FAILED)


@app.command()
def fsck(repair: bool = typer.Option(False, "--repair", help="Quarantine corrupt objects and owe their "
                                     "files to the next crawl; owe missing ones; adopt orphans"),
         fmt: str = typer.Option("text", "--format", help="text | json"),
         store: Optional[str] = StoreOpt, catalogue: Optional[str] = CatalogueOpt):
    """Check the catalogue against the object store: missing objects, orphans, hash mismatches,
    and every capture's WARC record. One line per problem, then a summary. Exit 0 when nothing
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
    site: str = typer.Option(..., "--site", help="Site id"),
    run: Optional[int] = typer.Option(None, "--run", help="One crawl run (default: every run of the site)"),
    output: Path = typer.Option(..., "-o", "--output", help="The .wacz file to write"),
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
    sites_dir: Optional[Path] = typer.Option(None, "--sites-dir"),
    concurrency: int = typer.Option(2, "--concurrency", min=1, help="Crawls running at once"),
    interval: float = typer.Option(60.0, "--interval", help="Seconds between checks"),
    once: bool = typer.Option(False, "--once", help="One pass: start what is due, wait for it, exit"),
    enqueue: bool = typer.Option(False, "--enqueue", help="Enqueue due sites on the Redis frontier for "
                                 "`nianbao worker`s instead of crawling here"),
    redis: Optional[str] = typer.Option(None, "--redis", help="Redis URL (default NIANBAO_REDIS)"),
    store: Optional[str] = StoreOpt,
    catalogue: Optional[str] = CatalogueOpt,
):
    """Long-lived scheduler: start each site's crawl when its cron schedule is due (UTC)."""
    from crawler.schedule import Scheduler
    from crawler.siteconfig import ConfigError, load_sites

    directory = str(env.sites_dir(str(sites_dir) if sites_dir else None))
    try:
        load_sites(directory)
    except ConfigError as exc:
        _config_error(exc)
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
def demo(size: str = typer.Option("tiny", "--size", help="tiny | small"),
         data: Path = typer.Option(Path("data/demo"), "--data", help="Where the demo archive goes"),
         log_level: str = typer.Option("WARNING", "--log-level")):
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
    try:
        app()
    except env.EnvError as exc:
        # A variable read when a command builds its settings (crawl, demo, worker alike).
        err.print(str(exc))
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
