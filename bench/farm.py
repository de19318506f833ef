"""A simulated farm of portals served on loopback, crawled the way a user crawls it.

`Farm` serves one `simulator.World` with a server that also logs request bodies (the Hanweb
dataproxy is POSTed), so a bare spider can replay exactly what the full crawl fetched.
"""
from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import simulator
from simulator.server import SimServer, _Handler
from storage.catalogue import Catalogue
from tests.harness import harvest

FAST = {"politeness": {"delay": 0, "concurrency": 4}}
MAX_BYTES = "5000000"
# Portals in the farm: ~1-3 minutes of crawling on a 2-core machine (tiny has 9, one per family).
FARM_SIZE = 80


class _BodyLogHandler(_Handler):
    """The simulator's handler, also keeping each request's method, URL, headers and body."""

    def _send(self, req, resp):
        super()._send(req, resp)
        url = f"http://{req.host}{req.path}" + (f"?{req.query}" if req.query else "")
        with self.server.body_lock:
            self.server.exchanges.append((req.method, url, dict(req.headers), req.body, resp.status))


def serve_logged(world) -> SimServer:
    server = SimServer(world)
    server.RequestHandlerClass = _BodyLogHandler
    server.exchanges = []
    server.body_lock = threading.Lock()
    return server.start()


@dataclass
class CrawlResult:
    seconds: float                  # first run start to last run finish, from the catalogue
    wall: float                     # the subprocess, imports included
    requests: int
    bytes_served: int
    exchanges: list = field(repr=False, default_factory=list)
    catalogue_url: str = ""
    store_url: str = ""
    returncode: int = 0
    stderr: str = ""


def crawl_seconds(catalogue_url: str, *, after_id: int = 0) -> float:
    runs = [r for r in Catalogue.open(catalogue_url).runs(limit=10_000) if r.id > after_id]
    start = min(r.started_at for r in runs)
    end = max(r.finished_at for r in runs if r.finished_at)
    return (end - start).total_seconds()


class Farm:
    def __init__(self, size: int | str = FARM_SIZE, *, seed: int = 0, families: set[str] | None = None,
                 render: str = "never", workdir: Path | None = None, overrides: dict | None = None,
                 world: dict | None = None):
        self.overrides = FAST if overrides is None else overrides   # site-file settings of every portal
        self.world = simulator.World(seed=seed, size=size, **(world or {}))
        self.families = families
        self.render = render
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="nianbao-bench-"))
        self.server = serve_logged(self.world)
        self._first: CrawlResult | None = None
        self.runs = 0

    def close(self) -> None:
        self.server.stop()

    @property
    def portals(self):
        return [p for p in self.world.portals if not self.families or p.family in self.families]

    def crawl(self, *, data: Path | None = None, patches: dict | None = None) -> CrawlResult:
        """One `nianbao crawl --all` of the farm into DATA (default: the farm's own archive).
        PATCHES set crawler.settings attributes first (e.g. switch the archive pipeline off)."""
        data = data or (self.workdir / "data")
        before_n = len(self.server.exchanges)
        before_bytes = self.server.stats.bytes_served
        last_run = 0
        if (data / "catalogue.sqlite").exists():
            last_run = max((r.id for r in Catalogue.open(f"sqlite:///{data / 'catalogue.sqlite'}").runs(limit=1)),
                           default=0)
        self.runs += 1
        t0 = time.monotonic()
        extra = ["--max-bytes", MAX_BYTES, "--render", self.render]
        if patches:
            h = _patched_harvest(self, data, extra, patches)
        else:
            h = harvest(self.world, self.server, self.workdir / f"run{self.runs}", families=self.families,
                        overrides=self.overrides, data=data, extra=extra, timeout=3600)
        wall = time.monotonic() - t0
        if h.proc.returncode not in (0,):
            raise RuntimeError(f"crawl failed ({h.proc.returncode}): {h.proc.stderr[-2000:]}")
        exchanges = self.server.exchanges[before_n:]
        seconds = (_stats_seconds(h.proc.stdout) if patches else None) or crawl_seconds(h.catalogue_url, after_id=last_run)
        return CrawlResult(seconds=seconds, wall=wall,
                           requests=len(exchanges), bytes_served=self.server.stats.bytes_served - before_bytes,
                           exchanges=exchanges, catalogue_url=h.catalogue_url, store_url=h.store_url,
                           returncode=h.proc.returncode, stderr=h.proc.stderr)

    def first(self) -> CrawlResult:
        if self._first is None:
            self._first = self.crawl()
        return self._first


def _patched_harvest(farm: "Farm", data: Path, extra: list[str], patches: dict):
    """harvest() through the measuring wrapper of tests/hostile_server.py, settings patched."""
    import subprocess

    from tests.harness import REPO, Harvest, write_sites
    from tests.hostile_server import crawl_env, wrapper_command

    sites_dir = farm.workdir / f"run{farm.runs}" / "sites"
    write_sites(farm.world, sites_dir, families=farm.families, overrides=FAST)
    catalogue_url = f"sqlite:///{data / 'catalogue.sqlite'}"
    store_url = (data / "objects").as_uri()
    args = ["crawl", "--all", "--sites-dir", str(sites_dir), "--proxy", farm.server.proxy_url,
            "--catalogue", catalogue_url, "--store", store_url, *extra]
    # Print the crawl's own elapsed time: with the pipeline off, no run rows record it.
    patches = dict(patches, EXTENSIONS={"crawler.progress.Progress": 500, "bench.probe.Elapsed": 900})
    proc = subprocess.run(wrapper_command(args, patches), capture_output=True, text=True, cwd=REPO,
                          env=crawl_env(), timeout=1800)
    return Harvest(catalogue_url, store_url, sites_dir, proc)


def _stats_seconds(stdout: str) -> float | None:
    values = [float(line.split("=", 1)[1]) for line in stdout.splitlines() if line.startswith("ELAPSED=")]
    return max(values) if values else None


def found_reports(world, catalogue_url: str) -> tuple[set, set]:
    """(true reports found, true reports) as (site_id, agency, year) triples."""
    cat = Catalogue.open(catalogue_url)
    found = {(r.site_id, r.agency, r.year) for r in cat.reports()}
    sites = {r.site_id for r in cat.runs(limit=10_000)}
    truth = {(t.site_id, t.agency, t.year) for t in world.truth if t.site_id in sites}
    return found & truth, truth
