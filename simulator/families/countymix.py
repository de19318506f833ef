"""countymix: a county government's site (www.<county>.gov.cn) whose one 政府信息公开年报 column mixes
the county's own reports, its departments' and its towns' and 街道's, as most county sites do.
Titles print the publisher as people write it, differently from year to year:
- the government: the place name alone (「嘉善县2019年…」, 「嘉善2020年度…」), 县政府, or in full;
- a department: in full (嘉善县住房和城乡建设局), with the level prefix (县住建局) or bare (住建局);
- a town or 街道: without its county (西塘镇, 魏塘街道), with 人民政府 / 办事处, or after the county.
The article's own field gives the full name, in one of four markups (the page varies by article,
not by publisher): a key-value table cell by cell; 「发布机构：嘉善县住房和城乡建设局发布日期：2019-01-01」
run together in one <td>; the same from adjacent <span>s in one cell; 信息来源： in a div beside
<meta name="ContentSource">. The breadcrumb names only the column (首页 > 政务公开 > 政府信息公开年报).
The column pages by 下一页 (index.html, index_1.html, ...), ten a page.

Truth: each report's publisher is the canonical name (嘉善县人民政府, 嘉善县住房和城乡建设局,
嘉善县西塘镇人民政府, 嘉善县魏塘街道办事处; simulator/places.py)."""
from __future__ import annotations

from ..model import Column
from ..places import by_code, county_government, department, township
from ..rand import rng, stable_int
from .common import Site
from .pubkit import Docs, attachments_html, esc, years_with_gap

PER_PAGE = 10
COL = 1315603
N_DEPARTMENTS, N_TOWNS = 4, 4
KINDS = ("pdf", "docx", "", "pdf", "pdf", "")
TITLES = ["{n}{y}年政府信息公开工作年度报告", "{n}{y}年度政府信息公开工作报告", "{y}年{n}政府信息公开工作年度报告",
          "{n}{y}年度政府信息公开工作年度报告"]


