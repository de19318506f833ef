"""What a visitor can reach from a page, mechanism by mechanism, from tables: frames, redirects,
click handlers (literal and page functions), pickers, post-backs, GET forms, URL encodings; and
hostile input ending within budget."""
from __future__ import annotations

import time

import pytest

from crawler import cms, links
from crawler.cms import forms, jscalls
from crawler.cms.page import encode_raw

BASE = "http://a.gov.cn/xxgk/list.html"


def _resolve(calls, scripts, forms=None):
    """jscalls.resolve in a process of its own: V8's heap stays out of the test process (whose
    peak RSS every later crawl subprocess inherits, and the hostile tests bound)."""
    import json
    import subprocess
    import sys

    code = ("import json, sys; from crawler.cms import jscalls; a = json.loads(sys.stdin.read());"
            " o = jscalls.resolve(a['calls'], a['scripts'], a['forms']);"
            " print(json.dumps({'targets': o.targets, 'errors': o.errors}))")
    proc = subprocess.run([sys.executable, "-c", code], input=json.dumps({"calls": calls, "scripts": scripts,
                                                                          "forms": forms or []}),
                          capture_output=True, text=True, timeout=60)
    return jscalls.Outcome(**json.loads(proc.stdout))

LINK_CASES = [
    # (markup, expected (url, via, text) present)
    ('<frameset><frame src="top.html"><frame src="main.html" name="m"></frameset>',
     ("http://a.gov.cn/xxgk/main.html", "frame", "m")),
    ('<iframe src="/gk/list.jsp?cid=7"></iframe>', ("http://a.gov.cn/gk/list.jsp?cid=7", "frame", "")),
    ('<meta http-equiv="refresh" content="0; url=/xxgk/index.html">', ("http://a.gov.cn/xxgk/index.html", "frame", "")),
    ("<script>window.location.href='/new/';</script>", ("http://a.gov.cn/new/", "frame", "")),
    ("<script>location.replace('/moved.html')</script>", ("http://a.gov.cn/moved.html", "frame", "")),
    ('<a href="javascript:void(0)" onclick="window.open(\'/c.html?id=9\',\'_blank\')">2019年年报</a>',
     ("http://a.gov.cn/c.html?id=9", "a", "2019年年报")),
    ('<area href="/map/ndbg.html" alt="年报">', ("http://a.gov.cn/map/ndbg.html", "a", "年报")),
    ('<select onchange="location.href=this.value"><option value="">选择</option>'
     '<option value="nb/2016.htm">2016年度</option></select>', ("http://a.gov.cn/xxgk/nb/2016.htm", "option", "2016年度")),
    ('<base href="/site/wjj/"><a href="ndbg/index.htm">年报</a>', ("http://a.gov.cn/site/wjj/ndbg/index.htm", "a", "年报")),
    ('<a href="/up/%B6%AB%C1%EB.pdf">东岭</a>', ("http://a.gov.cn/up/%B6%AB%C1%EB.pdf", "a", "东岭")),
]


@pytest.mark.parametrize("markup,expected", LINK_CASES)
def test_links_as_a_browser_resolves_them(markup, expected):
    page = cms.extract(BASE, f"<html><head></head><body>{markup}</body></html>")
    found = {(ln.url, ln.via, ln.text) for ln in page.links if ln.via != "call"}
    assert expected in found, found


CALL_CASES = [
    # (handler markup, page script, expected URL strings)
    ('<a href="javascript:;" onclick="showInfo(\'123\')">x</a>',
     "function showInfo(id){ window.open('/xxgk/content.html?id=' + id, '_blank'); }", ["/xxgk/content.html?id=123"]),
    ('<a href="javascript:openDoc(3,\'P0201\')">x</a>',
     "function openDoc(a,b){ var u = '/doc/' + a + '/' + b + '.pdf'; location.href = u; }", ["/doc/3/P0201.pdf"]),
    ('<li onclick="sw(\'ndbg\')">年报</li>',
     "function sw(c){ document.getElementById('f').src = '/list.html?cid=' + c; }", ["/list.html?cid=ndbg"]),
    ('<a href="#" onclick="return go(5)">x</a>',
     "var go = function(n){ $('#frame').attr('src', 'page_' + n + '.html'); return false; };", ["page_5.html"]),
    ('<select name="y" onchange="byYear(this.value)"><option value="2017">2017</option></select>',
     "function byYear(y){ window.location = '/nb/' + y + '/'; }", ["/nb/2017/"]),
    ('<a onclick="layerOpen(7)">x</a>',
     "function layerOpen(i){ layer.open({type: 2, content: '/v.jsp?id=' + i}); }", ["/v.jsp?id=7"]),
]


