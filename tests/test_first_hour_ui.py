"""Issue 18, points 2, 8 and 9: coverage readable at 80-120 columns and in a log, the demo's world
up to the last year due, the web UI's first hour (local API docs, the archive named, HTML errors,
actions checked), and onboarding portals (`sites add`, `sites schema`, the README's options)."""
from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console

from crawler import coverage_format
from crawler.coverage import STATES, compute

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 12, 2)


@dataclass
class S:
    id: str
    agency: str
    kind: str = "department"
    first_year: int = 2008
    region_name: str | None = "江苏省苏州市"
    region_code: str | None = "320500"


@dataclass
class R:
    site_id: str
    agency: str
    year: int
    id: int
    removed_at: object = None
    versions: int = 1


@dataclass
class M:
    agency: str
    year: int


LONG = "苏州市市场监督管理局政府信息公开平台"


def _coverage():
    sites = [S("sim-hanweb-0-very-long-site-identifier", LONG), S("taicang", "太仓市人民政府", kind="government",
                                                                  first_year=2012)]
    reports = [R("sim-hanweb-0-very-long-site-identifier", LONG, y, id=y) for y in range(2008, 2022)]
    reports += [R("taicang", "太仓市人民政府", 2015, id=1), R("taicang", "太仓市人民政府", 2016, id=2, removed_at=TODAY),
                R("taicang", "太仓市人民政府", 2017, id=3, versions=2), R("taicang", "太仓市人民政府", 2018, id=4)]
    return compute(sites=sites, reports=reports, marks=[M("太仓市人民政府", 2013)], last_outcomes={},
                   today=TODAY, incomplete_ids={4})


def _render(cov, width: int, *, terminal: bool) -> str:
    buf = io.StringIO()
    Console(file=buf, width=width, force_terminal=terminal, color_system=None).print(coverage_format.rich_table(cov))
    return buf.getvalue()


@pytest.mark.parametrize("width,terminal", [(80, True), (100, True), (120, True), (80, False), (160, False)])
def test_coverage_table_readable_at_width(width, terminal):
    cov = _coverage()
    text = _render(cov, width, terminal=terminal)
    lines = text.splitlines()
    from rich.cells import cell_len
    assert all(cell_len(line) <= width for line in lines), max(lines, key=cell_len)
    assert "…" not in text

    def bare(s):
        return re.sub(r"[\s●◐◔✕·?○–0-9]", "", s)
    for name in (LONG, "太仓市人民政府", "taicang", "sim-hanweb-0-very-long-site-identifier"):
        assert bare(name) in bare(text), name            # wrapped, never cut
    head_text = " ".join(lines[1:3])
    for year in cov.years:
        assert re.search(rf"'?{str(year)[2:]}\b", head_text), year
    assert f"{cov.years[0]}–{cov.years[-1]}" in lines[0]
    # every state the rows use has its symbol in the grid, and the legend names all of them
    legend = text[text.index("legend:"):]
    for state in STATES:
        assert f"{coverage_format.SYMBOL[state]} " in legend, state
    assert "(blank) not expected" in legend
    assert "not yet due" in legend and "not applicable" in legend
    assert coverage_format.SYMBOL["not_yet_due"].strip() and \
        coverage_format.SYMBOL["not_yet_due"] != coverage_format.SYMBOL["not_applicable"]


def test_coverage_year_columns_line_up_at_80():
    cov = _coverage()
    lines = _render(cov, 80, terminal=False).splitlines()
    top, bottom = lines[1], lines[2]
    row = next(line for line in lines if line.startswith("太仓市人民政府"))
    start = len(top) - len(top.lstrip())
    for i, year in enumerate(cov.years):
        col = start + 2 * i
        head = top if i % 2 == 0 else bottom
        assert head[col:col + 2] == str(year)[2:], (year, head)
    # taicang: marked 2013 n/a, 2016 removed, 2017 changed, 2018 incomplete, 2026 not yet due
    from rich.cells import cell_len
    offset = cell_len(row) - len(row)           # CJK characters take two cells
    symbols = {year: row[start - offset + 2 * i] for i, year in enumerate(cov.years)}
    sym = coverage_format.SYMBOL
    assert symbols[2011] == " " and symbols[2013] == sym["not_applicable"]
    assert symbols[2016] == sym["removed"] and symbols[2017] == sym["changed"]
    assert symbols[2018] == sym["incomplete"] and symbols[2026] == sym["not_yet_due"]
    assert symbols[2025] == sym["missing"]


