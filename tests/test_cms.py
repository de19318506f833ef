"""CMS adapters read real-shaped pages: links, dates, list continuation, metadata."""

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from crawler.cms import Follow, Link, detect_family, extract, parse_dataproxy, parse_json
from crawler.cms import generic, hanweb, jsonlist, trs
from crawler.cms.page import absolute, parse_date, parse_html, breadcrumb

FILES = Path(__file__).parent / "files" / "cms"


def load(name: str) -> str:
    return (FILES / name).read_text(encoding="utf-8")


def urls(items) -> list[str]:
    return [i.url for i in items]


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


# ---- family detection ---------------------------------------------------------------

FAMILY_CASES = [
    ("hanweb_column.html", "http://www.example.gov.cn/col/col1229105/index.html", "hanweb"),
    ("hanweb_param_object.html", "http://www.example.gov.cn/col/col33718/index.html", "hanweb"),
    ("trs_list.html", "http://czt.example.gov.cn/zwgk/ndbg/index.html", "trs"),
    ("trs_list_div.html", "http://czt.example.gov.cn/zwgk/ndbg/", "trs"),
    ("trs_article.html", "http://czt.example.gov.cn/zwgk/ndbg/202401/t20240126_4567890.html", "trs"),
    ("gkmlpt_index.html", "http://www.example.gov.cn/exampleq/gkmlpt/index#2811", "gkmlpt"),
    ("generic_list.html", "http://www.example.gov.cn/xxgk/ndbg/index.asp", None),
    ("script_built.html", "http://www.example.gov.cn/xxgk/nb/", None),
]


@pytest.mark.parametrize("name,url,family", FAMILY_CASES, ids=[c[0] for c in FAMILY_CASES])
def test_detect_family(name, url, family):
    assert detect_family(url, load(name)) == family
    assert extract(url, load(name)).family == family


# ---- Hanweb -----------------------------------------------------------------------------

HANWEB_URL = "http://www.example.gov.cn/col/col1229105/index.html"


def test_hanweb_records_become_links_with_dates():
    e = extract(HANWEB_URL, load("hanweb_column.html"))
    by_url = {l.url: l for l in e.links}
    first = by_url["http://www.example.gov.cn/art/2024/1/25/art_1229105_59012345.html"]
    assert first == Link(first.url, "示例市人民政府2023年政府信息公开工作年度报告", "2024-01-25")
    # truncated anchor text gives way to the full title attribute
    assert by_url["http://www.example.gov.cn/art/2023/1/30/art_1229105_58011111.html"].text.endswith("年度报告")
    assert by_url["http://www.example.gov.cn/art/2022/1/28/art_1229105_57010001.html"].date == "2022-01-28"
    assert by_url["http://www.example.gov.cn/art/2020/1/31/art_1229105_41234567.html"].date == "2020-01-31"
    # a record with no wrapper element still gets its date
    dl = by_url["http://www.example.gov.cn/module/download/downfile.jsp?classid=0&filename=2019nb.pdf"]
    assert dl.date == "2019-01-30"
    assert len([l for l in e.links if "/art/" in l.url]) == 5
    assert e.script_built is False


def test_hanweb_page_requests_remaining_records_by_post_in_chunks():
    e = extract(HANWEB_URL, load("hanweb_column.html"))
    api = [p for p in e.pages if p.kind == "api"]
    assert [(query(p.url)["startrecord"], query(p.url)["endrecord"], query(p.url)["perpage"]) for p in api] == [
        ("7", "12", "3"), ("13", "14", "3")]
    for p in api:
        assert p.method == "POST"
        assert urlsplit(p.url).path == "/module/web/jpage/dataproxy.jsp"
        assert p.formdata == {"col": "1", "appid": "1", "webid": "3090", "path": "/", "columnid": "1229105",
                              "sourceContentType": "1", "unitid": "4445711", "webname": "示例市人民政府",
                              "permissiontype": "0"}
        assert p.headers["Referer"] == HANWEB_URL


def test_hanweb_params_from_object_literal_and_page_proxy_path():
    url = "http://www.example.gov.cn/col/col33718/index.html"
    e = extract(url, load("hanweb_param_object.html"))
    api = [p for p in e.pages if p.kind == "api"]
    assert urlsplit(api[0].url).path == "/module/jpage/dataproxy.jsp"
    assert api[0].formdata["unitid"] == "212860" and api[0].formdata["columnid"] == "33718"
    assert api[0].formdata["webid"] == "12" and api[0].formdata["appid"] == "1"
    starts = [int(query(p.url)["startrecord"]) for p in api]
    assert starts[0] == 3 and query(api[-1].url)["endrecord"] == "40"
    assert len(api) == 19  # records 3..40, two per request


