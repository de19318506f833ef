"""Which links a focused crawl follows first, which are files, and a URL's identity.

Government portals bury the reports two to four clicks deep: home -> 信息公开 (xxgk) ->
政府信息公开年报 (xxgknb) -> one report. Scores rank links along that path: report columns
and reports high, disclosure platforms and next pages medium, department lists low, and
the columns that look like the report column but hold something else (网站工作年度报表,
政府工作报告, 公开指南) below zero.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote, urlsplit, urlunsplit

from crawler.chinese import normalise
from crawler.recognise import classify, lookalike

__all__ = ["score_link", "is_attachment", "is_article_url", "canonical_url", "classify_title", "ATTACHMENT_EXTENSIONS"]

ATTACHMENT_EXTENSIONS = frozenset(
    "pdf doc docx wps et dps xls xlsx ofd zip rar 7z txt rtf ppt pptx ceb caj tif tiff".split()
)
_ASSET_EXT = frozenset("css js json png jpg jpeg gif bmp svg ico webp woff woff2 ttf eot mp3 mp4 avi flv swf xml rss".split())
_ATTACHMENT_TYPES = re.compile(
    r"application/(?:pdf|msword|vnd\.openxmlformats|vnd\.ms-|vnd\.ms-excel|zip|x-zip|x-rar|vnd\.rar|ofd|"
    r"octet-stream|x-download|force-download|kswps|wps|vnd\.wps|x-7z)",
    re.I,
)
# 「downfile.jsp?filename=…」, 「download.jsp?id=…」, 「/attach/get?fileName=…」: CMS download handlers.
_DOWNLOAD_HANDLER = re.compile(r"(?:down(?:load)?(?:file)?|attach(?:ment)?|getfile|fileview|filedown)\w*(?:\.\w+)?$", re.I)
_FILENAME_PARAM = re.compile(r"(?:^|&)(?:file_?name|filename|fname|file|path|attachname)=([^&]+)", re.I)


def _ext(name: str) -> str:
    name = name.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def is_attachment(url: str, content_type: str | None = None) -> bool:
    """A report file rather than a page: by content type when known, else by extension
    of the path or of a download handler's file-name parameter."""
    if content_type:
        ct = content_type.split(";")[0].strip().lower()
        if ct.startswith("text/html") or ct.startswith("application/xhtml"):
            return False
        if _ATTACHMENT_TYPES.match(ct):
            return True
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    path = unquote(parts.path)
    if _ext(path) in ATTACHMENT_EXTENSIONS:
        return True
    m = _FILENAME_PARAM.search(parts.query)
    if m and _ext(unquote(m.group(1))) in ATTACHMENT_EXTENSIONS:
        return True
    return bool(m and _DOWNLOAD_HANDLER.search(path.rsplit("/", 1)[-1]))


_TRACKING = re.compile(r"^(?:utm_\w+|spm|from|isappinstalled|scene|share_?\w*|clicktime|wxshare_count|_t|timestamp)$", re.I)


def canonical_url(url: str) -> str:
    """One spelling per document: no fragment, no ;jsessionid, no tracking parameters,
    sorted query, lower-case scheme and host, default port dropped."""
    try:
        p = urlsplit(url.strip())
    except ValueError:
        return url
    path = re.sub(r";jsessionid=[^/?#]*", "", p.path, flags=re.I) or "/"
    # Query pairs are sorted as they are written: decoding them would turn a GBK page's
    # %B6%AB... into UTF-8 (or U+FFFD), a different URL the server answers 404.
    pairs = [part for part in p.query.split("&") if part]
    query = "&".join(sorted(part for part in pairs if not _TRACKING.match(unquote(part.split("=", 1)[0]))))
    host = (p.hostname or "").lower()
    port = p.port if p.port and (p.scheme, p.port) not in (("http", 80), ("https", 443)) else None
    netloc = host + (f":{port}" if port else "")
    if p.username:
        netloc = p.username + (f":{p.password}" if p.password else "") + "@" + netloc
    return urlunsplit((p.scheme.lower(), netloc, path, query, ""))


