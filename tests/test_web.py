"""The web UI in a real headless Chromium, against an archive filled by crawling the simulated portals.

One crawl per module (families static, trs, xxgk of the tiny world: about 10 s), then uvicorn in a
background thread and Playwright's sync API with the Debian Chromium.
"""
from __future__ import annotations

import hashlib
import http.client
from datetime import date
from pathlib import Path

import pytest

import simulator
from crawler.coverage import last_due_year
from tests.harness import harvest, nianbao
from tests.web_server import running

FAMILIES = {"static", "trs", "xxgk"}
TOKEN = "correct horse battery staple"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def world():
    return simulator.World(seed=0, size="tiny")


@pytest.fixture(scope="module")
def server(world):
    with simulator.serve(world) as srv:
        yield srv


@pytest.fixture(scope="module")
def archive(world, server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("web")
    h = harvest(world, server, tmp, families=FAMILIES, overrides={"politeness": {"delay": 0, "concurrency": 4}})
    assert h.proc.returncode == 0, h.proc.stderr[-2000:]
    texts = nianbao("texts", "--catalogue", h.catalogue_url, "--store", h.store_url)
    assert texts.returncode == 0, texts.stderr[-2000:]
    return h


@pytest.fixture(scope="module")
def app(archive):
    from crawler.web import create_app

    return create_app(catalogue_url=archive.catalogue_url, store_url=archive.store_url, token=TOKEN,
                      sites_dir=str(archive.sites_dir))


@pytest.fixture(scope="module")
def base_url(app):
    with running(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()


def expected_cells(world, today: date) -> tuple[set, set]:
    """(found, missing) cells from the simulator's truth and the deadline rule, independently of the app."""
    portals = {p.site_id: p for p in world.portals if p.family in FAMILIES}
    configs = {c["id"]: c for c in world.site_configs()}
    truth = [t for t in world.truth if t.site_id in portals]
    found = {(t.site_id, t.agency, t.year) for t in truth}
    agencies = {(t.site_id, t.agency) for t in truth} | {(p.site_id, p.agency) for p in portals.values()}
    missing = set()
    for site_id, agency in agencies:
        portal = portals[site_id]
        # Departments of a directory platform are departments whatever the platform's owner is.
        kind = portal.kind if agency == portal.agency else "department"
        for year in range(configs[site_id].get("first_year") or 2008, last_due_year(kind, today) + 1):
            if (site_id, agency, year) not in found:
                missing.add((site_id, agency, year))
    return found, missing


def test_heatmap_shows_truths_found_and_missing_cells(world, base_url, page):
    page.goto(base_url + "/")
    cells = page.eval_on_selector_all(
        "#heatmap td.cell[data-state]",
        "els => els.map(e => [e.closest('tr').dataset.site, e.closest('tr').dataset.agency,"
        " Number(e.dataset.year), e.dataset.state])")
    shown = {}
    for site_id, agency, year, state in cells:
        shown.setdefault(state, set()).add((site_id, agency, year))
    found, missing = expected_cells(world, date.today())
    assert shown.get("found", set()) == found
    assert shown.get("missing", set()) == missing
    assert not shown.get("changed") and not shown.get("removed") and not shown.get("unreachable")
    assert page.inner_text("#total-found") == str(len(found))
    assert page.inner_text("#total-missing") == str(len(missing))


def test_filter_by_site_and_region(world, base_url, page):
    page.goto(base_url + "/")
    page.select_option("select[name=site]", "huidong-fgw")
    with page.expect_navigation():   # read the filtered page, not the one being left
        page.click("form.filters button")
    sites = set(page.eval_on_selector_all("#heatmap tbody tr", "els => els.map(e => e.dataset.site)"))
    assert sites == {"huidong-fgw"}
    region = next(p.region_name for p in world.portals if p.site_id == "jiangyin-kjj")
    page.goto(base_url + "/")
    page.fill("input[name=region]", region)
    with page.expect_navigation():
        page.click("form.filters button")
    sites = set(page.eval_on_selector_all("#heatmap tbody tr", "els => els.map(e => e.dataset.site)"))
    assert sites == {"jiangyin-kjj"}


def test_click_from_heatmap_to_capture_downloads_the_archived_bytes(world, base_url, page, tmp_path):
    truth_sha = {url: sha for t in world.truth for url, sha in t.sha256.items()}
    page.goto(base_url + "/")
    # A found cell of an attachment-bearing site: huidong (TRS) links PDFs and spreadsheets.
    page.click("#heatmap tr[data-site=huidong-fgw] td.cell[data-state=found] a")
    page.wait_for_selector("#timeline")
    assert "/agency?" in page.url
    page.click("#timeline a.capture >> nth=-1")
    page.wait_for_selector("#provenance")
    shown_sha = page.inner_text("#sha256").strip()
    url = page.inner_text("#provenance tr:first-child td").strip()
    with page.expect_download() as info:
        page.click("#download")
    download = info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    assert digest == shown_sha == truth_sha[url]


def test_capture_page_shows_provenance(base_url, page, archive):
    from storage.catalogue import Catalogue

    cat = Catalogue.open(archive.catalogue_url)
    captures = cat.captures()
    # One with a text rendition: some simulated PDFs are scans with no text layer, and which file
    # is archived first depends on the crawl's concurrency.
    with_text = {c.parent_id for c in captures if c.kind == "text"}
    cap = next(c for c in captures if c.kind == "attachment" and c.warc_key and c.id in with_text)
    page.goto(f"{base_url}/captures/{cap.id}")
    text = page.inner_text("#provenance")
    for expected in (cap.url, cap.source_page, cap.sha256, cap.warc_key, str(cap.warc_offset), f"run {cap.run_id}"):
        assert expected in text
    assert "text" in page.inner_text("#provenance")   # the rendition made by `nianbao texts`


def test_runs_page_lists_every_run(base_url, page, archive):
    from storage.catalogue import Catalogue

    runs = Catalogue.open(archive.catalogue_url).runs()
    page.goto(base_url + "/runs")
    ids = page.eval_on_selector_all("#runs tr[id^=run]", "els => els.map(e => e.id)")
    assert sorted(ids) == sorted(f"run{r.id}" for r in runs)
    assert set(page.eval_on_selector_all("#runs td.outcome", "els => els.map(e => e.textContent)")) == {"ok"}
    # the counts of `nianbao runs`, by the same names and from the same row (crawler/counts.py)
    from crawler.counts import COUNTS, run_counts

    for run in runs:
        shown = page.eval_on_selector_all(f"#run{run.id} td[data-count]",
                                          "els => els.map(e => [e.dataset.count, e.textContent])")
        assert [name for name, _v in shown] == list(COUNTS)
        assert {name: int(v) for name, v in shown} == {n: run_counts(run)[n.replace(" ", "_")] for n in COUNTS}


def test_mark_not_applicable_needs_the_token(base_url, page, archive):
    from storage.catalogue import Catalogue

    cat = Catalogue.open(archive.catalogue_url)
    page.goto(base_url + "/")
    page.click("#heatmap tr[data-site=jiangyin-kjj] td.cell[data-state=missing] a")
    row = page.locator("#timeline tr[data-state=missing]").first
    year = int(row.get_attribute("data-year"))
    agency_url = page.url
    row.locator("input[name=who]").fill("档案员")
    row.locator("input[name=why]").fill("机构尚未设立")
    row.locator("input[name=token]").fill("wrong")
    with page.expect_response(lambda r: r.url.endswith("/marks")) as refused:
        row.locator("button").click()
    assert refused.value.status == 403
    assert not any(m.year == year for m in cat.coverage_marks())
    page.goto(agency_url)
    row = page.locator(f"#timeline tr[data-year='{year}']")
    row.locator("input[name=who]").fill("档案员")
    row.locator("input[name=why]").fill("机构尚未设立")
    row.locator("input[name=token]").fill(TOKEN)
    row.locator("button").click()
    page.wait_for_selector(f"#timeline tr[data-year='{year}'][data-state=not_applicable]")
    assert "机构尚未设立" in page.inner_text(f"#timeline tr[data-year='{year}']")
    cat.clear_coverage_mark(agency="江阴区科学技术局", year=year)


def _raw_get(base_url: str, path: str) -> tuple[int, bytes]:
    """A request whose path is sent exactly as written (no client-side dot-segment removal)."""
    host, port = base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.putrequest("GET", path, skip_accept_encoding=True)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body


@pytest.mark.parametrize("path", [
    "/api/captures/../../../../etc/passwd",
    "/api/captures/..%2f..%2f..%2fetc%2fpasswd/raw",
    "/api/captures/%2e%2e%2f%2e%2e%2fetc%2fpasswd/raw",
    "/captures/1/raw/../../../../../etc/passwd",
    "/static/../../../../etc/passwd",
    "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/static/%2e%2e/%2e%2e/web/app.py",
    "/static/..%5c..%5capp.py",
    "/api/captures/1%00/raw",
])
def test_path_traversal_is_refused(base_url, path):
    status, body = _raw_get(base_url, path)
    assert status in (400, 404, 422), (status, body[:200])
    assert b"root:" not in body and b"create_app" not in body


def test_raw_of_unknown_capture_is_404(base_url):
    for path in ("/api/captures/99999999/raw", "/captures/99999999/raw", "/api/captures/99999999/text"):
        status, _ = _raw_get(base_url, path)
        assert status == 404, path


def _png(width: int = 4, height: int = 3) -> bytes:
    import struct
    import zlib

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    rows = b"".join(b"\x00" + b"\xcc\x22\x22" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_capture_page_shows_its_screenshot(base_url, page, archive):
    from storage.catalogue import Catalogue
    from storage.objects import open_store, put_content

    cat = Catalogue.open(archive.catalogue_url)
    store = open_store(archive.store_url)
    parent = next(c for c in cat.captures() if c.kind == "page" and c.is_report)
    key, sha, size = put_content(store, _png(), content_type="image/png")
    cat.record_blob(sha256=sha, size=size, storage_key=key, content_type="image/png")
    shot = cat.add_capture(run_id=parent.run_id, site_id=parent.site_id, report_id=parent.report_id,
                           parent_id=parent.id, kind="screenshot", url=parent.url, sha256=sha, size=size,
                           storage_key=key, content_type="image/png", rendered=True)
    page.goto(f"{base_url}/captures/{parent.id}")
    img = page.wait_for_selector("img.screenshot")
    assert img.get_attribute("src") == f"/captures/{shot}/raw?inline=1"
    assert page.evaluate("() => document.querySelector('img.screenshot').naturalWidth") == 4


def test_crawl_started_from_the_api_records_a_run(app, base_url, archive, server, monkeypatch):
    import httpx

    from storage.catalogue import Catalogue

    cat = Catalogue.open(archive.catalogue_url)
    before = {r.id for r in cat.runs(site_id="jiangyin-kjj")}
    # The child crawl finds the simulated portals through the standard proxy variable.
    monkeypatch.setenv("http_proxy", server.proxy_url)
    with httpx.Client(base_url=base_url, trust_env=False, timeout=30) as client:
        assert client.post("/api/crawl", json={"sites": ["jiangyin-kjj"]}).status_code == 403
        r = client.post("/api/crawl", json={"sites": ["jiangyin-kjj"]}, headers={"X-Nianbao-Token": TOKEN})
        assert r.status_code == 202, r.text
    proc = app.state.ctx.crawls[-1]
    assert proc.pid == r.json()["pid"]
    assert proc.wait(timeout=300) == 0
    new = [run for run in cat.runs(site_id="jiangyin-kjj") if run.id not in before]
    assert [run.outcome for run in new] == ["ok"]
    # Same portal, nothing new; its reports were checked minutes ago, so they are not yet due.
    assert new[0].new_reports == 0 and new[0].removed_reports == 0
    assert new[0].stats["nianbao/revisit/reports_not_due"] > 0
