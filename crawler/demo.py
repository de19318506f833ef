"""`nianbao demo`: simulated portals on loopback, a real harvest of them, the coverage table.

Nothing leaves the machine: every request goes through the simulator's proxy."""
from __future__ import annotations

from pathlib import Path

from crawler import coverage, coverage_format
from crawler.siteconfig import parse_site


def run_demo(*, size: str, data: Path, log_level: str, console) -> int:
    import simulator
    from crawler.runner import run_sites
    from storage.catalogue import Catalogue

    data = Path(data).resolve()
    data.mkdir(parents=True, exist_ok=True)
    world = simulator.World(seed=0, size=size)
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
    return 0 if hit else 1
