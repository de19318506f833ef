"""End to end, as a user runs it: `nianbao crawl` over the simulated portals (every family,
render auto), then the catalogue, the object store, the WARC files and the export agree with
the simulator's ground truth."""
import hashlib
import shutil
import json

import pytest

import simulator
from storage.catalogue import Catalogue
from storage.objects import open_store
from tests.harness import harvest, nianbao

FAST = {"politeness": {"delay": 0, "concurrency": 4}}
MAX_BYTES = 5_000_000


@pytest.fixture(scope="module")
def world():
    return simulator.World(seed=0, size="tiny")


@pytest.fixture(scope="module")
def crawled(world, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    with simulator.serve(world) as server:
        result = harvest(world, server, tmp, overrides=FAST, extra=["--max-bytes", str(MAX_BYTES)])
        requests = server.requests
    assert result.proc.returncode == 0, result.proc.stderr[-3000:]
    cat = Catalogue.open(result.catalogue_url)
    return result, cat, open_store(result.store_url), requests


def test_every_true_report_found_with_year_and_agency(world, crawled):
    _, cat, _, _ = crawled
    found = {(r.site_id, r.agency, r.year) for r in cat.reports()}
    truth = {(t.site_id, t.agency, t.year) for t in world.truth}
    assert truth - found == set()          # recall 1.0
    assert found - truth == set()          # precision 1.0


def test_every_truth_file_archived_byte_for_byte(world, crawled):
    _, cat, _, _ = crawled
    by_url = {}
    for c in cat.captures():
        by_url.setdefault(c.url, set()).add(c.sha256)
        by_url.setdefault(c.final_url, set()).add(c.sha256)
    for t in world.truth:
        for url, sha in t.sha256.items():
            assert sha in by_url.get(url, set()), (t.title, url)


def test_no_lookalike_kept(world, crawled):
    _, cat, _, _ = crawled
    kept = {c.url for c in cat.captures() if c.is_report} | {r.url for r in cat.reports()}
    assert not kept & set(world.lookalikes)


def test_robots_disallowed_never_fetched(world, crawled):
    *_, requests = crawled
    fetched = {f"http://{host}{path}" for host, _m, path, _s, _h in requests}
    assert not fetched & set(world.disallowed)


def test_traps_escaped_within_budget(world, crawled):
    result, cat, _, requests = crawled
    calendar = world.traps["calendar"]
    calendar_hits = [p for h, _m, p, _s, _h in requests if f"http://{h}{p}".startswith(calendar)]
    assert len(calendar_hits) < 50
    runs = {r.site_id: r for r in cat.runs(limit=100)}
    assert all(r.outcome in ("ok", "partial") for r in runs.values())


def test_objects_hash_to_their_keys_and_export_lists_them(crawled):
    result, cat, store, _ = crawled
    for blob in cat.blobs():
        data = store.get(blob.storage_key)
        assert hashlib.sha256(data).hexdigest() == blob.sha256 == blob.storage_key.rsplit("/", 1)[1]
    proc = nianbao("export", "--format", "jsonl", "--catalogue", result.catalogue_url, "--store", result.store_url)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    required = {"url", "source_page", "sha256", "size", "content_type", "filename", "storage_uri", "agency",
                "year", "title", "site_id", "fetched_at", "crawl_run_id", "rendered", "is_report"}
    assert rows and all(required <= set(row) for row in rows)
    assert {r["sha256"] for r in rows if r["is_report"]} >= {c.sha256 for c in cat.captures() if c.is_report}


def test_hanweb_attachment_keeps_gbk_filename(world, crawled):
    _, cat, _, _ = crawled
    hanweb = [c for c in cat.captures() if "downfile.jsp" in c.url]
    assert hanweb and all(c.filename and not c.filename.startswith("downfile") for c in hanweb)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in c.filename) for c in hanweb)


def test_report_captures_point_into_warc(crawled):
    _, cat, store, _ = crawled
    from storage.warc import read_location
    page_captures = [c for c in cat.captures() if c.is_report and c.warc_key][:20]
    assert page_captures
    for c in page_captures:
        record = read_location(store, {"key": c.warc_key, "offset": c.warc_offset, "length": c.warc_length})
        assert record is not None


