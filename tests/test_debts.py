"""What a run owes is durable, and paid by the next plain run (storage/owed.py, spiders/debts.py);
one crawl per site at a time (storage/leases.py); a run's outcome never "ok" over a hole.

The end-to-end cases crawl the simulator's plain families in a child process and hurt it the
way operators' machines are hurt: one Ctrl-C, the archiving process killed, a second crawl of
the same site started by cron while the first still runs, the store's disk full."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest

import simulator
from crawler.pipelines import run_outcome
from storage.catalogue import Catalogue
from storage.leases import this_owner
from storage.models import utcnow
from tests.chaos import archiver_pids
from tests.harness import REPO, nianbao, write_sites
from tests.hostile_server import crawl_env, run_crawl, wrapper_command

PLAIN = {"hanweb", "trs", "xxgk", "fanti", "static"}
SLOW = {"politeness": {"delay": 0.4, "concurrency": 1}}


@pytest.fixture(scope="module")
def world():
    return simulator.World(seed=0, size="tiny")


def _truth_files(world, families=PLAIN) -> dict[str, str]:
    sites = {p.site_id for p in world.portals if p.family in families}
    return {url: sha for t in world.truth if t.site_id in sites for url, sha in t.sha256.items()}


def _missing(world, cat: Catalogue, families=PLAIN) -> list[str]:
    archived = {c.sha256 for c in cat.captures()}
    return sorted(url for url, sha in _truth_files(world, families).items() if sha not in archived)


def _count(catalogue_url: str, table: str) -> int:
    path = catalogue_url.removeprefix("sqlite:///")
    if not Path(path).exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=5) as conn:
            return conn.execute(f"select count(*) from {table}").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _no_traceback(err: str) -> None:
    at = err.find("Traceback")
    assert at < 0, err[max(0, at - 1500):at + 3000]


def _wait(predicate, *, timeout: float, what: str, proc=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"crawl ended before {what}: {proc.stderr.read()[-2000:]}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _args(sites: Path, proxy: str, catalogue_url: str, store_url: str) -> list[str]:
    return ["crawl", "--all", "--sites-dir", str(sites), "--proxy", proxy, "--render", "never",
            "--max-bytes", "2000000", "--catalogue", catalogue_url, "--store", store_url]


def _rerun_until_ok(args, tmp_path, catalogue_url, store_url, *, limit: int = 3, env=None) -> list[int]:
    codes = []
    for _ in range(limit):
        crawl = run_crawl(args[1:-4], tmp_path, timeout=300, catalogue_url=catalogue_url, store_url=store_url,
                          env=env)
        _no_traceback(crawl.proc.stderr)
        codes.append(crawl.proc.returncode)
        if crawl.proc.returncode == 0:
            break
    return codes


# ---- the decisions, from tables ------------------------------------------------------------

OUTCOMES = [
    # (why the spider closed, pages, errors, owed) -> outcome
    (("finished", 10, {}, 0), "ok"),
    (("finished", 10, {}, 3), "partial"),             # a hole is never "ok"
    (("finished", 10, {"http_500": 1}, 0), "partial"),
    (("finished", 0, {"dns": 1}, 0), "failed"),
    (("shutdown", 10, {}, 0), "interrupted"),
    (("store_unavailable", 10, {}, 5), "interrupted"),
    (("lease_lost", 10, {}, 0), "interrupted"),
    (("closespider_pagecount", 10, {}, 0), "ok"),
]


@pytest.mark.parametrize("args,outcome", OUTCOMES, ids=[f"{a[0]}-{a[3]}owed-{o}" for a, o in OUTCOMES])
def test_run_outcome(args, outcome):
    reason, pages, errors, owed = args
    assert run_outcome(reason, pages=pages, errors=errors, owed=owed) == outcome


def _catalogue(tmp_path) -> Catalogue:
    cat = Catalogue.open(f"sqlite:///{tmp_path / 'c.sqlite'}")
    cat.upsert_site(site_id="s", agency="某县人民政府")
    return cat


def _capture(run_id, url, *, kind="page", sha="a" * 64, report_url=None):
    return dict(run_id=run_id, site_id="s", kind=kind, url=url, final_url=url, status=200,
                fetched_at=utcnow(), sha256=sha, size=1, storage_key=f"sha256/{sha[:2]}/{sha[2:4]}/{sha}",
                is_report=report_url is not None)


def test_report_page_owes_its_files_until_each_is_archived(tmp_path):
    cat = _catalogue(tmp_path)
    run = cat.start_run(site_id="s", config_hash=None, software_version=None)
    page = "http://x.gov.cn/art/2019/1/1/art_1_1.html"
    files = [f"http://x.gov.cn/att/{n}.pdf" for n in (1, 2)]
    report = dict(site_id="s", agency="某县人民政府", year=2018, title="2018年报告", url=page)
    blob = dict(sha256="a" * 64, size=1, storage_key="sha256/aa/aa/" + "a" * 64)
    cat.archive(capture=_capture(run, page, report_url=page), blob=blob, report=report,
                owes=[{"url": u, "kind": "file", "report_url": page, "source_page": page} for u in files])
    owed = cat.owed(site_id="s")
    assert [o["url"] for o in owed] == files
    assert owed[0]["report"]["year"] == 2018 and owed[0]["report"]["url"] == page
    assert cat.owed_count(site_id="s") == 2
    b = dict(sha256="b" * 64, size=1, storage_key="sha256/bb/bb/" + "b" * 64)
    cat.archive(capture=_capture(run, files[0], kind="attachment", sha="b" * 64), blob=b, report=report)
    assert [o["url"] for o in cat.owed(site_id="s")] == files[1:]
    # The page archived again (a later run): a file archived already is not owed again.
    cat.archive(capture=_capture(run + 0, page, report_url=page), report=report,
                owes=[{"url": u, "kind": "file", "report_url": page} for u in files])
    assert [o["url"] for o in cat.owed(site_id="s")] == files[1:]
    # Gone: the server answered 404 for good; no longer owed, but on record for its report.
    cat.owe(site_id="s", entries=[{"url": files[1], "state": "gone", "reason": "http_404"}])
    assert cat.owed_count(site_id="s") == 0
    assert cat.owed(site_id="s", state="gone")[0]["report"]["url"] == page
    assert set(cat.owed_reports().values()) == {"gone"}


def test_owe_again_forgets_the_bytes_so_the_next_run_fetches_in_full(tmp_path):
    cat = _catalogue(tmp_path)
    run = cat.start_run(site_id="s", config_hash=None, software_version=None)
    url = "http://x.gov.cn/att/1.pdf"
    blob = dict(sha256="c" * 64, size=1, storage_key="sha256/cc/cc/" + "c" * 64)
    cat.archive(capture=_capture(run, url, kind="attachment", sha="c" * 64), blob=blob)
    assert cat.get_url_state(url=url).sha256 == "c" * 64
    assert cat.owe_again(storage_key=blob["storage_key"], reason="corrupt") == 1
    assert cat.owed(site_id="s")[0]["reason"] == "corrupt"
    assert cat.get_url_state(url=url).sha256 is None


def test_removal_never_judges_reports_first_seen_by_the_same_run(tmp_path):
    cat = _catalogue(tmp_path)
    old, _ = cat.upsert_report(site_id="s", agency="a", year=2017, title="t", url="http://x.gov.cn/old.html",
                               seen_at=utcnow() - timedelta(days=3))
    start = utcnow()
    new, _ = cat.upsert_report(site_id="s", agency="a", year=2018, title="t", url="http://x.gov.cn/new.html")
    foreign, _ = cat.upsert_report(site_id="s", agency="a", year=2016, title="t", url="http://y.gov.cn/f.html",
                                   seen_at=utcnow() - timedelta(days=3))
    removed = cat.mark_missing(site_id="s", seen_urls=set(), known_before=start,
                               reachable=lambda url: url.startswith("http://x.gov.cn/"))
    assert removed == [old]


def test_lease_one_holder_at_a_time(tmp_path):
    cat = _catalogue(tmp_path)
    me = this_owner()
    assert cat.acquire_lease(site_id="s", owner=me, ttl=30) is None
    other = "elsewhere.example:4242"
    holder = cat.acquire_lease(site_id="s", owner=other, ttl=30)
    assert holder is not None and holder.owner == me
    assert cat.renew_lease(site_id="s", owner=me, ttl=0.01)
    time.sleep(0.05)
    assert cat.acquire_lease(site_id="s", owner=other, ttl=30) is None      # expired: taken over
    assert not cat.renew_lease(site_id="s", owner=me, ttl=30)                # and lost by me
    # A holder on this machine whose process is gone: taken over at once (SIGKILL, rerun).
    dead = subprocess.Popen(["true"])
    dead.wait()
    cat.release_lease(site_id="s", owner=other)
    assert cat.acquire_lease(site_id="s", owner=f"{this_owner().rsplit(':', 1)[0]}:{dead.pid}", ttl=30) is None
    assert cat.acquire_lease(site_id="s", owner=me, ttl=30) is None


# ---- end to end ----------------------------------------------------------------------------

def test_one_ctrl_c_then_plain_reruns_fetch_every_file_again(world, tmp_path):
    """The hole the archive had: report pages archived, their files still in the frontier when
    Ctrl-C arrived; the pages were then "not due" and the files never asked for again."""
    catalogue_url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    store_url = (tmp_path / "objects").as_uri()
    sites = tmp_path / "sites"
    write_sites(world, sites, families=PLAIN, overrides=SLOW)
    with simulator.serve(world) as server:
        args = _args(sites, server.proxy_url, catalogue_url, store_url)
        proc = subprocess.Popen(wrapper_command(args), cwd=REPO, env=crawl_env(), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            _wait(lambda: _count(catalogue_url, "capture") >= 25, timeout=120, what="25 captures", proc=proc)
            os.killpg(proc.pid, signal.SIGINT)
            _out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 4, err[-3000:]          # interrupted: a hole, said so
        _no_traceback(err)
        cat = Catalogue.open(catalogue_url)
        assert {r.outcome for r in cat.runs()} <= {"interrupted", "partial"}
        holes = _missing(world, cat)
        assert holes, "the interruption left nothing to pay: the test proves nothing"
        owed = {o["url"] for o in cat.owed()}
        assert owed, "files not archived when the run stopped must be owed"
        listed = nianbao("owed", "--catalogue", catalogue_url, "--format", "json")
        assert listed.returncode == 4 and {r["url"] for r in json.loads(listed.stdout)} == owed
        codes = _rerun_until_ok(args, tmp_path, catalogue_url, store_url)
    assert codes[-1] == 0 and len(codes) <= 2, codes
    cat = Catalogue.open(catalogue_url)
    assert _missing(world, cat) == []
    assert cat.owed() == []
    assert cat.runs(limit=1)[0].outcome == "ok"
    assert nianbao("owed", "--catalogue", catalogue_url).returncode == 0


def test_archiving_process_killed_its_files_owed_and_paid(world, tmp_path):
    catalogue_url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    store_url = (tmp_path / "objects").as_uri()
    sites = tmp_path / "sites"
    write_sites(world, sites, families={"hanweb", "trs"}, overrides=SLOW)
    with simulator.serve(world) as server:
        args = _args(sites, server.proxy_url, catalogue_url, store_url)
        proc = subprocess.Popen(wrapper_command(args), cwd=REPO, env=crawl_env(), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        killed = 0
        try:
            _wait(lambda: _count(catalogue_url, "capture") >= 5, timeout=120, what="5 captures", proc=proc)
            for _ in range(3):       # a few times, so some kill lands while it holds files
                for pid in archiver_pids(proc.pid):
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                time.sleep(1.5)
            _out, err = proc.communicate(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert killed, "no archiving process found to kill"
        _no_traceback(err)
        assert proc.returncode in (0, 4), err[-3000:]
        cat = Catalogue.open(catalogue_url)
        if _missing(world, cat, {"hanweb", "trs"}):
            assert proc.returncode == 4 and cat.owed(), "files lost without being owed"
        codes = _rerun_until_ok(args, tmp_path, catalogue_url, store_url)
    assert codes[-1] == 0 and len(codes) <= 2, codes
    assert _missing(world, Catalogue.open(catalogue_url), {"hanweb", "trs"}) == []


def test_second_crawl_of_a_running_site_is_refused_in_one_line(world, tmp_path):
    catalogue_url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    store_url = (tmp_path / "objects").as_uri()
    sites = tmp_path / "sites"
    write_sites(world, sites, families={"static"}, overrides=SLOW)
    with simulator.serve(world) as server:
        args = _args(sites, server.proxy_url, catalogue_url, store_url)
        first = subprocess.Popen(wrapper_command(args), cwd=REPO, env=crawl_env(), text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            _wait(lambda: _count(catalogue_url, "capture") >= 3, timeout=120, what="3 captures", proc=first)
            second = run_crawl(args[1:-4], tmp_path, timeout=120, catalogue_url=catalogue_url, store_url=store_url)
            _out, err = first.communicate(timeout=300)
        finally:
            if first.poll() is None:
                first.kill()
    assert second.proc.returncode == 5, second.proc.stderr[-3000:]
    assert "Traceback" not in second.proc.stderr
    lines = [ln for ln in second.proc.stderr.splitlines() if "being crawled by" in ln]
    assert len(lines) == 1, second.proc.stderr
    assert first.returncode == 0, err[-3000:]
    cat = Catalogue.open(catalogue_url)
    assert len(cat.runs()) == 1 and cat.runs()[0].outcome == "ok"
    pairs = [(c.url, c.sha256) for c in cat.captures() if c.kind in ("page", "attachment")]
    assert len(pairs) == len(set(pairs))
    assert cat.lease(site_id=cat.runs()[0].site_id) is None      # released at the end


@pytest.fixture
def small_disk(tmp_path):
    """A real filesystem that fills up: a 600 KB tmpfs (needs root, as CI here has)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_store_disk_full_is_an_error_of_its_kind_and_its_files_are_owed(world, tmp_path, small_disk):
    catalogue_url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    store_url = (small_disk / "objects").as_uri()
    sites = tmp_path / "sites"
    write_sites(world, sites, families={"hanweb", "trs", "static"}, overrides={"politeness": {"delay": 0, "concurrency": 2}})
    with simulator.serve(world) as server:
        args = _args(sites, server.proxy_url, catalogue_url, store_url)
        full = run_crawl(args[1:-4], tmp_path, timeout=300, catalogue_url=catalogue_url, store_url=store_url,
                         env={"NIANBAO_SPOOL": str(tmp_path / "spool")})
        err = full.proc.stderr
        _no_traceback(err)
        assert full.proc.returncode == 4, err[-3000:]
        assert "disk_full" in err
        cat = Catalogue.open(catalogue_url)
        assert cat.owed(), "files the full disk refused must be owed"
        assert all(r.outcome != "ok" for r in cat.runs() if r.stats.get("nianbao/owed"))
        # The operator frees space: the next plain runs pay what is owed.
        subprocess.run(["mount", "-o", "remount,size=200m", str(small_disk)], check=True)
        codes = _rerun_until_ok(args, tmp_path, catalogue_url, store_url, env={"NIANBAO_SPOOL": str(tmp_path / "spool")})
    assert codes[-1] == 0, codes
    assert _missing(world, Catalogue.open(catalogue_url), {"hanweb", "trs", "static"}) == []