def test_markdown_and_csv_keep_their_form():
    cov = _coverage()
    md = coverage_format.as_markdown(cov)
    assert md.splitlines()[0].startswith("| site | agency | 2008 | 2009 |")
    taicang = next(line for line in md.splitlines() if line.startswith("| taicang"))
    assert taicang.endswith("|   |")      # not yet due stays blank in Markdown, as before
    csv_text = coverage_format.as_csv(cov)
    assert csv_text.splitlines()[0].startswith("site_id,agency,region,publisher_id,region_code,2008,")
    assert "not_yet_due" in csv_text


def test_demo_world_covers_every_year_due_today():
    from crawler.demo import demo_last_year, demo_world

    assert demo_last_year(TODAY) == 2025
    assert demo_last_year(date(2026, 1, 15)) == 2024
    world = demo_world("tiny", TODAY)
    years = {t.year for t in world.truth}
    assert max(years) == 2025
    # and a default world is the one the benchmarks and other tests were written against
    import simulator
    assert max(t.year for t in simulator.World(seed=0, size="tiny").truth) == 2024


# --- the web UI (point 8) -------------------------------------------------------------------------

TOKEN = "first hour token"
AGENCY = "江阴区科学技术局"


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    import httpx

    from crawler.web import create_app
    from storage.catalogue import Catalogue
    from storage.objects import open_store
    from tests.web_server import running

    tmp = tmp_path_factory.mktemp("first-hour-web")
    store = open_store(str(tmp / "objects"))
    cat = Catalogue.open(f"sqlite:///{tmp / 'catalogue.sqlite'}")
    cat.upsert_site(site_id="jiangyin-kjj", agency=AGENCY, first_year=2015)
    cat.upsert_report(site_id="jiangyin-kjj", agency=AGENCY, year=2022, title="2022年报",
                      url="http://kjj.jiangyin.gov.cn/2022.html", seen_at=None)
    app = create_app(catalogue=cat, store=store, token=TOKEN, today=TODAY)
    with running(app) as url, httpx.Client(base_url=url, trust_env=False, timeout=30) as client:
        yield client, cat, store
    cat.close()


BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_api_docs_are_served_from_local_assets(web):
    client, _, _ = web
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200
        assert not re.search(r"(?:src|href)=[\"']?(?:https?:)?//", page.text), page.text   # nothing external
        assets = re.findall(r"(?:src|href)=[\"'](/(?:static|apidocs)/[^\"']+)", page.text)
        assert any(a.endswith(".js") for a in assets), page.text
        for asset in assets:
            got = client.get(asset)
            assert got.status_code == 200 and len(got.content) > 1000, asset
    assert client.get("/openapi.json").json()["info"]["title"] == "nianbao"


@pytest.mark.parametrize("path", ["/", "/runs", "/agency?site=jiangyin-kjj&name=" + AGENCY])
def test_every_page_names_the_archive(web, path):
    client, cat, store = web
    page = client.get(path, headers=BROWSER)
    assert page.status_code == 200
    assert cat.url in page.text and store.url in page.text


def test_wrong_token_on_a_form_is_an_html_page(web):
    client, cat, _ = web
    form = {"agency": AGENCY, "year": "2016", "who": "档案员", "why": "机构尚未设立", "token": "wrong",
            "site": "jiangyin-kjj"}
    r = client.post("/marks", data=form, headers=BROWSER, follow_redirects=False)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html")
    assert "token" in r.text and "<h1" in r.text and cat.url in r.text
    bad = client.post("/marks", data={**form, "token": TOKEN, "year": "abc"}, follow_redirects=False)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")
    # the JSON API keeps JSON errors
    api = client.post("/api/marks", json={k: form[k] for k in ("agency", "who", "why")} | {"year": 2016},
                      headers={"X-Nianbao-Token": "wrong"})
    assert api.status_code == 403 and api.json()["detail"]
    assert cat.coverage_marks() == []


