"""Commands for scale-out: Redis frontier workers and enqueueing; store migration."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

out = Console()
err = Console(stderr=True)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CONFIG = 0, 1, 2, 3

RedisOpt = typer.Option(None, "--redis", help="Redis URL (default: NIANBAO_REDIS or redis://127.0.0.1:6379/0)")
PrefixOpt = typer.Option("nianbao", "--prefix", help="Prefix of every Redis key (one per deployment)")


def _frontier(redis: str | None, prefix: str):
    from crawler import env
    from crawler.distributed import Frontier

    from crawler import preflight

    url = env.redis_url(redis)
    preflight.require(err, redis=url)       # unreachable: one line, exit 6 (environment/settings)
    try:
        return Frontier.from_url(url, prefix=prefix)
    except Exception as exc:  # connection refused, bad URL, auth: one line, not a traceback
        err.print(f"settings error: redis (--redis / NIANBAO_REDIS): cannot reach {url}: {exc}", highlight=False)
        raise typer.Exit(preflight.EXIT_SETTINGS)


def _migrate_catalogue(url: str, attempts: int = 5) -> None:
    """Bring the catalogue to the latest migration before any crawl starts. Workers started
    together race to create Alembic's own table on an empty database; the loser finds the
    schema there on its next try."""
    import random
    import time

    from storage.catalogue import Catalogue

    for attempt in range(attempts):
        try:
            Catalogue.open(url).close()
            return
        except Exception as exc:
            if attempt == attempts - 1:
                from crawler.preflight import EXIT_SETTINGS

                err.print(f"settings error: catalogue (--catalogue / NIANBAO_CATALOGUE): cannot migrate {url}: "
                          f"{type(exc).__name__}: {str(exc).splitlines()[0]}", highlight=False)
                raise typer.Exit(EXIT_SETTINGS)
            time.sleep(0.5 + random.random())


def enqueue(
    site_ids: list[str] = typer.Argument(None, help="Site ids from the sites directory"),
    all_sites: bool = typer.Option(False, "--all", help="Every site in the sites directory"),
    due: bool = typer.Option(False, "--due", help="Only sites whose schedule is due"),
    restart: bool = typer.Option(False, "--restart", help="Throw away a harvest under way and start again"),
    sites_dir: Optional[Path] = typer.Option(None, "--sites-dir", help="Directory of site YAML files"),
    max_pages: Optional[int] = typer.Option(None, "--max-pages", help="Page budget per site"),
    redis: Optional[str] = RedisOpt,
    prefix: str = PrefixOpt,
    catalogue: Optional[str] = typer.Option(None, "--catalogue", help="Catalogue URL (for --due)"),
):
    """Put sites on the shared frontier; any running `nianbao worker` picks them up."""
    from crawler.cli import select_sites

    sites = select_sites(site_ids, all_sites=all_sites, due=due, sites_dir=sites_dir, catalogue=catalogue,
                         max_pages=max_pages)
    frontier = _frontier(redis, prefix)
    queued = 0
    for site in sites:
        if frontier.enqueue(site, restart=restart):
            queued += 1
            out.print(f"queued {site.id}")
        else:
            out.print(f"already under way {site.id} (--restart to start again)")
    out.print(f"{queued} site(s) queued, {len(frontier.active_sites())} active")


def worker(
    max_sites: int = typer.Option(4, "--max-sites", metavar="N", help="Sites this worker crawls at once"),
    exit_when_idle: Optional[float] = typer.Option(
        None, "--exit-when-idle", metavar="SECONDS", help="Exit after this many seconds with nothing to do (default: run forever)"),
    render: Optional[str] = typer.Option(None, "--render", help="auto | never | always (overrides sites)"),
    proxy: Optional[str] = typer.Option(None, "--proxy", help="HTTP proxy for every request"),
    max_bytes: Optional[int] = typer.Option(None, "--max-bytes", help="Largest file to download"),
    redis: Optional[str] = RedisOpt,
    prefix: str = PrefixOpt,
    store: Optional[str] = typer.Option(None, "--store", help="Object store URL (default: NIANBAO_STORE)"),
    catalogue: Optional[str] = typer.Option(None, "--catalogue", help="Catalogue URL (default: NIANBAO_CATALOGUE)"),
    log_level: str = typer.Option("WARNING", "--log-level", metavar="LEVEL", help="Scrapy log level"),
):
    """Crawl whatever sites are active on the shared frontier, with any number of other workers."""
    from crawler import env
    from crawler.distributed import distributed_settings, worker_id
    from crawler.runner import build_settings
    from crawler.worker import Worker

    if render not in (None, "auto", "never", "always"):
        err.print(f"--render: {render!r} is not one of auto, never, always")
        raise typer.Exit(EXIT_USAGE)
    if max_sites < 1:
        err.print("--max-sites must be at least 1")
        raise typer.Exit(EXIT_USAGE)
    from crawler import preflight

    preflight.require(err, store=env.store_url(store))
    frontier = _frontier(redis, prefix)
    _migrate_catalogue(env.catalogue_url(catalogue))
    me = worker_id()
    redis_url = env.redis_url(redis)
    common = dict(store=store, catalogue=catalogue, render=render, proxy=proxy, max_bytes=max_bytes,
                  log_level=log_level)

    def settings_for(site):
        settings = build_settings([site], **common)
        distributed_settings(settings, redis_url=redis_url, prefix=prefix, worker=me)
        return settings

    def report(s):
        errors = ", ".join(f"{k}×{v}" for k, v in sorted(s.errors.items())) or "-"
        out.print(f"{me} {s.site_id}: {s.outcome} pages={s.pages} reports={s.reports} files={s.files} "
                  f"errors={errors}", highlight=False)

    base = build_settings([], **{**common, "render": "never"})
    w = Worker(frontier=frontier, worker_id=me, base_settings=base, settings_for=settings_for,
               max_sites=max_sites, exit_when_idle=exit_when_idle, on_finish=report)
    w.run()
    raise typer.Exit(EXIT_OK)


def store_migrate(
    src: str = typer.Argument(..., help="Source store URL (file:///path or s3://bucket/prefix?endpoint=...)"),
    dst: str = typer.Argument(..., help="Destination store URL"),
    no_verify: bool = typer.Option(False, "--no-verify", help="Skip reading every copy back to hash it"),
):
    """Copy every object from SRC to DST; rerun after an interruption; copies verified by sha256."""
    from storage.maintenance import migrate_store
    from storage.objects import open_store

    try:
        source, dest = open_store(src), open_store(dst)
        report = migrate_store(source, dest, verify=not no_verify)
    except Exception as exc:  # bad URL, missing bucket, credentials: one line
        err.print(f"store migrate failed: {type(exc).__name__}: {exc}", highlight=False)
        raise typer.Exit(EXIT_FAILED)
    out.print(report.summary())
    for key in report.mismatched:
        err.print(f"mismatched copy removed: {key}", highlight=False)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_FAILED)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `nianbao` app."""
    app.command("enqueue")(enqueue)
    app.command("worker")(worker)
    for group in app.registered_groups:
        if group.name == "store":
            group.typer_instance.command("migrate")(store_migrate)
            break
