"""Crawls of the politeness families (simulator POLITE_FAMILIES) measured at the server: every request
that reached a portal's host, when it arrived, and what the run's stats say of its browser.
Shared by tests/test_politeness.py and `python -m bench polite`."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from storage.catalogue import Catalogue
from tests.harness import harvest


@dataclass
class Measured:
    proc: object
    catalogue_url: str
    store_url: str
    hosts: set[str]
    arrivals: list[tuple[float, str, str, str]]      # (monotonic time, host, method, path)
    bytes: int
    stats: dict = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.arrivals)

    def paths(self) -> list[str]:
        return [path for _t, _h, _m, path in self.arrivals]

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests to each host, all hosts together."""
        out = []
        by_host: dict[str, list[float]] = {}
        for t, host, _m, _p in self.arrivals:
            by_host.setdefault(host, []).append(t)
        for times in by_host.values():
            times.sort()
            out += [b - a for a, b in zip(times, times[1:])]
        return out


def crawl(world, server, tmp: Path, *, families: set[str], overrides: dict | None = None,
          extra: list[str] = (), data: Path | None = None, timeout: float = 900) -> Measured:
    """`nianbao crawl --all` of the world's portals of these families, as harness.harvest runs it."""
    hosts = {h for p in world.portals if p.family in families for h in p.hosts}
    before = _run_ids(data)
    first, bytes_before = len(server.arrivals), server.stats.bytes_served
    h = harvest(world, server, tmp, families=families, overrides=overrides, extra=list(extra), data=data,
                timeout=timeout)
    rows = [row for row in server.arrivals[first:] if row[1] in hosts]
    stats: dict = {}
    try:
        for run in Catalogue.open(h.catalogue_url).runs(limit=1000):
            if run.id in before:
                continue
            for key, value in (run.stats or {}).items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    stats[key] = stats.get(key, 0) + value
    except Exception:       # the crawl failed early: the caller reports proc
        pass
    return Measured(h.proc, h.catalogue_url, h.store_url, hosts, rows, server.stats.bytes_served - bytes_before,
                    stats)


def _run_ids(data: Path | None) -> set[int]:
    if data is None or not (data / "catalogue.sqlite").exists():
        return set()
    return {r.id for r in Catalogue.open(f"sqlite:///{data / 'catalogue.sqlite'}").runs(limit=1000)}


def latest_stats(catalogue_url: str) -> dict:
    runs = Catalogue.open(catalogue_url).runs(limit=1)
    return dict(runs[0].stats or {}) if runs else {}
