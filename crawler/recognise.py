"""Is this document a 政府信息公开工作年度报告, which year does it cover, who published it.

Rules come from how real portals write these reports:

- A report names itself: 信息公开 plus 年度报告 / 年报 / 工作报告, and the covered year
  (「温州市质量技术监督局2018年政府信息公开工作年度报告」, 「关于2014年政府信息公开工作的
  年度报告」, 「区商务局2014年度政府信息公开工作报告」, 「二〇一八年度…年度報告」).
- The year is the one in the title, else the heading, else the report's own statement of
  its period (「统计期限为2014年1月1日至2014年12月31日」). The publication date is not it.
- Many documents around the report mention it without being it: notices asking for it,
  work plans (工作要点), self-inspections, guides, website yearly tables, rule-of-law
  reports, budgets, format notices and their 解读. These are rejected by name.
- Page titles carry the site name (「…年度报告_太仓市人民政府」), so the title is cut at
  separators and the segment that reads like a report is used.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from crawler.chinese import CN_DIGIT_CLASS, cn_digits_to_int, normalise, to_simplified

__all__ = ["Verdict", "classify", "parse_year", "extract_agency", "is_soft_404", "to_simplified"]

FIRST_YEAR = 2007  # the 条例 was issued in 2007; the first reports cover 2008 (some 2007)


@dataclass(frozen=True)
class Verdict:
    is_report: bool
    year: int | None  # the year covered, not the publication date
    agency: str | None  # named by the document, simplified; None when only the config can tell
    reason: str  # "title", "heading", "text", "url", "lookalike:工作要点", "soft404", "no-year", ...


# ---------------------------------------------------------------- years

_ARABIC_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年")
_CN_YEAR = re.compile(rf"({CN_DIGIT_CLASS}{{4}})\s*年")
_BARE_YEAR = re.compile(r"(?<![\d.\-/])((?:19|20)\d{2})(?![\d])")
# 「2019年1月20日」: a date, usually the publication date, not the year covered.
_DATE_AFTER = re.compile(r"\s*\d{1,2}\s*月")


def _plausible(y: int | None) -> bool:
    return y is not None and FIRST_YEAR <= y <= _dt.date.today().year


def _year_matches(s: str) -> list[tuple[int, int, bool]]:
    """(position, year, is_date) for every plausible 「NNNN年」 / 「二〇一八年」 in s."""
    found = []
    for m in _ARABIC_YEAR.finditer(s):
        found.append((m.start(), int(m.group(1)), bool(_DATE_AFTER.match(s, m.end()))))
    for m in _CN_YEAR.finditer(s):
        y = cn_digits_to_int(m.group(1))
        if y is not None:
            found.append((m.start(), y, bool(_DATE_AFTER.match(s, m.end()))))
    return sorted(f for f in found if _plausible(f[1]))


def parse_year(s: str) -> int | None:
    """First plausible year in s: 「2018年」「2018 年度」「二〇一八年」「２０１８年」, else a bare
    2018 standing alone. Years followed by a month (dates) only count when nothing else does."""
    s = normalise(s)
    found = _year_matches(s)
    for _, y, is_date in found:
        if not is_date:
            return y
    if found:
        return found[0][1]
    for m in _BARE_YEAR.finditer(s):
        if _plausible(int(m.group(1))):
            return int(m.group(1))
    return None


# ---------------------------------------------------------------- what a report title looks like

_DISCLOSURE = re.compile(r"信息公开|资讯公开")
_REPORT_WORD = re.compile(r"年度报告|年报|工作报告|情况报告|的报告|年度工作报告")

# Look-alikes, checked in order; the first hit names the reason. Each is a kind of page
# real portals put next to the reports, often with the report's own words in its title.
_LOOKALIKES: list[tuple[str, re.Pattern[str]]] = [
    ("通知", re.compile(
        r"关于(?:做好|报送|编制|编写|开展|印发|上报|提交|按时|认真|进一步|规范|加强|报告|公开|公布|发布|转发|征集)"
        r"|的(?:通知|公告|通告|函|复函|通报|批复|意见)"
        r"|(?:通知|通告|公告|通报|函)$")),
    ("工作要点", re.compile(r"要点")),
    ("自查报告", re.compile(r"自查|自检")),
    ("公开指南", re.compile(r"公开指南|指南")),
    ("公开目录", re.compile(r"公开目录|目录$")),
    ("网站年报", re.compile(r"网站.{0,8}(?:年度报表|年报|报表|工作报告|年度报告)|年度报表")),
    ("法治政府", re.compile(r"法治政府|依法行政")),
    ("预决算", re.compile(r"决算|预算")),
    ("格式", re.compile(r"格式|模板|样表|样本|范本")),
    ("解读", re.compile(r"解读|图解|一图|读懂|问答")),
    ("统计数据", re.compile(r"(?:统计数据|统计表|数据表|统计报表|情况统计)$")),
    ("期中", re.compile(r"上半年|下半年|半年|季度|月报|季报")),
    ("评估", re.compile(r"评估|考核|测评|评议|排名|通报")),
    ("整改", re.compile(r"整改")),
    # 「关于《…年度报告》有关数据的更正说明」: a notice about a report, not the report.
    ("更正", re.compile(r"更正(?:说明|声明|公告|启事)?$|勘误|的更正|有关数据的")),
    ("会议", re.compile(r"培训|召开|会议|部署|座谈")),
    ("汇总", re.compile(r"汇总|专栏|列表|一览")),
    ("工作总结", re.compile(r"工作总结|工作计划|实施方案")),
]


def _compact(s: str) -> str:
    """Normal form without spaces and trailing version tags: 「2017 年」, 「…报告（图片版）」."""
    s = normalise(s).replace(" ", "")
    # Copies of portal pages that gloss characters with pinyin: 「下管鎮(zhèn)」, 「區(qū)科技局」.
    s = re.sub(r"[(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,8}[)）]", "", s)
    s = re.sub(r"^(?:[\[【(]?(?:\d{1,2}|[一二三四五六七八九十]+)[\]】)、.．]|[·•>»\-]+)", "", s)
    s = re.sub(r"^[\[【][^\]】]{1,20}[\]】]", "", s)  # 「【政府信息公开年报】某局2018年…」: a column tag
    # Version tags and attachment names after the title proper.
    s = re.sub(r"[(\[【](?:图片版|超链版|全文|文字版|正文|pdf版|word版|pdf|doc|docx|附件|附表|修订版|更正版|图文版|简版)[)\]】]$", "", s, flags=re.I)
    s = re.sub(r"\.(?:pdf|docx?|wps|xlsx?|ofd|html?|shtml|jsp|txt)$", "", s, flags=re.I)
    return s


def lookalike(s: str) -> str | None:
    """Name of the look-alike kind s belongs to, or None."""
    c = _compact(s)
    for name, rx in _LOOKALIKES:
        if rx.search(c):
            return name
    if "政府工作报告" in c and not _DISCLOSURE.search(c):
        return "政府工作报告"
    return None


def _reportish(s: str) -> bool:
    c = _compact(s)
    return bool(_DISCLOSURE.search(c) and _REPORT_WORD.search(c))


_SEPARATORS = re.compile(r"\s*(?:[_|｜—–]+|\s-\s|\s>\s|>>|»|\s{2,}|-{2,})\s*")


def _segments(title: str) -> list[str]:
    """Page titles: 「报告标题_栏目_站点」. The parts, report-like ones first."""
    parts = [p for p in _SEPARATORS.split(title or "") if p and p.strip()]
    return sorted(parts, key=lambda p: not _reportish(p))


# ---------------------------------------------------------------- agencies

_PLACE_ONLY = re.compile(r".{1,12}?(?:省|市|区|县|州|旗|盟|镇|乡)$")
_NOT_AGENCY = re.compile(r"^(?:我|本|全|该)?(?:局|委|办|院|厅|单位|机关|部门|市|区|县|镇|乡|街道|年度?)?$")
_AGENCY_CHARS = re.compile(r"^[\u4e00-\u9fff()（）\u3007·]+$")


def _clean_agency(a: str, *, place_means_government: bool) -> str | None:
    a = a.strip(" ：:，,、。.·-—_\"'“”《》〈〉<>[]【】")
    # 「对…」 is left alone: 对坊乡, 对江镇 are places, and no report title opens with 对 + name.
    a = re.sub(r"^(?:关于|公布|发布)", "", a)
    a = re.sub(r"(?:19|20)\d{2}$", "", a)   # 「东河区卫生健康委员会 2021政府信息公开…」: a bare year
    a = re.sub(r"(?:关于|的|对|度|公布|发布|编制)$", "", a)
    a = a.strip()
    if not a or len(a) < 2 or len(a) > 40 or _NOT_AGENCY.match(a) or not _AGENCY_CHARS.match(a):
        return None
    if place_means_government and _PLACE_ONLY.fullmatch(a) and not a.endswith("政府"):
        # 「温州市政府信息公开…」 reads as 温州市 + 政府信息公开: the agency is the government.
        return a + "人民政府"
    return a


def extract_agency(s: str) -> str | None:
    """The agency a report title names: the words before the year (or before 政府信息公开
    when the year comes first). 「关于2014年…」 -> None; 「区商务局2014年度…」 -> 区商务局."""
    c = _compact(s)
    seg = next((p for p in _segments(c) if _reportish(p)), c)
    years = _year_matches(seg)
    m = _DISCLOSURE.search(seg)
    if years and (m is None or years[0][0] < m.start()):
        before = seg[: years[0][0]]
        got = _clean_agency(before, place_means_government=False)
        if got or before.strip("关于 "):
            return got
        # 「2018年温州市质量技术监督局政府信息公开…」: the name sits between year and 信息公开.
        ym = _ARABIC_YEAR.match(seg, years[0][0]) or _CN_YEAR.match(seg, years[0][0])
        seg = seg[ym.end():] if ym else seg
        seg = re.sub(r"^度", "", seg)
        m = _DISCLOSURE.search(seg)
    if m is None:
        return None
    before = seg[: m.start()]
    gov = before.endswith("政府")
    if gov and not before.endswith("人民政府"):
        before = before[:-2]  # 「温州市政府信息公开」: 政府 belongs to 政府信息公开
    return _clean_agency(re.sub(r"(?:政务|关于|的)$", "", before), place_means_government=gov)


# Statements inside the body that name the author: 「特编制苏州市太仓质量技术监督局2014年…报告」,
# 「由湖州市质量技术监督局编制的」, 「发布单位：太仓市人民政府办公室」.
_TEXT_AGENCY = [
    re.compile(r"编制(?:了|完成)?《?([\u4e00-\u9fff]{2,30}?)(?:(?:19|20)\d{2}|[〇○零一二]{4})\s*年度?.{0,8}信息公开"),
    re.compile(r"由([\u4e00-\u9fff]{2,30}?)(?:负责)?编制"),
    re.compile(r"(?:发布单位|发布机构|发布机关|公开主体|发文机关)[:：]\s*([\u4e00-\u9fff]{2,30})"),
]


def _agency_from_text(text: str) -> str | None:
    for rx in _TEXT_AGENCY:
        m = rx.search(text)
        if m:
            got = _clean_agency(m.group(1), place_means_government=False)
            if got and not got.startswith(("我", "本")):
                return got
    return None


def _resolve_agency(found: str | None, default_agency: str | None) -> str | None:
    """「区商务局」 names the agency relative to its region; the configured full name
    (鹿城区商务局) says the same thing better when it ends with the same words."""
    if found and default_agency:
        d = normalise(default_agency)
        stem = found.lstrip("市区县镇乡省")
        if len(stem) >= 2 and len(stem) < len(found) + 1 and d.endswith(stem) and len(d) > len(found):
            return d
    return found


# ---------------------------------------------------------------- body statements of the period

_PERIOD = [
    # 「统计期限为2014年1月1日至2014年12月31日」, 「自2018年1月1日起至2018年12月31日止」
    re.compile(r"((?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日\s*(?:起)?\s*(?:至|到|-|—|~)\s*((?:19|20)\d{2})\s*年\s*12\s*月\s*31\s*日"),
    # 「本报告…2012年度政府信息公开年度报告」, 「现将我市2013年政府信息公开工作…报告如下」
    re.compile(r"((?:19|20)\d{2})\s*年度?\s*(?:政府|本[局委办]|我[局委办市区县])?\s*(?:政府)?信息公开(?:工作)?(?:年度报告|年报|情况|工作报告)"),
    re.compile(r"(?:现将|本报告|本年报).{0,20}?((?:19|20)\d{2})\s*年"),
]


# The opening of a report as the Regulation has them written: it names the Regulation and itself.
_OPENING_SELF = re.compile(r"本(?:年度)?报告|本年报|年度报告|年报|工作报告|^一、总体情况")
_OPENING_LAW = re.compile(r"信息公开条例|《条例》|向社会(?:公开|公布)")
# Openings of what is not a report: a notice asks for reports, a plan or summary names its own kind.
_OPENING_NOT = re.compile(r"通知如下|现就.{0,30}通知|各(?:乡镇|县|区|市|部门|单位)|工作要点|实施方案|自查|整改|"
                          r"绩效|考评|考核|法治政府|政务公开工作要点|决算|预算|网站.{0,6}(?:年度报表|报表)")
_OPENING_YEAR = [
    re.compile(r"((?:19|20)\d{2})\s*年度?\s*[^。；;]{0,30}?(?:信息公开|政务公开)(?:工作)?(?:年度报告|年报|情况)"),
    re.compile(r"(?:公布|发布|公开|编制的?|制作)[^。；;]{0,30}?((?:19|20)\d{2})\s*年度?[^。；;]{0,12}?报告"),
    re.compile(r"(?:公布|发布|编制的?|制作)\s*((?:19|20)\d{2})\s*年"),
    re.compile(r"^[^。]{0,20}?((?:19|20)\d{2})\s*年(?:度)?\s*[,，]"),
]


def _opening_report_year(text: str) -> int | None:
    """The year a body says it reports on, when its opening reads as a report's; else None."""
    head = normalise(text[:900])
    compact = re.sub(r"\s+", "", head)
    overview = compact.startswith("一、总体情况")
    law = _OPENING_LAW.search(compact) if not overview else re.search(r"条例|信息公开|政务公开", compact[:300])
    if not (_OPENING_SELF.search(compact) and law) or _OPENING_NOT.search(compact[:300]):
        return None
    period = _year_from_text(text)
    if period is not None:
        return period
    for rx in _OPENING_YEAR:
        m = rx.search(compact)
        if m and _plausible(int(m.group(1))):
            return int(m.group(1))
    return None