def test_hanweb_params_fall_back_to_nextgroup_query():
    text = load("hanweb_param_object.html").replace("var param_212860={", "var other={x:1};var ignored={")
    text = text.replace("columnid:33718,", "").replace("unitid:'212860',", "")
    params = hanweb.ajax_params(text)
    assert params["unitid"] == "212860" and params["columnid"] == "33718" and params["webid"] == "12"


NEXT_CASES = [
    # total, perpage, already, group, expected (start, end) pairs
    (14, 3, 6, 2, [(7, 12), (13, 14)]),
    (45, 15, 45, 3, []),
    (100, 15, 45, 3, [(46, 90), (91, 100)]),
    (None, 15, 45, 3, [(46, 90)]),
    (1, 15, 0, 3, [(1, 1)]),
]


@pytest.mark.parametrize("total,perpage,already,group,expected", NEXT_CASES)
def test_hanweb_next_requests_cover_every_record(total, perpage, already, group, expected):
    follows = hanweb.next_requests(HANWEB_URL, {"unitid": "1"}, total, perpage, already, group_size=group,
                                   proxy="/module/jslib/jquery/jpage/dataproxy.jsp")
    got = [(int(query(f.url)["startrecord"]), int(query(f.url)["endrecord"])) for f in follows]
    assert got == expected
    assert all(f.url.startswith("http://www.example.gov.cn/module/jslib/jquery/jpage/dataproxy.jsp?") for f in follows)
    assert all(query(f.url)["perpage"] == str(perpage) for f in follows)


def test_parse_dataproxy_reads_records_and_plans_the_rest():
    url = "http://www.example.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=4&endrecord=6&perpage=3"
    form = {"unitid": "4445711", "columnid": "1229105"}
    e = parse_dataproxy(url, load("hanweb_dataproxy.xml"), formdata=form, referer=HANWEB_URL)
    assert e.family == "hanweb"
    assert [l.date for l in e.links] == ["2019-01-31", "2018-03-30", "2017-03-31"]
    assert e.links[0].url == "http://www.example.gov.cn/art/2019/1/31/art_1229105_30000007.html"
    assert [(query(p.url)["startrecord"], query(p.url)["endrecord"]) for p in e.pages] == [
        ("7", "9"), ("10", "12"), ("13", "14")]
    assert all(p.method == "POST" and p.formdata == form for p in e.pages)


def test_extract_dispatches_xml_answers_to_dataproxy_reader():
    url = "http://www.example.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=13&endrecord=14&perpage=3"
    e = extract(url, load("hanweb_dataproxy.xml"), content_type="text/xml;charset=UTF-8")
    assert e.family == "hanweb" and len(e.links) == 3 and e.pages == []


# ---- TRS --------------------------------------------------------------------------------

def test_trs_classic_pager_variables():
    url = "http://czt.example.gov.cn/zwgk/ndbg/index.html"
    e = extract(url, load("trs_list.html"))
    assert [p.url for p in e.pages if p.kind == "list"] == [
        f"http://czt.example.gov.cn/zwgk/ndbg/index_{n}.html" for n in range(1, 5)]
    by_url = {l.url: l for l in e.links}
    assert by_url["http://czt.example.gov.cn/zwgk/ndbg/202401/t20240126_4567890.html"].date == "2024-01-26"
    assert "http://czt.example.gov.cn/zwgk/ndbg/202201/P020220128512345678901.pdf" in by_url
    # whitespace inside href is stripped before resolving
    assert "http://czt.example.gov.cn/xxgk/zcwj/202112/t20211230_2345678.html" in by_url
    # pager concatenation fragments are not links
    assert "http://czt.example.gov.cn/zwgk/ndbg/index" not in by_url
    assert e.breadcrumb == "首页 > 政府信息公开 > 政府信息公开年报"


def test_trs_pages_from_a_later_page_include_the_first():
    url = "http://czt.example.gov.cn/zwgk/ndbg/index_2.html"
    text = load("trs_list.html").replace("var currentPage = 0", "var currentPage = 2")
    got = urls(trs.list_pages(url, text))
    assert "http://czt.example.gov.cn/zwgk/ndbg/index.html" in got and url not in got


