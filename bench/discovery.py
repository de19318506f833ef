"""Requests per report on the ad hoc families (simulator.adhoc_world), beside wget.

Each family is crawled as a new user would (`nianbao crawl --start-url ... --agency ... --allow
...`, default settings) and mirrored by `wget --mirror` through the same simulator proxy, one at a
time, so the server's per-host counters give each crawler's requests. Printed per family:
requests per report found (nianbao, wget), reports found of the truth, and pages rendered by
nianbao beside the pages the yield said needed a browser.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WGET_LEVEL = 50


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _nianbao(*args: str, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, **(env or {})}, timeout=timeout)


def _host_requests(server, hosts) -> int:
    return sum(server.stats.by_host[h] for h in hosts)


def run() -> dict:
    from simulator import adhoc_world, serve

    world = adhoc_world(seed=0)
    rows = {}
    with serve(world) as server, tempfile.TemporaryDirectory() as tmp:
        for target in world.targets:
            truth = world.truth_for(target.family)
            primaries = {t.sha256[t.file_urls[0] if t.file_urls else t.page_url] for t in truth}
            data = Path(tmp) / target.family
            data.mkdir()
            cat, store = f"sqlite:///{data / 'c.sqlite'}", (data / "objects").as_uri()
            before = _host_requests(server, target.allow)
            _nianbao(*target.crawl_args(server.proxy_url), "--catalogue", cat, "--store", store,
                     env={"NIANBAO_DATA": str(data)})
            ours = _host_requests(server, target.allow) - before
            out = _nianbao("export", "--catalogue", cat, "--store", store, env={"NIANBAO_DATA": str(data)})
            exported = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
            found = len({r["sha256"] for r in exported if r.get("is_report") and r["sha256"] in primaries})
            stats = {}
            with sqlite3.connect(data / "c.sqlite") as db:
                for (raw,) in db.execute("select stats from crawl_run"):
                    stats.update(json.loads(raw or "{}"))
            # wget, same family, same proxy
            before = _host_requests(server, target.allow)
            wdir = Path(tmp) / f"wget-{target.family}"
            subprocess.run(["wget", "--mirror", f"--level={WGET_LEVEL}", "--no-verbose", "--tries=1", "--timeout=10",
                            "-e", "robots=on", "-e", "use_proxy=yes", "-e", f"http_proxy={server.proxy_url}",
                            "--span-hosts", f"--domains={','.join(target.allow)}", "-P", str(wdir), target.start_url],
                           capture_output=True, timeout=1800)
            theirs = _host_requests(server, target.allow) - before
            got = {_sha(p.read_bytes()) for p in wdir.rglob("*") if p.is_file()}
            wget_found = len(primaries & got)
            rows[target.family] = {
                "reports": len(primaries), "nianbao_found": found, "nianbao_requests": ours,
                "nianbao_requests_per_report": round(ours / max(1, found), 2),
                "renders": stats.get("nianbao/render/pages", 0),
                "render_needed": stats.get("nianbao/render/needed", 0) + stats.get("nianbao/render/starved", 0),
                "wget_found": wget_found, "wget_requests": theirs,
                "wget_requests_per_report": round(theirs / wget_found, 2) if wget_found else None,
            }
    total_ours = sum(r["nianbao_requests"] for r in rows.values())
    total_found = sum(r["nianbao_found"] for r in rows.values())
    total_wget = sum(r["wget_requests"] for r in rows.values())
    total_wget_found = sum(r["wget_found"] for r in rows.values())
    return {"families": rows, "reports": sum(r["reports"] for r in rows.values()),
            "nianbao_found": total_found, "wget_found": total_wget_found,
            "nianbao_requests_per_report": round(total_ours / max(1, total_found), 2),
            "wget_requests_per_report": round(total_wget / max(1, total_wget_found), 2)}