# ---------------------------------------------------------------- scoring
# Each tier: (score, anchor-text pattern, URL pattern). The best-scoring hit wins; a
# negative hit vetoes positives, since look-alike columns share the report's words.

_REPORT_TEXT = re.compile(r"信息公开.{0,6}(?:年报|年度报告|工作报告)|公开年报|年度报告|年报")
_REPORT_URL = re.compile(r"(?<![a-z])(?:zfxxgknb|xxgknb|gknb|xxgkndbg|ndbg|gkndbg|nianbao|annualreport|annual_report|ndgzbg)(?![a-z])", re.I)

_DISCLOSURE_TEXT = re.compile(r"信息公开|政务公开|公开目录|信息公开目录|法定主动公开|主动公开|公开内容|政府公开|资讯公开")
_DISCLOSURE_URL = re.compile(r"(?<![a-z])(?:xxgk|zwgk|gkml|zfxxgk|govinfo|govpublic|zdgk|fdzdgk|gk|publicity|openness)(?![a-z])", re.I)

# Columns named for other content (news, notices, policies, personnel, plans, media). Under a
# disclosure path their URL alone is no way to the reports: 「工作动态」 at /xxgk/gzdt/ is a news list
# of hundreds of pages. A department's section there (「市财政局」 at /xxgk/czj/) still is.
_OTHER_COLUMN_TEXT = re.compile(r"动态|新闻|要闻|快讯|通知|公告|公示|政策|解读|文件|法规|人事|任免|招考|招录|"
                                r"规划|计划|会议|图片|视频|专题|问答|建议|提案")

_NEXT_TEXT = re.compile(r"^(?:下一?页|下页|尾页|末页|更多|more|>>?|»|next|\d{1,3})$|更多|查看更多", re.I)
_NEXT_URL = re.compile(r"(?:index|list|default)_\d+\.s?html?$|[?&](?:page|pageno|pagenum|pageindex|currpage|curpage|p)=\d+", re.I)

_ORG_TEXT = re.compile(r"部门|机构|乡镇|街道|单位|委办局|区县|县区|市直|区直|县直|镇街|组成部门|直属")
_ORG_URL = re.compile(r"(?<![a-z])(?:bm|bmxxgk|jg|jgzn|xzjd|xz|jd|dept|org|zzjg|bmgk)(?![a-z])", re.I)
# A link whose whole text is an agency's name (「徐州市民政局」, 「双沟镇」, 「经济开发区管委会」): a
# disclosure platform's department list and a county's list of towns link each publisher's own
# column by its name alone; each such column is where that publisher's reports are listed.
_AGENCY_NAME = re.compile(r"^[\u4e00-\u9fff（）()]{2,20}?(?:人民政府|政府办公室|政府|局|委员会|委|办公室|厅|署|"
                          r"镇|乡|街道|街道办事处|办事处|管委会|管理委员会)$")

_BAD_TEXT = re.compile(
    r"网站.{0,6}(?:年度报表|年报|报表)|年度报表|政府工作报告|公开指南|依申请|申请表|领导信息|领导之窗|"
    r"登录|登陆|注册|搜索|检索|打印|关闭|分享|收藏|微博|微信|加入收藏|设为首页|English|无障碍|适老|"
    r"预算|决算|法治政府|工作要点|招聘|招标|采购|互动|留言|信箱|投诉|在线访谈|民意征集",
    re.I,
)
_BAD_URL = re.compile(
    r"(?<![a-z])(?:zfwzndbb|wzndbb|ndbb|zfgzbg|gkzn|ysqgk|ldxx|ldzc|login|logout|register|search|print|share|"
    r"weibo|weixin|rss|sitemap_xml|calendar|yjs|czyjs|ysjs)(?![a-z])",
    re.I,
)
# Calendars and archives by day: endless links that differ only by a date parameter.
# A bare 「year=2018」 filter is kept: report lists are sometimes split that way.
_DATE_QUERY = re.compile(r"[?&][\w.]*=(?:19|20)\d{2}(?:[-/.]\d{1,2}|[01]\d[0-3]\d\b)|[?&](?:date|day|riqi|rq|month|yf)\w*=", re.I)