TRS_CASES = [
    ('createPageHTML(5, 0, "index", "html");', ["index_1.html", "index_2.html", "index_3.html", "index_4.html"]),
    ("createPageHTML('5','0','index','htm');", ["index_1.htm", "index_2.htm", "index_3.htm", "index_4.htm"]),
    ("var countPage = 3//共多少页\ncreatePageHTML(countPage, currentPage, \"index\", \"html\");",
     ["index_1.html", "index_2.html"]),
    ("createPage(2, 0, 'list', 'shtml');", ["list_1.shtml"]),
    ("createPageHTML('page_div',4, 1,'index','shtml',37);", ["index_2.shtml", "index_3.shtml", "index_4.shtml"]),
    ("createPageHTML('page_div',3,1,'dezlist','shtml',25);", ["dezlist_2.shtml", "dezlist_3.shtml"]),
    ("createPageHTML(1, 0, \"index\", \"html\");", []),
    ("document.write('no pager here');", []),
]


@pytest.mark.parametrize("script,expected", TRS_CASES)
def test_trs_pager_calls(script, expected):
    url = "http://www.example.gov.cn/col/ndbg/"  # the directory URL is page 0 (index.*)
    got = [u.rsplit("/", 1)[1] for u in urls(trs.list_pages(url, f"<script>{script}</script>"))]
    assert got == expected


def test_trs_article_metadata_and_script_attachments():
    url = "http://czt.example.gov.cn/zwgk/ndbg/202401/t20240126_4567890.html"
    e = extract(url, load("trs_article.html"))
    assert e.heading == "示例省财政厅2023年政府信息公开工作年度报告"
    assert e.publisher == "示例省财政厅"
    assert e.title.startswith("示例省财政厅2023年")
    assert e.breadcrumb == "首页 > 政府信息公开 > 政府信息公开年报"
    got = urls(e.links)
    assert "http://czt.example.gov.cn/zwgk/ndbg/202401/P020240126612345678901.pdf" in got
    assert "http://czt.example.gov.cn/zwgk/ndbg/202401/P020240126612345678902.docx" in got
    assert e.pages == [] and e.script_built is False


# ---- gkmlpt and JSON ----------------------------------------------------------------------

def test_gkmlpt_list_page_emits_the_api():
    url = "http://www.example.gov.cn/exampleq/gkmlpt/index#2811"
    e = extract(url, load("gkmlpt_index.html"))
    assert urls(e.pages) == ["http://www.example.gov.cn/exampleq/gkmlpt/api/all/2811?page=1&sid=755325"]
    assert e.pages[0].kind == "api" and e.pages[0].method == "GET"
    assert e.pages[0].headers["Referer"] == "http://www.example.gov.cn/exampleq/gkmlpt/index"
    assert e.script_built is False  # the adapter reached the data


def test_gkmlpt_without_category_lists_everything():
    e = extract("http://www.example.gov.cn/exampleq/gkmlpt/index", load("gkmlpt_index.html"))
    assert e.pages[0].url == "http://www.example.gov.cn/exampleq/gkmlpt/api/all/0?page=1&sid=755325"


def test_gkmlpt_api_answer():
    url = "http://www.example.gov.cn/exampleq/gkmlpt/api/all/2811?page=1&sid=755325"
    e = parse_json(url, load("gkmlpt_api.json"))
    assert e.family == "gkmlpt" and len(e.links) == 100
    assert e.links[0] == Link("http://www.example.gov.cn/exampleq/gkmlpt/content/10/10987/post_10987654.html",
                              "示例区人民政府2023年政府信息公开工作年度报告", "2024-01-25")
    assert urls(e.pages) == [url.replace("page=1", "page=2"), url.replace("page=1", "page=3")]
    assert extract(url, load("gkmlpt_api.json"), content_type="application/json").links == e.links