@pytest.mark.parametrize("agency,year,why", [
    ("不存在的机关", 2016, "no agency"),
    (AGENCY, 2010, "2010"),          # before the site's first year: no such cell
    (AGENCY, 2030, "2030"),          # after today's year
])
def test_mark_not_applicable_refuses_what_does_not_exist(web, agency, year, why):
    client, cat, _ = web
    form = {"agency": agency, "year": str(year), "who": "档案员", "why": "x", "token": TOKEN, "site": "jiangyin-kjj"}
    r = client.post("/marks", data=form, headers=BROWSER, follow_redirects=False)
    assert r.status_code == 422 and why in r.text, r.text[-500:]
    api = client.post("/api/marks", json={"agency": agency, "year": year, "who": "a", "why": "b"},
                      headers={"X-Nianbao-Token": TOKEN})
    assert api.status_code == 422 and why in api.json()["detail"]
    assert cat.coverage_marks() == []
    ok = client.post("/marks", data={**form, "agency": AGENCY, "year": "2016"}, follow_redirects=False)
    assert ok.status_code == 303
    assert cat.clear_coverage_mark(agency=AGENCY, year=2016)


def test_mark_na_cli_refuses_a_year_with_no_cell(web):
    from typer.testing import CliRunner

    from crawler.cli import app

    _, cat, _ = web
    r = CliRunner().invoke(app, ["mark-na", AGENCY, "2009", "--who", "a", "--why", "b", "--catalogue", cat.url])
    assert r.exit_code == 2 and "2009" in r.output
    assert cat.coverage_marks() == []


# --- onboarding portals (point 9) -----------------------------------------------------------------

