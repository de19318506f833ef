"""Faults around a crawl: broken site files, an object store that goes away, a catalogue that is
locked, a crawler killed mid-run. Each test bounds its time with subprocess timeouts and asserts the
outcome: a clean error or a retried success, never lost or half-written data."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

import simulator
from storage.catalogue import Catalogue
from storage.maintenance import fsck
from storage.objects import open_store
from tests.harness import REPO, harvest, nianbao, write_sites

FAST = {"politeness": {"delay": 0, "concurrency": 4}}
MAX_BYTES = "2000000"

GOOD = {"id": "demo", "agency": "某市人民政府", "start_urls": ["http://www.demo.gov.cn/"]}

# (case, file text or a dict merged over GOOD, key named in the error, fragment of the problem)
BAD_CONFIGS = [
    ("bad yaml", "id: demo\nagency: [unclosed\n", "line 3", "invalid YAML"),
    ("not a mapping", "- just\n- a list\n", "(top level)", "mapping"),
    ("unknown key", {"agnecy": "typo"}, "agnecy", "unknown key"),
    ("unknown nested key", {"politeness": {"delay": 1, "speed": 3}}, "politeness.speed", "unknown key"),
    ("wrong type", {"politeness": {"delay": "fast"}}, "politeness.delay", "number"),
    ("out of range", {"politeness": {"concurrency": 0}}, "politeness.concurrency", "greater than"),
    ("bad cron", {"schedule": "every monday"}, "schedule", "cron"),
    ("bad url", {"start_urls": ["www.demo.gov.cn/xxgk"]}, "start_urls", "absolute http(s) URL"),
    ("ftp url", {"start_urls": ["ftp://www.demo.gov.cn/"]}, "start_urls", "absolute http(s) URL"),
    ("bad host", {"allowed_hosts": ["http://www.demo.gov.cn/"]}, "allowed_hosts", "not a host"),
    ("bad render", {"render": "sometimes"}, "render", "auto"),
    ("id differs from file", {"id": "other"}, "id", "differs from the file name"),
    ("not utf-8", b"id: demo\nagency: \xc4\xb3\xca\xd0\n", "(file)", "not UTF-8"),
]


@pytest.mark.parametrize("case,content,key,fragment", BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_crawl_refuses_bad_site_file_naming_file_key_problem(tmp_path, case, content, key, fragment):
    """The bad file is the only one: nothing is left to crawl, so no run starts. (A bad file beside
    good ones is skipped while the good ones run: test_first_hour.)"""
    sites = tmp_path / "sites"
    sites.mkdir()
    path = sites / "demo.yaml"
    if isinstance(content, dict):
        path.write_text(yaml.safe_dump({**GOOD, **content}, allow_unicode=True), encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    data = tmp_path / "data"
    proc = nianbao("crawl", "--all", "--sites-dir", str(sites), "--catalogue", f"sqlite:///{data}/c.sqlite",
                   "--store", (data / "objects").as_uri(), env={"COLUMNS": "300"}, timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    flat = " ".join(proc.stderr.split())     # rich may wrap a long message
    line = next((chunk for chunk in flat.split("config error") if "demo.yaml:" in chunk), "")
    assert f"demo.yaml: {key}" in line and fragment in line, proc.stderr
    assert not data.exists(), "a refused configuration must not start a run"


def test_every_bad_file_reported_in_one_run(tmp_path):
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "a.yaml").write_text(yaml.safe_dump(dict(GOOD, id="a", schedule="61 * * * *")), encoding="utf-8")
    (sites / "b.yaml").write_text(yaml.safe_dump(dict(GOOD, id="b", budget={"max_pages": -1})), encoding="utf-8")
    proc = nianbao("crawl", "--all", "--sites-dir", str(sites), env={"COLUMNS": "300"}, timeout=60)
    assert proc.returncode == 3
    assert "a.yaml: schedule" in proc.stderr and "b.yaml: budget.max_pages" in proc.stderr


def test_missing_sites_dir_is_a_config_error(tmp_path):
    proc = nianbao("crawl", "--all", "--sites-dir", str(tmp_path / "nowhere"), env={"COLUMNS": "300"}, timeout=60)
    assert proc.returncode == 3
    assert "nowhere: (file): no such file or directory" in proc.stderr
    assert "Traceback" not in proc.stderr


# ---- faults during a crawl of the simulated portals ------------------------------------------

from tests.hostile_server import crawl_env, run_crawl, wrapper_command   # noqa: E402
from tests.services import S3_ACCESS_KEY, S3_SECRET_KEY, Weed, _weed_binary  # noqa: E402,F401 (Weed: tests.test_debts imports it from here)

# Families a crawl without a browser harvests completely; slow enough politeness that a fault
# can land mid-crawl (each host: one request at a time, half a second apart).
PLAIN = {"hanweb", "trs", "xxgk", "fanti", "static"}
SLOW = {"politeness": {"delay": 0.5, "concurrency": 1}}


@pytest.fixture(scope="module")
def world():
    return simulator.World(seed=0, size="tiny")


def _crawl_args(sites_dir: Path, proxy: str) -> list[str]:
    return ["crawl", "--all", "--sites-dir", str(sites_dir), "--proxy", proxy, "--render", "never",
            "--max-bytes", MAX_BYTES]


def _assert_complete(world, cat: Catalogue) -> None:
    """Every true report of the plain families found, and every one of its files archived."""
    sites = {p.site_id for p in world.portals if p.family in PLAIN}
    truth = [t for t in world.truth if t.site_id in sites]
    found = {(r.site_id, r.agency, r.year) for r in cat.reports()}
    assert {(t.site_id, t.agency, t.year) for t in truth} - found == set()
    archived = {c.sha256 for c in cat.captures()}
    lost = [url for t in truth for url, sha in t.sha256.items() if sha not in archived]
    assert lost == []


def _wait_until(predicate, *, timeout: float, what: str, proc=None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the crawl ended before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def outage(world, tmp_path_factory):
    """One crawl into S3 whose server is killed after ten archived files and restarted 5 s later."""
    if _weed_binary() is None:
        pytest.skip("SeaweedFS (weed binary) is not available")
    tmp = tmp_path_factory.mktemp("outage")
    weed = Weed(tmp / "weed")
    weed.start()
    try:
        weed.client().create_bucket(Bucket="outage")
        store_url = f"s3://outage/archive?endpoint={weed.endpoint}&region=us-east-1"
        catalogue_url = f"sqlite:///{tmp / 'catalogue.sqlite'}"
        sites = tmp / "sites"
        write_sites(world, sites, families=PLAIN, overrides=SLOW)
        aws = {"AWS_ACCESS_KEY_ID": S3_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY}
        with simulator.serve(world) as server:
            args = _crawl_args(sites, server.proxy_url) + ["--catalogue", catalogue_url, "--store", store_url]
            proc = subprocess.Popen(wrapper_command(args), cwd=REPO, env=crawl_env(aws), text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                _wait_until(lambda: _count(catalogue_url, "capture") >= 10, timeout=120,
                            what="ten archived files", proc=proc)
                weed.stop()
                time.sleep(5)              # longer than a store write's own retries (~3 s)
                weed.start()
                _stdout, stderr = proc.communicate(timeout=300)
            finally:
                if proc.poll() is None:
                    proc.kill()
        cat = Catalogue.open(catalogue_url)
        yield proc.returncode, stderr, cat, fsck(cat, _s3_store(store_url, aws))
    finally:
        weed.stop()


def test_object_store_outage_is_recorded_and_no_row_points_at_nothing(outage):
    returncode, stderr, cat, report = outage
    assert returncode == 0, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    assert report.missing == [] and report.mismatched == [], report.summary()
    runs = cat.runs(limit=100)
    failed_writes = sum(v for r in runs for k, v in (r.errors or {}).items() if k.startswith("archive_"))
    assert all(r.finished_at is not None for r in runs)
    assert failed_writes == 0 or any(r.outcome == "partial" for r in runs)


def test_object_store_outage_loses_nothing(world, outage):
    *_, cat, _report = outage
    _assert_complete(world, cat)


def _s3_store(url: str, env: dict):
    for k, v in env.items():                 # boto3 reads credentials from the environment
        os.environ.setdefault(k, v)
    return open_store(url)


def _count(catalogue_url: str, table: str) -> int:
    path = catalogue_url.removeprefix("sqlite:///")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    except sqlite3.Error:
        return 0


class SqliteLock:
    """An exclusive lock on a SQLite file held from another connection, in a thread."""

    def __init__(self, path: Path):
        self.path = path
        self.release = threading.Event()
        self.held = threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self):
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")
        self.held.set()
        self.release.wait(120)
        db.execute("ROLLBACK")
        db.close()

    def __enter__(self):
        self.thread.start()
        assert self.held.wait(30)
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(30)


def test_catalogue_locked_for_a_while_is_waited_out(world, tmp_path):
    catalogue_url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    sites = tmp_path / "sites"
    write_sites(world, sites, families=PLAIN, overrides=SLOW)
    with simulator.serve(world) as server:
        args = _crawl_args(sites, server.proxy_url) + ["--catalogue", catalogue_url,
                                                       "--store", (tmp_path / "objects").as_uri()]
        proc = subprocess.Popen(wrapper_command(args), cwd=REPO, env=crawl_env(), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            _wait_until(lambda: _count(catalogue_url, "capture") >= 10, timeout=120, what="ten captures", proc=proc)
            with SqliteLock(tmp_path / "catalogue.sqlite"):
                time.sleep(5)              # well inside the 15 s busy timeout
            stdout, stderr = proc.communicate(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, stderr[-3000:]
    cat = Catalogue.open(catalogue_url)
    assert fsck(cat, open_store((tmp_path / "objects").as_uri())).ok
    _assert_complete(world, cat)


def test_catalogue_locked_throughout_fails_cleanly(world, tmp_path):
    catalogue_url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    Catalogue.open(catalogue_url)                      # exists and is migrated; then someone locks it
    sites = tmp_path / "sites"
    write_sites(world, sites, families={"static"}, overrides=SLOW)
    with simulator.serve(world) as server, SqliteLock(tmp_path / "catalogue.sqlite"):
        # A short busy timeout stands for "locked longer than we wait", in seconds rather than minutes.
        result = run_crawl(_crawl_args(sites, server.proxy_url)[1:], tmp_path,
                           patches={"storage.db.SQLITE_BUSY_TIMEOUT_MS": 300}, timeout=180,
                           catalogue_url=catalogue_url)
    assert result.proc.returncode == 1, result.proc.stderr[-3000:]
    assert "Traceback" not in result.proc.stderr, result.proc.stderr[-3000:]
    assert "catalogue" in result.proc.stderr.lower()
    cat = Catalogue.open(catalogue_url)
    assert cat.runs(limit=10) == [] and cat.captures() == [] and cat.reports() == []
    store = tmp_path / "objects"
    assert not store.exists() or not any(p.is_file() for p in store.rglob("*"))


def test_sigkill_mid_run_then_resume_completes_without_duplicates(world, tmp_path):
    catalogue_url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    store_url = (tmp_path / "objects").as_uri()
    sites = tmp_path / "sites"
    write_sites(world, sites, families=PLAIN, overrides=SLOW)
    with simulator.serve(world) as server:
        args = _crawl_args(sites, server.proxy_url) + ["--catalogue", catalogue_url, "--store", store_url]
        proc = subprocess.Popen(wrapper_command(args), cwd=REPO, env=crawl_env(), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            _wait_until(lambda: _count(catalogue_url, "capture") >= 20, timeout=120, what="twenty captures", proc=proc)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        first = _count(catalogue_url, "capture")
        resumed = run_crawl(args[1:-4], tmp_path, timeout=300, catalogue_url=catalogue_url, store_url=store_url)
    assert resumed.proc.returncode == 0, resumed.proc.stderr[-3000:]
    cat = Catalogue.open(catalogue_url)
    assert fsck(cat, open_store(store_url)).ok
    _assert_complete(world, cat)
    pairs = [(c.url, c.sha256) for c in cat.captures() if c.kind in ("page", "attachment")]
    assert len(pairs) == len(set(pairs)), f"{len(pairs) - len(set(pairs))} duplicate captures after resume"
    assert first < len(pairs)