@pytest.mark.parametrize("markup,script,expected", CALL_CASES)
def test_page_functions_are_run(markup, script, expected):
    page = cms.extract(BASE, f"<html><body>{markup}<script>{script}</script></body></html>")
    calls = [ln for ln in page.links if ln.via == "call"]
    assert calls, page.links
    outcome = _resolve([c.code for c in calls], [page.inline_js], page.forms)
    assert [u for t in outcome.targets for u in t] == expected, outcome


def test_a_function_submitting_a_hidden_form_is_the_request_it_makes():
    html = ('<form name="pageForm" action="iList.jsp" method="get"><input type="hidden" name="cat" value="7">'
            '<input type="hidden" name="p" value="1"></form><a href="javascript:void(0)" onclick="goPage(3)">下一页</a>'
            '<script>function goPage(n){ var f = document.forms["pageForm"]; f.p.value = n; f.submit(); }</script>')
    page = cms.extract("http://a.gov.cn/info/iList.jsp?cat=7&p=1", f"<html><body>{html}</body></html>")
    calls = [ln for ln in page.links if ln.via == "call"]
    outcome = _resolve([c.code for c in calls], [page.inline_js], page.forms)
    (target,) = outcome.targets[0]
    assert target.startswith("__form__:") and '"p": "3"' in target.replace('":"', '": "') and "iList.jsp" in target


HOSTILE_SCRIPTS = [
    ("function f(){ return f(); }", "f()", "RangeError"),
    ("function f(){ while (true) {} }", "f()", "timeout"),
    ("function f(){ var a = []; while (true) a.push(new Array(1e6)); }", "f()", None),
    ("this is not javascript {{{", "f()", None),
]


@pytest.mark.parametrize("script,call,error", HOSTILE_SCRIPTS)
def test_hostile_scripts_end_within_budget(script, call, error):
    # In a process of its own: a V8 heap driven to its limit would stay in this one (and in the
    # peak RSS every later subprocess inherits from it).
    import json
    import subprocess
    import sys

    code = ("import json, sys; from crawler.cms import jscalls; o = jscalls.resolve([sys.argv[2]], [sys.argv[1]]);"
            " print(json.dumps({'targets': o.targets, 'errors': o.errors}))")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code, script, call], capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < jscalls.PAGE_BUDGET_MS / 1000 + 10
    outcome = json.loads(proc.stdout)
    assert outcome["targets"] == [[]]
    assert outcome["errors"], outcome
    if error:
        assert error in outcome["errors"], outcome["errors"]


WEBFORM = """<form name="aspnetForm" method="post" action="./List.aspx?cid=3" id="aspnetForm">
<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="dDwtMTA4NzA=" />
<input type="hidden" name="__VIEWSTATEGENERATOR" value="C2EE9ABB" />
<input type="hidden" name="__EVENTVALIDATION" value="/wEWAgL+" />
<input type="hidden" name="__EVENTTARGET" value="" /><input type="hidden" name="__EVENTARGUMENT" value="" />
<a href="javascript:__doPostBack('ctl00$Main$Pager','2')">2</a>
<a href="javascript:__doPostBack('ctl00$Main$Pager','3')">3</a>
<a href="javascript:__doPostBack('ctl00$Login','')">登录</a>
<select name="ctl00$Main$Year" onchange="javascript:setTimeout('__doPostBack(\\'ctl00$Main$Year\\',\\'\\')', 0)">
<option selected="selected" value="2020">2020</option><option value="2019">2019</option></select>
</form>"""


