"""The World: portals chosen from the seed, their sites generated on demand, and the truth computed
by calling the very handlers the server calls."""
from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from urllib.parse import urljoin, urlsplit

from .families import REGISTRY as FAMILY_BUILDERS
from .content import LAST_YEAR
from .families.common import Site
from .model import Portal, Request, Response, TruthReport
from .names import CITIES, DEPARTMENTS, LEVELS, region_code
from .rand import chance, rng

FAMILIES = ["hanweb", "trs", "gkmlpt", "trsapi", "ruishu", "jiasule", "xxgk", "fanti", "static"]
FAMILY_WEIGHTS = [25, 20, 8, 6, 6, 6, 8, 6, 15]
SIZES = {"tiny": len(FAMILIES), "small": 12, "large": 300}
QUIRKS = ["tracking", "jsessionid", "redirect", "robots", "calendar", "oversized", "dead_link", "flaky", "soft404"]
# In the tiny world each family gets a fixed share, so one world of nine portals shows every quirk.
TINY_QUIRKS = {
    "hanweb": {"two_hosts", "tracking"},
    "trs": {"flaky", "redirect"},
    "static": {"robots", "calendar", "oversized", "dead_link", "jsessionid", "redirect"},
    "fanti": {"soft404"},
    "xxgk": {"tracking"},
}
JS_FAMILIES = {"gkmlpt", "trsapi"}


class WorldError(ValueError):
    """A World was asked for with arguments it cannot honour."""


