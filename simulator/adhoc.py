"""The ad hoc world: one portal per "hard to find" family (frames, ASP.NET postbacks, year pickers,
GBK-encoded URLs, script-drawn lists, reports without a column, year-less links, and three patterns
of real platforms), each as a new user would meet it: a home page, its host(s) and an agency name.

Opt-in: World(seed, size) never contains these families, so existing worlds, truth and benchmarks
are unchanged. Build with `adhoc_world(seed=0)`; serve with `simulator.serve` like any World.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

from . import places
from .model import Portal
from .names import CITIES, DEPARTMENTS, LEVELS, region_code
from .rand import rng
from .world import World, WorldError

ADHOC_FAMILIES = ["frames", "aspnet", "picker_select", "picker_form", "gbkurl", "scriptlist", "nocolumn",
                  "yearless", "hanwebxxgk", "epoint", "ilist"]
# Who published it (issue 16): real places, many publishers on one site. Opt-in by name, never in
# the default adhoc_world(), so the families above keep their portals, truth and crawl test.
PUBLISHER_FAMILIES = ["deptdir", "countymix"]
# Every request counts (issue 17): page templates heavy with requisites, opt-in likewise.
POLITE_FAMILIES = ["avalon", "scriptapp"]
ALL_ADHOC_FAMILIES = ADHOC_FAMILIES + PUBLISHER_FAMILIES + POLITE_FAMILIES
# Quirks a family always has (simulator/dress.py); more per world with AdhocWorld(quirks=...).
FAMILY_QUIRKS = {"avalon": {"dressed"}, "scriptapp": {"dressed"}}
PLACE_FAMILIES = {"deptdir", "countymix", "avalon"}


@dataclass(frozen=True)
class AdhocTarget:
    """What a user would hand `nianbao crawl`: --start-url, --agency, --allow (through --proxy)."""
    family: str
    site_id: str
    start_url: str
    agency: str
    allow: list[str]          # host names; the crawl reaches them through the simulator's proxy

    def crawl_args(self, proxy_url: str) -> list[str]:
        args = ["crawl", "--start-url", self.start_url, "--agency", self.agency]
        for host in self.allow:
            args += ["--allow", host]
        return args + ["--proxy", proxy_url]


class AdhocWorld(World):
    """A World whose portals are the ad hoc families; truth, look-alikes and fetch as in World."""

    def __init__(self, seed: int = 0, epoch: int = 0, *, families: list[str] | None = None,
                 cached_sites: int = 48, quirks: set[str] | frozenset[str] = frozenset(),
                 validators: bool = True):
        """quirks: added to every portal ("noisy", "backdated"); validators=False: no portal
        sends ETag or Last-Modified (JSP/ASP portals)."""
        families = list(families or ADHOC_FAMILIES)
        unknown = [f for f in families if f not in ALL_ADHOC_FAMILIES]
        if unknown:
            raise WorldError(f"unknown ad hoc families {unknown}; known: {ALL_ADHOC_FAMILIES}")
        if epoch not in (0, 1):
            raise WorldError(f"epoch must be 0 or 1, not {epoch!r}")
        self.seed, self.size, self.epoch, self.big_file_size = seed, "adhoc", epoch, 1 << 20
        self.news_per_portal = None
        self.portals = [replace(p, quirks=p.quirks | FAMILY_QUIRKS.get(p.family, set()) | set(quirks),
                                conditional=validators) for p in _make_portals(seed, families)]
        self._by_host = {h: p for p in self.portals for h in p.hosts}
        self._by_id = {p.site_id: p for p in self.portals}
        self._sites = OrderedDict()
        self._cached_sites = cached_sites
        self._lock = threading.RLock()

    def news_count(self, portal: Portal) -> int:
        return 12

    def portal_for(self, family: str) -> Portal:
        return next(p for p in self.portals if p.family == family)

    @property
    def targets(self) -> list[AdhocTarget]:
        return [AdhocTarget(p.family, p.site_id, p.start_url, p.agency, list(p.hosts)) for p in self.portals]

    def target(self, family: str) -> AdhocTarget:
        return next(t for t in self.targets if t.family == family)

    def truth_for(self, family: str):
        sid = self.portal_for(family).site_id
        return [t for t in self.truth if t.site_id == sid]

    def lookalikes_for(self, family: str) -> set[str]:
        return set(self.site(self.portal_for(family).site_id).lookalike_urls)


def adhoc_world(seed: int = 0, epoch: int = 0, families: list[str] | None = None, **kw) -> AdhocWorld:
    return AdhocWorld(seed=seed, epoch=epoch, families=families, **kw)


def _make_portals(seed: int, families: list[str]) -> list[Portal]:
    portals, used = [], set()
    for family in families:
        i = ALL_ADHOC_FAMILIES.index(family)
        if family in PLACE_FAMILIES:
            portal = _place_portal(seed, family, i)
            if used & set(portal.hosts):
                raise WorldError(f"{family}: host {portal.hosts} already taken")
            used.update(portal.hosts)
            portals.append(portal)
            continue
        r = rng(seed, "adhoc-portal", family)
        government = r.random() < 0.5
        while True:
            city_idx = r.randrange(len(CITIES))
            city, pinyin, province = CITIES[city_idx]
            dept, label = DEPARTMENTS[0] if government else r.choice(DEPARTMENTS[1:])
            host = f"{label}.{pinyin}.gov.cn"
            if host not in used and pinyin not in {h.split(".")[1] for h in used}:
                break
        used.add(host)
        level = r.choice(LEVELS)
        region = city + level
        hosts = [host]
        portals.append(Portal(
            site_id=f"adhoc-{family.replace('_', '-')}-{pinyin}", family=family, hosts=hosts,
            start_url=f"http://{host}/", agency=region + dept, kind="government" if government else "department",
            region_name=region, region_code=region_code(province, city_idx, level), first_year=2012, index=i,
            quirks=frozenset(), conditional=True))
    return portals


def _place_portal(seed: int, family: str, index: int) -> Portal:
    """deptdir: the prefecture's disclosure platform; countymix: its county's government site."""
    place = places.for_seed(seed)
    if family == "avalon":
        host, agency, region, code = (f"xxgk.{place.county_pinyin}.gov.cn", f"{place.county}人民政府",
                                      place.county, place.county_code)
        slug = place.county_pinyin
    elif family == "deptdir":
        host, agency, region, code = (f"xxgk.{place.prefecture_pinyin}.gov.cn", f"{place.prefecture}人民政府",
                                      place.prefecture, place.prefecture_code)
        slug = place.prefecture_pinyin
    else:
        host, agency, region, code = (f"www.{place.county_pinyin}.gov.cn", f"{place.county}人民政府",
                                      place.county, place.county_code)
        slug = place.county_pinyin
    return Portal(site_id=f"adhoc-{family}-{slug}", family=family, hosts=[host], start_url=f"http://{host}/",
                  agency=agency, kind="government", region_name=region, region_code=code, first_year=2012,
                  index=index, quirks=frozenset(), conditional=True)
