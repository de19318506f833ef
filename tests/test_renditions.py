"""Plain-text renditions: one per report file, stored under its sha256 and linked to its capture."""
from __future__ import annotations

import hashlib

import pytest

from crawler.renditions import RenditionStats, needs_rendition, render_texts
from simulator.files import build
from storage.catalogue import Catalogue
from storage.objects import content_key, open_store, put_content

TITLE = "江阴区科学技术局2019年政府信息公开工作年度报告"
BODY = "一、总体情况\n本机关主动公开政府信息四十四条。\n二、主动公开政府信息情况"
HTML = (f"<html><head><meta charset='utf-8'><title>{TITLE}</title></head>"
        f"<body><div class='TRS_Editor'><h1>{TITLE}</h1><p>{BODY}</p></div></body></html>").encode()

FILES = [  # (name, bytes, content type as servers send it, text expected in the rendition or None)
    ("page.html", HTML, "text/html; charset=utf-8", "主动公开政府信息四十四条"),
    ("report.pdf", build("pdf", TITLE, BODY), "application/pdf", "总体情况"),
    ("report.docx", build("docx", TITLE, BODY), "application/octet-stream", "主动公开政府信息四十四条"),
    ("stats.xlsx", build("xlsx", TITLE, BODY), "application/vnd.ms-excel", TITLE[:6]),
    ("legacy.doc", build("doc", TITLE, BODY), "application/msword", "总体情况"),
    ("scan.pdf", build("pdf", TITLE, BODY, image_only=True), "application/pdf", None),  # no text layer
]


@pytest.fixture
def archive(tmp_path):
    cat = Catalogue.open(f"sqlite:///{tmp_path / 'c.sqlite'}")
    store = open_store((tmp_path / "objects").as_uri())
    cat.upsert_site(site_id="jy", agency="江阴区科学技术局")
    yield cat, store
    cat.close()


def archive_files(cat, store, files, *, tag=""):
    run_id = cat.start_run(site_id="jy", config_hash=None, software_version="test")
    ids = {}
    for name, data, ctype, _ in files:
        key, sha, size = put_content(store, data, content_type=ctype)
        cat.record_blob(sha256=sha, size=size, storage_key=key, content_type=ctype)
        rid, _ = cat.upsert_report(site_id="jy", agency="江阴区科学技术局", year=2019, title=TITLE,
                                   url=f"http://kjj.jiangyin.gov.cn/nb/{tag}{name}")
        ids[name] = cat.add_capture(run_id=run_id, site_id="jy", report_id=rid, kind="attachment",
                                    url=f"http://kjj.jiangyin.gov.cn/nb/{tag}{name}", sha256=sha, size=size,
                                    storage_key=key, content_type=ctype, filename=name, is_report=True)
    return run_id, ids


def texts_by_parent(cat):
    return {c.parent_id: c for c in cat.captures() if c.kind == "text"}


def test_each_format_gets_a_linked_text_rendition(archive):
    cat, store = archive
    _, ids = archive_files(cat, store, FILES)
    stats = RenditionStats()
    made = render_texts(cat, store, stats=stats)
    readable = [f for f in FILES if f[3] is not None]
    assert made == stats.made == len(readable)
    assert stats.unreadable == len(FILES) - len(readable)
    texts = texts_by_parent(cat)
    for name, _, _, expected in FILES:
        if expected is None:
            assert ids[name] not in texts, name
            continue
        text = texts[ids[name]]
        parent = next(c for c in cat.captures() if c.id == ids[name])
        body = store.get(text.storage_key)
        assert expected in body.decode("utf-8"), name
        assert text.sha256 == hashlib.sha256(body).hexdigest() and text.storage_key == content_key(text.sha256)
        assert text.report_id == parent.report_id and text.run_id == parent.run_id and text.url == parent.url
        assert text.content_type == "text/plain; charset=utf-8" and not text.is_report
        assert text.filename == name.rsplit(".", 1)[0] + ".txt"