def build(site: Site, *, n_departments: int = N_DEPARTMENTS, n_towns: int = N_TOWNS) -> None:
    p = site.portal
    place = by_code(p.region_code)
    r = rng(site.seed, p.site_id, "countymix")
    gov = county_government(place)
    docs = Docs(site)
    out = []

    def add(pub: dict, printed: list[str], years: list[int], salt: str) -> None:
        ur = rng(site.seed, p.site_id, "countymix", salt)
        order = ur.sample(printed, len(printed))
        for i, year in enumerate(years):
            name = order[i % len(order)]
            title = ur.choice(TITLES).format(n=name, y=year).replace("政府政府", "政府")
            kind = KINDS[stable_int(site.seed, p.site_id, salt, year) % len(KINDS)]
            out.append(docs.report(ur, title=title, year=year, publisher=pub, printed=name, column="xxgknb",
                                   attachment=kind))

    short = place.county_short
    add(gov, [place.county, short, f"{place.county}人民政府", f"{place.county}政府"],
        years_with_gap(r, 5, 6), "gov")
    for full, abbrs in r.sample(place.county_departments, min(n_departments, len(place.county_departments))):
        pub = department(place.county, full, gov["name"])
        abbr = abbrs[0]
        add(pub, [place.county + full, "县" + abbr, abbr], years_with_gap(r, 2, 3), full)
    streets = [t for t in place.towns if t.endswith("街道")]
    towns = [t for t in place.towns if not t.endswith("街道")]
    picked = r.sample(streets, 1) + r.sample(towns, 2)
    picked += r.sample([t for t in place.towns if t not in picked], min(n_towns, len(place.towns)) - len(picked))
    for town in picked:
        pub = township(place, town)
        tail = "办事处" if town.endswith("街道") else "人民政府"
        add(pub, [town, town + tail, place.county + town][: 2 + (r.random() < 0.3)], years_with_gap(r, 2, 2), town)
    # look-alikes in the same column: 通知 on compiling reports, a 工作要点, a town's 法治政府 report
    lr = rng(site.seed, p.site_id, "countymix", "lookalikes")
    out.append(docs.lookalike(lr, column="xxgknb", publisher=gov, printed=gov["name"], reasons=("通知",)))
    out.append(docs.lookalike(lr, column="xxgknb", publisher=gov, printed=place.county, in_title=place.county,
                              reasons=("工作要点",), attachment=""))
    town_pub = township(place, picked[-1])
    out.append(docs.lookalike(lr, column="xxgknb", publisher=town_pub, printed=picked[-1], in_title=picked[-1],
                              reasons=("法治政府",)))
    if "backdated" in p.quirks and site.world.epoch == 1:
        # Uploaded late: the government's report for the year before its oldest listed one
        # appears between two crawls, dated as that year's report would be, so a newest-first
        # list shows it on its last page.
        gov_years = {d.year for d in out if d.kind == "report" and d.publisher["name"] == gov["name"]}
        gap = min(gov_years) - 1
        br = rng(site.seed, p.site_id, "countymix", "backdated")
        out.append(docs.report(br, title=f"{place.county}人民政府{gap}年政府信息公开工作年度报告", year=gap,
                               publisher=gov, printed=f"{place.county}人民政府", column="xxgknb", attachment="pdf"))
    out.sort(key=lambda d: (d.date, d.doc_id), reverse=True)
    col = Column(slug="xxgknb", name="政府信息公开年报", kind="reports", docs=out, agency=p.agency,
                 url=site.url("/zwgk/xxgknb/index.html"))
    site.columns = [col]
    for d in out:
        style = stable_int(site.seed, p.site_id, d.doc_id, "markup") % 4
        if style in (0, 3):
            d.url = site.url(f"/art/{d.date.year}/{d.date.month}/{d.date.day}/art_{COL}_{d.doc_id}.html")
        else:
            d.url = site.url(f"/zwgk/xxgknb/{d.date:%Y%m}/t{d.date:%Y%m%d}_{d.doc_id}.html")
        for k, a in enumerate(d.attachments):
            if style in (0, 3):
                a.url = site.url(f"/module/download/{stable_int(site.seed, d.doc_id, k):016x}.{a.kind}")
            else:
                a.url = site.url(f"/zwgk/xxgknb/{d.date:%Y%m}/P0{d.date:%Y%m%d}{d.doc_id % 100000:05d}{k}.{a.kind}")
        docs.route_files(d)
        site.route(d.url, lambda req, d=d, s=style: site.html(_article(site, docs, d, s), modified=d.date))
        site.note_doc(d)
    pages = max(1, -(-len(out) // PER_PAGE))
    for n in range(pages):
        path = "/zwgk/xxgknb/index.html" if n == 0 else f"/zwgk/xxgknb/index_{n}.html"
        site.route(site.url(path), lambda req, n=n: site.html(_list(site, col, n, pages)))
    zwgk = lambda req: site.html(site.page("政务公开", (
        '<div class="crumb">首页 &gt; 政务公开</div><ul class="gk-nav">'
        '<li><a href="/zwgk/xxgkzn/index.html">政府信息公开指南</a></li>'
        '<li><a href="/zwgk/xxgknb/index.html">政府信息公开年报</a></li>'
        '<li><a href="/zwgk/xxgkzd/index.html">政府信息公开制度</a></li></ul>')))
    site.route(site.url("/zwgk/index.html"), zwgk)
    for slug, name in (("xxgkzn", "政府信息公开指南"), ("xxgkzd", "政府信息公开制度")):
        site.route(site.url(f"/zwgk/{slug}/index.html"), lambda req, name=name: site.html(site.page(
            name, f'<div class="crumb">首页 &gt; 政务公开 &gt; {name}</div><p>{esc(p.agency)}{name}。</p>')))
    home = lambda req: site.html(site.page("首页", (
        '<ul class="nav"><li><a href="/">首页</a></li><li><a href="/zwgk/index.html">政务公开</a></li>'
        '<li><a href="/zwgk/xxgknb/index.html">信息公开年报</a></li></ul>')))
    site.route(site.url("/"), home)
    site.route(site.url("/index.html"), home)


def _list(site: Site, col, n: int, pages: int):
    docs = site.visible(col.docs)[n * PER_PAGE:(n + 1) * PER_PAGE]
    items = "".join(f'<li><a href="{esc(d.url)}" title="{esc(d.title)}" target="_blank">{esc(d.title)}</a>'
                    f'<span class="date">{d.date:%Y-%m-%d}</span></li>' for d in docs)
    nxt = f'<a href="index_{n + 1}.html">下一页</a>' if n + 1 < pages else ""
    prev = (f'<a href="{"index.html" if n == 1 else f"index_{n - 1}.html"}">上一页</a>') if n else ""
    return site.page(col.name, f'<div class="crumb">首页 &gt; 政务公开 &gt; {col.name}</div><ul class="xxgk-list">{items}'
                               f'</ul><div class="pager">共{pages}页 {prev} {nxt}</div>')


def _article(site: Site, docs: Docs, d, style: int) -> str:
    full = esc(d.publisher["name"])
    idx = f"{site.portal.region_code}00/{d.date:%Y}-{d.doc_id % 100000:05d}"
    head = ""
    if style == 0:
        meta = (f'<table class="xxgk_table"><tr><th>索引号</th><td>{idx}</td><th>发布机构</th><td>{full}</td></tr>'
                f'<tr><th>发布日期</th><td>{d.date:%Y-%m-%d}</td><th>公开方式</th><td>主动公开</td></tr></table>')
    elif style == 1:
        meta = (f'<table class="info" width="100%"><tr><td>索引号：{idx}</td></tr>'
                f'<tr><td>发布机构：{full}发布日期：{d.date:%Y-%m-%d}</td></tr></table>')
    elif style == 2:
        meta = (f'<table width="100%" border="0"><tr><td align="center"><span>发布机构：{full}</span>'
                f'<span>发布日期：{d.date:%Y-%m-%d}</span><span>浏览次数：<b id="hits">0</b></span></td></tr></table>')
    else:
        head = f'<meta name="ContentSource" content="{full}">'
        meta = f'<div class="article-info">信息来源：{full}&nbsp;&nbsp;发布时间：{d.date:%Y-%m-%d}</div>'
    crumb = '<div class="crumb">首页 &gt; 政务公开 &gt; 政府信息公开年报</div>'
    body = f'{crumb}<div class="art"><h1>{esc(d.title)}</h1>{meta}<div id="zoom">{docs.body_html(d)}</div>' \
           f'{attachments_html(d, style=style % 3)}</div>'
    return site.page(d.title, body, head=head)