JSON_CASES = [
    ('{"data":{"list":[{"title":"2023年报","url":"/a/1.html","pubDate":"2024-01-02"}],"totalPage":3}}',
     "http://x.gov.cn/api/list?pageNo=1&size=1", [("http://x.gov.cn/a/1.html", "2023年报", "2024-01-02")], 2),
    ('{"result":[{"DOCTITLE":"<em>年度</em>报告","DOCPUBURL":"http://x.gov.cn/b.html","DOCRELTIME":1704153600000}],'
     '"total":1}', "http://x.gov.cn/search?page=1", [("http://x.gov.cn/b.html", "年度 报告", "2024-01-02")], 0),
    ('cb({"rows":[{"name":"附件","fileUrl":"../f/a.pdf"}],"total":30})', "http://x.gov.cn/api/q/list?page=0",
     [("http://x.gov.cn/api/f/a.pdf", "附件", None)], 29),
    ('[{"title":"no url"},{"url":"/no-title"}]', "http://x.gov.cn/api", [], 0),
]


@pytest.mark.parametrize("text,url,links,npages", JSON_CASES)
def test_json_lists(text, url, links, npages):
    e = jsonlist.parse_json(url, text)
    assert [(l.url, l.text, l.date) for l in e.links] == links
    assert len(e.pages) == npages


# ---- generic pages ------------------------------------------------------------------------

def test_generic_links_of_every_kind():
    url = "http://www.example.gov.cn/xxgk/ndbg/index.asp"
    e = extract(url, load("generic_list.html"))
    by_url = {l.url: l for l in e.links}
    base = "http://www.example.gov.cn/xxgk/ndbg/"
    assert by_url[base + "show.asp?id=203"].date == "2024-01-31"          # <base href>, 2024年01月31日
    assert by_url[base + "show.asp?id=150"].text.startswith("2022年")    # onclick window.open
    assert base + "list_old.html" in by_url                              # data-url
    assert by_url[base + "2021.html"].text == "2021年报"                 # <area>
    assert by_url[base + "iframe_list.html"].text == "往年年报"           # <iframe>
    assert not any(u.startswith(("javascript", "mailto")) or "#" in u for u in by_url)
    assert set(urls(e.pages)) == {base + "index.asp?page=1", base + "index.asp?page=2", base + "index.asp?page=9"}
    assert e.publisher == "示例市统计局"
    assert e.breadcrumb == "首页 > 信息公开 > 年度报告"
    assert e.script_built is False


def test_script_built_page_is_flagged():
    e = extract("http://www.example.gov.cn/xxgk/nb/", load("script_built.html"))
    assert e.script_built is True
    assert e.breadcrumb == "首页 > 信息公开 > 年报"


SCRIPT_BUILT_CASES = [
    ('<ul id="list"></ul><script>$.ajax({url:"/x"})</script>', True),
    ('<div class="data-list"></div><script>fetch("/api/x").then(r=>r.json())</script>', True),
    ('<div id="app"><li v-for="a in list"><a :href="a.url">{{a.title}}</a></li></div><script src="/js/vue.min.js"></script>', True),
    ('<ul id="list"><li><a href="/a.html">年度报告</a></li></ul><script>$.ajax({url:"/count"})</script>', False),
    ('<ul id="list"></ul>', False),
    ('<div class="header"></div><script>$.get("/visit")</script><a href="/a.html">a</a>', False),
    # framework markup that draws no links: an avalon-dressed article holds its body in the HTML
    ('<div ms-controller="page"><div ms-attr="{title: @t}"><h1>2023年度报告</h1><p>正文</p></div>'
     '<span ms-text="@hits">{{@hits}}</span></div><script src="/js/avalon.js"></script>', False),
    ('<div id="app"><p v-if="ok">{{ msg }}</p><a href="/a.html">a</a></div><script src="/js/vue.min.js"></script>', False),
    # templates that draw links: a bound href, a repeated link, a script template, an empty v-html box
    ('<div ms-controller="l"><a ms-attr="{href: el.url}">x</a></div><script src="/js/avalon.js"></script>', True),
    ('<div><a href="{{ item.url }}">{{ item.title }}</a></div><script>$.ajax({url:"/x"})</script>', True),
    ('<script type="text/html" id="t"><li><a href="{{url}}">{{t}}</a></li></script>'
     '<div id="box"></div><script>$.get("/api")</script>', True),
    ('<div id="art" v-html="body"></div><script src="/js/vue.js"></script>', True),
]


@pytest.mark.parametrize("body,expected", SCRIPT_BUILT_CASES)
def test_script_built_rules(body, expected):
    html = f"<html><body>{body}</body></html>"
    assert extract("http://x.gov.cn/", html).script_built is expected