def test_rendering_only_where_needed(world, crawled):
    _, cat, _, _ = crawled
    families = {p.site_id: p.family for p in world.portals}
    for run in cat.runs(limit=100):
        stats = run.stats or {}
        browser = stats.get("nianbao/render/pages", 0) + stats.get("nianbao/render/challenges_solved", 0)
        if families[run.site_id] in ("gkmlpt", "trsapi", "ruishu", "jiasule"):
            assert browser > 0 and stats.get("playwright/browser_count") == 1, run.site_id
            if families[run.site_id] in ("gkmlpt", "trsapi"):
                # what Chromium fetched itself to draw the page (XHR, scripts) is in the WARC too
                assert stats.get("nianbao/warc/browser_responses", 0) > 0, run.site_id
        else:
            # Not "no page rendered": no browser started at all for a plain portal.
            assert browser == 0 and "playwright/browser_count" not in stats, (run.site_id, stats)


def test_rendered_report_pages_keep_dom_and_screenshot(crawled):
    _, cat, store, _ = crawled
    derived = [c for c in cat.captures() if c.kind in ("dom", "screenshot")]
    assert {c.kind for c in derived} == {"dom", "screenshot"}
    shot = next(c for c in derived if c.kind == "screenshot")
    assert store.get(shot.storage_key).startswith(b"\x89PNG")
    assert shot.parent_id is not None and shot.browser_version and "chromium" in shot.browser_version


def test_warc_export_writes_wacz(world, crawled, tmp_path):
    import zipfile
    result, _, _, _ = crawled
    site_id = world.portals[0].site_id
    out = tmp_path / "site.wacz"
    where = ["--store", result.store_url, "--catalogue", result.catalogue_url]
    proc = nianbao("warc", "export", "--site", site_id, "-o", str(out), *where)
    assert proc.returncode == 0, proc.stderr
    names = zipfile.ZipFile(out).namelist()
    assert "datapackage.json" in names and any(n.endswith(".warc.gz") for n in names)
    missing = nianbao("warc", "export", "--site", "no-such-site", "-o", str(out), *where)
    assert missing.returncode == 1 and "no WARC files" in missing.stderr and "Traceback" not in missing.stderr


def test_warc_export_refuses_when_a_capture_names_a_lost_warc_file(world, crawled, tmp_path):
    """A package silently lacking records would pass for the whole archive."""
    result, _, _, _ = crawled
    site_id = world.portals[0].site_id
    copy = tmp_path / "objects"
    shutil.copytree(result.store_url.removeprefix("file://"), copy)
    store = open_store(copy.as_uri())
    lost = sorted(store.keys(f"warc/{site_id}/"))[0]
    store.delete(lost)
    proc = nianbao("warc", "export", "--site", site_id, "-o", str(tmp_path / "x.wacz"),
                   "--store", copy.as_uri(), "--catalogue", result.catalogue_url)
    assert proc.returncode == 1 and "not in the store" in proc.stderr and lost in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_scrapy_crawl_command_works_too(world, tmp_path):
    """`scrapy crawl reports -a site=ID` from the project directory, proxy from the environment."""
    import os
    import subprocess
    import sys

    from tests.harness import REPO, write_sites
    static = next(p for p in world.portals if p.family == "static")
    sites = tmp_path / "sites"
    write_sites(world, sites, families={"static"}, overrides={"politeness": {"delay": 0, "concurrency": 4}})
    catalogue_url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    with simulator.serve(world) as server:
        env = dict(os.environ, http_proxy=server.proxy_url, NIANBAO_CATALOGUE=catalogue_url,
                   NIANBAO_STORE=(tmp_path / "o").as_uri())
        proc = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "reports", "-a", f"site={static.site_id}",
                               "-a", f"sites_dir={sites}", "-s", "LOG_LEVEL=WARNING"],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = {(r.agency, r.year) for r in Catalogue.open(catalogue_url).reports()}
    assert found == {(t.agency, t.year) for t in world.truth if t.site_id == static.site_id}
