"""The registry of publishers: who published a report, whatever name the page printed.

A publisher is one body (a people's government, a department, a 街道办事处, a 管委会) with one
canonical name; the names it was printed under are its aliases, each with where it was seen.
The people's governments of every province, prefecture and county are seeded offline
(`load_divisions`); departments and townships enter as the crawl meets them (`_attribute`, in
the archive transaction of the report). An archivist's merges, alias splits and additions and
created/abolished years are recorded in publisher_action with what it takes to undo them.

Resolution order when a report is archived (one place, `_attribute`):
1. an alias an archivist decided (source "archivist") for the printed name, on this site or
   anywhere: an archivist's word outlives every recrawl;
2. the government of the region code, when the attribution names a government kind (names of
   counties repeat across the country: 朝阳区 is in Beijing and in Changchun);
3. the canonical name; a publisher merged into another answers with the one it went into;
4. a new publisher, its parent by name (or the government of its region) when known.

A mixin of storage.catalogue.Catalogue: one transaction per method, retried as a whole.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterable

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.models import (
    ALIAS_SOURCES, PUBLISHER_KINDS, Publisher, PublisherAction, PublisherAlias, Report, Site, utcnow,
)

# A division's level -> the kind of its people's government (load_divisions).
KIND_BY_LEVEL = {"province": "province_government", "prefecture": "prefecture_government",
                 "county": "county_government"}
GOVERNMENT_KINDS = frozenset(KIND_BY_LEVEL.values()) | {"township_government"}
# ReportRef.publisher["source"] (where attribution found the name) -> where the alias was seen.
ALIAS_SOURCE_OF = {"page_field": "page_field", "breadcrumb": "breadcrumb", "title": "title",
                   "body": "body", "site": "site_file"}
MAX_NAME = 200
MAX_EVIDENCE = 300
_MERGE_DEPTH = 32


class PublisherError(ValueError):
    """A registry action that cannot be done as asked (unknown id, merging into itself...)."""


def norm_name(name: str | None) -> str:
    """The stored form of a name: single spaces, trimmed, at most MAX_NAME characters. Callers
    give simplified characters (crawler.chinese.normalise); storage knows no character tables."""
    return re.sub(r"\s+", " ", str(name or "")).strip()[:MAX_NAME]


def region_code(code: str | None) -> str | None:
    """A GB/T 2260 code as stored: 6 to 12 digits, else None."""
    code = str(code or "").strip()
    return code if code.isdigit() and 6 <= len(code) <= 12 else None


def kind_of_code(code: str | None) -> str:
    """The government kind a code's shape says: PP0000 province, PPCC00 prefecture, else county
    (9 or 12 digits: a township). Used only when no seeded government has the code."""
    code = region_code(code)
    if code is None:
        return "other"
    if len(code) > 6:
        return "township_government"
    if code[2:] == "0000":
        return "province_government"
    return "prefecture_government" if code[4:] == "00" else "county_government"


def site_kind(kind: str, code: str | None) -> str:
    """The publisher kind of a site's own agency: its configured kind, made precise by its code."""
    return kind_of_code(code) if kind == "government" else "department"


def seed_names(divisions, government_name: Callable) -> dict[str, tuple[str, str, str | None]]:
    """code -> (canonical name, kind, parent code) for the governments of every division.

    A name two divisions share (朝阳区人民政府: Beijing's and Changchun's) is qualified by the
    parent's name on both (北京市朝阳区人民政府), never given to one of them by chance. A
    prefecture named as its province (北京市 under 北京市: a municipality) is the same government."""
    by_code = {d.code: d for d in divisions}
    same = {d.code: d.parent for d in divisions
            if d.level == "prefecture" and d.parent in by_code and by_code[d.parent].name == d.name}
    counts: dict[str, int] = {}
    for d in divisions:
        if d.code not in same:
            counts[government_name(d)] = counts.get(government_name(d), 0) + 1
    out = {}
    for d in sorted(divisions, key=lambda d: d.code):
        if d.code in same:
            continue
        name = government_name(d)
        parent = same.get(d.parent, d.parent)
        if counts[name] > 1 and parent in by_code:
            name = by_code[parent].name + name
        out[d.code] = (name, KIND_BY_LEVEL[d.level], parent)
    return out


