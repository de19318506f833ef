"""Publishers in a real headless Chromium: after an ad hoc crawl (no hints) of a county site whose
reports print its housing bureau three ways (full, 市住建局, 住建局), the coverage page has one
row for the bureau; its page lists the three names with their evidence; an archivist merges it
into the government through the UI (token), and undoes the merge.
"""
from __future__ import annotations

import http.server
import threading

import pytest

from tests.harness import nianbao
from tests.web_server import running

TOKEN = "publisher-token"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
BUREAU = "江阴市住房和城乡建设局"
SPELLINGS = {2019: BUREAU, 2020: "市住建局", 2021: "住建局"}


def _pages() -> dict[str, str]:
    links = "".join(f'<li><a href="/nb/{y}.html">{p}{y}年政府信息公开工作年度报告</a> {y + 1}-01-20</li>'
                    for y, p in SPELLINGS.items())
    pages = {"/": f"<html><head><title>江阴市人民政府 信息公开</title></head><body><h1>政府信息公开工作年度报告</h1>"
                  f"<ul>{links}</ul></body></html>"}
    for y, p in SPELLINGS.items():
        # 发布机构 and 发布日期 in one table row: read cell by cell, never run together.
        pages[f"/nb/{y}.html"] = (
            f"<html><head><title>{p}{y}年政府信息公开工作年度报告</title></head><body><table><tr>"
            f"<td>发布机构</td><td>{p}</td><td>发布日期</td><td>{y + 1}-01-20</td></tr></table>"
            f"<h1>{p}{y}年政府信息公开工作年度报告</h1><p>{'主动公开政府信息情况。' * 40}</p></body></html>")
    return pages


@pytest.fixture(scope="module")
def portal():
    pages = _pages()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            data = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


@pytest.fixture(scope="module")
def archive(portal, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pubweb")
    catalogue, store = f"sqlite:///{tmp / 'c.sqlite'}", (tmp / "objects").as_uri()
    crawl = nianbao("crawl", "--start-url", f"http://{portal}/", "--agency", "江阴市人民政府", "--allow", portal,
                    "--catalogue", catalogue, "--store", store, timeout=300)
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    return catalogue, store


@pytest.fixture(scope="module")
def base_url(archive):
    from crawler.web import create_app

    with running(create_app(catalogue_url=archive[0], store_url=archive[1], token=TOKEN)) as url:
        yield url


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
        yield browser.new_context().new_page()
        browser.close()


def rows(page, base_url) -> dict[str, str]:
    page.goto(base_url + "/")
    got = page.eval_on_selector_all("#heatmap tbody tr", "els => els.map(e => [e.dataset.agency, e.dataset.publisher])")
    names = [a for a, _ in got]
    assert len(names) == len(set(names)), f"a publisher on two rows: {names}"
    return dict(got)


def submit(page, form: str, **fields) -> None:
    for name, value in {**fields, "who": "档案员甲", "token": TOKEN}.items():
        page.fill(f"{form} input[name={name}]", str(value))
    with page.expect_navigation():
        page.click(f"{form} button")


def test_one_row_per_publisher_then_a_merge_and_its_undo(page, base_url):
    shown = rows(page, base_url)
    assert set(shown) == {"江阴市人民政府", BUREAU}             # not 市住建局, not 住建局
    bureau, government = shown[BUREAU], shown["江阴市人民政府"]
    cells = page.eval_on_selector_all(f'#heatmap tr[data-publisher="{bureau}"] td.cell[data-state]',
                                      "els => els.map(e => [Number(e.dataset.year), e.dataset.state])")
    assert {y for y, s in cells if s == "found"} == set(SPELLINGS)

    page.click(f'#heatmap tr[data-publisher="{bureau}"] a.publisher')
    assert page.inner_text("#publisher-name") == BUREAU
    aliases = page.eval_on_selector_all("#aliases tr[data-alias]", "els => els.map(e => e.dataset.alias)")
    assert set(aliases) == set(SPELLINGS.values())
    assert "page_field" in page.inner_text("#aliases") and "住建局" in page.inner_text("#reports")

    submit(page, "#merge-form", into=government, why="测试：合并")
    assert page.url.endswith(f"/publishers/{government}")
    assert BUREAU in page.inner_text("#publisher-props")        # merged from
    assert set(rows(page, base_url)) == {"江阴市人民政府"}

    page.goto(f"{base_url}/publishers/{government}")
    merge = page.get_attribute('#actions tr[data-action="merge"]', "data-action-id")
    submit(page, f'#actions tr[data-action-id="{merge}"] .undo-form', why="测试：撤销")
    assert page.get_attribute(f'#actions tr[data-action-id="{merge}"]', "data-undone") == "1"
    assert rows(page, base_url) == shown


def test_actions_need_the_token_and_valid_fields(base_url, archive):
    import httpx

    government = 1
    post = lambda **form: httpx.post(f"{base_url}/publishers/{government}/actions", data=form)  # noqa: E731
    assert post(action="merge", into="2", who="a", why="b").status_code == 403
    assert post(action="merge", into="2", who="a", why="b", token="wrong").status_code == 403
    assert post(action="explode", who="a", why="b", token=TOKEN).status_code == 422
    assert post(action="merge", into="x", who="a", why="b", token=TOKEN).status_code == 422
    assert post(action="merge", into="2", who="", why="b", token=TOKEN).status_code == 422
    assert post(action="created", year="99999", who="a", why="b", token=TOKEN).status_code == 422
    assert post(action="merge", into=str(government), who="a", why="b", token=TOKEN).status_code == 409
    assert httpx.get(f"{base_url}/publishers/999999").status_code == 404
    assert httpx.get(f"{base_url}/publishers/0").status_code == 422
    api = httpx.get(f"{base_url}/api/reports").json()
    assert {(r["publisher"], r["printed"]) for r in api if r["year"] in SPELLINGS} == {
        (BUREAU, p) for p in SPELLINGS.values()}