def test_postbacks_are_the_post_the_browser_sends():
    page = cms.extract("http://a.gov.cn/Info/List.aspx?cid=3", f"<html><body>{WEBFORM}</body></html>")
    posts = {(f.formdata["__EVENTTARGET"], f.formdata["__EVENTARGUMENT"], f.text): f for f in page.pages
             if f.method == "POST"}
    follow = posts[("ctl00$Main$Pager", "2", "2")]
    assert follow.url == "http://a.gov.cn/Info/List.aspx?cid=3"
    assert follow.formdata["__VIEWSTATE"] == "dDwtMTA4NzA="
    assert follow.formdata["__EVENTVALIDATION"] == "/wEWAgL+"
    assert follow.formdata["__VIEWSTATEGENERATOR"] == "C2EE9ABB"
    year = posts[("ctl00$Main$Year", "", "2019")]
    assert year.formdata["ctl00$Main$Year"] == "2019"
    # the view state is not part of the identity: page 3 asked from page 2 is the same request
    assert follow.key and "dDwtMTA4NzA" not in follow.key
    # a call of __doPostBack is never left for the script runner
    assert not [ln for ln in page.links if ln.via == "call"]


def test_a_form_with_a_thousand_options_is_bounded():
    options = "".join(f'<option value="{i}">{i}</option>' for i in range(1000))
    html = f'<form action="/list.jsp"><select name="year">{options}</select></form>'
    page = cms.extract(BASE, f"<html><body>{html}</body></html>")
    assert len([f for f in page.pages if "list.jsp" in f.url]) == forms.MAX_FORM_CHOICES


GET_FORM_CASES = [
    ('<form action="nb.jsp" method="get"><input type="hidden" name="cid" value="9"><select name="nd">'
     '<option value="2018">2018年</option><option value="2017">2017年</option></select></form>',
     "http://a.gov.cn/xxgk/nb.jsp?cid=9&nd=2017"),
    ('<form action="/gk/list"><input type="text" name="year"></form>', "http://a.gov.cn/gk/list?year=2012"),
]


@pytest.mark.parametrize("markup,expected", GET_FORM_CASES)
def test_get_pickers_are_submitted_per_choice(markup, expected):
    page = cms.extract(BASE, f"<html><body>{markup}</body></html>")
    assert expected in {f.url for f in page.pages}


def test_a_search_box_is_not_a_picker():
    html = ('<form action="/search.jsp"><input name="keyword" value=""><select name="scope">'
            '<option value="all">全站</option><option value="gk">公开</option></select></form>')
    assert not cms.extract(BASE, f"<html><body>{html}</body></html>").pages


ENCODING_CASES = [
    ("http://a.gov.cn/up/年报.pdf", "gbk", "http://a.gov.cn/up/%C4%EA%B1%A8.pdf"),
    ("http://a.gov.cn/up/年报.pdf", "utf-8", "http://a.gov.cn/up/%E5%B9%B4%E6%8A%A5.pdf"),
    ("http://a.gov.cn/up/%C4%EA%B1%A8.pdf", "utf-8", "http://a.gov.cn/up/%C4%EA%B1%A8.pdf"),
    ("http://a.gov.cn/s.jsp?q=年报&x=1", "gb18030", "http://a.gov.cn/s.jsp?q=%C4%EA%B1%A8&x=1"),
    ("http://a.gov.cn/up/2019 年报.doc", "gbk", "http://a.gov.cn/up/2019%20%C4%EA%B1%A8.doc"),
]


@pytest.mark.parametrize("url,encoding,expected", ENCODING_CASES)
def test_urls_keep_the_pages_encoding(url, encoding, expected):
    assert encode_raw(url, encoding) == expected


def test_canonical_url_keeps_gbk_escapes_byte_for_byte():
    url = "http://a.gov.cn/d.jsp?name=%B6%AB%C1%EB.pdf&a=1"
    assert links.canonical_url(url) == "http://a.gov.cn/d.jsp?a=1&name=%B6%AB%C1%EB.pdf"
