"""Every request counts (issue 17), per family, counted at the simulator's server:

- requests per report, pages rendered against pages whose plain analysis gave a reason to render,
  browser requests by kind (sent to the portal, served from the run's copy, refused), for the
  politeness families (avalon: a heavy template around pages whose body is in the HTML;
  scriptapp: a list drawn by script in the same template) and the ad hoc families;
- recrawl ratios (second pass over first, requests and bytes) of the tiny world's seven families,
  with validators (as served) and without (no ETag/Last-Modified, a clock and a visit counter in
  every page);
- memory over many rendered pages (`python -m bench polite_memory`, opt-in): the crawl's process
  tree (Python, Playwright's driver, Chromium) sampled while one site of 2,000 script-drawn pages
  is rendered page after page.

Runs against whatever code is checked out, so the same file measures before and after a change.
"""
from __future__ import annotations

import tempfile
import threading
import time
from collections import Counter
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import simulator
from tests.polite import crawl

FAST = {"politeness": {"delay": 0, "concurrency": 4}}
KINDS = ("navigation", "xhr", "script", "requisite", "other")
TINY_FAMILIES = {"hanweb", "trs", "gkmlpt", "trsapi", "xxgk", "static", "fanti"}


def _browser(stats: dict) -> dict:
    out = {}
    for state in ("requests", "cached", "blocked"):
        counts = {k: stats.get(f"nianbao/browser/{state}/{k}", 0) for k in KINDS}
        out[state] = {k: v for k, v in counts.items() if v}
    out["fulfilled_navigations"] = stats.get("nianbao/browser/fulfilled/navigation", 0)
    out["chromium_requests"] = stats.get("playwright/request_count", 0)
    return out


def _family(world, server, tmp: Path, family: str, overrides: dict | None = None) -> dict:
    m = crawl(world, server, tmp / family, families={family}, overrides=overrides or FAST)
    truth = world.truth_for(family)
    s = m.stats
    return {"reports": len(truth), "requests": m.requests,
            "requests_per_report": round(m.requests / max(1, len(truth)), 2),
            "rendered": s.get("nianbao/render/pages", 0),
            "render_reasons": s.get("nianbao/render/needed", 0) + s.get("nianbao/render/skipped_plain_enough", 0),
            "render_found_more": s.get("nianbao/render/found_more", 0),
            "browser": _browser(s), "top_paths": Counter(p.split("?")[0] for p in m.paths()).most_common(3),
            "returncode": m.proc.returncode}


def _tiny(validators: bool):
    world = simulator.World(seed=0, size="tiny")
    if not validators:
        world.portals = [replace(p, conditional=False, quirks=p.quirks | {"noisy"}) for p in world.portals]
        world._by_host = {h: p for p in world.portals for h in p.hosts}
        world._by_id = {p.site_id: p for p in world.portals}
    return world


def _recrawl(tmp: Path, validators: bool) -> dict:
    world = _tiny(validators)
    data = tmp / ("valid" if validators else "novalid") / "data"
    with simulator.serve(world) as server:
        a = crawl(world, server, data.parent / "a", families=TINY_FAMILIES, overrides=FAST, data=data)
        b = crawl(world, server, data.parent / "b", families=TINY_FAMILIES, overrides=FAST, data=data)
    return {"first_requests": a.requests, "second_requests": b.requests,
            "requests_ratio": round(b.requests / max(1, a.requests), 3),
            "first_bytes": a.bytes, "second_bytes": b.bytes, "bytes_ratio": round(b.bytes / max(1, a.bytes), 3),
            "list_pages_not_fetched": b.stats.get("nianbao/recrawl/list_pages_not_fetched", 0),
            "removed": b.stats.get("nianbao/removed", 0)}


def run() -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="nianbao-bench-polite-"))
    out: dict = {"families": {}}
    polite = simulator.adhoc_world(seed=0, families=simulator.POLITE_FAMILIES)
    with simulator.serve(polite) as server:
        for family in simulator.POLITE_FAMILIES:
            out["families"][family] = _family(polite, server, tmp, family)
    adhoc = simulator.adhoc_world(seed=0)
    with simulator.serve(adhoc) as server:
        for family in simulator.ADHOC_FAMILIES:
            out["families"][family] = _family(adhoc, server, tmp, family)
    out["recrawl_with_validators"] = _recrawl(tmp, True)
    out["recrawl_without_validators"] = _recrawl(tmp, False)
    return out