def test_idempotent_and_limited_to_a_run(archive):
    cat, store = archive
    first_run, _ = archive_files(cat, store, FILES[:2], tag="a/")
    second_run, second = archive_files(cat, store, FILES[2:4], tag="b/")
    assert render_texts(cat, store, run_id=second_run) == 2
    assert set(texts_by_parent(cat)) == set(second.values())
    assert render_texts(cat, store, run_id=second_run) == 0
    assert render_texts(cat, store) == 2          # the first run's two files
    assert render_texts(cat, store) == 0
    changes, _ = cat.changes_since(cursor=0, limit=1000)
    text_ids = {c.id for c in cat.captures() if c.kind == "text"}
    # Parsers learn of each rendition once through the change feed.
    assert sorted(c["entity_id"] for c in changes if c["entity"] == "capture" and c["entity_id"] in text_ids) \
        == sorted(text_ids)


def test_missing_bytes_are_counted_not_fatal(archive):
    cat, store = archive
    _, ids = archive_files(cat, store, FILES[:2])
    store.delete(next(c for c in cat.captures() if c.id == ids["page.html"]).storage_key)
    stats = RenditionStats()
    assert render_texts(cat, store, stats=stats) == 1
    assert stats.missing == 1


@pytest.mark.parametrize("kind,parent_id,is_report,wanted", [
    ("attachment", None, True, True),
    ("page", None, True, True),
    ("page", None, False, False),       # a list page, not a report
    ("dom", 7, False, False),           # derived already
    ("screenshot", 7, False, False),
    ("text", 7, False, False),
])
def test_needs_rendition(kind, parent_id, is_report, wanted):
    from types import SimpleNamespace
    assert needs_rendition(SimpleNamespace(kind=kind, parent_id=parent_id, is_report=is_report)) is wanted


def test_renditions_on_s3(s3_url, tmp_path):
    cat = Catalogue.open(f"sqlite:///{tmp_path / 'c.sqlite'}")
    store = open_store(s3_url)
    cat.upsert_site(site_id="jy", agency="江阴区科学技术局")
    _, ids = archive_files(cat, store, FILES[:2])
    assert render_texts(cat, store) == 2
    text = texts_by_parent(cat)[ids["report.pdf"]]
    assert "总体情况" in store.get(text.storage_key).decode("utf-8")


def test_render_runs_hook_renders_only_those_runs_and_never_raises(archive, tmp_path):
    from crawler.renditions import render_runs

    cat, store = archive
    first, _ = archive_files(cat, store, FILES[:1], tag="a/")
    second, _ = archive_files(cat, store, FILES[1:3], tag="b/")
    url = str(cat.engine.url)
    assert render_runs(url, store.url, [second, None]) == 2
    assert render_runs(url, store.url, [first, second]) == 1
    assert render_runs("nosuchdb://x", store.url, [first]) == 0   # logged, not raised


def test_bytes_rendered_before_are_linked_not_extracted_again(archive):
    """A recrawl's unchanged capture (same bytes, new capture row) gets a text child pointing at
    the text made before: downstream parsers see every capture's text, nothing is parsed twice."""
    cat, store = archive
    _, first = archive_files(cat, store, FILES[:2])
    assert render_texts(cat, store) == 2
    second_run, second = archive_files(cat, store, FILES[:2])      # same URLs, same bytes
    stats = RenditionStats()
    assert render_texts(cat, store, run_id=second_run, stats=stats) == 0
    assert stats.reused == 2 and stats.made == 0
    texts = texts_by_parent(cat)
    for name in ("page.html", "report.pdf"):
        assert texts[second[name]].sha256 == texts[first[name]].sha256
        assert texts[second[name]].run_id == second_run
    assert render_texts(cat, store, run_id=second_run) == 0 and len(texts_by_parent(cat)) == 4