# ---- a store that goes away and stays away ---------------------------------------------------

@pytest.fixture
def weed(tmp_path):
    from tests.services import _weed_binary
    from tests.test_faults import Weed

    if _weed_binary() is None:
        pytest.skip("SeaweedFS (weed binary) is not available")
    server = Weed(tmp_path / "weed")
    server.start()
    server.client().create_bucket(Bucket="debts")
    try:
        yield server
    finally:
        server.stop()


def _s3_env():
    from tests.services import S3_ACCESS_KEY, S3_SECRET_KEY

    return {"AWS_ACCESS_KEY_ID": S3_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY}


# (One Ctrl-C alone during an outage is what the chaos test's seeds do; here the deadline and the
# double Ctrl-C, the two ways a stuck run must still end.)
@pytest.mark.parametrize("how", ["deadline", "ctrl_c_twice"])
def test_store_that_stays_down_ends_the_run_promptly_and_cleanly(world, tmp_path, weed, how):
    """The run waits for the store within one deadline per run (not per file), and a Ctrl-C
    during the outage is heard at once; either way the run is closed, its files owed, and the
    next runs, with the store back, pay them."""
    catalogue_url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    store_url = f"s3://debts/archive?endpoint={weed.endpoint}&region=us-east-1"
    sites = tmp_path / "sites"
    families = {"hanweb", "trs"}
    write_sites(world, sites, families=families, overrides=SLOW)
    env = dict(_s3_env(), NIANBAO_SPOOL=str(tmp_path / "spool"))
    with simulator.serve(world) as server:
        args = _args(sites, server.proxy_url, catalogue_url, store_url)
        patches = {"NIANBAO_STORE_OUTAGE_WAIT": 8 if how == "deadline" else 600}
        proc = subprocess.Popen(wrapper_command(args, patches), cwd=REPO, env=crawl_env(env), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            _wait(lambda: _count(catalogue_url, "capture") >= 6, timeout=120, what="6 captures", proc=proc)
            weed.stop()
            time.sleep(6)                 # past the store client's own retries: the run is waiting
            stopped = time.monotonic()
            if how != "deadline":
                os.killpg(proc.pid, signal.SIGINT)
                if how == "ctrl_c_twice":
                    time.sleep(0.3)
                    os.killpg(proc.pid, signal.SIGINT)
            _out, err = proc.communicate(timeout=120)
            took = time.monotonic() - stopped
        finally:
            if proc.poll() is None:
                proc.kill()
        _no_traceback(err)
        assert proc.returncode == 4, err[-3000:]
        limit = {"deadline": 40, "ctrl_c": 15, "ctrl_c_twice": 10}[how]
        assert took < limit, f"took {took:.1f}s to stop ({how}): {err[-6000:]}"
        cat = Catalogue.open(catalogue_url)
        runs = cat.runs()
        assert runs and all(r.outcome == "interrupted" and r.finished_at is not None for r in runs), \
            [(r.site_id, r.outcome) for r in runs]
        assert all(cat.lease(site_id=r.site_id) is None for r in runs)
        weed.start()
        codes = _rerun_until_ok(args, tmp_path, catalogue_url, store_url, env=env)
    assert codes[-1] == 0, codes
    assert _missing(world, Catalogue.open(catalogue_url), families) == []