def headline(r: dict) -> str:
    fam = r["families"]
    per = ", ".join(f"{k} {v['requests_per_report']} ({v['rendered']} rendered)" for k, v in fam.items())
    return (f"requests per report: {per}; recrawl with validators: requests {r['recrawl_with_validators']['requests_ratio']}"
            f", bytes {r['recrawl_with_validators']['bytes_ratio']}; without: requests "
            f"{r['recrawl_without_validators']['requests_ratio']}, bytes {r['recrawl_without_validators']['bytes_ratio']}")


# -- memory over many rendered pages ---------------------------------------------------------------

PAGES = 2000
_SHELL = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>{t}</title>'
          '<script src="/app.js"></script></head><body><div id="app"></div></body></html>')
_APP = ("document.addEventListener('DOMContentLoaded', function () { var n = +location.pathname.slice(3, -5);"
        " var h = '<h1>第' + n + '页</h1><p>' + '政府信息公开'.repeat(200) + '</p>';"
        " if (n + 1 < %d) h += '<a href=\"/p/' + (n + 1) + '.html\">下一页</a>';"
        " document.getElementById('app').innerHTML = h; });" % PAGES)


class _Shells(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/robots.txt":
            body, ctype = b"", "text/plain"
        elif self.path == "/app.js":
            body, ctype = _APP.encode(), "application/javascript"
        elif self.path == "/" or self.path.startswith("/p/"):
            # One title for every page: a page number in it (「/p/404.html」) reads as an error page.
            body, ctype = _SHELL.format(t="信息公开 栏目").encode(), "text/html; charset=utf-8"
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _tree_rss(pid: int) -> int:
    """Resident kB of a process and all its descendants."""
    import os

    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next(int(ln.split()[1]) for ln in fh if ln.startswith("VmRSS:"))
        except (OSError, StopIteration, ValueError):
            continue
    return total


def run_memory() -> dict:
    import subprocess
    import sys

    from tests.harness import REPO

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Shells)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    tmp = Path(tempfile.mkdtemp(prefix="nianbao-bench-rendermem-"))
    site = tmp / "sites"
    site.mkdir()
    (site / "shells.yaml").write_text(
        "id: shells\nagency: 测试市人民政府\nstart_urls: ['http://127.0.0.1:%d/p/0.html']\n"
        "allowed_hosts: ['127.0.0.1:%d']\nallow_private: true\nrender: always\n"
        "politeness: {delay: 0, concurrency: 4}\nbudget: {max_pages: %d, max_list_pages: %d, max_depth: 50}\n"
        % (port, port, PAGES + 10, PAGES + 10), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "crawler.cli", "crawl", "shells", "--sites-dir", str(site),
                             "--catalogue", f"sqlite:///{tmp / 'c.sqlite'}", "--store", (tmp / "objects").as_uri()],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    samples = []
    started = time.monotonic()
    while proc.poll() is None:
        samples.append((round(time.monotonic() - started, 1), _tree_rss(proc.pid)))
        time.sleep(2)
    server.shutdown()
    err = proc.stderr.read()
    from storage.catalogue import Catalogue

    run = Catalogue.open(f"sqlite:///{tmp / 'c.sqlite'}").runs(limit=1)
    stats = run[0].stats if run else {}
    rendered = stats.get("nianbao/render/pages", 0)
    tail = [kb for _t, kb in samples[len(samples) // 4:]]
    quarter = tail[0] if tail else 0
    return {"pages_rendered": rendered, "seconds": samples[-1][0] if samples else 0,
            "rss_mb_at_quarter": round(quarter / 1024, 1), "rss_mb_peak": round(max(tail or [0]) / 1024, 1),
            "rss_mb_end": round((tail or [0])[-1] / 1024, 1),
            "peak_over_quarter": round(max(tail or [0]) / max(1, quarter), 2),
            "returncode": proc.returncode, "stderr_tail": err[-500:] if proc.returncode else ""}


def memory_headline(r: dict) -> str:
    return (f"{r['pages_rendered']} pages rendered in {r['seconds']} s: crawl process tree {r['rss_mb_at_quarter']} MB "
            f"after a quarter of the run, peak {r['rss_mb_peak']} MB after it, {r['rss_mb_end']} MB at the end: "
            f"peak/quarter ratio {r['peak_over_quarter']}")