class PublisherRegistry:
    """The publisher statements of the catalogue (mixed into Catalogue)."""

    # --- seed ------------------------------------------------------------------------

    def load_divisions(self, *, divisions: Iterable, government_name: Callable) -> dict[str, int]:
        """The people's governments of every division (objects with code, name, level, parent),
        kind by level, parent by code. Idempotent: a second load changes nothing; a publisher
        met by a crawl before the seed under the same name becomes the seeded one."""
        divisions = list(divisions)
        seed = seed_names(divisions, government_name)
        plain = {d.code: government_name(d) for d in divisions}

        def fn(s: Session) -> dict[str, int]:
            t = Publisher.__table__
            by_code = {code: pid for pid, code in s.execute(
                sa.select(t.c.id, t.c.region_code).where(col(t.c.kind).in_(sorted(KIND_BY_LEVEL.values()))))}
            by_name = dict(s.execute(sa.select(t.c.name, t.c.id)).all())
            aliases = {(a, p) for a, p in s.execute(sa.select(PublisherAlias.alias, PublisherAlias.publisher_id)
                                                     .where(PublisherAlias.source == "seed"))}
            created = updated = 0
            for code, (name, kind, parent) in seed.items():
                values = dict(name=name, kind=kind, region_code=code, parent_id=by_code.get(parent))
                pid = by_code.get(code) or by_name.get(name)
                if pid is None:
                    pid = s.execute(sa.insert(t).values(created_at=utcnow(), **values).returning(t.c.id)).scalar_one()
                    created += 1
                else:
                    row = s.execute(sa.select(t.c.name, t.c.kind, t.c.region_code, t.c.parent_id)
                                    .where(t.c.id == pid)).one()
                    if tuple(row) != (name, kind, code, values["parent_id"]):
                        s.execute(sa.update(t).where(t.c.id == pid).values(**values))
                        updated += 1
                by_code[code], by_name[name] = pid, pid
                for alias in {plain[code], plain[code].replace("人民政府", "政府")} - {name}:
                    if (alias, pid) not in aliases:
                        s.execute(sa.insert(PublisherAlias.__table__).values(
                            publisher_id=pid, alias=alias, source="seed", first_seen=utcnow()))
                        aliases.add((alias, pid))
            return {"created": created, "updated": updated, "governments": len(seed)}

        return self._write("load_divisions", fn)

    # --- reads -----------------------------------------------------------------------

    def publisher(self, *, publisher_id: int) -> Publisher | None:
        return self._read("publisher", lambda s: s.get(Publisher, publisher_id))

    def publisher_by_name(self, *, name: str) -> Publisher | None:
        """The live publisher of a canonical name (one merged away answers with its successor)."""
        def fn(s: Session):
            pid = self._by_name(s, norm_name(name))
            return s.get(Publisher, pid) if pid else None

        return self._read("publisher_by_name", fn)

    def publishers(self, *, region: str | None = None, kind: str | None = None,
                   include_merged: bool = False) -> list[Publisher]:
        """By region code, kind and name; region: a code prefix (320000 -> every 32xxxx)."""
        stmt = select(Publisher).order_by(Publisher.region_code, Publisher.kind, Publisher.name)
        if region:
            stmt = stmt.where(col(Publisher.region_code).startswith(region_prefix(region)))
        if kind:
            stmt = stmt.where(Publisher.kind == kind)
        if not include_merged:
            stmt = stmt.where(col(Publisher.merged_into_id).is_(None))
        return self._read("publishers", lambda s: list(s.exec(stmt)))

    def publisher_aliases(self, *, publisher_id: int | None = None) -> list[PublisherAlias]:
        stmt = select(PublisherAlias).order_by(PublisherAlias.publisher_id, PublisherAlias.alias, PublisherAlias.id)
        if publisher_id is not None:
            stmt = stmt.where(PublisherAlias.publisher_id == publisher_id)
        return self._read("publisher_aliases", lambda s: list(s.exec(stmt)))

    def publisher_actions(self, *, publisher_id: int | None = None, limit: int = 200) -> list[PublisherAction]:
        """Newest first; with publisher_id, the actions whose payload names it."""
        def fn(s: Session):
            rows = list(s.exec(select(PublisherAction).order_by(col(PublisherAction.id).desc())))
            if publisher_id is not None:
                rows = [a for a in rows if publisher_id in _touched(a)]
            return rows[:limit]

        return self._read("publisher_actions", fn)

    # --- writes the crawl makes ------------------------------------------------------

    def upsert_publisher(self, *, name: str, kind: str = "other", region_code: str | None = None,
                         parent_name: str | None = None) -> int:
        """The id of the live publisher of this name (or government of this code), made if new."""
        return self._write("upsert_publisher", lambda s: self._resolve(
            s, name=name, kind=kind, code=region_code, parent_name=parent_name))

    def _by_name(self, s: Session, name: str) -> int | None:
        pid = s.execute(sa.select(Publisher.id).where(Publisher.name == name)).scalar()
        return self._live(s, pid) if pid else None

    def _live(self, s: Session, pid: int) -> int:
        for _ in range(_MERGE_DEPTH):
            nxt = s.execute(sa.select(Publisher.merged_into_id).where(Publisher.id == pid)).scalar()
            if nxt is None:
                return pid
            pid = nxt
        return pid

    def _resolve(self, s: Session, *, name: str, kind: str = "other", code: str | None = None,
                 parent_name: str | None = None) -> int:
        name, code = norm_name(name), region_code(code)
        kind = kind if kind in PUBLISHER_KINDS else "other"
        if not name:
            raise PublisherError("a publisher needs a name")
        if kind in GOVERNMENT_KINDS and code:
            pid = s.execute(sa.select(Publisher.id).where(Publisher.region_code == code,
                                                          col(Publisher.kind).in_(sorted(GOVERNMENT_KINDS)))
                            .order_by(Publisher.id).limit(1)).scalar()
            if pid:
                return self._live(s, pid)
        pid = self._by_name(s, name)
        if pid:
            return pid
        parent_id = None
        if parent_name and norm_name(parent_name) != name:
            parent_id = self._resolve(s, name=parent_name, code=code,
                                      kind=kind_of_code(code) if parent_name.endswith("人民政府") else "other")
        elif code and kind not in GOVERNMENT_KINDS:
            parent_id = s.execute(sa.select(Publisher.id).where(
                Publisher.region_code == code, col(Publisher.kind).in_(sorted(GOVERNMENT_KINDS)))
                .order_by(Publisher.id).limit(1)).scalar()
        t = Publisher.__table__
        s.execute(self._insert(t).values(name=name, kind=kind, region_code=code, parent_id=parent_id,
                                         created_at=utcnow()).on_conflict_do_nothing(index_elements=["name"]))
        return self._by_name(s, name)

    def _seen_alias(self, s: Session, *, publisher_id: int, alias: str, source: str,
                    site_id: str | None = None, example_url: str | None = None,
                    evidence: str | None = None) -> int:
        alias = norm_name(alias)
        t = PublisherAlias.__table__
        find = sa.select(t.c.id).where(t.c.alias == alias, t.c.publisher_id == publisher_id,
                                       t.c.site_id.is_(None) if site_id is None else t.c.site_id == site_id)
        found = s.execute(find).scalar()
        if found:
            return found
        s.execute(self._insert(t).values(
            publisher_id=publisher_id, alias=alias, source=source if source in ALIAS_SOURCES else "body",
            site_id=site_id, example_url=example_url, evidence=(evidence or None) and evidence[:MAX_EVIDENCE],
            first_seen=utcnow()).on_conflict_do_nothing())
        return s.execute(find).scalar()

    def _archivist_alias(self, s: Session, alias: str, site_id: str | None) -> int | None:
        """The publisher an archivist said this printed name is, here or anywhere (here first)."""
        rows = s.execute(sa.select(PublisherAlias.publisher_id, PublisherAlias.site_id)
                         .where(PublisherAlias.alias == alias, PublisherAlias.source == "archivist")
                         .order_by(PublisherAlias.id.desc())).all()
        here = [p for p, site in rows if site == site_id] or [p for p, site in rows if site is None]
        return self._live(s, here[0]) if here else None

    def _site_publisher(self, s: Session, *, site_id: str, agency: str, kind: str = "department",
                        code: str | None = None) -> int:
        """The publisher of a site's own agency, set on the site: by name, an archivist's or the
        seed's alias, the seeded government of its region code, else a new one."""
        name = norm_name(agency)
        pid = self._by_name(s, name) or self._archivist_alias(s, name, site_id)
        if pid is None:
            seeded = s.execute(sa.select(PublisherAlias.publisher_id).where(
                PublisherAlias.alias == name, PublisherAlias.source == "seed")).scalars().all()
            pid = self._live(s, seeded[0]) if len(set(seeded)) == 1 else None
        if pid is None and kind == "government" and region_code(code):
            pid = s.execute(sa.select(Publisher.id).where(
                Publisher.region_code == region_code(code), col(Publisher.kind).in_(sorted(GOVERNMENT_KINDS)))
                .order_by(Publisher.id).limit(1)).scalar()
        if pid is None:
            pid = self._resolve(s, name=name, kind=site_kind(kind, code), code=code)
        self._seen_alias(s, publisher_id=pid, alias=name, source="site_file", site_id=site_id)
        s.execute(sa.update(Site).where(Site.id == site_id).values(publisher_id=pid))
        return pid

    def _attribute(self, s: Session, *, report_id: int, site_id: str, url: str, publisher: dict | None,
                   agency: str | None = None) -> None:
        """Point the report at its publisher (module docstring: the order) and keep the evidence.
        Without an attribution the report is the site's, unless its agency names another body
        (a caller that only had a name, as every crawl before the registry)."""
        site = s.execute(sa.select(Site.publisher_id, Site.agency, Site.kind, Site.region_code)
                         .where(Site.id == site_id)).one()
        site_pub = site.publisher_id or self._site_publisher(
            s, site_id=site_id, agency=site.agency, kind=site.kind, code=site.region_code)
        attribution = None
        pid = site_pub
        if not publisher and norm_name(agency) and norm_name(agency) != norm_name(site.agency):
            pid = self._archivist_alias(s, norm_name(agency), site_id) or self._resolve(
                s, name=agency, kind="other", code=site.region_code)
        if publisher:
            attribution = {k: publisher.get(k) for k in
                           ("name", "printed", "source", "kind", "region_code", "parent", "evidence", "conflict")}
            printed = norm_name(publisher.get("printed") or publisher.get("name"))
            if publisher.get("source") != "site" and printed:
                pid = self._archivist_alias(s, printed, site_id) or self._resolve(
                    s, name=publisher.get("name") or printed, kind=publisher.get("kind") or "other",
                    code=publisher.get("region_code"), parent_name=publisher.get("parent"))
                source = publisher.get("source")
                text = next((e.get("text") for e in publisher.get("evidence") or []
                             if isinstance(e, dict) and e.get("source") == source), None)
                self._seen_alias(s, publisher_id=pid, alias=printed, source=ALIAS_SOURCE_OF.get(source, "body"),
                                 site_id=site_id, example_url=url, evidence=text)
        s.execute(sa.update(Report).where(Report.id == report_id).values(publisher_id=pid, attribution=attribution))


def region_prefix(code: str) -> str:
    """The prefix every code under a region shares: 320000 -> 32, 320500 -> 3205, 320581 -> 320581."""
    code = str(code).strip()
    if len(code) == 6 and code.isdigit():
        return code[:2] if code[2:] == "0000" else code[:4] if code[4:] == "00" else code
    return code


def _touched(action: PublisherAction) -> set[int]:
    p = action.payload or {}
    ids = {p.get(k) for k in ("source_id", "into_id", "publisher_id", "from_id", "to_id", "created_id")}
    return {i for i in ids if isinstance(i, int)}


__all__ = ["GOVERNMENT_KINDS", "KIND_BY_LEVEL", "PublisherError", "PublisherRegistry", "kind_of_code",
           "norm_name", "region_code", "region_prefix", "seed_names", "site_kind"]
