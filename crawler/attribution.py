"""Whose report is it? One decision, tested from a table.

The evidence (crawler/publishers/evidence.py) is resolved name by name against the site's
publisher (crawler/publishers/resolve.py); the strongest source that resolves wins:
page field, then breadcrumb, then title, then body, then the site itself. Two real patterns
make a weaker source right over a stronger one, and only those:
- a government's general office (人民政府办公室) in the 发布机构 / 来源 field uploads for the
  government and its departments: a title or body naming someone else names the author;
- a breadcrumb naming a government (a portal's root: 首页 > 某县人民政府 > 信息公开) is the
  site, not the section: a title naming a department, town or office under it names the author;
  so is a 来源 field a portal's CMS fills with its owner, for a title naming one under it.
Any other disagreement keeps the stronger source and is recorded as the conflict. Nothing that
resolves: the site's publisher, never a made-up name.
"""
from __future__ import annotations

from crawler.publishers.evidence import Evidence, breadcrumb_names, gather, section_name
from crawler.publishers.names import is_agency, normal
from crawler.publishers.resolve import Publisher, Site, resolve

_RANK = {"page_field": 0, "breadcrumb": 1, "title": 2, "body": 3, "site": 4}


def looks_like_agency(name: str) -> bool:
    return is_agency(name)


def breadcrumb_agency(breadcrumb: str) -> str | None:
    """The innermost breadcrumb segment that names an agency (platform > department > column)."""
    names = breadcrumb_names(breadcrumb)
    return names[0] if names else None


def _is_office(p: Publisher) -> bool:
    return p.name.endswith(("人民政府办公室", "人民政府办公厅"))


def _yields(stronger: tuple[Evidence, Publisher], weaker: tuple[Evidence, Publisher]) -> bool:
    """The weaker source names the author better than the stronger one (see the module doc)."""
    (sev, spub), (wev, wpub) = stronger, weaker
    if wev.source not in ("title", "body") or spub.name == wpub.name:
        return False
    if sev.source == "page_field" and _is_office(spub):
        return True
    upper = ("province_government", "prefecture_government", "county_government")
    if sev.source == "page_field":
        # A portal's CMS fills 来源 with its owner: the government, above the department named.
        return spub.kind in upper and wpub.kind not in upper and wpub.parent == spub.name
    return sev.source == "breadcrumb" and spub.kind in upper and wpub.kind not in upper


def attribute(evidence: list[Evidence], site_agency: str) -> dict:
    """The ReportRef.publisher dict (crawler/items.py) from the page's evidence and the site's agency."""
    site = Site(site_agency or "")
    own = resolve(site_agency) or Publisher(normal(site_agency), "other", None, None, printed=site_agency or "")
    resolved = [(ev, pub) for ev in sorted(evidence, key=lambda e: _RANK.get(e.source, 9))
                if (pub := resolve(ev.text, site)) is not None]
    # A department's site inside its government's portal: a breadcrumb or column naming that
    # government is the portal around the site, not a section of it.
    resolved = [(ev, pub) for ev, pub in resolved if not (ev.source == "breadcrumb" and own.parent
                                                            and pub.name == own.parent)]
    chosen = resolved[0] if resolved else None
    if chosen is not None:
        for other in resolved[1:]:
            if _yields(chosen, other):
                chosen = other
                break
    if chosen is not None and chosen[0].source == "page_field" and _is_office(chosen[1]) \
            and chosen[1].parent == own.name and not any(p.name == chosen[1].name for e, p in resolved if e is not chosen[0]):
        # The site's own general office in the 发布机构 field, and nothing else naming it: the
        # office put the government's report online.
        chosen = None
    if chosen is None:
        ev, pub, source = None, own, "site"
    else:
        (ev, pub), source = chosen, chosen[0].source
    disagree = sorted({f"{e.source}: {p.name}" for e, p in resolved if p.name != pub.name})
    unresolved = [e for e in evidence if resolve(e.text, site) is None]
    conflict = None
    if disagree:
        conflict = f"{source} gives {pub.name}; " + "; ".join(disagree)
    elif not resolved and unresolved:
        conflict = "unresolved: " + "; ".join(f"{e.source}: {e.text}" for e in unresolved)
    out = pub.as_dict()
    out["printed"] = ev.text if ev is not None else (site_agency or "")
    out["source"] = source
    out["evidence"] = [e.as_dict() for e in evidence]
    out["conflict"] = conflict
    return out


def resolve_agency(*, named: str | None, publisher: str | None, breadcrumb: str | None,
                   site_agency: str, directory: bool = False, body: str | None = None) -> str:
    """The canonical name alone (the older call): named is the title's, publisher the page field."""
    return attribute(gather(fields=[publisher], breadcrumb=breadcrumb, titles=[named], body=body),
                     site_agency)["name"]


__all__ = ["attribute", "breadcrumb_agency", "gather", "looks_like_agency", "resolve_agency", "section_name"]
