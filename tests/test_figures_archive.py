"""Statistics wired into the archive (issue 19): archived report files read by the real figures.extract
through `nianbao stats extract`, on SQLite and PostgreSQL; idempotency, a version bump that rewrites
only what changed, the change feed, export (csv, jsonl, parquet) with provenance and checks, the
JSON API, the report page with its tables and failed checks, coverage shaded by a figure."""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json

import httpx
import pytest
from typer.testing import CliRunner

import figures
from crawler import statsrun
from crawler.cli import app as cli_app
from crawler.web import create_app
from storage.catalogue import Catalogue
from storage.objects import content_key, open_store, put_content
from tests.shared import SHARED
from tests.web_server import running

REAL = SHARED / "real-reports"
PDF = REAL / "hzq2024.pdf"
NEW_CASES = "table3/一、本年新收/总计"
# A report before 2019: free text, figures stated in sentences.
TEXT_2015 = ("<html><head><title>某局2015年政府信息公开工作年度报告</title></head><body><h1>某局2015年政府信息公开工作年度报告</h1>"
             "<p>2015年，我局主动公开政府信息1974条。全年受理依申请公开信息2件，均已按时答复。</p></body></html>").encode()
# A page that only links its PDF: nothing to read, and not read again.
LINK_PAGE = ("<html><head><title>2024年政府信息公开工作年度报告</title></head><body>"
             "<a href='hzq2024.pdf'>2024年政府信息公开工作年度报告</a></body></html>").encode()

runner = CliRunner()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def catalogue_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    return request.getfixturevalue("pg_url")


def _add(cat, store, *, run_id, url, data, ctype, year, kind="attachment", filename=None, agency="淮安市洪泽区人民政府",
         report_url=None):
    key, sha, size = put_content(store, data, content_type=ctype)
    cat.record_blob(sha256=sha, size=size, storage_key=key, content_type=ctype)
    rid, _ = cat.upsert_report(site_id="hzq", agency=agency, year=year, title=f"{year}年政府信息公开工作年度报告",
                               url=report_url or url)
    cid = cat.add_capture(run_id=run_id, site_id="hzq", report_id=rid, url=url, final_url=url, status=200,
                          sha256=sha, size=size, storage_key=key, content_type=ctype, filename=filename,
                          kind=kind, is_report=True)
    return rid, cid, sha


@pytest.fixture
def archive(catalogue_url, tmp_path):
    """A catalogue and store holding the real 2024 report (its page and its PDF), a 2015 text report
    and, when the simulator makes them, statistics tables in other formats."""
    cat = Catalogue.open(catalogue_url)
    store = open_store((tmp_path / "objects").as_uri())
    cat.upsert_site(site_id="hzq", agency="淮安市洪泽区人民政府", kind="government", region_code="320813",
                    region_name="江苏省淮安市洪泽区", first_year=2014)
    run_id = cat.start_run(site_id="hzq", config_hash=None, software_version="test")
    page = "http://www.hongze.gov.cn/xxgk/2024nb.html"
    ids = {}
    ids["page"] = _add(cat, store, run_id=run_id, url=page, data=LINK_PAGE, ctype="text/html", year=2024, kind="page")
    ids["pdf"] = _add(cat, store, run_id=run_id, url="http://www.hongze.gov.cn/xxgk/hzq2024.pdf", report_url=page,
                      data=PDF.read_bytes(), ctype="application/pdf", year=2024, filename="hzq2024.pdf")
    ids["text"] = _add(cat, store, run_id=run_id, url="http://www.hongze.gov.cn/xxgk/2015nb.html", data=TEXT_2015,
                       ctype="text/html", year=2015, kind="page")
    # An unchanged recrawl of the PDF: the same bytes, a new capture; read once, not twice.
    cat.add_capture(run_id=run_id, site_id="hzq", report_id=ids["pdf"][0], url="http://www.hongze.gov.cn/xxgk/hzq2024.pdf",
                    status=200, sha256=ids["pdf"][2], size=PDF.stat().st_size,
                    storage_key=content_key(ids["pdf"][2]),
                    content_type="application/pdf", filename="hzq2024.pdf", kind="attachment", is_report=True)
    yield cat, store, ids
    cat.close()


