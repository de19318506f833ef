"""`nianbao coverage`, `nianbao mark-na` and the SVG heatmap, on a catalogue filled by hand.

Commands run in-process through Typer's runner: none of them starts Scrapy.
"""
from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date

import pytest
from typer.testing import CliRunner

from crawler.cli import app
from crawler.coverage import agency_kind, compute
from storage.catalogue import Catalogue
from storage.objects import open_store, put_content

TODAY = "2026-02-15"   # the 2025 department reports are due (31 Jan), the government one not yet (31 Mar)
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def cat_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    cat = Catalogue.open(url)
    store = open_store((tmp_path / "objects").as_uri())
    cat.upsert_site(site_id="dept", agency="某市统计局", kind="department", first_year=2022,
                    region_name="浙江省某市", region_code="330100")
    cat.upsert_site(site_id="gov", agency="某县人民政府", kind="government", first_year=2023,
                    region_name="江苏省某县", region_code="320500")
    cat.upsert_site(site_id="down", agency="某区发展和改革局", kind="department", first_year=2024)
    for site in ("dept", "gov", "down"):
        run_id = cat.start_run(site_id=site, config_hash=None, software_version="t")
        cat.finish_run(run_id=run_id, outcome="failed" if site == "down" else "ok")
    run_id = cat.start_run(site_id="dept", config_hash=None, software_version="t")

    def file(site, agency, year, url, data):
        key, sha, size = put_content(store, data)
        cat.record_blob(sha256=sha, size=size, storage_key=key)
        rid, _ = cat.upsert_report(site_id=site, agency=agency, year=year, title=f"{year}年报", url=url)
        cat.add_capture(run_id=run_id, site_id=site, report_id=rid, url=url, sha256=sha, size=size,
                        storage_key=key, kind="attachment", is_report=True)
        return rid

    file("dept", "某市统计局", 2022, "http://a/2022.pdf", b"2022 v1")
    file("dept", "某市统计局", 2022, "http://a/2022.pdf", b"2022 v2")        # changed since first seen
    rid = file("dept", "某市统计局", 2023, "http://a/2023.html", b"2023")
    file("dept", "某市统计局", 2023, "http://a/2023.pdf", b"2023 attachment")  # two files: still "found"
    file("dept", "某市统计局", 2025, "http://a/2025.pdf", b"2025")
    cat.mark_missing(site_id="dept", seen_urls=["http://a/2022.pdf", "http://a/2023.html", "http://a/2023.pdf"])
    file("gov", "某县人民政府", 2023, "http://g/2023.pdf", b"g2023")
    file("gov", "某县交通运输局", 2024, "http://g/jt2024.pdf", b"jt2024")       # a department on the county site
    assert rid
    cat.close()
    return url


EXPECTED = {  # (site, agency, year) -> state, as of TODAY
    ("dept", "某市统计局", 2022): "changed",
    ("dept", "某市统计局", 2023): "found",
    ("dept", "某市统计局", 2024): "missing",
    ("dept", "某市统计局", 2025): "removed",
    ("dept", "某市统计局", 2026): "not_yet_due",
    ("gov", "某县人民政府", 2023): "found",
    ("gov", "某县人民政府", 2024): "missing",
    ("gov", "某县人民政府", 2025): "not_yet_due",     # governments: 31 March
    ("gov", "某县交通运输局", 2023): "missing",
    ("gov", "某县交通运输局", 2024): "found",
    ("gov", "某县交通运输局", 2025): "missing",       # departments: 31 January, even on a government site
    ("down", "某区发展和改革局", 2024): "unreachable",
    ("down", "某区发展和改革局", 2025): "unreachable",
}


def cells(url, *extra):
    result = run("coverage", "--format", "json", "--today", TODAY, "--catalogue", url, *extra)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    return doc, {(c["site_id"], c["agency"], c["year"]): c["state"] for c in doc["cells"]}


def test_json_matrix_totals_and_gaps(cat_url):
    doc, got = cells(cat_url)
    assert {k: v for k, v in got.items() if k in EXPECTED} == EXPECTED
    assert {v for k, v in got.items() if k not in EXPECTED} == {"not_yet_due"}   # only 2026 is left
    assert doc["totals"]["found"] == 3 and doc["totals"]["changed"] == 1 and doc["totals"]["removed"] == 1
    gaps = {(g["site_id"], g["agency"], g["year"], g["state"]) for g in doc["gaps"]}
    assert gaps == {(*k, v) for k, v in EXPECTED.items() if v in ("missing", "unreachable", "removed")}


@pytest.mark.parametrize("flag,value,sites", [
    ("--site", "gov", {"gov"}),
    ("--region", "浙江", {"dept"}),
    ("--region", "3205", {"gov"}),
])
def test_filters(cat_url, flag, value, sites):
    doc, _ = cells(cat_url, flag, value)
    assert {c["site_id"] for c in doc["cells"]} == sites


