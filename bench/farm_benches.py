"""The three benchmarks over one simulated farm: throughput against a bare spider, focus against
wget, and the cost of recrawling an unchanged farm. They share the farm's first crawl."""
from __future__ import annotations

import collections
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

from bench.farm import Farm, found_reports

REPO = Path(__file__).resolve().parent.parent
# Families whose lists a plain crawler can reach without a browser (wget included, in part):
# the browser benchmark covers the script-built and challenge-gated ones.
PLAIN_FAMILIES = {"hanweb", "trs", "xxgk", "fanti", "static"}


def make_farm(size=None) -> Farm:
    from bench.farm import FARM_SIZE
    return Farm(size or FARM_SIZE, families=PLAIN_FAMILIES, render="never")


# Rounds of (full crawl, bare replay), alternating; the figure is the median round's ratio. One
# round's ratio moved by a fifth between runs on this machine (docs/benchmarks.md).
THROUGHPUT_ROUNDS = 3


def throughput(farm: Farm) -> dict:
    first = farm.first()
    path = farm.workdir / "replay.json"
    path.write_text(json.dumps([(m, u, b.decode("latin-1")) for m, u, _h, b, _s in first.exchanges]))
    rounds = []
    for n in range(THROUGHPUT_ROUNDS):
        # Each full crawl into a fresh archive (round 1: the farm's first crawl, shared with focus
        # and recrawl), each followed by the bare spider replaying what the first one fetched.
        full = first if n == 0 else farm.crawl(data=farm.workdir / f"throughput-{n}")
        before = len(farm.server.exchanges)
        bare = _bare(farm, path)
        rounds.append({"full_seconds": round(full.seconds, 2), "full_requests": full.requests,
                       "bare_seconds": round(bare["seconds"], 2), "bare_responses": bare["responses"],
                       "replayed": len(farm.server.exchanges) - before,
                       "ratio": round((full.requests / full.seconds) / (bare["responses"] / bare["seconds"]), 3)})
    median = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
    full_rate = median["full_requests"] / median["full_seconds"]
    bare_rate = median["bare_responses"] / median["bare_seconds"]
    # The same bare spider with nianbao's collector settings (crawler/runner.py tune_gc): how
    # much of the ratio is that tuning rather than the pipeline.
    bare_tuned = _bare(farm, path, "--tuned-gc")
    # Where the gap is: the same crawl with the archive pipeline and the WARC writer off
    # (recognition and link following only), into a separate archive.
    spider_only = farm.crawl(data=farm.workdir / "spider-only",
                             patches={"ITEM_PIPELINES": {}, "NIANBAO_WARC": False})
    spider_rate = spider_only.requests / spider_only.seconds
    return {"portals": len(farm.portals), "requests": first.requests, "replayed": median["replayed"],
            "rounds": rounds, "ratios": [r["ratio"] for r in rounds],
            "full_seconds": median["full_seconds"], "bare_seconds": median["bare_seconds"],
            "full_pages_per_s": round(full_rate, 1), "bare_pages_per_s": round(bare_rate, 1),
            "spider_only_seconds": round(spider_only.seconds, 1), "spider_only_requests": spider_only.requests,
            "spider_only_pages_per_s": round(spider_rate, 1),
            "spider_only_ratio": round(spider_rate / bare_rate, 3),
            "bare_tuned_gc_pages_per_s": round(bare_tuned["responses"] / bare_tuned["seconds"], 1),
            "ratio_to_bare_with_tuned_gc": round(full_rate / (bare_tuned["responses"] / bare_tuned["seconds"]), 3),
            "ratio": median["ratio"], "target": ">= 0.85"}


def _bare(farm: Farm, path: Path, *flags: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "bench.bare", str(path), farm.server.proxy_url, *flags],
                          capture_output=True, text=True, cwd=REPO, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"bare spider failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _portal_of(farm: Farm) -> dict[str, str]:
    return {h: p.site_id for p in farm.world.portals for h in p.hosts}


# wget --mirror recurses without a depth limit; portals have traps (an endless calendar) where that
# never ends, so the mirror is bounded. Deep enough for every list's last page on these farms.
WGET_LEVEL = 50


def _wget(farm: Farm, portal, out: Path) -> None:
    hosts = ",".join(portal.hosts)
    cmd = ["wget", "--mirror", f"--level={WGET_LEVEL}", "--no-verbose", "--tries=1", "--timeout=10",
           "-e", "robots=on", "-e", "use_proxy=yes", "-e", f"http_proxy={farm.server.proxy_url}",
           "--span-hosts", f"--domains={hosts}", "-P", str(out), portal.start_url]
    subprocess.run(cmd, capture_output=True, timeout=1800)