def _year_from_text(text: str) -> int | None:
    # Without whitespace: a PDF's text breaks its lines inside words (「2014年政府信息公开\n工作情况」).
    head = re.sub(r"\s+", "", normalise(text[:6000]))
    for rx in _PERIOD:
        m = rx.search(head)
        if m and _plausible(int(m.group(1))):
            return int(m.group(1))
    return None


# ---------------------------------------------------------------- soft 404

_SOFT404 = re.compile(
    r"页面不存在|页面未找到|页面找不到|找不到(?:该|您|所)|无法找到|不存在或已(?:被)?删除|已(?:被)?删除|已下线|已撤销"
    r"|信息不存在|文章不存在|文档不存在|栏目不存在|内容不存在|资源不存在|访问的页面|出错了|错误页面|页面已过期"
    r"|not\s*found|page\s+not|error\s+404",
    re.I,
)
# A bare 404 is weak: report bodies count things (共受理404件) and print phone numbers.
_BARE_404 = re.compile(r"(?<![\d\-])404(?![\d\-])")


def is_soft_404(title: str, text: str) -> bool:
    """An error page served with HTTP 200: an error phrase and little else."""
    t = normalise(title)
    body = re.sub(r"\s+", "", normalise(text))
    if _reportish(t):
        # A report's own title: only an empty shell with an error phrase is an error page.
        return len(body) < 200 and bool(_SOFT404.search(body) or _BARE_404.search(body))
    if _SOFT404.search(t) or _BARE_404.search(t):
        return len(body) < 3000
    m = _SOFT404.search(body)
    if not m:
        return len(body) < 100 and bool(_BARE_404.search(body))
    # A report body is long; an error page says its piece near the top and stops.
    return len(body) < 400 or (m.start() < 200 and len(body) < 1500 and not _reportish(body[:300]))


