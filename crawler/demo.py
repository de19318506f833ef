"""`nianbao demo`: simulated portals on loopback, a real harvest of them, the coverage table.

Nothing leaves the machine: every request goes through the simulator's proxy."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from crawler import coverage, coverage_format
from crawler.siteconfig import parse_site


def demo_last_year(today: date | None = None) -> int:
    """The newest report year due today, for any kind of publisher: the demo's world covers every
    year up to it, so coverage judged against today's date shows no year the world never had."""
    today = today or date.today()
    return max(coverage.last_due_year(kind, today) for kind in ("government", "department"))


def demo_world(size: str, today: date | None = None):
    import simulator

    return simulator.World(seed=0, size=size, last_year=demo_last_year(today))


def serve_hint(catalogue_url: str, store_url: str) -> str:
    return f"open this archive in the web UI: nianbao serve --catalogue {catalogue_url} --store {store_url}"


def run_demo(*, size: str, data: Path, log_level: str, console) -> int:
    import simulator
    from crawler.runner import run_sites
    from storage.catalogue import Catalogue

    data = Path(data).resolve()
    data.mkdir(parents=True, exist_ok=True)
    world = demo_world(size)
    sites = [parse_site(c, source=f"simulator:{c['id']}") for c in world.site_configs()]
    catalogue_url = f"sqlite:///{data / 'catalogue.sqlite'}"
    store_url = (data / "objects").as_uri()
    console.print(f"demo: {len(sites)} simulated portals, {len(world.truth)} true reports; archive in {data}")
    with simulator.serve(world) as server:
        summaries = run_sites(sites, store=store_url, catalogue=catalogue_url, proxy=server.proxy_url,
                              log_level=log_level)
    from crawler.cli import _print_summaries
    _print_summaries(summaries)
    cat = Catalogue.open(catalogue_url)
    cov = coverage.from_catalogue(cat)
    console.print(coverage_format.rich_table(cov))
    found = {(r.site_id, r.agency, r.year) for r in cat.reports()}
    truth = {(t.site_id, t.agency, t.year) for t in world.truth}
    hit = len(found & truth)
    console.print(f"recall {hit}/{len(truth)}, precision {hit}/{len(found)} against the simulator's truth")
    console.print(serve_hint(catalogue_url, store_url), highlight=False, soft_wrap=True)
    return 0 if hit else 1