def test_filter_matching_nothing_says_so(cat_url):
    # issue 18 point 7: a filter that matches nothing is a usage error, not an empty table
    r = run("coverage", "--region", "西藏", "--format", "json", "--catalogue", cat_url)
    assert r.exit_code == 2, r.output


def test_mark_na_shows_in_coverage_and_can_be_cleared(cat_url):
    r = run("mark-na", "某县交通运输局", "2023", "--who", "档案员甲", "--why", "2024年新设立",
            "--catalogue", cat_url)
    assert r.exit_code == 0, r.output
    _, got = cells(cat_url)
    assert got[("gov", "某县交通运输局", 2023)] == "not_applicable"
    mark = Catalogue.open(cat_url).coverage_marks()[0]
    assert (mark.who, mark.why) == ("档案员甲", "2024年新设立")
    r = run("mark-na", "某县交通运输局", "2023", "--who", "x", "--why", "y", "--clear", "--catalogue", cat_url)
    assert r.exit_code == 0
    _, got = cells(cat_url)
    assert got[("gov", "某县交通运输局", 2023)] == "missing"


@pytest.mark.parametrize("args,code,message", [
    (["mark-na", "不存在的局", "2020", "--who", "a", "--why", "b"], 2, "unknown agency"),
    (["mark-na", "某市统计局", "1800", "--who", "a", "--why", "b"], 2, "out of range"),
    (["coverage", "--format", "xml"], 2, "--format"),
    (["coverage", "--today", "yesterday"], 2, "--today"),
    (["coverage", "--image", "/nonexistent-dir/x.svg"], 1, "--image"),
])
def test_usage_errors_are_one_line(cat_url, args, code, message):
    result = runner.invoke(app, [*args, "--catalogue", cat_url])
    assert result.exit_code == code, result.output
    assert message in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("fmt,check", [
    ("csv", lambda out: next(csv.reader(io.StringIO(out)))[:3] == ["site_id", "agency", "region"]),
    ("md", lambda out: out.startswith("| site | agency |") and "Gaps:" in out and "某市统计局 2024: missing" in out),
    ("table", lambda out: "某县人民政府" in out and "gaps (" in out),
])
def test_other_formats(cat_url, fmt, check):
    result = run("coverage", "--format", fmt, "--today", TODAY, "--catalogue", cat_url)
    assert result.exit_code == 0 and check(result.output), result.output


def test_svg_heatmap_cells_match_the_matrix(cat_url, tmp_path):
    target = tmp_path / "heatmap.svg"
    result = run("coverage", "--image", str(target), "--today", TODAY, "--catalogue", cat_url)
    assert result.exit_code == 0, result.output
    root = ET.fromstring(target.read_text(encoding="utf-8"))   # well-formed XML
    rects = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("data-state")]
    doc, _ = cells(cat_url)
    by_state: dict[str, int] = {}
    for r in rects:
        by_state[r.get("data-state")] = by_state.get(r.get("data-state"), 0) + 1
    assert by_state == {k: v for k, v in doc["totals"].items() if v}
    assert "某县交通运输局" in target.read_text(encoding="utf-8")


@dataclass
class Site:
    id: str
    agency: str
    kind: str


@pytest.mark.parametrize("agency,site_kind,expected", [
    ("某县人民政府", "government", "government"),          # the site's own agency: configured kind
    ("某市统计局", "department", "department"),
    ("某县交通运输局", "government", "department"),        # departments listed on a government platform
    ("某县某镇人民政府", "government", "government"),       # township governments on a county platform
    ("某县人民政府办公室", "government", "department"),     # the government's office is a department
    ("某市发展和改革委员会", "government", "department"),
])
def test_agency_kind(agency, site_kind, expected):
    site = Site("s", "某县人民政府" if site_kind == "government" else "某市统计局", site_kind)
    assert agency_kind(agency, site) == expected


@dataclass
class R:
    site_id: str
    agency: str
    year: int
    id: int
    versions: int = 1
    removed_at: None = None


@dataclass
class S:
    id: str
    agency: str
    kind: str = "department"
    first_year: int = 2024
    region_name: str | None = None
    region_code: str | None = None


@pytest.mark.parametrize("versions,changed_ids,state", [
    (2, None, "changed"),        # without capture evidence, versions decide (older catalogues)
    (1, None, "found"),
    (2, set(), "found"),         # two files of one report are not two versions
    (1, {7}, "changed"),
])
def test_changed_comes_from_captures_when_known(versions, changed_ids, state):
    cov = compute(sites=[S("a", "甲局")], reports=[R("a", "甲局", 2024, 7, versions)], marks=[],
                  last_outcomes={}, today=date(2026, 2, 15), changed_ids=changed_ids)
    assert cov.rows[0].cells[2024] == state
