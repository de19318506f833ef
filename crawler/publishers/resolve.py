"""A printed name to one publisher: canonical name, kind, region code and parent.

The site's own publisher is the context a name is read in: 县住建局 on 西岭县人民政府's site is
西岭县住房和城乡建设局, 青龙镇 on 建水县's site is 建水县青龙镇人民政府. A name the context
cannot complete (区商务局 on a city's site: which district?) resolves to nothing, never to a
guess; attribution then falls back to weaker evidence or the site.

Canonical forms: bodies in full (住房和城乡建设局, not 住建局; 管理委员会, not 管委会: the
establishing documents and the registries of 机构编制 write the full form, and one spelling per
publisher is the point), the place as the site writes it when the name is the site's or sits
under it, and a town or 街道 prefixed with its county (青龙镇 is a name many counties have).
A name that abbreviates the site's own publisher (北岸开发区管委会 for 北岸经济开发区管理委员会)
is the site's publisher.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from crawler.publishers import divisions
from crawler.publishers.names import ZONE, Parts, abbreviates, is_agency, normal, split

_GOVERNMENT = "人民政府"
_TOWN = re.compile(r"(?:镇|乡|街道)$")
_COUNTY = re.compile(r"(?:自治县|县|自治旗|旗|林区|特区|(?<!" + ZONE[3:-1].replace("|", ")(?<!") + r")区|市)$")
_ZONE_END = re.compile(ZONE + "$")
_PROVINCE = re.compile(r"(?:省|自治区|特别行政区)$")
_NATIONAL = re.compile(r"^(?:国家|国务院|中华人民共和国|中国|全国)|^[\u4e00-\u9fff]{1,8}(?:部|总局|总署)$")
_PREFECTURE = re.compile(r"(?:市|自治州|州|地区|盟)$")


@dataclass(frozen=True)
class Publisher:
    name: str                 # canonical: 江阴市住房和城乡建设局
    kind: str                 # province_government | ... | department | subdistrict_office | zone_committee | other
    region_code: str | None   # GB/T 2260 of the place, when the divisions know it
    parent: str | None        # canonical name of the publisher above it
    printed: str = ""         # as the page wrote it

    def as_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "region_code": self.region_code,
                "parent": self.parent, "printed": self.printed}


@lru_cache(maxsize=1)
def _division_index() -> tuple[dict[str, list], dict[str, list]]:
    """Divisions by full name and by short name (江阴市 and 江阴)."""
    by_name: dict[str, list] = {}
    by_short: dict[str, list] = {}
    try:
        rows = divisions.load()
    except Exception:  # the data package is missing: names still resolve, without codes
        rows = ()
    for d in rows:
        by_name.setdefault(d.name, []).append(d)
        by_short.setdefault(d.short, []).append(d)
    return by_name, by_short


def _division(places: tuple[str, ...]):
    """The division the innermost non-township place is, when one division fits the chain."""
    names = [p for p in places if not _TOWN.search(p)]
    if not names:
        return None
    by_name, by_short = _division_index()
    found = by_name.get(names[-1]) or []
    if len(found) > 1 and len(names) > 1:
        codes = divisions.by_code()
        outer = set(names[:-1])
        found = [d for d in found if d.parent and (codes.get(d.parent) and codes[d.parent].name in outer)]
    return found[0] if len(found) == 1 else None


def place_only_division(name: str):
    """江阴 -> the division 江阴市, when the short name is one division's alone."""
    by_name, by_short = _division_index()
    got = by_name.get(name) or by_short.get(name) or []
    return got[0] if len(got) == 1 else None


@dataclass(frozen=True)
class Site:
    """The context names are read in: the site's publisher and its place."""
    agency: str
    parts: Parts = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "parts", split(self.agency or ""))

    @property
    def places(self) -> tuple[str, ...]:
        return self.parts.places

    def county_chain(self) -> tuple[str, ...]:
        """The site's places down to its county level (a town's site: its county)."""
        places = self.places
        while places and _TOWN.search(places[-1]):
            places = places[:-1]
        return places


def _government_of(places: tuple[str, ...]) -> str | None:
    if not places:
        return None
    last = places[-1]
    if _ZONE_END.search(last):
        return "".join(places) + "管理委员会"
    if last.endswith("街道"):
        return "".join(places) + "办事处"
    return "".join(places) + _GOVERNMENT


def _kind(places: tuple[str, ...], body: str, division) -> str:
    last = places[-1] if places else ""
    if body == _GOVERNMENT and last:
        if _TOWN.search(last):
            return "township_government"
        if division is not None:
            return {divisions.PROVINCE: "province_government", divisions.PREFECTURE: "prefecture_government",
                    divisions.COUNTY: "county_government"}[division.level]
        if _PROVINCE.search(last):
            return "province_government"
        if len(places) >= 2 and not _TOWN.search(places[-2]) and last.endswith("市"):
            return "county_government"   # 无锡市江阴市: a city under a city is county-level
        if _COUNTY.search(last) and not last.endswith("市"):
            return "county_government"
        if _PREFECTURE.search(last):
            return "prefecture_government"
        return "other"
    if body == "办事处" and last.endswith("街道"):
        return "subdistrict_office"
    if body == "管理委员会" and _ZONE_END.search(last):
        return "zone_committee"
    if body and is_agency(body) or (body and last):
        return "department"
    return "other"


