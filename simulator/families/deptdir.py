"""deptdir: a prefecture's 政府信息公开 platform (xxgk.<city>.gov.cn) hosting the city government and
seven of its departments, each in its own column, as on the platforms of many cities (嘉兴, 徐州...).
Every report's title omits its publisher: 「2019年政府信息公开工作年度报告」 sits in eight columns.
Who published it is known only from what surrounds it, and each department's pages are built by
a different template (five in all, so no class name or path names the department):

- `jcms`:   /col/col{N}/index.html, /art/Y/M/D/art_{N}_{id}.html; breadcrumb and a key-value table
            (发布机构 | 嘉兴市财政局, one cell each);
- `trs`:    /bmxxgk/{label}/ndbg/, ./YYYYMM/tYYYYMMDD_{id}.html; 您现在的位置 crumb with », 信息来源：;
- `jsp`:    /zfxxgk/list.jsp?unitid=&catid=nb, content.jsp?unitid=&id=; <meta name="ContentSource">
            and a <dl> 发布单位：;
- `crumb`:  /{label}/xxgknb/{id}.shtml; only a "/"-separated 当前位置 names the department;
- `column`: /bmgk/{unitid}/nb.htm lists under the department's heading; the article page
            (/xxgk/YYYYMM/{id}.htm, outside the department's path) names no one but the platform.

Truth: each report's publisher is the department (嘉兴市住房和城乡建设局) or the city's government
(simulator/places.py), never the platform's agency unless it is the government's own report."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from ..model import Column
from ..names import DEPARTMENTS
from ..places import by_code, department, prefecture_government
from ..rand import rng, stable_int
from .common import Site
from .pubkit import Docs, attachments_html, esc, years_with_gap

STYLES = ["jcms", "trs", "jsp", "crumb", "column"]
TITLES = ["{y}年政府信息公开工作年度报告", "{y}年度政府信息公开工作年度报告", "关于{y}年政府信息公开工作的年度报告",
          "{y}年信息公开年度报告", "政府信息公开工作年度报告（{y}年）", "{y}年度政府信息公开工作报告"]
KINDS = ("pdf", "", "docx", "pdf", "")
LABELS = {name: label for name, label in DEPARTMENTS}
N_DEPARTMENTS = 7


class Unit:
    """One publisher's corner of the platform: its home, its 年报 column, its documents."""

    def __init__(self, publisher: dict, label: str, style: str, number: int):
        self.publisher, self.label, self.style, self.number = publisher, label, style, number
        self.name = publisher["name"]
        self.docs = []
        self.home = self.col = ""


def build(site: Site) -> None:
    p = site.portal
    place = by_code(p.region_code)
    r = rng(site.seed, p.site_id, "deptdir")
    gov = prefecture_government(place)
    names = r.sample(place.prefecture_departments, N_DEPARTMENTS)
    styles = r.sample(STYLES, len(STYLES))
    units = [Unit(gov, "szf", styles[0], 1229000 + 17)]
    for k, dept in enumerate(names, 1):
        units.append(Unit(department(place.prefecture, dept, gov["name"]), LABELS.get(dept, f"bm{k}"),
                          styles[k % len(styles)], 1229000 + 17 + 41 * k))
    docs, queries = Docs(site), {}
    for u in units:
        ur = rng(site.seed, p.site_id, "deptdir", u.label)
        for i, year in enumerate(years_with_gap(ur, 2, 5)):
            title = ur.choice(TITLES).format(y=year)
            u.docs.append(docs.report(ur, title=title, year=year, publisher=u.publisher, printed=u.name,
                                      column=u.label, attachment=KINDS[(i + u.number) % len(KINDS)]))
        u.docs.append(docs.lookalike(ur, column=u.label, publisher=u.publisher, printed=u.name,
                                     attachment="pdf" if ur.random() < 0.5 else ""))
        u.docs.sort(key=lambda d: (d.date, d.doc_id), reverse=True)
        _place_unit(site, u)
        for d in u.docs:
            docs.route_files(d)
            _route(site, d.url, lambda req, d=d, u=u: site.html(_article(site, docs, u, d), modified=d.date), queries)
            site.note_doc(d)
        _route(site, u.col, lambda req, u=u: site.html(_list(site, u)), queries)
        _route(site, u.home, lambda req, u=u: site.html(_unit_home(site, u)), queries)
    site.columns = [Column(slug=u.label, name="政府信息公开年报", kind="reports", docs=u.docs, agency=u.name,
                           dept=u.label, url=u.col) for u in units]
    depts = "".join(f'<li><a href="{esc(u.home)}" title="{esc(u.name)}">{esc(u.name)}</a></li>' for u in units[1:])
    home = lambda req: site.html(_page(site, "首页", (
        f'<div class="szf"><h3>市政府信息公开</h3><a href="{esc(units[0].col)}">政府信息公开年报</a> '
        f'<a href="{esc(units[0].home)}">{esc(gov["name"])}</a></div>'
        f'<div class="bmxxgk"><h3>部门信息公开</h3><ul>{depts}</ul></div>')))
    site.route(site.url("/"), home)
    site.route(site.url("/index.html"), home)