def test_records_in_scripts_are_links():
    html = """<html><body><ul id="list"></ul><script>
    var data = [{title: '2023年度报告', url: './202401/t20240101_1.html', date: '2024-01-01'},
                {"title": "2022\\u5e74\\u5ea6\\u62a5\\u544a", "link": "/b/2.html"}];
    $.ajax({url: '/more'});</script></body></html>"""
    e = extract("http://x.gov.cn/nb/index.html", html)
    by_url = {l.url: l for l in e.links}
    assert by_url["http://x.gov.cn/nb/202401/t20240101_1.html"] == Link(
        "http://x.gov.cn/nb/202401/t20240101_1.html", "2023年度报告", "2024-01-01")
    assert by_url["http://x.gov.cn/b/2.html"].text == "2022年度报告"
    assert e.script_built is False


ABSOLUTE_CASES = [
    ("http://a.gov.cn/x/y.html", " ./z.html\n", "http://a.gov.cn/x/z.html"),
    ("http://a.gov.cn/x/y.html", "../p.pdf#page=2", "http://a.gov.cn/p.pdf"),
    ("https://a.gov.cn/x/", "//b.gov.cn/c", "https://b.gov.cn/c"),
    ("http://a.gov.cn/", "javascript:void(0)", None),
    ("http://a.gov.cn/", "mailto:x@a.gov.cn", None),
    ("http://a.gov.cn/", "#", None),
    ("http://a.gov.cn/", "ftp://a.gov.cn/f", None),
    ("http://a.gov.cn/x/", "a\u00a0b.html", "http://a.gov.cn/x/ab.html"),
]


@pytest.mark.parametrize("base,href,expected", ABSOLUTE_CASES)
def test_absolute(base, href, expected):
    assert absolute(base, href) == expected


@pytest.mark.parametrize("text,expected", [
    ("[2019-1-31]", "2019-01-31"), ("2019年01月31日", "2019-01-31"), ("(2019.01.31)", "2019-01-31"),
    ("2019/1/3 10:00", "2019-01-03"), ("2019年度报告", None), ("2019-13-40", None), ("", None),
])
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("html,expected", [
    ('<div class="position">当前位置：<a>首页</a> &gt; <a>政务公开</a> &gt; 年报</div>', "首页 > 政务公开 > 年报"),
    ('<div><span>您现在的位置：</span><a>首页</a><img src="a.gif"><a>年报</a></div>', "首页 > 年报"),
    ('<div class="bread"><a>首页</a> » <a>信息公开</a></div>', "首页 > 信息公开"),
    ('<div class="main">正文</div>', ""),
])
def test_breadcrumb(html, expected):
    assert breadcrumb(parse_html(f"<html><body>{html}</body></html>")) == expected


def test_empty_and_broken_input():
    assert extract("http://x.gov.cn/", "").links == []
    e = extract("http://x.gov.cn/", '<?xml version="1.0" encoding="gbk"?><html><body><a href="/a">a</a>')
    assert urls(e.links) == ["http://x.gov.cn/a"]
    assert extract("http://x.gov.cn/api?page=1", "{not json", content_type="application/json").links == []


@pytest.mark.parametrize("html,expected", [
    # an article shell: empty body container, content fetched by script
    ('<h1 id="title"></h1><div id="content"></div><script>fetch("/api/content/1")</script>', True),
    ('<div class="TRS_Editor"></div><script>$.ajax({url:"/doc"})</script>', True),
    # the same shell without any script fetching: just an empty page
    ('<div id="content"></div>', False),
    # a real article with its body in the page
    ('<div id="zoom"><p>正文内容很长很长的一段话。</p><a href="a.pdf">附件</a></div><script>fetch("/x")</script>', False),
    # a list wrapper called content with an empty list inside is a list, not an article
    ('<div class="gkml-content"><ul id="list"></ul></div><script>fetch("/api")</script>', False),
])
def test_article_script_built(html, expected):
    from crawler.cms.generic import article_script_built
    from crawler.cms.page import parse_html
    assert article_script_built(parse_html(f"<html><body>{html}</body></html>")) is expected


# ---- page metadata: the edge cases the fast paths must read as the plain XPath did ----

def _page(head: str = "", body: str = ""):
    return parse_html(f"<html><head>{head}</head><body>{body}</body></html>")


