"""`nianbao publishers ...` and coverage by publisher, in-process (Typer's runner), offline."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date

import pytest
from typer.testing import CliRunner

from crawler.cli import app
from crawler.coverage import compute, region_levels
from storage.catalogue import Catalogue

runner = CliRunner()
TODAY = "2026-06-01"
ZJJ = "江阴市住房和城乡建设局"


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    """The seed loaded through the CLI, then a crawl's worth of rows: 江阴's government site whose
    reports print its housing bureau three ways, and a Wuxi department site."""
    url = f"sqlite:///{tmp_path_factory.mktemp('pub') / 'c.sqlite'}"
    r = run("publishers", "load-divisions", "--catalogue", url)
    assert r.exit_code == 0 and "new" in r.output, r.output
    with Catalogue.open(url) as cat:
        cat.upsert_site(site_id="jy", agency="江阴市人民政府", kind="government", region_code="320281",
                        first_year=2022)
        cat.upsert_site(site_id="wx-tjj", agency="无锡市统计局", kind="department", region_code="320200",
                        first_year=2022)
        for year, printed in ((2022, ZJJ), (2023, "市住建局"), (2024, "住建局")):
            cat.upsert_report(site_id="jy", agency=ZJJ, year=year, title=f"{year}年报", url=f"http://jy/{year}",
                              publisher={"name": ZJJ, "printed": printed, "source": "page_field",
                                         "kind": "department", "region_code": "320281",
                                         "parent": "江阴市人民政府",
                                         "evidence": [{"source": "page_field", "text": printed}], "conflict": None})
        cat.upsert_report(site_id="jy", agency="江阴市人民政府", year=2023, title="2023年报", url="http://jy/gov")
    return url


def coverage(url, *extra):
    r = run("coverage", "--format", "json", "--today", TODAY, "--catalogue", url, *extra)
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_three_spellings_are_one_row(url):
    doc = coverage(url, "--site", "jy")
    rows = {}
    for c in doc["cells"]:
        rows.setdefault(c["agency"], {})[c["year"]] = c["state"]
    assert set(rows) == {"江阴市人民政府", ZJJ}
    assert [rows[ZJJ][y] for y in (2022, 2023, 2024)] == ["found"] * 3
    cell = next(c for c in doc["cells"] if c["agency"] == ZJJ)
    assert cell["region_code"] == "320281" and cell["publisher_id"]


def test_region_lists_the_provinces_governments_with_those_lacking_a_site(url):
    doc = coverage(url, "--region", "320000")
    no_site = {r["agency"]: r for r in doc["no_site"]}
    with Catalogue.open(url) as cat:
        jiangsu = {p.name for p in cat.publishers(region="320000") if p.kind.endswith("_government")}
    assert "江阴市人民政府" not in no_site and "江苏省人民政府" in no_site and "无锡市人民政府" in no_site
    assert set(no_site) == jiangsu - {"江阴市人民政府"}
    assert all(r["region_code"].startswith("32") and r["state"] == "no site" for r in no_site.values())
    groups = {(g["level"], g["code"]): g for g in doc["groups"]}
    assert groups[("province", "320000")]["no_site"] == len(no_site)
    assert groups[("county", "320281")]["publishers"] == 2          # the government and its bureau
    assert groups[("prefecture", "320200")]["publishers"] == 3       # and the Wuxi statistics bureau
    table = run("coverage", "--region", "320000", "--today", TODAY, "--catalogue", url)
    assert "320500 苏州市人民政府: no site" in table.output and "county 320281 江阴市" in table.output
    assert "浙江" not in json.dumps(doc, ensure_ascii=False)


def test_svg_lists_no_site_governments(url, tmp_path):
    target = tmp_path / "c.svg"
    r = run("coverage", "--region", "320200", "--image", str(target), "--today", TODAY, "--catalogue", url)
    assert r.exit_code == 0, r.output
    root = ET.fromstring(target.read_text(encoding="utf-8"))
    listed = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("data-no-site")]
    assert any("宜兴市人民政府" in t for t in listed) and not any("江阴" in t for t in listed)


def test_list_show_merge_and_undo(url):
    r = run("publishers", "list", "--region", "320281", "--catalogue", url)
    assert r.exit_code == 0 and ZJJ in r.output and "2 publisher(s)" in r.output, r.output
    r = run("publishers", "show", ZJJ, "--catalogue", url)
    assert "住建局\tpage_field\tjy" in r.output and "year 2024\t1 report(s)" in r.output, r.output
    merged = run("publishers", "merge", ZJJ, "江阴市人民政府", "--who", "甲", "--why", "test", "--catalogue", url)
    assert merged.exit_code == 0, merged.output
    action = merged.output.split("(action ")[1].split(";")[0]
    assert ZJJ not in {c["agency"] for c in coverage(url, "--site", "jy")["cells"]}
    r = run("publishers", "undo", action, "--who", "乙", "--why", "oops", "--catalogue", url)
    assert r.exit_code == 0, r.output
    assert ZJJ in {c["agency"] for c in coverage(url, "--site", "jy")["cells"]}
    r = run("publishers", "show", ZJJ, "--catalogue", url)
    assert f"undone by" in r.output


@pytest.mark.parametrize("args,code,message", [
    (["publishers", "show", "不存在的局"], 2, "no publisher"),
    (["publishers", "merge", ZJJ, ZJJ, "--who", "a", "--why", "b"], 2, "into itself"),
    (["publishers", "undo", "999999", "--who", "a", "--why", "b"], 2, "no action"),
    (["publishers", "list", "--kind", "ministry"], 2, "--kind"),
    (["publishers", "list", "--region", "江苏"], 2, "--region"),
    (["publishers", "mark", ZJJ, "--who", "a", "--why", "b"], 2, "--created"),
    (["publishers", "mark", ZJJ, "--created", "1800", "--who", "a", "--why", "b"], 2, "out of range"),
])
def test_errors_are_one_line(url, args, code, message):
    r = runner.invoke(app, [*args, "--catalogue", url])
    assert r.exit_code == code, r.output
    assert message in r.output and "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1


@pytest.mark.parametrize("code,levels", [
    ("320000", {"province": "320000"}),
    ("320200", {"province": "320000", "prefecture": "320200"}),
    ("320281", {"province": "320000", "prefecture": "320200", "county": "320281"}),
    ("419001", {"province": "410000", "prefecture": "419000", "county": "419001"}),
    ("320281100", {"province": "320000", "prefecture": "320200", "county": "320281"}),
    (None, {}), ("abc", {}),
])
def test_region_grouping(code, levels):
    assert region_levels(code) == levels


@dataclass
class S:
    id: str
    agency: str
    kind: str = "department"
    first_year: int = 2024
    region_name: str | None = None
    region_code: str | None = None
    publisher_id: int | None = None


@dataclass
class R:
    site_id: str
    agency: str
    year: int
    id: int
    publisher_id: int | None = None
    versions: int = 1
    removed_at: None = None


@dataclass
class P:
    id: int
    name: str
    kind: str
    region_code: str | None = None
    created_year: int | None = None
    abolished_year: int | None = None
    merged_into_id: int | None = None


@pytest.mark.parametrize("kind,deadline_kind", [
    ("county_government", "government"), ("township_government", "government"),
    ("department", "department"), ("subdistrict_office", "department"), ("zone_committee", "department"),
    ("other", "department"),     # falls back to the name, which says 局
])
def test_deadline_kind_of_a_publisher(kind, deadline_kind):
    cov = compute(sites=[S("a", "某县人民政府", kind="government", publisher_id=1)],
                  reports=[R("a", "某县某局", 2024, 7, publisher_id=2)],
                  publishers=[P(1, "某县人民政府", "county_government"), P(2, "某县某局", kind)],
                  marks=[], last_outcomes={}, today=date(2026, 2, 15))
    assert {r.agency: r.kind for r in cov.rows}["某县某局"] == deadline_kind


def test_one_row_across_sites_and_years_outside_active_ones_are_not_applicable():
    cov = compute(sites=[S("a", "甲", publisher_id=1, first_year=2020), S("b", "乙", publisher_id=2, first_year=2020)],
                  reports=[R("a", "县住建局", 2021, 1, publisher_id=3), R("b", "某县住房和城乡建设局", 2022, 2, publisher_id=3)],
                  publishers=[P(1, "甲", "department"), P(2, "乙", "department"),
                              P(3, "某县住房和城乡建设局", "department", created_year=2021, abolished_year=2023)],
                  marks=[], last_outcomes={}, today=date(2026, 2, 15))
    row = next(r for r in cov.rows if r.publisher_id == 3)
    assert len([r for r in cov.rows if r.publisher_id == 3]) == 1 and row.sites == ["a", "b"]
    assert row.cells[2020] == "not_applicable" and row.cells[2021] == row.cells[2022] == "found"
    assert row.cells[2023] == "missing" and row.cells[2024] == "not_applicable"