def _stats(cat, store, *args) -> dict:
    result = runner.invoke(cli_app, ["stats", "extract", "--format", "json", "--catalogue",
                                     cat.engine.url.render_as_string(hide_password=False), "--store", store.url, *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def _figure_changes(cat) -> list[int]:
    rows, _ = cat.changes_since(cursor=0, limit=1000)
    return [r["entity_id"] for r in rows if r["entity"] == "report" and r["action"] == "figures"]


def _cell(figs, cell):
    return next((f for f in figs if f["cell"] == cell), None)


def test_extract_is_idempotent_and_a_new_version_rewrites_only_what_changed(archive, monkeypatch):
    cat, store, ids = archive
    pdf_report, pdf_capture, pdf_sha = ids["pdf"]
    first = _stats(cat, store)
    assert first["extractor_version"] == figures.EXTRACTOR_VERSION
    assert first["read"] == 3 and first["extracted"] == 3 and first["missing"] == 0   # page, PDF, 2015 text
    assert first["no_tables"] >= 1                                                   # the page that only links
    # The real report's figures, traceable to the PDF's bytes and page.
    figs = cat.figures_for_report(report_id=pdf_report)
    new = _cell(figs, NEW_CASES)
    assert new is not None and new["value"] == 95, [f["cell"] for f in figs][:20]
    assert new["capture_id"] == pdf_capture and new["sha256"] == pdf_sha and new["page"] >= 1
    assert new["extractor_version"] == figures.EXTRACTOR_VERSION and new["source"] == "table"
    assert {"table2", "table3", "table4"} <= {f["table"] for f in figs}
    # Every cell of the hand-read rows the archive serves as the hand says (../shared/real-reports/truth.json).
    truth = json.loads((REAL / "truth.json").read_text(encoding="utf-8"))["reports"][0]["table3"]
    served = {f["cell"]: f["value"] for f in figs}
    hand = {f"table3/{row}/{col}": v for row in ("一、本年新收", "二、上年结转", "（一）予以公开", "（二）部分公开", "（七）总计")
            for col, v in truth[row].items()}
    assert {k: served.get(k) for k in hand} == hand
    # The 2015 report: figures stated in sentences, the sentence kept.
    text_figs = cat.figures_for_report(report_id=ids["text"][0])
    assert {f["value"] for f in text_figs} >= {1974, 2} and all(f["source"] == "text" for f in text_figs)
    assert any("1974" in f["evidence"] for f in text_figs)
    # The change feed: each report with statistics once, naming its publisher.
    assert sorted(_figure_changes(cat)) == sorted({pdf_report, ids["text"][0]})
    rows, _ = cat.changes_since(cursor=0, limit=1000)
    assert all(r["publisher"] for r in rows if r["action"] == "figures")

    again = _stats(cat, store)
    assert again["read"] == 0 and again["extracted"] == 0                            # idempotent, no tables included
    assert len(_figure_changes(cat)) == 2

    # A new extractor version that reads the same: every file read again, nothing rewritten.
    monkeypatch.setattr(statsrun, "extractor", lambda: ("bumped", figures.extract))
    bumped = _stats(cat, store)
    assert bumped["read"] == 3 and bumped["extracted"] == 0 and bumped["unchanged"] == 3
    assert len(_figure_changes(cat)) == 2
    reading = next(r for r in cat.checks_for_report(report_id=pdf_report) if r["capture_id"] == pdf_capture)
    assert reading["extractor_version"] == "bumped" and reading["figures_version"] == figures.EXTRACTOR_VERSION
    assert _cell(cat.figures_for_report(report_id=pdf_report), NEW_CASES)["extractor_version"] == figures.EXTRACTOR_VERSION

    # Another version that reads one cell of the PDF differently: only that file is rewritten.
    def misreads(data, **kw):
        got = figures.extract(data, **kw)
        return dataclasses.replace(got, version="misread", figures=tuple(
            dataclasses.replace(f, value=96, printed="96") if f"{f.table}/{f.row}/{f.column}" == NEW_CASES else f
            for f in got.figures))

    monkeypatch.setattr(statsrun, "extractor", lambda: ("misread", misreads))
    changed = _stats(cat, store)
    assert changed["read"] == 3 and changed["extracted"] == 1 and changed["unchanged"] == 2
    assert _figure_changes(cat).count(pdf_report) == 2 and len(_figure_changes(cat)) == 3
    figs = cat.figures_for_report(report_id=pdf_report)
    assert _cell(figs, NEW_CASES)["value"] == 96 and {f["extractor_version"] for f in figs} == {"misread"}
    assert {f["extractor_version"] for f in cat.figures_for_report(report_id=ids["text"][0])} == {figures.EXTRACTOR_VERSION}
    # A version whose reader crashes on the PDF keeps what the last one read, and says so.
    def crashes(data, **kw):
        got = figures.extract(data, **kw)
        if data.startswith(b"%PDF"):
            return dataclasses.replace(got, figures=(), checks=(), problems=("extractor failed: MemoryError",))
        return got

    monkeypatch.setattr(statsrun, "extractor", lambda: ("crashing", crashes))
    crashed = _stats(cat, store)
    assert crashed["read"] == 3 and crashed["errors"] == 1 and crashed["extracted"] == 0
    reading = next(r for r in cat.checks_for_report(report_id=pdf_report) if r["capture_id"] == pdf_capture)
    assert reading["status"] == "error" and reading["extractor_version"] == "crashing"
    assert reading["problems"] == ["error: extractor failed: MemoryError"] and reading["figures_version"] == "misread"
    assert _cell(cat.figures_for_report(report_id=pdf_report), NEW_CASES)["value"] == 96
    assert len(_figure_changes(cat)) == 3
    # --all reads every file again whatever version read it; --site and --since narrow it.
    assert _stats(cat, store, "--all")["read"] == 3
    assert _stats(cat, store, "--all", "--since", "2999-01-01")["read"] == 0
    assert _stats(cat, store, "--all", "--site", "hzq")["read"] == 3
    # Two processes reading at once: the same readings (nothing rewritten, nothing in the feed).
    assert _stats(cat, store, "--all", "--jobs", "2") | {"seconds": None, "problems": None} == \
        {"extractor_version": "crashing", "read": 3, "extracted": 0, "unchanged": 3, "failed_checks": 0,
         "no_tables": 1, "errors": 1, "missing": 0, "seconds": None, "problems": None}
    assert len(_figure_changes(cat)) == 3
    # The end-of-crawl hook: the same reading, and never an exception.
    assert statsrun.extract_runs(cat.engine.url.render_as_string(hide_password=False), store.url).read == 0
    assert statsrun.extract_runs("postgresql://nobody@127.0.0.1:1/x", store.url) is None


def test_export_rows_carry_provenance_and_checks(archive, tmp_path, catalogue_url):
    if not catalogue_url.startswith("sqlite"):
        pytest.skip("the export's SQL is figure_rows, already run on PostgreSQL by the API test")
    cat, store, ids = archive
    _stats(cat, store)
    url = cat.engine.url.render_as_string(hide_password=False)
    pdf_report, pdf_capture, pdf_sha = ids["pdf"]

    got = runner.invoke(cli_app, ["stats", "export", "--format", "csv", "--catalogue", url])
    assert got.exit_code == 0, got.output
    rows = list(csv.DictReader(io.StringIO(got.stdout)))
    new = next(r for r in rows if r["cell"] == NEW_CASES)
    assert (new["sha256"], new["capture_id"], new["value"]) == (pdf_sha, str(pdf_capture), "95")
    assert new["page"] and new["publisher"] == "淮安市洪泽区人民政府" and new["region_code"] == "320813"
    assert new["year"] == "2024" and new["report_url"].endswith("2024nb.html") and new["file_url"].endswith(".pdf")
    assert new["status"] in ("ok", "failed_checks") and int(new["cell_checks"]) >= 1
    assert {"cell_failed_checks", "report_failed_checks", "extractor_version"} <= set(new)

    out = tmp_path / "figures.jsonl"
    got = runner.invoke(cli_app, ["stats", "export", "--format", "jsonl", "--out", str(out), "--year", "2015",
                                  "--catalogue", url])
    assert got.exit_code == 0, got.output
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert lines and {x["year"] for x in lines} == {2015} and {x["source"] for x in lines} == {"text"}

    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "figures.parquet"
    got = runner.invoke(cli_app, ["stats", "export", "--format", "parquet", "--out", str(out), "--region", "320000",
                                  "--catalogue", url])
    assert got.exit_code == 0, got.output
    table = pq.read_table(out).to_pylist()
    assert len(table) == len(rows)
    new = next(r for r in table if r["cell"] == NEW_CASES)
    assert (new["sha256"], new["capture_id"], new["value"]) == (pdf_sha, pdf_capture, 95.0) and new["page"] >= 1
    got = runner.invoke(cli_app, ["stats", "export", "--region", "110000", "--catalogue", url])
    assert got.exit_code == 0 and len(got.stdout.strip().splitlines()) == 1      # a header, no Beijing rows

    # Bad input: one line, exit 2, no traceback.
    for args in (["export", "--format", "xml"], ["export", "--format", "parquet"], ["export", "--site", "nowhere"],
                 ["export", "--year", "1800"], ["extract", "--since", "yesterday"], ["extract", "--site", "nowhere"],
                 ["extract", "--jobs", "0"]):
        got = runner.invoke(cli_app, ["stats", *args, "--catalogue", url])
        assert got.exit_code == 2, (args, got.output)
        assert got.exception is None or isinstance(got.exception, SystemExit), (args, got.exception)
        assert "Traceback" not in got.output and len(got.output.strip().splitlines()) == 1, (args, got.output)


def test_api_and_report_page_show_the_tables_and_failed_checks(archive, monkeypatch):
    cat, store, ids = archive
    pdf_report, pdf_capture, pdf_sha = ids["pdf"]

    # A reading whose printed numbers break a check: the cells marked, nothing corrected.
    def breaks_a_check(data, **kw):
        got = figures.extract(data, **kw)
        checks = list(got.checks)
        if checks:
            checks[0] = dataclasses.replace(checks[0], ok=False)
        return dataclasses.replace(got, checks=tuple(checks))

    monkeypatch.setattr(statsrun, "extractor", lambda: (figures.EXTRACTOR_VERSION, breaks_a_check))
    assert _stats(cat, store)["failed_checks"] == 1
    broken = next(c for c in cat.checks_for_report(report_id=pdf_report)[-1]["checks"] if not c["ok"])
    with running(create_app(catalogue=cat, store=store, token=None)) as base, httpx.Client(base_url=base, timeout=30) as c:
        got = c.get(f"/api/reports/{pdf_report}/figures")
        assert got.status_code == 200
        body = got.json()
        new = _cell(body["figures"], NEW_CASES)
        assert (new["value"], new["capture_id"], new["sha256"]) == (95, pdf_capture, pdf_sha) and new["page"] >= 1
        reading = next(r for r in body["readings"] if r["capture_id"] == pdf_capture)
        assert reading["status"] == "failed_checks" and reading["format"] == "pdf" and reading["primary"]
        assert [r["primary"] for r in body["readings"]].count(True) == 1     # the PDF, not the page linking it
        assert any(broken["name"] in f["failed_checks"] for f in body["figures"])
        assert c.get("/api/reports/999999/figures").status_code == 404
        assert c.get("/api/reports/0/figures").status_code == 422
        row = next(r for r in c.get("/api/reports").json() if r["id"] == pdf_report)
        assert row["figures"]["status"] == "failed_checks" and row["figures"]["figures"] >= 1
        assert row["figures"]["capture_id"] == pdf_capture and row["figures"]["files_read"] == 2

        page = c.get(f"/reports/{pdf_report}")
        assert page.status_code == 200
        html = page.text
        assert 'data-table="table3"' in html and 'data-table="table2"' in html and 'data-table="table4"' in html
        assert f'data-cell="{NEW_CASES}"' in html and f'href="/captures/{pdf_capture}/raw?inline=1"' in html
        assert 'class="num failed"' in html and "FAILED" in html and broken["name"] in html
        assert c.get("/reports/999999").status_code == 404
        assert f'href="/reports/{pdf_report}"' in c.get(f"/captures/{pdf_capture}").text
        feed = c.get("/api/changes", params={"limit": 1000}).json()["changes"]
        assert {r["figures_url"] for r in feed if r["action"] == "figures"} >= {f"/api/reports/{pdf_report}/figures"}

        cov = c.get("/", params={"figure": NEW_CASES})
        assert cov.status_code == 200 and 'data-figure="95"' in cov.text and "shaded by" in cov.text
        assert 'data-figure=' not in c.get("/").text
        image = c.get("/coverage.svg", params={"figure": NEW_CASES})
        assert image.status_code == 200 and 'data-figure="95"' in image.text and NEW_CASES in image.text
        assert 'data-figure=' not in c.get("/coverage.svg").text


@pytest.mark.parametrize("fmt", ["html", "docx", "xlsx", "pdf"])
def test_simulated_reports_every_cell_right_and_the_inconsistent_one_flagged(fmt, tmp_path):
    """Simulator reports (simulator.tables) in both formats, labels wrapped and tables split, archived and
    read through the CLI: every printed cell right; the one whose printed totals disagree is kept as
    printed, its reading failed_checks, the broken cell's checks named in the export."""
    tables = pytest.importorskip("simulator.tables")
    cat = Catalogue.open(f"sqlite:///{tmp_path / 'catalogue.sqlite'}")
    store = open_store((tmp_path / "objects").as_uri())
    try:
        cat.upsert_site(site_id="hzq", agency="某县人民政府", kind="government", first_year=2019)
        run_id = cat.start_run(site_id="hzq", config_hash=None, software_version="test")
        ctype = {"html": "text/html", "pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-"
                 "officedocument.spreadsheetml.sheet", "docx": "application/vnd.openxmlformats-officedocument."
                 "wordprocessingml.document"}[fmt]
        made = {}
        for year, layout, inconsistent in ((2020, "2019", False), (2023, "2021", True)):
            truth = tables.make_tables(7, year, layout)
            data = getattr(tables, f"render_{fmt}")(truth, wrap_labels=True, split_pages=True, inconsistent=inconsistent)
            rid, cid, sha = _add(cat, store, run_id=run_id, url=f"http://x.gov.cn/{year}.{fmt}", data=data, ctype=ctype,
                                 year=year, filename=f"{year}.{fmt}", agency="某县人民政府")
            made[year] = (rid, cid, sha, truth, inconsistent)
        if fmt != "html":
            # The 2020 report's page prints the same tables: two readings, one row per cell in the export
            # (the attachment's, the formal document), both with --every-file.
            truth = made[2020][3]
            _add(cat, store, run_id=run_id, url="http://x.gov.cn/2020.html", report_url="http://x.gov.cn/2020." + fmt,
                 data=tables.render_html(truth, wrap_labels=False, split_pages=False), ctype="text/html", year=2020,
                 kind="page", agency="某县人民政府")
        got = _stats(cat, store)
        files = 3 if fmt != "html" else 2
        assert got["read"] == files and got["extracted"] == files and got["failed_checks"] == 1, got
        if fmt != "html":
            rows = cat.figure_rows(year=2020)
            assert len(rows) == len({r["cell"] for r in rows}) and {r["capture_id"] for r in rows} == {made[2020][1]}
            every = cat.figure_rows(year=2020, every_file=True)
            assert len(every) == 2 * len(rows) and {r["primary"] for r in every} == {True, False}
            assert [r["primary"] for r in cat.checks_for_report(report_id=made[2020][0])].count(True) == 1
        for year, (rid, cid, sha, truth, inconsistent) in made.items():
            printed = {k.replace("|", "/"): v for k, v in tables.printed_cells(truth, inconsistent=inconsistent).items()}
            figs = {f["cell"]: f for f in cat.figures_for_report(report_id=rid) if f["primary"]}
            wrong = {k: (v, (figs.get(k) or {}).get("value")) for k, v in printed.items()
                     if k not in figs or figs[k]["value"] != v}
            assert not wrong, (year, fmt, list(wrong.items())[:5])
            assert all(f["sha256"] == sha and f["capture_id"] == cid and (f["page"] or f["path"]) for f in figs.values())
            reading = next(r for r in cat.checks_for_report(report_id=rid) if r["primary"])
            assert reading["status"] == ("failed_checks" if inconsistent else "ok"), reading["checks"][:3]
        assert got["seconds"][fmt][0] == 2 and sum(n for n, _ in got["seconds"].values()) == files
        summary = runner.invoke(cli_app, ["stats", "summary", "--format", "json", "--catalogue",
                                          cat.engine.url.render_as_string(hide_password=False)])
        assert summary.exit_code == 0, summary.output
        assert json.loads(summary.stdout) == {"reports_read": 2, "by_status": {"ok": 1, "failed_checks": 1},
                                              "reports_2019_read": 2, "reports_2019_with_tables": 2, "passing_every_check": 1,
                                              "share_passing": 0.5}
        broken = made[2023][3]["broken"].replace("|", "/")
        rows = {(r["year"], r["cell"]): r for r in cat.figure_rows()}
        assert rows[(2023, broken)]["cell_failed_checks"] and rows[(2023, broken)]["status"] == "failed_checks"
        assert not rows[(2020, "table3/一、本年新收/总计")]["report_failed_checks"]
    finally:
        cat.close()


def test_a_crawled_archive_is_read_through_the_command(tmp_path):
    """A real harvest of simulated portals (pages, attachments, whatever their kinds), then
    `nianbao stats extract` as a process: every report file read once, a second run reads nothing,
    and the export parses."""
    import simulator
    from tests.harness import harvest, nianbao

    world = simulator.World(seed=0, size="tiny")
    with simulator.serve(world) as server:
        h = harvest(world, server, tmp_path, families={"static"},
                    overrides={"politeness": {"delay": 0, "concurrency": 4}})
    assert h.proc.returncode == 0, h.proc.stderr[-2000:]
    args = ("--catalogue", h.catalogue_url, "--store", h.store_url)
    first = nianbao("stats", "extract", "--format", "json", *args)
    assert first.returncode == 0, first.stderr[-2000:]
    got = json.loads(first.stdout.strip().splitlines()[-1])
    with Catalogue.open(h.catalogue_url) as cat:
        files = {(c.report_id, c.sha256) for c in cat.captures()
                 if c.report_id and c.is_report and c.parent_id is None and c.kind in ("page", "attachment")}
        files |= {(c.report_id, c.sha256) for c in cat.captures() if c.report_id and c.kind == "dom"}
    assert files and got["read"] == len(files) and got["missing"] == 0 and got["errors"] == 0, got
    again = nianbao("stats", "extract", "--format", "json", *args)
    assert again.returncode == 0 and json.loads(again.stdout.strip().splitlines()[-1])["read"] == 0
    export = nianbao("stats", "export", "--format", "jsonl", "--catalogue", h.catalogue_url)
    assert export.returncode == 0, export.stderr[-2000:]
    rows = [json.loads(line) for line in export.stdout.splitlines()]
    assert all(r["sha256"] and r["capture_id"] and r["extractor_version"] for r in rows)
    print(f"crawled archive: {len(files)} files, {got}, {len(rows)} export rows")