@pytest.mark.parametrize("head,body,expected", [
    ('<META NAME="ARTICLETITLE" CONTENT=" 标题\u3000甲 ">', "<h1>不是它</h1>", "标题 甲"),
    # blank content is skipped for the next meta, and ArticleTitle wins over an earlier title
    ('<meta name="title" content="次选"><meta name="ArticleTitle" content=" "><meta name="articletitle" content="首选">', "", "首选"),
    ('<meta name="Title" content="次选">', "", "次选"),
    # XPath's translate() folds ASCII only: a Kelvin sign is not a k, a dotted İ is not an i
    ('<meta name="T\u0130TLE" content="x">', "<h1>标题</h1>", "标题"),
    ("", '<meta name="title" content="正文里的 meta"><h1>标题</h1>', "正文里的 meta"),
    ("", "<h1>x</h1><h1>第二个</h1>", "第二个"),
    ("", '<div id="zoomtitle">缩放标题</div><div class="title">类</div>', "缩放标题"),
    ("", '<div class="a\ttitle\nb">带制表符</div>', "带制表符"),
    ("", '<div class="subtitle">不是</div><span class="detail-title">详情</span>', "详情"),
    ("", "<h1>" + "长" * 250 + "</h1><h2>备选</h2>", "备选"),
])
def test_heading_sources(head, body, expected):
    from crawler.cms.page import heading
    assert heading(_page(head, body)) == expected


@pytest.mark.parametrize("head,body,expected", [
    ('<meta name="SOURCE" content=""><meta name="source" content="来源甲">', "<p>来源：乙</p>", "来源甲"),
    ("", "<table><tr><td>发布机构</td><td>某某人民政府办公室</td></tr></table>", "某某人民政府办公室"),
    ("", "<p><b>信息来源</b>：市政府 办公室</p>", "市政府"),
    # the text fallback reads whitespace as norm() leaves it: zero-width marks end the value
    ("", "<p>来源：\u200b某局\u200b办公室</p>", "某局"),
    ("", "<p>文字 信息来源\u3000：\u00a0司法局，其他</p>", "司法局"),
    ("", "<p>发文<!--x-->单位：测试局</p>", "测试局"),
    # the text fallback reads what a reader sees: not a script's source, and never across a block
    ("", "<script>var s='来源：脚本';</script><p>正文</p>", None),
    ("", "<div>日期 来源：某区科学技术局</div><div><p>科学技术局2019年</p></div>", "某区科学技术局"),
    ("", "<p>没有标签</p>", None),
    ("<title>来源：标题</title>", "<p>正文</p>", None),
])
def test_publisher_sources(head, body, expected):
    from crawler.cms.page import publisher
    assert publisher(_page(head, body)) == expected


@pytest.mark.parametrize("body,expected", [
    # a label split by a comment or an element is still the element's own text
    ('<div>当前<!-- c -->位置：<a>首页</a> » 栏目</div>', "首页 > 栏目"),
    ('<div><b>x</b>您的位<i>y</i>置:<a>Q</a>', "Q"),
    ('<div><script>var s="当前位置：";</script><div>现在位置:<a>首</a>-&gt;文</div></div>', "首 > 文"),
    # a label in front of a long block does not make it a breadcrumb; the class still can
    ('<div>当前位置：' + "长" * 500 + '<a>a</a></div><div class="weizhi"><a>首页</a>&gt;乙</div>', "首页 > 乙"),
    ('<div class="nav-path">' + "长" * 500 + '<a>a</a></div>', ""),
    ('<div id="CurrentPos" class="x"><a title="全称首页">首...</a> › <a><img alt="图"></a></div>', "首... > 图"),
])
def test_breadcrumb_label_and_class_edges(body, expected):
    assert breadcrumb(_page("", body)) == expected


@pytest.mark.parametrize("html,expected", [
    ('<head><base href=" \n "><base href="/x/y/"></head>', "http://a.gov.cn/x/y/"),
    ('<head><base></head><body><base href="../up/"></body>', "http://a.gov.cn/up/"),
    ("<head><title>t</title></head>", "http://a.gov.cn/p/q.html"),
])
def test_base_url_any_base_in_the_document(html, expected):
    from crawler.cms.page import base_url
    assert base_url(parse_html(f"<html>{html}</html>"), "http://a.gov.cn/p/q.html") == expected


def test_page_title_first_title_anywhere():
    from crawler.cms.page import page_title
    assert page_title(_page("<title> 一 \u3000二 </title>", "<title>后</title>")) == "一 二"
    assert page_title(_page("", "<svg><title>图</title></svg>")) == "图"
    assert page_title(parse_html("")) == ""