# ---------------------------------------------------------------- classify

def _lead(text: str, n: int = 4) -> list[str]:
    """First short lines of a body, where a file's own title sits. Titles wrap, so pairs
    of adjacent lines are offered joined too (「温州市质量技术监督局」+「2018年…报告」)."""
    lines = []
    for raw in (text or "")[:3000].splitlines():
        line = re.sub(r"\[bookmark:[^\]]*\]", "", raw).strip()
        if not line:
            continue
        if len(line) > 80 or re.search(r"[，。；！？]", line):
            break  # a sentence: the title, if the file has one, is above it
        lines.append(line)
        if len(lines) >= n:
            break
    out = []
    for i, line in enumerate(lines):
        if i + 1 < len(lines):
            out.append(line + lines[i + 1])
        out.append(line)
    return out


def _url_name(url: str) -> str:
    try:
        path = unquote(urlsplit(url).path, errors="replace")
    except ValueError:
        return ""
    name = path.rsplit("/", 1)[-1]
    return name if re.search(r"[\u4e00-\u9fff]", name) else ""


def classify(*, title: str = "", heading: str = "", breadcrumb: str = "", text: str = "",
             url: str = "", default_agency: str | None = None) -> Verdict:
    """Decide from the strongest source that speaks: title, then heading, then the top of
    the text, then the URL's file name. A look-alike in the first source that speaks wins."""
    if is_soft_404(title, text):
        return Verdict(False, None, None, "soft404")

    sources: list[tuple[str, str]] = [(s, "title") for s in _segments(title)]
    sources += [(heading, "heading")]
    if not _looks_like_list(text):
        sources += [(s, "text") for s in _lead(text)]
    sources += [(_url_name(url), "url")]

    chosen: tuple[str, str] | None = None  # first report-like source
    year: int | None = None
    year_where = "text"  # the source that gave the year names the verdict
    for s, where in sources:
        if not s or not s.strip():
            continue
        kind = lookalike(s)
        if kind and (_reportish(s) or where in ("title", "heading") and _mentions_report(s)):
            if chosen is None:
                return Verdict(False, parse_year(s), None, f"lookalike:{kind}")
            continue
        if not _reportish(s):
            continue
        if chosen is None:
            chosen = (s, where)
        year = _title_year(s)
        if year is not None:
            year_where = where
            break

    if chosen is None and not title.strip() and not (heading or "").strip() and not _looks_like_list(text):
        # A document known only by its body (a file linked as 「年度报告」, a page with no title):
        # the statutory opening decides (「根据《中华人民共和国政府信息公开条例》…特向社会公布
        # 2019年度…年度报告」, 「本年度报告是根据《条例》要求编制」).
        y = _opening_report_year(text)
        if y is not None:
            agency = _agency_from_text(normalise(text[:4000]))
            return Verdict(True, y, _resolve_agency(agency, default_agency), "opening")

    if chosen is None:
        # Breadcrumb says we are in the reports column but nothing names the document:
        # accept only a body that states its own report period.
        if _reportish(breadcrumb) and not lookalike(breadcrumb.split(">")[-1]):
            y = _year_from_text(text)
            if y is not None and _body_is_report(text):
                return Verdict(True, y, _found_agency("", heading, text, default_agency), "breadcrumb")
        return Verdict(False, None, None, "list" if _looks_like_list(text) else "not-report")

    if year is None:
        year = _year_from_text(text) if _body_is_report(text) else None
    if year is None:
        return Verdict(False, None, None, "no-year")
    # The agency: from the chosen source, then any other title-like source, then the body.
    agency = None
    for s, _ in [chosen] + [x for x in sources if x is not chosen and _reportish(x[0])]:
        agency = extract_agency(s)
        if agency:
            break
    agency = agency or _agency_from_text(normalise(text[:4000]))
    return Verdict(True, year, _resolve_agency(agency, default_agency), year_where)


