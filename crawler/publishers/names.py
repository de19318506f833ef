"""How publishers' names are written: the one table of short forms, and a printed name taken
apart into its place (清河市, 县, 北岸开发区) and its body (住建局, 人民政府, 管委会).

Pure functions of a string; the site and the divisions come in only in resolve.py.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from crawler.chinese import to_simplified

# Short forms of department bodies as the State Council's and the provinces' standard
# abbreviations have them (and as titles, breadcrumbs and page fields print them), to the
# body as the establishing documents name it. One table: every rule that expands a name reads it.
# A body already in full (公安局, 民政局, 财政局, 司法局, 统计局, 审计局, 水利局, 商务局, 林业局,
# 农业农村局, 自然资源局, 生态环境局) is its own canonical form and needs no row.
SHORT_FORMS: dict[str, str] = {
    "住建局": "住房和城乡建设局",
    "住建委": "住房和城乡建设委员会",
    "卫健委": "卫生健康委员会",
    "卫健局": "卫生健康局",
    "卫计委": "卫生和计划生育委员会",
    "卫计局": "卫生和计划生育局",
    "市场监管局": "市场监督管理局",
    "市监局": "市场监督管理局",
    "人社局": "人力资源和社会保障局",
    "人力社保局": "人力资源和社会保障局",
    "发改委": "发展和改革委员会",
    "发改局": "发展和改革局",
    "质监局": "质量技术监督局",
    "技监局": "质量技术监督局",
    "教体局": "教育和体育局",
    "文体局": "文化和体育局",
    "应急局": "应急管理局",
    "文旅局": "文化和旅游局",
    "文广旅局": "文化广电和旅游局",
    "文广新局": "文化广电新闻出版局",
    "交通局": "交通运输局",
    "退役军人局": "退役军人事务局",
    "医保局": "医疗保障局",
    "城管局": "城市管理局",
    "科技局": "科学技术局",
    "工信局": "工业和信息化局",
    "经信局": "经济和信息化局",
    "经信委": "经济和信息化委员会",
    "安监局": "安全生产监督管理局",
    "环保局": "环境保护局",
    "国土局": "国土资源局",
    "食药监局": "食品药品监督管理局",
    "工商局": "工商行政管理局",
    "农委": "农业委员会",
    "民宗局": "民族宗教事务局",
    "侨办": "侨务办公室",
    "外办": "外事办公室",
    "人防办": "人民防空办公室",
    "政务服务局": "政务服务管理局",
    "残联": "残疾人联合会",
    "妇联": "妇女联合会",
    "科协": "科学技术协会",
    "政府办": "人民政府办公室",
    "政府办公室": "人民政府办公室",
    "政府": "人民政府",
    "管委会": "管理委员会",
    "街道办": "街道办事处",
}

# Endings of a publisher's name: what makes a string name a body that publishes.
AGENCY_END = re.compile(r"(?:人民政府|政府|办公室|办公厅|委员会|管委会|办事处|局|厅|委|办|院|署|中心|"
                        r"联合会|残联|妇联|科协|总工会|会|所|站|处|队|部)$")

# A zone is a place whose people's government is a 管理委员会 (its 管委会).
ZONE = r"(?:经济技术开发区|高新技术产业开发区|经济开发区|高新区|开发区|工业园区|产业园区|园区|新区|管理区|试验区|保税区|示范区|风景区|景区)"
# The levels of a place, by the suffix its name ends with (long suffixes first).
_PLACE_SUFFIX = (r"(?:特别行政区|维吾尔自治区|壮族自治区|回族自治区|自治区|省|自治州|州|地区|盟|市|"
                 r"自治县|县|自治旗|旗|林区|特区|" + ZONE + r"|区|镇|乡|街道)")
# One place component: 2-12 characters ending with a suffix (清河市, 鹿城区, 青龙镇, 北岸经济开发区).
# 和 joins department words (住房和城乡…) and rarely sits inside a place name: see _is_place.
_COMPONENT = re.compile(r"[\u4e00-\u9fff〇]{1,10}?" + _PLACE_SUFFIX)
# A name starting with a level word alone names the place relative to the site: 县住建局, 市政府.
RELATIVE = re.compile(r"^(省|市|州|县|区|旗|镇|乡)(?=.)")


def normal(name: str | None) -> str:
    """The comparable form: NFKC, simplified, no whitespace or decoration."""
    if not name:
        return ""
    s = to_simplified(unicodedata.normalize("NFKC", name))
    s = re.sub(r"[\s\u200b\ufeff]+", "", s)
    return s.strip("：:，,、。.·-—_\"'“”《》〈〉<>[]【】()")


def expand_body(body: str) -> str:
    """A body in its canonical form: 住建局 -> 住房和城乡建设局, 政府办 -> 人民政府办公室. Only a
    whole body is expanded: 质量技监局 is not 质量 + 技监局 (that would double its words)."""
    if body in SHORT_FORMS:
        return SHORT_FORMS[body]
    if body.startswith("人民") and SHORT_FORMS.get(body[2:], "").startswith("人民"):
        return SHORT_FORMS[body[2:]]   # 人民政府办 -> 人民政府办公室
    return body


@dataclass(frozen=True)
class Parts:
    places: tuple[str, ...]   # 清河市, 鹿城区 ... (outermost first); () when none is printed
    relative: str | None      # 市 / 县 / 区 ... when the name starts with the level alone
    body: str                 # 住房和城乡建设局, 人民政府, 管理委员会, "" for a place alone (expanded)

    @property
    def place(self) -> str:
        return "".join(self.places)


def _is_place(component: str, after: str) -> bool:
    if component.endswith("州") and after[:1] in ("市", "区", "县"):
        return False   # 温州市, 通州区: 州 is part of the name, the level comes after it
    stem = re.sub(_PLACE_SUFFIX + "$", "", component)
    if stem in ("省", "市", "州", "县", "区", "旗", "镇", "乡"):
        return False   # 县市场监管局: a level word, then a department's words
    # 「住房和城乡…」: 城乡 (urban and rural) and 和 joining words are a department's, not a place's
    # (和平街道, 平和县 and 共和县 are places: 和 first, or in a two-character name).
    if stem.endswith("城") and component.endswith("乡") or ("和" in stem[1:] and len(stem) > 3):
        return False
    return bool(stem) and "的" not in component and not component.startswith(("市场", "城乡"))


def split(name: str) -> Parts:
    """清河市住建局 -> (清河市,), 住房和城乡建设局; 县住建局 -> relative 县; 江阴市 -> (江阴市,), ""."""
    s = normal(name)
    relative = None
    m = RELATIVE.match(s)
    if m and re.match(r"^(?:市场|市容|市政(?!府)|区域|县域|市民|市级|县级|区级)", s):
        m = None   # 市场监督管理局, 市容…: department words that start with a level character
    first = _COMPONENT.match(s)
    if m and (not first or not _is_place(first.group(0), s[first.end():]) or s[1:2] in ("政", "人", "委")):
        relative, s = m.group(1), s[1:]
    places: list[str] = []
    rest = s
    while rest:
        m = _COMPONENT.match(rest)
        if m and not _is_place(m.group(0), rest[m.end():]):
            m = re.compile(r"[\u4e00-\u9fff〇]{%d,10}?" % min(len(m.group(0)), 10) + _PLACE_SUFFIX).match(rest)
        if not m or not _is_place(m.group(0), rest[m.end():]):
            break
        after = rest[m.end():]
        # A body must be left a body: 「市场监督管理局」 after 清河 is not the place 清河市 + 场…
        if after and not AGENCY_END.search(after) and not _COMPONENT.match(after):
            break
        places.append(m.group(0))
        rest = after
    return Parts(tuple(places), relative, expand_body(rest) if rest else "")


def is_agency(name: str | None) -> bool:
    """A string that names a publisher: a body with an agency ending, or a place alone."""
    s = normal(name)
    if not (2 <= len(s) <= 40) or not re.fullmatch(r"[\u4e00-\u9fff〇()（）·]+", s):
        return False
    if AGENCY_END.search(s):
        return True
    parts = split(s)
    return bool(parts.places) and not parts.body


def abbreviates(short: str, full: str) -> bool:
    """short is full written shorter, as Chinese abbreviations are made: the same characters in
    order with some left out (道县文广新局 / 道县文化广电新闻出版局, 北岸开发区管委会 /
    北岸经济开发区管理委员会), the same first character and the same ending."""
    short, full = normal(short), normal(full)
    if not short or not full or len(short) > len(full) or short[0] != full[0] or short[-1] != full[-1]:
        return False
    it = iter(full)
    return all(ch in it for ch in short)


__all__ = ["AGENCY_END", "Parts", "RELATIVE", "SHORT_FORMS", "ZONE", "abbreviates", "expand_body",
           "is_agency", "normal", "split"]
