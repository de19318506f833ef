"""When a page needs a browser: decisions from tables, no browser needed."""
import pytest

from crawler.render import SAMPLE, RenderSampler, challenge_kind, found_more, looks_like_challenge, page_shape

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


ART = "http://a.gov.cn/art/2021/{}.html"

# (case, reason, what each render of the shape found, in order; pages asked about after them;
#  how many of those are rendered, the shape's decision at the end)
SAMPLER = [
    ("shell that never pays: read plainly after SAMPLE", "article_shell", [False] * SAMPLE, 3, 0, "plain"),
    ("shell that pays: keeps rendering", "list_shell", [False, True], 3, 3, "browser"),
    ("one fruitless render is not enough", "article_shell", [False], 2, 2, "sampling"),
    ("starved pages always rendered", "starved", [False] * 5, 3, 3, "sampling"),
    ("render: always is obeyed", "always", [False] * 5, 3, 3, "sampling"),
    ("a find resets the count", "list_shell", [False, True, False], 2, 2, "browser"),
]


@pytest.mark.parametrize("case,reason,finds,later,rendered,decision", SAMPLER, ids=[c[0] for c in SAMPLER])
def test_render_sampler_decides_by_shape_from_evidence(case, reason, finds, later, rendered, decision):
    sampler = RenderSampler()
    for i, more in enumerate(finds):
        assert sampler.wants(ART.format(i), reason)
        sampler.judged(ART.format(i), found_more=more, reason=reason)
    asked = [sampler.wants(ART.format(100 + i), reason) for i in range(later)]
    assert sum(asked) == rendered
    state = sampler.summary()["a.gov.cn/art/N/N.html"]
    assert state["decision"] == decision and state["skipped"] == later - rendered
    # another shape on the same site is judged on its own
    assert sampler.wants("http://a.gov.cn/col/col1/index.html", reason)


# (case, cap, second looks' finds in order, looks granted in order)
SECOND = [
    ("a second look that pays keeps them coming", 30, [True, True, True], [True, True, True]),
    ("SAMPLE fruitless second looks end them for the shape", 30, [False] * SAMPLE + [False],
     [True] * SAMPLE + [False]),
    ("a find resets the count", 30, [False, True, False, False], [True, True, True, True]),
    ("the run's cap holds whatever they find", 2, [True, True, True], [True, True, False]),
    ("a cap of 0: none", 0, [True], [False]),
]


@pytest.mark.parametrize("case,cap,finds,granted", SECOND, ids=[c[0] for c in SECOND])
def test_second_looks_are_budgeted_by_run_and_by_shape(case, cap, finds, granted):
    sampler = RenderSampler(second_looks=cap)
    got = []
    for i, more in enumerate(finds):
        ok = sampler.second_look(ART.format(i), "starved")
        got.append(ok)
        if ok:
            decision = sampler.second_judged(ART.format(i), found_more=more, reason="starved")
            # a find at the second look is a find for the shape; nothing found is not counted twice
            assert decision == ("browser" if more else sampler.summary()["a.gov.cn/art/N/N.html"]["decision"])
            assert sampler.summary()["a.gov.cn/art/N/N.html"]["renders"] == sum(
                1 for j, m in enumerate(finds[:i + 1]) if m and got[j])
    assert got == granted
    # another shape is judged on its own, within the same run cap
    room = got.count(True) < cap
    assert sampler.second_look("http://a.gov.cn/col/col1/index.html", "starved") == room


@pytest.mark.parametrize("plain,rendered,plain_text,rendered_text,expected", [
    ({"http://a/1"}, [("http://a/1", "x")], 100, 150, []),                        # nothing new
    ({"http://a/1"}, [("http://a/2", "2019年报告")], 100, 100, ["http://a/2"]),    # a new link the crawl follows
    (set(), [("http://a/css", "skip")], 0, 0, []),                                # a link it would not follow
    (set(), [], 0, 500, ["+500 characters of text"]),                              # the body drawn
])
def test_found_more_counts_followable_links_and_text(plain, rendered, plain_text, rendered_text, expected):
    got = found_more(plain_urls=plain, plain_text=plain_text, rendered=rendered, rendered_text=rendered_text,
                     followable=lambda url, text: text != "skip")
    assert got == expected


@pytest.mark.parametrize("html,expected", [
    (RS_412.decode(), True),
    (PLAIN.decode(), False),
    ("<html><body>" + "<a href='/x'>x</a>" * 5 + "<script>document.cookie='a=1'</script></body></html>", False),
])
def test_looks_like_challenge(html, expected):
    assert looks_like_challenge(html) is expected