def _looks_like_list(text: str) -> bool:
    """A column page's text: several short lines that each read like a report title."""
    short = [ln for ln in (text or "")[:8000].splitlines()[:200]
             if 0 < len(ln.strip()) <= 80 and not re.search(r"[，。；：,;]", ln)]
    return sum(1 for ln in short if _reportish(ln) and parse_year(ln)) >= 3


def _mentions_report(s: str) -> bool:
    """A title about reports or disclosure that is a look-alike is the page's answer
    (「2018年政府网站工作年度报表」); a look-alike word in a site name alone is not."""
    c = _compact(s)
    return bool(re.search(r"报告|年报|报表|公开", c))


def _title_year(s: str) -> int | None:
    c = _compact(s)
    found = _year_matches(c)
    for _, y, is_date in found:
        if not is_date:
            return y
    # 「政府信息公开工作年度报告(2016)」 or 「2019政府信息公开年报」
    m = re.search(r"(?<![\d.\-/])((?:19|20)\d{2})(?![\d\-./])", c)
    if m and _plausible(int(m.group(1))) and not re.search(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}", c):
        return int(m.group(1))
    return None


def _body_is_report(text: str) -> bool:
    """The body reads like a report rather than a list of them."""
    head = normalise(text[:6000])
    return bool(re.search(r"本(?:年度)?报告|本年报|统计期限|统计期|报告如下|政府信息公开条例", head))


def _found_agency(title: str, heading: str, text: str, default_agency: str | None) -> str | None:
    a = extract_agency(heading) if heading else None
    a = a or _agency_from_text(normalise(text[:4000]))
    return _resolve_agency(a, default_agency)