def focus(farm: Farm) -> dict:
    first = farm.first()
    portal_of = _portal_of(farm)
    family = {p.site_id: p.family for p in farm.world.portals}
    ours = collections.Counter(portal_of.get(u.split("/")[2], "?") for _m, u, *_ in first.exchanges)
    found, truth = found_reports(farm.world, first.catalogue_url)
    by_site_truth = [t for t in farm.world.truth if t.site_id in {p.site_id for p in farm.portals}]
    wget_fetches: collections.Counter = collections.Counter()
    wget_found: set = set()
    t0 = time.monotonic()
    for portal in farm.portals:
        out = farm.workdir / "wget" / portal.site_id
        before = len(farm.server.exchanges)
        _wget(farm, portal, out)
        wget_fetches[portal.site_id] = len(farm.server.exchanges) - before
        hashes = {hashlib.sha256(p.read_bytes()).hexdigest() for p in out.rglob("*") if p.is_file()}
        for t in by_site_truth:
            if t.site_id == portal.site_id and t.sha256 and all(s in hashes for s in t.sha256.values()):
                wget_found.add((t.site_id, t.agency, t.year))
    wget_seconds = time.monotonic() - t0
    per_family = {}
    for fam in sorted({family[p.site_id] for p in farm.portals}):
        sites = {p.site_id for p in farm.portals if p.family == fam}
        true_n = len({x for x in truth if x[0] in sites})
        ours_n, wget_n = len({x for x in found if x[0] in sites}), len({x for x in wget_found if x[0] in sites})
        per_family[fam] = {"portals": len(sites), "reports": true_n,
                           "nianbao_fetches": sum(ours[s] for s in sites), "nianbao_found": ours_n,
                           "wget_fetches": sum(wget_fetches[s] for s in sites), "wget_found": wget_n}
    ours_total, wget_total = sum(ours.values()), sum(wget_fetches.values())
    ours_per = ours_total / max(1, len(found))
    wget_per = wget_total / max(1, len(wget_found))
    # The floor: an archive must fetch every file of a report, its page and its attachments
    # (redirects not counted), so no crawler goes below this many fetches per report; the rest is
    # the cost of finding them.
    floor = sum(len({t.page_url, *t.file_urls} - {""}) for t in by_site_truth) / max(1, len(by_site_truth))
    return {"reports": len(truth), "nianbao_fetches": ours_total, "nianbao_found": len(found),
            "nianbao_recall": round(len(found) / len(truth), 3), "wget_fetches": wget_total,
            "wget_found": len(wget_found), "wget_recall": round(len(wget_found) / len(truth), 3),
            "wget_seconds": round(wget_seconds, 1), "nianbao_fetches_per_report": round(ours_per, 2),
            "wget_fetches_per_report": round(wget_per, 2), "ratio": round(ours_per / wget_per, 3),
            "floor_fetches_per_report": round(floor, 2),
            "search_overhead_ratio": round((ours_per - floor) / max(1e-9, wget_per - floor), 3),
            "target": "<= 0.2 at full recall", "per_family": per_family}


# Busy portals: news articles per portal of the order a county portal's news columns hold
# (hundreds to thousands; the default farm has 30-150, which makes its portals report-dense).
BUSY_NEWS = (500, 1500)
BUSY_SIZE = 12


def focus_busy(_farm=None) -> dict:
    """The focus figure again on portals whose news columns are as busy as real ones: what wget
    spends there grows with everything a portal publishes, what a focused crawl spends does not."""
    farm = Farm(BUSY_SIZE, families=PLAIN_FAMILIES, render="never", world={"news_per_portal": BUSY_NEWS})
    try:
        result = focus(farm)
    finally:
        farm.close()
    result["portals"] = len(farm.portals)
    result["news_per_portal"] = list(BUSY_NEWS)
    return result


def recrawl(farm: Farm) -> dict:
    from storage.catalogue import Catalogue

    first = farm.first()
    second = farm.crawl()
    statuses = collections.Counter(s for *_x, s in second.exchanges)
    conditional = sum(1 for _m, _u, h, _b, _s in second.exchanges
                      if "if-none-match" in h or "if-modified-since" in h)
    runs = Catalogue.open(second.catalogue_url).runs(limit=10_000)
    latest = sorted(runs, key=lambda r: r.id)[-len(farm.portals):]
    return {"first_requests": first.requests, "second_requests": second.requests,
            "first_bytes": first.bytes_served, "second_bytes": second.bytes_served,
            "first_seconds": round(first.seconds, 1), "second_seconds": round(second.seconds, 1),
            "conditional_requests": conditional, "answers_304": statuses.get(304, 0),
            "new_reports": sum(r.new_reports or 0 for r in latest),
            "unchanged_reports": sum(r.unchanged_reports or 0 for r in latest),
            "bytes_ratio": round(second.bytes_served / max(1, first.bytes_served), 3),
            "time_ratio": round(second.seconds / first.seconds, 3),
            "requests_ratio": round(second.requests / max(1, first.requests), 3)}


# The politeness a site file gets by default (crawler/siteconfig.py): what a real harvest waits.
POLITE = {"politeness": {"delay": 1.0, "concurrency": 2}}
POLITE_SIZE = 20


def recrawl_polite(_farm=None) -> dict:
    """The recrawl ratio again, with every portal at the default politeness (1 s between requests
    to a host) instead of none: on real portals a run's time is its requests per host, not CPU."""
    farm = Farm(POLITE_SIZE, families=PLAIN_FAMILIES, render="never", overrides=POLITE)
    try:
        result = recrawl(farm)
    finally:
        farm.close()
    result["portals"] = len(farm.portals)
    result["politeness"] = POLITE["politeness"]
    return result