def _hex(site: Site, *parts) -> str:
    return f"{stable_int(site.seed, site.portal.site_id, *parts):016x}"


def _place_unit(site: Site, u: Unit) -> None:
    """Assign the URLs of a unit's home, column, articles and files, by its template."""
    unitid = f"{u.number % 100000:05d}"
    if u.style == "jcms":
        u.home, u.col = site.url(f"/col/col{u.number - 1}/index.html"), site.url(f"/col/col{u.number}/index.html")
        for d in u.docs:
            d.url = site.url(f"/art/{d.date:%Y/%m/%d}/art_{u.number}_{d.doc_id}.html".replace("/0", "/"))
            for k, a in enumerate(d.attachments):
                a.url = site.url(f"/picture/0/{_hex(site, d.doc_id, k)}.{a.kind}")
    elif u.style == "trs":
        base = f"/bmxxgk/{u.label}/"
        u.home, u.col = site.url(base + "index.html"), site.url(base + "ndbg/index.html")
        for d in u.docs:
            d.url = site.url(f"{base}ndbg/{d.date:%Y%m}/t{d.date:%Y%m%d}_{d.doc_id}.html")
            for k, a in enumerate(d.attachments):
                a.url = site.url(f"{base}ndbg/{d.date:%Y%m}/P0{d.date:%Y%m%d}{d.doc_id}{k}.{a.kind}")
    elif u.style == "jsp":
        u.home = site.url(f"/zfxxgk/unit_{unitid}.html")
        u.col = site.url(f"/zfxxgk/list.jsp?unitid={unitid}&catid=nb")
        for d in u.docs:
            d.url = site.url(f"/zfxxgk/content.jsp?unitid={unitid}&id={d.doc_id}")
            for k, a in enumerate(d.attachments):
                a.url = site.url(f"/uploadfile/{d.date:%Y}/{d.date:%m%d}/{_hex(site, d.doc_id, k)[:12]}.{a.kind}")
    elif u.style == "crumb":
        u.home, u.col = site.url(f"/{u.label}/index.shtml"), site.url(f"/{u.label}/xxgknb/index.shtml")
        for d in u.docs:
            d.url = site.url(f"/{u.label}/xxgknb/{d.doc_id}.shtml")
            for k, a in enumerate(d.attachments):
                a.url = site.url(f"/{u.label}/xxgknb/files/{d.doc_id}_{k}.{a.kind}")
    else:
        u.home, u.col = site.url(f"/bmgk/{unitid}/index.htm"), site.url(f"/bmgk/{unitid}/nb.htm")
        for d in u.docs:
            d.url = site.url(f"/xxgk/{d.date:%Y%m}/{d.doc_id}.htm")
            for k, a in enumerate(d.attachments):
                a.url = site.url(f"/xxgk/file/{_hex(site, d.doc_id, k)[:10]}.{a.kind}")


def _route(site: Site, url: str, handler, queries: dict) -> None:
    """Register a handler; list.jsp and content.jsp answer by their query (unitid, id), whatever its order."""
    parts = urlsplit(url)
    if not parts.query:
        site.route(url, handler)
        return
    params = dict(parse_qsl(parts.query))
    key = (parts.path, params.get("unitid", ""), params.get("id", ""))
    if not queries:
        def dispatch(req):
            h = queries.get((req.path, req.params.get("unitid", ""), req.params.get("id", "")))
            return h(req) if h else site.not_found()
        site.route(site.url("/zfxxgk/list.jsp"), dispatch)
        site.route(site.url("/zfxxgk/content.jsp"), dispatch)
    queries[key] = handler


def _page(site: Site, title: str, body: str, *, head: str = "", suffix: str = "") -> str:
    p = site.portal
    platform = f"{p.region_name}政府信息公开平台"
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{esc(title)}{esc(suffix or " - " + platform)}</title>'
            f'{head}</head>\n<body><div class="top"><a href="/">{esc(platform)}</a></div>\n{body}\n'
            f'<div class="foot">{esc(p.agency)}办公室主办 网站标识码：{p.region_code}0001</div></body></html>')


def _items(u: Unit, docs, rel=None) -> str:
    link = rel or (lambda d: d.url)
    if u.style in ("trs", "column"):
        rows = "".join(f'<tr><td class="bt"><a href="{esc(link(d))}" target="_blank">{esc(d.title)}</a></td>'
                       f'<td class="rq">{d.date:%Y-%m-%d}</td></tr>' for d in docs)
        return f'<table class="tb-list" width="100%">{rows}</table>'
    if u.style == "jsp":
        rows = "".join(f'<dl><dt><a href="{esc(link(d))}" title="{esc(d.title)}">{esc(d.title)}</a></dt>'
                       f'<dd>{d.date:%Y.%m.%d}</dd></dl>' for d in docs)
        return f'<div class="zfxxgk_list">{rows}</div>'
    rows = "".join(f'<li><a href="{esc(link(d))}" title="{esc(d.title)}" target="_blank">{esc(d.title)}</a>'
                   f'<span>{d.date:%Y-%m-%d}</span></li>' for d in docs)
    return f'<ul class="list">{rows}</ul>'


