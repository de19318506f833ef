"""Issue #18, a user's first hour: what failed for a new user, one test per point.

1 screenshots readable (a CJK font, a start-up probe), 3 settings checked before any fetch
(exit 6), 4 a bad site file skipped (exit 3), 5 counts that reconcile, 6 offline `make run`,
7 help and usage errors. The simulator is crawled only where a crawl is the point.
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

import simulator
from storage.catalogue import Catalogue
from storage.objects import open_store
from tests.harness import REPO, harvest, nianbao, write_sites

FAST = {"politeness": {"delay": 0, "concurrency": 4}}
# gkmlpt draws its report pages in Chromium (screenshots); hanweb is plain.
FAMILIES = {"gkmlpt", "hanweb"}
NO_TRACEBACK = "Traceback"


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def cli(*args: str, env: dict | None = None) -> Result:
    """`nianbao ARGS` in this process (typer's runner): for commands that crawl nothing, where a
    subprocess would spend its seconds importing. Tracebacks are checked through subprocesses."""
    from typer.testing import CliRunner

    from crawler.cli import app

    r = CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return Result(r.exit_code, r.stdout, r.stderr)


@pytest.fixture(scope="module")
def world():
    return simulator.World(seed=0, size="tiny")


@pytest.fixture(scope="module")
def server(world):
    with simulator.serve(world) as srv:
        yield srv


def _sqlite(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'c.sqlite'}"


def _fontconfig(tmp: Path, font_dir: Path) -> Path:
    """A fontconfig file that sees only font_dir: a machine with no CJK font."""
    conf = tmp / "fonts.conf"
    (tmp / "fc-cache").mkdir(parents=True, exist_ok=True)
    font_dir.mkdir(parents=True, exist_ok=True)
    conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                    f'<dir>{font_dir}</dir><cachedir>{tmp / "fc-cache"}</cachedir></fontconfig>',
                    encoding="utf-8")
    return conf


# --- 5: counts that add up ----------------------------------------------------------------


@pytest.fixture(scope="module")
def twice(world, server, tmp_path_factory):
    """The same sites harvested twice: a first crawl and a recrawl."""
    tmp = tmp_path_factory.mktemp("counts")
    first = harvest(world, server, tmp, families=FAMILIES, overrides=FAST)
    second = harvest(world, server, tmp, families=FAMILIES, overrides=FAST)
    for h in (first, second):
        assert h.proc.returncode == 0, h.proc.stderr[-3000:]
    return first, second


def _summary_rows(stdout: str) -> dict[str, dict]:
    """The harvest summary table, by site: {site: {column: cell}}."""
    lines = [ln for ln in stdout.splitlines() if ln.startswith("│") or ln.startswith("┃")]
    header = [c.strip() for c in lines[0].strip("┃").split("┃")]
    rows = {}
    for ln in lines[1:]:
        cells = [c.strip() for c in ln.strip("│").split("│")]
        rows[cells[0]] = dict(zip(header, cells))
    return rows


def _runs(catalogue_url: str) -> list[dict]:
    proc = cli("runs", "--format", "json", "--limit", "100", "--catalogue", catalogue_url)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_summary_and_runs_say_the_same_numbers(twice):
    first, second = twice
    runs = _runs(first.catalogue_url)
    for harvest_, nth in ((first, 0), (second, 1)):
        summary = _summary_rows(harvest_.proc.stdout)
        for site, row in summary.items():
            run = sorted((r for r in runs if r["site_id"] == site), key=lambda r: r["id"])[nth]
            for column, key in (("pages", "pages"), ("reports", "reports"), ("new", "new"),
                                ("changed", "changed"), ("unchanged", "unchanged"), ("not due", "not_due"),
                                ("files", "files"), ("owed", "owed")):
                assert int(row[column]) == run[key], (site, nth, column, row, run)
            assert run["reports"] == run["new"] + run["changed"] + run["unchanged"] + run["not_due"]
    # On the recrawl nothing is new; every report is still there, as unchanged or not due.
    for site in _summary_rows(second.proc.stdout):
        ours = sorted((r for r in runs if r["site_id"] == site), key=lambda r: r["id"])
        assert ours[1]["new"] == 0 and ours[1]["reports"] == ours[0]["reports"], ours


def test_counts_reconcile_with_catalogue_coverage_and_export(world, twice):
    first, _ = twice
    runs = _runs(first.catalogue_url)
    cat = Catalogue.open(first.catalogue_url)
    reports = cat.reports()
    # every report of the archive was new exactly once
    assert sum(r["new"] for r in runs) == len(reports)
    # coverage "found" counts publisher-year cells: the distinct (site, agency, year) of the reports
    cov = cli("coverage", "--format", "json", "--catalogue", first.catalogue_url)
    assert cov.returncode == 0, cov.stderr
    totals = json.loads(cov.stdout)["totals"]
    cells = {(r.site_id, r.agency, r.year) for r in reports}
    # cells with a report: found, changed since, a file not archived, or removed since
    assert sum(totals[k] for k in ("found", "changed", "incomplete", "removed")) == len(cells)
    truth = {(t.site_id, t.agency, t.year) for t in world.truth if t.site_id in {r["site_id"] for r in runs}}
    assert cells == truth
    # the export's page and attachment rows of a run are that run's files
    exp = cli("export", "--catalogue", first.catalogue_url, "--store", first.store_url)
    rows = [json.loads(line) for line in exp.stdout.splitlines()]
    for run in runs:
        mine = [r for r in rows if r["crawl_run_id"] == run["id"] and r["kind"] in ("page", "attachment")]
        assert len(mine) == run["files"], run
    # and every report of the catalogue has rows in the export
    assert {(r["site_id"], r["agency"], r["year"]) for r in rows if r["is_report"]} == cells


def test_count_words_are_defined_in_help_and_readme():
    from crawler.counts import COUNTS

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    help_text = cli("runs", "--help").stdout
    for name in COUNTS:
        assert f"**{name}**" in readme, name
        assert f"{name}:" in help_text, name


# --- 1: readable screenshots ------------------------------------------------------------


def _tofu_render(html: bytes, tmp: Path) -> tuple[bytes, bool]:
    """The page drawn by Chromium on a machine with no CJK font (DejaVu only), and whether
    document.fonts.check said yes there too (it always does: which is why the probe draws)."""
    script = f"""
import asyncio, sys
from playwright.async_api import async_playwright
async def main():
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = await b.new_page(viewport={{"width": 1280, "height": 800}})
        await page.set_content(open(sys.argv[1], encoding="utf-8", errors="replace").read())
        ok = await page.evaluate("document.fonts.check('16px \\"Noto Sans CJK SC\\"', '政府')")
        open(sys.argv[2], "wb").write(await page.screenshot(full_page=True, type="png"))
        print(ok)
        await b.close()
asyncio.run(main())
"""
    (tmp / "page.html").write_bytes(html)
    env = {**os.environ, "FONTCONFIG_FILE": str(_fontconfig(tmp, Path("/usr/share/fonts/truetype/dejavu")))}
    proc = subprocess.run([os.sys.executable, "-c", script, str(tmp / "page.html"), str(tmp / "tofu.png")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return (tmp / "tofu.png").read_bytes(), proc.stdout.strip() == "True"


def test_archived_screenshot_shows_cjk_glyphs(twice, tmp_path):
    first, _ = twice
    cat = Catalogue.open(first.catalogue_url)
    store = open_store(first.store_url)
    shots = [c for c in cat.captures() if c.kind == "screenshot"]
    assert shots, "no rendered report page in the crawl"
    runs = {r.id: r for r in cat.runs(limit=100)}
    assert runs[shots[0].run_id].stats.get("nianbao/fonts/readable") is True
    # A screenshot of a page drawn with Chinese text (the report body its script fetched).
    doms = {c.parent_id: c for c in cat.captures() if c.kind == "dom"}
    drawn = [(shot, html) for shot in shots if shot.parent_id in doms
             and "政府信息公开" in (html := store.get(doms[shot.parent_id].storage_key)).decode("utf-8", "replace")]
    assert drawn, "no rendered page drew its Chinese body"
    shot, html = drawn[0]
    tofu, fonts_check = _tofu_render(html, tmp_path)
    assert fonts_check                       # document.fonts.check says yes, with or without the font
    archived = store.get(shot.storage_key)
    assert archived[:8] == b"\x89PNG\r\n\x1a\n"
    assert archived != tofu                  # the archived one is not the boxes


def test_probe_tells_glyphs_from_boxes(tmp_path):
    from playwright.async_api import async_playwright

    from crawler import fontprobe

    async def ask():
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            try:
                return await fontprobe.probe(browser)
            finally:
                await browser.close()

    assert asyncio.run(ask()).readable
    saved = os.environ.get("FONTCONFIG_FILE")
    for font_dir in (tmp_path / "none", Path("/usr/share/fonts/truetype/dejavu")):   # no font; Latin only
        os.environ["FONTCONFIG_FILE"] = str(_fontconfig(tmp_path / font_dir.name, font_dir))
        try:
            assert not asyncio.run(ask()).readable, font_dir
        finally:
            if saved is None:
                os.environ.pop("FONTCONFIG_FILE", None)
            else:
                os.environ["FONTCONFIG_FILE"] = saved


def test_no_screenshot_archived_when_chinese_cannot_be_drawn(world, server, tmp_path):
    conf = _fontconfig(tmp_path / "fc", tmp_path / "fc" / "empty")
    h = harvest(world, server, tmp_path, families={"gkmlpt"}, overrides=FAST, env={"FONTCONFIG_FILE": str(conf)})
    assert h.proc.returncode == 0, h.proc.stderr[-3000:]
    lines = [ln for ln in h.proc.stderr.splitlines() if "fonts: Chromium cannot draw Chinese" in ln]
    assert len(lines) == 1, h.proc.stderr[-3000:]
    assert "fonts-noto-cjk" in lines[0]
    cat = Catalogue.open(h.catalogue_url)
    kinds = [c.kind for c in cat.captures()]
    assert "screenshot" not in kinds
    assert "dom" in kinds and "page" in kinds          # the HTML and DOM are archived all the same
    run = cat.runs(limit=1)[0]
    assert run.stats.get("nianbao/fonts/readable") is False and run.stats.get("nianbao/screenshots_refused", 0) > 0


def test_install_steps_agree_on_the_font():
    services = (REPO / "scripts" / "services.sh").read_text()
    dockerfile = (REPO / "docker" / "Dockerfile").read_text()
    makefile = (REPO / "Makefile").read_text()
    assert "fonts-noto-cjk" in services and "fonts-noto-cjk" in dockerfile
    assert "run: install browser" in makefile and "services.sh --browser-only" in makefile
    assert "test: install $(PYWB_STAMP) services" in makefile


# --- 3: every setting checked before any fetch ------------------------------------------


def _adhoc(tmp: Path, *extra: str, env: dict | None = None, catalogue: str | None = None,
           store: str | None = None):
    return nianbao("crawl", "--start-url", "http://127.0.0.1:1/", "--agency", "某局",
                   "--catalogue", catalogue or _sqlite(tmp), "--store", store or (tmp / "o").as_uri(), *extra,
                   env={"NIANBAO_PROGRESS_INTERVAL": "0", **(env or {})}, timeout=120)


def _one_settings_line(proc, setting: str) -> str:
    assert proc.returncode == 6, (proc.returncode, proc.stdout[-1500:], proc.stderr[-1500:])
    assert NO_TRACEBACK not in proc.stdout + proc.stderr
    assert "Harvest summary" not in proc.stdout            # nothing was crawled
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"settings error: {setting}"), lines
    return lines[0]


@pytest.mark.parametrize("url,says", [
    ("garbage", "is not a database URL"),
    ("postgresql://127.0.0.1:1/x", "cannot connect to 127.0.0.1:1"),
    ("mysql://u@127.0.0.1/x", "mysql is not supported"),
])
def test_bad_catalogue_is_refused_before_any_fetch(tmp_path, url, says):
    assert says in _one_settings_line(_adhoc(tmp_path, catalogue=url), "catalogue")
    # every command that reads the catalogue says it the same way: no 92-line traceback
    for args in (["runs"], ["coverage"], ["export"], ["owed"]):
        assert says in _one_settings_line(cli(*args, "--catalogue", url), "catalogue"), args


def test_read_only_store_is_refused_before_any_fetch(tmp_path):
    store = tmp_path / "ro"
    store.mkdir()
    if subprocess.run(["chattr", "+i", str(store)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i not available here")
    try:
        line = _one_settings_line(_adhoc(tmp_path, store=store.as_uri()), "store")
    finally:
        subprocess.run(["chattr", "-i", str(store)])
    assert "cannot write" in line and "not permitted" in line


def test_missing_browser_is_refused_when_rendering_is_required(tmp_path):
    proc = cli("crawl", "--start-url", "http://127.0.0.1:1/", "--agency", "某局", "--render", "always",
               "--catalogue", _sqlite(tmp_path), "--store", (tmp_path / "o").as_uri(),
               env={"NIANBAO_CHROMIUM": "/nonexistent/chromium"})
    line = _one_settings_line(proc, "browser")
    assert "/nonexistent/chromium not found" in line


def test_unreachable_redis_is_refused(tmp_path):
    proc = cli("worker", "--redis", "redis://127.0.0.1:1/0", "--catalogue", _sqlite(tmp_path),
               "--store", (tmp_path / "o").as_uri(), "--exit-when-idle", "1")
    assert "cannot reach redis://127.0.0.1:1/0" in _one_settings_line(proc, "redis")


def test_serve_on_a_busy_port_is_exit_6_before_serving(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = cli("serve", "--port", str(port), "--catalogue", _sqlite(tmp_path),
                   "--store", (tmp_path / "o").as_uri())
    assert "already in use" in _one_settings_line(proc, "port")
    assert "serving" not in proc.stderr


# --- 4: one bad site file does not stop the others --------------------------------------


@pytest.fixture(scope="module")
def sites_with_a_bad_one(world, tmp_path_factory):
    directory = tmp_path_factory.mktemp("badsite") / "sites"
    ids = write_sites(world, directory, families={"static"}, overrides={**FAST, "budget": {"max_pages": 6}})
    (directory / "broken.yaml").write_text("id: broken\nagency: 某局\nstart_urls: [http://x.gov.cn/]\n"
                                           "schedule: nope\n", encoding="utf-8")
    return directory, ids[0]


def test_bad_site_file_is_skipped_and_the_others_run(server, sites_with_a_bad_one, tmp_path):
    directory, good = sites_with_a_bad_one
    proc = nianbao("crawl", "--all", "--sites-dir", str(directory), "--proxy", server.proxy_url,
                   "--catalogue", _sqlite(tmp_path), "--store", (tmp_path / "o").as_uri(), timeout=300)
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert good in _summary_rows(proc.stdout)                      # the good site was crawled
    bad_lines = [ln for ln in proc.stderr.splitlines() if "broken.yaml" in ln]
    assert len(bad_lines) == 1 and "schedule" in bad_lines[0] and "skipped" in bad_lines[0]
    assert NO_TRACEBACK not in proc.stderr


def test_named_site_runs_despite_another_bad_file_and_once_when_named_twice(server, sites_with_a_bad_one, tmp_path):
    directory, good = sites_with_a_bad_one
    proc = nianbao("crawl", good, good, "--sites-dir", str(directory), "--proxy", server.proxy_url,
                   "--catalogue", _sqlite(tmp_path), "--store", (tmp_path / "o").as_uri(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "broken.yaml" not in proc.stderr                        # not this crawl's business
    assert list(_summary_rows(proc.stdout)) == [good]
    assert len(_runs(_sqlite(tmp_path))) == 1                      # named twice, crawled once


# --- 6: offline ---------------------------------------------------------------------------


def test_offline_names_the_host_and_asks_dns_at_most_twice(tmp_path):
    host = "www.nianbao-first-hour.invalid"
    proc = nianbao("crawl", "--start-url", f"http://{host}/", "--agency", "某局", "--render", "never",
                   "--catalogue", _sqlite(tmp_path), "--store", (tmp_path / "o").as_uri(),
                   env={"NIANBAO_PROGRESS_INTERVAL": "0"}, timeout=300)
    assert proc.returncode == 7, (proc.stdout[-1500:], proc.stderr[-1500:])
    assert f"dns×1 ({host})" in proc.stdout
    assert "offline" in proc.stderr and NO_TRACEBACK not in proc.stderr
    run = Catalogue.open(_sqlite(tmp_path)).runs(limit=1)[0]
    lookups = sum(v for k, v in run.stats.items() if k.startswith("downloader/exception_type_count/"))
    assert lookups <= 3            # robots.txt asked twice (one retry), the page once: not 8 times
    assert run.stats.get("retry/count", 0) <= 1


def test_make_run_offline_ends_without_makes_error_line(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    fake = venv / "bin" / "nianbao"
    fake.write_text("#!/bin/sh\necho 'Harvest summary'\nexit 7\n")
    fake.chmod(0o755)
    (venv / "bin" / "python").symlink_to(os.sys.executable)
    (venv / ".installed-stamp").touch()
    proc = subprocess.run(["make", "-s", "run", f"VENV={venv}"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Error" not in proc.stdout + proc.stderr and "offline" in proc.stdout
    fake.write_text("#!/bin/sh\nexit 1\n")                          # a real failure stays one
    assert subprocess.run(["make", "-s", "run", f"VENV={venv}"], cwd=REPO, capture_output=True,
                          timeout=120).returncode != 0


# --- 7: help and usage --------------------------------------------------------------------


def test_help_has_plain_metavars_and_describes_every_option():
    from crawler import cli_help
    from crawler.cli import app

    assert cli_help.undocumented(app) == []
    for command in (["crawl"], ["runs"], ["schedule"], ["worker"], ["serve"], ["coverage"]):
        text = cli(*command, "--help").stdout
        for python_type in ("<list[str]>", "<int", "<str>", "<bool>", "<path>", "x>=", "range>"):
            assert python_type not in text, (command, python_type)
    crawl = cli("crawl", "--help").stdout
    assert "--max-pages" in crawl and "N [at least 1]" in crawl and "URL" in crawl


def test_version():
    from crawler import __version__

    proc = nianbao("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"nianbao {__version__}"


@pytest.mark.parametrize("args,says", [
    (["crawl", "--start-url", "not-a-url", "--agency", "某局"], "--start-url"),
    (["crawl", "--all", "--start-url", "http://www.x.gov.cn/", "--agency", "某局"], "does not combine"),
    (["crawl", "--all", "--max-pages", "-5"], "--max-pages"),
    (["crawl", "--agency", "某局", "--all"], "give --start-url too"),
    (["crawl", "--render", "sometimes", "--all"], "--render"),
])
def test_usage_errors_are_usage_errors(args, says):
    proc = cli(*args)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert says in proc.stderr and "config error" not in proc.stderr and NO_TRACEBACK not in proc.stderr
    assert "Usage:" in proc.stderr


def test_filters_that_match_nothing_say_so(twice):
    first, _ = twice
    for args in (["runs", "--site", "nosuch"], ["coverage", "--site", "nosuch"], ["owed", "--site", "nosuch"],
                 ["coverage", "--region", "火星"]):
        proc = cli(*args, "--catalogue", first.catalogue_url)
        assert proc.returncode == 2, (args, proc.returncode, proc.stdout[-500:])
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and ("nosuch" in lines[0] or "火星" in lines[0]), lines
