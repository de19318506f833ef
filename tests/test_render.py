"""When a page needs a browser: decisions from tables, no browser needed."""
import pytest

from crawler.render import RenderMemory, challenge_kind, looks_like_challenge, page_shape, should_render

RS_412 = b'<html><head><meta id="x" content="abc"><script>var a=1;document.cookie="FSSBBIl1UgzbN7N80T="+a;location.reload();</script></head><body></body></html>'
JSL_521 = b"<script>document.cookie='__jsl_clearance_s=1700000000.1|0|abc';location.href=location.pathname</script>"
PLAIN = b"<html><head><title>t</title><script src='/x.js'></script></head><body><a href='/a'>a</a></body></html>"


@pytest.mark.parametrize("status,headers,body,expected", [
    (412, [("Set-Cookie", "FSSBBIl1UgzbN7N80O=abc; Path=/")], RS_412, "js-412"),
    (521, [("Set-Cookie", "__jsluid_h=abc; path=/")], JSL_521, "js-521"),
    (200, [("Set-Cookie", "__jsluid_s=abc; path=/")], JSL_521, "js-cookie"),   # 200 carrying a challenge
    (200, [("Set-Cookie", "JSESSIONID=abc")], PLAIN, None),                   # ordinary cookie, ordinary page
    (412, [], b"Precondition Failed", None),                                  # a real 412, no script
    (521, [], b"<html>origin down</html>", None),
    (200, [("Set-Cookie", "__jsluid_s=abc")], PLAIN * 1000, None),            # big real page on a WAF'd site
    (403, [("Set-Cookie", "yd_cookie=abc")], JSL_521, "js-cookie"),
])
def test_challenge_kind(status, headers, body, expected):
    assert challenge_kind(status, headers, body) == expected


@pytest.mark.parametrize("url,shape", [
    ("http://a.gov.cn/col/col123/index.html", "a.gov.cn/col/colN/index.html"),
    ("http://a.gov.cn/col/col9/index_3.html?x=1", "a.gov.cn/col/colN/index_N.html"),
    ("http://a.gov.cn/art/2019/1/30/art_12_345.html", "a.gov.cn/art/N/N/N/art_N_N.html"),
    ("http://a.gov.cn/", "a.gov.cn/"),
])
def test_page_shape(url, shape):
    assert page_shape(url) == shape


def test_memory_remembers_shapes_not_urls():
    memory = RenderMemory()
    memory.remember("http://a.gov.cn/zwgk/nb/202101/t20210101_1.htm")
    assert memory.needs_browser("http://a.gov.cn/zwgk/nb/202302/t20230202_99.htm")
    assert not memory.needs_browser("http://a.gov.cn/zwgk/nb/index.htm")
    assert not memory.needs_browser("http://b.gov.cn/zwgk/nb/202101/t20210101_1.htm")


@pytest.mark.parametrize("mode,is_file,remembered,expected", [
    ("never", False, True, False),
    ("always", False, False, True),
    ("always", True, False, False),      # files are never rendered
    ("auto", False, False, False),
    ("auto", False, True, True),
    ("auto", True, True, False),
])
def test_should_render(mode, is_file, remembered, expected):
    assert should_render(mode, is_file=is_file, remembered=remembered) is expected


@pytest.mark.parametrize("html,expected", [
    (RS_412.decode(), True),
    (PLAIN.decode(), False),
    ("<html><body>" + "<a href='/x'>x</a>" * 5 + "<script>document.cookie='a=1'</script></body></html>", False),
])
def test_looks_like_challenge(html, expected):
    assert looks_like_challenge(html) is expected
