"""Distributed harvests: the settings overlay, the shared frontier's bookkeeping on a real Redis,
`nianbao enqueue/worker/store migrate` as a user runs them, the compose file, and a crawl of the
simulated portals by two concurrent workers (PostgreSQL catalogue, SeaweedFS S3 store) checked
against an ordinary one-process crawl."""

from __future__ import annotations

import collections
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
import yaml
from scrapy.settings import Settings

import simulator
from crawler.distributed import Frontier, SiteKeys, distributed_settings, sites_key
from crawler.siteconfig import SiteConfig
from tests.harness import REPO, nianbao, write_sites

# Families a crawl handles without a browser: two workers with Chromium each would not fit
# the test machine, and rendering is not what is distributed here.
PLAIN_FAMILIES = {"hanweb", "trs", "gkmlpt", "xxgk", "fanti", "static"}
DELAY = 0.15


def _site(site_id="x-gov", **kw) -> SiteConfig:
    return SiteConfig(id=site_id, agency="某市人民政府", start_urls=["http://www.x.gov.cn/"],
                      allowed_hosts=["www.x.gov.cn", ".x.gov.cn"], **kw)


# --- the overlay ----------------------------------------------------------------------------

def _overlaid() -> Settings:
    s = Settings()
    s.setmodule("crawler.settings", priority="project")
    s.set("DOWNLOAD_SLOTS", {"www.x.gov.cn": {"delay": 2.0, "concurrency": 1, "jitter": 0.5}}, priority="cmdline")
    distributed_settings(s, redis_url="redis://r:6379/3", prefix="p", worker="w1")
    return s


@pytest.mark.parametrize("key,expected", [
    ("SCHEDULER", "crawler.distributed.SiteScheduler"),
    ("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter"),
    ("SCHEDULER_PERSIST", True),        # a closing worker must never flush the shared queue
    ("SCHEDULER_FLUSH_ON_START", False),  # nor a joining one
    ("REDIS_URL", "redis://r:6379/3"),
    ("NIANBAO_WORKER_ID", "w1"),
    ("NIANBAO_HOSTBUDGET_ENABLED", True),
    ("NIANBAO_HOSTBUDGET_DELAYS", {"www.x.gov.cn": 2.0}),   # the site's delay, now shared
    ("NIANBAO_HOSTBUDGET_DEFAULT_DELAY", 0.5),               # crawler.settings DOWNLOAD_DELAY
    ("DOWNLOAD_DELAY", 0),                                   # not paid twice
    ("DOWNLOAD_SLOTS", {"www.x.gov.cn": {"delay": 0, "concurrency": 16, "jitter": 0}}),  # gate is the budget
    ("NIANBAO_HOSTBUDGET_CONCURRENCY", {"www.x.gov.cn": 1}),
])
def test_overlay(key, expected):
    assert _overlaid().get(key) == expected


def test_overlay_wires_the_middleware_and_extension():
    s = _overlaid()
    mws = s.getdict("DOWNLOADER_MIDDLEWARES")
    assert mws["crawler.hostbudget.HostBudgetMiddleware"] < mws["crawler.warcmiddleware.WarcMiddleware"]
    assert "crawler.middlewares.ProxyMiddleware" in mws  # the project's own are kept
    assert "crawler.distributed.SiteLease" in s.getdict("EXTENSIONS")


def test_site_keys_are_per_site():
    k = SiteKeys("nianbao", "taicang")
    assert (k.requests, k.dupefilter, k.busy, k.config) == (
        "nianbao:taicang:requests", "nianbao:taicang:dupefilter", "nianbao:taicang:busy",
        "nianbao:taicang:config")


# --- the frontier's bookkeeping -----------------------------------------------------------

@pytest.fixture
def frontier(redis_url) -> Frontier:
    return Frontier(redis.Redis.from_url(redis_url), prefix="t", stale_after=2.0)


@pytest.mark.services
def test_enqueue_stores_config_and_refuses_a_second_harvest(frontier):
    site = _site()
    assert frontier.enqueue(site) is True
    assert frontier.active_sites() == ["x-gov"]
    assert frontier.config("x-gov") == site
    assert frontier.generation("x-gov") == 1
    frontier.client.zadd(frontier.keys("x-gov").requests, {b"req": 0})
    frontier.client.sadd(frontier.keys("x-gov").dupefilter, "fp")
    assert frontier.enqueue(site) is False               # under way: left alone
    assert frontier.pending("x-gov") == 1
    assert frontier.enqueue(site, restart=True) is True  # thrown away, started again
    assert frontier.pending("x-gov") == 0
    assert not frontier.client.exists(frontier.keys("x-gov").dupefilter)
    assert frontier.generation("x-gov") == 2


