"""Harvesting again: unchanged farms cost little, changes and removals are noticed, and a
crawler killed mid-run loses and duplicates nothing when run again."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

import simulator
from storage.catalogue import Catalogue
from storage.maintenance import fsck
from storage.objects import open_store
from tests.harness import REPO, harvest, nianbao, write_sites

FAMILIES = {"static", "trs", "hanweb"}
FAST = {"politeness": {"delay": 0, "concurrency": 4}}


def _truth(world):
    ids = {p.site_id for p in world.portals if p.family in FAMILIES}
    return {(t.site_id, t.agency, t.year) for t in world.truth if t.site_id in ids}


def _live(cat):
    return {(r.site_id, r.agency, r.year) for r in cat.reports() if r.removed_at is None}


@pytest.fixture(scope="module")
def three_harvests(tmp_path_factory):
    """epoch 0, epoch 0 again at once (default revisit schedule: report leaves not yet due),
    then epoch 1 (changed, removed, added reports) revalidating everything, one archive."""
    tmp = tmp_path_factory.mktemp("incremental")
    out = []
    for epoch, extra in ((0, []), (0, []), (1, ["--revisit-all"])):
        world = simulator.World(seed=0, size="tiny", epoch=epoch)
        with simulator.serve(world) as server:
            result = harvest(world, server, tmp, families=FAMILIES, overrides=FAST, extra=extra)
            served = server.stats.bytes_served
        assert result.proc.returncode == 0, result.proc.stderr[-3000:]
        cat = Catalogue.open(result.catalogue_url)
        runs = sorted(cat.runs(limit=100), key=lambda r: r.id)[-len(FAMILIES):]
        out.append({"world": world, "served": served, "runs": runs, "cat": cat, "result": result,
                    "blobs": {b.sha256 for b in cat.blobs()}, "live": _live(cat)})
    return out


def test_second_crawl_of_unchanged_farm_stores_nothing_new(three_harvests):
    first, second, _ = three_harvests
    assert second["blobs"] == first["blobs"]
    assert all(r.new_reports == 0 and r.changed_reports == 0 and r.removed_reports == 0 for r in second["runs"])
    # Report pages and files were revalidated moments ago: not due, but still listed, so live.
    not_due = sum((r.stats or {}).get("nianbao/revisit/reports_not_due", 0) for r in second["runs"])
    assert not_due > 0
    # Reports listed only on a list's further pages, which this run read from the archive
    # (crawler/listtail.py): live, not looked at, their last_seen kept.
    unread = sum((r.stats or {}).get("nianbao/recrawl/reports_not_looked_at", 0) for r in second["runs"])
    assert sum(r.unchanged_reports for r in second["runs"]) + not_due + unread == len(_truth(first["world"]))
    seen_again = [r for r in second["cat"].reports() if r.last_seen > first["runs"][-1].finished_at]
    assert len(seen_again) >= len(second["cat"].reports()) - unread
    # Lists are revalidated on every run: that is where new reports appear.
    assert all((r.stats or {}).get("nianbao/revalidated_unchanged", 0) > 0 for r in second["runs"])
    # Pages the server called unchanged are not parsed again: their first analysis is reused.
    assert all((r.stats or {}).get("nianbao/analyses_reused", 0) > 0 for r in second["runs"])
    assert all((r.stats or {}).get("nianbao/analyses_kept", 0) == 0 for r in second["runs"])
    assert second["served"] < 0.1 * first["served"]
    assert second["live"] == _truth(first["world"])


def test_every_archived_url_is_revalidated_by_its_validators(three_harvests):
    """Scrapy title-cases header names ("Etag"): list pages carry only an ETag, and must still
    be asked for conditionally, or a recrawl downloads every list again."""
    first = three_harvests[0]
    cat = first["cat"]
    states = [state for site in {r.site_id for r in first["runs"]}
              for state, _blob in cat.url_states(site_id=site).values() if state.last_status == 200]
    assert states and all(state.etag for state in states), [s.url for s in states if not s.etag][:5]


def test_changes_removals_and_additions_are_recorded(three_harvests):
    first, _, third = three_harvests
    world0, world1 = first["world"], third["world"]
    cat = third["cat"]
    assert _live(cat) == _truth(world1)
    removed = {(r.site_id, r.agency, r.year) for r in cat.reports() if r.removed_at is not None}
    assert removed and removed == _truth(world0) - _truth(world1)
    # Objects of removed reports are kept.
    store = open_store(third["result"].store_url)
    assert first["blobs"] <= third["blobs"]
    assert all(store.exists(b.storage_key) for b in cat.blobs())
    changed = [r for r in cat.reports() if r.versions > 1]
    assert changed, "epoch 1 changes some reports' bytes"
    for report in changed:
        shas = {c.sha256 for c in cat.captures(report_id=report.id) if c.kind in ("page", "attachment")}
        assert len(shas) >= 2          # the old version and the new one, both kept
    runs = third["runs"]
    assert sum(r.removed_reports for r in runs) == len(removed)
    assert sum(r.changed_reports for r in runs) >= len(changed)
    assert sum(r.new_reports for r in runs) == len(_truth(world1) - _truth(world0))


def test_runs_command_lists_counts(three_harvests):
    result = three_harvests[-1]["result"]
    proc = nianbao("runs", "--format", "json", "--catalogue", result.catalogue_url)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert len(rows) == 9 and all(r["outcome"] == "ok" for r in rows)
    assert sum(r["removed"] for r in rows[:3]) > 0 and sum(r["unchanged"] for r in rows[:3]) > 0
    assert sum(r["not_due"] for r in rows[3:6]) > 0 and all(r["not_due"] == 0 for r in rows[:3])
    table = nianbao("runs", "--catalogue", result.catalogue_url)
    assert table.returncode == 0 and "unchanged" in table.stdout


def test_sigkill_mid_crawl_then_rerun_loses_and_duplicates_nothing(tmp_path):
    world = simulator.World(seed=0, size="tiny")
    families = {"static", "trs", "hanweb", "xxgk"}
    ids = {p.site_id for p in world.portals if p.family in families}
    truth = {(t.site_id, t.agency, t.year) for t in world.truth if t.site_id in ids}
    data = tmp_path / "data"
    catalogue_url = f"sqlite:///{data / 'catalogue.sqlite'}"
    store_url = (data / "objects").as_uri()
    with simulator.serve(world) as server:
        sites = tmp_path / "sites"
        write_sites(world, sites, families=families, overrides={"politeness": {"delay": 0.05, "concurrency": 1}})
        args = [sys.executable, "-m", "crawler.cli", "crawl", "--all", "--sites-dir", str(sites),
                "--proxy", server.proxy_url, "--catalogue", catalogue_url, "--store", store_url]
        proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 120
            while time.time() < deadline:
                time.sleep(0.5)
                if (data / "catalogue.sqlite").exists():
                    try:
                        if len(Catalogue.open(catalogue_url, migrate=False).captures()) >= 15:
                            break
                    except Exception:
                        pass
            assert proc.poll() is None, "the crawl finished before it could be killed"
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
        partial = Catalogue.open(catalogue_url)
        assert _live(partial) < truth       # really cut short
        rerun = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    cat = Catalogue.open(catalogue_url)
    assert _live(cat) == truth
    urls = [r.url for r in cat.reports()]
    assert len(urls) == len(set(urls))
    runs = cat.runs(limit=100)
    # The killed runs were resumed, not duplicated: one run per site, finished.
    assert len(runs) == len(ids) and {r.outcome for r in runs} <= {"ok", "partial"}
    assert any((r.stats or {}).get("nianbao/resumed_run") == r.id for r in runs)
    captured = [(c.url, c.kind) for c in cat.captures() if c.kind in ("page", "attachment")]
    assert len(captured) == len(set(captured))       # nothing fetched twice into the record
    report = fsck(cat, open_store(store_url))
    assert not report.missing and not report.mismatched


def test_report_leaves_are_revalidated_once_due(tmp_path):
    """The revisit schedule end to end: right after a harvest nothing of a report is due; once
    the wait has passed (the catalogue's clock moved back two days) every leaf is asked for again
    with conditional requests and recorded unchanged, and the wait doubles."""
    import sqlalchemy as sa

    families = {"static"}
    world = simulator.World(seed=0, size="tiny")
    truth = {(t.site_id, t.agency, t.year) for t in world.truth
             if t.site_id in {p.site_id for p in world.portals if p.family in families}}
    runs = []
    with simulator.serve(world) as server:
        for step in range(3):
            result = harvest(world, server, tmp_path, families=families, overrides=FAST)
            assert result.proc.returncode == 0, result.proc.stderr[-2000:]
            cat = Catalogue.open(result.catalogue_url)
            runs.append(sorted(cat.runs(limit=10), key=lambda r: r.id)[-1])
            if step == 1:
                with cat.engine.begin() as conn:
                    conn.execute(sa.text("UPDATE url_state SET last_fetched = :t"),
                                 {"t": "2000-01-01 00:00:00.000000"})
    first, not_due, due = runs
    assert first.new_reports == len(truth)
    # not due, or listed only on a list's further pages, read from the archive (crawler/listtail.py)
    assert not_due.stats["nianbao/revisit/reports_not_due"] + not_due.stats.get(
        "nianbao/recrawl/reports_not_looked_at", 0) == len(truth) and not_due.unchanged_reports == 0
    assert "nianbao/revisit/not_due" not in due.stats and due.unchanged_reports == len(truth)
    leaves = [s for s, _ in cat.url_states(site_id=first.site_id).values() if s.report_id is not None]
    assert sorted({s.unchanged_checks for s in leaves if s.last_status == 200}) == [1], \
        [(s.url, s.unchanged_checks) for s in leaves if s.unchanged_checks != 1]


@pytest.mark.services
def test_recrawl_on_postgresql_and_s3(tmp_path, pg_url, s3_url):
    """The same second harvest on the scale-out parts (PostgreSQL catalogue, SeaweedFS store):
    lists answer 304 and hand back their kept analyses from S3, report leaves are not due,
    nothing new is stored, every report stays live."""
    from tests.hostile_server import run_crawl

    world = simulator.World(seed=0, size="tiny")
    sites = tmp_path / "sites"
    write_sites(world, sites, families={"static", "trs"}, overrides=FAST)
    truth = {(t.site_id, t.agency, t.year) for t in world.truth
             if t.site_id in {p.site_id for p in world.portals if p.family in {"static", "trs"}}}
    with simulator.serve(world) as server:
        args = ["--all", "--sites-dir", str(sites), "--proxy", server.proxy_url, "--render", "never"]
        for _ in range(2):
            result = run_crawl(args, tmp_path, timeout=300, catalogue_url=pg_url, store_url=s3_url)
            assert result.proc.returncode == 0, result.proc.stderr[-3000:]
    cat = Catalogue.open(pg_url)
    runs = sorted(cat.runs(limit=10), key=lambda r: r.id)
    first, second = runs[:2], runs[2:]
    blobs_after_first = {c.sha256 for c in cat.captures() if c.run_id in {r.id for r in first}}
    assert {c.sha256 for c in cat.captures() if c.run_id in {r.id for r in second}} <= blobs_after_first
    assert all(r.new_reports == 0 and r.changed_reports == 0 and r.removed_reports == 0 for r in second)
    assert all(r.stats.get("nianbao/analyses_reused", 0) > 0 for r in second)
    # not due, or listed only on a list's further pages read from the archive (crawler/listtail.py)
    assert sum(r.stats.get("nianbao/revisit/reports_not_due", 0)
               + r.stats.get("nianbao/recrawl/reports_not_looked_at", 0) for r in second) == len(truth)
    assert _live(cat) == truth
    assert fsck(cat, open_store(s3_url)).ok