def _list(site: Site, u: Unit) -> str:
    docs = site.visible(u.docs)
    if u.style == "jcms":
        body = (f'<div class="bt-position">当前位置：<a href="/">首页</a> &gt; <a href="{esc(u.home)}">{esc(u.name)}</a>'
                f' &gt; 政府信息公开年报</div>{_items(u, docs)}')
    elif u.style == "trs":
        rel = lambda d: "./" + d.url.split("/ndbg/", 1)[1]
        body = (f'<div class="position">您现在的位置：<a href="/">首页</a> » <a href="../index.html">{esc(u.name)}</a>'
                f' » 信息公开年报</div>{_items(u, docs, rel)}')
    elif u.style == "jsp":
        body = f'<div class="unit-name">{esc(u.name)}</div><div class="cat">政府信息公开年度报告</div>{_items(u, docs)}'
    elif u.style == "crumb":
        body = f'<p class="weizhi">当前位置：首页 / {esc(u.name)} / 年报</p>{_items(u, docs)}'
    else:
        body = f'<div class="lm-title"><h2>{esc(u.name)}</h2><span>政府信息公开年报</span></div>{_items(u, docs)}'
    return _page(site, "政府信息公开年报", body)


def _unit_home(site: Site, u: Unit) -> str:
    return _page(site, u.name, f'<div class="bm-home"><h2>{esc(u.name)}</h2><p>机构职能、领导信息、内设机构。</p>'
                                f'<ul><li><a href="{esc(u.col)}">政府信息公开年报</a></li></ul></div>')


def _article(site: Site, docs: Docs, u: Unit, d) -> str:
    idx = f"{u.publisher.get('region_code') or site.portal.region_code}-{u.number % 1000:03d}/{d.date:%Y}-{d.doc_id % 10000:05d}"
    body = docs.body_html(d)
    title = f'<h1>{esc(d.title)}</h1>'
    if u.style == "jcms":
        crumb = (f'<div class="bt-position">当前位置：<a href="/">首页</a> &gt; <a href="{esc(u.home)}">{esc(u.name)}</a>'
                 f' &gt; <a href="{esc(u.col)}">政府信息公开年报</a></div>')
        table = (f'<table class="xxgk_table"><tr><td class="tit">索引号</td><td>{idx}</td><td class="tit">发布机构</td>'
                 f'<td>{esc(u.name)}</td></tr><tr><td class="tit">生成日期</td><td>{d.date:%Y-%m-%d}</td>'
                 f'<td class="tit">公开方式</td><td>主动公开</td></tr></table>')
        return _page(site, d.title, f'{crumb}{table}<div class="article">{title}<div id="zoom">{body}</div>'
                                    f'{attachments_html(d, style=0)}</div>')
    if u.style == "trs":
        crumb = (f'<div class="position">您现在的位置：<a href="/">首页</a> » <a href="../../index.html">{esc(u.name)}</a>'
                 f' » <a href="../index.html">信息公开年报</a></div>')
        info = f'<div class="wzxq_info"><span>信息来源：{esc(u.name)}</span> <span>发布时间：{d.date:%Y-%m-%d}</span></div>'
        rel = d.attachments and "".join(
            f'<p><a href="./{esc(a.url.rsplit("/", 1)[1])}">{esc(a.label)}</a></p>' for a in d.attachments) or ""
        return _page(site, d.title, f'{crumb}<div class="wzxq">{title}{info}<div class="TRS_Editor">{body}</div>{rel}</div>')
    if u.style == "jsp":
        head = f'<meta name="ContentSource" content="{esc(u.name)}"><meta name="PubDate" content="{d.date:%Y-%m-%d}">'
        meta = (f'<dl class="gk-meta"><dt>索引号：</dt><dd>{idx}</dd><dt>发布单位：</dt><dd>{esc(u.name)}</dd>'
                f'<dt>成文日期：</dt><dd>{d.date:%Y-%m-%d}</dd></dl>')
        return _page(site, d.title, f'{meta}<div class="content">{title}<div class="con">{body}</div>'
                                    f'{attachments_html(d, style=1)}</div>', head=head)
    if u.style == "crumb":
        crumb = f'<p class="weizhi">当前位置：<a href="/">首页</a> / <a href="{esc(u.home)}">{esc(u.name)}</a> / 年报</p>'
        return _page(site, d.title, f'{crumb}<div class="detail">{title}<p class="date">日期：{d.date:%Y-%m-%d}</p>'
                                    f'<div class="txt">{body}</div>{attachments_html(d, style=2)}</div>')
    return _page(site, d.title, f'<div class="main-article">{title}<div class="time">发布时间：{d.date:%Y-%m-%d}'
                                f'</div><div class="art-con">{body}</div>{attachments_html(d, style=2)}</div>')