@pytest.mark.services
def test_site_is_done_only_when_queue_empty_and_nobody_busy(frontier):
    frontier.enqueue(_site())
    k = frontier.keys("x-gov")
    frontier.client.zadd(k.requests, {b"req": 0})
    assert frontier.finish_if_done("x-gov") is False      # work queued
    frontier.client.delete(k.requests)
    frontier.mark_busy("x-gov", "w2")
    assert frontier.finish_if_done("x-gov") is False      # w2 may still add requests
    frontier.mark_idle("x-gov", "w2")
    frontier.mark_busy("x-gov", "dead")
    frontier.client.hset(k.busy, "dead", time.time() - 10)  # silent for longer than stale_after
    assert frontier.finish_if_done("x-gov") is True
    assert frontier.active_sites() == []
    assert not frontier.client.sismember(sites_key("t"), "x-gov")


# --- the commands ---------------------------------------------------------------------------

def test_worker_without_redis_says_so_in_one_line():
    proc = nianbao("worker", "--redis", "redis://127.0.0.1:1/0", timeout=60)
    assert proc.returncode == 6       # a settings problem, found before any work (crawler/preflight.py)
    assert "cannot reach redis://127.0.0.1:1/0" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_enqueue_unknown_site_is_a_usage_error(tmp_path):
    write_sites(simulator.World(seed=0, size="tiny"), tmp_path / "sites", families={"static"})
    proc = nianbao("enqueue", "nope", "--sites-dir", str(tmp_path / "sites"), timeout=60)
    assert proc.returncode == 2 and "unknown site id(s): nope" in proc.stderr


