"""An archivist's changes to the registry of publishers, each recorded and undoable.

Every action is one transaction that changes the rows and writes a publisher_action row with
who, when, why and a payload naming exactly the rows it moved, so `undo_action` puts back
those rows and nothing else. An action can be undone once; an undo is not undone (do the
action again); and an action is undone only while no later live action touched the same
publishers (undo those first), so an undo never tears up work done on top of it.

A mixin of storage.catalogue.Catalogue (beside storage/publishers.py, which reads and seeds).
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col

from storage.models import Publisher, PublisherAction, PublisherAlias, Report, Site, utcnow
from storage.publishers import PUBLISHER_KINDS, PublisherError, _touched, norm_name

EVENTS = ("created", "abolished")


def _printed(attribution: dict | None) -> str | None:
    a = attribution or {}
    return norm_name(a.get("printed") or a.get("name")) or None


class PublisherActions:
    """merge_publishers, split_alias, add_alias, mark_publisher, undo_action."""

    def _act(self, s: Session, *, action: str, who: str, why: str, payload: dict) -> int:
        who, why = norm_name(who), (why or "").strip()
        if not who or not why:
            raise PublisherError("who and why are needed for a change to the registry")
        t = PublisherAction.__table__
        return s.execute(sa.insert(t).values(at=utcnow(), who=who, why=why, action=action, payload=payload)
                         .returning(t.c.id)).scalar_one()

    def _need(self, s: Session, publisher_id: int) -> Publisher:
        p = s.get(Publisher, publisher_id)
        if p is None:
            raise PublisherError(f"no publisher {publisher_id}")
        return p

    def _printed_reports(self, s: Session, *, alias: str, site_id: str | None, publisher_id: int | None = None,
                         not_publisher: int | None = None) -> list[tuple[int, int | None]]:
        """(report id, publisher id) of reports printed under alias (on site_id when given)."""
        stmt = sa.select(Report.id, Report.publisher_id, Report.attribution).where(col(Report.attribution).is_not(None))
        if site_id:
            stmt = stmt.where(Report.site_id == site_id)
        if publisher_id is not None:
            stmt = stmt.where(Report.publisher_id == publisher_id)
        return [(rid, pid) for rid, pid, attr in s.execute(stmt)
                if _printed(attr) == alias and (not_publisher is None or pid != not_publisher)]

    # --- actions ---------------------------------------------------------------------

    def merge_publishers(self, *, source_id: int, into_id: int, who: str, why: str) -> int:
        """source becomes a name of into: its reports, sites, aliases and children go to into,
        and its name answers with into from now on. Returns the action id."""
        def fn(s: Session) -> int:
            if source_id == into_id:
                raise PublisherError("a publisher cannot be merged into itself")
            a, b = self._need(s, source_id), self._need(s, into_id)
            if a.merged_into_id is not None or b.merged_into_id is not None:
                raise PublisherError("merge live publishers only (one of them was merged already)")
            reports = list(s.scalars(sa.select(Report.id).where(Report.publisher_id == a.id)))
            sites = list(s.scalars(sa.select(Site.id).where(Site.publisher_id == a.id)))
            children = list(s.scalars(sa.select(Publisher.id).where(Publisher.parent_id == a.id)))
            have = {(al, site) for al, site in s.execute(sa.select(PublisherAlias.alias, PublisherAlias.site_id)
                                                          .where(PublisherAlias.publisher_id == b.id))}
            moved, dropped = [], []
            for row in s.scalars(sa.select(PublisherAlias).where(PublisherAlias.publisher_id == a.id)).all():
                if (row.alias, row.site_id) in have:
                    dropped.append(row.model_dump(mode="json"))
                    s.delete(row)
                else:
                    moved.append(row.id)
            s.flush()
            if moved:
                s.execute(sa.update(PublisherAlias).where(col(PublisherAlias.id).in_(moved)).values(publisher_id=b.id))
            if reports:
                s.execute(sa.update(Report).where(col(Report.id).in_(reports)).values(publisher_id=b.id))
            if sites:
                s.execute(sa.update(Site).where(col(Site.id).in_(sites)).values(publisher_id=b.id))
            if children:
                s.execute(sa.update(Publisher).where(col(Publisher.id).in_(children)).values(parent_id=b.id))
            s.execute(sa.update(Publisher).where(Publisher.id == a.id).values(merged_into_id=b.id))
            return self._act(s, action="merge", who=who, why=why, payload=dict(
                source_id=a.id, into_id=b.id, reports=reports, sites=sites, children=children,
                aliases_moved=moved, aliases_dropped=dropped))

        return self._write("merge_publishers", fn)

    def split_alias(self, *, alias_id: int, who: str, why: str, into_id: int | None = None,
                    into_name: str | None = None, kind: str | None = None) -> int:
        """The alias (and the reports printed under it) goes to into_id, or to a new publisher
        into_name; an archivist's alias from then on, so recrawls keep it there."""
        def fn(s: Session) -> int:
            alias = s.get(PublisherAlias, alias_id)
            if alias is None:
                raise PublisherError(f"no alias {alias_id}")
            old = self._need(s, alias.publisher_id)
            created = None
            if into_id is not None:
                target = self._need(s, into_id).id
            elif norm_name(into_name):
                name = norm_name(into_name)
                if s.execute(sa.select(Publisher.id).where(Publisher.name == name)).scalar():
                    raise PublisherError(f"publisher {name!r} exists: split into its id")
                t = Publisher.__table__
                target = created = s.execute(sa.insert(t).values(
                    name=name, kind=kind if kind in PUBLISHER_KINDS else "other", region_code=old.region_code,
                    parent_id=old.parent_id, created_at=utcnow()).returning(t.c.id)).scalar_one()
            else:
                raise PublisherError("split into a publisher id or a new name")
            if target == old.id:
                raise PublisherError("the alias is that publisher's already")
            if s.execute(sa.select(PublisherAlias.id).where(
                    PublisherAlias.alias == alias.alias, PublisherAlias.publisher_id == target,
                    PublisherAlias.site_id.is_(None) if alias.site_id is None
                    else PublisherAlias.site_id == alias.site_id)).scalar():
                raise PublisherError(f"{alias.alias!r} is an alias of publisher {target} already")
            reports = [r for r, _ in self._printed_reports(s, alias=alias.alias, site_id=alias.site_id,
                                                            publisher_id=old.id)]
            if reports:
                s.execute(sa.update(Report).where(col(Report.id).in_(reports)).values(publisher_id=target))
            payload = dict(alias_id=alias.id, from_id=old.id, to_id=target, created_id=created,
                           old_source=alias.source, reports=reports)
            alias.publisher_id, alias.source = target, "archivist"
            s.add(alias)
            s.flush()
            return self._act(s, action="split_alias", who=who, why=why, payload=payload)

        return self._write("split_alias", fn)

    def add_alias(self, *, publisher_id: int, alias: str, who: str, why: str, site_id: str | None = None) -> int:
        """An archivist's word that `alias` (on site_id, or anywhere) names this publisher: reports
        printed under it go there now, and recrawls keep them there."""
        def fn(s: Session) -> int:
            p = self._need(s, publisher_id)
            name = norm_name(alias)
            if not name:
                raise PublisherError("an alias needs a name")
            if site_id is not None and s.get(Site, site_id) is None:
                raise PublisherError(f"no site {site_id!r}")
            row = s.scalars(sa.select(PublisherAlias).where(
                PublisherAlias.alias == name, PublisherAlias.publisher_id == p.id,
                PublisherAlias.site_id.is_(None) if site_id is None else PublisherAlias.site_id == site_id)).first()
            old_source = row.source if row else None
            if row is None:
                row = PublisherAlias(publisher_id=p.id, alias=name, source="archivist", site_id=site_id)
            row.source = "archivist"
            s.add(row)
            s.flush()
            moved = self._printed_reports(s, alias=name, site_id=site_id, not_publisher=p.id)
            if moved:
                s.execute(sa.update(Report).where(col(Report.id).in_([r for r, _ in moved])).values(publisher_id=p.id))
            return self._act(s, action="add_alias", who=who, why=why, payload=dict(
                publisher_id=p.id, alias_id=row.id, old_source=old_source, reports=[[r, was] for r, was in moved]))

        return self._write("add_alias", fn)

    def mark_publisher(self, *, publisher_id: int, event: str, year: int | None, who: str, why: str) -> int:
        """The year a publisher was created or abolished (None clears it)."""
        if event not in EVENTS:
            raise PublisherError(f"event {event!r} is not one of {EVENTS}")
        if year is not None and not 1949 <= year <= 2100:
            raise PublisherError(f"year {year} is out of range")
        field = f"{event}_year"

        def fn(s: Session) -> int:
            p = self._need(s, publisher_id)
            old = getattr(p, field)
            s.execute(sa.update(Publisher).where(Publisher.id == p.id).values({field: year}))
            return self._act(s, action=event, who=who, why=why,
                             payload=dict(publisher_id=p.id, field=field, old=old, new=year))

        return self._write("mark_publisher", fn)

    def undo_action(self, *, action_id: int, who: str, why: str) -> int:
        """Put back what action_id changed; the undo is an action too. Returns its id."""
        def fn(s: Session) -> int:
            act = s.get(PublisherAction, action_id)
            if act is None:
                raise PublisherError(f"no action {action_id}")
            if act.action == "undo":
                raise PublisherError(f"action {action_id} is an undo; do the action again instead")
            if act.undone_by is not None:
                raise PublisherError(f"action {action_id} was undone already (by {act.undone_by})")
            touched = _touched(act)
            for later in s.scalars(sa.select(PublisherAction).where(
                    PublisherAction.id > act.id, PublisherAction.action != "undo",
                    col(PublisherAction.undone_by).is_(None))).all():
                if touched & _touched(later):
                    raise PublisherError(f"undo action {later.id} ({later.action}) first: it changed the same publishers")
            getattr(self, f"_undo_{act.action}")(s, act.payload)
            undo_id = self._act(s, action="undo", who=who, why=why, payload=dict(undoes=act.id, action=act.action))
            s.execute(sa.update(PublisherAction).where(PublisherAction.id == act.id).values(undone_by=undo_id))
            return undo_id

        return self._write("undo_action", fn)

    # --- the inverse of each action ----------------------------------------------------

    def _undo_merge(self, s: Session, p: dict) -> None:
        a, b = p["source_id"], p["into_id"]
        for model, ids, column in ((Report, p["reports"], "publisher_id"), (Site, p["sites"], "publisher_id"),
                                   (PublisherAlias, p["aliases_moved"], "publisher_id"),
                                   (Publisher, p["children"], "parent_id")):
            if ids:
                s.execute(sa.update(model).where(col(model.id).in_(ids), getattr(model, column) == b)
                          .values({column: a}))
        for row in p["aliases_dropped"]:
            s.execute(sa.insert(PublisherAlias.__table__).values(
                publisher_id=a, alias=row["alias"], source=row["source"], site_id=row["site_id"],
                example_url=row["example_url"], evidence=row.get("evidence"), first_seen=utcnow()))
        s.execute(sa.update(Publisher).where(Publisher.id == a).values(merged_into_id=None))

    def _undo_split_alias(self, s: Session, p: dict) -> None:
        if p["reports"]:
            s.execute(sa.update(Report).where(col(Report.id).in_(p["reports"]), Report.publisher_id == p["to_id"])
                      .values(publisher_id=p["from_id"]))
        s.execute(sa.update(PublisherAlias).where(PublisherAlias.id == p["alias_id"])
                  .values(publisher_id=p["from_id"], source=p["old_source"]))
        created = p.get("created_id")
        if created and not self._referenced(s, created):
            s.execute(sa.delete(Publisher).where(Publisher.id == created))

    def _undo_add_alias(self, s: Session, p: dict) -> None:
        for rid, was in p["reports"]:
            s.execute(sa.update(Report).where(Report.id == rid, Report.publisher_id == p["publisher_id"])
                      .values(publisher_id=was))
        if p["old_source"] is None:
            s.execute(sa.delete(PublisherAlias).where(PublisherAlias.id == p["alias_id"]))
        else:
            s.execute(sa.update(PublisherAlias).where(PublisherAlias.id == p["alias_id"])
                      .values(source=p["old_source"]))

    def _undo_mark(self, s: Session, p: dict) -> None:
        s.execute(sa.update(Publisher).where(Publisher.id == p["publisher_id"]).values({p["field"]: p["old"]}))

    _undo_created = _undo_abolished = _undo_mark

    def _referenced(self, s: Session, pid: int) -> bool:
        return any(s.execute(sa.select(sa.func.count()).select_from(model).where(column == pid)).scalar()
                   for model, column in ((Report, Report.publisher_id), (Site, Site.publisher_id),
                                         (PublisherAlias, PublisherAlias.publisher_id),
                                         (Publisher, Publisher.parent_id), (Publisher, Publisher.merged_into_id)))