def score_link(*, text: str, url: str, title: str = "") -> float:
    """Priority of a link for the focused crawl; <= 0 means do not follow."""
    u = (url or "").strip()
    low = u.lower()
    if not u or low.startswith(("mailto:", "javascript:", "tel:", "data:", "#", "ftp:", "weixin:")):
        return -10.0
    try:
        parts = urlsplit(u)
    except ValueError:
        return -10.0
    path = unquote(parts.path)
    ext = _ext(path)
    if ext in _ASSET_EXT:
        return -10.0
    if _DATE_QUERY.search("?" + parts.query if parts.query else ""):
        return -5.0

    words = normalise(" ".join(x for x in (text, title) if x))
    compact = words.replace(" ", "")
    loc = unquote(parts.path + "?" + parts.query).lower()

    if _BAD_TEXT.search(compact) or _BAD_URL.search(loc):
        # The bad word may sit beside a report word (「政府信息公开年报_依申请公开」 is rare;
        # 「政府网站工作年度报表」 is common): look-alikes win.
        if not (_reportish_link(compact) and not lookalike(compact)):
            return -3.0
    if lookalike(compact) and re.search(r"报告|年报|报表", compact):
        return -2.0

    if compact:
        v = classify_title(compact)
        if v.is_report:
            return 10.0 + (v.year or 0) / 10000.0  # newer reports slightly first, deterministically
    if _reportish_link(compact) or _REPORT_URL.search(loc):
        score = 8.0
    elif _REPORT_TEXT.search(_url_words(path)):
        score = 7.0  # 「2018年政府信息公开年度报告.pdf」 as the path
    elif _DISCLOSURE_TEXT.search(compact) or (_DISCLOSURE_URL.search(loc) and not _OTHER_COLUMN_TEXT.search(compact)):
        score = 5.0
    elif _NEXT_TEXT.search(compact) or _NEXT_URL.search(path):
        score = 4.0
    elif _ORG_TEXT.search(compact) or _ORG_URL.search(loc) or _AGENCY_NAME.match(compact):
        score = 2.0
    elif ext in ATTACHMENT_EXTENSIONS:
        score = 1.0  # an unnamed file on a report page is probably the report itself
    else:
        score = 0.0
    if score > 0 and _NEXT_TEXT.search(compact) and score < 4.0:
        score = 4.0
    if 0 < score < 7.0 and is_article_url(u):
        # An article whose link text does not name a report is a leaf: reports are reached
        # by their own titles, and news under an xxgk path is not a way to them.
        return 0.0
    return score


# One document's page, as the CMS families name them: TRS t20190131_123.html, Hanweb
# art/2019/1/30/art_12_345.html, gkmlpt post_123.html, dated directories with a numbered file,
# content_123 / detail_123 / show?id=123 handlers.
_ARTICLE_URL = re.compile(
    r"/t\d{8}_\d+\.s?html?$|/art_\d+_\d+\.s?html?$|/post_\d+\.s?html?$|"
    r"/(?:19|20)\d{2}(?:[01]\d|/[01]?\d(?:/[0-3]?\d)?|-[01]\d)/[^/]*\d{3,}[^/]*\.s?html?$|"
    r"/(?:content|detail|details|info|article|news|show|view)[_-]?\d{3,}\.s?html?$|"
    r"/\d{5,}\.s?html?$|"
    r"/(?:content|detail|show|view|article|info)\w*\.(?:jsp|aspx?|php|do)\?.*\b(?:id|docid|articleid|infoid)=\d+",
    re.I,
)


def is_article_url(url: str) -> bool:
    """The URL names one document (an article), not a column or list."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return bool(_ARTICLE_URL.search(parts.path + ("?" + parts.query if parts.query else "")))


@lru_cache(maxsize=4096)
def classify_title(text: str):
    """recognise.classify(title=text), decided once per distinct text: navigation and list
    texts repeat on every page of a portal."""
    return classify(title=text)


def _reportish_link(compact: str) -> bool:
    return bool(_REPORT_TEXT.search(compact))


def _url_words(path: str) -> str:
    return normalise(path.rsplit("/", 1)[-1])