def test_sites_schema_is_a_json_schema_of_site_files():
    from crawler.siteconfig import SiteConfig
    from tests.harness import nianbao

    r = nianbao("sites", "schema")
    assert r.returncode == 0, r.stderr
    schema = json.loads(r.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert set(schema["required"]) == {"id", "agency", "start_urls"}
    assert set(schema["properties"]) == set(SiteConfig.model_fields)
    hints = schema["$defs"]["Hints"]["properties"]["cms"]
    assert "hanweb" in json.dumps(hints)                    # valid hints values are in the schema
    assert schema["properties"]["timezone"]["default"] == "Asia/Shanghai"
    assert "discovered" in schema["$defs"]["Verification"]["properties"]
    for name, prop in schema["properties"].items():
        assert prop.get("description"), name               # every option says what it is
    # every shipped site file is valid against it, as far as a plain JSON reading goes
    import yaml
    for path in (ROOT / "sites").glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert set(data) <= set(schema["properties"]), path


def test_readme_lists_every_site_option_with_its_default():
    from crawler.siteconfig import option_rows, options_table

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    begin, end = "<!-- site-options:begin -->", "<!-- site-options:end -->"
    assert begin in readme and end in readme
    block = readme[readme.index(begin) + len(begin):readme.index(end)].strip("\n")
    assert block == options_table().strip("\n"), (
        "README's site options table is stale: paste the output of "
        "`.venv/bin/python -c 'from crawler.siteconfig import options_table; print(options_table())'`")
    for key, _kind, default, _text in option_rows():
        assert f"| `{key}` |" in block, key


def test_schedule_reads_cron_in_the_site_time_zone():
    from datetime import datetime, timedelta, timezone

    from crawler.schedule import LastRun, is_due
    from crawler.siteconfig import ConfigError, parse_site

    now = datetime(2026, 3, 2, 3, 30, tzinfo=timezone.utc)     # Monday 03:30 UTC = 11:30 in Shanghai
    last = LastRun(datetime(2026, 3, 1, 20, 0, tzinfo=timezone.utc), "ok")   # Sunday 20:00 UTC
    # "0 3 * * 1": Monday 03:00. In Shanghai that was Sunday 19:00 UTC, before the last run: not due.
    assert is_due("0 3 * * 1", last, now, tz="Asia/Shanghai") is False
    assert is_due("0 3 * * 1", last, now, tz="UTC") is True
    assert is_due("0 3 * * 1", LastRun(now - timedelta(hours=9), "ok"), now, tz="Asia/Shanghai") is True
    site = parse_site({"id": "x", "agency": "某局", "start_urls": ["http://x.gov.cn/"], "schedule": "0 3 * * 1"})
    assert site.timezone == "Asia/Shanghai"
    with pytest.raises(ConfigError) as bad:
        parse_site({"id": "x", "agency": "某局", "start_urls": ["http://x.gov.cn/"], "timezone": "Mars/Olympus"})
    assert bad.value.problems[0][1] == "timezone"


def test_adhoc_kind_and_first_year_reach_the_catalogue(tmp_path):
    import simulator
    from storage.catalogue import Catalogue
    from tests.harness import nianbao

    world = simulator.World(seed=0, size="tiny")
    portal = next(p for p in world.portals if p.family == "static")
    cat_url = f"sqlite:///{tmp_path / 'cat.sqlite'}"
    with simulator.serve(world) as server:
        r = nianbao("crawl", "--start-url", portal.start_url, "--agency", portal.agency, "--id", "adhoc-x",
                    "--kind", "government", "--first-year", "2016", "--max-pages", "3", "--proxy", server.proxy_url,
                    "--catalogue", cat_url, "--store", str(tmp_path / "objects"), timeout=300)
    assert r.returncode in (0, 4), r.stderr[-2000:]
    cat = Catalogue.open(cat_url)
    site = next(s for s in cat.sites() if s.id == "adhoc-x")
    assert (site.kind, site.first_year) == ("government", 2016)
    run = cat.runs(site_id="adhoc-x")[0]
    assert run.stats["nianbao/schedule/timezone"] == "Asia/Shanghai"     # the zone kept with the run
    bad = nianbao("crawl", "--start-url", portal.start_url, "--agency", portal.agency, "--kind", "ministry")
    assert bad.returncode == 2 and "--kind" in bad.stderr


def test_agency_from_a_home_page_title():
    from crawler.sitediscovery import agency_from_title

    assert agency_from_title("<title>永定市人民政府门户网站</title>".encode()) == "永定市人民政府"
    assert agency_from_title("<title>首页 - 惠东县商务局</title>".encode()) == "惠东县商务局"
    gbk = '<meta charset="gbk"><title>青川市卫生健康委员会</title>'.encode("gbk")
    assert agency_from_title(gbk) == "青川市卫生健康委员会"
    assert agency_from_title(b"<title>Welcome</title>") is None


SIM_FAMILIES = ("hanwebxxgk", "picker_select")


def test_sites_add_on_the_simulator_writes_files_that_find_every_report(tmp_path):
    """Discovery crawl of ad hoc portals (one agency from a CSV, one from the home page's title), the
    report it prints, the site files it writes; then those files crawled into a new archive find
    every true report of the portals, each with its year and agency."""
    import yaml

    from simulator import adhoc_world, serve
    from storage.catalogue import Catalogue
    from tests.harness import nianbao

    world = adhoc_world(seed=0)
    portals = [next(p for p in world.portals if p.family == f) for f in SIM_FAMILIES]
    csv_file = tmp_path / "portals.csv"
    csv_file.write_text("url,agency\n" + f"{portals[0].start_url},{portals[0].agency}\n", encoding="utf-8")
    out = tmp_path / "sites"
    with serve(world) as server:
        add = nianbao("sites", "add", portals[1].start_url, "--from-csv", str(csv_file), "--out-dir", str(out),
                      "--proxy", server.proxy_url, "--catalogue", f"sqlite:///{tmp_path / 'discovery.sqlite'}",
                      "--store", str(tmp_path / "discovery-objects"), timeout=600)
        assert add.returncode == 0, add.stdout[-3000:] + add.stderr[-3000:]
        files = sorted(out.glob("*.yaml"))
        assert len(files) == 2
        for f in files:
            data = yaml.safe_load(f.read_text(encoding="utf-8"))
            assert data["verification"]["verified"] is False and data["verification"]["discovered"]
            assert "not checked by a person" in data["verification"]["note"]
        assert "年报 columns" in add.stdout and "reports per year" in add.stdout and "browser:" in add.stdout
        assert "CMS family: hanweb" in add.stdout
        assert f"agency {portals[1].agency}" in add.stderr            # read from the home page's title
        crawl = nianbao("crawl", "--all", "--sites-dir", str(out), "--proxy", server.proxy_url,
                        "--catalogue", f"sqlite:///{tmp_path / 'check.sqlite'}",
                        "--store", str(tmp_path / "check-objects"), timeout=600)
    assert crawl.returncode == 0, crawl.stdout[-3000:] + crawl.stderr[-3000:]
    cat = Catalogue.open(f"sqlite:///{tmp_path / 'check.sqlite'}")
    found = {(r.agency, r.year) for r in cat.reports() if r.removed_at is None}
    truth = {(t.agency, t.year) for t in world.truth if t.site_id in {p.site_id for p in portals}}
    assert truth <= found, sorted(truth - found)
    assert {s.id for s in cat.sites()} == {f.stem for f in files}


# The two quickest portals (distractors; <base href>, a <select> of years, GBK URLs): the test's time.
# All eleven, p06's directory platform among them, are run by hand (README: sites add).
FARM_PORTALS = ("p07", "p11")
FARM_START = __import__("threading").Lock()      # one farm starts at a time: never the same free ports


def _farm_discover_and_check(pids, workdir: Path) -> dict:
    """`sites add` of the portals at once on a fresh farm (one discovery crawl process, as a user
    adding a list would), then the written files crawled with `crawl --all` on another fresh farm on
    the same ports (some portals keep state per farm process), scored by the farm's own scorer."""
    from tests import farmdev
    from tests.harness import nianbao

    pids = [pids] if isinstance(pids, str) else list(pids)
    first = farmdev.Farm(workdir / "discover")
    with FARM_START:
        first.__enter__()
    try:
        portals = [next(p for p in first.manifest["portals"] if p["id"] == pid) for pid in pids]
        csv_file = workdir / "portals.csv"
        csv_file.write_text("url,agency,allow\n" + "".join(
            f"{p['start_url']},{p['agencies'][0]},{' '.join(p['allowed_hosts'])}\n" for p in portals),
            encoding="utf-8")
        add = nianbao("sites", "add", "--from-csv", str(csv_file), "--out-dir", str(workdir / "sites"),
                      "--catalogue", f"sqlite:///{workdir / 'discovery.sqlite'}",
                      "--store", str(workdir / "discovery-objects"), timeout=900)
    finally:
        first.__exit__(None, None, None)
    second = farmdev.Farm(workdir / "check")
    second.base = first.base
    with FARM_START:
        second.__enter__()
    try:
        assert second.base == first.base
        data = workdir / "check"
        crawl = nianbao("crawl", "--all", "--sites-dir", str(workdir / "sites"),
                        "--catalogue", f"sqlite:///{data / 'catalogue.db'}", "--store", str(data / "objects"),
                        timeout=900)
        export = data / "export.jsonl"
        nianbao("export", "-o", str(export), "--catalogue", f"sqlite:///{data / 'catalogue.db'}",
                "--store", str(data / "objects"))
        scored = farmdev.score(second, [export], data / "score")
    finally:
        second.__exit__(None, None, None)
    from crawler.siteconfig import adhoc_id

    files = {p["id"]: workdir / "sites" / f"{adhoc_id(p['start_url'])}.yaml" for p in portals}
    return {"add": add, "crawl": crawl, "score": scored, "files": files}


@pytest.fixture(scope="module")
def farm_added(tmp_path_factory):
    from tests import farmdev

    if not farmdev.available():
        pytest.skip("../shared/farm-dev is not here")
    return _farm_discover_and_check(FARM_PORTALS, tmp_path_factory.mktemp("farm-sites-add"))


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("pid", FARM_PORTALS)
def test_sites_add_on_the_farm_writes_files_that_find_every_report(farm_added, pid):
    import yaml

    from tests import farmdev

    got = farm_added
    assert got["add"].returncode == 0, got["add"].stdout[-3000:] + got["add"].stderr[-3000:]
    assert all(path.exists() for path in got["files"].values()), got["files"]
    data = yaml.safe_load(got["files"][pid].read_text(encoding="utf-8"))
    assert data["verification"]["discovered"] and data["verification"]["verified"] is False
    assert got["crawl"].returncode == 0, got["crawl"].stdout[-3000:] + got["crawl"].stderr[-3000:]
    result = got["score"]
    row = farmdev.portal_row(result, pid)
    assert row["recall"] == 1.0, [m for m in result["missed"] if m["portal"] == pid]
    assert not [f for f in result["false_positives"] if f.get("portal") == pid]


def test_findings_of_a_directory_platform():
    """What `sites add` reads from the catalogue: columns from the captures' source pages, CMS from
    the run's stats, other publishers as a directory platform's departments, the browser."""
    from types import SimpleNamespace as NS

    from crawler.siteconfig import adhoc_site
    from crawler.sitediscovery import describe, findings, site_file

    site = adhoc_site(start_url="http://www.qh.gov.cn/", agency="清河市人民政府", kind="government")
    reports = [NS(url=f"http://www.qh.gov.cn/bm/{d}/{y}.html", agency=a, year=y, removed_at=None)
               for d, a in (("szf", "清河市人民政府"), ("jyj", "清河市教育局"), ("mzj", "清河市民政局"))
               for y in (2017, 2018)]
    captures = [NS(url=r.url, source_page=r.url.rsplit("/", 1)[0] + "/xxgknb/index.html") for r in reports]
    stats = {"nianbao/pages": 40, "nianbao/family/trs": 12, "nianbao/family/hanweb": 1, "nianbao/render/pages": 2,
             "nianbao/widen/columns/requests": 5}
    catalogue = NS(runs=lambda site_id, limit: [NS(id=1, stats=stats, outcome="ok")],
                   reports=lambda site_id: reports, captures=lambda run_id: captures)
    f = findings(catalogue, site)
    assert f.family == "trs" and f.browser_needed and f.reports == 6
    assert dict(f.departments) == {"清河市教育局": 2, "清河市民政局": 2}
    assert ("http://www.qh.gov.cn/bm/jyj/xxgknb/index.html", 2) in f.columns
    text = "\n".join(describe(f))
    assert "directory platform: 2 other publisher(s)" in text and "reports per year: 2017 3, 2018 3" in text
    data = site_file(f, today=TODAY)
    assert data["hints"] == {"cms": "trs", "directory": True} and data["first_year"] == 2017
    assert data["kind"] == "government"
    assert data["verification"] == {"verified": False, "discovered": "2026-12-02",
                                    "note": data["verification"]["note"]}


def test_coverage_command_in_a_log_names_years_agencies_and_the_legend(web):
    from typer.testing import CliRunner

    from crawler.cli import app

    _, cat, _ = web
    r = CliRunner().invoke(app, ["coverage", "--catalogue", cat.url, "--today", TODAY.isoformat()])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].startswith("Coverage 2015–2026")
    header = " ".join(lines[1:3])
    assert all(str(y)[2:] in header for y in range(2015, 2027)), header
    assert AGENCY in r.output and "jiangyin-kjj" in r.output
    assert "legend:" in r.output and "○ not yet due" in r.output and "(blank) not expected" in r.output


def test_demo_says_how_to_open_its_archive():
    from crawler.demo import serve_hint

    hint = serve_hint("sqlite:////data/demo/catalogue.sqlite", "file:///data/demo/objects")
    assert hint.endswith("nianbao serve --catalogue sqlite:////data/demo/catalogue.sqlite "
                         "--store file:///data/demo/objects")
    import inspect

    from crawler import demo
    assert "serve_hint(catalogue_url, store_url)" in inspect.getsource(demo.run_demo)