def _parent(places: tuple[str, ...], kind: str, division) -> str | None:
    if kind.endswith("_government") or kind in ("subdistrict_office", "zone_committee"):
        if len(places) >= 2:
            return _government_of(places[:-1])
        if division is not None and division.parent:
            upper = divisions.by_code().get(division.parent)
            return divisions.government_name(upper) if upper else None
        return None
    return _government_of(places)


def _complete(parts: Parts, site: Site | None) -> tuple[str, ...] | None:
    """The printed places made whole from the site's; None when they cannot be."""
    places = parts.places
    site_places = site.places if site else ()
    if parts.relative:
        # 县住建局 on a county's site: the county; 市财政局 on a district's site under a city: the city.
        chain = [p for p in site_places]
        while chain and not (chain[-1].endswith(parts.relative) and not _ZONE_END.search(chain[-1])):
            chain.pop()
        if not chain:
            return None
        return tuple(chain) + places
    if not places:
        # A body alone (财政局, 住建局 in a department column): the site's place.
        return site_places or None
    if site_places:
        for i, p in enumerate(site_places):
            if p == places[0]:
                # 鹿城区商务局 on 温州市鹿城区…'s site: the place as the site writes it.
                return site_places[:i] + places
        if _TOWN.search(places[0]) and site.county_chain():
            # 青龙镇 on a county's site: that county's town.
            return site.county_chain() + places
    return places


_NOT_A_NAME = re.compile(r"报告|年报|年度|信息公开|编制|根据|条例|特向|公布|现将|以下")


@lru_cache(maxsize=8192)
def resolve(printed: str | None, site: Site | None = None) -> Publisher | None:
    """One publisher for a printed name, or None when it names none or cannot be completed.
    (Cached: a crawl asks about the same few names on every page.)"""
    text = orig = normal(printed)
    if _NOT_A_NAME.search(text):
        # Words of the report or of the statute, caught with a name read out of running text
        # (「…工作年度报告泰和市人民政府」): no body is called that.
        return None
    if not is_agency(text):
        own = site.places[-1] if site is not None and site.places else None
        if own and len(text) >= 2 and own.startswith(text):
            # The site's own place written short (泰和 on 泰和市's site): the site's spelling of
            # it, not the registry's guess of which division the short name means.
            text = own
        else:
            division = place_only_division(text) if text else None
            if division is None:
                return None
            text = division.name   # 江阴 -> 江阴市
    if text.startswith(("我", "本", "该")):
        return None
    parts = split(text)
    if not parts.places and not parts.relative:
        division = place_only_division(parts.body)
        if division is not None and not re.search(r"(?:局|委员会|办公室|厅|委|办)$", parts.body):
            parts = Parts((division.name,), None, "")
    body = parts.body
    if not parts.places and not parts.relative and body in (_GOVERNMENT, "管理委员会", "办事处"):
        return None   # 「人民政府」 alone names no one
    if not parts.places and not parts.relative and _NATIONAL.search(body):
        # A central body (教育部, 国家税务总局) has no place to complete.
        return Publisher(body, "department", None, None, printed=printed or "")
    places = _complete(parts, site)
    if places is None:
        if site is not None and site.places:
            return None
        # No site to read it in (a document alone): the name as printed, completed by no one.
        return Publisher(text if not parts.relative else parts.relative + body,
                         "department" if body and body != _GOVERNMENT else "other", None, None, printed=printed or "")
    if not body:
        last = places[-1]
        body = "管理委员会" if _ZONE_END.search(last) else "办事处" if last.endswith("街道") else _GOVERNMENT
    name = "".join(places) + body
    if site is not None and site.agency:
        own = resolve(site.agency) if normal(site.agency) != text else None
        own_name = own.name if own else normal(site.agency)
        # (orig: 「泰和」 as printed, before the divisions completed it to 泰和县: the site's own
        # name for itself, 泰和市人民政府, wins over the registry's guess of which 泰和.)
        if name != own_name and (abbreviates(name, own_name) or abbreviates(text, own_name)
                                 or abbreviates(orig, own_name)):
            # The site's own publisher written shorter: one publisher, the site's spelling.
            return Publisher(own_name, own.kind if own else "other", own.region_code if own else None,
                             own.parent if own else None, printed=printed or "")
    division = _division(places)
    kind = _kind(places, body, division)
    region = division.code if division is not None else None
    return Publisher(name, kind, region, _parent(places, kind, division), printed=printed or "")


__all__ = ["Publisher", "Site", "place_only_division", "resolve"]
