"""Browser use per portal family: pages rendered against pages that needed rendering, and what a
rendered page costs against a plain fetch.

The tiny world (one portal per family) is crawled twice in this run, render auto and render never.
Counts come from each run's stats in the catalogue (nianbao/render/*, playwright/*). The cost of a
rendered page is the extra run time with the browser per rendered page, over the run time per page
without it; both runs see the same load, so the ratio holds on a noisy machine.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import simulator
from storage.catalogue import Catalogue
from tests.harness import harvest

FAST = {"politeness": {"delay": 0, "concurrency": 4}}


def _crawl(world, server, tmp: Path, render: str) -> dict:
    h = harvest(world, server, tmp / render, overrides=FAST, extra=["--max-bytes", "5000000", "--render", render],
                timeout=1200)
    if h.proc.returncode != 0:
        raise RuntimeError(f"render {render} crawl failed: {h.proc.stderr[-2000:]}")
    runs = Catalogue.open(h.catalogue_url).runs(limit=1000)
    out = {}
    for r in runs:
        stats = r.stats or {}
        out[r.site_id] = {"seconds": (r.finished_at - r.started_at).total_seconds(),
                          "pages": stats.get("nianbao/pages", 0), "reports": stats.get("nianbao/reports", 0),
                          "rendered": stats.get("nianbao/render/pages", 0),
                          "needed": stats.get("nianbao/render/needed", 0),
                          "planned": stats.get("nianbao/render/planned", 0),
                          "challenges": stats.get("nianbao/render/challenges_solved", 0),
                          "clicked": stats.get("nianbao/render/clicked_pages", 0),
                          "playwright_pages": stats.get("playwright/page_count", 0),
                          "playwright_requests": stats.get("playwright/request_count", 0)}
    return out


def run() -> dict:
    world = simulator.World(seed=0, size="tiny")
    family = {p.site_id: p.family for p in world.portals}
    tmp = Path(tempfile.mkdtemp(prefix="nianbao-bench-browser-"))
    with simulator.serve(world) as server:
        auto = _crawl(world, server, tmp, "auto")
        never = _crawl(world, server, tmp, "never")
    per_family = {}
    for site, a in sorted(auto.items(), key=lambda kv: family[kv[0]]):
        n = never.get(site, {"seconds": 0, "pages": 0, "reports": 0})
        row = dict(a, reports_without_browser=n["reports"], seconds_without_browser=round(n["seconds"], 2),
                   seconds=round(a["seconds"], 2))
        if a["rendered"] and n["pages"]:
            plain = n["seconds"] / n["pages"]
            extra = max(0.0, a["seconds"] - n["seconds"]) / a["rendered"]
            row["cost_ratio"] = round((plain + extra) / plain, 1)
        per_family[family[site]] = row
    total = {k: sum(r[k] for r in auto.values()) for k in ("pages", "rendered", "needed", "planned")}
    plain_all = sum(r["seconds"] for r in never.values()) / max(1, sum(r["pages"] for r in never.values()))
    extra_all = max(0.0, sum(r["seconds"] for r in auto.values()) - sum(r["seconds"] for r in never.values()))
    cost = (plain_all + extra_all / max(1, total["rendered"])) / plain_all
    return dict(total, cost_ratio=round(cost, 1), per_family=per_family)
