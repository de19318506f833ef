"""`python -m bench [NAME ...] [--size N]`: run benchmarks, print their ratios, save bench/results.json.

Names: throughput, focus, recrawl (one shared farm crawl), recrawl_polite (its own farm, default politeness),
memory, browser, discovery (requests per report on the ad hoc families, beside wget), figures (statistics
extraction: seconds per report by format, share passing every check), polite (requests per report,
renders and browser requests by kind, recrawl ratios with and without validators), chaos (seeded faults
on a SeaweedFS store, then plain reruns: `--seeds N`) and polite_memory (memory over 2,000 rendered
pages): these two only when named. No name: all the others.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"
FARM = ("throughput", "recrawl", "focus", "recrawl_polite", "focus_busy")
OTHERS = ("memory", "browser", "discovery", "figures", "polite")
OPT_IN = ("chaos", "polite_memory")      # run only when named
HEADLINE = {
    "throughput": lambda r: f"full pipeline {r['full_pages_per_s']} pages/s vs bare spider {r['bare_pages_per_s']}: ratio {r['ratio']} (median of rounds {r['ratios']}; target {r['target']}); spider alone (no store, catalogue, WARC) {r['spider_only_pages_per_s']}: ratio {r['spider_only_ratio']}; against a bare spider with nianbao's GC settings ({r['bare_tuned_gc_pages_per_s']}): ratio {r['ratio_to_bare_with_tuned_gc']}",
    "focus": lambda r: (f"fetches per report: nianbao {r['nianbao_fetches_per_report']} (recall {r['nianbao_recall']}) vs wget "
                        f"{r['wget_fetches_per_report']} (recall {r['wget_recall']}): ratio {r['ratio']} (target {r['target']}); "
                        f"floor {r['floor_fetches_per_report']} (every file of a report), fetches above it: ratio {r['search_overhead_ratio']}"),
    "focus_busy": lambda r: (f"busy portals ({r['portals']}, {r['news_per_portal'][0]}-{r['news_per_portal'][1]} news each): "
                             f"fetches per report: nianbao {r['nianbao_fetches_per_report']} (recall {r['nianbao_recall']}) vs wget "
                             f"{r['wget_fetches_per_report']} (recall {r['wget_recall']}): ratio {r['ratio']} (target {r['target']})"),
    "discovery": lambda r: (f"ad hoc families: nianbao found {r['nianbao_found']}/{r['reports']} at "
                            f"{r['nianbao_requests_per_report']} requests per report; wget found {r['wget_found']}/"
                            f"{r['reports']} at {r['wget_requests_per_report']}"),
    "recrawl": lambda r: (f"recrawl of an unchanged farm: bytes {r['bytes_ratio']}, time {r['time_ratio']}, requests "
                          f"{r['requests_ratio']} of the first crawl; {r['answers_304']} answers 304"),
    "recrawl_polite": lambda r: (f"recrawl of an unchanged farm at the default politeness ({r['portals']} portals, "
                                 f"1 s between requests to a host): bytes {r['bytes_ratio']}, time {r['time_ratio']}, "
                                 f"requests {r['requests_ratio']} of the first crawl"),
    "figures": lambda r: __import__("bench.figures", fromlist=["headline"]).headline(r),
    "chaos": lambda r: __import__("bench.chaos", fromlist=["headline"]).headline(r),
    "polite": lambda r: __import__("bench.polite", fromlist=["headline"]).headline(r),
    "polite_memory": lambda r: __import__("bench.polite", fromlist=["memory_headline"]).memory_headline(r),
    "memory": lambda r: f"peak RSS with a {r['frontier']:,} URL frontier: {r['peak_rss_mb']} MB (idle worker {r['idle_rss_mb']} MB; target < {r['target_mb']} MB): ratio {r['ratio']}",
    "browser": lambda r: (f"rendered {r['rendered']} of {r['pages']} pages ({r['needed']} found needing it, {r['planned']} planned); "
                          f"a rendered page costs {r['cost_ratio']}x a plain fetch"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"any of {', '.join(FARM + OTHERS + OPT_IN)} (default: all but chaos)")
    parser.add_argument("--size", type=int, default=None, help="portals in the simulated farm")
    parser.add_argument("--seeds", type=int, default=4, help="chaos: how many seeds to run")
    parser.add_argument("--first-seed", type=int, default=0, help="chaos: the first seed (then +1, +2, ...)")
    args = parser.parse_args(argv)
    names = args.names or list(FARM + OTHERS)
    unknown = [n for n in names if n not in FARM + OTHERS + OPT_IN]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(FARM + OTHERS + OPT_IN)}",
              file=sys.stderr)
        return 2
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    farm = None
    try:
        for name in names:
            t0 = time.monotonic()
            if name in FARM:
                from bench import farm_benches
                if name in ("recrawl_polite", "focus_busy"):
                    result = getattr(farm_benches, name)()      # its own farm
                else:
                    farm = farm or farm_benches.make_farm(args.size)
                    result = getattr(farm_benches, name)(farm)
            elif name == "chaos":
                from bench import chaos
                result = chaos.run(seeds=args.seeds, first_seed=args.first_seed)
            elif name == "polite_memory":
                from bench import polite
                result = polite.run_memory()
            else:
                module = __import__(f"bench.{name}", fromlist=["run"])
                result = module.run()
            result["bench_seconds"] = round(time.monotonic() - t0, 1)
            results[name] = result
            RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False))
            print(f"{name}: {HEADLINE[name](result)}", flush=True)
    finally:
        if farm is not None:
            farm.close()
    from bench.machine import describe
    results["machine"] = describe()
    RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