class World:
    last_year = LAST_YEAR     # subclasses that build themselves (simulator/adhoc.py) keep the default

    def __init__(self, seed: int = 0, size: str | int = "tiny", epoch: int = 0, *,
                 big_file_size: int = 20 * 2**20, cached_sites: int = 48,
                 news_per_portal: tuple[int, int] | None = None, last_year: int | None = None):
        if isinstance(size, str):
            if size not in SIZES:
                raise WorldError(f"unknown world size {size!r}; use one of {sorted(SIZES)} or a number of portals")
            count = SIZES[size]
        elif isinstance(size, int) and not isinstance(size, bool) and size > 0:
            count = size
        else:
            raise WorldError(f"world size must be a name or a positive int, not {size!r}")
        if epoch not in (0, 1):
            raise WorldError(f"epoch must be 0 or 1, not {epoch!r}")
        self.seed, self.size, self.epoch, self.big_file_size = seed, size, epoch, big_file_size
        # The newest year the report columns cover at epoch 0 (epoch 1 may add the next): the
        # demo passes the last year due today, so its coverage has no year the world never had.
        self.last_year = LAST_YEAR if last_year is None else last_year
        # (low, high) news articles per portal instead of the size's default: a busy portal.
        if news_per_portal is not None and not (0 <= news_per_portal[0] <= news_per_portal[1]):
            raise WorldError(f"news_per_portal must be (low, high) with 0 <= low <= high, not {news_per_portal!r}")
        self.news_per_portal = news_per_portal
        self.portals: list[Portal] = _make_portals(seed, count, tiny=size == "tiny")
        self._by_host = {h: p for p in self.portals for h in p.hosts}
        self._by_id = {p.site_id: p for p in self.portals}
        self._sites: OrderedDict[str, Site] = OrderedDict()
        self._cached_sites = cached_sites
        self._lock = threading.RLock()

    # -- sites ---------------------------------------------------------------------------------------------------
    def portal_for_host(self, host: str) -> Portal | None:
        return self._by_host.get(host.lower())

    def site(self, site_id: str) -> Site:
        """The generated site, kept in a small LRU so the large world stays small in memory."""
        with self._lock:
            site = self._sites.get(site_id)
            if site is not None:
                self._sites.move_to_end(site_id)
                return site
            portal = self._by_id[site_id]
            site = Site(self, portal)
            FAMILY_BUILDERS[portal.family](site)
            self._sites[site_id] = site
            while len(self._sites) > self._cached_sites:
                self._sites.popitem(last=False)
            return site

    def handle(self, req: Request) -> Response | None:
        """The content answer for a request (no anti-bot gate, no flakiness); None for an unknown host."""
        portal = self.portal_for_host(req.host)
        if portal is None:
            return None
        return self.site(portal.site_id).handle(req)

    def news_count(self, portal: Portal) -> int:
        if self.news_per_portal is not None:
            return rng(self.seed, portal.site_id, "news-count").randint(*self.news_per_portal)
        if self.size == "tiny":
            return 12
        if self.size == "small":
            return 25
        return rng(self.seed, portal.site_id, "news-count").randint(30, 150)

    def fetch(self, url: str, *, max_redirects: int = 5) -> Response:
        """GET through the content handlers, following redirects: what truth hashes are computed from."""
        for _ in range(max_redirects + 1):
            parts = urlsplit(url)
            resp = self.handle(Request("GET", parts.hostname or "", parts.path or "/", parts.query))
            if resp is None:
                raise WorldError(f"{url} is not on a simulated host")
            if resp.status in (301, 302, 303, 307, 308):
                url = urljoin(url, resp.header("Location"))
                continue
            return resp
        raise WorldError(f"too many redirects from {url}")

    # -- ground truth --------------------------------------------------------------------------------------------
    @functools.cached_property
    def truth(self) -> list[TruthReport]:
        out = []
        for portal in self.portals:
            site = self.site(portal.site_id)
            for col in site.columns:
                for doc in col.docs:
                    if doc.kind != "report" or not doc.visible(self.epoch):
                        continue
                    urls = [a.url for a in doc.attachments]
                    hashes = {u: _sha(self.fetch(u)) for u in urls}
                    if doc.body_in_page:
                        hashes[doc.url] = _sha(self.fetch(doc.url))
                    out.append(TruthReport(site_id=portal.site_id, agency=doc.agency, year=doc.year, title=doc.title,
                                           page_url=doc.url, file_urls=urls, sha256=hashes,
                                           publisher=doc.publisher or _publisher(portal, doc)))
        return out

    def _union(self, attr: str) -> set[str]:
        out: set[str] = set()
        for p in self.portals:
            out |= getattr(self.site(p.site_id), attr)
        return out

    @functools.cached_property
    def lookalikes(self) -> set[str]:
        return self._union("lookalike_urls")

    @functools.cached_property
    def disallowed(self) -> set[str]:
        return self._union("disallowed_urls")

    @functools.cached_property
    def traps(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for p in self.portals:
            for name, url in self.site(p.site_id).traps.items():
                out.setdefault(name, url)
        return out

    def site_configs(self) -> list[dict]:
        """Site configs as an operator would write them: the CMS family where it is one a
        person can tell from the pages, the directory flag for disclosure platforms."""
        return [{
            "id": p.site_id, "agency": p.agency, "region": {"name": p.region_name, "code": p.region_code},
            "kind": p.kind, "start_urls": [p.start_url], "allowed_hosts": list(p.hosts),
            "first_year": p.first_year, "hints": _hints(p.family),
        } for p in self.portals]


_CMS_HINTS = {"hanweb", "trs", "gkmlpt", "trsapi", "static"}


def _hints(family: str) -> dict:
    if family == "xxgk":
        return {"directory": True}
    return {"cms": family} if family in _CMS_HINTS else {}


def _publisher(portal: Portal, doc) -> dict:
    """The publisher of a family that does not model one: the portal's government, or a department
    (the xxgk platform's departments are named after the portal's region)."""
    if doc.agency == portal.agency and portal.kind == "government":
        return {"name": doc.agency, "kind": "government", "level": None, "region_code": portal.region_code,
                "parent": None}
    return {"name": doc.agency, "kind": "department", "level": None, "region_code": None, "parent": None}


def _sha(resp: Response) -> str:
    body = resp.body if isinstance(resp.body, bytes) else b"".join(resp.body)
    return hashlib.sha256(body).hexdigest()


def _make_portals(seed: int, count: int, *, tiny: bool) -> list[Portal]:
    portals, used_hosts, used_ids = [], set(), set()
    for i in range(count):
        r = rng(seed, "portal", i)
        family = FAMILIES[i] if i < len(FAMILIES) else r.choices(FAMILIES, weights=FAMILY_WEIGHTS)[0]
        government = family == "xxgk" or r.random() < 0.4
        city_idx = r.randrange(len(CITIES))
        city, pinyin, province = CITIES[city_idx]
        dept, label = DEPARTMENTS[0] if government else r.choice(DEPARTMENTS[1:])
        level = r.choice(LEVELS)
        region = city + level
        n, base = 1, pinyin
        while True:
            first = "xxgk" if family == "xxgk" else label
            host = f"{first}.{base}.gov.cn"
            site_id = f"{base}-{'gov' if government else label}" + ("-xxgk" if family == "xxgk" else "")
            if host not in used_hosts and f"xxgk.{base}.gov.cn" not in used_hosts and site_id not in used_ids:
                break
            n += 1
            base = f"{pinyin}{n}"
        if tiny:
            quirks = set(TINY_QUIRKS.get(family, set()))
        else:
            quirks = {q for q in QUIRKS if chance(0.15, seed, i, q)}
            if family in ("hanweb", "trs") and chance(0.3, seed, i, "two_hosts"):
                quirks.add("two_hosts")
        hosts = [host]
        if "two_hosts" in quirks:
            hosts.append(f"xxgk.{base}.gov.cn")
        used_hosts.update(hosts)
        used_ids.add(site_id)
        portals.append(Portal(
            site_id=site_id, family=family, hosts=hosts, start_url=f"http://{host}/", agency=region + dept,
            kind="government" if government else "department", region_name=region,
            region_code=region_code(province, city_idx, level), first_year=r.randint(2008, 2016), index=i,
            quirks=frozenset(quirks), conditional=(family != "fanti") if tiny else chance(0.8, seed, i, "cond"),
        ))
    return portals