@pytest.mark.services
def test_store_migrate_filesystem_to_s3(tmp_path, s3_url):
    from storage.objects import open_store, put_content

    src_url = (tmp_path / "objects").as_uri()
    src = open_store(src_url)
    keys = [put_content(src, f"report {i}".encode())[0] for i in range(3)]
    first = nianbao("store", "migrate", src_url, s3_url, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "3 copied, 0 already there, 3 verified, 0 mismatched" in first.stdout
    dst = open_store(s3_url)
    assert sorted(dst.keys()) == sorted(keys)
    assert dst.get(keys[0]) == src.get(keys[0])
    again = nianbao("store", "migrate", src_url, s3_url, timeout=120)
    assert "0 copied, 3 already there" in again.stdout
    bad = nianbao("store", "migrate", src_url, "ftp://nowhere/x", timeout=60)
    assert bad.returncode == 1 and "store migrate failed" in bad.stderr and "Traceback" not in bad.stderr


# --- docker/compose.yaml ----------------------------------------------------------------------

def test_compose_file_is_consistent_with_the_settings():
    compose = yaml.safe_load((REPO / "docker" / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"minio", "postgres", "redis", "scheduler", "worker", "web"} <= set(services)
    for name in ("minio", "postgres", "redis", "web"):
        assert "test" in services[name]["healthcheck"], f"{name} has no health check"
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert services["worker"]["command"][:1] == ["worker"]
    assert services["scheduler"]["command"][:1] == ["schedule"]
    assert services["web"]["command"][:1] == ["serve"]
    for name in ("scheduler", "worker", "web"):
        env = services[name].get("environment") or {}
        env = env if isinstance(env, dict) else dict(e.split("=", 1) for e in env)
        if name != "web":
            assert {"NIANBAO_CATALOGUE", "NIANBAO_STORE", "NIANBAO_REDIS", "AWS_ACCESS_KEY_ID",
                    "AWS_SECRET_ACCESS_KEY"} <= set(env), name
        assert env.get("NIANBAO_CATALOGUE", "postgresql").startswith("postgresql")
        deps = services[name].get("depends_on", {})
        assert all(d.get("condition") in ("service_healthy", "service_completed_successfully")
                   for d in deps.values()), f"{name} starts before its services are healthy"
    assert (REPO / "docker" / "Dockerfile").exists()
    dockerfile = (REPO / "docker" / "Dockerfile").read_text()
    assert "python:3.11-slim-bookworm" in dockerfile and "chromium" in dockerfile
    assert "playwright install" not in dockerfile


# --- two workers against one process --------------------------------------------------------

def _catalogue(url: str) -> tuple[set, set]:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        reports = set(conn.execute(sa.text("SELECT site_id, agency, year, url FROM report")).all())
        # What was fetched; derived objects (text renditions) are made after a harvest, not by it.
        blobs = {r[0] for r in conn.execute(sa.text(
            "SELECT DISTINCT sha256 FROM capture WHERE kind IN ('page', 'attachment')")).all()}
    engine.dispose()
    return reports, blobs


def _fetched(server) -> collections.Counter:
    # robots.txt is fetched once per worker and host by design (Scrapy's RobotsTxtMiddleware).
    return collections.Counter((h, m, p) for h, m, p, *_ in server.requests if p != "/robots.txt")


def _worst_window(times: list[float], window: float) -> int:
    """Most requests that arrived within any `window` seconds."""
    times, best, j = sorted(times), 0, 0
    for i, t in enumerate(times):
        while times[j] < t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


@pytest.mark.services
def test_two_workers_harvest_what_one_process_harvests(tmp_path, pg_url, s3_url, redis_url):
    world = simulator.World(seed=0, size="tiny")
    no_browser = {"render": "never"}

    # One ordinary process: SQLite and files, no Redis.
    with simulator.serve(world) as server:
        one_sites = tmp_path / "one"
        write_sites(world, one_sites, families=PLAIN_FAMILIES,
                    overrides={**no_browser, "politeness": {"delay": 0, "concurrency": 4}})
        one_cat = f"sqlite:///{tmp_path / 'one.sqlite'}"
        proc = nianbao("crawl", "--all", "--sites-dir", str(one_sites), "--proxy", server.proxy_url,
                       "--catalogue", one_cat, "--store", (tmp_path / "objects").as_uri(), timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        one_fetched = _fetched(server)

    # Two workers on the shared frontier, PostgreSQL and SeaweedFS, a shared host budget.
    with simulator.serve(world) as server:
        two_sites = tmp_path / "two"
        ids = write_sites(world, two_sites, families=PLAIN_FAMILIES,
                          overrides={**no_browser, "politeness": {"delay": DELAY, "concurrency": 2}})
        enq = nianbao("enqueue", "--all", "--sites-dir", str(two_sites), "--redis", redis_url, timeout=60)
        assert enq.returncode == 0, enq.stderr
        assert f"{len(ids)} site(s) queued" in enq.stdout
        cmd = [sys.executable, "-m", "crawler.cli", "worker", "--redis", redis_url, "--proxy", server.proxy_url,
               "--catalogue", pg_url, "--store", s3_url, "--exit-when-idle", "3", "--max-sites", "3"]
        workers = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(2)]
        outputs = []
        try:
            for w in workers:
                outputs.append(w.communicate(timeout=240))
        finally:
            for w in workers:
                if w.poll() is None:
                    w.kill()
        for w, (out, err) in zip(workers, outputs):
            assert w.returncode == 0, err[-2000:]
            assert "Traceback" not in err, err[-2000:]
        two_fetched = _fetched(server)
        arrivals = server.arrivals

    # Same catalogue.
    one_reports, one_blobs = _catalogue(one_cat)
    two_reports, two_blobs = _catalogue(pg_url)
    assert len(one_reports) > 50
    assert two_reports == one_reports
    # WARC files differ per worker and are not blobs; every other object is the same set.
    assert two_blobs == one_blobs

    # Each URL fetched as often as one process fetches it (retries included), never more.
    assert two_fetched == one_fetched, {k: (one_fetched[k], v) for k, v in two_fetched.items()
                                        if v != one_fetched[k]}
    # Both workers did some of the work.
    shares = [sum(int(x.split("pages=")[1].split()[0]) for x in out.splitlines() if "pages=" in x)
              for out, _ in outputs]
    assert all(s > 0 for s in shares), shares

    # Per host, across both workers: never more than one request per DELAY (measured at the server).
    by_host = collections.defaultdict(list)
    for t, host, _m, _p in arrivals:
        by_host[host].append(t)
    rows = collections.defaultdict(list)
    for row in sorted(arrivals):
        rows[row[1]].append(row)
    close = [(h, a[3], b[3], round(b[0] - a[0], 3)) for h, r in rows.items() for a, b in zip(r, r[1:])]
    busiest = max(by_host, key=lambda h: len(by_host[h]))
    assert len(by_host[busiest]) > 40
    for host, times in by_host.items():
        for window in (1.0, 3.0):
            allowed = int(window / DELAY) + 2   # +1 for the window's edges, +1 for arrival jitter
            assert _worst_window(times, window) <= allowed, (
                host, window, _worst_window(times, window), [c for c in close if c[0] == host and c[3] < DELAY / 2])
    times = sorted(by_host[busiest])
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert rate <= 1.05 / DELAY, (busiest, rate)

    # A worker sees only the reports it fetched itself: concluding "removed" from that is wrong,
    # so workers skip the removal check (and the stale-run sweep).
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        wrongly_removed = conn.execute(sa.text("SELECT count(*) FROM report WHERE removed_at IS NOT NULL")).scalar()
    engine.dispose()
    assert wrongly_removed == 0
